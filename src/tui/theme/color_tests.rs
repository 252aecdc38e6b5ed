//! Colour mode detection and downgrades, on known values.

use std::collections::HashMap;

use ratatui::style::{Color, Modifier, Style};

use super::*;

/// `detect` over a fixed set of variables.
fn detect_with(vars: &[(&str, &str)]) -> ColorMode {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    detect(&|key| vars.get(key).cloned())
}

#[test]
fn detect_reads_no_color_term_and_colorterm() {
    let cases: [(&[(&str, &str)], ColorMode); 15] = [
        (&[], ColorMode::Ansi16),
        (&[("NO_COLOR", "1")], ColorMode::None),
        (
            &[("NO_COLOR", "1"), ("COLORTERM", "truecolor")],
            ColorMode::None,
        ),
        // An empty NO_COLOR does not count (no-color.org).
        (
            &[("NO_COLOR", ""), ("TERM", "xterm-256color")],
            ColorMode::Ansi256,
        ),
        (&[("TERM", "dumb")], ColorMode::None),
        (
            &[("TERM", "dumb"), ("COLORTERM", "truecolor")],
            ColorMode::None,
        ),
        (
            &[("TERM", "xterm-256color"), ("COLORTERM", "truecolor")],
            ColorMode::TrueColor,
        ),
        (&[("COLORTERM", "24bit")], ColorMode::TrueColor),
        (&[("COLORTERM", "TrueColor")], ColorMode::TrueColor),
        (&[("TERM", "xterm-direct")], ColorMode::TrueColor),
        (&[("TERM", "xterm-256color")], ColorMode::Ansi256),
        (&[("TERM", "screen-256color")], ColorMode::Ansi256),
        (&[("TERM", "tmux-256color")], ColorMode::Ansi256),
        (
            &[("TERM", "xterm"), ("COLORTERM", "yes")],
            ColorMode::Ansi16,
        ),
        (&[("TERM", "linux")], ColorMode::Ansi16),
    ];
    let got: Vec<ColorMode> = cases.iter().map(|(vars, _)| detect_with(vars)).collect();
    let want: Vec<ColorMode> = cases.iter().map(|(_, mode)| *mode).collect();
    assert_eq!(got, want);
    let plain = ["screen", "vt100"].map(|t| detect_with(&[("TERM", t)]));
    assert_eq!(plain, [ColorMode::Ansi16; 2]);
}

#[test]
fn rgb_to_256_picks_the_nearest_cube_or_grey() {
    let cases = [
        ((255, 0, 0), 196),
        ((0, 0, 0), 16),
        ((255, 255, 255), 231),
        ((95, 135, 175), 67),
        ((137, 180, 250), 111),
        // Greys go to the ramp, not the cube's coarse greys.
        ((128, 128, 128), 244),
        ((8, 8, 8), 232),
        ((238, 238, 238), 255),
        ((30, 30, 30), 234),
        // A cube grey stays in the cube when it is exact.
        ((95, 95, 95), 59),
        // Nearly grey is still grey.
        ((100, 102, 98), 241),
    ];
    let got: Vec<u8> = cases.iter().map(|(rgb, _)| to_256(*rgb)).collect();
    let want: Vec<u8> = cases.iter().map(|(_, i)| *i).collect();
    assert_eq!(got, want);
}

#[test]
fn every_palette_colour_maps_back_to_its_index() {
    let got: Vec<u8> = (16..=255).map(|i| to_256(palette_rgb(i))).collect();
    let want: Vec<u8> = (16..=255).collect();
    assert_eq!(got, want);
}

#[test]
fn rgb_to_16_keeps_hue_family_and_lightness() {
    let cases = [
        ((255, 0, 0), Color::LightRed),
        ((205, 0, 0), Color::Red),
        ((128, 0, 0), Color::Red),
        ((0, 255, 0), Color::LightGreen),
        ((0, 0, 238), Color::Blue),
        ((255, 255, 0), Color::LightYellow),
        ((0, 205, 205), Color::Cyan),
        ((205, 0, 205), Color::Magenta),
        ((0, 0, 0), Color::Black),
        ((30, 30, 46), Color::Black),
        ((128, 128, 128), Color::DarkGray),
        ((192, 192, 192), Color::Gray),
        ((255, 255, 255), Color::White),
        // Pastel accents keep their hue instead of turning grey.
        ((137, 180, 250), Color::LightBlue),
        ((166, 227, 161), Color::LightGreen),
        ((243, 139, 168), Color::LightRed),
        ((203, 166, 247), Color::LightMagenta),
        ((250, 189, 47), Color::LightYellow),
        // Orange joins yellow, as ANSI yellow is often drawn brown.
        ((254, 128, 25), Color::LightYellow),
        // A blue-grey body text is grey.
        ((205, 214, 244), Color::Gray),
    ];
    let got: Vec<Color> = cases.iter().map(|(rgb, _)| to_16(*rgb)).collect();
    let want: Vec<Color> = cases.iter().map(|(_, c)| *c).collect();
    assert_eq!(got, want);
}

#[test]
fn adapt_follows_the_mode() {
    let red = Color::Rgb(255, 0, 0);
    let modes = [
        ColorMode::TrueColor,
        ColorMode::Ansi256,
        ColorMode::Ansi16,
        ColorMode::None,
    ];
    let got = modes.map(|m| adapt(red, m));
    let want = [
        Some(red),
        Some(Color::Indexed(196)),
        Some(Color::LightRed),
        None,
    ];
    assert_eq!(got, want);
    // Named colours are the terminal's own: kept until colour is off.
    assert_eq!(
        modes.map(|m| adapt(Color::Blue, m)),
        [
            Some(Color::Blue),
            Some(Color::Blue),
            Some(Color::Blue),
            None
        ]
    );
    // Palette indices: kept in 256 colours; system colours by name, others by hue in 16.
    let indexed = [9, 196, 244].map(|i| adapt(Color::Indexed(i), ColorMode::Ansi16));
    assert_eq!(
        indexed,
        [
            Some(Color::LightRed),
            Some(Color::LightRed),
            Some(Color::DarkGray)
        ]
    );
    assert_eq!(
        adapt(Color::Indexed(196), ColorMode::Ansi256),
        Some(Color::Indexed(196))
    );
}

#[test]
fn adapt_style_keeps_modifiers() {
    let style = Style::default()
        .fg(Color::Rgb(255, 0, 0))
        .bg(Color::Rgb(0, 0, 0))
        .underline_color(Color::Rgb(255, 255, 255))
        .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        .remove_modifier(Modifier::ITALIC);
    let bare = Style::default()
        .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        .remove_modifier(Modifier::ITALIC);
    assert_eq!(adapt_style(style, ColorMode::None), bare);
    assert_eq!(
        adapt_style(style, ColorMode::Ansi16),
        bare.fg(Color::LightRed).bg(Color::Black)
    );
    assert_eq!(
        adapt_style(style, ColorMode::Ansi256),
        bare.fg(Color::Indexed(196))
            .bg(Color::Indexed(16))
            .underline_color(Color::Indexed(231))
    );
    assert_eq!(adapt_style(style, ColorMode::TrueColor), style);
}
