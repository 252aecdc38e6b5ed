//! The plugin host: starts every enabled plugin as an MCP child process, keeps it running, and
//! routes tool calls to it.
//!
//! Invariants: each plugin has one supervisor task, the only owner of its child process, its
//! process group and its rmcp client; callers hold channels, never the children. [`spawn`]
//! returns at once and the plugins start in parallel. Every call is bounded by its manifest's
//! timeout. [`HostHandle::shutdown`] returns only once every child's process group has been
//! signalled away; dropping the handle (or the runtime) kills the groups too.

mod call;
mod child;
mod client;
pub mod context;
mod launch;
pub mod monitor;
mod requests;
mod rounds;
mod supervisor;
mod tasks;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::Plugin;
use super::secrets::SecretStore;

pub use child::{BASELINE_ENV, GRACE, environment};
pub use launch::{GRANTED_READ_ENV, SandboxConfig};
pub use monitor::Resources;
pub use requests::{Elicit, ElicitAnswer, ElicitationRequest, SamplingAnswer, SamplingRequest};

/// How many events may wait unread before a supervisor waits for the reader.
const EVENT_BUFFER: usize = 256;

/// What the host starts.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// The enabled plugins (from discovery).
    pub plugins: Vec<Plugin>,
    /// How many times a crashed plugin is restarted before it stays crashed.
    pub max_restarts: u32,
    /// How plugins are confined; `None` runs them unconfined.
    pub sandbox: Option<SandboxConfig>,
    /// Where the values of the manifests' `secrets` are; `None`: a plugin naming one does not
    /// start.
    pub secrets: Option<SecretStore>,
    /// Whether the reader of the events answers the servers' requests (sampling): a chat
    /// does; `plugins call` does not, and such requests are rejected at once.
    pub serve_requests: bool,
}

/// Facts about the plugins, in the order they happened per plugin.
#[derive(Clone, Debug, PartialEq)]
pub enum HostEvent {
    /// A plugin's state changed.
    Status {
        /// The plugin's id.
        plugin: String,
        /// Its new state.
        status: PluginState,
    },
    /// A plugin finished its handshake: who its server says it is, and the protocol agreed.
    Connected {
        /// The plugin's id.
        plugin: String,
        /// The server's name and version as it gives them (inert, one line).
        server: String,
        /// The MCP revision in use, such as `2026-07-28`.
        protocol: String,
    },
    /// A plugin's tools, listed after the handshake and again on `tools/list_changed`.
    Tools {
        /// The plugin's id.
        plugin: String,
        /// Every tool it offers (all pages).
        tools: Vec<ToolInfo>,
    },
    /// A call in flight reported progress (`notifications/progress`).
    Progress {
        /// The plugin's id.
        plugin: String,
        /// The tool being called.
        tool: String,
        /// How far it is, in the server's units.
        progress: f64,
        /// Where it ends, if the server knows.
        total: Option<f64>,
        /// What it is doing (inert, one line).
        message: Option<String>,
    },
    /// The plugin logged a message (`notifications/message`); it is in the log file too.
    Log {
        /// The plugin's id.
        plugin: String,
        /// Its level: debug, info, notice, warning, error, critical, alert, emergency.
        level: String,
        /// The message (inert, one line).
        text: String,
    },
    /// A resource we subscribed to changed (`notifications/resources/updated`).
    ResourceUpdated {
        /// The plugin's id.
        plugin: String,
        /// The resource's URI (as the server wrote it).
        uri: String,
    },
    /// A server asks the model to write a message: answer with
    /// [`HostCaller::answer_sampling`] (the server waits until then).
    Sampling(SamplingRequest),
    /// A server asks the user for input: answer with [`HostCaller::answer_elicitation`].
    Elicitation(ElicitationRequest),
    /// What a running plugin consumes, every `monitor::INTERVAL`.
    Resources {
        /// The plugin's id.
        plugin: String,
        /// The latest sample, its history and flagged anomalies.
        resources: Resources,
    },
}

/// Where a plugin is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PluginState {
    /// Its process is starting or in the MCP handshake.
    Starting,
    /// The handshake is done; it takes calls.
    Running,
    /// Its process exited or failed to start. `restarts` counts the restarts made before this
    /// crash; at the host's `max_restarts` it stays crashed.
    Crashed {
        /// Restarts made so far.
        restarts: u32,
        /// What went wrong, one line.
        error: String,
    },
    /// Shut down by the host.
    Stopped,
    /// Stopped by the monitor for passing a limit of its manifest; not restarted.
    Halted {
        /// Which limit, and by how much, one line.
        reason: String,
    },
}

