//! llama.cpp's own programs, built for the tests by `scripts/test-llama`: `llama-server` on a
//! loopback port, and `ggml-rpc-server`.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to load its model and answer `/health`.
const READY: Duration = Duration::from_secs(120);

/// The folder holding the programs: `$LIBRE_ASSISTANT_TEST_LLAMA`, by default
/// `~/.cache/libre-assistant-tests/llama/bin`.
pub fn bin() -> PathBuf {
    let dir = std::env::var_os("LIBRE_ASSISTANT_TEST_LLAMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/libre-assistant-tests/llama/bin")
        });
    assert!(
        dir.join("llama-server").exists() && dir.join("ggml-rpc-server").exists(),
        "no llama-server or ggml-rpc-server in {}; run scripts/test-llama",
        dir.display()
    );
    dir
}

/// A child process killed when dropped.
pub struct Running {
    pub child: Child,
    pub port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `program` from [`bin`] with `args` (and `--port`/`-p` given by the caller), its output
/// dropped, running once `ready` says so for its port.
fn start(program: &str, args: &[String], port: u16, ready: impl Fn(u16) -> bool) -> Running {
    let child = Command::new(bin().join(program))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"));
    let mut running = Running { child, port };
    let started = Instant::now();
    while !ready(port) {
        if let Ok(Some(status)) = running.child.try_wait() {
            panic!("{program} exited before it was ready: {status}");
        }
        assert!(
            started.elapsed() < READY,
            "{program} was not ready within {READY:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    running
}

/// `llama-server` serving `model` as `alias` on a free loopback port, one thread, with its
/// `/metrics`, ready.
pub fn server(model: PathBuf, alias: &str, context: u32) -> Running {
    let port = super::http::free_port();
    let args = [
        "-m",
        &model.display().to_string(),
        "--alias",
        alias,
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "-t",
        "1",
        "--metrics",
        "-c",
        &context.to_string(),
    ]
    .map(str::to_owned);
    start("llama-server", &args, port, |port| {
        ureq::get(&format!("http://127.0.0.1:{port}/health"))
            .call()
            .is_ok()
    })
}

/// `ggml-rpc-server` on a free loopback port, one thread, accepting connections.
pub fn rpc_server() -> Running {
    let port = super::http::free_port();
    let args = ["-H", "127.0.0.1", "-t", "1", "-p", &port.to_string()].map(str::to_owned);
    start("ggml-rpc-server", &args, port, |port| {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
}

/// One of llama-server's `/metrics` figures, e.g. `llamacpp:tokens_predicted_total`.
pub fn metric(port: u16, name: &str) -> Option<f64> {
    let text = ureq::get(&format!("http://127.0.0.1:{port}/metrics"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    text.lines().find_map(|line| {
        line.strip_prefix(name)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}
