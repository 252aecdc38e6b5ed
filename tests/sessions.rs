//! Sessions from the command line: headless runs are saved, then listed, searched, shown,
//! exported (and read back), renamed and removed; `--resume` and `--continue` go on in a
//! session; `--no-session` and `sessions.record = false` save nothing.

mod support;

use std::process::Output;

use libre_assistant::engine::{ChatMessage, Role};
use libre_assistant::sessions::{Store, export, legacy};
use support::Home;

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asks `prompt` headless in `home` with `extra` flags; returns the answer.
fn ask(home: &Home, prompt: &str, extra: &[&str]) -> String {
    let mut cmd = home.with_model();
    cmd.args(["-p", prompt]).args(extra);
    ok(&cmd.output().unwrap())
}

fn sessions(home: &Home, args: &[&str]) -> Output {
    home.command().arg("sessions").args(args).output().unwrap()
}

fn store(home: &Home) -> Store {
    let (store, notices) = Store::open(&home.path().join("data/libre-assistant")).unwrap();
    assert!(notices.is_empty(), "{notices:?}");
    store
}

fn messages(home: &Home, id: i64) -> Vec<ChatMessage> {
    let session = store(home).load(id).unwrap();
    session.messages.into_iter().map(|s| s.message).collect()
}

#[test]
fn headless_runs_are_saved_then_listed_searched_shown_exported_renamed_and_removed() {
    let home = Home::new();
    let jupiter = ask(&home, "Tell me about the planet Jupiter.", &[]);
    ask(&home, "What is the boiling point of water?", &[]);

    let list: serde_json::Value =
        serde_json::from_str(&ok(&sessions(&home, &["list", "--json"]))).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0]["title"], "What is the boiling point of water?",
        "newest first"
    );
    assert_eq!(list[1]["title"], "Tell me about the planet Jupiter.");
    assert_eq!(list[1]["messages"], 2);
    assert_eq!(list[1]["model"], "SmolLM2-135M-Instruct.Q4_1");
    assert!(list[1]["tokens"].as_u64().unwrap() > 10);
    let id = list[1]["id"].as_i64().unwrap();
    assert_eq!(
        messages(&home, id),
        [
            ChatMessage::new(Role::User, "Tell me about the planet Jupiter."),
            ChatMessage::new(Role::Assistant, jupiter.trim_end()),
        ]
    );

    let table = ok(&sessions(&home, &["list"]));
    assert!(table.starts_with("ID  UPDATED"), "{table}");
    assert!(
        table.contains("Tell me about the planet Jupiter."),
        "{table}"
    );

    let found = ok(&sessions(&home, &["search", "jupit"]));
    let first = found.lines().next().unwrap();
    assert!(first.starts_with(&format!("{id}  ")), "{found}");
    assert!(
        found.contains("[Jupiter]"),
        "the matched word is marked: {found}"
    );
    let none = ok(&sessions(&home, &["search", "xylophone"]));
    assert_eq!(none, "no session matches \"xylophone\"\n");

    let shown = ok(&sessions(&home, &["show", &id.to_string()]));
    assert!(
        shown.contains("## You\n\nTell me about the planet Jupiter.\n\n## Assistant\n\n"),
        "{shown}"
    );

    // Markdown reads back as the conversation (the system prompt first); JSON as a file.
    let md = ok(&sessions(&home, &["export", &id.to_string()]));
    let mut expected = vec![ChatMessage::new(
        Role::System,
        "You are a helpful assistant.",
    )];
    expected.extend(messages(&home, id));
    assert_eq!(export::from_markdown(&md), expected);
    let json = ok(&sessions(
        &home,
        &["export", &id.to_string(), "--format", "json"],
    ));
    assert_eq!(
        legacy::parse(json.as_bytes()).unwrap().messages,
        messages(&home, id)
    );

    ok(&sessions(
        &home,
        &["rename", &id.to_string(), "Gas", "giants"],
    ));
    assert_eq!(store(&home).summary(id).unwrap().title, "Gas giants");

    let removed = ok(&sessions(&home, &["rm", &id.to_string()]));
    assert_eq!(
        removed,
        format!("removed session {id} (Gas giants, 2 messages)\n")
    );
    assert_eq!(store(&home).list().unwrap().len(), 1);
    let gone = sessions(&home, &["show", &id.to_string()]);
    assert_eq!(gone.status.code(), Some(2));
    assert_eq!(
        stderr(&gone),
        format!("libre-assistant: no session {id}; `libre-assistant sessions list` shows them\n")
    );
}

#[test]
fn resume_and_continue_go_on_in_the_same_session() {
    let home = Home::new();
    ask(&home, "My name is Ada.", &[]);
    let id = store(&home).latest().unwrap().unwrap();
    ask(&home, "What is my name?", &["--resume", &id.to_string()]);
    ask(&home, "Say it again.", &["--continue"]);
    let saved = messages(&home, id);
    let questions: Vec<&str> = saved
        .iter()
        .filter(|m| m.role == Role::User)
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(
        questions,
        ["My name is Ada.", "What is my name?", "Say it again."]
    );
    assert_eq!(saved.len(), 6);
    assert_eq!(store(&home).list().unwrap().len(), 1);

    let mut cmd = home.with_model();
    let out = cmd.args(["-p", "hi", "--resume", "4242"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "libre-assistant: no session 4242; `libre-assistant sessions list` shows them\n"
    );
}

#[test]
fn no_session_and_a_config_that_says_not_to_save_nothing() {
    let home = Home::new();
    ask(&home, "One", &["--no-session"]);
    home.write_config("[sessions]\nrecord = false\n");
    ask(&home, "Two", &[]);
    assert_eq!(ok(&sessions(&home, &["list", "--json"])), "[]\n");
}

#[test]
fn conversation_files_of_earlier_versions_are_listed_and_can_be_continued() {
    let home = Home::new();
    let dir = home.path().join("data/libre-assistant/conversations");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("conversation-1764000000000.json"),
        r#"{"v":1,"system":"","messages":[{"role":"user","content":"Old question about otters"},{"role":"assistant","content":"Otters hold hands.","partial":true}]}"#,
    )
    .unwrap();
    let found = ok(&sessions(&home, &["search", "otters"]));
    assert!(found.contains("Old question about otters"), "{found}");
    ask(&home, "And more?", &["--continue"]);
    let id = store(&home).latest().unwrap().unwrap();
    assert_eq!(messages(&home, id)[1].content, "Otters hold hands.");
    assert_eq!(messages(&home, id).len(), 4);
}
