//! `plugin.toml`: parsing, validation against the shipped JSON Schema, and expansion of `~` and
//! `${PLUGIN_DIR}`.
//!
//! Invariants: a [`Manifest`] that [`parse`] returns has passed the schema
//! (docs/plugin-manifest.schema.json), so its id matches `^[a-z0-9][a-z0-9-]*$` and its timeout
//! is 1–600 s. Every error is one line naming the file and, past TOML syntax, the first failing
//! field as a dotted key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use jsonschema::error::ValidationErrorKind;
use serde::{Deserialize, Serialize};

use crate::text::line_col;

/// Where a bad manifest sends its author.
const SEE: &str = "see docs/plugins.md";

/// The manifest's JSON Schema, shipped in the repo and embedded here.
pub const SCHEMA: &str = include_str!("../../docs/plugin-manifest.schema.json");

/// The file name of a manifest inside a plugin directory.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// The default call timeout, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// The default longest call that keeps reporting progress, in seconds.
pub const DEFAULT_MAX_TIMEOUT_SECS: u64 = 600;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_default_max_timeout(secs: &u64) -> bool {
    *secs == DEFAULT_MAX_TIMEOUT_SECS
}

/// The schema, compiled once; `Err` only if the embedded schema itself is broken (a bug).
static VALIDATOR: LazyLock<Result<jsonschema::Validator, String>> = LazyLock::new(|| {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).map_err(|e| e.to_string())?;
    jsonschema::draft202012::new(&schema).map_err(|e| e.to_string())
});

/// One plugin: an MCP server run as a child process over stdio.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Manifest {
    /// Unique identifier: lowercase letters, digits and `-`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// What the plugin offers.
    pub description: String,
    /// The program to run (`~` and `${PLUGIN_DIR}` expand); empty for a remote server.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub command: String,
    /// A remote server's Streamable HTTP endpoint, instead of a command: `https://…`, or
    /// `http://` on this machine only.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// For a remote server: the secret (`plugins secret set ID NAME`) sent as
    /// `Authorization: Bearer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_secret: Option<String>,
    /// For a remote server: HTTP headers sent with every request, each header's value the
    /// secret of that name (`plugins secret set ID NAME`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Its arguments (`~` and `${PLUGIN_DIR}` expand).
    pub args: Vec<String>,
    /// Names of the user's environment variables passed through; all others are cleared.
    pub env: Vec<String>,
    /// Names of variables whose values come from the secret store (`plugins secret set`).
    pub secrets: Vec<String>,
    /// How long one tool call may go without an answer or progress, in seconds (1–600).
    pub timeout_secs: u64,
    /// How long one tool call may take in all while it reports progress, in seconds (1–3600;
    /// never less than `timeout_secs`).
    #[serde(skip_serializing_if = "is_default_max_timeout")]
    pub max_timeout_secs: u64,
    /// The most prompt tokens its tool definitions may take together; past it none of its
    /// tools is offered. 0: `tools.plugin_budget` applies.
    #[serde(skip_serializing_if = "is_zero")]
    pub max_tool_tokens: u32,
    /// Whether its server may have the local model write messages for it (MCP sampling).
    #[serde(skip_serializing_if = "SamplingRule::is_ask")]
    pub sampling: SamplingRule,
    /// What the plugin declares it needs.
    pub permissions: Permissions,
    /// Resource limits; past one the plugin is stopped.
    #[serde(skip_serializing_if = "Limits::is_unset")]
    pub limits: Limits,
}

/// Who decides a server's sampling requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SamplingRule {
    /// The user, in a dialog (headless runs deny unless `--allow-sampling` names it).
    #[default]
    Ask,
    /// Nobody: the model answers without asking (each request is still audited).
    Allow,
    /// Every request is refused.
    Deny,
}

impl SamplingRule {
    fn is_ask(&self) -> bool {
        *self == SamplingRule::Ask
    }
}

/// Resource limits the monitor holds a plugin to. Default: none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The most resident memory of all its processes, in MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    /// The most CPU, in percent of one core, averaged over `cpu_window_secs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_percent: Option<u32>,
    /// The window `cpu_percent` is averaged over, in seconds.
    pub cpu_window_secs: u64,
}

