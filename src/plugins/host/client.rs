//! Our side of one plugin's MCP connection: what we advertise, and what we do with the
//! server's requests and notifications.
//!
//! Invariants: we advertise only what we answer in full (roots, sampling, elicitation); rmcp
//! refuses a
//! server's request for a capability we did not advertise. Roots are the directories the
//! manifest grants, as `file://` URIs. Progress and log notifications become host events;
//! progress is matched to its call by the token rmcp put on the request ([`Progress`]).
//! Everything a server says is untrusted text: logs and progress messages are made inert.
// Roots, sampling and logging are deprecated in MCP 2026-07-28 (SEP-2577) but still served,
// and the servers of 2025-11-25 and before depend on them.
#![expect(
    deprecated,
    reason = "roots, sampling and logging are deprecated by SEP-2577, still served"
)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rmcp::model::{
    ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequestParams, ElicitResult, ElicitationCapability, FormElicitationCapability,
    Implementation, ListRootsResult, LoggingLevel, LoggingMessageNotificationParam,
    ProgressNotificationParam, ProgressToken, ResourceUpdatedNotificationParam, Root,
    UrlElicitationCapability,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ClientHandler, ErrorData, RoleClient};
use tokio::sync::mpsc;

use super::HostEvent;
use super::requests::Pending;
use crate::text;

/// The longest log or progress message passed on, in characters.
const MESSAGE_CHARS: usize = 500;

/// The calls in flight that may hear progress: token → tool name.
#[derive(Clone, Debug, Default)]
pub struct Progress(Arc<Mutex<HashMap<ProgressToken, String>>>);

impl Progress {
    /// Progress for `token` belongs to a call of `tool` until the guard is dropped.
    pub fn track(&self, token: ProgressToken, tool: &str) -> Tracked {
        if let Ok(mut calls) = self.0.lock() {
            calls.insert(token.clone(), tool.to_owned());
        }
        Tracked {
            progress: self.clone(),
            token,
        }
    }

    fn tool(&self, token: &ProgressToken) -> Option<String> {
        self.0.lock().ok()?.get(token).cloned()
    }
}

/// A call's place in [`Progress`]; removed when dropped.
pub struct Tracked {
    progress: Progress,
    token: ProgressToken,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Ok(mut calls) = self.progress.0.lock() {
            calls.remove(&self.token);
        }
    }
}

/// What answers a server's questions, whether it asks with a request of its own (protocol
/// 2025-11-25 and before) or in an input-required round of our request (2026-07-28).
#[derive(Clone)]
pub struct Inputs {
    /// The plugin's id, for events and logs.
    pub plugin: String,
    /// Where its requests and logs go.
    pub events: mpsc::Sender<HostEvent>,
    /// The servers' requests waiting for an answer.
    pub pending: Pending,
    /// The granted directories, as roots.
    pub roots: Vec<Root>,
}

impl Inputs {
    /// `sampling/createMessage`: the local model writes, if the user and rules let it.
    pub async fn sample(
        &self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, ErrorData> {
        self.pending
            .sample(&self.plugin, params, &self.events)
            .await
    }

    /// `elicitation/create`: the user answers a form or visits a URL.
    pub async fn elicit(&self, request: ElicitRequestParams) -> Result<ElicitResult, ErrorData> {
        self.pending
            .elicit(&self.plugin, request, &self.events)
            .await
    }

    /// `roots/list`.
    pub fn roots(&self) -> ListRootsResult {
        ListRootsResult::new(self.roots.clone())
    }
}

/// Our MCP client for one plugin.
pub struct Client {
    /// Who answers the server's questions.
    pub inputs: Inputs,
    /// One pending "list the tools again".
    pub changed: mpsc::Sender<()>,
    /// The calls that may hear progress.
    pub progress: Progress,
}

impl ClientHandler for Client {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        // One pending refresh is enough: a full channel already means "list again".
        let _ = self.changed.try_send(());
    }

    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        Ok(self.inputs.roots())
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        self.inputs.sample(params).await
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        self.inputs.elicit(request).await
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        // Advisory, like progress: dropped rather than waited for when events back up.
        let _ = self.inputs.events.try_send(HostEvent::ResourceUpdated {
            plugin: self.inputs.plugin.clone(),
            uri: params.uri,
        });
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let Some(tool) = self.progress.tool(&params.progress_token) else {
            return;
        };
        let event = HostEvent::Progress {
            plugin: self.inputs.plugin.clone(),
            tool,
            progress: params.progress,
            total: params.total,
            message: params.message.as_deref().map(inert_line),
        };
        // Progress is advisory: dropped rather than waited for when events back up.
        let _ = self.inputs.events.try_send(event);
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let data = match &params.data {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let text = match &params.logger {
            Some(logger) => inert_line(&format!("{logger}: {data}")),
            None => inert_line(&data),
        };
        let level = level_name(params.level);
        let plugin = &self.inputs.plugin;
        match params.level {
            LoggingLevel::Debug => {
                tracing::debug!(target: "plugin", plugin = %plugin, level, "{text}")
            }
            LoggingLevel::Info | LoggingLevel::Notice => {
                tracing::info!(target: "plugin", plugin = %plugin, level, "{text}")
            }
            LoggingLevel::Warning => {
                tracing::warn!(target: "plugin", plugin = %plugin, level, "{text}")
            }
            LoggingLevel::Error
            | LoggingLevel::Critical
            | LoggingLevel::Alert
            | LoggingLevel::Emergency => {
                tracing::error!(target: "plugin", plugin = %plugin, level, "{text}")
            }
        }
        let _ = self.inputs.events.try_send(HostEvent::Log {
            plugin: plugin.clone(),
            level: level.to_owned(),
            text,
        });
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            capabilities(),
            Implementation::new("libre-assistant", env!("CARGO_PKG_VERSION")),
        )
    }
}

