//! Snapshots of the sampling dialog at 80×24 and 40×20, with hostile text.

use libre_assistant::plugins::host::SamplingRequest;

use super::*;

fn request() -> SamplingRequest {
    SamplingRequest {
        id: 4,
        plugin: "everything".into(),
        system_prompt: Some("You are a helpful \x1b[2Jassistant.".into()),
        messages: vec![
            (
                true,
                "Resource sampleLLM context: What is the capital of France? \u{202e}gnp.exe".into(),
            ),
            (false, "Paris.".into()),
            (true, "And of Italy?".into()),
        ],
        max_tokens: 4000,
        temperature: Some(0.7),
        stop: Vec::new(),
    }
}

fn snapshot(dialog: &SamplingDialog, width: u16, height: u16) -> String {
    crate::tui::fit::drawn_text(width, height, |theme, area, buf| {
        render(dialog, theme, area, buf)
    })
}

#[test]
fn snapshot_consent_and_review() {
    let consent = SamplingDialog::consent(request(), 512);
    let review = SamplingDialog::review(4, "everything".into(), "Rome.\x1b]52;c;aGk=\x07".into());
    for (w, h) in [(80, 24), (40, 20)] {
        let asked = snapshot(&consent, w, h);
        let wrote = snapshot(&review, w, h);
        for text in [&asked, &wrote] {
            assert!(
                !text.contains('\x1b') && !text.contains('\u{202e}'),
                "{text}"
            );
        }
        assert!(
            asked.contains("everything") && asked.contains("reject"),
            "{asked}"
        );
        assert!(wrote.contains("Rome."), "{wrote}");
        insta::assert_snapshot!(format!("sampling_{w}x{h}"), format!("{asked}\n{wrote}"));
    }
    assert!(snapshot(&consent, 80, 24).contains("up to 512 (asked for 4000"));
}

#[test]
fn long_text_scrolls_within_bounds_and_tiny_screens_never_panic() {
    let long: String = (1..=60).map(|i| format!("line {i}\n")).collect();
    let mut dialog = SamplingDialog::review(1, "p".into(), long);
    let theme = crate::tui::theme::Theme::from_roles(
        "test",
        "base16-ocean.dark",
        std::collections::HashMap::new(),
    );
    let area = ratatui::layout::Rect::new(0, 0, 80, 23);
    let max = max_scroll(&dialog, &theme, area);
    assert!(max > 0);
    dialog.scroll = max;
    let end = snapshot(&dialog, 80, 24);
    assert!(
        end.contains("line 60") && !end.contains("line 1\n"),
        "{end}"
    );
    for (w, h) in [(0, 0), (1, 1), (12, 5), (20, 8), (200, 4)] {
        snapshot(&dialog, w, h);
    }
}

#[test]
fn an_edit_shows_with_its_keys_at_both_steps() {
    let mut consent = SamplingDialog::consent(request(), 512);
    assert!(consent.edit());
    assert_eq!(consent.edited().as_deref(), Some("And of Italy?"));
    consent.change_draft(|d| d.push_str(" And Spain?"));
    let asked = snapshot(&consent, 80, 24);
    assert!(asked.contains("Edit the message to the model"), "{asked}");
    assert!(asked.contains("And of Italy? And Spain?"), "{asked}");
    let mut review = SamplingDialog::review(4, "everything".into(), "Rome.".into());
    assert!(review.edit());
    review.change_draft(|d| d.push_str(" And \x1b[31mMilan."));
    assert_eq!(review.edited().as_deref(), Some("Rome. And \x1b[31mMilan."));
    let text = snapshot(&review, 80, 24);
    assert!(!text.contains('\x1b'), "{text}");
    assert!(text.contains("Rome. And"), "{text}");
    insta::assert_snapshot!("sampling_edit_80x24", format!("{asked}\n{text}"));
    review.stop_editing();
    assert_eq!(review.edited(), None);
    assert!(snapshot(&review, 80, 24).contains("Send the model's message?"));
    let mut empty = request();
    empty.messages.clear();
    assert!(
        !SamplingDialog::consent(empty, 512).edit(),
        "nothing to edit"
    );
}
