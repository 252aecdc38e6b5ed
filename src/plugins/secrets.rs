//! Plugin secrets: values a plugin receives in its environment (API tokens), kept out of
//! manifests, logs, the audit log and `plugins show`.
//!
//! Each secret lives in the OS keyring (Secret Service on Linux, the Keychain on macOS) under
//! service `libre-assistant`, account `PLUGIN/NAME`. Where there is no keyring (headless
//! Linux, SSH sessions) the value goes into the fallback file instead. The file
//! `<data dir>/secrets/secrets.toml` is also the index: it records which store holds each
//! secret, so `list` needs no keyring and nothing is orphaned.
//!
//! Invariants: the directory is 0700 and the file 0600, written whole to a temporary file
//! created exclusively without following links, then renamed; a file (or directory) whose
//! mode lets others in, or that another user owns, is refused, never read. A keyring that
//! exists but is locked or refuses access is an error: only a missing keyring falls back to the
//! file. The plugin sandbox denies plugins both the file and the keyring's D-Bus socket.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::paths::Dirs;
use crate::text::one_line;

/// The keyring service name.
const SERVICE: &str = "libre-assistant";

/// The secret store's directory: `<data dir>/secrets` (not the config directory, which people
/// copy into dotfile repositories).
pub fn secrets_dir(dirs: &Dirs) -> PathBuf {
    dirs.data.join("secrets")
}

/// The fallback file and index: `<data dir>/secrets/secrets.toml`.
fn secrets_file(dirs: &Dirs) -> PathBuf {
    secrets_dir(dirs).join("secrets.toml")
}

/// Where one secret is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The OS keyring.
    Keyring,
    /// The fallback file.
    File,
}

impl Backend {
    /// `keyring` or `file`.
    pub fn label(self) -> &'static str {
        match self {
            Backend::Keyring => "keyring",
            Backend::File => "file",
        }
    }
}

/// One entry of the file: the value itself, or a note that the keyring holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    keyring: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct File {
    plugins: BTreeMap<String, BTreeMap<String, Entry>>,
}

/// Why a secret cannot be stored or read. Messages are one line and never hold a value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// The file or its directory lets others in, or another user owns it.
    #[error("{}: {why}; refusing to use it (run `chmod 700 {dir}; chmod 600 {file}`, or delete it and set the secrets again)", .path.display(), dir = .dir.display(), file = .file.display())]
    Unsafe {
        /// The offending path.
        path: PathBuf,
        /// What is wrong.
        why: String,
        /// The directory.
        dir: PathBuf,
        /// The file.
        file: PathBuf,
    },
    /// The file cannot be read, written or parsed.
    #[error("{}: {why}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What happened.
        why: String,
    },
    /// The keyring exists but refused (locked, denied, failed).
    #[error("the keyring refused {plugin}/{name}: {why}; unlock it and try again")]
    Keyring {
        /// The plugin.
        plugin: String,
        /// The secret's name.
        name: String,
        /// The keyring's reason.
        why: String,
    },
    /// The index names a keyring secret that is not there.
    #[error(
        "secret {name} of plugin {plugin} is not set; run `libre-assistant plugins secret set {plugin} {name}`"
    )]
    Missing {
        /// The plugin.
        plugin: String,
        /// The secret's name.
        name: String,
    },
}

/// The secrets of every plugin.
#[derive(Clone, Debug)]
pub struct SecretStore {
    dir: PathBuf,
    file: PathBuf,
    /// Try the OS keyring first (off in tests of the file).
    use_keyring: bool,
}

/// What storing a secret did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Where it went.
    pub backend: Backend,
    /// The first time the file holds a value: why there is no keyring (warn the user once).
    pub first_in_file: Option<String>,
}

impl SecretStore {
    /// The store of `dirs`.
    pub fn new(dirs: &Dirs) -> SecretStore {
        SecretStore {
            dir: secrets_dir(dirs),
            file: secrets_file(dirs),
            use_keyring: true,
        }
    }

    /// A store that never tries the keyring (for tests and `file`-only setups).
    pub fn file_only(dir: &Path) -> SecretStore {
        SecretStore {
            dir: dir.to_owned(),
            file: dir.join("secrets.toml"),
            use_keyring: false,
        }
    }

