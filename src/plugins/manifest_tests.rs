//! Manifest parsing, schema failures as one line each, and expansion.

use std::path::{Path, PathBuf};

use super::manifest::{Limits, Manifest, Permissions, SamplingRule, expand, parse};

const PATH: &str = "/home/u/.config/libre-assistant/plugins/x/plugin.toml";

fn error(text: &str) -> String {
    parse(Path::new(PATH), text)
        .expect_err("the manifest is refused")
        .to_string()
}

const MINIMAL: &str = "id = \"notes\"\nname = \"Notes\"\ncommand = \"notes-server\"\n";

#[test]
fn a_full_manifest_parses() {
    let text = r#"
id = "notes"
name = "Notes"
description = "Search my notes"
command = "${PLUGIN_DIR}/bin/server"
args = ["--root", "~/notes"]
env = ["NOTES_TOKEN"]
secrets = ["NOTES_API_KEY"]
timeout_secs = 90
max_timeout_secs = 1200
max_tool_tokens = 800
sampling = "deny"

[permissions]
read = ["~/notes"]
write = ["/tmp/notes"]
network = true

[limits]
memory_mb = 256
cpu_percent = 80
"#;
    let manifest = parse(Path::new(PATH), text).unwrap();
    assert_eq!(
        manifest,
        Manifest {
            id: "notes".into(),
            name: "Notes".into(),
            description: "Search my notes".into(),
            command: "${PLUGIN_DIR}/bin/server".into(),
            url: String::new(),
            token_secret: None,
            headers: Default::default(),
            args: vec!["--root".into(), "~/notes".into()],
            env: vec!["NOTES_TOKEN".into()],
            secrets: vec!["NOTES_API_KEY".into()],
            timeout_secs: 90,
            max_timeout_secs: 1200,
            max_tool_tokens: 800,
            sampling: SamplingRule::Deny,
            permissions: Permissions {
                read: vec!["~/notes".into()],
                write: vec!["/tmp/notes".into()],
                network: true,
            },
            limits: Limits {
                memory_mb: Some(256),
                cpu_percent: Some(80),
                cpu_window_secs: 30,
            },
        }
    );
}

#[test]
fn defaults_are_no_args_no_env_30_seconds_and_no_permissions() {
    let manifest = parse(Path::new(PATH), MINIMAL).unwrap();
    assert_eq!(
        manifest,
        Manifest {
            id: "notes".into(),
            name: "Notes".into(),
            command: "notes-server".into(),
            ..Manifest::default()
        }
    );
    assert_eq!(manifest.timeout_secs, 30);
    assert_eq!(manifest.permissions.summary(), "net: no");
}

#[test]
fn out_of_range_timeout_names_the_field() {
    assert_eq!(
        error(&format!("{MINIMAL}timeout_secs = 9000\n")),
        format!(
            "{PATH}: timeout_secs: 9000 is greater than the maximum of 600; see docs/plugins.md"
        )
    );
    assert_eq!(
        error(&format!("{MINIMAL}timeout_secs = 0\n")),
        format!("{PATH}: timeout_secs: 0 is less than the minimum of 1; see docs/plugins.md")
    );
}

#[test]
fn wrong_type_names_the_field() {
    assert_eq!(
        error(&format!("{MINIMAL}timeout_secs = \"30\"\n")),
        format!("{PATH}: timeout_secs: \"30\" is not of type \"integer\"; see docs/plugins.md")
    );
    assert_eq!(
        error(&format!("{MINIMAL}[permissions]\nread = [\"~/a\", 3]\n")),
        format!("{PATH}: permissions.read.1: 3 is not of type \"string\"; see docs/plugins.md")
    );
}

#[test]
fn unknown_fields_are_named() {
    assert_eq!(
        error(&format!("{MINIMAL}timeout = 30\n")),
        format!("{PATH}: timeout: unknown field; see docs/plugins.md")
    );
    assert_eq!(
        error(&format!("{MINIMAL}[permissions]\nexec = true\n")),
        format!("{PATH}: permissions.exec: unknown field; see docs/plugins.md")
    );
}

#[test]
fn a_misspelt_key_is_reported_before_the_key_it_leaves_missing() {
    assert_eq!(
        error("id = \"notes\"\nname = \"Notes\"\ncomand = \"x\"\n"),
        format!("{PATH}: comand: unknown field; see docs/plugins.md")
    );
}

#[test]
fn a_bad_id_is_refused() {
    assert_eq!(
        error("id = \"My_Plugin\"\nname = \"N\"\ncommand = \"c\"\n"),
        format!(
            "{PATH}: id: \"My_Plugin\" does not match \"^[a-z0-9][a-z0-9-]*$\"; see docs/plugins.md"
        )
    );
}

#[test]
fn a_missing_command_is_named() {
    assert_eq!(
        error("id = \"notes\"\nname = \"Notes\"\n"),
        format!(
            "{PATH}: command: give a command (a local server) or a url (a remote one); see docs/plugins.md"
        )
    );
}

