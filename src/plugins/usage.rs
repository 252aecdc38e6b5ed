//! Tool-call usage figures per plugin and tool, and each plugin's resource use (the monitor's
//! last sample, its peak memory, the times it was stopped over a limit, anomalies), kept
//! across runs in `<state dir>/usage.json`.
//!
//! Invariants: a call that ran (ok or error) counts in `calls` and adds its latency; a call
//! refused by consent counts only in `denials` and adds no latency. Each tool keeps at most
//! [`MAX_LATENCIES`] latencies, the most recent, so the file stays small however long it is
//! used. The file is written whole, mode 0600, to a temporary file in the same directory
//! renamed over the old one, so a crash never leaves half a file.

use std::collections::{BTreeMap, VecDeque};
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::host::Resources;
use crate::paths::Dirs;
use crate::text::one_line;

/// The file name in the state directory.
pub const USAGE_FILE: &str = "usage.json";

/// How many recent latencies each tool keeps for its percentiles.
pub const MAX_LATENCIES: usize = 500;

/// `<state dir>/usage.json`.
pub fn usage_file(dirs: &Dirs) -> PathBuf {
    dirs.state.join(USAGE_FILE)
}

/// How one tool call ended, for the figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// The tool ran and returned a result.
    Ok,
    /// The tool ran but failed or returned an error result.
    Error,
    /// Consent refused the call; it did not run.
    Denied,
}

/// Figures for one tool or one plugin.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// Calls that ran (ok and error).
    pub calls: u64,
    /// Of those, the ones that failed or returned an error result.
    pub errors: u64,
    /// Calls refused by consent (they did not run).
    pub denials: u64,
    /// Nearest-rank median of the recent latencies of calls that ran, in milliseconds.
    pub p50_ms: Option<u64>,
    /// Nearest-rank 95th percentile of the recent latencies of calls that ran, in milliseconds.
    pub p95_ms: Option<u64>,
    /// When the last call of any kind was made.
    pub last_used: Option<SystemTime>,
}

/// Every plugin's and tool's usage; kept across runs in `usage.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// Plugin id -> tool name -> record.
    plugins: BTreeMap<String, BTreeMap<String, ToolRecord>>,
    /// Plugin id -> resource use.
    resources: BTreeMap<String, PluginResources>,
}

/// How many anomaly flags a plugin keeps, the most recent.
const MAX_FLAGS: usize = 20;

/// One plugin's resource use as kept across runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginResources {
    /// The monitor's last sample (without its histories).
    pub last: Resources,
    /// When it was taken, in milliseconds since the Unix epoch.
    pub sampled_ms: Option<u64>,
    /// The most resident memory ever seen, in bytes.
    pub peak_rss_bytes: u64,
    /// Times the monitor stopped it over a limit.
    pub halts: u64,
    /// Why it was last stopped over a limit.
    pub last_halt: Option<String>,
    /// Anomalies flagged, the most recent last.
    pub flags: Vec<String>,
}

/// One tool's counts as stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct ToolRecord {
    calls: u64,
    errors: u64,
    denials: u64,
    /// The most recent latencies of calls that ran, oldest first, in milliseconds.
    latencies_ms: VecDeque<u64>,
    /// The last call of any kind, in milliseconds since the Unix epoch.
    last_used_ms: Option<u64>,
}

/// Why `usage.json` cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// The file exists but cannot be read.
    #[error("{}: cannot read the tool usage figures: {cause}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error, as text.
        cause: String,
    },
    /// The file is not a usage file.
    #[error(
        "{}: not a tool usage file ({cause}); delete it to start the figures afresh",
        .path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parser's message, on one line.
        cause: String,
    },
    /// The file or its directory cannot be written.
    #[error("{}: cannot write the tool usage figures: {cause}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error, as text.
        cause: String,
    },
}

