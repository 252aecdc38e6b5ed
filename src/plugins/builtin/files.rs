//! The `files` built-in: list, read and search text files under the directories given with
//! `--allow`, and nothing else.
//!
//! Invariant: every path is canonicalised (resolving `..` and symlinks) before it is checked
//! against the canonical allowed roots, so neither `..` nor a symlink can escape them. With no
//! allowed directory every call is refused. The walk in `search_files` never follows symlinks.

use std::io::Read;
use std::path::{Path, PathBuf};

use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolResult, ServerConfig};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::{Value, json};

const MAX_LIST: usize = 1000;
const MAX_READ: u64 = 1_000_000;
const MAX_SEARCH_FILE: u64 = 1_000_000;
const MAX_SEARCH_FILES: usize = 10_000;
const MAX_RESULTS: usize = 500;
/// How much of a file is checked for NUL bytes to call it binary.
const SNIFF: usize = 8192;

/// Arguments of `list_directory`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListArgs {
    /// Directory to list: absolute, or relative to the first allowed directory.
    pub path: String,
}

/// Arguments of `read_text_file`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ReadArgs {
    /// File to read: absolute, or relative to the first allowed directory.
    pub path: String,
    /// Most bytes to return, up to 1000000. Default 100000.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
}

/// Arguments of `search_files`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// Directory to search recursively: absolute, or relative to the first allowed directory.
    pub path: String,
    /// Text to look for, case-insensitive, in file names and in the lines of text files.
    pub pattern: String,
    /// Most matches to return, up to 500. Default 50.
    #[serde(default = "default_max_results")]
    pub max_results: usize,
}

fn default_max_bytes() -> u64 {
    100_000
}
fn default_max_results() -> usize {
    50
}

/// The allowed roots, canonical.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roots(Vec<PathBuf>);

impl Roots {
    /// Canonicalises `allow`; directories that cannot be used come back as one line each.
    pub fn new(allow: &[PathBuf]) -> (Roots, Vec<String>) {
        let mut roots = Vec::new();
        let mut problems = Vec::new();
        for dir in allow {
            match dir.canonicalize() {
                Ok(c) if c.is_dir() => roots.push(c),
                Ok(_) => problems.push(format!("--allow {}: not a directory", dir.display())),
                Err(e) => problems.push(format!("--allow {}: {e}", dir.display())),
            }
        }
        (Roots(roots), problems)
    }

    /// The canonical form of `path` if it lies under an allowed root.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, String> {
        let Some(first) = self.0.first() else {
            return Err("no directory is allowed; `libre-assistant plugins grant files --read DIR` allows one, see docs/plugins.md".to_owned());
        };
        let given = Path::new(path.trim());
        let joined = if given.is_absolute() {
            given.to_path_buf()
        } else {
            first.join(given)
        };
        let canonical = joined
            .canonicalize()
            .map_err(|e| format!("{}: {e}", joined.display()))?;
        if self.0.iter().any(|root| canonical.starts_with(root)) {
            Ok(canonical)
        } else {
            Err(format!(
                "{path} is outside the allowed directories ({})",
                self.list()
            ))
        }
    }

    fn list(&self) -> String {
        self.0
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The `files` MCP server.
#[derive(Debug, Clone)]
pub struct FilesServer {
    roots: Roots,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl FilesServer {
    /// A server for these directories, and the problems with any that cannot be used. With
    /// no usable directory it offers no tools: they could only refuse, and every tool offered
    /// costs the model prompt tokens and a chance to call it in vain.
    pub fn new(allow: &[PathBuf]) -> (Self, Vec<String>) {
        let (roots, problems) = Roots::new(allow);
        let tool_router = if roots.0.is_empty() {
            ToolRouter::new()
        } else {
            Self::tool_router()
        };
        let server = Self { roots, tool_router };
        (server, problems)
    }

    #[tool(
        description = "List a directory's entries (name, kind, size) under the allowed directories."
    )]
    async fn list_directory(&self, Parameters(args): Parameters<ListArgs>) -> CallToolResult {
        let roots = self.roots.clone();
        blocking(move || list_directory(&roots, &args.path)).await
    }

    #[tool(
        description = "Read a UTF-8 text file under the allowed directories, up to max_bytes (default 100000). Binary files are refused."
    )]
    async fn read_text_file(&self, Parameters(args): Parameters<ReadArgs>) -> CallToolResult {
        let roots = self.roots.clone();
        blocking(move || read_text_file(&roots, &args.path, args.max_bytes)).await
    }

    #[tool(
        description = "Search a directory recursively for a case-insensitive substring in file names and in lines of text files; returns paths and matching lines."
    )]
    async fn search_files(&self, Parameters(args): Parameters<SearchArgs>) -> CallToolResult {
        let roots = self.roots.clone();
        blocking(move || search_files(&roots, &args.path, &args.pattern, args.max_results)).await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for FilesServer {
    fn get_info(&self) -> ServerConfig {
        super::info(
            "files",
            "Read-only access to text files under the directories the user allowed.",
        )
    }
}

/// Runs filesystem work off the async threads.
async fn blocking(
    work: impl FnOnce() -> Result<(String, Value), String> + Send + 'static,
) -> CallToolResult {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => super::outcome(result),
        Err(e) => super::failure(format!("the file operation failed: {e}")),
    }
}

