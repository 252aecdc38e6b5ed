//! Rendering tests: snapshots at 80 and 40 columns, wrapping rules, cursor placement and
//! tiny areas.

use std::collections::HashMap;

use insta::assert_snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use unicode_segmentation::UnicodeSegmentation;

use super::Composer;
use super::graphemes::{next_boundary, width};
use super::render::{ComposerView, height, render, render_completions};
use super::wrap::{LineRows, Row, count_rows, window};
use crate::tui::theme::Theme;

const PLACEHOLDER: &str = "Ask anything — Enter to send, Alt+Enter for a newline, / for commands";

const FOCUSED: ComposerView<'static> = ComposerView {
    focused: true,
    placeholder: PLACEHOLDER,
    busy: false,
};

fn theme() -> Theme {
    Theme::from_roles("test", "base16-ocean.dark", HashMap::new())
}

fn composer(text: &str) -> Composer {
    let mut composer = Composer::new();
    composer.set_text(text);
    composer
}

/// The screen after drawing `composer` at `width` with up to `max_lines` text rows, the
/// popup drawn in `popup_rows` rows above it, and the cursor position.
fn screen(composer: &Composer, width: u16, max_lines: u16, popup_rows: u16) -> String {
    let rows = height(composer, width, max_lines);
    let mut terminal = Terminal::new(TestBackend::new(width, popup_rows + rows)).expect("terminal");
    let mut cursor = None;
    terminal
        .draw(|frame| {
            let theme = theme();
            let popup = Rect::new(0, 0, width, popup_rows);
            let area = Rect::new(0, popup_rows, width, rows);
            render_completions(composer, &theme, popup, frame.buffer_mut());
            cursor = render(composer, &theme, area, frame.buffer_mut(), FOCUSED);
        })
        .expect("draw");
    format!("{}cursor: {cursor:?}", terminal.backend())
}

/// A long paragraph, then a short list: wraps to many rows at either width.
fn long_text() -> String {
    let paragraph = "The composer wraps long lines at word boundaries and keeps the cursor's row \
                     on screen when the draft is taller than the space it gets, so editing a \
                     long message never loses the place being edited.";
    format!("{paragraph}\n\n- first point\n- second point\n- third point, the last one")
}

#[test]
fn empty_with_placeholder() {
    for width in [80, 40] {
        assert_snapshot!(
            format!("empty_{width}"),
            screen(&Composer::new(), width, 8, 0)
        );
    }
}

#[test]
fn multi_line_text_with_the_cursor() {
    let mut c = composer("Write a haiku about Rust.\n\nMake it 三行 👍🏽 and\n  indented");
    c.up();
    c.word_left();
    for width in [80, 40] {
        assert_snapshot!(format!("multi_line_{width}"), screen(&c, width, 8, 0));
    }
}

#[test]
fn long_text_scrolls_to_the_cursor() {
    let mut c = composer(&long_text());
    for width in [80, 40] {
        assert_snapshot!(format!("long_end_{width}"), screen(&c, width, 4, 0));
    }
    // Inside the paragraph: the cursor's row is centred, context above and below.
    c.cursor = long_text().find("taller").expect("in the text");
    for width in [80, 40] {
        assert_snapshot!(format!("long_middle_{width}"), screen(&c, width, 4, 0));
    }
}

#[test]
fn completion_popup() {
    for (name, text) in [("m", "/m"), ("all", "/")] {
        for width in [80, 40] {
            let shot = screen(&composer(text), width, 8, 10);
            assert_snapshot!(format!("popup_{name}_{width}"), shot);
        }
    }
    // Fewer rows than commands: the first ones, the selected one included.
    assert_snapshot!("popup_clipped_40", screen(&composer("/"), 40, 8, 3));
}

#[test]
fn unfocused_has_no_cursor() {
    let mut buf = Buffer::empty(Rect::new(0, 0, 20, 3));
    let view = ComposerView {
        focused: false,
        ..FOCUSED
    };
    assert_eq!(
        render(&composer("hi"), &theme(), buf.area, &mut buf, view),
        None
    );
}

