//! `plugins import`: the `mcpServers` JSON of Claude Desktop, Cursor and others (and VS Code's
//! `servers`) turned into manifests in the user's plugins directory.
//!
//! Invariants: secrets stay out of manifests (only the NAMES of `env` variables are kept, never
//! their values); imported plugins get no permissions and are recorded as disabled; an existing
//! id or directory is never overwritten; every manifest written parses back through
//! [`super::parse`]. Remote servers (`url`) are skipped: only local stdio servers run.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::discovery::Discovery;
use super::manifest::{self, MANIFEST_FILE, Manifest};
use super::state::{PluginsState, StateError};

/// The longest id an import makes (the schema's limit).
const MAX_ID: usize = 64;
/// The longest name the schema takes.
const MAX_NAME: usize = 80;

/// One local server from the JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// Its key in the JSON.
    pub name: String,
    /// The program.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The names of the variables its `env` set (values are dropped).
    pub env: Vec<String>,
}

/// A server that was written as a plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    /// Its key in the JSON.
    pub name: String,
    /// The plugin id made from it.
    pub id: String,
    /// The manifest written.
    pub path: PathBuf,
    /// Variables the user must export for it (their values were not copied).
    pub env: Vec<String>,
}

/// A server that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Its key in the JSON.
    pub name: String,
    /// Why, as a phrase.
    pub reason: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Plugins written, in the JSON's key order.
    pub imported: Vec<Imported>,
    /// Servers left out.
    pub skipped: Vec<Skipped>,
}

/// Why an import could not run at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    /// The file cannot be read.
    #[error("{}: cannot read: {cause}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error, as text.
        cause: String,
    },
    /// The file is not JSON.
    #[error("{}:{line}:{col}: invalid JSON: {message}", .path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// The parser's message.
        message: String,
    },
    /// The JSON has no server table.
    #[error(
        "{}: no \"mcpServers\" (or VS Code \"servers\") object; expected {{\"mcpServers\": {{\"name\": {{\"command\": …}}}}}}",
        .path.display()
    )]
    NoServers {
        /// The file.
        path: PathBuf,
    },
    /// A manifest cannot be written.
    #[error("{}: cannot write: {cause}", .path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error, as text.
        cause: String,
    },
    /// `plugins.toml` cannot be read or written.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The servers in `json` (`mcpServers`, VS Code's `servers`, or `mcp.servers` of a VS Code
/// settings file), in key order, each parsed or skipped; `None` when there is no such object.
pub fn parse_servers(json: &Value) -> Option<Vec<Result<Server, Skipped>>> {
    let servers = json
        .get("mcpServers")
        .or_else(|| json.get("servers"))
        .or_else(|| json.get("mcp").and_then(|m| m.get("servers")))?
        .as_object()?;
    // Sorted by name: the order is the same whatever order the file lists them in.
    let mut servers: Vec<(&String, &Value)> = servers.iter().collect();
    servers.sort_by(|a, b| a.0.cmp(b.0));
    Some(
        servers
            .into_iter()
            .map(|(name, entry)| {
                server(name, entry).map_err(|reason| Skipped {
                    name: name.clone(),
                    reason,
                })
            })
            .collect(),
    )
}

/// One entry, or why it is skipped.
fn server(name: &str, entry: &Value) -> Result<Server, String> {
    let entry = entry
        .as_object()
        .ok_or("the entry is not an object".to_owned())?;
    let kind = entry.get("type").and_then(Value::as_str);
    if entry.contains_key("url") || matches!(kind, Some("sse" | "http" | "streamable-http")) {
        return Err(
            "remote servers (url) are not supported; only local commands over stdio".into(),
        );
    }
    if let Some(kind) = kind.filter(|k| *k != "stdio") {
        return Err(format!("type {kind:?} is not supported; only \"stdio\""));
    }
    let command = match entry.get("command") {
        Some(Value::String(c)) if !c.trim().is_empty() => c.clone(),
        _ => return Err("it has no \"command\"".into()),
    };
    let args = match entry.get("args") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|a| a.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or("\"args\" is not a list of strings".to_owned())?,
        Some(_) => return Err("\"args\" is not a list of strings".into()),
    };
    let env = match entry.get("env") {
        None => Vec::new(),
        Some(Value::Object(vars)) => vars.keys().cloned().collect(),
        Some(_) => return Err("\"env\" is not an object".into()),
    };
    Ok(Server {
        name: name.to_owned(),
        command,
        args,
        env,
    })
}

