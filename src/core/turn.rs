//! One turn: rounds of generation, and between them the tool calls the model wrote.
//!
//! A round generates an answer with the tools on offer. If the answer holds calls, the
//! assistant's text (markup included, as the model wrote it) and one tool message per call
//! join the transcript, and the next round answers with the results. The turn ends with the
//! first round that calls nothing, or when interrupted. A call repeated with the same arguments
//! in one turn is dropped quietly instead of run again, and so is a call to a tool the
//! question may not call (`tools.only_relevant`); after the last allowed round, or a
//! round that brought nothing new, the model must answer in words (a grammar keeps
//! it from opening a call): small models loop on calls otherwise. Call markup never
//! reaches `TokenDelta`s (see `tools::Held`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::task::{Core, Flow, next_plugin_event};
use super::tools::{CallRequest, CallResult, ConsentAnswer, Held, Prepared};
use super::{Event, FinishedCall, Op, PIECE_BUFFER};
use crate::engine::{ChatMessage, EngineError, Finish, Job, Output, Role, ToolPrompt, TurnStats};
use crate::plugins::audit::Grant;
use crate::plugins::host::HostEvent;
use crate::tools::{ToolCall, parse};

/// At most this many calls of one answer run; the rest are reported to the model as skipped.
const CALLS_PER_ROUND: usize = 8;

/// Why headless runs refuse calls, and what to do about it.
const HEADLESS_DENIAL: &str = "no rule allows this tool; allow it with --allow-tool PLUGIN/TOOL, \
--allow-plugin ID, or tools.allow in the config";

/// How a round ended.
enum RoundEnd {
    /// The turn is over (its end event was sent).
    Done(Flow),
    /// The answer holds calls to run before the next round.
    Calls(Vec<ToolCall>, TurnStats),
}

/// What woke the task during a round.
enum RoundWake {
    Op(Option<Op>),
    Output(Option<Output>),
    Plugin(Option<HostEvent>),
}

/// What woke the task while a call waits or runs.
enum CallWake<T> {
    Op(Option<Op>),
    Plugin(Option<HostEvent>),
    Done(T),
}

/// The notice for a call the token limit cut off.
fn cut_off_notice(tool: &str, tokens: u32) -> String {
    let tool = if tool.is_empty() { "a tool" } else { tool };
    format!(
        "the model's call to {} was cut off at {tokens} tokens and was not run; \
         tools.call_max_tokens in the config gives calls more",
        crate::text::inert(tool)
    )
}

/// What makes two calls the same call: the name and the arguments.
fn signature(call: &ToolCall) -> String {
    format!(
        "{}\n{}",
        call.name,
        serde_json::Value::Object(call.arguments.clone())
    )
}

impl Core {
    /// Answers the last user message, already in the transcript. Returns `Flow::Stop` if a
    /// shutdown arrived meanwhile (the answer was cancelled and is kept).
    pub(super) async fn turn(&mut self) -> Flow {
        // Saved before generating, so that a crash never loses what the user typed.
        self.save(None).await;
        let cancel = Arc::new(AtomicBool::new(false));
        let mut started = false;
        let mut seen = HashMap::new();
        let mut called = Vec::new();
        let mut round = 0;
        let mut answer_only = false;
        loop {
            let offer = self.offer(answer_only, &self.conversation.prompt(), &called);
            let (calls, stats) = match self.round(offer.clone(), &cancel, &mut started).await {
                RoundEnd::Done(flow) => return flow,
                RoundEnd::Calls(calls, stats) => (calls, stats),
            };
            // The toolbox also asks for words when nothing is left to call.
            if answer_only || offer.as_ref().is_some_and(|o| o.answer_only) {
                let message = "the model went on calling tools instead of answering; those calls were not run (tools.max_rounds in the config allows more rounds)".to_owned();
                self.emit(Event::Notice { message }).await;
                self.save(None).await;
                self.emit(Event::TurnComplete {
                    finish: Finish::Stop,
                    stats,
                })
                .await;
                return Flow::Continue;
            }
            let (flow, progress) = self
                .run_calls(calls, offer.as_deref(), &mut seen, &mut called, &cancel)
                .await;
            self.save(None).await;
            if flow == Flow::Stop || cancel.load(Ordering::Relaxed) {
                let finish = Finish::Cancelled;
                self.emit(Event::TurnComplete { finish, stats }).await;
                return flow;
            }
            round += 1;
            let max_rounds = self.tools.as_ref().map_or(0, |t| t.max_rounds());
            // The last round, or a round that got nothing new (repeats, errors, denials): the
            // model must answer with what it has.
            answer_only = round >= max_rounds || progress == 0;
        }
    }

