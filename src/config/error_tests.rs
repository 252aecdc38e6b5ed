//! Every error's exact one-line message, and the validation rules.

use super::field::Field;
use super::load::validate;
use super::tests::{dirs, env_of, file_error, no_env, with_file};
use super::*;
use crate::exit::Exit;

#[test]
fn an_explicitly_named_file_must_exist() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("nope.toml");
    let flags = Overrides {
        config_path: Some(missing.clone()),
        ..Overrides::default()
    };
    let err = load(&dirs(root.path()), &flags, &no_env).unwrap_err();
    assert_eq!(
        err,
        ConfigError::Missing {
            path: missing.clone(),
            origin: Origin::Flag("--config".into())
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "config file {} (named by flag --config) does not exist",
            missing.display()
        )
    );

    let env = env_of(&[(CONFIG_ENV, missing.to_str().unwrap())]);
    let err = load(&dirs(root.path()), &Overrides::default(), &env).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "config file {} (named by env {CONFIG_ENV}) does not exist",
            missing.display()
        )
    );
}

#[test]
fn unknown_key_in_a_table_names_line_col_and_the_known_keys() {
    let (msg, path) = file_error("model = \"x\"\n\n[generation]\ntemprature = 0.5\n");
    let want = format!(
        "{}:4:1: unknown key \"temprature\" in [generation]; expected one of temperature, top_p, \
         top_k, max_tokens, seed, stop; fix the file or see config.example.toml",
        path.display()
    );
    assert_eq!(msg, want);
}

#[test]
fn unknown_key_at_the_top_level() {
    let (msg, path) = file_error("[log]\nlevel = \"warn\"\n[logging]\n");
    let want = format!(
        "{}:3:2: unknown key \"logging\" at the top level; expected one of model, system_prompt, \
         generation, engine, models, log, ui, tools, plugins, sessions; fix the file or see config.example.toml",
        path.display()
    );
    assert_eq!(msg, want);
}

#[test]
fn wrong_type_names_the_key_and_both_types() {
    let (msg, path) = file_error("[generation]\ntemperature = \"hot\"\n");
    let want = format!(
        "{}:2:15: wrong type for generation.temperature: expected a number, found a string; \
         fix the file or see config.example.toml",
        path.display()
    );
    assert_eq!(msg, want);
    let (msg, path) = file_error("[models]\npip = [\"pip\", 3]\n");
    let want = format!(
        "{}:2:7: wrong type for models.pip: expected an array of strings, found an array holding \
         an integer; fix the file or see config.example.toml",
        path.display()
    );
    assert_eq!(msg, want);
    let (msg, path) = file_error("[ui]\ntheme = \"dark\"\nmouse = \"yes\"\n");
    let want = format!(
        "{}:3:9: wrong type for ui.mouse: expected true or false, found a string; \
         fix the file or see config.example.toml",
        path.display()
    );
    assert_eq!(msg, want);
    let (msg, path) = file_error("generation = 5\n");
    let want = format!(
        "{}:1:1: wrong type for generation: expected a table, found an integer; \
         fix the file or see config.example.toml",
        path.display()
    );
    assert_eq!(msg, want);
}

#[test]
fn a_negative_count_is_out_of_range() {
    let (msg, path) = file_error("engine.context = -5\n");
    let want = format!(
        "{}:1:18: value out of range for engine.context: expected a whole number from 0 to \
         4294967295, found -5; fix the file or see config.example.toml",
        path.display()
    );
    assert_eq!(msg, want);
}

#[test]
fn an_integer_is_accepted_as_a_number() {
    let (_root, dirs, _) = with_file("[generation]\ntemperature = 1\ntop_p = 1\n");
    let got = load(&dirs, &Overrides::default(), &no_env).unwrap();
    assert_eq!(
        (
            got.settings.generation.temperature,
            got.settings.generation.top_p
        ),
        (1.0, 1.0)
    );
}

