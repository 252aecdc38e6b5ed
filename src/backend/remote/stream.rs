//! One answer from a server: the request, then its SSE stream turned into engine outputs.
//!
//! The tools go in within the tool budget (their costs estimated from their length: the
//! server's tokenizer is not at hand). The cancel flag is looked at while waiting for every
//! chunk; when it is set the response is dropped, which closes the stream and stops the
//! server's generation. A stream that ends before the server said why it ended is cut: the
//! text that came is kept (see `Finish::Cut` in the core).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::chunk::{Answer, ChunkError};
use super::sse::Events;
use super::{RemoteConfig, error, header, request};
use crate::engine::{
    ChatMessage, EngineError, Finish, Job, Output, Role, TurnStats, choose_tools, estimated_costs,
    kept, next_drop,
};

/// How often the cancel flag is looked at while waiting for the server.
const CANCEL_POLL: Duration = Duration::from_millis(20);

/// What one job needs.
pub(super) struct Task {
    pub client: reqwest::Client,
    pub config: RemoteConfig,
    pub context: u32,
}

/// How the wait for the next piece of the response ended.
enum Wait<T> {
    Came(T),
    Cancelled,
}

impl Task {
    /// Answers `job`; every outcome ends in `Done` or `Failed` on its output.
    pub async fn answer(self, job: Job) {
        let arrived = Instant::now();
        let end = match self.stream(&job, arrived).await {
            Ok(end) => end,
            Err(e) => {
                tracing::warn!(backend = self.config.backend, "remote answer failed: {e}");
                Output::Failed(e)
            }
        };
        let _ = job.output.send(end).await;
    }

    async fn stream(&self, job: &Job, arrived: Instant) -> Result<Output, EngineError> {
        let offer = job.tools.as_deref();
        let tools = match offer {
            Some(offer) if !offer.answer_only && !offer.tools.is_empty() => {
                let room = self
                    .context
                    .saturating_sub(job.sampling.max_tokens.min(self.context / 2));
                let (made, tools) =
                    choose_tools(offer, estimated_costs(&offer.tools), self.context, room);
                if job.output.send(Output::Offered(made)).await.is_err() {
                    return Ok(cancelled(TurnStats::default()));
                }
                tools
            }
            _ => Vec::new(),
        };
        let tools_tokens = estimated_costs(&tools).iter().sum::<u32>();
        let reserve = job.sampling.max_tokens.min(self.context / 2);
        let (messages, dropped) = fit(&job.messages, tools_tokens, self.context, reserve);
        if dropped > 0 {
            let trimmed = Output::Trimmed {
                dropped_messages: dropped,
            };
            if job.output.send(trimmed).await.is_err() {
                return Ok(cancelled(TurnStats::default()));
            }
        }
        let body = request::body(
            &self.config.model,
            &messages,
            offer,
            &tools,
            &job.sampling,
            self.config.dialect,
        );
        tracing::trace!(%body, "chat completion request");
        let url = self.config.endpoint("chat/completions");
        let backend = &self.config.backend;
        let transport =
            |e: &reqwest::Error| error::transport(backend, &url, e, self.config.timeout);
        let sent = self.client.post(&url).json(&body).send();
        let response = match until_cancelled(job, sent).await {
            Wait::Came(response) => response.map_err(|e| transport(&e))?,
            Wait::Cancelled => return Ok(cancelled(TurnStats::default())),
        };
        let code = response.status();
        if !code.is_success() {
            let retry = header(&response, "retry-after");
            let body = response.text().await.unwrap_or_default();
            return Err(error::status(
                backend,
                &self.config.model,
                code.as_u16(),
                retry.as_deref(),
                &body,
            ));
        }
        let mut bytes = response.bytes_stream();
        let mut events = Events::default();
        let mut answer = Answer::default();
        let mut first: Option<Instant> = None;
        let mut done = false;
        while !done {
            let next = match until_cancelled(job, bytes.next()).await {
                Wait::Came(next) => next,
                Wait::Cancelled => return Ok(cancelled(stats(&answer, arrived, first))),
            };
            let data = match next {
                Some(Ok(chunk)) => events.push(&chunk),
                Some(Err(e)) if answer.ended() => {
                    tracing::debug!("the stream closed after its end: {e}");
                    break;
                }
                Some(Err(e)) => return Err(error::cut(backend, &cut_reason(&e))),
                None => {
                    let last = events.finish().into_iter().collect::<Vec<_>>();
                    done = true;
                    last
                }
            };
            for data in data {
                if data.trim() == "[DONE]" {
                    done = true;
                    break;
                }
                let text = answer.take(&data).map_err(|e| match e {
                    ChunkError::Malformed(start) => error::malformed(backend, &start),
                    ChunkError::Server(message) => error::in_stream(backend, &message),
                })?;
                if text.is_empty() {
                    continue;
                }
                first.get_or_insert_with(Instant::now);
                if job.output.send(Output::Piece(text.into())).await.is_err() {
                    return Ok(cancelled(stats(&answer, arrived, first)));
                }
            }
        }
        if !answer.ended() {
            return Err(error::cut(
                backend,
                "the server closed it without saying the answer ended",
            ));
        }
        let calls = answer.calls_markup();
        if !calls.is_empty() {
            first.get_or_insert_with(Instant::now);
            let _ = job.output.send(Output::Piece(calls.into())).await;
        }
        Ok(Output::Done {
            finish: answer.finish(),
            stats: stats(&answer, arrived, first),
        })
    }
}

