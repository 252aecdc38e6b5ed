//! Layering, origins, rendering, and the key list staying in step with `Settings`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::field::Field;
use super::*;
use crate::paths::Dirs;

pub(super) fn dirs(root: &Path) -> Dirs {
    Dirs {
        config: root.join("config"),
        data: root.join("data"),
        state: root.join("state"),
        cache: root.join("cache"),
    }
}

/// A temp root whose default config file holds `text`.
pub(super) fn with_file(text: &str) -> (tempfile::TempDir, Dirs, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dirs = dirs(root.path());
    std::fs::create_dir_all(&dirs.config).unwrap();
    let path = dirs.config_file();
    std::fs::write(&path, text).unwrap();
    (root, dirs, path)
}

pub(super) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

pub(super) fn no_env(_: &str) -> Option<String> {
    None
}

pub(super) fn default_origins() -> BTreeMap<String, Origin> {
    Field::ALL
        .iter()
        .map(|f| (f.key().to_owned(), Origin::Default))
        .collect()
}

pub(super) fn file_error(text: &str) -> (String, PathBuf) {
    let (_root, dirs, path) = with_file(text);
    let err = load(&dirs, &Overrides::default(), &no_env).unwrap_err();
    (err.to_string(), path)
}

#[test]
fn no_file_no_env_no_flags_gives_the_defaults() {
    let root = tempfile::tempdir().unwrap();
    let got = load(&dirs(root.path()), &Overrides::default(), &no_env).unwrap();
    let want = Effective {
        settings: Settings::default(),
        origins: default_origins(),
        file: None,
    };
    assert_eq!(got, want);
}

#[test]
fn flags_beat_env_beat_file_beat_defaults() {
    let text =
        "[generation]\ntemperature = 0.1\ntop_p = 0.5\ntop_k = 10\n[engine]\ncontext = 1024\n";
    let (_root, dirs, path) = with_file(text);
    let env = env_of(&[
        ("LIBRE_ASSISTANT_TEMPERATURE", "0.2"),
        ("LIBRE_ASSISTANT_TOP_P", "0.6"),
        ("LIBRE_ASSISTANT_AUTO_PULL", "false"),
        ("LIBRE_ASSISTANT_MODEL", ""),
    ]);
    let flags = Overrides {
        temperature: Some(0.3),
        seed: Some(7),
        ..Overrides::default()
    };
    let got = load(&dirs, &flags, &env).unwrap();

    let mut settings = Settings {
        generation: Generation {
            temperature: 0.3,
            top_p: 0.6,
            top_k: 10,
            seed: Some(7),
            ..Generation::default()
        },
        ..Settings::default()
    };
    settings.engine.context = 1024;
    settings.models.auto_pull = false;
    let mut origins = default_origins();
    let file = Origin::File(path.clone());
    origins.insert(
        "generation.temperature".into(),
        Origin::Flag("--temperature".into()),
    );
    origins.insert("generation.seed".into(), Origin::Flag("--seed".into()));
    origins.insert(
        "generation.top_p".into(),
        Origin::Env("LIBRE_ASSISTANT_TOP_P".into()),
    );
    origins.insert(
        "models.auto_pull".into(),
        Origin::Env("LIBRE_ASSISTANT_AUTO_PULL".into()),
    );
    origins.insert("generation.top_k".into(), file.clone());
    origins.insert("engine.context".into(), file);
    assert_eq!(
        got,
        Effective {
            settings,
            origins,
            file: Some(path)
        }
    );
}

