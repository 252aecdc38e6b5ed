//! What a running plugin consumes, read from `/proc`: CPU time and percent, resident memory,
//! open files, processes and threads of its whole process tree; its manifest's limits; and
//! the anomalies worth flagging (busy with no call running, memory that only grows, repeated
//! timeouts).
//!
//! Invariants: a sample reads only `/proc/PID/{stat,fd,task/*/children}` of the plugin's own
//! processes (cheap: a handful of reads every [`INTERVAL`]); the launcher of a sandboxed
//! plugin is ours and not counted. A [`Watch`] is pure bookkeeping over samples, so limits and
//! flags are unit-tested without processes.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::plugins::manifest::Limits;

/// How often a running plugin is sampled.
pub const INTERVAL: Duration = Duration::from_secs(2);

/// How many samples a [`Watch`] keeps (two minutes).
pub const HISTORY: usize = 60;

/// CPU busy above this, with no call running, for [`BUSY_SAMPLES`] samples in a row, is flagged.
const BUSY_PERCENT: f32 = 50.0;
const BUSY_SAMPLES: usize = 5;
/// Memory that rose at every sample over this many and grew by at least a quarter (and
/// [`GROWTH_MIN_BYTES`]) is flagged.
const GROWTH_SAMPLES: usize = 30;
const GROWTH_MIN_BYTES: u64 = 16 * 1024 * 1024;
/// This many timed-out calls in a row are flagged.
const TIMEOUTS_IN_A_ROW: u32 = 3;

/// One plugin's resource use at one moment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// CPU time used by its live processes, in seconds.
    pub cpu_seconds: f64,
    /// CPU use since the previous sample, in percent of one core.
    pub cpu_percent: f32,
    /// Resident memory of all its processes, in bytes.
    pub rss_bytes: u64,
    /// The highest `rss_bytes` seen in this run.
    pub peak_rss_bytes: u64,
    /// Open file descriptors.
    pub open_files: u32,
    /// Processes.
    pub processes: u32,
    /// Threads.
    pub threads: u32,
    /// CPU percent over the last samples, oldest first (for sparklines).
    pub cpu_history: Vec<f32>,
    /// Resident memory over the last samples, in bytes, oldest first.
    pub rss_history: Vec<u64>,
    /// Anomalies flagged in this run, one line each.
    pub flags: Vec<String>,
}

/// The raw counters of a process tree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// utime + stime of every process, in clock ticks.
    pub cpu_ticks: u64,
    /// Resident pages.
    pub rss_pages: u64,
    /// Open descriptors.
    pub open_files: u32,
    /// Processes.
    pub processes: u32,
    /// Threads.
    pub threads: u32,
}

/// The counters of the processes below `root` (and `root` itself when `include_root`).
pub fn read_tree(root: u32, include_root: bool) -> Counters {
    let mut pids = descendants(root);
    if include_root {
        pids.insert(0, root);
    }
    let mut c = Counters::default();
    for pid in pids {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(fields) = parse_stat(&stat) else {
            continue;
        };
        c.cpu_ticks += fields.0;
        c.threads += fields.1;
        c.rss_pages += fields.2;
        c.processes += 1;
        c.open_files +=
            std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u32);
    }
    c
}

/// (utime + stime, threads, rss pages) from a `/proc/PID/stat` line.
pub fn parse_stat(line: &str) -> Option<(u64, u32, u64)> {
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    let rest = &line[line.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime 15, threads 20, rss 24.
    let at = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some((at(14)? + at(15)?, u32::try_from(at(20)?).ok()?, at(24)?))
}

/// The pids below `root`, parents before children, found through `/proc/PID/task/*/children`.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for child in children(pid) {
            if !found.contains(&child) {
                found.push(child);
                queue.push(child);
            }
        }
    }
    found
}

/// The direct children of `pid`, over all its threads.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Why the monitor stops a plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverLimit(pub String);

/// The bookkeeping of one plugin's run: samples, limits and flags.
#[derive(Debug)]
pub struct Watch {
    limits: Limits,
    tick_hz: f64,
    page_bytes: u64,
    last: Option<(Instant, u64)>,
    resources: Resources,
    rss: VecDeque<u64>,
    cpu: VecDeque<f32>,
    busy_idle: usize,
    timeouts: u32,
}

