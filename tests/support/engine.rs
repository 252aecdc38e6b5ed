//! One answer from an engine, for the engine tests.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use libre_assistant::engine::{
    ChatMessage, Engine, EngineConfig, Finish, Job, Output, Role, SamplingParams, TurnStats,
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

/// Each question answered by an engine on `plain`, then by one on `drafting` (one engine at a
/// time): the texts and token counts must be equal, and `plain` must draft nothing. Returns
/// the drafting runs' stats.
pub fn same_answers(
    plain: EngineConfig,
    drafting: EngineConfig,
    questions: &[&str],
    sampling: &SamplingParams,
) -> Vec<TurnStats> {
    let ask = |engine: &Engine, question: &str| {
        answer(engine, &[ChatMessage::new(Role::User, question)], sampling)
    };
    let engine = Engine::start(plain).expect("the model loads");
    let expected: Vec<(String, TurnStats)> = questions.iter().map(|q| ask(&engine, q)).collect();
    drop(engine);
    let engine = Engine::start(drafting).expect("the model and its drafts load");
    let mut stats = Vec::new();
    for (question, (want, plain)) in questions.iter().zip(expected) {
        let (got, s) = ask(&engine, question);
        assert!(!want.trim().is_empty(), "an answer to {question:?}");
        assert_eq!(got, want, "the drafted answer to {question:?}");
        assert_eq!(plain.draft_tokens, 0, "nothing drafted without drafts");
        assert_eq!(s.generated_tokens, plain.generated_tokens);
        assert!(s.draft_accepted <= s.draft_tokens, "{s:?}");
        stats.push(s);
    }
    stats
}
