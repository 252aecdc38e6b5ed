//! The tool budget and the models that are offered no tools, through the binary in headless
//! mode with the real models: when the enabled tools do not fit the budget, the ones the
//! question needs are offered and called; a model whose template has no tool support (SmolLM2)
//! is offered none unless the generic format is asked for; a question may call only the tools
//! it shares words with (`tools.only_relevant`).

mod support;

use serde_json::Value;
use support::Home;
use support::events::{events, of_type};

fn names(event: &Value) -> Vec<&str> {
    event["offered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect()
}

const BUILTINS: [&str; 6] = [
    "--allow-plugin",
    "time",
    "--allow-plugin",
    "calc",
    "--allow-plugin",
    "password",
];

/// Asks `model` one question with the time, calc and password plugins allowed.
fn ask(home: &Home, model: std::path::PathBuf, question: &str, env: &[(&str, &str)]) -> Vec<Value> {
    let mut cmd = home.command();
    cmd.arg("--model")
        .arg(model)
        .args([
            "--temperature",
            "0",
            "--max-tokens",
            "64",
            "--json",
            "-p",
            question,
        ])
        .args(BUILTINS);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    events(&out)
}

#[test]
fn over_budget_the_tool_the_question_needs_is_offered_and_called() {
    let home = Home::new();
    // Eight tools of about 1,200 tokens; a budget of 400 holds two or three of them.
    let budget = [("LIBRE_ASSISTANT_TOOLS_BUDGET", "400")];
    let got = ask(
        &home,
        support::qwen(),
        "What is the monthly payment on a 200000 dollar loan at 5% annual interest over 30 years?",
        &budget,
    );
    let offers = of_type(&got, "tools");
    assert!(!offers.is_empty(), "{got:?}");
    let first = offers[0];
    assert_eq!(first["enabled"], 8, "{first}");
    assert_eq!(first["budget"], 400, "{first}");
    assert!(first["tokens"].as_u64().unwrap() <= 400, "{first}");
    let offered = names(first);
    assert!(offered.contains(&"loan_payment"), "{offered:?}");
    assert!(offered.len() < 8, "{offered:?}");
    for unrelated in ["generate_passphrase", "estimate_strength", "convert_time"] {
        assert!(!offered.contains(&unrelated), "{offered:?}");
    }
    let calls = of_type(&got, "tool_call");
    assert_eq!(
        calls.first().map(|c| &c["tool"]),
        Some(&Value::from("loan_payment")),
        "{got:?}"
    );
}

#[test]
fn a_model_without_a_tool_template_is_offered_no_tools_unless_asked() {
    let home = Home::new();
    let got = ask(&home, support::smollm(), "What time is it in Tokyo?", &[]);
    assert!(of_type(&got, "tools").is_empty(), "{got:?}");
    let notices: Vec<&str> = of_type(&got, "notice")
        .iter()
        .filter_map(|n| n["message"].as_str())
        .collect();
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("tools off for this model")),
        "{notices:?}"
    );
    let done = of_type(&got, "done")[0];
    assert!(
        done["stats"]["prompt_tokens"].as_u64().unwrap() < 100,
        "{done}"
    );

    let generic = [("LIBRE_ASSISTANT_TOOLS_GENERIC_FORMAT", "true")];
    let got = ask(
        &home,
        support::smollm(),
        "What time is it in Tokyo?",
        &generic,
    );
    let offers = of_type(&got, "tools");
    assert_eq!(offers.len(), 1, "{got:?}");
    assert!(names(offers[0]).contains(&"current_time"), "{got:?}");
    assert!(
        of_type(&got, "notice")
            .iter()
            .all(|n| !n["message"].as_str().unwrap_or("").starts_with("tools off"))
    );
}

#[test]
fn only_the_tools_a_question_shares_words_with_may_be_called() {
    let home = Home::new();
    // Nothing in the question points at a tool: none is offered, and no definitions are read.
    let got = ask(&home, support::qwen(), "Who wrote Romeo and Juliet?", &[]);
    assert!(of_type(&got, "tools").is_empty(), "{got:?}");
    assert!(of_type(&got, "tool_call").is_empty(), "{got:?}");
    let done = of_type(&got, "done")[0];
    assert!(
        done["stats"]["prompt_tokens"].as_u64().unwrap() < 100,
        "{done}"
    );

    // A question for knowledge names the time tools' words but wants none of them.
    let got = ask(
        &home,
        support::qwen(),
        "Why do some countries use daylight saving time?",
        &[],
    );
    assert!(of_type(&got, "tools").is_empty(), "{got:?}");
    assert!(of_type(&got, "tool_call").is_empty(), "{got:?}");

    // A time question: every tool stays in the prompt (so it stays cached), the time tools
    // alone may be called, and the model calls one.
    let got = ask(&home, support::qwen(), "What time is it in Tokyo?", &[]);
    let offers = of_type(&got, "tools");
    assert_eq!(names(offers[0]).len(), 8, "{got:?}");
    let mut callable: Vec<&str> = offers[0]["callable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    callable.sort();
    assert_eq!(callable, ["convert_time", "current_time"], "{got:?}");
    let calls = of_type(&got, "tool_call");
    assert_eq!(calls[0]["plugin"], "time", "{got:?}");

    // Turned off, every tool may be called again.
    let off = [("LIBRE_ASSISTANT_TOOLS_ONLY_RELEVANT", "false")];
    let got = ask(&home, support::qwen(), "Who wrote Romeo and Juliet?", &off);
    let offers = of_type(&got, "tools");
    assert_eq!(
        offers[0]["callable"].as_array().unwrap().len(),
        8,
        "{got:?}"
    );
}

#[test]
fn a_plugin_whose_tools_pass_its_cap_is_not_offered_and_a_notice_says_why() {
    let home = Home::new();
    let cap = [("LIBRE_ASSISTANT_TOOLS_PLUGIN_BUDGET", "300")];
    let got = ask(
        &home,
        support::qwen(),
        "What is the monthly payment on a 200000 dollar loan at 5% annual interest over 30 years?",
        &cap,
    );
    let offers = of_type(&got, "tools");
    assert!(!offers.is_empty(), "{got:?}");
    let offered = names(offers[0]);
    // calc's three tools take more than 300 tokens together, so none of them is offered,
    // while the plugins under the cap are.
    for capped in ["loan_payment", "evaluate"] {
        assert!(!offered.contains(&capped), "{offered:?}");
    }
    assert!(offered.contains(&"current_time"), "{offered:?}");
    let notices: Vec<&str> = of_type(&got, "notice")
        .iter()
        .filter_map(|n| n["message"].as_str())
        .collect();
    let about_calc: Vec<&&str> = notices
        .iter()
        .filter(|n| n.starts_with("plugin calc's tools take "))
        .collect();
    assert_eq!(about_calc.len(), 1, "said once: {notices:?}");
    assert!(about_calc[0].contains("over its cap of 300"), "{notices:?}");
    assert!(
        !notices.iter().any(|n| n.starts_with("plugin time's")),
        "{notices:?}"
    );
    assert!(
        of_type(&got, "tool_call")
            .iter()
            .all(|c| c["plugin"] != "calc"),
        "{got:?}"
    );
}
