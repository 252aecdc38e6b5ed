//! The plugin pane's state: one row per plugin (an MCP server run as a child process) with
//! its status and call counts, and the selection. The plugin host's events fill it; the app
//! precomputes anything time-dependent ("2s ago") so `render` stays a pure function.
//!
//! Invariant: `selected < rows.len()` whenever `rows` is non-empty (0 otherwise).

mod render;

use libre_assistant::core::tools::OfferedTool;
use libre_assistant::plugins::host::{PluginState, Resources};
use libre_assistant::plugins::usage::Figures;

pub use render::render;

/// Where a plugin's process stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginStatus {
    /// Spawned, not yet initialised.
    Starting,
    /// Initialised and serving tools.
    Running,
    /// Exited unexpectedly; `restarts` tries so far.
    Crashed {
        /// How many times it was restarted.
        restarts: u32,
    },
    /// Turned off by the user or the config.
    Disabled,
    /// Stopped by the monitor for passing a limit of its manifest.
    Halted,
}

/// One plugin in the list.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginRow {
    /// The plugin's id (its directory name).
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Where its process stands.
    pub status: PluginStatus,
    /// Tools it offers.
    pub tools: usize,
    /// Tool calls made this session.
    pub calls: u64,
    /// Tool calls that failed.
    pub errors: u64,
    /// Tool calls refused by consent.
    pub denials: u64,
    /// Median latency of recent calls, in milliseconds.
    pub p50_ms: Option<u64>,
    /// The last call, e.g. "fs.read 2s ago" (precomputed by the app).
    pub last_call: Option<String>,
    /// How much of its permissions the kernel enforces, e.g. "fully enforced".
    pub sandbox: String,
    /// Why it last crashed (what its sandbox denied, its stderr tail) or was stopped, made
    /// inert.
    pub error: Option<String>,
    /// What it consumes, from the monitor (none until the first sample).
    pub resources: Option<Resources>,
    /// How long its recent calls took, in milliseconds, oldest first.
    pub latencies: Vec<u64>,
    /// Its last log messages (`level: text`, inert), oldest first.
    pub logs: Vec<String>,
    /// Its server's name, version and protocol, once connected (inert).
    pub server: Option<String>,
}

/// How many recent call latencies a row keeps for its sparkline.
pub const LATENCIES: usize = 30;

/// How many of a plugin's log messages a row keeps for its details.
pub const LOG_LINES: usize = 5;

impl PluginRow {
    /// A plugin as discovery found it: starting if enabled, else disabled; no calls yet;
    /// `sandbox` says how much of its permissions the kernel enforces.
    pub fn discovered(plugin: &libre_assistant::plugins::Plugin, sandbox: &str) -> PluginRow {
        PluginRow {
            id: plugin.manifest.id.clone(),
            name: plugin.manifest.name.clone(),
            status: if plugin.enabled {
                PluginStatus::Starting
            } else {
                PluginStatus::Disabled
            },
            tools: 0,
            calls: 0,
            errors: 0,
            denials: 0,
            p50_ms: None,
            last_call: None,
            sandbox: match plugin.manifest.is_remote() {
                true => libre_assistant::plugins::remote_label(&plugin.manifest.url),
                false => sandbox.to_owned(),
            },
            error: None,
            resources: None,
            latencies: Vec::new(),
            logs: Vec::new(),
            server: None,
        }
    }

    /// Keeps a log message, dropping the oldest past [`LOG_LINES`].
    pub fn logged(&mut self, level: &str, text: &str) {
        if self.logs.len() == LOG_LINES {
            self.logs.remove(0);
        }
        self.logs.push(format!("{level}: {text}"));
    }

    /// Takes in how long a call took.
    pub fn call_took(&mut self, ms: u64) {
        if self.latencies.len() == LATENCIES {
            self.latencies.remove(0);
        }
        self.latencies.push(ms);
    }

    /// Takes the usage figures the core reports (kept across runs).
    pub fn set_figures(&mut self, figures: &Figures) {
        self.calls = figures.calls;
        self.errors = figures.errors;
        self.denials = figures.denials;
        self.p50_ms = figures.p50_ms;
    }

    /// "3 calls · p50 12 ms · 1 error · 2 denied", leaving out what is zero or unknown.
    pub fn usage(&self) -> String {
        let mut parts = vec![plural(self.calls, "call", "calls")];
        if let Some(ms) = self.p50_ms {
            parts.push(format!("p50 {ms} ms"));
        }
        if self.errors > 0 {
            parts.push(plural(self.errors, "error", "errors"));
        }
        if self.denials > 0 {
            parts.push(format!("{} denied", self.denials));
        }
        parts.join(" · ")
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl From<&PluginState> for PluginStatus {
    fn from(state: &PluginState) -> PluginStatus {
        match state {
            PluginState::Starting => PluginStatus::Starting,
            PluginState::Running => PluginStatus::Running,
            PluginState::Crashed { restarts, .. } => PluginStatus::Crashed {
                restarts: *restarts,
            },
            // Only at shutdown; nothing runs it any more.
            PluginState::Stopped => PluginStatus::Disabled,
            PluginState::Halted { .. } => PluginStatus::Halted,
        }
    }
}

/// Everything the plugin pane shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginPane {
    /// The plugins, in the host's order.
    pub rows: Vec<PluginRow>,
    /// Index of the selected row.
    pub selected: usize,
    /// Where plugins are installed, for the hint shown when there are none.
    pub plugin_dir: String,
    /// The loaded model is offered no tools (its template has none; see `TOOLS_OFF`).
    pub tools_off: bool,
    /// Every enabled tool's prompt cost and whether the last answer was offered it; empty
    /// until the first answer with tools.
    pub costs: Vec<OfferedTool>,
    /// The tool budget the last answer's tools were chosen in, in tokens.
    pub budget: u32,
}

impl PluginPane {
    /// A pane listing `rows`, the first selected; `plugin_dir` is named when there are none.
    pub fn new(rows: Vec<PluginRow>, plugin_dir: impl Into<String>) -> PluginPane {
        PluginPane {
            rows,
            selected: 0,
            plugin_dir: plugin_dir.into(),
            tools_off: false,
            costs: Vec::new(),
            budget: 0,
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
    pub fn selected_row(&self) -> Option<&PluginRow> {
        self.rows.get(self.selected)
    }

    /// Replaces the rows, keeping the selection on the same plugin id when it is still listed.
    #[cfg(test)]
    pub fn set_rows(&mut self, rows: Vec<PluginRow>) {
        let id = self.selected_row().map(|r| r.id.clone());
        self.rows = rows;
        let same = id.and_then(|id| self.rows.iter().position(|r| r.id == id));
        self.selected = same
            .unwrap_or(self.selected)
            .min(self.rows.len().saturating_sub(1));
    }
}

#[cfg(test)]
mod tests;