    /// The fallback file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Stores `value` as secret `name` of `plugin`: in the keyring when there is one, else in
    /// the file.
    pub fn set(&self, plugin: &str, name: &str, value: &str) -> Result<Stored, SecretError> {
        let mut file = self.load()?;
        let had_values = file
            .plugins
            .values()
            .flatten()
            .any(|(_, e)| e.value.is_some());
        let entry = match self.keyring_entry(plugin, name)? {
            Some(entry) => {
                entry
                    .set_password(value)
                    .map_err(|e| keyring_error(plugin, name, &e))?;
                Entry {
                    keyring: true,
                    value: None,
                }
            }
            None => Entry {
                keyring: false,
                value: Some(value.to_owned()),
            },
        };
        let backend = if entry.keyring {
            Backend::Keyring
        } else {
            Backend::File
        };
        file.plugins
            .entry(plugin.to_owned())
            .or_default()
            .insert(name.to_owned(), entry);
        self.save(&file)?;
        let first_in_file = (backend == Backend::File && !had_values).then(|| self.no_keyring());
        Ok(Stored {
            backend,
            first_in_file,
        })
    }

    /// The value of secret `name` of `plugin`, or None when it was never set.
    pub fn get(&self, plugin: &str, name: &str) -> Result<Option<String>, SecretError> {
        let file = self.load()?;
        let Some(entry) = file.plugins.get(plugin).and_then(|p| p.get(name)) else {
            return Ok(None);
        };
        if let Some(value) = &entry.value {
            return Ok(Some(value.clone()));
        }
        let missing = || SecretError::Missing {
            plugin: plugin.to_owned(),
            name: name.to_owned(),
        };
        let keyring = self.keyring_entry(plugin, name)?.ok_or_else(missing)?;
        match keyring.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Err(missing()),
            Err(e) => Err(keyring_error(plugin, name, &e)),
        }
    }

    /// Removes secret `name` of `plugin` from wherever it is; false if there was none.
    pub fn remove(&self, plugin: &str, name: &str) -> Result<bool, SecretError> {
        let mut file = self.load()?;
        let Some(secrets) = file.plugins.get_mut(plugin) else {
            return Ok(false);
        };
        let Some(entry) = secrets.remove(name) else {
            return Ok(false);
        };
        if secrets.is_empty() {
            file.plugins.remove(plugin);
        }
        if entry.keyring
            && let Some(keyring) = self.keyring_entry(plugin, name)?
        {
            match keyring.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => {}
                Err(e) => return Err(keyring_error(plugin, name, &e)),
            }
        }
        self.save(&file)?;
        Ok(true)
    }

    /// Every secret's plugin, name and store, sorted; never a value.
    pub fn list(&self) -> Result<Vec<(String, String, Backend)>, SecretError> {
        let file = self.load()?;
        Ok(file
            .plugins
            .iter()
            .flat_map(|(plugin, secrets)| {
                secrets.iter().map(move |(name, e)| {
                    let backend = if e.keyring {
                        Backend::Keyring
                    } else {
                        Backend::File
                    };
                    (plugin.clone(), name.clone(), backend)
                })
            })
            .collect())
    }

    /// The keyring entry for a secret, or None when this system has no keyring.
    fn keyring_entry(
        &self,
        plugin: &str,
        name: &str,
    ) -> Result<Option<keyring::Entry>, SecretError> {
        if !self.use_keyring {
            return Ok(None);
        }
        match keyring::Entry::new(SERVICE, &format!("{plugin}/{name}")) {
            Ok(entry) => Ok(Some(entry)),
            Err(keyring::Error::NoDefaultStore) => Ok(None),
            Err(e) => Err(keyring_error(plugin, name, &e)),
        }
    }

    /// Why there is no keyring, for the one-time warning.
    fn no_keyring(&self) -> String {
        let why = match keyring::Entry::store_status() {
            Err(e) if self.use_keyring => one_line(&e.to_string()),
            _ => "the keyring is not used".to_owned(),
        };
        format!(
            "no OS keyring is available ({why}); plugin secrets are kept in {} (mode 0600): \
             anything running as you can read them",
            self.file.display()
        )
    }

    /// The file, checked; empty when it does not exist.
    fn load(&self) -> Result<File, SecretError> {
        let text = match read_private(&self.dir, &self.file) {
            Ok(Some(text)) => text,
            Ok(None) => return Ok(File::default()),
            Err(e) => return Err(e),
        };
        toml::from_str(&text).map_err(|e| SecretError::File {
            path: self.file.clone(),
            why: format!("not a secrets file: {}", one_line(e.message())),
        })
    }

    /// Writes the file whole: the directory made 0700, a temporary file created 0600
    /// exclusively and without following links, synced, renamed over the old one.
    fn save(&self, file: &File) -> Result<(), SecretError> {
        let fail = |why: String| SecretError::File {
            path: self.file.clone(),
            why,
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| fail(format!("cannot make its directory: {e}")))?;
        check_private(&self.dir, &self.dir, &self.file)?;
        let text = toml::to_string(file).map_err(|e| fail(e.to_string()))?;
        let text = format!(
            "# Plugin secrets, written by `libre-assistant plugins secret` and `plugins import`.\n\
             # Keep this file private (mode 0600); entries with keyring = true are in the OS keyring.\n{text}"
        );
        let tmp = self
            .file
            .with_extension(format!("toml.{}.tmp", std::process::id()));
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .and_then(|mut f| {
                f.write_all(text.as_bytes())?;
                f.sync_all()
            })
            .and_then(|()| std::fs::rename(&tmp, &self.file));
        written.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(format!("cannot write: {e}"))
        })
    }
}