/// `messages` without their oldest turns, as many as must go for the prompt (estimated: the
/// server's tokenizer is not at hand) to leave `reserve` tokens of `n_ctx` for the answer;
/// and how many messages went. The system prompt and the last message always stay.
fn fit(
    messages: &[ChatMessage],
    tools_tokens: u32,
    n_ctx: u32,
    reserve: u32,
) -> (Vec<ChatMessage>, usize) {
    let first_droppable = usize::from(messages.first().is_some_and(|m| m.role == Role::System));
    let mut dropped = 0;
    loop {
        let window = kept(messages, first_droppable, dropped);
        let tokens = tools_tokens + window.iter().map(estimated_tokens).sum::<u32>();
        if tokens + reserve <= n_ctx {
            return (window, dropped);
        }
        match next_drop(messages, first_droppable, dropped) {
            Some(next) => dropped = next,
            None => return (window, dropped),
        }
    }
}

/// A message's tokens, estimated on the high side (about three characters a token, code and
/// other languages included) with the template's markup around it.
fn estimated_tokens(message: &ChatMessage) -> u32 {
    (message.content.chars().count() as u32).div_ceil(3) + 8
}

/// Waits for `future` unless the job is cancelled first (the future is then dropped).
async fn until_cancelled<T>(job: &Job, future: impl Future<Output = T>) -> Wait<T> {
    let cancel = job.cancel.clone();
    let watch = async move {
        while !cancel.load(Ordering::Relaxed) {
            tokio::time::sleep(CANCEL_POLL).await;
        }
    };
    tokio::select! {
        biased;
        () = watch => Wait::Cancelled,
        value = future => Wait::Came(value),
    }
}

fn cancelled(stats: TurnStats) -> Output {
    Output::Done {
        finish: Finish::Cancelled,
        stats,
    }
}

/// Why the stream broke, as one short phrase.
fn cut_reason(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    crate::text::one_line(&text)
}

/// The turn's figures: the server's counts where it gave them, else what was seen here.
fn stats(answer: &Answer, arrived: Instant, first: Option<Instant>) -> TurnStats {
    let now = Instant::now();
    let counts = answer.counts;
    let ttft_ms = first.map_or(0.0, |f| f.duration_since(arrived).as_secs_f64() * 1000.0);
    let local_generation_ms = first.map_or(0.0, |f| now.duration_since(f).as_secs_f64() * 1000.0);
    let generated = counts.generated.unwrap_or(answer.text_chunks);
    let generation_ms = counts.generation_ms.unwrap_or(local_generation_ms);
    let prompt = counts.prompt.unwrap_or(0);
    let reused = counts.cached.unwrap_or(0).min(prompt);
    let prompt_ms = counts.prompt_ms.unwrap_or(ttft_ms);
    let per_second = |n: u32, ms: f64| {
        if ms > 0.0 {
            f64::from(n) * 1000.0 / ms
        } else {
            0.0
        }
    };
    TurnStats {
        prompt_tokens: prompt,
        prompt_tokens_reused: reused,
        prompt_tokens_restored: 0,
        prompt_tokens_decoded: prompt - reused,
        generated_tokens: generated,
        ttft_ms,
        prompt_ms,
        generation_ms,
        tokens_per_second: per_second(generated, generation_ms),
        prompt_tokens_per_second: per_second(prompt - reused, prompt_ms),
        draft_tokens: counts.drafted.unwrap_or(0),
        draft_accepted: counts.accepted.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_turns_go_until_the_estimate_fits() {
        let long = "word ".repeat(100);
        let messages = vec![
            ChatMessage::new(Role::System, "Be brief."),
            ChatMessage::new(Role::User, long.clone()),
            ChatMessage::new(Role::Assistant, long.clone()),
            ChatMessage::new(Role::User, "And now?"),
        ];
        let (window, dropped) = fit(&messages, 0, 1000, 100);
        assert_eq!(dropped, 0, "it fits: {window:?}");
        let (window, dropped) = fit(&messages, 0, 300, 100);
        assert_eq!(dropped, 2);
        assert_eq!(window, [messages[0].clone(), messages[3].clone()]);
        // The tools count too.
        assert_eq!(fit(&messages, 700, 1000, 100).1, 2);
    }
}
