//! An OpenAI-compatible inference server as a back end: llama-server, vLLM, SGLang, Ollama's
//! `/v1`, or anything that speaks chat completions.
//!
//! Starting checks that the server answers and serves the model (`GET {url}/models`), and
//! learns its context size where the server tells it. Each job is one streamed
//! `POST {url}/chat/completions` on a tokio task (`stream.rs`); cancelling closes the stream.
//! Nothing is sent anywhere but the configured url.

mod chunk;
pub mod consent;
mod error;
mod request;
mod sse;
mod stream;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

pub use request::Dialect;

use crate::engine::{EngineError, Job, ModelInfo, Placement, TemplateSource};

/// The context assumed when the server does not say and the config does not either.
const DEFAULT_CONTEXT: u32 = 4096;

/// How to reach one model on a server.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteConfig {
    /// The back end's name in the config (`[backends.NAME]`).
    pub backend: String,
    /// The API's base url, up to where `/chat/completions` begins (often ending in `/v1`).
    pub url: String,
    /// The model to ask for; empty: the server's only one.
    pub model: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// The longest wait to connect, for the answer to start, and between chunks.
    pub timeout: Duration,
    /// The context size, when the config sets it (else the server's, where it says).
    pub context: Option<u32>,
    /// What the server takes beyond plain chat completions.
    pub dialect: Dialect,
}

impl RemoteConfig {
    /// `host[:port]` of the url (the url itself when it does not parse), for the user to see
    /// where the model runs.
    pub fn host(&self) -> String {
        match reqwest::Url::parse(&self.url) {
            Ok(u) => match (u.host_str(), u.port()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (Some(host), None) => host.to_owned(),
                _ => self.url.clone(),
            },
            Err(_) => self.url.clone(),
        }
    }

    /// Whether the server is on this machine (a loopback address or `localhost`).
    pub fn is_loopback(&self) -> bool {
        let Ok(url) = reqwest::Url::parse(&self.url) else {
            return false;
        };
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/{path}", self.url.trim_end_matches('/'))
    }
}

/// A model a server serves, as `GET /models` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedModel {
    /// Its id, the name to ask for.
    pub id: String,
    /// Its context size, where the server says (vLLM's `max_model_len`).
    pub context: Option<u32>,
    /// The context it was trained with, where the server says (llama-server's `meta`).
    pub trained_context: Option<u32>,
    /// Its parameter count, where the server says.
    pub parameters: Option<u64>,
}

/// A running remote back end.
pub struct Remote {
    config: RemoteConfig,
    info: ModelInfo,
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl Remote {
    /// Checks that the server answers and serves the model. Blocks; it must run where a tokio
    /// runtime is entered but not on one of its worker threads (`spawn_blocking`).
    pub fn start(mut config: RemoteConfig) -> Result<Remote, EngineError> {
        let started = Instant::now();
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            EngineError::Backend("a remote back end needs the async runtime".into())
        })?;
        let client = client(&config)?;
        let served = runtime.block_on(models(&client, &config))?;
        let model = choose(&config, &served)?;
        config.model = model.id.clone();
        let context = match config.context.or(model.context) {
            Some(context) => context,
            None => runtime
                .block_on(llama_server_context(&client, &config))
                .unwrap_or_else(|| {
                    tracing::info!(
                        backend = config.backend,
                        "the server does not say its context size; assuming {DEFAULT_CONTEXT} (set context in the back end's config)"
                    );
                    DEFAULT_CONTEXT
                }),
        };
        let info = ModelInfo {
            path: PathBuf::from(format!("{}/{}", config.backend, config.model)),
            context,
            trained_context: model.trained_context.unwrap_or(context),
            parameters: model.parameters.unwrap_or(0),
            template: TemplateSource::Server,
            tool_template: true,
            load_ms: started.elapsed().as_secs_f64() * 1000.0,
            runs: Placement::Remote {
                backend: config.backend.clone(),
                host: config.host(),
            },
        };
        tracing::info!(?info, url = config.url, "remote back end ready");
        Ok(Remote {
            config,
            info,
            client,
            runtime,
        })
    }

    /// Facts about the model.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Streams the answer to `job` on a task of its own.
    pub fn submit(&self, job: Job) -> Result<(), EngineError> {
        let task = stream::Task {
            client: self.client.clone(),
            config: self.config.clone(),
            context: self.info.context,
        };
        self.runtime.spawn(task.answer(job));
        Ok(())
    }
}

