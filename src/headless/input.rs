//! Building the one-shot prompt from `-p` and standard input.

use std::io::Read;

/// Where the prompt text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptArg {
    /// `-p TEXT`.
    Text(String),
    /// `-p -`: the prompt itself is standard input.
    Stdin,
}

impl PromptArg {
    /// Reads `-p`'s value.
    pub fn from_flag(value: &str) -> Self {
        if value == "-" {
            PromptArg::Stdin
        } else {
            PromptArg::Text(value.to_string())
        }
    }
}

/// The user message for a one-shot run: piped context first, then the instruction, so that
/// small models read the instruction last. `None` when there is nothing but whitespace.
pub fn compose(arg: &PromptArg, stdin: Option<&str>) -> Option<String> {
    let text = match arg {
        PromptArg::Stdin => stdin.unwrap_or_default().trim().to_string(),
        PromptArg::Text(prompt) => {
            let prompt = prompt.trim();
            match stdin.map(str::trim).filter(|s| !s.is_empty()) {
                Some(context) if !prompt.is_empty() => format!("{context}\n\n{prompt}"),
                Some(_) | None => prompt.to_string(),
            }
        }
    };
    (!text.is_empty()).then_some(text)
}

/// Reads all of standard input when it is not a terminal; `None` for a terminal.
pub fn read_piped_stdin() -> std::io::Result<Option<String>> {
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    stdin.lock().read_to_end(&mut bytes)?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piped_context_comes_before_the_instruction() {
        let arg = PromptArg::from_flag("summarize");
        assert_eq!(
            compose(&arg, Some("notes\n")),
            Some("notes\n\nsummarize".to_string())
        );
    }

    #[test]
    fn dash_reads_the_prompt_from_stdin() {
        assert_eq!(
            compose(&PromptArg::from_flag("-"), Some(" hi \n")),
            Some("hi".to_string())
        );
    }

    #[test]
    fn empty_inputs_are_none() {
        assert_eq!(compose(&PromptArg::from_flag("  "), None), None);
        assert_eq!(compose(&PromptArg::from_flag("-"), Some("\n")), None);
        assert_eq!(compose(&PromptArg::from_flag("-"), None), None);
    }

    #[test]
    fn blank_stdin_is_ignored() {
        assert_eq!(
            compose(&PromptArg::from_flag("q"), Some("  ")),
            Some("q".to_string())
        );
    }
}
