//! Syntax highlighting of fenced code blocks with syntect. The syntax and theme sets load
//! once per process; colours go through [`Theme::color`] so they match the terminal's colour
//! support. Any failure (unknown language, unknown theme, a highlighter error) degrades to
//! plain text in the block's base style, never to an error.

use std::sync::OnceLock;

use ratatui::style::{Modifier, Style};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Style as SynStyle, ThemeSet};
use syntect::parsing::{SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

use super::wrap::Frag;
use crate::tui::theme::Theme;

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
/// when syntect knows it, otherwise plain in `base`.
pub(super) fn highlight(
    code: &str,
    lang: Option<&str>,
    theme: &Theme,
    base: Style,
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
    let mut highlighter = HighlightLines::new(syntax, syn_theme);
    let mut out = Vec::new();
    for line in LinesWithEndings::from(code) {
        match highlighter.highlight_line(line, &assets.syntaxes) {
            Ok(ranges) => out.push(
                ranges
                    .into_iter()
                    .filter_map(|(style, text)| piece(style, text, theme, base))
                    .collect(),
            ),
            Err(_) => out.push(plain_line(line, base)),
        }
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
