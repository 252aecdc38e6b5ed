//! A session written out: Markdown to read (and to read back: `from_markdown`), or JSON in
//! the shape of the conversation files (`legacy`), with the session's facts added.
//!
//! In Markdown each message follows a heading line of its own (`## You`, `## Assistant`,
//! `## Tool result`, `## System`); a line of a message that is exactly such a heading is
//! written with a backslash before it, which Markdown shows as the same text.

use serde_json::json;

use super::{Session, legacy};
use crate::engine::{ChatMessage, Role};
use crate::text;

const HEADINGS: [(Role, &str); 4] = [
    (Role::User, "## You"),
    (Role::Assistant, "## Assistant"),
    (Role::Tool, "## Tool result"),
    (Role::System, "## System"),
];

/// The session as Markdown: its title, one line of facts, then each message under a heading.
pub fn to_markdown(session: &Session, facts: &str) -> String {
    let mut out = format!("# {}\n\n{facts}\n", text::one_line(&session.summary.title));
    let system = (!session.system.is_empty())
        .then(|| ChatMessage::new(Role::System, session.system.clone()));
    let messages = system
        .iter()
        .chain(session.messages.iter().map(|s| &s.message));
    for message in messages {
        out.push('\n');
        out.push_str(heading(message.role));
        out.push_str("\n\n");
        for line in message.content.split('\n') {
            if unescaped(line).is_some() {
                out.push('\\');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The messages of a Markdown export, read back; the system prompt comes back as a
/// `Role::System` message first.
pub fn from_markdown(text: &str) -> Vec<ChatMessage> {
    let mut messages: Vec<ChatMessage> = Vec::new();
    for line in text.split('\n') {
        if let Some(role) = role_of(line) {
            messages.push(ChatMessage::new(role, String::new()));
            continue;
        }
        let Some(last) = messages.last_mut() else {
            continue;
        };
        let line = if unescaped(line).is_some() && line.starts_with('\\') {
            &line[1..]
        } else {
            line
        };
        last.content.push_str(line);
        last.content.push('\n');
    }
    for message in &mut messages {
        // The blank line after the heading, and the one before the next heading.
        let body = message
            .content
            .strip_prefix('\n')
            .unwrap_or(&message.content);
        let body = body.strip_suffix('\n').unwrap_or(body);
        let body = body.strip_suffix('\n').unwrap_or(body);
        message.content = body.to_string();
    }
    messages
}

/// The session as JSON: the conversation file format (which `legacy::parse` reads) plus the
/// session's id, title, model and times.
pub fn to_json(session: &Session) -> String {
    let messages: Vec<serde_json::Value> = session
        .messages
        .iter()
        .map(|s| {
            let mut m = json!({"role": s.message.role.as_str(), "content": s.message.content});
            if s.partial {
                m["partial"] = json!(true);
            }
            m
        })
        .collect();
    let s = &session.summary;
    json!({
        "v": legacy::VERSION,
        "id": s.id,
        "title": s.title,
        "model": s.model,
        "created": s.created,
        "updated": s.updated,
        "system": session.system,
        "messages": messages,
    })
    .to_string()
}

fn heading(role: Role) -> &'static str {
    HEADINGS
        .iter()
        .find(|(r, _)| *r == role)
        .map_or("## You", |(_, h)| h)
}

fn role_of(line: &str) -> Option<Role> {
    HEADINGS.iter().find(|(_, h)| *h == line).map(|(r, _)| *r)
}

/// For a line that is a heading after any number of backslashes, the heading.
fn unescaped(line: &str) -> Option<Role> {
    role_of(line.trim_start_matches('\\'))
}
