//! One-shot mode: answer one prompt, stream the answer to stdout, everything else to stderr.
//!
//! `--json` replaces the plain answer with the versioned event stream of `json.rs`. Ctrl-C
//! stops generation cleanly (exit 130); a second Ctrl-C exits at once.

pub mod input;
pub mod json;

use std::io::Write;

use libre_assistant::core::{self, CoreConfig, Event, Op};
use libre_assistant::engine::{Engine, Finish, TurnStats};
use libre_assistant::exit::Exit;

use crate::cli::failure::Failure;
use crate::cli::setup::{Setup, engine_config, sampling};
use json::JsonEvent;

/// Where the run's output goes: plain text or JSON lines on stdout, notices on stderr.
pub struct Sink {
    json: bool,
    stats: bool,
    stdout: std::io::Stdout,
    /// Whether the answer so far ends in a newline (plain mode adds one at the end).
    ends_with_newline: bool,
    /// Set when stdout is gone (a closed pipe): the answer stops quietly.
    closed: bool,
}

impl Sink {
    /// A sink for `--json` or plain mode; `stats` prints a stats line to stderr at the end.
    pub fn new(json: bool, stats: bool) -> Self {
        Sink {
            json,
            stats,
            stdout: std::io::stdout(),
            ends_with_newline: true,
            closed: false,
        }
    }

    fn write(&mut self, text: &str) {
        let mut out = self.stdout.lock();
        if out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            self.closed = true;
        }
    }

    /// A line the user should see that is not the answer.
    pub fn notice(&mut self, message: &str) {
        if self.json {
            self.write(&json::line(&JsonEvent::Notice { message }));
        }
        eprintln!("libre-assistant: {message}");
    }

    fn start(&mut self, model: &str, engine: &Engine) {
        if self.json {
            let info = engine.info();
            let path = info.path.display().to_string();
            self.write(&json::line(&JsonEvent::Start {
                model,
                model_path: &path,
                context: info.context,
                load_ms: info.load_ms,
            }));
        }
    }

    fn delta(&mut self, text: &str) {
        if self.json {
            self.write(&json::line(&JsonEvent::Delta { text }));
        } else {
            self.ends_with_newline = text.ends_with('\n');
            self.write(text);
        }
    }

    fn done(&mut self, finish: Finish, stats: &TurnStats) {
        if self.json {
            self.write(&json::line(&JsonEvent::Done { finish, stats }));
        } else if !self.ends_with_newline {
            self.write("\n");
        }
        if self.stats {
            eprintln!(
                "libre-assistant: {} prompt tokens ({} reused), {} generated, {:.1} tokens/s, first token after {:.0} ms",
                stats.prompt_tokens,
                stats.prompt_tokens_reused,
                stats.generated_tokens,
                stats.tokens_per_second,
                stats.ttft_ms
            );
        }
    }

    /// Reports a failure: a JSON error event in `--json` mode, always one line on stderr.
    pub fn failure(&mut self, failure: &Failure) {
        if self.json {
            self.write(&json::line(&JsonEvent::Error {
                exit_code: failure.exit.code(),
                message: &failure.message,
            }));
        }
        eprintln!("libre-assistant: {}", failure.message);
    }
}

/// Answers `prompt` with the configured model.
pub async fn run(setup: &Setup, sink: &mut Sink, prompt: String) -> Result<Exit, Failure> {
    let settings = &setup.config.settings;
    let model = crate::cli::setup::ensure_model(setup, &settings.model, sink)?;
    let config = engine_config(settings, model.path.clone());
    let engine = tokio::task::spawn_blocking(move || Engine::start(config))
        .await
        .map_err(|e| Failure::new(Exit::Internal, format!("the engine thread panicked: {e}")))??;
    sink.start(&model.name, &engine);
    let mut core = core::spawn(
        Some(engine),
        CoreConfig {
            system_prompt: settings.system_prompt.clone(),
            sampling: sampling(settings),
            resume: None,
            // One-shot runs leave nothing behind.
            journal: None,
        },
    );
    let _ = core.ops.send(Op::Submit { text: prompt });
    let mut interrupted = false;
    let exit = loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                if interrupted {
                    // A second Ctrl-C: leave now, without waiting for the engine.
                    std::process::exit(Exit::Interrupted.code());
                }
                interrupted = true;
                let _ = core.ops.send(Op::Interrupt);
            }
            event = core.events.recv() => match event {
                Some(Event::TokenDelta { text }) => {
                    sink.delta(&text);
                    if sink.closed {
                        let _ = core.ops.send(Op::Interrupt);
                    }
                }
                Some(Event::HistoryTrimmed { dropped_messages }) => {
                    sink.notice(&format!("the conversation no longer fits the context; left out the {dropped_messages} oldest messages"));
                }
                Some(Event::TurnComplete { finish, stats }) => {
                    sink.done(finish, &stats);
                    break if finish == Finish::Cancelled && interrupted { Exit::Interrupted } else { Exit::Ok };
                }
                Some(Event::TurnFailed { error, .. }) => {
                    let _ = core.ops.send(Op::Shutdown);
                    let _ = core.task.await;
                    return Err(error.into());
                }
                Some(Event::JournalFailed { error }) => sink.notice(&error),
                // Headless sends only one Submit: no loads, edits or refusals to report.
                Some(Event::TurnStarted)
                | Some(Event::Refused { .. })
                | Some(Event::ModelLoading { .. })
                | Some(Event::ModelLoadProgress { .. })
                | Some(Event::ModelLoaded { .. })
                | Some(Event::ModelLoadFailed { .. })
                | Some(Event::Retracted { .. })
                | Some(Event::Cleared)
                | Some(Event::SystemPromptSet { .. }) => {}
                None => return Err(Failure::new(Exit::Internal, "the core stopped unexpectedly; see the log file")),
            }
        }
    };
    let _ = core.ops.send(Op::Shutdown);
    let _ = core.task.await;
    Ok(exit)
}
