//! Server-sent events: bytes in, the `data` of each event out.
//!
//! Lines end in `\n`, `\r\n` or `\r`; an empty line ends an event; its `data:` lines are
//! joined with `\n`. Comments (`:`) and the other fields (`event:`, `id:`, `retry:`) are
//! skipped. Bytes may arrive split anywhere, a line or a character in two included.

/// Splits a byte stream into events' data.
#[derive(Debug, Default)]
pub struct Events {
    /// Bytes of a line not ended yet.
    line: Vec<u8>,
    /// The data lines of the event under way.
    data: Option<String>,
    /// The last byte was `\r`: a `\n` right after it ends nothing more.
    after_cr: bool,
}

impl Events {
    /// Takes in `bytes`; returns the data of every event they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut done = Vec::new();
        for &byte in bytes {
            let after_cr = std::mem::replace(&mut self.after_cr, byte == b'\r');
            match byte {
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    let line = std::mem::take(&mut self.line);
                    done.extend(self.line_ended(&String::from_utf8_lossy(&line)));
                }
                _ => self.line.push(byte),
            }
        }
        done
    }

    /// The stream ended: the data of an event it did not end with an empty line, if any.
    pub fn finish(&mut self) -> Option<String> {
        let line = std::mem::take(&mut self.line);
        if !line.is_empty() {
            self.line_ended(&String::from_utf8_lossy(&line));
        }
        self.data.take()
    }

    fn line_ended(&mut self, line: &str) -> Option<String> {
        if line.is_empty() {
            return self.data.take();
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        if field == "data" {
            match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let stream = b"data: {\"a\":1}\n\n: a comment\nevent: x\ndata: two\ndata: lines\r\n\r\ndata: [DONE]\n\n";
        for cut in 0..stream.len() {
            let mut events = Events::default();
            let mut out = events.push(&stream[..cut]);
            out.extend(events.push(&stream[cut..]));
            assert_eq!(out, ["{\"a\":1}", "two\nlines", "[DONE]"], "cut at {cut}");
            assert_eq!(events.finish(), None);
        }
    }

    #[test]
    fn a_character_split_between_reads_is_kept_whole() {
        let stream = "data: é😀\n\n".as_bytes();
        let mut events = Events::default();
        let mut out = events.push(&stream[..8]);
        out.extend(events.push(&stream[8..]));
        assert_eq!(out, ["é😀"]);
    }

    #[test]
    fn an_event_the_stream_did_not_end_is_given_at_the_end() {
        let mut events = Events::default();
        assert!(events.push(b"data: last").is_empty());
        assert_eq!(events.finish().as_deref(), Some("last"));
    }
}
