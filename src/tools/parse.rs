//! Finding tool calls in a model's output, in the formats real models emit: Hermes/Qwen tags,
//! Mistral `[TOOL_CALLS]`, Llama 3 JSON (bare or after `<|python_tag|>`), a fenced JSON block
//! and a bare JSON object. JSON is read with serde_json's streaming deserializer, never with
//! regexes. Total over any input: nothing here panics, and what is not a call stays text.
//!
//! Offsets are always on character boundaries: they are ends of ASCII markers, results of
//! `find`, or ends of JSON values (which end in an ASCII character).

use serde_json::{Deserializer, Map, Value};

use super::{Format, Parsed, ToolCall, ToolSpec};

const HERMES_OPEN: &str = "<tool_call>";
const HERMES_CLOSE: &str = "</tool_call>";
const MISTRAL: &str = "[TOOL_CALLS]";
const MISTRAL_ARGS: &str = "[ARGS]";
const PYTHON_TAG: &str = "<|python_tag|>";
const END_TOKENS: [&str; 2] = ["<|eom_id|>", "<|eot_id|>"];
const FENCE: &str = "```";
/// The only keys an untagged call object may have; anything else makes it ordinary JSON.
const CALL_KEYS: [&str; 5] = ["name", "arguments", "parameters", "id", "type"];

/// How much an object has to prove to count as a call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trust {
    /// Inside call markup: any name is a call (an unknown one is for `validate` to report).
    Tagged,
    /// Bare or fenced: only a known tool, with call keys only.
    Untagged,
}

/// Which key held the arguments, which tells a bare Llama 3 call from a generic one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ArgKey {
    Arguments,
    Parameters,
    Absent,
}

/// What the scanner does at one position.
enum Step {
    /// Calls were found; their markup ends at `end`.
    Calls {
        calls: Vec<(ToolCall, Format)>,
        end: usize,
    },
    /// Nothing to take here; go on scanning at this offset (what was passed stays text).
    Skip(usize),
}

/// The tool calls in `output`, and the output without their markup.
pub fn parse(output: &str, tools: &[ToolSpec]) -> Parsed {
    let mut calls = Vec::new();
    let mut text = String::new();
    let mut kept_from = 0;
    let mut pos = 0;
    while pos < output.len() {
        match scan_at(output, pos, tools) {
            Step::Calls { calls: found, end } => {
                text.push_str(&output[kept_from..pos]);
                calls.extend(found);
                pos = end;
                kept_from = end;
            }
            Step::Skip(next) => pos = next,
        }
    }
    text.push_str(&output[kept_from..]);
    Parsed {
        calls,
        text: text.trim().to_owned(),
    }
}

/// Looks for a call starting exactly at `pos`.
fn scan_at(output: &str, pos: usize, tools: &[ToolSpec]) -> Step {
    let rest = &output[pos..];
    let next_char = pos + rest.chars().next().map_or(1, char::len_utf8);
    let step = if rest.starts_with(HERMES_OPEN) {
        hermes(output, pos + HERMES_OPEN.len(), tools)
    } else if rest.starts_with(MISTRAL) {
        mistral(output, pos + MISTRAL.len(), tools)
    } else if rest.starts_with(PYTHON_TAG) {
        python_tag(output, pos + PYTHON_TAG.len(), tools)
    } else if rest.starts_with(FENCE) {
        fence(output, pos, tools)
    } else if let Some(code) = rest.strip_prefix('`') {
        // Inline code is an example, never a call.
        Step::Skip(code.find('`').map_or(pos + 1, |i| pos + 1 + i + 1))
    } else if rest.starts_with(['{', '[']) {
        bare(output, pos, tools)
    } else {
        Step::Skip(next_char)
    };
    match step {
        Step::Skip(next) if next <= pos => Step::Skip(next_char),
        step => step,
    }
}

/// `<tool_call>…</tool_call>`, content starting at `start`; the closing tag may be missing at
/// the end of the output. Garbage inside is skipped whole and stays text.
fn hermes(output: &str, start: usize, tools: &[ToolSpec]) -> Step {
    let close = output[start..].find(HERMES_CLOSE).map(|i| start + i);
    let content = &output[start..close.unwrap_or(output.len())];
    let tag_end = close.map_or(output.len(), |c| c + HERMES_CLOSE.len());
    let (inner_start, inner_end) = unfence(content);
    let inner = &content[inner_start..inner_end];
    let (values, used) = json_values(inner);
    let Some(calls) = calls_from(&values, tools, Trust::Tagged, |_| Format::Hermes) else {
        return Step::Skip(tag_end);
    };
    let clean = inner[used..].trim().is_empty()
        && content[inner_end..]
            .trim_start()
            .trim_start_matches(FENCE)
            .trim()
            .is_empty();
    match (clean, close) {
        (true, _) => Step::Calls {
            calls,
            end: tag_end,
        },
        (false, Some(_)) => Step::Skip(tag_end),
        (false, None) => Step::Calls {
            calls,
            end: start + inner_start + used,
        },
    }
}

