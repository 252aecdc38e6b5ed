//! The core: the conversation and the turn loop, spoken to with `Op`s, answering with `Event`s.
//!
//! It knows no terminal. The headless runner and the TUI are both front ends over it. The core
//! task owns the transcript, the engine handle and the journal; one turn runs at a time, and a
//! model loads in the background while the task keeps answering ops. At most one engine exists
//! at a time: the old one is freed before a new one loads. With plugins, the core also owns the
//! plugin host (through `tools::Toolbox`): a turn runs rounds of generate → tool calls →
//! generate, each call checked, consented to, run, audited and counted.

mod conversation;
pub mod journal;
mod sampling;
mod task;
pub mod tools;
mod turn;

use std::path::PathBuf;

use tokio::sync::mpsc;

pub use conversation::Conversation;
pub use journal::{Journal, JournalError};
pub use tools::{CallRequest, CallResult, ConsentAnswer, OfferedTool, ToolsConfig};

use crate::plugins::audit::Grant;
use crate::plugins::host::context::{Answer, Ask};
use crate::plugins::host::{ElicitAnswer, ElicitationRequest, HostEvent, SamplingRequest};
use crate::plugins::usage::Figures;

use crate::backend::{Backend, BackendConfig};
use crate::engine::{ChatMessage, EngineError, Finish, ModelInfo, SamplingParams, TurnStats};

/// What a front end asks the core to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Send a user message and answer it.
    Submit {
        /// The message.
        text: String,
    },
    /// Stop the answer in flight; its partial text is kept.
    Interrupt,
    /// Load a model in the background, replacing the current one. The current model is freed
    /// first (two models may not fit in memory together), so if the new one fails to load
    /// there is no model until another loads. Refused while a turn runs or a model loads.
    LoadModel {
        /// The model and its context.
        config: BackendConfig,
    },
    /// Answer the last user message again, replacing its answer.
    Regenerate,
    /// Take back the last user message and its answer; `Event::Retracted` returns its text.
    RetractLast,
    /// Start a new, empty conversation with the same system prompt (and a new journal file).
    Clear,
    /// Replace the system prompt for later turns.
    SetSystemPrompt {
        /// The new system prompt; empty means none.
        text: String,
    },
    /// Answer a consent request (`Event::ToolConsent`).
    Consent {
        /// The request's id.
        id: u64,
        /// The user's answer.
        answer: ConsentAnswer,
    },
    /// Answer a plugin's sampling request (`Event::SamplingConsent` before the model writes,
    /// `Event::SamplingReview` after).
    Sampling {
        /// The request's id.
        id: u64,
        /// Go on (generate, or send what was generated); false rejects it.
        approve: bool,
        /// Before: the last message to answer instead of the server's; after: the text to
        /// send instead of the model's. `None` keeps it as it is.
        edited: Option<String>,
    },
    /// Ask a plugin's server for its resources, prompts or completions; the answer comes as
    /// `Event::Asked`. Taken at any time, turn or not.
    Ask {
        /// The plugin's id.
        plugin: String,
        /// What to ask.
        ask: Ask,
    },
    /// Answer a plugin's request for input (`Event::Elicitation`).
    Elicitation {
        /// The request's id.
        id: u64,
        /// The answer.
        answer: ElicitAnswer,
    },
    /// Go on with a saved session instead of the conversation in hand (which stays saved in
    /// its own); `Event::SessionOpened` follows. Refused while a turn runs.
    OpenSession {
        /// The session's id.
        id: i64,
    },
    /// The front end removed a session from the store; if it is the one being written, the
    /// next save starts a new session holding the whole conversation.
    SessionRemoved {
        /// The session's id.
        id: i64,
    },
    /// Stop everything and end the core task.
    Shutdown,
}

/// A tool call that ended, however it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedCall {
    /// The request's id; None for a call too malformed to become a request.
    pub id: Option<u64>,
    /// The plugin's id; empty when the model named no offered tool.
    pub plugin: String,
    /// The tool, as the plugin spells it (or as the model wrote it, when unknown).
    pub tool: String,
    /// The arguments as the model wrote them.
    pub arguments: serde_json::Value,
    /// How it ended.
    pub result: CallResult,
    /// What allowed it (or `Grant::None`).
    pub granted_by: Grant,
    /// How long it ran, in milliseconds (0 when it did not run).
    pub duration_ms: u64,
    /// The tool's figures after this call.
    pub tool_figures: Figures,
    /// The plugin's figures after this call.
    pub plugin_figures: Figures,
}

