//! Requests a server makes of us that someone else answers: sampling (the local model writes a
//! message for the server) goes out as a [`HostEvent::Sampling`] and comes back through
//! [`Pending::answer`]; elicitation (the user fills a form or visits a URL) goes out as a
//! [`HostEvent::Elicitation`] and comes back through [`Pending::answer_elicitation`].
//!
//! Invariants: every request gets exactly one answer. One that nobody serves (no chat is
//! running: `plugins call`, `plugins tools`) is rejected at once with why; one whose answerer
//! goes away is rejected when it does. What the server wrote is kept as written for the model
//! and made inert wherever it is shown.
#![expect(
    deprecated,
    reason = "sampling is deprecated by SEP-2577, still served"
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::ErrorData;
use rmcp::model::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult,
    ElicitationAction, ErrorCode, Role, SamplingMessage, SamplingMessageContentBlock,
};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use super::HostEvent;
use crate::plugins::form::{self, Form};

/// The error code MCP gives a request the user rejected.
const USER_REJECTED: ErrorCode = ErrorCode(-1);

/// A server's request for the model to write a message (`sampling/createMessage`).
#[derive(Clone, Debug, PartialEq)]
pub struct SamplingRequest {
    /// Names the request in the answer.
    pub id: u64,
    /// The plugin that asks.
    pub plugin: String,
    /// The system prompt it asks for (as written; show it through `text::inert`).
    pub system_prompt: Option<String>,
    /// The conversation to answer: (is the user, text), oldest first (as written).
    pub messages: Vec<(bool, String)>,
    /// The most tokens it asks for.
    pub max_tokens: u32,
    /// Its temperature, if it asks for one.
    pub temperature: Option<f32>,
    /// Text that ends the answer.
    pub stop: Vec<String>,
}

/// How a sampling request was answered.
#[derive(Clone, Debug, PartialEq)]
pub enum SamplingAnswer {
    /// The model's message, approved.
    Sampled {
        /// The text sent back.
        text: String,
        /// The model that wrote it (its file name).
        model: String,
        /// `endTurn`, `maxTokens` or `stopSequence`.
        stop_reason: String,
    },
    /// Not answered: denied by a rule or the user, or it failed; the reason goes to the
    /// server.
    Rejected(String),
}

/// A server's request for the user's input (`elicitation/create`).
#[derive(Clone, Debug, PartialEq)]
pub struct ElicitationRequest {
    /// Names the request in the answer.
    pub id: u64,
    /// The plugin that asks.
    pub plugin: String,
    /// What it says it needs (as written; show it through `text::inert`).
    pub message: String,
    /// A form to fill, or a URL to visit.
    pub kind: Elicit,
}

/// What an elicitation asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Elicit {
    /// Fill this form.
    Form(Form),
    /// Visit this URL (shown, with its host, never opened without a key press).
    Url {
        /// The URL, as the server wrote it.
        url: String,
    },
}

/// The user's answer to an elicitation.
#[derive(Clone, Debug, PartialEq)]
pub enum ElicitAnswer {
    /// The form's content (checked against its schema), or for a URL: the user went there.
    Accept(Option<Map<String, Value>>),
    /// The user said no; the server may go on without it.
    Decline,
    /// The user dismissed it; the server should stop what it was doing.
    Cancel,
}

/// The requests waiting for an answer, shared by every plugin's client and the callers.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<SamplingAnswer>>>>,
    elicitations: Arc<Mutex<HashMap<u64, oneshot::Sender<ElicitAnswer>>>>,
    next_id: Arc<AtomicU64>,
    /// Whether anyone reads the events that carry requests (a chat runs).
    served: bool,
}

impl Pending {
    /// Requests with an answerer (`served`) or without one.
    pub fn new(served: bool) -> Pending {
        Pending {
            served,
            ..Pending::default()
        }
    }

    /// Answers request `id`; false if it is not waiting (answered, or its server gave up).
    pub fn answer(&self, id: u64, answer: SamplingAnswer) -> bool {
        let sender = self.waiting.lock().ok().and_then(|mut w| w.remove(&id));
        sender.is_some_and(|s| s.send(answer).is_ok())
    }

