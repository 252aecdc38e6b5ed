//! One plugin's supervisor: the task that owns its child process and rmcp client, answers its
//! calls, and restarts it with backoff when it crashes.
//!
//! Invariants: at most one child per plugin at a time, and the old one's process group is gone
//! before a new one starts. Calls run on tasks of their own (a slow tool never blocks the
//! supervisor) with the manifest's timeout; dropping a timed-out call makes rmcp send
//! `notifications/cancelled`. When the op channel closes, the child is stopped and the task
//! ends with a `Stopped` event.

use std::collections::HashMap;
use std::ffi::OsString;
use std::process::Stdio;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use rmcp::model::{CallToolRequestParams, ProtocolVersion, SubscriptionFilter, Tool};
use rmcp::service::{Peer, RunningServiceCancellationToken};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientLifecycleMode, ClientServiceExt, RoleClient, ServiceError};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::call::{self, Limits};
use super::child::{self, Group, Tail};
use super::client::{self, Client, Inputs, Progress};
use super::context;
use super::launch::{self, SandboxConfig};
use super::monitor::{self, OverLimit, Watch};
use super::requests::Pending;
use super::tasks::{TaskTools, Watched};
use super::{CallError, Hints, HostEvent, PluginOp, PluginState, ToolInfo};
use crate::plugins::oauth::{self, SecretCredentials};
use crate::plugins::sandbox::Mode;
use crate::plugins::secrets::{SecretError, SecretStore};
use crate::plugins::{Plugin, sandbox};
use crate::text;

/// How long a child may take to start and answer `initialize` (npx may fetch first).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

/// The first restart's delay; it doubles per restart up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// The longest delay between restarts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How long a failed child's stderr may take to close before its message is composed.
const STDERR_WAIT: Duration = Duration::from_secs(1);

/// How many stderr lines a failure message quotes, and how long each may be.
const QUOTED_LINES: usize = 3;
const QUOTED_LINE_CHARS: usize = 200;

/// The delay before restart number `restart` (1-based): 0.5 s, 1 s, 2 s, … capped at 30 s.
pub fn backoff(restart: u32) -> Duration {
    let doublings = restart.saturating_sub(1).min(16);
    FIRST_BACKOFF
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
}

/// A child past its handshake.
struct Running {
    peer: Peer<RoleClient>,
    cancel: RunningServiceCancellationToken,
    /// Ends when the connection closes (the child exited or its stdout closed).
    closed: JoinHandle<()>,
    changed: mpsc::Receiver<()>,
    /// The calls in flight that may hear progress.
    progress: Progress,
    /// Who answers the server's input-required rounds.
    inputs: Inputs,
    /// The child (none for a remote server); killed when dropped, after the group is.
    process: Option<tokio::process::Child>,
    /// Its tools that need tasks, which are not offered.
    tasks: TaskTools,
    /// On 2026-07-28, the `subscriptions/listen` stream that tells of tool list changes.
    listen: Option<JoinHandle<()>>,
    group: Group,
    /// The last lines of its stderr, and the task reading it.
    tail: Tail,
    stderr: Option<JoinHandle<()>>,
}

/// Why the running loop ended.
enum Exit {
    /// The monitor stopped it for passing a limit; it is not restarted.
    Halted(String),
    /// The op channel closed: shut down.
    Shutdown,
    /// The child went away.
    Crashed(String),
}

/// How every supervisor of a host runs its plugin.
pub struct Setup {
    /// The sandbox; `None` runs the plugin unconfined.
    pub sandbox: Option<SandboxConfig>,
    /// Where its secrets' values are.
    pub secrets: Option<SecretStore>,
    /// Restarts after a crash before it stays crashed.
    pub max_restarts: u32,
    /// The servers' requests waiting for an answer.
    pub pending: Pending,
}

/// The task owning one plugin.
pub struct Supervisor {
    plugin: Plugin,
    id: String,
    sandbox: Option<SandboxConfig>,
    secrets: Option<SecretStore>,
    max_restarts: u32,
    pending: Pending,
    events: mpsc::Sender<HostEvent>,
    ops: mpsc::Receiver<PluginOp>,
}

