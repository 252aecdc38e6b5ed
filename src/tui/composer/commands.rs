//! Slash commands: the menu the composer completes from, and the parser that turns a sent
//! text into a [`Command`]. Every name in [`COMMANDS`] parses; the two lists change together.

/// One entry of the slash-command menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashCommand {
    /// The name without its slash, e.g. `model`.
    pub name: &'static str,
    /// The argument synopsis, e.g. `[NAME]`; empty when it takes none.
    pub args: &'static str,
    /// A short description for the menu.
    pub help: &'static str,
}

/// The commands in menu order.
pub const COMMANDS: &[SlashCommand] = &[
    SlashCommand {
        name: "model",
        args: "[NAME]",
        help: "Load or switch models",
    },
    SlashCommand {
        name: "system",
        args: "[PROMPT]",
        help: "Show or set the system prompt",
    },
    SlashCommand {
        name: "clear",
        args: "",
        help: "Start a new conversation",
    },
    SlashCommand {
        name: "theme",
        args: "[NAME]",
        help: "Show or switch themes",
    },
    SlashCommand {
        name: "help",
        args: "",
        help: "Show keys and commands",
    },
    SlashCommand {
        name: "quit",
        args: "",
        help: "Quit",
    },
    SlashCommand {
        name: "copy",
        args: "[code]",
        help: "Copy the last answer, or its last code block",
    },
    SlashCommand {
        name: "retry",
        args: "",
        help: "Regenerate the last answer",
    },
    SlashCommand {
        name: "edit",
        args: "",
        help: "Edit your last message",
    },
];

/// A parsed slash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/model [NAME]`: list models, or load `NAME`.
    Model(Option<String>),
    /// `/system [PROMPT]`: show the system prompt, or set it (the rest of the text, newlines
    /// included).
    System(Option<String>),
    /// `/clear`: start a new conversation.
    Clear,
    /// `/theme [NAME]`: list themes, or switch to `NAME`.
    Theme(Option<String>),
    /// `/help`: show keys and commands.
    Help,
    /// `/quit`: leave the app.
    Quit,
    /// `/copy [code]`: copy the last answer, or only its last code block.
    Copy {
        /// Copy the last fenced code block instead of the whole answer.
        code: bool,
    },
    /// `/retry`: regenerate the last answer.
    Retry,
    /// `/edit`: put the last user message back into the composer.
    Edit,
    /// `/PLUGIN:PROMPT [ARG=VALUE…]`: run a plugin's prompt.
    PluginPrompt {
        /// The plugin's id.
        plugin: String,
        /// The prompt's name.
        prompt: String,
        /// Its arguments.
        arguments: Vec<(String, String)>,
    },
}

/// Parses a text about to be sent.
///
/// `None` means the text is a normal message, sent exactly as typed: it does not start with
/// `/`, or the slash is followed by whitespace (`/ x`), or the first word holds another slash
/// (`//x`, `/etc/hosts`). So to send a message that starts with a command name, start it with
/// `//` (the message keeps both slashes) or a space. `Some(Err(_))` is a one-line message for
/// the user: an unknown command or bad arguments.
pub fn parse(text: &str) -> Option<Result<Command, String>> {
    let body = text.strip_prefix('/')?;
    if body.trim().is_empty() {
        return Some(Err(
            "type a command name after /, e.g. /help; // starts a normal message".to_string(),
        ));
    }
    let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
    let (name, args) = body.split_at(name_end);
    if name.is_empty() || name.contains('/') {
        return None;
    }
    if let Some((plugin, prompt)) = name.split_once(':') {
        return Some(plugin_prompt(plugin, prompt, args.trim()));
    }
    Some(command(name, args.trim()))
}

fn command(name: &str, args: &str) -> Result<Command, String> {
    let optional = || (!args.is_empty()).then(|| args.to_string());
    let no_args = |command: Command| {
        if args.is_empty() {
            Ok(command)
        } else {
            Err(format!("/{name} takes no arguments; send /{name} alone"))
        }
    };
    match name {
        "model" | "theme" if args.contains('\n') => Err(format!(
            "/{name} takes one name on one line, e.g. /{name} NAME"
        )),
        "model" => Ok(Command::Model(optional())),
        "theme" => Ok(Command::Theme(optional())),
        "system" => Ok(Command::System(optional())),
        "copy" => match args {
            "" => Ok(Command::Copy { code: false }),
            "code" => Ok(Command::Copy { code: true }),
            _ => Err("/copy takes nothing or `code`; send /copy or /copy code".to_string()),
        },
        "clear" => no_args(Command::Clear),
        "help" => no_args(Command::Help),
        "quit" => no_args(Command::Quit),
        "retry" => no_args(Command::Retry),
        "edit" => no_args(Command::Edit),
        _ => Err(format!(
            "unknown command /{}; type / to see the commands",
            shorten(name)
        )),
    }
}