    /// Answers elicitation `id`; false if it is not waiting.
    pub fn answer_elicitation(&self, id: u64, answer: ElicitAnswer) -> bool {
        let sender = self
            .elicitations
            .lock()
            .ok()
            .and_then(|mut w| w.remove(&id));
        sender.is_some_and(|s| s.send(answer).is_ok())
    }

    /// Puts an elicitation from `plugin` to the user through `events` and waits for the
    /// answer. A form we cannot show is an error naming why; with nobody to ask, it is
    /// declined.
    pub async fn elicit(
        &self,
        plugin: &str,
        params: ElicitRequestParams,
        events: &mpsc::Sender<HostEvent>,
    ) -> Result<ElicitResult, ErrorData> {
        let (message, kind) = match params {
            ElicitRequestParams::FormElicitationParams {
                message,
                requested_schema,
                ..
            } => {
                let schema = serde_json::to_value(&requested_schema).unwrap_or(Value::Null);
                let form = form::parse(&schema).map_err(|e| {
                    tracing::warn!(target: "plugin", plugin, "{e}");
                    ErrorData::invalid_params(e, None)
                })?;
                (message, Elicit::Form(form))
            }
            ElicitRequestParams::UrlElicitationParams { message, url, .. } => {
                (message, Elicit::Url { url })
            }
            _ => {
                let why = "an elicitation mode this version does not know";
                return Err(ErrorData::invalid_params(why, None));
            }
        };
        if !self.served {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        if let Ok(mut waiting) = self.elicitations.lock() {
            waiting.insert(id, reply);
        }
        let _cleanup = Forget(self.elicitations.clone(), id);
        let request = ElicitationRequest {
            id,
            plugin: plugin.to_owned(),
            message,
            kind,
        };
        if events.send(HostEvent::Elicitation(request)).await.is_err() {
            return Ok(ElicitResult::new(ElicitationAction::Cancel));
        }
        Ok(match answer.await {
            Ok(ElicitAnswer::Accept(content)) => {
                let result = ElicitResult::new(ElicitationAction::Accept);
                match content {
                    Some(content) => result.with_content(Value::Object(content)),
                    None => result,
                }
            }
            Ok(ElicitAnswer::Decline) => ElicitResult::new(ElicitationAction::Decline),
            Ok(ElicitAnswer::Cancel) | Err(_) => ElicitResult::new(ElicitationAction::Cancel),
        })
    }

    /// Puts `params` from `plugin` to the answerer through `events` and waits for the answer.
    pub async fn sample(
        &self,
        plugin: &str,
        params: CreateMessageRequestParams,
        events: &mpsc::Sender<HostEvent>,
    ) -> Result<CreateMessageResult, ErrorData> {
        if !self.served {
            return Err(rejected(
                "sampling is answered only in a chat (the app, or a headless run that allows it)",
            ));
        }
        let request = request(self.next_id.fetch_add(1, Ordering::Relaxed), plugin, params)
            .map_err(|e| ErrorData::invalid_params(e, None))?;
        let id = request.id;
        let (reply, answer) = oneshot::channel();
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.insert(id, reply);
        }
        // Whatever happens next, the entry goes: answered, or the server stopped waiting.
        let _cleanup = Forget(self.waiting.clone(), id);
        if events.send(HostEvent::Sampling(request)).await.is_err() {
            return Err(rejected("the app is shutting down"));
        }
        match answer.await {
            Ok(SamplingAnswer::Sampled {
                text,
                model,
                stop_reason,
            }) => Ok(
                CreateMessageResult::new(SamplingMessage::assistant_text(text), model)
                    .with_stop_reason(stop_reason),
            ),
            Ok(SamplingAnswer::Rejected(why)) => Err(rejected(&why)),
            Err(_) => Err(rejected("the app stopped before answering")),
        }
    }
}

/// Removes a request from its waiting map when dropped.
struct Forget<T>(Arc<Mutex<HashMap<u64, oneshot::Sender<T>>>>, u64);