#[test]
fn ui_theme_is_layered_flag_over_env_over_file_over_default() {
    let (_root, file_dirs, path) = with_file("[ui]\ntheme = \"light\"\nmouse = true\n");
    let env = env_of(&[("LIBRE_ASSISTANT_THEME", "gruvbox-dark")]);
    let flags = Overrides {
        theme: Some("catppuccin-mocha".into()),
        ..Overrides::default()
    };
    let theme = |flags: &Overrides, env: &dyn Fn(&str) -> Option<String>| {
        let got = load(&file_dirs, flags, env).unwrap();
        (got.settings.ui.theme, got.origins["ui.theme"].clone())
    };

    assert_eq!(
        theme(&flags, &env),
        ("catppuccin-mocha".into(), Origin::Flag("--theme".into()))
    );
    assert_eq!(
        theme(&Overrides::default(), &env),
        (
            "gruvbox-dark".into(),
            Origin::Env("LIBRE_ASSISTANT_THEME".into())
        )
    );
    assert_eq!(
        theme(&Overrides::default(), &no_env),
        ("light".into(), Origin::File(path.clone()))
    );
    let root = tempfile::tempdir().unwrap();
    let got = load(&dirs(root.path()), &Overrides::default(), &no_env).unwrap();
    assert_eq!(
        (got.settings.ui.theme.as_str(), &got.origins["ui.theme"]),
        ("dark", &Origin::Default)
    );

    let got = load(&file_dirs, &Overrides::default(), &no_env).unwrap();
    assert_eq!(
        (got.settings.ui.mouse, got.settings.ui.side_panel),
        (true, true)
    );
    assert_eq!(got.origins["ui.mouse"], Origin::File(path));
    assert_eq!(got.origins["ui.side_panel"], Origin::Default);
}

#[test]
fn every_env_var_sets_its_key() {
    let env = env_of(&[
        ("LIBRE_ASSISTANT_MODEL", "qwen"),
        ("LIBRE_ASSISTANT_SYSTEM_PROMPT", "Be terse."),
        ("LIBRE_ASSISTANT_TEMPERATURE", "0"),
        ("LIBRE_ASSISTANT_TOP_P", "1"),
        ("LIBRE_ASSISTANT_TOP_K", "0"),
        ("LIBRE_ASSISTANT_MAX_TOKENS", "16"),
        ("LIBRE_ASSISTANT_SEED", "42"),
        ("LIBRE_ASSISTANT_CONTEXT", "64"),
        ("LIBRE_ASSISTANT_THREADS", "3"),
        ("LIBRE_ASSISTANT_N_GPU_LAYERS", "99"),
        ("LIBRE_ASSISTANT_CHAT_TEMPLATE", "chatml"),
        ("LIBRE_ASSISTANT_BATCH", "32"),
        ("LIBRE_ASSISTANT_PROMPT_CACHE", "off"),
        ("LIBRE_ASSISTANT_PROMPT_CACHE_MB", "64"),
        ("LIBRE_ASSISTANT_PROMPT_LOOKUP", "on"),
        ("LIBRE_ASSISTANT_DRAFT_MODEL", "qwen2.5-coder-0.5b-instruct"),
        ("LIBRE_ASSISTANT_FLASH_ATTENTION", "on"),
        ("LIBRE_ASSISTANT_KV_CACHE_TYPE", "q8_0"),
        ("LIBRE_ASSISTANT_MMAP", "yes"),
        ("LIBRE_ASSISTANT_AUTO_PULL", "no"),
        ("LIBRE_ASSISTANT_LOG_LEVEL", "TRACE"),
        ("LIBRE_ASSISTANT_THEME", "light"),
        ("LIBRE_ASSISTANT_MOUSE", "on"),
        ("LIBRE_ASSISTANT_SIDE_PANEL", "0"),
        (
            "LIBRE_ASSISTANT_TOOLS_ALLOW",
            "time/current_time, fs/* ,,web",
        ),
        ("LIBRE_ASSISTANT_TOOLS_MAX_ROUNDS", "16"),
        ("LIBRE_ASSISTANT_TOOLS_GRAMMAR", "off"),
        ("LIBRE_ASSISTANT_TOOLS_BUDGET", "900"),
        ("LIBRE_ASSISTANT_TOOLS_PLUGIN_BUDGET", "300"),
        ("LIBRE_ASSISTANT_TOOLS_GENERIC_FORMAT", "yes"),
        ("LIBRE_ASSISTANT_TOOLS_ONLY_RELEVANT", "no"),
        ("LIBRE_ASSISTANT_TOOLS_CALL_MAX_TOKENS", "64"),
        ("LIBRE_ASSISTANT_PLUGINS_SANDBOX", "best-effort"),
        ("LIBRE_ASSISTANT_RPC", "10.0.0.2:50052, [::1]:50053"),
        ("LIBRE_ASSISTANT_SESSIONS_RECORD", "no"),
    ]);
    let root = tempfile::tempdir().unwrap();
    let got = load(&dirs(root.path()), &Overrides::default(), &env).unwrap();
    let want = Settings {
        model: "qwen".into(),
        system_prompt: "Be terse.".into(),
        generation: Generation {
            temperature: 0.0,
            top_p: 1.0,
            top_k: 0,
            max_tokens: 16,
            seed: Some(42),
            stop: Vec::new(),
        },
        engine: Engine {
            context: 64,
            threads: Some(3),
            n_gpu_layers: 99,
            chat_template: Some("chatml".into()),
            batch: 32,
            prompt_cache: false,
            prompt_cache_mb: 64,
            prompt_lookup: true,
            draft_model: Some("qwen2.5-coder-0.5b-instruct".into()),
            flash_attention: "on".into(),
            kv_cache_type: "q8_0".into(),
            mmap: true,
            rpc: vec!["10.0.0.2:50052".into(), "[::1]:50053".into()],
        },
        models: Models {
            pip: Models::default().pip,
            auto_pull: false,
        },
        log: Log {
            level: "trace".into(),
        },
        ui: Ui {
            theme: "light".into(),
            mouse: true,
            side_panel: false,
        },
        tools: Tools {
            allow: vec!["time/current_time".into(), "fs/*".into(), "web".into()],
            max_rounds: 16,
            grammar: false,
            budget: 900,
            plugin_budget: 300,
            generic_format: true,
            only_relevant: false,
            call_max_tokens: 64,
        },
        plugins: Plugins {
            sandbox: Some("best-effort".into()),
        },
        sessions: Sessions { record: false },
        backends: Default::default(),
    };
    assert_eq!(got.settings, want);
    let from_env: Vec<&str> = got
        .origins
        .iter()
        .filter(|(_, o)| matches!(o, Origin::Env(_)))
        .map(|(k, _)| k.as_str())
        .collect();
    // Lists of free text have no environment variable.
    let mut all_but_lists: Vec<&str> = Field::ALL
        .iter()
        .map(|f| f.key())
        .filter(|k| *k != "models.pip" && *k != "generation.stop")
        .collect();
    all_but_lists.sort();
    assert_eq!(from_env, all_but_lists);
}

