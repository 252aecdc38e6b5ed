//! `plugins import`: the `mcpServers` JSON of Claude Desktop, Cursor and others (and VS Code's
//! `servers`) turned into manifests in the user's plugins directory.
//!
//! Invariants: secrets stay out of manifests: an `env` value goes into the secret store and the
//! manifest names it under `secrets` (a variable with an empty value is passed through from the
//! user's environment, named under `env`); imported plugins are recorded as disabled and get
//! no permissions but read access to the paths their own arguments name (the directories the
//! other client gave them); an `npx -y PACKAGE` server is installed into its plugin directory
//! and run with `node` from there (`npm.rs`); an existing id or directory is never overwritten;
//! every manifest written parses back through [`super::parse`]. Remote servers (`url`) are
//! skipped: only local stdio servers run.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::discovery::Discovery;
use super::manifest::{self, MANIFEST_FILE, Manifest, Permissions};
use super::npm;
use super::secrets::SecretStore;
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
    /// The program (empty for a remote server).
    pub command: String,
    /// A remote server's Streamable HTTP endpoint (empty for a local one).
    pub url: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its `env`: each variable's name and value.
    pub env: Vec<(String, String)>,
    /// A remote server's headers but `Authorization`: each header and the secret (in `env`)
    /// that holds its value.
    pub headers: Vec<(String, String)>,
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
    /// Variables passed through from the user's environment (their value was empty).
    pub env: Vec<String>,
    /// Variables whose values went into the secret store.
    pub secrets: Vec<String>,
    /// Paths its arguments name, which it may read.
    pub read: Vec<String>,
    /// The npm package installed into its directory, or why it could not be (then it runs
    /// through npx).
    pub installed: Option<Result<String, String>>,
}

/// How an import goes about its side effects.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Where `env` values go; None keeps only their names (pass-through).
    pub secrets: Option<SecretStore>,
    /// Install `npx -y PACKAGE` servers into their plugin directories with npm.
    pub install: bool,
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
    /// Things to tell the user once (where secrets went), one line each.
    pub notes: Vec<String>,
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
    if kind == Some("sse") {
        return Err("the legacy HTTP+SSE transport is not supported; give the server's Streamable HTTP endpoint (type \"http\")".into());
    }
    if let Some(url) = entry.get("url") {
        return remote(name, url, entry.get("headers"));
    }
    if let Some(kind) = kind.filter(|k| *k != "stdio") {
        return Err(format!(
            "type {kind:?} is not supported; only \"stdio\" and \"http\" (with a url)"
        ));
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
        Some(Value::Object(vars)) => vars
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), value)
            })
            .collect(),
        Some(_) => return Err("\"env\" is not an object".into()),
    };
    Ok(Server {
        name: name.to_owned(),
        command,
        url: String::new(),
        args,
        env,
        headers: Vec::new(),
    })
}

/// The name the secret of an imported remote server's bearer token is stored under.
const TOKEN: &str = "TOKEN";

/// A remote entry: its url, an `Authorization: Bearer` header as the secret [`TOKEN`], and
/// every other header's value as a secret named after the header (`X-Api-Key`: `X_API_KEY`).
fn remote(name: &str, url: &Value, headers: Option<&Value>) -> Result<Server, String> {
    let url = url.as_str().ok_or("\"url\" is not a string")?.to_owned();
    let mut env = Vec::new();
    let mut sent = Vec::new();
    if let Some(headers) = headers {
        let headers = headers.as_object().ok_or("\"headers\" is not an object")?;
        for (header, value) in headers {
            let value = value
                .as_str()
                .ok_or(format!("the value of header {header:?} is not a string"))?;
            if header.eq_ignore_ascii_case("authorization") {
                let token = value.strip_prefix("Bearer ").ok_or(
                    "an \"Authorization\" header other than \"Bearer …\" is not supported",
                )?;
                env.push((TOKEN.to_owned(), token.to_owned()));
                continue;
            }
            let secret = header_secret(header);
            if secret == TOKEN || env.iter().any(|(name, _)| *name == secret) {
                return Err(format!("header {header:?} would share a secret's name"));
            }
            env.push((secret.clone(), value.to_owned()));
            sent.push((header.clone(), secret));
        }
    }
    Ok(Server {
        name: name.to_owned(),
        command: String::new(),
        url,
        args: Vec::new(),
        env,
        headers: sent,
    })
}

/// The secret a header's value is kept in: upper case, `-` and the rest as `_`.
fn header_secret(header: &str) -> String {
    let name: String = header
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => c.to_ascii_uppercase(),
            _ => '_',
        })
        .collect();
    match name.starts_with(|c: char| c.is_ascii_digit()) {
        true => format!("H_{name}"),
        false => name,
    }
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

