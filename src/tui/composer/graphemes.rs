//! Text primitives shared by editing and rendering: grapheme boundaries, logical lines, word
//! classes and display widths. Every byte index here is assumed to lie on a char boundary;
//! the functions return grapheme boundaries.

use ratatui::buffer::CellWidth;
use unicode_segmentation::{GraphemeCursor, UnicodeSegmentation};

/// How many cells a tab takes on screen; it is shown as that many spaces.
const TAB_WIDTH: usize = 4;

/// The grapheme boundary before `pos` (0 at the start).
pub(super) fn prev_boundary(text: &str, pos: usize) -> usize {
    let mut cursor = GraphemeCursor::new(pos, text.len(), true);
    cursor.prev_boundary(text, 0).ok().flatten().unwrap_or(0)
}

/// The grapheme boundary after `pos` (the text's length at the end).
pub(super) fn next_boundary(text: &str, pos: usize) -> usize {
    let mut cursor = GraphemeCursor::new(pos, text.len(), true);
    cursor
        .next_boundary(text, 0)
        .ok()
        .flatten()
        .unwrap_or(text.len())
}

/// `pos` if it is a grapheme boundary, else the next boundary (an edit can merge graphemes).
pub(super) fn snap(text: &str, pos: usize) -> usize {
    let mut cursor = GraphemeCursor::new(pos, text.len(), true);
    if cursor.is_boundary(text, 0).unwrap_or(true) {
        pos
    } else {
        next_boundary(text, pos)
    }
}

/// The start of the logical line holding `pos`.
pub(super) fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// The end of the logical line holding `pos` (the index of its `\n`, or the text's length).
pub(super) fn line_end(text: &str, pos: usize) -> usize {
    text[pos..].find('\n').map_or(text.len(), |i| pos + i)
}

/// What a grapheme is shown as, and its width in cells. Tabs become spaces and other control
/// characters a replacement mark: the terminal must never receive them raw.
pub(super) fn glyph(grapheme: &str) -> (&str, usize) {
    if let [byte] = grapheme.as_bytes() {
        return match byte {
            b'\t' => ("    ", TAB_WIDTH),
            byte if byte.is_ascii_control() => ("\u{FFFD}", 1),
            _ => (grapheme, 1),
        };
    }
    if grapheme.contains(char::is_control) {
        ("\u{FFFD}", 1)
    } else {
        (grapheme, usize::from(grapheme.cell_width()))
    }
}

/// The display width of `text`, which holds no newline.
pub(super) fn width(text: &str) -> usize {
    text.graphemes(true).map(|g| glyph(g).1).sum()
}

/// The position in `text[start..end]` (one logical line) closest to display column `column`
/// without passing it.
pub(super) fn at_column(text: &str, start: usize, end: usize, column: usize) -> usize {
    let mut used = 0;
    for (i, g) in text[start..end].grapheme_indices(true) {
        let w = glyph(g).1;
        if used + w > column {
            return start + i;
        }
        used += w;
    }
    end
}

/// Word movement stops where the class changes: a word is a run of letters, digits and `_`,
/// or a run of other symbols; whitespace separates words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Space,
    Word,
    Symbol,
}

/// The class of a grapheme, from its first char.
pub(super) fn class(grapheme: &str) -> Class {
    match grapheme.chars().next() {
        Some(c) if c.is_whitespace() => Class::Space,
        Some(c) if c.is_alphanumeric() || c == '_' => Class::Word,
        _ => Class::Symbol,
    }
}

/// The start of the word before `pos`, skipping whitespace first (crosses lines).
pub(super) fn word_start(text: &str, pos: usize) -> usize {
    let mut graphemes = text[..pos].grapheme_indices(true).rev().peekable();
    while graphemes
        .next_if(|(_, g)| class(g) == Class::Space)
        .is_some()
    {}
    let Some(&(mut start, first)) = graphemes.peek() else {
        return 0;
    };
    let kind = class(first);
    for (i, g) in graphemes {
        if class(g) != kind {
            break;
        }
        start = i;
    }
    start
}

/// The end of the word after `pos`, skipping whitespace first (crosses lines).
pub(super) fn word_end(text: &str, pos: usize) -> usize {
    let mut graphemes = text[pos..].grapheme_indices(true).peekable();
    while graphemes
        .next_if(|(_, g)| class(g) == Class::Space)
        .is_some()
    {}
    let Some(&(_, first)) = graphemes.peek() else {
        return text.len();
    };
    let kind = class(first);
    for (i, g) in graphemes {
        if class(g) != kind {
            return pos + i;
        }
    }
    text.len()
}
