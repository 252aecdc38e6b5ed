//! The core task: owns the transcript, the engine (or the load under way) and the journal, and
//! turns ops into events.
//!
//! One turn runs at a time. While it runs, only `Interrupt`, `Shutdown` and `SetSystemPrompt`
//! take effect; ops that would change the transcript or the engine are refused. A model loads
//! on a blocking thread while the task goes on answering ops; there is no engine meanwhile, so
//! a turn fails with `EngineError::NoModel`. The journal is saved after every change, and at
//! most once a second while an answer streams.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::journal::Journal;
use super::{Conversation, CoreConfig, Event, Op, PIECE_BUFFER};
use crate::engine::{
    ChatMessage, Engine, EngineConfig, EngineError, Job, Output, Role, SamplingParams,
};

/// Load progress is reported at most this often (the end is always reported).
const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// Why an op that needs an idle core was refused.
const BUSY: &str = "an answer is still being generated; stop the answer first";

/// Whether the task goes on after an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

/// A model load on a blocking thread; it yields the new engine.
type Loading = JoinHandle<Result<Engine, EngineError>>;

/// What woke the idle task.
enum Wake {
    Op(Option<Op>),
    Loaded(Result<Engine, EngineError>),
}

/// What woke the task during a turn.
enum TurnWake {
    Op(Option<Op>),
    Output(Option<Output>),
}

/// The state the core task owns.
pub(super) struct Core {
    engine: Option<Engine>,
    loading: Option<Loading>,
    sampling: SamplingParams,
    conversation: Conversation,
    journal: Option<Journal>,
    ops: mpsc::UnboundedReceiver<Op>,
    events: mpsc::Sender<Event>,
}

impl Core {
    /// The core before its first op.
    pub(super) fn new(
        engine: Option<Engine>,
        config: CoreConfig,
        ops: mpsc::UnboundedReceiver<Op>,
        events: mpsc::Sender<Event>,
    ) -> Self {
        let conversation = config
            .resume
            .unwrap_or_else(|| Conversation::new(&config.system_prompt));
        Core {
            engine,
            loading: None,
            sampling: config.sampling,
            conversation,
            journal: config.journal.map(Journal::new),
            ops,
            events,
        }
    }

    /// Serves ops until `Shutdown` or until every op sender is gone; returns the transcript.
    pub(super) async fn run(mut self) -> Conversation {
        loop {
            // Ops first: they are quick, and queued ops are answered in the order they came.
            let wake = tokio::select! {
                biased;
                op = self.ops.recv() => Wake::Op(op),
                loaded = finished(&mut self.loading) => Wake::Loaded(loaded),
            };
            let flow = match wake {
                Wake::Op(Some(op)) => self.idle(op).await,
                Wake::Op(None) => Flow::Stop,
                Wake::Loaded(result) => {
                    self.loading = None;
                    self.loaded(result).await;
                    Flow::Continue
                }
            };
            if flow == Flow::Stop {
                break;
            }
        }
        self.stop().await
    }

    /// Handles an op while no turn runs.
    async fn idle(&mut self, op: Op) -> Flow {
        match op {
            Op::Submit { text } => {
                if self.engine.is_none() {
                    let error = EngineError::NoModel;
                    self.emit(Event::TurnFailed {
                        error,
                        unsent: text,
                    })
                    .await;
                    return Flow::Continue;
                }
                self.conversation.push(ChatMessage::new(Role::User, text));
                return self.turn().await;
            }
            Op::Regenerate => return self.regenerate().await,
            Op::Interrupt => {}
            Op::LoadModel { config } => self.load(config).await,
            Op::RetractLast => self.retract().await,
            Op::Clear => self.clear().await,
            Op::SetSystemPrompt { text } => self.set_system_prompt(text).await,
            Op::Shutdown => return Flow::Stop,
        }
        Flow::Continue
    }

