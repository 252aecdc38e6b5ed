//! The MCP features past tools, against real servers (`scripts/test-servers` and the small
//! SDK servers in `tests/servers`): the capabilities we advertise and the tools they unlock,
//! roots, progress that keeps a call alive up to its hard maximum, logging, cancellation
//! reaching the server, and tool annotations with the `PLUGIN:read-only` rule.

mod support;

use support::host::{WAIT, wait_for};

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use libre_assistant::core::tools::{Policy, Prepared, Toolbox};
use libre_assistant::core::{CallRequest, ConsentAnswer, ToolsConfig};
use libre_assistant::plugins::audit::Grant;
use libre_assistant::tools::ToolCall;

use libre_assistant::plugins::Plugin;
use libre_assistant::plugins::host::{
    self, CallError, Elicit, ElicitAnswer, ElicitationRequest, HostConfig, HostEvent, HostHandle,
    ToolInfo, ToolOutcome,
};
use serde_json::{Map, Value, json};

fn everything(id: &str) -> Plugin {
    let command = support::test_servers().join("mcp-server-everything");
    support::plugin(id, &command.to_string_lossy(), &["stdio"])
}

/// `tests/servers/NAME.cjs`, run by node on the reference servers' SDK.
fn sdk_server(id: &str, name: &str) -> Plugin {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/servers/{name}.cjs"));
    // test_servers() is the `bin` directory; the npm packages are beside it.
    let modules = support::test_servers().join("../node/node_modules");
    let mut server = support::plugin(
        id,
        "node",
        &[&script.to_string_lossy(), &modules.to_string_lossy()],
    );
    server.manifest.permissions.read = vec![modules.to_string_lossy().into_owned()];
    server
}

/// Waits until `id` lists a tool named `name`, and returns its tools.
async fn tools_with(host: &mut HostHandle, id: &str, name: &str) -> Vec<ToolInfo> {
    let event = wait_for(host, |e| {
        matches!(e, HostEvent::Tools { plugin, tools } if plugin == id && tools.iter().any(|t| t.name == name))
    })
    .await;
    match event {
        HostEvent::Tools { tools, .. } => tools,
        _ => unreachable!(),
    }
}

