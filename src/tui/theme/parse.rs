//! One theme file read into a [`Spec`]: checked for shape (keys, types, colour syntax,
//! modifiers, syntax theme) with `file:line:col` on every problem, but with colour names left
//! unresolved, because a theme that inherits may redefine its parent's palette entries.
//! Unknown role names are warnings, not errors, so a typo never costs the whole theme.

use std::collections::BTreeMap;

use ratatui::style::{Color, Modifier, Style};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::roles;
use libre_assistant::text::line_col;

/// The keys a theme file may have at the top level.
const TOP_KEYS: &str = "name, inherits, syntax, palette, roles";

/// The syntect themes a theme may name for code blocks (syntect's defaults).
pub const SYNTAX_THEMES: &[&str] = &[
    "base16-ocean.dark",
    "base16-eighties.dark",
    "base16-mocha.dark",
    "base16-ocean.light",
    "InspiredGitHub",
    "Solarized (dark)",
    "Solarized (light)",
];

/// Modifier names, as written in `modifiers = [...]`.
const MODIFIERS: [(&str, Modifier); 9] = [
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("slow_blink", Modifier::SLOW_BLINK),
    ("rapid_blink", Modifier::RAPID_BLINK),
    ("reversed", Modifier::REVERSED),
    ("hidden", Modifier::HIDDEN),
    ("crossed_out", Modifier::CROSSED_OUT),
];

/// A value with where it was written (`file:line:col`), for messages about it later.
#[derive(Debug, Clone, PartialEq)]
pub struct Written<T> {
    /// The value.
    pub value: T,
    /// `file:line:col` of the value.
    pub at: String,
}

/// A colour as written in a role.
#[derive(Debug, Clone, PartialEq)]
pub enum Paint {
    /// `#rrggbb` or a palette index.
    Fixed(Color),
    /// A palette entry, else a named ANSI colour; looked up once palettes are merged.
    Named(String),
}

/// A role's style as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleSpec {
    /// Foreground colour.
    pub fg: Option<Written<Paint>>,
    /// Background colour.
    pub bg: Option<Written<Paint>>,
    /// Underline colour.
    pub underline_color: Option<Written<Paint>>,
    /// Modifiers to add.
    pub modifiers: Modifier,
}

impl RoleSpec {
    /// The style, with colour names looked up in `palette`, then among the ANSI names.
    pub fn resolve(&self, role: &str, palette: &BTreeMap<String, Color>) -> Result<Style, String> {
        let color = |paint: &Option<Written<Paint>>| -> Result<Option<Color>, String> {
            let Some(paint) = paint else { return Ok(None) };
            match &paint.value {
                Paint::Fixed(color) => Ok(Some(*color)),
                Paint::Named(name) => palette
                    .get(name)
                    .copied()
                    .or_else(|| ansi_named(name))
                    .map(Some)
                    .ok_or_else(|| {
                        format!(
                            "{}: role {role:?}: unknown colour {name:?}; not in [palette] and \
                             not a named ANSI colour",
                            paint.at
                        )
                    }),
            }
        };
        let mut style = Style::default().add_modifier(self.modifiers);
        style.fg = color(&self.fg)?;
        style.bg = color(&self.bg)?;
        style.underline_color = color(&self.underline_color)?;
        Ok(style)
    }
}

/// A theme file's content, colour names unresolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spec {
    /// The `name` key, when given.
    pub name: Option<Written<String>>,
    /// The theme this one starts from.
    pub inherits: Option<Written<String>>,
    /// The syntect theme for code blocks.
    pub syntax: Option<String>,
    /// Named colours.
    pub palette: BTreeMap<String, Color>,
    /// Styles by role.
    pub roles: BTreeMap<String, RoleSpec>,
}