/// What happened, as the core reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A turn began.
    TurnStarted,
    /// Another instance on this machine is answering: this turn's answer starts when it is
    /// done (they take turns with the cores; see `engine/cores.rs`).
    WaitingForCores,
    /// More answer text.
    TokenDelta {
        /// The new text.
        text: String,
    },
    /// Old messages no longer fit in the context and were left out of the prompt.
    HistoryTrimmed {
        /// How many messages were left out this time.
        dropped_messages: usize,
    },
    /// The answer ended.
    TurnComplete {
        /// Why it ended.
        finish: Finish,
        /// Counts and timings.
        stats: TurnStats,
    },
    /// A turn failed; the user's message comes back so it is not lost.
    TurnFailed {
        /// What went wrong.
        error: EngineError,
        /// The message that was not answered.
        unsent: String,
    },
    /// An op was refused (for example a second submit while a turn runs).
    Refused {
        /// Why.
        reason: String,
    },
    /// A model began loading; the previous one is gone.
    ModelLoading {
        /// The model file, or a remote back end's `NAME/MODEL`.
        path: PathBuf,
    },
    /// How far loading has come (throttled; some may be skipped when events back up).
    ModelLoadProgress {
        /// From 0.0 to 1.0.
        fraction: f32,
    },
    /// The model is loaded and answers the next turn.
    ModelLoaded {
        /// Facts about it.
        info: ModelInfo,
    },
    /// Whether the model just loaded is offered the plugins' tools (sent after
    /// `ModelLoaded` when plugins are enabled): a model whose template has no tool support is
    /// not, unless `tools.generic_format` asks for it.
    ModelTools {
        /// False: tools are off for this model.
        offered: bool,
    },
    /// The tools an answer was offered within the tool budget, with every tool's cost.
    ToolsOffered {
        /// Every enabled tool, in the order the model sees them.
        tools: Vec<OfferedTool>,
        /// The budget they were chosen in, in tokens.
        budget: u32,
    },
    /// The model did not load; there is no model until another loads.
    ModelLoadFailed {
        /// Why.
        error: EngineError,
    },
    /// The last user message and its answer left the transcript.
    Retracted {
        /// The user message, to edit and send again.
        text: String,
    },
    /// The conversation was emptied.
    Cleared,
    /// A saved session replaced the conversation (`Op::OpenSession`).
    SessionOpened {
        /// Its id.
        id: i64,
        /// Its title.
        title: String,
        /// Its messages, oldest first (the system prompt aside).
        messages: Vec<ChatMessage>,
        /// Its last answer was cut short: the app stopped while writing it.
        cut_short: bool,
    },
    /// The system prompt changed.
    SystemPromptSet {
        /// The new system prompt; empty means none.
        text: String,
    },
    /// The conversation could not be saved; it goes on unsaved. Sent once per kind of failure.
    JournalFailed {
        /// One line naming the file and the reason.
        error: String,
    },
    /// A plugin's state or tool list changed (relayed from the plugin host).
    Plugin(HostEvent),
    /// The kept usage figures of every started plugin, sent once at the start.
    PluginFigures {
        /// (plugin id, its figures), sorted by id.
        plugins: Vec<(String, Figures)>,
    },
    /// The model called a tool that no rule allows: answer with `Op::Consent`.
    ToolConsent {
        /// The call.
        request: CallRequest,
    },
    /// An allowed call started running.
    ToolCallStarted {
        /// The call.
        request: CallRequest,
        /// What allowed it.
        granted_by: Grant,
    },
    /// A call ended: it ran, failed, was denied or was invalid. Its result goes to the model.
    ToolCallFinished {
        /// The call and how it ended.
        call: FinishedCall,
    },
    /// A plugin asks the local model to write a message for it: answer with `Op::Sampling`.
    SamplingConsent {
        /// What it asks (shown through `text::inert`).
        request: SamplingRequest,
        /// The most tokens the answer may take: the request's, capped by the answer length.
        max_tokens: u32,
    },
    /// The model wrote the message of an asked request: send it, edit it or reject it with
    /// `Op::Sampling`.
    SamplingReview {
        /// The request's id.
        id: u64,
        /// The plugin that asked.
        plugin: String,
        /// What the model wrote (untrusted).
        text: String,
    },
    /// A plugin asks the user for input (a form, or a URL to visit): answer with
    /// `Op::Elicitation`. Front ends that cannot ask are never sent one (the core declines).
    Elicitation {
        /// The request.
        request: ElicitationRequest,
    },
    /// A plugin answered `Op::Ask`.
    Asked {
        /// The plugin's id.
        plugin: String,
        /// What was asked.
        ask: Ask,
        /// Its answer, or why there is none (one line).
        answer: Result<Answer, String>,
    },
    /// A sampling request was answered: sent, or rejected and why (one line).
    SamplingDone {
        /// The request's id.
        id: u64,
        /// The plugin that asked.
        plugin: String,
        /// What happened, e.g. "sent 42 tokens" or "rejected: denied by you".
        outcome: String,
    },
    /// Something the user should know that does not stop anything (for example the audit
    /// log could not be written).
    Notice {
        /// One line.
        message: String,
    },
}

/// How the core runs turns.
#[derive(Debug)]
pub struct CoreConfig {
    /// The system prompt; empty means none.
    pub system_prompt: String,
    /// Sampling for every turn.
    pub sampling: SamplingParams,
    /// Continue this conversation instead of starting an empty one; its own system prompt
    /// replaces `system_prompt`.
    pub resume: Option<Conversation>,
    /// Where the conversation is saved (see `journal`); None never writes.
    pub journal: Option<Journal>,
    /// Plugins whose tools the model may call; None offers no tools.
    pub tools: Option<ToolsConfig>,
}

/// The front end's side of a running core.
pub struct CoreHandle {
    /// Where ops go.
    pub ops: mpsc::UnboundedSender<Op>,
    /// Where events come from. Ends when the core task ends.
    pub events: mpsc::Receiver<Event>,
    /// The core task; resolves with the final transcript.
    pub task: tokio::task::JoinHandle<Conversation>,
}

/// How many token pieces may wait between the engine thread and the core.
const PIECE_BUFFER: usize = 256;

/// Spawns the core task on the current tokio runtime, with a loaded engine or none yet (then
/// a turn fails with `EngineError::NoModel` until `Op::LoadModel` succeeds).
pub fn spawn(engine: Option<Backend>, config: CoreConfig) -> CoreHandle {
    let (ops, op_rx) = mpsc::unbounded_channel();
    let (event_tx, events) = mpsc::channel(PIECE_BUFFER);
    let task = tokio::spawn(task::Core::new(engine, config, op_rx, event_tx).run());
    CoreHandle { ops, events, task }
}
