//! The tamper-evident audit log of tool calls: `<state dir>/audit.jsonl`, one JSON object a line.
//!
//! Invariants: the file is created with mode 0600 and only ever appended to, one whole line per
//! write, fsync'd before `append` returns. Each line's `prev` is the SHA-256 (hex) of the
//! previous line's exact bytes without its newline; the first line's `prev` is 64 zeros. An
//! edit, deletion or reordering of any line but the last therefore breaks the chain at the
//! line that follows it; [`verify`] names that line (a record cannot vouch for itself, only
//! its successor can). Appends take an exclusive lock on the file and re-read the chain head
//! under it, so two processes appending at once still build one chain.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::paths::Dirs;

/// The audit log's file name in the state directory.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// The `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The audit log: `<state dir>/audit.jsonl`.
pub fn audit_file(dirs: &Dirs) -> PathBuf {
    dirs.state.join(AUDIT_FILE)
}

/// One tool call as the audit log records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the call was made, RFC 3339 in UTC (see [`timestamp`]).
    pub time: String,
    /// The plugin id.
    pub plugin: String,
    /// The tool name.
    pub tool: String,
    /// The arguments the call was made with.
    pub arguments: serde_json::Value,
    /// Whether the call was allowed to run.
    pub decision: Decision,
    /// What made the decision.
    pub granted_by: Grant,
    /// How long the call took, in milliseconds (0 for a denied call).
    pub duration_ms: u64,
    /// How the call ended.
    pub outcome: Outcome,
    /// SHA-256 (hex) of the result the tool returned, when it returned one.
    pub result_sha256: Option<String>,
    /// Set on records that are not a tool call: `"stopped_over_limit"` when the monitor
    /// stopped the plugin (then `tool` is empty and the outcome says why), `"sampling"` for a
    /// server's request that the local model write a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

/// The `event` of a record made when the monitor stops a plugin over a limit.
pub const STOPPED_OVER_LIMIT: &str = "stopped_over_limit";

/// The `event` of a record of a server's sampling request (`tool` empty, the request as
/// `arguments`, the generated text's hash as `result_sha256`).
pub const SAMPLING: &str = "sampling";

/// The `event` of a record of a server's request for the user's input (`tool` empty; the
/// message and the fields' names, or the URL, as `arguments`; never what the user typed).
pub const ELICITATION: &str = "elicitation";

/// The consent decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The call ran.
    Allowed,
    /// The call was refused.
    Denied,
}

/// What granted (or refused) the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// The user answered the consent prompt.
    User,
    /// A rule the user set for this session.
    Session,
    /// An "always allow" answer the user gave earlier, remembered in plugins.toml.
    Remembered,
    /// A policy in the config file.
    Config,
    /// A headless flag.
    HeadlessFlag,
    /// `plugins call`: the command itself is the consent.
    Command,
    /// Nothing granted it.
    None,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum Outcome {
    /// The tool returned a result.
    Ok,
    /// The tool returned a result flagged as an error.
    ToolError,
    /// The call failed (timeout, crash, protocol error, denied): why.
    Failed(String),
}

/// One line of the file: the record and the hash of the line before it.
#[derive(Serialize)]
struct LineOut<'a> {
    prev: &'a str,
    #[serde(flatten)]
    record: &'a AuditRecord,
}

#[derive(Deserialize)]
struct LineIn {
    prev: String,
    #[serde(flatten)]
    record: AuditRecord,
}

/// What went wrong with the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The file could not be read, written or locked.
    #[error("audit log {}: {source}", path.display())]
    Io {
        /// The log.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The last line is not a whole record, so the chain head is unknown.
    #[error(
        "audit log {}: the last line is not a complete audit record; run `libre-assistant audit verify`",
        path.display()
    )]
    CorruptHead {
        /// The log.
        path: PathBuf,
    },
    /// A line is not a JSON audit record.
    #[error(
        "audit log {}: line {line}: not an audit record ({reason}); the log was tampered with or damaged",
        path.display()
    )]
    NotARecord {
        /// The log.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What the parser said.
        reason: String,
    },
    /// A line's `prev` is not the hash of the line before it.
    #[error(
        "audit log {}: line {line}: does not follow line {} (edited, deleted or reordered); the log was tampered with",
        path.display(), line - 1
    )]
    Broken {
        /// The log.
        path: PathBuf,
        /// 1-based line number, at least 2.
        line: usize,
    },
    /// The first line's `prev` is not [`GENESIS`].
    #[error(
        "audit log {}: line 1: does not start the chain (lines before it deleted, or it was edited); the log was tampered with",
        path.display()
    )]
    BadStart {
        /// The log.
        path: PathBuf,
    },
    /// A record could not be serialized.
    #[error("cannot serialize an audit record: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// The audit log, opened for appending.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
}

/// What [`verify`] found in an intact log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Lines (calls) in the log; 0 when it does not exist yet.
    pub lines: usize,
}

