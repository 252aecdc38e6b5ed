//! One-shot mode: answer one prompt, stream the answer to stdout, everything else to stderr.
//!
//! `--json` replaces the plain answer with the versioned event stream of `json.rs`. Ctrl-C
//! stops generation cleanly (exit 130); a second Ctrl-C exits at once. When stdout is a
//! terminal the answer goes through `text::inert`, as in the TUI (the model's escape sequences
//! must not reach a terminal); piped, it is written byte for byte.

pub mod input;
pub mod json;

use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;

use libre_assistant::backend::{Backend, BackendConfig};
use libre_assistant::core::tools::{OfferedTool, TOOLS_OFF};
use libre_assistant::core::{
    self, CallRequest, CallResult, ConsentAnswer, CoreConfig, Event, FinishedCall, Op,
};
use libre_assistant::engine::{Finish, TurnStats};
use libre_assistant::exit::Exit;
use libre_assistant::plugins::audit::Grant;
use libre_assistant::plugins::host::{ElicitAnswer, HostEvent, PluginState};
use libre_assistant::text::inert;

use crate::cli::failure::Failure;
use crate::cli::resume::Resume;
use crate::cli::setup::{Setup, engine_config, sampling};
use json::JsonEvent;

/// Where the run's output goes: plain text or JSON lines on stdout, notices on stderr.
pub struct Sink {
    json: bool,
    stats: bool,
    stdout: std::io::Stdout,
    /// Whether the answer so far ends in a newline (plain mode adds one at the end).
    ends_with_newline: bool,
    /// stdout is a terminal: the answer is made inert first.
    terminal: bool,
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
            terminal: std::io::IsTerminal::is_terminal(&std::io::stdout()),
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

    fn start(&mut self, model: &str, engine: &Backend) {
        if self.json {
            let info = engine.info();
            let path = info.path.display().to_string();
            self.write(&json::line(&JsonEvent::Start {
                model,
                model_path: &path,
                context: info.context,
                load_ms: info.load_ms,
                runs: &info.runs,
            }));
        }
    }

    fn delta(&mut self, text: &str) {
        if self.json {
            self.write(&json::line(&JsonEvent::Delta { text }));
        } else {
            self.ends_with_newline = text.ends_with('\n');
            if self.terminal {
                self.write(&inert(text));
            } else {
                self.write(text);
            }
        }
    }

    fn done(&mut self, finish: Finish, stats: &TurnStats) {
        if self.json {
            self.write(&json::line(&JsonEvent::Done { finish, stats }));
        } else if !self.ends_with_newline {
            self.write("\n");
        }
        if self.stats {
            let drafts = match stats.draft_tokens {
                0 => String::new(),
                n => format!(" ({n} drafted, {} kept)", stats.draft_accepted),
            };
            eprintln!(
                "libre-assistant: {} prompt tokens ({} reused), {} generated{drafts}, {:.1} tokens/s, first token after {:.0} ms",
                stats.prompt_tokens,
                stats.prompt_tokens_reused,
                stats.generated_tokens,
                stats.tokens_per_second,
                stats.ttft_ms
            );
        }
    }

    /// An allowed call starts: a JSON event, and one line on stderr in plain mode.
    fn tools(&mut self, tools: &[OfferedTool], budget: u32) {
        if self.json {
            let offered = tools.iter().filter(|t| t.offered);
            self.write(&json::line(&JsonEvent::Tools {
                offered: offered.clone().map(|t| t.name.as_str()).collect(),
                callable: tools
                    .iter()
                    .filter(|t| t.callable)
                    .map(|t| t.name.as_str())
                    .collect(),
                enabled: tools.len(),
                tokens: offered.map(|t| t.tokens).sum(),
                budget,
            }));
        }
    }

    fn tool_call(&mut self, request: &CallRequest, granted_by: Grant) {
        if self.json {
            self.write(&json::line(&JsonEvent::ToolCall {
                id: request.id,
                plugin: &request.plugin,
                tool: &request.tool,
                arguments: &request.arguments,
                granted_by,
            }));
        } else {
            eprintln!(
                "libre-assistant: calling {}/{} {}",
                request.plugin,
                request.tool,
                inert(&request.arguments.to_string())
            );
        }
    }

