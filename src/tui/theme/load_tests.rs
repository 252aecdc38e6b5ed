//! Loading themes: built-ins, user overrides, inheritance, and every kind of broken file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use tempfile::TempDir;

use super::*;
use crate::tui::theme::parse::SYNTAX_THEMES;
use crate::tui::theme::roles::ROLES;

/// Roles every built-in must set itself rather than leave to fallback.
const MAIN_ROLES: [&str; 8] = [
    "text",
    "chat.user",
    "chat.assistant",
    "border",
    "border.focus",
    "error",
    "markdown.code_block",
    "selection",
];

/// A user theme directory holding `files` (name, text).
fn user_dir(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write theme");
    }
    dir
}

fn file(dir: &TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// The built-in default as `load` returns it in true colour.
fn default() -> Theme {
    load(
        DEFAULT_THEME,
        Path::new("/nonexistent"),
        ColorMode::TrueColor,
    )
    .theme
}

/// `load` in true colour.
fn load_true(name: &str, dir: &TempDir) -> Loaded {
    load(name, dir.path(), ColorMode::TrueColor)
}

#[test]
fn every_built_in_loads_cleanly_with_the_main_roles() {
    let none = user_dir(&[]);
    for (name, _) in BUILT_IN {
        let loaded = load_true(name, &none);
        assert_eq!(loaded.warnings, Vec::<String>::new(), "{name}");
        assert_eq!(loaded.theme.name(), name);
        assert!(SYNTAX_THEMES.contains(&loaded.theme.syntax_theme()));
        let missing: Vec<&str> = MAIN_ROLES
            .into_iter()
            .filter(|r| !loaded.theme.roles.contains_key(*r))
            .collect();
        assert_eq!(missing, Vec::<&str>::new(), "{name}");
    }
}

#[test]
fn every_built_in_sets_every_role_but_the_lower_headings() {
    let none = user_dir(&[]);
    for (name, _) in BUILT_IN {
        let theme = load_true(name, &none).theme;
        let mut set: Vec<&str> = theme.roles.keys().map(String::as_str).collect();
        set.sort_unstable();
        let mut want: Vec<&str> = ROLES
            .iter()
            .copied()
            .filter(|r| !r.starts_with("markdown.heading.") || *r == "markdown.heading.1")
            .collect();
        want.sort_unstable();
        assert_eq!(set, want, "{name}");
    }
}

#[test]
fn built_ins_keep_focus_and_selection_visible_without_colour() {
    let none = user_dir(&[]);
    for (name, _) in BUILT_IN {
        let theme = load(name, none.path(), ColorMode::None).theme;
        let colours: Vec<&String> = theme
            .roles
            .iter()
            .filter(|(_, s)| s.fg.is_some() || s.bg.is_some() || s.underline_color.is_some())
            .map(|(role, _)| role)
            .collect();
        assert_eq!(colours, Vec::<&String>::new(), "{name}");
        let pairs = [
            ("border.focus", "border"),
            ("title.focus", "title"),
            ("tab.active", "tab"),
            ("popup.selected", "popup"),
            ("selection", "text"),
            ("composer.placeholder", "composer"),
        ];
        for (marked, plain) in pairs {
            assert_ne!(theme.style(marked), theme.style(plain), "{name}: {marked}");
        }
        let reversed = ["selection", "popup.selected", "tab.active"]
            .map(|r| theme.style(r).add_modifier.contains(Modifier::REVERSED));
        assert_eq!(reversed, [true; 3], "{name}");
    }
}

#[test]
fn built_in_syntax_themes_exist_in_syntect() {
    let set = syntect::highlighting::ThemeSet::load_defaults();
    let missing: Vec<&str> = SYNTAX_THEMES
        .iter()
        .copied()
        .filter(|name| !set.themes.contains_key(*name))
        .collect();
    assert_eq!(missing, Vec::<&str>::new());
}

#[test]
fn the_default_theme_sets_no_background() {
    let theme = default();
    let backgrounds: Vec<&String> = theme
        .roles
        .iter()
        .filter(|(_, s)| s.bg.is_some())
        .map(|(role, _)| role)
        .collect();
    assert_eq!(backgrounds, Vec::<&String>::new());
}

#[test]
fn a_user_theme_overrides_the_built_in_of_its_name() {
    let dir = user_dir(&[("dark.toml", "[roles]\ntext = \"#010203\"\n")]);
    let loaded = load_true("dark", &dir);
    let roles = HashMap::from([("text".to_string(), Style::new().fg(Color::Rgb(1, 2, 3)))]);
    let want = Theme::from_roles("dark", "base16-ocean.dark", roles);
    assert_eq!(
        loaded,
        Loaded {
            theme: want,
            warnings: vec![]
        }
    );
}

#[test]
fn a_user_theme_inheriting_its_own_name_starts_from_the_built_in() {
    let text = "inherits = \"dark\"\n[palette]\nblue = \"#0000ff\"\n";
    let dir = user_dir(&[("dark.toml", text)]);
    let loaded = load_true("dark", &dir);
    assert_eq!(loaded.warnings, Vec::<String>::new());
    let mut want = default();
    let blue = Color::Rgb(0, 0, 255);
    for style in want.roles.values_mut() {
        if style.fg == Some(Color::Rgb(0x61, 0xaf, 0xef)) {
            style.fg = Some(blue);
        }
    }
    assert_eq!(loaded.theme, want);
    assert_eq!(loaded.theme.style("border.focus").fg, Some(blue));
}

#[test]
fn inherits_chains_merge_palette_roles_and_syntax() {
    let base = "inherits = \"high-contrast\"\nsyntax = \"Solarized (dark)\"\n\
                [palette]\naccent = \"#112233\"\n[roles]\nborder = \"accent\"\n";
    let child = "inherits = \"base\"\n[palette]\naccent = \"#445566\"\n\
                 [roles]\n\"chat.user\" = { fg = \"accent\", modifiers = [\"italic\"] }\n";
    let dir = user_dir(&[("base.toml", base), ("child.toml", child)]);
    let loaded = load_true("child", &dir);
    assert_eq!(loaded.warnings, Vec::<String>::new());
    let mut want = load_true("high-contrast", &dir).theme;
    want.name = "child".into();
    want.syntax = "Solarized (dark)".into();
    let accent = Style::new().fg(Color::Rgb(0x44, 0x55, 0x66));
    want.roles.insert("border".into(), accent);
    want.roles.insert("chat.user".into(), accent.italic());
    assert_eq!(loaded.theme, want);
}

#[test]
fn an_inherits_cycle_is_a_warning_and_the_default() {
    let dir = user_dir(&[
        ("a.toml", "inherits = \"b\"\n"),
        ("b.toml", "\ninherits = \"a\"\n"),
    ]);
    let loaded = load_true("a", &dir);
    let b = file(&dir, "b.toml").display().to_string();
    let warning = format!("{b}:2:12: inherits \"a\": a cycle: a → b → a; using dark");
    assert_eq!(
        loaded,
        Loaded {
            theme: default(),
            warnings: vec![warning]
        }
    );
}

#[test]
fn an_unknown_name_lists_what_there_is() {
    let dir = user_dir(&[("mine.toml", ""), ("dark.toml", ""), ("notes.txt", "")]);
    let loaded = load_true("nope", &dir);
    let warning = "no theme named \"nope\" (available: catppuccin-mocha, dark, gruvbox-dark, \
                   high-contrast, light, mine); using dark";
    assert_eq!(
        loaded,
        Loaded {
            theme: default(),
            warnings: vec![warning.to_string()]
        }
    );
    let names = available(dir.path());
    let want = [
        "catppuccin-mocha",
        "dark",
        "gruvbox-dark",
        "high-contrast",
        "light",
        "mine",
    ];
    assert_eq!(names, want);
}

#[test]
fn names_that_are_not_plain_file_stems_are_unknown() {
    let dir = user_dir(&[]);
    for name in ["", "../dark", ".hidden", "a/b"] {
        let loaded = load_true(name, &dir);
        assert_eq!(loaded.theme, default(), "{name:?}");
        assert_eq!(loaded.warnings.len(), 1, "{name:?}");
    }
}

#[test]
fn an_unknown_inherits_names_the_line() {
    let dir = user_dir(&[("t.toml", "name = \"t\"\ninherits = \"drak\"\n")]);
    let loaded = load_true("t", &dir);
    let t = file(&dir, "t.toml").display().to_string();
    let warning = format!(
        "{t}:2:12: inherits \"drak\": no theme named \"drak\" (available: catppuccin-mocha, \
         dark, gruvbox-dark, high-contrast, light, t); using dark"
    );
    assert_eq!(
        loaded,
        Loaded {
            theme: default(),
            warnings: vec![warning]
        }
    );
}

#[test]
fn unknown_roles_are_warnings_and_the_rest_loads() {
    let text = "[roles]\n\"chat.usr\" = \"red\"\n\"chat.user\" = \"red\"\nwidget = \"blue\"\n";
    let dir = user_dir(&[("t.toml", text)]);
    let loaded = load_true("t", &dir);
    let t = file(&dir, "t.toml").display().to_string();
    let roles = HashMap::from([("chat.user".to_string(), Style::new().fg(Color::Red))]);
    let want = Loaded {
        theme: Theme::from_roles("t", "base16-ocean.dark", roles),
        warnings: vec![
            format!("{t}:2:1: unknown role \"chat.usr\" ignored (did you mean \"chat.user\"?)"),
            format!("{t}:4:1: unknown role \"widget\" ignored"),
        ],
    };
    assert_eq!(loaded, want);
}

#[test]
fn dotted_keys_and_nested_tables_are_roles_too() {
    let text = "[roles]\nchat.user = \"red\"\nmarkdown.heading.1 = \"blue\"\n\
                [roles.status]\nfg = \"green\"\nbusy = { modifiers = [\"bold\"] }\n";
    let dir = user_dir(&[("t.toml", text)]);
    let loaded = load_true("t", &dir);
    let roles = HashMap::from([
        ("chat.user".to_string(), Style::new().fg(Color::Red)),
        (
            "markdown.heading.1".to_string(),
            Style::new().fg(Color::Blue),
        ),
        ("status".to_string(), Style::new().fg(Color::Green)),
        ("status.busy".to_string(), Style::new().bold()),
    ]);
    let theme = Theme::from_roles("t", "base16-ocean.dark", roles);
    assert_eq!(
        loaded,
        Loaded {
            theme,
            warnings: vec![]
        }
    );
}

#[test]
fn every_colour_form_resolves() {
    let text = "[palette]\nred = \"#ff8080\"\nsky = \"lightblue\"\nidx = 99\n[roles]\n\
                text = { fg = \"red\", bg = \"sky\", underline_color = \"idx\" }\n\
                border = { fg = \"Dark_Gray\", bg = 17, underline_color = \"#0A0b0C\" }\n\
                title = { fg = \"reset\", modifiers = [\"dim\", \"crossed_out\", \"hidden\"] }\n";
    let dir = user_dir(&[("t.toml", text)]);
    let loaded = load_true("t", &dir);
    let roles = HashMap::from([
        (
            "text".to_string(),
            Style::new()
                .fg(Color::Rgb(0xff, 0x80, 0x80))
                .bg(Color::LightBlue)
                .underline_color(Color::Indexed(99)),
        ),
        (
            "border".to_string(),
            Style::new()
                .fg(Color::DarkGray)
                .bg(Color::Indexed(17))
                .underline_color(Color::Rgb(10, 11, 12)),
        ),
        (
            "title".to_string(),
            Style::new()
                .fg(Color::Reset)
                .add_modifier(Modifier::DIM | Modifier::CROSSED_OUT | Modifier::HIDDEN),
        ),
    ]);
    let theme = Theme::from_roles("t", "base16-ocean.dark", roles);
    assert_eq!(
        loaded,
        Loaded {
            theme,
            warnings: vec![]
        }
    );
}

#[test]
fn the_mode_is_applied_to_user_themes() {
    let dir = user_dir(&[(
        "t.toml",
        "[roles]\ntext = { fg = \"#ff0000\", modifiers = [\"bold\"] }\n",
    )]);
    let got = [ColorMode::Ansi256, ColorMode::Ansi16, ColorMode::None]
        .map(|m| load("t", dir.path(), m).theme.style("text"));
    let bold = Style::new().bold();
    assert_eq!(
        got,
        [bold.fg(Color::Indexed(196)), bold.fg(Color::LightRed), bold]
    );
}

/// Each broken file, and the warning it gives after `path:`.
const BROKEN: [(&str, &str); 15] = [
    (
        "roles = [\n",
        "1:10: invalid TOML: unclosed array, expected `]`",
    ),
    (
        "[roles]\n\"text\" = \"red\n",
        "2:14: invalid TOML: invalid basic string, expected `\"`",
    ),
    (
        "colour = 1\n",
        "1:1: unknown key \"colour\"; expected one of name, inherits, syntax, palette, roles",
    ),
    ("name = 5\n", "1:8: name must be a string, found an integer"),
    (
        "roles = 5\n",
        "1:9: roles must be a table, found an integer",
    ),
    (
        "syntax = \"monokai\"\n",
        "1:10: unknown syntax theme \"monokai\"; expected one of base16-ocean.dark, base16-eighties.dark, base16-mocha.dark, base16-ocean.light, InspiredGitHub, Solarized (dark), Solarized (light)",
    ),
    (
        "[palette]\nx = \"#12345\"\n",
        "2:5: palette colour \"x\": invalid colour \"#12345\"; expected \"#rrggbb\"",
    ),
    (
        "[palette]\nx = \"y\"\n",
        "2:5: palette colour \"x\": unknown colour \"y\"; a palette colour is \"#rrggbb\", a named ANSI colour or 0-255",
    ),
    (
        "[roles]\ntext = \"bleu\"\n",
        "2:8: role \"text\": unknown colour \"bleu\"; not in [palette] and not a named ANSI colour",
    ),
    (
        "[roles]\ntext = 256\n",
        "2:8: role \"text\": colour index 256 is out of range; expected 0-255",
    ),
    (
        "[roles]\ntext = 1.5\n",
        "2:8: role \"text\" must be a colour or a table of fg, bg, underline_color, modifiers, found a float",
    ),
    (
        "[roles]\ntext = { fg = true }\n",
        "2:15: fg of role \"text\" must be a colour (a string or 0-255), found a boolean",
    ),
    (
        "[roles]\ntext = { modifiers = \"bold\" }\n",
        "2:22: modifiers of role \"text\" must be an array of strings, found a string",
    ),
    (
        "[roles]\ntext = { modifiers = [\"bold\", \"blink\"] }\n",
        "2:31: modifiers of role \"text\": unknown modifier \"blink\"; expected one of bold, dim, italic, underlined, slow_blink, rapid_blink, reversed, hidden, crossed_out",
    ),
    (
        "[roles]\ntext = { modifiers = [1] }\n",
        "2:23: modifiers of role \"text\" must be a string, found an integer",
    ),
];

#[test]
fn a_broken_file_is_one_warning_with_its_place_and_the_default() {
    for (text, problem) in BROKEN {
        let dir = user_dir(&[("t.toml", text)]);
        let loaded = load_true("t", &dir);
        let t = file(&dir, "t.toml").display().to_string();
        let want = Loaded {
            theme: default(),
            warnings: vec![format!("{t}:{problem}; using dark")],
        };
        assert_eq!(loaded, want, "{text:?}");
    }
}

#[test]
fn an_unreadable_file_is_a_warning() {
    let dir = user_dir(&[]);
    std::fs::create_dir(file(&dir, "t.toml")).expect("dir");
    let loaded = load_true("t", &dir);
    let t = file(&dir, "t.toml").display().to_string();
    assert_eq!(loaded.theme, default());
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].starts_with(&format!("{t}: cannot read the theme file: ")));
}

#[test]
fn a_name_that_differs_from_the_file_is_a_warning() {
    let dir = user_dir(&[("mine.toml", "name = \"yours\"\ninherits = \"light\"\n")]);
    let loaded = load_true("mine", &dir);
    let mine = file(&dir, "mine.toml").display().to_string();
    let warning = format!(
        "{mine}:1:8: name \"yours\" differs from the file name; the theme is called \"mine\""
    );
    assert_eq!(loaded.warnings, [warning]);
    assert_eq!(loaded.theme.name(), "mine");
    assert_eq!(loaded.theme.roles, load_true("light", &dir).theme.roles);
}

#[test]
fn warnings_are_single_lines_even_for_odd_paths() {
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path().join("odd\nname");
    std::fs::create_dir(&dir).expect("dir");
    std::fs::write(dir.join("t.toml"), "roles = [\n\n").expect("write");
    let loaded = load("t", &dir, ColorMode::TrueColor);
    assert_eq!(loaded.warnings.len(), 1);
    assert!(
        !loaded.warnings[0].contains(['\n', '\r']),
        "{:?}",
        loaded.warnings
    );
}