/// One tool a plugin offers.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolInfo {
    /// Its name, as calls must spell it.
    pub name: String,
    /// What it does, from the server (untrusted; made inert by `text::inert`).
    pub description: String,
    /// The JSON Schema of its arguments.
    pub input_schema: Value,
    /// What the server says the tool does to the world (hints, untrusted).
    pub hints: Hints,
}

/// A tool's annotations as the server declared them (`None`: not declared). They are the
/// server's claims: they decide only what a user's rule says to trust them for
/// (`PLUGIN:read-only`), and that a tool declared destructive is never always allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hints {
    /// A human-readable title (inert).
    pub title: Option<String>,
    /// It does not change its environment.
    pub read_only: Option<bool>,
    /// It may destroy or overwrite (meaningless when read-only).
    pub destructive: Option<bool>,
    /// Calling it again with the same arguments changes nothing more.
    pub idempotent: Option<bool>,
    /// It reaches outside the machine.
    pub open_world: Option<bool>,
}

impl Hints {
    /// Declared read-only.
    pub fn read_only(&self) -> bool {
        self.read_only == Some(true)
    }

    /// Declared destructive, and not read-only.
    pub fn destructive(&self) -> bool {
        !self.read_only() && self.destructive == Some(true)
    }

    /// The declared hints as words for the consent dialog and `plugins tools`: `read-only`,
    /// `destructive` or `additive`, `idempotent`, `open world`; empty when none is declared.
    pub fn words(&self) -> Vec<&'static str> {
        let mut words = Vec::new();
        if self.read_only() {
            words.push("read-only");
        } else {
            match self.destructive {
                Some(true) => words.push("destructive"),
                Some(false) => words.push("additive"),
                None => {}
            }
            if self.idempotent == Some(true) {
                words.push("idempotent");
            }
        }
        if self.open_world == Some(true) {
            words.push("open world");
        }
        words
    }
}

/// What a tool call returned.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutcome {
    /// The text content blocks, joined by newlines.
    pub text: String,
    /// Structured content, if the tool gave any.
    pub structured: Option<Value>,
    /// Whether the tool reported an error result (`isError: true`).
    pub is_error: bool,
}

/// Why a tool call did not return a result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No plugin of that id was started.
    #[error("no such plugin is enabled; see `libre-assistant plugins list`")]
    UnknownPlugin,
    /// The plugin is starting, restarting, crashed or stopped.
    #[error("the plugin is not running ({0}); try again once it is running, or see the log")]
    NotRunning(String),
    /// The call went without an answer or progress for the manifest's timeout and was
    /// cancelled.
    #[error("the tool call timed out after {}s without an answer or progress and was cancelled; raise timeout_secs in the plugin's manifest if it needs longer", .after.as_secs())]
    Timeout {
        /// The timeout that ran out.
        after: Duration,
    },
    /// The call kept reporting progress past the manifest's `max_timeout_secs`.
    #[error("the tool call ran past its longest allowed time ({}s) and was cancelled; raise max_timeout_secs in the plugin's manifest if it needs longer", .after.as_secs())]
    TimeoutTotal {
        /// The total that ran out.
        after: Duration,
    },
    /// The plugin's process went away during the call.
    #[error("the plugin crashed during the call ({0}); it is restarted, see the log")]
    Crashed(String),
    /// The server answered with a JSON-RPC error or a malformed response.
    #[error("the plugin refused the call: {0}")]
    Protocol(String),
}

/// What a supervisor is asked to do.
#[derive(Debug)]
enum PluginOp {
    /// Call `tool` with `arguments`; the answer goes to `reply`.
    Call {
        tool: String,
        arguments: Map<String, Value>,
        reply: oneshot::Sender<Result<ToolOutcome, CallError>>,
    },
    /// Tell `reply` the plugin's process group id, if a child is running (for tests and logs).
    ProcessGroup { reply: oneshot::Sender<Option<i32>> },
    /// Ask the server for resources, prompts or completions.
    Ask {
        ask: context::Ask,
        reply: oneshot::Sender<Result<context::Answer, CallError>>,
    },
}

/// The caller's side of the host: events out, calls in.
#[derive(Debug)]
pub struct HostHandle {
    /// Status and tool-list events from every plugin.
    pub events: mpsc::Receiver<HostEvent>,
    caller: HostCaller,
    tasks: Vec<JoinHandle<()>>,
}

/// Makes tool calls; cheap to clone, so a call can run while its owner does other work. Keep
/// one only for the length of a call: a plugin stops when every sender to it is gone.
#[derive(Debug, Clone, Default)]
pub struct HostCaller {
    plugins: std::sync::Arc<BTreeMap<String, mpsc::Sender<PluginOp>>>,
    pending: requests::Pending,
}

