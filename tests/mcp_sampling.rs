//! Sampling: server-everything's `trigger-sampling-request` asks the client's model to write a
//! message, and the core answers it with the real engine (SmolLM2), after the user's consent
//! before and after generation, or without asking where a rule allows it; headless runs deny
//! it; every request is audited. The tool is called here through the host directly (as the
//! model would call it), so the test does not hang on whether a small model chooses to.

mod support;

use libre_assistant::backend::Backend;
use std::path::Path;
use std::time::Duration;

use libre_assistant::core::{self, CoreConfig, CoreHandle, Event, Op};
use libre_assistant::engine::{Engine, SamplingParams};
use libre_assistant::plugins::audit::{self, Decision, Grant};
use libre_assistant::plugins::host::{HostCaller, HostEvent, ToolOutcome};
use libre_assistant::plugins::{Plugin, SamplingRule};
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(180);

fn everything() -> Plugin {
    let command = support::test_servers().join("mcp-server-everything");
    support::plugin("everything", &command.to_string_lossy(), &["stdio"])
}

/// A core over SmolLM2 and server-everything; `ask`: a front end answers consent (the TUI).
async fn core(state: &Path, plugin: Plugin, ask: bool, allow: &[&str]) -> (CoreHandle, HostCaller) {
    let engine = tokio::task::spawn_blocking(|| {
        Engine::start(support::engine_config(support::smollm(), 2048))
    })
    .await
    .unwrap()
    .expect("the model loads");
    let (tools, caller) = support::core::tools(state, &plugin, ask, allow);
    let mut core = core::spawn(
        Some(Backend::Local(engine)),
        CoreConfig {
            system_prompt: String::new(),
            sampling: SamplingParams {
                temperature: 0.0,
                max_tokens: 24,
                ..SamplingParams::default()
            },
            resume: None,
            journal: None,
            tools: Some(tools),
        },
    );
    // Sampling tools are listed once the server has seen our capabilities.
    next(&mut core, |e| {
        matches!(e, Event::Plugin(HostEvent::Tools { tools, .. }) if tools.iter().any(|t| t.name == "trigger-sampling-request"))
    })
    .await;
    (core, caller)
}

async fn next(core: &mut CoreHandle, want: impl FnMut(&Event) -> bool) -> Event {
    support::core::next(core, PATIENCE, want).await
}

/// Calls `trigger-sampling-request` on its own task, as a turn's call would run.
fn trigger(caller: &HostCaller) -> tokio::task::JoinHandle<ToolOutcome> {
    let caller = caller.clone();
    tokio::spawn(async move {
        let arguments = json!({"prompt": "Say hello.", "maxTokens": 400});
        let arguments = arguments.as_object().cloned().unwrap_or_default();
        caller
            .call("everything", "trigger-sampling-request", arguments)
            .await
            .expect("the tool answers")
    })
}