    /// Generates one answer; `started` tells whether `TurnStarted` was sent yet.
    async fn round(
        &mut self,
        offer: Option<Arc<ToolPrompt>>,
        cancel: &Arc<AtomicBool>,
        started: &mut bool,
    ) -> RoundEnd {
        let (output_tx, mut output) = mpsc::channel(PIECE_BUFFER);
        let job = Job {
            messages: self.conversation.prompt(),
            sampling: self.sampling.clone(),
            tools: offer.clone(),
            cancel: cancel.clone(),
            output: output_tx,
        };
        let submitted = match &self.engine {
            Some(engine) => engine.submit(job),
            None => Err(EngineError::NoModel),
        };
        if let Err(error) = submitted {
            self.fail(error).await;
            return RoundEnd::Done(Flow::Continue);
        }
        if !std::mem::replace(started, true) {
            self.emit(Event::TurnStarted).await;
        }
        let mut answer = String::new();
        let mut held = Held::default();
        let mut flow = Flow::Continue;
        loop {
            let wake = tokio::select! {
                op = self.ops.recv(), if flow == Flow::Continue => RoundWake::Op(op),
                out = output.recv() => RoundWake::Output(out),
                event = next_plugin_event(&mut self.plugin_events) => RoundWake::Plugin(event),
            };
            let out = match wake {
                RoundWake::Op(op) => {
                    flow = self.during_turn(op, cancel).await;
                    continue;
                }
                RoundWake::Plugin(event) => {
                    self.plugin(event).await;
                    continue;
                }
                RoundWake::Output(out) => out,
            };
            match out {
                Some(Output::Piece(piece)) => {
                    answer.push_str(&piece);
                    let shown = held.push(&piece);
                    if !shown.is_empty() {
                        self.emit(Event::TokenDelta { text: shown }).await;
                    }
                    self.save_streaming(&answer).await;
                }
                Some(Output::Offered(made)) => {
                    if let (Some(toolbox), Some(prompt)) = (&mut self.tools, &offer) {
                        let tools = toolbox.offered(&made, prompt);
                        let notices = toolbox.over_cap_notices(&tools);
                        let budget = made.budget;
                        self.emit(Event::ToolsOffered { tools, budget }).await;
                        for message in notices {
                            self.emit(Event::Notice { message }).await;
                        }
                    }
                }
                Some(Output::Waiting) => self.emit(Event::WaitingForCores).await,
                Some(Output::Trimmed { dropped_messages }) => {
                    self.conversation.drop_oldest(dropped_messages);
                    self.emit(Event::HistoryTrimmed { dropped_messages }).await;
                }
                Some(Output::Done { finish, stats }) => {
                    if let Some(journal) = &mut self.journal {
                        journal.set_tokens(stats.prompt_tokens + stats.generated_tokens);
                    }
                    return self
                        .answered(answer, held, offer, finish, stats, flow)
                        .await;
                }
                Some(Output::Failed(error @ EngineError::Server(_))) if !answer.is_empty() => {
                    return self.broke_off(answer, held, error, flow).await;
                }
                Some(Output::Failed(error)) => {
                    self.fail(error).await;
                    return RoundEnd::Done(flow);
                }
                None => {
                    self.fail(EngineError::Gone).await;
                    return RoundEnd::Done(flow);
                }
            }
        }
    }

