//! Full-text search over every session's messages (FTS5, ranked by bm25), with the matching
//! words marked in a snippet of the best message.
//!
//! What the user types is never FTS5 syntax: each word is quoted, all must match, and the last
//! is also a prefix, so the results follow the typing word by word.

use std::collections::HashSet;

use super::{SessionError, Store, Summary};

/// The most message matches looked at per search (then grouped by session).
const SCAN: usize = 500;
/// Start and end of a matched word in a snippet (private-use characters).
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// A session that matches a search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    /// The session.
    pub session: Summary,
    /// Words around the best match: (text, whether it is a matched word). Empty when only the
    /// title matched.
    pub snippet: Vec<(String, bool)>,
}

impl Store {
    /// Sessions whose messages (or title) hold every word of `query`, best first; at most
    /// `limit`. An empty query finds nothing.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, SessionError> {
        let Some(expression) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT m.session, snippet(messages_fts, 0, '{OPEN}', '{CLOSE}', '…', 12)
             FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
             WHERE messages_fts MATCH ?1 ORDER BY bm25(messages_fts) LIMIT {SCAN}"
        );
        let matches: Vec<(i64, String)> = {
            let conn = self.conn();
            let mut statement = conn.prepare(&sql).map_err(|e| self.error(e))?;
            let rows = statement
                .query_map([&expression], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.error(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.error(e))?
        };
        let mut seen = HashSet::new();
        let mut hits = Vec::new();
        for (id, snippet) in matches {
            if hits.len() < limit && seen.insert(id) {
                hits.push(Hit {
                    session: self.summary(id)?,
                    snippet: spans(&snippet),
                });
            }
        }
        for session in self.list()? {
            if hits.len() >= limit {
                break;
            }
            if !seen.contains(&session.id) && title_matches(&session.title, query) {
                seen.insert(session.id);
                hits.push(Hit {
                    session,
                    snippet: Vec::new(),
                });
            }
        }
        Ok(hits)
    }
}

/// The FTS5 expression for what the user typed: every word quoted, the last also a prefix.
pub fn fts_query(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    let last = words.last()?;
    let mut expression = words[..words.len() - 1].join(" ");
    if !expression.is_empty() {
        expression.push(' ');
    }
    expression.push_str(last);
    expression.push('*');
    Some(expression)
}

/// Whether every word of `query` appears in `title`, ignoring case.
fn title_matches(title: &str, query: &str) -> bool {
    let title = title.to_lowercase();
    query
        .split_whitespace()
        .all(|w| title.contains(&w.to_lowercase()))
}

/// A snippet with its markers as (text, matched) spans; newlines become spaces.
fn spans(snippet: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut current = String::new();
    let mut matched = false;
    for c in snippet.chars() {
        match c {
            OPEN | CLOSE => {
                if !current.is_empty() {
                    out.push((std::mem::take(&mut current), matched));
                }
                matched = c == OPEN;
            }
            '\n' | '\r' | '\t' => current.push(' '),
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push((current, matched));
    }
    out
}
