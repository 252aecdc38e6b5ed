//! Mending near-miss calls against the offered tools before they are checked: small models
//! write `"200,000"` where a number is wanted, `"true"` for a boolean, an enum value in the
//! wrong case, `get_current_time` for `current_time`, or wrap the arguments one level too deep.
//!
//! Invariants: a repair only changes what the schema rejects as written, and only to a value
//! the schema names or a number the text plainly is; an ambiguous name is left alone (for
//! `validate` to report). Every change is listed, one short line each.

use serde_json::{Map, Number, Value};

use super::{ToolCall, ToolSpec};

/// Keys that small models wrap the arguments in.
const WRAPPERS: [&str; 4] = ["arguments", "parameters", "args", "input"];

/// `call` mended against `tools`, and what was changed (empty: nothing).
pub fn repair(call: &ToolCall, tools: &[ToolSpec]) -> (ToolCall, Vec<String>) {
    let mut notes = Vec::new();
    let mut call = call.clone();
    if !tools.iter().any(|t| t.name == call.name)
        && let Some(name) = near_name(&call.name, tools)
    {
        notes.push(format!("tool name {:?} taken as {name:?}", call.name));
        call.name = name;
    }
    let Some(tool) = tools.iter().find(|t| t.name == call.name) else {
        return (call, notes);
    };
    let properties = tool
        .input_schema
        .get("properties")
        .and_then(Value::as_object);
    unwrap_arguments(&mut call.arguments, properties, &mut notes);
    if let Some(properties) = properties {
        for (key, value) in call.arguments.iter_mut() {
            if let Some(schema) = properties.get(key)
                && let Some(fixed) = coerce(value, schema)
            {
                notes.push(format!("arguments.{key}: {value} taken as {fixed}"));
                *value = fixed;
            }
        }
    }
    (call, notes)
}

/// The one offered tool `name` means: the same name after dropping a `plugin.`/`plugin/`/
/// `plugin__` prefix, a `get_` prefix, case and `-`/`_` differences.
pub fn near_name(name: &str, tools: &[ToolSpec]) -> Option<String> {
    let wanted = simplify(name);
    let mut found = tools.iter().filter(|t| simplify(&t.name) == wanted);
    let first = found.next()?;
    found.next().is_none().then(|| first.name.clone())
}

fn simplify(name: &str) -> String {
    let last = name.rsplit(['.', '/', ':']).next().unwrap_or(name);
    let last = last.rsplit("__").next().unwrap_or(last);
    let lower = last.to_lowercase().replace('-', "_");
    lower
        .strip_prefix("get_")
        .map(str::to_owned)
        .unwrap_or(lower)
}

/// `{"arguments": {…}}` (or `parameters`, `args`, `input`) as the only key, when the tool has
/// no such property: the inner object is the arguments.
fn unwrap_arguments(
    arguments: &mut Map<String, Value>,
    properties: Option<&Map<String, Value>>,
    notes: &mut Vec<String>,
) {
    if arguments.len() != 1 {
        return;
    }
    let Some((key, Value::Object(inner))) = arguments.iter().next() else {
        return;
    };
    if !WRAPPERS.contains(&key.as_str()) || properties.is_some_and(|p| p.contains_key(key)) {
        return;
    }
    notes.push(format!("arguments wrapped in {key:?} unwrapped"));
    *arguments = inner.clone();
}

/// The value `schema` wants in place of `value`, when `value` is a plain near miss.
fn coerce(value: &Value, schema: &Value) -> Option<Value> {
    let types = schema_types(schema);
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if options.contains(value) {
            return None;
        }
        let text = value.as_str()?.trim();
        let mut same = options
            .iter()
            .filter(|o| o.as_str().is_some_and(|o| o.eq_ignore_ascii_case(text)));
        let first = same.next()?;
        return same.next().is_none().then(|| first.clone());
    }
    let wants = |t: &str| types.iter().any(|x| x == t);
    match value {
        Value::String(text) if !wants("string") => {
            if wants("integer") {
                let n = number(text)?;
                (n.fract() == 0.0 && n.abs() < 9.0e15).then(|| Value::from(n as i64))
            } else if wants("number") {
                Number::from_f64(number(text)?).map(Value::Number)
            } else if wants("boolean") {
                match text.trim().to_ascii_lowercase().as_str() {
                    "true" | "yes" => Some(Value::Bool(true)),
                    "false" | "no" => Some(Value::Bool(false)),
                    _ => None,
                }
            } else {
                None
            }
        }
        Value::Number(n) if wants("string") && !wants("number") && !wants("integer") => {
            Some(Value::String(n.to_string()))
        }
        Value::Number(n) if wants("integer") && !wants("number") => {
            let f = n.as_f64()?;
            (f.fract() == 0.0 && !n.is_i64() && f.abs() < 9.0e15).then(|| Value::from(f as i64))
        }
        _ => None,
    }
}