/// The file's text if it exists, after checking that it and its directory are private.
fn read_private(dir: &Path, file: &Path) -> Result<Option<String>, SecretError> {
    use std::io::Read;
    if !dir.exists() {
        return Ok(None);
    }
    check_private(dir, dir, file)?;
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(file);
    let mut handle = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(SecretError::File {
                path: file.to_owned(),
                why: format!("cannot open (a symlink is refused): {e}"),
            });
        }
    };
    let meta = handle.metadata().map_err(|e| SecretError::File {
        path: file.to_owned(),
        why: e.to_string(),
    })?;
    private_mode(file, &meta, dir, file)?;
    let mut text = String::new();
    handle
        .read_to_string(&mut text)
        .map_err(|e| SecretError::File {
            path: file.to_owned(),
            why: e.to_string(),
        })?;
    Ok(Some(text))
}

/// `path` (the directory) is ours and closed to others.
fn check_private(path: &Path, dir: &Path, file: &Path) -> Result<(), SecretError> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| SecretError::File {
        path: path.to_owned(),
        why: e.to_string(),
    })?;
    private_mode(path, &meta, dir, file)
}

fn private_mode(
    path: &Path,
    meta: &std::fs::Metadata,
    dir: &Path,
    file: &Path,
) -> Result<(), SecretError> {
    let unsafe_because = |why: String| SecretError::Unsafe {
        path: path.to_owned(),
        why,
        dir: dir.to_owned(),
        file: file.to_owned(),
    };
    // SAFETY: getuid has no failure modes.
    let me = unsafe { libc::getuid() };
    if meta.uid() != me {
        return Err(unsafe_because(format!(
            "it belongs to user {}, not to you",
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(unsafe_because(format!(
            "its mode {mode:04o} lets other users in"
        )));
    }
    Ok(())
}

fn keyring_error(plugin: &str, name: &str, e: &keyring::Error) -> SecretError {
    SecretError::Keyring {
        plugin: plugin.to_owned(),
        name: name.to_owned(),
        why: one_line(&e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn store() -> (tempfile::TempDir, SecretStore) {
        let t = tempfile::tempdir().unwrap();
        let s = SecretStore::file_only(&t.path().join("secrets"));
        (t, s)
    }

    #[test]
    fn secrets_round_trip_through_a_private_file() {
        let (_t, s) = store();
        assert_eq!(s.get("notes", "TOKEN"), Ok(None));
        let stored = s.set("notes", "TOKEN", "tok-123").unwrap();
        assert_eq!(stored.backend, Backend::File);
        assert!(stored.first_in_file.unwrap().contains("mode 0600"));
        let again = s.set("notes", "OTHER", "x").unwrap();
        assert_eq!(again.first_in_file, None, "warned only the first time");
        assert_eq!(s.get("notes", "TOKEN"), Ok(Some("tok-123".to_owned())));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(s.file()), 0o600);
        assert_eq!(mode(s.file().parent().unwrap()), 0o700);
        assert_eq!(
            s.list().unwrap(),
            [
                ("notes".to_owned(), "OTHER".to_owned(), Backend::File),
                ("notes".to_owned(), "TOKEN".to_owned(), Backend::File),
            ]
        );
        assert_eq!(s.remove("notes", "TOKEN"), Ok(true));
        assert_eq!(s.remove("notes", "TOKEN"), Ok(false));
        assert_eq!(s.get("notes", "TOKEN"), Ok(None));
    }

    #[test]
    fn a_file_others_can_read_is_refused_not_read() {
        let (_t, s) = store();
        s.set("notes", "TOKEN", "tok-123").unwrap();
        std::fs::set_permissions(s.file(), std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = s.get("notes", "TOKEN").unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, SecretError::Unsafe { .. }), "{text}");
        assert!(text.contains("its mode 0644 lets other users in"), "{text}");
        assert!(text.contains("chmod 600"), "{text}");
        assert!(!text.contains("tok-123"));
        // Writing is refused too: nothing is added to an exposed file.
        assert!(s.set("notes", "NEW", "v").is_err());
    }

    #[test]
    fn a_symlinked_file_is_refused() {
        let (t, s) = store();
        s.set("notes", "TOKEN", "tok-123").unwrap();
        let elsewhere = t.path().join("elsewhere.toml");
        std::fs::rename(s.file(), &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, s.file()).unwrap();
        let e = s.get("notes", "TOKEN").unwrap_err();
        assert!(e.to_string().contains("a symlink is refused"), "{e}");
    }
}
