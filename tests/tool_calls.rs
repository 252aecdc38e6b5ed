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
            Output::Trimmed { .. } => {}
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
fn smollm_with_the_generic_format() {
    let engine = Engine::start(support::engine_config(support::smollm(), 2048)).unwrap();
    let text = answer(&engine, tokyo(), time_tools(), true);
    eprintln!("SMOL: {text}");
}

#[test]
fn probe_answer_after_result() {
    let engine = Engine::start(support::engine_config(support::qwen(), 2048)).unwrap();
    let convert = ToolSpec::new(
        "convert_time",
        "Convert a 24-hour wall-clock time (\"HH:MM\", today in the source zone) from one IANA time zone to another.",
        json!({"type": "object", "properties": {"time": {"type": "string"}, "source_timezone": {"type": "string"}, "target_timezone": {"type": "string"}}, "required": ["time", "source_timezone", "target_timezone"]}),
    );
    let current = time_tools().remove(0);
    let msgs = vec![
        ChatMessage::new(Role::User, "What time is it in Tokyo?"),
        ChatMessage::new(
            Role::Assistant,
            "<tool_call>\n{\"name\": \"current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}}\n</tool_call>",
        ),
        ChatMessage::new(
            Role::Tool,
            "In Asia/Tokyo it is now 01:57 on Tuesday, 24 November 2026 (UTC+09:00; 2026-11-24T01:57:00+09:00).",
        ),
    ];
    for tools in [
        vec![current.clone()],
        vec![current.clone(), convert.clone()],
        vec![convert.clone(), current.clone()],
    ] {
        let text = answer(&engine, msgs.clone(), tools.clone(), true);
        eprintln!("{} tools: {text}\n---", tools.len());
    }
    let text = answer_with(&engine, msgs, vec![current, convert], true, true);
    eprintln!("answer only: {text}");
}

#[test]
fn probe_grammar_holds_the_schema() {
    let engine = Engine::start(support::engine_config(support::qwen(), 2048)).unwrap();
    let tools = vec![ToolSpec::new(
        "current_time",
        "The current date and time in an IANA time zone.",
        json!({"type": "object", "properties": {"timezone": {"type": "string"}, "clock": {"type": "string", "enum": ["12h", "24h"]}, "with_seconds": {"type": "boolean"}}, "required": ["timezone", "clock", "with_seconds"], "additionalProperties": false}),
    )];
    for grammar in [false, true] {
        let text = answer(&engine, tokyo(), tools.clone(), grammar);
        eprintln!("grammar={grammar}: {text}");
    }
}
