//! A plugin host for the tests, every plugin sandboxed as the app runs them, and waiting for
//! its events.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use libre_assistant::plugins::Plugin;
use libre_assistant::plugins::host::{self, HostConfig, HostEvent, HostHandle};

/// The longest any single wait for an event may take.
pub const WAIT: Duration = Duration::from_secs(60);

/// The host over `plugins`, sandboxed under this test binary's own directory; `serve`: a
/// chat would answer the servers' requests (sampling, elicitation).
pub fn start(plugins: Vec<Plugin>, max_restarts: u32, serve: bool) -> HostHandle {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    let root = ROOT.get_or_init(|| super::target_dir(env!("CARGO_CRATE_NAME")));
    host::spawn(HostConfig {
        plugins,
        max_restarts,
        sandbox: Some(super::sandbox(root)),
        secrets: None,
        serve_requests: serve,
    })
}

/// Waits for the first event that `want` accepts, failing after [`WAIT`].
pub async fn wait_for(
    host: &mut HostHandle,
    mut want: impl FnMut(&HostEvent) -> bool,
) -> HostEvent {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            let event = host.events.recv().await.expect("the host is running");
            if want(&event) {
                return event;
            }
        }
    })
    .await;
    found.expect("the event came in time")
}
