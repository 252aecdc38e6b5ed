//! Protocol 2026-07-28 against a real server on the Python SDK the pinned reference servers
//! install (`tests/servers/mrtr.py`): the connection is made with `server/discover`, and a tool
//! that needs the user, the model or our roots answers with input-required rounds, which the
//! host answers through the same requests a 2025-11-25 server gets (so the same consent) and
//! then completes. The Node reference servers still get `initialize` at 2025-11-25.

mod support;

use support::host::wait_for;

use std::path::PathBuf;

use libre_assistant::plugins::Plugin;
use libre_assistant::plugins::form::Filled;
use libre_assistant::plugins::host::{
    CallError, Elicit, ElicitAnswer, HostCaller, HostEvent, HostHandle, SamplingAnswer, ToolOutcome,
};
use serde_json::Map;

/// `tests/servers/mrtr.py` on the Python SDK beside mcp-server-time, granted `read`.
fn mrtr(read: &[String]) -> Plugin {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/servers/mrtr.py");
    // test_servers() is the `bin` directory; the pip packages are beside it.
    let packages = support::test_servers().join("../py");
    let packages = packages.to_string_lossy().into_owned();
    let mut plugin = support::plugin("mrtr", "python3", &[&script.to_string_lossy(), &packages]);
    plugin.manifest.permissions.read = read.to_vec();
    plugin.manifest.permissions.read.push(packages);
    plugin
}

/// The protocol `id` agreed on, waiting until its tools are listed too.
async fn connected(host: &mut HostHandle, id: &str) -> String {
    let protocol = match wait_for(
        host,
        |e| matches!(e, HostEvent::Connected { plugin, .. } if plugin == id),
    )
    .await
    {
        HostEvent::Connected { protocol, .. } => protocol,
        _ => unreachable!(),
    };
    wait_for(
        host,
        |e| matches!(e, HostEvent::Tools { plugin, .. } if plugin == id),
    )
    .await;
    protocol
}

fn call(
    caller: &HostCaller,
    tool: &str,
) -> tokio::task::JoinHandle<Result<ToolOutcome, CallError>> {
    let (caller, tool) = (caller.clone(), tool.to_owned());
    tokio::spawn(async move { caller.call("mrtr", &tool, Map::new()).await })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_2026_server_asks_for_a_form_in_a_round_and_the_call_completes() {
    let mut host = support::host::start(vec![mrtr(&[])], 0, true);
    assert_eq!(connected(&mut host, "mrtr").await, "2026-07-28");
    let caller = host.caller();
    let running = call(&caller, "greet");
    let request = match wait_for(&mut host, |e| matches!(e, HostEvent::Elicitation(_))).await {
        HostEvent::Elicitation(request) => request,
        _ => unreachable!(),
    };
    assert_eq!(request.plugin, "mrtr");
    assert_eq!(request.message, "Who should be greeted?");
    let Elicit::Form(mut form) = request.kind else {
        panic!("a form: {:?}", request.kind);
    };
    let name = form
        .fields
        .iter()
        .position(|f| f.name == "name")
        .expect("a name field");
    form.fields[name].value = Filled::Text("Ada".into());
    let content = form.content().expect("the form checks out");
    assert!(caller.answer_elicitation(request.id, ElicitAnswer::Accept(Some(content))));
    let outcome = running
        .await
        .expect("the call task")
        .expect("the call completes");
    assert_eq!(outcome.text, "Hello, Ada!");
    assert!(!outcome.is_error);
    drop(caller);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declined_form_in_a_round_ends_the_call_with_the_servers_error() {
    let mut host = support::host::start(vec![mrtr(&[])], 0, true);
    connected(&mut host, "mrtr").await;
    let caller = host.caller();
    let running = call(&caller, "greet");
    let request = match wait_for(&mut host, |e| matches!(e, HostEvent::Elicitation(_))).await {
        HostEvent::Elicitation(request) => request,
        _ => unreachable!(),
    };
    assert!(caller.answer_elicitation(request.id, ElicitAnswer::Decline));
    // The SDK turns a declined required value into a tool error naming the decline.
    let outcome = running
        .await
        .expect("the call task")
        .expect("the server answers");
    assert!(outcome.is_error, "{outcome:?}");
    assert!(
        outcome.text.to_lowercase().contains("decline"),
        "{outcome:?}"
    );
    drop(caller);
}

#[tokio::test(flavor = "multi_thread")]
async fn roots_and_sampling_are_answered_in_rounds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let granted = dir.path().join("notes");
    std::fs::create_dir(&granted).expect("mkdir");
    let read = vec![granted.to_string_lossy().into_owned()];
    let mut host = support::host::start(vec![mrtr(&read)], 0, true);
    connected(&mut host, "mrtr").await;
    let caller = host.caller();

    let roots = call(&caller, "roots").await.expect("the call task");
    let roots = roots.expect("the roots call completes");
    let want = format!("file://{}", granted.to_string_lossy());
    assert!(roots.text.starts_with("roots: "), "{roots:?}");
    assert!(
        roots.text.split(' ').any(|uri| uri == want),
        "{roots:?} has {want}"
    );

    let running = call(&caller, "haiku");
    let request = match wait_for(&mut host, |e| matches!(e, HostEvent::Sampling(_))).await {
        HostEvent::Sampling(request) => request,
        _ => unreachable!(),
    };
    assert_eq!(request.system_prompt.as_deref(), Some("You are brief."));
    assert_eq!(request.max_tokens, 16);
    let answer = SamplingAnswer::Sampled {
        text: "Rain taps the glass.".into(),
        model: "test".into(),
        stop_reason: "endTurn".into(),
    };
    assert!(caller.answer_sampling(request.id, answer));
    let outcome = running
        .await
        .expect("the call task")
        .expect("the call completes");
    assert_eq!(outcome.text, "sampled: Rain taps the glass.");
    drop(caller);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_reference_server_still_gets_the_2025_handshake() {
    let command = support::test_servers().join("mcp-server-everything");
    let plugin = support::plugin("everything", &command.to_string_lossy(), &["stdio"]);
    let mut host = support::host::start(vec![plugin], 0, true);
    assert_eq!(connected(&mut host, "everything").await, "2025-11-25");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_2026_servers_tool_list_change_reaches_us_through_listen() {
    let mut host = support::host::start(vec![mrtr(&[])], 0, true);
    connected(&mut host, "mrtr").await;
    let caller = host.caller();
    let unlocked = call(&caller, "unlock").await.expect("the call task");
    assert_eq!(unlocked.expect("unlock answers").text, "unlocked");
    let tools = match wait_for(
        &mut host,
        |e| matches!(e, HostEvent::Tools { tools, .. } if tools.iter().any(|t| t.name == "secret")),
    )
    .await
    {
        HostEvent::Tools { tools, .. } => tools,
        _ => unreachable!(),
    };
    assert!(tools.iter().any(|t| t.name == "greet"), "{tools:?}");
    drop(caller);
}
