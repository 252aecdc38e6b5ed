//! Reviewing a plugin before trusting it, on the real binary: `plugins tools` starts it
//! sandboxed and lists its tools with their token cost; `plugins call` runs one call (audited
//! and counted); a plugin that fails under its policy says what was denied and which grant
//! allows it; and killing the host with SIGKILL ends the plugin.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use support::Home;

fn probe_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/probe.py")
}

/// Installs a user plugin `id` (disabled, as `plugins import` leaves one) from manifest lines.
fn install(home: &Home, id: &str, body: &str) {
    let dir = home.path().join("config/libre-assistant/plugins").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!("id = \"{id}\"\nname = \"{id}\"\n{body}");
    std::fs::write(dir.join("plugin.toml"), text).unwrap();
    let state = home.path().join("config/libre-assistant/plugins.toml");
    let mut old = std::fs::read_to_string(&state).unwrap_or_default();
    old.push_str(&format!("[plugins.{id}]\nenabled = false\n"));
    std::fs::write(state, old).unwrap();
}

fn install_probe(home: &Home) {
    let body = format!(
        "command = \"python3\"\nargs = [\"{}\"]\ntimeout_secs = 600\n",
        probe_script().display()
    );
    install(home, "probe", &body);
}

fn plugins(home: &Home, args: &[&str]) -> Output {
    home.command().arg("plugins").args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn tools_lists_a_disabled_plugin_with_token_costs() {
    let home = Home::new();
    install_probe(&home);
    let model = support::smollm();
    let out = home
        .command()
        .arg("--model")
        .arg(&model)
        .args(["plugins", "tools", "probe", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let tools: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tools = tools.as_array().unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0]["name"], "probe");
    assert_eq!(tools[0]["input_schema"]["required"][0], "case");
    let tokens = tools[0]["tokens"].as_u64().unwrap();
    assert!((30..2000).contains(&tokens), "{tokens}");
    assert_eq!(
        tools[0]["tokens_counted_with"],
        model.to_string_lossy().as_ref()
    );

    // Without a model to count with, an estimate, said to be one.
    let out = plugins(&home, &["tools", "probe"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("probe: 1 tool, ") && text.contains("estimated"),
        "{text}"
    );
}

#[test]
fn call_runs_one_tool_audited_and_counted() {
    let home = Home::new();
    install_probe(&home);
    let out = plugins(
        &home,
        &["call", "probe", "probe", r#"{"case": "status"}"#, "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["outcome"], "ok");
    let probe: Value = serde_json::from_str(result["text"].as_str().unwrap()).unwrap();
    // It ran sandboxed.
    assert_eq!(probe["value"][1], "Seccomp:\t2");

    let bad = plugins(&home, &["call", "probe", "probe", "[1]"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("is not an object"),
        "{}",
        stderr(&bad)
    );
    let invalid = plugins(&home, &["call", "probe", "probe", r#"{"case": 5}"#]);
    assert_eq!(invalid.status.code(), Some(2), "{}", stderr(&invalid));

    let tail = home.command().args(["audit", "tail"]).output().unwrap();
    let tail = String::from_utf8_lossy(&tail.stdout);
    assert!(
        tail.contains("probe/probe  allowed (plugins call)  ok"),
        "{tail}"
    );
    assert!(tail.contains("probe/probe  denied (nothing)"), "{tail}");
    let stats = plugins(&home, &["stats", "--json"]);
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["tools"][0]["plugin"], "probe");
    assert_eq!(stats["tools"][0]["calls"], 1);
}

#[test]
fn a_plugin_failing_under_its_policy_names_the_denial_and_the_grant() {
    let home = Home::new();
    let secret = home.path().join("secret");
    std::fs::create_dir_all(&secret).unwrap();
    std::fs::write(secret.join("token"), "s3cret").unwrap();
    let body = format!(
        "command = \"python3\"\nargs = [\"-c\", \"open('{}').read()\"]\n",
        secret.join("token").display()
    );
    install(&home, "reader", &body);
    let out = plugins(&home, &["tools", "reader"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let err = stderr(&out);
    let line = err.lines().last().unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    let path = secret.join("token").display().to_string();
    assert!(
        line.starts_with("libre-assistant: plugin reader failed to start:"),
        "{line}"
    );
    assert!(
        line.contains(&format!("it was denied access to {path}")),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "`libre-assistant plugins grant reader --read {path}`"
        )),
        "{line}"
    );
    assert!(
        line.contains("stderr: ") && line.contains("PermissionError"),
        "{line}"
    );
    assert!(!line.contains("s3cret"));

    // A headless run that names it says the same, once, and answers without it.
    std::fs::write(
        home.path().join("config/libre-assistant/plugins.toml"),
        "[plugins.reader]\nenabled = true\n",
    )
    .unwrap();
    let run = home
        .with_model()
        .args(["--allow-plugin", "reader", "-p", "Hi"])
        .output()
        .unwrap();
    let err = stderr(&run);
    let failed: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("plugin reader failed:"))
        .collect();
    assert_eq!(failed.len(), 1, "{err}");
    assert!(failed[0].contains("plugins grant reader --read"), "{err}");
    assert_eq!(run.status.code(), Some(0), "{err}");
}

/// Waits for `cond`, polling; false after a minute.
fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !cond() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

#[test]
fn killing_the_host_ends_the_plugin() {
    let home = Home::new();
    install_probe(&home);
    let mut host = home
        .command()
        .args(["plugins", "call", "probe", "probe", r#"{"case": "hang"}"#])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = home
        .path()
        .join("state/libre-assistant/plugins/probe/tmp/pid");
    assert!(wait_until(
        || std::fs::read_to_string(&pid_file).is_ok_and(|p| !p.is_empty())
    ));
    let plugin: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(Path::new(&format!("/proc/{plugin}")).exists());
    host.kill().unwrap();
    host.wait().unwrap();
    assert!(
        wait_until(|| !Path::new(&format!("/proc/{plugin}")).exists()),
        "plugin {plugin} outlived its host"
    );
}

#[test]
fn grant_gives_the_shipped_files_plugin_a_directory() {
    let home = Home::new();
    let docs = home.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("plan.md"), "# the plan\n").unwrap();
    let list = serde_json::json!({"path": docs}).to_string();
    // With no directory it offers no tools at all.
    let before = plugins(&home, &["tools", "files"]);
    assert!(String::from_utf8_lossy(&before.stdout).starts_with("files: 0 tools"));

    let granted = plugins(&home, &["grant", "files", "--read", docs.to_str().unwrap()]);
    assert_eq!(granted.status.code(), Some(0), "{}", stderr(&granted));
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/files/plugin.toml");
    assert!(
        !std::fs::read_to_string(shipped)
            .unwrap()
            .contains(docs.to_str().unwrap())
    );
    let after = plugins(&home, &["call", "files", "list_directory", &list]);
    assert_eq!(after.status.code(), Some(0), "{}", stderr(&after));
    assert!(String::from_utf8_lossy(&after.stdout).contains("plan.md"));
    let show = plugins(&home, &["show", "files"]);
    assert!(
        String::from_utf8_lossy(&show.stdout)
            .contains(&format!("read:         {}", docs.display()))
    );
}

#[test]
fn a_plugin_past_its_memory_limit_is_stopped_recorded_and_counted() {
    let home = Home::new();
    let body = format!(
        "command = \"python3\"\nargs = [\"{}\"]\ntimeout_secs = 600\n[limits]\nmemory_mb = 64\n",
        probe_script().display()
    );
    install(&home, "probe", &body);
    let out = plugins(
        &home,
        &[
            "call",
            "probe",
            "probe",
            r#"{"case": "allocate", "mb": 160, "hold": 120}"#,
        ],
    );
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("plugin probe was stopped: it used")
            && err.contains("over its limit of 64 MB (limits.memory_mb)"),
        "{err}"
    );

    let stats = plugins(&home, &["stats", "--json"]);
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    let probe = &stats["plugins"][0];
    assert_eq!(probe["plugin"], "probe");
    assert_eq!(probe["halts"], 1);
    assert!(
        probe["peak_rss_bytes"].as_u64().unwrap() > 64 * 1024 * 1024,
        "{probe}"
    );
    assert!(
        probe["last_halt"]
            .as_str()
            .unwrap()
            .contains("limits.memory_mb")
    );
    assert!(probe["processes"].as_u64().unwrap() >= 1);

    let tail = home.command().args(["audit", "tail"]).output().unwrap();
    let tail = String::from_utf8_lossy(&tail.stdout);
    assert!(
        tail.contains("probe  stopped over limit: stopped: it used"),
        "{tail}"
    );
    let verify = home.command().args(["audit", "verify"]).output().unwrap();
    assert_eq!(verify.status.code(), Some(0));
}

/// `plugins resources`, `read`, `prompts` and `prompt` on server-everything: what it offers
/// besides tools, with one-line errors and their exit codes for what cannot be done.
#[test]
fn resources_and_prompts_are_listed_read_and_rendered() {
    let home = Home::new();
    let everything = support::test_servers().join("mcp-server-everything");
    install(
        &home,
        "everything",
        &format!(
            "command = {:?}\nargs = [\"stdio\"]\n",
            everything.to_string_lossy()
        ),
    );
    let text = |out: &Output| String::from_utf8_lossy(&out.stdout).into_owned();
    let out = plugins(&home, &["resources", "everything", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let doc = "demo://resource/static/document/architecture.md";
    assert!(
        listed.as_array().unwrap().iter().any(|r| r["uri"] == doc),
        "{listed}"
    );
    let out = plugins(&home, &["read", "everything", doc]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(text(&out).contains("Architecture"), "{}", text(&out));
    let out = plugins(
        &home,
        &["read", "everything", "demo://resource/dynamic/blob/1"],
    );
    assert_eq!(out.status.code(), Some(8));
    assert!(
        stderr(&out).contains("only text resources can be read"),
        "{}",
        stderr(&out)
    );
    let out = plugins(&home, &["prompts", "everything"]);
    assert!(
        text(&out).contains("/everything:args-prompt city=… [state=…]"),
        "{}",
        text(&out)
    );
    let out = plugins(
        &home,
        &["prompt", "everything", "args-prompt", "city=Paris"],
    );
    assert_eq!(text(&out), "user: What's weather in Paris?\n");
    let out = plugins(&home, &["prompt", "everything", "args-prompt"]);
    assert_eq!(out.status.code(), Some(8));
    assert!(
        stderr(&out).contains("city") && stderr(&out).lines().count() == 1,
        "{}",
        stderr(&out)
    );
    let out = plugins(&home, &["prompt", "everything", "args-prompt", "Paris"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("write ARG=VALUE"), "{}", stderr(&out));
}
