//! Reading a headless `--json` run: its events, those of one type, the answer and stderr.

use std::process::Output;

use serde_json::Value;

/// Every event line of the run's stdout.
pub fn events(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The events of type `kind`, in order.
pub fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// The answer text: every delta, joined.
pub fn answer(events: &[Value]) -> String {
    of_type(events, "delta")
        .iter()
        .filter_map(|e| e["text"].as_str())
        .collect()
}

/// The run's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `HH:MM` of a time plugin's result ("In Asia/Tokyo it is now 13:24 on …").
pub fn clock(result: &str) -> &str {
    result
        .split("it is now ")
        .nth(1)
        .and_then(|rest| rest.get(..5))
        .unwrap_or_else(|| panic!("a clock in {result}"))
}