#[test]
fn roles_style_the_parts() {
    let style = |fg| Style::default().fg(fg);
    let roles = HashMap::from([
        ("border".to_string(), style(Color::Gray)),
        ("border.focus".to_string(), style(Color::Blue)),
        ("composer".to_string(), style(Color::White)),
        ("composer.prompt".to_string(), style(Color::Cyan)),
        ("composer.prompt.busy".to_string(), style(Color::DarkGray)),
        ("composer.placeholder".to_string(), style(Color::Green)),
        ("popup".to_string(), style(Color::Yellow)),
        (
            "popup.selected".to_string(),
            Style::default().add_modifier(Modifier::REVERSED),
        ),
    ]);
    let theme = Theme::from_roles("test", "base16-ocean.dark", roles);
    let mut buf = Buffer::empty(Rect::new(0, 0, 40, 6));
    let area = Rect::new(0, 4, 40, 2);
    render(&Composer::new(), &theme, area, &mut buf, FOCUSED);
    let fg = |buf: &Buffer, x, y| buf[(x, y)].fg;
    assert_eq!(fg(&buf, 0, 4), Color::Blue);
    assert_eq!(fg(&buf, 0, 5), Color::Cyan);
    assert_eq!(fg(&buf, 2, 5), Color::Green);
    let busy = ComposerView {
        focused: false,
        busy: true,
        ..FOCUSED
    };
    render(&composer("/c"), &theme, area, &mut buf, busy);
    assert_eq!(fg(&buf, 0, 4), Color::Gray);
    assert_eq!(fg(&buf, 0, 5), Color::DarkGray);
    assert_eq!(fg(&buf, 2, 5), Color::White);
    render_completions(&composer("/c"), &theme, Rect::new(0, 0, 40, 4), &mut buf);
    assert!(buf[(1, 2)].modifier.contains(Modifier::REVERSED));
    assert_eq!(fg(&buf, 1, 3), Color::Yellow);
}

#[test]
fn height_counts_wrapped_rows() {
    assert_eq!(height(&Composer::new(), 80, 8), 2);
    assert_eq!(height(&composer("a\nb\nc"), 80, 8), 4);
    assert_eq!(height(&composer("a\nb\nc"), 80, 2), 3);
    assert_eq!(height(&composer("a\nb\nc"), 80, 0), 2);
    assert_eq!(height(&composer("hello world"), 8, 8), 3);
    assert_eq!(
        height(&composer(&"x\n".repeat(100_000)), 80, u16::MAX),
        65535
    );
}

fn rows(text: &str, width: usize) -> Vec<&str> {
    LineRows::new(text, 0, text.len(), width)
        .map(|Row { start, end }| &text[start..end])
        .collect()
}

#[test]
fn wrapping_rules() {
    // A space that reaches the edge hangs in the spare column; the next word starts a row.
    assert_eq!(rows("hello world", 5), ["hello ", "world"]);
    assert_eq!(rows("hello world foo", 8), ["hello ", "world ", "foo"]);
    // A line ending in a hanging space gets an empty row for the cursor.
    assert_eq!(rows("hello ", 5), ["hello ", ""]);
    // Only one space hangs; the rest of a run at the edge takes a row of its own.
    assert_eq!(rows("hello  world", 5), ["hello ", " ", "world"]);
    // Words longer than the row break anywhere.
    assert_eq!(rows("abcdefghij k", 4), ["abcd", "efgh", "ij k"]);
    assert_eq!(rows("你好世界", 5), ["你好", "世界"]);
    assert_eq!(rows("👍🏽👍🏽👍🏽", 1), ["👍🏽", "👍🏽", "👍🏽"]);
    assert_eq!(rows("a\tb", 3), ["a", "\t", "b"]);
    assert_eq!(rows("", 3), [""]);
    assert_eq!(count_rows("hello world\n\nhello world", 5, 100), 5);
    assert_eq!(count_rows("hello world\n\nhello world", 5, 3), 3);
}

