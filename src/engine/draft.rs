//! Speculative decoding with a draft model: a smaller model of the same tokenizer proposes the
//! next few tokens, and the target checks them all in one decode call (`turn.rs`), keeping
//! them as far as its own samples agree. The draft keeps its own KV cache of the same
//! conversation, brought up to date before each draft with whatever the target kept.

use std::num::NonZeroU32;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

use super::EngineError;
use super::lookup::Pacing;
use super::turn::common_prefix;

/// Vocabularies may differ by this many tokens at the end (padding, added special tokens), as
/// llama.cpp's speculative example allows; the tokens both have must be the same text.
const MAX_VOCAB_DIFFERENCE: i32 = 128;
/// The first few ids are control tokens that families number differently: not compared.
const FIRST_COMPARED: i32 = 5;
/// The draft stops at a token its model is less sure of than this: a guess that likely fails
/// costs the target a longer check for nothing.
const MIN_CONFIDENCE: f32 = 0.6;
/// The fewest tokens worth a check. On a CPU a decode call of a few tokens costs about as much
/// as that many calls of one (`cargo bench --bench verify`); only longer drafts save.
const MIN_DRAFT: usize = 4;
/// The most tokens drafted at once.
const MAX_DRAFT: usize = 16;

/// Refuses a draft model whose tokens are not the target's: its guesses would be other words.
pub(super) fn check_vocab(target: &LlamaModel, draft: &LlamaModel) -> Result<(), String> {
    let (t, d) = (target.vocab(), draft.vocab());
    let (nt, nd) = (t.n_tokens(), d.n_tokens());
    if t.vocab_type() != d.vocab_type() || (nt - nd).abs() > MAX_VOCAB_DIFFERENCE {
        return Err(format!("{nd} tokens against the model's {nt}"));
    }
    if t.should_add_bos() != d.should_add_bos() || (t.should_add_bos() && t.bos() != d.bos()) {
        return Err("another start-of-text token".into());
    }
    if t.eos() != d.eos() {
        return Err("another end-of-text token".into());
    }
    for id in FIRST_COMPARED..nt.min(nd) {
        let token = LlamaToken(id);
        if t.text(token) != d.text(token) {
            return Err(format!("token {id} is another text"));
        }
    }
    Ok(())
}

/// The draft model's context and what its KV cache holds.
pub(super) struct Drafter<'d> {
    context: LlamaContext<'d>,
    batch: LlamaBatch<'static>,
    batch_size: usize,
    cached: Vec<LlamaToken>,
    /// Drafts that do not save time (drafting included) pause drafting.
    pacing: Pacing,
}

impl<'d> Drafter<'d> {
    /// A context for `model` with the target's size, batch and threads.
    pub(super) fn new(
        model: &'d LlamaModel,
        backend: &LlamaBackend,
        params: LlamaContextParams,
    ) -> Result<Self, EngineError> {
        let n_ctx = params.n_ctx().map_or(0, NonZeroU32::get);
        let batch_size = params.n_batch().max(1) as usize;
        let context = model
            .new_context(backend, params)
            .map_err(|e| EngineError::Context {
                context: n_ctx,
                reason: format!("the draft model's context: {e}"),
            })?;
        Ok(Drafter {
            context,
            batch: LlamaBatch::new(batch_size, 1),
            batch_size,
            cached: Vec::new(),
            pacing: Pacing::new(),
        })
    }

    /// Brings the draft's cache up to `history` without drafting (the conversation read while
    /// the user types).
    pub(super) fn follow(&mut self, history: &[LlamaToken]) -> Result<(), EngineError> {
        if history.is_empty() {
            return Ok(());
        }
        self.catch_up(history)
    }

    /// Up to `want` tokens the draft model expects after `history`, greedily, stopping at the
    /// first it is unsure of; empty when fewer than [`MIN_DRAFT`] are sure or `want` is less.
    pub(super) fn draft(
        &mut self,
        history: &[LlamaToken],
        want: usize,
    ) -> Result<Vec<LlamaToken>, EngineError> {
        let want = want.min(MAX_DRAFT);
        if want < MIN_DRAFT || history.is_empty() || self.pacing.waits() {
            return Ok(Vec::new());
        }
        self.catch_up(history)?;
        let mut draft = Vec::with_capacity(want);
        let mut last = self.batch.n_tokens() - 1;
        loop {
            let (token, confidence) = most_likely(self.context.get_logits_ith(last));
            if confidence < MIN_CONFIDENCE {
                break;
            }
            draft.push(token);
            if draft.len() == want {
                break;
            }
            self.batch.clear();
            self.add(token, true)?;
            self.decode()?;
            last = 0;
        }
        if draft.len() < MIN_DRAFT {
            // Its decode calls were spent for nothing.
            if !draft.is_empty() {
                self.pacing.after(false);
            }
            draft.clear();
        }
        Ok(draft)
    }

    /// After a draft was checked: whether it saved time, its drafting included.
    pub(super) fn feedback(&mut self, drafted: usize, accepted: usize, paid: Option<bool>) {
        self.pacing.checked(drafted, accepted, paid);
    }

    /// Keeps the cache's longest prefix shared with `history` (one token short of all of it,
    /// since the next guess needs fresh logits) and decodes the rest.
    fn catch_up(&mut self, history: &[LlamaToken]) -> Result<(), EngineError> {
        let keep = common_prefix(&self.cached, history).min(history.len() - 1);
        if keep < self.cached.len() {
            let dropped = self
                .context
                .clear_kv_cache_seq(Some(0), Some(keep as u32), None)
                .map_err(|e| EngineError::Decode(e.to_string()))?;
            if !dropped {
                return Err(EngineError::Decode(
                    "llama.cpp could not drop tokens from the draft model's cache".into(),
                ));
            }
            self.cached.truncate(keep);
        }
        let new = &history[keep..];
        let chunks = new.len().div_ceil(self.batch_size);
        for (i, chunk) in new.chunks(self.batch_size).enumerate() {
            self.batch.clear();
            for (j, &token) in chunk.iter().enumerate() {
                self.add(token, i + 1 == chunks && j + 1 == chunk.len())?;
            }
            self.decode()?;
        }
        Ok(())
    }

    fn add(&mut self, token: LlamaToken, logits: bool) -> Result<(), EngineError> {
        self.batch
            .add(token, self.cached.len() as i32, &[0], logits)
            .map_err(|e| EngineError::Decode(e.to_string()))?;
        self.cached.push(token);
        Ok(())
    }

    /// Decodes the batch; after a failure the cache's contents are unknown, so it starts over.
    fn decode(&mut self) -> Result<(), EngineError> {
        self.context.decode(&mut self.batch).map_err(|e| {
            self.context.clear_kv_cache();
            self.cached.clear();
            EngineError::Decode(format!("the draft model: {e}"))
        })
    }
}

/// The most likely token under `logits`, and its probability.
fn most_likely(logits: &[f32]) -> (LlamaToken, f32) {
    let (best, max) =
        logits
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |(bi, bm), (i, l)| {
                if l > bm { (i, l) } else { (bi, bm) }
            });
    let sum: f32 = logits.iter().map(|&l| (l - max).exp()).sum();
    (LlamaToken(best as i32), 1.0 / sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_likely_token_and_its_probability() {
        let (token, p) = most_likely(&[0.0, 2.0_f32.ln(), 0.0]);
        assert_eq!(token, LlamaToken(1));
        assert!((p - 0.5).abs() < 1e-6, "{p}");
        let (token, p) = most_likely(&[5.0, -100.0]);
        assert_eq!(token, LlamaToken(0));
        assert!(p > 0.999, "{p}");
    }
}