/// `[TOOL_CALLS] [{…}, …]`, or `[TOOL_CALLS]name[ARGS]{…}`, starting after the marker.
fn mistral(output: &str, after: usize, tools: &[ToolSpec]) -> Step {
    let start = skip_whitespace(output, after);
    let rest = &output[start..];
    if rest.starts_with(['[', '{']) {
        let (values, used) = json_values(rest);
        return match calls_from(&values, tools, Trust::Tagged, |_| Format::MistralTag) {
            Some(calls) => Step::Calls {
                calls,
                end: start + used,
            },
            None => Step::Skip(after),
        };
    }
    let Some(args_at) = rest.find(MISTRAL_ARGS) else {
        return Step::Skip(after);
    };
    let name = rest[..args_at].trim();
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.is_empty() || !name.chars().all(is_name) {
        return Step::Skip(after);
    }
    let json_at = skip_whitespace(output, start + args_at + MISTRAL_ARGS.len());
    let Some((value, used)) = first_value(&output[json_at..]) else {
        return Step::Skip(after);
    };
    match arguments(&value) {
        Some(arguments) => {
            let call = ToolCall {
                name: name.to_owned(),
                arguments,
            };
            Step::Calls {
                calls: vec![(call, Format::MistralTag)],
                end: json_at + used,
            }
        }
        None => Step::Skip(after),
    }
}

/// `<|python_tag|>{…}` (Llama 3), with an end-of-message token after it swallowed too.
fn python_tag(output: &str, after: usize, tools: &[ToolSpec]) -> Step {
    let start = skip_whitespace(output, after);
    let (values, used) = json_values(&output[start..]);
    let Some(calls) = calls_from(&values, tools, Trust::Tagged, |_| Format::Llama3Json) else {
        return Step::Skip(after);
    };
    let mut end = start + used;
    let token_at = skip_whitespace(output, end);
    if let Some(token) = END_TOKENS
        .iter()
        .find(|t| output[token_at..].starts_with(**t))
    {
        end = token_at + token.len();
    }
    Step::Calls { calls, end }
}

/// A fenced code block at `pos`: a call if it is JSON (or untyped) and holds nothing but call
/// objects naming known tools; otherwise skipped whole, so nothing inside it is a call.
fn fence(output: &str, pos: usize, tools: &[ToolSpec]) -> Step {
    let info_start = pos + FENCE.len();
    let Some(newline) = output[info_start..].find('\n').map(|i| info_start + i) else {
        return Step::Skip(info_start);
    };
    let info = output[info_start..newline].trim();
    let body_start = newline + 1;
    let close = output[body_start..].find(FENCE).map(|i| body_start + i);
    let body = &output[body_start..close.unwrap_or(output.len())];
    let end = close.map_or(output.len(), |c| c + FENCE.len());
    if !(info.is_empty() || info.eq_ignore_ascii_case("json") || info == "tool_call") {
        return Step::Skip(end);
    }
    let (values, used) = json_values(body);
    if !body[used..].trim().is_empty() {
        return Step::Skip(end);
    }
    match calls_from(&values, tools, Trust::Untagged, |_| Format::FencedJson) {
        Some(calls) => Step::Calls { calls, end },
        None => Step::Skip(end),
    }
}

/// A bare JSON object (or array of them) at `pos`; JSON that is not a call is skipped whole.
fn bare(output: &str, pos: usize, tools: &[ToolSpec]) -> Step {
    let Some((value, used)) = first_value(&output[pos..]) else {
        return Step::Skip(pos + 1);
    };
    let format = |key| match key {
        ArgKey::Parameters => Format::Llama3Json,
        ArgKey::Arguments | ArgKey::Absent => Format::BareJson,
    };
    match calls_from(std::slice::from_ref(&value), tools, Trust::Untagged, format) {
        Some(calls) => Step::Calls {
            calls,
            end: pos + used,
        },
        None => Step::Skip(pos + used),
    }
}

