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
    answer_with(engine, messages, tools, grammar, Round::Free)
}

/// What the round asks of the model.
#[derive(PartialEq)]
enum Round {
    /// Words or a call, as it likes.
    Free,
    AnswerOnly,
    MustCall,
}

fn answer_with(
    engine: &Engine,
    messages: Vec<ChatMessage>,
    tools: Vec<ToolSpec>,
    grammar: bool,
    round: Round,
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
                answer_only: round == Round::AnswerOnly,
                must_call: round == Round::MustCall,
                priority: Vec::new(),
                callable: Vec::new(),
                budget: 0,
                caps: Vec::new(),
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
            Output::Trimmed { .. } | Output::Offered(_) | Output::Waiting => {}
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
fn a_round_that_must_call_opens_with_a_call_the_model_would_not_write() {
    let engine = Engine::start(support::engine_config(support::qwen(), 2048)).unwrap();
    let follow_up = vec![
        ChatMessage::new(Role::User, "What time is it in Tokyo?"),
        ChatMessage::new(
            Role::Assistant,
            "<tool_call>\n{\"name\": \"current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}}\n</tool_call>",
        ),
        ChatMessage::new(
            Role::Tool,
            "In Asia/Tokyo it is now 01:57 on Tuesday, 24 November 2026 (UTC+09:00).",
        ),
        ChatMessage::new(Role::Assistant, "It is 01:57 in Tokyo."),
        ChatMessage::new(Role::User, "And in Paris?"),
    ];
    // The question may call only the tool the conversation points at (`tools.only_relevant`).
    let clock = time_tools()[..1].to_vec();
    let text = answer_with(&engine, follow_up, clock.clone(), true, Round::MustCall);
    eprintln!("{text}");
    let parsed = tools::parse(&text, &clock);
    assert_eq!(parsed.calls.len(), 1, "{text}");
    assert_eq!(
        parsed.calls[0].0.arguments["timezone"],
        json!("Europe/Paris"),
        "{text}"
    );
    // A greeting gets words in a free round, and a call when the round must call.
    let hello = || vec![ChatMessage::new(Role::User, "Hello!")];
    let free = answer(&engine, hello(), time_tools(), true);
    assert!(
        tools::parse(&free, &time_tools()).calls.is_empty(),
        "{free}"
    );
    let forced = answer_with(&engine, hello(), time_tools(), true, Round::MustCall);
    assert_eq!(
        tools::parse(&forced, &time_tools()).calls.len(),
        1,
        "{forced}"
    );
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
    let text = answer_with(&engine, messages, time_tools(), true, Round::AnswerOnly);
    assert!(
        tools::parse(&text, &time_tools()).calls.is_empty(),
        "{text}"
    );
    assert!(text.contains("01:57"), "the answer uses the result: {text}");
}

#[test]
fn smollm_gets_the_tools_in_the_generic_format_and_a_forced_call_is_valid() {
    let engine = Engine::start(support::engine_config(support::smollm(), 2048)).unwrap();
    // A 135M model rarely calls on its own: a round that must call shows what the generic
    // format and its grammar make of its call. Its template knows no tools, so the call is in
    // the generic format's markup, and the grammar makes it one well-formed, valid call.
    let text = answer_with(&engine, tokyo(), time_tools(), true, Round::MustCall);
    assert!(text.trim_start().starts_with("<tool_call>"), "{text}");
    let calls = tools::parse(&text, &time_tools()).calls;
    assert_eq!(calls.len(), 1, "{text}");
    assert!(
        tools::validate(&calls[0].0, &time_tools()).is_ok(),
        "{text}"
    );
}
