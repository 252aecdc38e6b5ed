//! Drawing the composer and its slash-command popup: pure functions of the composer state,
//! the theme and the area. The text wraps through [`super::wrap`], the same function that
//! places the cursor and sizes the composer; nothing here panics on a tiny area.

use std::borrow::Cow;

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use unicode_segmentation::UnicodeSegmentation;

use super::Composer;
use super::MenuItem;
use super::graphemes::{glyph, width};
use super::wrap::{self, Row};
use crate::tui::theme::Theme;

/// Shown before the first row of the text.
const PROMPT: &str = "› ";
/// Cells taken by the prompt, and by the indent of the other rows.
const GUTTER: u16 = 2;

/// How the composer is shown this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComposerView<'a> {
    /// The composer has the keyboard: focused border, and the terminal cursor is placed.
    pub focused: bool,
    /// Shown dimmed when the text is empty (cut with `…` when too wide).
    pub placeholder: &'a str,
    /// A turn is running: the prompt uses role `composer.prompt.busy`.
    pub busy: bool,
}

/// The cells a row of text may fill at `width`: the gutter is taken, and the last column is
/// kept for the cursor at the end of a full row (or a hanging space).
fn text_width(width: u16) -> usize {
    usize::from(width.saturating_sub(GUTTER + 1)).max(1)
}

/// Rows the composer needs at `width`, its top border included, clamped to
/// `2..=max_lines + 1` (`max_lines` counts as at least 1).
pub fn height(composer: &Composer, width: u16, max_lines: u16) -> u16 {
    let max_lines = max_lines.max(1);
    let rows = if composer.is_empty() {
        1
    } else {
        wrap::count_rows(composer.text(), text_width(width), usize::from(max_lines))
    };
    u16::try_from(rows)
        .unwrap_or(max_lines)
        .clamp(1, max_lines)
        .saturating_add(1)
}

/// Draws the composer into `area`: a top border, then the text rows around the cursor.
/// Returns where the terminal cursor goes: `None` when not focused or no text row fits.
pub fn render(
    composer: &Composer,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
    view: ComposerView,
) -> Option<Position> {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return None;
    }
    buf.set_style(area, theme.style("composer"));
    let border = theme.style(if view.focused {
        "border.focus"
    } else {
        "border"
    });
    let cells = usize::from(area.width);
    buf.set_stringn(area.x, area.y, "─".repeat(cells), cells, border);
    let body = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    if body.is_empty() {
        return None;
    }
    let prompt = theme.style(if view.busy {
        "composer.prompt.busy"
    } else {
        "composer.prompt"
    });
    buf.set_stringn(body.x, body.y, PROMPT, cells, prompt);
    let text_x = body.x.saturating_add(GUTTER);
    let (row, column) = if composer.is_empty() {
        let room = usize::from(body.width.saturating_sub(GUTTER));
        let placeholder = fit(view.placeholder, room);
        let style = theme.style("composer.placeholder");
        buf.set_stringn(text_x, body.y, placeholder, room, style);
        (0, 0)
    } else {
        draw_text(composer, theme, body, buf)
    };
    let x = text_x.saturating_add(column).min(body.right() - 1);
    view.focused.then_some(Position::new(x, body.y + row))
}

/// Draws the wrapped rows around the cursor; returns the cursor's row and column.
fn draw_text(composer: &Composer, theme: &Theme, body: Rect, buf: &mut Buffer) -> (u16, u16) {
    let text = composer.text();
    let window = wrap::window(
        text,
        composer.cursor(),
        text_width(body.width),
        usize::from(body.height),
    );
    let style = theme.style("composer");
    let x = body.x.saturating_add(GUTTER);
    let room = usize::from(body.width.saturating_sub(GUTTER));
    for (y, row) in (body.y..body.bottom()).zip(&window.rows) {
        if row.start != 0 {
            // Continuation rows: the prompt drawn above is not theirs.
            buf.set_stringn(body.x, y, "  ", usize::from(GUTTER), style);
        }
        buf.set_stringn(x, y, shown(text, *row), room, style);
    }
    let row = u16::try_from(window.cursor_row).unwrap_or(u16::MAX);
    let column = u16::try_from(window.cursor_column).unwrap_or(u16::MAX);
    (row, column)
}

/// A row's text as drawn: tabs as spaces, control characters as a replacement mark.
fn shown(text: &str, row: Row) -> Cow<'_, str> {
    let part = &text[row.start..row.end];
    if !part.contains(char::is_control) {
        return part.into();
    }
    part.graphemes(true)
        .map(|g| glyph(g).0)
        .collect::<String>()
        .into()
}

/// `text` cut to `room` cells, ending in `…` when cut.
fn fit(text: &str, room: usize) -> Cow<'_, str> {
    if width(text) <= room {
        return text.into();
    }
    let mut used = 0;
    let mut cut = String::new();
    for g in text.graphemes(true) {
        let (g, w) = glyph(g);
        if used + w + 1 > room {
            break;
        }
        used += w;
        cut.push_str(g);
    }
    if room > 0 {
        cut.push('…');
    }
    cut.into()
}

/// Draws the commands matching the composer text as a popup at the bottom of `area` (the
/// space just above the composer), as many as fit, the picked one (at first the first)
/// highlighted and in view.
pub fn render_completions(composer: &Composer, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    let commands = composer.completions();
    if commands.is_empty() || area.is_empty() {
        return;
    }
    let lines = popup_lines(&commands);
    let shown = lines.len().min(usize::from(area.height));
    // The picked entry stays in view: the list starts late enough to show it.
    let picked = composer.picked().min(lines.len().saturating_sub(1));
    let first = (picked + 1).saturating_sub(shown);
    let popup_width = lines.iter().map(|line| width(line)).max().unwrap_or(0);
    let popup = Rect {
        y: area.bottom() - u16::try_from(shown).unwrap_or(area.height),
        height: u16::try_from(shown).unwrap_or(area.height),
        width: u16::try_from(popup_width).map_or(area.width, |w| w.min(area.width)),
        ..area
    };
    for (i, (y, line)) in (popup.y..popup.bottom()).zip(&lines[first..]).enumerate() {
        let style = theme.style(if first + i == picked {
            "popup.selected"
        } else {
            "popup"
        });
        for x in popup.left()..popup.right() {
            buf[(x, y)].reset();
        }
        buf.set_style(
            Rect {
                y,
                height: 1,
                ..popup
            },
            style,
        );
        let room = usize::from(popup.width);
        buf.set_stringn(popup.x, y, fit(line.trim_end(), room), room, style);
    }
}

/// One padded line per entry: ` /model [NAME]  Load or switch models `.
fn popup_lines(commands: &[MenuItem]) -> Vec<String> {
    let usages: Vec<String> = commands
        .iter()
        .map(|c| format!("{} {}", c.word, c.args).trim_end().to_string())
        .collect();
    let usage_width = usages.iter().map(|u| u.len()).max().unwrap_or(0);
    let lines: Vec<String> = commands
        .iter()
        .zip(&usages)
        .map(|(c, usage)| format!(" {usage:<usage_width$}  {} ", c.help))
        .collect();
    let line_width = lines.iter().map(|l| width(l)).max().unwrap_or(0);
    lines
        .into_iter()
        .map(|line| format!("{line:<line_width$}"))
        .collect()
}
