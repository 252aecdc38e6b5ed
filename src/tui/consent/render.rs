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
use crate::tui::chat::wrap;
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

/// Where the dialog goes in `area`, and the rows its inside may take; None when too small.
fn frame(area: Rect) -> Option<(u16, u16, usize)> {
    let margin = if area.width < NARROW { 1 } else { 2 };
    let w = area.width.saturating_sub(2 * margin).min(MAX_WIDTH);
    let max_h = area.height.saturating_sub(2);
    (w >= 8 && max_h >= 3).then(|| (w, max_h, usize::from(w - 2)))
}

/// How far the arguments can scroll in a dialog centred in `area`.
pub fn max_scroll(queue: &ConsentQueue, theme: &Theme, area: Rect) -> u16 {
    match (queue.current(), frame(area)) {
        (Some(request), Some((_, max_h, cells))) => {
            body(request, theme, cells, usize::from(max_h - 2), u16::MAX).1
        }
        _ => 0,
    }
}

/// Draws the first waiting request as a modal centred in `area`; nothing when none waits.
pub fn render(queue: &ConsentQueue, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(request) = queue.current() else {
        return;
    };
    let area = area.intersection(buf.area);
    let Some((w, max_h, cells)) = frame(area) else {
        return;
    };
    let (lines, _) = body(request, theme, cells, usize::from(max_h - 2), queue.scroll);
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

/// The dialog's lines for `cells` columns, fitted into `rows` where it can be (the
/// arguments give way first, then the description), and how far the arguments can scroll.
fn body(
    request: &CallRequest,
    theme: &Theme,
    cells: usize,
    rows: usize,
    scroll: u16,
) -> (Vec<Line<'static>>, u16) {
    let styles = (theme.style("text.dim"), theme.style("text"));
    let mut head = vec![
        field("plugin", &inert(&request.plugin), cells, styles),
        field("tool", &inert(&request.tool), cells, styles),
    ];
    let hints = request.hints.words();
    if let Some(title) = &request.hints.title {
        head.push(field("title", &inert(title), cells, styles));
    }
    if !hints.is_empty() {
        let style = if request.hints.destructive() {
            (styles.0, theme.style("warning"))
        } else {
            styles
        };
        head.push(field("declares", &hints.join(", "), cells, style));
    }
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
    tail.extend(choices(theme, cells, !request.hints.destructive()));
    let room = rows.saturating_sub(head.len() + tail.len());
    let description = fit::wrap(
        &inert(&request.description),
        cells,
        DESCRIPTION_LINES.min(room.saturating_sub(2)),
    );
    let room = room.saturating_sub(description.len());
    let budget = ARGUMENT_LINES.min(room.saturating_sub(1));
    let (arguments, max_scroll) = arguments(request, cells, budget, scroll);
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
        let (body, hint) = (theme.style("chat.tool"), theme.style("text.dim"));
        let last = arguments.len() - 1;
        lines.extend(arguments.into_iter().enumerate().map(|(i, l)| {
            let style = if max_scroll > 0 && i == last {
                hint
            } else {
                body
            };
            Line::styled(l, style)
        }));
    }
    lines.extend(tail);
    (lines, max_scroll)
}

/// The arguments as pretty JSON, inert and wrapped to `cells`: at most `max` lines from
/// `scroll` on, the last saying which lines show when they do not all fit; and how far they
/// can scroll.
fn arguments(request: &CallRequest, cells: usize, max: usize, scroll: u16) -> (Vec<String>, u16) {
    if max == 0 || cells == 0 {
        return (Vec::new(), 0);
    }
    let json = serde_json::to_string_pretty(&request.arguments).unwrap_or_default();
    let all = wrap(&inert(&json), cells as u16);
    if all.len() <= max {
        return (all, 0);
    }
    let window = (max - 1).max(1);
    let max_scroll = all.len().saturating_sub(window);
    let top = usize::from(scroll).min(max_scroll);
    let mut out: Vec<String> = all[top..top + window].to_vec();
    if max > 1 {
        let hint = format!(
            "… lines {}–{} of {} · ↑↓ scroll",
            top + 1,
            top + window,
            all.len()
        );
        out.push(truncate(&hint, cells));
    }
    (out, max_scroll as u16)
}

/// What the plugin's manifest declares: read and write paths, network; "none declared".
fn permissions(request: &CallRequest, cells: usize, styles: (Style, Style)) -> Vec<Line<'static>> {
    let p = &request.permissions;
    if p.read.is_empty() && p.write.is_empty() && !p.network {
        return vec![
            Line::styled(truncate("none declared", cells), styles.1),
            field("sandbox", &request.sandbox, cells, styles),
        ];
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
    out.push(field("sandbox", &request.sandbox, cells, styles));
    out
}

/// The answers as "y allow once  s this session …", packed into as few lines as fit; "always"
/// only when `always` (never for a tool declared destructive).
fn choices(theme: &Theme, cells: usize, always: bool) -> Vec<Line<'static>> {
    let (key_style, text_style) = (theme.style("help.key"), theme.style("text"));
    let mut lines = Vec::new();
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (key, what) in CHOICES {
        if key == "a" && !always {
            continue;
        }
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