impl Supervisor {
    /// A supervisor for `plugin`, set up by `setup`, taking ops from `ops` and telling
    /// `events`.
    pub fn new(
        plugin: Plugin,
        setup: Setup,
        events: mpsc::Sender<HostEvent>,
        ops: mpsc::Receiver<PluginOp>,
    ) -> Supervisor {
        Supervisor {
            id: plugin.manifest.id.clone(),
            plugin,
            sandbox: setup.sandbox,
            secrets: setup.secrets,
            max_restarts: setup.max_restarts,
            pending: setup.pending,
            events,
            ops,
        }
    }

    /// Starts the plugin and keeps it going until the op channel closes.
    pub async fn run(mut self) {
        let mut restarts = 0u32;
        loop {
            self.status(PluginState::Starting).await;
            let error = match self.start().await {
                Ok(Some(running)) => match self.serve(running).await {
                    Exit::Shutdown => break,
                    Exit::Crashed(error) => error,
                    Exit::Halted(reason) => {
                        tracing::warn!(target: "plugin", plugin = %self.id, "{reason}");
                        self.idle("stopped over a limit").await;
                        break;
                    }
                },
                Ok(None) => break,
                Err(error) => error,
            };
            tracing::warn!(target: "plugin", plugin = %self.id, restarts, "crashed: {error}");
            self.status(PluginState::Crashed { restarts, error }).await;
            if restarts >= self.max_restarts {
                self.idle("crashed").await;
                break;
            }
            restarts += 1;
            if !self.wait(backoff(restarts), "restarting").await {
                break;
            }
        }
        // try_send: nobody may be reading events any more, and shutdown must not wait on them.
        let _ = self.events.try_send(HostEvent::Status {
            plugin: self.id.clone(),
            status: PluginState::Stopped,
        });
    }

    /// Connects: spawns the child (or reaches the remote server) and does the handshake,
    /// answering ops meanwhile. `Ok(None)`: shut down while starting.
    async fn start(&mut self) -> Result<Option<Running>, String> {
        if self.plugin.manifest.is_remote() {
            return self.start_remote().await;
        }
        let secrets = self.secret_env().await?;
        let mut cmd = launch::command(&self.plugin, self.sandbox.as_ref(), secrets)?;
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut process = cmd
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", self.plugin.manifest.command))?;
        let group = Group::new(process.id().unwrap_or(0));
        let (Some(stdout), Some(stdin)) = (process.stdout.take(), process.stdin.take()) else {
            group.stop().await;
            return Err("the plugin's stdin and stdout could not be piped".into());
        };
        let stderr = process.stderr.take();
        // Its stdout as rmcp reads it, watched for what rmcp drops (tools that need tasks).
        let tasks = TaskTools::default();
        let transport = (Watched::new(stdout, tasks.clone()), stdin);
        if let Some(sandbox) = &self.sandbox {
            tracing::info!(target: "plugin", plugin = %self.id, "sandbox {}", sandbox.enforcement().describe());
        }
        let tail = Tail::default();
        let stderr = stderr.map(|stderr| {
            tokio::spawn(child::forward_stderr(self.id.clone(), stderr, tail.clone()))
        });
        let (client, changed) = self.client();
        let service = match self.handshake(client, transport).await {
            Ok(Some(service)) => service,
            Ok(None) => {
                group.stop().await;
                return Ok(None);
            }
            Err(error) => {
                group.stop().await;
                return Err(self.explain(error, &tail, stderr).await);
            }
        };
        let mut running = running(service, changed, group, tail, stderr);
        running.process = Some(process);
        running.tasks = tasks;
        Ok(Some(running))
    }

    /// Connects to a remote server over Streamable HTTP, with its token if it names one.
    async fn start_remote(&mut self) -> Result<Option<Running>, String> {
        let url = self.plugin.manifest.url.clone();
        let mut config = StreamableHttpClientTransportConfig::with_uri(url.clone())
            .custom_headers(self.headers().await?);
        let signed_in = match (self.plugin.manifest.token_secret.clone(), &self.secrets) {
            (Some(name), _) => {
                config = config.auth_header(self.secret(name).await?);
                None
            }
            (None, Some(store)) => {
                let credentials = SecretCredentials {
                    store: store.clone(),
                    plugin: self.id.clone(),
                };
                oauth::client(&url, credentials).await?
            }
            (None, None) => None,
        };
        tracing::info!(target: "plugin", plugin = %self.id, url = %url, oauth = signed_in.is_some(), "connecting to a remote server");
        let (client, changed) = self.client();
        let handshake = match signed_in {
            Some(http) => {
                let transport = StreamableHttpClientTransport::with_client(http, config);
                self.handshake(client, transport).await
            }
            None => {
                let transport = StreamableHttpClientTransport::from_config(config);
                self.handshake(client, transport).await
            }
        };
        let service = match handshake {
            Ok(Some(service)) => service,
            Ok(None) => return Ok(None),
            Err(error) => return Err(self.remote_error(&error, &url)),
        };
        let (group, tail) = (Group::new(0), Tail::default());
        Ok(Some(running(service, changed, group, tail, None)))
    }

