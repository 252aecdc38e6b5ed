//! Turning a conversation into prompt tokens: the chat template, and trimming to the context.
//!
//! The model's own template is used; a model without one falls back to ChatML (documented in
//! docs/models.md), and the config's `engine.chat_template` overrides both. With ChatML, its
//! markup also ends an answer (`Template::stops`). Raw completion (`--raw`) uses no template:
//! the prompt's text is sent as it is. When the history no
//! longer fits, whole turns are dropped from the oldest end; the system prompt is always kept.

use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;

use super::EngineError;
use super::budget::{self, ToolOffer, choose_tools};
use super::jinja::JinjaTemplate;
use super::tools::{ToolPrompt, answer_messages, generic_messages, guided};
use crate::tools::ToolSpec;

/// The template used when a model carries none: llama.cpp's built-in ChatML.
pub const FALLBACK_TEMPLATE: &str = "chatml";

/// ChatML's markup, where an answer ends. A model without the template has no special tokens
/// for these, writes them as plain text, and would run on past them (docs/models.md).
pub const CHATML_STOPS: [&str; 3] = ["<|im_end|>", "<|im_start|>", "<|endoftext|>"];

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Standing instructions.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
    /// A tool's result, answering the assistant's call.
    Tool,
}

impl Role {
    /// The role's name as chat templates spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChatMessage {
    /// Who wrote it.
    pub role: Role,
    /// What it says.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: content.into(),
        }
    }
}

/// Where the template in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    /// The model file's own `tokenizer.chat_template`.
    Model,
    /// The model has none (or llama.cpp cannot apply it): ChatML.
    Fallback,
    /// `engine.chat_template` from the config.
    Override(String),
    /// No template at all: the prompt is sent as given (`--raw`, for base models).
    Raw,
    /// The inference server's own (a remote back end: nothing is rendered here).
    Server,
}

/// The chosen template and where it came from.
pub struct Template {
    template: LlamaChatTemplate,
    /// Where it came from.
    pub source: TemplateSource,
    /// The model's Jinja template, compiled, when it takes `tools`; turns that offer tools
    /// render with it.
    jinja: Option<JinjaTemplate>,
}

impl Template {
    /// Picks raw completion, else the override, else the model's template, else the fallback.
    pub fn choose(
        model: &LlamaModel,
        override_: Option<&str>,
        raw: bool,
    ) -> Result<Template, EngineError> {
        if raw {
            let mut template = Template::fallback();
            template.source = TemplateSource::Raw;
            return Ok(template);
        }
        if let Some(name) = override_ {
            let template = LlamaChatTemplate::new(name).map_err(|_| {
                EngineError::Template("the chat_template override contains a NUL byte".into())
            })?;
            return Ok(Template {
                template,
                source: TemplateSource::Override(name.to_string()),
                jinja: None,
            });
        }
        match model.chat_template(None) {
            Ok(template) => Ok(Template {
                jinja: tool_template(model, &template),
                template,
                source: TemplateSource::Model,
            }),
            Err(_) => Ok(Template::fallback()),
        }
    }

    /// Whether the template takes tools itself.
    pub fn takes_tools(&self) -> bool {
        self.jinja.is_some()
    }

    fn fallback() -> Template {
        Template {
            template: LlamaChatTemplate::new(FALLBACK_TEMPLATE).expect("constant has no NUL"),
            source: TemplateSource::Fallback,
            jinja: None,
        }
    }

    /// The text that ends an answer besides the model's end-of-generation tokens: ChatML's
    /// markup when ChatML is in use (a model without the template writes it as text).
    pub fn stops(&self) -> &'static [&'static str] {
        match &self.source {
            TemplateSource::Fallback => &CHATML_STOPS,
            TemplateSource::Override(name) if name == FALLBACK_TEMPLATE => &CHATML_STOPS,
            TemplateSource::Model
            | TemplateSource::Override(_)
            | TemplateSource::Raw
            | TemplateSource::Server => &[],
        }
    }

    /// Renders `messages` with `tools` offered and opens the assistant's reply. Raw
    /// completion sends the messages' text as it is, with no markup.
    pub fn render(
        &mut self,
        model: &LlamaModel,
        messages: &[ChatMessage],
        tools: &[ToolSpec],
    ) -> Result<String, EngineError> {
        if self.source == TemplateSource::Raw {
            return Ok(messages.iter().map(|m| m.content.as_str()).collect());
        }
        let guided_messages;
        let messages = match tools.is_empty() {
            true => messages,
            false => {
                guided_messages = guided(messages);
                &guided_messages
            }
        };
        if !tools.is_empty()
            && let Some(jinja) = &self.jinja
        {
            match jinja.render(messages, tools) {
                Ok(text) => return Ok(text),
                Err(e) => {
                    tracing::warn!(
                        "the model's template cannot render tools ({e}); describing them in the system prompt instead"
                    );
                    self.jinja = None;
                }
            }
        }
        let messages = generic_messages(messages, tools);
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.as_str().to_string(), m.content.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| EngineError::Template("a message contains a NUL byte".into()))?;
        match model.apply_chat_template(&self.template, &chat, true) {
            Ok(text) => Ok(text),
            Err(e) if self.source == TemplateSource::Model => {
                tracing::warn!(
                    "the model's chat template cannot be applied ({e}); using {FALLBACK_TEMPLATE}"
                );
                *self = Template::fallback();
                self.render(model, &messages, &[])
            }
            Err(e) => Err(EngineError::Template(format!(
                "cannot apply the chat template: {e}"
            ))),
        }
    }
}

