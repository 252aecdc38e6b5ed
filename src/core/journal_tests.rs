use std::path::Path;
use std::time::{Duration, Instant};

use super::*;
use crate::engine::Role;

fn sample() -> Conversation {
    Conversation::from_parts(
        "be brief",
        vec![
            ChatMessage::new(Role::User, "hi \"there\"\n"),
            ChatMessage::new(Role::Assistant, "hello"),
            ChatMessage::new(Role::User, "and?"),
        ],
    )
}

fn journal(dir: &Path) -> Journal {
    Journal::new(Store::open(dir).unwrap().0)
}

/// What session `id` holds now, read through a second connection (as another instance would).
fn stored(dir: &Path, id: i64) -> (String, Vec<(ChatMessage, bool)>) {
    let (store, _) = Store::open(dir).unwrap();
    let session = store.load(id).unwrap();
    let messages = session
        .messages
        .into_iter()
        .map(|s| (s.message, s.partial))
        .collect();
    (session.system, messages)
}

fn plain(c: &Conversation) -> Vec<(ChatMessage, bool)> {
    c.messages().iter().map(|m| (m.clone(), false)).collect()
}

#[test]
fn the_journal_writes_nothing_for_an_empty_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = journal(dir.path());
    assert_eq!(
        journal.save(&Conversation::new("sys"), None, Instant::now()),
        None
    );
    assert_eq!(journal.session(), None);
    assert!(journal.store().list().unwrap().is_empty());
}

#[test]
fn the_journal_keeps_one_session_per_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let now = Instant::now();
    let mut journal = journal(dir.path());
    assert_eq!(journal.save(&sample(), None, now), None);
    let first = journal.session().unwrap();
    assert_eq!(
        stored(dir.path(), first),
        ("be brief".into(), plain(&sample()))
    );
    // Emptied by taking messages back: the session is rewritten, not left stale.
    assert_eq!(
        journal.save(&Conversation::new("be brief"), None, now),
        None
    );
    assert_eq!(stored(dir.path(), first).1, vec![]);

    journal.start_new();
    assert_eq!(journal.save(&Conversation::new("x"), None, now), None);
    assert_eq!(
        journal.session(),
        None,
        "a cleared one waits for its first message"
    );
    assert_eq!(journal.save(&sample(), None, now), None);
    let second = journal.session().unwrap();
    assert_ne!(second, first);
    assert_eq!(stored(dir.path(), second).1, plain(&sample()));
    assert_eq!(journal.store().list().unwrap().len(), 2);
}

#[test]
fn a_streaming_answer_is_saved_at_most_once_a_second_and_marked_partial() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut journal = journal(dir.path());
    assert_eq!(journal.save(&sample(), None, t0), None);
    let id = journal.session().unwrap();
    let with = |partial: &str| {
        let mut m = plain(&sample());
        m.push((ChatMessage::new(Role::Assistant, partial), true));
        m
    };
    let half = t0 + Duration::from_millis(500);
    assert_eq!(journal.save_streaming(&sample(), "a", half), None);
    assert_eq!(
        stored(dir.path(), id).1,
        plain(&sample()),
        "too soon after the last save"
    );
    assert_eq!(
        journal.save_streaming(&sample(), "ab", t0 + STREAM_SAVE_INTERVAL),
        None
    );
    assert_eq!(stored(dir.path(), id).1, with("ab"));
    let later = t0 + STREAM_SAVE_INTERVAL + Duration::from_millis(10);
    assert_eq!(journal.save_streaming(&sample(), "abc", later), None);
    assert_eq!(stored(dir.path(), id).1, with("ab"));
    // The answer ends: it replaces the partial one.
    let mut done = sample();
    done.push(ChatMessage::new(Role::Assistant, "abcd"));
    assert_eq!(journal.save(&done, None, later), None);
    assert_eq!(stored(dir.path(), id).1, plain(&done));
}

#[test]
fn a_resumed_session_goes_on_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = journal(dir.path());
    first.set_model("m1".into());
    assert_eq!(first.save(&sample(), None, Instant::now()), None);
    let id = first.session().unwrap();
    drop(first);
    let mut resumed = Journal::resuming(
        Store::open(dir.path()).unwrap().0,
        id,
        sample().messages().to_vec(),
    );
    let mut more = sample();
    more.push(ChatMessage::new(Role::Assistant, "more"));
    resumed.set_tokens(77);
    assert_eq!(resumed.save(&more, None, Instant::now()), None);
    assert_eq!(stored(dir.path(), id).1, plain(&more));
    let summary = resumed.store().summary(id).unwrap();
    assert_eq!(
        (summary.model.as_str(), summary.tokens, summary.messages),
        ("m1", 77, 4)
    );
}

#[test]
fn a_failure_is_reported_once_per_kind() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = journal(dir.path());
    let now = Instant::now();
    assert_eq!(journal.save(&sample(), None, now), None);
    // Another instance removes the session this one writes.
    let (other, _) = Store::open(dir.path()).unwrap();
    other.remove(journal.session().unwrap()).unwrap();
    let mut more = sample();
    more.push(ChatMessage::new(Role::Assistant, "x"));
    let error = journal
        .save(&more, None, now)
        .expect("a save error")
        .to_string();
    assert!(
        error.starts_with("cannot use the session database "),
        "{error}"
    );
    assert!(
        error.ends_with("FOREIGN KEY constraint failed; the conversation goes on unsaved"),
        "{error}"
    );
    more.push(ChatMessage::new(Role::User, "y"));
    assert_eq!(journal.save(&more, None, now), None, "told once");
}