/// The default CPU window, in seconds.
pub const DEFAULT_CPU_WINDOW_SECS: u64 = 30;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mb: None,
            cpu_percent: None,
            cpu_window_secs: DEFAULT_CPU_WINDOW_SECS,
        }
    }
}

impl Limits {
    /// Whether no limit is set (the table is left out of written manifests).
    pub fn is_unset(&self) -> bool {
        *self == Limits::default()
    }
}

/// Declared needs: filesystem paths and the network. Default: nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Permissions {
    /// Paths the plugin may read (`~` and `${PLUGIN_DIR}` expand).
    pub read: Vec<String>,
    /// Paths the plugin may write (`~` and `${PLUGIN_DIR}` expand).
    pub write: Vec<String>,
    /// Whether the plugin needs the network.
    pub network: bool,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            id: String::new(),
            name: String::new(),
            description: String::new(),
            command: String::new(),
            url: String::new(),
            token_secret: None,
            headers: BTreeMap::new(),
            args: Vec::new(),
            env: Vec::new(),
            secrets: Vec::new(),
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            max_timeout_secs: DEFAULT_MAX_TIMEOUT_SECS,
            max_tool_tokens: 0,
            sampling: SamplingRule::Ask,
            permissions: Permissions::default(),
            limits: Limits::default(),
        }
    }
}

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    /// The file cannot be read.
    #[error("{}: cannot read the manifest: {cause}", .path.display())]
    Read {
        /// The manifest.
        path: PathBuf,
        /// The I/O error, as text.
        cause: String,
    },
    /// The file is not valid TOML.
    #[error("{}:{line}:{col}: invalid TOML: {message}; {SEE}", .path.display())]
    Syntax {
        /// The manifest.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// The parser's message, on one line.
        message: String,
    },
    /// A field fails the schema (the first one found).
    #[error("{}: {field}: {problem}; {SEE}", .path.display())]
    Invalid {
        /// The manifest.
        path: PathBuf,
        /// The field as a dotted key (`permissions.read.0`), or `(top level)`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Reads and parses the manifest at `path`.
pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|e| ManifestError::Read {
        path: path.to_owned(),
        cause: e.to_string(),
    })?;
    parse(path, &text)
}

/// Parses manifest `text` (read from `path`, which errors name): TOML, then the schema, then
/// the typed struct.
pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
    let value: serde_json::Value = toml::from_str(text).map_err(|e| syntax(path, text, &e))?;
    if let Some((field, problem)) = first_schema_error(&value) {
        return Err(ManifestError::Invalid {
            path: path.to_owned(),
            field,
            problem,
        });
    }
    let manifest: Manifest = toml::from_str(text).map_err(|e| syntax(path, text, &e))?;
    if let Some((field, problem)) = manifest.transport_problem() {
        return Err(ManifestError::Invalid {
            path: path.to_owned(),
            field: field.to_owned(),
            problem,
        });
    }
    Ok(manifest)
}

impl Manifest {
    /// Whether it is a remote server (`url`), not a local command.
    pub fn is_remote(&self) -> bool {
        !self.url.is_empty()
    }

    /// Why its `command`/`url` pair cannot be used: (field, problem).
    fn transport_problem(&self) -> Option<(&'static str, String)> {
        match (self.command.is_empty(), self.url.is_empty()) {
            (true, true) => Some((
                "command",
                "give a command (a local server) or a url (a remote one)".to_owned(),
            )),
            (false, false) => Some(("url", "give a command or a url, not both".to_owned())),
            (true, false) => url_problem(&self.url).map(|p| ("url", p)),
            (false, true) if self.token_secret.is_some() => Some((
                "token_secret",
                "only a remote server (url) takes a token".to_owned(),
            )),
            (false, true) if !self.headers.is_empty() => Some((
                "headers",
                "only a remote server (url) takes headers".to_owned(),
            )),
            (false, true) => None,
        }
    }
}

