//! The real engine with the real default model: determinism, KV reuse, cancellation,
//! context overflow. Assertions are on text and token counts, never on time.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use libre_assistant::engine::{
    ChatMessage, Engine, EngineConfig, EngineError, Finish, Job, Output, Role, SamplingParams,
    TurnStats,
};

fn config(model_path: std::path::PathBuf, context: u32) -> EngineConfig {
    support::engine_config(model_path, context)
}

fn engine(context: u32) -> Engine {
    Engine::start(config(support::smollm(), context)).expect("the default model loads")
}

fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams {
        temperature: 0.0,
        max_tokens,
        ..SamplingParams::default()
    }
}

/// Everything one job produced.
#[derive(Debug, Default)]
struct Answer {
    text: String,
    trimmed: usize,
    finish: Option<Finish>,
    stats: TurnStats,
    error: Option<EngineError>,
}

fn ask(
    engine: &Engine,
    messages: Vec<ChatMessage>,
    sampling: SamplingParams,
    cancel_after: Option<usize>,
) -> Answer {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let cancel = Arc::new(AtomicBool::new(false));
    engine
        .submit(Job {
            messages,
            sampling,
            tools: None,
            cancel: cancel.clone(),
            output: tx,
        })
        .unwrap();
    let mut answer = Answer::default();
    let mut pieces = 0;
    while let Some(out) = rx.blocking_recv() {
        match out {
            Output::Trimmed { dropped_messages } => answer.trimmed += dropped_messages,
            Output::Offered(_) => panic!("this job offers no tools"),
            Output::Waiting => panic!("no other engine shares a lock with this one"),
            Output::Piece(p) => {
                answer.text.push_str(&p);
                pieces += 1;
                if cancel_after == Some(pieces) {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            Output::Done { finish, stats } => {
                answer.finish = Some(finish);
                answer.stats = stats;
                break;
            }
            Output::Failed(e) => {
                answer.error = Some(e);
                break;
            }
        }
    }
    answer
}

fn user(text: &str) -> ChatMessage {
    ChatMessage::new(Role::User, text)
}

fn system() -> ChatMessage {
    ChatMessage::new(Role::System, "You are a helpful assistant.")
}

#[test]
fn greedy_answers_are_identical_run_to_run() {
    let a = ask(
        &engine(1024),
        vec![system(), user("Name three colours.")],
        greedy(32),
        None,
    );
    let b = ask(
        &engine(1024),
        vec![system(), user("Name three colours.")],
        greedy(32),
        None,
    );
    assert!(!a.text.trim().is_empty(), "the model answered: {a:?}");
    assert_eq!(a.text, b.text);
    assert_eq!(a.stats.generated_tokens, b.stats.generated_tokens);
}

#[test]
fn seeded_sampling_is_reproducible() {
    let sampling = SamplingParams {
        temperature: 0.9,
        seed: Some(7),
        max_tokens: 24,
        ..SamplingParams::default()
    };
    let e = engine(1024);
    let a = ask(&e, vec![user("Tell me a word.")], sampling.clone(), None);
    let b = ask(&e, vec![user("Tell me a word.")], sampling, None);
    assert_eq!(a.text, b.text);
}

#[test]
fn a_follow_up_turn_decodes_only_the_new_tokens() {
    let e = engine(2048);
    let mut messages = vec![system(), user("What is the capital of France?")];
    let first = ask(&e, messages.clone(), greedy(24), None);
    assert_eq!(first.stats.prompt_tokens_reused, 0);
    assert_eq!(first.stats.prompt_tokens_decoded, first.stats.prompt_tokens);

    messages.push(ChatMessage::new(Role::Assistant, first.text.clone()));
    messages.push(user("And of Italy?"));
    let second = ask(&e, messages, greedy(24), None);
    let s = &second.stats;
    assert!(
        s.prompt_tokens_reused >= first.stats.prompt_tokens,
        "the whole first prompt is reused: {s:?}"
    );
    assert_eq!(
        s.prompt_tokens_reused + s.prompt_tokens_decoded,
        s.prompt_tokens
    );
    let new_tokens = s.prompt_tokens - first.stats.prompt_tokens;
    assert!(
        s.prompt_tokens_decoded <= new_tokens,
        "decoded {} of {new_tokens} new tokens",
        s.prompt_tokens_decoded
    );
    assert!(
        s.prompt_tokens_decoded < new_tokens.saturating_sub(first.stats.generated_tokens) + 4,
        "the answer's own tokens are in the cache too: {s:?}, first answer {} tokens",
        first.stats.generated_tokens
    );
}

#[test]
fn a_prefilled_conversation_leaves_only_the_new_message_to_decode() {
    let history = vec![
        system(),
        user("What is the capital of France?"),
        ChatMessage::new(Role::Assistant, "The capital of France is Paris."),
    ];
    let mut messages = history.clone();
    messages.push(user("And of Italy?"));

    let cold = ask(&engine(2048), messages.clone(), greedy(24), None);

    let e = engine(2048);
    e.prefill(history, None).unwrap();
    // Jobs run in order, so this one finds the prefilled conversation in the cache.
    let warm = ask(&e, messages, greedy(24), None);
    let s = &warm.stats;
    assert_eq!(s.prompt_tokens, cold.stats.prompt_tokens);
    assert!(
        s.prompt_tokens_reused + 12 >= s.prompt_tokens && s.prompt_tokens_decoded <= 12,
        "only the new message and its template tokens are decoded: {s:?}"
    );
    assert_eq!(
        warm.text, cold.text,
        "prefilling does not change the answer"
    );
}

#[test]
fn prefilling_an_empty_conversation_is_harmless() {
    let e = engine(1024);
    e.prefill(Vec::new(), None).unwrap();
    let a = ask(&e, vec![user("Hello")], greedy(8), None);
    assert!(a.error.is_none(), "{:?}", a.error);
    assert!(!a.text.is_empty());
}

#[test]
fn the_same_prompt_twice_decodes_one_token() {
    let e = engine(1024);
    let messages = vec![system(), user("Hello")];
    let a = ask(&e, messages.clone(), greedy(8), None);
    // The answer's tokens were appended to the cache; asking the same prompt again reuses the
    // prompt and decodes only the last token to get fresh logits.
    let b = ask(&e, messages, greedy(8), None);
    assert_eq!(b.stats.prompt_tokens_decoded, 1);
    assert_eq!(a.text, b.text, "reuse does not change the answer");
}

#[test]
fn cancelling_stops_generation_and_keeps_the_partial_answer() {
    let e = engine(1024);
    let answer = ask(
        &e,
        vec![user("Write a long story about a dragon.")],
        greedy(400),
        Some(3),
    );
    assert_eq!(answer.finish, Some(Finish::Cancelled));
    assert!(!answer.text.is_empty());
    assert!(
        answer.stats.generated_tokens < 10,
        "stopped promptly: {:?}",
        answer.stats
    );
    // The engine is still usable afterwards.
    let next = ask(&e, vec![user("Say yes.")], greedy(8), None);
    assert!(next.finish.is_some());
}

#[test]
fn max_tokens_ends_with_length() {
    let answer = ask(
        &engine(1024),
        vec![user("Count from one to one hundred.")],
        greedy(5),
        None,
    );
    assert_eq!(answer.finish, Some(Finish::Length));
    assert_eq!(answer.stats.generated_tokens, 5);
}

#[test]
fn an_overflowing_history_drops_the_oldest_turns_and_keeps_the_system_prompt() {
    let e = engine(256);
    let filler = "lorem ipsum dolor sit amet ".repeat(12);
    let mut messages = vec![system()];
    for i in 0..6 {
        messages.push(user(&format!("Message {i}: {filler}")));
        messages.push(ChatMessage::new(Role::Assistant, filler.clone()));
    }
    messages.push(user("Say hi."));
    let answer = ask(&e, messages, greedy(16), None);
    assert!(answer.error.is_none(), "{:?}", answer.error);
    assert!(
        answer.trimmed >= 2 && answer.trimmed.is_multiple_of(2),
        "whole turns dropped: {}",
        answer.trimmed
    );
    assert!(answer.stats.prompt_tokens + 16 <= 256 || answer.finish == Some(Finish::ContextFull));
}

#[test]
fn once_history_is_trimmed_the_next_turns_keep_the_window_and_reuse_its_cache() {
    let e = engine(512);
    let filler = "lorem ipsum dolor sit amet ".repeat(3);
    let mut messages = vec![system()];
    for i in 0..12 {
        messages.push(user(&format!("Message {i}: {filler}")));
        messages.push(ChatMessage::new(Role::Assistant, filler.clone()));
    }
    messages.push(user("Say hi."));
    let first = ask(&e, messages.clone(), greedy(8), None);
    assert!(first.error.is_none(), "{:?}", first.error);
    assert!(first.trimmed > 0, "the history did not fit");
    // As the core does, the messages left out stay out. Three more turns, each a short answer
    // and question: the window fits as it is, and only the new turn is decoded.
    messages.drain(1..1 + first.trimmed);
    let mut last = first;
    for question in ["Say bye.", "Say yes.", "Say no."] {
        messages.push(ChatMessage::new(Role::Assistant, last.text.clone()));
        messages.push(user(question));
        let next = ask(&e, messages.clone(), greedy(8), None);
        assert!(next.error.is_none(), "{:?}", next.error);
        assert_eq!(
            next.trimmed, 0,
            "the window stays where it was: {:?}",
            next.stats
        );
        assert!(
            next.stats.prompt_tokens_decoded <= 40,
            "only the new turn is decoded: {:?}",
            next.stats
        );
        last = next;
    }
}

#[test]
fn a_prompt_longer_than_the_context_is_an_error_not_a_crash() {
    let e = engine(256);
    let answer = ask(
        &e,
        vec![system(), user(&"word ".repeat(400))],
        greedy(8),
        None,
    );
    match answer.error {
        Some(EngineError::PromptTooLong { tokens, context }) => {
            assert_eq!(context, e.info().context);
            assert!(tokens > context);
        }
        other => panic!("expected PromptTooLong, got {other:?}"),
    }
    // And the engine still answers a short prompt.
    assert!(ask(&e, vec![user("Hi")], greedy(4), None).finish.is_some());
}

#[test]
fn a_truncated_model_fails_to_load_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("cut.gguf");
    let bytes = std::fs::read(support::smollm()).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let err = Engine::start(config(truncated.clone(), 512))
        .err()
        .expect("a truncated model does not load");
    assert_eq!(err, EngineError::Load { path: truncated });
}

#[test]
fn the_models_own_template_is_used_unless_overridden() {
    use libre_assistant::engine::TemplateSource;
    let own = engine(512);
    assert_eq!(own.info().template, TemplateSource::Model);
    let a = ask(&own, vec![user("Hi")], greedy(1), None);

    let overridden = Engine::start(EngineConfig {
        chat_template: Some("llama3".into()),
        ..config(support::smollm(), 512)
    })
    .unwrap();
    assert_eq!(
        overridden.info().template,
        TemplateSource::Override("llama3".into())
    );
    let b = ask(&overridden, vec![user("Hi")], greedy(1), None);
    assert_ne!(
        a.stats.prompt_tokens, b.stats.prompt_tokens,
        "a different template renders a different prompt"
    );
}

/// A copy of the default model without its chat template, in `dir`: the template's key is
/// renamed in place (same length, so the file layout is unchanged).
fn without_template(dir: &std::path::Path) -> std::path::PathBuf {
    let mut bytes = std::fs::read(support::smollm()).unwrap();
    let key = b"tokenizer.chat_template";
    let at = bytes
        .windows(key.len())
        .position(|w| w == key)
        .expect("SmolLM2 carries a template");
    bytes[at + key.len() - 1] = b'X';
    let bare = dir.join("no-template.gguf");
    std::fs::write(&bare, &bytes).unwrap();
    assert!(
        !libre_assistant::models::gguf::metadata(&bare)
            .unwrap()
            .has_chat_template
    );
    bare
}

/// No ChatML markup, whole or in part, in an answer.
fn assert_no_markup(answer: &Answer) {
    for marker in ["<|", "|>", "im_start", "im_end", "endoftext"] {
        assert!(!answer.text.contains(marker), "markup shown: {answer:?}");
    }
}

#[test]
fn a_model_without_a_template_falls_back_to_chatml() {
    use libre_assistant::engine::TemplateSource;
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::start(config(without_template(dir.path()), 512)).unwrap();
    assert_eq!(e.info().template, TemplateSource::Fallback);
    let answer = ask(&e, vec![system(), user("Say hello.")], greedy(64), None);
    assert!(
        answer.error.is_none() && !answer.text.trim().is_empty(),
        "{answer:?}"
    );
    assert_eq!(answer.finish, Some(Finish::Stop), "{answer:?}");
    assert_no_markup(&answer);
}

#[test]
fn without_a_template_the_next_chatml_turn_ends_the_answer() {
    // With end-of-generation tokens ignored, SmolLM2 goes on after its answer with ChatML's
    // `<|im_start|>`: a control token that prints nothing, so the next turn's markup
    // ("assistant", "user" …) would run on as text to the token limit. It is a stop string.
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::start(config(without_template(dir.path()), 512)).unwrap();
    let sampling = SamplingParams {
        ignore_eos: true,
        ..greedy(96)
    };
    let answer = ask(&e, vec![system(), user("Say hello.")], sampling, None);
    assert_eq!(answer.finish, Some(Finish::Stop), "{answer:?}");
    assert!(answer.stats.generated_tokens < 96, "{answer:?}");
    assert!(!answer.text.trim().is_empty(), "{answer:?}");
    assert_no_markup(&answer);
}

#[test]
fn a_stop_string_ends_the_answer_before_it() {
    let e = engine(512);
    let messages = || vec![system(), user("Why is the sky blue?")];
    let full = ask(&e, messages(), greedy(48), None);
    // A word from the middle of the greedy answer, several tokens long.
    let words: Vec<&str> = full.text.split_whitespace().collect();
    assert!(words.len() > 8, "{full:?}");
    let stop = format!(" {} {}", words[5], words[6]);
    let at = full
        .text
        .find(&stop)
        .expect("the answer holds its own words");
    let sampling = SamplingParams {
        stop: vec!["never written".into(), stop.clone()],
        ..greedy(48)
    };
    let cut = ask(&e, messages(), sampling, None);
    assert_eq!(cut.finish, Some(Finish::Stop), "{cut:?}");
    assert_eq!(cut.text, full.text[..at], "stopped before {stop:?}");
}

/// Whether this process maps `path`.
fn mapped(path: &std::path::Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let path = path.canonicalize().unwrap();
    maps.lines().any(|l| l.ends_with(&*path.to_string_lossy()))
}

#[test]
fn the_model_file_is_read_into_memory_unless_mmap_is_asked_for() {
    // Every other engine of these tests reads the file (support::engine_config).
    let model = support::smollm();
    let read = Engine::start(config(model.clone(), 512)).unwrap();
    assert!(!mapped(&model), "engine.mmap = false maps nothing");
    drop(read);
    let mapping = Engine::start(EngineConfig {
        mmap: true,
        ..config(model.clone(), 512)
    })
    .unwrap();
    assert!(mapped(&model), "engine.mmap = true maps the file");
    drop(mapping);
}
