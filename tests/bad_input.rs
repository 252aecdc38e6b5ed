//! Every bad input gets one line on stderr that names the problem, a documented exit code,
//! and no panic or backtrace.

mod support;

use std::process::{Command, Output};

use support::Home;

/// Runs `cmd` and checks the failure's shape: `code`, one stderr line containing `needle`.
fn fails(mut cmd: Command, code: i32, needle: &str) -> String {
    let out: Output = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("libre-assistant: "), "{err}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    err
}

fn prompt(home: &Home, args: &[&str]) -> Command {
    let mut cmd = home.command();
    cmd.args(args);
    cmd
}

#[test]
fn an_empty_prompt_is_a_usage_error() {
    let home = Home::new();
    fails(prompt(&home, &["-p", "   "]), 2, "prompt is empty");
}

#[test]
fn resuming_a_session_that_does_not_exist() {
    let home = Home::new();
    fails(
        prompt(&home, &["--resume", "7", "-p", "hi"]),
        2,
        "no session 7",
    );
}

#[test]
fn a_missing_model_file() {
    let home = Home::new();
    fails(
        prompt(&home, &["--model", "/nonexistent/model.gguf", "-p", "hi"]),
        4,
        "/nonexistent/model.gguf",
    );
}

#[test]
fn a_file_that_is_not_gguf() {
    let home = Home::new();
    let file = home.path().join("notes.gguf");
    std::fs::write(&file, "just some text, not a model").unwrap();
    fails(
        prompt(&home, &["--model", file.to_str().unwrap(), "-p", "hi"]),
        4,
        "not a GGUF file",
    );
}

#[test]
fn a_truncated_gguf_file() {
    let home = Home::new();
    let bytes = std::fs::read(support::smollm()).unwrap();
    for (name, len) in [("head.gguf", 100), ("half.gguf", bytes.len() / 2)] {
        let file = home.path().join(name);
        std::fs::write(&file, &bytes[..len]).unwrap();
        fails(
            prompt(&home, &["--model", file.to_str().unwrap(), "-p", "hi"]),
            4,
            name,
        );
    }
}

#[test]
fn a_model_name_not_in_the_catalog() {
    let home = Home::new();
    fails(
        prompt(&home, &["--model", "no-such-model", "-p", "hi"]),
        4,
        "no-such-model",
    );
}

#[test]
fn a_prompt_longer_than_the_context() {
    let home = Home::new();
    let long = "word ".repeat(600);
    let mut cmd = home.command();
    cmd.arg("--model")
        .arg(support::smollm())
        .args(["--ctx", "256", "-p", &long]);
    fails(cmd, 2, "--ctx");
}

#[test]
fn malformed_toml_names_file_line_and_column() {
    let home = Home::new();
    home.write_config("model = \"x\"\n[generation\ntemperature = 0.1\n");
    let err = fails(prompt(&home, &["config"]), 3, "config.toml:2:");
    assert!(err.contains(home.config_file().to_str().unwrap()), "{err}");
}

#[test]
fn an_unknown_key_is_an_error() {
    let home = Home::new();
    home.write_config("[generation]\ntemprature = 0.1\n");
    fails(prompt(&home, &["-p", "hi"]), 3, "config.toml:2:1");
}

#[test]
fn a_wrong_type_is_an_error() {
    let home = Home::new();
    home.write_config("[generation]\ntemperature = \"hot\"\n");
    fails(prompt(&home, &["config"]), 3, "config.toml:2:");
}

#[test]
fn a_malformed_environment_variable_is_an_error() {
    let home = Home::new();
    let mut cmd = prompt(&home, &["config"]);
    cmd.env("LIBRE_ASSISTANT_TEMPERATURE", "hot");
    fails(cmd, 3, "LIBRE_ASSISTANT_TEMPERATURE");
}

#[test]
fn an_unwritable_data_directory() {
    let home = Home::new();
    // Tests run as root, which ignores permission bits: a path under a plain file can never be
    // created, whoever asks.
    let blocker = home.path().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let mut cmd = home.command();
    cmd.env("XDG_DATA_HOME", blocker.join("data"))
        .args(["models", "import"])
        .arg(support::smollm());
    fails(cmd, 7, "blocker");
}

#[test]
fn a_corrupted_catalog_model_fails_its_checksum_and_is_deleted() {
    let home = Home::new();
    let store = home.path().join("data/libre-assistant/models");
    std::fs::create_dir_all(&store).unwrap();
    let mut bytes = std::fs::read(support::smollm()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let target = store.join(support::SMOLLM_FILE);
    std::fs::write(&target, &bytes).unwrap();
    let mut cmd = prompt(&home, &["--model", "smollm2-135m-instruct", "-p", "hi"]);
    cmd.env("LIBRE_ASSISTANT_AUTO_PULL", "false");
    fails(cmd, 4, "checksum");
    assert!(!target.exists(), "the bad file is deleted");
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    let home = Home::new();
    fails(prompt(&home, &["--no-such-flag"]), 2, "--no-such-flag");
    fails(
        prompt(&home, &["--max-tokens", "many", "-p", "hi"]),
        2,
        "many",
    );
}

#[test]
fn an_out_of_range_flag_value_names_the_flag() {
    let home = Home::new();
    fails(
        prompt(&home, &["--temperature", "-1", "-p", "hi"]),
        3,
        "--temperature",
    );
}
