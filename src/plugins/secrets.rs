//! Plugin secrets: values a plugin receives in its environment, kept out of manifests, logs
//! and the audit log.

use std::path::PathBuf;

use crate::paths::Dirs;

/// The fallback secret store: `<data dir>/secrets.toml` (outside the config directory, which
/// people copy into dotfile repositories).
pub fn secrets_file(dirs: &Dirs) -> PathBuf {
    dirs.data.join("secrets.toml")
}
