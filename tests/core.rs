//! The core with the real default model: loading in the background, turns, regenerate, take
//! back, clear, the system prompt, the journal and resuming. Greedy sampling, short answers.

mod support;

use libre_assistant::backend::{Backend, BackendConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

use libre_assistant::core::{self, Conversation, CoreConfig, CoreHandle, Event, Journal, Op};
use libre_assistant::engine::{
    ChatMessage, Engine, EngineConfig, EngineError, Finish, Role, SamplingParams, TurnStats,
};
use libre_assistant::sessions::Store;

/// Generous: a test that waits this long is stuck, not slow.
const PATIENCE: Duration = Duration::from_secs(120);

fn engine_config(model_path: PathBuf) -> EngineConfig {
    support::engine_config(model_path, 512)
}

fn core_config(max_tokens: u32) -> CoreConfig {
    CoreConfig {
        system_prompt: "You are a helpful assistant.".into(),
        sampling: SamplingParams {
            temperature: 0.0,
            max_tokens,
            ..SamplingParams::default()
        },
        resume: None,
        journal: None,
        tools: None,
    }
}

/// A core with the default model already loaded.
async fn loaded(config: CoreConfig) -> CoreHandle {
    let engine = tokio::task::spawn_blocking(|| Engine::start(engine_config(support::smollm())))
        .await
        .unwrap()
        .expect("the default model loads");
    core::spawn(Some(Backend::Local(engine)), config)
}

async fn next(core: &mut CoreHandle) -> Event {
    tokio::time::timeout(PATIENCE, core.events.recv())
        .await
        .expect("an event within the patience")
        .expect("the core is running")
}

/// How a turn went: the answer text and its end (`TurnComplete` or `TurnFailed`).
#[derive(Debug)]
struct Turn {
    text: String,
    end: Event,
}

impl Turn {
    fn stats(&self) -> &TurnStats {
        match &self.end {
            Event::TurnComplete { stats, .. } => stats,
            other => panic!("the turn did not complete: {other:?}"),
        }
    }
}

/// Collects events up to the end of a turn; anything other than the turn's own is a failure.
async fn turn(core: &mut CoreHandle) -> Turn {
    let mut text = String::new();
    loop {
        match next(core).await {
            Event::TurnStarted => {}
            Event::TokenDelta { text: t } => text.push_str(&t),
            end @ (Event::TurnComplete { .. } | Event::TurnFailed { .. }) => {
                return Turn { text, end };
            }
            other => panic!("unexpected event during a turn: {other:?}"),
        }
    }
}

async fn ask(core: &mut CoreHandle, text: &str) -> Turn {
    core.ops.send(Op::Submit { text: text.into() }).unwrap();
    turn(core).await
}

async fn shut_down(core: CoreHandle) -> Conversation {
    core.ops.send(Op::Shutdown).unwrap();
    tokio::time::timeout(PATIENCE, core.task)
        .await
        .expect("the core stops")
        .expect("the core task did not panic")
}

fn user(text: &str) -> ChatMessage {
    ChatMessage::new(Role::User, text)
}

fn assistant(text: &str) -> ChatMessage {
    ChatMessage::new(Role::Assistant, text)
}

/// Waits for the end of a load; returns every event it sent, the end included.
async fn load_events(core: &mut CoreHandle) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let event = next(core).await;
        let end = matches!(
            event,
            Event::ModelLoaded { .. } | Event::ModelLoadFailed { .. }
        );
        events.push(event);
        if end {
            return events;
        }
    }
}

