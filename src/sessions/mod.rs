//! Sessions: every conversation kept in one SQLite database, `<data>/sessions.db`, to list,
//! search (FTS5), reopen, rename, export and remove.
//!
//! WAL mode: a reader never waits for a writer, and a writer killed at any point leaves the
//! database as of its last committed transaction (each save is one). The database is 0600 in
//! a 0700 directory from creation; SQLite gives its `-wal` and `-shm` files the database's
//! mode. Opening runs an integrity check: a damaged database is moved aside (never deleted)
//! and a new one started. Conversation files of earlier versions are imported once.

pub mod export;
pub mod legacy;
mod schema;
pub mod search;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::engine::{ChatMessage, Role};

pub use search::Hit;
pub use write::Meta;

/// The database's file name in the data directory.
pub const FILE: &str = "sessions.db";

/// One line saying what went wrong with the session database, and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    /// The database could not be opened or read.
    #[error("cannot use the session database {path}: {reason}")]
    Db {
        /// The database file.
        path: PathBuf,
        /// SQLite's or the system's reason.
        reason: String,
    },
    /// A newer build wrote the database.
    #[error(
        "the session database {path} is version {found} but this build reads version {}; update libre-assistant",
        schema::VERSION
    )]
    Newer {
        /// The database file.
        path: PathBuf,
        /// Its version.
        found: i64,
    },
    /// No session has this id.
    #[error("no session {0}; `libre-assistant sessions list` shows them")]
    NotFound(i64),
}

/// A session as lists show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Its id (what `--resume` takes).
    pub id: i64,
    /// From its first question, unless renamed.
    pub title: String,
    /// The model that last answered in it; empty when none did.
    pub model: String,
    /// When it began, in Unix milliseconds.
    pub created: i64,
    /// When it last changed, in Unix milliseconds.
    pub updated: i64,
    /// Its messages, tool results included.
    pub messages: u32,
    /// Tokens in its last prompt and answer: how much of a context it fills.
    pub tokens: u32,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The message.
    pub message: ChatMessage,
    /// An answer that was still streaming when last saved (the app stopped mid-answer).
    pub partial: bool,
}

/// A whole session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Its list entry.
    pub summary: Summary,
    /// Its system prompt; empty when none.
    pub system: String,
    /// Its messages, oldest first.
    pub messages: Vec<Stored>,
}

impl Session {
    /// Its last answer was still streaming when last saved: the app stopped while writing it.
    pub fn cut_short(&self) -> bool {
        self.messages.last().is_some_and(|m| m.partial)
    }
}

/// An open session database. The connection is behind a mutex so that a `Store` can be held
/// across an `await` (the core task owns one); nothing waits on it for long.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

const SUMMARY: &str = "SELECT s.id, s.title, s.model, s.created, s.updated, s.tokens,
    (SELECT count(*) FROM messages m WHERE m.session = s.id) FROM sessions s";

impl Store {
    /// Opens (or creates) the database in `data_dir` and imports the conversation files of
    /// earlier versions from `data_dir/conversations`. Also returns notices for the user: a
    /// damaged database moved aside, a file that could not be imported.
    pub fn open(data_dir: &Path) -> Result<(Store, Vec<String>), SessionError> {
        let path = data_dir.join(FILE);
        let mut notices = Vec::new();
        let store = match Store::open_file(&path) {
            Err(Opening::Damaged(reason)) => {
                notices.push(move_aside(&path, &reason)?);
                Store::open_file(&path).map_err(|e| e.into_error(&path))?
            }
            other => other.map_err(|e| e.into_error(&path))?,
        };
        notices.extend(store.import(&data_dir.join("conversations"))?);
        Ok((store, notices))
    }