/// Parses `text`, read from `source` (a path, for messages). Returns the one-line reason the
/// file cannot be used, or the spec; unknown roles are pushed to `warnings`.
pub fn parse(source: &str, text: &str, warnings: &mut Vec<String>) -> Result<Spec, String> {
    let parser = Parser { source, text };
    let doc = DeTable::parse(text).map_err(|e| parser.syntax_error(&e))?;
    let mut spec = Spec::default();
    for (key, value) in by_position(doc.get_ref()) {
        match key.get_ref().as_ref() {
            "name" => spec.name = Some(parser.string("name", value)?),
            "inherits" => spec.inherits = Some(parser.string("inherits", value)?),
            "syntax" => spec.syntax = Some(parser.syntax(value)?),
            "palette" => spec.palette = parser.palette(value)?,
            "roles" => parser.roles(None, parser.table("roles", value)?, &mut spec, warnings)?,
            other => {
                return Err(format!(
                    "{}: unknown key {other:?}; expected one of {TOP_KEYS}",
                    parser.at(key.span().start)
                ));
            }
        }
    }
    Ok(spec)
}

/// The colour a named ANSI colour stands for; case, `-`, `_` and spaces are ignored.
pub fn ansi_named(name: &str) -> Option<Color> {
    let key: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    let color = match key.as_str() {
        "reset" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return None,
    };
    Some(color)
}

type Entry<'t, 'i> = (
    &'t Spanned<std::borrow::Cow<'i, str>>,
    &'t Spanned<DeValue<'i>>,
);

/// A file being read: its name for messages and its text for positions.
struct Parser<'a> {
    source: &'a str,
    text: &'a str,
}

