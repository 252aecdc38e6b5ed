use super::*;
use crate::engine::{ChatMessage, Role};

fn msg(role: Role, text: &str) -> ChatMessage {
    ChatMessage::new(role, text)
}

fn meta() -> Meta {
    Meta {
        model: "smollm2".into(),
        system: "be brief".into(),
        tokens: 42,
    }
}

/// A store with one session holding `messages`; returns its id.
fn with_session(store: &Store, messages: &[ChatMessage], millis: i64) -> i64 {
    let id = store.create("", &meta(), millis).unwrap();
    store.sync(id, 0, messages, None, &meta(), millis).unwrap();
    id
}

#[test]
fn a_saved_session_loads_back_with_its_facts() {
    let dir = tempfile::tempdir().unwrap();
    let (store, notices) = Store::open(dir.path()).unwrap();
    assert!(notices.is_empty());
    let messages = [
        msg(Role::User, "why is the sky blue?\nbe short"),
        msg(Role::Assistant, "Rayleigh."),
    ];
    let id = with_session(&store, &messages, 1000);
    let session = store.load(id).unwrap();
    assert_eq!(session.system, "be brief");
    assert_eq!(
        session.summary,
        Summary {
            id,
            title: "why is the sky blue?".into(),
            model: "smollm2".into(),
            created: 1000,
            updated: 1000,
            messages: 2,
            tokens: 42,
        }
    );
    let loaded: Vec<ChatMessage> = session.messages.into_iter().map(|s| s.message).collect();
    assert_eq!(loaded, messages);
}

#[test]
fn a_sync_replaces_what_changed_and_marks_a_streaming_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    let id = with_session(
        &store,
        &[msg(Role::User, "q1"), msg(Role::Assistant, "a1")],
        1,
    );
    // The answer is regenerated: keep the question, stream a new answer.
    store.sync(id, 1, &[], Some("half"), &meta(), 2).unwrap();
    let session = store.load(id).unwrap();
    assert_eq!(session.messages.len(), 2);
    assert!(session.messages[1].partial);
    assert_eq!(session.messages[1].message.content, "half");
    store
        .sync(id, 1, &[msg(Role::Assistant, "whole")], None, &meta(), 3)
        .unwrap();
    let session = store.load(id).unwrap();
    assert!(!session.messages[1].partial);
    assert_eq!(session.summary.updated, 3);
    // The search index follows: the old answer's words are gone, the new ones found.
    assert!(store.search("half", 10).unwrap().is_empty());
    assert!(store.search("a1", 10).unwrap().is_empty());
    assert_eq!(store.search("whole", 10).unwrap().len(), 1);
}

#[test]
fn search_ranks_sessions_and_marks_the_matched_words() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    let once = with_session(
        &store,
        &[msg(Role::User, "tell me about the weather in Oslo")],
        1,
    );
    let often = with_session(
        &store,
        &[msg(
            Role::User,
            "Oslo, Oslo, Oslo: the capital of Norway is Oslo",
        )],
        2,
    );
    with_session(&store, &[msg(Role::User, "nothing here")], 3);
    let hits = store.search("oslo", 10).unwrap();
    let ids: Vec<i64> = hits.iter().map(|h| h.session.id).collect();
    assert_eq!(ids, [often, once]);
    assert!(hits[1].snippet.contains(&("Oslo".to_string(), true)));
    assert!(
        hits[1]
            .snippet
            .iter()
            .any(|(t, m)| !m && t.contains("weather in"))
    );
    // Every word must match; the last one is a prefix (typing goes word by word).
    assert_eq!(store.search("weather Os", 10).unwrap().len(), 1);
    assert_eq!(store.search("weather Norway", 10).unwrap().len(), 0);
    // What the user types is not FTS5 syntax.
    for odd in ["\"", "a OR", "NEAR(", "*", "-x", "col:x", ")"] {
        assert!(store.search(odd, 10).is_ok(), "{odd}");
    }
    assert!(store.search("  ", 10).unwrap().is_empty());
}

#[test]
fn a_renamed_title_is_found_and_removing_a_session_removes_its_messages() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    let id = with_session(&store, &[msg(Role::User, "first question")], 1);
    store.rename(id, "  Trip planning ").unwrap();
    assert_eq!(store.summary(id).unwrap().title, "Trip planning");
    let hits = store.search("trip", 10).unwrap();
    assert_eq!((hits.len(), hits[0].snippet.is_empty()), (1, true));
    store.remove(id).unwrap();
    assert_eq!(store.load(id), Err(SessionError::NotFound(id)));
    assert!(store.search("first", 10).unwrap().is_empty());
    assert_eq!(store.remove(id), Err(SessionError::NotFound(id)));
    assert_eq!(store.rename(id, "x"), Err(SessionError::NotFound(id)));
    let count: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0);
}

