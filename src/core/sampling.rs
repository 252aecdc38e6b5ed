//! Plugins' sampling requests, answered by the loaded model.
//!
//! A request waits in a queue until the engine is free: between turns, or while a tool call
//! waits for its plugin (the usual case: a tool asks for sampling while it runs). Never
//! during a generation: the engine runs one job at a time and the round's output must keep
//! flowing. Each request is decided by `Toolbox::sampling_decision`: refused, answered, or put
//! to the user before the model writes (`Event::SamplingConsent`) and again before the text
//! goes back (`Event::SamplingReview`); the user may edit both. Every request ends in exactly
//! one answer to the server, one `Event::SamplingDone` and one audit record.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::mpsc;

use super::task::{Core, Flow, finished, next_plugin_event};
use super::tools::SamplingDecision;
use super::{Event, Op, PIECE_BUFFER};
use crate::engine::{ChatMessage, Finish, Job, Output, Role, SamplingParams};
use crate::plugins::audit::Grant;
use crate::plugins::host::{SamplingAnswer, SamplingRequest};

/// Why ops other than the answer are refused while a request waits.
const WAITING: &str = "a plugin's sampling request is waiting for your answer";

/// What an op means while a sampling request is in hand.
enum During {
    /// The user's answer to the request.
    Answer {
        approve: bool,
        edited: Option<String>,
    },
    /// Esc.
    Interrupt,
    /// Shutdown.
    Stop,
    /// Something else, already done.
    Handled,
}

/// What the user said, or what stopped the wait.
enum Reply {
    /// Go on, with the edited text if any.
    Approve(Option<String>),
    Reject,
    /// Esc: the request is rejected, and a turn in progress stops.
    Interrupt,
    /// Shutdown.
    Stop,
}

