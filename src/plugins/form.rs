//! Elicitation forms: a server's requested schema as fields a person can fill, and the
//! filled fields checked and turned back into the object the server asked for.
//!
//! Invariants: [`parse`] takes only what MCP allows in a form (an object of primitive
//! properties: string with `format` email/uri/date/date-time and length bounds, number and
//! integer with bounds, boolean, single-select `enum`/`oneOf` (with `enumNames` titles), and
//! multi-select arrays of those), and refuses anything else in one line. [`Form::content`]
//! never returns a value that breaks the schema: every error names the field.

use serde_json::{Map, Value};

/// A form to fill.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    /// The fields, in the schema's order.
    pub fields: Vec<Field>,
}

/// One field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The property's name in the answer.
    pub name: String,
    /// What to call it (its `title`, else its name).
    pub title: String,
    /// Its `description`.
    pub description: Option<String>,
    /// Whether the answer must have it.
    pub required: bool,
    /// What it takes.
    pub kind: Kind,
    /// What it holds now (the schema's default at first).
    pub value: Filled,
}

/// What a field takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Free text, maybe of a format.
    Text {
        /// `email`, `uri`, `date` or `date-time`.
        format: Option<String>,
        /// Fewest characters.
        min: Option<usize>,
        /// Most characters.
        max: Option<usize>,
    },
    /// A number typed as text.
    Number {
        /// Whole numbers only.
        integer: bool,
        /// Smallest allowed.
        min: Option<f64>,
        /// Largest allowed.
        max: Option<f64>,
    },
    /// Yes or no.
    Bool,
    /// One of the options: (value, label).
    Choice(Vec<(String, String)>),
    /// Some of the options: (value, label), with bounds on how many.
    Multi {
        /// The options.
        options: Vec<(String, String)>,
        /// Fewest picked.
        min: Option<usize>,
        /// Most picked.
        max: Option<usize>,
    },
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Filled {
    /// Text and numbers, as typed.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// The chosen option's index, if any.
    Choice(Option<usize>),
    /// Which options are picked.
    Multi(Vec<bool>),
}

/// `schema` (the request's `requestedSchema`) as a form, or why it is not one we can show.
pub fn parse(schema: &Value) -> Result<Form, String> {
    let bad = |why: String| Err(format!("the server's form is malformed: {why}"));
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return bad("it has no properties".into());
    };
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return bad("its type is not \"object\"".into());
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields = Vec::new();
    for (name, property) in properties {
        match field(name, property, required.contains(&name.as_str())) {
            Ok(field) => fields.push(field),
            Err(why) => return bad(format!("field {name:?}: {why}")),
        }
    }
    Ok(Form { fields })
}

fn field(name: &str, p: &Value, required: bool) -> Result<Field, String> {
    let text = |key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
    let count = |key: &str| p.get(key).and_then(Value::as_u64).map(|n| n as usize);
    let number = |key: &str| p.get(key).and_then(Value::as_f64);
    let default = p.get("default");
    let (kind, value) = match p.get("type").and_then(Value::as_str) {
        Some("string") => match options(p)? {
            Some(options) => {
                let chosen = default
                    .and_then(Value::as_str)
                    .and_then(|d| options.iter().position(|(v, _)| v == d));
                (Kind::Choice(options), Filled::Choice(chosen))
            }
            None => {
                let format = text("format");
                if let Some(f) = &format
                    && !["email", "uri", "date", "date-time"].contains(&f.as_str())
                {
                    return Err(format!("format {f:?} is not one a form may ask for"));
                }
                let kind = Kind::Text {
                    format,
                    min: count("minLength"),
                    max: count("maxLength"),
                };
                let value = default.and_then(Value::as_str).unwrap_or_default();
                (kind, Filled::Text(value.to_owned()))
            }
        },
        Some(t @ ("number" | "integer")) => {
            let kind = Kind::Number {
                integer: t == "integer",
                min: number("minimum"),
                max: number("maximum"),
            };
            let value = default.map(Value::to_string).unwrap_or_default();
            (kind, Filled::Text(value))
        }
        Some("boolean") => {
            let value = default.and_then(Value::as_bool).unwrap_or(false);
            (Kind::Bool, Filled::Bool(value))
        }
        Some("array") => {
            let items = p.get("items").ok_or("an array without items")?;
            let options = options(items)?.ok_or("an array whose items are not options")?;
            let picked: Vec<&str> = default
                .and_then(Value::as_array)
                .map(|d| d.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let value = options
                .iter()
                .map(|(v, _)| picked.contains(&v.as_str()))
                .collect();
            let kind = Kind::Multi {
                options,
                min: count("minItems"),
                max: count("maxItems"),
            };
            (kind, Filled::Multi(value))
        }
        Some(other) => return Err(format!("type {other:?} is not one a form may ask for")),
        None => return Err("it has no type".into()),
    };
    Ok(Field {
        name: name.to_owned(),
        title: text("title").unwrap_or_else(|| name.to_owned()),
        description: text("description"),
        required,
        kind,
        value,
    })
}

/// The options of `enum` (titled by `enumNames`), `oneOf` or `anyOf` (`const` + `title`);
/// `None` when it has none of those.
fn options(p: &Value) -> Result<Option<Vec<(String, String)>>, String> {
    if let Some(values) = p.get("enum").and_then(Value::as_array) {
        let names = p.get("enumNames").and_then(Value::as_array);
        let mut out = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let v = v.as_str().ok_or("an enum value that is not a string")?;
            let label = names
                .and_then(|n| n.get(i))
                .and_then(Value::as_str)
                .unwrap_or(v);
            out.push((v.to_owned(), label.to_owned()));
        }
        return Ok(Some(out));
    }
    let Some(list) = p
        .get("oneOf")
        .or_else(|| p.get("anyOf"))
        .and_then(Value::as_array)
    else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for option in list {
        let value = option
            .get("const")
            .and_then(Value::as_str)
            .ok_or("an option without a string const")?;
        let label = option.get("title").and_then(Value::as_str).unwrap_or(value);
        out.push((value.to_owned(), label.to_owned()));
    }
    Ok(Some(out))
}