impl Usage {
    /// Reads the file; a missing file is empty usage. A corrupt file is an error naming the
    /// file and saying to delete it.
    pub fn load(path: &Path) -> Result<Usage, UsageError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Usage::default()),
            Err(e) => {
                return Err(UsageError::Read {
                    path: path.to_owned(),
                    cause: e.to_string(),
                });
            }
        };
        serde_json::from_slice(&bytes).map_err(|e| UsageError::Corrupt {
            path: path.to_owned(),
            cause: one_line(&e.to_string()),
        })
    }

    /// Writes atomically (temporary file in the same directory, then rename), file mode 0600,
    /// creating the parent directory.
    pub fn save(&self, path: &Path) -> Result<(), UsageError> {
        let write_error = |e: &dyn std::fmt::Display| UsageError::Write {
            path: path.to_owned(),
            cause: one_line(&e.to_string()),
        };
        let mut text = serde_json::to_vec(self).map_err(|e| write_error(&e))?;
        text.push(b'\n');
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| write_error(&e))?;
        }
        // The process id and a counter keep two writers (processes or threads) apart.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_extension(format!("json.{}.{n}.tmp", std::process::id()));
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut file| {
                file.write_all(&text)?;
                file.sync_data()
            })
            .and_then(|()| std::fs::rename(&tmp, path));
        written.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            write_error(&e)
        })
    }

    /// Records one call.
    pub fn record(
        &mut self,
        plugin: &str,
        tool: &str,
        kind: CallKind,
        duration: Duration,
        at: SystemTime,
    ) {
        let record = self
            .plugins
            .entry(plugin.to_owned())
            .or_default()
            .entry(tool.to_owned())
            .or_default();
        match kind {
            CallKind::Ok | CallKind::Error => {
                record.calls += 1;
                if kind == CallKind::Error {
                    record.errors += 1;
                }
                record.latencies_ms.push_back(millis(duration));
                while record.latencies_ms.len() > MAX_LATENCIES {
                    record.latencies_ms.pop_front();
                }
            }
            CallKind::Denied => record.denials += 1,
        }
        let at_ms = at
            .duration_since(UNIX_EPOCH)
            .map(millis)
            .unwrap_or_default();
        record.last_used_ms = record.last_used_ms.max(Some(at_ms));
    }

    /// Takes in a sample of `plugin`'s resource use taken at `at`.
    pub fn sampled(&mut self, plugin: &str, sample: &Resources, at: SystemTime) {
        let r = self.resources.entry(plugin.to_owned()).or_default();
        r.last = Resources {
            cpu_history: Vec::new(),
            rss_history: Vec::new(),
            flags: Vec::new(),
            ..sample.clone()
        };
        r.sampled_ms = at.duration_since(UNIX_EPOCH).ok().map(millis);
        r.peak_rss_bytes = r.peak_rss_bytes.max(sample.peak_rss_bytes);
        for flag in &sample.flags {
            if !r.flags.contains(flag) {
                r.flags.push(flag.clone());
            }
        }
        let extra = r.flags.len().saturating_sub(MAX_FLAGS);
        r.flags.drain(..extra);
    }

    /// Records that the monitor stopped `plugin`, and why.
    pub fn halted(&mut self, plugin: &str, reason: &str) {
        let r = self.resources.entry(plugin.to_owned()).or_default();
        r.halts += 1;
        r.last_halt = Some(reason.to_owned());
    }

    /// Every plugin's resource use, sorted by plugin.
    pub fn resources(&self) -> &BTreeMap<String, PluginResources> {
        &self.resources
    }

    /// One tool's figures (all zero/None if never used).
    pub fn tool(&self, plugin: &str, tool: &str) -> Figures {
        self.plugins
            .get(plugin)
            .and_then(|tools| tools.get(tool))
            .map(|r| figures([r]))
            .unwrap_or_default()
    }

    /// One plugin's figures over all its tools (percentiles over all its tools' latencies).
    pub fn plugin(&self, plugin: &str) -> Figures {
        self.plugins
            .get(plugin)
            .map(|tools| figures(tools.values()))
            .unwrap_or_default()
    }

    /// Every (plugin, tool, figures), sorted by plugin then tool.
    pub fn rows(&self) -> Vec<(String, String, Figures)> {
        self.plugins
            .iter()
            .flat_map(|(plugin, tools)| {
                tools
                    .iter()
                    .map(|(tool, r)| (plugin.clone(), tool.clone(), figures([r])))
            })
            .collect()
    }
}

/// The figures of these records taken together.
fn figures<'a>(records: impl IntoIterator<Item = &'a ToolRecord>) -> Figures {
    let mut out = Figures::default();
    let mut latencies = Vec::new();
    let mut last_ms = None;
    for r in records {
        out.calls += r.calls;
        out.errors += r.errors;
        out.denials += r.denials;
        latencies.extend(r.latencies_ms.iter().copied());
        last_ms = last_ms.max(r.last_used_ms);
    }
    latencies.sort_unstable();
    out.p50_ms = percentile(&latencies, 50);
    out.p95_ms = percentile(&latencies, 95);
    out.last_used = last_ms.map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
    out
}

/// The nearest-rank `p`th percentile of `sorted`: the value at rank ceil(p/100 × n), 1-based.
fn percentile(sorted: &[u64], p: usize) -> Option<u64> {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
