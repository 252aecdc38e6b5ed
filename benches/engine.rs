//! Prompt-processing and generation speed of the in-process engine, llama-bench style.
//!
//!     cargo bench --bench engine -- [MODEL.gguf] [--reps N] [--threads N] [--ctx TOKENS]
//!
//! Without a path it uses the default model from the store (or the test-model cache).
//! Prints load time, pp (a ~512-token prompt) and tg (128 generated tokens) as medians.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use libre_assistant::engine::{
    ChatMessage, Engine, EngineConfig, Job, Output, Role, SamplingParams, TurnStats,
};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut model = None;
    let mut reps = 5usize;
    let mut context = 2048u32;
    let mut threads = libre_assistant::config::physical_threads();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--reps" => reps = args.next().and_then(|v| v.parse().ok()).unwrap_or(reps),
            "--ctx" => context = args.next().and_then(|v| v.parse().ok()).unwrap_or(context),
            "--threads" => threads = args.next().and_then(|v| v.parse().ok()).unwrap_or(threads),
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
        prompt_cache: None,
    };

    let mut loads = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        drop(Engine::start(config.clone()).expect("model loads"));
        loads.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let engine = Engine::start(config).expect("model loads");
    let mut pp = Vec::new();
    let mut tg = Vec::new();
    let mut prompt_tokens = 0;
    for rep in 0..reps {
        // A different first word each time, so nothing is reused from the KV cache.
        let text = format!(
            "{rep} {}",
            "The quick brown fox jumps over the lazy dog. ".repeat(50)
        );
        let s = run(&engine, &text, 1);
        prompt_tokens = s.prompt_tokens_decoded;
        pp.push(s.prompt_tokens_per_second);
        let s = run(&engine, &format!("{rep} Tell me a story."), 128);
        tg.push(s.tokens_per_second);
    }
    println!("model: {}", model.display());
    println!("threads: {threads}, repetitions: {reps}");
    println!("load        {:>8.1} ms (median)", median(&mut loads));
    println!(
        "pp{prompt_tokens:<8}  {:>8.1} tokens/s (median)",
        median(&mut pp)
    );
    println!("tg128       {:>8.1} tokens/s (median)", median(&mut tg));
}

fn run(engine: &Engine, text: &str, max_tokens: u32) -> TurnStats {
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let sampling = SamplingParams {
        temperature: 0.0,
        max_tokens,
        ignore_eos: true,
        ..SamplingParams::default()
    };
    let job = Job {
        messages: vec![ChatMessage::new(Role::User, text)],
        sampling,
        tools: None,
        cancel: Arc::new(AtomicBool::new(false)),
        output: tx,
    };
    engine.submit(job).expect("engine accepts the job");
    while let Some(out) = rx.blocking_recv() {
        match out {
            Output::Done { stats, .. } => return stats,
            Output::Failed(e) => panic!("{e}"),
            Output::Trimmed { .. } | Output::Piece(_) => {}
        }
    }
    panic!("the engine stopped");
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
