//! `models list|show|import|rm` and `config` as a person runs them; the log file appears.

mod support;

use support::Home;

fn ok(home: &Home, args: &[&std::ffi::OsStr]) -> String {
    let out = home.command().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn os(s: &str) -> &std::ffi::OsStr {
    s.as_ref()
}

#[test]
fn show_reads_the_gguf_metadata() {
    let home = Home::new();
    let model = support::smollm();
    let out = ok(&home, &[os("models"), os("show"), model.as_os_str()]);
    for want in [
        "architecture:   llama",
        "quantization:   Q4_1",
        "parameters:     135M",
        "trained context: 8192",
        "chat template:  the model's own",
    ] {
        assert!(out.contains(want), "{want:?} in:\n{out}");
    }
}

#[test]
fn the_fetched_1_5b_model_is_a_qwen2_with_a_chat_template() {
    let home = Home::new();
    let model = support::qwen_1_5b();
    assert_eq!(std::fs::metadata(&model).unwrap().len(), 1_117_320_768);
    let out = ok(&home, &[os("models"), os("show"), model.as_os_str()]);
    for want in [
        "architecture:   qwen2",
        "parameters:     1.5B",
        "quantization:   Q4_K_M",
        "chat template:  the model's own",
    ] {
        assert!(out.contains(want), "{want:?} in:\n{out}");
    }
}

#[test]
fn show_says_which_template_a_model_runs_with() {
    let home = Home::new();
    // The default model with its template's key renamed in place.
    let mut bytes = std::fs::read(support::smollm()).unwrap();
    let key = b"tokenizer.chat_template";
    let at = bytes.windows(key.len()).position(|w| w == key).unwrap();
    bytes[at + key.len() - 1] = b'X';
    let bare = home.path().join("base.gguf");
    std::fs::write(&bare, &bytes).unwrap();
    let show = |model: &std::path::Path| ok(&home, &[os("models"), os("show"), model.as_os_str()]);
    let out = show(&bare);
    assert!(
        out.contains("chat template:  none in the file: runs with the ChatML fallback")
            && out.contains("<|im_end|>")
            && out.contains("--raw"),
        "{out}"
    );
    home.write_config("[engine]\nchat_template = \"llama3\"\n");
    let out = show(&bare);
    assert!(
        out.contains("chat template:  override \"llama3\" from engine.chat_template"),
        "{out}"
    );
}

#[test]
fn import_list_and_remove() {
    let home = Home::new();
    let list = ok(&home, &[os("models"), os("list")]);
    assert!(
        list.contains("smollm2-135m-instruct") && list.contains("qwen2.5-coder-0.5b-instruct"),
        "{list}"
    );
    let big = list
        .lines()
        .find(|l| l.starts_with("qwen2.5-coder-1.5b-instruct "))
        .unwrap_or_else(|| panic!("no 1.5B line in:\n{list}"));
    assert!(
        big.contains("Q4_K_M") && big.contains("1.5B") && big.ends_with("available"),
        "{big}"
    );
    assert!(!list.contains("installed"), "{list}");

    let model = support::smollm();
    let out = ok(&home, &[os("models"), os("import"), model.as_os_str()]);
    assert!(
        out.contains("smollm2-135m-instruct"),
        "identical bytes are the catalog model: {out}"
    );
    let copy = home
        .path()
        .join("data/libre-assistant/models")
        .join(support::SMOLLM_FILE);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&copy).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the imported copy is the user's alone");
    let list = ok(&home, &[os("models"), os("list")]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("smollm2-135m-instruct") && l.ends_with("installed")),
        "{list}"
    );

    // The imported model answers by name, with no download.
    let out = home
        .command()
        .args([
            "--model",
            "smollm2-135m-instruct",
            "--temperature",
            "0",
            "--max-tokens",
            "8",
            "-p",
            "Hi",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty());

    ok(
        &home,
        &[os("models"), os("rm"), os("smollm2-135m-instruct")],
    );
    let list = ok(&home, &[os("models"), os("list")]);
    assert!(!list.contains("installed"), "{list}");
}

#[test]
fn config_reports_where_each_value_came_from() {
    let home = Home::new();
    home.write_config("[generation]\ntop_k = 12\n");
    let out = home
        .command()
        .env("LIBRE_ASSISTANT_TEMPERATURE", "0.2")
        .args(["--ctx", "1024", "config"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{key} in {text}"))
            .to_string()
    };
    assert!(line("generation.temperature = 0.2").contains("env LIBRE_ASSISTANT_TEMPERATURE"));
    assert!(line("engine.context = 1024").contains("flag --ctx"));
    assert!(line("generation.top_k = 12").contains("file"));
    assert!(line("generation.top_p = 0.9").contains("default"));
}

#[test]
fn a_run_writes_the_log_file_not_the_terminal() {
    let home = Home::new();
    let out = home
        .with_model()
        .args(["--log-level", "debug", "-p", "Hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "stderr stays quiet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = home.path().join("state/libre-assistant/logs");
    let text: String = std::fs::read_dir(&logs)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .collect();
    assert!(
        text.contains("model loaded"),
        "our own events are logged: {text}"
    );
    assert!(text.contains("llama"), "llama.cpp's output is in the log");
}