impl Watch {
    /// A new run under `limits`.
    pub fn new(limits: Limits) -> Watch {
        // SAFETY: sysconf has no preconditions.
        let (hz, page) = unsafe {
            (
                libc::sysconf(libc::_SC_CLK_TCK),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        Watch {
            limits,
            tick_hz: if hz > 0 { hz as f64 } else { 100.0 },
            page_bytes: u64::try_from(page).unwrap_or(4096),
            last: None,
            resources: Resources::default(),
            rss: VecDeque::with_capacity(HISTORY),
            cpu: VecDeque::with_capacity(HISTORY),
            busy_idle: 0,
            timeouts: 0,
        }
    }

    /// Takes in `counters` read at `at`, with `calls` calls running; returns the figures and,
    /// when a limit is passed, why the plugin must stop.
    pub fn sample(
        &mut self,
        counters: Counters,
        at: Instant,
        calls: usize,
    ) -> (&Resources, Option<OverLimit>) {
        let r = &mut self.resources;
        let cpu_percent = match self.last {
            Some((then, ticks)) if at > then => {
                let used = counters.cpu_ticks.saturating_sub(ticks) as f64 / self.tick_hz;
                (100.0 * used / at.duration_since(then).as_secs_f64()) as f32
            }
            _ => 0.0,
        };
        self.last = Some((at, counters.cpu_ticks));
        r.cpu_seconds = counters.cpu_ticks as f64 / self.tick_hz;
        r.cpu_percent = cpu_percent;
        r.rss_bytes = counters.rss_pages * self.page_bytes;
        r.peak_rss_bytes = r.peak_rss_bytes.max(r.rss_bytes);
        r.open_files = counters.open_files;
        r.processes = counters.processes;
        r.threads = counters.threads;
        push(&mut self.cpu, cpu_percent);
        push(&mut self.rss, r.rss_bytes);
        r.cpu_history = self.cpu.iter().copied().collect();
        r.rss_history = self.rss.iter().copied().collect();
        self.busy_idle = if calls == 0 && cpu_percent > BUSY_PERCENT {
            self.busy_idle + 1
        } else {
            0
        };
        if self.busy_idle == BUSY_SAMPLES {
            let flag = format!("busy with no call running ({cpu_percent:.0}% CPU for 10 s)");
            self.flag(flag);
        }
        if let Some(grew) = only_grows(&self.rss) {
            self.flag(grew);
            self.rss.clear();
        }
        let over = self.over_limit();
        (&self.resources, over)
    }

    /// Takes in how a call ended: timed out or not.
    pub fn call_ended(&mut self, timed_out: bool) {
        self.timeouts = if timed_out { self.timeouts + 1 } else { 0 };
        if self.timeouts == TIMEOUTS_IN_A_ROW {
            self.flag(format!("{TIMEOUTS_IN_A_ROW} calls in a row timed out"));
        }
    }

    /// The figures so far.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    fn flag(&mut self, flag: String) {
        if !self.resources.flags.contains(&flag) {
            self.resources.flags.push(flag);
        }
    }

    fn over_limit(&self) -> Option<OverLimit> {
        let r = &self.resources;
        if let Some(mb) = self.limits.memory_mb
            && r.rss_bytes > mb * 1024 * 1024
        {
            return Some(OverLimit(format!(
                "it used {} MB of memory, over its limit of {mb} MB (limits.memory_mb)",
                r.rss_bytes / (1024 * 1024)
            )));
        }
        let limit = self.limits.cpu_percent?;
        let window = (self.limits.cpu_window_secs / INTERVAL.as_secs()).max(1) as usize;
        if self.cpu.len() < window {
            return None;
        }
        let recent = self.cpu.iter().rev().take(window);
        let mean = recent.sum::<f32>() / window as f32;
        (mean > limit as f32).then(|| {
            OverLimit(format!(
                "it used {mean:.0}% CPU over {} s, over its limit of {limit}% (limits.cpu_percent)",
                self.limits.cpu_window_secs
            ))
        })
    }
}

fn push<T>(history: &mut VecDeque<T>, value: T) {
    if history.len() == HISTORY {
        history.pop_front();
    }
    history.push_back(value);
}

/// A flag when the last [`GROWTH_SAMPLES`] resident sizes never fell and grew by a quarter.
fn only_grows(rss: &VecDeque<u64>) -> Option<String> {
    if rss.len() < GROWTH_SAMPLES {
        return None;
    }
    let recent: Vec<u64> = rss
        .iter()
        .rev()
        .take(GROWTH_SAMPLES)
        .rev()
        .copied()
        .collect();
    let (first, last) = (recent[0], recent[GROWTH_SAMPLES - 1]);
    let rising = recent.windows(2).all(|w| w[1] >= w[0]);
    let grew = last.saturating_sub(first);
    (rising && grew >= GROWTH_MIN_BYTES && grew * 4 >= first).then(|| {
        format!(
            "memory only grows ({} → {} MB in a minute)",
            first / (1024 * 1024),
            last / (1024 * 1024)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1024 * 1024;

    fn counters(cpu_ticks: u64, rss_bytes: u64) -> Counters {
        Counters {
            cpu_ticks,
            rss_pages: rss_bytes / 4096,
            open_files: 5,
            processes: 1,
            threads: 2,
        }
    }

    fn watch(limits: Limits) -> Watch {
        let mut w = Watch::new(limits);
        (w.tick_hz, w.page_bytes) = (100.0, 4096);
        w
    }

    #[test]
    fn stat_lines_parse_even_with_spaces_in_the_name() {
        let line = "28839 (my (odd) name) R 1 1 1 0 -1 4194304 99 0 0 0 25 17 0 0 20 0 3 0 310784 3133440 380 18446744073709551615";
        assert_eq!(parse_stat(line), Some((42, 3, 380)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn cpu_percent_comes_from_ticks_over_time() {
        let mut w = watch(Limits::default());
        let t0 = Instant::now();
        w.sample(counters(0, MB), t0, 0);
        let (r, over) = w.sample(counters(100, 2 * MB), t0 + Duration::from_secs(2), 0);
        assert_eq!(r.cpu_percent, 50.0);
        assert_eq!(r.cpu_seconds, 1.0);
        assert_eq!((r.rss_bytes, r.peak_rss_bytes), (2 * MB, 2 * MB));
        assert_eq!(r.cpu_history, [0.0, 50.0]);
        assert_eq!(over, None);
    }

    #[test]
    fn memory_over_its_limit_stops_the_plugin() {
        let mut w = watch(Limits {
            memory_mb: Some(64),
            ..Limits::default()
        });
        let t0 = Instant::now();
        assert_eq!(w.sample(counters(0, 60 * MB), t0, 0).1, None);
        let (_, over) = w.sample(counters(0, 65 * MB), t0 + INTERVAL, 0);
        assert_eq!(
            over,
            Some(OverLimit(
                "it used 65 MB of memory, over its limit of 64 MB (limits.memory_mb)".into()
            ))
        );
    }

    #[test]
    fn cpu_over_its_limit_for_the_window_stops_the_plugin() {
        let mut w = watch(Limits {
            cpu_percent: Some(80),
            cpu_window_secs: 6,
            ..Limits::default()
        });
        let t0 = Instant::now();
        let mut over = None;
        for i in 0..5u64 {
            // A full core from the second sample on.
            let at = t0 + INTERVAL * i as u32;
            over = w.sample(counters(200 * i, MB), at, 1).1;
            if i < 3 {
                assert_eq!(over, None, "sample {i}");
            }
        }
        assert!(over.unwrap().0.contains("over its limit of 80%"));
    }

    #[test]
    fn anomalies_are_flagged_once() {
        let mut w = watch(Limits::default());
        let t0 = Instant::now();
        for i in 0..=GROWTH_SAMPLES as u64 {
            // Busy with no call, and growing 1 MB a sample from 40 MB.
            w.sample(
                counters(200 * i, (40 + i) * MB),
                t0 + INTERVAL * i as u32,
                0,
            );
        }
        let flags = &w.resources().flags;
        assert_eq!(flags.len(), 2, "{flags:?}");
        assert!(flags[0].starts_with("busy with no call running"));
        assert!(
            flags[1].starts_with("memory only grows (40 → 69 MB"),
            "{flags:?}"
        );
        for timed_out in [true, true, false, true, true, true, true] {
            w.call_ended(timed_out);
        }
        assert_eq!(w.resources().flags[2], "3 calls in a row timed out");
        assert_eq!(w.resources().flags.len(), 3);
    }

    #[test]
    fn a_tree_is_read_from_proc() {
        let me = std::process::id();
        let c = read_tree(me, true);
        assert!(c.processes >= 1 && c.threads >= 1 && c.rss_pages > 0 && c.open_files > 0);
    }
}
