//! `plugins list|show|enable|disable|import` as a person runs them, in an isolated home:
//! stdout versus stderr, one warning line per problem, exit codes.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::Home;

fn plugins_dir(home: &Home) -> PathBuf {
    home.path().join("config/libre-assistant/plugins")
}

fn write_plugin(root: &Path, dir: &str, text: &str) -> PathBuf {
    let dir = root.join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("plugin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run(home: &Home, args: &[&str]) -> Output {
    home.command().arg("plugins").args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The table line of plugin `id`, its cells split on runs of two spaces.
fn row(stdout: &str, id: &str) -> Vec<String> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .unwrap_or_else(|| panic!("{id} in:\n{stdout}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

const NOTES: &str = r#"
id = "notes"
name = "Notes"
description = "Search my notes"
command = "${PLUGIN_DIR}/server"
args = ["--root", "~/notes"]
env = ["NOTES_TOKEN"]
timeout_secs = 45

[permissions]
read = ["~/notes"]
"#;

#[test]
fn list_shows_plugins_and_warns_once_per_bad_manifest() {
    let home = Home::new();
    let user = plugins_dir(&home);
    write_plugin(&user, "notes", NOTES);
    let bad = write_plugin(
        &user,
        "bad",
        "id = \"bad\"\nname = \"Bad\"\ncommand = \"x\"\ntimeout_secs = 9000\n",
    );
    let typo = write_plugin(
        &user,
        "typo",
        "id = \"typo\"\nname = \"T\"\ncomand = \"x\"\n",
    );

    let out = run(&home, &["list"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("ID "), "{stdout}");
    assert_eq!(
        row(&stdout, "notes"),
        [
            "notes",
            "Notes",
            "enabled",
            "user",
            "read: ~/notes; net: no"
        ]
    );
    assert!(
        !stdout.contains("bad") && !stdout.contains("typo "),
        "{stdout}"
    );
    assert_eq!(
        text(&out.stderr),
        format!(
            "libre-assistant: warning: {}: timeout_secs: 9000 is greater than the maximum of 600; see docs/plugins.md\n\
             libre-assistant: warning: {}: comand: unknown field; see docs/plugins.md\n",
            bad.display(),
            typo.display()
        )
    );
}

#[test]
fn the_user_plugin_wins_over_a_shipped_one() {
    let home = Home::new();
    let shipped = home.path().join("shipped");
    write_plugin(
        &shipped,
        "notes",
        "id = \"notes\"\nname = \"Shipped notes\"\ncommand = \"x\"\n",
    );
    write_plugin(
        &shipped,
        "clock",
        "id = \"clock\"\nname = \"Clock\"\ncommand = \"x\"\n[permissions]\nnetwork = true\n",
    );
    write_plugin(&plugins_dir(&home), "notes", NOTES);
    let out = home
        .command()
        .env("LIBRE_ASSISTANT_PLUGINS_DIR", &shipped)
        .args(["plugins", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        row(&stdout, "clock"),
        ["clock", "Clock", "enabled", "shipped", "net: yes"]
    );
    assert_eq!(row(&stdout, "notes")[1], "Notes");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn show_prints_the_manifest_and_an_unknown_id_is_a_usage_error() {
    let home = Home::new();
    let path = write_plugin(&plugins_dir(&home), "notes", NOTES);
    let out = run(&home, &["show", "notes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let dir = path.parent().unwrap().display().to_string();
    let home_dir = home.path().display().to_string();
    for want in [
        "id:           notes".to_owned(),
        "name:         Notes".to_owned(),
        "description:  Search my notes".to_owned(),
        format!("manifest:     {}", path.display()),
        "source:       user".to_owned(),
        "status:       enabled".to_owned(),
        "command:      ${PLUGIN_DIR}/server".to_owned(),
        "args:         --root ~/notes".to_owned(),
        format!("runs:         {dir}/server --root {home_dir}/notes"),
        "env:          NOTES_TOKEN".to_owned(),
        "timeout:      45 s without progress, 600 s in all".to_owned(),
        "read:         ~/notes".to_owned(),
        "write:        none".to_owned(),
        "network:      no".to_owned(),
    ] {
        assert!(stdout.lines().any(|l| l == want), "{want:?} in:\n{stdout}");
    }

    let out = run(&home, &["show", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "libre-assistant: no plugin \"nope\"; `libre-assistant plugins list` shows the ids\n"
    );
}

#[test]
fn disable_and_enable_are_remembered() {
    let home = Home::new();
    write_plugin(&plugins_dir(&home), "notes", NOTES);
    let out = run(&home, &["disable", "notes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "disabled notes\n");
    let state = home.path().join("config/libre-assistant/plugins.toml");
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(
        saved.contains("[plugins.notes]\nenabled = false\n"),
        "{saved}"
    );
    assert_eq!(
        row(&text(&run(&home, &["list"]).stdout), "notes")[2],
        "disabled"
    );

    let out = run(&home, &["enable", "notes"]);
    assert_eq!(text(&out.stdout), "enabled notes\n");
    assert_eq!(
        row(&text(&run(&home, &["list"]).stdout), "notes")[2],
        "enabled"
    );

    let out = run(&home, &["enable", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr).lines().count(), 1);
}

#[test]
fn a_malformed_plugins_toml_is_a_config_error() {
    let home = Home::new();
    let state = home.path().join("config/libre-assistant/plugins.toml");
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    std::fs::write(&state, "[plugins.notes]\nenabeld = true\n").unwrap();
    let out = run(&home, &["list"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("libre-assistant: {}:2:1: ", state.display())),
        "{stderr}"
    );
}

#[test]
fn import_writes_disabled_plugins_and_skips_legacy_sse_servers() {
    let home = Home::new();
    let file = home.path().join("claude_desktop_config.json");
    std::fs::write(
        &file,
        r#"{"mcpServers": {
            "everything": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"],
                           "env": {"API_KEY": "sk-secret"}},
            "remote": {"type": "sse", "url": "https://example.com/sse"}
        }}"#,
    )
    .unwrap();
    // --no-install: this test stays offline (tests/plugin_import.rs installs a package).
    let out = run(&home, &["import", file.to_str().unwrap(), "--no-install"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let manifest = plugins_dir(&home).join("everything/plugin.toml");
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..2],
        [
            format!(
                "imported \"everything\" as everything (disabled): {}",
                manifest.display()
            ),
            "  it may read no files of yours".to_owned(),
        ]
    );
    assert!(stdout.contains("secrets API_KEY are in the secret store, not in the manifest"));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("libre-assistant: warning: skipped \"remote\": the legacy HTTP+SSE transport is not supported; give the server's Streamable HTTP endpoint (type \"http\")\n"),
        "{stderr}"
    );
    assert!(stderr.contains("no OS keyring is available"), "{stderr}");
    let written = std::fs::read_to_string(&manifest).unwrap();
    assert!(!written.contains("sk-secret"), "{written}");

    let list = text(&run(&home, &["list"]).stdout);
    assert_eq!(
        row(&list, "everything"),
        ["everything", "everything", "disabled", "user", "net: no"]
    );

    // Importing again overwrites nothing.
    let out = run(&home, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert_eq!(text(&out.stderr).lines().count(), 2);
}

#[test]
fn import_of_a_vs_code_file_and_of_garbage() {
    let home = Home::new();
    let file = home.path().join("mcp.json");
    std::fs::write(
        &file,
        r#"{"servers": {"Time Server": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time"]}}}"#,
    )
    .unwrap();
    let out = run(&home, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty());
    assert!(plugins_dir(&home).join("time-server/plugin.toml").is_file());

    std::fs::write(&file, "not json").unwrap();
    let out = run(&home, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "libre-assistant: {}:1:2: invalid JSON: expected ident\n",
            file.display()
        )
    );
}

#[test]
fn grant_gives_an_imported_plugin_permissions_in_its_manifest_and_a_shipped_one_in_plugins_toml() {
    let home = Home::new();
    let file = home.path().join("mcp.json");
    std::fs::write(
        &file,
        r#"{"mcpServers": {"notes": {"command": "notes-server"}}}"#,
    )
    .unwrap();
    assert_eq!(
        run(&home, &["import", file.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let out = run(
        &home,
        &[
            "grant",
            "notes",
            "--read",
            "~/notes",
            "--write",
            "/tmp/out",
            "--network",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "notes: read: ~/notes; write: /tmp/out; net: yes\n  notes is disabled; `libre-assistant plugins enable notes` starts it\n"
    );
    let list = text(&run(&home, &["list"]).stdout);
    assert_eq!(
        row(&list, "notes"),
        [
            "notes",
            "notes",
            "disabled",
            "user",
            "read: ~/notes; write: /tmp/out; net: yes"
        ]
    );
    let manifest = std::fs::read_to_string(plugins_dir(&home).join("notes/plugin.toml")).unwrap();
    assert!(manifest.starts_with("# Imported from"), "{manifest}");

    // A shipped plugin's manifest is never edited: its grant goes into plugins.toml.
    let shipped = run(&home, &["grant", "time", "--network"]);
    assert_eq!(shipped.status.code(), Some(0), "{}", text(&shipped.stderr));
    assert_eq!(text(&shipped.stdout), "time: net: yes\n");
    let state = std::fs::read_to_string(home.path().join("config/libre-assistant/plugins.toml"));
    assert!(state.unwrap().contains("[plugins.time]\nnetwork = true"));
    let list = text(&run(&home, &["list"]).stdout);
    assert_eq!(row(&list, "time")[4], "net: yes");
}
