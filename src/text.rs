//! Making untrusted text (model output, tool results, plugin descriptions) inert before it
//! reaches a terminal: nothing in it can move the cursor, clear the screen, set the clipboard
//! (OSC 52), retitle the window or reorder what is shown. Every control character becomes a
//! visible stand-in, so nothing is silently dropped either; text with nothing to change is
//! returned borrowed.

use std::borrow::Cow;

/// What a tab becomes: columns are not tracked, so a fixed width.
const TAB: &str = "    ";

/// `s` with every terminal control made visible and harmless.
///
/// ESC and the other C0 controls become their Unicode control pictures (`␛`, `␇`, …); a tab
/// becomes four spaces; `\r\n` becomes `\n` and a lone `\r` becomes `␍`; DEL becomes `␡`;
/// C1 controls (U+0080–U+009F, 8-bit CSI and OSC among them) and bidirectional overrides and
/// isolates (U+202A–U+202E, U+2066–U+2069) become U+FFFD. `\n` is kept.
pub fn inert(s: &str) -> Cow<'_, str> {
    let Some(first) = first_unsafe(s.as_bytes()) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..first]);
    let mut chars = s[first..].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str(TAB),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => out.push('\u{240D}'),
            '\u{0}'..='\u{1F}' => out.push(control_picture(c)),
            '\u{7F}' => out.push('\u{2421}'),
            '\u{80}'..='\u{9F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                out.push(char::REPLACEMENT_CHARACTER);
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The byte offset of the first character `inert` changes, found by a byte scan: a C0 control
/// other than `\n`, DEL, or the UTF-8 lead of a C1 control (`C2 80`–`C2 9F`) or of a
/// bidirectional control (`E2 80 AA`–`AE`, `E2 81 A6`–`A9`).
fn first_unsafe(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        let unsafe_here = match bytes[i] {
            b'\n' => false,
            0x00..=0x1F | 0x7F => true,
            0xC2 => matches!(bytes.get(i + 1), Some(0x80..=0x9F)),
            0xE2 => matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(0x80), Some(0xAA..=0xAE)) | (Some(0x81), Some(0xA6..=0xA9))
            ),
            _ => false,
        };
        if unsafe_here {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The Unicode control picture of a C0 control (`U+2400` + its code).
fn control_picture(c: char) -> char {
    char::from_u32(0x2400 + u32::from(c)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// `s` on one line: every run of whitespace (newlines included) becomes one space.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The 1-based line and column (in characters) of a byte offset into `text`, as error
/// messages give them (`file:line:col`).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `inert(s)`, owned or not, as a plain string with whether it was borrowed.
    fn run(s: &str) -> (String, bool) {
        let out = inert(s);
        let borrowed = matches!(out, Cow::Borrowed(_));
        (out.into_owned(), borrowed)
    }

    #[test]
    fn clean_text_is_borrowed() {
        for s in [
            "",
            "plain ascii, with\nnewlines\n",
            "emoji 👋🏽 and a family 👨‍👩‍👧",
            "中文字符、日本語のテキスト、한국어",
            "accents: é ü ñ, arrows → ←, box ─│┌",
            "U+2028 line separator \u{2028} and ZWJ \u{200D} stay",
        ] {
            assert_eq!(run(s), (s.to_owned(), true), "{s:?}");
        }
    }

    #[test]
    fn osc_52_clipboard_write_is_defused() {
        let (out, borrowed) = run("before\x1b]52;c;aGVsbG8=\x07after");
        assert_eq!(out, "before␛]52;c;aGVsbG8=␇after");
        assert!(!borrowed);
        assert!(!out.contains(['\x1b', '\x07']));
    }

    #[test]
    fn csi_sequences_are_defused() {
        assert_eq!(run("\x1b[2J\x1b[H"), ("␛[2J␛[H".to_owned(), false));
        assert_eq!(
            run("\x1b[31mred\x1b[0m"),
            ("␛[31mred␛[0m".to_owned(), false)
        );
    }

    #[test]
    fn eight_bit_controls_become_replacement_characters() {
        // 8-bit CSI (U+009B) clearing the screen, and 8-bit OSC (U+009D) … ST (U+009C).
        assert_eq!(run("a\u{9b}2Jb"), ("a\u{FFFD}2Jb".to_owned(), false));
        assert_eq!(
            run("\u{9d}0;title\u{9c}"),
            ("\u{FFFD}0;title\u{FFFD}".to_owned(), false)
        );
        assert_eq!(run("\u{80}\u{9f}"), ("\u{FFFD}\u{FFFD}".to_owned(), false));
        // Just outside the range: NBSP (U+00A0) and ¢ (C2 A2) stay.
        assert_eq!(run("\u{a0}¢"), ("\u{a0}¢".to_owned(), true));
    }

    #[test]
    fn c0_controls_become_control_pictures() {
        assert_eq!(run("\0\x01\x08\x0b\x0c\x1f"), ("␀␁␈␋␌␟".to_owned(), false));
        assert_eq!(run("rub\x7fout"), ("rub␡out".to_owned(), false));
    }

    #[test]
    fn line_endings_and_tabs() {
        assert_eq!(run("a\r\nb\r\n"), ("a\nb\n".to_owned(), false));
        assert_eq!(run("50%\rdone"), ("50%␍done".to_owned(), false));
        assert_eq!(run("trailing\r"), ("trailing␍".to_owned(), false));
        assert_eq!(run("\r\r\n"), ("␍\n".to_owned(), false));
        assert_eq!(run("a\tb"), ("a    b".to_owned(), false));
    }

    #[test]
    fn bidi_overrides_and_isolates_are_replaced() {
        // "Trojan Source": an RLO reorders what follows.
        let s = "access\u{202E} level\u{202C}; \u{2066}x\u{2069}";
        assert_eq!(
            run(s),
            (
                "access\u{FFFD} level\u{FFFD}; \u{FFFD}x\u{FFFD}".to_owned(),
                false
            )
        );
        let all: String = ('\u{202A}'..='\u{202E}')
            .chain('\u{2066}'..='\u{2069}')
            .collect();
        assert_eq!(run(&all), ("\u{FFFD}".repeat(9), false));
        // Neighbours of the ranges (U+2029, U+202F, U+2065, U+206A) stay.
        let near = "\u{2029}\u{202F}\u{2065}\u{206A}";
        assert_eq!(run(near), (near.to_owned(), true));
    }

    #[test]
    fn text_around_controls_is_kept_whole() {
        let s = "日本\x1b[1m語 👋\u{9b}é\tend";
        assert_eq!(run(s), ("日本␛[1m語 👋\u{FFFD}é    end".to_owned(), false));
    }
}
