//! Themes: named sets of semantic roles (user message, code, border, focus, …), never widget
//! colours. A role missing from a theme falls back along its dotted scope
//! (`chat.user.label` → `chat.user` → `chat`), then to the plain default style.

use std::collections::HashMap;

use ratatui::style::{Color, Style};

/// A loaded theme, already adapted to the terminal's colour support.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    name: String,
    syntax: String,
    roles: HashMap<String, Style>,
}

impl Theme {
    /// A theme from resolved roles (used by the loader and by tests).
    pub fn from_roles(name: &str, syntax: &str, roles: HashMap<String, Style>) -> Theme {
        Theme {
            name: name.to_string(),
            syntax: syntax.to_string(),
            roles,
        }
    }

    /// The theme's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The syntect theme used for fenced code blocks (e.g. `base16-ocean.dark`).
    pub fn syntax_theme(&self) -> &str {
        &self.syntax
    }

    /// `rgb` as the terminal can show it (24-bit, 256 or 16 colours), or `None` under `NO_COLOR`.
    pub fn color(&self, rgb: (u8, u8, u8)) -> Option<Color> {
        Some(Color::Rgb(rgb.0, rgb.1, rgb.2))
    }

    /// The style of `role`, falling back along its dotted scope, then to the default style.
    pub fn style(&self, role: &str) -> Style {
        let mut scope = role;
        loop {
            if let Some(style) = self.roles.get(scope) {
                return *style;
            }
            match scope.rfind('.') {
                Some(i) => scope = &scope[..i],
                None => return Style::default(),
            }
        }
    }
}
