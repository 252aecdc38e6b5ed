//! A scripted OpenAI-compatible server on 127.0.0.1 for the remote back end's fault tests:
//! std::net only. `GET …/models` lists one model, `m`; every `POST` gets the scripted reply.
//! It stops after `LIFETIME`, so a test that goes wrong fails instead of hanging.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LIFETIME: Duration = Duration::from_secs(60);

/// What a `POST` gets.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A status with extra header lines and a body.
    Status {
        code: u16,
        headers: Vec<String>,
        body: String,
    },
    /// A 200 event stream of these events' data (each sent as `data: …\n\n`); the connection
    /// closes after them, with no `[DONE]` unless it is among them.
    Stream(Vec<String>),
}

/// A running server; `url()` is its API base.
pub struct Server {
    port: u16,
    /// The `Authorization` header of every request, in order ("" when there was none).
    authorizations: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(reply: Reply) -> Server {
        Server::script(vec![reply])
    }

    /// A server whose `POST`s get `replies` in order; the last one repeats.
    pub fn script(replies: Vec<Reply>) -> Server {
        assert!(!replies.is_empty(), "at least one reply");
        let replies = Arc::new(Mutex::new(std::collections::VecDeque::from(replies)));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let authorizations = Arc::new(Mutex::new(Vec::new()));
        let seen = authorizations.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            while started.elapsed() < LIFETIME {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (replies, seen) = (replies.clone(), seen.clone());
                        std::thread::spawn(move || serve(stream, &replies, &seen));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Server {
            port,
            authorizations,
        }
    }

    /// The `Authorization` headers seen so far.
    pub fn authorizations(&self) -> Vec<String> {
        self.authorizations.lock().unwrap().clone()
    }

    /// The API's base url.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }
}

/// A chunk of streamed answer text, as chat completions send it.
pub fn text_chunk(text: &str) -> String {
    serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}}]}).to_string()
}

fn serve(
    stream: TcpStream,
    replies: &Mutex<std::collections::VecDeque<Reply>>,
    seen: &Mutex<Vec<String>>,
) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut length = 0;
    let mut authorization = String::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("authorization")
        {
            authorization = value.trim().to_owned();
        }
    }
    seen.lock().unwrap().push(authorization);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut out = stream;
    if line.starts_with("GET") {
        let list = r#"{"object":"list","data":[{"id":"m","object":"model"}]}"#;
        let _ = write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{list}",
            list.len()
        );
        return;
    }
    // The next reply is taken as the request is answered, so replies go out in order.
    let reply = {
        let mut replies = replies.lock().unwrap();
        if replies.len() > 1 {
            replies.pop_front().unwrap()
        } else {
            replies[0].clone()
        }
    };
    match &reply {
        Reply::Status {
            code,
            headers,
            body,
        } => {
            let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
            let _ = write!(
                out,
                "HTTP/1.1 {code} Scripted\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        Reply::Stream(events) => {
            let _ = write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
            );
            for data in events {
                let _ = write!(out, "data: {data}\n\n");
                let _ = out.flush();
            }
        }
    }
}