/// Starts every plugin of `config` in the background and returns at once.
pub fn spawn(config: HostConfig) -> HostHandle {
    let (events_tx, events) = mpsc::channel(EVENT_BUFFER);
    let mut plugins = BTreeMap::new();
    let mut tasks = Vec::new();
    let pending = requests::Pending::new(config.serve_requests);
    for plugin in config.plugins {
        let (ops_tx, ops_rx) = mpsc::channel(64);
        plugins.insert(plugin.manifest.id.clone(), ops_tx);
        let supervisor = supervisor::Supervisor::new(
            plugin,
            supervisor::Setup {
                sandbox: config.sandbox.clone(),
                secrets: config.secrets.clone(),
                max_restarts: config.max_restarts,
                pending: pending.clone(),
            },
            events_tx.clone(),
            ops_rx,
        );
        tasks.push(tokio::spawn(supervisor.run()));
    }
    HostHandle {
        events,
        caller: HostCaller {
            plugins: std::sync::Arc::new(plugins),
            pending,
        },
        tasks,
    }
}

impl HostCaller {
    /// Calls `tool` of `plugin` with `arguments`, bounded by the manifest's timeout. Dropping
    /// the future cancels the call (the server gets `notifications/cancelled`).
    pub async fn call(
        &self,
        plugin: &str,
        tool: &str,
        arguments: Map<String, Value>,
    ) -> Result<ToolOutcome, CallError> {
        let ops = self.plugins.get(plugin).ok_or(CallError::UnknownPlugin)?;
        let (reply, answer) = oneshot::channel();
        let op = PluginOp::Call {
            tool: tool.to_owned(),
            arguments,
            reply,
        };
        ops.send(op)
            .await
            .map_err(|_| CallError::NotRunning("stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| CallError::NotRunning("stopped".to_owned()))?
    }

    /// Asks `plugin`'s server for its resources, prompts or completions (see
    /// [`context::Ask`]), bounded by the manifest's timeout.
    pub async fn ask(&self, plugin: &str, ask: context::Ask) -> Result<context::Answer, CallError> {
        let ops = self.plugins.get(plugin).ok_or(CallError::UnknownPlugin)?;
        let (reply, answer) = oneshot::channel();
        ops.send(PluginOp::Ask { ask, reply })
            .await
            .map_err(|_| CallError::NotRunning("stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| CallError::NotRunning("stopped".to_owned()))?
    }

    /// Answers the server's elicitation `id`; false when it no longer waits.
    pub fn answer_elicitation(&self, id: u64, answer: ElicitAnswer) -> bool {
        self.pending.answer_elicitation(id, answer)
    }

    /// Answers the server's sampling request `id`; false when it no longer waits.
    pub fn answer_sampling(&self, id: u64, answer: SamplingAnswer) -> bool {
        self.pending.answer(id, answer)
    }

    /// The process group of `plugin`'s running child, if any.
    pub async fn process_group(&self, plugin: &str) -> Option<i32> {
        let (reply, answer) = oneshot::channel();
        let op = PluginOp::ProcessGroup { reply };
        self.plugins.get(plugin)?.send(op).await.ok()?;
        answer.await.ok().flatten()
    }
}

impl HostHandle {
    /// Calls `tool` of `plugin` with `arguments`; see [`HostCaller::call`].
    pub async fn call(
        &self,
        plugin: &str,
        tool: &str,
        arguments: Map<String, Value>,
    ) -> Result<ToolOutcome, CallError> {
        self.caller.call(plugin, tool, arguments).await
    }

    /// A caller that can outlive borrows of the handle.
    pub fn caller(&self) -> HostCaller {
        self.caller.clone()
    }

    /// The process group of `plugin`'s running child, if any.
    pub async fn process_group(&self, plugin: &str) -> Option<i32> {
        self.caller.process_group(plugin).await
    }

    /// The ids of the plugins the host started, sorted.
    pub fn plugin_ids(&self) -> impl Iterator<Item = &str> {
        self.caller.plugins.keys().map(String::as_str)
    }

    /// Takes the event stream, leaving a closed one behind, for an owner that reads events
    /// apart from the handle.
    pub fn take_events(&mut self) -> mpsc::Receiver<HostEvent> {
        std::mem::replace(&mut self.events, mpsc::channel(1).1)
    }

    /// Stops every plugin: each process group gets SIGTERM, then SIGKILL after [`GRACE`].
    /// Returns once all of them are done (so no [`HostCaller`] may be kept meanwhile).
    pub async fn shutdown(mut self) {
        // Closing the op channels is the stop signal; each supervisor kills its group.
        self.caller.plugins = std::sync::Arc::new(BTreeMap::new());
        for task in self.tasks.drain(..) {
            if let Err(e) = task.await {
                tracing::warn!(target: "plugin", "a plugin supervisor failed: {e}");
            }
        }
    }
}