#[test]
fn the_list_is_newest_first_and_latest_is_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    assert_eq!(store.latest().unwrap(), None);
    let a = with_session(&store, &[msg(Role::User, "a")], 5);
    let b = with_session(&store, &[msg(Role::User, "b")], 3);
    let ids: Vec<i64> = store.list().unwrap().iter().map(|s| s.id).collect();
    assert_eq!(ids, [a, b]);
    store
        .sync(b, 1, &[msg(Role::Assistant, "later")], None, &meta(), 9)
        .unwrap();
    assert_eq!(store.latest().unwrap(), Some(b));
}

#[test]
fn titles_come_from_the_first_question_trimmed() {
    let long = "word ".repeat(30);
    let cases = [
        (
            vec![msg(Role::User, "\n  hello   there \nsecond")],
            "hello there".to_string(),
        ),
        (
            vec![msg(Role::Assistant, "hi"), msg(Role::User, "q")],
            "q".to_string(),
        ),
        (vec![], String::new()),
    ];
    for (messages, title) in cases {
        assert_eq!(title_of(&messages), title);
    }
    let cut = title_of(&[msg(Role::User, &long)]);
    assert!(cut.ends_with('…') && cut.chars().count() <= 60, "{cut}");
}

#[test]
fn conversation_files_of_earlier_versions_are_imported_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("conversations");
    std::fs::create_dir(&files).unwrap();
    let good = files.join("conversation-1700000000000.json");
    std::fs::write(
        &good,
        r#"{"v":1,"system":"be brief","messages":[{"role":"user","content":"old question"},{"role":"assistant","content":"so","partial":true}]}"#,
    )
    .unwrap();
    let bad = files.join("conversation-1700000000001.json");
    std::fs::write(&bad, "{not json").unwrap();
    std::fs::write(files.join(".conversation-5.json.tmp"), "{}").unwrap();
    let (store, notices) = Store::open(dir.path()).unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("conversation-1700000000001.json is not a valid conversation file")
    );
    let list = store.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].title.as_str(), list[0].created, list[0].messages),
        ("old question", 1_700_000_000_000, 2)
    );
    drop(store);
    // Opened again: nothing imported twice, no notice again; the files stay.
    let (store, notices) = Store::open(dir.path()).unwrap();
    assert!(notices.is_empty());
    assert_eq!(store.list().unwrap().len(), 1);
    assert!(good.exists() && bad.exists());
}

#[test]
fn a_newer_conversation_file_is_refused_by_version() {
    assert_eq!(
        legacy::parse(br#"{"v":2,"system":"","messages":[]}"#).unwrap_err(),
        "is a version 2 conversation file but this build reads version 1; update libre-assistant"
    );
}

#[test]
fn a_damaged_database_is_moved_aside_and_a_new_one_started() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(FILE), vec![0x5a; 8192]).unwrap();
    let (store, notices) = Store::open(dir.path()).unwrap();
    assert_eq!(notices.len(), 1);
    assert!(
        notices[0].starts_with(
            "the session database was damaged (file is not a database); it was moved to "
        ),
        "{}",
        notices[0]
    );
    assert!(store.list().unwrap().is_empty());
    let aside: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sessions.db.damaged-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read(dir.path().join(&aside[0])).unwrap(),
        vec![0x5a; 8192]
    );
}

#[test]
fn a_database_from_a_newer_build_is_refused_not_moved() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    let conn = Connection::open(dir.path().join(FILE)).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let error = Store::open(dir.path()).err().unwrap();
    assert!(
        error
            .to_string()
            .ends_with("is version 99 but this build reads version 1; update libre-assistant"),
        "{error}"
    );
}

#[cfg(unix)]
#[test]
fn the_database_and_its_side_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (store, _) = Store::open(&data).unwrap();
    with_session(&store, &[msg(Role::User, "q")], 1);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for name in [FILE, "sessions.db-wal", "sessions.db-shm"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
}

#[test]
fn markdown_reads_back_as_the_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    let messages = [
        msg(Role::User, "q\n## You\n\\## Assistant\n"),
        msg(Role::Assistant, "line 1\n\nline 3"),
        msg(Role::Tool, "{\"ok\":true}"),
        msg(Role::Assistant, ""),
    ];
    let id = with_session(&store, &messages, 1);
    let session = store.load(id).unwrap();
    let text = export::to_markdown(&session, "facts");
    assert!(
        text.starts_with(
            "# q\n\nfacts\n\n## System\n\nbe brief\n\n## You\n\nq\n\\## You\n\\\\## Assistant\n"
        ),
        "{text}"
    );
    let mut expected = vec![msg(Role::System, "be brief")];
    expected.extend(messages);
    assert_eq!(export::from_markdown(&text), expected);
}

#[test]
fn json_export_reads_back_as_a_conversation_file() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    let messages = [msg(Role::User, "q"), msg(Role::Assistant, "a")];
    let id = with_session(&store, &messages, 1);
    let file = legacy::parse(export::to_json(&store.load(id).unwrap()).as_bytes()).unwrap();
    assert_eq!(
        (file.system.as_str(), file.messages),
        ("be brief", messages.to_vec())
    );
}
