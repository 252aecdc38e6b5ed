//! `plugins resources|read|prompts|prompt`: what a plugin's server offers besides tools,
//! asked of it started alone under the app's sandbox (as `plugins tools` does).
//!
//! Untrusted text goes through `text::inert` when stdout is a terminal; errors are one line
//! naming the plugin, exit code 8 (the plugin's fault) or 2 (bad arguments).

use libre_assistant::exit::Exit;
use libre_assistant::plugins::Plugin;
use libre_assistant::plugins::host::context::{Answer, Ask};
use serde_json::{Map, Value, json};

use super::failure::Failure;
use super::plugin_review::{shown, start};
use super::setup::Setup;

/// Starts `plugin`, asks it `ask`, stops it.
fn asked(setup: &Setup, plugin: &Plugin, ask: Ask) -> Result<Answer, Failure> {
    crate::runtime()?.block_on(async {
        let (toolbox, _, _) = start(setup, plugin).await?;
        let answer = toolbox.caller().ask(&plugin.manifest.id, ask).await;
        toolbox.shutdown().await;
        answer.map_err(|e| Failure::new(Exit::Plugin, format!("{}: {e}", plugin.manifest.id)))
    })
}

/// `plugins resources ID [--json]`.
pub fn resources(setup: &Setup, plugin: &Plugin, as_json: bool) -> Result<Exit, Failure> {
    let Answer::Resources(resources) = asked(setup, plugin, Ask::Resources)? else {
        return Err(unexpected(plugin));
    };
    if as_json {
        let rows: Vec<Value> = resources
            .iter()
            .map(|r| {
                json!({"uri": r.uri, "name": r.name, "description": r.description,
                       "mime_type": r.mime_type, "template": r.template})
            })
            .collect();
        println!("{}", Value::Array(rows));
        return Ok(Exit::Ok);
    }
    if resources.is_empty() {
        println!("{}: no resources", plugin.manifest.id);
    }
    for r in &resources {
        let kind = if r.template { "  (template)" } else { "" };
        println!("{}  {}{kind}", shown(&r.uri), shown(&r.name));
        if let Some(d) = &r.description {
            println!("  {}", shown(d));
        }
    }
    Ok(Exit::Ok)
}

/// `plugins read ID URI`.
pub fn read(setup: &Setup, plugin: &Plugin, uri: &str) -> Result<Exit, Failure> {
    let Answer::Read(resource) = asked(
        setup,
        plugin,
        Ask::Read {
            uri: uri.to_owned(),
        },
    )?
    else {
        return Err(unexpected(plugin));
    };
    let text = shown(&resource.text);
    if text.ends_with('\n') {
        print!("{text}");
    } else {
        println!("{text}");
    }
    Ok(Exit::Ok)
}

/// `plugins prompts ID [--json]`.
pub fn prompts(setup: &Setup, plugin: &Plugin, as_json: bool) -> Result<Exit, Failure> {
    let Answer::Prompts(prompts) = asked(setup, plugin, Ask::Prompts)? else {
        return Err(unexpected(plugin));
    };
    if as_json {
        let rows: Vec<Value> = prompts
            .iter()
            .map(|p| {
                let args: Vec<Value> = p
                    .arguments
                    .iter()
                    .map(|a| json!({"name": a.name, "description": a.description, "required": a.required}))
                    .collect();
                json!({"name": p.name, "description": p.description, "arguments": args})
            })
            .collect();
        println!("{}", Value::Array(rows));
        return Ok(Exit::Ok);
    }
    if prompts.is_empty() {
        println!("{}: no prompts", plugin.manifest.id);
    }
    for p in &prompts {
        let args: Vec<String> = p
            .arguments
            .iter()
            .map(|a| {
                if a.required {
                    format!("{}=…", a.name)
                } else {
                    format!("[{}=…]", a.name)
                }
            })
            .collect();
        println!(
            "/{}:{} {}",
            plugin.manifest.id,
            shown(&p.name),
            shown(&args.join(" "))
        );
        if let Some(d) = &p.description {
            println!("  {}", shown(d));
        }
    }
    Ok(Exit::Ok)
}

/// `plugins prompt ID NAME [ARG=VALUE...]`.
pub fn prompt(
    setup: &Setup,
    plugin: &Plugin,
    name: &str,
    arguments: &[String],
) -> Result<Exit, Failure> {
    let arguments = parse_arguments(arguments)?;
    let ask = Ask::Prompt {
        name: name.to_owned(),
        arguments,
    };
    let Answer::Prompt(messages) = asked(setup, plugin, ask)? else {
        return Err(unexpected(plugin));
    };
    for (user, text) in messages {
        println!(
            "{}: {}",
            if user { "user" } else { "assistant" },
            shown(&text)
        );
    }
    Ok(Exit::Ok)
}

/// `ARG=VALUE` words as a prompt's arguments; anything else is a usage error.
pub fn parse_arguments(words: &[String]) -> Result<Map<String, Value>, Failure> {
    let mut out = Map::new();
    for word in words {
        match word.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                out.insert(name.to_owned(), Value::String(value.to_owned()));
            }
            _ => {
                return Err(Failure::new(
                    Exit::Usage,
                    format!(
                        "{word:?} is not an argument; write ARG=VALUE (see `plugins prompts ID`)"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn unexpected(plugin: &Plugin) -> Failure {
    Failure::new(
        Exit::Plugin,
        format!("{}: the plugin answered something else", plugin.manifest.id),
    )
}
