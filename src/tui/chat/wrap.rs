//! Word wrapping of plain text to display columns (CJK and emoji are two columns wide).

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// `text` wrapped to `width` columns: explicit newlines are kept, lines break between words,
/// and a word longer than the width is broken between graphemes. Width 0 gives no lines.
pub fn wrap(text: &str, width: u16) -> Vec<String> {
    let width = usize::from(width);
    if width == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for line in text.split('\n') {
        wrap_line(line, width, &mut out);
    }
    out
}

fn wrap_line(line: &str, width: usize, out: &mut Vec<String>) {
    let mut current = String::new();
    let mut used = 0;
    for word in line.split_word_bounds() {
        let w = word.width();
        if used + w <= width {
            current.push_str(word);
            used += w;
            continue;
        }
        if word.trim().is_empty() {
            // A space at the break is dropped rather than carried to the next line.
            out.push(std::mem::take(&mut current));
            used = 0;
            continue;
        }
        if used > 0 && w <= width {
            out.push(std::mem::take(&mut current));
            current.push_str(word);
            used = w;
            continue;
        }
        for g in word.graphemes(true) {
            let gw = g.width();
            if used + gw > width && used > 0 {
                out.push(std::mem::take(&mut current));
                used = 0;
            }
            current.push_str(g);
            used += gw;
        }
    }
    out.push(current);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_keeps_newlines() {
        assert_eq!(wrap("hello big world", 9), vec!["hello big", "world"]);
        assert_eq!(wrap("a\n\nb", 5), vec!["a", "", "b"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("", 3), vec![""]);
        assert!(wrap("x", 0).is_empty());
    }

    #[test]
    fn wide_characters_count_two_columns() {
        assert_eq!(wrap("日本語です", 4), vec!["日本", "語で", "す"]);
        for line in wrap("👍🏽 emoji 👍🏽 and 中文 mixed text", 5) {
            assert!(line.width() <= 5, "{line:?}");
        }
    }
}
