//! The `--json` event stream: one JSON object a line, each with `"v"` (the schema version) and
//! `"type"`. Documented in docs/headless.md; bump `VERSION` on any incompatible change.

use serde::Serialize;

use libre_assistant::engine::{Finish, Placement, TurnStats};
use libre_assistant::plugins::audit::Grant;

/// Schema version of the event stream.
pub const VERSION: u32 = 1;

/// One line of the stream.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JsonEvent<'a> {
    /// The model is loaded and the turn begins.
    Start {
        /// Model name or path as resolved.
        model: &'a str,
        /// The model file.
        model_path: &'a str,
        /// Context length in tokens.
        context: u32,
        /// Model load time.
        load_ms: f64,
        /// Where the model runs: `{"kind": "local"}`, `{"kind": "rpc", "servers": [...]}` or
        /// `{"kind": "remote", "backend": ..., "host": ...}`.
        runs: &'a Placement,
    },
    /// More answer text.
    Delta {
        /// The new text.
        text: &'a str,
    },
    /// Something the user should know that is not part of the answer.
    Notice {
        /// What happened.
        message: &'a str,
    },
    /// The tools offered with the next answer, within the tool budget.
    Tools {
        /// The names of the tools offered, in the order the model sees them.
        offered: Vec<&'a str>,
        /// The offered tools the question may call (`tools.only_relevant`).
        callable: Vec<&'a str>,
        /// How many tools are enabled in all.
        enabled: usize,
        /// Tokens the offered definitions take.
        tokens: u32,
        /// The budget they were chosen in.
        budget: u32,
    },
    /// The model called a tool and the call was allowed; it runs now.
    ToolCall {
        /// The call's id within this run.
        id: u64,
        /// The plugin.
        plugin: &'a str,
        /// The tool.
        tool: &'a str,
        /// The arguments.
        arguments: &'a serde_json::Value,
        /// What allowed it: config, headless_flag, …
        granted_by: Grant,
    },
    /// A call ended: it ran (`ok`, `tool_error`), failed, was denied or was invalid.
    ToolResult {
        /// The call's id, when it became a request.
        id: Option<u64>,
        /// The plugin (empty for an unknown tool).
        plugin: &'a str,
        /// The tool.
        tool: &'a str,
        /// ok, tool_error, failed, denied or invalid.
        outcome: &'a str,
        /// The result text (untrusted tool output) or why it did not run.
        text: &'a str,
        /// How long it ran.
        duration_ms: u64,
    },
    /// The answer ended.
    Done {
        /// Why.
        finish: Finish,
        /// Counts and timings.
        stats: &'a TurnStats,
    },
    /// The run failed.
    Error {
        /// The process exit code that follows.
        exit_code: i32,
        /// One line: what went wrong and what to do.
        message: &'a str,
    },
}

/// Serialises `event` as one line with the version stamped in.
pub fn line(event: &JsonEvent<'_>) -> String {
    #[derive(Serialize)]
    struct Versioned<'e, 'a> {
        v: u32,
        #[serde(flatten)]
        event: &'e JsonEvent<'a>,
    }
    let mut s = serde_json::to_string(&Versioned { v: VERSION, event }).unwrap_or_else(|e| {
        format!("{{\"v\":{VERSION},\"type\":\"error\",\"exit_code\":1,\"message\":\"cannot encode event: {e}\"}}")
    });
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_is_one_versioned_line() {
        assert_eq!(
            line(&JsonEvent::Delta { text: "a\"b\n" }),
            "{\"v\":1,\"type\":\"delta\",\"text\":\"a\\\"b\\n\"}\n"
        );
    }

    #[test]
    fn done_carries_the_stats() {
        let stats = TurnStats {
            prompt_tokens: 3,
            generated_tokens: 2,
            ..TurnStats::default()
        };
        let value: serde_json::Value = serde_json::from_str(&line(&JsonEvent::Done {
            finish: Finish::Stop,
            stats: &stats,
        }))
        .unwrap();
        assert_eq!(value["type"], "done");
        assert_eq!(value["finish"], "stop");
        assert_eq!(value["stats"]["prompt_tokens"], 3);
        assert_eq!(value["stats"]["generated_tokens"], 2);
    }
}
