//! Tests of the chooser: its keys, what it recommends, and snapshots at 80×24 and 40×20.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use libre_assistant::models::speed::Machine;
use libre_assistant::models::{self, CatalogEntry};

use super::*;

/// A catalog entry with the default model's sources, so the test needs no network facts.
fn entry(name: &str, title: &str, size: u64, parameters: &str, quant: &str) -> CatalogEntry {
    CatalogEntry {
        name: name.into(),
        title: title.into(),
        size,
        parameters: parameters.into(),
        quantization: quant.into(),
        ..models::find(models::DEFAULT_MODEL).unwrap()
    }
}

/// The catalog of issue 12, fixed here so the snapshots do not move with the real one.
fn catalog() -> Vec<CatalogEntry> {
    vec![
        entry(
            "smollm2-135m-instruct",
            "SmolLM2 135M Instruct",
            98_362_432,
            "135M",
            "Q4_1",
        ),
        entry(
            "qwen2.5-coder-0.5b-instruct",
            "Qwen2.5 Coder 0.5B Instruct",
            491_400_064,
            "0.5B",
            "Q4_K_M",
        ),
        entry(
            "qwen2.5-coder-1.5b-instruct",
            "Qwen2.5 Coder 1.5B Instruct",
            1_117_320_768,
            "1.5B",
            "Q4_K_M",
        ),
    ]
}

/// The reference machine with one thread, as the tests run the engine.
fn machine() -> Machine {
    Machine {
        threads: 1,
        bandwidth: Some(40e9),
        available_memory: Some(8 << 30),
    }
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn snapshot(chooser: &Chooser, width: u16, height: u16) -> String {
    crate::tui::fit::drawn_text(width, height, |theme, area, buf| {
        render(chooser, theme, area, buf)
    })
}

#[test]
fn the_largest_usable_tool_caller_is_recommended_and_highlighted() {
    let c = Chooser::new(catalog(), &machine());
    assert_eq!((c.recommended, c.selected), (Some(2), 2));
    assert_eq!(c.machine, "1 thread, 40 GB/s memory");
    let names: Vec<&str> = c.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "smollm2-135m-instruct",
            "qwen2.5-coder-0.5b-instruct",
            "qwen2.5-coder-1.5b-instruct"
        ]
    );
}

#[test]
fn on_a_slow_machine_the_small_default_is_recommended() {
    let slow = Machine {
        threads: 1,
        bandwidth: Some(1e9),
        available_memory: None,
    };
    let c = Chooser::new(catalog(), &slow);
    assert_eq!((c.recommended, c.selected), (Some(0), 0));
    let small_memory = Machine {
        available_memory: Some(1 << 30),
        ..machine()
    };
    assert_eq!(Chooser::new(catalog(), &small_memory).recommended, Some(1));
}

#[test]
fn keys_move_choose_and_quit() {
    let mut c = Chooser::new(catalog(), &machine());
    for (code, want) in [
        (KeyCode::Down, 2),
        (KeyCode::Char('k'), 1),
        (KeyCode::Up, 0),
        (KeyCode::Char('k'), 0),
        (KeyCode::Char('j'), 1),
        (KeyCode::End, 2),
        (KeyCode::Home, 0),
        (KeyCode::Char('x'), 0),
    ] {
        assert_eq!(c.on_key(key(code)), None, "{code:?}");
        assert_eq!(c.selected, want, "after {code:?}");
    }
    assert_eq!(
        c.on_key(key(KeyCode::Enter)),
        Some(Outcome::Chosen("smollm2-135m-instruct".into()))
    );
    assert_eq!(c.on_key(key(KeyCode::Esc)), Some(Outcome::Quit));
    assert_eq!(c.on_key(key(KeyCode::Char('q'))), Some(Outcome::Quit));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(c.on_key(ctrl_c), Some(Outcome::Quit));
}

#[test]
fn an_empty_catalog_chooses_nothing() {
    let mut c = Chooser::new(Vec::new(), &machine());
    assert_eq!(c.on_key(key(KeyCode::Down)), None);
    assert_eq!(c.on_key(key(KeyCode::Enter)), None);
    // Drawing it at any size does not panic.
    for (w, h) in [(80, 24), (10, 3), (1, 1), (0, 0)] {
        snapshot(&c, w, h);
    }
}

#[test]
fn snapshot_recommending_the_1_5b_model() {
    let c = Chooser::new(catalog(), &machine());
    insta::assert_snapshot!("recommend_80x24", snapshot(&c, 80, 24));
    insta::assert_snapshot!("recommend_40x20", snapshot(&c, 40, 20));
}

#[test]
fn snapshot_small_default_highlighted_on_a_slow_machine() {
    let slow = Machine {
        threads: 1,
        bandwidth: Some(2e9),
        available_memory: Some(1 << 30),
    };
    let mut c = Chooser::new(catalog(), &slow);
    c.selected = 2;
    insta::assert_snapshot!("slow_80x24", snapshot(&c, 80, 24));
    insta::assert_snapshot!("slow_80x10", snapshot(&c, 80, 10));
}

#[test]
fn every_size_down_to_nothing_draws() {
    let c = Chooser::new(catalog(), &machine());
    for w in [0, 1, 5, 20, 29, 30, 40, 120] {
        for h in [0, 1, 2, 3, 6, 12, 40] {
            snapshot(&c, w, h);
        }
    }
}
