//! The model's own Jinja chat template, rendered with minijinja (as llama-server and Ollama do),
//! for the turns that offer tools: llama.cpp's built-in template detection knows no `tools`.
//!
//! Invariant: rendering matches Hugging Face's `apply_chat_template` closely enough for the
//! templates models ship: `tojson` writes Python's `json.dumps` spacing, the Python string
//! methods templates use are there (minijinja-contrib's pycompat), and `raise_exception` and
//! `strftime_now` exist.

use minijinja::value::Serde;
use minijinja::{Environment, Error, ErrorKind, Value, context};
use serde_json::Value as Json;

use super::prompt::ChatMessage;
use crate::tools::ToolSpec;

/// A compiled chat template and the special tokens it may print.
pub struct JinjaTemplate {
    env: Environment<'static>,
    bos: String,
    eos: String,
}

impl JinjaTemplate {
    /// Compiles `source`; an error is one line from minijinja.
    pub fn new(source: &str, bos: String, eos: String) -> Result<JinjaTemplate, String> {
        let mut env = Environment::new();
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_filter("tojson", tojson);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        env.add_template_owned("chat", source.to_owned())
            .map_err(|e| one_line(&e))?;
        Ok(JinjaTemplate { env, bos, eos })
    }

    /// Whether the template reads `tools` at all (otherwise tools go in the system prompt).
    pub fn takes_tools(source: &str) -> bool {
        source.contains("tools")
    }

    /// Renders `messages` with `tools` and opens the assistant's reply.
    pub fn render(&self, messages: &[ChatMessage], tools: &[ToolSpec]) -> Result<String, String> {
        let messages: Vec<Json> = messages.iter().map(message).collect();
        let tools: Vec<Json> = tools.iter().map(function).collect();
        let template = self.env.get_template("chat").map_err(|e| one_line(&e))?;
        template
            .render(context! {
                messages => Value::from(Serde(&messages)),
                tools => Value::from(Serde(&tools)),
                add_generation_prompt => true,
                bos_token => self.bos.as_str(),
                eos_token => self.eos.as_str(),
            })
            .map_err(|e| one_line(&e))
    }
}

/// A message as chat templates expect it: `{"role": …, "content": …}`.
fn message(m: &ChatMessage) -> Json {
    serde_json::json!({ "role": m.role.as_str(), "content": m.content })
}

/// A tool in the OpenAI function format that tool-aware templates print.
pub(super) fn function(tool: &ToolSpec) -> Json {
    serde_json::json!({
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.input_schema,
        }
    })
}

fn one_line(e: &Error) -> String {
    let mut text = e.to_string();
    if let Some(detail) = e.detail() {
        text = format!("{text}: {detail}");
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn raise_exception(message: String) -> Result<Value, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

fn strftime_now(format: String) -> String {
    // Templates use it for "today's date"; UTC keeps the prompt independent of the machine.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d) = civil_date(now / 86_400);
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    format
        .replace("%Y", &y.to_string())
        .replace("%m", &format!("{m:02}"))
        .replace("%d", &format!("{d:02}"))
        .replace("%B", MONTHS[(m - 1) as usize])
        .replace("%b", &MONTHS[(m - 1) as usize][..3])
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_date(days: u64) -> (i64, u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `tojson` as Hugging Face's templates expect it: `json.dumps` with `", "` and `": "`
/// separators and non-ASCII kept; `indent=N` pretty-prints.
fn tojson(value: Value, kwargs: minijinja::value::Kwargs) -> Result<Value, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    kwargs.assert_all_used()?;
    let json: Json = serde_json::to_value(&value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let text = match indent {
        Some(n) => {
            let pad = " ".repeat(n);
            let mut out = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes());
            let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
            serde::Serialize::serialize(&json, &mut ser)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
            String::from_utf8(out).unwrap_or_default()
        }
        None => python_json(&json),
    };
    Ok(Value::from_safe_string(text))
}

/// `json.dumps(value, ensure_ascii=False)`.
pub(super) fn python_json(value: &Json) -> String {
    match value {
        Json::Array(items) => {
            let inner: Vec<String> = items.iter().map(python_json).collect();
            format!("[{}]", inner.join(", "))
        }
        Json::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Json::String(k.clone()), python_json(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Role;

    const HERMES: &str = "{%- if tools %}<|im_start|>system\n{{ messages[0]['content'] if messages[0]['role'] == 'system' else 'Default.' }}\n<tools>{% for tool in tools %}\n{{ tool | tojson }}{% endfor %}\n</tools><|im_end|>\n{%- endif %}\
{%- for message in messages %}{%- if message.role == 'tool' %}<|im_start|>user\n<tool_response>\n{{ message.content }}\n</tool_response><|im_end|>\n\
{%- elif not (message.role == 'system' and tools) %}<|im_start|>{{ message.role }}\n{{ message.content | trim }}<|im_end|>\n{%- endif %}{%- endfor %}\
{%- if add_generation_prompt %}<|im_start|>assistant\n{%- endif %}";

    fn tool() -> ToolSpec {
        ToolSpec::new(
            "get_time",
            "Current time in a zone",
            serde_json::json!({"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}),
        )
    }

    #[test]
    fn renders_tools_messages_and_tool_results() {
        let t = JinjaTemplate::new(HERMES, String::new(), String::new()).unwrap();
        let messages = vec![
            ChatMessage::new(Role::System, "Be brief."),
            ChatMessage::new(Role::User, " time? "),
            ChatMessage::new(Role::Assistant, "<tool_call>{}</tool_call>"),
            ChatMessage::new(Role::Tool, "12:00"),
        ];
        let text = t.render(&messages, &[tool()]).unwrap();
        // The template's `{%-` tags trim the newlines between turns.
        assert_eq!(
            text,
            "<|im_start|>system\nBe brief.\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_time\", \"description\": \"Current time in a zone\", \"parameters\": {\"type\": \"object\", \"properties\": {\"zone\": {\"type\": \"string\"}}, \"required\": [\"zone\"]}}}\n</tools><|im_end|>\
<|im_start|>user\ntime?<|im_end|><|im_start|>assistant\n<tool_call>{}</tool_call><|im_end|>\
<|im_start|>user\n<tool_response>\n12:00\n</tool_response><|im_end|><|im_start|>assistant"
        );
    }

    #[test]
    fn python_string_methods_and_raise_exception_work() {
        let source = "{{ 'a b'.split(' ') | join(',') }}{% if 'x'.startswith('y') %}{{ raise_exception('bad role') }}{% endif %}";
        let t = JinjaTemplate::new(source, String::new(), String::new()).unwrap();
        assert_eq!(t.render(&[], &[]).unwrap(), "a,b");
        let failing = JinjaTemplate::new(
            "{{ raise_exception('bad role') }}",
            String::new(),
            String::new(),
        )
        .unwrap();
        assert!(failing.render(&[], &[]).unwrap_err().contains("bad role"));
    }

    #[test]
    fn tojson_matches_python_spacing_and_keeps_unicode() {
        let v = serde_json::json!({"a": [1, "é"], "b": {"c": null}});
        assert_eq!(python_json(&v), "{\"a\": [1, \"é\"], \"b\": {\"c\": null}}");
    }

    #[test]
    fn a_broken_template_is_a_one_line_error() {
        let e = JinjaTemplate::new("{% for %}", String::new(), String::new())
            .err()
            .unwrap();
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(20_415), (2025, 11, 23));
    }
}
