//! Draws the laid-out transcript: a pure function of the chat view.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{ChatView, Scroll};
use crate::tui::theme::Theme;

/// Draws the visible part of the transcript into `area`, with a hint when the view is not at
/// the end. Expects [`ChatView::layout`] to have run for `area.width`.
pub fn render(view: &ChatView, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let top = view.top(area.height);
    for (row, line) in view.lines(top, usize::from(area.height)).enumerate() {
        let y = area.y + row as u16;
        buf.set_line(area.x, y, line, area.width);
    }
    let below = view
        .total_lines()
        .saturating_sub(top + usize::from(area.height));
    if view.scroll() != Scroll::Follow && below > 0 {
        let hint = format!(" ↓ {below} more · End ");
        let w = hint.chars().count() as u16;
        if w <= area.width {
            let x = area.x + area.width - w;
            let y = area.y + area.height - 1;
            buf.set_string(
                x,
                y,
                hint,
                theme.style("status.busy").patch(theme.style("selection")),
            );
        }
    }
}
