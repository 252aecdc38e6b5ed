//! Layout of the answer that is streaming, incrementally: tokens only ever append, so the
//! text is made inert and scanned for block boundaries one complete line at a time, and the
//! markdown before the last block boundary (which later tokens cannot change) is kept. When
//! the boundary moves, only the new blocks are rendered and appended, if they start apart
//! from what is before them (otherwise the whole head is rendered again). A token re-renders
//! only the tail after the boundary, so its cost does not grow with the answer.
//! Invariant: the lines equal what laying out the whole text at once would give.

use std::borrow::Cow;

use libre_assistant::text::inert;
use ratatui::text::Line;

use super::{Entry, assistant_label};
use crate::tui::markdown;
use crate::tui::theme::Theme;

/// What a streaming answer keeps between frames (for one width and theme).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Stream {
    /// The answer's text up to its last newline, made inert.
    shown: String,
    /// The bytes of the raw text that `shown` covers.
    raw: usize,
    /// Block boundaries in `shown`.
    blocks: Blocks,
    /// The boundary the head of the entry's lines was rendered for.
    committed: Option<usize>,
    /// How many of the entry's lines are the head: separator, label, committed body.
    head: usize,
    /// The committed body has no lines.
    head_empty: bool,
    /// Fenced code blocks in the committed text: the number of the next one in the entry's
    /// highlights, which number the blocks of the whole answer.
    head_blocks: usize,
}

/// Lays out the streaming answer `e`: head lines kept while its last block boundary stays,
/// the tail and the cursor rendered again.
pub(super) fn layout(e: &mut Entry, width: u16, theme: &Theme) {
    let s = e.stream.get_or_insert_with(Stream::default);
    if let Some(nl) = e.text[s.raw..].rfind('\n') {
        // Whole lines only: `inert` looks one character ahead (at "\r\n"), never past one.
        let end = s.raw + nl + 1;
        let from = s.shown.len();
        s.shown.push_str(&inert(&e.text[s.raw..end]));
        s.raw = end;
        s.blocks.feed(&s.shown, from);
    }
    let style = theme.style("chat.assistant");
    let boundary = s.blocks.boundary;
    let apart =
        |b: usize| b < boundary && !s.blocks.entangled && starts_apart(&s.shown[b..boundary]);
    match s.committed {
        Some(b) if b == boundary => e.lines.truncate(s.head),
        Some(b) if apart(b) => {
            e.lines.truncate(s.head);
            let body = markdown::render_cached_from(
                &s.shown[b..boundary],
                width,
                theme,
                &mut e.code,
                s.head_blocks,
            );
            if !s.head_empty && !body.is_empty() {
                e.lines.push(Line::default());
            }
            s.head_empty &= body.is_empty();
            e.lines
                .extend(body.into_iter().map(|l| l.patch_style(style)));
            s.committed = Some(boundary);
            s.head = e.lines.len();
            s.head_blocks = s.blocks.fences_at_boundary;
        }
        _ => head(e.first, s, &mut e.lines, &mut e.code, width, theme),
    }
    let partial = inert(&e.text[s.raw..]);
    let tail: Cow<str> = if partial.is_empty() {
        Cow::Borrowed(&s.shown[boundary..])
    } else {
        Cow::Owned(format!("{}{partial}", &s.shown[boundary..]))
    };
    let tail = markdown::render_cached_from(&tail, width, theme, &mut e.code, s.head_blocks);
    if !s.head_empty && !tail.is_empty() {
        e.lines.push(Line::default());
    }
    e.lines
        .extend(tail.into_iter().map(|l| l.patch_style(style)));
    e.lines.push(Line::styled("▍", style));
}

/// Renders the head from scratch: separator, label and every block before the boundary.
fn head(
    first: bool,
    s: &mut Stream,
    lines: &mut Vec<Line<'static>>,
    code: &mut markdown::Highlights,
    width: u16,
    theme: &Theme,
) {
    let boundary = s.blocks.boundary;
    lines.clear();
    if !first {
        lines.push(Line::default());
    }
    lines.push(assistant_label(theme));
    let body = markdown::render_cached(&s.shown[..boundary], width, theme, code);
    s.head_empty = body.is_empty();
    let style = theme.style("chat.assistant");
    lines.extend(body.into_iter().map(|l| l.patch_style(style)));
    s.committed = Some(boundary);
    s.head = lines.len();
    s.head_blocks = s.blocks.fences_at_boundary;
}

/// Blocks that start with this text render the same alone as after the text before them:
/// its first line cannot continue a list, an indented block or an HTML block (a blank line
/// ended everything else).
fn starts_apart(text: &str) -> bool {
    let Some(first) = text.lines().find(|l| !l.trim().is_empty()) else {
        return true;
    };
    first.chars().next().is_some_and(|c| {
        !c.is_whitespace() && !matches!(c, '-' | '*' | '+' | '<' | '[' | '0'..='9')
    })
}

/// A scan of text for block boundaries, fed whole lines as they arrive.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Blocks {
    /// The fence marker of the code block open at the end of the text so far.
    fence: Option<&'static str>,
    /// The byte offset just after the last blank line outside a fenced code block: text
    /// before it is a sequence of finished blocks that later text cannot change. 0 if none.
    pub(super) boundary: usize,
    /// Fenced code blocks opened so far, and before the boundary.
    fences: usize,
    fences_at_boundary: usize,
    /// A line outside code starts like HTML or a link reference definition, which can reach
    /// across blank lines or back to earlier blocks.
    entangled: bool,
}

impl Blocks {
    /// Scans `text[from..]`, whose lines are whole but for perhaps the last (the text before
    /// `from` was scanned already and ends with a newline).
    pub(super) fn feed(&mut self, text: &str, from: usize) {
        let mut offset = from;
        for line in text[from..].split_inclusive('\n') {
            let end = offset + line.len();
            let trimmed = line.trim_start_matches(' ');
            let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
            match (self.fence, marker) {
                (None, Some(m)) => {
                    self.fence = Some(m);
                    self.fences += 1;
                }
                (Some(open), Some(m)) if open == m => self.fence = None,
                _ => {}
            }
            if self.fence.is_none() && line.trim().is_empty() && line.ends_with('\n') {
                self.boundary = end;
                self.fences_at_boundary = self.fences;
            }
            if self.fence.is_none() && marker.is_none() {
                self.entangled |= trimmed.starts_with(['<', '[']);
            }
            offset = end;
        }
    }
}

/// The last block boundary of `text` (see [`Blocks::boundary`]).
#[cfg(test)]
pub(super) fn last_block_boundary(text: &str) -> usize {
    let mut blocks = Blocks::default();
    blocks.feed(text, 0);
    blocks.boundary
}
