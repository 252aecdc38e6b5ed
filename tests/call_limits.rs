//! Calls from small models through the binary in headless mode: a repeated call is dropped
//! quietly and the model answers from the result it has; a call cut off by the token limit is
//! reported and never shown as the answer. Assertions are on events, never on wording beyond
//! the result's own figures.

mod support;

use std::process::{Command, Output};

use support::events::{answer, events, of_type, stderr};
use support::{Home, qwen_1_5b};

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    out
}

/// The 1.5B model calls current_time, and it has called it again with the same arguments
/// (what made the "already called" error show): whatever it does in its later rounds, no call
/// runs twice, nothing says "already called", no call is recorded as invalid, and the answer
/// quotes the time.
#[test]
fn a_repeated_call_is_dropped_quietly_and_the_model_answers() {
    let home = Home::new();
    let out = run(home
        .command()
        .arg("--model")
        .arg(qwen_1_5b())
        .env("LIBRE_ASSISTANT_TOOLS_MAX_ROUNDS", "4")
        .args([
            "--temperature",
            "0",
            "--json",
            "--allow-plugin",
            "time",
            "-p",
            "What time is it in Tokyo right now?",
        ]));
    let events = events(&out);
    let calls = of_type(&events, "tool_call");
    let mut seen = std::collections::HashSet::new();
    for call in &calls {
        let signature = format!("{} {}", call["tool"], call["arguments"]);
        assert!(seen.insert(signature), "a call ran twice: {events:?}");
    }
    let results = of_type(&events, "tool_result");
    assert_eq!(results.len(), calls.len(), "{events:?}");
    assert!(
        results.iter().all(|r| r["outcome"] != "invalid"),
        "{results:?}"
    );
    let all = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    assert!(!all.contains("already called"), "{all}");
    // The answer quotes a clock of a current_time result, as given or converted to Tokyo's
    // (the model may ask for UTC or another zone first and convert the time itself).
    let clocks: Vec<String> = results
        .iter()
        .filter(|r| r["tool"] == "current_time")
        .filter_map(|r| r["text"].as_str())
        .flat_map(clocks_of)
        .collect();
    assert!(!clocks.is_empty(), "current_time was called: {events:?}");
    let said = answer(&events);
    assert!(
        clocks.iter().any(|clock| said.contains(clock.as_str())),
        "the answer {said:?} uses one of {clocks:?}"
    );
    let audit = home.command().args(["audit", "tail"]).output().unwrap();
    let audit = String::from_utf8_lossy(&audit.stdout);
    assert_eq!(
        audit.lines().filter(|l| l.contains("denied")).count(),
        0,
        "{audit}"
    );
}

/// The clock a current_time result states ("it is now HH:MM", with "(UTC+hh:mm; ...") and the
/// same instant on Tokyo's clock (UTC+09:00, no daylight saving).
fn clocks_of(text: &str) -> Vec<String> {
    let Some(clock) = text.split("it is now ").nth(1).and_then(|t| t.get(..5)) else {
        return Vec::new();
    };
    let minutes = |hm: &str| -> Option<i32> {
        let (h, m) = hm.split_once(':')?;
        Some(h.parse::<i32>().ok()? * 60 + m.parse::<i32>().ok()?)
    };
    let offset = text.split("(UTC").nth(1).and_then(|t| {
        let sign = if t.starts_with('-') { -1 } else { 1 };
        Some(sign * minutes(t.get(1..6)?)?)
    });
    let mut clocks = vec![clock.to_string()];
    if let (Some(local), Some(offset)) = (minutes(clock), offset) {
        let tokyo = (local - offset + 9 * 60).rem_euclid(24 * 60);
        clocks.push(format!("{:02}:{:02}", tokyo / 60, tokyo % 60));
    }
    clocks
}

/// Asks the 0.5B model for a sum with the calculator, with a tiny answer limit.
fn ask_sum(home: &Home, call_max_tokens: &str) -> Output {
    run(home
        .command()
        .arg("--model")
        .arg(support::qwen())
        .env("LIBRE_ASSISTANT_TOOLS_CALL_MAX_TOKENS", call_max_tokens)
        .args([
            "--temperature",
            "0",
            "--max-tokens",
            "8",
            "--json",
            "--allow-plugin",
            "calc",
            "-p",
            "Use the calculator tool to evaluate 123456 * 654321 + 111111 * 222222.",
        ]))
}

#[test]
fn a_call_cut_off_by_the_token_limit_is_reported_not_shown() {
    let home = Home::new();
    let out = ask_sum(&home, "4");
    let cut = events(&out);
    let said = answer(&cut);
    assert!(!said.contains('{'), "no call JSON in the answer: {said:?}");
    assert!(!said.contains("tool_call"), "{said:?}");
    assert!(of_type(&cut, "tool_call").is_empty(), "{cut:?}");
    let notices: Vec<&str> = of_type(&cut, "notice")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        notices
            .iter()
            .any(|n| n.contains("was cut off at 12 tokens")),
        "{notices:?}"
    );
    assert!(
        stderr(&out).contains("was cut off at 12 tokens"),
        "{}",
        stderr(&out)
    );

    // With its own allowance (the default), the same call is finished and runs.
    let home = Home::new();
    let whole = events(&ask_sum(&home, "256"));
    let calls = of_type(&whole, "tool_call");
    assert_eq!(calls.len(), 1, "{whole:?}");
    assert_eq!(calls[0]["tool"], "evaluate");
}

#[test]
fn clocks_of_reads_the_result_and_converts_it_to_tokyo() {
    let utc =
        "In UTC it is now 11:45 on Monday, 7 December 2026 (UTC+00:00; 2026-12-07T11:45:00+00:00).";
    assert_eq!(clocks_of(utc), ["11:45", "20:45"]);
    let ny = "In America/New_York it is now 20:30 on Sunday, 6 December 2026 (UTC-05:00; x).";
    assert_eq!(clocks_of(ny), ["20:30", "10:30"]);
    assert!(clocks_of("no clock").is_empty());
}
