//! The plugin host against the real third-party MCP servers (`scripts/test-servers`): the
//! handshake, tool lists, calls, errors, timeouts, crashes and restarts, garbage on stdout, a
//! stderr flood, the cleared environment, and no orphans after shutdown.

mod support;

use support::host::{WAIT, wait_for};

use std::path::{Path, PathBuf};
use std::time::Duration;

use libre_assistant::plugins::Plugin;
use libre_assistant::plugins::host::{CallError, HostEvent, HostHandle, PluginState, ToolOutcome};
use serde_json::{Map, Value, json};

fn server(name: &str) -> String {
    support::test_servers()
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn plugin(id: &str, command: &str, args: &[&str], env: &[&str], timeout_secs: u64) -> Plugin {
    let mut plugin = support::plugin(id, command, args);
    plugin.manifest.env = env.iter().map(|e| (*e).to_owned()).collect();
    plugin.manifest.timeout_secs = timeout_secs;
    plugin
}

fn everything(id: &str, env: &[&str], timeout_secs: u64) -> Plugin {
    plugin(
        id,
        &server("mcp-server-everything"),
        &["stdio"],
        env,
        timeout_secs,
    )
}

fn time_server(id: &str) -> Plugin {
    plugin(
        id,
        &server("mcp-server-time"),
        &["--local-timezone", "UTC"],
        &[],
        30,
    )
}

/// A plugin run through `sh -c SCRIPT`, with `$SERVER` set to the time server's path.
fn shell(id: &str, script: &str) -> Plugin {
    shell_around(id, "mcp-server-time", script)
}

/// A plugin run through `sh -c SCRIPT`, with `$SERVER` set to the path of the test server
/// `name`.
fn shell_around(id: &str, name: &str, script: &str) -> Plugin {
    let program = server(name);
    let script = script.replace("$SERVER", &program);
    let mut shell = plugin(id, "/bin/sh", &["-c", &script], &[], 30);
    // The sandbox finds what /bin/sh needs; what the script runs is granted here.
    let path = std::env::var_os("PATH");
    let home = std::env::var_os("HOME").map(PathBuf::from);
    shell.manifest.permissions.read = libre_assistant::plugins::sandbox::install_roots(
        Path::new(&program),
        &[],
        path.as_deref(),
        home.as_deref(),
    )
    .into_iter()
    .map(|p| p.to_string_lossy().into_owned())
    .collect();
    shell
}

/// The host over `plugins` (sandboxed; nobody answers the servers' requests here).
fn start(plugins: Vec<Plugin>, max_restarts: u32) -> HostHandle {
    support::host::start(plugins, max_restarts, false)
}

/// Waits until `id` is running and returns its tools' names.
async fn tools_of(host: &mut HostHandle, id: &str) -> Vec<String> {
    match wait_for(
        host,
        |e| matches!(e, HostEvent::Tools { plugin, .. } if plugin == id),
    )
    .await
    {
        HostEvent::Tools { tools, .. } => tools.into_iter().map(|t| t.name).collect(),
        _ => unreachable!(),
    }
}

async fn status_of(host: &mut HostHandle, id: &str, want: impl Fn(&PluginState) -> bool) {
    wait_for(
        host,
        |e| matches!(e, HostEvent::Status { plugin, status } if plugin == id && want(status)),
    )
    .await;
}

fn args(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

async fn call(
    host: &HostHandle,
    id: &str,
    tool: &str,
    arguments: Value,
) -> Result<ToolOutcome, CallError> {
    tokio::time::timeout(WAIT, host.call(id, tool, args(arguments)))
        .await
        .expect("the call returned in time")
}

/// Shuts the host down and checks that the process groups are gone.
async fn shutdown_without_orphans(host: HostHandle, groups: &[i32]) {
    tokio::time::timeout(WAIT, host.shutdown())
        .await
        .expect("shutdown in time");
    for pgid in groups {
        // SAFETY: signal 0 to a process group only checks that it exists.
        let alive = unsafe { libc::kill(-pgid, 0) } == 0;
        assert!(!alive, "process group {pgid} outlived the shutdown");
    }
}

fn today_utc() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .expect("run date");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn temp_dir_with_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("hello.txt"), "hello from the test\n").expect("write");
    dir
}

