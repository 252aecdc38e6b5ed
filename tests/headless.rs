//! One-shot mode as a subprocess: stdout carries the answer alone, stderr everything else,
//! `--json` events parse, stdin is read, exit codes are the documented ones.

mod support;

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};

use support::Home;

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_answer_alone_goes_to_stdout() {
    let home = Home::new();
    let mut cmd = home.with_model();
    cmd.args(["-p", "Why is the sky blue?"]);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let answer = stdout(&out);
    assert!(answer.trim().len() > 10, "an answer: {answer:?}");
    assert!(answer.ends_with('\n'));
    assert!(!answer.contains("libre-assistant:"), "no notices on stdout");
    assert!(
        !stderr(&out).contains("llama"),
        "llama.cpp logs stay out of the terminal: {}",
        stderr(&out)
    );
}

#[test]
fn greedy_runs_are_identical() {
    let home = Home::new();
    let a = run({
        let mut c = home.with_model();
        c.args(["-p", "List two fruits."]);
        c
    });
    let b = run({
        let mut c = home.with_model();
        c.args(["-p", "List two fruits."]);
        c
    });
    for out in [&a, &b] {
        assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(out));
    }
    assert!(stdout(&a).trim().len() > 10, "an answer: {:?}", stdout(&a));
    assert_eq!(stdout(&a), stdout(&b));
}

#[test]
fn json_mode_emits_versioned_events_that_add_up_to_the_answer() {
    let home = Home::new();
    let mut cmd = home.with_model();
    cmd.args(["--json", "-p", "Say hello."]);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    assert!(events.iter().all(|e| e["v"] == 1));
    assert_eq!(events.first().unwrap()["type"], "start");
    let done = events.last().unwrap();
    assert_eq!(done["type"], "done");
    let deltas: String = events
        .iter()
        .filter(|e| e["type"] == "delta")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(!deltas.is_empty());
    let stats = &done["stats"];
    for key in [
        "prompt_tokens",
        "prompt_tokens_reused",
        "prompt_tokens_decoded",
        "generated_tokens",
        "ttft_ms",
        "tokens_per_second",
    ] {
        assert!(stats[key].is_number(), "stats.{key} in {stats}");
    }
    assert!(stats["generated_tokens"].as_u64().unwrap() > 0);
    // The plain answer is exactly the concatenated deltas.
    let mut plain = home.with_model();
    plain.args(["-p", "Say hello."]);
    assert_eq!(stdout(&run(plain)).trim_end(), deltas.trim_end());
}

#[test]
fn dash_reads_the_prompt_from_stdin() {
    let home = Home::new();
    let mut piped = home.with_model();
    piped.args(["-p", "-"]);
    let from_stdin = with_stdin(piped, "What is two plus two?\n");
    let mut direct = home.with_model();
    direct.args(["-p", "What is two plus two?"]);
    assert_eq!(from_stdin.status.code(), Some(0), "{}", stderr(&from_stdin));
    assert_eq!(stdout(&from_stdin), stdout(&run(direct)));
}

#[test]
fn piped_stdin_is_context_for_the_prompt() {
    let home = Home::new();
    let mut piped = home.with_model();
    piped.args(["-p", "Summarize the note above."]);
    let with_context = with_stdin(piped, "Note: the meeting moved to Friday at noon.\n");
    let mut inline = home.with_model();
    inline.args([
        "-p",
        "Note: the meeting moved to Friday at noon.\n\nSummarize the note above.",
    ]);
    assert_eq!(
        with_context.status.code(),
        Some(0),
        "{}",
        stderr(&with_context)
    );
    assert_eq!(stdout(&with_context), stdout(&run(inline)));
}

#[test]
fn ctrl_c_stops_generation_and_exits_130() {
    let home = Home::new();
    let mut cmd = home.command();
    cmd.arg("--model").arg(support::smollm());
    cmd.args([
        "--temperature",
        "0",
        "--max-tokens",
        "2000",
        "-p",
        "Write a very long story about the sea.",
    ]);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout
        .read_exact(&mut first)
        .expect("the answer starts streaming");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "stderr: {}", stderr(&out));
    assert!(rest.len() < 8000, "stopped well before 2000 tokens");
}

#[test]
fn the_stats_flag_reports_on_stderr() {
    let home = Home::new();
    let mut cmd = home.with_model();
    cmd.args(["--stats", "-p", "Hi"]);
    let out = run(cmd);
    assert!(stderr(&out).contains("tokens/s"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("tokens/s"));
}

/// The `done` event of a `--json` run, and the answer its deltas add up to.
fn json_answer(out: &Output) -> (String, serde_json::Value) {
    let mut text = String::new();
    let mut done = None;
    for line in stdout(out).lines() {
        let event: serde_json::Value = serde_json::from_str(line).expect("one JSON object a line");
        match event["type"].as_str() {
            Some("delta") => text.push_str(event["text"].as_str().unwrap()),
            Some("done") => done = Some(event),
            _ => {}
        }
    }
    (text, done.expect("a done event"))
}

#[test]
fn stop_ends_the_answer_at_the_given_text() {
    let home = Home::new();
    let ask = |stops: &[&str]| {
        let mut cmd = home.with_model();
        cmd.args([
            "--seed",
            "1",
            "--no-plugins",
            "--json",
            "-p",
            "Why is the sky blue?",
        ]);
        for stop in stops {
            cmd.args(["--stop", stop]);
        }
        let out = run(cmd);
        assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
        json_answer(&out)
    };
    let (full, _) = ask(&[]);
    // SmolLM2 explains with Rayleigh scattering, greedily, every time.
    let at = full
        .find(" Rayleigh")
        .expect("the greedy answer names Rayleigh");
    let (cut, done) = ask(&["scattering", " Rayleigh"]);
    assert_eq!(
        cut,
        full[..at],
        "the answer ends before the first stop text"
    );
    assert_eq!(done["finish"], "stop");
}

#[test]
fn raw_sends_the_prompt_unchanged() {
    let home = Home::new();
    let text = "The capital of France is";
    let ask = |raw: bool| {
        let mut cmd = home.with_model();
        cmd.args(["--json", "--no-plugins", "-p", text]);
        if raw {
            cmd.arg("--raw");
        }
        let out = run(cmd);
        assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
        json_answer(&out).1["stats"]["prompt_tokens"]
            .as_u64()
            .unwrap()
    };
    let alone = libre_assistant::engine::prompt_tokens(&support::smollm(), text).unwrap() as u64;
    assert_eq!(ask(true), alone, "no template, system prompt or tools");
    assert!(
        ask(false) > alone + 10,
        "a chat prompt carries its template"
    );
}

#[test]
fn raw_refuses_flags_that_add_to_the_prompt() {
    let home = Home::new();
    for (flags, names) in [
        (&["--continue"][..], "--continue"),
        (&["--system", "Be brief."][..], "--system"),
        (&["--allow-tool", "time/current_time"][..], "--allow-tool"),
    ] {
        let mut cmd = home.with_model();
        cmd.args(["--raw", "-p", "Once upon a time"]).args(flags);
        let out = run(cmd);
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains("--raw") && err.contains(names), "{err}");
        assert!(out.stdout.is_empty());
    }
}
