//! An answer's tokens becoming text: pieces decoded (whole characters only), stop strings
//! held back, the token limit (with a call's allowance), and the pieces sent to the job's
//! listener. Where the tokens come from (one at a time, or several checked at once against a
//! draft) is `turn.rs`'s business; each accepted token passes through [`Answer::take`].

use std::sync::atomic::Ordering;
use std::time::Instant;

use compact_str::CompactString;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

use super::stop::{Scan, StopScan};
use super::utf8::Utf8Stream;
use super::{Finish, Job, Output, ToolPrompt, TurnStats, tools};

/// The shortest time between two pieces of one answer after the first. Every piece wakes the
/// threads that pass it on (core, front end); on a machine whose cores all run llama.cpp each
/// wake-up preempts a thread the others then wait for. 20 ms is below what a reader notices.
const PIECE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(20);

/// The answer so far and what decides its end.
pub(super) struct Answer<'a> {
    model: &'a LlamaModel,
    job: &'a Job,
    pub(super) stats: TurnStats,
    utf8: Utf8Stream,
    stops: StopScan,
    bytes: Vec<u8>,
    decoded: String,
    /// Released text not sent yet.
    text: String,
    first_token_at: Option<Instant>,
    last_sent: Option<Instant>,
    /// The answer so far, kept only when it may hold a call (to give the call its allowance).
    so_far: CallWatch<'a>,
    limit: u32,
}

impl<'a> Answer<'a> {
    pub(super) fn new(
        model: &'a LlamaModel,
        job: &'a Job,
        template_stops: &[&str],
        stats: TurnStats,
    ) -> Self {
        Answer {
            model,
            job,
            stats,
            utf8: Utf8Stream::new(),
            stops: StopScan::new(template_stops, &job.sampling.stop),
            bytes: Vec::with_capacity(64),
            decoded: String::with_capacity(64),
            text: String::with_capacity(64),
            first_token_at: None,
            last_sent: None,
            so_far: CallWatch::new(job),
            limit: job.sampling.max_tokens,
        }
    }

    /// Before sampling a token: the answer ends here when it was cancelled or has all the
    /// tokens it may have.
    pub(super) fn ends_before_next(&mut self) -> Option<Finish> {
        if self.cancelled() {
            return Some(Finish::Cancelled);
        }
        if self.stats.generated_tokens >= self.limit {
            match self
                .so_far
                .allowance(self.limit == self.job.sampling.max_tokens)
            {
                Some(extra) => self.limit = self.limit.saturating_add(extra),
                None => return Some(Finish::Length),
            }
        }
        None
    }

    pub(super) fn cancelled(&self) -> bool {
        self.job.cancel.load(Ordering::Relaxed)
    }

    /// Takes a sampled token into the answer; `Some` when the answer ends with it (an end of
    /// generation or a stop string, which are not part of the answer; or nobody listens).
    pub(super) fn take(&mut self, token: LlamaToken) -> Option<Finish> {
        let vocab = self.model.vocab();
        let eog = vocab.is_eog(token);
        if eog && !self.job.sampling.ignore_eos {
            return Some(Finish::Stop);
        }
        self.stats.generated_tokens += 1;
        self.first_token_at.get_or_insert_with(Instant::now);
        if !eog {
            self.bytes.clear();
            vocab.token_to_piece_into(token, &mut self.bytes, false, None);
            if self.bytes.is_empty() && !self.stops.is_empty() && self.is_stop_token(token) {
                return Some(Finish::Stop);
            }
            self.decoded.clear();
            self.utf8.push(&self.bytes, &mut self.decoded);
            self.so_far.push(&self.decoded);
            if self.stops.push(&self.decoded, &mut self.text) == Scan::Stopped {
                return Some(Finish::Stop);
            }
        }
        // The first piece goes at once; later ones at most every PIECE_INTERVAL, so that a
        // fast model wakes the listener once per few tokens rather than once per token. A
        // piece of up to 24 bytes (nearly always) is sent inline, without allocating.
        let due = self
            .last_sent
            .is_none_or(|t: Instant| t.elapsed() >= PIECE_INTERVAL);
        if due && !self.text.is_empty() {
            if !send(
                self.job,
                Output::Piece(CompactString::from(self.text.as_str())),
            ) {
                return Some(Finish::Cancelled);
            }
            self.text.clear();
            self.last_sent = Some(Instant::now());
        }
        None
    }

    /// Sends what is left: an unfinished character at the end, then what the stop scan held
    /// back (none of it after a stop string, nor what could be the start of markup:
    /// stop.rs). Returns the stats, with the time to the first token set.
    pub(super) fn flush(mut self, arrived: Instant) -> TurnStats {
        self.decoded.clear();
        self.utf8.finish(&mut self.decoded);
        self.stops.push(&self.decoded, &mut self.text);
        self.stops.finish(&mut self.text);
        if !self.text.is_empty() {
            send(self.job, Output::Piece(CompactString::from(self.text)));
        }
        if let Some(first) = self.first_token_at {
            self.stats.ttft_ms = (first - arrived).as_secs_f64() * 1000.0;
        }
        self.stats
    }

    /// A control token that prints nothing but is written as a stop string (ChatML's
    /// `<|im_start|>` in a model whose template is missing, say).
    fn is_stop_token(&self, token: LlamaToken) -> bool {
        let mut special = Vec::with_capacity(16);
        self.model
            .vocab()
            .token_to_piece_into(token, &mut special, true, None);
        std::str::from_utf8(&special).is_ok_and(|text| self.stops.is_stop(text))
    }
}

/// Sends to the job's listener; false when nobody listens any more (which cancels).
pub(super) fn send(job: &Job, output: Output) -> bool {
    job.output.blocking_send(output).is_ok()
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
