//! The in-process llama.cpp engine.
//!
//! One OS thread owns the backend, the model and its context (a `LlamaContext` borrows its
//! model and is not `Send`). Requests arrive on a channel; token text streams back through a
//! bounded tokio channel. The thread checks the job's cancel flag before every decode, and a
//! failed send (nobody listening) cancels too. Between turns the thread keeps the tokens that
//! are in the KV cache, so a follow-up turn decodes only what is new. With a prompt cache
//! configured, that KV state is saved to disk when the handle is dropped, and a later engine on
//! the same model file restores it instead of decoding the prefix again (`prompt_cache.rs`).

mod answer;
mod attention;
mod budget;
mod cores;
mod draft;
mod jinja;
mod lookup;
mod prompt;
mod prompt_cache;
mod rpc;
mod sampling;
mod stop;
mod tools;
mod turn;
mod utf8;
mod vocab;
mod worker;

pub use attention::{FlashAttention, KvType};

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::JoinHandle;

pub use budget::{ToolCost, ToolOffer, choose_tools, estimated_costs};
pub use prompt::{
    CHATML_STOPS, ChatMessage, FALLBACK_TEMPLATE, Role, TemplateSource, kept, next_drop,
};
pub use prompt_cache::{MIN_TOKENS as PROMPT_CACHE_MIN_TOKENS, model_key};
pub use sampling::SamplingParams;
pub use tools::{
    CALL_OPEN, DEFAULT_CALL_MAX_TOKENS, ToolGroup, ToolPrompt, answer_messages,
    definition as tool_definition, generic_messages, guided, open_call,
};
pub use utf8::Utf8Stream;
pub use vocab::{prompt_tokens, tool_costs};

/// How to load a model and size its context.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// The GGUF file (already verified by the model store).
    pub model_path: PathBuf,
    /// Context length in tokens.
    pub context: u32,
    /// CPU threads for decoding.
    pub threads: u32,
    /// Layers offloaded to a GPU back end, when one is compiled in.
    pub n_gpu_layers: u32,
    /// Tokens decoded per batch while reading a prompt.
    pub batch: u32,
    /// A chat template that overrides the model's own.
    pub chat_template: Option<String>,
    /// Raw completion: no chat template; the messages' text is the prompt as it is.
    pub raw: bool,
    /// Where to save and restore KV states across reloads; `None` turns that off.
    pub prompt_cache: Option<PromptCacheConfig>,
    /// llama.cpp RPC servers (`host:port`) to split the model's layers with; empty: none.
    pub rpc: Vec<String>,
    /// The file instances on this machine lock to take turns with the cores (see `cores.rs`);
    /// `None` shares nothing.
    pub core_lock: Option<PathBuf>,
    /// Prompt lookup: drafts answers from the tokens already in the context and checks each
    /// draft in one batch (`lookup.rs`); the answers are the same either way.
    pub prompt_lookup: bool,
    /// A smaller model with the same vocabulary that drafts answers for this one to check
    /// (`draft.rs`); `None`: no draft model.
    pub draft_model: Option<PathBuf>,
    /// Whether llama.cpp's flash attention kernel is used.
    pub flash_attention: FlashAttention,
    /// The KV cache's number type, for keys and values.
    pub kv_cache_type: KvType,
    /// Map the model file instead of reading it into memory. Mapped, the weights llama.cpp
    /// repacks for this CPU stay in the process's memory beside their repacked copy.
    pub mmap: bool,
}

/// The prompt cache on disk for one model: see `prompt_cache.rs`.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptCacheConfig {
    /// The cache root; this model's states live in `dir/<model_key>/`.
    pub dir: PathBuf,
    /// Names the model file (see [`model_key`]): a state is only restored into the same model.
    pub model_key: String,
    /// The most bytes this model's saved states may take together.
    pub max_bytes: u64,
}

/// Facts about the loaded model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The file it came from.
    pub path: PathBuf,
    /// The context the engine runs with.
    pub context: u32,
    /// The context the model was trained with.
    pub trained_context: u32,
    /// Parameter count.
    pub parameters: u64,
    /// Where the chat template in use came from.
    pub template: TemplateSource,
    /// Whether that template takes tools itself (else they go in the system prompt, in the
    /// generic format, and only when `tools.generic_format` asks for it).
    pub tool_template: bool,
    /// How long loading took.
    pub load_ms: f64,
    /// Where the model runs.
    pub runs: Placement,
}

