//! The frame: a pure function from the UI state to a buffer (and where the cursor goes).

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};

use super::layout::{self, Areas, Pane};
use super::state::State;
use super::theme::Theme;
use super::{chat, composer, consent, form, help, models, plugins, sampling, sessions, status};

/// The rows the input may grow to, at most.
const COMPOSER_MAX_LINES: u16 = 10;

/// Where the chat pane puts the transcript and the input.
pub fn chat_split(state: &State, area: Rect) -> (Rect, Rect) {
    let max = COMPOSER_MAX_LINES.min(area.height / 3).max(1);
    let h = composer::render::height(&state.composer, area.width, max).min(area.height);
    let transcript = Rect::new(area.x, area.y, area.width, area.height - h);
    let input = Rect::new(area.x, area.y + transcript.height, area.width, h);
    (transcript, input)
}

/// The screen's areas for the state.
pub fn areas(state: &State, size: Rect) -> Areas {
    layout::areas(size, state.focus, state.side_panel)
}

/// Draws everything; returns where the terminal cursor should be.
pub fn render(state: &State, size: Rect, buf: &mut Buffer) -> Option<Position> {
    let theme = &state.theme;
    buf.set_style(size, theme.style("text"));
    let a = areas(state, size);
    if a.too_small {
        let msg = format!(
            "terminal too small ({}×{}): enlarge it",
            size.width, size.height
        );
        let rows = chat::wrap(&msg, size.width);
        for (row, line) in rows.iter().take(usize::from(size.height)).enumerate() {
            buf.set_string(size.x, size.y + row as u16, line, theme.style("warning"));
        }
        return None;
    }
    if let Some(tabs) = a.tabs {
        render_tabs(state.focus, theme, tabs, buf);
    }
    let mut cursor = None;
    if let Some(area) = a.chat {
        cursor = render_chat(state, area, buf);
    }
    if let Some(area) = a.models {
        models::render(&state.models, theme, area, buf, state.focus == Pane::Models);
    }
    if let Some(area) = a.plugins {
        plugins::render(
            &state.plugins,
            theme,
            area,
            buf,
            state.focus == Pane::Plugins,
        );
    }
    if let Some(area) = a.sessions {
        sessions::render(
            &state.sessions,
            theme,
            area,
            buf,
            state.focus == Pane::Sessions,
        );
    }
    status::render(&state.status, theme, a.status, buf);
    if state.consent.is_open() {
        // Over everything but the status bar, which says the app waits for an answer.
        let above = Rect::new(size.x, size.y, size.width, a.status.y - size.y);
        consent::render(&state.consent, theme, above, buf);
        cursor = None;
    } else if let Some(dialog) = &state.sampling {
        let above = Rect::new(size.x, size.y, size.width, a.status.y - size.y);
        sampling::render(dialog, theme, above, buf);
        cursor = None;
    } else if state.forms.is_open() {
        let above = Rect::new(size.x, size.y, size.width, a.status.y - size.y);
        form::render(&state.forms, theme, above, buf);
        cursor = None;
    }
    if let Some(scroll) = state.help {
        help::render(theme, scroll, size, buf);
        return None;
    }
    cursor
}

fn render_chat(state: &State, area: Rect, buf: &mut Buffer) -> Option<Position> {
    let (transcript, input) = chat_split(state, area);
    chat::render(&state.chat, &state.theme, transcript, buf);
    let focused = state.focus == Pane::Chat
        && state.help.is_none()
        && !state.consent.is_open()
        && state.sampling.is_none()
        && !state.forms.is_open();
    let view = composer::render::ComposerView {
        focused,
        placeholder: placeholder(state, area.width),
        busy: state.busy(),
    };
    let cursor = composer::render::render(&state.composer, &state.theme, input, buf, view);
    if focused {
        composer::render::render_completions(&state.composer, &state.theme, transcript, buf);
    }
    cursor
}

fn placeholder(state: &State, width: u16) -> &'static str {
    match (state.busy(), width >= 70) {
        (true, true) => "Generating… Esc stops it; you can write the next message meanwhile",
        (true, false) => "Esc stops the answer",
        (false, true) => "Ask anything · Enter sends · Alt+Enter new line · / commands · F1 keys",
        (false, false) => "Ask anything · F1 keys",
    }
}

fn render_tabs(focus: Pane, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let mut spans = Vec::new();
    for (i, pane) in Pane::ALL.iter().enumerate() {
        let role = if *pane == focus { "tab.active" } else { "tab" };
        let marker = if *pane == focus { "▸" } else { " " };
        spans.push(Span::styled(
            format!("{marker}{} {} ", i + 1, pane.title()),
            theme.style(role),
        ));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}
