//! Import of Claude Desktop and VS Code server lists into manifests.

use std::path::Path;

use serde_json::json;

use super::discovery::{Discovery, Source, discover};
use super::import::{
    ImportOptions, Imported, Server, Skipped, id_from_name, import, parse_servers,
};
use super::manifest::{Manifest, load};
use super::secrets::{Backend, SecretStore};
use super::state::PluginsState;

const CLAUDE: &str = r#"{
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"]
    },
    "GitHub API": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_secret"}
    },
    "remote": {"type": "sse", "url": "https://example.com/sse"}
  }
}"#;

#[test]
fn claude_desktop_servers_parse_and_remote_ones_are_skipped() {
    let json: serde_json::Value = serde_json::from_str(CLAUDE).unwrap();
    assert_eq!(
        parse_servers(&json).unwrap(),
        vec![
            Ok(Server {
                name: "GitHub API".into(),
                command: "docker".into(),
                args: vec![
                    "run".into(),
                    "-i".into(),
                    "--rm".into(),
                    "ghcr.io/github/github-mcp-server".into()
                ],
                url: String::new(),
                env: vec![("GITHUB_PERSONAL_ACCESS_TOKEN".into(), "ghp_secret".into())],
                headers: Vec::new(),
            }),
            Ok(Server {
                name: "filesystem".into(),
                command: "npx".into(),
                args: vec![
                    "-y".into(),
                    "@modelcontextprotocol/server-filesystem".into(),
                    "/Users/me/Desktop".into()
                ],
                url: String::new(),
                env: vec![],
                headers: Vec::new(),
            }),
            Err(Skipped {
                name: "remote".into(),
                reason: "the legacy HTTP+SSE transport is not supported; give the server's Streamable HTTP endpoint (type \"http\")"
                    .into(),
            }),
        ]
    );
}

#[test]
fn vs_code_servers_parse() {
    let json = json!({"servers": {
        "time": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time"]},
        "web": {"type": "http", "url": "https://example.com/mcp"},
        "odd": {"type": "pipe", "command": "x"},
        "broken": {"type": "stdio", "args": ["x"]}
    }});
    assert_eq!(
        parse_servers(&json).unwrap(),
        vec![
            Err(Skipped {
                name: "broken".into(),
                reason: "it has no \"command\"".into(),
            }),
            Err(Skipped {
                name: "odd".into(),
                reason: "type \"pipe\" is not supported; only \"stdio\" and \"http\" (with a url)"
                    .into(),
            }),
            Ok(Server {
                name: "time".into(),
                command: "uvx".into(),
                url: String::new(),
                args: vec!["mcp-server-time".into()],
                env: vec![],
                headers: Vec::new(),
            }),
            Ok(Server {
                name: "web".into(),
                command: String::new(),
                url: "https://example.com/mcp".into(),
                args: vec![],
                env: vec![],
                headers: Vec::new(),
            }),
        ]
    );
    let settings = json!({"mcp": {"servers": {"t": {"command": "c"}}}});
    assert_eq!(parse_servers(&settings).map(|s| s.len()), Some(1));
    assert_eq!(parse_servers(&json!({"other": {}})), None);
}

#[test]
fn a_remote_server_imports_with_its_bearer_token_and_headers_in_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("mcp.json");
    let servers = json!({"servers": {
        "Docs": {"type": "http", "url": "https://docs.example/mcp",
                 "headers": {"Authorization": "Bearer tok-123"}},
        "Keyed": {"type": "http", "url": "https://keyed.example/mcp", "headers": {"X-Api-Key": "k-456"}},
        "Basic": {"type": "http", "url": "https://basic.example/mcp",
                  "headers": {"Authorization": "Basic dXNlcg=="}}
    }});
    std::fs::write(&file, servers.to_string()).unwrap();
    let user = tmp.path().join("plugins");
    let existing = discover(&[], &user, &PluginsState::default());
    let state_path = tmp.path().join("plugins.toml");
    let report = import(&file, &user, &state_path, &existing, &options(tmp.path())).unwrap();
    assert_eq!(report.imported.len(), 2, "{report:?}");
    assert_eq!(
        report.skipped,
        vec![Skipped {
            name: "Basic".into(),
            reason: "an \"Authorization\" header other than \"Bearer …\" is not supported".into(),
        }]
    );
    let manifest = load(&user.join("docs/plugin.toml")).unwrap();
    assert_eq!(
        (
            manifest.url.as_str(),
            manifest.command.as_str(),
            manifest.token_secret.as_deref()
        ),
        ("https://docs.example/mcp", "", Some("TOKEN"))
    );
    let keyed = load(&user.join("keyed/plugin.toml")).unwrap();
    assert_eq!(keyed.token_secret, None);
    assert_eq!(
        keyed.headers.into_iter().collect::<Vec<_>>(),
        [("X-Api-Key".to_string(), "X_API_KEY".to_string())]
    );
    let store = SecretStore::file_only(&tmp.path().join("secrets"));
    assert_eq!(store.get("docs", "TOKEN"), Ok(Some("tok-123".into())));
    assert_eq!(store.get("keyed", "X_API_KEY"), Ok(Some("k-456".into())));
    for id in ["docs", "keyed"] {
        let text = std::fs::read_to_string(user.join(format!("{id}/plugin.toml"))).unwrap();
        assert!(
            !text.contains("tok-123") && !text.contains("k-456"),
            "{text}"
        );
    }
}

#[test]
fn ids_are_made_from_names() {
    assert_eq!(id_from_name("GitHub API"), "github-api");
    assert_eq!(id_from_name("my_server.v2"), "my-server-v2");
    assert_eq!(id_from_name("--Time--"), "time");
    assert_eq!(id_from_name("日本"), "");
}

