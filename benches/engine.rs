//! The in-process engine's speed, measured the way llama-bench measures llama.cpp, plus the
//! latencies a chat user feels. Run on demand (scripts/bench runs it beside the references):
//!
//!     cargo bench --bench engine -- [MODEL.gguf] [--reps N] [--threads N] [--ctx TOKENS] [--json]
//!         [--lookup] [--draft DRAFT.gguf] [--flash-attention auto|on|off] [--kv-type f16|q8_0|…]
//!         [--mmap]
//!
//! Without a path it uses the default model from the store (or the test-model cache).
//! Medians of `--reps` runs of:
//! - load: `Engine::start` to a ready context;
//! - pp: a ~512-token prompt decoded (llama-bench's pp512), tokens/s;
//! - tg: 128 tokens generated greedily, end of text ignored (llama-bench's tg128), tokens/s,
//!   with sampling, detokenizing and streaming each piece included;
//! - time to first token of a short question: opening a conversation (cold, and after the
//!   prefill the app does on load), after nine exchanges (~3,000 tokens of history), and in
//!   that conversation reopened on a new engine (restored from the prompt cache, or decoded
//!   from scratch): see `conversation`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use libre_assistant::engine::{
    ChatMessage, Engine, EngineConfig, FlashAttention, Job, KvType, Output, PromptCacheConfig,
    Role, SamplingParams, TurnStats,
};

