//! What checking a draft costs: the time of one decode call of N tokens (logits for each, as a
//! draft check needs) after a 256-token context, for N = 1 to 16. Speculative decoding pays
//! only where a call of N tokens costs much less than N calls of one: the ratio column.
//!
//!     cargo bench --bench verify -- MODEL.gguf [--threads N] [--reps N]

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::token::LlamaToken;

const CONTEXT_TOKENS: usize = 256;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut model = None;
    let mut threads = libre_assistant::config::physical_threads();
    let mut reps = 20usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--reps" => reps = args.next().and_then(|v| v.parse().ok()).unwrap_or(20),
            path => model = Some(PathBuf::from(path)),
        }
    }
    let Some(model) = model else {
        eprintln!("verify bench: give a model file");
        std::process::exit(2);
    };
    llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
    let backend = LlamaBackend::init().expect("llama.cpp starts");
    let model = LlamaModel::load_from_file(&backend, &model, &LlamaModelParams::default())
        .expect("the model loads");
    let threads = threads as i32;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(1024))
        .with_n_batch(512)
        .with_n_ubatch(512)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut context = model.new_context(&backend, params).expect("a context");
    let tokens: Vec<LlamaToken> = (0..CONTEXT_TOKENS + 16)
        .map(|i| LlamaToken(100 + (i as i32 * 7) % 1000))
        .collect();
    let mut batch = LlamaBatch::new(512, 1);
    for (i, &t) in tokens[..CONTEXT_TOKENS].iter().enumerate() {
        batch
            .add(t, i as i32, &[0], i + 1 == CONTEXT_TOKENS)
            .unwrap();
    }
    context.decode(&mut batch).expect("the context decodes");
    println!("threads {threads}, after {CONTEXT_TOKENS} tokens, median of {reps}:");
    println!("| tokens per call | ms per call | ms per token | call / (N × one-token call) |");
    println!("|---|---|---|---|");
    let mut one = 0.0;
    for n in [1usize, 2, 3, 4, 6, 8, 12, 16] {
        let mut times = Vec::with_capacity(reps);
        for _ in 0..reps + 2 {
            context
                .clear_kv_cache_seq(Some(0), Some(CONTEXT_TOKENS as u32), None)
                .unwrap();
            batch.clear();
            for i in 0..n {
                let pos = CONTEXT_TOKENS + i;
                batch.add(tokens[pos], pos as i32, &[0], true).unwrap();
            }
            let t = Instant::now();
            context.decode(&mut batch).expect("decodes");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let mut times = times.split_off(2);
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        if n == 1 {
            one = median;
        }
        println!(
            "| {n} | {median:.2} | {:.2} | {:.2} |",
            median / n as f64,
            median / (n as f64 * one)
        );
    }
}
