//! The journal: the core's side of the session store. Each change to the transcript is saved
//! as one transaction into the conversation's session (see `crate::sessions`), and a streaming
//! answer at most once a second, so a crash or `kill -9` loses at most the last second of it.
//!
//! The journal remembers what it last stored, so a save writes only what changed: the
//! transcript only ever grows or loses messages at its end.

use std::time::{Duration, Instant};

use super::Conversation;
use crate::engine::ChatMessage;
use crate::sessions::{Meta, SessionError, Store, now_millis};

/// A streaming answer is saved at most this often.
pub const STREAM_SAVE_INTERVAL: Duration = Duration::from_secs(1);

/// The conversation could not be saved: one line naming the database and the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}; the conversation goes on unsaved")]
pub struct JournalError {
    error: SessionError,
}

/// Where the core saves the conversation, and how far it has.
#[derive(Debug)]
pub struct Journal {
    store: Store,
    /// The session being written; None until the first save of a new conversation.
    session: Option<i64>,
    /// The messages stored in it, as last saved.
    stored: Vec<ChatMessage>,
    meta: Meta,
    last_save: Option<Instant>,
    reported: Vec<String>,
}

impl Journal {
    /// A journal that starts a new session at the first save.
    pub fn new(store: Store) -> Self {
        Journal {
            store,
            session: None,
            stored: Vec::new(),
            meta: Meta::default(),
            last_save: None,
            reported: Vec::new(),
        }
    }

    /// A journal that goes on writing session `id`, which holds `stored` (as loaded).
    pub fn resuming(store: Store, id: i64, stored: Vec<ChatMessage>) -> Self {
        Journal {
            session: Some(id),
            stored,
            ..Journal::new(store)
        }
    }

    /// The session being written, if one was started.
    pub fn session(&self) -> Option<i64> {
        self.session
    }

    /// The store, for reading other sessions.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The model answering from now on (recorded at the next save).
    pub fn set_model(&mut self, model: String) {
        self.meta.model = model;
    }

    /// Tokens of the last prompt and answer (recorded at the next save).
    pub fn set_tokens(&mut self, tokens: u32) {
        self.meta.tokens = tokens;
    }

    /// Saves now. Returns a failure the user has not been told about yet; an empty
    /// conversation that has no session yet is not written at all.
    pub fn save(
        &mut self,
        conversation: &Conversation,
        partial: Option<&str>,
        now: Instant,
    ) -> Option<JournalError> {
        if self.session.is_none() && conversation.is_empty() && partial.is_none() {
            return None;
        }
        self.last_save = Some(now);
        let error = self.write(conversation, partial).err()?;
        tracing::warn!("{error}");
        // One report per kind of failure: the reason without the path's variable parts.
        let kind = match &error.error {
            SessionError::Db { reason, .. } => reason.clone(),
            other => other.to_string(),
        };
        if self.reported.contains(&kind) {
            return None;
        }
        self.reported.push(kind);
        Some(error)
    }

    /// Saves a streaming answer if the last save is at least `STREAM_SAVE_INTERVAL` old.
    pub fn save_streaming(
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

    /// The next save starts a new session (the conversation was cleared).
    pub fn start_new(&mut self) {
        self.session = None;
        self.stored.clear();
    }

    /// Goes on writing session `id`, which holds `stored`.
    pub fn switch_to(&mut self, id: i64, stored: Vec<ChatMessage>) {
        self.session = Some(id);
        self.stored = stored;
    }

    fn write(
        &mut self,
        conversation: &Conversation,
        partial: Option<&str>,
    ) -> Result<(), JournalError> {
        let now = now_millis();
        self.meta.system = conversation.system_prompt().to_string();
        let id = match self.session {
            Some(id) => id,
            None => {
                let title = crate::sessions::title_of(conversation.messages());
                let id = self.store.create(&title, &self.meta, now)?;
                self.session = Some(id);
                self.stored.clear();
                id
            }
        };
        let messages = conversation.messages();
        let keep = self
            .stored
            .iter()
            .zip(messages)
            .take_while(|(a, b)| a == b)
            .count();
        self.store
            .sync(id, keep, &messages[keep..], partial, &self.meta, now)?;
        self.stored.truncate(keep);
        self.stored.extend_from_slice(&messages[keep..]);
        Ok(())
    }
}

impl From<SessionError> for JournalError {
    fn from(error: SessionError) -> Self {
        JournalError { error }
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