/// `/PLUGIN:PROMPT ARG=VALUE…`; a value with spaces is quoted: `city="New York"`.
fn plugin_prompt(plugin: &str, prompt: &str, args: &str) -> Result<Command, String> {
    if plugin.is_empty() || prompt.is_empty() {
        return Err("write /PLUGIN:PROMPT, e.g. /everything:simple-prompt".to_string());
    }
    let mut arguments = Vec::new();
    let mut rest = args;
    while !rest.is_empty() {
        let Some((name, after)) = rest.split_once('=') else {
            return Err(format!(
                "{:?} is not an argument; write ARG=VALUE (type /{plugin}: to see its prompts)",
                shorten(rest)
            ));
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!(
                "{:?} is not an argument name; write ARG=VALUE",
                shorten(name)
            ));
        }
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => match quoted.split_once('"') {
                Some((value, after)) => (value, after),
                None => return Err(format!("the value of {name} has no closing \"")),
            },
            None => after.split_once(char::is_whitespace).unwrap_or((after, "")),
        };
        arguments.push((name.to_string(), value.to_string()));
        rest = after.trim_start();
    }
    Ok(Command::PluginPrompt {
        plugin: plugin.to_string(),
        prompt: prompt.to_string(),
        arguments,
    })
}

/// `name` cut to a length that fits in a one-line message.
fn shorten(name: &str) -> String {
    const MAX: usize = 24;
    if name.chars().count() <= MAX {
        name.to_string()
    } else {
        let cut: String = name.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Command {
        match parse(text) {
            Some(Ok(command)) => command,
            other => panic!("{text:?} parsed as {other:?}"),
        }
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Some(Err(message)) => message,
            other => panic!("{text:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn every_command_parses() {
        let parsed: Vec<Command> = COMMANDS
            .iter()
            .map(|c| ok(&format!("/{}", c.name)))
            .collect();
        let expected = vec![
            Command::Model(None),
            Command::System(None),
            Command::Clear,
            Command::Theme(None),
            Command::Help,
            Command::Quit,
            Command::Copy { code: false },
            Command::Retry,
            Command::Edit,
        ];
        assert_eq!(parsed, expected);
    }

    #[test]
    fn plugin_prompts_parse_with_their_arguments() {
        assert_eq!(
            ok(r#"/everything:args-prompt city="New York" state=NY"#),
            Command::PluginPrompt {
                plugin: "everything".into(),
                prompt: "args-prompt".into(),
                arguments: vec![
                    ("city".into(), "New York".into()),
                    ("state".into(), "NY".into())
                ],
            }
        );
        assert!(err("/everything:args-prompt Paris").contains("write ARG=VALUE"));
        assert!(err(r#"/everything:args-prompt city="Paris"#).contains("no closing"));
        assert!(err("/:x").contains("/PLUGIN:PROMPT"));
    }

    #[test]
    fn arguments() {
        assert_eq!(
            ok("/model qwen2.5-0.5b"),
            Command::Model(Some("qwen2.5-0.5b".into()))
        );
        assert_eq!(
            ok("/model  My Model  "),
            Command::Model(Some("My Model".into()))
        );
        assert_eq!(ok("/theme\tlight"), Command::Theme(Some("light".into())));
        assert_eq!(ok("/copy code"), Command::Copy { code: true });
        assert_eq!(ok("/copy "), Command::Copy { code: false });
        assert_eq!(ok("/quit  "), Command::Quit);
        assert_eq!(
            ok("/system You are terse.\n\n  Answer in French.\n"),
            Command::System(Some("You are terse.\n\n  Answer in French.".into()))
        );
        assert_eq!(
            ok("/system\nBe brief."),
            Command::System(Some("Be brief.".into()))
        );
    }

    #[test]
    fn normal_messages() {
        for text in [
            "hello",
            "",
            " /model",
            "/ x",
            "//model is slow",
            "/etc/hosts is empty",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(
            err("/foo"),
            "unknown command /foo; type / to see the commands"
        );
        assert_eq!(
            err("/Model"),
            "unknown command /Model; type / to see the commands"
        );
        assert_eq!(
            err(&format!("/{}", "x".repeat(100))),
            format!(
                "unknown command /{}…; type / to see the commands",
                "x".repeat(24)
            )
        );
        assert_eq!(
            err("/clear all"),
            "/clear takes no arguments; send /clear alone"
        );
        assert_eq!(
            err("/edit\nmore"),
            "/edit takes no arguments; send /edit alone"
        );
        assert_eq!(
            err("/copy all"),
            "/copy takes nothing or `code`; send /copy or /copy code"
        );
        assert_eq!(
            err("/model a\nb"),
            "/model takes one name on one line, e.g. /model NAME"
        );
        assert_eq!(
            err("/theme a\nb"),
            "/theme takes one name on one line, e.g. /theme NAME"
        );
        assert_eq!(
            err("/"),
            "type a command name after /, e.g. /help; // starts a normal message"
        );
        assert_eq!(err("/  \n"), err("/"));
        for text in ["/foo", "/clear all", "/copy x\ny", "/"] {
            assert!(!err(text).contains('\n'), "{text:?}");
        }
    }
}
