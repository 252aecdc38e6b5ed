//! `config.example.toml` documents every key with its default value: the real loader reads it
//! back as the defaults, and a key of `Settings` missing from the file fails here.

use std::path::{Path, PathBuf};

use libre_assistant::config::{Origin, Overrides, Settings, load};
use libre_assistant::paths::Dirs;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")
}

/// Directories under `root` and flags that read the example file.
fn reading_the_example(root: &Path) -> (Dirs, Overrides) {
    let dirs = Dirs {
        config: root.join("config"),
        data: root.join("data"),
        state: root.join("state"),
        cache: root.join("cache"),
    };
    let flags = Overrides {
        config_path: Some(example()),
        ..Overrides::default()
    };
    (dirs, flags)
}

/// Every key as (section, name); the optional keys are set so that they serialize.
fn every_key() -> Vec<(Option<String>, String)> {
    let mut full = Settings::default();
    full.generation.seed = Some(1);
    full.engine.threads = Some(1);
    full.engine.chat_template = Some("chatml".into());
    full.engine.draft_model = Some("qwen2.5-coder-0.5b-instruct".into());
    full.plugins.sandbox = Some("required".into());
    let table = toml::Table::try_from(&full).unwrap();
    let mut keys = Vec::new();
    for (key, value) in table {
        match value {
            toml::Value::Table(inner) => {
                keys.extend(inner.keys().map(|k| (Some(key.clone()), k.clone())));
            }
            _ => keys.push((None, key)),
        }
    }
    keys
}

#[test]
fn the_example_reads_back_as_the_defaults() {
    let root = tempfile::tempdir().unwrap();
    let (dirs, flags) = reading_the_example(root.path());
    let effective = load(&dirs, &flags, &|_| None).unwrap();
    assert_eq!(effective.settings, Settings::default());
    assert_eq!(effective.file, Some(example()));
    let from_file = effective
        .origins
        .values()
        .filter(|o| matches!(o, Origin::File(_)))
        .count();
    assert_eq!(
        from_file,
        effective.origins.len() - 5,
        "all but the 5 optional keys are set"
    );
}

#[test]
fn the_example_documents_every_key_with_a_comment_above_it() {
    let text = std::fs::read_to_string(example()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut missing = Vec::new();
    for (section, name) in every_key() {
        let mut current: Option<String> = None;
        let mut found = false;
        for (i, line) in lines.iter().enumerate() {
            if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                current = Some(header.to_owned());
                continue;
            }
            let key_line = line.trim_start_matches("# ");
            let documented = i > 0 && lines[i - 1].starts_with('#');
            if current == section && key_line.starts_with(&format!("{name} = ")) && documented {
                found = true;
            }
        }
        if !found {
            missing.push(format!(
                "{}{name}",
                section.map(|s| format!("[{s}] ")).unwrap_or_default()
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "undocumented keys in config.example.toml: {missing:?}"
    );
}

#[test]
fn the_example_tools_section_shows_in_config_output() {
    let root = tempfile::tempdir().unwrap();
    let (dirs, flags) = reading_the_example(root.path());
    let env = |var: &str| (var == "LIBRE_ASSISTANT_TOOLS_ALLOW").then(|| "time/*".to_owned());
    let shown = load(&dirs, &flags, &env).unwrap().render();
    let line = |key: &str| {
        shown
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{key} in {shown}"))
            .to_owned()
    };
    assert!(line("tools.allow = [\"time/*\"]").ends_with("# from env LIBRE_ASSISTANT_TOOLS_ALLOW"));
    assert!(line("tools.max_rounds = 2").ends_with("# from file"));
    assert!(line("tools.grammar = true").ends_with("# from file"));
}
