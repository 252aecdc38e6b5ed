//! Stop strings: an answer ends at the first one, which is not part of the answer.
//!
//! A stop string can span token pieces (`<|im_end|>` is six pieces for a model that does not
//! know it as a token), so text that could be the start of one is held back until the next
//! piece decides it. Invariant: every character before the first stop string is released
//! exactly once, in order; nothing from the stop string on is ever released. Text still held
//! when the answer ends otherwise is released by [`StopScan::finish`], unless it could be the
//! start of template markup: markup is never shown, not even in part.

/// Scans an answer's text for stop strings, holding back what could begin one.
#[derive(Debug, Default)]
pub struct StopScan {
    stops: Vec<String>,
    /// The stop strings that are template markup (the rest are the user's).
    markup: Vec<String>,
    held: String,
    /// A stop string was found: nothing more is released.
    stopped: bool,
}

/// What [`StopScan::push`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// No stop string yet: go on generating.
    Going,
    /// A stop string ended the answer.
    Stopped,
}

impl StopScan {
    /// A scanner for template `markup` and the user's `stops`; empty strings are left out
    /// (they would match at once).
    pub fn new(markup: &[&str], stops: &[String]) -> Self {
        let markup: Vec<String> = markup
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| (*s).to_owned())
            .collect();
        let mut all = markup.clone();
        all.extend(stops.iter().filter(|s| !s.is_empty()).cloned());
        all.sort();
        all.dedup();
        StopScan {
            stops: all,
            markup,
            held: String::new(),
            stopped: false,
        }
    }

    /// True when there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.stops.is_empty()
    }

    /// Whether `text` is one of the stop strings (a control token's text, say).
    pub fn is_stop(&self, text: &str) -> bool {
        self.stops.iter().any(|s| s == text)
    }

    /// Takes the next piece of the answer; appends to `out` what is decided to be answer text.
    pub fn push(&mut self, piece: &str, out: &mut String) -> Scan {
        if self.stopped {
            return Scan::Stopped;
        }
        if self.stops.is_empty() {
            out.push_str(piece);
            return Scan::Going;
        }
        self.held.push_str(piece);
        if let Some(at) = self.first_stop() {
            out.push_str(&self.held[..at]);
            self.held.clear();
            self.stopped = true;
            return Scan::Stopped;
        }
        let keep = self.partial_suffix();
        let cut = self.held.len() - keep;
        out.push_str(&self.held[..cut]);
        self.held.drain(..cut);
        Scan::Going
    }

    /// The answer ended without a stop string: releases the held text into `out`, unless it
    /// could be the start of template markup.
    pub fn finish(&mut self, out: &mut String) {
        let held = std::mem::take(&mut self.held);
        if !self.markup.iter().any(|m| m.starts_with(&held)) {
            out.push_str(&held);
        }
    }

    /// Where the earliest stop string in the held text begins.
    fn first_stop(&self) -> Option<usize> {
        self.stops.iter().filter_map(|s| self.held.find(s)).min()
    }

    /// The length of the longest end of the held text that some stop string starts with.
    fn partial_suffix(&self) -> usize {
        let longest = self.stops.iter().map(String::len).max().unwrap_or(0);
        // A suffix shorter than the longest stop string, starting on a character boundary.
        let from = self.held.len().saturating_sub(longest.saturating_sub(1));
        (from..self.held.len())
            .filter(|&i| self.held.is_char_boundary(i))
            .find(|&i| {
                let tail = &self.held[i..];
                self.stops.iter().any(|s| s.starts_with(tail))
            })
            .map_or(0, |i| self.held.len() - i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pieces`; returns the text released after each and whether it stopped.
    fn feed(stops: &[&str], pieces: &[&str]) -> (Vec<String>, Scan) {
        let stops: Vec<String> = stops.iter().map(|s| (*s).to_owned()).collect();
        let mut scan = StopScan::new(&[], &stops);
        let mut outs = Vec::new();
        for p in pieces {
            let mut out = String::new();
            let found = scan.push(p, &mut out);
            outs.push(out);
            if found == Scan::Stopped {
                return (outs, Scan::Stopped);
            }
        }
        (outs, Scan::Going)
    }

    #[test]
    fn without_stop_strings_everything_passes() {
        assert_eq!(
            feed(&[], &["a<|", "im_end|>"]),
            (vec!["a<|".into(), "im_end|>".into()], Scan::Going)
        );
    }

    #[test]
    fn a_stop_string_in_one_piece_ends_the_answer_before_it() {
        assert_eq!(
            feed(&["<|im_end|>"], &["Hello", " world.<|im_end|>more"]),
            (vec!["Hello".into(), " world.".into()], Scan::Stopped)
        );
    }

    #[test]
    fn a_stop_string_across_pieces_is_held_then_dropped() {
        let pieces = ["Hi", "!<", "|", "im", "_end", "|>", "\n<|im_start|>"];
        assert_eq!(
            feed(&["<|im_end|>", "<|im_start|>"], &pieces),
            (
                vec![
                    "Hi".into(),
                    "!".into(),
                    "".into(),
                    "".into(),
                    "".into(),
                    "".into()
                ],
                Scan::Stopped
            )
        );
    }

    #[test]
    fn a_false_start_is_released_once_decided() {
        assert_eq!(
            feed(&["<|im_end|>"], &["a <", "b", "<|im", "x"]),
            (
                vec!["a ".into(), "<b".into(), "".into(), "<|imx".into()],
                Scan::Going
            )
        );
    }

    #[test]
    fn the_earliest_of_several_stop_strings_wins() {
        assert_eq!(
            feed(&["END", "\n\n"], &["one\n\ntwo END"]),
            (vec!["one".into()], Scan::Stopped)
        );
    }

    #[test]
    fn a_stop_string_inside_a_longer_candidate_is_found() {
        // "ab" could start "abc", but "b" alone is a stop string and comes first.
        assert_eq!(
            feed(&["abc", "b"], &["xa", "b"]),
            (vec!["x".into(), "a".into()], Scan::Stopped)
        );
    }

    #[test]
    fn multibyte_text_is_held_on_character_boundaries() {
        assert_eq!(
            feed(&["€€"], &["x€", "y€", "€z"]),
            (vec!["x".into(), "€y".into(), "".into()], Scan::Stopped)
        );
    }

    #[test]
    fn empty_and_repeated_stop_strings_are_ignored() {
        let scan = StopScan::new(&["x", ""], &["".into(), "x".into()]);
        assert!(scan.is_stop("x") && !scan.is_stop(""));
        assert_eq!(scan.stops, vec!["x"]);
        assert!(StopScan::new(&[""], &["".into()]).is_empty());
    }

    #[test]
    fn at_the_end_held_text_is_released_unless_it_could_be_markup() {
        let finish = |piece: &str| {
            let mut scan = StopScan::new(&["<|im_end|>"], &["THE END".into()]);
            let mut out = String::new();
            assert_eq!(scan.push(piece, &mut out), Scan::Going);
            scan.finish(&mut out);
            out
        };
        assert_eq!(finish("once upon a time THE"), "once upon a time THE");
        assert_eq!(finish("Hello!<|im"), "Hello!");
    }

    #[test]
    fn after_a_stop_string_nothing_more_is_released() {
        let mut scan = StopScan::new(&[], &["END".into()]);
        let mut out = String::new();
        assert_eq!(scan.push("a END b", &mut out), Scan::Stopped);
        assert_eq!(scan.push("more", &mut out), Scan::Stopped);
        scan.finish(&mut out);
        assert_eq!(out, "a ");
    }
}