/// A prompt that fits the context.
#[derive(Debug)]
pub struct FittedPrompt {
    /// The tokens to have in the KV cache before generating.
    pub tokens: Vec<LlamaToken>,
    /// How many of the oldest non-system messages were left out to fit.
    pub dropped_messages: usize,
    /// The tools in the prompt (the offer's, within the budget); empty when none.
    pub tools: Vec<ToolSpec>,
    /// How the tools were chosen; None when the job offers none (or only asks for words).
    pub offer: Option<ToolOffer>,
}

/// Renders and tokenizes `messages`, dropping the oldest turns until the prompt leaves
/// `reserve` tokens of the `n_ctx` context for the answer. The offer's tools go in within
/// the tool budget (see `budget.rs`), which never takes the room of the last message.
///
/// Once history must go, turns are dropped until a quarter of the context is free beyond
/// `reserve`: the caller leaves the same messages out from then on (the core moves its window),
/// so the next few turns fit after the same start and reuse its cached tokens. Dropping only
/// what one turn needs would change the prompt right after the system prompt every turn, and
/// the whole window would be decoded again each time.
///
/// If even the system prompt plus the last message cannot fit with at least a few tokens of
/// room, that is `EngineError::PromptTooLong`.
pub fn fit(
    model: &LlamaModel,
    template: &mut Template,
    messages: &[ChatMessage],
    offer: Option<&ToolPrompt>,
    n_ctx: u32,
    reserve: u32,
) -> Result<FittedPrompt, EngineError> {
    let folded;
    let messages: &[ChatMessage] = match offer {
        Some(offer) if offer.answer_only => {
            folded = answer_messages(messages, &offer.tools);
            &folded
        }
        _ => messages,
    };
    let has_system = messages.first().is_some_and(|m| m.role == Role::System);
    let first_droppable = usize::from(has_system);
    let chosen = match offer {
        Some(offer) if !offer.answer_only && !offer.tools.is_empty() => {
            let last = messages.len().saturating_sub(1).max(first_droppable);
            let least = kept(messages, first_droppable, last - first_droppable);
            let base = tokenize(model, &template.render(model, &least, &[])?).len() as u32;
            let room = n_ctx.saturating_sub(base + reserve);
            Some(choose_tools(
                offer,
                budget::costs(model, &offer.tools),
                n_ctx,
                room,
            ))
        }
        _ => None,
    };
    let tools = match &chosen {
        Some((_, tools)) => tools.clone(),
        None => Vec::new(),
    };
    let mut dropped = 0;
    // Beyond the answer's reserve, what a trimmed prompt leaves free for the turns to come.
    let mut spare = 0;
    loop {
        let kept_now = kept(messages, first_droppable, dropped);
        let text = template.render(model, &kept_now, &tools)?;
        let tokens = tokenize(model, &text);
        let len = tokens.len() as u32;
        let fits = len + reserve + spare <= n_ctx;
        if !fits && dropped == 0 {
            spare = n_ctx / 4;
        }
        let next = (!fits)
            .then(|| next_drop(messages, first_droppable, dropped))
            .flatten();
        if let Some(next) = next {
            dropped = next;
            continue;
        }
        // Nothing left to drop: without the spare room, if it fits that way.
        let fits = len + reserve <= n_ctx;
        // Not even that: use whatever room remains, if any.
        if !fits && len + MIN_ANSWER_ROOM > n_ctx {
            return Err(EngineError::PromptTooLong {
                tokens: len,
                context: n_ctx,
            });
        }
        return Ok(FittedPrompt {
            tokens,
            dropped_messages: dropped,
            offer: chosen.map(|(offer, _)| offer),
            tools,
        });
    }
}

/// Tokenizes rendered prompt text (special tokens parsed, BOS added once).
pub(super) fn tokenize(model: &LlamaModel, text: &str) -> Vec<LlamaToken> {
    let mut tokens = model.vocab().tokenize(text.as_bytes(), true, true);
    // A template that prints the BOS token itself gets a second one from tokenize.
    let bos = model.vocab().bos();
    if tokens.len() > 1 && tokens[0] == bos && tokens[1] == bos {
        tokens.remove(0);
    }
    tokens
}

