//! Unit tests of the audit log: the chain, what breaks it and which line is named, the mode.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::audit::*;

fn record(i: u64) -> AuditRecord {
    AuditRecord {
        time: timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i)),
        plugin: "calc".into(),
        tool: "eval".into(),
        arguments: serde_json::json!({ "expr": format!("{i} + 1") }),
        decision: Decision::Allowed,
        granted_by: Grant::User,
        duration_ms: 10 + i,
        outcome: Outcome::Ok,
        result_sha256: Some(sha256_hex(format!("{}", i + 1).as_bytes())),
        event: None,
    }
}

fn log_with(n: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/audit.jsonl");
    let mut log = AuditLog::open(&path).unwrap();
    for i in 1..=n {
        log.append(&record(i)).unwrap();
    }
    (dir, path)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn message(path: &Path) -> String {
    verify(path).unwrap_err().to_string()
}

#[test]
fn three_appends_verify() {
    let (_dir, path) = log_with(3);
    assert_eq!(verify(&path).unwrap(), VerifyReport { lines: 3 });
    let first = &lines(&path)[0];
    assert!(
        first.starts_with(&format!("{{\"prev\":\"{GENESIS}\"")),
        "{first}"
    );
}

#[test]
fn records_round_trip_through_tail() {
    let (_dir, path) = log_with(3);
    assert_eq!(tail(&path, 2).unwrap(), vec![record(2), record(3)]);
    assert_eq!(tail(&path, 20).unwrap().len(), 3);
}

#[test]
fn outcomes_serialize_tagged() {
    let mut r = record(1);
    r.outcome = Outcome::Failed("timed out after 30 s".into());
    r.granted_by = Grant::HeadlessFlag;
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["outcome"],
        serde_json::json!({ "kind": "failed", "message": "timed out after 30 s" })
    );
    assert_eq!(json["granted_by"], "headless_flag");
    let ok = serde_json::to_value(Outcome::Ok).unwrap();
    assert_eq!(ok, serde_json::json!({ "kind": "ok" }));
}

#[test]
fn an_edited_line_is_named_by_its_successor() {
    let (_dir, path) = log_with(3);
    let mut all = lines(&path);
    // Still valid JSON, so only the chain can tell: line 3's prev no longer matches.
    all[1] = all[1].replace("\"duration_ms\":12", "\"duration_ms\":13");
    write_lines(&path, &all);
    let message = message(&path);
    assert_eq!(
        message,
        format!(
            "audit log {}: line 3: does not follow line 2 (edited, deleted or reordered); the log was tampered with",
            path.display()
        )
    );
}

#[test]
fn an_edited_prev_is_named_itself() {
    let (_dir, path) = log_with(3);
    let mut all = lines(&path);
    // The first hex digit of line 2's prev, changed to another hex digit.
    let at = "{\"prev\":\"".len();
    let digit = if all[1][at..].starts_with('0') {
        "1"
    } else {
        "0"
    };
    all[1].replace_range(at..at + 1, digit);
    write_lines(&path, &all);
    assert!(message(&path).contains("line 2: does not follow line 1"));
}

#[test]
fn a_deleted_line_breaks_the_chain() {
    let (_dir, path) = log_with(3);
    let mut all = lines(&path);
    all.remove(1);
    write_lines(&path, &all);
    assert!(message(&path).contains("line 2: does not follow line 1"));
}

#[test]
fn a_deleted_first_line_breaks_the_start() {
    let (_dir, path) = log_with(3);
    let mut all = lines(&path);
    all.remove(0);
    write_lines(&path, &all);
    assert!(message(&path).contains("line 1: does not start the chain"));
}

#[test]
fn reordered_lines_break_the_chain() {
    let (_dir, path) = log_with(3);
    let mut all = lines(&path);
    all.swap(1, 2);
    write_lines(&path, &all);
    assert!(message(&path).contains("line 2: does not follow line 1"));
}

#[test]
fn a_line_that_is_not_json_is_named() {
    let (_dir, path) = log_with(3);
    let mut all = lines(&path);
    all[1] = "not json".into();
    write_lines(&path, &all);
    let message = message(&path);
    assert!(message.contains("line 2: not an audit record"), "{message}");
    assert!(tail(&path, 3).is_err());
}

#[test]
fn a_torn_last_line_is_named_and_blocks_open() {
    let (_dir, path) = log_with(2);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"prev\":\"ab");
    std::fs::write(&path, text).unwrap();
    assert!(message(&path).contains("line 3: not an audit record"));
    let open = AuditLog::open(&path).unwrap_err().to_string();
    assert!(
        open.contains("run `libre-assistant audit verify`"),
        "{open}"
    );
}

#[test]
fn the_file_is_private() {
    let (_dir, path) = log_with(1);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn reopening_continues_the_chain() {
    let (_dir, path) = log_with(2);
    let mut log = AuditLog::open(&path).unwrap();
    log.append(&record(3)).unwrap();
    log.append(&record(4)).unwrap();
    assert_eq!(verify(&path).unwrap(), VerifyReport { lines: 4 });
}

#[test]
fn a_long_last_line_is_found() {
    let (_dir, path) = log_with(1);
    let mut log = AuditLog::open(&path).unwrap();
    let mut big = record(2);
    big.arguments = serde_json::json!({ "text": "x".repeat(50_000) });
    log.append(&big).unwrap();
    let mut log = AuditLog::open(&path).unwrap();
    log.append(&record(3)).unwrap();
    assert_eq!(verify(&path).unwrap(), VerifyReport { lines: 3 });
}

#[test]
fn a_missing_log_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    assert_eq!(verify(&path).unwrap(), VerifyReport { lines: 0 });
    assert!(tail(&path, 20).unwrap().is_empty());
}