    /// The manifest's headers, each with its secret's value.
    async fn headers(&self) -> Result<HashMap<HeaderName, HeaderValue>, String> {
        let mut headers = HashMap::new();
        for (header, secret) in self.plugin.manifest.headers.clone() {
            let value = self.secret(secret).await?;
            let name = HeaderName::from_bytes(header.as_bytes())
                .map_err(|_| format!("{header:?} is not an HTTP header name"))?;
            let value = HeaderValue::from_str(&value).map_err(|_| {
                format!("the value of header {header} has a character HTTP does not allow in one")
            })?;
            headers.insert(name, value);
        }
        Ok(headers)
    }

    /// A remote handshake's failure in one line, with what to do when the server wants a
    /// sign-in.
    fn remote_error(&self, error: &str, url: &str) -> String {
        let url = text::inert(url);
        let lower = error.to_lowercase();
        if lower.contains("auth required")
            || lower.contains("401")
            || lower.contains("unauthorized")
        {
            return format!(
                "{url} asks for a sign-in: run `libre-assistant plugins login {}` ({error})",
                self.id
            );
        }
        format!("{error} (at {url})")
    }

    /// Our client for this plugin, with the channel it reports `tools/list_changed` on and
    /// its calls' progress.
    fn client(&self) -> (Client, mpsc::Receiver<()>) {
        let (changed_tx, changed) = mpsc::channel(1);
        let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        let granted = self
            .plugin
            .manifest
            .expanded(&self.plugin.dir, home.as_deref());
        let inputs = Inputs {
            plugin: self.id.clone(),
            events: self.events.clone(),
            pending: self.pending.clone(),
            roots: client::roots(&granted.permissions.read, &granted.permissions.write),
        };
        let client = Client {
            inputs,
            changed: changed_tx,
            progress: Progress::default(),
        };
        (client, changed)
    }

