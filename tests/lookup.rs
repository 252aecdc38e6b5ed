//! Prompt lookup (`engine/lookup.rs`): answers drafted from the conversation's own tokens are
//! the answers plain decoding gives, with the real models, and the drafts are counted.

mod support;

use std::path::PathBuf;

use libre_assistant::engine::{EngineConfig, FlashAttention, SamplingParams, TurnStats};

/// A paragraph to copy with one word changed: most of the answer is in the question.
const REWRITE: &str = "Rewrite the following paragraph exactly, changing only \"cat\" to \"dog\":\n\n\
The cat sat on the warm windowsill every morning, watching the birds in the garden below. \
When the sun rose higher, the cat would stretch, yawn, and jump down to the kitchen floor, \
where a bowl of fresh milk was always waiting. In the afternoon the cat slept on the old blue \
sofa, and in the evening it sat by the fire while the family read their books.";

/// A file to return with a name changed.
const RENAME: &str = "Rename the variable `items` to `entries` in this Python code and return \
the whole file:\n\n```python\nimport json\nimport sys\n\n\ndef load(path):\n    with open(path) as f:\n\
        items = json.load(f)\n    return items\n\n\ndef total(items):\n    result = 0\n\
    for item in items:\n        result += item[\"price\"] * item[\"count\"]\n    return result\n\n\n\
def main():\n    items = load(sys.argv[1])\n    print(\"total:\", total(items))\n\n\n\
if __name__ == \"__main__\":\n    main()\n```";

/// A question whose answer repeats nothing.
const FRESH: &str = "Name three colours.";

/// Flash attention is on: a batch's arithmetic is not bit-for-bit a single token's, and where
/// the greedy choice is a near tie the last bits can flip it (docs/performance.md). With it on,
/// these prompts have no such tie on this machine; with it off, the rename prompt has one.
fn config(model: PathBuf, lookup: bool) -> EngineConfig {
    EngineConfig {
        prompt_lookup: lookup,
        flash_attention: FlashAttention::On,
        ..support::engine_config(model, 2048)
    }
}

/// Each question answered plainly and with prompt lookup: the texts must be equal. Returns the
/// lookup runs' stats.
fn compare(model: PathBuf, questions: &[&str], sampling: SamplingParams) -> Vec<TurnStats> {
    let (plain, drafting) = (config(model.clone(), false), config(model, true));
    support::engine::same_answers(plain, drafting, questions, &sampling)
}

fn greedy() -> SamplingParams {
    SamplingParams {
        temperature: 0.0,
        max_tokens: 160,
        ..SamplingParams::default()
    }
}

#[test]
fn greedy_answers_with_prompt_lookup_are_the_plain_answers() {
    let stats = compare(support::smollm(), &[REWRITE, RENAME, FRESH], greedy());
    for (name, s) in ["rewrite", "rename"].iter().zip(&stats) {
        assert!(
            s.draft_tokens > 0 && s.draft_accepted > 0,
            "the {name} answer was drafted from its question: {s:?}"
        );
    }
}

#[test]
fn a_seeded_sampled_answer_with_prompt_lookup_is_the_plain_one() {
    // One sample per token either way, from the same sampler: the same draws.
    let sampling = SamplingParams {
        temperature: 0.7,
        seed: Some(7),
        ..greedy()
    };
    let stats = compare(support::smollm(), &[REWRITE], sampling);
    assert!(stats[0].draft_accepted > 0, "{:?}", stats[0]);
}

#[test]
fn a_larger_model_copies_a_paragraph_and_a_file_with_a_rename_the_same_way() {
    let stats = compare(support::qwen(), &[REWRITE, RENAME], greedy());
    for s in &stats {
        assert!(s.draft_accepted > 0, "{s:?}");
    }
}