impl Core {
    /// Answers the queued sampling requests in the order they came. `turn` is the cancel flag
    /// of the turn in progress, if any: an interrupt stops it too.
    pub(super) async fn serve_sampling(&mut self, turn: Option<&AtomicBool>) -> Flow {
        while let Some(request) = self.sampling_queue.pop_front() {
            if self.serve_one(request, turn).await == Flow::Stop {
                let left: Vec<SamplingRequest> = self.sampling_queue.drain(..).collect();
                for request in left {
                    let answer = SamplingAnswer::Rejected("the app is shutting down".into());
                    self.finish_sampling(&request, Grant::None, Duration::ZERO, answer)
                        .await;
                }
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    async fn serve_one(&mut self, request: SamplingRequest, turn: Option<&AtomicBool>) -> Flow {
        let started = Instant::now();
        let Some(tools) = &self.tools else {
            return Flow::Continue;
        };
        let decision = tools.sampling_decision(&request.plugin);
        let max_tokens = request.max_tokens.clamp(1, self.sampling.max_tokens.max(1));
        let (answer, grant, flow) = match decision {
            SamplingDecision::Deny(why) => {
                (SamplingAnswer::Rejected(why), Grant::None, Flow::Continue)
            }
            SamplingDecision::Allow(grant) => {
                let (answer, flow) = self.sample(&request, None, max_tokens, turn).await;
                (answer, grant, flow)
            }
            SamplingDecision::Ask => {
                let (answer, flow) = self.ask(&request, max_tokens, turn).await;
                (answer, Grant::User, flow)
            }
        };
        let grant = match answer {
            SamplingAnswer::Sampled { .. } => grant,
            SamplingAnswer::Rejected(_) => Grant::None,
        };
        self.finish_sampling(&request, grant, started.elapsed(), answer)
            .await;
        flow
    }

    /// Puts the request to the user before and after the model writes.
    async fn ask(
        &mut self,
        request: &SamplingRequest,
        max_tokens: u32,
        turn: Option<&AtomicBool>,
    ) -> (SamplingAnswer, Flow) {
        self.emit(Event::SamplingConsent {
            request: request.clone(),
            max_tokens,
        })
        .await;
        let edited = match self.reply(request.id, turn).await {
            Reply::Approve(edited) => edited,
            other => return refused(other),
        };
        let (answer, flow) = self.sample(request, edited, max_tokens, turn).await;
        let SamplingAnswer::Sampled {
            text,
            model,
            stop_reason,
        } = answer
        else {
            return (answer, flow);
        };
        if flow == Flow::Stop {
            return refused(Reply::Stop);
        }
        let id = request.id;
        self.emit(Event::SamplingReview {
            id,
            plugin: request.plugin.clone(),
            text: text.clone(),
        })
        .await;
        match self.reply(id, turn).await {
            Reply::Approve(edited) => (
                SamplingAnswer::Sampled {
                    text: edited.unwrap_or(text),
                    model,
                    stop_reason,
                },
                Flow::Continue,
            ),
            other => refused(other),
        }
    }

    /// Waits for the user's answer to request `id`, keeping up with the plugins meanwhile.
    async fn reply(&mut self, id: u64, turn: Option<&AtomicBool>) -> Reply {
        loop {
            tokio::select! {
                op = self.ops.recv() => match self.sampling_op(op, id, turn).await {
                    During::Answer { approve: true, edited } => return Reply::Approve(edited),
                    During::Answer { approve: false, .. } => return Reply::Reject,
                    During::Interrupt => return Reply::Interrupt,
                    During::Stop => return Reply::Stop,
                    During::Handled => {}
                },
                event = next_plugin_event(&mut self.plugin_events) => self.plugin(event).await,
                // A model still loading (the app starts one in the background) keeps loading.
                loaded = finished(&mut self.loading) => {
                    self.loading = None;
                    self.loaded(loaded).await;
                }
            }
        }
    }

    /// Has the model write the answer; `edited` replaces the last message's text.
    async fn sample(
        &mut self,
        request: &SamplingRequest,
        edited: Option<String>,
        max_tokens: u32,
        turn: Option<&AtomicBool>,
    ) -> (SamplingAnswer, Flow) {
        let Some(engine) = &self.engine else {
            let why = "no model is loaded to answer it".to_owned();
            return (SamplingAnswer::Rejected(why), Flow::Continue);
        };
        let model = engine.info().path.file_name().map_or_else(
            || "local model".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let (output_tx, mut output) = mpsc::channel(PIECE_BUFFER);
        let cancel = Arc::new(AtomicBool::new(false));
        let job = Job {
            messages: messages(request, edited),
            sampling: SamplingParams {
                temperature: request.temperature.unwrap_or(self.sampling.temperature),
                max_tokens,
                stop: request.stop.clone(),
                ..self.sampling.clone()
            },
            tools: None,
            cancel: cancel.clone(),
            output: output_tx,
        };
        if let Err(e) = engine.submit(job) {
            return (SamplingAnswer::Rejected(e.to_string()), Flow::Continue);
        }
        // The engine's cache now holds this request, not the conversation: warm it again.
        self.warmed = None;
        let mut text = String::new();
        let mut flow = Flow::Continue;
        loop {
            tokio::select! {
                out = output.recv() => match out {
                    Some(Output::Piece(piece)) => text.push_str(&piece),
                    Some(Output::Trimmed { .. } | Output::Offered(_) | Output::Waiting) => {}
                    Some(Output::Done { finish, .. }) => {
                        let stop_reason = match finish {
                            Finish::Stop => "endTurn",
                            Finish::Length | Finish::ContextFull => "maxTokens",
                            Finish::Cancelled => {
                                let why = "cancelled by the user".to_owned();
                                return (SamplingAnswer::Rejected(why), flow);
                            }
                            Finish::Cut => {
                                let why = "the answer broke off".to_owned();
                                return (SamplingAnswer::Rejected(why), flow);
                            }
                        };
                        let stop_reason = stop_reason.to_owned();
                        return (SamplingAnswer::Sampled { text, model, stop_reason }, flow);
                    }
                    Some(Output::Failed(e)) => return (SamplingAnswer::Rejected(e.to_string()), flow),
                    None => {
                        let why = "the engine stopped while answering".to_owned();
                        return (SamplingAnswer::Rejected(why), flow);
                    }
                },
                op = self.ops.recv(), if flow == Flow::Continue => {
                    // An answer now is stale: the request is past its question.
                    match self.sampling_op(op, request.id, turn).await {
                        During::Interrupt => cancel.store(true, Ordering::Relaxed),
                        During::Stop => {
                            cancel.store(true, Ordering::Relaxed);
                            flow = Flow::Stop;
                        }
                        During::Answer { .. } | During::Handled => {}
                    }
                }
                event = next_plugin_event(&mut self.plugin_events) => self.plugin(event).await,
            }
        }
    }

    /// Takes an op that came while request `id` is in hand: its answer, an interrupt or a
    /// shutdown (both stop the turn in progress too) come back; the rest is done here.
    async fn sampling_op(&mut self, op: Option<Op>, id: u64, turn: Option<&AtomicBool>) -> During {
        let stop_turn = || {
            if let Some(cancel) = turn {
                cancel.store(true, Ordering::Relaxed);
            }
        };
        match op {
            Some(Op::Sampling {
                id: answered,
                approve,
                edited,
            }) if answered == id => {
                return During::Answer { approve, edited };
            }
            Some(Op::Interrupt) => {
                stop_turn();
                return During::Interrupt;
            }
            Some(Op::Shutdown) | None => {
                stop_turn();
                return During::Stop;
            }
            Some(Op::SetSystemPrompt { text }) => self.set_system_prompt(text).await,
            // A stale answer, or one for a tool call (none waits now).
            Some(Op::Sampling { .. } | Op::Consent { .. }) => {}
            Some(Op::Elicitation { id, answer }) => self.elicited(id, answer).await,
            Some(Op::Ask { plugin, ask }) => self.ask_plugin(plugin, ask),
            Some(Op::SessionRemoved { id }) => self.session_removed(id),
            Some(_) => self.refuse(WAITING).await,
        }
        During::Handled
    }

    /// Sends the answer to the server, audits it and tells the front ends.
    async fn finish_sampling(
        &mut self,
        request: &SamplingRequest,
        grant: Grant,
        duration: Duration,
        answer: SamplingAnswer,
    ) {
        let outcome = match &answer {
            SamplingAnswer::Sampled { text, .. } => {
                format!("sent {} characters", text.chars().count())
            }
            SamplingAnswer::Rejected(why) => format!("rejected: {why}"),
        };
        let Some(tools) = &mut self.tools else {
            return;
        };
        let recorded = json!({
            "system_prompt": request.system_prompt,
            "messages": request.messages.iter().map(|(user, text)| {
                json!({"role": if *user { "user" } else { "assistant" }, "text": text})
            }).collect::<Vec<_>>(),
            "max_tokens": request.max_tokens,
        });
        let problem = tools.record_sampling(&request.plugin, recorded, grant, duration, &answer);
        let outcome = if tools.answer_sampling(request.id, answer) {
            outcome
        } else {
            format!("{outcome} (the plugin no longer waited for it)")
        };
        self.emit(Event::SamplingDone {
            id: request.id,
            plugin: request.plugin.clone(),
            outcome,
        })
        .await;
        if let Some(message) = problem {
            self.emit(Event::Notice { message }).await;
        }
    }
}

/// The rejection for a reply that is not an approval.
fn refused(reply: Reply) -> (SamplingAnswer, Flow) {
    let (why, flow) = match reply {
        Reply::Reject | Reply::Approve(_) => ("rejected by the user", Flow::Continue),
        Reply::Interrupt => ("cancelled by the user", Flow::Continue),
        Reply::Stop => ("the app is shutting down", Flow::Stop),
    };
    (SamplingAnswer::Rejected(why.to_owned()), flow)
}

/// The request as chat messages: its system prompt, then its messages (the last one's text
/// replaced by `edited`).
fn messages(request: &SamplingRequest, edited: Option<String>) -> Vec<ChatMessage> {
    let mut out = Vec::new();
    if let Some(system) = &request.system_prompt {
        out.push(ChatMessage::new(Role::System, system.clone()));
    }
    let last = request.messages.len().saturating_sub(1);
    for (i, (user, text)) in request.messages.iter().enumerate() {
        let role = if *user { Role::User } else { Role::Assistant };
        let text = match (&edited, i == last) {
            (Some(edited), true) => edited.clone(),
            _ => text.clone(),
        };
        out.push(ChatMessage::new(role, text));
    }
    out
}
