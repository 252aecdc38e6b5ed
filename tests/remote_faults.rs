//! How the remote back end fails, against a loopback server each test scripts: every fault is
//! one line on stderr naming it, exit code 9 (docs/headless.md), and an answer cut off
//! mid-stream is kept as far as it came.

mod support;

use std::process::Output;

use support::Home;
use support::events::stderr;
use support::openai::{Reply, Server, text_chunk};

fn ask(url: &str) -> Output {
    let home = Home::new();
    home.write_config(&format!("[backends.box]\nurl = \"{url}\"\n"));
    home.command()
        .args(["-m", "box/m", "-p", "Hello?"])
        .output()
        .unwrap()
}

/// The run failed with exit 9 and exactly one line on stderr; returns it.
fn failed(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(9), "{}", stderr(out));
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    lines[0].to_owned()
}

#[test]
fn a_refused_connection_says_so() {
    let url = format!("http://127.0.0.1:{}/v1", support::http::free_port());
    let line = failed(&ask(&url));
    assert_eq!(
        line,
        format!(
            "libre-assistant: backend box at {url}/models refused the connection; is the server running on that port?"
        )
    );
}

#[test]
fn a_tls_failure_says_so() {
    // https to a server that speaks plain HTTP: the handshake fails.
    let server = Server::start(Reply::Status {
        code: 200,
        headers: vec![],
        body: String::new(),
    });
    let url = server.url().replace("http://", "https://");
    let line = failed(&ask(&url));
    assert!(
        line.starts_with(&format!(
            "libre-assistant: TLS with backend box at {url}/models failed ("
        )) && line
            .ends_with("); check the server's certificate, or use http:// on a network you trust"),
        "{line}"
    );
}

#[test]
fn a_rejected_key_says_which_setting_holds_it() {
    let body = r#"{"error":{"message":"Invalid API Key","type":"authentication_error"}}"#;
    let server = Server::start(Reply::Status {
        code: 401,
        headers: vec![],
        body: body.into(),
    });
    let line = failed(&ask(&server.url()));
    assert_eq!(
        line,
        "libre-assistant: backend box rejected the API key (HTTP 401: Invalid API Key); set api_key_env in [backends.box] to a variable holding a valid key"
    );
}

#[test]
fn rate_limiting_tells_when_to_try_again() {
    let server = Server::start(Reply::Status {
        code: 429,
        headers: vec!["Retry-After: 17".into()],
        body: r#"{"error":{"message":"slow down"}}"#.into(),
    });
    let line = failed(&ask(&server.url()));
    assert_eq!(
        line,
        "libre-assistant: backend box is rate-limiting requests (HTTP 429: slow down); try again in 17 s"
    );
}

#[test]
fn a_server_error_says_so_with_the_servers_reason() {
    let server = Server::start(Reply::Status {
        code: 500,
        headers: vec![],
        body: "out of memory\n".into(),
    });
    let line = failed(&ask(&server.url()));
    assert_eq!(
        line,
        "libre-assistant: backend box failed (HTTP 500: out of memory); see the server's log, then try again"
    );
}

#[test]
fn a_stream_cut_mid_answer_keeps_what_came() {
    let server = Server::start(Reply::Stream(vec![
        text_chunk("The answer "),
        text_chunk("is forty"),
    ]));
    let out = ask(&server.url());
    let line = failed(&out);
    assert!(
        line.starts_with("libre-assistant: backend box cut the answer off mid-stream (")
            && line.ends_with("); what came of it is kept"),
        "{line}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "The answer is forty\n"
    );
}

#[test]
fn a_malformed_chunk_is_named() {
    let server = Server::start(Reply::Stream(vec!["<html>oops</html>".into()]));
    let line = failed(&ask(&server.url()));
    assert_eq!(
        line,
        "libre-assistant: backend box sent a chunk that is not chat-completion JSON (\"<html>oops</html>\"); is the url an OpenAI-compatible server's?"
    );
}

#[test]
fn a_complete_stream_from_the_scripted_server_succeeds() {
    // The same server with a proper ending: the faults above are the faults, not the script.
    let server = Server::start(Reply::Stream(vec![
        text_chunk("Fine."),
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#.into(),
        "[DONE]".into(),
    ]));
    let out = ask(&server.url());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Fine.\n");
}

#[test]
fn the_api_key_goes_with_every_request_from_the_environment_or_the_secret_store() {
    let done = || {
        Reply::Stream(vec![
            text_chunk("Fine."),
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#.into(),
        ])
    };
    // From the variable the config names.
    let server = Server::start(done());
    let home = Home::new();
    home.write_config(&format!(
        "[backends.box]\nurl = \"{}\"\napi_key_env = \"BOX_KEY\"\n",
        server.url()
    ));
    let out = home
        .command()
        .args(["-m", "box/m", "-p", "Hello?"])
        .env("BOX_KEY", "from-env")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sent = server.authorizations();
    assert!(
        sent.len() >= 2 && sent.iter().all(|a| a == "Bearer from-env"),
        "{sent:?}"
    );
    // Named but not set: one line, nothing sent.
    let out = home
        .command()
        .args(["-m", "box/m", "-p", "Hello?"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim_end(),
        "libre-assistant: backend box takes its API key from $BOX_KEY, which is not set; export it, or remove api_key_env from [backends.box]"
    );
    assert_eq!(server.authorizations().len(), sent.len());

    // From the secret store, set with `models key`.
    let server = Server::start(done());
    let home = Home::new();
    home.write_config(&format!("[backends.box]\nurl = \"{}\"\n", server.url()));
    let mut key = home
        .command()
        .args(["models", "key", "box"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    key.stdin
        .take()
        .unwrap()
        .write_all(b"from-store\n")
        .unwrap();
    let stored = key.wait_with_output().unwrap();
    assert_eq!(stored.status.code(), Some(0), "{}", stderr(&stored));
    let out = home
        .command()
        .args(["-m", "box/m", "-p", "Hello?"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sent = server.authorizations();
    assert!(
        sent.len() >= 2 && sent.iter().all(|a| a == "Bearer from-store"),
        "{sent:?}"
    );
}