const SYSTEM: &str = "You are a helpful assistant running locally. Answer clearly and concisely.";

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut model = None;
    let mut reps = 5usize;
    let mut context = 4096u32;
    let mut threads = libre_assistant::config::physical_threads();
    let mut json = false;
    let mut lookup = false;
    let mut draft_model = None;
    let mut flash_attention = FlashAttention::Auto;
    let mut kv_cache_type = KvType::F16;
    let mut mmap = false;
    while let Some(a) = args.next() {
        let mut number = |name: &str| -> u64 {
            let value = args.next().and_then(|v| v.parse().ok());
            value.unwrap_or_else(|| {
                eprintln!("engine bench: {name} needs a number");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--reps" => reps = number("--reps").max(1) as usize,
            "--ctx" => context = number("--ctx") as u32,
            "--threads" => threads = number("--threads") as u32,
            "--json" => json = true,
            "--lookup" => lookup = true,
            "--draft" => draft_model = args.next().map(PathBuf::from),
            "--mmap" => mmap = true,
            "--flash-attention" => {
                let name = args.next().unwrap_or_default();
                flash_attention = FlashAttention::from_name(&name).unwrap_or_else(|| {
                    eprintln!("engine bench: --flash-attention takes auto, on or off");
                    std::process::exit(2)
                })
            }
            "--kv-type" => {
                let name = args.next().unwrap_or_default();
                kv_cache_type = KvType::from_name(&name).unwrap_or_else(|| {
                    eprintln!(
                        "engine bench: --kv-type takes f16, bf16, q8_0, q5_1, q5_0, q4_1 or q4_0"
                    );
                    std::process::exit(2)
                })
            }
            path => model = Some(PathBuf::from(path)),
        }
    }
    let model = model.unwrap_or_else(default_model);
    let config = EngineConfig {
        model_path: model.clone(),
        context,
        threads,
        n_gpu_layers: 0,
        batch: 512,
        chat_template: None,
        raw: false,
        prompt_cache: None,
        rpc: Vec::new(),
        core_lock: None,
        prompt_lookup: lookup,
        draft_model,
        flash_attention,
        kv_cache_type,
        mmap,
    };

    let mut loads = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        drop(start(&config));
        loads.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let engine = start(&config);
    // One unmeasured turn, as llama-bench warms up before its repetitions.
    run(&engine, vec![user("Hello")], 8);
    let mut pp = Vec::new();
    let mut tg = Vec::new();
    let mut prompt_tokens = 0;
    for rep in 0..reps {
        // A different first word each time, so nothing is reused from the KV cache.
        let text = format!(
            "{rep} {}",
            "The quick brown fox jumps over the lazy dog. ".repeat(50)
        );
        let s = run(&engine, vec![user(&text)], 1);
        prompt_tokens = s.prompt_tokens_decoded;
        pp.push(s.prompt_tokens_per_second);
        let s = run(&engine, vec![user(&format!("{rep} Tell me a story."))], 128);
        tg.push(s.tokens_per_second);
    }
    drop(engine);

    // Conversations, each on a fresh engine with a prompt cache of its own, as the app runs.
    let cache_root = std::env::temp_dir().join(format!("libre-bench-{}", std::process::id()));
    let mut chat = Chat::default();
    for rep in 0..reps {
        let dir = cache_root.join(rep.to_string());
        conversation(&config, &dir, rep, &mut chat);
    }
    let _ = std::fs::remove_dir_all(&cache_root);
    let Chat {
        mut turn1_cold,
        mut turn1,
        mut turn10,
        mut reopen_cold,
        mut reopen,
        history,
        reused,
        restored,
    } = chat;

    let figures = serde_json::json!({
        "model": model.display().to_string(),
        "threads": threads,
        "context": context,
        "reps": reps,
        "load_ms": median(&mut loads),
        "pp_tokens": prompt_tokens,
        "pp_tokens_per_second": median(&mut pp),
        "tg_tokens": 128,
        "tg_tokens_per_second": median(&mut tg),
        "ttft_turn1_cold_ms": median(&mut turn1_cold),
        "ttft_turn1_ms": median(&mut turn1),
        "ttft_turn10_ms": median(&mut turn10),
        "turn10_prompt_tokens": history,
        "turn10_reused_tokens": reused,
        "ttft_reopened_cold_ms": median(&mut reopen_cold),
        "ttft_reopened_ms": median(&mut reopen),
        "reopened_restored_tokens": restored,
    });
    if json {
        println!("{figures}");
        return;
    }
    println!("model: {}", model.display());
    println!("threads: {threads}, context: {context}, repetitions: {reps} (medians)");
    println!(
        "load          {:>8.1} ms",
        figures["load_ms"].as_f64().unwrap_or(0.0)
    );
    for (label, key, unit) in [
        (
            format!("pp{prompt_tokens}"),
            "pp_tokens_per_second",
            "tokens/s",
        ),
        ("tg128".into(), "tg_tokens_per_second", "tokens/s"),
        ("ttft turn 1, cold".into(), "ttft_turn1_cold_ms", "ms"),
        ("ttft turn 1".into(), "ttft_turn1_ms", "ms"),
        ("ttft turn 10".into(), "ttft_turn10_ms", "ms"),
        ("ttft reopened, cold".into(), "ttft_reopened_cold_ms", "ms"),
        ("ttft reopened".into(), "ttft_reopened_ms", "ms"),
    ] {
        let value = figures[key].as_f64().unwrap_or(0.0);
        println!("{label:<20} {value:>8.1} {unit}");
    }
    println!("turn 10: {history} prompt tokens, {reused} reused from the cache");
    println!("reopened: {restored} tokens restored from the prompt cache on disk");
}

/// Time to first token at the moments a chat user waits, one value per repetition.
#[derive(Default)]
struct Chat {
    turn1_cold: Vec<f64>,
    turn1: Vec<f64>,
    turn10: Vec<f64>,
    reopen_cold: Vec<f64>,
    reopen: Vec<f64>,
    history: u32,
    reused: u32,
    restored: u32,
}

/// One conversation as the app runs it (the core prefills the conversation between turns,
/// while the user types), measuring:
/// - turn 1 cold: the first question on a just-loaded engine, nothing prefilled;
/// - turn 1: the same after the prefill of the system prompt the core sends on load;
/// - turn 10: a question after nine exchanges (~3,000 tokens). Exchanges 1–8 are written
///   out (so the run is short); the ninth answer is generated, so the cache holds the model's
///   own tokens, as in a chat;
/// - reopened: the engine is dropped (it saves its state to the prompt cache) and a new one
///   answers an eleventh question, restoring the history from disk; "cold" is the same on an
///   engine without the cache, which decodes the whole history.
fn conversation(config: &EngineConfig, cache: &std::path::Path, rep: usize, chat: &mut Chat) {
    let question = |turn: usize| {
        format!("Question {turn} (run {rep}): what should I check next in the lighthouse log?")
    };
    let cold = start(config);
    chat.turn1_cold
        .push(run(&cold, vec![system(), user(&question(1))], 16).ttft_ms);
    drop(cold);

    let cached = EngineConfig {
        prompt_cache: Some(PromptCacheConfig {
            dir: cache.to_path_buf(),
            model_key: "bench".into(),
            max_bytes: 1 << 30,
        }),
        ..config.clone()
    };
    let engine = start(&cached);
    engine.prefill(vec![system()], None).expect("engine runs");
    chat.turn1
        .push(run(&engine, vec![system(), user(&question(1))], 16).ttft_ms);
    let mut messages = vec![system()];
    for turn in 1..=8 {
        messages.push(user(&question(turn)));
        messages.push(ChatMessage::new(Role::Assistant, answer(turn)));
    }
    messages.push(user(&question(9)));
    let ninth = answer_text(&engine, messages.clone(), 96);
    messages.push(ChatMessage::new(Role::Assistant, ninth));
    engine.prefill(messages.clone(), None).expect("engine runs");
    messages.push(user(&question(10)));
    let last = run(&engine, messages.clone(), 16);
    chat.turn10.push(last.ttft_ms);
    chat.history = last.prompt_tokens;
    chat.reused = last.prompt_tokens_reused;
    drop(engine);

    messages.push(ChatMessage::new(Role::Assistant, "Check the lamp hours."));
    messages.push(user(&question(11)));
    let reopened = start(&cached);
    let s = run(&reopened, messages.clone(), 16);
    chat.reopen.push(s.ttft_ms);
    chat.restored = s.prompt_tokens_restored;
    drop(reopened);
    let fresh = start(config);
    chat.reopen_cold.push(run(&fresh, messages, 16).ttft_ms);
}

/// A written-out answer of about 320 tokens.
fn answer(turn: usize) -> String {
    let paragraph = "The keeper's log records the lamp's hours, the weather at each watch, \
        the ships that passed and any repairs made to the lens or the clockwork. ";
    format!(
        "Here is what entry {turn} shows. {}In short, check the lamp hours first.",
        paragraph.repeat(9)
    )
}

fn system() -> ChatMessage {
    ChatMessage::new(Role::System, SYSTEM)
}

fn user(text: &str) -> ChatMessage {
    ChatMessage::new(Role::User, text)
}

fn start(config: &EngineConfig) -> Engine {
    Engine::start(config.clone()).unwrap_or_else(|e| {
        eprintln!("engine bench: {e}");
        std::process::exit(1)
    })
}

/// A fixed number of tokens, as llama-bench generates: the end of the answer is ignored.
fn run(engine: &Engine, messages: Vec<ChatMessage>, max_tokens: u32) -> TurnStats {
    generate(engine, messages, max_tokens, true).1
}

/// An answer as a chat gets it: it ends where the model ends it.
fn answer_text(engine: &Engine, messages: Vec<ChatMessage>, max_tokens: u32) -> String {
    generate(engine, messages, max_tokens, false).0
}

fn generate(
    engine: &Engine,
    messages: Vec<ChatMessage>,
    max_tokens: u32,
    ignore_eos: bool,
) -> (String, TurnStats) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let sampling = SamplingParams {
        temperature: 0.0,
        max_tokens,
        ignore_eos,
        ..SamplingParams::default()
    };
    let job = Job {
        messages,
        sampling,
        tools: None,
        cancel: Arc::new(AtomicBool::new(false)),
        output: tx,
    };
    engine.submit(job).expect("engine accepts the job");
    let mut text = String::new();
    while let Some(out) = rx.blocking_recv() {
        match out {
            Output::Done { stats, .. } => return (text, stats),
            Output::Failed(e) => {
                eprintln!("engine bench: {e}");
                std::process::exit(1)
            }
            Output::Piece(piece) => text.push_str(&piece),
            Output::Trimmed { .. } | Output::Offered(_) | Output::Waiting => {}
        }
    }
    eprintln!("engine bench: the engine stopped");
    std::process::exit(1)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn default_model() -> PathBuf {
    let file = "SmolLM2-135M-Instruct.Q4_1.gguf";
    let dirs = libre_assistant::paths::Dirs::discover().expect("a home directory");
    let store = dirs.models().join(file);
    if store.exists() {
        return store;
    }
    let cache = std::env::var_os("LIBRE_ASSISTANT_TEST_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/libre-assistant-tests")
        });
    cache.join("libre-assistant/models").join(file)
}
