//! The session pane's actions: queries and changes run on blocking threads against the app's
//! own `sessions::Store` (see `tui/sessions` for why), their results folded back in as
//! `TaskEvent`s; opening a session and telling of a removal are core `Op`s.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libre_assistant::core::Op;
use libre_assistant::sessions::{Hit, Store as SessionStore, export};
use libre_assistant::text;
use tokio::sync::mpsc::UnboundedSender;

use super::App;
use super::tasks::TaskEvent;
use crate::tui::layout::Pane;
use crate::tui::sessions::{Field, SessionRow};

/// The most hits a search lists.
const SEARCH_LIMIT: usize = 200;

/// A change to one session, made off the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Give it a new title.
    Rename {
        /// The session.
        id: i64,
        /// Its new title.
        title: String,
    },
    /// Remove it.
    Remove {
        /// The session.
        id: i64,
    },
    /// Write it to a Markdown file.
    Export {
        /// The session.
        id: i64,
    },
}

/// What a change did.
#[derive(Debug, Clone, PartialEq)]
pub enum Changed {
    /// The session has its new title.
    Renamed {
        /// The session.
        id: i64,
    },
    /// The session is gone.
    Removed {
        /// The session.
        id: i64,
    },
    /// The session was written to this file.
    Exported {
        /// The file.
        path: PathBuf,
    },
}

impl App {
    /// Gives the session pane its database, or the one line saying why there is none.
    pub fn set_session_store(&mut self, store: Result<SessionStore, String>) {
        match store {
            Ok(store) => {
                self.sessions = Some(Arc::new(store));
                self.state.sessions.error = None;
            }
            Err(error) => {
                self.sessions = None;
                self.state.sessions.set_error(error);
            }
        }
    }

    /// Asks the database again for what the pane shows (the list, or the search's hits).
    pub(super) fn refresh_sessions(&mut self) {
        let Some(store) = self.sessions.clone() else {
            if self.state.sessions.error.is_none() {
                let error = "the session database is not open".to_string();
                self.state.sessions.set_error(error);
            }
            return;
        };
        self.sessions_asked += 1;
        query(
            store,
            self.state.sessions.query.clone(),
            self.sessions_asked,
            self.tasks.clone(),
        );
    }

    /// A query's result; one older than the last query asked is dropped.
    pub(super) fn sessions_listed(&mut self, generation: u64, result: Result<Vec<Hit>, String>) {
        if generation != self.sessions_asked {
            return;
        }
        match result {
            Ok(hits) => {
                let rows = hits.into_iter().map(SessionRow::from_hit).collect();
                self.state.sessions.set_rows(rows);
            }
            Err(error) => self.state.sessions.set_error(error),
        }
    }

    /// A change ended: said in the status bar; a removal is told to the core.
    pub(super) fn session_changed(&mut self, result: Result<Changed, String>) {
        match result {
            Ok(Changed::Renamed { id }) => self.flash(format!("renamed session {id}"), false),
            Ok(Changed::Removed { id }) => {
                let _ = self.ops.send(Op::SessionRemoved { id });
                self.flash(format!("deleted session {id}"), false);
            }
            Ok(Changed::Exported { path }) => {
                self.flash(format!("exported to {}", crate::tui::tilde(&path)), false);
            }
            Err(error) => self.flash(error, true),
        }
        self.refresh_sessions();
    }

    /// Enter: the core replaces the conversation with the selected session (it refuses while
    /// a turn runs) and the chat shows it when `SessionOpened` comes.
    pub(super) fn open_session(&mut self) {
        if let Some(id) = self.selected_session() {
            let _ = self.ops.send(Op::OpenSession { id });
        }
    }

    /// Esc in the list: clears the search, or without one does what Esc does elsewhere.
    pub(super) fn clear_search(&mut self) {
        if self.state.sessions.query.is_empty() {
            self.stop();
        } else {
            self.state.sessions.query.clear();
            self.refresh_sessions();
        }
    }

    /// `r`: the selected session's title goes into the field, to edit.
    pub(super) fn start_rename(&mut self) {
        if let Some(row) = self.state.sessions.selected_row() {
            self.state.sessions.title = text::one_line(&row.summary.title);
            self.state.sessions.field = Field::Rename;
        }
    }

    /// `d`: asks before deleting the selected session.
    pub(super) fn ask_delete(&mut self) {
        self.state.sessions.confirm_delete = self
            .state
            .sessions
            .selected_row()
            .map(|r| (r.summary.id, r.summary.title.clone()));
    }

    /// `y` to the delete question.
    pub(super) fn delete_session_confirmed(&mut self) {
        if let Some((id, _)) = self.state.sessions.confirm_delete.take() {
            self.change_session(Change::Remove { id });
        }
    }

