//! The prompt cache with the real default model: a conversation saved when one engine is
//! dropped is restored by the next engine on the same model file, and never by another; a bad
//! file is ignored and removed; the size cap evicts the least recently used state. Assertions
//! are on text, token counts and files, never on time (the times are only printed).

mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use libre_assistant::engine::{
    ChatMessage, Engine, EngineConfig, FlashAttention, KvType, PromptCacheConfig, Role,
    SamplingParams, TurnStats, model_key,
};

const CONTEXT: u32 = 2048;

fn config(dir: Option<&Path>, key: &str, max_bytes: u64) -> EngineConfig {
    EngineConfig {
        prompt_cache: dir.map(|dir| PromptCacheConfig {
            dir: dir.to_path_buf(),
            model_key: key.into(),
            max_bytes,
        }),
        ..support::engine_config(support::smollm(), CONTEXT)
    }
}

fn engine(dir: Option<&Path>, key: &str) -> Engine {
    Engine::start(config(dir, key, 1 << 30)).expect("the default model loads")
}

/// The answer's text and stats (greedy, 16 tokens at most).
fn ask(engine: &Engine, messages: &[ChatMessage]) -> (String, TurnStats) {
    let sampling = SamplingParams {
        temperature: 0.0,
        max_tokens: 16,
        ..SamplingParams::default()
    };
    support::engine::answer(engine, messages, &sampling)
}

/// A conversation of about `words` words on `topic`, ending with a user message.
fn conversation(topic: &str, words: usize) -> Vec<ChatMessage> {
    let mut messages = vec![ChatMessage::new(
        Role::System,
        "You are a helpful assistant.",
    )];
    let mut said = 0;
    let mut turn = 0;
    while said < words {
        turn += 1;
        let question = format!(
            "Question {turn} about {topic}: tell me what you know about {topic}, its history, \
             the people who study {topic}, and why {topic} matters to everyday life in town number {turn}."
        );
        let answer = format!(
            "Here is what I know about {topic} in town {turn}. It has a long history; many people \
             study it carefully, and it matters because it shapes how we live, work and travel."
        );
        said += question.split_whitespace().count() + answer.split_whitespace().count();
        messages.push(ChatMessage::new(Role::User, question));
        messages.push(ChatMessage::new(Role::Assistant, answer));
    }
    messages.push(ChatMessage::new(
        Role::User,
        format!("Summarise {topic} in one line."),
    ));
    messages
}

/// `messages`, the answer to them, and one more question.
fn follow_up(messages: &[ChatMessage], answer: &str) -> Vec<ChatMessage> {
    let mut next = messages.to_vec();
    next.push(ChatMessage::new(Role::Assistant, answer));
    next.push(ChatMessage::new(Role::User, "And what about next year?"));
    next
}

/// The saved state files of `key`.
fn states(dir: &Path, key: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(key))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "state"));
    files.sort();
    files
}

