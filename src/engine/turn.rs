//! One answer: reuse the KV cache, decode only the new prompt tokens, then sample.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

use llama_cpp_2::sampling::LlamaSampler;

use super::answer::{Answer, send};
use super::draft::Drafter;
use super::lookup::{Costs, Lookup};
use super::prompt::{self, Template};
use super::prompt_cache::{self, PromptCache};
use super::tools;
use super::{ChatMessage, EngineError, Finish, Job, Output, ToolPrompt, TurnStats};
use crate::tools::ToolSpec;

/// The model, its context, and what the context's KV cache holds (sequence 0).
pub(super) struct Session<'m> {
    model: &'m LlamaModel,
    context: LlamaContext<'m>,
    template: Template,
    batch: LlamaBatch<'static>,
    batch_size: usize,
    /// The tokens whose keys and values are in the cache, in position order.
    cached: Vec<LlamaToken>,
    /// Saved KV states of this model on disk, when the prompt cache is on.
    disk: Option<PromptCache>,
    /// Tokens restored from disk that no turn's stats have counted yet (a restore can come
    /// before the turn that uses it).
    restored: usize,
    /// Prompt lookup: answers are drafted from the context's own tokens (`lookup.rs`).
    lookup: bool,
    /// A draft model's context, when one is set (`draft.rs`): it drafts where lookup has
    /// nothing to offer.
    drafter: Option<Drafter<'m>>,
}

/// How reading the prompt ended.
enum PromptRead {
    Done,
    Cancelled,
}

impl<'m> Session<'m> {
    pub(super) fn new(
        model: &'m LlamaModel,
        context: LlamaContext<'m>,
        template: Template,
        batch: u32,
        disk: Option<PromptCache>,
        lookup: bool,
        drafter: Option<Drafter<'m>>,
    ) -> Self {
        let batch_size = batch.max(1) as usize;
        // A recurrent model's state cannot drop rejected guesses.
        let drops = !model.is_recurrent() && !model.is_hybrid();
        let lookup = lookup && drops;
        let drafter = drafter.filter(|_| drops);
        Session {
            model,
            context,
            template,
            batch: LlamaBatch::new(batch_size, 1),
            batch_size,
            cached: Vec::new(),
            disk,
            restored: 0,
            lookup,
            drafter,
        }
    }

    /// Saves the KV state to the prompt cache on disk (when it is on and the state is worth it).
    pub(super) fn save_to_disk(&self) {
        if let Some(disk) = &self.disk {
            disk.save(&self.context, &self.cached);
        }
    }

    /// Answers `job`, streaming to its output. Errors are returned for the caller to report.
    pub(super) fn answer(&mut self, job: Job) -> Result<(), EngineError> {
        let arrived = Instant::now();
        let n_ctx = self.context.n_ctx();
        let reserve = job.sampling.max_tokens.min(n_ctx / 2);
        let fitted = prompt::fit(
            self.model,
            &mut self.template,
            &job.messages,
            job.tools.as_deref(),
            n_ctx,
            reserve,
        )?;
        if let Some(offer) = &fitted.offer
            && !send(&job, Output::Offered(offer.clone()))
        {
            return Ok(());
        }
        if fitted.dropped_messages > 0
            && !send(
                &job,
                Output::Trimmed {
                    dropped_messages: fitted.dropped_messages,
                },
            )
        {
            return Ok(());
        }
        let (tokens, tools) = (fitted.tokens, fitted.tools);
        let mut stats = TurnStats {
            prompt_tokens: tokens.len() as u32,
            ..TurnStats::default()
        };

        self.restore_from_disk(&tokens);
        let reused = self.reuse_prefix(&tokens)?;
        stats.prompt_tokens_reused = reused as u32;
        stats.prompt_tokens_restored = std::mem::take(&mut self.restored).min(reused) as u32;
        stats.prompt_tokens_decoded = (tokens.len() - reused) as u32;
        let prompt_start = Instant::now();
        if let PromptRead::Cancelled = self.decode_prompt(&job.cancel, &tokens[reused..])? {
            return finish(&job, Finish::Cancelled, stats, arrived);
        }
        stats.prompt_ms = ms(prompt_start);
        self.generate(&job, &tools, stats, arrived)
    }

