//! How many colours the terminal shows, and how a theme's colours are brought down to that:
//! 24-bit colours become the nearest of xterm's 256 (the 6×6×6 cube or the 24 greys), or one of
//! the 16 ANSI colours by hue family and lightness; under `NO_COLOR` every colour goes and only
//! modifiers (bold, reversed, …) remain. Named ANSI colours are the terminal's own and are kept
//! in every mode but `None`.

use ratatui::style::{Color, Style};

/// The colours a terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// 24-bit colour (`COLORTERM=truecolor`).
    TrueColor,
    /// The xterm 256-colour palette.
    Ansi256,
    /// The 16 ANSI colours, as the terminal's own palette draws them.
    Ansi16,
    /// No colour at all (`NO_COLOR`, `TERM=dumb`): modifiers only.
    None,
}

/// The colour mode the environment asks for; `env` looks up a variable
/// (pass `|k| std::env::var(k).ok()`).
///
/// `NO_COLOR` set and non-empty (<https://no-color.org>) or `TERM=dumb` → `None`;
/// `COLORTERM` `truecolor`/`24bit` or a `*-direct` `TERM` → `TrueColor`; a `TERM` containing
/// `256color` → `Ansi256`; anything else, unset included → `Ansi16`.
pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> ColorMode {
    if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return ColorMode::None;
    }
    let term = env("TERM").unwrap_or_default();
    if term == "dumb" {
        return ColorMode::None;
    }
    let colorterm = env("COLORTERM").unwrap_or_default().to_ascii_lowercase();
    if colorterm == "truecolor" || colorterm == "24bit" || term.ends_with("-direct") {
        ColorMode::TrueColor
    } else if term.contains("256color") {
        ColorMode::Ansi256
    } else {
        ColorMode::Ansi16
    }
}

/// `color` as `mode` can show it; `None` under [`ColorMode::None`].
pub fn adapt(color: Color, mode: ColorMode) -> Option<Color> {
    match (mode, color) {
        (ColorMode::None, _) => None,
        (ColorMode::TrueColor, c) => Some(c),
        (ColorMode::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(to_256((r, g, b)))),
        (ColorMode::Ansi16, Color::Rgb(r, g, b)) => Some(to_16((r, g, b))),
        (ColorMode::Ansi16, Color::Indexed(i)) => Some(indexed_to_16(i)),
        (ColorMode::Ansi256 | ColorMode::Ansi16, c) => Some(c),
    }
}

/// `style` with every colour adapted to `mode`; modifiers are kept as they are.
///
/// The underline colour goes in 16-colour mode too: it is an extension (SGR 58) that such
/// terminals do not have.
pub fn adapt_style(style: Style, mode: ColorMode) -> Style {
    Style {
        fg: style.fg.and_then(|c| adapt(c, mode)),
        bg: style.bg.and_then(|c| adapt(c, mode)),
        underline_color: match mode {
            ColorMode::Ansi16 => None,
            _ => style.underline_color.and_then(|c| adapt(c, mode)),
        },
        ..style
    }
}

/// The channel values of the 6×6×6 cube (indices 16–231).
const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The nearest colour of xterm's 256-colour palette, from the cube or the grey ramp (232–255).
///
/// The 16 system colours (0–15) are never chosen: terminals redefine them.
pub fn to_256(rgb: (u8, u8, u8)) -> u8 {
    let level = |v: u8| {
        (0..6)
            .min_by_key(|&i| CUBE[i].abs_diff(v))
            .unwrap_or_default()
    };
    let (r, g, b) = (level(rgb.0), level(rgb.1), level(rgb.2));
    let cube = (16 + 36 * r + 6 * g + b) as u8;
    let average = (u32::from(rgb.0) + u32::from(rgb.1) + u32::from(rgb.2)) / 3;
    let step = ((average.saturating_sub(3)) / 10).min(23) as u8;
    let grey = 232 + step;
    if distance(rgb, palette_rgb(grey)) < distance(rgb, palette_rgb(cube)) {
        grey
    } else {
        cube
    }
}

/// The RGB value xterm gives a palette index of 16 or more (cube or grey ramp); the system
/// colours 0–15 get xterm's defaults.
pub fn palette_rgb(index: u8) -> (u8, u8, u8) {
    match index {
        0..=15 => SYSTEM[usize::from(index)],
        16..=231 => {
            let i = usize::from(index - 16);
            (CUBE[i / 36], CUBE[i / 6 % 6], CUBE[i % 6])
        }
        232..=255 => {
            let v = 8 + 10 * (index - 232);
            (v, v, v)
        }
    }
}

/// xterm's default values for the 16 system colours.
const SYSTEM: [(u8, u8, u8); 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

/// The 16 ANSI colours in index order.
const ANSI: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

/// A 256-palette index as one of the 16 ANSI colours.
fn indexed_to_16(index: u8) -> Color {
    match ANSI.get(usize::from(index)) {
        Some(c) => *c,
        None => to_16(palette_rgb(index)),
    }
}

/// The ANSI colour of the same hue family and lightness.
///
/// Plain nearest-RGB matching against a reference palette turns every pastel (most themes'
/// accents) into grey, since terminals' ANSI colours are fully saturated; matching the hue
/// family first keeps a blue accent blue. Colours with little chroma become one of the four
/// greys; the others take the light variant when their HSL lightness is at least one half.
pub fn to_16((r, g, b): (u8, u8, u8)) -> Color {
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let chroma = max - min;
    let lightness2 = u16::from(max) + u16::from(min);
    if max < 40 {
        return Color::Black;
    }
    if chroma < 32 || u16::from(chroma) * 100 < 18 * u16::from(max) {
        return match lightness2 {
            0..96 => Color::Black,
            96..288 => Color::DarkGray,
            288..464 => Color::Gray,
            _ => Color::White,
        };
    }
    let light = lightness2 >= 255;
    let pick = |dark: Color, bright: Color| if light { bright } else { dark };
    match hue((r, g, b)) {
        20..75 => pick(Color::Yellow, Color::LightYellow),
        75..150 => pick(Color::Green, Color::LightGreen),
        150..200 => pick(Color::Cyan, Color::LightCyan),
        200..260 => pick(Color::Blue, Color::LightBlue),
        260..340 => pick(Color::Magenta, Color::LightMagenta),
        _ => pick(Color::Red, Color::LightRed),
    }
}

/// The HSV hue in whole degrees, 0–359 (0 for greys).
fn hue((r, g, b): (u8, u8, u8)) -> u16 {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let chroma = max - min;
    if chroma == 0 {
        return 0;
    }
    // Sixths of the circle, scaled by 60 to whole degrees.
    let degrees = if max == r {
        60 * (g - b) / chroma
    } else if max == g {
        60 * (b - r) / chroma + 120
    } else {
        60 * (r - g) / chroma + 240
    };
    degrees.rem_euclid(360) as u16
}

/// The "redmean" weighted distance (squared): cheap, and closer to the eye than plain RGB.
fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let mean = (u32::from(a.0) + u32::from(b.0)) / 2;
    let dr = u32::from(a.0.abs_diff(b.0));
    let dg = u32::from(a.1.abs_diff(b.1));
    let db = u32::from(a.2.abs_diff(b.2));
    (((512 + mean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - mean) * db * db) >> 8)
}

#[cfg(test)]
#[path = "color_tests.rs"]
mod tests;