/// Why `url` is not a remote server's address: https anywhere, plain http only to this
/// machine (nothing else may see the traffic).
fn url_problem(url: &str) -> Option<String> {
    let rest = match url.split_once("://") {
        Some(("https", rest)) => return rest.is_empty().then(|| "the url has no host".to_owned()),
        Some(("http", rest)) => rest,
        _ => {
            return Some(
                "the url must start with https:// (or http:// on this machine)".to_owned(),
            );
        }
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    match name {
        "127.0.0.1" | "localhost" | "::1" => None,
        _ => Some(format!(
            "plain http is allowed only to this machine (127.0.0.1, localhost, [::1]), not {name:?}; use https"
        )),
    }
}

/// The first field of `value` that fails the schema, as (dotted key, problem).
fn first_schema_error(value: &serde_json::Value) -> Option<(String, String)> {
    let validator = match &*VALIDATOR {
        Ok(v) => v,
        Err(e) => {
            return Some((
                "(schema)".to_owned(),
                format!("the built-in schema is broken: {e}"),
            ));
        }
    };
    // A misspelt key also leaves its real key missing; the unknown key is the useful report.
    let errors: Vec<_> = validator.iter_errors(value).collect();
    let error = errors
        .iter()
        .find(|e| matches!(e.kind(), ValidationErrorKind::AdditionalProperties { .. }))
        .or(errors.first())?;
    let mut field: Vec<String> = error
        .instance_path()
        .iter()
        .map(|segment| segment.to_string())
        .collect();
    let problem = match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            field.extend(unexpected.first().cloned());
            "unknown field".to_owned()
        }
        ValidationErrorKind::Required { property } => {
            field.push(property.as_str().unwrap_or_default().to_owned());
            "required, but missing".to_owned()
        }
        _ => error.to_string(),
    };
    let field = if field.is_empty() {
        "(top level)".to_owned()
    } else {
        field.join(".")
    };
    Some((field, problem))
}

/// A TOML error as `path:line:col`.
fn syntax(path: &Path, text: &str, e: &toml::de::Error) -> ManifestError {
    let (line, col) = line_col(text, e.span().map_or(0, |s| s.start));
    ManifestError::Syntax {
        path: path.to_owned(),
        line,
        col,
        message: e.message().split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// Expands `${PLUGIN_DIR}` anywhere, `${SELF}` to this libre-assistant executable (how the
/// built-in plugins' manifests run it), and a leading `~` (alone or before `/`) in `text`; with
/// no `home`, `~` stays as written; if the executable cannot be found, `${SELF}` becomes
/// `libre-assistant`, looked up on `PATH`.
pub fn expand(text: &str, plugin_dir: &Path, home: Option<&Path>) -> String {
    let mut text = text.replace("${PLUGIN_DIR}", &plugin_dir.to_string_lossy());
    if text.contains("${SELF}") {
        let exe = std::env::current_exe()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "libre-assistant".to_owned());
        text = text.replace("${SELF}", &exe);
    }
    match (home, text.strip_prefix('~')) {
        (Some(home), Some(rest)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", home.to_string_lossy())
        }
        _ => text,
    }
}

impl Manifest {
    /// This manifest with `~` and `${PLUGIN_DIR}` expanded in command, args and paths.
    pub fn expanded(&self, plugin_dir: &Path, home: Option<&Path>) -> Manifest {
        let all = |items: &[String]| -> Vec<String> {
            items.iter().map(|s| expand(s, plugin_dir, home)).collect()
        };
        Manifest {
            command: expand(&self.command, plugin_dir, home),
            args: all(&self.args),
            permissions: Permissions {
                read: all(&self.permissions.read),
                write: all(&self.permissions.write),
                network: self.permissions.network,
            },
            ..self.clone()
        }
    }

    /// The manifest as TOML text, as `plugins import` writes it.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }
}

impl Permissions {
    /// One line for tables: `read: ~/notes; write: /tmp; net: no` (empty lists left out).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.read.is_empty() {
            parts.push(format!("read: {}", self.read.join(", ")));
        }
        if !self.write.is_empty() {
            parts.push(format!("write: {}", self.write.join(", ")));
        }
        parts.push(format!("net: {}", if self.network { "yes" } else { "no" }));
        parts.join("; ")
    }
}