/// Stands for the next user message while rendering a prefix; never shown to a model.
const NEXT_MESSAGE: &str = "\u{2063}libre-assistant: next message\u{2063}";

/// The tokens every prompt that continues `messages` with a user message starts with: the
/// conversation rendered (with `offer`'s tools) up to where that message's text begins, less
/// the last token, which may merge with the text that follows. None when the template does
/// not show where the message goes, or when the prefix takes more than half the context
/// (the turn will trim history, so the prefix would not be reused).
pub fn prefix(
    model: &LlamaModel,
    template: &mut Template,
    messages: &[ChatMessage],
    offer: Option<&ToolPrompt>,
    n_ctx: u32,
    reserve: u32,
) -> Result<Option<Vec<LlamaToken>>, EngineError> {
    let mut probe = messages.to_vec();
    probe.push(ChatMessage::new(Role::User, NEXT_MESSAGE));
    let tools = match offer {
        Some(offer) if !offer.answer_only && !offer.tools.is_empty() => {
            let base = tokenize(model, &template.render(model, &probe, &[])?).len() as u32;
            let costs = budget::costs(model, &offer.tools);
            choose_tools(offer, costs, n_ctx, n_ctx.saturating_sub(base + reserve)).1
        }
        _ => Vec::new(),
    };
    let text = template.render(model, &probe, &tools)?;
    let Some(cut) = text.find(NEXT_MESSAGE) else {
        return Ok(None);
    };
    let mut tokens = tokenize(model, &text[..cut]);
    tokens.pop();
    if tokens.is_empty() || tokens.len() as u32 > n_ctx / 2 {
        return Ok(None);
    }
    Ok(Some(tokens))
}

/// The model's template compiled with minijinja, when it reads `tools`; None otherwise, or
/// when it does not compile (then tools go in the system prompt).
fn tool_template(model: &LlamaModel, template: &LlamaChatTemplate) -> Option<JinjaTemplate> {
    let source = template.to_string().ok()?;
    if !JinjaTemplate::takes_tools(&source) {
        return None;
    }
    let vocab = model.vocab();
    let text = |t| {
        vocab
            .text(t)
            .and_then(|c| c.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    match JinjaTemplate::new(&source, text(vocab.bos()), text(vocab.eos())) {
        Ok(jinja) => Some(jinja),
        Err(e) => {
            tracing::warn!(
                "the model's chat template does not compile ({e}); tools go in the system prompt"
            );
            None
        }
    }
}

/// The fewest tokens of room an answer must have for a prompt to be accepted at all.
const MIN_ANSWER_ROOM: u32 = 16;

/// The messages kept after dropping `dropped` messages that follow the system prompt.
pub fn kept(messages: &[ChatMessage], first_droppable: usize, dropped: usize) -> Vec<ChatMessage> {
    let mut out = messages[..first_droppable].to_vec();
    out.extend_from_slice(&messages[first_droppable + dropped..]);
    out
}

/// How many messages to drop next: through the end of the oldest remaining turn (a user
/// message and the replies that follow it), never the last message.
pub fn next_drop(
    messages: &[ChatMessage],
    first_droppable: usize,
    dropped: usize,
) -> Option<usize> {
    let start = first_droppable + dropped;
    let last = messages.len().checked_sub(1)?;
    if start >= last {
        return None;
    }
    let mut end = start + 1;
    while end < last && messages[end].role != Role::User {
        end += 1;
    }
    Some(end - first_droppable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(roles: &[Role]) -> Vec<ChatMessage> {
        roles
            .iter()
            .enumerate()
            .map(|(i, r)| ChatMessage::new(*r, i.to_string()))
            .collect()
    }

    #[test]
    fn drops_whole_turns_after_the_system_prompt() {
        use Role::*;
        let m = conv(&[System, User, Assistant, User, Assistant, User]);
        assert_eq!(next_drop(&m, 1, 0), Some(2));
        assert_eq!(next_drop(&m, 1, 2), Some(4));
        assert_eq!(next_drop(&m, 1, 4), None);
        let window = kept(&m, 1, 4);
        assert_eq!(window, vec![m[0].clone(), m[5].clone()]);
    }

    #[test]
    fn without_a_system_prompt_the_first_turn_goes_first() {
        use Role::*;
        let m = conv(&[User, Assistant, User]);
        assert_eq!(next_drop(&m, 0, 0), Some(2));
        assert_eq!(next_drop(&m, 0, 2), None);
    }

    #[test]
    fn the_last_message_is_never_dropped() {
        use Role::*;
        assert_eq!(next_drop(&conv(&[System, User]), 1, 0), None);
        assert_eq!(next_drop(&conv(&[]), 0, 0), None);
    }
}