    /// The answer failed part way (a server's stream was cut): what came is kept as the
    /// answer, the error is told, and the turn ends as `Finish::Cut`. Calls in it are not run.
    async fn broke_off(
        &mut self,
        answer: String,
        mut held: Held,
        error: EngineError,
        flow: Flow,
    ) -> RoundEnd {
        let rest = held.finish(false);
        if !rest.is_empty() {
            self.emit(Event::TokenDelta { text: rest }).await;
        }
        self.conversation
            .push(ChatMessage::new(Role::Assistant, answer));
        self.save(None).await;
        let message = error.to_string();
        self.emit(Event::Notice { message }).await;
        let (finish, stats) = (Finish::Cut, TurnStats::default());
        self.emit(Event::TurnComplete { finish, stats }).await;
        RoundEnd::Done(flow)
    }

    /// The round's answer is complete: keep it, and either end the turn or go on to its calls.
    async fn answered(
        &mut self,
        answer: String,
        mut held: Held,
        offer: Option<Arc<ToolPrompt>>,
        finish: Finish,
        stats: TurnStats,
        flow: Flow,
    ) -> RoundEnd {
        let calls: Vec<ToolCall> = match (&offer, finish) {
            (Some(offer), Finish::Stop) => parse(&answer, &offer.tools)
                .calls
                .into_iter()
                .map(|(call, _)| call)
                .collect(),
            _ => Vec::new(),
        };
        // A call the token limit cut off is never shown or kept as the answer's text.
        let cut_off = match (&offer, finish) {
            (Some(offer), Finish::Length | Finish::ContextFull) => {
                crate::engine::open_call(&answer, &offer.tools)
            }
            _ => None,
        };
        let rest = held.finish(!calls.is_empty() || cut_off.is_some());
        if !rest.is_empty() {
            self.emit(Event::TokenDelta { text: rest }).await;
        }
        let answer = match cut_off {
            Some((start, tool)) => {
                let message = cut_off_notice(&tool, stats.generated_tokens);
                self.emit(Event::Notice { message }).await;
                answer[..start].trim_end().to_owned()
            }
            None => answer,
        };
        self.conversation
            .push(ChatMessage::new(Role::Assistant, answer));
        if calls.is_empty() || flow == Flow::Stop {
            // Saved before the event, so a front end that sees the end sees it saved.
            self.save(None).await;
            self.emit(Event::TurnComplete { finish, stats }).await;
            return RoundEnd::Done(flow);
        }
        RoundEnd::Calls(calls, stats)
    }

    /// Runs the calls of one answer in order; each adds a tool message. Stops early (the rest
    /// are not run) on an interrupt or a shutdown. Also returns how many calls brought
    /// something new: ran, were not repeats, and returned a result that is not an error.
    ///
    /// A call repeated with the same arguments in this turn, or to a tool the question may not
    /// call, is dropped quietly: no record, no event. When every call of the answer is
    /// dropped, the answer leaves the transcript (the next round answers from the results
    /// already there); a dropped call beside others gets its earlier result again, or a line
    /// saying it was not run, so that calls and results stay paired. The (plugin, tool) of
    /// each call that brought something new joins `called`.
    async fn run_calls(
        &mut self,
        calls: Vec<ToolCall>,
        offer: Option<&ToolPrompt>,
        seen: &mut HashMap<String, String>,
        called: &mut Vec<(String, String)>,
        cancel: &AtomicBool,
    ) -> (Flow, usize) {
        let count = calls.len();
        let signatures: Vec<String> = calls.iter().map(signature).collect();
        let off_topic = |call: &ToolCall| offer.is_some_and(|o| o.off_topic(&call.name));
        if calls
            .iter()
            .zip(&signatures)
            .all(|(call, s)| off_topic(call) || seen.contains_key(s))
        {
            tracing::info!(count, "dropped repeated or off-topic tool calls");
            self.conversation.drop_last_answer();
            return (Flow::Continue, 0);
        }
        let mut fresh = 0;
        for (i, (call, signature)) in calls.into_iter().zip(signatures).enumerate() {
            let result_flow = if off_topic(&call) {
                let line = format!("not run: {} does not fit this question", call.name);
                self.conversation.push(ChatMessage::new(Role::Tool, line));
                Flow::Continue
            } else if let Some(earlier) = seen.get(&signature) {
                // Small models repeat a call whose result they already have; running it again
                // would only loop.
                let earlier = earlier.clone();
                self.conversation
                    .push(ChatMessage::new(Role::Tool, earlier));
                Flow::Continue
            } else if i >= CALLS_PER_ROUND {
                let problem = format!(
                    "only {CALLS_PER_ROUND} calls run per answer; this one ({} of {count}) was skipped, call it again",
                    i + 1
                );
                self.invalid(String::new(), call, problem).await;
                Flow::Continue
            } else {
                let (flow, useful) = self.one_call(call, cancel).await;
                fresh += usize::from(useful.is_some());
                called.extend(useful);
                if let Some(last) = self.conversation.messages().last()
                    && last.role == Role::Tool
                {
                    seen.insert(signature, last.content.clone());
                }
                flow
            };
            if result_flow == Flow::Stop {
                return (Flow::Stop, fresh);
            }
            if cancel.load(Ordering::Relaxed) {
                break;
            }
        }
        (Flow::Continue, fresh)
    }

