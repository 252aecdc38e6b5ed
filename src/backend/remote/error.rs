//! One line for each way a server can fail, naming the back end and what to do.

use std::time::Duration;

use crate::engine::EngineError;

/// A request that never got an answer: refused, unreachable, TLS, or too slow.
pub fn transport(backend: &str, url: &str, e: &reqwest::Error, timeout: Duration) -> EngineError {
    let causes = causes(e);
    let lower = causes.to_lowercase();
    let line = if e.is_timeout() {
        format!(
            "backend {backend} at {url} did not answer within {} s; check that the server is up and not overloaded (timeout_secs in [backends.{backend}] allows longer)",
            timeout.as_secs()
        )
    } else if lower.contains("connection refused") {
        format!(
            "backend {backend} at {url} refused the connection; is the server running on that port?"
        )
    } else if ["certificate", "tls", "handshake", "ssl"]
        .iter()
        .any(|w| lower.contains(w))
        // Past TCP, an https connection fails only in its TLS handshake.
        || (url.starts_with("https://") && e.is_connect() && !lower.contains("dns"))
    {
        format!(
            "TLS with backend {backend} at {url} failed ({causes}); check the server's certificate, or use http:// on a network you trust"
        )
    } else {
        format!(
            "cannot reach backend {backend} at {url} ({causes}); check the url in [backends.{backend}] and the network"
        )
    };
    EngineError::Server(line)
}

/// An answer with an error status.
pub fn status(
    backend: &str,
    model: &str,
    code: u16,
    retry_after: Option<&str>,
    body: &str,
) -> EngineError {
    let said = server_said(body);
    let line = match code {
        401 | 403 => format!(
            "backend {backend} rejected the API key (HTTP {code}{said}); set api_key_env in [backends.{backend}] to a variable holding a valid key"
        ),
        404 => format!(
            "backend {backend} has no model {model} or no chat endpoint (HTTP 404{said}); `libre-assistant models list` shows what it serves, and its url must end where /chat/completions begins (often /v1)"
        ),
        429 => {
            let wait = match retry_after.and_then(|s| s.trim().parse::<u64>().ok()) {
                Some(secs) => format!("try again in {secs} s"),
                None => "try again later".to_owned(),
            };
            format!("backend {backend} is rate-limiting requests (HTTP 429{said}); {wait}")
        }
        500..=599 => format!(
            "backend {backend} failed (HTTP {code}{said}); see the server's log, then try again"
        ),
        400 if said.to_lowercase().contains("tool") => format!(
            "backend {backend} refused the request (HTTP 400{said}); if the server parses no tool calls, set native_tools = false in [backends.{backend}]"
        ),
        _ => format!("backend {backend} refused the request (HTTP {code}{said})"),
    };
    EngineError::Server(line)
}

/// The stream broke off before the server said the answer ended.
pub fn cut(backend: &str, why: &str) -> EngineError {
    EngineError::Server(format!(
        "backend {backend} cut the answer off mid-stream ({why}); what came of it is kept"
    ))
}

/// An event that is not chat-completion JSON.
pub fn malformed(backend: &str, start: &str) -> EngineError {
    EngineError::Server(format!(
        "backend {backend} sent a chunk that is not chat-completion JSON ({start:?}); is the url an OpenAI-compatible server's?"
    ))
}

/// An error the server reported inside the stream.
pub fn in_stream(backend: &str, message: &str) -> EngineError {
    EngineError::Server(format!(
        "backend {backend} failed while answering: {message}"
    ))
}

/// `: MESSAGE` from an error body (JSON `error.message`, `error`, or text), or nothing.
fn server_said(body: &str) -> String {
    let message = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) if value.get("error").is_some() => super::chunk::error_message(&value["error"]),
        Ok(value) if value.get("message").is_some() => super::chunk::error_message(&value),
        _ => crate::text::one_line(&crate::text::inert(body)),
    };
    let message: String = message.chars().take(200).collect();
    match message.trim() {
        "" => String::new(),
        m => format!(": {m}"),
    }
}

/// The error and its sources, as one line.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    crate::text::one_line(&parts.join(": "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(e: EngineError) -> String {
        e.to_string()
    }

    #[test]
    fn statuses_name_the_problem_and_what_to_do() {
        let key = line(status(
            "gpu",
            "m",
            401,
            None,
            r#"{"error":{"message":"Invalid API Key"}}"#,
        ));
        assert!(
            key.contains("rejected the API key (HTTP 401: Invalid API Key)"),
            "{key}"
        );
        let busy = line(status("gpu", "m", 429, Some("7"), ""));
        assert!(busy.ends_with("(HTTP 429); try again in 7 s"), "{busy}");
        let failed = line(status("gpu", "m", 503, None, "overloaded\n\u{1b}[31m"));
        assert!(failed.contains("(HTTP 503: overloaded ␛[31m)"), "{failed}");
        assert!(line(status("gpu", "qwen", 404, None, "")).contains("has no model qwen"));
        let vllm = r#"{"object":"error","message":"\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set","code":400}"#;
        assert!(
            line(status("gpu", "m", 400, None, vllm))
                .ends_with("set native_tools = false in [backends.gpu]")
        );
    }
}
