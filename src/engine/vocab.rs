//! Counting tokens without a context: the model's vocabulary alone (llama.cpp's vocab-only
//! load reads the tokenizer, not the weights), for `plugins tools`' token costs and for
//! measuring a raw prompt.

use std::path::Path;

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;

use super::EngineError;
use crate::tools::ToolSpec;

/// How many tokens each tool's definition costs in the prompt, as the generic format writes it
/// (`{"type": "function", "function": {…}}`), with the tokenizer of the model at `path`.
pub fn tool_costs(path: &Path, tools: &[ToolSpec]) -> Result<Vec<usize>, EngineError> {
    let model = vocab_only(path)?;
    Ok(tools
        .iter()
        .map(|tool| {
            let text = super::tools::definition(tool);
            model.vocab().tokenize(text.as_bytes(), false, false).len()
        })
        .collect())
}

/// How many tokens `text` takes as a whole prompt with the tokenizer of the model at `path`,
/// tokenized as the engine tokenizes a rendered prompt (special tokens parsed, BOS added).
pub fn prompt_tokens(path: &Path, text: &str) -> Result<usize, EngineError> {
    let model = vocab_only(path)?;
    Ok(super::prompt::tokenize(&model, text).len())
}

fn vocab_only(path: &Path) -> Result<LlamaModel, EngineError> {
    let backend = super::worker::backend()?;
    let params = LlamaModelParams::default().with_vocab_only(true);
    LlamaModel::load_from_file(backend, path, &params).map_err(|_| EngineError::Load {
        path: path.to_owned(),
    })
}
