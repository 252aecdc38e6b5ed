//! Word wrapping of the composer text into screen rows. Rendering, the height and the cursor
//! position all come from [`LineRows`], so the drawn cursor always sits where the text is.
//!
//! Invariants: a row is a byte range of one logical line and holds at most `width` cells,
//! except for one whitespace grapheme that may hang one cell past it (the caller keeps that
//! cell free) and a single grapheme wider than a whole row. Consecutive rows of a line touch;
//! a line ending in hanging whitespace is followed by an empty row. So every cursor position
//! maps to a column of at most `width`, unless a grapheme on its row is wider than that.

use unicode_segmentation::{GraphemeIndices, UnicodeSegmentation};

use super::graphemes::{Class, class, glyph, line_end, line_start};

/// One screen row: the byte range `start..end` of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Row {
    pub(super) start: usize,
    pub(super) end: usize,
}

/// The rows of one logical line, wrapped at word boundaries where possible.
pub(super) struct LineRows<'a> {
    graphemes: Graphemes<'a>,
    base: usize,
    end: usize,
    width: usize,
    start: usize,
    used: usize,
    /// Where the last word of the row starts, and the width before it.
    word: Option<(usize, usize)>,
    done: bool,
}

impl<'a> LineRows<'a> {
    /// The rows of the logical line `text[start..end]` at `width` cells (at least 1).
    pub(super) fn new(text: &'a str, start: usize, end: usize, width: usize) -> Self {
        LineRows {
            graphemes: Graphemes::new(&text[start..end]),
            base: start,
            end,
            width: width.max(1),
            start,
            used: 0,
            word: None,
            done: false,
        }
    }

    /// Ends the current row at `end` and starts the next at `next` with `used` cells taken.
    fn cut(&mut self, end: usize, next: usize, used: usize) -> Row {
        let row = Row {
            start: self.start,
            end,
        };
        self.start = next;
        self.used = used;
        self.word = None;
        row
    }
}

impl Iterator for LineRows<'_> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.done {
            return None;
        }
        for (i, g) in self.graphemes.by_ref() {
            let pos = self.base + i;
            let after = pos + g.len();
            let w = glyph(g).1;
            let space = class(g) == Class::Space;
            // An over-wide grapheme at the start of a row takes the row alone.
            if self.used + w <= self.width || self.used == 0 {
                self.used += w;
                if space {
                    self.word = Some((after, self.used));
                }
                continue;
            }
            if space && self.used + w <= self.width + 1 {
                return Some(self.cut(after, after, 0));
            }
            if space {
                let row = self.cut(pos, pos, w);
                self.word = Some((after, w));
                return Some(row);
            }
            return Some(match self.word {
                Some((word, before)) => self.cut(word, word, self.used - before + w),
                None => self.cut(pos, pos, w),
            });
        }
        self.done = true;
        Some(Row {
            start: self.start,
            end: self.end,
        })
    }
}

/// The graphemes of a line with their offsets. An ASCII line (the common case, and a huge
/// paste's) takes the fast path: there every byte is a grapheme, as newlines are `\n` only.
enum Graphemes<'a> {
    Ascii(&'a str, usize),
    Unicode(GraphemeIndices<'a>),
}

impl<'a> Graphemes<'a> {
    fn new(line: &'a str) -> Self {
        if line.is_ascii() {
            Graphemes::Ascii(line, 0)
        } else {
            Graphemes::Unicode(line.grapheme_indices(true))
        }
    }
}

impl<'a> Iterator for Graphemes<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        match self {
            Graphemes::Ascii(line, i) => {
                let at = *i;
                let grapheme = line.get(at..at + 1)?;
                *i += 1;
                Some((at, grapheme))
            }
            Graphemes::Unicode(graphemes) => graphemes.next(),
        }
    }
}

/// The number of rows `text` takes at `width`, counting at most `limit`.
pub(super) fn count_rows(text: &str, width: usize, limit: usize) -> usize {
    let mut count = 0;
    let mut start = 0;
    loop {
        let end = line_end(text, start);
        count += LineRows::new(text, start, end, width)
            .take(limit.saturating_sub(count))
            .count();
        if count >= limit || end == text.len() {
            return count.min(limit);
        }
        start = end + 1;
    }
}

/// The rows to show in `height` rows, with the cursor's row and column in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Window {
    pub(super) rows: Vec<Row>,
    pub(super) cursor_row: usize,
    pub(super) cursor_column: usize,
}

/// The rows around `cursor`: all of them when they fit, else the cursor's row centred where
/// the text allows (at the bottom when typing at the end). Only the lines near the cursor are
/// wrapped, so a huge draft costs the length of those lines, not of the whole text.
pub(super) fn window(text: &str, cursor: usize, width: usize, height: usize) -> Window {
    let height = height.max(1);
    let line = line_start(text, cursor);
    let current: Vec<Row> = LineRows::new(text, line, line_end(text, cursor), width).collect();
    let index = current
        .partition_point(|row| row.start <= cursor)
        .saturating_sub(1);
    let above = rows_above(text, line, width, height - 1);
    let below = rows_below(text, line_end(text, cursor), width, height - 1);
    let ahead = current.len() - index - 1 + below.len();
    let behind = index + above.len();
    let shown_ahead = ahead.min(height - 1 - behind.min((height - 1) / 2));
    let shown_behind = behind.min(height - 1 - shown_ahead);
    let rows: Vec<Row> = above
        .into_iter()
        .chain(current)
        .chain(below)
        .skip(behind - shown_behind)
        .take(height)
        .collect();
    let row = rows[shown_behind];
    Window {
        cursor_column: super::graphemes::width(&text[row.start..cursor]),
        rows,
        cursor_row: shown_behind,
    }
}

/// The last `want` (or fewer) rows of the lines before the line starting at `line`.
fn rows_above(text: &str, mut line: usize, width: usize, want: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    while line > 0 && rows.len() < want {
        let start = line_start(text, line - 1);
        let mut line_rows: Vec<Row> = LineRows::new(text, start, line - 1, width).collect();
        line_rows.append(&mut rows);
        rows = line_rows;
        line = start;
    }
    let extra = rows.len().saturating_sub(want);
    rows.split_off(extra)
}

/// The first `want` (or fewer) rows of the lines after the line ending at `end`.
fn rows_below(text: &str, mut end: usize, width: usize, want: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    while end < text.len() && rows.len() < want {
        let start = end + 1;
        end = line_end(text, start);
        rows.extend(LineRows::new(text, start, end, width).take(want - rows.len()));
    }
    rows
}