impl Form {
    /// The answer object, or the first field that is wrong: (its index, why, in words).
    pub fn content(&self) -> Result<Map<String, Value>, (usize, String)> {
        let mut out = Map::new();
        for (i, field) in self.fields.iter().enumerate() {
            match field.answer() {
                Ok(Some(value)) => {
                    out.insert(field.name.clone(), value);
                }
                Ok(None) if field.required => {
                    return Err((i, format!("{} is required", field.title)));
                }
                Ok(None) => {}
                Err(why) => return Err((i, format!("{}: {why}", field.title))),
            }
        }
        Ok(out)
    }
}

impl Field {
    /// The field's value for the answer; `None` when it is left empty.
    fn answer(&self) -> Result<Option<Value>, String> {
        match (&self.kind, &self.value) {
            (Kind::Text { format, min, max }, Filled::Text(text)) => {
                if text.is_empty() {
                    return Ok(None);
                }
                let chars = text.chars().count();
                if min.is_some_and(|m| chars < m) || max.is_some_and(|m| chars > m) {
                    return Err(format!(
                        "must be {} to {} characters long",
                        min.unwrap_or(0),
                        max.map_or("any".to_owned(), |m| m.to_string())
                    ));
                }
                if let Some(format) = format
                    && !matches_format(format, text)
                {
                    return Err(format!("is not a valid {}", format_name(format)));
                }
                Ok(Some(Value::String(text.clone())))
            }
            (Kind::Number { integer, min, max }, Filled::Text(text)) => {
                let text = text.trim();
                if text.is_empty() {
                    return Ok(None);
                }
                let n: f64 = text.parse().map_err(|_| "is not a number".to_owned())?;
                if *integer && n.fract() != 0.0 {
                    return Err("must be a whole number".into());
                }
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    let show = |v: Option<f64>| v.map_or("any".to_owned(), |v| v.to_string());
                    return Err(format!("must be between {} and {}", show(*min), show(*max)));
                }
                let value = if *integer {
                    Value::from(n as i64)
                } else {
                    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
                };
                Ok(Some(value))
            }
            (Kind::Bool, Filled::Bool(b)) => Ok(Some(Value::Bool(*b))),
            (Kind::Choice(options), Filled::Choice(chosen)) => Ok(chosen
                .and_then(|i| options.get(i))
                .map(|(v, _)| Value::String(v.clone()))),
            (Kind::Multi { options, min, max }, Filled::Multi(picked)) => {
                let values: Vec<Value> = options
                    .iter()
                    .zip(picked)
                    .filter(|(_, p)| **p)
                    .map(|((v, _), _)| Value::String(v.clone()))
                    .collect();
                let n = values.len();
                if n == 0 && min.is_none_or(|m| m == 0) {
                    return Ok(None);
                }
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    return Err(format!(
                        "pick {} to {}",
                        min.unwrap_or(0),
                        max.map_or("all".to_owned(), |m| m.to_string())
                    ));
                }
                Ok(Some(Value::Array(values)))
            }
            _ => Err("holds the wrong kind of value".into()),
        }
    }
}

fn format_name(format: &str) -> &str {
    match format {
        "email" => "email address",
        "uri" => "URI (scheme://…)",
        "date" => "date (YYYY-MM-DD)",
        "date-time" => "date and time (YYYY-MM-DDTHH:MM:SSZ)",
        other => other,
    }
}

