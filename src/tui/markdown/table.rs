//! Tables: cells collected while parsing, then laid out in a box-drawn grid whose column
//! widths come from the content and shrink (cells word-wrap) to fit the width. When even one
//! column per cell cannot fit, rows are stacked as `header: value` lines instead.
//! Rows may be ragged (a table still streaming in); missing cells render empty.

use pulldown_cmark::Alignment;
use ratatui::style::Style;
use ratatui::text::Span;
use unicode_width::UnicodeWidthStr;

use super::wrap::{Frag, Row, row_width, wrap};

/// Columns of border and padding: `│ a │ b │` is 3 per column plus 1.
const fn overhead(columns: usize) -> usize {
    3 * columns + 1
}

/// A table being parsed: rows of cells of styled text; the first row is the header.
#[derive(Debug, Default)]
pub(super) struct Table {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<Vec<Frag>>>,
    current: Vec<Vec<Frag>>,
}

/// The styles a table is drawn with.
pub(super) struct TableStyles {
    /// Lines and corners.
    pub border: Style,
}

impl Table {
    /// An empty table with the given column alignments.
    pub(super) fn new(aligns: Vec<Alignment>) -> Table {
        Table {
            aligns,
            ..Table::default()
        }
    }

    /// Adds a finished cell to the current row.
    pub(super) fn push_cell(&mut self, cell: Vec<Frag>) {
        self.current.push(cell);
    }

    /// Finishes the current row.
    pub(super) fn end_row(&mut self) {
        self.rows.push(std::mem::take(&mut self.current));
    }

    fn columns(&self) -> usize {
        self.rows.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// The table's lines, each at most `width` columns.
    pub(super) fn render(mut self, width: usize, styles: &TableStyles) -> Vec<Row> {
        if !self.current.is_empty() {
            self.end_row();
        }
        let columns = self.columns();
        if columns == 0 {
            return Vec::new();
        }
        if width < overhead(columns) + columns {
            return self.stacked(width);
        }
        let natural = self.widest(columns, cell_width);
        let words = self.widest(columns, word_width);
        let widths = fit(&natural, &words, width - overhead(columns));
        let grid = Grid {
            widths: &widths,
            aligns: &self.aligns,
            border: styles.border,
        };
        let mut out = vec![grid.rule('┌', '┬', '┐')];
        for (i, row) in self.rows.iter().enumerate() {
            if i == 1 {
                out.push(grid.rule('├', '┼', '┤'));
            }
            out.extend(grid.row(row));
        }
        out.push(grid.rule('└', '┴', '┘'));
        out
    }

    /// Per column, the largest `measure` of its cells.
    fn widest(&self, columns: usize, measure: fn(Option<&Vec<Frag>>) -> usize) -> Vec<usize> {
        (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| measure(r.get(c)))
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Each body row as `header: value` lines, rows apart by a blank line.
    fn stacked(&self, width: usize) -> Vec<Row> {
        let Some((head, body)) = self.rows.split_first() else {
            return Vec::new();
        };
        if body.is_empty() {
            return head.iter().flat_map(|cell| wrap(cell, width)).collect();
        }
        let mut out = Vec::new();
        for (i, row) in body.iter().enumerate() {
            if i > 0 {
                out.push(Vec::new());
            }
            for (c, cell) in row.iter().enumerate() {
                let mut frags = head.get(c).cloned().unwrap_or_default();
                if !frags.is_empty() {
                    frags.push((": ".to_string(), Style::default()));
                }
                frags.extend(cell.iter().cloned());
                out.extend(wrap(&frags, width));
            }
        }
        out
    }
}

fn cell_width(cell: Option<&Vec<Frag>>) -> usize {
    cell.map_or(0, |frags| frags.iter().map(|(t, _)| t.width()).sum())
}

/// The width of a cell's longest word: the narrowest it goes without breaking words.
fn word_width(cell: Option<&Vec<Frag>>) -> usize {
    let text: String = cell.map_or_else(String::new, |frags| {
        frags.iter().map(|(t, _)| t.as_str()).collect()
    });
    text.split_whitespace().map(str::width).max().unwrap_or(0)
}

/// Column widths (each at least 1) summing to at most `avail`, which must be at least the
/// column count. Columns get their longest word first when all such words fit, then the
/// rest is shared out: columns wanting less than a fair share get what they want, the
/// others split what is left.
fn fit(natural: &[usize], words: &[usize], avail: usize) -> Vec<usize> {
    let natural: Vec<usize> = natural.iter().map(|&w| w.max(1)).collect();
    if natural.iter().sum::<usize>() <= avail {
        return natural;
    }
    let words: Vec<usize> = words
        .iter()
        .zip(&natural)
        .map(|(&w, &n)| w.clamp(1, n))
        .collect();
    let base = if words.iter().sum::<usize>() <= avail {
        words
    } else {
        vec![1; natural.len()]
    };
    let wants: Vec<usize> = natural.iter().zip(&base).map(|(n, b)| n - b).collect();
    let extra = share_out(&wants, avail - base.iter().sum::<usize>());
    base.iter().zip(extra).map(|(b, e)| b + e).collect()
}

/// Splits `budget` (less than the sum of `wants`) between columns by water-filling.
fn share_out(wants: &[usize], budget: usize) -> Vec<usize> {
    let mut out = vec![0; wants.len()];
    let mut open: Vec<usize> = (0..wants.len()).collect();
    let mut budget = budget;
    loop {
        let share = budget / open.len().max(1);
        let (small, wide): (Vec<usize>, Vec<usize>) =
            open.iter().partition(|&&c| wants[c] <= share);
        if small.is_empty() || wide.is_empty() {
            let extra = budget - share * open.len();
            for (i, &c) in open.iter().enumerate() {
                out[c] = (share + usize::from(i < extra)).min(wants[c]);
            }
            return out;
        }
        for &c in &small {
            out[c] = wants[c];
            budget -= wants[c];
        }
        open = wide;
    }
}

/// The geometry of a laid-out table.
struct Grid<'a> {
    widths: &'a [usize],
    aligns: &'a [Alignment],
    border: Style,
}

impl Grid<'_> {
    /// A horizontal border line with the given corner and joint characters.
    fn rule(&self, left: char, joint: char, right: char) -> Row {
        let mut s = String::from(left);
        for (i, w) in self.widths.iter().enumerate() {
            if i > 0 {
                s.push(joint);
            }
            s.push_str(&"─".repeat(w + 2));
        }
        s.push(right);
        vec![Span::styled(s, self.border)]
    }