    /// `e`: the selected session into `<data dir>/exports/session-ID.md`.
    pub(super) fn export_session(&mut self) {
        if let Some(id) = self.selected_session() {
            self.change_session(Change::Export { id });
        }
    }

    /// Enter in the field: the search stays and the keys go back to the list; the title is
    /// saved.
    pub(super) fn field_done(&mut self) {
        let pane = &mut self.state.sessions;
        match pane.field {
            Field::List => {}
            Field::Search => pane.field = Field::List,
            Field::Rename => {
                let title = text::one_line(&pane.title);
                if title.is_empty() {
                    self.flash("the title is empty; type a few words or Esc", true);
                    return;
                }
                pane.field = Field::List;
                pane.title.clear();
                if let Some(id) = self.selected_session() {
                    self.change_session(Change::Rename { id, title });
                }
            }
        }
    }

    /// Esc in the field: the search cleared, or the title left as it was.
    pub(super) fn field_cancel(&mut self) {
        let pane = &mut self.state.sessions;
        match std::mem::replace(&mut pane.field, Field::List) {
            Field::List => {}
            Field::Search => {
                pane.query.clear();
                self.refresh_sessions();
            }
            Field::Rename => pane.title.clear(),
        }
    }

    /// Types `text` into the field that has the keys; a search follows each change.
    pub(super) fn field_type(&mut self, text: &str) {
        let pane = &mut self.state.sessions;
        match pane.field {
            Field::List => {}
            Field::Search => {
                pane.query.push_str(&text::one_line(text));
                self.refresh_sessions();
            }
            Field::Rename => pane.title.push_str(text),
        }
    }

    /// Backspace in the field.
    pub(super) fn field_backspace(&mut self) {
        let pane = &mut self.state.sessions;
        match pane.field {
            Field::List => {}
            Field::Search => {
                if pane.query.pop().is_some() {
                    self.refresh_sessions();
                }
            }
            Field::Rename => {
                pane.title.pop();
            }
        }
    }

    /// Whether typed characters go into the session pane's field.
    pub(super) fn session_field_open(&self) -> bool {
        self.state.focus == Pane::Sessions && self.state.sessions.field != Field::List
    }

    fn selected_session(&self) -> Option<i64> {
        self.state.sessions.selected_row().map(|r| r.summary.id)
    }

    fn change_session(&mut self, change: Change) {
        match self.sessions.clone() {
            Some(store) => apply(store, change, self.tasks.clone()),
            None => self.flash("the session database is not open", true),
        }
    }
}

/// Lists every session (an empty query) or searches, on a blocking thread.
fn query(
    store: Arc<SessionStore>,
    text: String,
    generation: u64,
    events: UnboundedSender<TaskEvent>,
) {
    tokio::task::spawn_blocking(move || {
        let result = if text.trim().is_empty() {
            store.list().map(|list| {
                list.into_iter()
                    .map(|session| Hit {
                        session,
                        snippet: Vec::new(),
                    })
                    .collect()
            })
        } else {
            store.search(&text, SEARCH_LIMIT)
        };
        let result = result.map_err(|e| e.to_string());
        let _ = events.send(TaskEvent::Sessions { generation, result });
    });
}

/// Makes `change` on a blocking thread.
fn apply(store: Arc<SessionStore>, change: Change, events: UnboundedSender<TaskEvent>) {
    tokio::task::spawn_blocking(move || {
        let result = match change {
            Change::Rename { id, title } => store
                .rename(id, &title)
                .map(|()| Changed::Renamed { id })
                .map_err(|e| e.to_string()),
            Change::Remove { id } => store
                .remove(id)
                .map(|()| Changed::Removed { id })
                .map_err(|e| e.to_string()),
            Change::Export { id } => {
                export_markdown(&store, id).map(|path| Changed::Exported { path })
            }
        };
        let _ = events.send(TaskEvent::SessionChanged { result });
    });
}

/// Writes session `id` as Markdown to `<data dir>/exports/session-ID.md`: the directory 0700,
/// the file 0600 (it holds a conversation).
pub fn export_markdown(store: &SessionStore, id: i64) -> Result<PathBuf, String> {
    let session = store.load(id).map_err(|e| e.to_string())?;
    let facts = crate::cli::sessions_cmd::facts(&session.summary);
    let markdown = export::to_markdown(&session, &facts);
    let data = store.path().parent().unwrap_or(Path::new("."));
    let dir = data.join("exports");
    let path = dir.join(format!("session-{id}.md"));
    let failed = |e: std::io::Error| format!("cannot export to {}: {e}", path.display());
    libre_assistant::paths::create_private_dir(&dir).map_err(failed)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(failed)?;
    // An earlier export made by hand may have other permissions: the mode applies on creation.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(failed)?;
    }
    file.write_all(markdown.as_bytes()).map_err(failed)?;
    Ok(path)
}