    /// Runs one call; also gives its (plugin, tool) when it returned a result that is not an
    /// error.
    async fn one_call(
        &mut self,
        call: ToolCall,
        cancel: &AtomicBool,
    ) -> (Flow, Option<(String, String)>) {
        let messages = self.conversation.messages();
        let question = messages.iter().rev().find(|m| m.role == Role::User);
        let question = question.map_or("", |m| m.content.as_str());
        let (call, notes) = crate::tools::as_written(&call, question);
        if !notes.is_empty() {
            tracing::info!(tool = %call.name, repairs = %notes.join("; "), "mended a call");
        }
        let Some(tools) = &mut self.tools else {
            return (Flow::Continue, None);
        };
        let (request, grant) = match tools.prepare(&call) {
            Prepared::Invalid {
                plugin, problem, ..
            } => {
                self.invalid(plugin, call, problem).await;
                return (Flow::Continue, None);
            }
            Prepared::Ready(request, grant) => (*request, grant),
        };
        let asks = tools.asks();
        let (grant, flow) = match grant {
            Some(grant) => (Some(grant), Flow::Continue),
            None if !asks => (None, Flow::Continue),
            None => self.consent(&request, cancel).await,
        };
        let Some(grant) = grant else {
            let reason = if cancel.load(Ordering::Relaxed) || flow == Flow::Stop {
                "the user interrupted the turn".to_owned()
            } else if asks {
                "the user denied it".to_owned()
            } else {
                HEADLESS_DENIAL.to_owned()
            };
            let result = CallResult::Denied { reason };
            self.finish_call(&request, Grant::None, Duration::ZERO, result)
                .await;
            return (flow, None);
        };
        self.emit(Event::ToolCallStarted {
            request: request.clone(),
            granted_by: grant,
        })
        .await;
        let (result, duration, flow) = self.execute(&request, cancel).await;
        let useful = matches!(
            result,
            CallResult::Done {
                is_error: false,
                ..
            }
        );
        self.finish_call(&request, grant, duration, result).await;
        (
            flow,
            useful.then(|| (request.plugin.clone(), request.tool.clone())),
        )
    }

    /// Puts the call to the user; returns the grant (None: denied) and whether to go on.
    async fn consent(
        &mut self,
        request: &CallRequest,
        cancel: &AtomicBool,
    ) -> (Option<Grant>, Flow) {
        self.emit(Event::ToolConsent {
            request: request.clone(),
        })
        .await;
        loop {
            let wake: CallWake<()> = tokio::select! {
                op = self.ops.recv() => CallWake::Op(op),
                event = next_plugin_event(&mut self.plugin_events) => CallWake::Plugin(event),
            };
            match wake {
                CallWake::Op(Some(Op::Consent { id, answer })) if id == request.id => {
                    let Some(tools) = &mut self.tools else {
                        return (None, Flow::Continue);
                    };
                    let (grant, problem) = tools.answer(request, answer);
                    if let Some(message) = problem {
                        self.emit(Event::Notice { message }).await;
                    }
                    if answer == ConsentAnswer::Deny {
                        return (None, Flow::Continue);
                    }
                    return (grant, Flow::Continue);
                }
                CallWake::Op(op) => {
                    let flow = self.during_turn(op, cancel).await;
                    if flow == Flow::Stop || cancel.load(Ordering::Relaxed) {
                        return (None, flow);
                    }
                }
                CallWake::Plugin(event) => self.plugin(event).await,
                CallWake::Done(()) => {}
            }
        }
    }

