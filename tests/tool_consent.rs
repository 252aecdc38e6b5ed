//! The core's consent path with the real Qwen model and the built-in time plugin as a child
//! process: a call no rule allows waits for `Op::Consent`; "always" is remembered with the
//! tool's definition; a denial reaches the model; every call is audited.

mod support;

use libre_assistant::backend::Backend;
use std::path::Path;
use std::time::Duration;

use libre_assistant::core::{self, CallResult, ConsentAnswer, CoreConfig, CoreHandle, Event, Op};
use libre_assistant::engine::{Engine, Finish, SamplingParams};
use libre_assistant::plugins::PluginsState;
use libre_assistant::plugins::audit::{self, Grant};
use libre_assistant::plugins::host;

const PATIENCE: Duration = Duration::from_secs(180);

async fn core_with_time(state: &Path) -> CoreHandle {
    let engine = tokio::task::spawn_blocking(|| {
        Engine::start(support::engine_config(support::qwen(), 2048))
    })
    .await
    .unwrap()
    .expect("the Qwen model loads");
    let plugin = support::core::time_plugin();
    // The core owns the host from here; the caller is not needed.
    let (mut tools, _) = support::core::tools(state, &plugin, true, &[]);
    tools.usage = Some(state.join("usage.json"));
    tools.remembered = Some(state.join("plugins.toml"));
    let mut core = core::spawn(
        Some(Backend::Local(engine)),
        CoreConfig {
            system_prompt: "You are a helpful assistant.".into(),
            sampling: SamplingParams {
                temperature: 0.0,
                max_tokens: 96,
                ..SamplingParams::default()
            },
            resume: None,
            journal: None,
            tools: Some(tools),
        },
    );
    // The plugin's tools are offered once it has listed them.
    next(&mut core, |e| {
        matches!(e, Event::Plugin(host::HostEvent::Tools { .. }))
    })
    .await;
    core
}

/// The next event `want` accepts (others are collected into `seen`).
async fn next(core: &mut CoreHandle, want: impl FnMut(&Event) -> bool) -> Event {
    support::core::next(core, PATIENCE, want).await
}

async fn ask_tokyo(core: &mut CoreHandle, answer: ConsentAnswer) -> (Vec<Event>, String) {
    let _ = core.ops.send(Op::Submit {
        text: "What time is it in Tokyo?".into(),
    });
    let mut seen = Vec::new();
    let mut text = String::new();
    loop {
        let event = next(core, |_| true).await;
        match &event {
            Event::ToolConsent { request } => {
                let _ = core.ops.send(Op::Consent {
                    id: request.id,
                    answer,
                });
            }
            Event::TokenDelta { text: t } => text.push_str(t),
            Event::TurnComplete { .. } => {
                seen.push(event);
                return (seen, text);
            }
            _ => {}
        }
        seen.push(event);
    }
}

fn finished(events: &[Event]) -> Vec<&libre_assistant::core::FinishedCall> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ToolCallFinished { call } => Some(call),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_in_the_dialog_the_call_runs_and_the_answer_uses_it() {
    let state = tempfile::tempdir().unwrap();
    let mut core = core_with_time(state.path()).await;
    let (events, text) = ask_tokyo(&mut core, ConsentAnswer::Always).await;
    let consent = events
        .iter()
        .find_map(|e| match e {
            Event::ToolConsent { request } => Some(request.clone()),
            _ => None,
        })
        .expect("the call was put to the user");
    assert_eq!(
        (consent.plugin.as_str(), consent.tool.as_str()),
        ("time", "current_time")
    );
    assert!(!consent.changed);
    let calls = finished(&events);
    let CallResult::Done {
        text: result,
        is_error: false,
    } = &calls[0].result
    else {
        panic!("{:?}", calls[0]);
    };
    assert_eq!(calls[0].granted_by, Grant::User);
    assert_eq!(calls[0].tool_figures.calls, 1);
    let clock = support::events::clock(result);
    assert!(text.contains(clock), "{text:?} uses {clock}");
    assert!(matches!(
        events.last(),
        Some(Event::TurnComplete {
            finish: Finish::Stop,
            ..
        })
    ));

    // "Always" is remembered with the tool's definition.
    let remembered = PluginsState::load(&state.path().join("plugins.toml")).unwrap();
    assert_eq!(
        remembered.plugins["time"].always_allow.get("current_time"),
        Some(&consent.definition)
    );
    // The second time no dialog is needed.
    let (events, _) = ask_tokyo(&mut core, ConsentAnswer::Deny).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::ToolConsent { .. }))
    );
    assert_eq!(finished(&events)[0].granted_by, Grant::Remembered);
    let _ = core.ops.send(Op::Shutdown);
    let _ = core.task.await;
    let report = audit::verify(&state.path().join("audit.jsonl")).unwrap();
    assert!(report.lines >= 2, "{} lines", report.lines);
}

