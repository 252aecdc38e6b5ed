//! Drawing the elicitation dialog: a pure function of the queue, the theme and the area it is
//! centred in. Everything the server wrote (message, titles, descriptions, options, the URL)
//! goes through `text::inert`.

use libre_assistant::plugins::form::{Field, Filled, Kind};
use libre_assistant::plugins::host::Elicit;
use libre_assistant::text::inert;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{FormDialog, FormQueue};
use crate::tui::fit;
use crate::tui::theme::Theme;

/// The widest the dialog gets.
const MAX_WIDTH: u16 = 76;
/// Lines of the server's message shown at most.
const MESSAGE_LINES: usize = 3;

/// Draws the first waiting request as a modal centred in `area`; nothing when none waits.
pub fn render(queue: &FormQueue, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(dialog) = queue.current() else {
        return;
    };
    let area = area.intersection(buf.area);
    let Some((w, max_h, cells)) = fit::modal(area, MAX_WIDTH) else {
        return;
    };
    let lines = body(dialog, theme, cells, usize::from(max_h - 2));
    let title = format!(" {} asks for your input ", inert(&dialog.request.plugin));
    fit::draw_modal(buf, theme, area, (w, max_h), &title, &lines);
}

/// The dialog's lines for `cells` columns in at most `rows` rows: the message, the fields
/// around the cursor (or the URL), the error, the keys.
fn body(dialog: &FormDialog, theme: &Theme, cells: usize, rows: usize) -> Vec<Line<'static>> {
    let styles = (theme.style("text.dim"), theme.style("text"));
    let mut lines: Vec<Line<'static>> =
        fit::wrap(&inert(&dialog.request.message), cells, MESSAGE_LINES)
            .into_iter()
            .map(|l| Line::styled(l, styles.1))
            .collect();
    let mut tail = Vec::new();
    if let Some(error) = &dialog.error {
        tail.extend(
            fit::wrap(&format!("✖ {}", inert(error)), cells, 2)
                .into_iter()
                .map(|l| Line::styled(l, theme.style("error"))),
        );
    }
    let keys: Vec<(&str, &str)> = match &dialog.request.kind {
        Elicit::Url { url } => {
            lines.push(Line::default());
            lines.push(fit::field("url", &inert(url), cells, styles));
            let (host, tricky) = host(url);
            let style = if tricky {
                theme.style("warning")
            } else {
                styles.1
            };
            lines.push(fit::field(
                "goes to",
                &inert(&host),
                cells,
                (styles.0, style),
            ));
            if tricky {
                let warning = "⚠ the part before @ is not where it goes";
                lines.push(Line::styled(
                    fit::truncate(warning, cells),
                    theme.style("warning"),
                ));
            }
            vec![
                ("Enter", "done"),
                ("o", "open"),
                ("c", "copy"),
                ("^D", "decline"),
                ("Esc", "cancel"),
            ]
        }
        Elicit::Form(form) => {
            lines.push(Line::default());
            let room = rows.saturating_sub(lines.len() + tail.len() + 2).max(1);
            lines.extend(fields(dialog, &form.fields, theme, cells, room));
            vec![
                ("Enter", "send"),
                ("Tab", "next"),
                ("←→", "choose"),
                ("Space", "toggle"),
                ("^D", "decline"),
                ("Esc", "cancel"),
            ]
        }
    };
    lines.extend(tail);
    lines.push(fit::hints(&keys, theme, cells));
    lines
}

/// One line per field (two for the focused one, with its description), in a window of
/// `room` rows that keeps the cursor in view.
fn fields(
    dialog: &FormDialog,
    fields: &[Field],
    theme: &Theme,
    cells: usize,
    room: usize,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let focused = i == dialog.focus;
        let mark = if focused { "› " } else { "  " };
        let star = if field.required { "*" } else { "" };
        let label = fit::cell(
            &format!("{mark}{}{star}", inert(&field.title)),
            24.min(cells / 2),
            false,
        );
        let value = value(field, focused, dialog.option);
        let style = theme.style(if focused { "text" } else { "text.dim" });
        out.push((
            i,
            Line::from(vec![
                Span::styled(label, style),
                Span::styled(
                    fit::truncate(&value, cells.saturating_sub(24.min(cells / 2))),
                    theme.style("text"),
                ),
            ]),
        ));
        if focused && let Some(description) = &field.description {
            let text = format!("  {}", inert(description));
            out.push((
                i,
                Line::styled(fit::truncate(&text, cells), theme.style("text.dim")),
            ));
        }
    }
    let at = out
        .iter()
        .position(|(i, _)| *i == dialog.focus)
        .unwrap_or(0);
    let start = (at + 2)
        .saturating_sub(room)
        .min(out.len().saturating_sub(room));
    out.into_iter()
        .skip(start)
        .take(room)
        .map(|(_, l)| l)
        .collect()
}

/// A field's value as shown: text with a cursor, `[x] yes`, `‹ option ›`, picked options.
fn value(field: &Field, focused: bool, option: usize) -> String {
    let cursor = if focused { "▏" } else { "" };
    match (&field.kind, &field.value) {
        (Kind::Text { format, .. }, Filled::Text(text)) => {
            if text.is_empty() && !focused {
                format
                    .as_deref()
                    .map(|f| format!("({f})"))
                    .unwrap_or_default()
            } else {
                format!("{}{cursor}", inert(text))
            }
        }
        (Kind::Number { min, max, .. }, Filled::Text(text)) => {
            let range = match (min, max) {
                (Some(a), Some(b)) => format!("  ({a}–{b})"),
                _ => String::new(),
            };
            format!("{}{cursor}{range}", inert(text))
        }
        (Kind::Bool, Filled::Bool(b)) => if *b { "[x] yes" } else { "[ ] no" }.to_owned(),
        (Kind::Choice(options), Filled::Choice(chosen)) => {
            let label = chosen
                .and_then(|i| options.get(i))
                .map_or("(none)".to_owned(), |(_, l)| inert(l).into_owned());
            format!("‹ {label} ›")
        }
        (Kind::Multi { options, .. }, Filled::Multi(picked)) => options
            .iter()
            .zip(picked)
            .enumerate()
            .map(|(i, ((_, label), p))| {
                let tick = if *p { "[x]" } else { "[ ]" };
                let here = if focused && i == option { "›" } else { "" };
                format!("{here}{tick} {}", inert(label))
            })
            .collect::<Vec<_>>()
            .join("  "),
        _ => String::new(),
    }
}

/// Where `url` goes (its host, without any user part), and whether it has a user part that
/// could pass for a host (`https://bank.example@evil.example/`).
pub fn host(url: &str) -> (String, bool) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((_, host)) => (host.to_owned(), true),
        None => (authority.to_owned(), false),
    }
}
