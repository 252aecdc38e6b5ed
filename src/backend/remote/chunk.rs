//! Chat-completion chunks: what each streamed event brings, and the answer they add up to.
//!
//! Text arrives in `choices[0].delta.content`. Native tool calls arrive in
//! `delta.tool_calls[]`: the first fragment of each (by `index`) has its `id` and name, and the
//! arguments come as string fragments to join. At the end the calls are written in the
//! `<tool_call>` markup the turn loop reads from a local model, so both back ends' answers are
//! the same text. The last chunks carry `finish_reason`, `usage` and (llama-server) `timings`.

use serde_json::{Map, Value};

use crate::engine::{CALL_OPEN, Finish};

/// What is wrong with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// Not chat-completion JSON; the start of what came.
    Malformed(String),
    /// The server reported an error in the stream; its message.
    Server(String),
}

/// The counts a server reports.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Tokens in the prompt.
    pub prompt: Option<u32>,
    /// Prompt tokens the server had cached.
    pub cached: Option<u32>,
    /// Tokens generated.
    pub generated: Option<u32>,
    /// Time the server spent on the prompt and on generating, in ms (llama-server).
    pub prompt_ms: Option<f64>,
    /// Time the server spent generating, in ms (llama-server).
    pub generation_ms: Option<f64>,
    /// Tokens drafted and of those accepted, when the server decodes speculatively
    /// (llama-server's `draft_n` and `draft_n_accepted`).
    pub drafted: Option<u32>,
    pub accepted: Option<u32>,
}

/// One call as its fragments came.
#[derive(Debug, Clone, Default, PartialEq)]
struct Call {
    name: String,
    arguments: String,
}

/// The answer so far.
#[derive(Debug, Default)]
pub struct Answer {
    calls: Vec<Call>,
    /// The reason the server gave for ending, once it came.
    pub finish_reason: Option<String>,
    /// The server's counts, once they came.
    pub counts: Counts,
    /// Chunks that brought text.
    pub text_chunks: u32,
}

impl Answer {
    /// Takes in one event's data; returns the text it adds (maybe empty).
    pub fn take(&mut self, data: &str) -> Result<String, ChunkError> {
        let chunk: Value = serde_json::from_str(data).map_err(|_| malformed(data))?;
        let Some(chunk) = chunk.as_object() else {
            return Err(malformed(data));
        };
        if let Some(error) = chunk.get("error") {
            return Err(ChunkError::Server(error_message(error)));
        }
        self.take_counts(chunk);
        let Some(choices) = chunk.get("choices") else {
            return Err(malformed(data));
        };
        let Some(choices) = choices.as_array() else {
            return Err(malformed(data));
        };
        let mut text = String::new();
        for choice in choices
            .iter()
            .filter(|c| c["index"].as_u64().unwrap_or(0) == 0)
        {
            if let Some(reason) = choice["finish_reason"].as_str() {
                self.finish_reason = Some(reason.to_owned());
            }
            let delta = &choice["delta"];
            if let Some(content) = delta["content"].as_str() {
                text.push_str(content);
            }
            if let Some(calls) = delta["tool_calls"].as_array() {
                for (k, call) in calls.iter().enumerate() {
                    self.take_call(call, k);
                }
            }
        }
        if !text.is_empty() {
            self.text_chunks += 1;
        }
        Ok(text)
    }

    fn take_call(&mut self, call: &Value, position: usize) {
        let index = call["index"]
            .as_u64()
            .map_or(position, |i| i as usize)
            .min(64);
        if self.calls.len() <= index {
            self.calls.resize(index + 1, Call::default());
        }
        let slot = &mut self.calls[index];
        if let Some(name) = call["function"]["name"].as_str() {
            slot.name.push_str(name);
        }
        if let Some(arguments) = call["function"]["arguments"].as_str() {
            slot.arguments.push_str(arguments);
        } else if let Some(arguments) = call["function"]["arguments"].as_object() {
            // Some servers send the object itself.
            slot.arguments = Value::Object(arguments.clone()).to_string();
        }
    }

