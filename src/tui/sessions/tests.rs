//! Tests of the session pane: the selection, untrusted text, the highlight of matched words,
//! and snapshots of the drawn pane at 80×24 and 40×20.

use std::collections::HashMap;

use libre_assistant::sessions::Summary;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use super::*;
use crate::tui::theme::Theme;

fn summary(id: i64, title: &str, model: &str, messages: u32, tokens: u32) -> Summary {
    Summary {
        id,
        title: title.into(),
        model: model.into(),
        created: 0,
        updated: 0,
        messages,
        tokens,
    }
}

fn row(summary: Summary, when: &str) -> SessionRow {
    SessionRow {
        summary,
        snippet: Vec::new(),
        when: when.into(),
    }
}

fn three_rows() -> Vec<SessionRow> {
    vec![
        row(
            summary(
                12,
                "How do I add two numbers in Rust?",
                "smollm2-135m-instruct",
                4,
                312,
            ),
            "2026-12-07 09:41",
        ),
        row(
            summary(
                11,
                "Plan a three-day trip to Lisbon with a tight budget and lots of food",
                "qwen2.5-coder-0.5b-instruct",
                12,
                2048,
            ),
            "2026-12-06 18:02",
        ),
        row(summary(9, "", "", 1, 0), "2026-11-30 07:15"),
    ]
}

fn list_pane() -> SessionPane {
    let mut pane = SessionPane::new();
    pane.set_rows(three_rows());
    pane.selected = 1;
    pane
}

fn search_pane() -> SessionPane {
    let mut pane = SessionPane::new();
    pane.query = "lisb".into();
    pane.field = Field::Search;
    let mut hit = three_rows().remove(1);
    hit.snippet = vec![
        ("…the old town of ".into(), false),
        ("Lisbon".into(), true),
        (" has trams; in ".into(), false),
        ("Lisbon".into(), true),
        (" eat pastéis de nata…".into(), false),
    ];
    pane.set_rows(vec![hit]);
    pane
}

/// The pane drawn focused into a `width`×`height` buffer, one text line per row.
fn snapshot(pane: &SessionPane, width: u16, height: u16) -> String {
    crate::tui::fit::drawn_text(width, height, |theme, area, buf| {
        render(pane, theme, area, buf, true)
    })
}