#[tokio::test]
async fn a_core_without_a_model_gives_the_text_back_then_loads_one_in_the_background() {
    let mut core = core::spawn(None, core_config(8));
    let failed = ask(&mut core, "Hello").await;
    assert_eq!(
        failed.end,
        Event::TurnFailed {
            error: EngineError::NoModel,
            unsent: "Hello".into()
        }
    );

    let path = support::smollm();
    let load = Op::LoadModel {
        config: BackendConfig::Local(engine_config(path.clone())),
    };
    core.ops.send(load.clone()).unwrap();
    core.ops.send(load).unwrap();
    core.ops.send(Op::Submit { text: "Hi".into() }).unwrap();
    let (progress, others): (Vec<Event>, Vec<Event>) = load_events(&mut core)
        .await
        .into_iter()
        .partition(|e| matches!(e, Event::ModelLoadProgress { .. }));
    let fractions: Vec<f32> = progress
        .iter()
        .filter_map(|e| {
            if let Event::ModelLoadProgress { fraction } = e {
                Some(*fraction)
            } else {
                None
            }
        })
        .collect();
    assert!(!fractions.is_empty(), "progress was reported");
    assert!(
        fractions.windows(2).all(|w| w[0] <= w[1])
            && fractions.iter().all(|f| (0.0..=1.0).contains(f)),
        "{fractions:?}"
    );
    let info = match others.last() {
        Some(Event::ModelLoaded { info }) => info.clone(),
        other => panic!("expected ModelLoaded, got {other:?}"),
    };
    assert_eq!(info.path, path);
    assert_eq!(
        others,
        [
            Event::ModelLoading { path: path.clone() },
            Event::Refused {
                reason: "a model is already loading; wait for it to finish".into()
            },
            // No model while one loads.
            Event::TurnFailed {
                error: EngineError::NoModel,
                unsent: "Hi".into()
            },
            Event::ModelLoaded { info },
        ]
    );

    let answer = ask(&mut core, "Say hello.").await;
    assert!(answer.stats().generated_tokens > 0, "{answer:?}");
    let transcript = shut_down(core).await;
    assert_eq!(
        transcript.messages(),
        [user("Say hello."), assistant(&answer.text)]
    );
}

#[tokio::test]
async fn regenerating_greedily_gives_the_same_single_answer() {
    let mut core = loaded(core_config(12)).await;
    core.ops.send(Op::Regenerate).unwrap();
    assert_eq!(
        next(&mut core).await,
        Event::Refused {
            reason: "there is no answer to regenerate yet".into()
        }
    );
    let first = ask(&mut core, "Name a colour.").await;
    core.ops.send(Op::Regenerate).unwrap();
    let again = turn(&mut core).await;
    assert!(!first.text.is_empty());
    assert_eq!(again.text, first.text);
    assert_eq!(again.stats().prompt_tokens, first.stats().prompt_tokens);
    let transcript = shut_down(core).await;
    assert_eq!(
        transcript.messages(),
        [user("Name a colour."), assistant(&first.text)]
    );
}

#[tokio::test]
async fn retracting_gives_the_message_back_and_clearing_empties_the_conversation() {
    let mut core = loaded(core_config(8)).await;
    ask(&mut core, "First question").await.stats();
    ask(&mut core, "Second question").await.stats();
    core.ops.send(Op::RetractLast).unwrap();
    assert_eq!(
        next(&mut core).await,
        Event::Retracted {
            text: "Second question".into()
        }
    );
    core.ops.send(Op::RetractLast).unwrap();
    assert_eq!(
        next(&mut core).await,
        Event::Retracted {
            text: "First question".into()
        }
    );
    core.ops.send(Op::RetractLast).unwrap();
    assert_eq!(
        next(&mut core).await,
        Event::Refused {
            reason: "there is no message to take back".into()
        }
    );

    ask(&mut core, "Third question").await.stats();
    core.ops
        .send(Op::SetSystemPrompt {
            text: "Answer in French.".into(),
        })
        .unwrap();
    assert_eq!(
        next(&mut core).await,
        Event::SystemPromptSet {
            text: "Answer in French.".into()
        }
    );
    core.ops.send(Op::Clear).unwrap();
    assert_eq!(next(&mut core).await, Event::Cleared);
    assert_eq!(
        shut_down(core).await,
        Conversation::new("Answer in French.")
    );
}

