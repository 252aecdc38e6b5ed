//! One plugin's child process: its environment, the group kill, and the stderr pipe into
//! tracing (with the last lines kept for the message when it fails).
//!
//! Invariants: the child leads its own process group (`process_group(0)`), so its pid is the
//! group id and one signal reaches everything it started (npx → node). A [`Group`] kills that
//! group when stopped or dropped: SIGTERM, then SIGKILL after [`GRACE`]. Stderr is read
//! continuously with a capped line length and a line rate, so a flood neither blocks the child
//! nor grows memory.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::ChildStderr;

/// Variables every child gets from our environment (when set): what any program needs to run,
/// and nothing secret. Everything else must be named in the manifest's `env`.
pub const BASELINE_ENV: [&str; 5] = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"];

/// How long a group has between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_millis(500);

/// How long a killed group may take to be reaped before `stop` gives up waiting.
const REAP_WAIT: Duration = Duration::from_secs(2);

/// Longest stderr line logged, in bytes; the rest of the line is dropped.
const MAX_LINE: usize = 2048;

/// Most stderr lines logged per second; more are counted and dropped.
const MAX_LINES_PER_SEC: u32 = 200;

/// The child's environment: the baseline and `named`, each only if `lookup` has it.
pub fn environment(
    named: &[String],
    lookup: impl Fn(&str) -> Option<OsString>,
) -> Vec<(String, OsString)> {
    BASELINE_ENV
        .iter()
        .map(|name| (*name).to_owned())
        .chain(named.iter().cloned())
        .filter_map(|name| lookup(&name).map(|value| (name, value)))
        .collect()
}

/// A running child's process group; killed when stopped or dropped.
#[derive(Debug)]
pub struct Group {
    pgid: Option<i32>,
}

impl Group {
    /// The group led by the child with `pid`.
    pub fn new(pid: u32) -> Group {
        Group {
            pgid: i32::try_from(pid).ok().filter(|p| *p > 1),
        }
    }

    /// The group id, for logs and tests.
    pub fn id(&self) -> Option<i32> {
        self.pgid
    }

    /// SIGTERM the group, wait up to [`GRACE`] for it to go, then SIGKILL what is left.
    pub async fn stop(mut self) {
        let Some(pgid) = self.pgid.take() else {
            return;
        };
        signal(pgid, libc::SIGTERM);
        let deadline = Instant::now() + GRACE;
        while alive(pgid) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        signal(pgid, libc::SIGKILL);
        // Dead members linger until reaped (ours by rmcp's transport, the rest by init).
        let deadline = Instant::now() + REAP_WAIT;
        while alive(pgid) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if alive(pgid) {
            tracing::warn!(target: "plugin", pgid, "process group still present after SIGKILL");
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // Dropped without `stop` (a runtime shutting down, a panic): the same two signals,
        // with the grace waited on a thread of its own so that no async worker blocks.
        if let Some(pgid) = self.pgid.take() {
            signal(pgid, libc::SIGTERM);
            let spawned = std::thread::Builder::new()
                .name("plugin-reaper".to_owned())
                .spawn(move || {
                    std::thread::sleep(GRACE);
                    signal(pgid, libc::SIGKILL);
                });
            if spawned.is_err() {
                signal(pgid, libc::SIGKILL);
            }
        }
    }
}

/// Sends `sig` to every process of group `pgid`.
fn signal(pgid: i32, sig: i32) {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; a negative pid
    // addresses the group, and `pgid > 1` keeps it off init and "every process".
    unsafe {
        libc::kill(-pgid, sig);
    }
}

/// Whether any process of group `pgid` is left (zombies included).
pub fn alive(pgid: i32) -> bool {
    // SAFETY: as in `signal`; signal 0 only checks that the group exists.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

/// How many of the last stderr lines a [`Tail`] keeps.
const TAIL_LINES: usize = 8;

/// The last lines a child wrote to stderr, for the message when it fails. Shared between the
/// task that reads stderr and the supervisor, which reads it once the child is gone.
#[derive(Clone, Debug, Default)]
pub struct Tail(std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>);

impl Tail {
    fn push(&self, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        if let Ok(mut lines) = self.0.lock() {
            if lines.len() == TAIL_LINES {
                lines.pop_front();
            }
            lines.push_back(line.to_owned());
        }
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|lines| lines.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Forwards the child's stderr to tracing (target `plugin`), line by line, until it closes,
/// keeping the last lines in `tail`.
pub async fn forward_stderr(plugin: String, stderr: ChildStderr, tail: Tail) {
    let mut reader = BufReader::with_capacity(8192, stderr);
    let mut line: Vec<u8> = Vec::with_capacity(256);
    let mut truncated = false;
    let mut window = Instant::now();
    let mut logged = 0u32;
    let mut dropped = 0u64;
    loop {
        let buf = match reader.fill_buf().await {
            Ok([]) => break,
            Ok(buf) => buf,
            Err(e) => {
                tracing::debug!(target: "plugin", plugin = %plugin, "stderr closed: {e}");
                break;
            }
        };
        let (chunk, end) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        truncated |= chunk.len() > room;
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = end.unwrap_or(buf.len());
        reader.consume(used);
        if end.is_none() {
            continue;
        }
        if window.elapsed() >= Duration::from_secs(1) {
            if dropped > 0 {
                tracing::warn!(target: "plugin", plugin = %plugin, "dropped {dropped} stderr lines (over {MAX_LINES_PER_SEC}/s)");
            }
            window = Instant::now();
            logged = 0;
            dropped = 0;
        }
        tail.push(&String::from_utf8_lossy(&line));
        if logged < MAX_LINES_PER_SEC {
            logged += 1;
            let text = String::from_utf8_lossy(&line);
            let mark = if truncated { " […]" } else { "" };
            tracing::info!(target: "plugin", plugin = %plugin, "{}{mark}", text.trim_end());
        } else {
            dropped += 1;
        }
        line.clear();
        truncated = false;
    }
    if dropped > 0 {
        tracing::warn!(target: "plugin", plugin = %plugin, "dropped {dropped} stderr lines (over {MAX_LINES_PER_SEC}/s)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_is_the_baseline_and_the_named_variables_that_are_set() {
        let ours = |name: &str| match name {
            "PATH" | "HOME" | "API_KEY" | "SECRET" => Some(OsString::from(format!("{name}-v"))),
            _ => None,
        };
        let env = environment(&["API_KEY".to_owned(), "UNSET".to_owned()], ours);
        assert_eq!(
            env,
            vec![
                ("PATH".to_owned(), OsString::from("PATH-v")),
                ("HOME".to_owned(), OsString::from("HOME-v")),
                ("API_KEY".to_owned(), OsString::from("API_KEY-v")),
            ]
        );
    }
}