/// The text inside the tool's "LLM sampling result: {json}".
fn sampled_text(outcome: &ToolOutcome) -> String {
    let json = outcome
        .text
        .split_once('{')
        .map(|(_, rest)| format!("{{{rest}"));
    let value: Value = serde_json::from_str(&json.unwrap_or_default()).expect("the result's JSON");
    value["content"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn sampling_records(state: &Path) -> Vec<audit::AuditRecord> {
    audit::tail(&state.join("audit.jsonl"), 100)
        .expect("the audit log reads")
        .into_iter()
        .filter(|r| r.event.as_deref() == Some(audit::SAMPLING))
        .collect()
}

/// Stops the core; the host's shutdown waits for every caller to go, so `caller` goes first.
async fn stop(core: CoreHandle, caller: HostCaller) {
    drop(caller);
    let _ = core.ops.send(Op::Shutdown);
    let _ = core.task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_model_answers_after_consent_before_and_after_it_writes() {
    let state = tempfile::tempdir().expect("temp dir");
    let (mut core, caller) = core(state.path(), everything(), true, &[]).await;
    let call = trigger(&caller);
    let Event::SamplingConsent {
        request,
        max_tokens,
    } = next(&mut core, |e| matches!(e, Event::SamplingConsent { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(request.plugin, "everything");
    assert_eq!(
        request.system_prompt.as_deref(),
        Some("You are a helpful test server.")
    );
    assert_eq!(request.messages.len(), 1);
    assert!(
        request.messages[0].1.ends_with("Say hello."),
        "{:?}",
        request.messages
    );
    // Asked for 400; the answer length caps it.
    assert_eq!((request.max_tokens, max_tokens), (400, 24));
    let _ = core.ops.send(Op::Sampling {
        id: request.id,
        approve: true,
        edited: None,
    });
    let Event::SamplingReview { id, text, .. } =
        next(&mut core, |e| matches!(e, Event::SamplingReview { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(id, request.id);
    assert!(!text.trim().is_empty(), "the model wrote something");
    let _ = core.ops.send(Op::Sampling {
        id,
        approve: true,
        edited: None,
    });
    let outcome = call.await.expect("the call task");
    assert_eq!(sampled_text(&outcome), text, "{}", outcome.text);
    let done = next(&mut core, |e| matches!(e, Event::SamplingDone { .. })).await;
    assert!(
        matches!(&done, Event::SamplingDone { outcome, .. } if outcome.starts_with("sent")),
        "{done:?}"
    );
    stop(core, caller).await;
    let records = sampling_records(state.path());
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].decision, records[0].granted_by),
        (Decision::Allowed, Grant::User)
    );
    assert_eq!(
        records[0].result_sha256,
        Some(audit::sha256_hex(text.as_bytes()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_or_edited_request_reaches_the_server_as_the_user_left_it() {
    let state = tempfile::tempdir().expect("temp dir");
    let (mut core, caller) = core(state.path(), everything(), true, &[]).await;
    // Rejected before the model writes: the tool reports the rejection.
    let call = trigger(&caller);
    let Event::SamplingConsent { request, .. } =
        next(&mut core, |e| matches!(e, Event::SamplingConsent { .. })).await
    else {
        unreachable!()
    };
    let _ = core.ops.send(Op::Sampling {
        id: request.id,
        approve: false,
        edited: None,
    });
    let outcome = call.await.expect("the call task");
    assert!(
        outcome.is_error && outcome.text.contains("rejected by the user"),
        "{outcome:?}"
    );
    // Edited after it wrote: the server gets the user's text.
    let call = trigger(&caller);
    let Event::SamplingConsent { request, .. } =
        next(&mut core, |e| matches!(e, Event::SamplingConsent { .. })).await
    else {
        unreachable!()
    };
    let _ = core.ops.send(Op::Sampling {
        id: request.id,
        approve: true,
        edited: None,
    });
    next(&mut core, |e| matches!(e, Event::SamplingReview { .. })).await;
    let edited = "Hello from the user, edited.".to_owned();
    let _ = core.ops.send(Op::Sampling {
        id: request.id,
        approve: true,
        edited: Some(edited.clone()),
    });
    let outcome = call.await.expect("the call task");
    assert_eq!(sampled_text(&outcome), edited);
    stop(core, caller).await;
    let decisions: Vec<Decision> = sampling_records(state.path())
        .iter()
        .map(|r| r.decision)
        .collect();
    assert_eq!(decisions, [Decision::Denied, Decision::Allowed]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_denies_sampling_unless_a_flag_or_the_manifest_allows_it() {
    let state = tempfile::tempdir().expect("temp dir");
    let (core_denies, caller) = core(state.path(), everything(), false, &[]).await;
    let outcome = trigger(&caller).await.expect("the call task");
    assert!(
        outcome.is_error
            && outcome
                .text
                .contains("allow it with --allow-sampling everything"),
        "{outcome:?}"
    );
    stop(core_denies, caller).await;

    let (mut core_flag, caller) = core(state.path(), everything(), false, &["everything"]).await;
    let outcome = trigger(&caller).await.expect("the call task");
    assert!(
        !outcome.is_error && !sampled_text(&outcome).trim().is_empty(),
        "{outcome:?}"
    );
    assert!(matches!(
        next(&mut core_flag, |e| matches!(e, Event::SamplingDone { .. })).await,
        Event::SamplingDone { .. }
    ));
    stop(core_flag, caller).await;

    let mut denied = everything();
    denied.manifest.sampling = SamplingRule::Deny;
    let (core_manifest, caller) = core(state.path(), denied, true, &["everything"]).await;
    let outcome = trigger(&caller).await.expect("the call task");
    assert!(
        outcome.is_error && outcome.text.contains("manifest denies sampling"),
        "{outcome:?}"
    );
    stop(core_manifest, caller).await;
    let grants: Vec<Grant> = sampling_records(state.path())
        .iter()
        .map(|r| r.granted_by)
        .collect();
    assert_eq!(grants, [Grant::None, Grant::HeadlessFlag, Grant::None]);
}
