//! Drawing the session pane: a pure function of `SessionPane`, the theme and the area.
//!
//! Top to bottom: the search line, the list (each session a title line, a facts line, and
//! while searching a snippet line with the matched words in `search.match`), the delete
//! confirmation, the title being edited, the key hints. Everything from the database goes
//! through `text::inert` (and onto one line) before it reaches a span.

use libre_assistant::text;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{Field, SessionPane, SessionRow, size};
use crate::tui::fit::{self, truncate, truncate_start, width};
use crate::tui::theme::Theme;

/// Sections, in the order they are drawn.
const SEARCH: usize = 0;
const LIST: usize = 1;
const CONFIRM: usize = 2;
const RENAME: usize = 3;
const HINTS: usize = 4;
const SECTIONS: usize = 5;

/// "› " or "  " before a title; the lines under it are indented as much.
const INDENT: usize = 2;

/// Draws the session pane into `area` of `buf`.
pub fn render(pane: &SessionPane, theme: &Theme, area: Rect, buf: &mut Buffer, focused: bool) {
    let inner = fit::frame(" Sessions ", theme, area, buf, focused);
    if inner.is_empty() {
        return;
    }
    let cells = usize::from(inner.width);
    let mut sections: [Vec<Line<'static>>; SECTIONS] = Default::default();
    sections[SEARCH] = vec![search_line(pane, theme, cells)];
    sections[CONFIRM] = confirm_lines(pane, theme, cells);
    if pane.field == Field::Rename {
        sections[RENAME] = vec![field_line("title: ", &pane.title, theme, cells)];
    }
    sections[HINTS] = hints_lines(pane.field, theme, cells);
    let len = |i: usize| fit::rows(sections[i].len());
    let asks = [
        (LIST, 1),
        (CONFIRM, len(CONFIRM).min(1)),
        (RENAME, len(RENAME)),
        (SEARCH, 1),
        (HINTS, 1),
        (CONFIRM, len(CONFIRM)),
        (HINTS, len(HINTS)),
    ];
    let mut heights = [0u16; SECTIONS];
    heights[LIST] += fit::allocate(inner.height, &asks, &mut heights);
    let mut top = 0;
    for (i, lines) in sections.iter().enumerate() {
        let rect = fit::take_rows(inner, &mut top, heights[i]);
        if i == LIST {
            draw_list(pane, theme, rect, buf);
        } else {
            fit::draw_lines(buf, rect, lines);
        }
    }
}

/// Untrusted text from the database, on one line and inert.
fn safe(s: &str) -> String {
    text::inert(&text::one_line(s)).into_owned()
}

/// "/ search" while nothing is typed; the query (its end, when long) with a cursor while
/// typing; the query and the number found once typed.
fn search_line(pane: &SessionPane, theme: &Theme, cells: usize) -> Line<'static> {
    if pane.field == Field::Search {
        return field_line("/ ", &pane.query, theme, cells);
    }
    if pane.query.is_empty() {
        return fit::hints(&[("/", "search")], theme, cells);
    }
    let found = match pane.rows.len() {
        1 => " · 1 found".to_string(),
        n => format!(" · {n} found"),
    };
    let query = truncate_start(&pane.query, cells.saturating_sub(2 + width(&found)).max(1));
    Line::from(vec![
        Span::styled("/ ", theme.style("help.key")),
        Span::styled(query, theme.style("text")),
        Span::styled(found, theme.style("text.dim")),
    ])
}

/// A one-line text field: `label`, the end of `value` that fits, and a cursor cell.
fn field_line(label: &'static str, value: &str, theme: &Theme, cells: usize) -> Line<'static> {
    let room = cells.saturating_sub(width(label) + 1).max(1);
    Line::from(vec![
        Span::styled(label, theme.style("help.key")),
        Span::styled(truncate_start(value, room), theme.style("text")),
        Span::styled(" ", theme.style("selection")),
    ])
}

/// `Delete "TITLE" (4 msgs)? y/n`, wrapped to at most three lines.
fn confirm_lines(pane: &SessionPane, theme: &Theme, cells: usize) -> Vec<Line<'static>> {
    let Some((id, title)) = &pane.confirm_delete else {
        return Vec::new();
    };
    let text = format!("Delete session {id} \"{}\"? y/n", safe(title));
    fit::wrap(&text, cells, 3)
        .into_iter()
        .map(|l| Line::styled(l, theme.style("warning")))
        .collect()
}

/// The keys of the current field, on as many lines as the width needs (at most two).
fn hints_lines(field: Field, theme: &Theme, cells: usize) -> Vec<Line<'static>> {
    let hints: &[(&str, &str)] = match field {
        Field::List => &[
            ("Enter", "open"),
            ("/", "search"),
            ("r", "rename"),
            ("d", "delete"),
            ("e", "export"),
        ],
        Field::Search => &[("Enter", "done"), ("Esc", "clear")],
        Field::Rename => &[("Enter", "save"), ("Esc", "cancel")],
    };
    let mut lines = Vec::new();
    let mut rest = hints;
    while !rest.is_empty() && lines.len() < 2 {
        let line = fit::hints(rest, theme, cells);
        // How many hints fit: each is three spans (separator, key, what).
        let shown = (line.spans.len() / 3).max(1);
        lines.push(line);
        rest = &rest[shown.min(rest.len())..];
    }
    lines
}