    /// Runs an allowed call; an interrupt or shutdown drops it, which cancels it in the plugin.
    async fn execute(
        &mut self,
        request: &CallRequest,
        cancel: &AtomicBool,
    ) -> (CallResult, Duration, Flow) {
        let Some(tools) = &self.tools else {
            let error = "no plugins are running".to_owned();
            return (CallResult::Failed { error }, Duration::ZERO, Flow::Continue);
        };
        let caller = tools.caller();
        let arguments = request.arguments.as_object().cloned().unwrap_or_default();
        let started = Instant::now();
        let call = caller.call(&request.plugin, &request.tool, arguments);
        tokio::pin!(call);
        let mut flow = Flow::Continue;
        loop {
            // A request that came during the round, or one this call's tool makes now.
            if !self.sampling_queue.is_empty() {
                flow = self.serve_sampling(Some(cancel)).await;
                if flow == Flow::Stop || cancel.load(Ordering::Relaxed) {
                    let error = "interrupted by the user; the call was cancelled".to_owned();
                    return (CallResult::Failed { error }, started.elapsed(), flow);
                }
            }
            let wake = tokio::select! {
                result = &mut call => CallWake::Done(result),
                op = self.ops.recv() => CallWake::Op(op),
                event = next_plugin_event(&mut self.plugin_events) => CallWake::Plugin(event),
            };
            match wake {
                CallWake::Done(result) => {
                    return (CallResult::from_host(result), started.elapsed(), flow);
                }
                CallWake::Op(op) => {
                    flow = self.during_turn(op, cancel).await;
                    if flow == Flow::Stop || cancel.load(Ordering::Relaxed) {
                        let error = "interrupted by the user; the call was cancelled".to_owned();
                        return (CallResult::Failed { error }, started.elapsed(), flow);
                    }
                }
                CallWake::Plugin(event) => self.plugin(event).await,
            }
        }
    }

    /// A call that never became a request: recorded and answered with its problem.
    async fn invalid(&mut self, plugin: String, call: ToolCall, problem: String) {
        let result = CallResult::Invalid { problem };
        let arguments = serde_json::Value::Object(call.arguments);
        self.record(
            None,
            plugin,
            call.name,
            arguments,
            Grant::None,
            Duration::ZERO,
            result,
        )
        .await;
    }

    async fn finish_call(
        &mut self,
        request: &CallRequest,
        grant: Grant,
        duration: Duration,
        result: CallResult,
    ) {
        let (plugin, tool) = (request.plugin.clone(), request.tool.clone());
        let arguments = request.arguments.clone();
        self.record(
            Some(request.id),
            plugin,
            tool,
            arguments,
            grant,
            duration,
            result,
        )
        .await;
    }

    /// Adds the tool message, writes the records and tells the front ends.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &mut self,
        id: Option<u64>,
        plugin: String,
        tool: String,
        arguments: serde_json::Value,
        grant: Grant,
        duration: Duration,
        result: CallResult,
    ) {
        self.conversation
            .push(ChatMessage::new(Role::Tool, result.for_model()));
        let Some(tools) = &mut self.tools else {
            return;
        };
        let recorded = tools.record(&plugin, &tool, &arguments, grant, duration, &result);
        if let Some(message) = recorded.problem {
            self.emit(Event::Notice { message }).await;
        }
        let call = FinishedCall {
            id,
            plugin,
            tool,
            arguments,
            result,
            granted_by: grant,
            duration_ms: duration.as_millis() as u64,
            tool_figures: recorded.tool,
            plugin_figures: recorded.plugin,
        };
        self.emit(Event::ToolCallFinished { call }).await;
    }
}
