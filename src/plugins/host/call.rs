//! One tool call on a running plugin: its timeouts, its progress, and its cancellation.
//!
//! Invariants: a call waits at most `timeout` without hearing progress, and never more than
//! `max_total` in all; each progress notification restarts the first clock. A call that ends
//! early for any reason but an answer (a timeout, or its caller dropping it) sends the server
//! `notifications/cancelled` with the request's id. A call refused with "visit this URL first"
//! (`-32042`) shows the user the URLs and is made again once, only if they went to each.

use std::time::Duration;

use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, CancelledNotificationParam,
    ClientRequest, ElicitRequestParams, ElicitationAction, ErrorCode, RequestId, ServerResult,
};
use rmcp::service::{Peer, PeerRequestOptions};
use rmcp::{ErrorData, RoleClient, ServiceError};

use super::client::{Inputs, Progress};
use super::{CallError, ToolOutcome};
use super::{context, rounds};
use crate::text::one_line;

/// How long a call may run: `idle` without progress, `total` at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The manifest's `timeout_secs`.
    pub idle: Duration,
    /// The manifest's `max_timeout_secs` (at least `idle`).
    pub total: Duration,
}

/// Calls a tool, reporting its progress through `progress`, and answering the server's
/// input-required rounds with `inputs` (each round has the call's limits afresh: the time the
/// user takes to answer is not the tool's).
pub async fn call(
    peer: &Peer<RoleClient>,
    inputs: &Inputs,
    mut params: CallToolRequestParams,
    limits: Limits,
    progress: &Progress,
) -> Result<ToolOutcome, CallError> {
    let mut quiet = 0;
    let mut visited = false;
    for _ in 0..rounds::MAX_ROUNDS {
        let answer = match once(peer, params.clone(), limits, progress).await {
            // The server needs the user to visit a URL first: once they have, call again
            // (once: a server that asks again gets its error through).
            Err(ServiceError::McpError(e)) if e.code == URL_REQUIRED && !visited => {
                visit(inputs, &e).await?;
                visited = true;
                continue;
            }
            other => other.map_err(|e| call_error(e, limits))?,
        };
        match answer {
            ServerResult::CallToolResult(result) => return Ok(outcome(result)),
            ServerResult::InputRequiredResult(asked) => {
                let retry = rounds::answer(inputs, asked, &mut quiet)
                    .await
                    .map_err(CallError::Protocol)?;
                params.input_responses = retry.responses;
                params.request_state = retry.state;
            }
            _ => {
                return Err(CallError::Protocol(
                    "the server answered the call with a task, which this version does not \
                     take"
                        .to_owned(),
                ));
            }
        }
    }
    Err(CallError::Protocol(rounds::too_many()))
}

/// MCP's error for a request that needs the user to visit a URL first
/// (URLElicitationRequired); its data lists the URLs as elicitations.
const URL_REQUIRED: ErrorCode = ErrorCode(-32042);

/// Shows the user each URL a URL-required error lists, as a URL elicitation; `Ok` when they
/// went to every one.
async fn visit(inputs: &Inputs, error: &ErrorData) -> Result<(), CallError> {
    let refused = |why: &str| CallError::Protocol(format!("{} ({why})", one_line(&error.message)));
    let listed = error
        .data
        .as_ref()
        .and_then(|d| d.get("elicitations"))
        .and_then(|e| serde_json::from_value::<Vec<ElicitRequestParams>>(e.clone()).ok())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| refused("the server listed no URL to visit"))?;
    for params in listed {
        let answer = inputs
            .elicit(params)
            .await
            .map_err(|e| refused(&one_line(&e.message)))?;
        if answer.action != ElicitationAction::Accept {
            return Err(refused("the URL was not visited"));
        }
    }
    Ok(())
}

/// One round of a call: the server's answer, whatever it is.
async fn once(
    peer: &Peer<RoleClient>,
    params: CallToolRequestParams,
    limits: Limits,
    progress: &Progress,
) -> Result<ServerResult, ServiceError> {
    let tool = params.name.to_string();
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
    let options = PeerRequestOptions::with_timeout(limits.idle)
        .reset_timeout_on_progress()
        .with_max_total_timeout(limits.total.max(limits.idle));
    let handle = peer.send_cancellable_request(request, options).await?;
    let _tracked = progress.track(handle.progress_token.clone(), &tool);
    let mut abandoned = Abandoned {
        peer: peer.clone(),
        id: Some(handle.id.clone()),
    };
    let result = handle.await_response().await;
    // Answered or timed out: rmcp has sent what the server needs to hear.
    abandoned.id = None;
    result
}

/// Sends `notifications/cancelled` for a call whose caller went away.
struct Abandoned {
    peer: Peer<RoleClient>,
    id: Option<RequestId>,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else {
            return;
        };
        let peer = self.peer.clone();
        let reason = "cancelled by the user".to_owned();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let params = CancelledNotificationParam::new(Some(id), Some(reason));
                let _ = peer.notify_cancelled(params).await;
            });
        }
    }
}

fn outcome(result: CallToolResult) -> ToolOutcome {
    let text: Vec<String> = result.content.iter().map(context::content_text).collect();
    ToolOutcome {
        text: text.join("\n"),
        structured: result.structured_content,
        is_error: result.is_error.unwrap_or(false),
    }
}

fn call_error(e: ServiceError, limits: Limits) -> CallError {
    match e {
        ServiceError::McpError(e) => CallError::Protocol(one_line(&e.message)),
        ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
            CallError::Crashed(one_line(&e.to_string()))
        }
        ServiceError::Timeout { timeout } if timeout > limits.idle => {
            CallError::TimeoutTotal { after: timeout }
        }
        ServiceError::Timeout { timeout } => CallError::Timeout { after: timeout },
        other => CallError::Protocol(one_line(&other.to_string())),
    }
}
