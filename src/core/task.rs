//! The core task: owns the transcript, the engine (or the load under way) and the journal, and
//! turns ops into events.
//!
//! One turn runs at a time (its rounds and tool calls are in `turn.rs`). While it runs, only
//! `Interrupt`, `Shutdown`, `SetSystemPrompt` and `Consent` take effect; ops that would change the transcript or the engine are refused. A model loads
//! on a blocking thread while the task goes on answering ops; there is no engine meanwhile, so
//! a turn fails with `EngineError::NoModel`. The journal is saved after every change, and at
//! most once a second while an answer streams.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::journal::Journal;
use super::tools::Toolbox;
use super::{Conversation, CoreConfig, Event, Op};
use crate::backend::{Backend, BackendConfig};
use crate::engine::{ChatMessage, EngineError, ModelInfo, Role, SamplingParams, ToolPrompt};
use crate::plugins::host::context::Ask;
use crate::plugins::host::{ElicitAnswer, ElicitationRequest, HostEvent, SamplingRequest};

/// Load progress is reported at most this often (the end is always reported).
const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// Why an op that needs an idle core was refused.
const BUSY: &str = "an answer is still being generated; stop the answer first";

/// Whether the task goes on after an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Stop,
}

/// A model load on a blocking thread; it yields the new engine.
type Loading = JoinHandle<Result<Backend, EngineError>>;

/// What woke the idle task.
enum Wake {
    Op(Option<Op>),
    Loaded(Result<Backend, EngineError>),
    Plugin(Option<HostEvent>),
    Warm,
}

/// How long the prompt must stay unchanged before the engine prefills it: plugins report
/// their tools one by one as they start, and each report changes the prompt.
const WARM_DELAY: Duration = Duration::from_millis(250);

/// The state the core task owns.
pub(super) struct Core {
    pub(super) engine: Option<Backend>,
    pub(super) loading: Option<Loading>,
    pub(super) sampling: SamplingParams,
    pub(super) conversation: Conversation,
    pub(super) journal: Option<Journal>,
    pub(super) ops: mpsc::UnboundedReceiver<Op>,
    events: mpsc::Sender<Event>,
    /// Plugins and their tools; None when no plugin is enabled.
    pub(super) tools: Option<Toolbox>,
    /// The plugin host's events; None once the host is gone (or when there is none).
    pub(super) plugin_events: Option<mpsc::Receiver<HostEvent>>,
    /// Problems found while setting up, sent as notices when the task starts.
    notices: Vec<String>,
    /// The prompt last sent to the engine to prefill (see [`Core::warm`]).
    pub(super) warmed: Option<Warmed>,
    /// Plugins' sampling requests waiting for the engine (see `sampling.rs`).
    pub(super) sampling_queue: VecDeque<SamplingRequest>,
    /// Plugins' requests for input put to the front end, by id, until answered.
    elicitations: HashMap<u64, ElicitationRequest>,
}

/// A conversation and the tools offered with it, as last prefilled.
type Warmed = (Vec<ChatMessage>, Option<Arc<ToolPrompt>>);

impl Core {
    /// The core before its first op.
    pub(super) fn new(
        engine: Option<Backend>,
        config: CoreConfig,
        ops: mpsc::UnboundedReceiver<Op>,
        events: mpsc::Sender<Event>,
    ) -> Self {
        let conversation = config
            .resume
            .unwrap_or_else(|| Conversation::new(&config.system_prompt));
        let (tools, plugin_events, notices) = match config.tools {
            Some(tools) => {
                let (toolbox, events, notices) = Toolbox::new(tools);
                (Some(toolbox), Some(events), notices)
            }
            None => (None, None, Vec::new()),
        };
        let mut journal = config.journal;
        if let (Some(journal), Some(engine)) = (&mut journal, &engine) {
            journal.set_model(model_name(&engine.info().path));
        }
        Core {
            engine,
            loading: None,
            sampling: config.sampling,
            conversation,
            journal,
            ops,
            events,
            tools,
            plugin_events,
            notices,
            warmed: None,
            sampling_queue: VecDeque::new(),
            elicitations: HashMap::new(),
        }
    }

