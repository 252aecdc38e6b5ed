//! What the plugin sandbox and monitor cost. Run on demand:
//!
//!     cargo bench --bench plugins -- [--reps N] [--servers DIR]
//!
//! - start: from `host::spawn` to the plugin's tool list, medians (and the slowest) of `--reps`
//!   starts, with `plugins.sandbox = "off"` and `"required"`, for the built-in time plugin
//!   (this binary), the Python `mcp-server-time` and the Node `server-everything`
//!   (`--servers`: `scripts/test-servers`' directory, by default the tests' one);
//! - idle: CPU of this host process (the monitor's sampling included) and of the four
//!   built-in plugins, over 10 s with nothing to do, in percent of one core.
//!
//! Prints a Markdown table.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "../tests/support/mod.rs"]
mod support;

use libre_assistant::plugins::Plugin;
use libre_assistant::plugins::host::{self, HostConfig, HostEvent, SandboxConfig};
use libre_assistant::plugins::sandbox::Mode;
use support::plugin;

const BIN: &str = env!("CARGO_BIN_EXE_libre-assistant");

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut reps = 10usize;
    let mut servers = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--reps" => {
                reps = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(reps)
                    .max(1)
            }
            "--servers" => servers = args.next().map(PathBuf::from),
            other => {
                eprintln!("plugins bench: unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let bin = servers.map_or_else(support::test_servers, |dir| dir.join("bin"));
    let kinds = [
        (
            "built-in time (Rust)",
            plugin("time", BIN, &["mcp-serve", "time"]),
        ),
        (
            "mcp-server-time (Python)",
            plugin(
                "pytime",
                &bin.join("mcp-server-time").to_string_lossy(),
                &["--local-timezone", "UTC"],
            ),
        ),
        (
            "server-everything (Node)",
            plugin(
                "everything",
                &bin.join("mcp-server-everything").to_string_lossy(),
                &["stdio"],
            ),
        ),
    ];
    println!("| plugin | start, sandbox off | start, sandbox required |");
    println!("|---|---|---|");
    for (name, p) in &kinds {
        let mut cells = Vec::new();
        for mode in [Mode::Off, Mode::Required] {
            let sandbox = sandbox(scratch.path(), mode);
            let mut times: Vec<f64> = (0..reps)
                .map(|_| runtime.block_on(start_once(p.clone(), sandbox.clone())))
                .collect();
            times.sort_by(f64::total_cmp);
            cells.push(format!(
                "{:.0} ms (max {:.0})",
                times[times.len() / 2],
                times[times.len() - 1]
            ));
        }
        println!("| {name} | {} | {} |", cells[0], cells[1]);
    }
    let (host, plugins) = runtime.block_on(idle(scratch.path()));
    println!();
    println!(
        "idle over 10 s with the four built-ins running, sandboxed and monitored: host {host:.2} %, plugins {plugins:.2} % of a core"
    );
}

fn sandbox(root: &Path, mode: Mode) -> SandboxConfig {
    SandboxConfig {
        mode,
        ..support::sandbox(root)
    }
}

/// Milliseconds from spawn to the tool list.
async fn start_once(plugin: Plugin, sandbox: SandboxConfig) -> f64 {
    let t0 = Instant::now();
    let mut host = host::spawn(HostConfig {
        plugins: vec![plugin],
        max_restarts: 0,
        sandbox: Some(sandbox),
        secrets: None,
        serve_requests: false,
    });
    loop {
        match host.events.recv().await {
            Some(HostEvent::Tools { .. }) => break,
            Some(HostEvent::Status {
                status: host::PluginState::Crashed { error, .. },
                ..
            }) => panic!("the plugin failed: {error}"),
            Some(_) => {}
            None => panic!("the host stopped"),
        }
    }
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    host.shutdown().await;
    ms
}

/// CPU of this process and of the plugins' processes over 10 idle seconds, % of a core.
async fn idle(root: &Path) -> (f64, f64) {
    let plugins = ["calc", "files", "password", "time"]
        .map(|name| plugin(name, BIN, &["mcp-serve", name]))
        .to_vec();
    let mut host = host::spawn(HostConfig {
        plugins,
        max_restarts: 0,
        sandbox: Some(sandbox(root, Mode::Required)),
        secrets: None,
        serve_requests: false,
    });
    let mut listed = 0;
    while listed < 4 {
        if let Some(HostEvent::Tools { .. }) = host.events.recv().await {
            listed += 1;
        }
    }
    // Drain the monitor's events as a core would, without waking for anything else.
    let mut events = host.take_events();
    let drain = tokio::spawn(async move { while events.recv().await.is_some() {} });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let me = std::process::id();
    let hz = 100.0;
    let (own0, all0) = ticks(me);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (own1, all1) = ticks(me);
    host.shutdown().await;
    drain.abort();
    let pct = |t: u64| t as f64 / hz / 10.0 * 100.0;
    (pct(own1 - own0), pct((all1 - all0) - (own1 - own0)))
}

/// (this process's CPU ticks, its whole tree's).
fn ticks(pid: u32) -> (u64, u64) {
    let own = |p: u32| {
        std::fs::read_to_string(format!("/proc/{p}/stat"))
            .ok()
            .and_then(|s| libre_assistant::plugins::host::monitor::parse_stat(&s))
            .map_or(0, |(t, _, _)| t)
    };
    let tree: u64 = libre_assistant::plugins::host::monitor::descendants(pid)
        .into_iter()
        .map(own)
        .sum();
    (own(pid), own(pid) + tree)
}