#[test]
fn config_path_comes_from_flag_then_env_then_dirs() {
    let (root, dirs, default_path) = with_file("model = \"default-file\"\n");
    let env_path = root.path().join("env.toml");
    let flag_path = root.path().join("flag.toml");
    std::fs::write(&env_path, "model = \"env-file\"\n").unwrap();
    std::fs::write(&flag_path, "model = \"flag-file\"\n").unwrap();
    let env = env_of(&[(CONFIG_ENV, env_path.to_str().unwrap())]);
    let flags = Overrides {
        config_path: Some(flag_path.clone()),
        ..Overrides::default()
    };

    let by_flag = load(&dirs, &flags, &env).unwrap();
    assert_eq!(
        (by_flag.settings.model.as_str(), by_flag.file),
        ("flag-file", Some(flag_path))
    );
    let by_env = load(&dirs, &Overrides::default(), &env).unwrap();
    assert_eq!(
        (by_env.settings.model.as_str(), by_env.file),
        ("env-file", Some(env_path))
    );
    let by_dirs = load(&dirs, &Overrides::default(), &no_env).unwrap();
    assert_eq!(
        (by_dirs.settings.model.as_str(), by_dirs.file),
        ("default-file", Some(default_path))
    );
}

#[test]
fn render_shows_every_key_value_and_origin() {
    let mut origins = default_origins();
    origins.insert(
        "generation.temperature".into(),
        Origin::Env("LIBRE_ASSISTANT_TEMPERATURE".into()),
    );
    origins.insert(
        "engine.context".into(),
        Origin::File("/c/config.toml".into()),
    );
    origins.insert("generation.seed".into(), Origin::Flag("--seed".into()));
    let mut settings = Settings::default();
    settings.generation.temperature = 0.2;
    settings.generation.seed = Some(1);
    settings.engine.context = 8192;
    settings.system_prompt = "Say \"hi\".\nThen stop.".into();
    settings.tools.allow = vec!["time".into(), "fs/read".into()];
    origins.insert("tools.allow".into(), Origin::File("/c/config.toml".into()));
    let effective = Effective {
        settings,
        origins,
        file: Some("/c/config.toml".into()),
    };
    let want = r#"# config file: /c/config.toml
model = "smollm2-135m-instruct"        # default
system_prompt = "Say \"hi\".\nThen stop."  # default
generation.temperature = 0.2           # from env LIBRE_ASSISTANT_TEMPERATURE
generation.top_p = 0.9                 # default
generation.top_k = 40                  # default
generation.max_tokens = 2048           # default
generation.seed = 1                    # from flag --seed
generation.stop = []                   # default
engine.context = 8192                  # from file
# engine.threads =                     # unset: one thread per physical core
engine.n_gpu_layers = 0                # default
# engine.chat_template =               # unset: the model's own template
engine.batch = 512                     # default
engine.prompt_cache = true             # default
engine.prompt_cache_mb = 1024          # default
engine.prompt_lookup = false           # default
# engine.draft_model =                 # unset: no draft model
engine.flash_attention = "auto"        # default
engine.kv_cache_type = "f16"           # default
engine.mmap = false                    # default
engine.rpc = []                        # default
models.pip = ["python3", "-m", "pip"]  # default
models.auto_pull = true                # default
log.level = "info"                     # default
ui.theme = "dark"                      # default
ui.mouse = false                       # default
ui.side_panel = true                   # default
tools.allow = ["time", "fs/read"]      # from file
tools.max_rounds = 2                   # default
tools.grammar = true                   # default
tools.budget = 0                       # default
tools.plugin_budget = 0                # default
tools.generic_format = false           # default
tools.only_relevant = true             # default
tools.call_max_tokens = 256            # default
# plugins.sandbox =                    # unset: required where the kernel has Landlock, else best-effort
sessions.record = true                 # default
"#;
    assert_eq!(effective.render(), want);
}