#[test]
fn a_remote_server_takes_https_or_http_on_this_machine() {
    let head = "id = \"r\"\nname = \"R\"\n";
    let ok = |body: &str| parse(Path::new(PATH), &format!("{head}{body}")).map(|m| m.url);
    assert_eq!(
        ok("url = \"https://mcp.example/mcp\"\n").unwrap(),
        "https://mcp.example/mcp"
    );
    assert!(ok("url = \"http://127.0.0.1:3001/mcp\"\ntoken_secret = \"TOKEN\"\n").is_ok());
    assert!(ok("url = \"http://[::1]:3001/mcp\"\n").is_ok());
    for (body, problem) in [
        (
            "url = \"http://mcp.example/mcp\"\n",
            "url: plain http is allowed only to this machine",
        ),
        (
            "url = \"http://localhost.evil.example/\"\n",
            "not \"localhost.evil.example\"",
        ),
        (
            "url = \"https://x/\"\ncommand = \"c\"\n",
            "url: give a command or a url, not both",
        ),
        (
            "command = \"c\"\ntoken_secret = \"T\"\n",
            "token_secret: only a remote server",
        ),
        ("url = \"ftp://x/\"\n", "url: \"ftp://x/\" does not match"),
    ] {
        let err = error(&format!("{head}{body}"));
        assert!(err.contains(problem), "{body}: {err}");
    }
}

#[test]
fn a_bad_variable_name_is_refused() {
    assert_eq!(
        error(&format!("{MINIMAL}env = [\"MY-VAR\"]\n")),
        format!(
            "{PATH}: env.0: \"MY-VAR\" does not match \"^[A-Za-z_][A-Za-z0-9_]*$\"; see docs/plugins.md"
        )
    );
}

#[test]
fn toml_syntax_errors_keep_line_and_column() {
    assert_eq!(
        error("id = \"notes\"\nname = \n"),
        format!(
            "{PATH}:2:8: invalid TOML: string values must be quoted, expected literal string; see docs/plugins.md"
        )
    );
}

#[test]
fn tilde_and_plugin_dir_expand() {
    let dir = Path::new("/opt/plugins/notes");
    let home = Some(Path::new("/home/u"));
    assert_eq!(expand("~", dir, home), "/home/u");
    assert_eq!(expand("~/notes", dir, home), "/home/u/notes");
    assert_eq!(expand("~bob/x", dir, home), "~bob/x");
    assert_eq!(expand("a~/b", dir, home), "a~/b");
    assert_eq!(expand("~/x", dir, None), "~/x");
    assert_eq!(
        expand("--config=${PLUGIN_DIR}/c.json", dir, home),
        "--config=/opt/plugins/notes/c.json"
    );

    let manifest = Manifest {
        command: "${PLUGIN_DIR}/server".into(),
        args: vec!["~/notes".into(), "plain".into()],
        permissions: Permissions {
            read: vec!["~/notes".into()],
            write: vec!["${PLUGIN_DIR}/cache".into()],
            network: false,
        },
        ..parse(Path::new(PATH), MINIMAL).unwrap()
    };
    let expanded = manifest.expanded(dir, home);
    assert_eq!(
        (
            expanded.command.as_str(),
            expanded.args.clone(),
            expanded.permissions.clone()
        ),
        (
            "/opt/plugins/notes/server",
            vec!["/home/u/notes".to_string(), "plain".to_string()],
            Permissions {
                read: vec!["/home/u/notes".into()],
                write: vec!["/opt/plugins/notes/cache".into()],
                network: false,
            }
        )
    );
    assert_eq!(expanded.id, manifest.id);
}

#[test]
fn permission_summary_leaves_out_empty_lists() {
    let p = Permissions {
        read: vec!["~/notes".into(), "~/docs".into()],
        write: vec![],
        network: false,
    };
    assert_eq!(p.summary(), "read: ~/notes, ~/docs; net: no");
    let p = Permissions {
        read: vec![],
        write: vec!["/tmp".into()],
        network: true,
    };
    assert_eq!(p.summary(), "write: /tmp; net: yes");
}

#[test]
fn a_written_manifest_parses_back() {
    let manifest = Manifest {
        args: vec!["-y".into(), "pkg@1.2".into()],
        env: vec!["TOKEN".into()],
        ..parse(Path::new(PATH), MINIMAL).unwrap()
    };
    let text = manifest.to_toml().unwrap();
    assert_eq!(parse(&PathBuf::from(PATH), &text).unwrap(), manifest);
}

#[test]
fn self_expands_to_this_executable() {
    let dir = Path::new("/opt/plugins/calc");
    let exe = std::env::current_exe().unwrap();
    assert_eq!(expand("${SELF}", dir, None), exe.to_string_lossy());
    assert_eq!(expand("plain", dir, None), "plain");
}
