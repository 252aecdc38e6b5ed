//! Fitting styled text into columns: word wrapping for prose, hard wrapping for code and
//! truncation for prefixes. Invariant: no returned line is wider than the width asked for
//! (measured with unicode-width, grapheme by grapheme), even for a width of 1 and a
//! double-width character, which is then replaced by `…`.

use ratatui::style::Style;
use ratatui::text::Span;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// A run of text in one style; a `'\n'` inside it is a hard line break.
pub(super) type Frag = (String, Style);

/// One wrapped line: its spans, adjacent equal styles merged.
pub(super) type Row = Vec<Span<'static>>;

/// Stands in for a grapheme wider than the whole line.
const TOO_WIDE: &str = "…";

/// What a grapheme is, for wrapping.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    Space,
    Break,
}

/// A word or a run of spaces: styled pieces and their total width.
#[derive(Default)]
struct Token {
    pieces: Vec<Frag>,
    width: usize,
}

impl Token {
    fn push(&mut self, g: &str, style: Style) {
        self.width += g.width();
        match self.pieces.last_mut() {
            Some((text, s)) if *s == style => text.push_str(g),
            _ => self.pieces.push((g.to_string(), style)),
        }
    }
}

/// Lines being built, with the width of the current one.
struct Lines {
    width: usize,
    done: Vec<Row>,
    current: Vec<Frag>,
    used: usize,
}

impl Lines {
    fn new(width: usize) -> Lines {
        Lines {
            width: width.max(1),
            done: Vec::new(),
            current: Vec::new(),
            used: 0,
        }
    }

    fn append(&mut self, pieces: Vec<Frag>, width: usize) {
        self.used += width;
        self.current.extend(pieces);
    }

    fn newline(&mut self) {
        self.done.push(spans(std::mem::take(&mut self.current)));
        self.used = 0;
    }

    /// Appends grapheme by grapheme, breaking the line wherever the next one does not fit.
    fn append_broken(&mut self, pieces: Vec<Frag>) {
        for (text, style) in pieces {
            for g in text.graphemes(true) {
                let (g, w) = fitting(g, self.width);
                if self.used + w > self.width {
                    self.newline();
                }
                self.append(vec![(g.to_string(), style)], w);
            }
        }
    }

    fn finish(mut self) -> Vec<Row> {
        self.newline();
        self.done
    }
}

/// `g` and its width, or the stand-in when it cannot fit in `width` columns at all.
fn fitting(g: &str, width: usize) -> (&str, usize) {
    let w = g.width();
    if w > width {
        (TOO_WIDE, TOO_WIDE.width())
    } else {
        (g, w)
    }
}

fn kind(g: &str) -> Kind {
    if g == "\n" || g == "\r\n" {
        Kind::Break
    } else if g.chars().all(char::is_whitespace) {
        Kind::Space
    } else {
        Kind::Word
    }
}

/// Splits styled text into words, space runs and breaks.
fn tokens(frags: &[Frag]) -> Vec<(Kind, Token)> {
    let mut out: Vec<(Kind, Token)> = Vec::new();
    for (text, style) in frags {
        for g in text.graphemes(true) {
            let k = kind(g);
            match out.last_mut() {
                Some((last, token)) if *last == k && k != Kind::Break => token.push(g, *style),
                _ => {
                    let mut token = Token::default();
                    if k != Kind::Break {
                        token.push(g, *style);
                    }
                    out.push((k, token));
                }
            }
        }
    }
    out
}

/// Word-wraps `frags` to `width` columns; words wider than the line are broken anywhere.
/// Spaces at a wrap point are dropped. Empty input gives one empty line.
pub(super) fn wrap(frags: &[Frag], width: usize) -> Vec<Row> {
    let mut lines = Lines::new(width);
    let mut space: Option<Token> = None;
    for (k, token) in tokens(frags) {
        match k {
            Kind::Break => {
                lines.newline();
                space = None;
            }
            Kind::Space if lines.used > 0 => space = Some(token),
            Kind::Space => {}
            Kind::Word => {
                let gap = space.take().unwrap_or_default();
                if lines.used + gap.width + token.width <= lines.width {
                    lines.append(gap.pieces, gap.width);
                    lines.append(token.pieces, token.width);
                } else {
                    if lines.used > 0 {
                        lines.newline();
                    }
                    lines.append_broken(token.pieces);
                }
            }
        }
    }
    lines.finish()
}

/// Breaks `frags` into lines of exactly `width` columns (the last one shorter), keeping
/// every character, spaces included: for code, where word wrapping would mislead.
pub(super) fn hard_wrap(frags: Vec<Frag>, width: usize) -> Vec<Row> {
    let mut lines = Lines::new(width);
    lines.append_broken(frags);
    lines.finish()
}

/// Keeps the leading part of `row` that fits in `width` columns.
pub(super) fn truncate(row: Row, width: usize) -> Row {
    let mut out = Vec::new();
    let mut used = 0;
    for span in row {
        let mut kept = String::new();
        for g in span.content.graphemes(true) {
            let w = g.width();
            if used + w > width {
                break;
            }
            used += w;
            kept.push_str(g);
        }
        let full = kept.len() == span.content.len();
        if !kept.is_empty() {
            out.push(Span::styled(kept, span.style));
        }
        if !full {
            break;
        }
    }
    out
}

/// The display width of a row.
pub(super) fn row_width(row: &[Span<'_>]) -> usize {
    row.iter().map(|s| s.content.width()).sum()
}

/// Merges adjacent pieces of equal style into spans.
fn spans(pieces: Vec<Frag>) -> Row {
    let mut out: Vec<Frag> = Vec::new();
    for (text, style) in pieces {
        match out.last_mut() {
            Some((t, s)) if *s == style => t.push_str(&text),
            _ => out.push((text, style)),
        }
    }
    out.into_iter()
        .map(|(text, style)| Span::styled(text, style))
        .collect()
}
