//! The engine thread: owns llama.cpp's backend, the model and its context for their lifetime.
//! When its handle is dropped it saves the context's state to the prompt cache (if on) and ends.

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::{LogOptions, send_logs_to_tracing};

use super::cores::Cores;
use super::draft::{self, Drafter};
use super::prompt::Template;
use super::prompt_cache::PromptCache;
use super::turn::Session;
use super::{EngineConfig, EngineError, ModelInfo, Output, Request};

/// llama.cpp's backend is process-wide and may be initialised only once.
pub(super) fn backend() -> Result<&'static LlamaBackend, EngineError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // Before anything else, so that no llama.cpp line ever reaches the terminal.
            send_logs_to_tracing(LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| EngineError::Backend(e.clone()))
}

/// More layers than any model has: all of them.
const ALL_LAYERS: u32 = 999;

/// Called with the fraction of the model loaded, on the engine thread.
pub(super) type Progress = Box<dyn FnMut(f32) + Send>;

/// Loads the draft model at `path` for the target `model` (at `model_path`), refusing one
/// whose vocabulary is another.
fn load_draft(
    backend: &LlamaBackend,
    model: &LlamaModel,
    path: &Path,
    model_path: &Path,
) -> Result<LlamaModel, EngineError> {
    let name = |p: &Path| {
        p.file_name()
            .unwrap_or(p.as_os_str())
            .to_string_lossy()
            .into_owned()
    };
    let params = LlamaModelParams::default().with_use_mmap(false);
    let draft = LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
        tracing::error!("loading the draft model {} failed: {e}", path.display());
        EngineError::Settings(format!(
            "cannot load the draft model {}: llama.cpp rejected it (truncated or corrupt?); pull it again or change engine.draft_model",
            path.display()
        ))
    })?;
    draft::check_vocab(model, &draft).map_err(|why| {
        EngineError::Settings(format!(
            "the draft model {} has another vocabulary than {} ({why}): choose a smaller model of the same family (for qwen2.5-coder-1.5b-instruct, qwen2.5-coder-0.5b-instruct), or unset engine.draft_model",
            name(path),
            name(model_path)
        ))
    })?;
    tracing::info!(draft = %path.display(), "draft model loaded");
    Ok(draft)
}