    fn open_file(path: &Path) -> Result<Store, Opening> {
        create_private(path).map_err(|e| Opening::Failed(e.to_string()))?;
        let conn = Connection::open(path).map_err(Opening::from)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(Opening::from)?;
        let check: String = conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(Opening::from)?;
        if check != "ok" {
            return Err(Opening::Damaged(check));
        }
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(Opening::from)?;
        if found > schema::VERSION {
            return Err(Opening::Newer(found));
        }
        conn.execute_batch(schema::PRAGMAS).map_err(Opening::from)?;
        conn.execute_batch(&format!(
            "BEGIN; {} PRAGMA user_version = {}; COMMIT;",
            schema::TABLES,
            schema::VERSION
        ))
        .map_err(Opening::from)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every session, the most recently changed first.
    pub fn list(&self) -> Result<Vec<Summary>, SessionError> {
        let sql = format!("{SUMMARY} ORDER BY s.updated DESC, s.id DESC");
        let conn = self.conn();
        let mut statement = conn.prepare(&sql).map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], summary_row)
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// The most recently changed session, if any.
    pub fn latest(&self) -> Result<Option<i64>, SessionError> {
        self.conn()
            .query_row(
                "SELECT id FROM sessions ORDER BY updated DESC, id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// One session's list entry.
    pub fn summary(&self, id: i64) -> Result<Summary, SessionError> {
        let sql = format!("{SUMMARY} WHERE s.id = ?1");
        self.conn()
            .query_row(&sql, [id], summary_row)
            .optional()
            .map_err(|e| self.error(e))?
            .ok_or(SessionError::NotFound(id))
    }

    /// A whole session.
    pub fn load(&self, id: i64) -> Result<Session, SessionError> {
        let summary = self.summary(id)?;
        let system: String = self
            .conn()
            .query_row("SELECT system FROM sessions WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .map_err(|e| self.error(e))?;
        let conn = self.conn();
        let mut statement = conn
            .prepare("SELECT role, content, partial FROM messages WHERE session = ?1 ORDER BY seq")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([id], |r| {
                let role: String = r.get(0)?;
                Ok(Stored {
                    message: ChatMessage::new(role_from(&role), r.get::<_, String>(1)?),
                    partial: r.get(2)?,
                })
            })
            .map_err(|e| self.error(e))?;
        let messages = rows.collect::<Result<_, _>>().map_err(|e| self.error(e))?;
        Ok(Session {
            summary,
            system,
            messages,
        })
    }

    /// Gives a session a new title.
    pub fn rename(&self, id: i64, title: &str) -> Result<(), SessionError> {
        let changed = self
            .conn()
            .execute(
                "UPDATE sessions SET title = ?2 WHERE id = ?1",
                params![id, title.trim()],
            )
            .map_err(|e| self.error(e))?;
        if changed == 0 {
            return Err(SessionError::NotFound(id));
        }
        Ok(())
    }

    /// Removes a session and its messages.
    pub fn remove(&self, id: i64) -> Result<(), SessionError> {
        let error = |e: rusqlite::Error| db_error(&self.path, &e);
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(error)?;
        tx.execute("DELETE FROM messages WHERE session = ?1", [id])
            .map_err(error)?;
        let removed = tx
            .execute("DELETE FROM sessions WHERE id = ?1", [id])
            .map_err(error)?;
        if removed == 0 {
            return Err(SessionError::NotFound(id));
        }
        tx.execute(
            "UPDATE imported SET session = NULL WHERE session = ?1",
            [id],
        )
        .map_err(error)?;
        tx.commit().map_err(error)
    }

    /// Imports the conversation files in `dir` that were not imported before; a file that
    /// cannot be read is recorded too (and named in a notice), so each is tried once.
    fn import(&self, dir: &Path) -> Result<Vec<String>, SessionError> {
        let mut notices = Vec::new();
        for (millis, file) in legacy::files(dir) {
            let key = file.to_string_lossy().into_owned();
            let done: Option<i64> = self
                .conn()
                .query_row("SELECT 1 FROM imported WHERE file = ?1", [&key], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(|e| self.error(e))?;
            if done.is_some() {
                continue;
            }
            let session = match legacy::load(&file) {
                Ok(conversation) => Some(self.insert_whole(millis, &conversation)?),
                Err(reason) => {
                    notices.push(format!("not imported: {reason}"));
                    None
                }
            };
            self.conn()
                .execute(
                    "INSERT INTO imported (file, session) VALUES (?1, ?2)",
                    params![key, session],
                )
                .map_err(|e| self.error(e))?;
        }
        Ok(notices)
    }

    /// Adds a whole conversation as a new session, created at `millis`; returns its id.
    fn insert_whole(&self, millis: i64, file: &legacy::File) -> Result<i64, SessionError> {
        let meta = Meta {
            model: String::new(),
            system: file.system.clone(),
            tokens: 0,
        };
        let title = title_of(&file.messages);
        let id = self.create(&title, &meta, millis)?;
        self.sync(id, 0, &file.messages, None, &meta, millis)?;
        Ok(id)
    }

    /// The connection, for one statement or transaction.
    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn error(&self, e: rusqlite::Error) -> SessionError {
        db_error(&self.path, &e)
    }
}

/// Why a database did not open.
enum Opening {
    /// It is damaged: move it aside.
    Damaged(String),
    /// A newer build wrote it.
    Newer(i64),
    /// Anything else (permissions, a full disk, a lock held too long).
    Failed(String),
}

impl From<rusqlite::Error> for Opening {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                Opening::Damaged(e.to_string())
            }
            _ => Opening::Failed(e.to_string()),
        }
    }
}

impl Opening {
    fn into_error(self, path: &Path) -> SessionError {
        let path = path.to_path_buf();
        match self {
            Opening::Newer(found) => SessionError::Newer { path, found },
            Opening::Damaged(reason) | Opening::Failed(reason) => SessionError::Db { path, reason },
        }
    }
}

/// Moves a damaged database (and its `-wal` and `-shm`) aside; returns the notice.
fn move_aside(path: &Path, reason: &str) -> Result<String, SessionError> {
    let aside = path.with_extension(format!("db.damaged-{}", now_millis()));
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        let to = PathBuf::from(format!("{}{suffix}", aside.display()));
        if from.exists() {
            std::fs::rename(&from, &to).map_err(|e| SessionError::Db {
                path: path.to_path_buf(),
                reason: format!("it is damaged ({reason}) and cannot be moved aside: {e}"),
            })?;
        }
    }
    Ok(format!(
        "the session database was damaged ({reason}); it was moved to {} and a new one started",
        aside.display()
    ))
}

/// Creates the database file (and its directory) private before SQLite opens it.
fn create_private(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Summary> {
    Ok(Summary {
        id: r.get(0)?,
        title: r.get(1)?,
        model: r.get(2)?,
        created: r.get(3)?,
        updated: r.get(4)?,
        tokens: r.get(5)?,
        messages: r.get(6)?,
    })
}

fn db_error(path: &Path, e: &rusqlite::Error) -> SessionError {
    SessionError::Db {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn role_from(name: &str) -> Role {
    match name {
        "system" => Role::System,
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        _ => Role::User,
    }
}

/// A session's title: the first line of its first question, trimmed to 60 characters.
pub fn title_of(messages: &[ChatMessage]) -> String {
    const MAX: usize = 60;
    let Some(first) = messages.iter().find(|m| m.role == Role::User) else {
        return String::new();
    };
    let line = first
        .content
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let words: Vec<&str> = line.split_whitespace().collect();
    let line = words.join(" ");
    if line.chars().count() <= MAX {
        return line;
    }
    let mut cut: String = line.chars().take(MAX - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Now, in Unix milliseconds.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests;
