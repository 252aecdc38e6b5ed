//! The remote back end against a real `llama-server` built from llama.cpp's sources
//! (`scripts/test-llama`), on a loopback port: answers stream from it, greedy output equals
//! the server's own answer, a tool call runs through consent and audit (with the server's own
//! tool calls, and with the tools in the system prompt and the call read from the text), an
//! interrupt closes the stream, and `models list` shows the server's model.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use support::Home;
use support::events::{answer, clock, events, of_type, stderr};

const SYSTEM: &str = "You are a helpful assistant.";
const QUESTION: &str = "Name three colours of the rainbow.";

fn home_for(port: u16) -> Home {
    let home = Home::new();
    home.write_config(&format!(
        "system_prompt = \"{SYSTEM}\"\n[backends.box]\nurl = \"http://127.0.0.1:{port}/v1\"\n"
    ));
    home
}

fn remote(home: &Home, model: &str, max_tokens: u32) -> Command {
    let mut cmd = home.command();
    cmd.args(["-m", model, "--temperature", "0", "--json", "--max-tokens"])
        .arg(max_tokens.to_string());
    cmd
}

#[test]
fn a_greedy_answer_streams_from_llama_server_and_equals_its_own() {
    let server = support::llama::server(support::smollm(), "smol", 2048);
    let home = home_for(server.port);
    let out = remote(&home, "box/smol", 40)
        .args(["-p", QUESTION])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events = events(&out);
    let start = &of_type(&events, "start")[0];
    assert_eq!(
        start["runs"],
        json!({"kind": "remote", "backend": "box", "host": format!("127.0.0.1:{}", server.port)})
    );
    assert_eq!(start["context"], 2048, "the server's context: {start}");
    assert!(
        of_type(&events, "delta").len() > 3,
        "streamed in pieces: {events:?}"
    );
    let done = &of_type(&events, "done")[0];
    assert!(
        done["stats"]["generated_tokens"].as_u64().unwrap() > 0,
        "{done}"
    );

    // The same request, put to the server directly.
    let request = json!({
            "model": "smol",
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
            "max_tokens": 40,
            "temperature": 0.0,
    });
    let url = format!("http://127.0.0.1:{}/v1/chat/completions", server.port);
    let direct = ureq::post(&url)
        .header("Content-Type", "application/json")
        .send(request.to_string())
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let direct: Value = serde_json::from_str(&direct).unwrap();
    let own = direct["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!own.is_empty());
    assert_eq!(answer(&events), own);

    let list = home.command().args(["models", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    let row = list
        .lines()
        .find(|l| l.starts_with("box/smol "))
        .unwrap_or_else(|| panic!("a row for box/smol in {list}"));
    assert!(
        row.ends_with(&format!("remote 127.0.0.1:{}", server.port)),
        "{row}"
    );
}

#[test]
fn an_interrupt_closes_the_stream_and_keeps_the_partial_answer() {
    let server = support::llama::server(support::smollm(), "smol", 2048);
    let home = home_for(server.port);
    let mut child = remote(&home, "box/smol", 2000)
        .args(["-p", "Write a long story about a lighthouse keeper."])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let delta = line.contains("\"type\":\"delta\"");
        seen.push(line);
        if delta {
            break;
        }
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    seen.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen:?}");
    let events: Vec<Value> = seen
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let done = &of_type(&events, "done")[0];
    assert_eq!(done["finish"], "cancelled");
    assert!(!answer(&events).is_empty());
    // The server stops generating once the stream is closed: when it has no request left,
    // it has written far fewer than the 2000 tokens asked for (this story runs to all of them).
    let started = std::time::Instant::now();
    while support::llama::metric(server.port, "llamacpp:requests_processing") != Some(0.0) {
        assert!(
            started.elapsed() < support::host::WAIT,
            "the server never went idle"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let written = support::llama::metric(server.port, "llamacpp:tokens_predicted_total").unwrap();
    assert!(
        written < 1000.0,
        "the server wrote {written} tokens after the stream closed"
    );
}

/// Asks the Qwen model behind back end `box` for the time in Tokyo, the call allowed; returns
/// the run's events, after checking that the call was the right one and ran.
fn ask_tokyo(home: &Home) -> Vec<Value> {
    let out = remote(home, "box/qwen", 96)
        .args([
            "-p",
            "What time is it in Tokyo?",
            "--allow-tool",
            "time/current_time",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events = events(&out);
    let calls = of_type(&events, "tool_call");
    assert!(!calls.is_empty(), "the model called a tool: {events:?}");
    assert_eq!(calls[0]["tool"], "current_time");
    assert_eq!(calls[0]["arguments"]["timezone"], "Asia/Tokyo");
    assert_eq!(calls[0]["granted_by"], "headless_flag");
    assert_eq!(of_type(&events, "tool_result")[0]["outcome"], "ok");
    events
}

#[test]
fn a_tool_call_through_the_server_runs_with_consent_and_audit() {
    let server = support::llama::server(support::qwen(), "qwen", 4096);
    let home = home_for(server.port);
    ask_tokyo(&home);
    let tail = home.command().args(["audit", "tail"]).output().unwrap();
    let tail = String::from_utf8_lossy(&tail.stdout);
    assert!(
        tail.contains("time/current_time  allowed (headless flag)  ok"),
        "{tail}"
    );

    // With the tools described in the system prompt and the call read from the text instead
    // (native_tools = false): the same call, and the answer quotes the result's clock.
    home.write_config(&format!(
        "system_prompt = \"{SYSTEM}\"\n[backends.box]\nurl = \"http://127.0.0.1:{}/v1\"\nnative_tools = false\n",
        server.port
    ));
    let events = ask_tokyo(&home);
    let result = of_type(&events, "tool_result")[0]["text"].as_str().unwrap();
    let clock = clock(result);
    let said = answer(&events);
    assert!(said.contains(clock), "the answer {said:?} uses {clock}");
}