    /// Handles an op while a turn runs.
    async fn during_turn(&mut self, op: Option<Op>, cancel: &AtomicBool) -> Flow {
        match op {
            Some(Op::Interrupt) => cancel.store(true, Ordering::Relaxed),
            Some(
                Op::Submit { .. }
                | Op::LoadModel { .. }
                | Op::Regenerate
                | Op::RetractLast
                | Op::Clear,
            ) => self.refuse(BUSY).await,
            Some(Op::SetSystemPrompt { text }) => self.set_system_prompt(text).await,
            Some(Op::Shutdown) | None => {
                cancel.store(true, Ordering::Relaxed);
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    /// Starts loading a model after freeing the current one.
    async fn load(&mut self, config: EngineConfig) {
        if self.loading.is_some() {
            self.refuse("a model is already loading; wait for it to finish")
                .await;
            return;
        }
        let old = self.engine.take();
        self.emit(Event::ModelLoading {
            path: config.model_path.clone(),
        })
        .await;
        let progress = progress_reporter(self.events.clone());
        self.loading = Some(tokio::task::spawn_blocking(move || {
            // Freed before the new model is read, so the two never take memory together.
            drop(old);
            Engine::start_with_progress(config, progress)
        }));
    }

    async fn loaded(&mut self, result: Result<Engine, EngineError>) {
        match result {
            Ok(engine) => {
                let info = engine.info().clone();
                self.engine = Some(engine);
                self.emit(Event::ModelLoaded { info }).await;
            }
            Err(error) => self.emit(Event::ModelLoadFailed { error }).await,
        }
    }

    async fn regenerate(&mut self) -> Flow {
        if self.engine.is_none() {
            self.refuse(&EngineError::NoModel.to_string()).await;
            return Flow::Continue;
        }
        if self.conversation.pop_answer().is_none() {
            self.refuse("there is no answer to regenerate yet").await;
            return Flow::Continue;
        }
        self.turn().await
    }

    async fn retract(&mut self) {
        match self.conversation.retract_last() {
            Some(text) => {
                self.save(None).await;
                self.emit(Event::Retracted { text }).await;
            }
            None => self.refuse("there is no message to take back").await,
        }
    }

    async fn clear(&mut self) {
        self.conversation = Conversation::new(self.conversation.system_prompt());
        // An empty conversation is not written; its file appears with its first message.
        if let Some(journal) = &mut self.journal {
            journal.start_new();
        }
        self.emit(Event::Cleared).await;
    }

    async fn set_system_prompt(&mut self, text: String) {
        self.conversation.set_system_prompt(&text);
        self.save(None).await;
        self.emit(Event::SystemPromptSet { text }).await;
    }

    /// Answers the last user message, already in the transcript. Returns `Flow::Stop` if a
    /// shutdown arrived meanwhile (the answer was cancelled and is kept).
    async fn turn(&mut self) -> Flow {
        // Saved before generating, so that a crash never loses what the user typed.
        self.save(None).await;
        let cancel = Arc::new(AtomicBool::new(false));
        let (output_tx, mut output) = mpsc::channel(PIECE_BUFFER);
        let job = Job {
            messages: self.conversation.prompt(),
            sampling: self.sampling.clone(),
            cancel: cancel.clone(),
            output: output_tx,
        };
        let submitted = match &self.engine {
            Some(engine) => engine.submit(job),
            None => Err(EngineError::NoModel),
        };
        if let Err(error) = submitted {
            self.fail(error).await;
            return Flow::Continue;
        }
        self.emit(Event::TurnStarted).await;
        let mut answer = String::new();
        let mut flow = Flow::Continue;
        loop {
            let wake = tokio::select! {
                op = self.ops.recv(), if flow == Flow::Continue => TurnWake::Op(op),
                out = output.recv() => TurnWake::Output(out),
            };
            match wake {
                TurnWake::Op(op) => flow = self.during_turn(op, &cancel).await,
                TurnWake::Output(out) => {
                    if self.output(out, &mut answer).await {
                        return flow;
                    }
                }
            }
        }
    }

    /// Handles what the engine sent; returns true when the turn has ended.
    async fn output(&mut self, out: Option<Output>, answer: &mut String) -> bool {
        match out {
            Some(Output::Piece(piece)) => {
                answer.push_str(&piece);
                self.emit(Event::TokenDelta { text: piece }).await;
                self.save_streaming(answer).await;
                false
            }
            Some(Output::Trimmed { dropped_messages }) => {
                self.conversation.drop_oldest(dropped_messages);
                self.emit(Event::HistoryTrimmed { dropped_messages }).await;
                false
            }
            Some(Output::Done { finish, stats }) => {
                let text = std::mem::take(answer);
                self.conversation
                    .push(ChatMessage::new(Role::Assistant, text));
                // Saved before the event, so a front end that sees the end sees it saved.
                self.save(None).await;
                self.emit(Event::TurnComplete { finish, stats }).await;
                true
            }
            Some(Output::Failed(error)) => {
                self.fail(error).await;
                true
            }
            None => {
                self.fail(EngineError::Gone).await;
                true
            }
        }
    }

    /// Ends a turn that failed: the user's message leaves the transcript and goes back.
    async fn fail(&mut self, error: EngineError) {
        let unsent = self
            .conversation
            .take_unanswered()
            .map(|m| m.content)
            .unwrap_or_default();
        self.save(None).await;
        self.emit(Event::TurnFailed { error, unsent }).await;
    }

    async fn save(&mut self, partial: Option<&str>) {
        let Some(journal) = &mut self.journal else {
            return;
        };
        if let Some(error) = journal.save(&self.conversation, partial, Instant::now()) {
            self.emit_journal_failure(error.to_string()).await;
        }
    }

    async fn save_streaming(&mut self, partial: &str) {
        let Some(journal) = &mut self.journal else {
            return;
        };
        if let Some(error) = journal.save_streaming(&self.conversation, partial, Instant::now()) {
            self.emit_journal_failure(error.to_string()).await;
        }
    }

    async fn emit_journal_failure(&self, error: String) {
        self.emit(Event::JournalFailed { error }).await;
    }

    async fn refuse(&self, reason: &str) {
        let reason = reason.to_string();
        self.emit(Event::Refused { reason }).await;
    }

    /// Sends an event; a front end that stopped listening is not an error.
    async fn emit(&self, event: Event) {
        let _ = self.events.send(event).await;
    }

    /// Waits for a load under way, then frees the engine on a blocking thread (joining the
    /// engine thread waits while it frees the model).
    async fn stop(mut self) -> Conversation {
        let loaded = match self.loading.take() {
            Some(loading) => loading.await.ok().and_then(Result::ok),
            None => None,
        };
        let engine = self.engine.take();
        let _ = tokio::task::spawn_blocking(move || drop((engine, loaded))).await;
        self.conversation
    }
}

/// The result of the load under way; never resolves when there is none.
async fn finished(loading: &mut Option<Loading>) -> Result<Engine, EngineError> {
    match loading {
        Some(task) => task.await.unwrap_or_else(|e| {
            tracing::error!("the model loading thread failed: {e}");
            Err(EngineError::Gone)
        }),
        None => std::future::pending().await,
    }
}

/// Turns llama.cpp's load progress into throttled events. `try_send`: the engine thread must
/// never wait for a slow front end, so a progress event is dropped when the queue is full.
fn progress_reporter(events: mpsc::Sender<Event>) -> impl FnMut(f32) + Send + 'static {
    let mut last: Option<Instant> = None;
    move |fraction| {
        let now = Instant::now();
        let due = last.is_none_or(|t| now.duration_since(t) >= PROGRESS_INTERVAL);
        if due || fraction >= 1.0 {
            last = Some(now);
            let fraction = fraction.clamp(0.0, 1.0);
            let _ = events.try_send(Event::ModelLoadProgress { fraction });
        }
    }
}
