//! Copying to the system clipboard with OSC 52, which travels through SSH and tmux (with
//! `set -g set-clipboard on`) to the terminal the person is looking at.

use base64::Engine as _;

/// Most terminals drop OSC 52 payloads much larger than this.
pub const MAX_BYTES: usize = 100_000;

/// The escape sequence that puts `text` on the clipboard, or `None` when it is too large.
pub fn osc52(text: &str) -> Option<String> {
    if text.len() > MAX_BYTES {
        return None;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    Some(format!("\x1b]52;c;{encoded}\x07"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_base64_in_one_sequence() {
        assert_eq!(osc52("hello").as_deref(), Some("\x1b]52;c;aGVsbG8=\x07"));
        assert_eq!(osc52(&"x".repeat(MAX_BYTES + 1)), None);
    }
}
