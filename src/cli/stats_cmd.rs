//! `plugins stats [--json]`: tool-call figures per plugin and tool, and each plugin's resource
//! use as the monitor last saw it. Reads only `<state dir>/usage.json`, so a broken
//! `plugins.toml` never hides the figures.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libre_assistant::exit::Exit;
use libre_assistant::paths::Dirs;
use libre_assistant::plugins::audit;
use libre_assistant::plugins::usage::{self, Figures, PluginResources, Usage, UsageError};
use serde_json::{Value, json};

use super::failure::Failure;
use super::plugins_cmd::table;

const MB: u64 = 1024 * 1024;

/// Prints the figures as tables, or as one JSON object `{"tools": […], "plugins": […]}`.
pub fn run(dirs: &Dirs, json: bool) -> Result<Exit, Failure> {
    let path = usage::usage_file(dirs);
    let usage = Usage::load(&path).map_err(usage_failure)?;
    let rows = usage.rows();
    let resources = usage.resources();
    if json {
        let tools: Vec<Value> = rows
            .iter()
            .map(|(plugin, tool, f)| {
                json!({
                    "plugin": plugin,
                    "tool": tool,
                    "calls": f.calls,
                    "errors": f.errors,
                    "denials": f.denials,
                    "p50_ms": f.p50_ms,
                    "p95_ms": f.p95_ms,
                    "last_used": f.last_used.map(audit::timestamp),
                })
            })
            .collect();
        let plugins: Vec<Value> = resources
            .iter()
            .map(|(id, r)| resource_json(id, r))
            .collect();
        println!("{}", json!({"tools": tools, "plugins": plugins}));
        return Ok(Exit::Ok);
    }
    if rows.is_empty() && resources.is_empty() {
        println!(
            "no tool calls recorded yet (usage is kept in {})",
            path.display()
        );
        return Ok(Exit::Ok);
    }
    if !rows.is_empty() {
        let cells: Vec<[String; 8]> = rows
            .iter()
            .map(|(plugin, tool, f)| tool_row(plugin, tool, f))
            .collect();
        let header = [
            "PLUGIN", "TOOL", "CALLS", "ERRORS", "DENIED", "P50", "P95", "LAST USE",
        ];
        table(header, &cells);
    }
    if !resources.is_empty() {
        if !rows.is_empty() {
            println!();
        }
        let cells: Vec<[String; 8]> = resources
            .iter()
            .map(|(id, r)| resource_row(id, r))
            .collect();
        let header = [
            "PLUGIN",
            "CPU",
            "CPU TIME",
            "MEMORY",
            "PEAK",
            "PROCS",
            "STOPPED",
            "LAST SEEN",
        ];
        table(header, &cells);
        for (id, r) in resources {
            if let Some(why) = &r.last_halt {
                println!("{id}: last {why}");
            }
            for flag in &r.flags {
                println!("{id}: anomaly: {flag}");
            }
        }
    }
    Ok(Exit::Ok)
}

fn resource_json(id: &str, r: &PluginResources) -> Value {
    json!({
        "plugin": id,
        "cpu_percent": r.last.cpu_percent,
        "cpu_seconds": r.last.cpu_seconds,
        "rss_bytes": r.last.rss_bytes,
        "peak_rss_bytes": r.peak_rss_bytes,
        "open_files": r.last.open_files,
        "processes": r.last.processes,
        "threads": r.last.threads,
        "sampled": r.sampled_ms.map(|ms| audit::timestamp(UNIX_EPOCH + Duration::from_millis(ms))),
        "halts": r.halts,
        "last_halt": r.last_halt,
        "anomalies": r.flags,
    })
}

fn resource_row(id: &str, r: &PluginResources) -> [String; 8] {
    [
        id.to_owned(),
        format!("{:.0}%", r.last.cpu_percent),
        format!("{:.1} s", r.last.cpu_seconds),
        format!("{} MB", r.last.rss_bytes / MB),
        format!("{} MB", r.peak_rss_bytes / MB),
        format!("{}/{}", r.last.processes, r.last.threads),
        r.halts.to_string(),
        r.sampled_ms.map_or_else(
            || "-".to_owned(),
            |ms| utc_time(UNIX_EPOCH + Duration::from_millis(ms)),
        ),
    ]
}

fn tool_row(plugin: &str, tool: &str, f: &Figures) -> [String; 8] {
    [
        plugin.to_owned(),
        tool.to_owned(),
        f.calls.to_string(),
        f.errors.to_string(),
        f.denials.to_string(),
        latency(f.p50_ms),
        latency(f.p95_ms),
        f.last_used.map_or_else(|| "-".to_owned(), utc_time),
    ]
}

/// `12 ms` under a second, `1.2 s` from a second on, `-` for none.
fn latency(ms: Option<u64>) -> String {
    match ms {
        None => "-".to_owned(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) => format!("{:.1} s", ms as f64 / 1000.0),
    }
}

/// `2026-11-23 16:40:12`, in UTC.
fn utc_time(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// An unreadable or damaged usage file is a data error (3), like a damaged audit log.
fn usage_failure(e: UsageError) -> Failure {
    let exit = match &e {
        UsageError::Read { .. } | UsageError::Corrupt { .. } => Exit::Config,
        UsageError::Write { .. } => Exit::Storage,
    };
    Failure::new(exit, e.to_string())
}