impl<T> Drop for Forget<T> {
    fn drop(&mut self) {
        if let Ok(mut waiting) = self.0.lock() {
            waiting.remove(&self.1);
        }
    }
}

fn rejected(why: &str) -> ErrorData {
    ErrorData::new(USER_REJECTED, why.to_owned(), None)
}

/// The request as we take it: text messages only (a text model reads nothing else), and no
/// tools (we do not advertise `sampling.tools`).
fn request(
    id: u64,
    plugin: &str,
    params: CreateMessageRequestParams,
) -> Result<SamplingRequest, String> {
    if params.messages.is_empty() {
        return Err("a sampling request needs at least one message".to_owned());
    }
    let mut messages = Vec::new();
    for message in params.messages {
        let mut text = Vec::new();
        for block in message.content.into_vec() {
            match block {
                SamplingMessageContentBlock::Text(t) => text.push(t.text),
                SamplingMessageContentBlock::Image(_) => return Err(unsupported("an image")),
                SamplingMessageContentBlock::Audio(_) => return Err(unsupported("audio")),
                SamplingMessageContentBlock::ToolUse(_)
                | SamplingMessageContentBlock::ToolResult(_) => {
                    return Err(unsupported("tool use (sampling.tools is not advertised)"));
                }
                _ => return Err(unsupported("content of a kind this version does not know")),
            }
        }
        messages.push((message.role == Role::User, text.join("\n")));
    }
    Ok(SamplingRequest {
        id,
        plugin: plugin.to_owned(),
        system_prompt: params.system_prompt.filter(|s| !s.trim().is_empty()),
        messages,
        max_tokens: params.max_tokens,
        temperature: params.temperature,
        stop: params.stop_sequences.unwrap_or_default(),
    })
}

fn unsupported(what: &str) -> String {
    format!("the local model reads text only; this request holds {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_messages_are_taken_and_other_content_is_refused_by_name() {
        let params = CreateMessageRequestParams::new(
            vec![
                SamplingMessage::user_text("What is 2+2?"),
                SamplingMessage::assistant_text("4"),
                SamplingMessage::user_text("And 3+3?"),
            ],
            50,
        )
        .with_system_prompt("Be brief.");
        let taken = request(7, "everything", params).expect("text is taken");
        assert_eq!(
            taken.messages,
            vec![
                (true, "What is 2+2?".to_owned()),
                (false, "4".to_owned()),
                (true, "And 3+3?".to_owned())
            ]
        );
        assert_eq!(taken.system_prompt.as_deref(), Some("Be brief."));
        assert_eq!((taken.id, taken.max_tokens), (7, 50));
        let empty = CreateMessageRequestParams::new(Vec::new(), 10);
        assert!(request(1, "p", empty).unwrap_err().contains("at least one"));
    }

    #[tokio::test]
    async fn unserved_requests_are_rejected_and_answers_reach_their_request() {
        let (events, mut seen) = mpsc::channel(4);
        let params = || CreateMessageRequestParams::new(vec![SamplingMessage::user_text("hi")], 5);
        let alone = Pending::new(false).sample("p", params(), &events).await;
        assert!(alone.unwrap_err().message.contains("only in a chat"));

        let pending = Pending::new(true);
        let answerer = pending.clone();
        let asked = tokio::spawn(async move {
            let Some(HostEvent::Sampling(request)) = seen.recv().await else {
                panic!("a sampling event");
            };
            assert!(!answerer.answer(request.id + 1, SamplingAnswer::Rejected("x".into())));
            answerer.answer(
                request.id,
                SamplingAnswer::Sampled {
                    text: "hello".into(),
                    model: "m.gguf".into(),
                    stop_reason: "endTurn".into(),
                },
            )
        });
        let result = pending
            .sample("p", params(), &events)
            .await
            .expect("sampled");
        assert!(asked.await.unwrap());
        assert_eq!(result.model, "m.gguf");
        assert_eq!(result.stop_reason.as_deref(), Some("endTurn"));
        assert!(pending.waiting.lock().unwrap().is_empty());
    }
}
