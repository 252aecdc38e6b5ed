//! Markdown for the chat pane: an assistant's answer as wrapped, styled terminal lines.
//! Rendering is a pure function of the text, the width and the theme, safe on any prefix of
//! an answer still streaming in (an unclosed fence, half a table, a dangling `**`).
//! Invariant: every line is at most `width` display columns wide; the input is trusted to
//! hold no control characters and none are added.

mod highlight;
mod table;
mod wrap;
mod writer;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use ratatui::text::Line;

use crate::tui::theme::Theme;
pub use highlight::Highlights;
use writer::Writer;

/// The markdown extensions an answer may use.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// `text` rendered as lines at most `width` columns wide, styled with `theme`'s
/// `markdown.*` roles and its syntax theme; no lines for a width of 0. The app renders
/// through [`render_cached`]; tests hold it to this.
#[cfg(test)]
pub fn render(text: &str, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    render_with(text, width, theme, None, 0)
}

/// What [`render`] gives, taking code blocks highlighted by earlier renders of this text (at
/// another width) or of a prefix of it (an answer streaming) from `memo`.
pub fn render_cached(
    text: &str,
    width: u16,
    theme: &Theme,
    memo: &mut Highlights,
) -> Vec<Line<'static>> {
    render_with(text, width, theme, Some(memo), 0)
}

/// [`render_cached`] for a part of a longer text whose earlier parts hold `first_block` code
/// blocks, so that each block keeps its number in `memo` however the text is cut.
pub fn render_cached_from(
    text: &str,
    width: u16,
    theme: &Theme,
    memo: &mut Highlights,
    first_block: usize,
) -> Vec<Line<'static>> {
    render_with(text, width, theme, Some(memo), first_block)
}

fn render_with(
    text: &str,
    width: u16,
    theme: &Theme,
    memo: Option<&mut Highlights>,
    first_block: usize,
) -> Vec<Line<'static>> {
    if width == 0 {
        return Vec::new();
    }
    let mut writer = Writer::new(theme, usize::from(width), memo, first_block);
    for event in Parser::new_ext(text, options()) {
        writer.event(event);
    }
    writer.finish()
}

/// The contents of the fenced and indented code blocks of `text`, in order, each without
/// its final newline (for copying a code block).
pub fn code_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new_ext(text, options()) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_) | CodeBlockKind::Indented)) => {
                current = Some(String::new());
            }
            Event::Text(t) => {
                if let Some(code) = &mut current {
                    code.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(mut code) = current.take() {
                    if code.ends_with('\n') {
                        code.pop();
                    }
                    blocks.push(code);
                }
            }
            _ => {}
        }
    }
    blocks
}

#[cfg(test)]
mod tests;
