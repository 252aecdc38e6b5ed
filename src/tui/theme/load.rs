//! Finding and loading a theme by name: `<user_dir>/<name>.toml` first, then the built-ins
//! embedded in the binary; `inherits` chains are followed (cycles are an error) and merged
//! before colours are resolved. Loading never fails: a missing or broken theme is a one-line
//! warning and the built-in default, which is always valid.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::Path;

use super::Theme;
use super::color::ColorMode;
use super::parse::{self, Spec};

/// The theme used when none is configured, or when the configured one cannot be used.
pub const DEFAULT_THEME: &str = "dark";

/// The syntect theme of a theme that names none.
const DEFAULT_SYNTAX: &str = "base16-ocean.dark";

/// The built-in themes, by name.
const BUILT_IN: [(&str, &str); 5] = [
    ("dark", include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    (
        "gruvbox-dark",
        include_str!("../../../themes/gruvbox-dark.toml"),
    ),
    (
        "catppuccin-mocha",
        include_str!("../../../themes/catppuccin-mocha.toml"),
    ),
];

/// A theme ready to draw with, and what went wrong on the way (one line each).
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The theme asked for, or the default when it could not be used.
    pub theme: Theme,
    /// Problems to show the user: an unknown name, a broken file, unknown roles.
    pub warnings: Vec<String>,
}

/// The theme called `name`, adapted to `mode`; a user theme in `user_dir` (normally
/// `<config dir>/themes`) overrides a built-in of the same name.
pub fn load(name: &str, user_dir: &Path, mode: ColorMode) -> Loaded {
    let mut warnings = Vec::new();
    let theme = match resolve(name, user_dir, &mut warnings) {
        Ok(theme) => theme,
        Err(problem) => {
            warnings.push(format!("{problem}; using {DEFAULT_THEME}"));
            default_theme()
        }
    };
    Loaded {
        theme: theme.with_mode(mode),
        warnings: warnings.iter().map(|w| one_line(w)).collect(),
    }
}

/// The names of every theme, built-in and in `user_dir`, sorted and without duplicates.
pub fn available(user_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = BUILT_IN.iter().map(|(n, _)| n.to_string()).collect();
    if let Ok(entries) = std::fs::read_dir(user_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && valid_name(stem)
            {
                names.push(stem.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The built-in default theme, in true colour.
fn default_theme() -> Theme {
    let theme = BUILT_IN
        .iter()
        .find(|(name, _)| *name == DEFAULT_THEME)
        .and_then(|(_, text)| {
            let spec = parse::parse(DEFAULT_THEME, text, &mut Vec::new()).ok()?;
            build(DEFAULT_THEME, spec).ok()
        });
    // Unreachable while the built-in parses (a test checks it); plain text beats a panic.
    theme.unwrap_or_else(|| Theme::from_roles(DEFAULT_THEME, DEFAULT_SYNTAX, HashMap::new()))
}

/// The theme called `name` in true colour, or the one-line reason it cannot be had.
fn resolve(name: &str, user_dir: &Path, warnings: &mut Vec<String>) -> Result<Theme, String> {
    let mut chain = Vec::new();
    let spec = merged(name, false, None, user_dir, &mut chain, warnings)?;
    build(name, spec)
}

/// Resolves every role's colours into a theme.
fn build(name: &str, spec: Spec) -> Result<Theme, String> {
    let mut roles = HashMap::new();
    for (role, style) in &spec.roles {
        roles.insert(role.clone(), style.resolve(role, &spec.palette)?);
    }
    let syntax = spec.syntax.as_deref().unwrap_or(DEFAULT_SYNTAX);
    Ok(Theme::from_roles(name, syntax, roles))
}

/// A theme file found by name.
struct Found {
    /// What messages call it: the user file's path, or `built-in NAME.toml`.
    label: String,
    /// Whether it is a user file.
    user: bool,
    text: Cow<'static, str>,
}

/// The spec of theme `name` with its `inherits` chain merged in. `built_in_only` skips user
/// files; `via` is the `inherits` entry that led here; `chain` the files already on the way
/// (label and name), for cycles.
fn merged(
    name: &str,
    built_in_only: bool,
    via: Option<&parse::Written<String>>,
    user_dir: &Path,
    chain: &mut Vec<(String, String)>,
    warnings: &mut Vec<String>,
) -> Result<Spec, String> {
    let at = via.map_or(String::new(), |w| format!("{}: inherits {name:?}: ", w.at));
    let found = find(name, built_in_only, user_dir)
        .map_err(|e| format!("{at}{e}"))?
        .ok_or_else(|| format!("{at}{}", no_theme(name, user_dir)))?;
    if chain.iter().any(|(label, _)| *label == found.label) {
        let mut names: Vec<&str> = chain.iter().map(|(_, n)| n.as_str()).collect();
        names.push(name);
        return Err(format!("{at}a cycle: {}", names.join(" → ")));
    }
    chain.push((found.label.clone(), name.to_string()));
    let spec = parse::parse(&found.label, &found.text, warnings)?;
    if let Some(written) = &spec.name
        && written.value != name
    {
        warnings.push(format!(
            "{}: name {:?} differs from the file name; the theme is called {name:?}",
            written.at, written.value
        ));
    }
    let Some(parent) = &spec.inherits else {
        return Ok(spec);
    };
    // Built-ins inherit only built-ins; a user theme inheriting its own name means the built-in.
    let parent_built_in_only = !found.user || parent.value == name;
    let base = merged(
        &parent.value,
        parent_built_in_only,
        Some(parent),
        user_dir,
        chain,
        warnings,
    )?;
    Ok(overlay(base, spec))
}

/// `child` over `base`: palette entries and roles replace the base's one by one.
fn overlay(mut base: Spec, child: Spec) -> Spec {
    base.palette.extend(child.palette);
    base.roles.extend(child.roles);
    Spec {
        name: child.name,
        inherits: child.inherits,
        syntax: child.syntax.or(base.syntax),
        palette: base.palette,
        roles: base.roles,
    }
}

/// The file of theme `name`: the user's, unless `built_in_only`, else the built-in.
fn find(name: &str, built_in_only: bool, user_dir: &Path) -> Result<Option<Found>, String> {
    if !valid_name(name) {
        return Ok(None);
    }
    if !built_in_only {
        let path = user_dir.join(format!("{name}.toml"));
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                return Ok(Some(Found {
                    label: path.display().to_string(),
                    user: true,
                    text: Cow::Owned(text),
                }));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => {
                return Err(format!(
                    "{}: cannot read the theme file: {e}",
                    path.display()
                ));
            }
        }
    }
    Ok(BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| Found {
            label: format!("built-in {n}.toml"),
            user: false,
            text: Cow::Borrowed(*text),
        }))
}

fn no_theme(name: &str, user_dir: &Path) -> String {
    let names = available(user_dir).join(", ");
    format!("no theme named {name:?} (available: {names})")
}

/// A name that is a plain file stem: no separators, not hidden, not empty.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
}

/// `text` on one line: a control character (a newline in a path) becomes a space.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
