//! The core's tool rounds with a scripted model: a loopback OpenAI-compatible server answers
//! each request with the next scripted reply (tools described in the prompt, calls read from
//! the text), and the built-in time plugin runs as a real child process. What the real small
//! models would do by chance is fixed here, so each rule is checked every time: the round
//! limit, a repeated call, "allow once" against "for this session", and Esc while a consent is
//! pending.

mod support;

use std::path::Path;
use std::time::Duration;

use libre_assistant::backend::remote::Dialect;
use libre_assistant::backend::{Backend, Remote, RemoteConfig};
use libre_assistant::core::{self, ConsentAnswer, CoreConfig, CoreHandle, Event, Op};
use libre_assistant::engine::{Finish, SamplingParams};
use libre_assistant::plugins::audit::Grant;
use libre_assistant::plugins::host;
use support::openai::{Reply, Server, text_chunk};

const PATIENCE: Duration = Duration::from_secs(60);
const QUESTION: &str = "What time is it in Tokyo?";

/// A reply that calls the time tool for `zone`.
fn call(zone: &str) -> Reply {
    let text = format!(
        "<tool_call>\n{{\"name\": \"current_time\", \"arguments\": {{\"timezone\": \"{zone}\"}}}}\n</tool_call>"
    );
    streamed(&text)
}

/// `text` as a whole answer: one chunk, then the end.
fn streamed(text: &str) -> Reply {
    Reply::Stream(vec![
        text_chunk(text),
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#.into(),
        "[DONE]".into(),
    ])
}

/// A reply in words.
fn words(text: &str) -> Reply {
    streamed(text)
}

/// A core answering through `server`, with the time plugin (asking before each call).
async fn core(server: &Server, state: &Path, max_rounds: u32) -> CoreHandle {
    let config = RemoteConfig {
        backend: "script".into(),
        url: server.url(),
        model: "m".into(),
        api_key: None,
        timeout: Duration::from_secs(10),
        context: Some(4096),
        dialect: Dialect {
            native_tools: false,
            extra_sampling: false,
        },
    };
    let remote = tokio::task::spawn_blocking(move || Remote::start(config))
        .await
        .unwrap()
        .expect("the scripted server answers");
    let (mut tools, _) = support::core::tools(state, &support::core::time_plugin(), true, &[]);
    tools.max_rounds = max_rounds;
    let mut core = core::spawn(
        Some(Backend::Remote(remote)),
        CoreConfig {
            system_prompt: "You are a helpful assistant.".into(),
            sampling: SamplingParams::default(),
            resume: None,
            journal: None,
            tools: Some(tools),
        },
    );
    support::core::next(&mut core, PATIENCE, |e| {
        matches!(e, Event::Plugin(host::HostEvent::Tools { .. }))
    })
    .await;
    core
}

/// Asks `QUESTION`, answering consents with `answer` (None: Esc while the first is pending);
/// returns every event up to the end of the turn.
async fn ask(core: &mut CoreHandle, answer: Option<ConsentAnswer>) -> Vec<Event> {
    core.ops
        .send(Op::Submit {
            text: QUESTION.into(),
        })
        .unwrap();
    let mut seen = Vec::new();
    loop {
        let event = support::core::next(core, PATIENCE, |_| true).await;
        if let Event::ToolConsent { request } = &event {
            let op = match answer {
                Some(answer) => Op::Consent {
                    id: request.id,
                    answer,
                },
                None => Op::Interrupt,
            };
            core.ops.send(op).unwrap();
        }
        let end = matches!(event, Event::TurnComplete { .. } | Event::TurnFailed { .. });
        seen.push(event);
        if end {
            return seen;
        }
    }
}

fn count(events: &[Event], what: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| what(e)).count()
}

fn consents(events: &[Event]) -> usize {
    count(events, |e| matches!(e, Event::ToolConsent { .. }))
}

fn grants(events: &[Event]) -> Vec<Grant> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ToolCallStarted { granted_by, .. } => Some(*granted_by),
            _ => None,
        })
        .collect()
}

fn answer_text(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::TokenDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_once_asks_again_next_turn_and_for_this_session_does_not() {
    let state = tempfile::tempdir().unwrap();
    let server = Server::script(vec![
        call("Asia/Tokyo"),
        words("It is noon."),
        call("Asia/Tokyo"),
        words("Still noon."),
        call("Asia/Tokyo"),
        words("Noon again."),
        call("Asia/Tokyo"),
        words("Always noon."),
    ]);
    let mut core = core(&server, state.path(), 2).await;
    let once = ask(&mut core, Some(ConsentAnswer::Once)).await;
    assert_eq!((consents(&once), grants(&once)), (1, vec![Grant::User]));
    assert_eq!(answer_text(&once), "It is noon.");
    let session = ask(&mut core, Some(ConsentAnswer::Session)).await;
    assert_eq!(
        (consents(&session), grants(&session)),
        (1, vec![Grant::User]),
        "asked again"
    );
    let third = ask(&mut core, Some(ConsentAnswer::Deny)).await;
    assert_eq!(
        (consents(&third), grants(&third)),
        (0, vec![Grant::Session]),
        "not asked"
    );
    assert_eq!(answer_text(&third), "Noon again.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_repeated_in_a_turn_runs_once_and_the_model_answers() {
    let state = tempfile::tempdir().unwrap();
    let server = Server::script(vec![
        call("Asia/Tokyo"),
        call("Asia/Tokyo"),
        words("It is noon in Tokyo."),
    ]);
    let mut core = core(&server, state.path(), 3).await;
    let events = ask(&mut core, Some(ConsentAnswer::Once)).await;
    assert_eq!(grants(&events), vec![Grant::User], "the repeat did not run");
    assert_eq!(consents(&events), 1);
    let finished = count(&events, |e| matches!(e, Event::ToolCallFinished { .. }));
    assert_eq!(finished, 1, "a repeat is dropped quietly: no record");
    assert_eq!(answer_text(&events), "It is noon in Tokyo.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_stop_at_the_round_limit_and_the_model_must_answer() {
    let state = tempfile::tempdir().unwrap();
    // Every reply calls, each time for another zone: only `max_rounds` rounds run.
    let zones = [
        "Asia/Tokyo",
        "Europe/Paris",
        "America/New_York",
        "Africa/Cairo",
    ];
    let server = Server::script(zones.iter().map(|z| call(z)).collect());
    let mut core = core(&server, state.path(), 2).await;
    let events = ask(&mut core, Some(ConsentAnswer::Once)).await;
    assert_eq!(grants(&events).len(), 2, "{events:?}");
    let notices = support::core::notices(&events);
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("the model went on calling tools instead of answering")),
        "{notices:?}"
    );
    assert!(matches!(
        events.last(),
        Some(Event::TurnComplete {
            finish: Finish::Stop,
            ..
        })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_while_a_consent_is_pending_runs_nothing_and_ends_the_turn() {
    let state = tempfile::tempdir().unwrap();
    let server = Server::script(vec![call("Asia/Tokyo"), words("unused")]);
    let mut core = core(&server, state.path(), 2).await;
    let events = ask(&mut core, None).await;
    assert_eq!(consents(&events), 1);
    assert!(grants(&events).is_empty(), "nothing ran: {events:?}");
    assert!(
        matches!(
            events.last(),
            Some(Event::TurnComplete {
                finish: Finish::Cancelled,
                ..
            })
        ),
        "{:?}",
        events.last()
    );
    // The core takes the next question.
    let next = ask(&mut core, Some(ConsentAnswer::Deny)).await;
    assert!(matches!(next.last(), Some(Event::TurnComplete { .. })));
}
