//! A tiny HTTP/1.1 file server on 127.0.0.1 for download tests: std::net only, bounded in time.
//!
//! Each server answers at most `max_requests` connections and stops after `LIFETIME`, so a test
//! that goes wrong fails instead of hanging.

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
}

/// A running server; `url(path)` addresses it.
pub struct Server {
    pub addr: SocketAddr,
    handle: Option<JoinHandle<Vec<String>>>,
}

impl Server {
    /// Serves `reply` to up to `max_requests` connections.
    pub fn start(reply: Reply, max_requests: usize) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let handle = std::thread::spawn(move || serve(listener, reply, max_requests));
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
    pub fn requests(mut self) -> Vec<String> {
        self.handle
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default()
    }
}

/// A URL on a loopback port nobody listens on (bound, then released).
pub fn refused_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}/model.gguf")
}

fn serve(listener: TcpListener, reply: Reply, max_requests: usize) -> Vec<String> {
    let deadline = Instant::now() + LIFETIME;
    let mut seen = Vec::new();
    while seen.len() < max_requests && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Some(line) = answer(stream, &reply) {
                    seen.push(line);
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

fn answer(stream: TcpStream, reply: &Reply) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let mut out = stream;
    let _ = match reply {
        Reply::Full(body) => write_response(&mut out, 200, body.len(), body),
        Reply::Cut { body, sent } => write_response(&mut out, 200, body.len(), &body[..*sent]),
        Reply::Status(code) => write_response(&mut out, *code, 0, &[]),
    };
    let _ = out.flush();
    let _ = out.shutdown(std::net::Shutdown::Both);
    Some(request_line.trim_end().to_string())
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
