//! Speculative decoding with a draft model (`engine/draft.rs`): answers drafted by a smaller
//! model of the same vocabulary are the answers plain decoding gives, with the real models; a
//! draft model with another vocabulary, or one not installed, is refused with what to do.

mod support;

use std::path::PathBuf;

use libre_assistant::engine::{
    Engine, EngineConfig, EngineError, FlashAttention, SamplingParams, TurnStats,
};

/// A code-writing question: the kind of answer the draft model is for.
const CODE: &str = "Write a Python function that returns the n-th Fibonacci number iteratively.";
/// A short factual answer.
const COLOURS: &str = "Name three colours.";
/// A sentence to translate.
const TRANSLATE: &str = "Translate into French: The weather is nice today.";
/// An explanation in prose. The 1.5B model's greedy answer to it has a near tie (" and"
/// against "," after "key-value pairs"), which plain decoding flips with the prompt's batch
/// size alone: not a prompt for comparing that model's answers.
const EXPLAIN: &str = "Explain in two sentences what a hash map is.";

/// Flash attention is on, as in `tests/lookup.rs`: with it, these prompts have no near tie
/// that a batch's last bits could flip on this machine.
fn config(model: PathBuf, draft: Option<PathBuf>) -> EngineConfig {
    EngineConfig {
        draft_model: draft,
        flash_attention: FlashAttention::On,
        ..support::engine_config(model, 2048)
    }
}

fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams {
        temperature: 0.0,
        max_tokens,
        ..SamplingParams::default()
    }
}

/// Each question answered plainly by `model` and with `draft` drafting for it: equal texts.
fn compare(
    model: PathBuf,
    draft: PathBuf,
    questions: &[&str],
    sampling: SamplingParams,
) -> Vec<TurnStats> {
    let plain = config(model.clone(), None);
    let drafting = config(model, Some(draft));
    support::engine::same_answers(plain, drafting, questions, &sampling)
}

#[test]
fn greedy_answers_drafted_by_the_smaller_qwen_are_the_plain_answers() {
    let stats = compare(
        support::qwen_1_5b(),
        support::qwen(),
        &[CODE, COLOURS, TRANSLATE],
        greedy(64),
    );
    let code = &stats[0];
    assert!(
        code.draft_tokens > 0 && code.draft_accepted > 0,
        "the code answer was drafted and drafts were kept: {code:?}"
    );
}

#[test]
fn a_model_drafting_for_itself_is_kept_and_changes_no_sampled_answer() {
    // One sample per token either way, from the same sampler: the same draws.
    let sampling = SamplingParams {
        temperature: 0.7,
        seed: Some(11),
        ..greedy(96)
    };
    let stats = compare(support::smollm(), support::smollm(), &[EXPLAIN], sampling);
    assert!(stats[0].draft_accepted > 0, "{:?}", stats[0]);
}

#[test]
fn a_draft_model_with_another_vocabulary_is_refused() {
    let result = Engine::start(config(support::smollm(), Some(support::qwen())));
    let Err(EngineError::Settings(message)) = result else {
        panic!("the engine refuses the draft model");
    };
    assert_eq!(
        message,
        format!(
            "the draft model {} has another vocabulary than {} (151936 tokens against the model's 49152): choose a smaller model of the same family (for qwen2.5-coder-1.5b-instruct, qwen2.5-coder-0.5b-instruct), or unset engine.draft_model",
            support::QWEN_FILE,
            support::SMOLLM_FILE
        )
    );
}

#[test]
fn the_app_says_which_setting_to_change_for_a_refused_or_missing_draft_model() {
    let home = support::Home::new();
    let run = |draft: &str| {
        let out = home
            .with_model()
            .env("LIBRE_ASSISTANT_DRAFT_MODEL", draft)
            .args(["--no-session", "-p", "Hi"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), stderr)
    };
    let (code, stderr) = run(support::qwen().to_str().unwrap());
    assert_eq!(
        code,
        Some(libre_assistant::exit::Exit::Config as i32),
        "{stderr}"
    );
    assert!(
        stderr.contains("has another vocabulary than") && stderr.contains("engine.draft_model"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    // A catalog model that is not in this home's store.
    let (code, stderr) = run("qwen2.5-coder-1.5b-instruct");
    assert_ne!(code, Some(0));
    assert_eq!(
        stderr.trim_end(),
        "libre-assistant: engine.draft_model: model \"qwen2.5-coder-1.5b-instruct\" is not installed; run \"libre-assistant models pull qwen2.5-coder-1.5b-instruct\" to download it"
    );
}
