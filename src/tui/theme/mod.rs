//! Themes: named sets of semantic roles (user message, code, border, focus, …), never widget
//! colours. A role missing from a theme falls back along its dotted scope
//! (`chat.user.label` → `chat.user` → `chat`), then to the plain default style. Styles are
//! stored already adapted to the terminal's [`ColorMode`], so drawing never converts colours.

pub mod color;
pub mod load;
mod parse;
pub mod roles;

use std::collections::HashMap;

use ratatui::style::{Color, Style};

pub use color::{ColorMode, detect};
pub use load::{available, load};

/// A loaded theme, already adapted to the terminal's colour support.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    name: String,
    syntax: String,
    roles: HashMap<String, Style>,
    mode: ColorMode,
}

impl Theme {
    /// A theme from resolved roles (used by the loader and by tests), in true colour.
    pub fn from_roles(name: &str, syntax: &str, roles: HashMap<String, Style>) -> Theme {
        Theme {
            name: name.to_string(),
            syntax: syntax.to_string(),
            roles,
            mode: ColorMode::TrueColor,
        }
    }

    /// This theme brought down to `mode`: every role's colours adapted, modifiers kept.
    ///
    /// Meant for a theme in true colour; adapting an already reduced theme to a richer mode
    /// does not bring its colours back.
    pub fn with_mode(self, mode: ColorMode) -> Theme {
        let roles = self
            .roles
            .into_iter()
            .map(|(role, style)| (role, color::adapt_style(style, mode)))
            .collect();
        Theme {
            roles,
            mode,
            ..self
        }
    }

    /// The colour mode the styles are adapted to.
    pub fn mode(&self) -> ColorMode {
        self.mode
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
        color::adapt(Color::Rgb(rgb.0, rgb.1, rgb.2), self.mode)
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

#[cfg(test)]
#[path = "theme_tests.rs"]
mod tests;