/// The entries of a directory, sorted by name.
pub fn list_directory(roots: &Roots, path: &str) -> Result<(String, Value), String> {
    let dir = roots.resolve(path)?;
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut rows: Vec<(String, &'static str, u64)> = entries
        .filter_map(Result::ok)
        .map(|entry| {
            let meta = entry.path().symlink_metadata().ok();
            let kind = match &meta {
                Some(m) if m.is_symlink() => "symlink",
                Some(m) if m.is_dir() => "directory",
                Some(_) => "file",
                None => "unknown",
            };
            let size = meta.map(|m| m.len()).unwrap_or(0);
            (entry.file_name().to_string_lossy().into_owned(), kind, size)
        })
        .collect();
    rows.sort();
    let truncated = rows.len() > MAX_LIST;
    rows.truncate(MAX_LIST);
    let mut text = format!("{}:", dir.display());
    for (name, kind, size) in &rows {
        let line = match *kind {
            "directory" => format!("\n{name}/"),
            "file" => format!("\n{name} ({size} bytes)"),
            other => format!("\n{name} ({other})"),
        };
        text.push_str(&line);
    }
    if truncated {
        text.push_str(&format!("\n… only the first {MAX_LIST} entries"));
    }
    let entries: Vec<Value> = rows
        .iter()
        .map(|(name, kind, size)| json!({ "name": name, "kind": kind, "size": size }))
        .collect();
    let value = json!({ "path": dir, "entries": entries, "truncated": truncated });
    Ok((text, value))
}

/// At most `max_bytes` of a text file, cut at a character boundary.
pub fn read_text_file(
    roots: &Roots,
    path: &str,
    max_bytes: u64,
) -> Result<(String, Value), String> {
    if !(1..=MAX_READ).contains(&max_bytes) {
        return Err(format!(
            "max_bytes must be between 1 and {MAX_READ}, not {max_bytes}"
        ));
    }
    let file = roots.resolve(path)?;
    if !file.is_file() {
        return Err(format!("{} is not a regular file", file.display()));
    }
    let (bytes, truncated) = read_prefix(&file, max_bytes)?;
    let text = text_of(&bytes, truncated).ok_or_else(|| {
        format!(
            "{} is a binary file, not text; refusing to read it",
            file.display()
        )
    })?;
    let value =
        json!({ "path": file, "content": text, "bytes": text.len(), "truncated": truncated });
    Ok((text, value))
}

fn read_prefix(file: &Path, max_bytes: u64) -> Result<(Vec<u8>, bool), String> {
    let handle = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut bytes = Vec::new();
    handle
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let truncated = bytes.len() as u64 > max_bytes;
    if truncated {
        bytes.truncate(usize::try_from(max_bytes).unwrap_or(usize::MAX));
    }
    Ok((bytes, truncated))
}

/// The bytes as text, or `None` when they look binary (a NUL byte early on, or invalid UTF-8
/// other than a character cut by truncation).
pub fn text_of(bytes: &[u8], truncated: bool) -> Option<String> {
    if bytes[..bytes.len().min(SNIFF)].contains(&0) {
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Some(s.to_owned()),
        Err(e) if truncated && e.error_len().is_none() => {
            Some(String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned())
        }
        Err(_) => None,
    }
}

/// Matches of `pattern` in names and lines under `path`.
pub fn search_files(
    roots: &Roots,
    path: &str,
    pattern: &str,
    max_results: usize,
) -> Result<(String, Value), String> {
    if pattern.trim().is_empty() {
        return Err("the pattern is empty".to_owned());
    }
    if !(1..=MAX_RESULTS).contains(&max_results) {
        return Err(format!(
            "max_results must be between 1 and {MAX_RESULTS}, not {max_results}"
        ));
    }
    let dir = roots.resolve(path)?;
    let needle = pattern.to_lowercase();
    let mut found: Vec<Value> = Vec::new();
    let mut text = String::new();
    let mut stack = vec![dir.clone()];
    let mut seen = 0usize;
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths.into_iter().rev() {
            let Ok(meta) = p.symlink_metadata() else {
                continue;
            };
            if meta.is_symlink() {
                continue;
            }
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if name.contains(&needle) {
                text.push_str(&format!("{}\n", p.display()));
                found.push(json!({ "path": p, "line": null, "text": null }));
            }
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() && meta.len() <= MAX_SEARCH_FILE {
                seen += 1;
                search_lines(&p, &needle, max_results, &mut found, &mut text);
            }
            if found.len() >= max_results || seen >= MAX_SEARCH_FILES {
                break;
            }
        }
        if found.len() >= max_results || seen >= MAX_SEARCH_FILES {
            break;
        }
    }
    found.truncate(max_results);
    if found.is_empty() {
        text = format!("no match for {pattern:?} under {}", dir.display());
    }
    let value = json!({ "path": dir, "pattern": pattern, "matches": found });
    Ok((text.trim_end().to_owned(), value))
}

fn search_lines(file: &Path, needle: &str, max: usize, found: &mut Vec<Value>, text: &mut String) {
    let Ok(bytes) = std::fs::read(file) else {
        return;
    };
    let Some(content) = text_of(&bytes, false) else {
        return;
    };
    for (i, line) in content.lines().enumerate() {
        if found.len() >= max {
            return;
        }
        if line.to_lowercase().contains(needle) {
            let shown: String = line.trim().chars().take(200).collect();
            text.push_str(&format!("{}:{}: {shown}\n", file.display(), i + 1));
            found.push(json!({ "path": file, "line": i + 1, "text": shown }));
        }
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
