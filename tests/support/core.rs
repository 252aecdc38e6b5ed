//! A core over real plugins for the tests: the tools config the app would build (sandboxed,
//! audited to `state/audit.jsonl`), and waiting for an event.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use libre_assistant::core::tools::Policy;
use libre_assistant::core::{CoreHandle, Event, ToolsConfig};
use libre_assistant::plugins::Plugin;
use libre_assistant::plugins::host::{self, HostCaller, HostConfig};

/// Tools for a core over `plugin` alone, sandboxed under `state`, with no rule allowing a
/// call; `ask`: a front end answers (the TUI); `allow_sampling` as `--allow-sampling`. The
/// caller is for calling its tools as the model would; drop it before the core shuts down
/// (the host waits for every caller to go).
pub fn tools(
    state: &Path,
    plugin: &Plugin,
    ask: bool,
    allow_sampling: &[&str],
) -> (ToolsConfig, HostCaller) {
    let host = host::spawn(HostConfig {
        plugins: vec![plugin.clone()],
        max_restarts: 0,
        sandbox: Some(super::sandbox(state)),
        secrets: None,
        serve_requests: true,
    });
    let caller = host.caller();
    let config = ToolsConfig {
        host,
        manifests: BTreeMap::from([(plugin.manifest.id.clone(), plugin.manifest.clone())]),
        policy: Policy::default(),
        ask,
        max_rounds: 1,
        grammar: true,
        budget: 0,
        plugin_budget: 0,
        generic_format: false,
        only_relevant: true,
        call_max_tokens: libre_assistant::engine::DEFAULT_CALL_MAX_TOKENS,
        audit: Some(state.join("audit.jsonl")),
        usage: None,
        remembered: None,
        sandbox: Some(super::sandbox(state).enforcement()),
        allow_sampling: allow_sampling.iter().map(|p| (*p).to_owned()).collect(),
    };
    (config, caller)
}

/// The next event `want` accepts, failing after `patience`.
pub async fn next(
    core: &mut CoreHandle,
    patience: Duration,
    mut want: impl FnMut(&Event) -> bool,
) -> Event {
    tokio::time::timeout(patience, async {
        loop {
            let event = core.events.recv().await.expect("the core runs");
            if want(&event) {
                return event;
            }
        }
    })
    .await
    .expect("the event came in time")
}

/// The built-in time plugin, run by this build's binary (`mcp-serve time`).
pub fn time_plugin() -> Plugin {
    Plugin {
        manifest: libre_assistant::plugins::Manifest {
            id: "time".into(),
            name: "Time".into(),
            command: env!("CARGO_BIN_EXE_libre-assistant").into(),
            args: vec!["mcp-serve".into(), "time".into()],
            timeout_secs: 10,
            ..libre_assistant::plugins::Manifest::default()
        },
        dir: std::path::PathBuf::from("/nonexistent-plugin-dir"),
        source: libre_assistant::plugins::Source::Shipped,
        enabled: true,
    }
}

/// The notices among `events`, in order.
pub fn notices(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Notice { message } => Some(message.as_str()),
            _ => None,
        })
        .collect()
}
