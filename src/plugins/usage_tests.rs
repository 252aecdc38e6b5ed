//! Unit tests of the usage figures: percentiles, denials, the latency cap, plugin totals, the
//! file (round trip, mode, corrupt, missing).

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::usage::*;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Usage with one ok call of each latency, at times 1, 2, ….
fn with_latencies(latencies: impl IntoIterator<Item = u64>) -> Usage {
    let mut usage = Usage::default();
    for (i, l) in latencies.into_iter().enumerate() {
        usage.record("calc", "eval", CallKind::Ok, ms(l), at(i as u64 + 1));
    }
    usage
}

#[test]
fn one_latency_is_both_percentiles() {
    let f = with_latencies([7]).tool("calc", "eval");
    assert_eq!(
        f,
        Figures {
            calls: 1,
            errors: 0,
            denials: 0,
            p50_ms: Some(7),
            p95_ms: Some(7),
            last_used: Some(at(1)),
        }
    );
}

#[test]
fn two_latencies_take_the_lower_median_and_the_higher_p95() {
    let f = with_latencies([30, 10]).tool("calc", "eval");
    assert_eq!((f.p50_ms, f.p95_ms), (Some(10), Some(30)));
}

#[test]
fn a_hundred_latencies_give_nearest_rank_percentiles() {
    // Recorded out of order: the percentiles sort them.
    let f = with_latencies((1..=100).rev()).tool("calc", "eval");
    assert_eq!((f.calls, f.p50_ms, f.p95_ms), (100, Some(50), Some(95)));
}

#[test]
fn a_tool_never_used_has_empty_figures() {
    let usage = with_latencies([5]);
    assert_eq!(usage.tool("calc", "other"), Figures::default());
    assert_eq!(usage.tool("files", "eval"), Figures::default());
    assert_eq!(usage.plugin("files"), Figures::default());
}

#[test]
fn denials_and_errors_count_apart_and_denials_add_no_latency() {
    let mut usage = Usage::default();
    usage.record("calc", "eval", CallKind::Ok, ms(10), at(1));
    usage.record("calc", "eval", CallKind::Error, ms(20), at(2));
    usage.record("calc", "eval", CallKind::Denied, ms(5000), at(3));
    assert_eq!(
        usage.tool("calc", "eval"),
        Figures {
            calls: 2,
            errors: 1,
            denials: 1,
            p50_ms: Some(10),
            p95_ms: Some(20),
            last_used: Some(at(3)),
        }
    );
}

#[test]
fn only_denials_leave_no_percentiles() {
    let mut usage = Usage::default();
    usage.record("calc", "eval", CallKind::Denied, ms(0), at(4));
    let f = usage.tool("calc", "eval");
    assert_eq!((f.calls, f.denials, f.p50_ms, f.p95_ms), (0, 1, None, None));
    assert_eq!(f.last_used, Some(at(4)));
}

#[test]
fn last_used_is_the_latest_call_whatever_the_order() {
    let mut usage = Usage::default();
    usage.record("calc", "eval", CallKind::Ok, ms(1), at(9));
    usage.record("calc", "eval", CallKind::Ok, ms(1), at(3));
    assert_eq!(usage.tool("calc", "eval").last_used, Some(at(9)));
}

#[test]
fn only_the_most_recent_latencies_are_kept() {
    // 100 slow calls, then 500 fast ones: the slow ones drop out of the percentiles.
    let usage = with_latencies(std::iter::repeat_n(1000, 100).chain(std::iter::repeat_n(1, 500)));
    let f = usage.tool("calc", "eval");
    assert_eq!((f.calls, f.p50_ms, f.p95_ms), (600, Some(1), Some(1)));
    let one_more = {
        let mut u = usage.clone();
        u.record("calc", "eval", CallKind::Ok, ms(1000), at(1000));
        u
    };
    let saved = serde_json::to_value(&one_more).unwrap();
    let kept = saved["plugins"]["calc"]["eval"]["latencies_ms"]
        .as_array()
        .unwrap();
    assert_eq!(kept.len(), MAX_LATENCIES);
    assert_eq!(kept.last().unwrap(), 1000);
}

#[test]
fn a_plugin_sums_its_tools_and_pools_their_latencies() {
    let mut usage = Usage::default();
    for l in 1..=50 {
        usage.record("calc", "add", CallKind::Ok, ms(l), at(10));
    }
    for l in 51..=100 {
        usage.record("calc", "div", CallKind::Error, ms(l), at(20));
    }
    usage.record("calc", "div", CallKind::Denied, ms(0), at(30));
    usage.record("files", "read", CallKind::Ok, ms(999), at(40));
    assert_eq!(
        usage.plugin("calc"),
        Figures {
            calls: 100,
            errors: 50,
            denials: 1,
            p50_ms: Some(50),
            p95_ms: Some(95),
            last_used: Some(at(30)),
        }
    );
    let rows: Vec<_> = usage
        .rows()
        .into_iter()
        .map(|(p, t, f)| (p, t, f.calls))
        .collect();
    assert_eq!(
        rows,
        [
            ("calc".to_owned(), "add".to_owned(), 50),
            ("calc".to_owned(), "div".to_owned(), 50),
            ("files".to_owned(), "read".to_owned(), 1),
        ]
    );
}

#[test]
fn save_and_load_round_trip_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/libre-assistant").join(USAGE_FILE);
    let mut usage = with_latencies([3, 4, 5]);
    usage.record("files", "read", CallKind::Denied, ms(0), at(1_795_452_012));
    usage.save(&path).unwrap();
    assert_eq!(Usage::load(&path).unwrap(), usage);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // Saving again replaces the file and leaves no temporary file behind.
    usage.record("calc", "eval", CallKind::Ok, ms(6), at(9));
    usage.save(&path).unwrap();
    assert_eq!(Usage::load(&path).unwrap(), usage);
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [USAGE_FILE]);
}

#[test]
fn a_missing_file_is_empty_usage() {
    let dir = tempfile::tempdir().unwrap();
    let usage = Usage::load(&dir.path().join(USAGE_FILE)).unwrap();
    assert_eq!(usage, Usage::default());
    assert!(usage.rows().is_empty());
}

#[test]
fn a_corrupt_file_is_one_line_naming_it_and_saying_to_delete_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(USAGE_FILE);
    std::fs::write(&path, "{\"plugins\": {\"calc\": \n 7}}").unwrap();
    let err = Usage::load(&path).unwrap_err();
    assert!(matches!(err, UsageError::Corrupt { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{}: not a tool usage file (", path.display())),
        "{message}"
    );
    assert!(
        message.ends_with("); delete it to start the figures afresh"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1);
}

#[test]
fn the_file_lives_in_the_state_dir() {
    let dirs = crate::paths::Dirs {
        config: "/c".into(),
        data: "/d".into(),
        state: "/s".into(),
        cache: "/k".into(),
    };
    assert_eq!(usage_file(&dirs), std::path::Path::new("/s/usage.json"));
}