/// The thread body: load, report readiness, then serve jobs until the handle is dropped.
pub(super) fn run(
    config: EngineConfig,
    mut progress: Progress,
    ready: SyncSender<Result<ModelInfo, EngineError>>,
    inbox: Receiver<Request>,
    prefills: tokio::sync::watch::Sender<u64>,
) {
    let started = Instant::now();
    // Before the model loads: llama.cpp would refuse the context only after.
    if config.kv_cache_type.quantised() && config.flash_attention == super::FlashAttention::Off {
        let _ = ready.send(Err(EngineError::Settings(
            "a quantised KV cache needs flash attention: set engine.flash_attention to auto or on, or engine.kv_cache_type to f16".into(),
        )));
        return;
    }
    let backend = match backend() {
        Ok(b) => b,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if let Err(e) = super::rpc::register(&config.rpc) {
        let _ = ready.send(Err(e));
        return;
    }
    // With RPC servers and no layer count set, every layer goes to the devices (the servers'
    // and any GPU here), as llama.cpp's `--rpc` is used with `-ngl 99`.
    let gpu_layers = match (config.rpc.is_empty(), config.n_gpu_layers) {
        (false, 0) => ALL_LAYERS,
        (_, n) => n,
    };
    // Returning true tells llama.cpp to go on loading.
    let params = LlamaModelParams::default()
        .with_use_mmap(config.mmap)
        .with_n_gpu_layers(gpu_layers)
        .with_progress_callback(move |fraction| {
            progress(fraction);
            true
        });
    let model = match LlamaModel::load_from_file(backend, &config.model_path, &params) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!("loading {} failed: {e}", config.model_path.display());
            let _ = ready.send(Err(EngineError::Load {
                path: config.model_path.clone(),
            }));
            return;
        }
    };
    let model_ms = started.elapsed().as_secs_f64() * 1000.0;
    let threads = i32::try_from(config.threads.max(1)).unwrap_or(i32::MAX);
    let ctx_params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(config.context))
        .with_n_batch(config.batch)
        .with_n_ubatch(config.batch)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let ctx_params =
        super::attention::apply(ctx_params, config.flash_attention, config.kv_cache_type);
    let draft_model = match config
        .draft_model
        .as_deref()
        .map(|path| load_draft(backend, &model, path, &config.model_path))
    {
        Some(Ok(draft)) => Some(draft),
        Some(Err(e)) => {
            let _ = ready.send(Err(e));
            return;
        }
        None => None,
    };
    let drafter = match draft_model
        .as_ref()
        .map(|draft| Drafter::new(draft, backend, ctx_params.clone()))
    {
        Some(Ok(drafter)) => Some(drafter),
        Some(Err(e)) => {
            let _ = ready.send(Err(e));
            return;
        }
        None => None,
    };
    let context = match model.new_context(backend, ctx_params) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(EngineError::Context {
                context: config.context,
                reason: e.to_string(),
            }));
            return;
        }
    };
    let context_ms = started.elapsed().as_secs_f64() * 1000.0 - model_ms;
    let template = match Template::choose(&model, config.chat_template.as_deref(), config.raw) {
        Ok(t) => t,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let info = ModelInfo {
        path: config.model_path.clone(),
        context: context.n_ctx(),
        trained_context: model.n_ctx_train(),
        parameters: model.n_params(),
        template: template.source.clone(),
        tool_template: template.takes_tools(),
        load_ms: started.elapsed().as_secs_f64() * 1000.0,
        runs: match config.rpc.is_empty() {
            true => super::Placement::Local,
            false => super::Placement::Rpc {
                servers: config.rpc.clone(),
                offloaded: gpu_layers.min(model.n_layer()),
                layers: model.n_layer(),
            },
        },
    };
    tracing::info!(?info, model_ms, context_ms, "model loaded");
    if ready.send(Ok(info)).is_err() {
        return;
    }
    let disk = config.prompt_cache.as_ref().map(PromptCache::new);
    let mut session = Session::new(
        &model,
        context,
        template,
        config.batch,
        disk,
        config.prompt_lookup,
        drafter,
    );
    let cores = Cores::open(config.core_lock.as_deref());
    while let Ok(request) = inbox.recv() {
        match request {
            Request::Generate(job) => {
                let output = job.output.clone();
                // Cancelled while waiting: the answer sees the flag and ends at once.
                let _held = cores.take(
                    || {
                        let _ = output.blocking_send(Output::Waiting);
                    },
                    || job.cancel.load(std::sync::atomic::Ordering::Relaxed),
                );
                if let Err(e) = session.answer(job) {
                    tracing::warn!("job failed: {e}");
                    let _ = output.blocking_send(Output::Failed(e));
                }
            }
            Request::Prefill(prefill) => {
                // Only on free cores: it saves the next answer time, it must not cost another
                // instance's answer any.
                let held = cores.take_if_free();
                if cores.shared() && held.is_none() {
                    continue;
                }
                let started = Instant::now();
                match session.prefill(&prefill.messages, prefill.tools.as_deref()) {
                    Ok(decoded) => tracing::debug!(
                        decoded,
                        ms = started.elapsed().as_secs_f64() * 1000.0,
                        "prefilled"
                    ),
                    Err(e) => tracing::warn!("prefill failed: {e}"),
                }
                prefills.send_modify(|done| *done += 1);
            }
        }
    }
    // The handle was dropped (a model switch, quitting, the end of a run): keep the context's
    // state for the next engine on this model.
    let saving = Instant::now();
    session.save_to_disk();
    tracing::debug!(
        ms = saving.elapsed().as_secs_f64() * 1000.0,
        "prompt cache save step"
    );
}
