//! The status bar: model, context used, speed of the last answer, and what is going on.

use libre_assistant::engine::Placement;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::state::{Activity, Status};
use super::theme::{ColorMode, Theme};

/// Draws the status bar into the one-row `area`.
pub fn render(status: &Status, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    // Without colour the bar is told apart from the chat by reverse video.
    let base = match theme.mode() {
        ColorMode::None => theme.style("status").add_modifier(Modifier::REVERSED),
        _ => theme.style("status"),
    };
    buf.set_style(area, base);
    let (state, busy) = match &status.activity {
        Activity::Idle => ("idle".to_string(), false),
        Activity::Generating => ("generating".to_string(), true),
        Activity::Loading(f) => (format!("loading {:.0}%", f * 100.0), true),
        Activity::Downloading(f) => (format!("downloading {:.0}%", f * 100.0), true),
        Activity::NoModel => ("no model".to_string(), false),
        Activity::AwaitingConsent => ("waiting for you".to_string(), true),
        Activity::WaitingForCores => ("waiting for another instance".to_string(), true),
    };
    let mut spans = vec![Span::styled(
        format!(" {state} "),
        theme.style(if busy { "status.busy" } else { "status" }),
    )];
    if let Some((text, error)) = &status.flash {
        let role = if *error { "status.error" } else { "status" };
        spans.push(Span::styled(format!("│ {text} "), theme.style(role)));
    } else {
        spans.extend(facts(status, theme, area.width < 60));
    }
    let help = " F1 help ";
    let line = Line::from(spans);
    let room = area.width.saturating_sub(help.width() as u16);
    buf.set_line(area.x, area.y, &line, area.width);
    if line.width() as u16 <= room && area.width > help.width() as u16 {
        buf.set_string(area.x + room, area.y, help, theme.style("help.key"));
    }
}

/// The model, context and speed; narrow bars put the figures before the (long) model name.
fn facts(status: &Status, theme: &Theme, narrow: bool) -> Vec<Span<'static>> {
    let model = status.model.as_deref().unwrap_or("no model");
    let name = Span::styled(format!("│ {model} "), theme.style("status.model"));
    let mut figures = Vec::new();
    // Where the model runs; a narrow bar leaves out only "local".
    match &status.runs {
        Some(Placement::Local) if narrow => {}
        Some(runs) => figures.push(Span::styled(format!("│ {runs} "), theme.style("status"))),
        None => {}
    }
    if status.context > 0 {
        let label = if narrow { "" } else { "ctx " };
        figures.push(Span::styled(
            format!("│ {label}{}/{} ", status.used, status.context),
            theme.style("status"),
        ));
    }
    if let Some(tps) = status.last_tps {
        figures.push(Span::styled(
            format!("│ {tps:.1} t/s "),
            theme.style("status"),
        ));
    }
    if status.tools_off {
        figures.push(Span::styled(
            "│ tools off for this model ".to_string(),
            theme.style("status"),
        ));
    }
    if narrow {
        figures.push(name);
        figures
    } else {
        let mut out = vec![name];
        out.extend(figures);
        out
    }
}
