//! Work the app runs off its loop (downloads, session queries), and how it reports back: a channel of
//! [`TaskEvent`]s that the loop selects over like terminal and core events.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use libre_assistant::models::{CatalogEntry, FetchOptions, Progress, Store};
use tokio::sync::mpsc::UnboundedSender;

/// A report from background work.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskEvent {
    /// A download moved on.
    DownloadProgress {
        /// What is happening ("downloading", "verifying", …).
        phase: String,
        /// Bytes done in this phase.
        done: u64,
        /// Bytes expected in this phase (0 if unknown).
        total: u64,
        /// Recent speed.
        bytes_per_second: f64,
    },
    /// A download ended.
    DownloadDone {
        /// The model.
        name: String,
        /// `Err` carries the one-line reason.
        result: Result<(), String>,
        /// Load the model once it is here.
        then_load: bool,
    },
    /// The models the configured servers serve, as model-pane rows; problems as lines.
    RemoteModels {
        rows: Vec<crate::tui::models::ModelRow>,
        problems: Vec<String>,
    },
    /// What a session query found: every session, or a search's hits.
    Sessions {
        /// Which query this answers (see `App::refresh_sessions`).
        generation: u64,
        /// The sessions, or why the database could not be read.
        result: Result<Vec<libre_assistant::sessions::Hit>, String>,
    },
    /// A rename, delete or export of a session ended.
    SessionChanged {
        /// What it did, or why it failed (one line).
        result: Result<super::sessions::Changed, String>,
    },
}

/// Asks each configured server for its models on a blocking thread.
pub fn list_remote(
    settings: libre_assistant::config::Settings,
    events: UnboundedSender<TaskEvent>,
) {
    if settings.backends.is_empty() {
        return;
    }
    tokio::task::spawn_blocking(move || {
        let (served, problems) = crate::cli::setup::served_models(&settings);
        let rows = served
            .iter()
            .map(|(backend, host, model)| crate::tui::models::remote_row(backend, host, model))
            .collect();
        let _ = events.send(TaskEvent::RemoteModels { rows, problems });
    });
}

/// Starts downloading `entry` on a blocking thread.
pub fn download(
    store: Store,
    entry: CatalogEntry,
    opts: FetchOptions,
    then_load: bool,
    events: UnboundedSender<TaskEvent>,
) {
    tokio::task::spawn_blocking(move || {
        let progress = ChannelProgress::new(events.clone());
        let result = store
            .pull(&entry, &opts, &progress)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let _ = events.send(TaskEvent::DownloadDone {
            name: entry.name,
            result,
            then_load,
        });
    });
}

/// How often progress is reported, at most.
const TICK: Duration = Duration::from_millis(100);

struct Phase {
    label: String,
    total: u64,
    done: u64,
    started: Instant,
    last_sent: Option<Instant>,
}

/// Turns the model store's progress calls into throttled [`TaskEvent`]s.
struct ChannelProgress {
    events: UnboundedSender<TaskEvent>,
    phase: Mutex<Phase>,
}

impl ChannelProgress {
    fn new(events: UnboundedSender<TaskEvent>) -> Self {
        ChannelProgress {
            events,
            phase: Mutex::new(Phase {
                label: String::new(),
                total: 0,
                done: 0,
                started: Instant::now(),
                last_sent: None,
            }),
        }
    }

    fn send(&self, phase: &mut Phase, force: bool) {
        let now = Instant::now();
        if !force && phase.last_sent.is_some_and(|t| now - t < TICK) {
            return;
        }
        phase.last_sent = Some(now);
        let secs = (now - phase.started).as_secs_f64();
        let _ = self.events.send(TaskEvent::DownloadProgress {
            phase: phase.label.clone(),
            done: phase.done,
            total: phase.total,
            bytes_per_second: if secs > 0.0 {
                phase.done as f64 / secs
            } else {
                0.0
            },
        });
    }
}

impl Progress for ChannelProgress {
    fn begin(&self, label: &str, total: u64) {
        if let Ok(mut p) = self.phase.lock() {
            *p = Phase {
                label: label.to_string(),
                total,
                done: 0,
                started: Instant::now(),
                last_sent: None,
            };
            self.send(&mut p, true);
        }
    }

    fn advance(&self, bytes: u64) {
        if let Ok(mut p) = self.phase.lock() {
            p.done += bytes;
            self.send(&mut p, false);
        }
    }

    fn end(&self) {
        if let Ok(mut p) = self.phase.lock() {
            self.send(&mut p, true);
        }
    }
}