/// Where a model runs: said in the status bar, the models pane and `--json`'s start event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Placement {
    /// In this process, on this machine.
    Local,
    /// In this process, its layers split with llama.cpp RPC servers.
    Rpc {
        /// The servers, as `host:port`.
        servers: Vec<String>,
        /// The layers given to devices (the servers, and a GPU here if any) rather than to
        /// this machine's CPU.
        offloaded: u32,
        /// The model's layers.
        layers: u32,
    },
    /// On an inference server.
    Remote {
        /// The back end's name in the config.
        backend: String,
        /// The server's host (and port, when it has one).
        host: String,
    },
}

impl std::fmt::Display for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Placement::Local => f.write_str("local"),
            Placement::Rpc {
                servers,
                offloaded,
                layers,
            } => write!(
                f,
                "RPC {} ({offloaded}/{layers} layers)",
                servers.join(", ")
            ),
            Placement::Remote { host, .. } => write!(f, "remote {host}"),
        }
    }
}

/// One answer to generate.
pub struct Job {
    /// The conversation so far, ending with the message to answer.
    pub messages: Vec<ChatMessage>,
    /// How to sample.
    pub sampling: SamplingParams,
    /// The tools offered, if any: in the prompt, and (optionally) as a grammar on calls.
    pub tools: Option<Arc<ToolPrompt>>,
    /// Set to stop generating; the partial answer is kept.
    pub cancel: Arc<AtomicBool>,
    /// Where the answer streams to.
    pub output: tokio::sync::mpsc::Sender<Output>,
}

/// What the engine reports while answering a job, in order: maybe `Offered`, maybe `Trimmed`, any number of
/// `Piece`s, then exactly one of `Done` or `Failed`.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The oldest messages were left out of the prompt to fit the context.
    Trimmed {
        /// How many messages after the system prompt were left out.
        dropped_messages: usize,
    },
    /// The tools this answer was offered, within the tool budget (jobs with tools only).
    Offered(ToolOffer),
    /// More answer text (whole characters); short pieces are stored inline.
    Piece(compact_str::CompactString),
    /// The answer is complete.
    Done {
        /// Why generation stopped.
        finish: Finish,
        /// Counts and timings.
        stats: TurnStats,
    },
    /// The job failed; nothing more follows.
    Failed(EngineError),
    /// Another instance on this machine is answering: this job starts when it is done (sent
    /// once, before anything else).
    Waiting,
}

/// Why an answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// The model ended its answer.
    Stop,
    /// `max_tokens` were generated.
    Length,
    /// The context filled up.
    ContextFull,
    /// The cancel flag was set, or nobody was listening any more.
    Cancelled,
    /// The answer broke off (a remote server's stream was cut); what came is kept.
    Cut,
}

/// Counts and timings of one turn.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TurnStats {
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Prompt tokens already in the KV cache: from the previous turn, or restored from disk.
    pub prompt_tokens_reused: u32,
    /// Of the reused tokens, those restored from the prompt cache on disk this turn.
    pub prompt_tokens_restored: u32,
    /// Prompt tokens decoded this turn.
    pub prompt_tokens_decoded: u32,
    /// Tokens generated.
    pub generated_tokens: u32,
    /// From the job's arrival to the first token of the answer.
    pub ttft_ms: f64,
    /// Time spent decoding the prompt.
    pub prompt_ms: f64,
    /// Time spent generating after the prompt.
    pub generation_ms: f64,
    /// Generated tokens per second of generation time.
    pub tokens_per_second: f64,
    /// Decoded prompt tokens per second of prompt time.
    pub prompt_tokens_per_second: f64,
    /// Tokens guessed ahead by prompt lookup and checked by the model.
    pub draft_tokens: u32,
    /// Of those, the ones the model agreed with (generated without a decode call of their
    /// own).
    pub draft_accepted: u32,
}