    /// A call ended: a JSON event; on stderr, denials and failures always (a denied call
    /// must be visible), successes in plain mode.
    fn tool_result(&mut self, call: &FinishedCall) {
        let (outcome, text) = match &call.result {
            CallResult::Done {
                text,
                is_error: false,
            } => ("ok", text.as_str()),
            CallResult::Done {
                text,
                is_error: true,
            } => ("tool_error", text.as_str()),
            CallResult::Failed { error } => ("failed", error.as_str()),
            CallResult::Denied { reason } => ("denied", reason.as_str()),
            CallResult::Invalid { problem } => ("invalid", problem.as_str()),
        };
        if self.json {
            self.write(&json::line(&JsonEvent::ToolResult {
                id: call.id,
                plugin: &call.plugin,
                tool: &call.tool,
                outcome,
                text,
                duration_ms: call.duration_ms,
            }));
        }
        let name = if call.plugin.is_empty() {
            inert(&call.tool).into_owned()
        } else {
            format!("{}/{}", call.plugin, inert(&call.tool))
        };
        match outcome {
            "ok" if !self.json => {
                eprintln!(
                    "libre-assistant: {name} returned in {} ms",
                    call.duration_ms
                );
            }
            "ok" => {}
            "denied" => eprintln!("libre-assistant: denied {name}: {}", inert(text)),
            _ => eprintln!(
                "libre-assistant: {name} {outcome}: {}",
                inert(first_line(text))
            ),
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

/// How long a run waits for its plugins to start before it asks the model without the
/// stragglers (they start while the model loads, so usually nothing waits).
const PLUGIN_WAIT: Duration = Duration::from_secs(10);

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// A plugin that has listed its tools, or crashed, is no longer waited for.
fn settle(pending: &mut BTreeSet<String>, event: &HostEvent) {
    match event {
        HostEvent::Tools { plugin, .. } => {
            pending.remove(plugin);
        }
        HostEvent::Status { plugin, status } => match status {
            PluginState::Crashed { .. } | PluginState::Stopped | PluginState::Halted { .. } => {
                pending.remove(plugin);
            }
            PluginState::Starting | PluginState::Running => {}
        },
        HostEvent::Resources { .. }
        | HostEvent::Progress { .. }
        | HostEvent::Connected { .. }
        | HostEvent::ResourceUpdated { .. }
        | HostEvent::Log { .. }
        | HostEvent::Sampling(_)
        | HostEvent::Elicitation(_) => {}
    }
}

/// Said when another instance on this machine has the cores (see `engine/cores.rs`).
const WAITING_FOR_CORES: &str = "another libre-assistant on this machine is answering; this answer starts when it is done (taking turns, each answers at full speed)";

/// What one headless run does.
pub struct Run {
    /// The user's message.
    pub prompt: String,
    /// Tool rules; None offers no tools.
    pub rules: Option<crate::cli::tools::Rules>,
    /// Complete the prompt as given (`--raw`).
    pub raw: bool,
    /// Which session to go on with.
    pub resume: Resume,
    /// Save the run as a session.
    pub record: bool,
}

/// Answers the prompt with the configured model, offering the enabled plugins' tools (calls
/// are denied unless the rules or the config allow them), and saves it in a session (a new
/// one, or the one resumed) when asked. `raw` sends the prompt as it is, with no chat template
/// and no system prompt (the caller offers no tools then).
pub async fn run(setup: &Setup, sink: &mut Sink, run: Run) -> Result<Exit, Failure> {
    let Run {
        prompt,
        rules,
        raw,
        resume,
        record,
    } = run;
    let settings = &setup.config.settings;
    // Before the model loads, so that an unknown session id fails at once.
    let opened = if record || resume != Resume::New {
        let opened = crate::cli::resume::open(&setup.dirs.data, resume)?;
        for notice in &opened.notices {
            sink.notice(notice);
        }
        Some(opened)
    } else {
        None
    };
    let (journal, resumed) = match opened {
        Some(o) => (
            o.journal.filter(|_| record),
            o.resumed.map(|r| r.conversation),
        ),
        None => (None, None),
    };
    // A remote back end is checked when it starts; a local model is fetched first if need be.
    let mut name = settings.model.clone();
    let backend = match crate::cli::setup::remote_config(settings, &settings.model) {
        Some(_) if raw => {
            return Err(Failure::new(
                Exit::Usage,
                "--raw needs a local model: a server applies its own chat template",
            ));
        }
        Some(remote) => BackendConfig::Remote(remote?),
        None => {
            let model = crate::cli::setup::ensure_model(setup, &settings.model, sink)?;
            name = model.name.clone();
            BackendConfig::Local(libre_assistant::engine::EngineConfig {
                raw,
                ..engine_config(settings, &setup.store(), model.path.clone())?
            })
        }
    };
    // Plugins start before the model loads, so the two overlap.
    let tools = match rules {
        Some(rules) => {
            let started = crate::cli::tools::start(setup, &rules, false)
                .map_err(|e| Failure::new(Exit::Usage, e))?;
            for problem in &started.problems {
                sink.notice(problem);
            }
            started.tools
        }
        None => None,
    };
    let mut pending: BTreeSet<String> = tools
        .as_ref()
        .map(|t| t.manifests.keys().cloned().collect())
        .unwrap_or_default();
    let engine = tokio::task::spawn_blocking(move || Backend::start(backend, |_| {}))
        .await
        .map_err(|e| Failure::new(Exit::Internal, format!("the engine thread panicked: {e}")))??;
    sink.start(&name, &engine);
    let mut core = core::spawn(
        Some(engine),
        CoreConfig {
            system_prompt: if raw {
                String::new()
            } else {
                settings.system_prompt.clone()
            },
            sampling: sampling(settings),
            resume: resumed,
            journal,
            tools,
        },
    );
    let mut prompt = Some(prompt);
    // Made once, before the answer streams: a signal that arrives while an event is being
    // handled waits here for the next turn of the loop instead of being lost.
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| Failure::new(Exit::Internal, format!("cannot watch for Ctrl-C: {e}")))?;
    let wait = tokio::time::sleep(PLUGIN_WAIT);
    tokio::pin!(wait);
    let mut interrupted = false;
    let exit = loop {
        if pending.is_empty()
            && let Some(text) = prompt.take()
        {
            let _ = core.ops.send(Op::Submit { text });
        }
        tokio::select! {
            () = &mut wait, if prompt.is_some() => {
                let names: Vec<&str> = pending.iter().map(String::as_str).collect();
                sink.notice(&format!("plugins still starting after {}s, asking without them: {}", PLUGIN_WAIT.as_secs(), names.join(", ")));
                pending.clear();
            }
            _ = interrupts.recv() => {
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
                    break match finish {
                        Finish::Cancelled if interrupted => Exit::Interrupted,
                        Finish::Cut => Exit::Server,
                        _ => Exit::Ok,
                    };
                }
                Some(Event::TurnFailed { error, .. }) => {
                    let _ = core.ops.send(Op::Shutdown);
                    let _ = core.task.await;
                    return Err(error.into());
                }
                Some(Event::JournalFailed { error }) => sink.notice(&error),
                Some(Event::Notice { message }) => sink.notice(&message),
                Some(Event::Plugin(event)) => {
                    // The first failure says why (what its sandbox denied); restarts repeat it.
                    if let HostEvent::Status { plugin, status: PluginState::Crashed { restarts: 0, error } } = &event {
                        sink.notice(&format!("plugin {plugin} failed: {}", inert(error)));
                    }
                    settle(&mut pending, &event);
                }
                Some(Event::ToolCallStarted { request, granted_by }) => sink.tool_call(&request, granted_by),
                Some(Event::ToolCallFinished { call }) => sink.tool_result(&call),
                Some(Event::ToolConsent { request }) => {
                    // Headless cores never ask; answer anyway so nothing can hang.
                    let _ = core.ops.send(Op::Consent { id: request.id, answer: ConsentAnswer::Deny });
                }
                Some(Event::SamplingConsent { request, .. }) => {
                    // Headless cores never ask; answer anyway so nothing can hang.
                    let _ = core.ops.send(Op::Sampling { id: request.id, approve: false, edited: None });
                }
                Some(Event::Elicitation { request }) => {
                    // Headless cores decline these themselves; answer anyway so nothing hangs.
                    let _ = core.ops.send(Op::Elicitation { id: request.id, answer: ElicitAnswer::Decline });
                }
                Some(Event::SamplingReview { id, .. }) => {
                    let _ = core.ops.send(Op::Sampling { id, approve: false, edited: None });
                }
                Some(Event::SamplingDone { plugin, outcome, .. }) => {
                    sink.notice(&format!("plugin {plugin} asked the model to write a message (sampling): {}", inert(&outcome)));
                }
                Some(Event::PluginFigures { .. }) | Some(Event::Asked { .. }) => {}
                Some(Event::ModelTools { offered }) => {
                    if !offered {
                        sink.notice(TOOLS_OFF);
                    }
                }
                Some(Event::ToolsOffered { tools, budget }) => sink.tools(&tools, budget),
                Some(Event::WaitingForCores) => sink.notice(WAITING_FOR_CORES),
                // Headless sends only one Submit: no loads, edits or refusals to report.
                Some(Event::TurnStarted)
                | Some(Event::Refused { .. })
                | Some(Event::ModelLoading { .. })
                | Some(Event::ModelLoadProgress { .. })
                | Some(Event::ModelLoaded { .. })
                | Some(Event::ModelLoadFailed { .. })
                | Some(Event::Retracted { .. })
                | Some(Event::Cleared)
                | Some(Event::SessionOpened { .. })
                | Some(Event::SystemPromptSet { .. }) => {}
                None => return Err(Failure::new(Exit::Internal, "the core stopped unexpectedly; see the log file")),
            }
        }
    };
    if interrupted && prompt.is_some() {
        // Interrupted while the plugins started: nothing was asked.
        let _ = core.ops.send(Op::Shutdown);
        let _ = core.task.await;
        return Ok(Exit::Interrupted);
    }
    let _ = core.ops.send(Op::Shutdown);
    let _ = core.task.await;
    Ok(exit)
}