fn args(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

async fn call(
    host: &HostHandle,
    id: &str,
    tool: &str,
    value: Value,
) -> Result<ToolOutcome, CallError> {
    host.call(id, tool, args(value)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn advertised_roots_unlock_the_roots_tool_and_are_the_granted_directories() {
    let dir = tempfile::tempdir().expect("temp dir");
    let granted = dir.path().join("my notes");
    std::fs::create_dir(&granted).expect("mkdir");
    let granted = granted.canonicalize().expect("canonical");
    let mut plugin = everything("everything");
    plugin.manifest.permissions.read = vec![granted.to_string_lossy().into_owned()];
    let mut host = support::host::start(vec![plugin], 0, true);
    // server-everything registers get-roots-list only for a client that advertises roots.
    tools_with(&mut host, "everything", "get-roots-list").await;
    let roots = call(&host, "everything", "get-roots-list", json!({}))
        .await
        .expect("get-roots-list answers");
    let uri = format!("file://{}", granted.to_string_lossy().replace(' ', "%20"));
    assert!(roots.text.contains(&uri), "{}", roots.text);
    assert!(!roots.is_error, "{roots:?}");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_keeps_a_slow_call_alive_and_is_reported() {
    let mut plugin = everything("slow");
    plugin.manifest.timeout_secs = 2;
    plugin.manifest.max_timeout_secs = 60;
    let mut host = support::host::start(vec![plugin], 0, true);
    tools_with(&mut host, "slow", "trigger-long-running-operation").await;
    let caller = host.caller();
    // Three seconds in all, a step every 0.3 s: past the 2 s timeout only through progress.
    let running = tokio::spawn(async move {
        caller
            .call(
                "slow",
                "trigger-long-running-operation",
                args(json!({"duration": 3, "steps": 10})),
            )
            .await
    });
    let mut steps = Vec::new();
    while steps.len() < 10 {
        if let HostEvent::Progress {
            plugin,
            tool,
            progress,
            total,
            ..
        } = wait_for(&mut host, |e| matches!(e, HostEvent::Progress { .. })).await
        {
            assert_eq!(
                (plugin.as_str(), tool.as_str()),
                ("slow", "trigger-long-running-operation")
            );
            assert_eq!(total, Some(10.0));
            steps.push(progress);
        }
    }
    assert_eq!(steps, (1..=10).map(f64::from).collect::<Vec<_>>());
    let done = running
        .await
        .expect("the call task")
        .expect("the call outlived its timeout");
    assert!(done.text.contains("completed"), "{done:?}");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_does_not_keep_a_call_past_its_hard_maximum() {
    let mut plugin = everything("capped");
    plugin.manifest.timeout_secs = 1;
    plugin.manifest.max_timeout_secs = 2;
    let mut host = support::host::start(vec![plugin], 0, true);
    tools_with(&mut host, "capped", "trigger-long-running-operation").await;
    let slow = call(
        &host,
        "capped",
        "trigger-long-running-operation",
        json!({"duration": 30, "steps": 100}),
    )
    .await;
    assert_eq!(
        slow,
        Err(CallError::TimeoutTotal {
            after: Duration::from_secs(2)
        })
    );
    let echo = call(&host, "capped", "echo", json!({"message": "still here"})).await;
    assert!(
        echo.expect("echo after the cap")
            .text
            .contains("still here")
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn resource_links_and_embedded_resources_in_a_result_are_named_as_such() {
    let mut host = support::host::start(vec![everything("everything")], 0, true);
    tools_with(&mut host, "everything", "get-resource-links").await;
    let links = call(
        &host,
        "everything",
        "get-resource-links",
        json!({"count": 2}),
    )
    .await
    .expect("the call answers");
    let lines: Vec<&str> = links.text.lines().collect();
    assert_eq!(lines.len(), 3, "{links:?}");
    assert!(
        lines[1].starts_with("[resource Blob Resource 1: demo://resource/dynamic/blob/1 ("),
        "{links:?}"
    );
    assert!(
        lines[2].starts_with(
            "[resource Text Resource 2: demo://resource/dynamic/text/2 (text/plain) - "
        ),
        "{links:?}"
    );
    let embedded = call(
        &host,
        "everything",
        "get-resource-reference",
        json!({"resourceType": "Text", "resourceId": 2}),
    )
    .await
    .expect("the call answers");
    assert!(
        embedded.text.contains("[demo://resource/dynamic/text/2]\n"),
        "{embedded:?}"
    );
    let blob = call(
        &host,
        "everything",
        "get-resource-reference",
        json!({"resourceType": "Blob", "resourceId": 1}),
    )
    .await
    .expect("the call answers");
    assert!(
        blob.text.contains("[demo://resource/dynamic/blob/1 (")
            && blob.text.contains("): binary, left out]"),
        "{blob:?}"
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tool_that_requires_tasks_is_not_offered_and_the_log_says_why() {
    let mut host = support::host::start(vec![everything("everything")], 0, true);
    let mut told = false;
    let tools = loop {
        match wait_for(&mut host, |e| {
            matches!(e, HostEvent::Log { .. } | HostEvent::Tools { .. })
        })
        .await
        {
            HostEvent::Log { text, .. } => {
                told |= text
                    == "simulate-research-query is not offered: it needs MCP tasks, which this version does not run";
            }
            HostEvent::Tools { tools, .. } => break tools,
            _ => unreachable!(),
        }
    };
    assert!(told, "the log names the hidden tool before the list comes");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert!(!names.contains(&"simulate-research-query"), "{names:?}");
    assert!(names.contains(&"echo"), "{names:?}");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscribed_resource_that_changes_is_reported() {
    use libre_assistant::plugins::host::context::{Answer, Ask};
    const URI: &str = "demo://resource/dynamic/text/1";
    let mut host = support::host::start(vec![everything("everything")], 0, true);
    tools_with(&mut host, "everything", "toggle-subscriber-updates").await;
    let caller = host.caller();
    let subscribed = caller
        .ask("everything", Ask::Subscribe { uri: URI.into() })
        .await;
    assert_eq!(subscribed, Ok(Answer::Subscribed));
    // The server's simulated updates start at once, then come every 5 s.
    call(&host, "everything", "toggle-subscriber-updates", json!({}))
        .await
        .expect("the updates start");
    wait_for(&mut host, |e| {
        matches!(e, HostEvent::ResourceUpdated { plugin, uri } if plugin == "everything" && uri == URI)
    })
    .await;
    drop(caller);
    host.shutdown().await;
}

/// The next URL elicitation: its id and URL.
async fn url_asked(host: &mut HostHandle) -> (u64, String) {
    match wait_for(host, |e| matches!(e, HostEvent::Elicitation(_))).await {
        HostEvent::Elicitation(ElicitationRequest {
            id,
            kind: Elicit::Url { url },
            ..
        }) => (id, url),
        other => panic!("a URL elicitation: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_url_required_error_shows_the_url_and_the_call_is_made_again_once_visited() {
    let mut host = support::host::start(vec![everything("everything")], 0, true);
    tools_with(&mut host, "everything", "trigger-url-elicitation").await;
    let caller = host.caller();
    let arguments = json!({"url": "https://example.com/finish", "errorPath": true});
    let running = {
        let caller = caller.clone();
        let arguments = args(arguments.clone());
        tokio::spawn(async move {
            caller
                .call("everything", "trigger-url-elicitation", arguments)
                .await
        })
    };
    // The -32042 error's prerequisite URL first, then (the call made again) the tool's own.
    let (id, url) = url_asked(&mut host).await;
    assert_eq!(url, "https://modelcontextprotocol.io");
    assert!(caller.answer_elicitation(id, ElicitAnswer::Accept(None)));
    let (id, url) = url_asked(&mut host).await;
    assert_eq!(url, "https://example.com/finish");
    assert!(caller.answer_elicitation(id, ElicitAnswer::Accept(None)));
    let outcome = running
        .await
        .expect("the call task")
        .expect("the call completes");
    assert!(
        outcome
            .text
            .contains("User completed the URL elicitation flow"),
        "{outcome:?}"
    );

    // Declined: the call fails with the server's reason and ours, and is not made again.
    let arguments = json!({"url": "https://example.com/other", "errorPath": true});
    let running = {
        let caller = caller.clone();
        let arguments = args(arguments);
        tokio::spawn(async move {
            caller
                .call("everything", "trigger-url-elicitation", arguments)
                .await
        })
    };
    let (id, _) = url_asked(&mut host).await;
    assert!(caller.answer_elicitation(id, ElicitAnswer::Decline));
    let failed = running.await.expect("the call task");
    assert!(
        matches!(&failed, Err(CallError::Protocol(m))
            if m.ends_with("This request requires browser-based authorization. (the URL was not visited)")),
        "{failed:?}"
    );
    drop(caller);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_its_caller_drops_is_cancelled_in_the_server_which_logs_it() {
    let mut host = support::host::start(vec![sdk_server("hints", "hints")], 0, true);
    tools_with(&mut host, "hints", "wait").await;
    let caller = host.caller();
    let waiting = tokio::spawn(async move { caller.call("hints", "wait", args(json!({}))).await });
    // The server logs once the call reaches it; then the caller goes away.
    wait_for(&mut host, |e| {
        matches!(e, HostEvent::Log { plugin, text, .. } if plugin == "hints" && text == "waiting")
    })
    .await;
    waiting.abort();
    let logged = wait_for(
        &mut host,
        |e| matches!(e, HostEvent::Log { text, .. } if text.contains("cancelled")),
    )
    .await;
    assert_eq!(
        logged,
        HostEvent::Log {
            plugin: "hints".into(),
            level: "info".into(),
            text: "cancelled wait".into(),
        }
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tool_annotations_arrive_as_hints() {
    let mut host = support::host::start(vec![sdk_server("hints", "hints")], 0, true);
    let tools = tools_with(&mut host, "hints", "show").await;
    let hints = |name: &str| {
        tools
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name} listed"))
            .hints
            .clone()
    };
    let show = hints("show");
    assert!(show.read_only() && !show.destructive());
    assert_eq!(show.title.as_deref(), Some("Show the note"));
    assert_eq!(show.words(), ["read-only"]);
    let erase = hints("erase");
    assert!(!erase.read_only() && erase.destructive());
    assert_eq!(erase.words(), ["destructive"]);
    let plain = hints("plain");
    assert!(!plain.read_only() && !plain.destructive() && plain.words().is_empty());
    host.shutdown().await;
}

/// A toolbox over the hints server, its tools listed.
async fn hints_toolbox(policy: Policy) -> Toolbox {
    let server = sdk_server("hints", "hints");
    let (mut toolbox, mut events, notices) = Toolbox::new(ToolsConfig {
        host: support::host::start(vec![server.clone()], 0, true),
        manifests: BTreeMap::from([("hints".to_owned(), server.manifest)]),
        policy,
        ask: false,
        max_rounds: 1,
        grammar: true,
        budget: 0,
        plugin_budget: 0,
        generic_format: false,
        only_relevant: false,
        call_max_tokens: libre_assistant::engine::DEFAULT_CALL_MAX_TOKENS,
        audit: None,
        usage: None,
        remembered: None,
        sandbox: None,
        allow_sampling: Vec::new(),
    });
    assert!(notices.is_empty(), "{notices:?}");
    let listed = tokio::time::timeout(WAIT, async {
        while let Some(event) = events.recv().await {
            toolbox.on_host(&event);
            if matches!(event, HostEvent::Tools { .. }) {
                return;
            }
        }
    });
    listed.await.expect("the tools came in time");
    toolbox
}

fn prepare(toolbox: &mut Toolbox, tool: &str) -> (CallRequest, Option<Grant>) {
    let call = ToolCall {
        name: tool.to_owned(),
        arguments: Map::new(),
    };
    match toolbox.prepare(&call) {
        Prepared::Ready(request, grant) => (*request, grant),
        Prepared::Invalid { problem, .. } => panic!("{tool}: {problem}"),
    }
}

/// What the toolbox decides for `tools` of the hints server under `rule`, headless.
async fn decided(rule: &str, tools: &[&str]) -> Vec<Option<Grant>> {
    let mut policy = Policy::default();
    policy.allow(rule, Grant::HeadlessFlag).expect("a rule");
    let mut toolbox = hints_toolbox(policy).await;
    let grants = tools
        .iter()
        .map(|tool| prepare(&mut toolbox, tool).1)
        .collect();
    toolbox.shutdown().await;
    grants
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_rule_allows_the_read_only_tool_and_no_other() {
    let rule = Some(Grant::HeadlessFlag);
    assert_eq!(
        decided("hints:read-only", &["show", "erase", "plain"]).await,
        [rule, None, None]
    );
    // The whole plugin, for contrast: every tool.
    assert_eq!(decided("hints", &["show", "erase"]).await, [rule, rule]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_destructive_tool_is_never_always_allowed() {
    let mut toolbox = hints_toolbox(Policy::default()).await;
    let (erase, grant) = prepare(&mut toolbox, "erase");
    assert_eq!(grant, None);
    assert_eq!(erase.hints.words(), ["destructive"]);
    // A front end that sends "always" anyway gets this one call, and a notice.
    let (grant, notice) = toolbox.answer(&erase, ConsentAnswer::Always);
    assert_eq!(grant, Some(Grant::User));
    assert!(
        notice.is_some_and(|n| n.contains("never always allowed")),
        "the user is told"
    );
    assert_eq!(prepare(&mut toolbox, "erase").1, None, "asked again");
    let (show, _) = prepare(&mut toolbox, "show");
    toolbox.answer(&show, ConsentAnswer::Session);
    assert_eq!(prepare(&mut toolbox, "show").1, Some(Grant::Session));
    toolbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn resources_prompts_and_completions_are_asked_of_a_running_server() {
    use libre_assistant::plugins::host::context::{Answer, Ask};
    let mut host = support::host::start(vec![everything("everything")], 0, true);
    tools_with(&mut host, "everything", "echo").await;
    let caller = host.caller();
    let Ok(Answer::Resources(resources)) = caller.ask("everything", Ask::Resources).await else {
        panic!("resources");
    };
    let doc = "demo://resource/static/document/architecture.md";
    assert!(
        resources.iter().any(|r| r.uri == doc && !r.template),
        "{resources:?}"
    );
    assert!(
        resources.iter().any(|r| r.template && r.uri.contains('{')),
        "{resources:?}"
    );
    let read = caller
        .ask("everything", Ask::Read { uri: doc.into() })
        .await;
    assert!(
        matches!(&read, Ok(Answer::Read(r)) if r.text.contains("Architecture")),
        "{read:?}"
    );
    // A binary resource is refused in words, not read.
    let blob = caller
        .ask(
            "everything",
            Ask::Read {
                uri: "demo://resource/dynamic/blob/1".into(),
            },
        )
        .await;
    assert!(
        matches!(&blob, Err(CallError::Protocol(m)) if m.contains("comes as binary data") && m.contains("only text resources")),
        "{blob:?}"
    );
    let Ok(Answer::Prompts(prompts)) = caller.ask("everything", Ask::Prompts).await else {
        panic!("prompts");
    };
    let args_prompt = prompts
        .iter()
        .find(|p| p.name == "args-prompt")
        .expect("args-prompt");
    let required: Vec<(&str, bool)> = args_prompt
        .arguments
        .iter()
        .map(|a| (a.name.as_str(), a.required))
        .collect();
    assert_eq!(required, [("city", true), ("state", false)]);
    let mut arguments = Map::new();
    arguments.insert("city".into(), json!("Paris"));
    let rendered = caller
        .ask(
            "everything",
            Ask::Prompt {
                name: "args-prompt".into(),
                arguments,
            },
        )
        .await;
    assert_eq!(
        rendered,
        Ok(Answer::Prompt(vec![(
            true,
            "What's weather in Paris?".into()
        )]))
    );
    // A missing required argument: the server's refusal, in one line.
    let missing = caller
        .ask(
            "everything",
            Ask::Prompt {
                name: "args-prompt".into(),
                arguments: Map::new(),
            },
        )
        .await;
    assert!(
        matches!(&missing, Err(CallError::Protocol(m)) if m.contains("city") && !m.contains('\n')),
        "{missing:?}"
    );
    let completed = caller
        .ask(
            "everything",
            Ask::Complete {
                prompt: "completable-prompt".into(),
                argument: "department".into(),
                value: "E".into(),
                given: Vec::new(),
            },
        )
        .await;
    assert_eq!(
        completed,
        Ok(Answer::Completions(vec!["Engineering".into()]))
    );
    // The second argument's values depend on the first, sent as the context.
    let narrowed = caller
        .ask(
            "everything",
            Ask::Complete {
                prompt: "completable-prompt".into(),
                argument: "name".into(),
                value: String::new(),
                given: vec![("department".into(), "Sales".into())],
            },
        )
        .await;
    assert_eq!(
        narrowed,
        Ok(Answer::Completions(vec![
            "David".into(),
            "Eve".into(),
            "Frank".into()
        ]))
    );
    drop(caller);
    host.shutdown().await;
}

/// server-everything in its Streamable HTTP mode on a free loopback port; killed when dropped.
struct HttpEverything {
    child: std::process::Child,
    url: String,
}

impl HttpEverything {
    fn start() -> HttpEverything {
        use std::io::BufRead;
        let port = support::http::free_port();
        let mut child =
            std::process::Command::new(support::test_servers().join("mcp-server-everything"))
                .arg("streamableHttp")
                .env("PORT", port.to_string())
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("server-everything starts");
        let stderr = child.stderr.take().expect("its stderr");
        // It says so once it listens; the rest of its stderr is drained on a thread.
        let mut lines = std::io::BufReader::new(stderr).lines();
        let listening = lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.contains("listening on port"));
        assert!(listening, "server-everything did not listen on {port}");
        std::thread::spawn(move || lines.for_each(drop));
        HttpEverything {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }
}

impl Drop for HttpEverything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn remote(id: &str, url: &str) -> Plugin {
    let mut plugin = support::plugin(id, "", &[]);
    plugin.manifest.command = String::new();
    plugin.manifest.url = url.to_owned();
    plugin
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_server_over_streamable_http_lists_and_answers() {
    let server = HttpEverything::start();
    let mut host = support::host::start(vec![remote("web", &server.url)], 0, true);
    // Conditional tools arrive too: the capabilities reach it over HTTP as over stdio.
    let tools = tools_with(&mut host, "web", "trigger-sampling-request").await;
    assert!(tools.iter().any(|t| t.name == "echo"), "{tools:?}");
    let echo = call(&host, "web", "echo", json!({"message": "over http"})).await;
    assert!(echo.expect("echo answers").text.contains("over http"));
    assert_eq!(host.process_group("web").await, None, "nothing runs here");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_servers_headers_carry_their_secrets() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!(
        "http://127.0.0.1:{}/mcp",
        listener.local_addr().unwrap().port()
    );
    // The "server": the first request's head, answered 404.
    let heard = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("the client connects");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        String::from_utf8_lossy(&head).to_lowercase()
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        libre_assistant::plugins::secrets::SecretStore::file_only(&dir.path().join("secrets"));
    store
        .set("keyed", "X_API_KEY", "k-789")
        .expect("the secret is stored");
    let mut plugin = remote("keyed", &url);
    plugin.manifest.headers = BTreeMap::from([("X-Api-Key".into(), "X_API_KEY".into())]);
    let root = support::target_dir("mcp_features_headers");
    let mut host = host::spawn(HostConfig {
        plugins: vec![plugin],
        max_restarts: 0,
        sandbox: Some(support::sandbox(&root)),
        secrets: Some(store),
        serve_requests: true,
    });
    let head = heard.join().expect("the request's head");
    assert!(head.contains("\r\nx-api-key: k-789\r\n"), "{head}");
    wait_for(&mut host, |e| {
        matches!(
            e,
            HostEvent::Status {
                status: host::PluginState::Crashed { .. },
                ..
            }
        )
    })
    .await;
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_remote_server_crashes_with_its_url_in_one_line() {
    let port = support::http::free_port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let mut host = support::host::start(vec![remote("gone", &url)], 0, true);
    let crashed = wait_for(&mut host, |e| {
        matches!(
            e,
            HostEvent::Status {
                status: host::PluginState::Crashed { .. },
                ..
            }
        )
    })
    .await;
    let HostEvent::Status {
        status: host::PluginState::Crashed { error, .. },
        ..
    } = crashed
    else {
        unreachable!()
    };
    assert!(error.contains(&url) && !error.contains('\n'), "{error}");
    host.shutdown().await;
}
