//! Tool calls in a local model's output: the tools offered ([`ToolSpec`]), the calls found in
//! what the model wrote ([`parse`]) and the check of their arguments against each tool's input
//! schema ([`validate`]). Pure functions, no I/O; nothing here runs a tool.
//!
//! Invariant: a JSON object without call markup (bare or in a fence) is a call only when it
//! names a known tool, so a model explaining JSON does not trigger calls.

mod as_written;
mod intent;
mod parse;
mod rank;
pub mod repair;
mod validate;

#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod validate_tests;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use as_written::as_written;
pub use intent::{asks_knowledge, must_call};
pub use parse::parse;
pub use rank::{after_calls, fit_paths, order, scores};
pub use repair::repair;
pub use validate::{CallProblem, validate};

/// A tool the model may call, as an MCP server describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolSpec {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, as the server says (untrusted text).
    pub description: String,
    /// The JSON Schema its arguments must satisfy.
    pub input_schema: Value,
}

impl ToolSpec {
    /// A tool named `name`.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema,
        }
    }

    /// Whether a call may leave out its arguments: the schema requires no property.
    pub fn requires_nothing(&self) -> bool {
        match self.input_schema.get("required") {
            None => true,
            Some(Value::Array(required)) => required.is_empty(),
            Some(_) => false,
        }
    }
}

/// A call the model asked for; not yet validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The tool's name, as the model wrote it.
    pub name: String,
    /// The arguments object.
    pub arguments: Map<String, Value>,
}

/// The markup a call was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `<tool_call>{…}</tool_call>` (Qwen 2.5, Hermes).
    Hermes,
    /// `[TOOL_CALLS] [{…}]`, or `[TOOL_CALLS]name[ARGS]{…}` (Mistral).
    MistralTag,
    /// `{"name": …, "parameters": {…}}` bare, or after `<|python_tag|>` (Llama 3).
    Llama3Json,
    /// A fenced code block holding the call object.
    FencedJson,
    /// A bare JSON object naming a known tool.
    BareJson,
}

/// What [`parse`] found in an output.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// The calls, in the order written, with the markup each came in.
    pub calls: Vec<(ToolCall, Format)>,
    /// The output with the call markup removed, trimmed.
    pub text: String,
}