fn matches_format(format: &str, text: &str) -> bool {
    match format {
        "email" => text.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.contains(char::is_whitespace)
        }),
        "uri" => text.split_once(':').is_some_and(|(scheme, rest)| {
            scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
                && !text.contains(char::is_whitespace)
        }),
        "date" => is_date(text),
        "date-time" => text
            .split_once(['T', 't'])
            .is_some_and(|(date, time)| is_date(date) && is_time(time)),
        _ => true,
    }
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return false;
    }
    let (y, m, d): (u32, u32, u32) = (
        y.parse().unwrap_or(0),
        m.parse().unwrap_or(0),
        d.parse().unwrap_or(0),
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

fn is_time(text: &str) -> bool {
    let clock = text.trim_end_matches(['Z', 'z']);
    let clock = clock.split(['+', '-']).next().unwrap_or("");
    let parts: Vec<&str> = clock.split(':').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            let whole = p.split('.').next().unwrap_or("");
            whole.len() == 2 && whole.chars().all(|c| c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn everything() -> Value {
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "title": "Name"},
                "check": {"type": "boolean"},
                "email": {"type": "string", "format": "email"},
                "birthdate": {"type": "string", "format": "date"},
                "integer": {"type": "integer", "minimum": 1, "maximum": 100, "default": 42},
                "friend": {"type": "string", "enum": ["Monica", "Ross"], "default": "Monica"},
                "hero": {"type": "string", "oneOf": [{"const": "hero-1", "title": "Superman"}]},
                "pet": {"type": "string", "enum": ["pet-1", "pet-2"], "enumNames": ["Cats", "Dogs"]},
                "fish": {"type": "array", "minItems": 1, "maxItems": 2,
                         "items": {"anyOf": [{"const": "f1", "title": "Tuna"}, {"const": "f2", "title": "Trout"}]},
                         "default": ["f1"]}
            },
            "required": ["name"]
        })
    }

    #[test]
    fn every_kind_of_field_parses_with_its_default() {
        let form = parse(&everything()).expect("a form");
        let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names.len(), 9);
        let by = |n: &str| form.fields.iter().find(|f| f.name == n).unwrap();
        assert!(by("name").required && by("name").title == "Name");
        assert_eq!(by("integer").value, Filled::Text("42".into()));
        assert_eq!(by("friend").value, Filled::Choice(Some(0)));
        assert_eq!(
            by("pet").kind,
            Kind::Choice(vec![
                ("pet-1".into(), "Cats".into()),
                ("pet-2".into(), "Dogs".into())
            ])
        );
        assert_eq!(by("fish").value, Filled::Multi(vec![true, false]));
    }

    #[test]
    fn the_answer_holds_valid_values_and_errors_name_the_field() {
        let mut form = parse(&everything()).unwrap();
        let at = |form: &Form, n: &str| form.fields.iter().position(|f| f.name == n).unwrap();
        let name = at(&form, "name");
        assert_eq!(
            form.content().unwrap_err(),
            (name, "Name is required".into())
        );
        form.fields[name].value = Filled::Text("Ada".into());
        let email = at(&form, "email");
        form.fields[email].value = Filled::Text("ada@".into());
        assert_eq!(
            form.content().unwrap_err(),
            (email, "email: is not a valid email address".into())
        );
        form.fields[email].value = Filled::Text("ada@example.org".into());
        let date = at(&form, "birthdate");
        form.fields[date].value = Filled::Text("2026-02-30".into());
        assert!(form.content().unwrap_err().1.contains("date (YYYY-MM-DD)"));
        form.fields[date].value = Filled::Text("2024-02-29".into());
        let integer = at(&form, "integer");
        form.fields[integer].value = Filled::Text("101".into());
        assert!(form.content().unwrap_err().1.contains("between 1 and 100"));
        form.fields[integer].value = Filled::Text("7".into());
        let content = form.content().expect("valid");
        assert_eq!(content["name"], "Ada");
        assert_eq!(content["integer"], 7);
        assert_eq!(content["check"], false);
        assert_eq!(content["friend"], "Monica");
        assert_eq!(content["fish"], json!(["f1"]));
        assert!(!content.contains_key("hero"), "left empty");
    }

    #[test]
    fn schemas_outside_what_a_form_may_ask_are_refused_in_one_line() {
        for (schema, why) in [
            (json!({"type": "object"}), "no properties"),
            (json!({"type": "array", "properties": {}}), "not \"object\""),
            (
                json!({"type": "object", "properties": {"a": {"type": "object"}}}),
                "field \"a\": type \"object\"",
            ),
            (
                json!({"type": "object", "properties": {"a": {"type": "string", "format": "ipv4"}}}),
                "format \"ipv4\"",
            ),
            (
                json!({"type": "object", "properties": {"a": {}}}),
                "no type",
            ),
        ] {
            let err = parse(&schema).unwrap_err();
            assert!(err.contains(why) && !err.contains('\n'), "{err}");
        }
    }
}
