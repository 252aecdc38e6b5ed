//! Elicitation: server-everything's `trigger-elicitation-request` and
//! `trigger-url-elicitation` ask the user for input; the core puts the form (generated from
//! the requested schema) or the URL to the front end and passes the answer back (accept with
//! the checked content, decline, cancel); headless runs decline with a notice; every request is
//! audited without what the user typed. The tools are called through the host directly, as the
//! model's call would run them. No model is needed.

mod support;

use std::path::Path;
use std::time::Duration;

use libre_assistant::core::{self, CoreConfig, CoreHandle, Event, Op};
use libre_assistant::engine::SamplingParams;
use libre_assistant::plugins::audit::{self, Decision};
use libre_assistant::plugins::form::Filled;
use libre_assistant::plugins::host::{
    Elicit, ElicitAnswer, ElicitationRequest, HostCaller, HostEvent, ToolOutcome,
};
use serde_json::json;

const PATIENCE: Duration = Duration::from_secs(60);

/// A core without a model over server-everything; `ask`: a front end answers (the TUI).
async fn core(state: &Path, ask: bool) -> (CoreHandle, HostCaller) {
    let command = support::test_servers().join("mcp-server-everything");
    let plugin = support::plugin("everything", &command.to_string_lossy(), &["stdio"]);
    let (tools, caller) = support::core::tools(state, &plugin, ask, &[]);
    let config = CoreConfig {
        system_prompt: String::new(),
        sampling: SamplingParams::default(),
        resume: None,
        journal: None,
        tools: Some(tools),
    };
    let mut core = core::spawn(None, config);
    next(&mut core, |e| {
        matches!(e, Event::Plugin(HostEvent::Tools { tools, .. })
            if tools.iter().any(|t| t.name == "trigger-url-elicitation"))
    })
    .await;
    (core, caller)
}

async fn next(core: &mut CoreHandle, want: impl FnMut(&Event) -> bool) -> Event {
    support::core::next(core, PATIENCE, want).await
}

async fn asked(core: &mut CoreHandle) -> ElicitationRequest {
    match next(core, |e| matches!(e, Event::Elicitation { .. })).await {
        Event::Elicitation { request } => request,
        _ => unreachable!(),
    }
}

fn call(
    caller: &HostCaller,
    tool: &str,
    arguments: serde_json::Value,
) -> tokio::task::JoinHandle<ToolOutcome> {
    let (caller, tool) = (caller.clone(), tool.to_owned());
    tokio::spawn(async move {
        let arguments = arguments.as_object().cloned().unwrap_or_default();
        caller
            .call("everything", &tool, arguments)
            .await
            .expect("the tool answers")
    })
}

async fn stop(core: CoreHandle, caller: HostCaller) {
    drop(caller);
    let _ = core.ops.send(Op::Shutdown);
    let _ = core.task.await;
}

fn elicitation_records(state: &Path) -> Vec<audit::AuditRecord> {
    audit::tail(&state.join("audit.jsonl"), 100)
        .expect("the audit log reads")
        .into_iter()
        .filter(|r| r.event.as_deref() == Some(audit::ELICITATION))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_from_the_schema_is_filled_and_accepted_or_declined() {
    let state = tempfile::tempdir().expect("temp dir");
    let (mut core, caller) = core(state.path(), true).await;
    let running = call(&caller, "trigger-elicitation-request", json!({}));
    let request = asked(&mut core).await;
    let Elicit::Form(mut form) = request.kind.clone() else {
        panic!("a form: {request:?}");
    };
    assert_eq!(request.plugin, "everything");
    // Every kind of field server-everything asks for became a field, defaults filled in.
    assert_eq!(
        form.fields.len(),
        13,
        "{:?}",
        form.fields.iter().map(|f| &f.name).collect::<Vec<_>>()
    );
    let name = form.fields.iter().position(|f| f.name == "name").unwrap();
    assert!(form.fields[name].required);
    assert_eq!(form.content().unwrap_err().1, "String is required");
    form.fields[name].value = Filled::Text("Ada Lovelace".into());
    let content = form.content().expect("the defaults and the name check out");
    assert_eq!(content["integer"], 42);
    let _ = core.ops.send(Op::Elicitation {
        id: request.id,
        answer: ElicitAnswer::Accept(Some(content)),
    });
    let outcome = running.await.expect("the call task");
    assert!(
        outcome
            .text
            .contains("User provided the requested information"),
        "{outcome:?}"
    );
    assert!(outcome.text.contains("Ada Lovelace"), "{outcome:?}");

    let running = call(&caller, "trigger-elicitation-request", json!({}));
    let request = asked(&mut core).await;
    let _ = core.ops.send(Op::Elicitation {
        id: request.id,
        answer: ElicitAnswer::Decline,
    });
    let outcome = running.await.expect("the call task");
    assert!(outcome.text.contains("User declined"), "{outcome:?}");
    stop(core, caller).await;
    let records = elicitation_records(state.path());
    let decisions: Vec<Decision> = records.iter().map(|r| r.decision).collect();
    assert_eq!(decisions, [Decision::Allowed, Decision::Denied]);
    // The fields' names are recorded, never what the user typed.
    let recorded = records[0].arguments.to_string();
    assert!(
        recorded.contains("\"name\"") && !recorded.contains("Ada Lovelace"),
        "{recorded}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_url_is_shown_and_the_answer_reaches_the_server() {
    let state = tempfile::tempdir().expect("temp dir");
    let (mut core, caller) = core(state.path(), true).await;
    let url = "https://example.org/connect?state=1";
    let running = call(
        &caller,
        "trigger-url-elicitation",
        json!({"url": url, "message": "Connect your account"}),
    );
    let request = asked(&mut core).await;
    assert_eq!(request.kind, Elicit::Url { url: url.into() });
    let _ = core.ops.send(Op::Elicitation {
        id: request.id,
        answer: ElicitAnswer::Cancel,
    });
    let outcome = running.await.expect("the call task");
    assert!(
        outcome.text.contains("User cancelled the URL elicitation"),
        "{outcome:?}"
    );
    stop(core, caller).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn headless_declines_with_a_notice() {
    let state = tempfile::tempdir().expect("temp dir");
    let (mut core, caller) = core(state.path(), false).await;
    let running = call(&caller, "trigger-elicitation-request", json!({}));
    let notice = next(&mut core, |e| {
        matches!(e, Event::Notice { .. } | Event::Elicitation { .. })
    })
    .await;
    assert!(
        matches!(&notice, Event::Notice { message } if message.contains("plugin everything asked for your input") && message.contains("headless runs decline it")),
        "{notice:?}"
    );
    let outcome = running.await.expect("the call task");
    assert!(outcome.text.contains("User declined"), "{outcome:?}");
    stop(core, caller).await;
}
