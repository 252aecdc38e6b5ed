//! `audit verify|tail` as a person runs them, in an isolated home, over a log written through
//! the library: an intact chain, a tampered one (one stderr line, exit 3), the last calls.

mod support;

use std::path::PathBuf;
use std::process::Output;

use libre_assistant::plugins::audit::{
    AuditLog, AuditRecord, Decision, Grant, Outcome, sha256_hex,
};
use support::Home;

/// Where `Dirs::discover` puts the log for this home: `$XDG_STATE_HOME/libre-assistant`.
fn log_path(home: &Home) -> PathBuf {
    home.path().join("state/libre-assistant/audit.jsonl")
}

fn record(i: u64) -> AuditRecord {
    AuditRecord {
        time: format!("2025-06-01T12:00:0{i}.000Z"),
        plugin: "calc".into(),
        tool: format!("tool{i}"),
        arguments: serde_json::json!({ "n": i }),
        decision: if i == 3 {
            Decision::Denied
        } else {
            Decision::Allowed
        },
        granted_by: if i == 3 { Grant::None } else { Grant::User },
        duration_ms: 100 + i,
        outcome: if i == 3 {
            Outcome::Failed("denied by the user".into())
        } else {
            Outcome::Ok
        },
        result_sha256: Some(sha256_hex(b"result")),
        event: None,
    }
}

fn write_log(home: &Home, n: u64) -> PathBuf {
    let path = log_path(home);
    let mut log = AuditLog::open(&path).unwrap();
    for i in 1..=n {
        log.append(&record(i)).unwrap();
    }
    path
}

fn run(home: &Home, args: &[&str]) -> Output {
    home.command().arg("audit").args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn verify_reports_an_intact_chain() {
    let home = Home::new();
    let path = write_log(&home, 3);
    let out = run(&home, &["verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("audit log {}: 3 calls, chain intact\n", path.display())
    );
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn verify_fails_on_a_tampered_log_with_one_line() {
    let home = Home::new();
    let path = write_log(&home, 3);
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"duration_ms\":102", "\"duration_ms\":2");
    std::fs::write(&path, edited).unwrap();
    let out = run(&home, &["verify"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("line 3: does not follow line 2 (edited, deleted or reordered)"),
        "{stderr}"
    );
}

#[test]
fn verify_without_a_log_says_so() {
    let home = Home::new();
    let out = run(&home, &["verify"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!(
            "no tool calls recorded yet ({})\n",
            log_path(&home).display()
        )
    );
}

#[test]
fn tail_shows_the_last_calls() {
    let home = Home::new();
    write_log(&home, 3);
    let out = run(&home, &["tail", "-n", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "2025-06-01T12:00:02.000Z  calc/tool2  allowed (user)  ok  102 ms\n\
         2025-06-01T12:00:03.000Z  calc/tool3  denied (nothing)  failed: denied by the user  103 ms\n"
    );
    let all = run(&home, &["tail"]);
    assert_eq!(text(&all.stdout).lines().count(), 3);
}

#[test]
fn tail_without_a_log_prints_nothing() {
    let home = Home::new();
    let out = run(&home, &["tail"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "");
    assert_eq!(text(&out.stderr), "");
}
