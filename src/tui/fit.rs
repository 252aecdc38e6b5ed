//! Fitting a pane into whatever cells it gets: the framed block, display-width truncation with
//! an ellipsis, word wrapping, columns that drop from the right, and sharing a pane's rows
//! among its sections by priority. Shared by the model and plugin panes.
//!
//! Invariant: nothing here writes outside the `Rect` it is given, so panes never panic on any
//! size down to 1×1 (or 0×0).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::tui::theme::Theme;

/// Draws the bordered block titled `title` (focus roles when `focused`); returns its inside.
pub(crate) fn frame(
    title: &str,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
    focused: bool,
) -> Rect {
    let area = area.intersection(buf.area);
    let (title_role, border_role) = if focused {
        ("title.focus", "border.focus")
    } else {
        ("title", "border")
    };
    let block = Block::bordered()
        .border_style(theme.style(border_role))
        .title(Line::styled(title.to_string(), theme.style(title_role)));
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

/// A dialog's place when centred in `area`: its width (at most `max_width`), its tallest
/// height, and the cells inside its border; None when `area` is too small for one.
pub(crate) fn modal(area: Rect, max_width: u16) -> Option<(u16, u16, usize)> {
    let margin = if area.width < 50 { 1 } else { 2 };
    let w = area.width.saturating_sub(2 * margin).min(max_width);
    let max_h = area.height.saturating_sub(2);
    (w >= 12 && max_h >= 5).then(|| (w, max_h, usize::from(w - 2)))
}

/// Draws `lines` in a bordered dialog `w` wide, titled `title`, centred in `area` and as tall
/// as its lines need up to `max_h` (see [`modal`]).
pub(crate) fn draw_modal(
    buf: &mut Buffer,
    theme: &Theme,
    area: Rect,
    (w, max_h): (u16, u16),
    title: &str,
    lines: &[Line<'_>],
) {
    let h = (rows(lines.len()) + 2).min(max_h);
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    ratatui::widgets::Clear.render(rect, buf);
    let block = Block::bordered()
        .border_style(theme.style("border.focus"))
        .style(theme.style("popup"))
        .title(Line::styled(
            truncate(title, usize::from(w.saturating_sub(2))),
            theme.style("title.focus"),
        ));
    let inner = block.inner(rect);
    block.render(rect, buf);
    draw_lines(buf, inner, lines);
}

/// The number of terminal cells `s` takes.
pub(crate) fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` cells, ending in "…" when something was cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `s` cut to at most `max` cells from the left ("…/models/x.gguf"): the end of a path matters most.
pub(crate) fn truncate_start(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut kept: Vec<char> = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        kept.push(c);
        used += w;
    }
    std::iter::once('…').chain(kept.into_iter().rev()).collect()
}

/// `s` truncated or padded with spaces to exactly `cells` cells, on the left when `right`.
pub(crate) fn cell(s: &str, cells: usize, right: bool) -> String {
    let s = truncate(s, cells);
    let pad = " ".repeat(cells.saturating_sub(width(&s)));
    if right { pad + &s } else { s + &pad }
}

/// `s` word-wrapped into at most `max_lines` lines of `cells` cells; the last one ends in "…"
/// when text was left over. Words longer than a line are cut.
pub(crate) fn wrap(s: &str, cells: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in s.split_whitespace() {
        let joined = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if width(&joined) <= cells || current.is_empty() {
            current = joined;
            continue;
        }
        lines.push(std::mem::replace(&mut current, word.to_string()));
    }
    if !current.is_empty() {
        lines.push(current);
    }
    let overflow = lines.len() > max_lines;
    lines.truncate(max_lines);
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter_mut().enumerate() {
        if overflow && i == last {
            *line = truncate(&format!("{line} …"), cells);
        } else {
            *line = truncate(line, cells);
        }
    }
    lines
}

/// How a list row is split: the name's cells, then how many optional columns follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowLayout {
    /// Cells for the name column.
    pub name_cells: usize,
    /// How many of the optional columns are shown, from the left.
    pub shown: usize,
}

/// Splits `cells` after a `prefix`: no optional `columns` unless `wide`, else as many as
/// leave the name `name_min` cells (each after a one-cell gap); the name then takes what its
/// `longest` value needs, or everything left when no column is shown.
pub(crate) fn row_layout(
    cells: usize,
    wide: bool,
    (prefix, name_min, longest): (usize, usize, usize),
    columns: &[usize],
) -> RowLayout {
    // The first column (the size) needs only a short name beside it; later columns are shown
    // only while the whole name still fits, so names are cut last.
    let mut spent_cols = 0;
    let mut shown = 0;
    for (i, w) in columns.iter().take_while(|_| wide).enumerate() {
        let name = if i == 0 {
            name_min
        } else {
            longest.max(name_min)
        };
        if prefix + name + spent_cols + w + 1 > cells {
            break;
        }
        spent_cols += w + 1;
        shown += 1;
    }
    let spent: usize = columns[..shown].iter().map(|w| w + 1).sum();
    let rest = cells.saturating_sub(prefix + spent);
    let name_cells = if shown > 0 {
        rest.min(longest.max(4))
    } else {
        rest
    };
    RowLayout { name_cells, shown }
}

/// Cells joined by one space, each `(text, width, right-aligned)`: a header or a row's text.
pub(crate) fn join_cells(cells: &[(&str, usize, bool)]) -> String {
    let parts: Vec<String> = cells
        .iter()
        .map(|&(t, w, right)| cell(t, w, right))
        .collect();
    parts.join(" ")
}

/// Draws a list into `rect`: `header` when there are at least three rows, then the rows
/// (`row(i)` for `i < count`) scrolled so `selected` is in view, that row in `selection`.
pub(crate) fn draw_list(
    buf: &mut Buffer,
    rect: Rect,
    header: Option<Line<'static>>,
    (count, selected): (usize, usize),
    row: impl Fn(usize) -> Line<'static>,
    selection: Style,
) {
    let mut lines: Vec<Line<'static>> = header.filter(|_| rect.height >= 3).into_iter().collect();
    let top = lines.len();
    let visible = usize::from(rect.height).saturating_sub(top);
    if visible == 0 {
        return;
    }
    let offset = (selected + 1).saturating_sub(visible);
    lines.extend((offset..count.min(offset + visible)).map(row));
    draw_lines(buf, rect, &lines);
    if selected < count {
        let y = rect.y.saturating_add(rows(top + selected - offset));
        buf.set_style(Rect::new(rect.x, y, rect.width, 1), selection);
    }
}

/// Shares `budget` rows among sections. Each ask `(section, total)` raises that section's
/// height toward `total`, in order, while rows remain; returns the rows left over. Asking
/// for the essentials of every section first makes the optional parts collapse first.
pub(crate) fn allocate(budget: u16, asks: &[(usize, u16)], heights: &mut [u16]) -> u16 {
    let mut left = budget;
    for &(section, total) in asks {
        let Some(height) = heights.get_mut(section) else {
            continue;
        };
        let grant = total.saturating_sub(*height).min(left);
        *height += grant;
        left -= grant;
    }
    left
}

/// A line count as a row height, saturating.
pub(crate) fn rows(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Draws `lines` from the top of `rect`, one a row, clipped to it.
pub(crate) fn draw_lines(buf: &mut Buffer, rect: Rect, lines: &[Line<'_>]) {
    let rect = rect.intersection(buf.area);
    for (line, y) in lines.iter().zip(rect.top()..rect.bottom()) {
        buf.set_line(rect.x, y, line, rect.width);
    }
}

/// Draws `lines` from the top of `rect`, each centred across it, clipped to it.
pub(crate) fn draw_centered(buf: &mut Buffer, rect: Rect, lines: &[Line<'_>]) {
    let rect = rect.intersection(buf.area);
    for (line, y) in lines.iter().zip(rect.top()..rect.bottom()) {
        let pad = rect.width.saturating_sub(rows(line.width())) / 2;
        buf.set_line(rect.x + pad, y, line, rect.width - pad);
    }
}

/// The next `height` rows of `rect` below the rows already taken by `*top`; advances `*top`.
pub(crate) fn take_rows(rect: Rect, top: &mut u16, height: u16) -> Rect {
    let y = rect.y.saturating_add(*top);
    let height = height.min(rect.height.saturating_sub(*top));
    *top = top.saturating_add(height);
    Rect::new(rect.x, y, rect.width, height)
}

/// A progress bar `cells` wide: "█" for the done part, "░" for the rest.
pub(crate) fn bar(fraction: f64, cells: usize) -> String {
    let fraction = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    // Truncation is the point: a bar is full only when the work is.
    let done = ((cells as f64) * fraction) as usize;
    "█".repeat(done) + &"░".repeat(cells.saturating_sub(done))
}

/// Key hints, "Enter load · d download": keys in `help.key`, the rest dim; hints that do not
/// fit in `cells` are left out.
pub(crate) fn hints(hints: &[(&str, &str)], theme: &Theme, cells: usize) -> Line<'static> {
    let (key, dim) = (theme.style("help.key"), theme.style("text.dim"));
    let mut spans = Vec::new();
    let mut used = 0;
    for (i, (k, what)) in hints.iter().enumerate() {
        let sep = if i == 0 { "" } else { " · " };
        let w = width(sep) + width(k) + 1 + width(what);
        if used + w > cells {
            break;
        }
        used += w;
        spans.extend([
            Span::styled(sep, dim),
            Span::styled(k.to_string(), key),
            Span::styled(format!(" {what}"), dim),
        ]);
    }
    Line::from(spans)
}

/// A "─ title ────" separator line `cells` wide in `style`.
pub(crate) fn rule(title: &str, cells: usize, style: Style) -> Line<'static> {
    let head = truncate(&format!("─ {title} "), cells);
    let rest = "─".repeat(cells.saturating_sub(width(&head)));
    Line::from(Span::styled(head + &rest, style))
}

/// The cells of a details line's label column.
pub(crate) const LABEL_CELLS: usize = 14;

/// A "label  value" details line: the label in a fixed column, the value cut to fit `cells`.
pub(crate) fn field(
    label: &str,
    value: &str,
    cells: usize,
    styles: (Style, Style),
) -> Line<'static> {
    let label = cell(label, LABEL_CELLS.min(cells), false);
    let value = truncate(value, cells.saturating_sub(width(&label)));
    Line::from(vec![
        Span::styled(label, styles.0),
        Span::styled(value, styles.1),
    ])
}

/// What `draw` puts into a `width`×`height` buffer with a plain test theme, as text: one line
/// per row with trailing spaces trimmed (for pane snapshots).
#[cfg(test)]
pub(crate) fn drawn_text(
    width: u16,
    height: u16,
    draw: impl FnOnce(&Theme, Rect, &mut Buffer),
) -> String {
    let theme = Theme::from_roles(
        "test",
        "base16-ocean.dark",
        std::collections::HashMap::new(),
    );
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    draw(&theme, area, &mut buf);
    (0..height)
        .map(|y| {
            let line: String = (0..width).map(|x| buf[(x, y)].symbol()).collect();
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_counts_cells_and_marks_the_cut() {
        assert_eq!(truncate("smollm2", 10), "smollm2");
        assert_eq!(truncate("smollm2", 5), "smol…");
        assert_eq!(truncate("smollm2", 1), "…");
        assert_eq!(truncate("smollm2", 0), "");
        assert_eq!(truncate_start("/a/b/model.gguf", 8), "…el.gguf");
        assert_eq!(cell("ab", 4, true), "  ab");
        assert_eq!(cell("abcdef", 4, false), "abc…");
    }

    #[test]
    fn wrap_fills_lines_and_marks_leftovers() {
        assert_eq!(wrap("one two three", 7, 3), vec!["one two", "three"]);
        assert_eq!(wrap("one two three four", 7, 1), vec!["one tw…"]);
        assert_eq!(wrap("", 7, 2), Vec::<String>::new());
        assert_eq!(wrap("abcdefghij", 4, 2), vec!["abc…"]);
    }

    #[test]
    fn columns_drop_from_the_right_before_the_name_is_cut() {
        let layout = |cells, wide| {
            let l = row_layout(cells, wide, (3, 12, 20), &[7, 7, 6, 5]);
            (l.name_cells, l.shown)
        };
        assert_eq!(layout(38, true), (20, 1));
        assert_eq!(layout(78, true), (20, 4));
        assert_eq!(layout(20, true), (17, 0));
        assert_eq!(layout(78, false), (75, 0));
        assert_eq!(join_cells(&[("a", 2, false), ("b", 3, true)]), "a    b");
    }

    #[test]
    fn allocate_grants_in_order_until_rows_run_out() {
        let mut heights = [0u16; 3];
        let left = allocate(5, &[(0, 1), (2, 1), (0, 3), (1, 4)], &mut heights);
        assert_eq!((heights, left), ([3, 1, 1], 0));
        let mut heights = [0u16; 2];
        assert_eq!(allocate(9, &[(0, 2), (1, 3), (7, 1)], &mut heights), 4);
    }

    #[test]
    fn bar_is_full_only_when_done() {
        assert_eq!(bar(0.5, 4), "██░░");
        assert_eq!(bar(0.99, 4), "███░");
        assert_eq!(bar(2.0, 2), "██");
        assert_eq!(bar(f64::NAN, 2), "░░");
    }
}