impl Parser<'_> {
    /// `file:line:col` of a byte offset.
    fn at(&self, offset: usize) -> String {
        let (line, col) = line_col(self.text, offset);
        format!("{}:{line}:{col}", self.source)
    }

    fn syntax_error(&self, e: &toml::de::Error) -> String {
        let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        let at = self.at(e.span().map_or(0, |s| s.start));
        format!("{at}: invalid TOML: {message}")
    }

    fn wrong_type(&self, what: &str, expected: &str, value: &Spanned<DeValue<'_>>) -> String {
        let found = with_article(value.get_ref().type_str());
        let at = self.at(value.span().start);
        format!("{at}: {what} must be {expected}, found {found}")
    }

    fn string(&self, key: &str, value: &Spanned<DeValue<'_>>) -> Result<Written<String>, String> {
        match value.get_ref() {
            DeValue::String(s) => Ok(Written {
                value: s.to_string(),
                at: self.at(value.span().start),
            }),
            _ => Err(self.wrong_type(key, "a string", value)),
        }
    }

    fn table<'t, 'i>(
        &self,
        what: &str,
        value: &'t Spanned<DeValue<'i>>,
    ) -> Result<&'t DeTable<'i>, String> {
        match value.get_ref() {
            DeValue::Table(table) => Ok(table),
            _ => Err(self.wrong_type(what, "a table", value)),
        }
    }

    fn syntax(&self, value: &Spanned<DeValue<'_>>) -> Result<String, String> {
        let name = self.string("syntax", value)?;
        if SYNTAX_THEMES.contains(&name.value.as_str()) {
            return Ok(name.value);
        }
        let known = SYNTAX_THEMES.join(", ");
        Err(format!(
            "{}: unknown syntax theme {:?}; expected one of {known}",
            name.at, name.value
        ))
    }

    fn palette(&self, value: &Spanned<DeValue<'_>>) -> Result<BTreeMap<String, Color>, String> {
        let mut palette = BTreeMap::new();
        for (key, value) in by_position(self.table("palette", value)?) {
            let what = format!("palette colour {:?}", key.get_ref());
            let color = match self.paint(&what, value)?.value {
                Paint::Fixed(color) => color,
                Paint::Named(name) => ansi_named(&name).ok_or_else(|| {
                    format!(
                        "{}: {what}: unknown colour {name:?}; a palette colour is \"#rrggbb\", \
                         a named ANSI colour or 0-255",
                        self.at(value.span().start)
                    )
                })?,
            };
            palette.insert(key.get_ref().to_string(), color);
        }
        Ok(palette)
    }

    /// The roles of a table; `prefix` is the role a nested table belongs to.
    fn roles(
        &self,
        prefix: Option<&str>,
        table: &DeTable<'_>,
        spec: &mut Spec,
        warnings: &mut Vec<String>,
    ) -> Result<(), String> {
        for (key, value) in by_position(table) {
            let role = match prefix {
                Some(p) => format!("{p}.{}", key.get_ref()),
                None => key.get_ref().to_string(),
            };
            let style = match value.get_ref() {
                DeValue::Table(fields) => self.role_table(&role, fields, spec, warnings)?,
                DeValue::String(_) | DeValue::Integer(_) => Some(RoleSpec {
                    fg: Some(self.paint(&format!("role {role:?}"), value)?),
                    ..RoleSpec::default()
                }),
                _ => {
                    let expected = "a colour or a table of fg, bg, underline_color, modifiers";
                    return Err(self.wrong_type(&format!("role {role:?}"), expected, value));
                }
            };
            let Some(style) = style else { continue };
            let at = self.at(key.span().start);
            if !roles::is_known(&role) {
                let hint = roles::suggest(&role)
                    .map_or(String::new(), |r| format!(" (did you mean {r:?}?)"));
                warnings.push(format!("{at}: unknown role {role:?} ignored{hint}"));
            } else if spec.roles.insert(role.clone(), style).is_some() {
                warnings.push(format!(
                    "{at}: role {role:?} is set twice; the later one wins"
                ));
            }
        }
        Ok(())
    }

    /// A role written as a table: style fields, and other keys as nested roles. `None` when
    /// the table holds only nested roles.
    fn role_table(
        &self,
        role: &str,
        fields: &DeTable<'_>,
        spec: &mut Spec,
        warnings: &mut Vec<String>,
    ) -> Result<Option<RoleSpec>, String> {
        let mut style = RoleSpec::default();
        let mut nested = DeTable::new();
        for (key, value) in by_position(fields) {
            let what = format!("{} of role {role:?}", key.get_ref());
            match key.get_ref().as_ref() {
                "fg" => style.fg = Some(self.paint(&what, value)?),
                "bg" => style.bg = Some(self.paint(&what, value)?),
                "underline_color" => style.underline_color = Some(self.paint(&what, value)?),
                "modifiers" => style.modifiers = self.modifiers(&what, value)?,
                _ => {
                    nested.insert(key.clone(), value.clone());
                }
            }
        }
        let has_style = fields.len() > nested.len() || fields.is_empty();
        self.roles(Some(role), &nested, spec, warnings)?;
        Ok(has_style.then_some(style))
    }

    fn paint(&self, what: &str, value: &Spanned<DeValue<'_>>) -> Result<Written<Paint>, String> {
        let at = self.at(value.span().start);
        let paint = match value.get_ref() {
            DeValue::String(s) if s.starts_with('#') => Paint::Fixed(hex(s).ok_or_else(|| {
                format!("{at}: {what}: invalid colour {s:?}; expected \"#rrggbb\"")
            })?),
            DeValue::String(s) => Paint::Named(s.to_string()),
            DeValue::Integer(i) => {
                let index = u8::from_str_radix(i.as_str(), i.radix()).map_err(|_| {
                    format!("{at}: {what}: colour index {i} is out of range; expected 0-255")
                })?;
                Paint::Fixed(Color::Indexed(index))
            }
            _ => return Err(self.wrong_type(what, "a colour (a string or 0-255)", value)),
        };
        Ok(Written { value: paint, at })
    }

    fn modifiers(&self, what: &str, value: &Spanned<DeValue<'_>>) -> Result<Modifier, String> {
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self.wrong_type(what, "an array of strings", value));
        };
        let mut modifiers = Modifier::empty();
        for item in items.iter() {
            let name = self.string(what, item)?;
            let Some((_, m)) = MODIFIERS.iter().find(|(n, _)| *n == name.value) else {
                let known: Vec<&str> = MODIFIERS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "{}: {what}: unknown modifier {:?}; expected one of {}",
                    name.at,
                    name.value,
                    known.join(", ")
                ));
            };
            modifiers |= *m;
        }
        Ok(modifiers)
    }
}

/// `#rrggbb` as a colour.
fn hex(s: &str) -> Option<Color> {
    let digits = s.strip_prefix('#')?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
    Some(Color::Rgb(channel(0)?, channel(2)?, channel(4)?))
}

/// A table's entries in the order they appear in the file.
fn by_position<'t, 'i>(table: &'t DeTable<'i>) -> Vec<Entry<'t, 'i>> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

/// `a string`, `an integer`, `an array`.
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}
