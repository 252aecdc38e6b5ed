//! Role fallback and colour modes of a built theme.

use std::collections::HashMap;

use ratatui::style::{Color, Modifier, Style};

use super::*;

fn roles(entries: &[(&str, Style)]) -> HashMap<String, Style> {
    entries
        .iter()
        .map(|(role, style)| (role.to_string(), *style))
        .collect()
}

#[test]
fn style_falls_back_along_the_dotted_scope() {
    let chat = Style::default().fg(Color::Rgb(1, 1, 1));
    let user = Style::default().fg(Color::Rgb(2, 2, 2)).bold();
    let heading = Style::default().italic();
    let theme = Theme::from_roles(
        "t",
        "base16-ocean.dark",
        roles(&[
            ("chat", chat),
            ("chat.user", user),
            ("markdown.heading", heading),
        ]),
    );
    let asked = [
        "chat.user.label",
        "chat.user",
        "chat.assistant",
        "chat",
        "markdown.heading.1",
        "markdown.code",
        "markdown",
        "nothing.at.all",
        "",
    ];
    let got: Vec<Style> = asked.iter().map(|role| theme.style(role)).collect();
    let d = Style::default();
    assert_eq!(got, [user, user, chat, chat, heading, d, d, d, d]);
}

#[test]
fn with_mode_adapts_every_role_and_keeps_modifiers() {
    let focus = Style::default()
        .fg(Color::Rgb(255, 0, 0))
        .add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let selected = Style::default()
        .fg(Color::Rgb(128, 128, 128))
        .bg(Color::Blue)
        .add_modifier(Modifier::REVERSED);
    let theme = Theme::from_roles(
        "t",
        "InspiredGitHub",
        roles(&[("border.focus", focus), ("selection", selected)]),
    );
    assert_eq!(theme.mode(), ColorMode::TrueColor);

    let none = theme.clone().with_mode(ColorMode::None);
    let bare = |s: Style| Style {
        fg: None,
        bg: None,
        underline_color: None,
        ..s
    };
    let want = Theme {
        name: "t".into(),
        syntax: "InspiredGitHub".into(),
        roles: roles(&[("border.focus", bare(focus)), ("selection", bare(selected))]),
        mode: ColorMode::None,
    };
    assert_eq!(none, want);

    let ansi256 = theme.clone().with_mode(ColorMode::Ansi256);
    assert_eq!(
        [ansi256.style("border.focus"), ansi256.style("selection")],
        [
            focus.fg(Color::Indexed(196)),
            selected.fg(Color::Indexed(244))
        ]
    );
    let ansi16 = theme.with_mode(ColorMode::Ansi16);
    assert_eq!(
        [ansi16.style("border.focus"), ansi16.style("selection")],
        [focus.fg(Color::LightRed), selected.fg(Color::DarkGray)]
    );
}

#[test]
fn color_uses_the_theme_mode() {
    let theme = Theme::from_roles("t", "base16-ocean.dark", HashMap::new());
    let modes = [
        ColorMode::TrueColor,
        ColorMode::Ansi256,
        ColorMode::Ansi16,
        ColorMode::None,
    ];
    let got = modes.map(|m| theme.clone().with_mode(m).color((0x80, 0x80, 0x80)));
    let want = [
        Some(Color::Rgb(0x80, 0x80, 0x80)),
        Some(Color::Indexed(244)),
        Some(Color::DarkGray),
        None,
    ];
    assert_eq!(got, want);
}
