//! The session pane driven through the app: keys become the right `Op`s and store changes,
//! queries come back through the task channel (a real database in a temporary directory), and
//! the whole screen at 80×24 and 40×20.

use std::time::Duration;

use libre_assistant::core::{Event, Op};
use libre_assistant::engine::{ChatMessage, Role};
use libre_assistant::sessions::{Meta, Store as SessionStore};
use tokio::sync::mpsc;

use super::TaskEvent;
use super::action::Action;
use super::tests::{Harness, SIZES, harness, screen};
use crate::tui::layout::Pane;

/// The app with a session database holding three conversations, and the task channel.
struct Sessions {
    t: Harness,
    tasks: mpsc::UnboundedReceiver<TaskEvent>,
    dir: tempfile::TempDir,
}

const QUESTIONS: [(&str, &str); 3] = [
    ("What is the capital of France?", "Paris."),
    (
        "Which bird is known for its long migration?",
        "The arctic tern flies pole to pole.",
    ),
    ("Name a prime number.", "Seven."),
];

fn with_sessions() -> Sessions {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SessionStore::open(dir.path()).unwrap();
    for (i, (question, answer)) in QUESTIONS.iter().enumerate() {
        let meta = Meta {
            model: "smollm2-135m-instruct".into(),
            system: String::new(),
            tokens: 40 + i as u32,
        };
        let at = 1_765_000_000_000 + i as i64 * 60_000;
        let id = store.create("", &meta, at).unwrap();
        let messages = [
            ChatMessage::new(Role::User, (*question).to_string()),
            ChatMessage::new(Role::Assistant, (*answer).to_string()),
        ];
        store.sync(id, 0, &messages, None, &meta, at).unwrap();
    }
    let mut t = harness("dark");
    let (tx, tasks) = mpsc::unbounded_channel();
    t.app.tasks = tx;
    let (pane_store, _) = SessionStore::open(dir.path()).unwrap();
    t.app.set_session_store(Ok(pane_store));
    Sessions { t, tasks, dir }
}

impl Sessions {
    /// Waits for one background result and folds it in.
    async fn settle(&mut self) {
        let ev = tokio::time::timeout(Duration::from_secs(10), self.tasks.recv())
            .await
            .expect("a task result within 10 s")
            .expect("the task channel is open");
        self.t.app.on_task(ev);
    }

    /// Shows the pane and waits for its list.
    async fn open_pane(&mut self) {
        self.t.app.act(Action::ShowSessions);
        self.settle().await;
    }

    fn store(&self) -> SessionStore {
        SessionStore::open(self.dir.path()).unwrap().0
    }

    fn ids(&self) -> Vec<i64> {
        let rows = &self.t.app.state.sessions.rows;
        rows.iter().map(|r| r.summary.id).collect()
    }

    fn ops(&mut self) -> Vec<Op> {
        std::iter::from_fn(|| self.t.ops.try_recv().ok()).collect()
    }

    /// Dates are local time; the snapshots want the same ones in every time zone.
    fn fix_dates(&mut self) {
        for row in &mut self.t.app.state.sessions.rows {
            row.when = "2026-12-07 09:41".into();
        }
    }

    fn press(&mut self, c: char) {
        let key = crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char(c),
            crossterm::event::KeyModifiers::NONE,
        );
        self.t.app.on_key(key);
    }
}

#[tokio::test]
async fn the_pane_lists_the_newest_first_and_enter_opens_the_selected_one() {
    let mut s = with_sessions();
    s.ops();
    s.open_pane().await;
    assert_eq!(s.t.app.state.focus, Pane::Sessions);
    assert_eq!(s.ids(), [3, 2, 1]);
    s.t.app.act(Action::SelectNext);
    s.t.app.act(Action::OpenSession);
    assert_eq!(s.ops(), [Op::OpenSession { id: 2 }]);
    // The core's answer refills the chat and gives it the keys; the list is read again.
    let messages = vec![ChatMessage::new(Role::User, QUESTIONS[1].0.to_string())];
    s.t.app.on_core(Event::SessionOpened {
        id: 2,
        title: QUESTIONS[1].0.into(),
        messages,
        cut_short: false,
    });
    assert_eq!(s.t.app.state.focus, Pane::Chat);
    s.settle().await;
    let text = screen(&mut s.t.app, 80, 24);
    assert!(text.contains(QUESTIONS[1].0), "{text}");
    let last = s.t.app.state.chat.entries().last().unwrap();
    assert_eq!(
        last.text,
        format!("continued session 2: {}", QUESTIONS[1].0)
    );
}

#[tokio::test]
async fn a_session_whose_last_answer_was_cut_short_says_so_when_reopened() {
    let mut s = with_sessions();
    let messages = vec![
        ChatMessage::new(Role::User, "Tell me a story".to_string()),
        ChatMessage::new(Role::Assistant, "Once upon".to_string()),
    ];
    s.t.app.on_core(Event::SessionOpened {
        id: 4,
        title: "Tell me a story".into(),
        messages,
        cut_short: true,
    });
    let last = s.t.app.state.chat.entries().last().unwrap();
    assert_eq!(
        last.text,
        "continued session 4: Tell me a story (its last answer was cut short: the app stopped while writing it)"
    );
}