#[tokio::test]
async fn ops_that_change_the_conversation_wait_for_the_answer_to_stop() {
    let mut core = loaded(core_config(400)).await;
    core.ops
        .send(Op::Submit {
            text: "Write a long story about a dragon.".into(),
        })
        .unwrap();
    assert_eq!(next(&mut core).await, Event::TurnStarted);
    for op in [
        Op::Submit { text: "x".into() },
        Op::Regenerate,
        Op::RetractLast,
        Op::Clear,
        Op::LoadModel {
            config: BackendConfig::Local(engine_config(support::smollm())),
        },
        Op::SetSystemPrompt { text: "".into() },
        Op::Interrupt,
    ] {
        core.ops.send(op).unwrap();
    }
    let mut others = Vec::new();
    let end = loop {
        match next(&mut core).await {
            Event::TokenDelta { .. } => {}
            end @ Event::TurnComplete { .. } => break end,
            other => others.push(other),
        }
    };
    let busy = Event::Refused {
        reason: "an answer is still being generated; stop the answer first".into(),
    };
    let mut expected = vec![busy; 5];
    expected.push(Event::SystemPromptSet { text: "".into() });
    assert_eq!(others, expected);
    match end {
        Event::TurnComplete { finish, .. } => assert_eq!(finish, Finish::Cancelled),
        other => panic!("{other:?}"),
    }
    let transcript = shut_down(core).await;
    assert_eq!(transcript.system_prompt(), "");
    assert_eq!(transcript.messages().len(), 2, "the partial answer is kept");
}

#[tokio::test]
async fn a_bad_model_fails_to_load_and_leaves_no_model_until_a_good_one_loads() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-a-model.gguf");
    std::fs::write(&bad, "this is not a GGUF file\n".repeat(100)).unwrap();
    let mut core = loaded(core_config(8)).await;
    core.ops
        .send(Op::LoadModel {
            config: BackendConfig::Local(engine_config(bad.clone())),
        })
        .unwrap();
    let events = load_events(&mut core).await;
    assert_eq!(
        events.first(),
        Some(&Event::ModelLoading { path: bad.clone() })
    );
    assert_eq!(
        events.last(),
        Some(&Event::ModelLoadFailed {
            error: EngineError::Load { path: bad }
        })
    );
    // The previous model was freed before the load (to keep peak memory low).
    let failed = ask(&mut core, "Hello").await;
    assert_eq!(
        failed.end,
        Event::TurnFailed {
            error: EngineError::NoModel,
            unsent: "Hello".into()
        }
    );
    core.ops
        .send(Op::LoadModel {
            config: BackendConfig::Local(engine_config(support::smollm())),
        })
        .unwrap();
    assert!(matches!(
        load_events(&mut core).await.last(),
        Some(Event::ModelLoaded { .. })
    ));
    ask(&mut core, "Hello").await.stats();
    shut_down(core).await;
}

fn journaled(journal: Journal, resume: Option<Conversation>) -> CoreConfig {
    CoreConfig {
        journal: Some(journal),
        tools: None,
        resume,
        ..core_config(12)
    }
}

fn store(dir: &Path) -> Store {
    Store::open(dir).unwrap().0
}

/// Session `id` as saved, read through a connection of its own.
fn saved(dir: &Path, id: i64) -> Conversation {
    let session = store(dir).load(id).unwrap();
    let messages = session.messages.into_iter().map(|s| s.message).collect();
    Conversation::from_parts(&session.system, messages)
}

#[tokio::test]
async fn the_session_holds_the_conversation_and_a_resumed_one_goes_on_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut core = loaded(journaled(Journal::new(store(dir.path())), None)).await;
    ask(&mut core, "My name is Ada.").await.stats();
    let list = store(dir.path()).list().unwrap();
    assert_eq!(list.len(), 1, "one session");
    let id = list[0].id;
    assert_eq!(list[0].title, "My name is Ada.");
    assert!(
        list[0].tokens > 0 && !list[0].model.is_empty(),
        "{:?}",
        list[0]
    );
    assert_eq!(
        saved(dir.path(), id),
        shut_down(core).await,
        "saved by the time the turn ended"
    );

    let mut fresh = loaded(core_config(12)).await;
    let fresh_stats = ask(&mut fresh, "What is my name?").await.stats().clone();
    shut_down(fresh).await;

    let resumed_from = saved(dir.path(), id);
    let journal = Journal::resuming(store(dir.path()), id, resumed_from.messages().to_vec());
    let mut resumed = loaded(journaled(journal, Some(resumed_from.clone()))).await;
    let stats = ask(&mut resumed, "What is my name?").await.stats().clone();
    assert!(
        stats.prompt_tokens > fresh_stats.prompt_tokens + 5,
        "the model saw the earlier exchange: {} vs {} tokens",
        stats.prompt_tokens,
        fresh_stats.prompt_tokens
    );
    let transcript = shut_down(resumed).await;
    assert_eq!(transcript.messages()[..2], resumed_from.messages()[..]);
    assert_eq!(transcript.messages().len(), 4);
    assert_eq!(
        store(dir.path()).list().unwrap().len(),
        1,
        "it went on in the same session"
    );
    assert_eq!(saved(dir.path(), id), transcript);
}