    /// Serves ops until `Shutdown` or until every op sender is gone; returns the transcript.
    pub(super) async fn run(mut self) -> Conversation {
        for message in std::mem::take(&mut self.notices) {
            self.emit(Event::Notice { message }).await;
        }
        if let Some(tools) = &self.tools {
            let plugins = tools.figures();
            self.emit(Event::PluginFigures { plugins }).await;
            if let Some(engine) = &self.engine {
                let offered = tools.offers_to(engine.info().tool_template);
                self.emit(Event::ModelTools { offered }).await;
            }
        }
        let mut warm_at = None;
        loop {
            // Requests that came while a turn generated.
            if !self.sampling_queue.is_empty() && self.serve_sampling(None).await == Flow::Stop {
                break;
            }
            if self.prompt_changed() {
                warm_at = Some(tokio::time::Instant::now() + WARM_DELAY);
            }
            // Ops first: they are quick, and queued ops are answered in the order they came.
            let wake = tokio::select! {
                biased;
                op = self.ops.recv() => Wake::Op(op),
                loaded = finished(&mut self.loading) => Wake::Loaded(loaded),
                event = next_plugin_event(&mut self.plugin_events) => Wake::Plugin(event),
                _ = sleep_until(warm_at), if warm_at.is_some() => Wake::Warm,
            };
            let flow = match wake {
                Wake::Op(Some(op)) => self.idle(op).await,
                Wake::Op(None) => Flow::Stop,
                Wake::Loaded(result) => {
                    self.loading = None;
                    self.loaded(result).await;
                    Flow::Continue
                }
                Wake::Plugin(event) => {
                    self.plugin(event).await;
                    self.serve_sampling(None).await
                }
                Wake::Warm => {
                    warm_at = None;
                    self.warm();
                    Flow::Continue
                }
            };
            if flow == Flow::Stop {
                break;
            }
        }
        self.stop().await
    }

    /// Handles an op while no turn runs.
    async fn idle(&mut self, op: Op) -> Flow {
        match op {
            Op::Submit { text } => {
                if self.engine.is_none() {
                    let error = EngineError::NoModel;
                    self.emit(Event::TurnFailed {
                        error,
                        unsent: text,
                    })
                    .await;
                    return Flow::Continue;
                }
                self.conversation.push(ChatMessage::new(Role::User, text));
                return self.turn().await;
            }
            Op::Regenerate => return self.regenerate().await,
            Op::Interrupt => {}
            Op::LoadModel { config } => self.load(config).await,
            Op::RetractLast => self.retract().await,
            Op::Clear => self.clear().await,
            Op::SetSystemPrompt { text } => self.set_system_prompt(text).await,
            // A stale answer (its turn or request ended): nothing waits for it.
            Op::Consent { .. } | Op::Sampling { .. } => {}
            Op::Elicitation { id, answer } => self.elicited(id, answer).await,
            Op::Ask { plugin, ask } => self.ask_plugin(plugin, ask),
            Op::OpenSession { id } => self.open_session(id).await,
            Op::SessionRemoved { id } => self.session_removed(id),
            Op::Shutdown => return Flow::Stop,
        }
        Flow::Continue
    }