fn real(path: &Path) -> String {
    path.canonicalize()
        .expect("canonical path")
        .to_string_lossy()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_real_servers_start_list_and_answer() {
    let dir = temp_dir_with_file();
    let root = real(dir.path());
    let mut filesystem = plugin("files", &server("mcp-server-filesystem"), &[&root], &[], 30);
    // The sandbox lets it read only the directory it was given.
    filesystem.manifest.permissions.read = vec![root.clone()];
    let mut host = start(
        vec![
            everything("everything", &[], 30),
            filesystem,
            time_server("time"),
        ],
        0,
    );
    let mut seen = std::collections::BTreeMap::new();
    while seen.len() < 3 {
        if let HostEvent::Tools { plugin, tools } =
            wait_for(&mut host, |e| matches!(e, HostEvent::Tools { .. })).await
        {
            seen.insert(plugin, tools);
        }
    }
    let names = |id: &str| -> Vec<String> { seen[id].iter().map(|t| t.name.clone()).collect() };
    assert!(
        names("everything").contains(&"echo".to_owned()),
        "{:?}",
        names("everything")
    );
    assert!(
        names("files").contains(&"list_directory".to_owned()),
        "{:?}",
        names("files")
    );
    assert!(
        names("time").contains(&"get_current_time".to_owned()),
        "{:?}",
        names("time")
    );
    assert!(seen["time"].iter().all(|t| t.input_schema.is_object()));

    let echo = call(&host, "everything", "echo", json!({"message": "hi there"})).await;
    let echo = echo.expect("echo answers");
    assert!(echo.text.contains("hi there") && !echo.is_error, "{echo:?}");

    let listing = call(&host, "files", "list_directory", json!({"path": root})).await;
    let listing = listing.expect("list_directory answers");
    assert!(listing.text.contains("hello.txt"), "{listing:?}");

    let now = call(
        &host,
        "time",
        "get_current_time",
        json!({"timezone": "UTC"}),
    )
    .await;
    let now = now.expect("get_current_time answers");
    let text = format!("{} {:?}", now.text, now.structured);
    assert!(text.contains(&today_utc()), "{text}");

    let unknown = call(&host, "nope", "echo", json!({})).await;
    assert_eq!(unknown, Err(CallError::UnknownPlugin));

    let mut groups = Vec::new();
    for id in ["everything", "files", "time"] {
        groups.push(host.process_group(id).await.expect("a running child"));
    }
    shutdown_without_orphans(host, &groups).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tool_errors_and_protocol_errors_differ() {
    let mut host = start(
        vec![everything("everything", &[], 30), time_server("time")],
        0,
    );
    tools_of(&mut host, "everything").await;
    status_of(&mut host, "time", |s| *s == PluginState::Running).await;

    // The Python server answers an unknown tool with a JSON-RPC error; the Node one with an
    // error result (FACTS.md).
    let python = call(&host, "time", "no_such_tool", json!({})).await;
    assert!(
        matches!(&python, Err(CallError::Protocol(m)) if m.contains("no_such_tool")),
        "{python:?}"
    );
    let node = call(&host, "everything", "no_such_tool", json!({})).await;
    assert!(
        matches!(&node, Ok(o) if o.is_error && o.text.contains("no_such_tool")),
        "{node:?}"
    );
    // A bad argument to a real tool: an error result or a protocol error, never a crash.
    let bad = call(
        &host,
        "time",
        "get_current_time",
        json!({"timezone": "Not/AZone"}),
    )
    .await;
    assert!(
        matches!(&bad, Ok(o) if o.is_error) || matches!(&bad, Err(CallError::Protocol(_))),
        "{bad:?}"
    );
    let again = call(
        &host,
        "time",
        "get_current_time",
        json!({"timezone": "UTC"}),
    )
    .await;
    assert!(again.is_ok(), "{again:?}");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_call_times_out_is_cancelled_and_the_next_call_works() {
    // Everything the host sends the server is copied to `sent` on its way in.
    let dir = tempfile::tempdir().unwrap();
    let sent = dir.path().join("sent.jsonl");
    let mut slow = shell_around(
        "slow",
        "mcp-server-everything",
        &format!("tee '{}' | $SERVER stdio", sent.display()),
    );
    slow.manifest.timeout_secs = 1;
    slow.manifest.permissions.write = vec![dir.path().to_string_lossy().into_owned()];
    let mut host = start(vec![slow], 0);
    tools_of(&mut host, "slow").await;
    let slow = call(
        &host,
        "slow",
        "trigger-long-running-operation",
        json!({"duration": 10, "steps": 5}),
    )
    .await;
    assert_eq!(
        slow,
        Err(CallError::Timeout {
            after: Duration::from_secs(1)
        })
    );
    // The server was told to stop that very request.
    let cancelled = wait_for_message(&sent, |m| m["method"] == "notifications/cancelled").await;
    let messages = read_messages(&sent);
    let request = messages
        .iter()
        .find(|m| m["method"] == "tools/call")
        .expect("the call was sent");
    assert_eq!(
        request["params"]["name"], "trigger-long-running-operation",
        "{request}"
    );
    assert_eq!(
        cancelled["params"]["requestId"], request["id"],
        "{cancelled}"
    );
    let echo = call(&host, "slow", "echo", json!({"message": "still here"})).await;
    assert!(
        echo.expect("echo after a timeout")
            .text
            .contains("still here")
    );
    host.shutdown().await;
}

/// The JSON-RPC messages in `path`, one a line (a line still being written is left out).
fn read_messages(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Waits until `path` holds a message for which `want` is true, and returns it.
async fn wait_for_message(path: &Path, want: impl Fn(&Value) -> bool) -> Value {
    tokio::time::timeout(WAIT, async {
        loop {
            if let Some(found) = read_messages(path).into_iter().find(|m| want(m)) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "no such message in {}:\n{}",
            path.display(),
            std::fs::read_to_string(path).unwrap_or_default()
        )
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_child_killed_mid_call_crashes_the_call_and_restarts() {
    let mut host = start(vec![everything("fragile", &[], 30)], 2);
    tools_of(&mut host, "fragile").await;
    let pgid = host
        .process_group("fragile")
        .await
        .expect("a running child");
    let caller = host.caller();
    let slow = tokio::spawn(async move {
        let arguments = args(json!({"duration": 10, "steps": 5}));
        tokio::time::timeout(
            WAIT,
            caller.call("fragile", "trigger-long-running-operation", arguments),
        )
        .await
        .expect("the call returned in time")
    });
    // Killed once the call is under way: its first progress report came.
    wait_for(
        &mut host,
        |e| matches!(e, HostEvent::Progress { plugin, .. } if plugin == "fragile"),
    )
    .await;
    // SAFETY: kill(2) on the plugin's own process group, which this test started.
    assert_eq!(unsafe { libc::kill(-pgid, libc::SIGKILL) }, 0);
    let result = slow.await.expect("the call's task");
    assert!(matches!(result, Err(CallError::Crashed(_))), "{result:?}");
    status_of(&mut host, "fragile", |s| {
        matches!(s, PluginState::Crashed { restarts: 0, .. })
    })
    .await;
    status_of(&mut host, "fragile", |s| *s == PluginState::Running).await;
    let echo = call(&host, "fragile", "echo", json!({"message": "back"})).await;
    assert!(echo.expect("echo after the restart").text.contains("back"));
    let new_pgid = host.process_group("fragile").await.expect("a new child");
    assert_ne!(new_pgid, pgid);
    shutdown_without_orphans(host, &[pgid, new_pgid]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_command_crashes_and_stays_crashed_after_its_restarts() {
    let mut host = start(
        vec![plugin("ghost", "/nonexistent/server", &[], &[], 30)],
        1,
    );
    status_of(&mut host, "ghost", |s| {
        matches!(s, PluginState::Crashed { restarts: 0, .. })
    })
    .await;
    status_of(&mut host, "ghost", |s| {
        matches!(s, PluginState::Crashed { restarts: 1, .. })
    })
    .await;
    let refused = call(&host, "ghost", "anything", json!({})).await;
    assert!(
        matches!(refused, Err(CallError::NotRunning(_))),
        "{refused:?}"
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_on_stdout_is_skipped() {
    let mut host = start(
        vec![shell(
            "garbage",
            "echo 'not json at all'; echo '{oops'; exec $SERVER --local-timezone UTC",
        )],
        0,
    );
    let tools = tools_of(&mut host, "garbage").await;
    assert!(tools.contains(&"get_current_time".to_owned()));
    let now = call(
        &host,
        "garbage",
        "get_current_time",
        json!({"timezone": "UTC"}),
    )
    .await;
    assert!(now.is_ok(), "{now:?}");
    let pgid = host.process_group("garbage").await.expect("running");
    shutdown_without_orphans(host, &[pgid]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stderr_flood_neither_blocks_the_child_nor_reaches_our_stderr() {
    let mut host = start(
        vec![shell(
            "flood",
            // 4 MiB on stderr before the server starts, written by the plugin's own process
            // (the shell waits for it, then becomes the server): unread, the pipe fills at
            // 64 KiB and the server never starts. Then a flood that goes on while it serves.
            "head -c 4194304 /dev/zero | tr '\\0' x >&2; yes flood-line >&2 & exec $SERVER --local-timezone UTC",
        )],
        0,
    );
    tools_of(&mut host, "flood").await;
    let pgid = host.process_group("flood").await.expect("running");
    let theirs = std::fs::read_link(format!("/proc/{pgid}/fd/2")).expect("child's stderr");
    let ours = std::fs::read_link("/proc/self/fd/2").expect("our stderr");
    assert_ne!(theirs, ours, "the child writes to our stderr");
    assert!(theirs.to_string_lossy().starts_with("pipe:"), "{theirs:?}");
    for _ in 0..3 {
        let now = call(
            &host,
            "flood",
            "get_current_time",
            json!({"timezone": "UTC"}),
        )
        .await;
        assert!(now.is_ok(), "{now:?}");
    }
    shutdown_without_orphans(host, &[pgid]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_child_sees_only_the_baseline_and_the_named_variables() {
    // SAFETY: set before any thread of this test reads the environment; the names are this
    // test's own.
    unsafe {
        std::env::set_var("LA_HOST_TEST_NAMED", "named-value");
        std::env::set_var("LA_HOST_TEST_SECRET", "secret-value");
    }
    let mut host = start(vec![everything("env", &["LA_HOST_TEST_NAMED"], 30)], 0);
    tools_of(&mut host, "env").await;
    let env = call(&host, "env", "get-env", json!({}))
        .await
        .expect("get-env answers");
    assert!(env.text.contains("named-value"), "{}", env.text);
    assert!(!env.text.contains("LA_HOST_TEST_SECRET"), "{}", env.text);
    assert!(!env.text.contains("secret-value"), "{}", env.text);
    assert!(env.text.contains("PATH"), "{}", env.text);
    host.shutdown().await;
}

/// `tests/servers/list_changed.cjs`: a server whose `add_tool` registers `double`.
fn list_changed_server(id: &str) -> Plugin {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/list_changed.cjs");
    // test_servers() is the `bin` directory; the npm packages are beside it.
    let modules = support::test_servers().join("../node/node_modules");
    let mut server = plugin(
        id,
        "node",
        &[&script.to_string_lossy(), &modules.to_string_lossy()],
        &[],
        30,
    );
    // The sandbox grants the script's directory; the SDK it loads is granted here.
    server.manifest.permissions.read = vec![modules.to_string_lossy().into_owned()];
    server
}

#[tokio::test]
async fn tools_list_changed_refreshes_the_tool_list() {
    let mut host = start(vec![list_changed_server("lc")], 0);
    assert_eq!(tools_of(&mut host, "lc").await, ["add_tool"]);
    let added = call(&host, "lc", "add_tool", json!({})).await.unwrap();
    assert_eq!(added.text, "added");
    let mut tools = tools_of(&mut host, "lc").await;
    tools.sort();
    assert_eq!(tools, ["add_tool", "double"]);
    let doubled = call(&host, "lc", "double", json!({"n": 21})).await.unwrap();
    assert_eq!(doubled.text, "42");
    let group = host.process_group("lc").await.expect("a running child");
    shutdown_without_orphans(host, &[group]).await;
}

/// The shipped plugins as the app finds them, `${SELF}` pointing at the built binary.
fn shipped_plugins() -> Vec<Plugin> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins");
    let found = libre_assistant::plugins::discover(
        &[dir],
        Path::new("/nonexistent-user-plugins"),
        &libre_assistant::plugins::PluginsState::default(),
    );
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    found
        .plugins
        .into_iter()
        .map(|mut p| {
            p.manifest.command = p
                .manifest
                .command
                .replace("${SELF}", env!("CARGO_BIN_EXE_libre-assistant"));
            p
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_shipped_plugin_answers_a_call_sandboxed() {
    let dir = temp_dir_with_file();
    let root = real(dir.path());
    let mut plugins = shipped_plugins();
    let ids: Vec<String> = plugins.iter().map(|p| p.manifest.id.clone()).collect();
    assert_eq!(ids, ["calc", "files", "password", "time"]);
    // The files plugin serves exactly what it is granted.
    plugins[1].manifest.permissions.read = vec![root.clone()];
    let mut host = start(plugins, 0);
    let mut listed = std::collections::BTreeSet::new();
    while listed.len() < ids.len() {
        if let HostEvent::Tools { plugin, .. } =
            wait_for(&mut host, |e| matches!(e, HostEvent::Tools { .. })).await
        {
            listed.insert(plugin);
        }
    }
    let calls = [
        ("calc", "evaluate", json!({"expression": "6 * 7"}), "42"),
        (
            "files",
            "list_directory",
            json!({"path": root}),
            "hello.txt",
        ),
        (
            "password",
            "generate_passphrase",
            json!({"words": 4}),
            "bits",
        ),
        (
            "time",
            "current_time",
            json!({"timezone": "UTC"}),
            &today_utc()[..],
        ),
    ];
    for (id, tool, args, expect) in calls {
        let out = call(&host, id, tool, args).await;
        let out = out.unwrap_or_else(|e| panic!("{id}/{tool}: {e}"));
        let text = format!("{} {:?}", out.text, out.structured);
        assert!(
            !out.is_error && text.contains(expect),
            "{id}/{tool}: {text}"
        );
    }
    let mut groups = Vec::new();
    for id in &ids {
        groups.push(host.process_group(id).await.expect("running"));
    }
    shutdown_without_orphans(host, &groups).await;
}
