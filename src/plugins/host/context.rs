//! What a server offers besides tools: its resources (to read and attach to a message), its
//! prompts (to run as slash commands) and argument completion, asked of a running plugin's
//! peer and answered in our own types.
//!
//! Invariants: every text a server sends is returned as written (callers make it inert where
//! it is shown); a resource that is not text, or past [`RESOURCE_LIMIT`], is refused with
//! one line saying so; a prompt's messages keep only text (anything else is named).

use rmcp::model::{
    CompletionContext, ContentBlock, GetPromptRequestParams, GetPromptResponse, GetPromptResult,
    ReadResourceRequestParams, ReadResourceResponse, ResourceContents, Role,
    SubscribeRequestParams,
};
use rmcp::service::Peer;
use rmcp::{RoleClient, ServiceError};
use serde_json::{Map, Value};

use super::client::Inputs;
use super::rounds;
use crate::text::one_line;

/// The most bytes of one resource read.
pub const RESOURCE_LIMIT: usize = 256 * 1024;

/// What to ask a server.
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    /// Its resources and resource templates.
    Resources,
    /// One resource's contents.
    Read {
        /// Its URI.
        uri: String,
    },
    /// Its prompts.
    Prompts,
    /// One prompt, rendered with its arguments.
    Prompt {
        /// The prompt's name.
        name: String,
        /// Its arguments (strings).
        arguments: Map<String, Value>,
    },
    /// Tell us when this resource changes (`resources/subscribe`): a
    /// [`super::HostEvent::ResourceUpdated`] comes each time.
    Subscribe {
        /// Its URI.
        uri: String,
    },
    /// Values for a prompt's argument that start as `value` does.
    Complete {
        /// The prompt's name.
        prompt: String,
        /// The argument's name.
        argument: String,
        /// What is typed so far.
        value: String,
        /// The prompt's other arguments as given so far (a server may narrow by them).
        given: Vec<(String, String)>,
    },
}

/// A server's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Its resources (templates last).
    Resources(Vec<ResourceInfo>),
    /// A resource's text.
    Read(ResourceText),
    /// Its prompts.
    Prompts(Vec<PromptInfo>),
    /// A prompt's messages: (is the user, text).
    Prompt(Vec<(bool, String)>),
    /// Completions.
    Completions(Vec<String>),
    /// The subscription is made.
    Subscribed,
}

/// One resource, or a template for many.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    /// Its URI, or its URI template (`demo://resource/{id}`).
    pub uri: String,
    /// Its name (its title when it has one).
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Its MIME type.
    pub mime_type: Option<String>,
    /// A template, not a resource.
    pub template: bool,
}

/// A resource read as text.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceText {
    /// Its URI.
    pub uri: String,
    /// Its MIME type.
    pub mime_type: Option<String>,
    /// Its text (every text part, joined).
    pub text: String,
}

/// One prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptInfo {
    /// Its name, as `/PLUGIN:NAME` spells it.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// Its arguments.
    pub arguments: Vec<PromptArg>,
}

/// One argument of a prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptArg {
    /// Its name.
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Whether the prompt needs it.
    pub required: bool,
}

/// Asks `peer`; an error is one line.
pub async fn ask(peer: &Peer<RoleClient>, inputs: &Inputs, ask: Ask) -> Result<Answer, String> {
    match ask {
        Ask::Resources => {
            let resources = peer.list_all_resources().await.map_err(line)?;
            let templates = peer.list_all_resource_templates().await.unwrap_or_default();
            let mut out: Vec<ResourceInfo> = resources
                .into_iter()
                .map(|r| ResourceInfo {
                    name: r.title.clone().unwrap_or_else(|| r.name.clone()),
                    uri: r.uri.clone(),
                    description: r.description.clone(),
                    mime_type: r.mime_type.clone(),
                    template: false,
                })
                .collect();
            out.extend(templates.into_iter().map(|t| ResourceInfo {
                name: t.title.clone().unwrap_or_else(|| t.name.clone()),
                uri: t.uri_template.clone(),
                description: t.description.clone(),
                mime_type: t.mime_type.clone(),
                template: true,
            }));
            Ok(Answer::Resources(out))
        }
        Ask::Read { uri } => {
            let contents = read_rounds(peer, inputs, &uri).await?;
            read(&uri, contents).map(Answer::Read)
        }
        Ask::Prompts => {
            let prompts = peer.list_all_prompts().await.map_err(line)?;
            Ok(Answer::Prompts(
                prompts
                    .into_iter()
                    .map(|p| PromptInfo {
                        name: p.name,
                        description: p.description,
                        arguments: p
                            .arguments
                            .unwrap_or_default()
                            .into_iter()
                            .map(|a| PromptArg {
                                name: a.name,
                                description: a.description,
                                required: a.required.unwrap_or(false),
                            })
                            .collect(),
                    })
                    .collect(),
            ))
        }
        Ask::Prompt { name, arguments } => {
            let params = GetPromptRequestParams::new(name).with_arguments(arguments);
            let result = prompt_rounds(peer, inputs, params).await?;
            let messages = result
                .messages
                .into_iter()
                .map(|m| (m.role == Role::User, content_text(&m.content)))
                .collect();
            Ok(Answer::Prompt(messages))
        }
        Ask::Subscribe { uri } => {
            #[expect(
                deprecated,
                reason = "resources/subscribe is how 2025-11-25 servers do it"
            )]
            let subscribed = peer.subscribe(SubscribeRequestParams::new(uri)).await;
            subscribed.map_err(line)?;
            Ok(Answer::Subscribed)
        }
        Ask::Complete {
            prompt,
            argument,
            value,
            given,
        } => {
            let context = (!given.is_empty())
                .then(|| CompletionContext::with_arguments(given.into_iter().collect()));
            let completion = peer
                .complete_prompt_argument(prompt, argument, value, context)
                .await
                .map_err(line)?;
            Ok(Answer::Completions(completion.values))
        }
    }
}

