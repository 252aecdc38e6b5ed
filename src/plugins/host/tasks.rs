//! Tools that need MCP tasks, which this version does not run: a tool whose `execution`
//! says `taskSupport: "required"` fails when called plainly, so it is not offered. rmcp drops
//! that field when it reads a tool, so a child's stdout is read through [`Watched`], which
//! notes such tools from the raw `tools/list` answers on their way to rmcp.
//!
//! Invariants: the bytes rmcp reads are exactly the child's; a line is held only up to
//! [`MAX_LINE`] bytes (a longer one is passed on unread); a tool once seen requiring tasks
//! stays hidden until the plugin restarts.

use std::collections::BTreeSet;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use serde_json::Value;
use tokio::io::{AsyncRead, ReadBuf};

/// The longest line looked at, in bytes.
pub const MAX_LINE: usize = 8 * 1024 * 1024;

/// The names of a plugin's tools that require tasks.
#[derive(Clone, Debug, Default)]
pub struct TaskTools(Arc<Mutex<BTreeSet<String>>>);

impl TaskTools {
    /// Whether `tool` requires tasks.
    pub fn contains(&self, tool: &str) -> bool {
        self.0.lock().is_ok_and(|names| names.contains(tool))
    }

    /// Notes the tools of one JSON-RPC line that require tasks.
    fn note(&self, line: &[u8]) {
        let Ok(message) = serde_json::from_slice::<Value>(line) else {
            return;
        };
        let Some(tools) = message.pointer("/result/tools").and_then(Value::as_array) else {
            return;
        };
        let required = tools.iter().filter(|tool| {
            tool.pointer("/execution/taskSupport")
                .and_then(Value::as_str)
                == Some("required")
        });
        let names: Vec<String> = required
            .filter_map(|tool| tool.get("name")?.as_str().map(str::to_owned))
            .collect();
        if let Ok(mut set) = self.0.lock() {
            set.extend(names);
        }
    }
}

/// A child's stdout, watched for tools that require tasks.
pub struct Watched<R> {
    inner: R,
    line: Vec<u8>,
    /// The current line passed [`MAX_LINE`]: it is not looked at.
    long: bool,
    tasks: TaskTools,
}

impl<R> Watched<R> {
    /// Reads `inner`, noting into `tasks`.
    pub fn new(inner: R, tasks: TaskTools) -> Watched<R> {
        Watched {
            inner,
            line: Vec::new(),
            long: false,
            tasks,
        }
    }

    fn scan(&mut self, bytes: &[u8]) {
        for piece in bytes.split_inclusive(|b| *b == b'\n') {
            if !self.long && self.line.len() + piece.len() <= MAX_LINE {
                self.line.extend_from_slice(piece);
            } else {
                self.long = true;
                self.line.clear();
            }
            if piece.ends_with(b"\n") {
                let mentions = self.line.windows(11).any(|w| w == b"taskSupport");
                if !self.long && mentions {
                    self.tasks.note(&self.line);
                }
                self.line.clear();
                self.long = false;
            }
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Watched<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.scan(&buf.filled()[before..]);
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn required_tools_are_noted_from_lines_split_anywhere_and_the_bytes_pass_unchanged() {
        let answer = concat!(
            r#"{"jsonrpc":"2.0","id":2,"result":{"tools":["#,
            r#"{"name":"plain","inputSchema":{}},"#,
            r#"{"name":"optional","execution":{"taskSupport":"optional"},"inputSchema":{}},"#,
            r#"{"name":"research","execution":{"taskSupport":"required"},"inputSchema":{}}]}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"taskSupport"}}"#,
            "\n"
        );
        // Read in 7-byte pieces, so lines arrive split.
        let (mut write, read) = tokio::io::duplex(7);
        let tasks = TaskTools::default();
        let mut watched = Watched::new(read, tasks.clone());
        let sent = answer.as_bytes().to_vec();
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            write.write_all(&sent).await.unwrap();
        });
        let mut got = Vec::new();
        watched.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert_eq!(got, answer.as_bytes());
        assert!(tasks.contains("research"));
        assert!(!tasks.contains("optional") && !tasks.contains("plain"));
    }

    #[test]
    fn a_line_past_the_limit_is_not_looked_at() {
        let tasks = TaskTools::default();
        let mut watched = Watched::new(tokio::io::empty(), tasks.clone());
        let line = format!(
            r#"{{"result":{{"tools":[{{"name":"big","execution":{{"taskSupport":"required"}},"description":"{}"}}]}}}}"#,
            "x".repeat(MAX_LINE)
        );
        watched.scan(line.as_bytes());
        watched.scan(b"\n");
        assert!(!tasks.contains("big"));
        assert!(watched.line.is_empty());
    }
}