    /// Replaces the KV cache with the saved state that holds the most of `tokens`, when it holds
    /// at least `prompt_cache::MIN_TOKENS` more than the cache does now, and notes how many
    /// prompt tokens it restored for the next turn's stats. A state that fails to load leaves
    /// the cache empty.
    fn restore_from_disk(&mut self, tokens: &[LlamaToken]) {
        let Some(disk) = &self.disk else { return };
        let in_memory = common_prefix(&self.cached, tokens);
        if in_memory + prompt_cache::MIN_TOKENS > tokens.len() {
            return; // Nothing on disk can offer enough more: skip reading the index.
        }
        let n_ctx = self.context.n_ctx() as usize;
        let Some(hit) = disk.lookup(tokens, n_ctx) else {
            return;
        };
        if hit.usable < in_memory + prompt_cache::MIN_TOKENS {
            return;
        }
        // Fields, not `forget_cache`: `disk` borrows `self.disk` meanwhile.
        self.context.clear_kv_cache();
        self.cached.clear();
        let started = Instant::now();
        match disk.restore(&mut self.context, &hit) {
            Some(loaded) => {
                self.cached = loaded;
                let restored = common_prefix(&self.cached, tokens);
                tracing::info!(
                    restored,
                    ms = ms(started),
                    "restored a prompt from the cache"
                );
                self.restored = restored;
            }
            None => self.context.clear_kv_cache(),
        }
    }

    /// Keeps the longest cached prefix shared with `tokens` and drops the rest of the cache.
    /// At least one token is always left to decode, since sampling needs fresh logits.
    fn reuse_prefix(&mut self, tokens: &[LlamaToken]) -> Result<usize, EngineError> {
        let common = common_prefix(&self.cached, tokens);
        let keep = common.min(tokens.len().saturating_sub(1));
        if keep < self.cached.len() {
            let removed = self
                .context
                .clear_kv_cache_seq(Some(0), Some(keep as u32), None)
                .map_err(|e| EngineError::Decode(e.to_string()))?;
            if !removed {
                // The cache cannot drop a tail (some recurrent models): start over.
                self.context.clear_kv_cache();
                self.cached.clear();
                return Ok(0);
            }
            self.cached.truncate(keep);
        }
        Ok(keep)
    }

    /// Decodes the conversation in `messages` up to where the next user message begins (see
    /// [`prompt::prefix`]), reusing and restoring what it can, so that the next job decodes
    /// only that message. Returns how many tokens it decoded.
    pub(super) fn prefill(
        &mut self,
        messages: &[ChatMessage],
        tools: Option<&ToolPrompt>,
    ) -> Result<usize, EngineError> {
        let n_ctx = self.context.n_ctx();
        // The answer's reserve is not known yet; half the context is the most it can be.
        let reserve = n_ctx / 2;
        let Some(tokens) = prompt::prefix(
            self.model,
            &mut self.template,
            messages,
            tools,
            n_ctx,
            reserve,
        )?
        else {
            return Ok(0);
        };
        self.restore_from_disk(&tokens);
        let reused = self.reuse_prefix(&tokens)?;
        let never = AtomicBool::new(false);
        self.decode_prompt(&never, &tokens[reused..])?;
        if let Some(drafter) = &mut self.drafter {
            drafter.follow(&tokens)?;
        }
        Ok(tokens.len() - reused)
    }

    /// Decodes `new` after the cached tokens, in batches; logits only for the last token.
    fn decode_prompt(
        &mut self,
        cancel: &AtomicBool,
        new: &[LlamaToken],
    ) -> Result<PromptRead, EngineError> {
        let chunks = new.len().div_ceil(self.batch_size);
        for (i, chunk) in new.chunks(self.batch_size).enumerate() {
            if cancel.load(Ordering::Relaxed) {
                return Ok(PromptRead::Cancelled);
            }
            self.batch.clear();
            let last_chunk = i + 1 == chunks;
            for (j, &token) in chunk.iter().enumerate() {
                let pos = self.cached.len() as i32;
                let logits = last_chunk && j + 1 == chunk.len();
                self.batch
                    .add(token, pos, &[0], logits)
                    .map_err(|e| EngineError::Decode(e.to_string()))?;
                self.cached.push(token);
            }
            if let Err(e) = self.context.decode(&mut self.batch) {
                self.forget_cache();
                return Err(EngineError::Decode(e.to_string()));
            }
        }
        Ok(PromptRead::Done)
    }