#[test]
fn malformed_toml_is_one_line_with_line_and_col() {
    let (msg, path) = file_error("model = \"x\"\n[engine]\ncontext = = 5\n");
    let prefix = format!("{}:3:11: invalid TOML: ", path.display());
    assert!(msg.starts_with(&prefix), "{msg}");
    assert!(
        msg.ends_with("; fix the file or see config.example.toml"),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn a_duplicate_key_is_malformed_toml() {
    let (msg, path) = file_error("model = \"a\"\nmodel = \"b\"\n");
    assert!(
        msg.starts_with(&format!("{}:2:1: invalid TOML: ", path.display())),
        "{msg}"
    );
}

#[test]
fn a_malformed_env_var_names_the_variable_and_type() {
    let root = tempfile::tempdir().unwrap();
    let cases = [
        ("LIBRE_ASSISTANT_TEMPERATURE", "hot", "a number"),
        ("LIBRE_ASSISTANT_TOP_K", "1.5", "an integer"),
        (
            "LIBRE_ASSISTANT_CONTEXT",
            "-1",
            "a whole number from 0 to 4294967295",
        ),
        ("LIBRE_ASSISTANT_AUTO_PULL", "maybe", "true or false"),
        ("LIBRE_ASSISTANT_MOUSE", "sometimes", "true or false"),
        ("LIBRE_ASSISTANT_SIDE_PANEL", "2", "true or false"),
        (
            "LIBRE_ASSISTANT_TOOLS_ALLOW",
            "time,Bad/x",
            "tool rules separated by commas (PLUGIN/TOOL, PLUGIN/* or PLUGIN)",
        ),
        (
            "LIBRE_ASSISTANT_TOOLS_MAX_ROUNDS",
            "0",
            "a whole number from 1 to 16",
        ),
        (
            "LIBRE_ASSISTANT_TOOLS_MAX_ROUNDS",
            "many",
            "a whole number from 1 to 16",
        ),
        ("LIBRE_ASSISTANT_TOOLS_GRAMMAR", "maybe", "true or false"),
    ];
    for (var, value, expected) in cases {
        let err = load(
            &dirs(root.path()),
            &Overrides::default(),
            &env_of(&[(var, value)]),
        )
        .unwrap_err();
        let want =
            format!("environment variable {var}=\"{value}\" is malformed: expected {expected}");
        assert_eq!(err.to_string(), want);
        assert_eq!(err.exit(), Exit::Config);
    }
}

#[test]
fn invalid_values_name_the_key_and_origin() {
    let (msg, path) = file_error("[generation]\ntop_p = 1.5\n");
    assert_eq!(
        msg,
        format!(
            "{}:2:9: generation.top_p = 1.5 is invalid: must be more than 0 and at most 1",
            path.display()
        )
    );

    let root = tempfile::tempdir().unwrap();
    let env = env_of(&[("LIBRE_ASSISTANT_CONTEXT", "16")]);
    let err = load(&dirs(root.path()), &Overrides::default(), &env).unwrap_err();
    assert_eq!(
        err.to_string(),
        "engine.context = 16 (from env LIBRE_ASSISTANT_CONTEXT) is invalid: must be at least 64"
    );

    let flags = Overrides {
        log_level: Some("loud".into()),
        ..Overrides::default()
    };
    let err = load(&dirs(root.path()), &flags, &no_env).unwrap_err();
    assert_eq!(
        err.to_string(),
        "log.level = \"loud\" (from flag --log-level) is invalid: must be one of error, warn, info, debug, trace"
    );

    let (msg, path) = file_error("[ui]\ntheme = \"\"\n");
    assert_eq!(
        msg,
        format!(
            "{}:2:9: ui.theme = \"\" is invalid: must not be empty",
            path.display()
        )
    );
    let flags = Overrides {
        theme: Some(String::new()),
        ..Overrides::default()
    };
    let err = load(&dirs(root.path()), &flags, &no_env).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ui.theme = \"\" (from flag --theme) is invalid: must not be empty"
    );
}

#[test]
fn validate_checks_every_rule() {
    let ok = Settings::default();
    assert_eq!(validate(&ok), Ok(()));
    type Break = fn(&mut Settings);
    let broken: [(Break, Field); 19] = [
        (|s| s.model = " ".into(), Field::Model),
        (|s| s.generation.temperature = -0.1, Field::Temperature),
        (|s| s.generation.top_p = 0.0, Field::TopP),
        (|s| s.generation.top_k = -1, Field::TopK),
        (|s| s.generation.max_tokens = 0, Field::MaxTokens),
        (|s| s.generation.stop = vec!["".into()], Field::Stop),
        (|s| s.engine.context = 63, Field::Context),
        (|s| s.engine.threads = Some(0), Field::Threads),
        (|s| s.engine.batch = 0, Field::Batch),
        (|s| s.engine.prompt_cache_mb = 0, Field::PromptCacheMb),
        (
            |s| s.engine.flash_attention = "yes".into(),
            Field::FlashAttention,
        ),
        (|s| s.engine.kv_cache_type = "q8".into(), Field::KvCacheType),
        (
            |s| {
                s.engine.kv_cache_type = "q8_0".into();
                s.engine.flash_attention = "off".into();
            },
            Field::KvCacheType,
        ),
        (|s| s.models.pip.clear(), Field::Pip),
        (|s| s.log.level = "verbose".into(), Field::LogLevel),
        (|s| s.ui.theme = " ".into(), Field::Theme),
        (|s| s.tools.allow = vec!["-x".into()], Field::ToolsAllow),
        (|s| s.tools.max_rounds = 0, Field::MaxRounds),
        (|s| s.tools.max_rounds = 17, Field::MaxRounds),
    ];
    for (breaks, field) in broken {
        let mut s = ok.clone();
        breaks(&mut s);
        assert_eq!(validate(&s).map_err(|(f, _)| f), Err(field));
    }
    let mut unquantised = ok.clone();
    unquantised.engine.flash_attention = "off".into();
    unquantised.engine.kv_cache_type = "bf16".into();
    assert_eq!(validate(&unquantised), Ok(()));
    let mut nan = ok.clone();
    nan.generation.temperature = f32::NAN;
    assert_eq!(validate(&nan).map_err(|(f, _)| f), Err(Field::Temperature));
}

#[test]
fn a_bad_tools_allow_entry_names_the_key_and_the_entry_position() {
    let (msg, path) = file_error("[tools]\nallow = [\"time\", \"Fs/read\"]\n");
    let want = format!(
        "{}:2:18: invalid value for tools.allow: \"Fs/read\" is not a tool rule; write \
         PLUGIN/TOOL, PLUGIN/*, PLUGIN or PLUGIN:read-only (see `libre-assistant plugins list`); fix the file or \
         see config.example.toml",
        path.display()
    );
    assert_eq!(msg, want);
    for bad in ["", "a/b/c", "time/", "/x", "-time", "time zone"] {
        let text = format!("tools.allow = [{bad:?}]\n");
        let (msg, path) = file_error(&text);
        let prefix = format!("{}:1:16: invalid value for tools.allow: ", path.display());
        assert!(msg.starts_with(&prefix), "{bad:?}: {msg}");
    }
    let (msg, path) = file_error("[tools]\nallow = \"time\"\n");
    let want = format!(
        "{}:2:9: wrong type for tools.allow: expected an array of tool rules (PLUGIN/TOOL, \
         PLUGIN/* or PLUGIN), found a string; fix the file or see config.example.toml",
        path.display()
    );
    assert_eq!(msg, want);
}

#[test]
fn tools_max_rounds_is_from_1_to_16() {
    for (value, col) in [("0", 14), ("17", 14), ("-1", 14)] {
        let (msg, path) = file_error(&format!("[tools]\nmax_rounds = {value}\n"));
        let want = format!(
            "{}:2:{col}: value out of range for tools.max_rounds: expected a whole number from 1 \
             to 16, found {value}; fix the file or see config.example.toml",
            path.display()
        );
        assert_eq!(msg, want);
    }
    let (msg, path) = file_error("[tools]\ngrammar = 1\n");
    let want = format!(
        "{}:2:11: wrong type for tools.grammar: expected true or false, found an integer; \
         fix the file or see config.example.toml",
        path.display()
    );
    assert_eq!(msg, want);
}
