//! Counting tokens without a context: the model's vocabulary alone (llama.cpp's vocab-only
//! load reads the tokenizer, not the weights), for `plugins tools`' token costs.

use std::path::Path;

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;

use super::EngineError;
use crate::tools::ToolSpec;

/// How many tokens each tool's definition costs in the prompt, as the generic format writes it
/// (`{"type": "function", "function": {…}}`), with the tokenizer of the model at `path`.
pub fn tool_costs(path: &Path, tools: &[ToolSpec]) -> Result<Vec<usize>, EngineError> {
    let backend = super::worker::backend()?;
    let params = LlamaModelParams::default().with_vocab_only(true);
    let model =
        LlamaModel::load_from_file(backend, path, &params).map_err(|_| EngineError::Load {
            path: path.to_owned(),
        })?;
    Ok(tools
        .iter()
        .map(|tool| {
            let text = super::tools::definition(tool);
            model.vocab().tokenize(text.as_bytes(), false, false).len()
        })
        .collect())
}
