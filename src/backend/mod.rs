//! Where answers come from: the in-process llama.cpp engine, or an inference server.
//!
//! The seam is the engine's job protocol: a [`Job`] in, a stream of [`Output`]s out (text
//! pieces, the tools offered, then `Done` or `Failed`). Both back ends speak it, so the turn
//! loop, consent, audit, the journal and both front ends do not know which one runs; the
//! model's [`ModelInfo::runs`](crate::engine::ModelInfo) says where, for the user to see.

pub mod remote;

use std::sync::Arc;

use crate::engine::{ChatMessage, Engine, EngineConfig, EngineError, Job, ModelInfo, ToolPrompt};
pub use remote::{Remote, RemoteConfig};

/// How to start a back end.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendConfig {
    /// A GGUF file run in this process (its layers maybe split with RPC servers).
    Local(EngineConfig),
    /// A model on an OpenAI-compatible server.
    Remote(RemoteConfig),
}

/// A running back end. Dropping it frees the model (local) or closes the connections (remote).
pub enum Backend {
    /// The in-process engine.
    Local(Engine),
    /// An inference server.
    Remote(Remote),
}

impl Backend {
    /// Starts the back end: loads the model, or checks that the server serves it. Blocks; it
    /// calls `progress` with the fraction loaded (a remote back end reports only the end).
    pub fn start(
        config: BackendConfig,
        mut progress: impl FnMut(f32) + Send + 'static,
    ) -> Result<Backend, EngineError> {
        match config {
            BackendConfig::Local(config) => {
                Engine::start_with_progress(config, progress).map(Backend::Local)
            }
            BackendConfig::Remote(config) => {
                let remote = Remote::start(config)?;
                progress(1.0);
                Ok(Backend::Remote(remote))
            }
        }
    }

    /// Facts about the model, including where it runs.
    pub fn info(&self) -> &ModelInfo {
        match self {
            Backend::Local(engine) => engine.info(),
            Backend::Remote(remote) => remote.info(),
        }
    }

    /// Queues a job; its output arrives on `job.output`.
    pub fn submit(&self, job: Job) -> Result<(), EngineError> {
        match self {
            Backend::Local(engine) => engine.submit(job),
            Backend::Remote(remote) => remote.submit(job),
        }
    }

    /// Has the model read `messages` ahead of the next question (see [`Engine::prefill`]). A
    /// server keeps its own prompt cache, so a remote back end does nothing.
    pub fn prefill(
        &self,
        messages: Vec<ChatMessage>,
        tools: Option<Arc<ToolPrompt>>,
    ) -> Result<(), EngineError> {
        match self {
            Backend::Local(engine) => engine.prefill(messages, tools),
            Backend::Remote(_) => Ok(()),
        }
    }
}
