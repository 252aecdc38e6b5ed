//! The journal: each conversation is one JSON file, `<dir>/conversation-<unix millis>.json`.
//!
//! A save rewrites the whole file: it writes a temporary file beside it and renames it over
//! the old one, so a reader (or a crash) sees either the previous save or this one, never half
//! of one. The files are private to the user (0600 in a 0700 directory on Unix). Format:
//! `{"v":1,"system":"…","messages":[{"role":"user","content":"…"},
//! {"role":"assistant","content":"…","partial":true}]}`; `partial` marks an answer that was
//! still streaming when it was saved, and is read back as an ordinary answer.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::Conversation;
use crate::engine::{ChatMessage, Role};

/// The file format's version; a file with another `v` is refused, not misread.
pub const VERSION: u32 = 1;

/// A streaming answer is saved at most this often.
pub const STREAM_SAVE_INTERVAL: Duration = Duration::from_secs(1);

const PREFIX: &str = "conversation-";
const SUFFIX: &str = ".json";

/// What can go wrong reading or writing a conversation file. Each message is one line that
/// names the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JournalError {
    /// The file could not be read.
    #[error("cannot read the conversation file {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The file is not a conversation in this format.
    #[error("{path} is not a valid conversation file ({reason}); start a new conversation")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser found.
        reason: String,
    },
    /// The file was written by a newer (or unknown) version of the format.
    #[error(
        "{path} is a version {found} conversation file but this build reads version {VERSION}; update libre-assistant"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// Its `v`.
        found: u64,
    },
    /// The conversation could not be saved.
    #[error("cannot save the conversation to {path}: {reason}; it goes on unsaved")]
    Save {
        /// The file or directory that could not be written.
        path: PathBuf,
        /// The class of failure (one report per class).
        kind: io::ErrorKind,
        /// The operating system's reason.
        reason: String,
    },
}

/// Unknown fields are ignored, so a later writer may add optional ones without a new version.
#[derive(Serialize, Deserialize)]
struct FileFormat<'a> {
    v: u64,
    system: Cow<'a, str>,
    messages: Vec<Entry<'a>>,
}

#[derive(Serialize, Deserialize)]
struct Entry<'a> {
    role: Role,
    content: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    partial: bool,
}

/// Only the version, read first so that a newer file is refused by version, not by shape.
#[derive(Deserialize)]
struct Versioned {
    v: u64,
}

/// The newest conversation file in `dir` (by the time in its name), if any.
pub fn latest(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let millis = file_millis(&path)?;
            Some((millis, path))
        })
        .max()
        .map(|(_, path)| path)
}

/// Reads a conversation file back; a partial answer becomes an ordinary one.
pub fn load(path: &Path) -> Result<Conversation, JournalError> {
    let bytes = std::fs::read(path).map_err(|e| JournalError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let corrupt = |e: serde_json::Error| JournalError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let Versioned { v } = serde_json::from_slice(&bytes).map_err(corrupt)?;
    if v != u64::from(VERSION) {
        return Err(JournalError::Version {
            path: path.to_path_buf(),
            found: v,
        });
    }
    let file: FileFormat<'_> = serde_json::from_slice(&bytes).map_err(corrupt)?;
    let messages = file
        .messages
        .into_iter()
        .map(|e| ChatMessage::new(e.role, e.content))
        .collect();
    Ok(Conversation::from_parts(&file.system, messages))
}

/// Writes `conversation` to `path` atomically, with `partial` as a streaming answer at the end.
pub fn save(
    path: &Path,
    conversation: &Conversation,
    partial: Option<&str>,
) -> Result<(), JournalError> {
    let dir = path.parent().unwrap_or(Path::new(""));
    create_private_dir(dir).map_err(|e| save_error(dir, &e))?;
    let json = to_json(conversation, partial).map_err(|e| save_error(path, &e.into()))?;
    let temp = temp_path(path);
    write_private(&temp, &json)
        .and_then(|()| std::fs::rename(&temp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            save_error(path, &e)
        })
}

/// A file name in `dir` for a new conversation, after every existing one.
pub fn new_file(dir: &Path) -> PathBuf {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let newest = latest(dir).and_then(|p| file_millis(&p)).unwrap_or(0);
    let millis = now.max(newest + 1);
    dir.join(format!("{PREFIX}{millis}{SUFFIX}"))
}

/// The core's journal: which file the conversation goes to, how often a streaming answer is
/// saved, and which failures the user has already been told about.
pub(super) struct Journal {
    dir: PathBuf,
    file: Option<PathBuf>,
    last_save: Option<Instant>,
    reported: Vec<io::ErrorKind>,
}

impl Journal {
    /// A journal writing into `dir` (created at the first save).
    pub(super) fn new(dir: PathBuf) -> Self {
        Journal {
            dir,
            file: None,
            last_save: None,
            reported: Vec::new(),
        }
    }

    /// Saves now. Returns a failure the user has not been told about yet; an empty
    /// conversation that has no file yet is not written at all.
    pub(super) fn save(
        &mut self,
        conversation: &Conversation,
        partial: Option<&str>,
        now: Instant,
    ) -> Option<JournalError> {
        if self.file.is_none() && conversation.is_empty() && partial.is_none() {
            return None;
        }
        let file = self.file.get_or_insert_with(|| new_file(&self.dir));
        self.last_save = Some(now);
        let error = save(file, conversation, partial).err()?;
        tracing::warn!("{error}");
        let kind = if let JournalError::Save { kind, .. } = &error {
            *kind
        } else {
            io::ErrorKind::Other
        };
        if self.reported.contains(&kind) {
            return None;
        }
        self.reported.push(kind);
        Some(error)
    }

    /// Saves a streaming answer if the last save is at least `STREAM_SAVE_INTERVAL` old.
    pub(super) fn save_streaming(
        &mut self,
        conversation: &Conversation,
        partial: &str,
        now: Instant,
    ) -> Option<JournalError> {
        let due = self
            .last_save
            .is_none_or(|last| now.saturating_duration_since(last) >= STREAM_SAVE_INTERVAL);
        if !due {
            return None;
        }
        self.save(conversation, Some(partial), now)
    }

    /// The next save starts a new file (the conversation was cleared).
    pub(super) fn start_new(&mut self) {
        self.file = None;
    }
}

/// The time in a conversation file's name, or None for any other file (temporary files too).
fn file_millis(path: &Path) -> Option<u128> {
    let name = path.file_name()?.to_str()?;
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn to_json(conversation: &Conversation, partial: Option<&str>) -> serde_json::Result<Vec<u8>> {
    let mut messages: Vec<Entry<'_>> = conversation
        .messages()
        .iter()
        .map(|m| Entry {
            role: m.role,
            content: Cow::Borrowed(&m.content),
            partial: false,
        })
        .collect();
    messages.extend(partial.map(|text| Entry {
        role: Role::Assistant,
        content: Cow::Borrowed(text),
        partial: true,
    }));
    serde_json::to_vec(&FileFormat {
        v: u64::from(VERSION),
        system: Cow::Borrowed(conversation.system_prompt()),
        messages,
    })
}

/// `.<name>.tmp` beside `path`: same directory (rename stays on one file system), and a name
/// `latest` never picks.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

fn save_error(path: &Path, e: &io::Error) -> JournalError {
    JournalError::Save {
        path: path.to_path_buf(),
        kind: e.kind(),
        reason: e.to_string(),
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    // On disk before the rename, so a power cut leaves the old save rather than an empty file.
    file.sync_data()
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
