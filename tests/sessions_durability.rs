//! Nothing is lost on a crash: `kill -9` of the app mid-answer leaves the question and the
//! answer up to its last save (at most a second old), which `--continue` shows; a writer killed
//! at any point of a save never leaves a database that does not open.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use libre_assistant::engine::{ChatMessage, Role};
use libre_assistant::sessions::{Meta, Store};
use support::Home;
use support::tmux::{Launch, Tmux};

/// How long a condition may take before the test gives up on it.
const WAIT: Duration = Duration::from_secs(120);

/// Polls `ready` until it gives a value.
#[track_caller]
fn wait_until<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(start.elapsed() < WAIT, "waited {WAIT:?} for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn data(home: &Home) -> std::path::PathBuf {
    home.path().join("data/libre-assistant")
}

/// The latest session's messages with their partial marks, read through a new connection.
fn latest(dir: &Path) -> Option<Vec<(ChatMessage, bool)>> {
    let (store, notices) = Store::open(dir).ok()?;
    assert!(notices.is_empty(), "{notices:?}");
    let id = store.latest().ok()??;
    let session = store.load(id).ok()?;
    Some(
        session
            .messages
            .into_iter()
            .map(|s| (s.message, s.partial))
            .collect(),
    )
}

/// The process the pane's shell started: the app.
fn app_pid(tmux: &Tmux) -> u32 {
    let shell = tmux.display("#{pane_pid}");
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
        .expect("the shell's children");
    children
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("the app runs under the pane's shell")
}

#[test]
fn kill_9_mid_answer_keeps_the_question_and_the_answer_up_to_the_last_save() {
    let home = Home::new();
    let question = "Write a long story about a dragon who learns to bake bread.";
    let tmux = Tmux::start(&home, &Launch::new(100, 30).max_tokens(2000));
    tmux.wait_for_text("SmolLM2");
    tmux.ask(question);
    // A streaming save has happened: the answer so far is in the database, marked partial.
    let saved = wait_until("a partial answer of some length in the database", || {
        let messages = latest(&data(&home))?;
        match messages.as_slice() {
            [(user, false), (answer, true)] if answer.content.len() > 40 => {
                assert_eq!(user.content, question);
                Some(answer.content.clone())
            }
            _ => None,
        }
    });
    let pid = app_pid(&tmux);
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    tmux.wait_for_text("EXIT=137");

    // The database opens without a notice (integrity checked) and holds at least that much.
    let after = latest(&data(&home)).expect("the session is there");
    assert_eq!(after.len(), 2);
    assert_eq!(
        (after[0].0.role, after[0].0.content.as_str()),
        (Role::User, question)
    );
    let kept = &after[1].0.content;
    assert!(kept.starts_with(&saved), "{kept:?} goes on from {saved:?}");
    assert!(after[1].1, "the answer stays marked as cut short");

    // --continue shows both, and says that the answer was cut short.
    let again = Tmux::start(&home, &Launch::new(100, 30).arg("--continue"));
    let screen = again.wait_for_text("continued session 1");
    // The chat column's text, however the notice wrapped.
    let chat: String = screen
        .lines()
        .filter_map(|line| line.split(['│', '┌', '└']).next())
        .flat_map(|text| text.split_whitespace())
        .collect();
    assert!(
        chat.contains("(itslastanswerwascutshort:theappstoppedwhilewritingit)"),
        "{screen}"
    );
    assert!(screen.contains(question), "{screen}");
    let words: Vec<&str> = kept.split_whitespace().take(3).collect();
    let start = words.join(" ");
    assert!(
        again.capture_joined().contains(&start),
        "{start:?} on screen:\n{}",
        again.capture()
    );
}

/// The writer the next test kills: when `LIBRE_ASSISTANT_TEST_WRITER` names a data directory,
/// saves a growing conversation into it as fast as it can until it is killed. Run alone (no
/// variable), it writes nothing and returns.
#[test]
fn writer_child() {
    let Some(dir) = std::env::var_os("LIBRE_ASSISTANT_TEST_WRITER") else {
        return;
    };
    let (store, _) = Store::open(Path::new(&dir)).unwrap();
    let meta = Meta::default();
    let mut id = store.create("", &meta, 1).unwrap();
    println!("ready");
    let mut messages: Vec<ChatMessage> = Vec::new();
    for n in 0u64.. {
        if messages.len() >= 60 {
            // Start over in a new session now and then, removing the old one: deletes too.
            store.remove(id).unwrap();
            id = store.create("", &meta, 1).unwrap();
            messages.clear();
        }
        let role = if messages.len().is_multiple_of(2) {
            Role::User
        } else {
            Role::Assistant
        };
        let text = format!(
            "message {} {}",
            messages.len(),
            "x".repeat((n % 97) as usize)
        );
        let partial = format!("partial {n}");
        store
            .sync(id, messages.len(), &[], Some(&partial), &meta, 1)
            .unwrap();
        messages.push(ChatMessage::new(role, text));
        let keep = messages.len() - 1;
        store
            .sync(id, keep, &messages[keep..], None, &meta, 1)
            .unwrap();
    }
}

fn spawn_writer(dir: &Path) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "writer_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("LIBRE_ASSISTANT_TEST_WRITER", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for its "ready" line: the database exists and the loop starts.
    let mut out = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("ready") {
        let n = std::io::Read::read(&mut out, &mut byte).unwrap();
        assert_eq!(n, 1, "the writer ended before it was ready");
        seen.push(byte[0]);
    }
    child
}

#[test]
fn a_writer_killed_at_any_point_never_leaves_a_database_that_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen_messages = 0;
    for round in 0..15 {
        let mut child = spawn_writer(dir.path());
        // Killed after a different amount of writing each round.
        let target = 3 + round * 7;
        wait_until("the writer to save some messages", || {
            let messages = latest(dir.path())?;
            (messages.len() > target % 50).then_some(())
        });
        child.kill().unwrap();
        child.wait().unwrap();
        // Opens without being moved aside, and what it holds is a whole save: every message
        // in order, at most one partial answer and only at the end.
        let (store, notices) = Store::open(dir.path()).unwrap();
        assert!(notices.is_empty(), "round {round}: {notices:?}");
        for summary in store.list().unwrap() {
            let session = store.load(summary.id).unwrap();
            let (last, whole) = session
                .messages
                .split_last()
                .map_or((None, &[][..]), |(l, w)| (Some(l), w));
            for (i, stored) in whole.iter().enumerate() {
                assert!(
                    !stored.partial,
                    "round {round}: only the last may be partial"
                );
                assert!(
                    stored.message.content.starts_with(&format!("message {i} ")),
                    "round {round}: {:?}",
                    stored.message
                );
            }
            if let Some(last) = last
                && !last.partial
            {
                assert!(
                    last.message
                        .content
                        .starts_with(&format!("message {} ", whole.len()))
                );
            }
            seen_messages += session.messages.len();
        }
        let hits =
            store.search("partial", 5).unwrap().len() + store.search("message", 5).unwrap().len();
        assert!(hits > 0, "round {round}: the search index answers");
    }
    assert!(seen_messages > 15);
}