/// Reads `uri`, answering the server's input-required rounds.
async fn read_rounds(
    peer: &Peer<RoleClient>,
    inputs: &Inputs,
    uri: &str,
) -> Result<Vec<ResourceContents>, String> {
    let mut params = ReadResourceRequestParams::new(uri);
    let mut quiet = 0;
    for _ in 0..rounds::MAX_ROUNDS {
        match peer
            .read_resource_once(params.clone())
            .await
            .map_err(line)?
        {
            ReadResourceResponse::Complete(result) => return Ok(result.contents),
            ReadResourceResponse::InputRequired(asked) => {
                let retry = rounds::answer(inputs, asked, &mut quiet).await?;
                params.input_responses = retry.responses;
                params.request_state = retry.state;
            }
            _ => return Err(UNKNOWN_ANSWER.to_owned()),
        }
    }
    Err(rounds::too_many())
}

/// Gets a prompt, answering the server's input-required rounds.
async fn prompt_rounds(
    peer: &Peer<RoleClient>,
    inputs: &Inputs,
    mut params: GetPromptRequestParams,
) -> Result<GetPromptResult, String> {
    let mut quiet = 0;
    for _ in 0..rounds::MAX_ROUNDS {
        match peer.get_prompt_once(params.clone()).await.map_err(line)? {
            GetPromptResponse::Complete(result) => return Ok(result),
            GetPromptResponse::InputRequired(asked) => {
                let retry = rounds::answer(inputs, asked, &mut quiet).await?;
                params.input_responses = retry.responses;
                params.request_state = retry.state;
            }
            _ => return Err(UNKNOWN_ANSWER.to_owned()),
        }
    }
    Err(rounds::too_many())
}

/// A kind of answer newer than this version.
const UNKNOWN_ANSWER: &str = "the server answered with a kind of result this version does not take";

/// A service error as one line.
fn line(e: ServiceError) -> String {
    match e {
        ServiceError::McpError(e) => one_line(&e.message),
        other => one_line(&other.to_string()),
    }
}

/// The text of a resource's contents, or why it cannot be read as text.
fn read(uri: &str, contents: Vec<ResourceContents>) -> Result<ResourceText, String> {
    let mut text = String::new();
    let mut mime = None;
    for part in contents {
        match part {
            ResourceContents::TextResourceContents {
                text: t, mime_type, ..
            } => {
                mime = mime.or(mime_type);
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&t);
            }
            ResourceContents::BlobResourceContents {
                mime_type, blob, ..
            } => {
                let kind = mime_type.map_or_else(String::new, |m| format!("{m}, "));
                return Err(format!(
                    "{uri} comes as binary data ({kind}about {} bytes), not text; only text resources can be read or attached",
                    blob.len() * 3 / 4
                ));
            }
            _ => {
                return Err(format!(
                    "{uri} holds contents of a kind this version does not read"
                ));
            }
        }
        if text.len() > RESOURCE_LIMIT {
            return Err(format!(
                "{uri} is over {} KiB; at most {} KiB of a resource is read",
                text.len() / 1024,
                RESOURCE_LIMIT / 1024
            ));
        }
    }
    Ok(ResourceText {
        uri: uri.to_owned(),
        mime_type: mime,
        text,
    })
}

/// A content block as text: text itself, an embedded text resource, or a line naming what
/// it was.
/// One content block of a prompt's message or a tool's result as text: text as it is, an
/// embedded text resource after a line naming it, a resource link as a line naming it (so the
/// user can attach it with `@PLUGIN:URI`); binary content is named and left out.
pub(super) fn content_text(content: &ContentBlock) -> String {
    let mime = |m: &Option<String>| m.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
    match content {
        ContentBlock::Text(text) => text.text.clone(),
        ContentBlock::Resource(embedded) => match &embedded.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => format!("[{uri}]\n{text}"),
            ResourceContents::BlobResourceContents { uri, mime_type, .. } => {
                format!("[{uri}{}: binary, left out]", mime(mime_type))
            }
            _ => "[a resource of a kind this version does not read, left out]".to_owned(),
        },
        ContentBlock::ResourceLink(link) => {
            let name = link.title.as_deref().unwrap_or(&link.name);
            let about = link
                .description
                .as_deref()
                .map(|d| format!(" - {d}"))
                .unwrap_or_default();
            format!(
                "[resource {name}: {}{}{about}]",
                link.uri,
                mime(&link.mime_type)
            )
        }
        ContentBlock::Image(image) => format!("[an image ({}), left out]", image.mime_type),
        ContentBlock::Audio(audio) => format!("[audio ({}), left out]", audio.mime_type),
        _ => "[content that is not text, left out]".to_owned(),
    }
}
