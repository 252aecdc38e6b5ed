//! Giving back what the user wrote: a small model copies "(17 + 25) * 3 - 8" from the
//! question as `"17 + 25 * 3 - 8"`, which is another sum (measured with scripts/eval-tools,
//! the 1.5B model did so on every run). A string argument that is a span of the question
//! with its brackets dropped is restored to the span as written.
//!
//! Invariant: only brackets come back. The characters other than brackets and spaces must be
//! the same, in the same order, and the span's brackets must balance.

use serde_json::Value;

use super::ToolCall;

/// The longest question searched, in characters: the search is quadratic.
const MAX_QUESTION: usize = 2000;

/// `call` with each string argument that is a span of `question` less its brackets replaced
/// by that span, and what was changed (empty: nothing).
pub fn as_written(call: &ToolCall, question: &str) -> (ToolCall, Vec<String>) {
    let mut call = call.clone();
    let mut notes = Vec::new();
    for (key, value) in call.arguments.iter_mut() {
        if let Value::String(text) = value
            && let Some(span) = bracketed_span(text, question)
        {
            notes.push(format!(
                "arguments.{key}: {text:?} taken as written, {span:?}"
            ));
            *value = Value::String(span);
        }
    }
    (call, notes)
}

/// The first span of `question` that reads as `text` once brackets and spaces are left out,
/// and that has balanced brackets, more of them than `text`.
fn bracketed_span(text: &str, question: &str) -> Option<String> {
    let want = key(text);
    if want.chars().count() < 3 || question.chars().count() > MAX_QUESTION {
        return None;
    }
    let chars: Vec<(usize, char)> = question.char_indices().collect();
    for start in 0..chars.len() {
        if chars[start].1.is_whitespace() {
            continue;
        }
        let mut read = String::new();
        for &(at, c) in &chars[start..] {
            if !ignored(c) {
                read.push(c);
                if !want.starts_with(&read) {
                    break;
                }
            }
            if read == want {
                let span = &question[chars[start].0..at + c.len_utf8()];
                if balanced(span) && brackets(span) > brackets(text) {
                    return Some(span.to_owned());
                }
            }
        }
    }
    None
}

fn ignored(c: char) -> bool {
    c.is_whitespace() || "()[]".contains(c)
}

/// `text` without brackets and spaces.
fn key(text: &str) -> String {
    text.chars().filter(|&c| !ignored(c)).collect()
}

fn brackets(text: &str) -> usize {
    text.chars().filter(|c| "()[]".contains(*c)).count()
}

/// Every bracket closes one opened before it, of its own kind.
fn balanced(text: &str) -> bool {
    let mut open = Vec::new();
    for c in text.chars() {
        match c {
            '(' | '[' => open.push(c),
            ')' if open.pop() != Some('(') => return false,
            ']' if open.pop() != Some('[') => return false,
            _ => {}
        }
    }
    open.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn call(expression: &str) -> ToolCall {
        let mut arguments = Map::new();
        arguments.insert("expression".into(), json!(expression));
        ToolCall {
            name: "evaluate".into(),
            arguments,
        }
    }

    fn restored(expression: &str, question: &str) -> Value {
        as_written(&call(expression), question).0.arguments["expression"].clone()
    }

    #[test]
    fn dropped_brackets_come_back_as_the_user_wrote_them() {
        let q = "What is (17 + 25) * 3 - 8?";
        assert_eq!(restored("17 + 25 * 3 - 8", q), json!("(17 + 25) * 3 - 8"));
        assert_eq!(restored("17+25*3-8", q), json!("(17 + 25) * 3 - 8"));
        let (_, notes) = as_written(&call("17 + 25 * 3 - 8"), q);
        assert_eq!(
            notes,
            [r#"arguments.expression: "17 + 25 * 3 - 8" taken as written, "(17 + 25) * 3 - 8""#]
        );
        assert_eq!(
            restored("2 * 3 + 4", "Work out 2 * [3 + 4] please"),
            json!("2 * [3 + 4]")
        );
    }

    #[test]
    fn anything_else_is_left_alone() {
        let q = "What is (17 + 25) * 3 - 8?";
        // Already as written, another sum, or a part of the question.
        for same in [
            "(17 + 25) * 3 - 8",
            "17 + 25 * 3 - 9",
            "25 * 3",
            "42 * 3 - 8",
        ] {
            let (out, notes) = as_written(&call(same), q);
            assert_eq!(out.arguments["expression"], json!(same));
            assert!(notes.is_empty(), "{notes:?}");
        }
        // Brackets that do not balance in the span.
        assert_eq!(restored("1 + 2", "is 1 + 2) right?"), json!("1 + 2"));
        // Too short to tell.
        assert_eq!(restored("12", "(12)"), json!("12"));
        // Numbers and booleans are not text.
        let mut numbers = call("x");
        numbers.arguments.insert("n".into(), json!(5));
        assert!(as_written(&numbers, "(5)").1.is_empty());
    }
}
