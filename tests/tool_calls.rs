//! The real engine offered tools: the model's own template (Qwen) or the generic format
//! (SmolLM2), and the grammar that holds an opened call to the tools' schemas. Assertions are
//! on the parsed, validated call, never on wording or time.

mod support;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use libre_assistant::engine::{ChatMessage, Engine, Job, Output, Role, SamplingParams, ToolPrompt};
use libre_assistant::tools::{self, ToolSpec};
use serde_json::json;

fn time_tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "current_time",
            "The current date and time in an IANA time zone (default UTC).",
            json!({"type": "object", "properties": {"timezone": {"type": "string", "description": "IANA time zone, such as \"Europe/Paris\""}}, "required": ["timezone"]}),
        ),
        ToolSpec::new(
            "evaluate",
            "Evaluate an arithmetic expression.",
            json!({"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]}),
        ),
    ]
}

fn answer(
    engine: &Engine,
    messages: Vec<ChatMessage>,
    tools: Vec<ToolSpec>,
    grammar: bool,
) -> String {
    answer_with(engine, messages, tools, grammar, false)
}

fn answer_with(
    engine: &Engine,
    messages: Vec<ChatMessage>,
    tools: Vec<ToolSpec>,
    grammar: bool,
    answer_only: bool,
) -> String {
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    engine
        .submit(Job {
            messages,
            sampling: SamplingParams {
                temperature: 0.0,
                max_tokens: 96,
                ..SamplingParams::default()
            },
            tools: Some(Arc::new(ToolPrompt {
                tools,
                grammar,
                answer_only,
                priority: Vec::new(),
                callable: Vec::new(),
                budget: 0,
                call_max_tokens: 0,
            })),
            cancel: Arc::new(AtomicBool::new(false)),
            output: tx,
        })
        .unwrap();
    let mut text = String::new();
    while let Some(out) = rx.blocking_recv() {
        match out {
            Output::Piece(p) => text.push_str(&p),
            Output::Done { .. } => break,
            Output::Failed(e) => panic!("{e}"),
            Output::Trimmed { .. } | Output::Offered(_) => {}
        }
    }
    text
}

fn tokyo() -> Vec<ChatMessage> {
    vec![ChatMessage::new(Role::User, "What time is it in Tokyo?")]
}

#[test]
fn qwen_calls_the_time_tool_with_valid_arguments() {
    let engine = Engine::start(support::engine_config(support::qwen(), 2048)).unwrap();
    let text = answer(&engine, tokyo(), time_tools(), true);
    eprintln!("{text}");
    let parsed = tools::parse(&text, &time_tools());
    assert_eq!(parsed.calls.len(), 1, "{text}");
    let (call, _) = &parsed.calls[0];
    assert_eq!(call.name, "current_time");
    assert_eq!(call.arguments["timezone"], json!("Asia/Tokyo"), "{text}");
}

#[test]
fn after_a_result_an_answer_only_round_answers_from_it() {
    let engine = Engine::start(support::engine_config(support::qwen(), 2048)).unwrap();
    let messages = vec![
        ChatMessage::new(Role::User, "What time is it in Tokyo?"),
        ChatMessage::new(
            Role::Assistant,
            "```json\n{\"name\": \"current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}}\n```",
        ),
        ChatMessage::new(
            Role::Tool,
            "In Asia/Tokyo it is now 01:57 on Tuesday, 24 November 2026 (UTC+09:00; 2026-11-24T01:57:00+09:00).",
        ),
    ];
    let text = answer_with(&engine, messages, time_tools(), true, true);
    assert!(
        tools::parse(&text, &time_tools()).calls.is_empty(),
        "{text}"
    );
    assert!(text.contains("01:57"), "the answer uses the result: {text}");
}

#[test]
fn smollm_gets_the_tools_in_the_generic_format_and_any_call_it_makes_is_valid() {
    let engine = Engine::start(support::engine_config(support::smollm(), 2048)).unwrap();
    let text = answer(&engine, tokyo(), time_tools(), true);
    // A 135M model rarely calls; when it does, the grammar makes the call well-formed.
    for (call, _) in tools::parse(&text, &time_tools()).calls {
        let call_tools = time_tools();
        assert!(tools::validate(&call, &call_tools).is_ok(), "{text}");
    }
    assert!(!text.is_empty());
}