/// The calls in `values`, each an object or an array of objects; `None` unless every one is a
/// call (so half-parsed markup stays text).
fn calls_from(
    values: &[Value],
    tools: &[ToolSpec],
    trust: Trust,
    format: impl Fn(ArgKey) -> Format,
) -> Option<Vec<(ToolCall, Format)>> {
    let mut calls = Vec::new();
    for value in values {
        let objects = match value {
            Value::Array(items) if !items.is_empty() => items.as_slice(),
            Value::Object(_) => std::slice::from_ref(value),
            _ => return None,
        };
        for object in objects {
            let (call, key) = call_in(object, tools, trust)?;
            calls.push((call, format(key)));
        }
    }
    (!calls.is_empty()).then_some(calls)
}

/// The call an object describes: `{"name", "arguments" | "parameters"}`, optionally wrapped
/// as `{"type": "function", "function": {…}}`.
fn call_in(value: &Value, tools: &[ToolSpec], trust: Trust) -> Option<(ToolCall, ArgKey)> {
    let mut object = value.as_object()?;
    if let (None, Some(Value::Object(function))) = (object.get("name"), object.get("function")) {
        object = function;
    }
    let name = object.get("name")?.as_str()?;
    // Untagged, a near miss of a tool's name ("filesystem__get_file_info") is a call too;
    // `repair` mends the name.
    let tool = tools.iter().find(|t| t.name == name).or_else(|| {
        let near = super::repair::near_name(name, tools)?;
        tools.iter().find(|t| t.name == near)
    });
    if trust == Trust::Untagged
        && (tool.is_none() || object.keys().any(|k| !CALL_KEYS.contains(&k.as_str())))
    {
        return None;
    }
    let (arguments, key) = match (object.get("arguments"), object.get("parameters")) {
        (Some(a), None) => (arguments(a)?, ArgKey::Arguments),
        (None, Some(p)) => (arguments(p)?, ArgKey::Parameters),
        (None, None) if trust == Trust::Tagged || tool.is_some_and(ToolSpec::requires_nothing) => {
            (Map::new(), ArgKey::Absent)
        }
        _ => return None,
    };
    Some((
        ToolCall {
            name: name.to_owned(),
            arguments,
        },
        key,
    ))
}

/// An arguments value as an object: an object, a JSON string holding one, or empty.
fn arguments(value: &Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map.clone()),
        Value::Null => Some(Map::new()),
        Value::String(s) if s.trim().is_empty() => Some(Map::new()),
        Value::String(s) => serde_json::from_str(s).ok(),
        _ => None,
    }
}

/// The objects and arrays at the start of `s`, one after another (separated by whitespace,
/// `,` or `;`), and the offset just past the last one.
fn json_values(s: &str) -> (Vec<Value>, usize) {
    let mut values = Vec::new();
    let mut end = 0;
    loop {
        let separator = !values.is_empty();
        let rest = &s[end..];
        let skipped = rest.trim_start_matches(|c: char| {
            c.is_whitespace() || (separator && matches!(c, ',' | ';'))
        });
        let start = end + (rest.len() - skipped.len());
        if !skipped.starts_with(['{', '[']) {
            break;
        }
        match first_value(skipped) {
            Some((value, used)) => {
                values.push(value);
                end = start + used;
            }
            None => break,
        }
    }
    (values, end)
}

/// The JSON value at the very start of `s` and the offset just past it.
fn first_value(s: &str) -> Option<(Value, usize)> {
    let mut stream = Deserializer::from_str(s).into_iter::<Value>();
    match stream.next() {
        Some(Ok(value)) => Some((value, stream.byte_offset())),
        _ => None,
    }
}

/// The offsets of the body of `s` if it is wrapped in a code fence, else all of it.
fn unfence(s: &str) -> (usize, usize) {
    let trimmed = s.trim_start();
    if !trimmed.starts_with(FENCE) {
        return (0, s.len());
    }
    let fence_at = s.len() - trimmed.len();
    let Some(start) = s[fence_at..].find('\n').map(|i| fence_at + i + 1) else {
        return (0, s.len());
    };
    let end = s[start..].rfind(FENCE).map_or(s.len(), |i| start + i);
    (start, end)
}

/// The first offset at or after `from` that is not whitespace.
fn skip_whitespace(s: &str, from: usize) -> usize {
    let rest = &s[from..];
    from + (rest.len() - rest.trim_start().len())
}