/// The models a back end's server lists. Blocks like [`Remote::start`] when a runtime is
/// entered, and runs one of its own otherwise (the CLI).
pub fn list_models(config: &RemoteConfig) -> Result<Vec<ServedModel>, EngineError> {
    let client = client(config)?;
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => tokio::task::block_in_place(|| handle.block_on(models(&client, config))),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| EngineError::Backend(e.to_string()))?
            .block_on(models(&client, config)),
    }
}

fn client(config: &RemoteConfig) -> Result<reqwest::Client, EngineError> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(key) = &config.api_key {
        let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}")).map_err(
            |_| {
                EngineError::Server(format!(
                    "the API key of backend {} holds characters a header cannot carry; check the variable that holds it",
                    config.backend
                ))
            },
        )?;
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .connect_timeout(config.timeout)
        .read_timeout(config.timeout)
        // Redirects could take the key elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| EngineError::Backend(format!("cannot set up HTTP: {e}")))
}

async fn models(
    client: &reqwest::Client,
    config: &RemoteConfig,
) -> Result<Vec<ServedModel>, EngineError> {
    let url = config.endpoint("models");
    let failed = |e: &reqwest::Error| error::transport(&config.backend, &url, e, config.timeout);
    let response = client.get(&url).send().await.map_err(|e| failed(&e))?;
    let code = response.status();
    let retry = header(&response, "retry-after");
    let body = response.text().await.map_err(|e| failed(&e))?;
    if !code.is_success() {
        return Err(error::status(
            &config.backend,
            &config.model,
            code.as_u16(),
            retry.as_deref(),
            &body,
        ));
    }
    let listing: Value = serde_json::from_str(&body).map_err(|_| {
        error::malformed(&config.backend, &body.chars().take(60).collect::<String>())
    })?;
    let Some(data) = listing["data"].as_array() else {
        return Err(error::malformed(
            &config.backend,
            &body.chars().take(60).collect::<String>(),
        ));
    };
    let count = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
    Ok(data
        .iter()
        .filter_map(|m| {
            let id = m["id"].as_str()?;
            Some(ServedModel {
                id: crate::text::one_line(&crate::text::inert(id)),
                context: count(&m["max_model_len"]),
                trained_context: count(&m["meta"]["n_ctx_train"]),
                parameters: m["meta"]["n_params"].as_u64(),
            })
        })
        .collect())
}

/// The model the config names among those served (or the only one served).
fn choose(config: &RemoteConfig, served: &[ServedModel]) -> Result<ServedModel, EngineError> {
    let names = || {
        served
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let backend = &config.backend;
    if config.model.is_empty() {
        return match served {
            [only] => Ok(only.clone()),
            [] => Err(EngineError::Server(format!(
                "backend {backend} serves no model"
            ))),
            _ => Err(EngineError::Server(format!(
                "backend {backend} serves several models ({}); choose one with -m {backend}/MODEL or model in [backends.{backend}]",
                names()
            ))),
        };
    }
    served
        .iter()
        .find(|m| m.id == config.model)
        .cloned()
        .ok_or_else(|| {
            EngineError::Server(format!(
                "backend {backend} does not serve {}; it serves: {}",
                config.model,
                names()
            ))
        })
}

/// llama-server's context per slot, from `GET /props` beside the API.
async fn llama_server_context(client: &reqwest::Client, config: &RemoteConfig) -> Option<u32> {
    let base = config.url.trim_end_matches('/');
    let root = base.strip_suffix("/v1").unwrap_or(base);
    let props: Value = client
        .get(format!("{root}/props"))
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?
        .json()
        .await
        .ok()?;
    props["default_generation_settings"]["n_ctx"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
}

/// A response header as text.
fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