/// What we advertise: roots, sampling and elicitation (forms and URLs). (Roots change only with a grant, which restarts
/// the plugin under a new sandbox, so there is no `listChanged` to send; sampling takes text,
/// not tools.)
fn capabilities() -> ClientCapabilities {
    let elicitation = ElicitationCapability::new()
        .with_form(FormElicitationCapability::default())
        .with_url(UrlElicitationCapability::default());
    ClientCapabilities::builder()
        .enable_roots()
        .enable_sampling()
        .enable_elicitation_with(elicitation)
        .build()
}

/// The directories among `read` and `write` (expanded paths), each once, as roots.
pub fn roots(read: &[String], write: &[String]) -> Vec<Root> {
    let mut seen = Vec::new();
    for path in read.iter().chain(write) {
        let path = Path::new(path);
        if path.is_dir() && !seen.contains(&path) {
            seen.push(path);
        }
    }
    seen.into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map_or_else(|| p.to_string_lossy(), |n| n.to_string_lossy());
            Root::new(file_uri(p)).with_name(name.into_owned())
        })
        .collect()
}

/// `path` (absolute) as a `file://` URI, every byte outside the unreserved set and `/`
/// percent-encoded.
pub fn file_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file://");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

fn level_name(level: LoggingLevel) -> &'static str {
    match level {
        LoggingLevel::Debug => "debug",
        LoggingLevel::Info => "info",
        LoggingLevel::Notice => "notice",
        LoggingLevel::Warning => "warning",
        LoggingLevel::Error => "error",
        LoggingLevel::Critical => "critical",
        LoggingLevel::Alert => "alert",
        LoggingLevel::Emergency => "emergency",
    }
}

/// Untrusted text as one inert line of at most [`MESSAGE_CHARS`].
fn inert_line(s: &str) -> String {
    let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = line.chars().take(MESSAGE_CHARS).collect();
    text::inert(&cut).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_the_granted_directories_once_as_file_uris() {
        let dir = tempfile::tempdir().expect("temp dir");
        let spaced = dir.path().join("my notes");
        std::fs::create_dir(&spaced).expect("mkdir");
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "x").expect("write");
        let s = |p: &Path| p.to_string_lossy().into_owned();
        let roots = roots(
            &[s(&spaced), s(&file), s(dir.path())],
            &[s(&spaced), "/no/such/dir".to_owned()],
        );
        let uris: Vec<&str> = roots.iter().map(|r| r.uri.as_str()).collect();
        assert_eq!(
            uris,
            vec![
                format!("file://{}/my%20notes", s(dir.path())),
                format!("file://{}", s(dir.path())),
            ]
        );
        assert_eq!(roots[0].name.as_deref(), Some("my notes"));
    }

    #[test]
    fn server_text_becomes_one_inert_line() {
        assert_eq!(inert_line("a\n\x1b[31mred\x1b[0m  b"), "a ␛[31mred␛[0m b");
    }
}
