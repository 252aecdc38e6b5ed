//! The core: the conversation and the turn loop, spoken to with `Op`s, answering with `Event`s.
//!
//! It knows no terminal. The headless runner and the TUI are both front ends over it. The core
//! task owns the transcript and the engine handle; one turn runs at a time.

mod conversation;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

pub use conversation::Conversation;

use crate::engine::{
    ChatMessage, Engine, EngineError, Finish, Job, Output, Role, SamplingParams, TurnStats,
};

/// What a front end asks the core to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Send a user message and answer it.
    Submit {
        /// The message.
        text: String,
    },
    /// Stop the answer in flight; its partial text is kept.
    Interrupt,
    /// Stop everything and end the core task.
    Shutdown,
}

/// What happened, as the core reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A turn began.
    TurnStarted,
    /// More answer text.
    TokenDelta {
        /// The new text.
        text: String,
    },
    /// Old messages no longer fit in the context and were left out of the prompt.
    HistoryTrimmed {
        /// How many messages were left out this time.
        dropped_messages: usize,
    },
    /// The answer ended.
    TurnComplete {
        /// Why it ended.
        finish: Finish,
        /// Counts and timings.
        stats: TurnStats,
    },
    /// A turn failed; the user's message comes back so it is not lost.
    TurnFailed {
        /// What went wrong.
        error: EngineError,
        /// The message that was not answered.
        unsent: String,
    },
    /// An op was refused (for example a second submit while a turn runs).
    Refused {
        /// Why.
        reason: String,
    },
}

/// How the core runs turns.
#[derive(Debug, Clone, PartialEq)]
pub struct CoreConfig {
    /// The system prompt; empty means none.
    pub system_prompt: String,
    /// Sampling for every turn.
    pub sampling: SamplingParams,
}

/// The front end's side of a running core.
pub struct CoreHandle {
    /// Where ops go.
    pub ops: mpsc::UnboundedSender<Op>,
    /// Where events come from. Ends when the core task ends.
    pub events: mpsc::Receiver<Event>,
    /// The core task; resolves with the final transcript.
    pub task: tokio::task::JoinHandle<Conversation>,
}

/// How many token pieces may wait between the engine thread and the core.
const PIECE_BUFFER: usize = 256;

/// Spawns the core task on the current tokio runtime.
pub fn spawn(engine: Engine, config: CoreConfig) -> CoreHandle {
    let (ops, op_rx) = mpsc::unbounded_channel();
    let (event_tx, events) = mpsc::channel(PIECE_BUFFER);
    let task = tokio::spawn(run(engine, config, op_rx, event_tx));
    CoreHandle { ops, events, task }
}

async fn run(
    engine: Engine,
    config: CoreConfig,
    mut ops: mpsc::UnboundedReceiver<Op>,
    events: mpsc::Sender<Event>,
) -> Conversation {
    let mut conversation = Conversation::new(&config.system_prompt);
    while let Some(op) = ops.recv().await {
        match op {
            Op::Submit { text } => {
                let shutdown =
                    turn(&engine, &config, &mut conversation, text, &mut ops, &events).await;
                if shutdown {
                    break;
                }
            }
            Op::Interrupt => {}
            Op::Shutdown => break,
        }
    }
    // Joining the engine thread blocks briefly while it frees the model.
    let _ = tokio::task::spawn_blocking(move || drop(engine)).await;
    conversation
}

/// Runs one turn; returns true if a shutdown arrived meanwhile.
async fn turn(
    engine: &Engine,
    config: &CoreConfig,
    conversation: &mut Conversation,
    text: String,
    ops: &mut mpsc::UnboundedReceiver<Op>,
    events: &mpsc::Sender<Event>,
) -> bool {
    conversation.push(ChatMessage::new(Role::User, text));
    let cancel = Arc::new(AtomicBool::new(false));
    let (output_tx, mut output) = mpsc::channel(PIECE_BUFFER);
    let job = Job {
        messages: conversation.prompt(),
        sampling: config.sampling.clone(),
        cancel: cancel.clone(),
        output: output_tx,
    };
    if let Err(error) = engine.submit(job) {
        let unsent = conversation
            .take_unanswered()
            .map(|m| m.content)
            .unwrap_or_default();
        let _ = events.send(Event::TurnFailed { error, unsent }).await;
        return false;
    }
    let _ = events.send(Event::TurnStarted).await;
    let mut answer = String::new();
    let mut shutdown = false;
    loop {
        tokio::select! {
            op = ops.recv(), if !shutdown => match op {
                Some(Op::Interrupt) => cancel.store(true, Ordering::Relaxed),
                Some(Op::Submit { .. }) => {
                    let _ = events.send(Event::Refused { reason: "an answer is still being generated; interrupt it first".into() }).await;
                }
                Some(Op::Shutdown) | None => {
                    cancel.store(true, Ordering::Relaxed);
                    shutdown = true;
                }
            },
            out = output.recv() => match out {
                Some(Output::Piece(piece)) => {
                    answer.push_str(&piece);
                    let _ = events.send(Event::TokenDelta { text: piece }).await;
                }
                Some(Output::Trimmed { dropped_messages }) => {
                    conversation.drop_oldest(dropped_messages);
                    let _ = events.send(Event::HistoryTrimmed { dropped_messages }).await;
                }
                Some(Output::Done { finish, stats }) => {
                    conversation.push(ChatMessage::new(Role::Assistant, std::mem::take(&mut answer)));
                    let _ = events.send(Event::TurnComplete { finish, stats }).await;
                    return shutdown;
                }
                Some(Output::Failed(error)) => {
                    let unsent = conversation.take_unanswered().map(|m| m.content).unwrap_or_default();
                    let _ = events.send(Event::TurnFailed { error, unsent }).await;
                    return shutdown;
                }
                None => {
                    let unsent = conversation.take_unanswered().map(|m| m.content).unwrap_or_default();
                    let _ = events.send(Event::TurnFailed { error: EngineError::Gone, unsent }).await;
                    return shutdown;
                }
            },
        }
    }
}