/// The schema's `type`, as a list (empty when it has none).
fn schema_types(schema: &Value) -> Vec<String> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// A number as people write it: `200000`, `200,000`, `200 000`, `200_000`, `$200,000`,
/// `€1,234.50`, `5%` (5: percentages stay in percent). None when the text is not plainly one
/// number.
pub fn number(text: &str) -> Option<f64> {
    let t = text.trim();
    let t = t.strip_suffix('%').unwrap_or(t).trim_end();
    let t = t.trim_start_matches(['$', '€', '£', '¥']).trim_start();
    let (sign, t) = match t.strip_prefix('-') {
        Some(rest) => ("-", rest.trim_start_matches(['$', '€', '£', '¥'])),
        None => ("", t),
    };
    let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
    let digits = ungroup(whole)?;
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let plain = if fraction.is_empty() {
        format!("{sign}{digits}")
    } else {
        format!("{sign}{digits}.{fraction}")
    };
    plain.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The digits of a whole part written with one kind of thousands separator (`,`, space, `_`,
/// `'`, a narrow space), in groups of three; or without any.
fn ungroup(whole: &str) -> Option<String> {
    if !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) {
        return Some(whole.to_owned());
    }
    let separator = whole.chars().find(|c| !c.is_ascii_digit())?;
    if !matches!(separator, ',' | ' ' | '_' | '\'' | '\u{202f}' | '\u{a0}') {
        return None;
    }
    let groups: Vec<&str> = whole.split(separator).collect();
    let (first, rest) = groups.split_first()?;
    let grouped = (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && rest
            .iter()
            .all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
    grouped.then(|| groups.concat())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tool() -> ToolSpec {
        ToolSpec::new(
            "loan_payment",
            "",
            json!({"type": "object", "properties": {
                "principal": {"type": "number"},
                "years": {"type": "integer"},
                "monthly": {"type": "boolean"},
                "unit": {"type": "string", "enum": ["Metric", "Imperial"]},
                "note": {"type": ["string", "null"]},
            }}),
        )
    }

    fn call(name: &str, arguments: Value) -> ToolCall {
        ToolCall {
            name: name.into(),
            arguments: arguments.as_object().cloned().unwrap(),
        }
    }

    #[test]
    fn numbers_as_people_write_them() {
        for (text, want) in [
            ("200000", 200000.0),
            ("200,000", 200000.0),
            ("200 000", 200000.0),
            ("1_000_000", 1e6),
            ("$200,000", 200000.0),
            ("€1,234.50", 1234.5),
            ("5%", 5.0),
            ("4.5 %", 4.5),
            ("-3", -3.0),
            (" 30 ", 30.0),
        ] {
            assert_eq!(number(text), Some(want), "{text}");
        }
        for text in [
            "",
            "abc",
            "1,2",
            "12,34,567",
            "1.2.3",
            "5 years",
            "1,000 000",
            "$",
        ] {
            assert_eq!(number(text), None, "{text}");
        }
    }

    #[test]
    fn strings_become_the_types_the_schema_wants() {
        let (fixed, notes) = repair(
            &call(
                "loan_payment",
                json!({"principal": "$200,000", "years": "30", "monthly": "true", "unit": "metric", "note": "x"}),
            ),
            &[tool()],
        );
        assert_eq!(
            Value::Object(fixed.arguments),
            json!({"principal": 200000.0, "years": 30, "monthly": true, "unit": "Metric", "note": "x"})
        );
        assert_eq!(notes.len(), 4, "{notes:?}");
        assert!(
            notes.contains(&"arguments.monthly: \"true\" taken as true".to_owned()),
            "{notes:?}"
        );
    }

    #[test]
    fn valid_and_hopeless_values_are_left_alone() {
        let original = call(
            "loan_payment",
            json!({"principal": 5, "years": "thirty", "unit": "Kelvin", "monthly": "maybe"}),
        );
        let (fixed, notes) = repair(&original, &[tool()]);
        assert_eq!(fixed, original);
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn near_miss_names_are_mended_when_unique() {
        let tools = [
            ToolSpec::new("current_time", "", json!({})),
            ToolSpec::new("convert_time", "", json!({})),
        ];
        for name in [
            "get_current_time",
            "time.current_time",
            "Current-Time",
            "time/current_time",
            "time__get_current_time",
        ] {
            let (fixed, notes) = repair(&call(name, json!({})), &tools);
            assert_eq!(fixed.name, "current_time", "{name}");
            assert_eq!(notes.len(), 1);
        }
        let (fixed, notes) = repair(&call("time", json!({})), &tools);
        assert_eq!(fixed.name, "time");
        assert!(notes.is_empty());
    }

    #[test]
    fn arguments_wrapped_one_level_too_deep_are_unwrapped() {
        let (fixed, notes) = repair(
            &call(
                "loan_payment",
                json!({"arguments": {"principal": "1,000", "years": 2}}),
            ),
            &[tool()],
        );
        assert_eq!(
            Value::Object(fixed.arguments),
            json!({"principal": 1000.0, "years": 2})
        );
        assert_eq!(notes[0], "arguments wrapped in \"arguments\" unwrapped");
        let holds = ToolSpec::new(
            "t",
            "",
            json!({"type": "object", "properties": {"input": {"type": "object"}}}),
        );
        let kept = call("t", json!({"input": {"a": 1}}));
        assert_eq!(repair(&kept, &[holds]).0, kept);
    }
}
