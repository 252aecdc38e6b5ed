//! The sampling dialog in the app: what the model wrote is edited with keys and the edit is
//! what goes back; rejecting sends no edit.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use libre_assistant::core::{Event, Op};

use super::tests::harness;

fn press(t: &mut super::tests::Harness, code: KeyCode, mods: KeyModifiers) {
    t.app.on_key(KeyEvent::new(code, mods));
}

fn typed(t: &mut super::tests::Harness, text: &str) {
    for c in text.chars() {
        press(t, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

fn review(t: &mut super::tests::Harness) {
    t.app.on_core(Event::SamplingReview {
        id: 7,
        plugin: "everything".into(),
        text: "Rome.".into(),
    });
}

#[test]
fn an_edited_message_is_what_goes_back_to_the_plugin() {
    let mut t = harness("dark");
    review(&mut t);
    typed(&mut t, "e");
    // Ctrl+U clears; "y" and "n" are typed, not answers, while editing.
    press(&mut t, KeyCode::Char('u'), KeyModifiers::CONTROL);
    typed(&mut t, "Many yes, no");
    press(&mut t, KeyCode::Backspace, KeyModifiers::NONE);
    typed(&mut t, "ever.");
    press(&mut t, KeyCode::Enter, KeyModifiers::NONE);
    let sent: Vec<Op> = std::iter::from_fn(|| t.ops.try_recv().ok()).collect();
    assert_eq!(
        sent,
        [Op::Sampling {
            id: 7,
            approve: true,
            edited: Some("Many yes, never.".into()),
        }]
    );
    assert!(t.app.state.sampling.is_none());
}

#[test]
fn esc_drops_the_edit_and_a_rejection_sends_none() {
    let mut t = harness("dark");
    review(&mut t);
    typed(&mut t, "eXYZ");
    press(&mut t, KeyCode::Esc, KeyModifiers::NONE);
    // Back at review: "y" sends the model's own text.
    typed(&mut t, "y");
    assert_eq!(
        t.ops.try_recv().ok(),
        Some(Op::Sampling {
            id: 7,
            approve: true,
            edited: None,
        })
    );
    review(&mut t);
    typed(&mut t, "eabc");
    assert!(t.app.state.sampling.as_ref().is_some_and(|d| d.editing()));
    press(&mut t, KeyCode::Esc, KeyModifiers::NONE);
    typed(&mut t, "n");
    assert_eq!(
        t.ops.try_recv().ok(),
        Some(Op::Sampling {
            id: 7,
            approve: false,
            edited: None,
        })
    );
}

#[test]
fn the_requests_last_message_is_edited_before_the_model_writes() {
    let mut t = harness("dark");
    t.app.on_core(Event::SamplingConsent {
        request: libre_assistant::plugins::host::SamplingRequest {
            id: 9,
            plugin: "everything".into(),
            system_prompt: None,
            messages: vec![(true, "Name a city.".into())],
            max_tokens: 20,
            temperature: None,
            stop: Vec::new(),
        },
        max_tokens: 20,
    });
    typed(&mut t, "e");
    press(&mut t, KeyCode::Backspace, KeyModifiers::NONE);
    typed(&mut t, " in Italy.");
    press(&mut t, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        t.ops.try_recv().ok(),
        Some(Op::Sampling {
            id: 9,
            approve: true,
            edited: Some("Name a city in Italy.".into()),
        })
    );
}