    /// The MCP handshake over `transport`, answering ops with "starting" meanwhile. `Ok(None)`:
    /// shut down while starting; an error is one line.
    async fn handshake<T, E, A>(
        &mut self,
        client: Client,
        transport: T,
    ) -> Result<Option<Service>, String>
    where
        T: rmcp::transport::IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        // 2026-07-28 (`server/discover`) where the server knows it; a server that answers the
        // probe with an error gets `initialize` at 2025-11-25 at once.
        let lifecycle = ClientLifecycleMode::Auto {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            legacy_version: Some(ProtocolVersion::V_2025_11_25),
        };
        let started = client.serve_with_lifecycle(transport, lifecycle);
        let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, started);
        tokio::pin!(handshake);
        let service = loop {
            tokio::select! {
                result = &mut handshake => break result,
                op = self.ops.recv() => match op {
                    Some(op) => refuse(op, "starting"),
                    None => return Ok(None),
                },
            }
        };
        let service = match service {
            Ok(Ok(service)) => service,
            Ok(Err(e)) => return Err(format!("MCP handshake failed: {e}")),
            Err(_) => {
                let secs = HANDSHAKE_TIMEOUT.as_secs();
                return Err(format!("no MCP handshake within {secs}s"));
            }
        };
        if let Some(info) = service.peer_info() {
            let server = info
                .server_info
                .as_ref()
                .map(|s| text::inert(&format!("{} {}", s.name, s.version)).into_owned())
                .unwrap_or_default();
            let protocol = info.protocol_version.to_string();
            tracing::info!(target: "plugin", plugin = %self.id, protocol = %protocol, server = %server, "handshake done");
            let _ = self.events.try_send(HostEvent::Connected {
                plugin: self.id.clone(),
                server,
                protocol,
            });
        }
        Ok(Some(service))
    }

    /// The value of the secret `name`, read off the async threads.
    async fn secret(&self, name: String) -> Result<String, String> {
        let id = self.id.clone();
        let store = self
            .secrets
            .clone()
            .ok_or_else(|| format!("{id} needs the secret {name} but no secret store is open"))?;
        let looked_up = tokio::task::spawn_blocking(move || match store.get(&id, &name) {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(SecretError::Missing { plugin: id, name }.to_string()),
            Err(e) => Err(e.to_string()),
        });
        looked_up
            .await
            .map_err(|e| format!("reading its secrets failed: {e}"))?
    }

    /// The manifest's secrets as variables, read from the store off the async threads (a
    /// keyring may block); one that is not set fails the start with how to set it.
    async fn secret_env(&self) -> Result<Vec<(String, OsString)>, String> {
        let names = self.plugin.manifest.secrets.clone();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let id = self.id.clone();
        let store = self.secrets.clone().ok_or_else(|| {
            format!(
                "{id} needs secrets ({}) but no secret store is open",
                names.join(", ")
            )
        })?;
        let looked_up = tokio::task::spawn_blocking(move || {
            names
                .into_iter()
                .map(|name| match store.get(&id, &name) {
                    Ok(Some(value)) => Ok((name, OsString::from(value))),
                    Ok(None) => Err(SecretError::Missing {
                        plugin: id.clone(),
                        name,
                    }
                    .to_string()),
                    Err(e) => Err(e.to_string()),
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .await;
        looked_up.map_err(|e| format!("reading its secrets failed: {e}"))?
    }

    /// `error` with what the sandbox denied, as the child's last stderr lines show it, and
    /// those lines; one line in all.
    async fn explain(&self, error: String, tail: &Tail, stderr: Option<JoinHandle<()>>) -> String {
        if let Some(task) = stderr {
            let _ = tokio::time::timeout(STDERR_WAIT, task).await;
        }
        let lines = tail.lines();
        let mut message = error;
        if self.sandbox.as_ref().is_some_and(|s| s.mode != Mode::Off)
            && let Some(denial) = sandbox::explain(&lines)
        {
            message.push_str(&format!(" ({})", denial.advice(&self.id)));
        }
        if !lines.is_empty() {
            let quoted: Vec<String> = lines[lines.len().saturating_sub(QUOTED_LINES)..]
                .iter()
                .map(|l| {
                    text::inert(&l.chars().take(QUOTED_LINE_CHARS).collect::<String>()).into_owned()
                })
                .collect();
            message.push_str(&format!("; stderr: {}", quoted.join(" | ")));
        }
        message
    }

    /// Lists the tools, then takes ops until shutdown or a crash; the child is stopped either way.
    async fn serve(&mut self, mut running: Running) -> Exit {
        let exit = match list_tools(&running.peer).await {
            Ok(tools) => {
                self.status(PluginState::Running).await;
                self.tools(tools, &running.tasks).await;
                self.take_ops(&mut running).await
            }
            Err(e) => Exit::Crashed(format!("cannot list tools: {e}")),
        };
        if let Exit::Halted(reason) = &exit {
            // Told before the process goes, so whoever waits on a call sees why first.
            let reason = reason.clone();
            self.status(PluginState::Halted { reason }).await;
        }
        running.cancel.cancel();
        if let Some(listen) = running.listen.take() {
            listen.abort();
        }
        running.group.stop().await;
        // The connection ends once the child's pipes close; bounded in case they linger.
        if !running.closed.is_finished() {
            let _ = tokio::time::timeout(child::GRACE, running.closed).await;
        }
        match exit {
            Exit::Crashed(error) => {
                Exit::Crashed(self.explain(error, &running.tail, running.stderr).await)
            }
            Exit::Shutdown => Exit::Shutdown,
            Exit::Halted(reason) => Exit::Halted(reason),
        }
    }

    /// The running loop: calls, refreshes on `tools/list_changed`, and the child's end.
    async fn take_ops(&mut self, running: &mut Running) -> Exit {
        let manifest = &self.plugin.manifest;
        let limits = Limits {
            idle: Duration::from_secs(manifest.timeout_secs),
            total: Duration::from_secs(manifest.max_timeout_secs.max(manifest.timeout_secs)),
        };
        let mut watch = Watch::new(self.plugin.manifest.limits.clone());
        let mut tick = tokio::time::interval(monitor::INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Each call's task says when it ends and whether it timed out.
        let (ended_tx, mut ended) = mpsc::unbounded_channel::<bool>();
        let mut in_flight = 0usize;
        // How many of this run's anomaly flags are logged already.
        let mut flagged = 0usize;
        // The launcher of a sandboxed plugin is ours: only what runs below it counts.
        let include_root = self.sandbox.as_ref().is_none_or(|s| s.mode == Mode::Off);
        loop {
            tokio::select! {
                op = self.ops.recv() => match op {
                    None => return Exit::Shutdown,
                    Some(PluginOp::Call { tool, arguments, mut reply }) => {
                        let peer = running.peer.clone();
                        let progress = running.progress.clone();
                        let inputs = running.inputs.clone();
                        let params = CallToolRequestParams::new(tool).with_arguments(arguments);
                        let ended_tx = ended_tx.clone();
                        in_flight += 1;
                        tokio::spawn(async move {
                            // A caller that goes away drops the call, which cancels it.
                            let result = tokio::select! {
                                result = call::call(&peer, &inputs, params, limits, &progress) => result,
                                () = reply.closed() => {
                                    let _ = ended_tx.send(false);
                                    return;
                                }
                            };
                            let timed_out = matches!(
                                result,
                                Err(CallError::Timeout { .. } | CallError::TimeoutTotal { .. })
                            );
                            let _ = ended_tx.send(timed_out);
                            let _ = reply.send(result);
                        });
                    }
                    Some(PluginOp::ProcessGroup { reply }) => {
                        let _ = reply.send(running.group.id());
                    }
                    Some(PluginOp::Ask { ask, reply }) => {
                        let peer = running.peer.clone();
                        let inputs = running.inputs.clone();
                        tokio::spawn(async move {
                            let asked = context::ask(&peer, &inputs, ask);
                            let asked = tokio::time::timeout(limits.idle, asked);
                            let answer = match asked.await {
                                Ok(answer) => answer.map_err(CallError::Protocol),
                                Err(_) => Err(CallError::Timeout { after: limits.idle }),
                            };
                            let _ = reply.send(answer);
                        });
                    }
                },
                Some(()) = running.changed.recv() => match list_tools(&running.peer).await {
                    Ok(tools) => self.tools(tools, &running.tasks).await,
                    Err(e) => tracing::warn!(target: "plugin", plugin = %self.id, "cannot list tools again: {e}"),
                },
                _ = &mut running.closed => {
                    return Exit::Crashed("the process exited or closed its output".to_owned());
                }
                Some(timed_out) = ended.recv() => {
                    in_flight = in_flight.saturating_sub(1);
                    watch.call_ended(timed_out);
                }
                _ = tick.tick() => {
                    let Some(root) = running.group.id().and_then(|p| u32::try_from(p).ok()) else {
                        continue;
                    };
                    let counters = monitor::read_tree(root, include_root);
                    let (resources, over) = watch.sample(counters, std::time::Instant::now(), in_flight);
                    let resources = resources.clone();
                    for flag in resources.flags.iter().skip(flagged) {
                        tracing::warn!(target: "plugin", plugin = %self.id, "anomaly: {flag}");
                    }
                    flagged = resources.flags.len();
                    let _ = self.events.try_send(HostEvent::Resources { plugin: self.id.clone(), resources });
                    if let Some(OverLimit(reason)) = over {
                        return Exit::Halted(format!("stopped: {reason}"));
                    }
                }
            }
        }
    }

    /// Answers ops with "not running" until the channel closes.
    async fn idle(&mut self, why: &str) {
        while let Some(op) = self.ops.recv().await {
            refuse(op, why);
        }
    }

    /// Answers ops with "not running" for `delay`; false if the channel closed meanwhile.
    async fn wait(&mut self, delay: Duration, why: &str) -> bool {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return true,
                op = self.ops.recv() => match op {
                    Some(op) => refuse(op, why),
                    None => return false,
                },
            }
        }
    }

    async fn status(&self, status: PluginState) {
        let _ = self
            .events
            .send(HostEvent::Status {
                plugin: self.id.clone(),
                status,
            })
            .await;
    }

    /// Says which tools the plugin offers: all but those that need tasks, which are named in
    /// its log (the pane shows it).
    async fn tools(&self, tools: Vec<ToolInfo>, tasks: &TaskTools) {
        let (hidden, tools): (Vec<ToolInfo>, Vec<ToolInfo>) =
            tools.into_iter().partition(|t| tasks.contains(&t.name));
        for tool in hidden {
            let text = format!(
                "{} is not offered: it needs MCP tasks, which this version does not run",
                text::inert(&tool.name)
            );
            tracing::warn!(target: "plugin", plugin = %self.id, "{text}");
            let _ = self.events.try_send(HostEvent::Log {
                plugin: self.id.clone(),
                level: "warning".to_owned(),
                text,
            });
        }
        let _ = self
            .events
            .send(HostEvent::Tools {
                plugin: self.id.clone(),
                tools,
            })
            .await;
    }
}

/// A connected client.
type Service = rmcp::service::RunningService<RoleClient, Client>;

/// On 2026-07-28, where servers send `tools/list_changed` only on a `subscriptions/listen`
/// stream: opens one, and has each change list the tools again. Older servers send it
/// unasked (the client hears it).
fn listen(service: &Service) -> Option<JoinHandle<()>> {
    let modern = service
        .peer_info()
        .is_some_and(|info| info.protocol_version >= ProtocolVersion::V_2026_07_28);
    if !modern {
        return None;
    }
    let peer = service.peer().clone();
    let changed = service.service().changed.clone();
    Some(tokio::spawn(async move {
        let filter = SubscriptionFilter::builder().tools_list_changed().build();
        let mut stream = match peer.listen(filter).await {
            Ok(stream) => stream,
            Err(e) => {
                tracing::debug!(target: "plugin", "no subscriptions/listen: {e}");
                return;
            }
        };
        while let Ok(Some(_)) = stream.next().await {
            // One pending refresh is enough, as for the notification itself.
            let _ = changed.try_send(());
        }
    }))
}

/// A child (or remote connection) past its handshake.
fn running(
    service: Service,
    changed: mpsc::Receiver<()>,
    group: Group,
    tail: Tail,
    stderr: Option<JoinHandle<()>>,
) -> Running {
    let peer = service.peer().clone();
    let progress = service.service().progress.clone();
    let inputs = service.service().inputs.clone();
    let listen = listen(&service);
    let cancel = service.cancellation_token();
    let closed = tokio::spawn(async move {
        let _ = service.waiting().await;
    });
    Running {
        peer,
        cancel,
        closed,
        changed,
        progress,
        inputs,
        process: None,
        tasks: TaskTools::default(),
        listen,
        group,
        tail,
        stderr,
    }
}

/// Answers `op` for a plugin that is not running.
fn refuse(op: PluginOp, why: &str) {
    match op {
        PluginOp::Call { reply, .. } => {
            let _ = reply.send(Err(CallError::NotRunning(why.to_owned())));
        }
        PluginOp::ProcessGroup { reply } => {
            let _ = reply.send(None);
        }
        PluginOp::Ask { reply, .. } => {
            let _ = reply.send(Err(CallError::NotRunning(why.to_owned())));
        }
    }
}

/// Every page of the server's tools.
async fn list_tools(peer: &Peer<RoleClient>) -> Result<Vec<ToolInfo>, ServiceError> {
    let tools = peer.list_all_tools().await?;
    Ok(tools.into_iter().map(tool_info).collect())
}

fn tool_info(tool: Tool) -> ToolInfo {
    let description = tool.description.as_deref().unwrap_or_default();
    let annotations = tool.annotations.unwrap_or_default();
    let title = tool.title.or(annotations.title);
    ToolInfo {
        name: tool.name.into_owned(),
        description: text::inert(description).into_owned(),
        input_schema: Value::Object((*tool.input_schema).clone()),
        hints: Hints {
            title: title.map(|t| text::inert(&t).into_owned()),
            read_only: annotations.read_only_hint,
            destructive: annotations.destructive_hint,
            idempotent: annotations.idempotent_hint,
            open_world: annotations.open_world_hint,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_half_a_second_up_to_thirty() {
        let delays: Vec<u64> = [1, 2, 3, 4, 7, 8, 100]
            .into_iter()
            .map(|n| backoff(n).as_millis() as u64)
            .collect();
        assert_eq!(delays, vec![500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
    }
}