    /// Samples until end of generation, a stop string, `max_tokens`, a full context or
    /// cancellation. With prompt lookup or a draft model, each sampled token goes to the model
    /// together with a draft of the tokens guessed to follow it ([`Lookup`], [`Drafter`]); the
    /// answer's sampler then samples at each drafted position in turn, and the draft is kept
    /// as far as it agrees.
    /// The first disagreeing sample is the next token, as it would have been without the
    /// draft: the answer is the one plain decoding gives (a draft that is a certain guess
    /// leaves the sampled distribution as it is), in fewer decode calls when drafts hold.
    fn generate(
        &mut self,
        job: &Job,
        tools: &[ToolSpec],
        stats: TurnStats,
        arrived: Instant,
    ) -> Result<(), EngineError> {
        let n_ctx = self.context.n_ctx() as usize;
        let mut sampler = job.sampling.sampler(self.call_grammar(job, tools));
        let mut answer = Answer::new(self.model, job, self.template.stops(), stats);
        let mut lookup = self.lookup.then(Lookup::new);
        let mut costs = Costs::default();
        let gen_start = Instant::now();
        // The batch position whose logits the next token is sampled from, or the next token
        // itself when a draft check already sampled it.
        let mut logits = self.batch.n_tokens() - 1;
        let mut sampled = None;
        let finish_reason = loop {
            if let Some(end) = answer.ends_before_next() {
                break end;
            }
            let token = match sampled.take() {
                Some(token) => token,
                None => sampler.sample(&self.context, logits),
            };
            if let Some(end) = answer.take(token) {
                break end;
            }
            if self.cached.len() + 1 >= n_ctx {
                break Finish::ContextFull;
            }
            if answer.cancelled() {
                break Finish::Cancelled;
            }
            // The token, then a draft that leaves room for one more token in the context.
            let base = self.cached.len();
            self.cached.push(token);
            let drafting = Instant::now();
            let (draft, looked_up) = self.propose(lookup.as_mut(), n_ctx.saturating_sub(base + 2));
            let draft_ms = ms(drafting);
            self.batch.clear();
            for (i, &t) in std::iter::once(&token).chain(&draft).enumerate() {
                self.batch
                    .add(t, (base + i) as i32, &[0], true)
                    .map_err(|e| EngineError::Decode(e.to_string()))?;
            }
            self.cached.extend_from_slice(&draft);
            let decoding = Instant::now();
            if let Err(e) = self.context.decode(&mut self.batch) {
                self.forget_cache();
                return Err(EngineError::Decode(e.to_string()));
            }
            let decode_ms = ms(decoding);
            logits = draft.len() as i32;
            if draft.is_empty() {
                costs.single(decode_ms);
                continue;
            }
            // Check the draft: keep it while the answer's own samples agree with it.
            let mut accepted = 0;
            let mut end = None;
            for (i, &guess) in draft.iter().enumerate() {
                if let Some(e) = answer.ends_before_next() {
                    end = Some(e);
                    break;
                }
                let token = sampler.sample(&self.context, i as i32);
                if token != guess {
                    sampled = Some(token);
                    break;
                }
                accepted += 1;
                if let Some(e) = answer.take(token) {
                    end = Some(e);
                    break;
                }
            }
            answer.stats.draft_tokens += draft.len() as u32;
            answer.stats.draft_accepted += accepted as u32;
            // Drafting's own time counts: a draft model's calls, the lookup's search.
            let paid = costs.paid(draft_ms + decode_ms, accepted + 1);
            match (&mut lookup, &mut self.drafter) {
                (Some(lookup), _) if looked_up => lookup.feedback(draft.len(), accepted, paid),
                (_, Some(drafter)) if !looked_up => drafter.feedback(draft.len(), accepted, paid),
                _ => {}
            }
            if accepted < draft.len() {
                // The guesses after the last one kept leave the cache.
                self.drop_after(base + 1 + accepted)?;
            }
            if let Some(end) = end {
                break end;
            }
        };
        let mut stats = answer.flush(arrived);
        stats.generation_ms = ms(gen_start);
        finish(job, finish_reason, stats, arrived)
    }