/// The entries `key`'s index names: (file, n_tokens).
fn index(dir: &Path, key: &str) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(dir.join(key).join("index.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap().to_string(),
                e["n_tokens"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Answers `messages` in a fresh engine that is then dropped (which saves its state).
fn answer_and_drop(dir: &Path, key: &str, messages: &[ChatMessage]) -> (String, TurnStats) {
    let e = engine(Some(dir), key);
    let answer = ask(&e, messages);
    drop(e);
    answer
}

#[test]
fn a_reloaded_model_restores_the_conversation_from_disk() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path();
    let first = conversation("rivers", 420);
    let (answer, stats) = answer_and_drop(dir, "m", &first);
    assert!(
        (600..1000).contains(&stats.prompt_tokens),
        "about 600 tokens: {stats:?}"
    );
    assert_eq!(stats.prompt_tokens_restored, 0);
    let saved = states(dir, "m");
    assert_eq!(saved.len(), 1, "one state saved on drop");
    let bytes = std::fs::metadata(&saved[0]).unwrap().len();

    let second = follow_up(&first, &answer);
    let cached = engine(Some(dir), "m");
    let (restored_text, restored) = ask(&cached, &second);
    assert!(
        restored.prompt_tokens_restored >= 550,
        "the first conversation came from disk: {restored:?}"
    );
    assert_eq!(
        restored.prompt_tokens_reused,
        restored.prompt_tokens_restored
    );
    assert_eq!(
        restored.prompt_tokens_reused + restored.prompt_tokens_decoded,
        restored.prompt_tokens
    );
    let new_part = restored.prompt_tokens - stats.prompt_tokens;
    assert!(
        restored.prompt_tokens_decoded <= new_part,
        "decoded {} tokens of {new_part} new ones: {restored:?}",
        restored.prompt_tokens_decoded
    );

    // An engine without the cache that answered the same turns, its KV cache kept in memory,
    // answers the same. (One that decodes the second prompt from scratch splits it into other
    // batches, which changes float sums: its greedy answer may differ in a word either way.)
    let warm_engine = engine(None, "m");
    ask(&warm_engine, &first);
    let (warm_text, warm) = ask(&warm_engine, &second);
    assert_eq!(warm.prompt_tokens_decoded, restored.prompt_tokens_decoded);
    assert_eq!(
        restored_text, warm_text,
        "a restored state answers the same"
    );
    let cold_engine = engine(None, "m");
    let (cold_text, cold) = ask(&cold_engine, &second);
    assert_eq!(cold.prompt_tokens_reused, 0);
    assert!(!cold_text.is_empty());

    let dropping = Instant::now();
    drop(cached);
    let save_ms = dropping.elapsed().as_secs_f64() * 1000.0;
    eprintln!(
        "state file {bytes} bytes for {} tokens; second engine ttft {:.1} ms restored vs {:.1} ms \
         cold ({} tokens decoded vs {}); drop with save {save_ms:.1} ms",
        stats.prompt_tokens + stats.generated_tokens,
        restored.ttft_ms,
        cold.ttft_ms,
        restored.prompt_tokens_decoded,
        cold.prompt_tokens_decoded
    );
    // Fewer than 256 tokens more than the saved state: not saved again.
    assert_eq!(states(dir, "m"), saved);
    assert_eq!(index(dir, "m").len(), 1);

    // A conversation that goes on for 300 more words replaces the state it extends.
    let mut third = follow_up(&first, &answer);
    third.extend(conversation("rivers in spring", 300).into_iter().skip(1));
    let (_, longer) = answer_and_drop(dir, "m", &third);
    assert!(longer.prompt_tokens_restored >= 550, "{longer:?}");
    assert_eq!(index(dir, "m").len(), 1, "the old state is superseded");
    assert_ne!(states(dir, "m"), saved);
}

#[test]
fn another_model_key_does_not_use_the_state() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path();
    let first = conversation("mountains", 420);
    let (answer, _) = answer_and_drop(dir, "one", &first);
    let (_, other) = answer_and_drop(dir, "two", &follow_up(&first, &answer));
    assert_eq!(other.prompt_tokens_restored, 0);
    assert_eq!(other.prompt_tokens_reused, 0);
    assert_eq!(states(dir, "one").len(), 1);

    // A copy of the model file is keyed by its path, size and mtime: a changed file, a new key.
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("model.gguf");
    std::fs::copy(support::smollm(), &copy).unwrap();
    let before = model_key(&copy).unwrap();
    assert!(before.starts_with("file-"), "{before}");
    assert_eq!(model_key(&copy), Some(before.clone()), "stable");
    let file = std::fs::File::options().write(true).open(&copy).unwrap();
    file.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1))
        .unwrap();
    assert_ne!(model_key(&copy).unwrap(), before);
    // A verified store file is keyed by its recorded sha256.
    assert!(
        model_key(&support::smollm())
            .unwrap()
            .starts_with("sha256-")
    );
}

#[test]
fn a_damaged_state_file_is_ignored_and_removed_and_none_is_readable_by_others() {
    for damage in ["truncate", "garble", "flip"] {
        let cache = tempfile::tempdir().unwrap();
        let dir = cache.path();
        let first = conversation("forests", 420);
        let (answer, _) = answer_and_drop(dir, "m", &first);
        let saved = states(dir, "m");
        assert_eq!(saved.len(), 1);
        // Private at rest: the model's directory, its state and its index.
        let mode = |p: &Path| {
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions())
                & 0o777
        };
        assert_eq!(mode(&dir.join("m")), 0o700);
        assert_eq!(mode(&saved[0]), 0o600);
        assert_eq!(mode(&dir.join("m/index.json")), 0o600);
        let len = std::fs::metadata(&saved[0]).unwrap().len();
        let file = std::fs::File::options()
            .read(true)
            .write(true)
            .open(&saved[0])
            .unwrap();
        match damage {
            "truncate" => file.set_len(len / 2).unwrap(),
            "garble" => {
                std::os::unix::fs::FileExt::write_all_at(&file, b"not a state file", 0).unwrap()
            }
            // One bit of the KV data in the middle: llama.cpp would load it without noticing.
            _ => {
                let mut byte = [0];
                std::os::unix::fs::FileExt::read_exact_at(&file, &mut byte, len / 2).unwrap();
                std::os::unix::fs::FileExt::write_all_at(&file, &[byte[0] ^ 1], len / 2).unwrap();
            }
        }
        drop(file);

        let second = follow_up(&first, &answer);
        let e = engine(Some(dir), "m");
        let (text, stats) = ask(&e, &second);
        assert_eq!(stats.prompt_tokens_restored, 0, "{damage}: {stats:?}");
        assert_eq!(stats.prompt_tokens_decoded, stats.prompt_tokens, "{damage}");
        assert!(!saved[0].exists(), "{damage}: the bad file is removed");
        assert!(index(dir, "m").is_empty(), "{damage}: and its entry");
        let (cold_text, _) = ask(&engine(None, "m"), &second);
        assert_eq!(text, cold_text, "{damage}");
    }
}

