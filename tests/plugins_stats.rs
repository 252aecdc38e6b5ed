//! `plugins stats [--json]` as a person runs it, in an isolated home, over a usage file written
//! through the library: the table, the JSON, no usage yet, a corrupt file (one stderr line, exit 3).

mod support;

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libre_assistant::plugins::usage::{CallKind, USAGE_FILE, Usage};
use support::Home;

/// Where `Dirs::discover` puts the file for this home: `$XDG_STATE_HOME/libre-assistant`.
fn usage_path(home: &Home) -> PathBuf {
    home.path().join("state/libre-assistant").join(USAGE_FILE)
}

/// 2026-11-23 16:40:12 UTC, plus `ms` milliseconds.
fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_452_012) + Duration::from_millis(ms)
}

/// calc/eval: 100 ok calls of 1..=100 ms, one error of 3 s, two denials;
/// files/read: one denial only.
fn write_usage(home: &Home) {
    let mut usage = Usage::default();
    for l in 1..=100 {
        usage.record(
            "calc",
            "eval",
            CallKind::Ok,
            Duration::from_millis(l),
            at(0),
        );
    }
    let three_s = Duration::from_secs(3);
    usage.record("calc", "eval", CallKind::Error, three_s, at(0));
    usage.record("calc", "eval", CallKind::Denied, Duration::ZERO, at(0));
    usage.record("calc", "eval", CallKind::Denied, Duration::ZERO, at(0));
    usage.record(
        "files",
        "read",
        CallKind::Denied,
        Duration::ZERO,
        at(60_000),
    );
    usage.save(&usage_path(home)).unwrap();
}

fn run(home: &Home, args: &[&str]) -> Output {
    home.command()
        .args(["plugins", "stats"])
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A table line's cells, split on runs of two spaces.
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn stats_shows_a_table_of_the_figures() {
    let home = Home::new();
    write_usage(&home);
    let out = run(&home, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    let stdout = text(&out.stdout);
    let lines: Vec<_> = stdout.lines().map(cells).collect();
    assert_eq!(
        lines,
        [
            vec![
                "PLUGIN", "TOOL", "CALLS", "ERRORS", "DENIED", "P50", "P95", "LAST USE"
            ],
            // 101 latencies: 1..=100 ms and 3000 ms; ranks 51 and 96.
            vec![
                "calc",
                "eval",
                "101",
                "1",
                "2",
                "51 ms",
                "96 ms",
                "2026-11-23 16:40:12"
            ],
            vec![
                "files",
                "read",
                "0",
                "0",
                "1",
                "-",
                "-",
                "2026-11-23 16:41:12"
            ],
        ],
        "{stdout}"
    );
}

#[test]
fn stats_shows_seconds_for_slow_tools() {
    let home = Home::new();
    let mut usage = Usage::default();
    let slow = Duration::from_millis(1234);
    usage.record("web", "fetch", CallKind::Ok, slow, at(0));
    usage.save(&usage_path(&home)).unwrap();
    let out = run(&home, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let row = stdout.lines().nth(1).map(cells).unwrap();
    assert_eq!(row[5..7], ["1.2 s", "1.2 s"], "{stdout}");
}

#[test]
fn stats_json_is_one_object_of_tools_and_plugins() {
    let home = Home::new();
    write_usage(&home);
    let out = run(&home, &["--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"tools": [
            {
                "plugin": "calc", "tool": "eval", "calls": 101, "errors": 1, "denials": 2,
                "p50_ms": 51, "p95_ms": 96, "last_used": "2026-11-23T16:40:12.000Z"
            },
            {
                "plugin": "files", "tool": "read", "calls": 0, "errors": 0, "denials": 1,
                "p50_ms": null, "p95_ms": null, "last_used": "2026-11-23T16:41:12.000Z"
            }
        ], "plugins": []})
    );
}

#[test]
fn stats_without_usage_says_where_it_is_kept() {
    let home = Home::new();
    let out = run(&home, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "no tool calls recorded yet (usage is kept in {})\n",
            usage_path(&home).display()
        )
    );
    let json = run(&home, &["--json"]);
    assert!(json.status.success());
    assert_eq!(text(&json.stdout), "{\"tools\":[],\"plugins\":[]}\n");
}

#[test]
fn stats_with_a_corrupt_file_fails_with_one_line_naming_it() {
    let home = Home::new();
    let path = usage_path(&home);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{\"plugins\": [1, 2").unwrap();
    for args in [&[][..], &["--json"]] {
        let out = run(&home, args);
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(text(&out.stdout), "");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&path.display().to_string()), "{stderr}");
        assert!(stderr.contains("delete it"), "{stderr}");
    }
}