#[test]
fn rendered_values_read_back_as_the_same_settings() {
    let mut settings = Settings {
        system_prompt: "Tab\there, \"quote\", back\\slash\nnewline \u{1}".into(),
        ..Settings::default()
    };
    settings.generation.temperature = 1.0;
    settings.engine.chat_template = Some("chatml".into());
    settings.tools = Tools {
        allow: vec!["time/current_time".into(), "fs".into()],
        max_rounds: 5,
        grammar: false,
        ..Tools::default()
    };
    let effective = Effective {
        settings: settings.clone(),
        origins: default_origins(),
        file: None,
    };
    let (_root, dirs, _) = with_file(&effective.render());
    assert_eq!(
        load(&dirs, &Overrides::default(), &no_env)
            .unwrap()
            .settings,
        settings
    );
}

#[test]
fn the_loader_agrees_with_serde() {
    let text = "model = \"m\"\nsystem_prompt = \"p\"\n[generation]\ntemperature = 0.5\ntop_p = 0.25\n\
                top_k = 3\nmax_tokens = 9\nseed = 4\n[engine]\ncontext = 128\nthreads = 2\n\
                n_gpu_layers = 5\nchat_template = \"llama3\"\nbatch = 64\nprompt_cache = false\n\
                prompt_cache_mb = 8\nprompt_lookup = false\n[models]\n\
                pip = [\"uv\", \"pip\"]\nauto_pull = false\n[log]\nlevel = \"warn\"\n[ui]\n\
                theme = \"gruvbox-dark\"\nmouse = true\nside_panel = false\n[tools]\n\
                allow = [\"time/*\", \"fs/read_file\"]\nmax_rounds = 3\ngrammar = false\n";
    let (_root, dirs, _) = with_file(text);
    let loaded = load(&dirs, &Overrides::default(), &no_env)
        .unwrap()
        .settings;
    assert_eq!(loaded, toml::from_str::<Settings>(text).unwrap());
    assert!(loaded.generation.seed.is_some() && loaded.engine.threads.is_some());
    assert!(loaded.engine.chat_template.is_some());
    assert_eq!(
        loaded.ui,
        Ui {
            theme: "gruvbox-dark".into(),
            mouse: true,
            side_panel: false,
        }
    );
    assert_eq!(
        loaded.tools,
        Tools {
            allow: vec!["time/*".into(), "fs/read_file".into()],
            max_rounds: 3,
            grammar: false,
            ..Tools::default()
        }
    );
}