#[test]
fn snapshot_the_list() {
    let pane = list_pane();
    insta::assert_snapshot!("list_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("list_40x20", snapshot(&pane, 40, 20));
}

#[test]
fn snapshot_a_search() {
    let pane = search_pane();
    insta::assert_snapshot!("search_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("search_40x20", snapshot(&pane, 40, 20));
}

#[test]
fn snapshot_the_delete_confirmation() {
    let mut pane = list_pane();
    pane.confirm_delete = Some((11, pane.rows[1].summary.title.clone()));
    insta::assert_snapshot!("confirm_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("confirm_40x20", snapshot(&pane, 40, 20));
}

#[test]
fn snapshot_empty_states() {
    let mut pane = SessionPane::new();
    pane.set_rows(Vec::new());
    insta::assert_snapshot!("empty_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("empty_40x20", snapshot(&pane, 40, 20));
    pane.query = "zebra".into();
    let text = snapshot(&pane, 40, 20);
    assert!(text.contains("no session matches \"zebra\""), "{text}");
    pane.set_error("cannot use the session database /x/sessions.db: disk I/O error".into());
    let text = snapshot(&pane, 40, 20);
    assert!(text.contains("cannot use the session database"), "{text}");
}

#[test]
fn snapshot_renaming() {
    let mut pane = list_pane();
    pane.field = Field::Rename;
    pane.title = "Lisbon on a budget".into();
    insta::assert_snapshot!("rename_40x20", snapshot(&pane, 40, 20));
}

/// A theme whose match style is known, to find it in the buffer.
fn marked_theme() -> Theme {
    let mut roles = HashMap::new();
    let matched = Style::default()
        .fg(Color::Yellow)
        .add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    roles.insert("search.match".to_string(), matched);
    roles.insert(
        "text.dim".to_string(),
        Style::default().add_modifier(Modifier::DIM),
    );
    Theme::from_roles("marked", "base16-ocean.dark", roles)
}

#[test]
fn matched_words_are_drawn_in_the_match_style_and_nothing_else_is() {
    let theme = marked_theme();
    let matched = theme.style("search.match");
    for (w, h) in [(80, 24), (40, 20)] {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        render(&search_pane(), &theme, area, &mut buf, true);
        let mut words: Vec<String> = Vec::new();
        for y in 0..h {
            let mut word = String::new();
            for x in 0..w {
                let cell = &buf[(x, y)];
                if cell.fg == Color::Yellow && cell.modifier.contains(Modifier::UNDERLINED) {
                    word.push_str(cell.symbol());
                } else if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            if !word.is_empty() {
                words.push(word);
            }
        }
        // At 40 columns the snippet is cut after its first match.
        let want: &[&str] = if w == 80 {
            &["Lisbon", "Lisbon"]
        } else {
            &["Lisbon"]
        };
        assert_eq!(words, want, "{w}x{h}");
        assert_eq!(matched.fg, Some(Color::Yellow));
    }
}

#[test]
fn every_built_in_theme_marks_matches_without_colour_too() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "dark",
        "light",
        "high-contrast",
        "gruvbox-dark",
        "catppuccin-mocha",
    ] {
        let theme =
            crate::tui::theme::load(name, dir.path(), crate::tui::theme::ColorMode::None).theme;
        assert_ne!(
            theme.style("search.match"),
            theme.style("text.dim"),
            "{name}"
        );
        assert!(
            !theme.style("search.match").add_modifier.is_empty(),
            "{name}"
        );
    }
}

#[test]
fn text_from_the_database_is_inert() {
    let mut pane = SessionPane::new();
    let mut hit = row(
        summary(
            1,
            "evil\x1b]52;c;AAAA\x07 title\nsecond line",
            "m\x1b[2J",
            2,
            10,
        ),
        "2026-12-07 09:41",
    );
    hit.snippet = vec![("\x1b[31mred".into(), false), ("\x1b[0m".into(), true)];
    pane.set_rows(vec![hit]);
    let area = Rect::new(0, 0, 80, 10);
    let mut buf = Buffer::empty(area);
    render(&pane, &marked_theme(), area, &mut buf, true);
    for cell in buf.content() {
        assert!(
            !cell.symbol().chars().any(char::is_control),
            "a control character reached the buffer: {:?}",
            cell.symbol()
        );
    }
    let text = snapshot(&pane, 80, 10);
    assert!(
        text.contains("evil␛]52;c;AAAA␇ title second line"),
        "{text}"
    );
}

#[test]
fn the_selection_stays_on_its_session_and_in_view() {
    let mut pane = list_pane();
    pane.select_next();
    pane.select_next();
    assert_eq!(pane.selected, 2);
    pane.select_prev();
    assert_eq!(pane.selected_row().map(|r| r.summary.id), Some(11));
    // A new list keeps the same session selected, wherever it now is.
    let mut rows = three_rows();
    rows.reverse();
    pane.set_rows(rows);
    assert_eq!(pane.selected_row().map(|r| r.summary.id), Some(11));
    // Gone from the list, the first row is selected.
    pane.set_rows(
        three_rows()
            .into_iter()
            .filter(|r| r.summary.id != 11)
            .collect(),
    );
    assert_eq!(pane.selected, 0);
    // Many rows in a short pane: the selected one shows whole.
    let many: Vec<SessionRow> = (0..30)
        .map(|i| row(summary(i, &format!("question number {i}"), "m", 2, 9), "d"))
        .collect();
    pane.set_rows(many);
    pane.selected = 25;
    let text = snapshot(&pane, 40, 12);
    assert!(text.contains("› question number 25"), "{text}");
    for (w, h) in [(1, 1), (2, 5), (12, 4), (20, 6), (0, 0)] {
        snapshot(&pane, w, h);
    }
}

#[test]
fn sizes_read_as_people_say_them() {
    assert_eq!(size(&summary(1, "", "", 1, 5)), "1 msg · 5 tok");
    assert_eq!(size(&summary(1, "", "", 4, 312)), "4 msgs · 312 tok");
}