fn consent_of(events: &[Event]) -> Option<libre_assistant::core::CallRequest> {
    events.iter().find_map(|e| match e {
        Event::ToolConsent { request } => Some(request.clone()),
        _ => None,
    })
}

async fn stop(core: CoreHandle) {
    let _ = core.ops.send(Op::Shutdown);
    let _ = core.task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_allow_survives_a_restart_and_fails_closed() {
    let state = tempfile::tempdir().unwrap();
    let remembered = state.path().join("plugins.toml");
    let mut core = core_with_time(state.path()).await;
    let (events, _) = ask_tokyo(&mut core, ConsentAnswer::Always).await;
    let definition = consent_of(&events)
        .expect("asked the first time")
        .definition;
    stop(core).await;

    // A new core (the app restarted): no dialog, the remembered answer allows it.
    let mut core = core_with_time(state.path()).await;
    let (events, _) = ask_tokyo(&mut core, ConsentAnswer::Deny).await;
    assert!(consent_of(&events).is_none(), "asked again after a restart");
    assert_eq!(finished(&events)[0].granted_by, Grant::Remembered);
    stop(core).await;

    // The approved definition no longer matches the tool's: asked again, marked as changed.
    let text = std::fs::read_to_string(&remembered).unwrap();
    let other = "0".repeat(64);
    std::fs::write(&remembered, text.replace(&definition, &other)).unwrap();
    let mut core = core_with_time(state.path()).await;
    let (events, _) = ask_tokyo(&mut core, ConsentAnswer::Deny).await;
    let asked = consent_of(&events).expect("a changed tool is asked again");
    assert!(asked.changed);
    stop(core).await;

    // An unreadable file grants nothing: asked, with a notice saying why; and an "always"
    // answer that cannot be saved holds for this session only, and says so.
    std::fs::write(&remembered, "[plugins.time\nalways_allow = ").unwrap();
    let mut core = core_with_time(state.path()).await;
    let (events, _) = ask_tokyo(&mut core, ConsentAnswer::Always).await;
    assert!(
        consent_of(&events).is_some(),
        "a broken file allowed the call"
    );
    let notices = support::core::notices(&events);
    assert!(
        notices.iter().any(|n| n
            .contains("cannot remember \"always allow\" for time/current_time")
            && n.contains("this session only")),
        "{notices:?}"
    );
    let (events, _) = ask_tokyo(&mut core, ConsentAnswer::Deny).await;
    assert!(consent_of(&events).is_none());
    assert_eq!(finished(&events)[0].granted_by, Grant::Session);
    stop(core).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_call_is_recorded_and_the_model_is_told() {
    let state = tempfile::tempdir().unwrap();
    let mut core = core_with_time(state.path()).await;
    let (events, _) = ask_tokyo(&mut core, ConsentAnswer::Deny).await;
    let calls = finished(&events);
    assert!(
        matches!(&calls[0].result, CallResult::Denied { reason } if reason == "the user denied it"),
        "{calls:?}"
    );
    assert_eq!(calls[0].plugin_figures.denials, 1);
    assert!(matches!(events.last(), Some(Event::TurnComplete { .. })));
    let _ = core.ops.send(Op::Shutdown);
    let conversation = core.task.await.unwrap();
    let tool_messages: Vec<_> = conversation
        .messages()
        .iter()
        .filter(|m| m.role == libre_assistant::engine::Role::Tool)
        .collect();
    assert_eq!(
        tool_messages[0].content,
        "the call was not run: the user denied it"
    );
}