    /// Handles an op while a turn runs.
    pub(super) async fn during_turn(&mut self, op: Option<Op>, cancel: &AtomicBool) -> Flow {
        match op {
            Some(Op::Interrupt) => cancel.store(true, Ordering::Relaxed),
            Some(
                Op::Submit { .. }
                | Op::LoadModel { .. }
                | Op::Regenerate
                | Op::RetractLast
                | Op::Clear
                | Op::OpenSession { .. },
            ) => self.refuse(BUSY).await,
            Some(Op::SessionRemoved { id }) => self.session_removed(id),
            Some(Op::SetSystemPrompt { text }) => self.set_system_prompt(text).await,
            Some(Op::Consent { .. } | Op::Sampling { .. }) => {}
            Some(Op::Elicitation { id, answer }) => self.elicited(id, answer).await,
            Some(Op::Ask { plugin, ask }) => self.ask_plugin(plugin, ask),
            Some(Op::Shutdown) | None => {
                cancel.store(true, Ordering::Relaxed);
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    /// Starts loading a model after freeing the current one.
    async fn load(&mut self, config: BackendConfig) {
        if self.loading.is_some() {
            self.refuse("a model is already loading; wait for it to finish")
                .await;
            return;
        }
        let old = self.engine.take();
        let path = match &config {
            BackendConfig::Local(local) => local.model_path.clone(),
            BackendConfig::Remote(remote) => format!("{}/{}", remote.backend, remote.model).into(),
        };
        self.emit(Event::ModelLoading { path }).await;
        let progress = progress_reporter(self.events.clone());
        self.loading = Some(tokio::task::spawn_blocking(move || {
            // Freed before the new model is read, so the two never take memory together.
            drop(old);
            Backend::start(config, progress)
        }));
    }

    pub(super) async fn loaded(&mut self, result: Result<Backend, EngineError>) {
        match result {
            Ok(engine) => {
                let info = engine.info().clone();
                self.note_model(&info);
                self.engine = Some(engine);
                self.warmed = None;
                let tools = self.tools.as_ref().map(|t| t.offers_to(info.tool_template));
                self.emit(Event::ModelLoaded { info }).await;
                if let Some(offered) = tools {
                    self.emit(Event::ModelTools { offered }).await;
                }
            }
            Err(error) => self.emit(Event::ModelLoadFailed { error }).await,
        }
    }

    async fn regenerate(&mut self) -> Flow {
        if self.engine.is_none() {
            self.refuse(&EngineError::NoModel.to_string()).await;
            return Flow::Continue;
        }
        if self.conversation.pop_answer().is_none() {
            self.refuse("there is no answer to regenerate yet").await;
            return Flow::Continue;
        }
        self.turn().await
    }

    async fn retract(&mut self) {
        match self.conversation.retract_last() {
            Some(text) => {
                self.save(None).await;
                self.emit(Event::Retracted { text }).await;
            }
            None => self.refuse("there is no message to take back").await,
        }
    }

    async fn clear(&mut self) {
        self.conversation = Conversation::new(self.conversation.system_prompt());
        // An empty conversation is not written; its file appears with its first message.
        if let Some(journal) = &mut self.journal {
            journal.start_new();
        }
        self.emit(Event::Cleared).await;
    }

    /// Replaces the conversation with session `id`, which the journal goes on writing.
    async fn open_session(&mut self, id: i64) {
        let Some(journal) = &mut self.journal else {
            return self.refuse("sessions are not saved in this run").await;
        };
        let session = match journal.store().load(id) {
            Ok(session) => session,
            Err(e) => return self.refuse(&e.to_string()).await,
        };
        let cut_short = session.cut_short();
        let messages: Vec<ChatMessage> = session.messages.into_iter().map(|s| s.message).collect();
        journal.switch_to(id, messages.clone());
        self.conversation = Conversation::from_parts(&session.system, messages.clone());
        let title = session.summary.title;
        self.emit(Event::SessionOpened {
            id,
            title,
            messages,
            cut_short,
        })
        .await;
    }

    /// Forgets session `id` if it is the one being written (the user removed it).
    pub(super) fn session_removed(&mut self, id: i64) {
        if let Some(journal) = &mut self.journal
            && journal.session() == Some(id)
        {
            journal.start_new();
        }
    }

    pub(super) async fn set_system_prompt(&mut self, text: String) {
        self.conversation.set_system_prompt(&text);
        self.save(None).await;
        self.emit(Event::SystemPromptSet { text }).await;
    }

    /// The conversation and the tools the next turn would send.
    fn prompt(&self) -> Warmed {
        let messages = self.conversation.prompt();
        let offer = self.offer(false, &messages, &[]);
        (messages, offer)
    }

    /// The tools to offer with `messages`, after this turn's `called` tools (plugin, tool):
    /// none without plugins, or when the loaded model is not offered tools (see
    /// [`Toolbox::offers_to`]).
    pub(super) fn offer(
        &self,
        answer_only: bool,
        messages: &[ChatMessage],
        called: &[(String, String)],
    ) -> Option<Arc<ToolPrompt>> {
        let tools = self.tools.as_ref()?;
        let tool_template = self.engine.as_ref()?.info().tool_template;
        if !tools.offers_to(tool_template) {
            return None;
        }
        tools.offer(answer_only, messages, called)
    }

    /// An engine is loaded and the prompt differs from the one last prefilled.
    fn prompt_changed(&self) -> bool {
        self.engine.is_some() && self.warmed.as_ref() != Some(&self.prompt())
    }

    /// Between turns, once the prompt has stayed the same for [`WARM_DELAY`], has the engine
    /// decode the conversation so far (with the tools now offered) if it changed since the
    /// last time: after a model loads, a conversation is reopened or cleared, the tools
    /// arrive, or a turn ends. The next question then decodes only itself, and the work
    /// happens while the user is typing.
    fn warm(&mut self) {
        let Some(engine) = &self.engine else {
            return;
        };
        let now = self.prompt();
        if self.warmed.as_ref() == Some(&now) {
            return;
        }
        if let Err(e) = engine.prefill(now.0.clone(), now.1.clone()) {
            tracing::debug!("no prefill: {e}");
        }
        self.warmed = Some(now);
    }

    /// Takes in a plugin host event and passes it on; a host that is gone sends no more.
    pub(super) async fn plugin(&mut self, event: Option<HostEvent>) {
        let Some(event) = event else {
            self.plugin_events = None;
            return;
        };
        // Answered where the engine is free (see `sampling.rs`), not passed on as it is.
        if let HostEvent::Sampling(request) = event {
            self.sampling_queue.push_back(request);
            return;
        }
        if let HostEvent::Elicitation(request) = event {
            self.elicit(request).await;
            return;
        }
        let notice = self.tools.as_mut().and_then(|tools| tools.on_host(&event));
        self.emit(Event::Plugin(event)).await;
        if let Some(message) = notice {
            self.emit(Event::Notice { message }).await;
        }
    }

    /// Puts a plugin's request for input to the front end, or declines it where nobody can
    /// be asked (headless), saying so.
    async fn elicit(&mut self, request: ElicitationRequest) {
        let Some(tools) = &mut self.tools else {
            return;
        };
        if tools.asks() {
            self.elicitations.insert(request.id, request.clone());
            self.emit(Event::Elicitation { request }).await;
            return;
        }
        let problem = tools.answer_elicitation(&request, ElicitAnswer::Decline);
        let message = format!(
            "plugin {} asked for your input ({}); headless runs decline it",
            request.plugin,
            crate::text::inert(&request.message)
        );
        self.emit(Event::Notice { message }).await;
        if let Some(message) = problem {
            self.emit(Event::Notice { message }).await;
        }
    }

    /// Asks `plugin` on a task of its own (bounded by the plugin's timeout); the answer comes
    /// back as `Event::Asked`.
    pub(super) fn ask_plugin(&self, plugin: String, ask: Ask) {
        let events = self.events.clone();
        let Some(tools) = &self.tools else {
            let answer = Err("no plugins are running".to_owned());
            let _ = events.try_send(Event::Asked {
                plugin,
                ask,
                answer,
            });
            return;
        };
        let caller = tools.caller();
        tokio::spawn(async move {
            let answer = caller
                .ask(&plugin, ask.clone())
                .await
                .map_err(|e| e.to_string());
            drop(caller);
            let _ = events
                .send(Event::Asked {
                    plugin,
                    ask,
                    answer,
                })
                .await;
        });
    }

    /// Passes the user's answer to request `id` on; a stale one is dropped.
    pub(super) async fn elicited(&mut self, id: u64, answer: ElicitAnswer) {
        let (Some(request), Some(tools)) = (self.elicitations.remove(&id), &mut self.tools) else {
            return;
        };
        if let Some(message) = tools.answer_elicitation(&request, answer) {
            self.emit(Event::Notice { message }).await;
        }
    }

    /// Ends a turn that failed: the user's message (and any tool rounds after it) leave the
    /// transcript, and the message goes back.
    pub(super) async fn fail(&mut self, error: EngineError) {
        let unsent = self.conversation.retract_last().unwrap_or_default();
        self.save(None).await;
        self.emit(Event::TurnFailed { error, unsent }).await;
    }

    /// Records which model answers from now on in the session.
    fn note_model(&mut self, info: &ModelInfo) {
        if let Some(journal) = &mut self.journal {
            journal.set_model(model_name(&info.path));
        }
    }

    pub(super) async fn save(&mut self, partial: Option<&str>) {
        let Some(journal) = &mut self.journal else {
            return;
        };
        if let Some(error) = journal.save(&self.conversation, partial, Instant::now()) {
            self.emit_journal_failure(error.to_string()).await;
        }
    }

    pub(super) async fn save_streaming(&mut self, partial: &str) {
        let Some(journal) = &mut self.journal else {
            return;
        };
        if let Some(error) = journal.save_streaming(&self.conversation, partial, Instant::now()) {
            self.emit_journal_failure(error.to_string()).await;
        }
    }

    async fn emit_journal_failure(&self, error: String) {
        self.emit(Event::JournalFailed { error }).await;
    }

    pub(super) async fn refuse(&self, reason: &str) {
        let reason = reason.to_string();
        self.emit(Event::Refused { reason }).await;
    }

    /// Sends an event; a front end that stopped listening is not an error.
    pub(super) async fn emit(&self, event: Event) {
        let _ = self.events.send(event).await;
    }

    /// Waits for a load under way, then frees the engine on a blocking thread (joining the
    /// engine thread waits while it frees the model), and stops every plugin.
    async fn stop(mut self) -> Conversation {
        if let Some(tools) = self.tools.take() {
            tools.shutdown().await;
        }
        let loaded = match self.loading.take() {
            Some(loading) => loading.await.ok().and_then(Result::ok),
            None => None,
        };
        let engine = self.engine.take();
        let _ = tokio::task::spawn_blocking(move || drop((engine, loaded))).await;
        self.conversation
    }
}

/// The next plugin host event; never resolves when there is no host.
pub(super) async fn next_plugin_event(
    events: &mut Option<mpsc::Receiver<HostEvent>>,
) -> Option<HostEvent> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The result of the load under way; never resolves when there is none.
pub(super) async fn finished(loading: &mut Option<Loading>) -> Result<Backend, EngineError> {
    match loading {
        Some(task) => task.await.unwrap_or_else(|e| {
            tracing::error!("the model loading thread failed: {e}");
            Err(EngineError::Gone)
        }),
        None => std::future::pending().await,
    }
}

/// Turns llama.cpp's load progress into throttled events. `try_send`: the engine thread must
/// never wait for a slow front end, so a progress event is dropped when the queue is full.
fn progress_reporter(events: mpsc::Sender<Event>) -> impl FnMut(f32) + Send + 'static {
    let mut last: Option<Instant> = None;
    move |fraction| {
        let now = Instant::now();
        let due = last.is_none_or(|t| now.duration_since(t) >= PROGRESS_INTERVAL);
        if due || fraction >= 1.0 {
            last = Some(now);
            let fraction = fraction.clamp(0.0, 1.0);
            let _ = events.try_send(Event::ModelLoadProgress { fraction });
        }
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A model's name for the session list: a GGUF file's name without `.gguf`, or a remote
/// back end's `NAME/MODEL` as it is.
fn model_name(path: &std::path::Path) -> String {
    match path.extension() {
        Some(ext) if ext.eq_ignore_ascii_case("gguf") => path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
        _ => path.to_string_lossy().into_owned(),
    }
}
