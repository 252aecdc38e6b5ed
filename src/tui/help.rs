//! The help overlay: every key binding, listed from the same table that dispatches keys.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use super::app::keys::{BINDINGS, Scope, label};
use super::chat::wrap;
use super::composer::commands::COMMANDS;
use super::theme::Theme;

const SCOPES: [Scope; 14] = [
    Scope::Global,
    Scope::Chat,
    Scope::ChatEmpty,
    Scope::Models,
    Scope::Plugins,
    Scope::Sessions,
    Scope::SessionSearch,
    Scope::SessionRename,
    Scope::Consent,
    Scope::Sampling,
    Scope::SamplingEdit,
    Scope::Form,
    Scope::Confirm,
    Scope::Help,
];

/// The key column's width when keys and help share a line.
const KEY_COLUMN: usize = 20;

/// Every line of the help for `width` columns: a section title, then `keys  what` rows (on
/// narrow screens the help goes on its own indented line under the keys).
pub fn lines(theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for scope in SCOPES {
        out.push(Line::styled(scope.title(), theme.style("help.section")));
        for b in BINDINGS.iter().filter(|b| b.scope == scope) {
            let mut keys: Vec<String> = Vec::new();
            for k in b.keys.iter().map(label) {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            row(&mut out, theme, width, keys.join(" "), b.help);
        }
        out.push(Line::default());
    }
    out.push(Line::styled(
        "Commands (type / in the input)",
        theme.style("help.section"),
    ));
    for c in COMMANDS {
        let usage = format!("/{} {}", c.name, c.args);
        row(&mut out, theme, width, usage.trim_end().to_string(), c.help);
    }
    out
}

fn row(out: &mut Vec<Line<'static>>, theme: &Theme, width: u16, keys: String, help: &'static str) {
    let key_style = theme.style("help.key");
    let text_style = theme.style("text");
    if usize::from(width) >= KEY_COLUMN + 30 && keys.chars().count() < KEY_COLUMN - 2 {
        out.push(Line::from(vec![
            Span::styled(format!("  {keys:<w$}", w = KEY_COLUMN - 2), key_style),
            Span::styled(help, text_style),
        ]));
        return;
    }
    out.push(Line::styled(format!("  {keys}"), key_style));
    for part in wrap(help, width.saturating_sub(4)) {
        out.push(Line::styled(format!("    {part}"), text_style));
    }
}

/// How many rows the help can scroll in an overlay for `size`.
pub fn max_scroll(theme: &Theme, size: Rect) -> u16 {
    let area = overlay(size);
    let inner = area.height.saturating_sub(2);
    (lines(theme, area.width.saturating_sub(2)).len() as u16).saturating_sub(inner)
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
    for (row, line) in lines(theme, inner.width)
        .iter()
        .skip(usize::from(scroll))
        .take(usize::from(inner.height))
        .enumerate()
    {
        buf.set_line(inner.x, inner.y + row as u16, line, inner.width);
    }
}

/// The key table as Markdown, for docs/tui.md (a test keeps the two identical).
#[cfg(test)]
pub fn markdown() -> String {
    let mut out = String::new();
    for scope in SCOPES {
        out.push_str(&format!(
            "\n**{}**\n\n| Keys | Action |\n|---|---|\n",
            scope.title()
        ));
        for b in BINDINGS.iter().filter(|b| b.scope == scope) {
            let mut keys: Vec<String> = Vec::new();
            for k in b.keys.iter().map(label) {
                let k = format!("`{k}`");
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            out.push_str(&format!("| {} | {} |\n", keys.join(" "), b.help));
        }
    }
    out.push_str("\n**Commands** (type `/` in the input; Tab completes)\n\n| Command | Action |\n|---|---|\n");
    for c in COMMANDS {
        let usage = format!("/{} {}", c.name, c.args);
        out.push_str(&format!("| `{}` | {} |\n", usage.trim_end(), c.help));
    }
    out
}

#[cfg(test)]
mod tests {
    const BEGIN: &str = "<!-- keys:begin -->";
    const END: &str = "<!-- keys:end -->";

    /// The user guide lists exactly the bindings the app dispatches.
    #[test]
    fn user_guide_matches_the_key_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/tui.md");
        let doc = std::fs::read_to_string(path).expect("docs/tui.md exists");
        let start = doc
            .find(BEGIN)
            .expect("docs/tui.md has the keys:begin marker")
            + BEGIN.len();
        let end = doc.find(END).expect("docs/tui.md has the keys:end marker");
        let expected = super::markdown();
        assert!(
            doc[start..end].trim() == expected.trim(),
            "docs/tui.md's key table is out of date; replace it with:\n{expected}"
        );
    }
}
