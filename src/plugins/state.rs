//! `<config dir>/plugins.toml`: which plugins the user enabled or disabled, which tools the
//! user chose to always allow, and what `plugins grant` gave shipped plugins (whose manifests
//! are never edited).
//!
//! Invariants: a plugin with no entry is enabled (shipped and user plugins); `plugins import`
//! records its plugins as disabled. The file is written whole, to a temporary file renamed over
//! the old one, so a crash never leaves half a file.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::manifest::Permissions;
use crate::text::line_col;

/// The user's choices about plugins, keyed by plugin id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginsState {
    /// One entry per plugin the user made a choice about.
    pub plugins: BTreeMap<String, PluginChoice>,
}

/// What the user chose for one plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginChoice {
    /// Enabled or disabled; `None` keeps the default (enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Tools the user chose to always allow, each with the SHA-256 of the definition they
    /// approved: a changed tool asks again.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub always_allow: BTreeMap<String, String>,
    /// Paths granted for reading on top of the manifest's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub read: Vec<String>,
    /// Paths granted for writing on top of the manifest's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub write: Vec<String>,
    /// The network, granted on top of the manifest.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub network: bool,
}

/// Why `plugins.toml` cannot be read or written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    /// The file exists but cannot be read.
    #[error("{}: cannot read the plugin settings: {cause}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error, as text.
        cause: String,
    },
    /// The file is not valid TOML or has an unknown key.
    #[error("{}:{line}:{col}: {message}; fix or delete the file (see docs/plugins.md)", .path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// The parser's message, on one line.
        message: String,
    },
    /// The file cannot be written.
    #[error("{}: cannot write the plugin settings: {cause}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error, as text.
        cause: String,
    },
}

impl PluginsState {
    /// Reads the file at `path`; a missing file is the empty state.
    pub fn load(path: &Path) -> Result<PluginsState, StateError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(PluginsState::default()),
            Err(e) => {
                return Err(StateError::Read {
                    path: path.to_owned(),
                    cause: e.to_string(),
                });
            }
        };
        toml::from_str(&text).map_err(|e| {
            let (line, col) = line_col(&text, e.span().map_or(0, |s| s.start));
            StateError::Syntax {
                path: path.to_owned(),
                line,
                col,
                message: e.message().split_whitespace().collect::<Vec<_>>().join(" "),
            }
        })
    }

    /// Writes the state to `path` atomically (temporary file, then rename), creating its
    /// directory.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let write_error = |e: &dyn std::fmt::Display| StateError::Write {
            path: path.to_owned(),
            cause: e.to_string(),
        };
        let text = toml::to_string(self).map_err(|e| write_error(&e))?;
        let text = format!(
            "# Written by libre-assistant (plugins enable|disable|import, and \"always allow\" answers); see docs/plugins.md.\n{text}"
        );
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| write_error(&e))?;
        }
        let tmp = path.with_extension(format!("toml.{}.tmp", std::process::id()));
        std::fs::write(&tmp, text).map_err(|e| write_error(&e))?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            write_error(&e)
        })
    }

    /// Whether plugin `id` is enabled: its recorded choice, else enabled.
    pub fn is_enabled(&self, id: &str) -> bool {
        self.plugins.get(id).and_then(|c| c.enabled).unwrap_or(true)
    }

    /// Records that `tool` of plugin `id` is always allowed while its definition hashes to
    /// `definition`.
    pub fn set_always_allow(&mut self, id: &str, tool: &str, definition: &str) {
        let choice = self.plugins.entry(id.to_owned()).or_default();
        choice
            .always_allow
            .insert(tool.to_owned(), definition.to_owned());
    }

    /// Adds `grant` to plugin `id`'s grants; returns all of them.
    pub fn grant(&mut self, id: &str, grant: &Permissions) -> Permissions {
        let choice = self.plugins.entry(id.to_owned()).or_default();
        let mut all = choice.granted();
        super::grant::add(&mut all, grant);
        (choice.read, choice.write, choice.network) =
            (all.read.clone(), all.write.clone(), all.network);
        all
    }

    /// What plugin `id` was granted here (nothing when it has no entry).
    pub fn granted(&self, id: &str) -> Permissions {
        self.plugins
            .get(id)
            .map(PluginChoice::granted)
            .unwrap_or_default()
    }

    /// Records that plugin `id` is enabled or disabled.
    pub fn set_enabled(&mut self, id: &str, enabled: bool) {
        self.plugins.entry(id.to_owned()).or_default().enabled = Some(enabled);
    }
}

impl PluginChoice {
    /// The grants of this entry as permissions.
    pub fn granted(&self) -> Permissions {
        Permissions {
            read: self.read.clone(),
            write: self.write.clone(),
            network: self.network,
        }
    }
}
