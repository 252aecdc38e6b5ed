//! Saving a choice into the config file: the `model` key only, added above the first table so
//! the user's comments, order and other keys stay as they were. The new text is parsed before
//! it is written (the other settings must read back unchanged), and it replaces the file
//! atomically, 0600 in a 0700 directory.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Why the choice could not be saved; one line, saying what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The file or its directory cannot be read or written.
    #[error("cannot save the model choice in {}: {reason}; set model = \"{name}\" there by hand", path.display())]
    Io {
        /// The config file.
        path: PathBuf,
        /// Why, from the OS.
        reason: String,
        /// The model chosen.
        name: String,
    },
    /// The file does not parse, or already names a model.
    #[error("cannot save the model choice in {}: {reason}; set model = \"{name}\" there by hand", path.display())]
    Content {
        /// The config file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// The model chosen.
        name: String,
    },
}

/// The first line of a config file this creates.
const HEADER: &str = "# libre-assistant settings: `libre-assistant config` shows every key and where it \
                      comes from.\n";

/// Sets the top-level `model` key of the config file at `path` to `name`, creating the file
/// if there is none.
pub fn save_model(path: &Path, name: &str) -> Result<(), SaveError> {
    let io = |e: std::io::Error| SaveError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
        name: name.to_string(),
    };
    // A symlinked config file (a dotfiles checkout) is written where it points.
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let old = match fs::read_to_string(&target) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(io(e)),
    };
    let text = with_model(old.as_deref(), name).map_err(|reason| SaveError::Content {
        path: path.to_path_buf(),
        reason,
        name: name.to_string(),
    })?;
    let dir = target.parent().unwrap_or(Path::new("."));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io)?;
    let tmp = dir.join(format!(".config.toml.{}.tmp", std::process::id()));
    let written = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, &target));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

/// `old` (the file's text, `None` when there is no file) with `model = "name"` added after
/// its leading comments, where a key always belongs to the top level; an error names what is
/// wrong with `old`.
pub(crate) fn with_model(old: Option<&str>, name: &str) -> Result<String, String> {
    let line = format!("model = {}\n", toml::Value::String(name.to_string()));
    let old = old.unwrap_or("");
    let before: toml::Table = toml::from_str(old).map_err(|e| {
        let first = e.message().lines().next().unwrap_or("").to_string();
        format!("it is not valid TOML ({first})")
    })?;
    if before.contains_key("model") {
        return Err("it already sets model".into());
    }
    if old.trim().is_empty() {
        return Ok(format!("{HEADER}{line}"));
    }
    let mut at = 0;
    for l in old.split_inclusive('\n') {
        let t = l.trim();
        if !(t.is_empty() || t.starts_with('#')) || !l.ends_with('\n') {
            break;
        }
        at += l.len();
    }
    // A blank line between the key and a table that follows, as a person would write it.
    let gap = if old[at..].trim_start().starts_with('[') {
        "\n"
    } else {
        ""
    };
    let text = format!("{}{line}{gap}{}", &old[..at], &old[at..]);
    let mut after: toml::Table =
        toml::from_str(&text).map_err(|e| format!("the edit would not parse ({e})"))?;
    let model = after.remove("model");
    if model != Some(toml::Value::String(name.to_string())) || after != before {
        return Err("the edit would change other settings".into());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_file_gets_a_header_and_the_key() {
        let want = format!("{HEADER}model = \"qwen\"\n");
        assert_eq!(with_model(None, "qwen").unwrap(), want);
        assert_eq!(with_model(Some("\n  \n"), "qwen").unwrap(), want);
    }

    #[test]
    fn the_key_goes_after_leading_comments_and_everything_else_stays() {
        let old = "# my settings\n\n# more\n[generation]\n# cool\ntemperature = 0.2\n";
        assert_eq!(
            with_model(Some(old), "m").unwrap(),
            "# my settings\n\n# more\nmodel = \"m\"\n\n[generation]\n# cool\ntemperature = 0.2\n"
        );
        let keys_first = "system_prompt = \"\"\"\n[not a table]\n\"\"\"\n";
        assert_eq!(
            with_model(Some(keys_first), "m").unwrap(),
            format!("model = \"m\"\n{keys_first}")
        );
        // A last comment line without a newline: the key goes before it.
        assert_eq!(
            with_model(Some("# only"), "m").unwrap(),
            "model = \"m\"\n# only"
        );
    }

    #[test]
    fn a_file_that_names_a_model_or_does_not_parse_is_left_alone() {
        assert_eq!(
            with_model(Some("model = \"x\"\n"), "m").unwrap_err(),
            "it already sets model"
        );
        let e = with_model(Some("[generation\n"), "m").unwrap_err();
        assert!(e.starts_with("it is not valid TOML ("), "{e}");
    }

    #[test]
    fn saving_creates_a_private_file_and_keeps_comments() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conf/config.toml");
        save_model(&path, "smollm2-135m-instruct").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(path.parent().unwrap()), mode(&path)), (0o700, 0o600));
        fs::write(&path, "# keep me\n[ui]\nmouse = true\n").unwrap();
        save_model(&path, "qwen").unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# keep me\nmodel = \"qwen\"\n\n[ui]\nmouse = true\n"
        );
        let e = save_model(&path, "other").unwrap_err().to_string();
        assert!(
            e.contains("it already sets model; set model = \"other\" there by hand"),
            "{e}"
        );
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }
}
