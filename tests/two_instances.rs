//! Two instances on one machine take turns with the cores (see `engine/cores.rs`): an answer
//! waits, and says so, while another instance has them; two answers at once both finish with
//! the words each gives alone.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use support::Home;

fn answer(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn an_answer_waits_and_says_so_while_another_instance_has_the_cores() {
    let home = Home::new();
    let lock = home.path().join("state/libre-assistant/engine.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let file = std::fs::File::create(&lock).unwrap();
    file.lock().unwrap();
    let mut cmd = home.with_model();
    let mut child = cmd
        .args(["--json", "--no-plugins", "-p", "Why is the sky blue?"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Nothing is generated before the notice: the engine waits for the lock.
    loop {
        let line = lines.next().expect("a notice before the run ends").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_ne!(
            event["type"], "delta",
            "generated while another instance had the cores"
        );
        if event["type"] == "notice" {
            let message = event["message"].as_str().unwrap();
            assert!(
                message.starts_with("another libre-assistant on this machine is answering"),
                "{message}"
            );
            break;
        }
    }
    file.unlock().unwrap();
    let rest: Vec<serde_json::Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(rest.iter().any(|e| e["type"] == "delta"), "{rest:?}");
    assert_eq!(rest.last().unwrap()["type"], "done", "{rest:?}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn two_answers_at_once_both_finish_with_the_words_each_gives_alone() {
    let home = Home::new();
    let ask = |prompt: &str| {
        let mut cmd = home.with_model();
        cmd.args(["--no-plugins", "--no-session", "-p", prompt]);
        cmd
    };
    let prompts = ["Why is the sky blue?", "Name three fruits."];
    let alone: Vec<String> = prompts.iter().map(|p| answer(ask(p))).collect();
    let children: Vec<_> = prompts
        .iter()
        .map(|p| {
            ask(p)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let together: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    assert_eq!(together, alone);
}