    /// A draft of at most `room` tokens to follow the cache: from prompt lookup when it has
    /// one (true), else from the draft model (false). A draft model that fails is logged and
    /// left out for the rest of the session.
    fn propose(&mut self, lookup: Option<&mut Lookup>, room: usize) -> (Vec<LlamaToken>, bool) {
        if let Some(draft) = lookup
            .map(|l| l.draft(&self.cached, room))
            .filter(|d| !d.is_empty())
        {
            return (draft, true);
        }
        let Some(drafter) = &mut self.drafter else {
            return (Vec::new(), false);
        };
        match drafter.draft(&self.cached, room) {
            Ok(draft) => (draft, false),
            Err(e) => {
                tracing::warn!("{e}; answering without the draft model from now on");
                self.drafter = None;
                (Vec::new(), false)
            }
        }
    }

    /// Drops the cached tokens from position `keep` on.
    fn drop_after(&mut self, keep: usize) -> Result<(), EngineError> {
        let removed = self
            .context
            .clear_kv_cache_seq(Some(0), Some(keep as u32), None)
            .map_err(|e| EngineError::Decode(e.to_string()))?;
        if !removed {
            self.forget_cache();
            return Err(EngineError::Decode(
                "llama.cpp could not drop rejected draft tokens from the cache".into(),
            ));
        }
        self.cached.truncate(keep);
        Ok(())
    }

    /// The grammar for the job: the answer-only one, or the one that holds a call to the
    /// schemas of the `tools` in the prompt that the question may call, when the job asks
    /// for either: lazy (free text until a call opens), or from the first token when the
    /// answer must call.
    /// A grammar that cannot be built is logged and left out: calls are still validated.
    fn call_grammar(&self, job: &Job, tools: &[ToolSpec]) -> Option<LlamaSampler> {
        let offer = job.tools.as_ref()?;
        if offer.answer_only {
            return match LlamaSampler::grammar(self.model, tools::ANSWER_GRAMMAR, "root") {
                Ok(sampler) => Some(sampler),
                Err(e) => {
                    tracing::warn!("llama.cpp rejected the answer grammar: {e}");
                    None
                }
            };
        }
        let callable: Vec<ToolSpec> = tools
            .iter()
            .filter(|t| offer.may_call(&t.name))
            .cloned()
            .collect();
        if !offer.grammar || callable.is_empty() {
            return None;
        }
        let built = tools::grammar(&callable, offer.must_call).and_then(|g| {
            let built = match offer.must_call {
                true => LlamaSampler::grammar(self.model, &g, "root"),
                false => {
                    let trigger = tools::trigger_pattern(&callable);
                    LlamaSampler::grammar_lazy_patterns(self.model, &g, "root", &[trigger], &[])
                }
            };
            built.map_err(|e| format!("llama.cpp rejected the tool-call grammar: {e}"))
        });
        match built {
            Ok(sampler) => Some(sampler),
            Err(e) => {
                tracing::warn!("{e}; tool calls are not constrained this turn");
                None
            }
        }
    }

    /// After a failed decode the cache's contents are unknown: start the next turn afresh.
    fn forget_cache(&mut self) {
        self.context.clear_kv_cache();
        self.cached.clear();
    }
}

/// How many tokens `a` and `b` share from the start.
pub(super) fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn finish(
    job: &Job,
    finish: Finish,
    mut stats: TurnStats,
    arrived: Instant,
) -> Result<(), EngineError> {
    if stats.ttft_ms == 0.0 {
        stats.ttft_ms = ms(arrived);
    }
    if stats.generation_ms > 0.0 {
        stats.tokens_per_second =
            f64::from(stats.generated_tokens) / (stats.generation_ms / 1000.0);
    }
    if stats.prompt_ms > 0.0 {
        stats.prompt_tokens_per_second =
            f64::from(stats.prompt_tokens_decoded) / (stats.prompt_ms / 1000.0);
    }
    send(job, Output::Done { finish, stats });
    Ok(())
}