/// The list, scrolled so the whole selected session shows; or why there is none.
fn draw_list(pane: &SessionPane, theme: &Theme, rect: Rect, buf: &mut Buffer) {
    let cells = usize::from(rect.width);
    if let Some(error) = &pane.error {
        let lines: Vec<Line> = fit::wrap(&safe(error), cells, usize::from(rect.height))
            .into_iter()
            .map(|l| Line::styled(l, theme.style("error")))
            .collect();
        fit::draw_lines(buf, rect, &lines);
        return;
    }
    if pane.rows.is_empty() {
        let text = if !pane.loaded {
            "reading the sessions…".to_string()
        } else if pane.query.trim().is_empty() {
            "no saved conversations yet: each one is kept here once it has an answer".to_string()
        } else {
            format!("no session matches \"{}\"", safe(&pane.query))
        };
        let lines: Vec<Line> = fit::wrap(&text, cells, usize::from(rect.height))
            .into_iter()
            .map(|l| Line::styled(l, theme.style("text.dim")))
            .collect();
        fit::draw_lines(buf, rect, &lines);
        return;
    }
    let items: Vec<Vec<Line<'static>>> = pane
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| item_lines(row, i == pane.selected, theme, cells))
        .collect();
    let visible = usize::from(rect.height);
    // The first item shown: as far down as needed for the selected one to show whole.
    let mut first = pane.selected.min(items.len() - 1);
    let mut used = items[first].len();
    while first > 0 && used + items[first - 1].len() <= visible {
        first -= 1;
        used += items[first].len();
    }
    let mut lines = Vec::new();
    let mut selected_at = None;
    for (i, item) in items.into_iter().enumerate().skip(first) {
        if i == pane.selected {
            selected_at = Some(lines.len());
        }
        lines.extend(item);
        if lines.len() >= visible {
            break;
        }
    }
    fit::draw_lines(buf, rect, &lines);
    if let Some(row) = selected_at.filter(|r| *r < visible) {
        let y = rect.y + fit::rows(row);
        buf.set_style(
            Rect::new(rect.x, y, rect.width, 1),
            theme.style("selection"),
        );
    }
}

/// A session's lines: "› title", "  date · size · model", and its snippet when it has one.
fn item_lines(row: &SessionRow, selected: bool, theme: &Theme, cells: usize) -> Vec<Line<'static>> {
    let s = &row.summary;
    let room = cells.saturating_sub(INDENT);
    let marker = if selected { "› " } else { "  " };
    let title = safe(&s.title);
    let title = if title.is_empty() {
        Span::styled("(no title)", theme.style("text.dim"))
    } else {
        Span::styled(truncate(&title, room), theme.style("text"))
    };
    let mut facts = format!("{} · {}", row.when, size(s));
    if !s.model.is_empty() {
        facts.push_str(" · ");
        facts.push_str(&safe(&s.model));
    }
    let mut lines = vec![
        Line::from(vec![Span::styled(marker, theme.style("text")), title]),
        Line::styled(
            format!("{:INDENT$}{}", "", truncate(&facts, room)),
            theme.style("text.dim"),
        ),
    ];
    if !row.snippet.is_empty() {
        let mut spans = vec![Span::raw(" ".repeat(INDENT))];
        spans.extend(snippet_spans(&row.snippet, theme, room));
        lines.push(Line::from(spans));
    }
    lines
}

/// The snippet in at most `cells` cells: matched words in `search.match`, the rest dim. When
/// the first match would fall past the edge, the words before it are cut from the left.
fn snippet_spans(snippet: &[(String, bool)], theme: &Theme, cells: usize) -> Vec<Span<'static>> {
    // The spaces around a match are kept: only line breaks become spaces.
    let mut parts: Vec<(String, bool)> = snippet
        .iter()
        .map(|(part, matched)| {
            let part = text::inert(&part.replace(['\n', '\r', '\t'], " ")).into_owned();
            (part, *matched)
        })
        .collect();
    if let Some(first) = parts.iter().position(|(_, matched)| *matched) {
        let before: String = parts[..first].iter().map(|(p, _)| p.as_str()).collect();
        if width(&before) + width(&parts[first].0) > cells {
            // From a word's start: "…long " rather than "…r its long ".
            let lead = truncate_start(&before, cells / 3);
            let lead = match lead.trim_start_matches('…').split_once(' ') {
                Some((_, rest)) if !rest.trim().is_empty() => format!("…{rest}"),
                _ => lead,
            };
            parts.splice(..first, [(lead, false)]);
        }
    }
    let mut spans = Vec::new();
    let mut left = cells;
    for (part, matched) in parts {
        if left == 0 {
            break;
        }
        let shown = if width(&part) > left {
            truncate(&part, left)
        } else {
            part
        };
        left = left.saturating_sub(width(&shown));
        let role = if matched { "search.match" } else { "text.dim" };
        spans.push(Span::styled(shown, theme.style(role)));
    }
    spans
}