impl AuditLog {
    /// Opens the log at `path` (which need not exist yet), checking that its last line is a
    /// whole record so the chain can continue.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        match File::open(path) {
            Ok(mut file) => {
                head(&mut file, path)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(path, e)),
        }
        Ok(AuditLog {
            path: path.to_path_buf(),
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record, chained to the current last line, and syncs it to disk.
    pub fn append(&mut self, record: &AuditRecord) -> Result<(), AuditError> {
        let path = &self.path;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| io(path, e))?;
        file.lock().map_err(|e| io(path, e))?;
        let prev = head(&mut file, path)?;
        let mut line = serde_json::to_vec(&LineOut {
            prev: &prev,
            record,
        })?;
        line.push(b'\n');
        // One write of the whole line: with O_APPEND it lands at the end in one piece.
        file.write_all(&line).map_err(|e| io(path, e))?;
        file.sync_data().map_err(|e| io(path, e))?;
        Ok(())
    }
}

/// Checks the whole chain of the log at `path`. A missing log is an empty, intact one.
pub fn verify(path: &Path) -> Result<VerifyReport, AuditError> {
    let Some(bytes) = read_all(path)? else {
        return Ok(VerifyReport { lines: 0 });
    };
    let mut expected = GENESIS.to_owned();
    let mut lines = 0;
    for (index, line) in split_lines(&bytes).enumerate() {
        let number = index + 1;
        let line = line.map_err(|reason| not_a_record(path, number, reason))?;
        let parsed = parse_line(line).map_err(|reason| not_a_record(path, number, reason))?;
        if parsed.prev != expected {
            return Err(if number == 1 {
                AuditError::BadStart {
                    path: path.to_path_buf(),
                }
            } else {
                AuditError::Broken {
                    path: path.to_path_buf(),
                    line: number,
                }
            });
        }
        expected = sha256_hex(line);
        lines = number;
    }
    Ok(VerifyReport { lines })
}

/// The last `n` records of the log at `path`, oldest first; none when it does not exist.
/// Does not check the chain (that is [`verify`]'s job), only that each shown line parses.
pub fn tail(path: &Path, n: usize) -> Result<Vec<AuditRecord>, AuditError> {
    let Some(bytes) = read_all(path)? else {
        return Ok(Vec::new());
    };
    let lines: Vec<_> = split_lines(&bytes).collect();
    let skip = lines.len().saturating_sub(n);
    lines
        .into_iter()
        .enumerate()
        .skip(skip)
        .map(|(index, line)| {
            line.and_then(|l| parse_line(l).map(|p| p.record))
                .map_err(|reason| not_a_record(path, index + 1, reason))
        })
        .collect()
}

/// `t` as RFC 3339 in UTC, to the millisecond: the form of [`AuditRecord::time`].
pub fn timestamp(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// SHA-256 of `bytes`, lowercase hex: the form of `prev` and [`AuditRecord::result_sha256`].
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The lines of the file without their newlines; a last line with no newline is an error
/// (a torn write).
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = Result<&[u8], String>> {
    let body = bytes.strip_suffix(b"\n");
    let torn = body.is_none() && !bytes.is_empty();
    let body = body.unwrap_or(bytes);
    let count = if bytes.is_empty() {
        0
    } else {
        body.split(|b| *b == b'\n').count()
    };
    body.split(|b| *b == b'\n')
        .take(count)
        .enumerate()
        .map(move |(i, line)| {
            if torn && i + 1 == count {
                Err("the line has no newline: a write was cut short".to_owned())
            } else {
                Ok(line)
            }
        })
}

fn parse_line(line: &[u8]) -> Result<LineIn, String> {
    serde_json::from_slice::<LineIn>(line).map_err(|e| e.to_string())
}

/// The hash of the file's last line, or [`GENESIS`] for an empty file.
fn head(file: &mut File, path: &Path) -> Result<String, AuditError> {
    let len = file.metadata().map_err(|e| io(path, e))?.len();
    if len == 0 {
        return Ok(GENESIS.to_owned());
    }
    let corrupt = || AuditError::CorruptHead {
        path: path.to_path_buf(),
    };
    // Read backwards in growing windows until the window holds the whole last line.
    let mut window: u64 = 8192;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start)).map_err(|e| io(path, e))?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf).map_err(|e| io(path, e))?;
        let Some(body) = buf.strip_suffix(b"\n") else {
            return Err(corrupt());
        };
        let last = match body.iter().rposition(|b| *b == b'\n') {
            Some(i) => &body[i + 1..],
            None if start == 0 => body,
            None => {
                window = window.saturating_mul(4);
                continue;
            }
        };
        parse_line(last).map_err(|_| corrupt())?;
        return Ok(sha256_hex(last));
    }
}

fn read_all(path: &Path) -> Result<Option<Vec<u8>>, AuditError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path, e)),
    }
}

fn io(path: &Path, source: std::io::Error) -> AuditError {
    AuditError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn not_a_record(path: &Path, line: usize, reason: String) -> AuditError {
    AuditError::NotARecord {
        path: path.to_path_buf(),
        line,
        reason,
    }
}