/// Every cursor position of every text lands inside the window at a column of at most the
/// width (the cell kept spare), on the row that holds it.
#[test]
fn the_cursor_always_lands_on_its_row() {
    let texts = [
        "hello world, this is a test of wrapping",
        "a  b   c\n\n  indented words here\nlast",
        "你好世界，这是一个测试 with mixed 文字",
        "👍🏽 e\u{301} 🇫🇷🇩🇪 tab\there",
        "averyveryverylongwordwithoutanyspaces and more",
    ];
    for text in texts {
        for w in 1..14 {
            for h in 1..5 {
                let mut pos = 0;
                loop {
                    let win = window(text, pos, w, h);
                    let row = win.rows[win.cursor_row];
                    assert!(win.rows.len() <= h, "{text:?} {w} {h} {pos}");
                    assert!(row.start <= pos && pos <= row.end, "{text:?} {w} {pos}");
                    let over_wide = text[row.start..row.end]
                        .graphemes(true)
                        .any(|g| width(g) > w);
                    assert!(win.cursor_column <= w || over_wide, "{text:?} {w} {pos}");
                    if pos == text.len() {
                        break;
                    }
                    pos = next_boundary(text, pos);
                }
            }
        }
    }
}

#[test]
fn tiny_areas_never_panic() {
    let texts = ["", "hello world", "你好👍🏽\n\nx", "/", "/m", &long_text()];
    for text in texts {
        let c = composer(text);
        for w in 0..5 {
            for h in 0..4 {
                let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
                let cursor = render(&c, &theme(), buf.area, &mut buf, FOCUSED);
                render_completions(&c, &theme(), buf.area, &mut buf);
                if let Some(Position { x, y }) = cursor {
                    assert!(x < w && y < h, "{text:?} {w}x{h}: {x},{y}");
                }
                assert!(height(&c, w, h) >= 2);
            }
        }
    }
    // An area partly outside the buffer is clipped to it.
    let mut buf = Buffer::empty(Rect::new(0, 0, 10, 3));
    render(
        &composer("hi"),
        &theme(),
        Rect::new(5, 1, 20, 9),
        &mut buf,
        FOCUSED,
    );
}

#[test]
fn tabs_and_control_characters_never_reach_the_terminal() {
    let mut buf = Buffer::empty(Rect::new(0, 0, 20, 2));
    let cursor = render(
        &composer("a\tb\u{1b}[31m"),
        &theme(),
        buf.area,
        &mut buf,
        FOCUSED,
    );
    let row: String = (0..20).map(|x| buf[(x, 1)].symbol()).collect();
    assert_eq!(row, "› a    b\u{FFFD}[31m       ");
    assert_eq!(cursor, Some(Position::new(13, 1)));
}

#[test]
fn the_picked_entry_is_in_view_and_highlighted() {
    let mut c = composer("/");
    // Nine commands in a popup of three rows: the seventh picked shows, the first scrolls off.
    for _ in 0..7 {
        c.pick(true);
    }
    assert_eq!(c.picked(), 6);
    let roles = HashMap::from([
        ("popup".to_string(), Style::new().bg(Color::Blue)),
        ("popup.selected".to_string(), Style::new().bg(Color::Red)),
    ]);
    let theme = Theme::from_roles("test", "base16-ocean.dark", roles);
    let mut buf = Buffer::empty(Rect::new(0, 0, 60, 3));
    render_completions(&c, &theme, Rect::new(0, 0, 60, 3), &mut buf);
    let rows: Vec<String> = (0..3)
        .map(|y| (0..60).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect();
    assert!(rows[2].contains("/copy"), "{rows:?}");
    assert!(!rows.iter().any(|r| r.contains("/model")), "{rows:?}");
    assert_eq!(buf[(1, 2)].style().bg, Some(Color::Red), "{rows:?}");
    assert_eq!(buf[(1, 1)].style().bg, Some(Color::Blue), "{rows:?}");
}