    /// The lines of one row: every cell wrapped to its column, padded to the row's height.
    fn row(&self, cells: &[Vec<Frag>]) -> Vec<Row> {
        let wrapped: Vec<Vec<Row>> = self
            .widths
            .iter()
            .enumerate()
            .map(|(c, &w)| cells.get(c).map_or_else(Vec::new, |cell| wrap(cell, w)))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(0).max(1);
        (0..height)
            .map(|line| {
                let mut out = vec![Span::styled("│", self.border)];
                for (c, &w) in self.widths.iter().enumerate() {
                    let content = wrapped[c].get(line).cloned().unwrap_or_default();
                    out.push(Span::raw(" "));
                    out.extend(self.align(content, w, c));
                    out.push(Span::raw(" "));
                    out.push(Span::styled("│", self.border));
                }
                out
            })
            .collect()
    }

    /// `content` padded to `width` as column `column` is aligned.
    fn align(&self, content: Row, width: usize, column: usize) -> Row {
        let pad = width.saturating_sub(row_width(&content));
        let (before, after) = match self.aligns.get(column) {
            Some(Alignment::Right) => (pad, 0),
            Some(Alignment::Center) => (pad / 2, pad - pad / 2),
            Some(Alignment::Left | Alignment::None) | None => (0, pad),
        };
        let mut out = Vec::with_capacity(content.len() + 2);
        if before > 0 {
            out.push(Span::raw(" ".repeat(before)));
        }
        out.extend(content);
        if after > 0 {
            out.push(Span::raw(" ".repeat(after)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn fit_keeps_natural_widths_when_they_fit() {
        assert_eq!(fit(&[3, 0, 5], &[3, 0, 5], 20), vec![3, 1, 5]);
    }

    #[test]
    fn fit_keeps_whole_words_when_they_fit() {
        assert_eq!(fit(&[16, 10, 27], &[16, 6, 7], 30), vec![16, 7, 7]);
        assert_eq!(fit(&[16, 10, 27], &[16, 6, 7], 40), vec![16, 10, 14]);
    }

    #[test]
    fn fit_shrinks_only_wide_columns() {
        assert_eq!(fit(&[3, 40, 30], &[3, 40, 30], 23), vec![3, 10, 10]);
        assert_eq!(fit(&[3, 40, 30], &[3, 40, 30], 24), vec![3, 11, 10]);
    }

    #[test]
    fn fit_splits_evenly_when_all_are_wide() {
        assert_eq!(fit(&[9, 9, 9], &[9, 9, 9], 7), vec![3, 2, 2]);
    }
}