/// A plugin id made from a server name: lowercased, anything outside `[a-z0-9-]` becomes `-`,
/// no `-` at either end, at most 64 characters.
pub fn id_from_name(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => c,
            _ => '-',
        })
        .collect();
    let id: String = id.trim_matches('-').chars().take(MAX_ID).collect();
    id.trim_end_matches('-').to_owned()
}

/// The manifest an imported server gets: no permissions, variable names only.
fn manifest_for(server: &Server, id: &str, file: &Path) -> Manifest {
    Manifest {
        id: id.to_owned(),
        name: server.name.chars().take(MAX_NAME).collect(),
        description: format!("Imported from {}", file.display()),
        command: server.command.clone(),
        args: server.args.clone(),
        env: server.env.clone(),
        ..Manifest::default()
    }
}

/// Imports the servers of `file` into `user_dir`, skipping ids that `existing` or `user_dir`
/// already has, and records each new plugin as disabled in `state_path`.
pub fn import(
    file: &Path,
    user_dir: &Path,
    state_path: &Path,
    existing: &Discovery,
) -> Result<ImportReport, ImportError> {
    let text = std::fs::read_to_string(file).map_err(|e| ImportError::Read {
        path: file.to_owned(),
        cause: e.to_string(),
    })?;
    let json: Value = serde_json::from_str(&text).map_err(|e| ImportError::Json {
        path: file.to_owned(),
        line: e.line(),
        col: e.column(),
        message: e
            .to_string()
            .trim_end_matches(&format!(" at line {} column {}", e.line(), e.column()))
            .to_owned(),
    })?;
    let servers = parse_servers(&json).ok_or_else(|| ImportError::NoServers {
        path: file.to_owned(),
    })?;
    let mut state = PluginsState::load(state_path)?;
    let mut report = ImportReport::default();
    for parsed in servers {
        let server = match parsed {
            Ok(server) => server,
            Err(skipped) => {
                report.skipped.push(skipped);
                continue;
            }
        };
        match write_one(&server, file, user_dir, existing)? {
            Ok(imported) => {
                state.set_enabled(&imported.id, false);
                report.imported.push(imported);
            }
            Err(reason) => report.skipped.push(Skipped {
                name: server.name.clone(),
                reason,
            }),
        }
    }
    if !report.imported.is_empty() {
        state.save(state_path)?;
    }
    Ok(report)
}

/// Writes one server's manifest; the inner `Err` is why it was skipped.
fn write_one(
    server: &Server,
    file: &Path,
    user_dir: &Path,
    existing: &Discovery,
) -> Result<Result<Imported, String>, ImportError> {
    let id = id_from_name(&server.name);
    if id.is_empty() {
        return Ok(Err(
            "no id can be made from its name; use letters or digits".into(),
        ));
    }
    let dir = user_dir.join(&id);
    if let Some(plugin) = existing.find(&id) {
        let at = plugin.manifest_path();
        return Ok(Err(format!(
            "plugin {id:?} already exists ({})",
            at.display()
        )));
    }
    if dir.exists() {
        return Ok(Err(format!("{} already exists", dir.display())));
    }
    let manifest = manifest_for(server, &id, file);
    let path = dir.join(MANIFEST_FILE);
    let write_error = |e: &dyn std::fmt::Display| ImportError::Write {
        path: path.clone(),
        cause: e.to_string(),
    };
    let body = manifest.to_toml().map_err(|e| write_error(&e))?;
    let text = format!(
        "# Imported from {} by `libre-assistant plugins import`; see docs/plugins.md.\n\
         # No permissions are granted until you add them; secrets stay in your environment.\n{body}",
        file.display()
    );
    // What we write must load back; a server the schema refuses (say, an odd variable name)
    // is skipped with the schema's reason instead of leaving a broken plugin behind.
    if let Err(e) = manifest::parse(&path, &text) {
        return Ok(Err(e.to_string()));
    }
    std::fs::create_dir_all(&dir).map_err(|e| write_error(&e))?;
    std::fs::write(&path, text).map_err(|e| write_error(&e))?;
    Ok(Ok(Imported {
        name: server.name.clone(),
        id,
        path,
        env: server.env.clone(),
    }))
}
