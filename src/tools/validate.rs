//! Checking a call against the tools offered before anything runs: the tool must exist and its
//! arguments must satisfy its input schema. A problem reads as one line the model can act on,
//! because it goes back to the model as the call's result.

use serde_json::Value;

use super::{ToolCall, ToolSpec};
use crate::text::one_line;

/// At most this many schema errors are named in one message; the model fixes them in turns.
const MAX_ERRORS: usize = 3;

/// Why a call cannot run, worded for the model that made it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallProblem {
    /// No offered tool has this name.
    #[error("there is no tool named {name:?}; the tools are: {known}; call one of them")]
    UnknownTool {
        /// The name the model wrote.
        name: String,
        /// The offered names, comma-separated.
        known: String,
    },
    /// The arguments fail the tool's input schema.
    #[error("tool {name}: {detail}; call it again with valid arguments")]
    InvalidArguments {
        /// The tool.
        name: String,
        /// What is wrong, `arguments.field: reason`, several joined by `; `.
        detail: String,
    },
    /// The tool's own schema is not a valid JSON Schema: the plugin's fault, not the model's.
    #[error("tool {name} cannot be called: its input schema is invalid ({detail})")]
    BadSchema {
        /// The tool.
        name: String,
        /// What the schema compiler said.
        detail: String,
    },
}

/// Whether `call` names one of `tools` with arguments its input schema accepts.
pub fn validate(call: &ToolCall, tools: &[ToolSpec]) -> Result<(), CallProblem> {
    let Some(tool) = tools.iter().find(|t| t.name == call.name) else {
        let known: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        return Err(CallProblem::UnknownTool {
            name: call.name.clone(),
            known: if known.is_empty() {
                "(none)".to_owned()
            } else {
                known.join(", ")
            },
        });
    };
    let validator =
        jsonschema::validator_for(&tool.input_schema).map_err(|e| CallProblem::BadSchema {
            name: tool.name.clone(),
            detail: one_line(&e.to_string()),
        })?;
    let instance = Value::Object(call.arguments.clone());
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .take(MAX_ERRORS)
        .map(|e| {
            format!(
                "{}: {}",
                field_path(e.instance_path().as_str()),
                one_line(&e.to_string())
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CallProblem::InvalidArguments {
            name: tool.name.clone(),
            detail: errors.join("; "),
        })
    }
}

/// A JSON pointer into the arguments as the model would name it: `/a/0/b` → `arguments.a[0].b`.
fn field_path(pointer: &str) -> String {
    let mut path = String::from("arguments");
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            path.push_str(&format!("[{segment}]"));
        } else {
            path.push('.');
            path.push_str(&segment);
        }
    }
    path
}
