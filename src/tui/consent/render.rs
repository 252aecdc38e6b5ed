//! Drawing the consent dialog: a pure function of the queue, the theme and the area it is
//! centred in. Everything the plugin or the model wrote (description, arguments) goes through
//! `text::inert` and is cut to the dialog, never shown raw.

use libre_assistant::core::CallRequest;
use libre_assistant::text::inert;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use super::ConsentQueue;
use crate::tui::fit::{self, cell, truncate, width};
use crate::tui::theme::Theme;

/// The widest the dialog gets.
const MAX_WIDTH: u16 = 72;
/// Below this screen width the dialog takes all of it but a one-cell margin each side.
const NARROW: u16 = 50;
/// The label column of "label value" lines.
const LABEL_CELLS: usize = 9;
/// The description shows at most this many lines.
const DESCRIPTION_LINES: usize = 3;
/// The arguments show at most this many lines.
const ARGUMENT_LINES: usize = 10;
/// The answers, as (key, what it does).
const CHOICES: [(&str, &str); 4] = [
    ("y", "allow once"),
    ("s", "this session"),
    ("a", "always"),
    ("n", "deny"),
];

/// Draws the first waiting request as a modal centred in `area`; nothing when none waits.
pub fn render(queue: &ConsentQueue, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(request) = queue.current() else {
        return;
    };
    let area = area.intersection(buf.area);
    let margin = if area.width < NARROW { 1 } else { 2 };
    let w = area.width.saturating_sub(2 * margin).min(MAX_WIDTH);
    let max_h = area.height.saturating_sub(2);
    if w < 8 || max_h < 3 {
        return;
    }
    let cells = usize::from(w - 2);
    let lines = body(request, theme, cells, usize::from(max_h - 2));
    let h = (fit::rows(lines.len()) + 2).min(max_h);
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    Clear.render(rect, buf);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border.focus"))
        .style(theme.style("popup"))
        .title(Line::styled(
            " Allow tool call? ",
            theme.style("title.focus"),
        ));
    let waiting = queue.waiting();
    if waiting > 0 {
        block = block.title_bottom(Line::styled(
            format!(" {waiting} more waiting "),
            theme.style("text.dim"),
        ));
    }
    let inner = block.inner(rect);
    block.render(rect, buf);
    fit::draw_lines(buf, inner, &lines);
}

/// The dialog's lines for `cells` columns, fitted into `rows` where it can be: the
/// arguments give way first, then the description.
fn body(request: &CallRequest, theme: &Theme, cells: usize, rows: usize) -> Vec<Line<'static>> {
    let styles = (theme.style("text.dim"), theme.style("text"));
    let mut head = vec![
        field("plugin", &inert(&request.plugin), cells, styles),
        field("tool", &inert(&request.tool), cells, styles),
    ];
    if request.changed {
        let warning = "⚠ this tool changed since you approved it";
        head.extend(
            fit::wrap(warning, cells, 2)
                .into_iter()
                .map(|l| Line::styled(l, theme.style("warning"))),
        );
    }
    let mut tail = vec![Line::styled(
        truncate("permissions", cells),
        theme.style("title"),
    )];
    tail.extend(permissions(request, cells, styles));
    tail.push(Line::default());
    tail.extend(choices(theme, cells));
    let room = rows.saturating_sub(head.len() + tail.len());
    let description = fit::wrap(
        &inert(&request.description),
        cells,
        DESCRIPTION_LINES.min(room.saturating_sub(2)),
    );
    let room = room.saturating_sub(description.len());
    let arguments = arguments(request, cells, ARGUMENT_LINES.min(room.saturating_sub(1)));
    let mut lines = head;
    lines.extend(
        description
            .into_iter()
            .map(|l| Line::styled(l, theme.style("text.dim"))),
    );
    if !arguments.is_empty() {
        lines.push(Line::styled(
            truncate("arguments", cells),
            theme.style("title"),
        ));
        lines.extend(
            arguments
                .into_iter()
                .map(|l| Line::styled(l, theme.style("chat.tool"))),
        );
    }
    lines.extend(tail);
    lines
}

/// The arguments as pretty JSON, inert, each line cut to `cells`, at most `max` lines (the
/// last saying how many more there are).
fn arguments(request: &CallRequest, cells: usize, max: usize) -> Vec<String> {
    if max == 0 {
        return Vec::new();
    }
    let json = serde_json::to_string_pretty(&request.arguments).unwrap_or_default();
    let json = inert(&json);
    let all: Vec<&str> = json.lines().collect();
    if all.len() <= max {
        return all.iter().map(|l| truncate(l, cells)).collect();
    }
    let mut out: Vec<String> = all[..max - 1].iter().map(|l| truncate(l, cells)).collect();
    out.push(truncate(
        &format!("… {} more lines", all.len() - (max - 1)),
        cells,
    ));
    out
}

/// What the plugin's manifest declares: read and write paths, network; "none declared".
fn permissions(request: &CallRequest, cells: usize, styles: (Style, Style)) -> Vec<Line<'static>> {
    let p = &request.permissions;
    if p.read.is_empty() && p.write.is_empty() && !p.network {
        return vec![Line::styled(truncate("none declared", cells), styles.1)];
    }
    let mut out = Vec::new();
    if !p.read.is_empty() {
        out.push(field("read", &inert(&p.read.join(", ")), cells, styles));
    }
    if !p.write.is_empty() {
        out.push(field("write", &inert(&p.write.join(", ")), cells, styles));
    }
    out.push(field(
        "network",
        if p.network { "yes" } else { "no" },
        cells,
        styles,
    ));
    out
}

/// The answers as "y allow once  s this session …", packed into as few lines as fit.
fn choices(theme: &Theme, cells: usize) -> Vec<Line<'static>> {
    let (key_style, text_style) = (theme.style("help.key"), theme.style("text"));
    let mut lines = Vec::new();
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (key, what) in CHOICES {
        let key = if key == "n" { "n/Esc" } else { key };
        let cost = width(key) + 1 + width(what) + 2;
        if used > 0 && used + cost > cells + 2 {
            lines.push(Line::from(std::mem::take(&mut spans)));
            used = 0;
        }
        if used > 0 {
            spans.push(Span::styled("  ", text_style));
        }
        spans.push(Span::styled(key.to_string(), key_style));
        spans.push(Span::styled(format!(" {what}"), text_style));
        used += cost;
    }
    if !spans.is_empty() {
        lines.push(Line::from(spans));
    }
    lines
}

/// A "label    value" line, the value cut to fit.
fn field(label: &str, value: &str, cells: usize, styles: (Style, Style)) -> Line<'static> {
    let label = cell(label, LABEL_CELLS.min(cells), false);
    let value = truncate(value, cells.saturating_sub(width(&label)));
    Line::from(vec![
        Span::styled(label, styles.0),
        Span::styled(value, styles.1),
    ])
}