#[test]
fn a_tools_section_loads_and_env_overrides_it() {
    let text = "[tools]\nallow = [\"time/current_time\", \"fs/*\", \"web-search\", \"9lives\"]\n\
                max_rounds = 4\ngrammar = false\n";
    let (_root, dirs, path) = with_file(text);
    let got = load(&dirs, &Overrides::default(), &no_env).unwrap();
    let want = Tools {
        allow: vec![
            "time/current_time".into(),
            "fs/*".into(),
            "web-search".into(),
            "9lives".into(),
        ],
        max_rounds: 4,
        grammar: false,
        ..Tools::default()
    };
    assert_eq!(got.settings.tools, want);
    for key in ["tools.allow", "tools.max_rounds", "tools.grammar"] {
        assert_eq!(got.origins[key], Origin::File(path.clone()), "{key}");
    }

    let env = env_of(&[
        ("LIBRE_ASSISTANT_TOOLS_ALLOW", "clock"),
        ("LIBRE_ASSISTANT_TOOLS_MAX_ROUNDS", "1"),
    ]);
    let got = load(&dirs, &Overrides::default(), &env).unwrap();
    assert_eq!(
        got.settings.tools,
        Tools {
            allow: vec!["clock".into()],
            max_rounds: 1,
            grammar: false,
            ..Tools::default()
        }
    );
    assert_eq!(
        got.origins["tools.allow"],
        Origin::Env("LIBRE_ASSISTANT_TOOLS_ALLOW".into())
    );
    assert_eq!(
        got.origins["tools.max_rounds"],
        Origin::Env("LIBRE_ASSISTANT_TOOLS_MAX_ROUNDS".into())
    );
    assert_eq!(got.origins["tools.grammar"], Origin::File(path));
    let shown = got.render();
    assert!(
        shown.contains("tools.allow = [\"clock\"]") && shown.contains("tools.grammar = false"),
        "{shown}"
    );
}

#[test]
fn fields_cover_every_key_of_settings() {
    let mut full = Settings::default();
    full.generation.seed = Some(1);
    full.engine.threads = Some(1);
    full.engine.chat_template = Some(String::new());
    full.engine.draft_model = Some(String::new());
    full.plugins.sandbox = Some(String::new());
    let table = toml::Table::try_from(&full).unwrap();
    let mut keys = Vec::new();
    for (key, value) in &table {
        match value.as_table() {
            Some(inner) => keys.extend(inner.keys().map(|k| format!("{key}.{k}"))),
            None => keys.push(key.clone()),
        }
    }
    let mut fields: Vec<String> = Field::ALL.iter().map(|f| f.key().to_owned()).collect();
    keys.sort();
    fields.sort();
    assert_eq!(keys, fields);
}

#[test]
fn physical_threads_is_at_least_one() {
    assert!(physical_threads() >= 1);
    assert_eq!(
        Engine {
            threads: Some(5),
            ..Engine::default()
        }
        .effective_threads(),
        5
    );
}

#[test]
fn stop_flags_replace_the_files_stop_list() {
    let (_root, dirs, path) = with_file("[generation]\nstop = [\"END\", \"\\n\\n\"]\n");
    let none = env_of(&[]);
    let from_file = load(&dirs, &Overrides::default(), &none).unwrap();
    assert_eq!(from_file.settings.generation.stop, vec!["END", "\n\n"]);
    assert_eq!(from_file.origins["generation.stop"], Origin::File(path));
    let flags = Overrides {
        stop: vec!["Q:".into()],
        ..Overrides::default()
    };
    let flagged = load(&dirs, &flags, &none).unwrap();
    assert_eq!(flagged.settings.generation.stop, vec!["Q:"]);
    assert_eq!(
        flagged.origins["generation.stop"],
        Origin::Flag("--stop".into())
    );
}
