//! The session pane's state: the saved conversations as the last query returned them (the
//! newest first, or the hits of a search, best first), the selection, the search line, a
//! title being edited and a delete waiting for its y/n. `render` draws it and does no I/O.
//!
//! The database is read off the UI loop: the app holds its own `sessions::Store` (a second
//! connection; WAL lets it read while the core writes) and runs every query on
//! `tokio::task::spawn_blocking`, the result coming back as a `TaskEvent` (`app/tasks.rs`).
//! A query of a few hundred sessions is quick, but it was not measured to be always well
//! under a millisecond, and a write by the core holds the database lock, SQLite then waiting
//! (up to its five-second busy timeout): done inline, a rename or a delete during a save
//! would freeze the keyboard. Each query carries a generation; a result older than the last
//! query is dropped, so fast typing never shows a stale list.
//!
//! Invariant: `selected < rows.len()` whenever `rows` is non-empty (0 otherwise).

mod render;

use libre_assistant::sessions::{Hit, Summary};

pub use render::render;

/// One session in the list: its summary, a snippet of the best match when searching, and its
/// last change as local time (worked out when the rows arrive, so drawing reads no clock).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    /// The session as the store lists it (untrusted text: drawn through `text::inert`).
    pub summary: Summary,
    /// Words around the best match, `true` for a matched word; empty outside a search.
    pub snippet: Vec<(String, bool)>,
    /// When it last changed, local time to the minute.
    pub when: String,
}

impl SessionRow {
    /// A row from a search hit (or a listed session, with an empty snippet).
    pub fn from_hit(hit: Hit) -> SessionRow {
        let when = date(hit.session.updated);
        SessionRow {
            summary: hit.session,
            snippet: hit.snippet,
            when,
        }
    }
}

/// What the search line is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Keys go to the list.
    List,
    /// Keys are typed into the search line.
    Search,
    /// Keys are typed into the selected session's new title.
    Rename,
}

/// Everything the session pane shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPane {
    /// The sessions of the last query.
    pub rows: Vec<SessionRow>,
    /// Index of the selected row.
    pub selected: usize,
    /// What was typed in the search line; empty lists every session.
    pub query: String,
    /// Where typed keys go.
    pub field: Field,
    /// The new title being typed (while `field` is `Rename`).
    pub title: String,
    /// The session awaiting a y/n before it is deleted: its id and title.
    pub confirm_delete: Option<(i64, String)>,
    /// The database cannot be used: one line, shown instead of the list.
    pub error: Option<String>,
    /// Whether a query has answered yet (before that the list says it is reading).
    pub loaded: bool,
}

impl Default for SessionPane {
    fn default() -> Self {
        SessionPane::new()
    }
}

impl SessionPane {
    /// An empty pane waiting for its first list.
    pub fn new() -> SessionPane {
        SessionPane {
            rows: Vec::new(),
            selected: 0,
            query: String::new(),
            field: Field::List,
            title: String::new(),
            confirm_delete: None,
            error: None,
            loaded: false,
        }
    }

    /// Moves the selection down one row (stops at the last).
    pub fn select_next(&mut self) {
        self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1));
    }

    /// Moves the selection up one row (stops at the first).
    pub fn select_prev(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    /// The selected row, if there are any rows.
    pub fn selected_row(&self) -> Option<&SessionRow> {
        self.rows.get(self.selected)
    }

    /// Replaces the rows with a query's result, keeping the selection on the same session
    /// when it is still listed, else on the first row.
    pub fn set_rows(&mut self, rows: Vec<SessionRow>) {
        let id = self.selected_row().map(|r| r.summary.id);
        self.rows = rows;
        self.selected = id
            .and_then(|id| self.rows.iter().position(|r| r.summary.id == id))
            .unwrap_or(0);
        self.loaded = true;
        self.error = None;
    }

    /// A query failed: the error shows instead of the list.
    pub fn set_error(&mut self, error: String) {
        self.rows.clear();
        self.selected = 0;
        self.loaded = true;
        self.error = Some(error);
    }
}

/// Local date and time to the minute, as `sessions list` shows it.
pub fn date(millis: i64) -> String {
    crate::cli::sessions_cmd::date(millis)
}

/// "4 msgs · 312 tok": a session's size.
pub fn size(summary: &Summary) -> String {
    let messages = match summary.messages {
        1 => "1 msg".to_string(),
        n => format!("{n} msgs"),
    };
    format!("{messages} · {} tok", summary.tokens)
}

#[cfg(test)]
mod tests;