#[tokio::test]
async fn clearing_starts_a_new_session() {
    let dir = tempfile::tempdir().unwrap();
    let mut core = loaded(journaled(Journal::new(store(dir.path())), None)).await;
    ask(&mut core, "One").await.stats();
    let first = store(dir.path()).latest().unwrap().unwrap();
    core.ops.send(Op::Clear).unwrap();
    assert_eq!(next(&mut core).await, Event::Cleared);
    assert_eq!(
        store(dir.path()).list().unwrap().len(),
        1,
        "an empty one is not saved"
    );
    ask(&mut core, "Two").await.stats();
    let second = store(dir.path()).latest().unwrap().unwrap();
    assert_ne!(second, first);
    assert_eq!(saved(dir.path(), first).messages()[0], user("One"));
    assert_eq!(saved(dir.path(), second), shut_down(core).await);
}

#[tokio::test]
async fn a_session_that_cannot_be_written_is_reported_once_and_the_conversation_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // Session 99 does not exist (another instance removed it): every save fails.
    let journal = Journal::resuming(store(dir.path()), 99, Vec::new());
    let mut core = loaded(journaled(journal, None)).await;
    core.ops.send(Op::Submit { text: "Hi".into() }).unwrap();
    match next(&mut core).await {
        Event::JournalFailed { error } => {
            let db = dir.path().join("sessions.db");
            assert!(error.contains(&db.display().to_string()), "{error}");
            assert!(
                error.ends_with("FOREIGN KEY constraint failed; the conversation goes on unsaved"),
                "{error}"
            );
        }
        other => panic!("expected JournalFailed, got {other:?}"),
    }
    turn(&mut core).await.stats();
    ask(&mut core, "Again").await.stats();
    assert_eq!(shut_down(core).await.messages().len(), 4);
}

#[tokio::test]
async fn between_turns_the_conversation_is_prefilled_so_a_question_decodes_only_itself() {
    let engine = tokio::task::spawn_blocking(|| Engine::start(engine_config(support::smollm())))
        .await
        .unwrap()
        .expect("the default model loads");
    let mut prefills = engine.prefills();
    let mut core = core::spawn(Some(Backend::Local(engine)), core_config(16));
    // The core prefills once the prompt has been still for a quarter of a second.
    prefilled(&mut prefills, 1).await;
    let first = ask(&mut core, "What is the capital of France?").await;
    let s = first.stats();
    assert!(
        s.prompt_tokens_reused > 0 && s.prompt_tokens_decoded < s.prompt_tokens,
        "the system prompt was prefilled on load: {s:?}"
    );
    prefilled(&mut prefills, 2).await;
    let second = ask(&mut core, "And of Italy?").await;
    let s = second.stats();
    assert!(
        s.prompt_tokens_decoded <= 16,
        "after the answer, the turn's closing tokens were prefilled too: {s:?}"
    );
    shut_down(core).await;
}

/// Waits until the engine has finished `count` prefills.
async fn prefilled(prefills: &mut tokio::sync::watch::Receiver<u64>, count: u64) {
    tokio::time::timeout(PATIENCE, prefills.wait_for(|done| *done >= count))
        .await
        .expect("the prefill within the patience")
        .expect("the engine is running");
}
