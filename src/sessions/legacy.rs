//! Conversation files of earlier versions (`<data>/conversations/conversation-<millis>.json`),
//! read once into the database and then left as they are. Also the JSON that `sessions
//! export --format json` writes, which has the same shape plus optional fields.
//!
//! Format: `{"v":1,"system":"…","messages":[{"role":"user","content":"…"},
//! {"role":"assistant","content":"…","partial":true}]}`; `partial` marks an answer that was
//! still streaming when it was saved, and is read back as an ordinary answer. Unknown fields
//! are ignored.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::{ChatMessage, Role};

/// The file format's version; a file with another `v` is refused, not misread.
pub const VERSION: u64 = 1;

const PREFIX: &str = "conversation-";
const SUFFIX: &str = ".json";

/// A conversation read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    /// The system prompt; empty when there was none.
    pub system: String,
    /// The messages, oldest first.
    pub messages: Vec<ChatMessage>,
}

#[derive(Deserialize)]
struct FileFormat {
    system: String,
    messages: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    role: Role,
    content: String,
}

/// Only the version, read first so that a newer file is refused by version, not by shape.
#[derive(Deserialize)]
struct Versioned {
    v: u64,
}

/// Reads a conversation file; the error is one line naming the file.
pub fn load(path: &Path) -> Result<File, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&bytes).map_err(|reason| format!("{} {reason}", path.display()))
}

/// Reads a conversation from JSON bytes; the error says what is wrong, after the file's name.
pub fn parse(bytes: &[u8]) -> Result<File, String> {
    let corrupt = |e: serde_json::Error| format!("is not a valid conversation file ({e})");
    let Versioned { v } = serde_json::from_slice(bytes).map_err(corrupt)?;
    if v != VERSION {
        return Err(format!(
            "is a version {v} conversation file but this build reads version {VERSION}; update libre-assistant"
        ));
    }
    let file: FileFormat = serde_json::from_slice(bytes).map_err(corrupt)?;
    let messages = file
        .messages
        .into_iter()
        .map(|e| ChatMessage::new(e.role, e.content))
        .collect();
    Ok(File {
        system: file.system,
        messages,
    })
}

/// Every conversation file in `dir` with the time in its name, oldest first.
pub fn files(dir: &Path) -> Vec<(i64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(i64, PathBuf)> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            Some((file_millis(&path)?, path))
        })
        .collect();
    files.sort();
    files
}

/// The time in a conversation file's name, or None for any other file (temporary files too).
fn file_millis(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}