    fn take_counts(&mut self, chunk: &Map<String, Value>) {
        let count = |v: &Value| v.as_u64().map(|n| n as u32);
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.counts.prompt = count(&usage["prompt_tokens"]).or(self.counts.prompt);
            self.counts.generated = count(&usage["completion_tokens"]).or(self.counts.generated);
            self.counts.cached =
                count(&usage["prompt_tokens_details"]["cached_tokens"]).or(self.counts.cached);
        }
        if let Some(timings) = chunk.get("timings").filter(|t| t.is_object()) {
            self.counts.cached = count(&timings["cache_n"]).or(self.counts.cached);
            self.counts.prompt_ms = timings["prompt_ms"].as_f64().or(self.counts.prompt_ms);
            self.counts.generation_ms = timings["predicted_ms"]
                .as_f64()
                .or(self.counts.generation_ms);
            self.counts.drafted = count(&timings["draft_n"]).or(self.counts.drafted);
            self.counts.accepted = count(&timings["draft_n_accepted"]).or(self.counts.accepted);
        }
    }

    /// Whether the server said why the answer ended.
    pub fn ended(&self) -> bool {
        self.finish_reason.is_some()
    }

    /// Why the answer ended, in the engine's terms.
    pub fn finish(&self) -> Finish {
        match self.finish_reason.as_deref() {
            Some("length") => Finish::Length,
            _ => Finish::Stop,
        }
    }

    /// The native calls, written as `<tool_call>` markup (empty when there are none). Arguments
    /// that are not a JSON object are kept as a string under `arguments`, for validation to
    /// report.
    pub fn calls_markup(&self) -> String {
        let mut text = String::new();
        for call in self.calls.iter().filter(|c| !c.name.is_empty()) {
            let arguments = match call.arguments.trim() {
                "" => Value::Object(Map::new()),
                raw => serde_json::from_str::<Value>(raw)
                    .ok()
                    .filter(Value::is_object)
                    .unwrap_or_else(|| Value::String(raw.to_owned())),
            };
            let object = serde_json::json!({"name": call.name, "arguments": arguments});
            text.push_str(&format!("\n{CALL_OPEN}\n{object}\n</tool_call>"));
        }
        text
    }
}

/// The message of an error object (`{"message": …}`), or the value as text.
pub fn error_message(error: &Value) -> String {
    let text = match error {
        Value::String(s) => s.clone(),
        Value::Object(o) => match o.get("message") {
            Some(Value::String(s)) => s.clone(),
            _ => error.to_string(),
        },
        other => other.to_string(),
    };
    crate::text::one_line(&crate::text::inert(&text))
}

fn malformed(data: &str) -> ChunkError {
    let start: String = data.chars().take(60).collect();
    ChunkError::Malformed(crate::text::one_line(&crate::text::inert(&start)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_usage_and_finish_add_up() {
        let mut answer = Answer::default();
        let a = answer
            .take(r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#);
        let b = answer
            .take(r#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#);
        let c = answer.take(r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2},"timings":{"cache_n":4,"prompt_ms":5.5,"predicted_ms":20.0,"draft_n":6,"draft_n_accepted":5}}"#);
        assert_eq!(
            (a.unwrap(), b.unwrap(), c.unwrap()),
            ("Hel".into(), "lo".into(), String::new())
        );
        assert_eq!(answer.finish(), Finish::Stop);
        assert_eq!(answer.counts.prompt, Some(12));
        assert_eq!(answer.counts.generated, Some(2));
        assert_eq!(answer.counts.cached, Some(4));
        assert_eq!(answer.counts.generation_ms, Some(20.0));
        assert_eq!(
            (answer.counts.drafted, answer.counts.accepted),
            (Some(6), Some(5))
        );
        assert_eq!(answer.calls_markup(), "");
    }

    #[test]
    fn call_fragments_join_by_index_into_markup_the_parser_reads() {
        let mut answer = Answer::default();
        for data in [
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"time","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"calc","arguments":"{\"expr"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"zone\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Tokyo\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\":\"1+1\"}"}}]},"finish_reason":"tool_calls"}]}"#,
        ] {
            assert_eq!(answer.take(data), Ok(String::new()));
        }
        let tools = [
            crate::tools::ToolSpec::new("time", "", serde_json::json!({})),
            crate::tools::ToolSpec::new("calc", "", serde_json::json!({})),
        ];
        let parsed = crate::tools::parse(&answer.calls_markup(), &tools);
        let calls: Vec<(String, Value)> = parsed
            .calls
            .into_iter()
            .map(|(c, _)| (c.name, Value::Object(c.arguments)))
            .collect();
        assert_eq!(
            calls,
            [
                ("time".into(), serde_json::json!({"zone": "Tokyo"})),
                ("calc".into(), serde_json::json!({"expr": "1+1"})),
            ]
        );
        assert_eq!(parsed.text, "");
    }

    #[test]
    fn errors_and_malformed_chunks_are_told_apart() {
        let mut answer = Answer::default();
        assert_eq!(
            answer.take(r#"{"error":{"message":"boom\u001b[2J","code":500}}"#),
            Err(ChunkError::Server("boom␛[2J".into()))
        );
        assert!(
            matches!(answer.take("not json"), Err(ChunkError::Malformed(s)) if s == "not json")
        );
        assert!(matches!(
            answer.take(r#"{"id":1}"#),
            Err(ChunkError::Malformed(_))
        ));
        assert!(matches!(
            answer.take("[1,2]"),
            Err(ChunkError::Malformed(_))
        ));
    }
}
