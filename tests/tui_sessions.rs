//! The session pane driven in tmux as a person would: a home holding a few saved
//! conversations, the pane opened with F5, a word of the second one searched, the hit opened
//! with Enter, and the chat showing that conversation. The real binary with the real test
//! model; every wait is bounded and fails with the screen it saw. Needs tmux (scripts/deps).

mod support;

use libre_assistant::engine::{ChatMessage, Role};
use libre_assistant::sessions::{Meta, Store};
use support::Home;
use support::tmux::{Launch, Tmux, WAIT, framed};

/// The saved conversations, oldest first: (question, answer).
const SAVED: [(&str, &str); 3] = [
    (
        "What is the capital of France?",
        "Paris is the capital of France.",
    ),
    (
        "Which bird has the longest migration?",
        "The arctic tern flies from pole to pole every year.",
    ),
    ("Name a prime number.", "Seven is a prime number."),
];

/// A home whose session database holds [`SAVED`], each a minute newer than the one before.
fn home_with_sessions() -> Home {
    let home = Home::new();
    let (store, _) = Store::open(&home.path().join("data/libre-assistant")).expect("open");
    let start = libre_assistant::sessions::now_millis() - 3_600_000;
    for (i, (question, answer)) in SAVED.iter().enumerate() {
        let meta = Meta {
            model: "smollm2-135m-instruct".into(),
            system: String::new(),
            tokens: 30 + i as u32,
        };
        let at = start + i as i64 * 60_000;
        let id = store.create("", &meta, at).expect("create");
        let messages = [
            ChatMessage::new(Role::User, (*question).to_string()),
            ChatMessage::new(Role::Assistant, (*answer).to_string()),
        ];
        store.sync(id, 0, &messages, None, &meta, at).expect("save");
    }
    home
}

/// The status bar: the bottom row.
fn idle(screen: &str) -> bool {
    screen
        .lines()
        .last()
        .is_some_and(|l| l.starts_with(" idle │"))
}

/// `screen` from column `from` on, without the status bar (plugins change it as they start),
/// dates and times replaced so a snapshot is the same on any day and in any time zone.
fn pane(screen: &str, from: usize) -> String {
    let lines: Vec<&str> = screen.lines().collect();
    lines[..lines.len().saturating_sub(1)]
        .iter()
        .map(|line| redact_dates(&line.chars().skip(from).collect::<String>()))
        .map(|line| line.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each `YYYY-MM-DD hh:mm` in `line` as that pattern.
fn redact_dates(line: &str) -> String {
    const SHAPE: &str = "dddd-dd-dd dd:dd";
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let fits = chars.len() - i >= SHAPE.len()
            && SHAPE
                .chars()
                .zip(&chars[i..])
                .all(|(shape, c)| match shape {
                    'd' => c.is_ascii_digit(),
                    other => other == *c,
                });
        if fits {
            out.push_str("YYYY-MM-DD hh:mm");
            i += SHAPE.len();
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Opens the pane, searches for a word of the second conversation, checks the hit, snapshots
/// the pane (from column `pane_x`), and opens the hit with Enter.
fn search_and_open(width: u16, height: u16, pane_x: usize, name: &str) {
    let home = home_with_sessions();
    let tmux = Tmux::start(&home, &Launch::new(width, height));
    tmux.wait_for(
        "the model loaded and the input waiting",
        |s| idle(s) && s.contains("Ask anything"),
        WAIT,
    );
    tmux.send_keys(&["F5"]);
    tmux.wait_for(
        "the three sessions listed",
        |s| SAVED.iter().all(|(q, _)| s.contains(&q[..16])),
        WAIT,
    );
    tmux.send_keys(&["/"]);
    tmux.type_text("tern");
    let screen = tmux.wait_for(
        "only the second session left, its snippet showing the match",
        |s| {
            s.contains("/ tern")
                && s.contains("arctic tern")
                && !s.contains(&SAVED[0].0[..16])
                && !s.contains(&SAVED[2].0[..16])
        },
        WAIT,
    );
    let drawn = pane(&screen, pane_x);
    insta::assert_snapshot!(name, drawn);
    // The matched word is drawn in its own style (the theme's `search.match`): the style
    // changes right before it and right after it.
    let escapes = tmux.capture_escapes();
    let styled = escapes.lines().any(|l| {
        l.split("arctic ").nth(1).is_some_and(|rest| {
            rest.starts_with('\u{1b}')
                && rest
                    .split_once("tern")
                    .is_some_and(|(_, after)| after.starts_with('\u{1b}'))
        })
    });
    assert!(styled, "{escapes:?}");
    // Enter ends the typing, a second Enter opens the session in the chat.
    tmux.send_keys(&["Enter"]);
    tmux.wait_for(
        "the list has the keys again",
        |s| s.contains("/ tern · 1 found"),
        WAIT,
    );
    tmux.send_keys(&["Enter"]);
    let screen = tmux.wait_for(
        "the chat showing the reopened conversation",
        |s| s.contains("continued session 2") && s.contains("Ask anything"),
        WAIT,
    );
    assert!(screen.contains("Which bird has the"), "{}", framed(&screen));
    assert!(screen.contains("arctic tern"), "{}", framed(&screen));
}

#[test]
fn a_search_finds_the_second_session_and_enter_reopens_it_wide() {
    search_and_open(100, 30, 50, "sessions_pane_100x30");
}

#[test]
fn a_search_finds_the_second_session_and_enter_reopens_it_narrow() {
    search_and_open(40, 20, 0, "sessions_pane_40x20");
}
