//! Built-in plugins: MCP servers that this binary serves over stdio (`libre-assistant
//! mcp-serve NAME`), each run as its own child process through a shipped manifest, exactly
//! like a third-party plugin.
//!
//! Invariants: stdout carries JSON-RPC only (the library never prints); bad input is a tool
//! result with `isError: true` and a one-line message, never a panic or a protocol error.

pub mod calc;
pub mod files;
pub mod password;
pub mod time;
mod zones;

use std::path::PathBuf;

use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServiceExt, transport::stdio};

/// The names `mcp-serve` accepts.
pub const NAMES: [&str; 4] = ["time", "calc", "password", "files"];

/// One built-in server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// The current time and conversions between IANA time zones.
    Time,
    /// Expressions, loan payments and compound interest.
    Calc,
    /// Passwords, passphrases and strength estimates.
    Password,
    /// Listing, reading and searching text files under allowed directories.
    Files,
}

/// Why a built-in server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The name is not one of [`NAMES`].
    #[error("unknown built-in plugin {0:?}; choose one of: time, calc, password, files")]
    Unknown(String),
    /// `--allow` was given to a server other than `files`.
    #[error("--allow is only for the files plugin")]
    AllowNotFiles,
    /// The MCP session failed to start or ended with an error.
    #[error("MCP session: {0}")]
    Session(String),
}

impl Builtin {
    /// The server with this name.
    pub fn from_name(name: &str) -> Result<Builtin, ServeError> {
        match name {
            "time" => Ok(Builtin::Time),
            "calc" => Ok(Builtin::Calc),
            "password" => Ok(Builtin::Password),
            "files" => Ok(Builtin::Files),
            other => Err(ServeError::Unknown(other.to_owned())),
        }
    }
}

/// Serves `builtin` on stdin/stdout until the client closes the connection. `allow` lists the
/// directories `files` may read, to which it adds those its manifest's `permissions.read`
/// grants (the host passes them in `LIBRE_ASSISTANT_GRANTED_READ`); problems with them (a
/// missing directory) come back in `warn`, one line each, for the caller to put on stderr.
pub async fn serve(
    builtin: Builtin,
    allow: &[PathBuf],
    warn: &mut dyn FnMut(&str),
) -> Result<(), ServeError> {
    if builtin != Builtin::Files && !allow.is_empty() {
        return Err(ServeError::AllowNotFiles);
    }
    match builtin {
        Builtin::Time => run(time::TimeServer::new()).await,
        Builtin::Calc => run(calc::CalcServer::new()).await,
        Builtin::Password => run(password::PasswordServer::new()).await,
        Builtin::Files => {
            let granted = std::env::var_os(crate::plugins::host::GRANTED_READ_ENV);
            let allow: Vec<PathBuf> = allow
                .iter()
                .cloned()
                .chain(granted.iter().flat_map(std::env::split_paths))
                .collect();
            let (server, problems) = files::FilesServer::new(&allow);
            for problem in &problems {
                warn(problem);
            }
            run(server).await
        }
    }
}

async fn run<S: rmcp::ServerHandler>(server: S) -> Result<(), ServeError> {
    let service = server
        .serve(stdio())
        .await
        .map_err(|e| ServeError::Session(e.to_string()))?;
    service
        .waiting()
        .await
        .map_err(|e| ServeError::Session(e.to_string()))?;
    Ok(())
}

/// The server description every built-in sends in `initialize`.
fn info(name: &str, instructions: &str) -> ServerConfig {
    ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
        .with_server_info(Implementation::new(
            format!("libre-assistant-{name}"),
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(instructions)
}

/// A successful result: `text` for people and models, `structured` for programs.
fn success(text: impl Into<String>, structured: serde_json::Value) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(structured);
    result
}

/// A tool error: one line, `isError: true`.
fn failure(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// `Ok` as [`success`], `Err` as [`failure`].
fn outcome(result: Result<(String, serde_json::Value), String>) -> CallToolResult {
    match result {
        Ok((text, structured)) => success(text, structured),
        Err(message) => failure(message),
    }
}
