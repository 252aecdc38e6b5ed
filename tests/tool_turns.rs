//! Whole turns with tools, through the binary in headless mode: the real Qwen model calls the
//! built-in time plugin (its own child process), the call is allowed by a flag, runs, is
//! audited and counted, and the answer uses the result. Assertions are on events and records,
//! never on wording beyond the result's own figures.

mod support;

use std::process::{Command, Output};

use serde_json::Value;
use support::Home;
use support::events::{answer, clock, events, of_type, stderr};

fn qwen(home: &Home) -> Command {
    let mut cmd = home.command();
    cmd.arg("--model").arg(support::qwen()).args([
        "--temperature",
        "0",
        "--max-tokens",
        "96",
        "--json",
    ]);
    cmd
}

/// Asks Qwen for the time in Tokyo with `flags`; the run must succeed.
fn ask_tokyo(home: &Home, flags: &[&str]) -> Output {
    let out = qwen(home)
        .args(["-p", "What time is it in Tokyo?"])
        .args(flags)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    out
}

#[test]
fn an_allowed_call_runs_is_audited_and_the_answer_uses_it() {
    let home = Home::new();
    let out = ask_tokyo(&home, &["--allow-tool", "time/current_time"]);
    let events = events(&out);
    let calls = of_type(&events, "tool_call");
    assert!(!calls.is_empty(), "the model called a tool: {events:?}");
    assert_eq!(calls[0]["plugin"], "time");
    assert_eq!(calls[0]["tool"], "current_time");
    assert_eq!(calls[0]["arguments"]["timezone"], "Asia/Tokyo");
    assert_eq!(calls[0]["granted_by"], "headless_flag");
    let results = of_type(&events, "tool_result");
    assert_eq!(results[0]["outcome"], "ok", "{results:?}");
    // "In Asia/Tokyo it is now HH:MM on …": the answer quotes the hour and minute.
    let clock = clock(results[0]["text"].as_str().unwrap());
    let said = answer(&events);
    assert!(said.contains(clock), "the answer {said:?} uses {clock}");
    assert!(
        !said.contains("current_time"),
        "no call markup in the answer: {said:?}"
    );

    let verify = home.command().args(["audit", "verify"]).output().unwrap();
    assert_eq!(verify.status.code(), Some(0), "{}", stderr(&verify));
    let tail = home.command().args(["audit", "tail"]).output().unwrap();
    let tail = String::from_utf8_lossy(&tail.stdout);
    assert!(
        tail.contains("time/current_time  allowed (headless flag)  ok"),
        "{tail}"
    );
    let stats = home
        .command()
        .args(["plugins", "stats", "--json"])
        .output()
        .unwrap();
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    let row = stats["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tool"] == "current_time")
        .expect("a row for current_time");
    assert!(row["calls"].as_u64().unwrap() >= 1, "{row}");
}

#[test]
fn a_call_no_rule_allows_is_denied_and_shown_on_stderr() {
    let home = Home::new();
    // Only convert_time is allowed, so the model's current_time call is refused.
    let out = ask_tokyo(&home, &["--allow-tool", "time/convert_time"]);
    let events = events(&out);
    let denied: Vec<&Value> = of_type(&events, "tool_result")
        .into_iter()
        .filter(|r| r["outcome"] == "denied")
        .collect();
    assert!(!denied.is_empty(), "a denied call: {events:?}");
    assert_eq!(denied[0]["tool"], "current_time");
    assert!(
        stderr(&out).contains("denied time/current_time: no rule allows this tool"),
        "{}",
        stderr(&out)
    );
    let tail = home.command().args(["audit", "tail"]).output().unwrap();
    assert!(String::from_utf8_lossy(&tail.stdout).contains("denied (nothing)"));
}

#[test]
fn without_rules_no_plugin_starts_and_no_tool_is_offered() {
    let home = Home::new();
    let out = ask_tokyo(&home, &[]);
    assert!(of_type(&events(&out), "tool_call").is_empty());
    assert!(
        !home
            .path()
            .join("state/libre-assistant/audit.jsonl")
            .exists()
    );
    // A plugin that starts gets its private directories first: none were made.
    let plugins = home.path().join("state/libre-assistant/plugins");
    assert!(!plugins.exists(), "a plugin was started: {plugins:?}");
}

#[test]
fn bad_tool_flags_are_one_line_usage_errors() {
    let home = Home::new();
    for args in [
        ["--allow-tool", "time"],
        ["--allow-plugin", "time/x"],
        ["--allow-tool", "Bad/x"],
    ] {
        let out = home
            .command()
            .args(["-p", "hi"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("PLUGIN/TOOL") || err.contains("plugin id"),
            "{err}"
        );
    }
}
