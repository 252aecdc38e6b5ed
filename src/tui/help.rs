//! The help overlay: every key binding, listed from the same table that dispatches keys.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use super::app::keys::{BINDINGS, Scope, label};
use super::composer::commands::COMMANDS;
use super::theme::Theme;

const SCOPES: [Scope; 7] = [
    Scope::Global,
    Scope::Chat,
    Scope::ChatEmpty,
    Scope::Models,
    Scope::Plugins,
    Scope::Confirm,
    Scope::Help,
];

/// Every line of the help, unstyled by width: a section title, then `keys  what`.
pub fn lines(theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for scope in SCOPES {
        out.push(Line::styled(scope.title(), theme.style("help.section")));
        for b in BINDINGS.iter().filter(|b| b.scope == scope) {
            let keys: Vec<String> = b.keys.iter().map(label).collect();
            out.push(Line::from(vec![
                Span::styled(format!("  {:<18}", keys.join(" ")), theme.style("help.key")),
                Span::styled(b.help, theme.style("text")),
            ]));
        }
        out.push(Line::default());
    }
    out.push(Line::styled(
        "Commands (type / in the input)",
        theme.style("help.section"),
    ));
    for c in COMMANDS {
        out.push(Line::from(vec![
            Span::styled(
                format!("  /{:<17}", format!("{} {}", c.name, c.args)),
                theme.style("help.key"),
            ),
            Span::styled(c.help, theme.style("text")),
        ]));
    }
    out
}

/// How many rows the help can scroll in an overlay for `size`.
pub fn max_scroll(theme: &Theme, size: Rect) -> u16 {
    let inner = overlay(size).height.saturating_sub(2);
    (lines(theme).len() as u16).saturating_sub(inner)
}

fn overlay(size: Rect) -> Rect {
    let w = size.width.min(72);
    let h = size.height.saturating_sub(1);
    Rect::new(size.x + (size.width - w) / 2, size.y, w, h)
}

/// Draws the help over everything, scrolled by `scroll` rows.
pub fn render(theme: &Theme, scroll: u16, size: Rect, buf: &mut Buffer) {
    let area = overlay(size);
    if area.width < 4 || area.height < 3 {
        return;
    }
    Clear.render(area, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border.focus"))
        .title(Span::styled(
            " Keys · Esc closes ",
            theme.style("title.focus"),
        ))
        .style(theme.style("popup"));
    let inner = block.inner(area);
    block.render(area, buf);
    for (row, line) in lines(theme)
        .iter()
        .skip(usize::from(scroll))
        .take(usize::from(inner.height))
        .enumerate()
    {
        buf.set_line(inner.x, inner.y + row as u16, line, inner.width);
    }
}
