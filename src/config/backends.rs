//! `[backends.NAME]`: inference servers the app can use instead of a local model. The names
//! are the user's, so these tables are read with serde (unknown keys are still errors, with
//! their line) rather than through [`super::field::Field`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// One OpenAI-compatible server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSettings {
    /// The API's base url, up to where `/chat/completions` begins (often ending in `/v1`).
    pub url: String,
    /// The model to use when none is named (`-m NAME` alone); empty: the server's only one.
    #[serde(default)]
    pub model: String,
    /// The environment variable holding the API key, sent as a bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Seconds to wait to connect, for an answer to start, and between its chunks.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u32,
    /// The context size; unset, the server's where it says (vLLM, llama-server), else 4096.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<u32>,
    /// The server renders tools and parses calls itself (`tools` / `tool_calls`); false: the
    /// tools are described in the system prompt and calls read from the text.
    #[serde(default = "yes")]
    pub native_tools: bool,
    /// The server takes sampling fields beyond OpenAI's (`top_k`); false for strict APIs.
    #[serde(default = "yes")]
    pub extra_sampling: bool,
}

fn default_timeout() -> u32 {
    60
}

fn yes() -> bool {
    true
}

/// The file's `[backends]` tables, checked.
pub(super) fn read(
    path: &Path,
    text: &str,
) -> Result<BTreeMap<String, BackendSettings>, ConfigError> {
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        backends: BTreeMap<String, BackendSettings>,
    }
    let file: File = toml::from_str(text).map_err(|e| super::load::syntax(path, text, &e))?;
    for (name, backend) in &file.backends {
        let problem = if !valid_name(name) {
            Some("its name must be lowercase letters, digits, - or _ (it is used as NAME/MODEL)")
        } else if !(backend.url.starts_with("http://") || backend.url.starts_with("https://")) {
            Some("its url must start with http:// or https://")
        } else if backend.timeout_secs == 0 {
            Some("its timeout_secs must be at least 1")
        } else if backend.context.is_some_and(|c| c < 64) {
            Some("its context must be at least 64")
        } else {
            None
        };
        if let Some(rule) = problem {
            return Err(ConfigError::Backend {
                path: path.to_owned(),
                name: name.clone(),
                rule,
            });
        }
    }
    Ok(file.backends)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}
