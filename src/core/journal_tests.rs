use std::time::{Duration, Instant};

use super::*;

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

/// Every name in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_saved_conversation_loads_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conversation-1.json");
    save(&path, &sample(), None).unwrap();
    assert_eq!(load(&path), Ok(sample()));
}

#[test]
fn the_file_format_is_versioned_json_with_partial_answers_marked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conversation-1.json");
    save(&path, &sample(), Some("so")).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        r#"{"v":1,"system":"be brief","messages":[{"role":"user","content":"hi \"there\"\n"},{"role":"assistant","content":"hello"},{"role":"user","content":"and?"},{"role":"assistant","content":"so","partial":true}]}"#
    );
}

#[test]
fn a_partial_answer_loads_as_an_ordinary_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conversation-1.json");
    save(&path, &sample(), Some("so")).unwrap();
    let mut expected = sample();
    expected.push(ChatMessage::new(Role::Assistant, "so"));
    assert_eq!(load(&path), Ok(expected));
}

#[test]
fn no_system_prompt_is_saved_as_empty_and_read_back_as_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conversation-1.json");
    let c = Conversation::from_parts("", vec![ChatMessage::new(Role::User, "q")]);
    save(&path, &c, None).unwrap();
    assert_eq!(load(&path), Ok(c));
}

#[test]
fn saving_replaces_the_file_and_leaves_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/conversation-7.json");
    save(&path, &Conversation::new("a"), None).unwrap();
    save(&path, &sample(), Some("x")).unwrap();
    save(&path, &sample(), None).unwrap();
    assert_eq!(names(&dir.path().join("sub")), vec!["conversation-7.json"]);
    assert_eq!(load(&path), Ok(sample()));
}

#[cfg(unix)]
#[test]
fn conversation_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("journal");
    let path = sub.join("conversation-1.json");
    save(&path, &sample(), None).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&sub), mode(&path)), (0o700, 0o600));
}

#[test]
fn latest_picks_the_newest_conversation_file_only() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "conversation-5.json",
        "conversation-100.json",
        "conversation-99.json",
        ".conversation-200.json.tmp",
        "conversation-300.json.bak",
        "conversation-.json",
        "notes.json",
    ] {
        std::fs::write(dir.path().join(name), "{}").unwrap();
    }
    assert_eq!(
        latest(dir.path()),
        Some(dir.path().join("conversation-100.json"))
    );
}

#[test]
fn latest_of_an_empty_or_missing_directory_is_none() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(latest(dir.path()), None);
    assert_eq!(latest(&dir.path().join("missing")), None);
}

#[test]
fn a_new_file_comes_after_every_existing_one() {
    let dir = tempfile::tempdir().unwrap();
    let future = dir.path().join("conversation-99999999999999.json");
    std::fs::write(&future, "{}").unwrap();
    let next = new_file(dir.path());
    assert_eq!(next, dir.path().join("conversation-100000000000000.json"));
    std::fs::write(&next, "{}").unwrap();
    assert_eq!(latest(dir.path()), Some(next));
}

#[test]
fn a_corrupt_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conversation-1.json");
    std::fs::write(&path, "{\"v\":1,\"system\":\"\",\"messages\":[").unwrap();
    let error = load(&path).unwrap_err();
    assert_eq!(
        error,
        JournalError::Corrupt {
            path: path.clone(),
            reason: "EOF while parsing a list at line 1 column 31".into()
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "{} is not a valid conversation file (EOF while parsing a list at line 1 column 31); start a new conversation",
            path.display()
        )
    );
}

#[test]
fn a_file_with_another_version_is_refused_by_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conversation-1.json");
    std::fs::write(&path, r#"{"v":2,"transcript":[]}"#).unwrap();
    assert_eq!(load(&path), Err(JournalError::Version { path, found: 2 }));
}

#[test]
fn a_missing_file_is_a_read_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conversation-1.json");
    match load(&path) {
        Err(JournalError::Read { path: p, .. }) => assert_eq!(p, path),
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn an_unwritable_directory_is_a_save_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the directory should be: fails even for root, unlike permissions.
    let blocker = dir.path().join("journal");
    std::fs::write(&blocker, "").unwrap();
    let error = save(&blocker.join("conversation-1.json"), &sample(), None).unwrap_err();
    match error {
        JournalError::Save { path, .. } => assert_eq!(path, blocker),
        other => panic!("expected a save error, got {other:?}"),
    }
}

#[test]
fn the_journal_writes_nothing_for_an_empty_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::new(dir.path().join("j"));
    assert_eq!(
        journal.save(&Conversation::new("sys"), None, Instant::now()),
        None
    );
    assert!(!dir.path().join("j").exists());
}

#[test]
fn the_journal_keeps_one_file_per_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let now = Instant::now();
    let mut journal = Journal::new(dir.path().to_path_buf());
    assert_eq!(journal.save(&sample(), None, now), None);
    let first = latest(dir.path()).unwrap();
    // Emptied by taking messages back: the file is rewritten, not left stale.
    assert_eq!(
        journal.save(&Conversation::new("be brief"), None, now),
        None
    );
    assert_eq!(load(&first), Ok(Conversation::new("be brief")));

    journal.start_new();
    assert_eq!(journal.save(&Conversation::new("x"), None, now), None);
    assert_eq!(
        latest(dir.path()),
        Some(first.clone()),
        "a cleared one waits"
    );
    assert_eq!(journal.save(&sample(), None, now), None);
    let second = latest(dir.path()).unwrap();
    assert_ne!(second, first);
    assert_eq!(
        (load(&first), load(&second)),
        (Ok(Conversation::new("be brief")), Ok(sample()))
    );
}

#[test]
fn a_streaming_answer_is_saved_at_most_once_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut journal = Journal::new(dir.path().to_path_buf());
    assert_eq!(journal.save(&sample(), None, t0), None);
    let file = latest(dir.path()).unwrap();
    let with = |partial: &str| {
        let mut c = sample();
        c.push(ChatMessage::new(Role::Assistant, partial));
        c
    };
    let half = t0 + Duration::from_millis(500);
    assert_eq!(journal.save_streaming(&sample(), "a", half), None);
    assert_eq!(load(&file), Ok(sample()), "too soon after the last save");
    assert_eq!(
        journal.save_streaming(&sample(), "ab", t0 + STREAM_SAVE_INTERVAL),
        None
    );
    assert_eq!(load(&file), Ok(with("ab")));
    let later = t0 + STREAM_SAVE_INTERVAL + Duration::from_millis(10);
    assert_eq!(journal.save_streaming(&sample(), "abc", later), None);
    assert_eq!(load(&file), Ok(with("ab")));
}

#[test]
fn a_failure_is_reported_once_per_kind() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("journal");
    std::fs::write(&blocker, "").unwrap();
    let mut journal = Journal::new(blocker.clone());
    let now = Instant::now();
    match journal.save(&sample(), None, now) {
        Some(JournalError::Save { path, .. }) => assert_eq!(path, blocker),
        other => panic!("expected a save error, got {other:?}"),
    }
    assert_eq!(journal.save(&sample(), None, now), None, "told once");
}
