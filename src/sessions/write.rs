//! Writing a session: creating it, and bringing its stored messages in line with the
//! transcript in one transaction.

use rusqlite::params;

use super::{SessionError, Store, db_error, title_of};
use crate::engine::{ChatMessage, Role};

/// What a save records about a session besides its messages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Meta {
    /// The model answering in it.
    pub model: String,
    /// Its system prompt.
    pub system: String,
    /// Tokens of its last prompt and answer.
    pub tokens: u32,
}

impl Store {
    /// A new, empty session created at `millis`; returns its id.
    pub fn create(&self, title: &str, meta: &Meta, millis: i64) -> Result<i64, SessionError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO sessions (title, model, system, created, updated, tokens)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            params![title, meta.model, meta.system, millis, meta.tokens],
        )
        .map_err(|e| self.error(e))?;
        Ok(conn.last_insert_rowid())
    }

    /// Makes session `id` hold its first `keep` stored messages, then `new`, then `partial`
    /// (an answer still streaming) if any; all in one transaction, so a crash leaves the
    /// previous save or this one. A session without a title takes one from its first question.
    pub fn sync(
        &self,
        id: i64,
        keep: usize,
        new: &[ChatMessage],
        partial: Option<&str>,
        meta: &Meta,
        millis: i64,
    ) -> Result<(), SessionError> {
        let error = |e: rusqlite::Error| db_error(&self.path, &e);
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(error)?;
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        tx.execute(
            "DELETE FROM messages WHERE session = ?1 AND seq >= ?2",
            params![id, keep],
        )
        .map_err(error)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO messages (session, seq, role, content, partial)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(error)?;
            let partial = partial.map(|text| (Role::Assistant, text, true));
            let rows = new
                .iter()
                .map(|m| (m.role, m.content.as_str(), false))
                .chain(partial);
            for (seq, (role, content, partial)) in (keep..).zip(rows) {
                insert
                    .execute(params![id, seq, role.as_str(), content, partial])
                    .map_err(error)?;
            }
        }
        let title = title_of(new);
        tx.execute(
            "UPDATE sessions SET updated = ?2, model = CASE WHEN ?3 = '' THEN model ELSE ?3 END,
                system = ?4, tokens = ?5, title = CASE WHEN title = '' THEN ?6 ELSE title END
             WHERE id = ?1",
            params![id, millis, meta.model, meta.system, meta.tokens, title],
        )
        .map_err(error)?;
        tx.commit().map_err(error)
    }
}