/// Imports into the temporary directory's secret store, installing nothing.
fn options(tmp: &Path) -> ImportOptions {
    ImportOptions {
        secrets: Some(SecretStore::file_only(&tmp.join("secrets"))),
        install: false,
    }
}

#[test]
fn import_writes_disabled_manifests_with_secrets_in_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("claude_desktop_config.json");
    std::fs::write(&file, CLAUDE).unwrap();
    let user = tmp.path().join("plugins");
    let state_path = tmp.path().join("plugins.toml");
    // An existing plugin keeps its id.
    std::fs::create_dir_all(user.join("fs")).unwrap();
    std::fs::write(
        user.join("fs/plugin.toml"),
        "id = \"filesystem\"\nname = \"Mine\"\ncommand = \"mine\"\n",
    )
    .unwrap();
    let existing = discover(&[], &user, &PluginsState::default());

    let report = import(&file, &user, &state_path, &existing, &options(tmp.path())).unwrap();
    let written = user.join("github-api/plugin.toml");
    assert_eq!(
        report.imported,
        vec![Imported {
            name: "GitHub API".into(),
            id: "github-api".into(),
            path: written.clone(),
            env: vec![],
            secrets: vec!["GITHUB_PERSONAL_ACCESS_TOKEN".into()],
            read: vec![],
            installed: None,
        }]
    );
    let store = SecretStore::file_only(&tmp.path().join("secrets"));
    assert_eq!(
        store.get("github-api", "GITHUB_PERSONAL_ACCESS_TOKEN"),
        Ok(Some("ghp_secret".into()))
    );
    assert_eq!(
        store.list().unwrap(),
        [(
            "github-api".into(),
            "GITHUB_PERSONAL_ACCESS_TOKEN".into(),
            Backend::File
        )]
    );
    assert!(report.notes[0].contains("mode 0600"), "{:?}", report.notes);
    assert_eq!(
        report.skipped,
        vec![
            Skipped {
                name: "filesystem".into(),
                reason: format!(
                    "plugin \"filesystem\" already exists ({})",
                    user.join("fs/plugin.toml").display()
                ),
            },
            Skipped {
                name: "remote".into(),
                reason: "the legacy HTTP+SSE transport is not supported; give the server's Streamable HTTP endpoint (type \"http\")"
                    .into(),
            },
        ]
    );
    assert_eq!(
        load(&written).unwrap(),
        Manifest {
            id: "github-api".into(),
            name: "GitHub API".into(),
            description: format!("Imported from {}", file.display()),
            command: "docker".into(),
            args: vec![
                "run".into(),
                "-i".into(),
                "--rm".into(),
                "ghcr.io/github/github-mcp-server".into()
            ],
            secrets: vec!["GITHUB_PERSONAL_ACCESS_TOKEN".into()],
            ..Manifest::default()
        }
    );
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(!text.contains("ghp_secret"), "{text}");

    let state = PluginsState::load(&state_path).unwrap();
    let found = discover(&[], &user, &state);
    let plugin = found.find("github-api").unwrap();
    assert_eq!((plugin.source, plugin.enabled), (Source::User, false));
    assert!(found.find("filesystem").unwrap().enabled);

    // A second import skips what the first wrote.
    let again = import(&file, &user, &state_path, &found, &options(tmp.path())).unwrap();
    assert_eq!(again.imported, vec![]);
    assert_eq!(again.skipped.len(), 3);
}

#[test]
fn an_unusable_file_is_one_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("x.json");
    let run = |text: &str| {
        std::fs::write(&file, text).unwrap();
        import(
            &file,
            &tmp.path().join("plugins"),
            &tmp.path().join("plugins.toml"),
            &Discovery::default(),
            &options(tmp.path()),
        )
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        run("{\"mcpServers\": "),
        format!(
            "{}:1:15: invalid JSON: EOF while parsing a value",
            file.display()
        )
    );
    assert_eq!(
        run("{\"clients\": {}}"),
        format!(
            "{}: no \"mcpServers\" (or VS Code \"servers\") object; expected {{\"mcpServers\": {{\"name\": {{\"command\": …}}}}}}",
            file.display()
        )
    );
    let missing = Path::new("/nonexistent/servers.json");
    let e = import(
        missing,
        tmp.path(),
        &tmp.path().join("p.toml"),
        &Discovery::default(),
        &options(tmp.path()),
    );
    assert!(matches!(e, Err(super::ImportError::Read { .. })), "{e:?}");
}

#[test]
fn arguments_naming_existing_paths_are_granted_for_reading_only() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("projects");
    std::fs::create_dir(&data).unwrap();
    let servers = json!({"mcpServers": {"fs": {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-filesystem", data, "/nonexistent/dir"],
        "env": {"DEBUG": ""}
    }}});
    let file = tmp.path().join("mcp.json");
    std::fs::write(&file, servers.to_string()).unwrap();
    let user = tmp.path().join("plugins");
    let report = import(
        &file,
        &user,
        &tmp.path().join("plugins.toml"),
        &Discovery::default(),
        &options(tmp.path()),
    )
    .unwrap();
    let imported = &report.imported[0];
    assert_eq!(imported.read, [data.to_string_lossy().into_owned()]);
    assert_eq!(imported.env, ["DEBUG"], "an empty value passes through");
    assert!(imported.secrets.is_empty());
    let manifest = load(&imported.path).unwrap();
    assert_eq!(manifest.permissions.read, imported.read);
    assert!(manifest.permissions.write.is_empty() && !manifest.permissions.network);
    // Not installed when asked not to: it still runs through npx.
    assert_eq!(manifest.command, "npx");
}
