//! Plugins' prompts and resources in the app: their names fill the composer's menu
//! (`/PLUGIN:PROMPT`, `@PLUGIN:URI`), a prompt runs as a slash command whose rendered
//! messages are sent as the user's message, and `@PLUGIN:URI` words in a message attach the
//! resources' text to what the model reads.
//!
//! Invariant: a message waits (in [`Waiting`]) until every answer it needs has come; on any
//! refusal it goes back to the composer, with the reason, so nothing typed is lost.

use libre_assistant::core::Op;
use libre_assistant::plugins::host::context::{Answer, Ask};
use libre_assistant::text::inert;
use serde_json::{Map, Value};

use super::App;
use crate::tui::chat::Kind;
use crate::tui::composer::{Argument, MenuItem};

/// A message waiting for plugins' answers before it is sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Waiting {
    /// `/PLUGIN:PROMPT …`, waiting for the rendered messages.
    Prompt {
        /// What was typed.
        typed: String,
        /// The plugin asked.
        plugin: String,
    },
    /// A message naming resources, waiting for their text.
    Attach {
        /// What was typed (sent as it is, with the resources after it).
        typed: String,
        /// (plugin, URI) still to come.
        pending: Vec<(String, String)>,
        /// (plugin, URI, text) read so far, in the order they came.
        read: Vec<(String, String, String)>,
    },
}

impl App {
    /// A plugin is running: ask for its prompts and resources for the menu.
    pub(super) fn plugin_listed(&mut self, plugin: &str) {
        for ask in [Ask::Prompts, Ask::Resources] {
            let _ = self.ops.send(Op::Ask {
                plugin: plugin.to_owned(),
                ask,
            });
        }
    }

    /// A plugin answered.
    pub(super) fn asked(&mut self, plugin: String, ask: Ask, answer: Result<Answer, String>) {
        let composer = &mut self.state.composer;
        match answer {
            Ok(Answer::Prompts(prompts)) => {
                composer
                    .plugin_prompts
                    .retain(|m| !m.word.starts_with(&format!("/{plugin}:")));
                composer.plugin_prompts.extend(prompts.iter().map(|p| {
                    let args: Vec<String> = p
                        .arguments
                        .iter()
                        .map(|a| match a.required {
                            true => format!("{}=…", a.name),
                            false => format!("[{}=…]", a.name),
                        })
                        .collect();
                    MenuItem {
                        word: format!("/{plugin}:{}", inert(&p.name)),
                        args: inert(&args.join(" ")).into_owned(),
                        help: inert(p.description.as_deref().unwrap_or("")).into_owned(),
                    }
                }));
            }
            Ok(Answer::Resources(resources)) => {
                composer
                    .plugin_resources
                    .retain(|m| !m.word.starts_with(&format!("@{plugin}:")));
                composer
                    .plugin_resources
                    .extend(resources.iter().filter(|r| !r.template).map(|r| MenuItem {
                        word: format!("@{plugin}:{}", inert(&r.uri)),
                        args: String::new(),
                        help: inert(&r.name).into_owned(),
                    }));
            }
            Ok(Answer::Prompt(messages)) => self.prompt_rendered(&plugin, messages),
            Ok(Answer::Read(resource)) => self.resource_read(&plugin, &resource.uri, resource.text),
            Ok(Answer::Subscribed) => {}
            Ok(Answer::Completions(values)) => {
                if let Ask::Complete {
                    prompt,
                    argument,
                    value,
                    given,
                } = ask
                {
                    let asked = Argument {
                        command: format!("{plugin}:{prompt}"),
                        name: argument,
                        value,
                        given,
                    };
                    let values = values.iter().map(|v| inert(v).into_owned()).collect();
                    composer.argument_values = Some((asked, values));
                }
            }
            Err(why) => self.refused(&plugin, &why),
        }
    }

    /// Asks the plugin for values of the prompt argument being typed (`completion/complete`),
    /// once for each new value typed.
    pub(super) fn ask_argument(&mut self) {
        let Some(argument) = self.state.composer.argument() else {
            return;
        };
        if self.argument_asked.as_ref() == Some(&argument) {
            return;
        }
        let Some((plugin, prompt)) = argument.command.split_once(':') else {
            return;
        };
        let ask = Ask::Complete {
            prompt: prompt.to_owned(),
            argument: argument.name.clone(),
            value: argument.value.clone(),
            given: argument.given.clone(),
        };
        let plugin = plugin.to_owned();
        self.argument_asked = Some(argument);
        let _ = self.ops.send(Op::Ask { plugin, ask });
    }

    /// Runs `/PLUGIN:PROMPT` typed as `typed`.
    pub(super) fn run_prompt(
        &mut self,
        typed: String,
        plugin: String,
        prompt: String,
        arguments: Vec<(String, String)>,
    ) {
        if !self.ready_to_send(&typed) {
            return;
        }
        let arguments: Map<String, Value> = arguments
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        self.waiting = Some(Waiting::Prompt {
            typed,
            plugin: plugin.clone(),
        });
        let _ = self.ops.send(Op::Ask {
            plugin,
            ask: Ask::Prompt {
                name: prompt,
                arguments,
            },
        });
    }

