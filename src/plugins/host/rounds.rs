//! Input-required rounds (MRTR, protocol 2026-07-28): a server that needs the user, the model
//! or the roots before it can answer a call returns `resultType: "input_required"` with its
//! questions, and we call again with the answers and the state it gave us.
//!
//! Invariants: every question is answered by the same [`Inputs`] that answers a server's own
//! requests on older protocols (so consent, rules and audit are the same); the state is echoed
//! as received, never read; a server that keeps asking stops after [`MAX_ROUNDS`].

use std::time::Duration;

use rmcp::model::{InputRequest, InputRequiredResult, InputResponses};
use serde_json::Value;

use super::client::Inputs;
use crate::text::one_line;

/// The most rounds one request may take (rmcp's own cap).
pub const MAX_ROUNDS: usize = 10;

/// What goes back with the next round: the answers, keyed as asked, and the server's state.
pub struct Retry {
    pub responses: Option<InputResponses>,
    pub state: Option<String>,
}

/// Answers one input-required result. `quiet` counts the rounds in a row that asked nothing
/// (the server only wants to be asked again later): each waits a little longer, to 250 ms.
pub async fn answer(
    inputs: &Inputs,
    result: InputRequiredResult,
    quiet: &mut u32,
) -> Result<Retry, String> {
    let requests = result.input_requests.unwrap_or_default();
    if requests.is_empty() {
        if result.request_state.is_none() {
            return Err("the server asked for input but sent no questions and no state".into());
        }
        let millis = (50u64 << (*quiet).min(3)).min(250);
        tokio::time::sleep(Duration::from_millis(millis)).await;
        *quiet += 1;
    } else {
        *quiet = 0;
    }
    let mut responses = InputResponses::new();
    for (key, request) in requests {
        responses.insert(key, one(inputs, request).await?);
    }
    Ok(Retry {
        responses: (!responses.is_empty()).then_some(responses),
        state: result.request_state,
    })
}

/// The answer to one question, as the JSON the server reads.
async fn one(inputs: &Inputs, request: InputRequest) -> Result<Value, String> {
    let json = match request {
        InputRequest::CreateMessage(request) => inputs
            .sample(request.params)
            .await
            .map(serde_json::to_value),
        InputRequest::Elicitation(request) => inputs
            .elicit(request.params)
            .await
            .map(serde_json::to_value),
        InputRequest::ListRoots(_) => Ok(serde_json::to_value(inputs.roots())),
        _ => return Err("the server asked a kind of question this version does not answer".into()),
    };
    match json {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!(
            "cannot write the answer to the server's question: {e}"
        )),
        Err(e) => Err(one_line(&e.message)),
    }
}

/// The error after [`MAX_ROUNDS`] rounds.
pub fn too_many() -> String {
    format!("the server asked for input {MAX_ROUNDS} times without answering")
}
