//! The `password` built-in: passwords and passphrases drawn from the operating system's random
//! source (rand's `SysRng`, getrandom underneath), and strength estimates with zxcvbn.
//!
//! Invariants: every random choice is uniform (rejection sampling, no modulo bias) and comes
//! straight from the OS; a password given to `estimate_strength` is never echoed back.

use rand::TryRng;
use rand::rngs::SysRng;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolResult, ServerConfig};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::json;

/// The passphrase word list: 2,048 common English words (4–7 letters) taken from zxcvbn's
/// English Wikipedia frequency list, so each word adds exactly 11 bits of entropy.
const WORDS: &str = include_str!("words.txt");

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
/// No quotes, backslash or space: easy to paste into shells and forms.
const SYMBOLS: &str = "!#$%&()*+,-./:;<=>?@[]^_{|}~";

/// Longest password `estimate_strength` accepts (zxcvbn slows down on long input).
const MAX_ESTIMATE_CHARS: usize = 256;

/// Arguments of `generate_password`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PasswordArgs {
    /// How many characters: the number the user asked for, 8 to 128.
    #[serde(default)]
    pub length: Option<u32>,
    /// false when the user wants no symbols (letters and digits only).
    #[serde(default)]
    pub symbols: Option<bool>,
}

/// Arguments of `generate_passphrase`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PassphraseArgs {
    /// How many words: the number the user asked for, 3 to 12.
    #[serde(default)]
    pub words: Option<u32>,
    /// What goes between the words, as the user asked (" " for spaces), at most 5 characters.
    #[serde(default)]
    pub separator: Option<String>,
}

/// Arguments of `estimate_strength`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct StrengthArgs {
    /// The password to rate (not stored, not echoed).
    pub password: String,
}

// The defaults stay out of the schemas: small models copy a default shown to them over the
// number the user asked for (measured with scripts/eval-tools).
const DEFAULT_LENGTH: u32 = 20;
const DEFAULT_WORDS: u32 = 5;
const DEFAULT_SEPARATOR: &str = "-";

/// The `password` MCP server.
#[derive(Debug, Clone)]
pub struct PasswordServer {
    tool_router: ToolRouter<Self>,
}

impl Default for PasswordServer {
    fn default() -> Self {
        Self::new()
    }
}

#[tool_router]
impl PasswordServer {
    /// A server with its tools registered.
    pub fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Generate a random password from the OS random source: letters, digits and symbols (unless asked for none), at least one of each, 8 to 128 characters (20 when the user gives no length)."
    )]
    fn generate_password(&self, Parameters(args): Parameters<PasswordArgs>) -> CallToolResult {
        super::outcome(
            generate_password(
                args.length.unwrap_or(DEFAULT_LENGTH),
                args.symbols.unwrap_or(true),
            )
            .map(|(password, bits)| {
                let text = format!("{password}\n(about {bits:.0} bits of entropy)");
                (
                    text,
                    json!({ "password": password, "entropy_bits": bits.round() }),
                )
            }),
        )
    }

    #[tool(
        description = "Generate a random passphrase of common English words from the OS random source: 3 to 12 words (5 when the user gives no number), 11 bits of entropy per word, joined by the separator the user asks for (a hyphen when none)."
    )]
    fn generate_passphrase(&self, Parameters(args): Parameters<PassphraseArgs>) -> CallToolResult {
        super::outcome(
            generate_passphrase(
                args.words.unwrap_or(DEFAULT_WORDS),
                args.separator.as_deref().unwrap_or(DEFAULT_SEPARATOR),
            )
            .map(|(phrase, bits)| {
                let text = format!("{phrase}\n({bits:.0} bits of entropy)");
                (text, json!({ "passphrase": phrase, "entropy_bits": bits }))
            }),
        )
    }

    #[tool(
        description = "Estimate a password's strength with zxcvbn: score 0 (too guessable) to 4 (very unguessable), estimated guesses, how long cracking would take, and advice."
    )]
    fn estimate_strength(&self, Parameters(args): Parameters<StrengthArgs>) -> CallToolResult {
        super::outcome(estimate_strength(&args.password))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for PasswordServer {
    fn get_info(&self) -> ServerConfig {
        super::info(
            "password",
            "Generate passwords and passphrases from the OS random source; estimate strength with zxcvbn.",
        )
    }
}

/// The passphrase words.
pub fn words() -> Vec<&'static str> {
    WORDS.lines().filter(|w| !w.is_empty()).collect()
}

/// A uniform index in `0..n` from the OS random source.
fn uniform(n: usize) -> Result<usize, String> {
    let n = u64::try_from(n).map_err(|_| "the choice is too large".to_owned())?;
    if n == 0 || n > u64::from(u32::MAX) {
        return Err("the choice must be between 1 and 2^32 items".to_owned());
    }
    // Values at or above `zone` would favour the low indices: draw again.
    let zone = (1u64 << 32) - (1u64 << 32) % n;
    loop {
        let x = u64::from(
            SysRng
                .try_next_u32()
                .map_err(|e| format!("the OS random source failed: {e}"))?,
        );
        if x < zone {
            // Below n ≤ u32::MAX, so it fits.
            return usize::try_from(x % n).map_err(|_| "index overflow".to_owned());
        }
    }
}