    /// Sends `typed`, first reading the resources its `@PLUGIN:URI` words name (those of
    /// running plugins); false when it names none (send it as it is).
    pub(super) fn attach_and_send(&mut self, typed: &str) -> bool {
        let known = &self.state.composer.plugin_resources;
        let pending: Vec<(String, String)> = typed
            .split_whitespace()
            .filter(|w| known.iter().any(|m| m.word == *w))
            .filter_map(|w| w[1..].split_once(':'))
            .map(|(p, u)| (p.to_owned(), u.to_owned()))
            .collect();
        if pending.is_empty() {
            return false;
        }
        for (plugin, uri) in &pending {
            let _ = self.ops.send(Op::Ask {
                plugin: plugin.clone(),
                ask: Ask::Read { uri: uri.clone() },
            });
        }
        self.waiting = Some(Waiting::Attach {
            typed: typed.to_owned(),
            pending,
            read: Vec::new(),
        });
        true
    }

    fn prompt_rendered(&mut self, plugin: &str, messages: Vec<(bool, String)>) {
        let Some(Waiting::Prompt {
            typed,
            plugin: asked,
        }) = self.waiting.take()
        else {
            return;
        };
        if asked != plugin {
            self.waiting = Some(Waiting::Prompt {
                typed,
                plugin: asked,
            });
            return;
        }
        let text: Vec<String> = messages
            .into_iter()
            .map(|(user, text)| {
                if user {
                    text
                } else {
                    format!("(assistant) {text}")
                }
            })
            .collect();
        let text = text.join("\n\n");
        if text.trim().is_empty() {
            self.state.composer.set_text(&typed);
            self.flash(format!("{plugin}'s prompt gave no text to send"), true);
            return;
        }
        self.state
            .chat
            .push(Kind::Notice, format!("ran {}", inert(&typed)));
        self.send(text);
    }

    fn resource_read(&mut self, plugin: &str, uri: &str, text: String) {
        let Some(Waiting::Attach {
            typed,
            mut pending,
            mut read,
        }) = self.waiting.take()
        else {
            return;
        };
        if let Some(i) = pending.iter().position(|(p, u)| p == plugin && u == uri) {
            pending.remove(i);
            read.push((plugin.to_owned(), uri.to_owned(), text));
        }
        if !pending.is_empty() {
            self.waiting = Some(Waiting::Attach {
                typed,
                pending,
                read,
            });
            return;
        }
        let mut message = typed.clone();
        for (plugin, uri, text) in &read {
            message.push_str(&format!(
                "\n\n<resource plugin=\"{plugin}\" uri=\"{uri}\">\n{text}\n</resource>"
            ));
        }
        self.send_as(typed, message);
        for (plugin, uri, text) in read {
            let chars = text.chars().count();
            self.state.chat.push(
                Kind::Notice,
                format!("attached @{plugin}:{} ({chars} characters)", inert(&uri)),
            );
            self.watch(plugin, uri);
        }
    }

    /// Asks to hear when an attached resource changes (servers that cannot say refuse, and
    /// that is fine).
    fn watch(&mut self, plugin: String, uri: String) {
        if self.watched.iter().any(|(p, u)| *p == plugin && *u == uri) {
            return;
        }
        let ask = Ask::Subscribe { uri: uri.clone() };
        let _ = self.ops.send(Op::Ask {
            plugin: plugin.clone(),
            ask,
        });
        self.watched.push((plugin, uri));
    }

    /// An attached resource changed: said once, until it is attached again.
    pub(super) fn resource_updated(&mut self, plugin: &str, uri: &str) {
        let Some(i) = self
            .watched
            .iter()
            .position(|(p, u)| p == plugin && u == uri)
        else {
            return;
        };
        self.watched.remove(i);
        let word = format!("@{plugin}:{}", inert(uri));
        self.state.chat.push(
            Kind::Notice,
            format!("{word} changed since it was attached; attach it again ({word}) to send what it says now"),
        );
    }

    /// A plugin could not answer what a waiting message needs: it goes back to the composer.
    fn refused(&mut self, plugin: &str, why: &str) {
        let typed = match self.waiting.take() {
            Some(Waiting::Prompt {
                typed,
                plugin: asked,
            }) if asked == plugin => typed,
            Some(Waiting::Attach { typed, pending, .. })
                if pending.iter().any(|(p, _)| p == plugin) =>
            {
                typed
            }
            other => {
                // A list for the menu (servers without prompts or resources refuse those).
                self.waiting = other;
                return;
            }
        };
        self.state.composer.set_text(&typed);
        self.flash(format!("{plugin}: {}", inert(why)), true);
    }

    /// Whether a message can go now; if not, says why and keeps `typed` in the composer.
    fn ready_to_send(&mut self, typed: &str) -> bool {
        let why = if self.state.busy() || self.regenerating {
            "an answer is still streaming; Esc stops it"
        } else if self.waiting.is_some() {
            "a message is already waiting for a plugin"
        } else if !self.model_ready {
            "no model is loaded: choose one in the model pane (F3) or with /model"
        } else {
            return true;
        };
        self.state.composer.set_text(typed);
        self.flash(why, true);
        false
    }
}