#[test]
fn the_size_cap_evicts_the_least_recently_used_state() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path();
    let files = || -> Vec<String> { index(dir, "m").into_iter().map(|(f, _)| f).collect() };
    let [a, b, c] = ["lakes", "deserts", "islands"].map(|t| conversation(t, 230));
    answer_and_drop(dir, "m", &a);
    let file_a = files().pop().unwrap();
    answer_and_drop(dir, "m", &b);
    let file_b = files().into_iter().find(|f| *f != file_a).unwrap();
    let sizes: u64 = states(dir, "m")
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();

    // Asking A again restores it: A is now more recent than B.
    let (_, again) = answer_and_drop(dir, "m", &a);
    assert!(again.prompt_tokens_restored >= 256, "{again:?}");

    // Room for about two and a half states: saving C evicts B, the least recently used.
    let e = Engine::start(config(Some(dir), "m", sizes * 5 / 4)).unwrap();
    ask(&e, &c);
    drop(e);
    let after = files();
    assert_eq!(after.len(), 2, "C and A: {after:?}");
    assert!(!after.contains(&file_b), "B is evicted: {after:?}");
    assert!(!dir.join("m").join(&file_b).exists(), "B's file is removed");
    assert_eq!(states(dir, "m").len(), 2);
    let (_, a_stats) = answer_and_drop(dir, "m", &a);
    assert!(
        a_stats.prompt_tokens_restored >= 256,
        "A was kept: {a_stats:?}"
    );
    let (_, c_stats) = answer_and_drop(dir, "m", &c);
    assert!(
        c_stats.prompt_tokens_restored >= 256,
        "C was kept: {c_stats:?}"
    );
}

#[test]
fn a_restore_during_prefill_is_reported_by_the_next_turn() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path();
    let first = conversation("valleys", 420);
    let (answer, _) = answer_and_drop(dir, "m", &first);
    let second = follow_up(&first, &answer);
    let e = engine(Some(dir), "m");
    // The conversation up to its last message, as the core prefills a reopened one.
    e.prefill(second[..second.len() - 1].to_vec(), None)
        .unwrap();
    let (_, stats) = ask(&e, &second);
    assert!(stats.prompt_tokens_restored >= 550, "{stats:?}");
    assert!(stats.prompt_tokens_decoded < 40, "{stats:?}");
    // Counted once: the turn after reports none.
    let (_, next) = ask(&e, &second);
    assert_eq!(next.prompt_tokens_restored, 0, "{next:?}");
}

#[test]
fn the_kv_cache_type_reaches_the_context_a_q8_0_state_is_about_half_an_f16_one() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path();
    let messages = conversation("rivers", 420);
    let mut sizes = Vec::new();
    for (key, kv) in [("f16", KvType::F16), ("q8", KvType::Q8_0)] {
        let e = Engine::start(EngineConfig {
            kv_cache_type: kv,
            ..config(Some(dir), key, 1 << 30)
        })
        .expect("the model loads");
        let (_, stats) = ask(&e, &messages);
        drop(e);
        let saved = states(dir, key);
        assert_eq!(saved.len(), 1, "{key}: one state saved on drop");
        let tokens = index(dir, key)[0].1;
        assert!(tokens >= u64::from(stats.prompt_tokens), "{key}: {tokens}");
        sizes.push(std::fs::metadata(&saved[0]).unwrap().len() as f64 / tokens as f64);
    }
    // Per token: q8_0 stores 34 bytes a block of 32 values where f16 stores 64.
    let ratio = sizes[1] / sizes[0];
    assert!(
        (0.45..0.6).contains(&ratio),
        "q8_0 / f16 bytes per token: {ratio:.3}"
    );
}

#[test]
fn a_quantised_kv_cache_without_flash_attention_is_refused_with_what_to_change() {
    let refused = Engine::start(EngineConfig {
        kv_cache_type: KvType::Q8_0,
        flash_attention: FlashAttention::Off,
        ..config(None, "m", 1 << 30)
    });
    assert_eq!(
        refused.err().map(|e| e.to_string()),
        Some("a quantised KV cache needs flash attention: set engine.flash_attention to auto or on, or engine.kv_cache_type to f16".into())
    );
}
