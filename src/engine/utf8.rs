//! Streaming UTF-8: token pieces are bytes, and a token may end in the middle of a character.
//!
//! `Utf8Stream` holds back an incomplete trailing sequence until the next piece completes it;
//! invalid bytes become U+FFFD, so nothing the model produced is dropped silently.

/// Decodes a stream of byte pieces into text without splitting characters.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// A decoder with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `bytes` and appends every complete character to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut String) {
        self.pending.extend_from_slice(bytes);
        let mut start = 0;
        loop {
            match std::str::from_utf8(&self.pending[start..]) {
                Ok(text) => {
                    out.push_str(text);
                    start = self.pending.len();
                    break;
                }
                Err(e) => {
                    let valid = start + e.valid_up_to();
                    // SAFETY-free: this range was just validated by from_utf8.
                    out.push_str(std::str::from_utf8(&self.pending[start..valid]).unwrap_or(""));
                    match e.error_len() {
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            start = valid + bad;
                        }
                        None => {
                            start = valid;
                            break;
                        }
                    }
                }
            }
        }
        self.pending.drain(..start);
    }

    /// Ends the stream: an incomplete trailing sequence becomes U+FFFD.
    pub fn finish(&mut self, out: &mut String) {
        if !self.pending.is_empty() {
            out.push(char::REPLACEMENT_CHARACTER);
            self.pending.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(pieces: &[&[u8]]) -> Vec<String> {
        let mut s = Utf8Stream::new();
        let mut outs = Vec::new();
        for p in pieces {
            let mut out = String::new();
            s.push(p, &mut out);
            outs.push(out);
        }
        let mut out = String::new();
        s.finish(&mut out);
        outs.push(out);
        outs
    }

    #[test]
    fn ascii_passes_straight_through() {
        assert_eq!(feed(&[b"ab", b"c"]), vec!["ab", "c", ""]);
    }

    #[test]
    fn a_character_split_across_pieces_is_held_back() {
        let euro = "€".as_bytes(); // e2 82 ac
        assert_eq!(
            feed(&[&[b'x', euro[0]], &euro[1..2], &euro[2..], b"y"]),
            vec!["x", "", "€", "y", ""]
        );
    }

    #[test]
    fn emoji_split_in_four() {
        let b = "🦀".as_bytes();
        assert_eq!(
            feed(&[&b[..1], &b[1..2], &b[2..3], &b[3..]]),
            vec!["", "", "", "🦀", ""]
        );
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        assert_eq!(feed(&[b"a\xffb"]), vec!["a\u{fffd}b", ""]);
    }

    #[test]
    fn an_unfinished_tail_is_flushed_as_replacement() {
        assert_eq!(feed(&[b"ok\xe2\x82"]), vec!["ok", "\u{fffd}"]);
    }
}
