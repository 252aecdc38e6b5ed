//! One answer from an engine, for the engine tests.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use libre_assistant::engine::{
    ChatMessage, Engine, Finish, Job, Output, SamplingParams, TurnStats,
};

/// The answer to `messages` (no tools): its text and stats. Fails the test if the turn fails,
/// is cancelled, or the conversation had to be trimmed to fit.
pub fn answer(
    engine: &Engine,
    messages: &[ChatMessage],
    sampling: &SamplingParams,
) -> (String, TurnStats) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    engine
        .submit(Job {
            messages: messages.to_vec(),
            sampling: sampling.clone(),
            tools: None,
            cancel: Arc::new(AtomicBool::new(false)),
            output: tx,
        })
        .unwrap();
    let mut text = String::new();
    while let Some(out) = rx.blocking_recv() {
        match out {
            Output::Trimmed { .. } => panic!("the conversation fits the context"),
            Output::Offered(_) | Output::Waiting => {}
            Output::Piece(p) => text.push_str(&p),
            Output::Done { finish, stats } => {
                assert_ne!(finish, Finish::Cancelled);
                return (text, stats);
            }
            Output::Failed(e) => panic!("the turn failed: {e}"),
        }
    }
    panic!("the engine stopped without an answer")
}
