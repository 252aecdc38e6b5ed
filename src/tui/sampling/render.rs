//! Drawing the sampling dialog: a pure function of the dialog, the theme and the area it is
//! centred in. Everything the plugin or the model wrote goes through `text::inert`.

use libre_assistant::text::inert;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::{SamplingDialog, Stage};
use crate::tui::chat::wrap;
use crate::tui::fit;
use crate::tui::theme::Theme;

/// The widest the dialog gets.
const MAX_WIDTH: u16 = 76;
/// Lines of the system prompt shown at most.
const SYSTEM_LINES: usize = 3;

/// Draws `dialog` as a modal centred in `area`.
pub fn render(dialog: &SamplingDialog, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    let Some((w, max_h, cells)) = fit::modal(area, MAX_WIDTH) else {
        return;
    };
    let (title, lines, _) = body(dialog, theme, cells, usize::from(max_h - 2));
    fit::draw_modal(buf, theme, area, (w, max_h), title, &lines);
}

/// The title and the lines for `cells` columns and at most `rows` rows (the head, as much of
/// the text as fits from the scroll position, then the keys), and how far the text can scroll.
fn body(
    dialog: &SamplingDialog,
    theme: &Theme,
    cells: usize,
    rows: usize,
) -> (&'static str, Vec<Line<'static>>, u16) {
    let styles = (theme.style("text.dim"), theme.style("text"));
    let field = |label: &str, value: &str| fit::field(label, value, cells, styles);
    let (title, head, text, keys) = match &dialog.stage {
        Stage::Consent {
            request,
            max_tokens,
        } => {
            let mut head = vec![
                field("plugin", &inert(&request.plugin)),
                field("asks", "the model to write a message for it"),
                field("tokens", &tokens(request.max_tokens, *max_tokens)),
            ];
            if let Some(system) = &request.system_prompt {
                head.push(field("system", ""));
                head.extend(
                    fit::wrap(&inert(system), cells, SYSTEM_LINES)
                        .into_iter()
                        .map(|l| Line::styled(l, styles.1)),
                );
            }
            head.push(fit::rule("messages", cells, theme.style("title")));
            let mut text = Vec::new();
            for (user, message) in &request.messages {
                let who = if *user { "user" } else { "assistant" };
                text.extend(wrap(&inert(&format!("{who}: {message}")), cells as u16));
            }
            let keys = vec![
                ("y", "let the model write"),
                ("n/Esc", "reject"),
                ("e", "edit the last message"),
            ];
            (" A plugin asks for the model ", head, text, keys)
        }
        Stage::Review { plugin, text } => {
            let head = vec![
                field("plugin", &inert(plugin)),
                fit::rule("the model wrote", cells, theme.style("title")),
            ];
            let text = wrap(&inert(text), cells as u16);
            let keys = vec![
                ("y", "send it to the plugin"),
                ("n/Esc", "reject"),
                ("e", "edit"),
            ];
            (" Send the model's message? ", head, text, keys)
        }
    };
    // While editing, the draft takes the text's place.
    let (title, head, text, keys) = match &dialog.draft {
        None => (title, head, text, keys),
        Some(draft) => {
            let (title, what, send) = match &dialog.stage {
                Stage::Consent { .. } => (
                    " Edit the message to the model ",
                    "the last message, your edit",
                    "let the model answer it",
                ),
                Stage::Review { .. } => {
                    (" Edit the model's message ", "your edit", "send your edit")
                }
            };
            let mut head = head;
            head.truncate(1);
            head.push(fit::rule(what, cells, theme.style("title")));
            let text = wrap(&format!("{}▏", inert(draft)), cells as u16);
            let keys = vec![("Enter", send), ("Ctrl+U", "clear"), ("Esc", "back")];
            (title, head, text, keys)
        }
    };
    let mut head = head;
    let room = rows.saturating_sub(head.len() + 2).max(1);
    let max_top = text.len().saturating_sub(room);
    // While editing, the end (where the typing goes) stays in view.
    let top = match dialog.editing() {
        true => max_top,
        false => usize::from(dialog.scroll).min(max_top),
    };
    let shown = text.len().saturating_sub(top).min(room);
    head.extend(
        text[top..top + shown]
            .iter()
            .map(|l| Line::styled(l.clone(), theme.style("chat.tool"))),
    );
    if shown < text.len() {
        let more = format!(
            "… lines {}–{} of {} · ↑↓ scroll",
            top + 1,
            top + shown,
            text.len()
        );
        head.push(Line::styled(fit::truncate(&more, cells), styles.0));
    } else {
        head.push(Line::default());
    }
    head.push(fit::hints(&keys, theme, cells));
    (title, head, u16::try_from(max_top).unwrap_or(u16::MAX))
}

/// "up to 100" or "up to 512 (asked for 4000; the answer length caps it)".
fn tokens(asked: u32, capped: u32) -> String {
    if asked > capped {
        format!("up to {capped} (asked for {asked}; the answer length caps it)")
    } else {
        format!("up to {capped}")
    }
}

/// How far the dialog's text can scroll when drawn centred in `area` (for the keys).
pub fn max_scroll(dialog: &SamplingDialog, theme: &Theme, area: Rect) -> u16 {
    match fit::modal(area, MAX_WIDTH) {
        Some((_, max_h, cells)) => body(dialog, theme, cells, usize::from(max_h - 2)).2,
        None => 0,
    }
}