#[tokio::test]
async fn typing_a_search_filters_as_you_type_and_esc_clears_it() {
    let mut s = with_sessions();
    s.open_pane().await;
    s.press('/');
    for c in "migr".chars() {
        s.press(c);
        s.settle().await;
    }
    assert_eq!(s.t.app.state.sessions.query, "migr");
    assert_eq!(s.ids(), [2]);
    let snippet = &s.t.app.state.sessions.rows[0].snippet;
    assert!(
        snippet.iter().any(|(w, m)| *m && w == "migration"),
        "{snippet:?}"
    );
    // j and k are typed, not moves, while the search line has the keys.
    s.press('j');
    s.settle().await;
    assert_eq!(s.t.app.state.sessions.query, "migrj");
    assert!(s.ids().is_empty());
    s.t.app.act(Action::FieldBackspace);
    s.settle().await;
    assert_eq!(s.ids(), [2]);
    s.fix_dates();
    for (w, h) in SIZES {
        insta::assert_snapshot!(
            format!("sessions_search_{w}x{h}"),
            screen(&mut s.t.app, w, h)
        );
    }
    s.t.app.act(Action::FieldDone);
    s.t.app.act(Action::ClearSearch);
    s.settle().await;
    assert_eq!(s.t.app.state.sessions.query, "");
    assert_eq!(s.ids(), [3, 2, 1]);
    // Esc again, with nothing to clear, goes back to the chat.
    s.t.app.act(Action::ClearSearch);
    assert_eq!(s.t.app.state.focus, Pane::Chat);
}

#[tokio::test]
async fn d_then_n_deletes_nothing() {
    let mut s = with_sessions();
    s.open_pane().await;
    s.ops();
    s.press('d');
    assert_eq!(
        s.t.app.state.sessions.confirm_delete.as_ref().map(|c| c.0),
        Some(3)
    );
    s.fix_dates();
    for (w, h) in SIZES {
        insta::assert_snapshot!(
            format!("sessions_confirm_{w}x{h}"),
            screen(&mut s.t.app, w, h)
        );
    }
    s.press('n');
    assert_eq!(s.t.app.state.sessions.confirm_delete, None);
    assert!(s.ops().is_empty());
    assert_eq!(s.store().list().unwrap().len(), 3);
    assert!(s.tasks.try_recv().is_err(), "nothing ran");
}

#[tokio::test]
async fn d_then_y_removes_the_session_and_tells_the_core() {
    let mut s = with_sessions();
    s.open_pane().await;
    s.ops();
    s.t.app.act(Action::SelectNext);
    s.press('d');
    s.press('y');
    s.settle().await; // the removal
    assert_eq!(s.ops(), [Op::SessionRemoved { id: 2 }]);
    s.settle().await; // the list read again
    assert_eq!(s.ids(), [3, 1]);
    let left: Vec<i64> = s.store().list().unwrap().iter().map(|x| x.id).collect();
    assert_eq!(left, [3, 1]);
    let flash = s.t.app.state.status.flash.clone();
    assert_eq!(flash, Some(("deleted session 2".into(), false)));
}

#[tokio::test]
async fn r_renames_the_selected_session() {
    let mut s = with_sessions();
    s.open_pane().await;
    s.press('r');
    assert_eq!(s.t.app.state.sessions.title, QUESTIONS[2].0);
    for _ in 0..QUESTIONS[2].0.len() {
        s.t.app.act(Action::FieldBackspace);
    }
    for c in "primes".chars() {
        s.press(c);
    }
    s.t.app.act(Action::FieldDone);
    s.settle().await;
    s.settle().await;
    assert_eq!(s.store().summary(3).unwrap().title, "primes");
    assert_eq!(s.t.app.state.sessions.rows[0].summary.title, "primes");
    // Esc leaves the title as it was.
    s.press('r');
    s.press('x');
    s.t.app.act(Action::FieldCancel);
    assert_eq!(s.store().summary(3).unwrap().title, "primes");
}

#[tokio::test]
async fn e_exports_a_private_markdown_file() {
    let mut s = with_sessions();
    s.open_pane().await;
    s.press('e');
    s.settle().await;
    let path = s.dir.path().join("exports/session-3.md");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# Name a prime number.\n"), "{text}");
    assert!(text.contains("## Assistant\n\nSeven."), "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&s.dir.path().join("exports")), 0o700);
    let flash = s.t.app.state.status.flash.clone().unwrap();
    assert!(flash.0.starts_with("exported to ") && flash.0.ends_with("session-3.md"));
}

#[tokio::test]
async fn stale_results_are_dropped_and_turns_refresh_the_list() {
    let mut s = with_sessions();
    s.open_pane().await;
    s.press('/');
    s.press('p');
    s.press('r');
    // Two queries are in flight; only the second's answer counts.
    s.settle().await;
    s.settle().await;
    assert_eq!(s.t.app.state.sessions.query, "pr");
    assert_eq!(s.ids(), [3]);
    s.t.app.on_core(Event::Cleared);
    s.settle().await;
    assert_eq!(s.ids(), [3]);
}

#[test]
fn without_a_database_the_pane_says_why() {
    let mut t = harness("dark");
    t.app
        .set_session_store(Err("cannot use the session database /x: locked".into()));
    t.app.act(Action::ShowSessions);
    let text = screen(&mut t.app, 40, 20);
    assert!(text.contains("cannot use the session"), "{text}");
}
