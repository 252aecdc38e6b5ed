//! Plugins: MCP servers run as child processes over stdio, each described by a `plugin.toml`.
//!
//! This slice owns manifests (parsed and validated against docs/plugin-manifest.schema.json),
//! discovery (shipped, then user plugins; the user's win), the enabled state in
//! `<config dir>/plugins.toml`, import of other clients' `mcpServers` JSON, and the
//! [`host`] that runs enabled plugins as child processes and calls their tools, and the
//! [`builtin`] servers this binary serves itself. The library never prints: problems come back
//! as one-line strings for the front end to show.

pub mod audit;
#[cfg(test)]
mod audit_tests;
pub mod builtin;
mod discovery;
#[cfg(test)]
mod discovery_tests;
pub mod form;
mod grant;
pub mod host;
pub mod import;
#[cfg(test)]
mod import_tests;
pub mod manifest;
#[cfg(test)]
mod manifest_tests;
mod npm;
pub mod oauth;
pub mod sandbox;
pub mod secrets;
mod state;
pub mod usage;
#[cfg(test)]
mod usage_tests;

use std::path::PathBuf;

use crate::paths::Dirs;

pub use discovery::{Discovery, Plugin, Source, discover};
pub use grant::{grant, name_secret};
pub use import::{
    ImportError, ImportOptions, ImportReport, Imported, Server, Skipped, id_from_name, import,
    parse_servers,
};
pub use manifest::{
    DEFAULT_TIMEOUT_SECS, Limits, MANIFEST_FILE, Manifest, ManifestError, Permissions, SCHEMA,
    SamplingRule, expand, load, parse,
};
pub use state::{PluginChoice, PluginsState, StateError};

/// What a remote plugin's sandbox line says: nothing of it runs here.
pub fn remote_label(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    format!(
        "remote: runs on {}, not on this machine",
        crate::text::inert(host)
    )
}

/// The environment variable naming an extra directory of shipped plugins.
pub const PLUGINS_DIR_ENV: &str = "LIBRE_ASSISTANT_PLUGINS_DIR";

/// The user's plugins directory: `<config dir>/plugins`.
pub fn user_dir(dirs: &Dirs) -> PathBuf {
    dirs.config.join("plugins")
}

/// The shipped plugin directories, lowest precedence first: the checkout's `plugins/` when
/// the binary runs from `<repo>/target/<profile>/`, then `$LIBRE_ASSISTANT_PLUGINS_DIR`.
pub fn shipped_dirs() -> Vec<PathBuf> {
    let repo = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()));
    let checkout = repo
        .filter(|r| r.join("Cargo.toml").is_file())
        .map(|r| r.join("plugins"))
        .filter(|p| p.is_dir());
    let extra = std::env::var_os(PLUGINS_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    checkout.into_iter().chain(extra).collect()
}

/// The file of enabled/disabled choices: `<config dir>/plugins.toml`.
pub fn state_file(dirs: &Dirs) -> PathBuf {
    dirs.config.join("plugins.toml")
}