/// A password of `length` characters with at least one character of each class, and its
/// entropy in bits (`length · log2(alphabet)`, a slight overestimate given the one-of-each rule).
pub fn generate_password(length: u32, symbols: bool) -> Result<(String, f64), String> {
    if !(8..=128).contains(&length) {
        return Err(format!("length must be between 8 and 128, not {length}"));
    }
    let classes: Vec<&str> = if symbols {
        vec![LOWER, UPPER, DIGITS, SYMBOLS]
    } else {
        vec![LOWER, UPPER, DIGITS]
    };
    let alphabet: Vec<char> = classes.iter().flat_map(|c| c.chars()).collect();
    loop {
        let mut password = String::new();
        for _ in 0..length {
            password.push(alphabet[uniform(alphabet.len())?]);
        }
        // Redraw the whole password rather than patch it, so every accepted one is uniform.
        if classes
            .iter()
            .all(|c| password.chars().any(|ch| c.contains(ch)))
        {
            let bits = f64::from(length) * (alphabet.len() as f64).log2();
            return Ok((password, bits));
        }
    }
}

/// `count` words joined by `separator`, and the entropy in bits.
pub fn generate_passphrase(count: u32, separator: &str) -> Result<(String, f64), String> {
    if !(3..=12).contains(&count) {
        return Err(format!("words must be between 3 and 12, not {count}"));
    }
    if separator.chars().count() > 5 {
        return Err("the separator may be at most 5 characters".to_owned());
    }
    let list = words();
    let chosen = (0..count)
        .map(|_| uniform(list.len()).map(|i| list[i]))
        .collect::<Result<Vec<_>, _>>()?;
    let bits = f64::from(count) * (list.len() as f64).log2();
    Ok((chosen.join(separator), bits))
}

/// zxcvbn's estimate: text and structured content, without the password.
pub fn estimate_strength(password: &str) -> Result<(String, serde_json::Value), String> {
    if password.is_empty() {
        return Err("the password is empty".to_owned());
    }
    if password.chars().count() > MAX_ESTIMATE_CHARS {
        return Err(format!(
            "the password is longer than {MAX_ESTIMATE_CHARS} characters; that length alone makes it very hard to guess"
        ));
    }
    let entropy = zxcvbn::zxcvbn(password, &[]);
    let score = u8::from(entropy.score());
    let times = entropy.crack_times();
    let offline = times.offline_slow_hashing_1e4_per_second().to_string();
    let online = times.online_throttling_100_per_hour().to_string();
    let warning = entropy
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| w.to_string());
    let suggestions: Vec<String> = entropy
        .feedback()
        .map(|f| f.suggestions().iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    let mut text = format!(
        "score {score}/4; about 10^{:.1} guesses; cracked in {offline} offline (slow hash), {online} online (throttled)",
        entropy.guesses_log10()
    );
    if let Some(w) = &warning {
        text.push_str(&format!("\nwarning: {w}"));
    }
    for s in &suggestions {
        text.push_str(&format!("\nsuggestion: {s}"));
    }
    let structured = json!({
        "score": score,
        "guesses": entropy.guesses(),
        "guesses_log10": entropy.guesses_log10(),
        "crack_time_offline_slow_hash": offline,
        "crack_time_online_throttled": online,
        "warning": warning,
        "suggestions": suggestions,
    });
    Ok((text, structured))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_list_has_2048_distinct_lowercase_words() {
        let list = words();
        assert_eq!(list.len(), 2048);
        let distinct: std::collections::BTreeSet<_> = list.iter().collect();
        assert_eq!(distinct.len(), 2048);
        assert!(
            list.iter()
                .all(|w| w.chars().all(|c| c.is_ascii_lowercase()))
        );
    }

    #[test]
    fn passwords_have_the_length_and_alphabet_asked_for() {
        let (p, bits) = generate_password(20, true).unwrap();
        assert_eq!(p.chars().count(), 20);
        assert!(p.chars().any(|c| SYMBOLS.contains(c)));
        assert!(bits > 120.0);
        let (p, _) = generate_password(12, false).unwrap();
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(
            generate_password(20, true).unwrap().0,
            generate_password(20, true).unwrap().0
        );
        assert!(generate_password(7, true).is_err());
        assert!(generate_password(129, true).is_err());
    }

    #[test]
    fn passphrases_use_the_list_and_separator() {
        let (phrase, bits) = generate_passphrase(5, "-").unwrap();
        let list = words();
        let parts: Vec<&str> = phrase.split('-').collect();
        assert_eq!(parts.len(), 5);
        assert!(parts.iter().all(|w| list.contains(w)));
        assert_eq!(bits, 55.0);
        assert!(generate_passphrase(2, "-").is_err());
        assert!(generate_passphrase(5, "------").is_err());
    }

    #[test]
    fn uniform_stays_in_range() {
        for n in [1, 2, 3, 7, 2048] {
            for _ in 0..100 {
                assert!(uniform(n).unwrap() < n);
            }
        }
        assert!(uniform(0).is_err());
    }

    #[test]
    fn strength_of_common_and_strong_passwords() {
        let (_, weak) = estimate_strength("password").unwrap();
        assert_eq!(weak["score"], 0);
        let (text, strong) = estimate_strength("correct-horse-battery-staple-42!x").unwrap();
        assert_eq!(strong["score"], 4);
        assert!(!text.contains("correct-horse"));
        assert!(estimate_strength("").is_err());
    }
}
