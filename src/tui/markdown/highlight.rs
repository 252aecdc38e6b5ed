//! Syntax highlighting of fenced code blocks with syntect. The syntax and theme sets load
//! once per process; colours go through [`Theme::color`] so they match the terminal's colour
//! support. Any failure (unknown language, unknown theme, a highlighter error) degrades to
//! plain text in the block's base style, never to an error. [`Highlights`] keep a text's
//! highlighted code blocks between renders: a block that did not change (the width did) is
//! not highlighted again, and a block that grew (an answer streaming) is resumed where the
//! last render's whole lines ended, instead of highlighted again for every token.

use std::sync::OnceLock;

use ratatui::style::{Modifier, Style};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, HighlightState, Style as SynStyle, ThemeSet};
use syntect::parsing::{ParseState, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

use super::wrap::Frag;
use crate::tui::theme::{ColorMode, Theme};

/// What a code block was highlighted for: its language, base style, syntax theme and colours.
type MemoKey = (Option<String>, Style, String, ColorMode);

/// The highlighted code blocks of one text, in order, kept between its renders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Highlights(Vec<Memo>);

impl Highlights {
    /// The memo of the text's `k`th code block.
    pub(super) fn block(&mut self, k: usize) -> &mut Memo {
        if self.0.len() <= k {
            self.0.resize_with(k + 1, Memo::default);
        }
        &mut self.0[k]
    }
}

/// One code block as last highlighted, and the highlighter's state after its whole lines.
/// Resuming from a saved state gives exactly what highlighting from the start gives.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Memo {
    key: Option<MemoKey>,
    /// The block's text.
    code: String,
    /// The bytes of `code` that are whole lines (up to and with its last newline).
    whole: usize,
    /// The styled lines of `code`, the whole lines first.
    lines: Vec<Vec<Frag>>,
    /// How many of `lines` are whole lines.
    whole_lines: usize,
    /// The highlighter's state after the whole lines.
    state: Option<(HighlightState, ParseState)>,
}

/// The syntect theme used when the app theme names one syntect does not know.
const FALLBACK_THEME: &str = "base16-ocean.dark";

/// syntect's bundled syntaxes and themes, loaded on first use.
struct Assets {
    syntaxes: SyntaxSet,
    themes: ThemeSet,
}

fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| Assets {
        syntaxes: SyntaxSet::load_defaults_newlines(),
        themes: ThemeSet::load_defaults(),
    })
}

/// The language named by a fence's info string (`rust`, `rust,ignore`, `{.python}`), if any.
pub(super) fn language(info: &str) -> Option<&str> {
    let lang = info
        .split(|c: char| c.is_whitespace() || c == ',')
        .next()?
        .trim_matches(|c| c == '{' || c == '}' || c == '.');
    (!lang.is_empty()).then_some(lang)
}

/// The styled pieces of each line of `code` (newlines removed), highlighted as `lang`
/// when syntect knows it, otherwise plain in `base`. With a `memo` that holds this block, or
/// its start, only the lines after that are highlighted; the memo then holds this block.
pub(super) fn highlight(
    code: &str,
    lang: Option<&str>,
    theme: &Theme,
    base: Style,
    memo: Option<&mut Memo>,
) -> Vec<Vec<Frag>> {
    let assets = assets();
    let syntax = lang.and_then(|l| find_syntax(&assets.syntaxes, l));
    let syn_theme = assets
        .themes
        .themes
        .get(theme.syntax_theme())
        .or_else(|| assets.themes.themes.get(FALLBACK_THEME));
    let (Some(syntax), Some(syn_theme)) = (syntax, syn_theme) else {
        return plain(code, base);
    };
    let key = (
        lang.map(str::to_string),
        base,
        theme.syntax_theme().to_string(),
        theme.mode(),
    );
    let known = memo.as_deref().filter(|m| m.key.as_ref() == Some(&key));
    if let Some(m) = known.filter(|m| m.code == code) {
        return m.lines.clone();
    }
    let resumed = known.and_then(|m| match &m.state {
        Some((hs, ps)) if code.starts_with(&m.code[..m.whole]) => Some((
            m.whole,
            m.lines[..m.whole_lines].to_vec(),
            hs.clone(),
            ps.clone(),
        )),
        _ => None,
    });
    let (from, mut out, mut highlighter) = match resumed {
        Some((from, lines, hs, ps)) => (from, lines, HighlightLines::from_state(syn_theme, hs, ps)),
        None => (0, Vec::new(), HighlightLines::new(syntax, syn_theme)),
    };
    let whole = code.rfind('\n').map_or(0, |nl| nl + 1).max(from);
    let line_out =
        |h: &mut HighlightLines, line: &str| match h.highlight_line(line, &assets.syntaxes) {
            Ok(ranges) => ranges
                .into_iter()
                .filter_map(|(style, text)| piece(style, text, theme, base))
                .collect(),
            Err(_) => plain_line(line, base),
        };
    for line in LinesWithEndings::from(&code[from..whole]) {
        out.push(line_out(&mut highlighter, line));
    }
    let whole_lines = out.len();
    let (hs, ps) = highlighter.state();
    let state = memo.is_some().then(|| (hs.clone(), ps.clone()));
    let mut highlighter = HighlightLines::from_state(syn_theme, hs, ps);
    for line in LinesWithEndings::from(&code[whole..]) {
        out.push(line_out(&mut highlighter, line));
    }
    if let Some(memo) = memo {
        *memo = Memo {
            key: Some(key),
            code: code.to_string(),
            whole,
            lines: out.clone(),
            whole_lines,
            state,
        };
    }
    out
}

fn find_syntax<'a>(syntaxes: &'a SyntaxSet, lang: &str) -> Option<&'a SyntaxReference> {
    syntaxes
        .find_syntax_by_token(lang)
        .or_else(|| syntaxes.find_syntax_by_token(&lang.to_ascii_lowercase()))
}

/// One highlighted range as a piece: the syntect foreground and font style over `base`.
fn piece(style: SynStyle, text: &str, theme: &Theme, base: Style) -> Option<Frag> {
    let text = text.trim_end_matches(['\n', '\r']);
    if text.is_empty() {
        return None;
    }
    let fg = style.foreground;
    let mut out = match theme.color((fg.r, fg.g, fg.b)) {
        Some(color) => base.fg(color),
        None => base,
    };
    if style.font_style.contains(FontStyle::BOLD) {
        out = out.add_modifier(Modifier::BOLD);
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        out = out.add_modifier(Modifier::ITALIC);
    }
    if style.font_style.contains(FontStyle::UNDERLINE) {
        out = out.add_modifier(Modifier::UNDERLINED);
    }
    Some((text.to_string(), out))
}

fn plain_line(line: &str, base: Style) -> Vec<Frag> {
    let text = line.trim_end_matches(['\n', '\r']);
    if text.is_empty() {
        Vec::new()
    } else {
        vec![(text.to_string(), base)]
    }
}

fn plain(code: &str, base: Style) -> Vec<Vec<Frag>> {
    LinesWithEndings::from(code)
        .map(|line| plain_line(line, base))
        .collect()
}
