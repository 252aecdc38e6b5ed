//! Keeping call markup out of the answer stream: text that may be a tool call is held back
//! until the round ends, then dropped if it was a call or let through if it was not.
//!
//! Invariants: every character of a round is either sent at once, or held and then sent or
//! dropped exactly once by [`Held::finish`]. What is held: an answer that starts like a call
//! (`<tool_call>`, a fence whose language is `json` or none, or `{`), and from a `<tool_call>`
//! tag in mid-answer to the end of the round.

use crate::engine::CALL_OPEN;

const FENCE: &str = "```";

/// The state of one round's stream.
#[derive(Debug, Default)]
pub struct Held {
    /// Text not yet sent.
    held: String,
    /// The start of the round is decided (not a call opening); only a tag holds from now.
    streaming: bool,
    /// A tag was seen: everything from it to the end of the round is held.
    in_call: bool,
}

impl Held {
    /// Takes a piece; returns what may be shown now.
    pub fn push(&mut self, piece: &str) -> String {
        self.held.push_str(piece);
        if self.in_call {
            return String::new();
        }
        if !self.streaming {
            match opening(&self.held) {
                Opening::Undecided | Opening::Call => return String::new(),
                Opening::Text => self.streaming = true,
            }
        }
        self.release()
    }

    /// Ends the round: what is still held, to show unless the round was a call.
    pub fn finish(&mut self, was_call: bool) -> String {
        let held = std::mem::take(&mut self.held);
        *self = Held::default();
        if was_call { String::new() } else { held }
    }

    /// Sends everything up to a tag (or up to what could be the start of one).
    fn release(&mut self) -> String {
        if let Some(at) = self.held.find(CALL_OPEN) {
            self.in_call = true;
            let rest = self.held.split_off(at);
            return std::mem::replace(&mut self.held, rest);
        }
        let keep = partial_suffix(&self.held, CALL_OPEN);
        let rest = self.held.split_off(self.held.len() - keep);
        std::mem::replace(&mut self.held, rest)
    }
}

/// What the start of an answer looks like.
#[derive(Debug, PartialEq, Eq)]
enum Opening {
    /// Too little text to tell.
    Undecided,
    /// It may be a call: hold it all.
    Call,
    /// Ordinary text.
    Text,
}

fn opening(text: &str) -> Opening {
    let t = text.trim_start();
    if t.is_empty() {
        return Opening::Undecided;
    }
    if t.starts_with(CALL_OPEN) || t.starts_with('{') {
        return Opening::Call;
    }
    if CALL_OPEN.starts_with(t) || FENCE.starts_with(t) {
        return Opening::Undecided;
    }
    if let Some(after) = t.strip_prefix(FENCE) {
        // The fence's language decides, once its line is complete.
        return match after.split_once('\n') {
            None => Opening::Undecided,
            Some((lang, _)) if matches!(lang.trim(), "" | "json") => Opening::Call,
            Some(_) => Opening::Text,
        };
    }
    Opening::Text
}

/// The length of the longest suffix of `text` that is a proper prefix of `tag`.
fn partial_suffix(text: &str, tag: &str) -> usize {
    (1..tag.len())
        .rev()
        .find(|&n| {
            text.len() >= n
                && text.is_char_boundary(text.len() - n)
                && tag.starts_with(&text[text.len() - n..])
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pieces: &[&str], was_call: bool) -> (String, String) {
        let mut h = Held::default();
        let shown: String = pieces.iter().map(|p| h.push(p)).collect();
        (shown, h.finish(was_call))
    }

    #[test]
    fn plain_text_streams_at_once() {
        assert_eq!(
            run(&["Hello", " there"], false),
            ("Hello there".into(), String::new())
        );
    }

    #[test]
    fn a_call_at_the_start_is_held_and_dropped() {
        assert_eq!(
            run(&["<tool", "_call>\n{\"name\"", "}</tool_call>"], true),
            (String::new(), String::new())
        );
        assert_eq!(
            run(&["```", "json\n{", "}\n```"], true),
            (String::new(), String::new())
        );
        assert_eq!(
            run(&[" {\"name\": 1}"], true),
            (String::new(), String::new())
        );
    }

    #[test]
    fn held_text_that_was_no_call_comes_out_at_the_end() {
        assert_eq!(
            run(&["{\"a\": 1}"], false),
            (String::new(), "{\"a\": 1}".into())
        );
    }

    #[test]
    fn other_fences_stream() {
        assert_eq!(
            run(&["```", "rust\nfn", " main"], false),
            ("```rust\nfn main".into(), String::new())
        );
    }

    #[test]
    fn a_tag_in_mid_answer_holds_the_rest() {
        assert_eq!(
            run(&["Let me check. <to", "ol_call>{}", "</tool_call>"], true),
            ("Let me check. ".into(), String::new())
        );
        // A `<` that turns out not to open a tag is let through.
        assert_eq!(run(&["a <", "b"], false), ("a <b".into(), String::new()));
    }

    #[test]
    fn multibyte_text_is_never_split() {
        assert_eq!(
            run(&["héllo <tö"], false),
            ("héllo <tö".into(), String::new())
        );
    }
}
