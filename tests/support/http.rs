//! A tiny HTTP/1.1 file server on 127.0.0.1 for download tests: std::net only, bounded in time.
//!
//! A server answers with one reply for every request, or with a script of replies, one per
//! request in order; it records each request line and its `Range` header. It stops after its
//! last reply or after `LIFETIME`, so a test that goes wrong fails instead of hanging.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const LIFETIME: Duration = Duration::from_secs(20);

/// What the server does with each request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with the whole body and a correct Content-Length.
    Full(Vec<u8>),
    /// 200 announcing the whole body's length, then only `sent` bytes, then closing.
    Cut { body: Vec<u8>, sent: usize },
    /// A bodiless status, e.g. 404.
    Status(u16),
    /// Honours `Range: bytes=N-` with a 206 and the body from N; without one, a 200 with all of
    /// it. When `upto` is set, the body stops at that offset of the whole (the connection closes).
    Ranged { body: Vec<u8>, upto: Option<usize> },
}

/// One request the server saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The request line, e.g. `GET /m.gguf HTTP/1.1`.
    pub line: String,
    /// The value of its `Range` header, if any.
    pub range: Option<String>,
}

/// A running server; `url(path)` addresses it.
pub struct Server {
    pub addr: SocketAddr,
    handle: Option<JoinHandle<Vec<Seen>>>,
}

impl Server {
    /// Serves `reply` to up to `max_requests` connections.
    pub fn start(reply: Reply, max_requests: usize) -> Server {
        Server::script(vec![reply; max_requests])
    }

    /// Serves `replies[i]` to the i-th connection, then stops.
    pub fn script(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let handle = std::thread::spawn(move || serve(listener, replies));
        Server {
            addr,
            handle: Some(handle),
        }
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Waits for the server to stop (after its last request or its lifetime) and returns the
    /// request lines it saw.
    pub fn requests(self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.line).collect()
    }

    /// Like [`Server::requests`], with each request's `Range` header.
    pub fn seen(mut self) -> Vec<Seen> {
        self.handle
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default()
    }
}

/// A loopback port nobody listens on (bound, then released), for a server to take or a
/// connection to be refused.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A URL on a loopback port nobody listens on.
pub fn refused_url() -> String {
    format!("http://127.0.0.1:{}/model.gguf", free_port())
}

fn serve(listener: TcpListener, replies: Vec<Reply>) -> Vec<Seen> {
    let deadline = Instant::now() + LIFETIME;
    let mut seen = Vec::new();
    while seen.len() < replies.len() && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Some(s) = answer(stream, &replies[seen.len()]) {
                    seen.push(s);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => break,
        }
    }
    seen
}

fn answer(stream: TcpStream, reply: &Reply) -> Option<Seen> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut range = None;
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("range")
                {
                    range = Some(value.trim().to_string());
                }
            }
        }
    }
    let mut out = stream;
    let _ = match reply {
        Reply::Full(body) => write_response(&mut out, 200, body.len(), body),
        Reply::Cut { body, sent } => write_response(&mut out, 200, body.len(), &body[..*sent]),
        Reply::Status(code) => write_response(&mut out, *code, 0, &[]),
        Reply::Ranged { body, upto } => ranged(&mut out, body, *upto, range.as_deref()),
    };
    let _ = out.flush();
    let _ = out.shutdown(std::net::Shutdown::Both);
    Some(Seen {
        line: request_line.trim_end().to_string(),
        range,
    })
}

/// A 206 from the start that `Range: bytes=N-` names, or a 200 without one; the body announced
/// in full but cut at `upto`.
fn ranged(
    out: &mut TcpStream,
    body: &[u8],
    upto: Option<usize>,
    range: Option<&str>,
) -> std::io::Result<()> {
    let start = range
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    let end = upto.unwrap_or(body.len()).max(start.unwrap_or(0));
    let Some(start) = start else {
        return write_response(out, 200, body.len(), &body[..end]);
    };
    let head = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\nConnection: close\r\n\r\n",
        body.len() - start,
        body.len() - 1,
        body.len()
    );
    out.write_all(head.as_bytes())?;
    out.write_all(&body[start..end])
}

fn write_response(
    out: &mut TcpStream,
    code: u16,
    length: usize,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {code} X\r\nContent-Length: {length}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    );
    out.write_all(head.as_bytes())?;
    out.write_all(body)
}
