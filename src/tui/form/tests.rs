//! The elicitation dialog: editing a generated form, refusing what fails its schema, and
//! snapshots at 80×24 and 40×20 with hostile text.

use libre_assistant::plugins::form;
use libre_assistant::plugins::host::{Elicit, ElicitAnswer, ElicitationRequest};
use serde_json::json;

use super::*;

fn form_request(id: u64) -> ElicitationRequest {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "Name", "description": "Your \u{1b}[31mfull name"},
            "email": {"type": "string", "format": "email"},
            "agree": {"type": "boolean", "title": "Agree"},
            "friend": {"type": "string", "enum": ["Monica", "Ross"], "default": "Monica"},
            "fish": {"type": "array", "items": {"enum": ["Tuna", "Trout"]}, "maxItems": 1},
            "age": {"type": "integer", "minimum": 1, "maximum": 120}
        },
        "required": ["name"]
    });
    ElicitationRequest {
        id,
        plugin: "everything".into(),
        message: "Please provide inputs \u{202e}for the following fields:".into(),
        kind: Elicit::Form(form::parse(&schema).expect("a form")),
    }
}

fn snapshot(queue: &FormQueue, width: u16, height: u16) -> String {
    crate::tui::fit::drawn_text(width, height, |theme, area, buf| {
        render(queue, theme, area, buf)
    })
}

#[test]
fn a_form_is_filled_checked_and_sent_as_its_schema_asks() {
    let mut queue = FormQueue::default();
    queue.push(form_request(3));
    // Sent empty: the required name is missing, and the cursor stays on it.
    assert_eq!(queue.submit(), None);
    assert_eq!(
        queue.current().unwrap().error.as_deref(),
        Some("Name is required")
    );
    "Ada Lovelace".chars().for_each(|c| queue.type_char(c));
    queue.move_focus(true);
    "ada@".chars().for_each(|c| queue.type_char(c));
    assert_eq!(queue.submit(), None);
    assert_eq!(
        queue.current().unwrap().focus,
        1,
        "the cursor goes to the bad field"
    );
    "example.org".chars().for_each(|c| queue.type_char(c));
    queue.move_focus(true);
    queue.toggle();
    queue.move_focus(true);
    queue.choose(true);
    queue.move_focus(true);
    queue.choose(true);
    queue.toggle();
    queue.move_focus(true);
    "3".chars().for_each(|c| queue.type_char(c));
    queue.backspace();
    "42".chars().for_each(|c| queue.type_char(c));
    let (id, answer) = queue.submit().expect("it checks out");
    assert_eq!(id, 3);
    let ElicitAnswer::Accept(Some(content)) = answer else {
        panic!("accepted with content: {answer:?}");
    };
    assert_eq!(
        serde_json::Value::Object(content),
        json!({"name": "Ada Lovelace", "email": "ada@example.org", "agree": true,
               "friend": "Ross", "fish": ["Trout"], "age": 42})
    );
    assert!(!queue.is_open());
}

#[test]
fn decline_and_cancel_answer_without_content_and_the_next_request_shows() {
    let mut queue = FormQueue::default();
    queue.push(form_request(1));
    queue.push(form_request(2));
    assert_eq!(
        queue.take(ElicitAnswer::Decline),
        Some((1, ElicitAnswer::Decline))
    );
    assert_eq!(queue.current().map(|d| d.request.id), Some(2));
    assert_eq!(
        queue.take(ElicitAnswer::Cancel),
        Some((2, ElicitAnswer::Cancel))
    );
    assert!(!queue.is_open());
}

#[test]
fn snapshot_form_and_url_with_hostile_text() {
    let mut queue = FormQueue::default();
    queue.push(form_request(1));
    queue.submit();
    let mut url = FormQueue::default();
    url.push(ElicitationRequest {
        id: 2,
        plugin: "everything".into(),
        message: "Sign in to continue".into(),
        kind: Elicit::Url {
            url: "https://bank.example@evil.example/login?\u{1b}]52;c;eA==\u{7}".into(),
        },
    });
    for (w, h) in [(80, 24), (40, 20)] {
        let filled = snapshot(&queue, w, h);
        let visit = snapshot(&url, w, h);
        for text in [&filled, &visit] {
            assert!(
                !text.contains('\u{1b}') && !text.contains('\u{202e}'),
                "{text}"
            );
        }
        insta::assert_snapshot!(format!("form_{w}x{h}"), format!("{filled}\n{visit}"));
    }
    let visit = snapshot(&url, 80, 24);
    assert!(
        visit.contains("goes to   evil.example") || visit.contains("evil.example"),
        "{visit}"
    );
    assert!(visit.contains("not where it goes"), "{visit}");
    assert!(snapshot(&queue, 80, 24).contains("Name is required"));
    for (w, h) in [(0, 0), (1, 1), (12, 5), (20, 8), (200, 4)] {
        snapshot(&queue, w, h);
    }
}

#[test]
fn the_host_of_a_url_is_what_follows_any_user_part() {
    assert_eq!(
        render::host("https://example.org/a?b"),
        ("example.org".into(), false)
    );
    assert_eq!(
        render::host("https://a.example@b.example:8080/"),
        ("b.example:8080".into(), true)
    );
}