/// What can go wrong in the engine. Each message is one line that says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// llama.cpp could not start.
    #[error("llama.cpp failed to start: {0}")]
    Backend(String),
    /// The model file could not be loaded.
    #[error(
        "cannot load model {path}: llama.cpp rejected it (truncated or corrupt?); pull it again or choose another with --model"
    )]
    Load {
        /// The file.
        path: PathBuf,
    },
    /// Settings that cannot go together (each message says which to change).
    #[error("{0}")]
    Settings(String),
    /// The context could not be created.
    #[error("cannot create a {context}-token context: {reason}; try a smaller --ctx")]
    Context {
        /// The size asked for.
        context: u32,
        /// llama.cpp's reason.
        reason: String,
    },
    /// The chat template failed.
    #[error("{0}; set engine.chat_template (e.g. \"chatml\") in the config")]
    Template(String),
    /// The prompt does not fit even with all history dropped.
    #[error(
        "the prompt is {tokens} tokens but the context holds {context}; shorten it or raise --ctx"
    )]
    PromptTooLong {
        /// Prompt length.
        tokens: u32,
        /// Context length.
        context: u32,
    },
    /// A decode call failed.
    #[error("llama.cpp failed to decode: {0}")]
    Decode(String),
    /// The engine thread is gone.
    #[error("the engine stopped unexpectedly; see the log file for details")]
    Gone,
    /// A remote inference server failed, or could not be reached (the message says which).
    #[error("{0}")]
    Server(String),
    /// No model is loaded (none chosen yet, a load is under way, or the last load failed).
    #[error("no model is loaded yet; choose one in the model pane or with /model")]
    NoModel,
}

enum Request {
    Generate(Job),
    Prefill(Prefill),
}

/// A conversation to have in the KV cache before its next question arrives.
struct Prefill {
    messages: Vec<ChatMessage>,
    tools: Option<Arc<ToolPrompt>>,
}

/// A handle to the engine thread. Dropping it stops the thread and frees the model.
pub struct Engine {
    requests: Option<std::sync::mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    info: ModelInfo,
    prefills: tokio::sync::watch::Receiver<u64>,
}

impl Engine {
    /// Starts the engine thread and loads the model; blocks until it is loaded or failed.
    pub fn start(config: EngineConfig) -> Result<Engine, EngineError> {
        Engine::start_with_progress(config, |_| {})
    }

    /// Like [`Engine::start`], calling `progress` on the engine thread with the fraction
    /// loaded (0.0 to 1.0) as llama.cpp reads the weights. It must not block: it runs between
    /// reads of the model file.
    pub fn start_with_progress(
        config: EngineConfig,
        progress: impl FnMut(f32) + Send + 'static,
    ) -> Result<Engine, EngineError> {
        let (requests, inbox) = std::sync::mpsc::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let progress: worker::Progress = Box::new(progress);
        let (prefills_tx, prefills) = tokio::sync::watch::channel(0);
        let thread = std::thread::Builder::new()
            .name("llama-engine".into())
            .spawn(move || worker::run(config, progress, ready_tx, inbox, prefills_tx))
            .map_err(|e| EngineError::Backend(format!("cannot spawn the engine thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(info)) => Ok(Engine {
                requests: Some(requests),
                thread: Some(thread),
                info,
                prefills,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(EngineError::Gone)
            }
        }
    }

    /// Facts about the loaded model.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Queues a job; its output arrives on `job.output`.
    pub fn submit(&self, job: Job) -> Result<(), EngineError> {
        let requests = self.requests.as_ref().ok_or(EngineError::Gone)?;
        requests
            .send(Request::Generate(job))
            .map_err(|_| EngineError::Gone)
    }

    /// How many warm-ups ([`Engine::prefill`]) the engine thread has finished, as it
    /// changes: a way to wait for one (jobs run in the order they were queued).
    pub fn prefills(&self) -> tokio::sync::watch::Receiver<u64> {
        self.prefills.clone()
    }

    /// Queues a warm-up: decodes `messages` (with `tools` offered) up to where the next user
    /// message would begin, so that the next job decodes only that message. The core sends
    /// one whenever it goes idle with a changed prompt (a model loaded, a conversation
    /// cleared or reopened), which is usually while the user is still typing. Nothing is
    /// reported; a failure is logged and the next job decodes as usual.
    pub fn prefill(
        &self,
        messages: Vec<ChatMessage>,
        tools: Option<Arc<ToolPrompt>>,
    ) -> Result<(), EngineError> {
        let requests = self.requests.as_ref().ok_or(EngineError::Gone)?;
        requests
            .send(Request::Prefill(Prefill { messages, tools }))
            .map_err(|_| EngineError::Gone)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Closing the channel ends the worker's loop once its current job is done.
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
