//! The chat-completion request for one job.
//!
//! The transcript keeps calls as the model wrote them (`<tool_call>` markup, see `chunk.rs`),
//! so each assistant message is parsed again here: its calls go out as `tool_calls` with ids,
//! and the tool messages after it as `role: "tool"` answers to those ids, in order. Sampling
//! goes as the standard fields, plus `top_k` when the back end takes extra fields.

use serde_json::{Value, json};

use crate::engine::{
    ChatMessage, Role, SamplingParams, ToolPrompt, answer_messages, generic_messages, guided,
};
use crate::tools::ToolSpec;

/// How a back end takes tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The server renders tools and parses calls itself (`tools`, `tool_calls`); else the tools
    /// are described in the system prompt and the calls read from the text.
    pub native_tools: bool,
    /// The server takes fields beyond OpenAI's (`top_k`).
    pub extra_sampling: bool,
}

/// The request body: `messages` answered by `model` with `tools` (already chosen within the
/// budget) on offer, streamed.
pub fn body(
    model: &str,
    messages: &[ChatMessage],
    offer: Option<&ToolPrompt>,
    tools: &[ToolSpec],
    sampling: &SamplingParams,
    dialect: Dialect,
) -> Value {
    let answer_only = offer.is_some_and(|o| o.answer_only);
    let prepared: Vec<ChatMessage> = match offer {
        Some(offer) if answer_only => answer_messages(messages, &offer.tools),
        _ if tools.is_empty() => messages.to_vec(),
        _ if dialect.native_tools => guided(messages),
        _ => generic_messages(&guided(messages), tools),
    };
    let known = offer.map_or(&[][..], |o| &o.tools[..]);
    let mut body = json!({
        "model": model,
        "messages": wire_messages(&prepared, known, dialect.native_tools),
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
    });
    if !sampling.is_greedy() {
        body["top_p"] = json!(sampling.top_p);
        if dialect.extra_sampling && sampling.top_k > 0 {
            body["top_k"] = json!(sampling.top_k);
        }
    }
    if let Some(seed) = sampling.seed {
        body["seed"] = json!(seed);
    }
    if !sampling.stop.is_empty() {
        body["stop"] = json!(sampling.stop);
    }
    if dialect.native_tools && !tools.is_empty() && !answer_only {
        body["tools"] = tools.iter().map(function).collect();
        let must_call = offer.is_some_and(|o| o.must_call);
        body["tool_choice"] = json!(if must_call { "required" } else { "auto" });
    }
    body
}

/// A tool as OpenAI's `tools` list has it.
fn function(tool: &ToolSpec) -> Value {
    json!({
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.input_schema,
        }
    })
}

/// The messages on the wire. With native tools, an assistant message's calls become
/// `tool_calls` and each tool message answers the next id; a tool message with no call left
/// to answer goes as a user message, which every server takes.
fn wire_messages(messages: &[ChatMessage], tools: &[ToolSpec], native: bool) -> Vec<Value> {
    let mut out = Vec::with_capacity(messages.len());
    let mut open: std::collections::VecDeque<String> = Default::default();
    let mut next_id = 0;
    for message in messages {
        match message.role {
            Role::Assistant if native => {
                let parsed = crate::tools::parse(&message.content, tools);
                open.clear();
                if parsed.calls.is_empty() {
                    out.push(json!({"role": "assistant", "content": message.content}));
                    continue;
                }
                let calls: Vec<Value> = parsed
                    .calls
                    .iter()
                    .map(|(call, _)| {
                        next_id += 1;
                        let id = format!("call_{next_id}");
                        open.push_back(id.clone());
                        json!({
                            "id": id,
                            "type": "function",
                            "function": {
                                "name": call.name,
                                "arguments": Value::Object(call.arguments.clone()).to_string(),
                            }
                        })
                    })
                    .collect();
                out.push(json!({"role": "assistant", "content": parsed.text, "tool_calls": calls}));
            }
            Role::Tool if native => match open.pop_front() {
                Some(id) => out
                    .push(json!({"role": "tool", "tool_call_id": id, "content": message.content})),
                None => out.push(json!({
                    "role": "user",
                    "content": format!("Tool result:\n{}", message.content),
                })),
            },
            role => {
                open.clear();
                out.push(json!({"role": role.as_str(), "content": message.content}));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(tools: Vec<ToolSpec>) -> ToolPrompt {
        ToolPrompt {
            tools,
            grammar: true,
            answer_only: false,
            must_call: false,
            priority: Vec::new(),
            callable: Vec::new(),
            budget: 0,
            caps: Vec::new(),
            call_max_tokens: 0,
        }
    }

    const NATIVE: Dialect = Dialect {
        native_tools: true,
        extra_sampling: true,
    };

    #[test]
    fn calls_in_the_transcript_go_out_as_tool_calls_answered_in_order() {
        let time = ToolSpec::new("time", "The time", json!({"type": "object"}));
        let messages = [
            ChatMessage::new(Role::System, "Be brief."),
            ChatMessage::new(Role::User, "Time in Tokyo and Paris?"),
            ChatMessage::new(
                Role::Assistant,
                "Checking.\n<tool_call>\n{\"name\": \"time\", \"arguments\": {\"zone\": \"Tokyo\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"time\", \"arguments\": {\"zone\": \"Paris\"}}\n</tool_call>",
            ),
            ChatMessage::new(Role::Tool, "13:00"),
            ChatMessage::new(Role::Tool, "06:00"),
            ChatMessage::new(Role::Tool, "stray"),
        ];
        let offer = offer(vec![time.clone()]);
        let greedy = SamplingParams {
            temperature: 0.0,
            ..SamplingParams::default()
        };
        let body = body("m", &messages, Some(&offer), &[time], &greedy, NATIVE);
        let wire = body["messages"].as_array().unwrap();
        assert!(
            wire[0]["content"]
                .as_str()
                .unwrap()
                .starts_with("Be brief.")
        );
        assert_eq!(wire[2]["content"], "Checking.");
        assert_eq!(wire[2]["tool_calls"][0]["id"], "call_1");
        assert_eq!(
            wire[2]["tool_calls"][1]["function"]["arguments"],
            "{\"zone\":\"Paris\"}"
        );
        assert_eq!(
            wire[3],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "13:00"})
        );
        assert_eq!(wire[4]["tool_call_id"], "call_2");
        assert_eq!(wire[5]["role"], "user");
        assert_eq!(body["tools"][0]["function"]["name"], "time");
        assert_eq!(body["tool_choice"], "auto");
        assert_eq!(body["temperature"], 0.0);
        assert!(body.get("top_k").is_none(), "greedy sends no top_k: {body}");
    }

    #[test]
    fn without_native_tools_they_are_described_in_the_system_prompt() {
        let time = ToolSpec::new("time", "The time", json!({"type": "object"}));
        let messages = [ChatMessage::new(Role::User, "Time?")];
        let dialect = Dialect {
            native_tools: false,
            extra_sampling: false,
        };
        let offer = offer(vec![time.clone()]);
        let sampling = SamplingParams::default();
        let body = body("m", &messages, Some(&offer), &[time], &sampling, dialect);
        assert!(body.get("tools").is_none());
        assert!(body.get("top_k").is_none());
        assert_eq!(body["top_p"], json!(sampling.top_p));
        let system = body["messages"][0]["content"].as_str().unwrap();
        assert!(
            system.contains("<tools>") && system.contains("\"time\""),
            "{system}"
        );
    }
}
