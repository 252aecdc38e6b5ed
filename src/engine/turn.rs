//! One answer: reuse the KV cache, decode only the new prompt tokens, then sample.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use compact_str::CompactString;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

use llama_cpp_2::sampling::LlamaSampler;

use super::prompt::{self, Template};
use super::prompt_cache::{self, PromptCache};
use super::stop::{Scan, StopScan};
use super::tools;
use super::utf8::Utf8Stream;
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
    ) -> Self {
        let batch_size = batch.max(1) as usize;
        Session {
            model,
            context,
            template,
            batch: LlamaBatch::new(batch_size, 1),
            batch_size,
            cached: Vec::new(),
            disk,
            restored: 0,
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
    /// cancellation.
    fn generate(
        &mut self,
        job: &Job,
        tools: &[ToolSpec],
        mut stats: TurnStats,
        arrived: Instant,
    ) -> Result<(), EngineError> {
        let vocab = self.model.vocab();
        let n_ctx = self.context.n_ctx() as usize;
        let mut sampler = job.sampling.sampler(self.call_grammar(job, tools));
        let mut utf8 = Utf8Stream::new();
        let mut stops = StopScan::new(self.template.stops(), &job.sampling.stop);
        let mut bytes = Vec::with_capacity(64);
        let mut decoded = String::with_capacity(64);
        let mut text = String::with_capacity(64);
        let gen_start = Instant::now();
        let mut first_token_at = None;
        let mut last_sent = None;
        // The answer so far, kept only when it may hold a call (to give the call its allowance).
        let mut so_far = CallWatch::new(job);
        let mut limit = job.sampling.max_tokens;
        let finish_reason = loop {
            if job.cancel.load(Ordering::Relaxed) {
                break Finish::Cancelled;
            }
            if stats.generated_tokens >= limit {
                match so_far.allowance(limit == job.sampling.max_tokens) {
                    Some(extra) => limit = limit.saturating_add(extra),
                    None => break Finish::Length,
                }
            }
            let token = sampler.sample(&self.context, self.batch.n_tokens() - 1);
            let eog = vocab.is_eog(token);
            if eog && !job.sampling.ignore_eos {
                break Finish::Stop;
            }
            stats.generated_tokens += 1;
            first_token_at.get_or_insert_with(Instant::now);
            if !eog {
                bytes.clear();
                vocab.token_to_piece_into(token, &mut bytes, false, None);
                if bytes.is_empty() && !stops.is_empty() && self.is_stop_token(token, &stops) {
                    break Finish::Stop;
                }
                decoded.clear();
                utf8.push(&bytes, &mut decoded);
                so_far.push(&decoded);
                if stops.push(&decoded, &mut text) == Scan::Stopped {
                    break Finish::Stop;
                }
            }
            // The first piece goes at once; later ones at most every PIECE_INTERVAL, so that a
            // fast model wakes the listener once per few tokens rather than once per token.
            // A piece of up to 24 bytes (nearly always) is sent inline, without allocating.
            let due = last_sent.is_none_or(|t: Instant| t.elapsed() >= PIECE_INTERVAL);
            if due && !text.is_empty() {
                if !send(job, Output::Piece(CompactString::from(text.as_str()))) {
                    break Finish::Cancelled;
                }
                text.clear();
                last_sent = Some(Instant::now());
            }
            if self.cached.len() + 1 >= n_ctx {
                break Finish::ContextFull;
            }
            if job.cancel.load(Ordering::Relaxed) {
                break Finish::Cancelled;
            }
            self.batch.clear();
            let pos = self.cached.len() as i32;
            self.batch
                .add(token, pos, &[0], true)
                .map_err(|e| EngineError::Decode(e.to_string()))?;
            self.cached.push(token);
            if let Err(e) = self.context.decode(&mut self.batch) {
                self.forget_cache();
                return Err(EngineError::Decode(e.to_string()));
            }
        };
        // An unfinished character at the end, then what the stop scan held back (none of
        // it after a stop string, nor what could be the start of markup: stop.rs).
        decoded.clear();
        utf8.finish(&mut decoded);
        stops.push(&decoded, &mut text);
        stops.finish(&mut text);
        if !text.is_empty() {
            send(job, Output::Piece(CompactString::from(text)));
        }
        if let Some(first) = first_token_at {
            stats.ttft_ms = (first - arrived).as_secs_f64() * 1000.0;
        }
        stats.generation_ms = ms(gen_start);
        finish(job, finish_reason, stats, arrived)
    }

    /// A control token that prints nothing but is written as a stop string (ChatML's
    /// `<|im_start|>` in a model whose template is missing, say).
    fn is_stop_token(&self, token: LlamaToken, stops: &StopScan) -> bool {
        let mut special = Vec::with_capacity(16);
        self.model
            .vocab()
            .token_to_piece_into(token, &mut special, true, None);
        std::str::from_utf8(&special).is_ok_and(|text| stops.is_stop(text))
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

/// The text of an answer that may open a call, for the call's own token allowance.
struct CallWatch<'j> {
    /// The tools on offer, when calls may be written this round.
    tools: Option<&'j ToolPrompt>,
    text: String,
}

impl<'j> CallWatch<'j> {
    fn new(job: &'j Job) -> Self {
        let tools = job
            .tools
            .as_deref()
            .filter(|t| !t.answer_only && t.call_max_tokens > 0);
        CallWatch {
            tools,
            text: String::new(),
        }
    }

    fn push(&mut self, piece: &str) {
        if self.tools.is_some() {
            self.text.push_str(piece);
        }
    }

    /// At the token limit: the extra tokens a call being written may have. Only once, at the
    /// answer's own limit (`first`); a call still open after its allowance is cut off.
    fn allowance(&self, first: bool) -> Option<u32> {
        let tools = self.tools.filter(|_| first)?;
        tools::open_call(&self.text, &tools.tools).map(|_| tools.call_max_tokens)
    }
}

/// How many tokens `a` and `b` share from the start.
fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The shortest time between two pieces of one answer after the first. Every piece wakes the
/// threads that pass it on (core, front end); on a machine whose cores all run llama.cpp each
/// wake-up preempts a thread the others then wait for. 20 ms is below what a reader notices.
const PIECE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(20);

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Sends to the job's listener; false when nobody listens any more (which cancels).
fn send(job: &Job, output: Output) -> bool {
    job.output.blocking_send(output).is_ok()
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