/// The manifest an imported server gets: variable names only (empty values pass through,
/// others are secrets), read access to the paths its arguments name, nothing else.
fn manifest_for(server: &Server, id: &str, file: &Path, home: Option<&Path>) -> Manifest {
    let (passed, secret): (Vec<_>, Vec<_>) = server.env.iter().partition(|(_, v)| v.is_empty());
    Manifest {
        id: id.to_owned(),
        name: server.name.chars().take(MAX_NAME).collect(),
        description: format!("Imported from {}", file.display()),
        command: server.command.clone(),
        url: server.url.clone(),
        token_secret: server
            .env
            .iter()
            .any(|(name, _)| !server.url.is_empty() && name == TOKEN)
            .then(|| TOKEN.to_owned()),
        headers: server.headers.iter().cloned().collect(),
        args: server.args.clone(),
        env: passed.into_iter().map(|(k, _)| k.clone()).collect(),
        secrets: secret.into_iter().map(|(k, _)| k.clone()).collect(),
        permissions: Permissions {
            read: path_arguments(&server.args, home),
            ..Permissions::default()
        },
        ..Manifest::default()
    }
}

/// The arguments that name an existing file or directory (absolute, or `~/…`), as written.
fn path_arguments(args: &[String], home: Option<&Path>) -> Vec<String> {
    args.iter()
        .filter(|a| a.starts_with('/') || a.starts_with("~/"))
        .filter(|a| Path::new(&manifest::expand(a, Path::new("/"), home)).exists())
        .cloned()
        .collect()
}

/// Imports the servers of `file` into `user_dir`, skipping ids that `existing` or `user_dir`
/// already has, and records each new plugin as disabled in `state_path`.
pub fn import(
    file: &Path,
    user_dir: &Path,
    state_path: &Path,
    existing: &Discovery,
    options: &ImportOptions,
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
        match write_one(&server, file, user_dir, existing, options.install)? {
            Ok(imported) => {
                state.set_enabled(&imported.id, false);
                store_secrets(&server, &imported, options, &mut report.notes);
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

/// Puts the values of `imported`'s secrets into the store; a failure is a note telling the
/// user how to set the secret by hand.
fn store_secrets(
    server: &Server,
    imported: &Imported,
    options: &ImportOptions,
    notes: &mut Vec<String>,
) {
    let Some(store) = &options.secrets else {
        return;
    };
    for (name, value) in server
        .env
        .iter()
        .filter(|(n, _)| imported.secrets.contains(n))
    {
        match store.set(&imported.id, name, value) {
            Ok(stored) => notes.extend(stored.first_in_file),
            Err(e) => notes.push(format!(
                "{e}; set it later with `libre-assistant plugins secret set {} {name}`",
                imported.id
            )),
        }
    }
}

/// Writes one server's manifest (installing an npx package first when `install`); the inner
/// `Err` is why it was skipped.
fn write_one(
    server: &Server,
    file: &Path,
    user_dir: &Path,
    existing: &Discovery,
    install: bool,
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
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut manifest = manifest_for(server, &id, file, home.as_deref());
    let path = dir.join(MANIFEST_FILE);
    let write_error = |e: &dyn std::fmt::Display| ImportError::Write {
        path: path.clone(),
        cause: e.to_string(),
    };
    let body = manifest.to_toml().map_err(|e| write_error(&e))?;
    // What we write must load back; a server the schema refuses (say, an odd variable name)
    // is skipped with the schema's reason instead of leaving a broken plugin behind.
    if let Err(e) = manifest::parse(&path, &body) {
        return Ok(Err(e.to_string()));
    }
    std::fs::create_dir_all(&dir).map_err(|e| write_error(&e))?;
    let npx = npm::npx_package(&server.command, &server.args);
    let installed = match npx.filter(|_| install) {
        None => None,
        Some((package, rest)) => Some(match npm::install(&package, &dir) {
            Ok(entry) => {
                manifest.command = "node".to_owned();
                manifest.args = std::iter::once(format!("${{PLUGIN_DIR}}/{}", entry.display()))
                    .chain(rest)
                    .collect();
                Ok(package)
            }
            Err(e) => Err(e),
        }),
    };
    let body = manifest.to_toml().map_err(|e| write_error(&e))?;
    if let Err(e) = manifest::parse(&path, &body) {
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(Err(e.to_string()));
    }
    let text = format!(
        "# Imported from {} by `libre-assistant plugins import`; see docs/plugins.md.\n\
         # It may read only the paths its arguments name; secrets are in the secret store.\n{body}",
        file.display()
    );
    std::fs::write(&path, text).map_err(|e| write_error(&e))?;
    Ok(Ok(Imported {
        name: server.name.clone(),
        id,
        path,
        env: manifest.env.clone(),
        secrets: manifest.secrets.clone(),
        read: manifest.permissions.read.clone(),
        installed,
    }))
}
