//! Importing another client's mcpServers file as a new user would, on the real binary: an
//! `npx` filesystem server and a server with an API token. The npx package is installed into
//! the plugin's directory and runs sandboxed, reading only the directory it was given; the
//! token goes to the secret store (here the 0600 fallback file: CI has no keyring), reaches
//! the plugin's environment, and appears in no config, state or log file nor the audit log. A
//! fallback file others can read is refused.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use support::Home;

const FS_TOKEN: &str = "tok-fs-7f3a9c";
const EVERYTHING_TOKEN: &str = "tok-everything-51d0e2";

/// `libre-assistant plugins ARGS` in `home`, with npm reading the cache the test servers were
/// installed from (the test's HOME has none).
fn plugins(home: &Home, args: &[&str]) -> Output {
    let real_home = std::env::var_os("HOME").map(PathBuf::from).unwrap();
    home.command()
        .env("npm_config_cache", real_home.join(".npm"))
        .arg("plugins")
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The files under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if kind.is_file() {
            let bytes = std::fs::read(&path).unwrap_or_default();
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn an_imported_npx_filesystem_server_and_a_token_work_sandboxed() {
    let home = Home::new();
    let projects = home.path().join("projects");
    let other = home.path().join("other");
    std::fs::create_dir_all(&projects).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(projects.join("notes.txt"), "the plan\n").unwrap();
    std::fs::write(other.join("private.txt"), "not for plugins\n").unwrap();
    let everything = support::test_servers().join("mcp-server-everything");
    let servers = json!({"mcpServers": {
        "filesystem": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-filesystem@2026.8.31", projects],
            "env": {"FS_TOKEN": FS_TOKEN}
        },
        "everything": {
            "command": everything,
            "args": ["stdio"],
            "env": {"EVERYTHING_TOKEN": EVERYTHING_TOKEN}
        }
    }});
    let file = home.path().join("claude_desktop_config.json");
    std::fs::write(&file, servers.to_string()).unwrap();

    let out = plugins(&home, &["import", file.to_str().unwrap()]);
    let text = ok(&out);
    assert!(
        text.contains("installed @modelcontextprotocol/server-filesystem@2026.8.31"),
        "{text}"
    );
    assert!(
        text.contains(&format!("it may read {}", projects.display())),
        "{text}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no OS keyring is available"),
        "warned once: {stderr}"
    );
    // Deleting the original file: the token lives on only in the secret store.
    std::fs::remove_file(&file).unwrap();
    ok(&plugins(&home, &["enable", "filesystem"]));
    ok(&plugins(&home, &["enable", "everything"]));

    // The filesystem server reads the directory it was given.
    let listing = ok(&plugins(
        &home,
        &[
            "call",
            "filesystem",
            "list_directory",
            &json!({"path": projects}).to_string(),
        ],
    ));
    assert!(listing.contains("notes.txt"), "{listing}");

    // It may not read elsewhere, even where its own arguments would let it. Either the server
    // has taken the roots we advertise (its granted directories) as its allowed directories
    // and refuses, or, asked before it fetched them, it tries and the kernel says no.
    let manifest = home
        .path()
        .join("config/libre-assistant/plugins/filesystem/plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let both = format!("\"{}\", \"{}\"]", projects.display(), other.display());
    let text = text.replacen(&format!("\"{}\"]", projects.display()), &both, 1);
    std::fs::write(&manifest, text).unwrap();
    let read = plugins(
        &home,
        &[
            "call",
            "filesystem",
            "read_text_file",
            &json!({"path": other.join("private.txt")}).to_string(),
            "--json",
        ],
    );
    let result: Value = serde_json::from_slice(&read.stdout).unwrap_or(Value::Null);
    let shown = format!("{result} {}", String::from_utf8_lossy(&read.stderr));
    assert!(!shown.contains("not for plugins"), "{shown}");
    let refusal = format!(
        "outside allowed directories: {} not in {}",
        other.join("private.txt").display(),
        projects.display()
    );
    let kernel = format!(
        "EACCES: permission denied, open '{}'",
        other.join("private.txt").display()
    );
    assert!(
        shown.contains(&refusal) || shown.contains(&kernel),
        "{shown}"
    );

    // The plugin receives its token in its environment.
    let env = ok(&plugins(&home, &["call", "everything", "get-env"]));
    assert!(env.contains(EVERYTHING_TOKEN), "{env}");
    assert!(!env.contains(FS_TOKEN), "a plugin saw another's secret");

    // Nowhere else: not in config, state or log files, not in the audit log.
    for dir in ["config", "state"] {
        for token in [FS_TOKEN, EVERYTHING_TOKEN] {
            let leaked = files_containing(&home.path().join(dir), token);
            assert!(leaked.is_empty(), "{token} leaked into {leaked:?}");
        }
    }
    let audit = home.path().join("state/libre-assistant/audit.jsonl");
    assert!(std::fs::read_to_string(&audit).unwrap().contains("get-env"));
    let show = ok(&plugins(&home, &["show", "everything"]));
    assert!(
        show.contains("EVERYTHING_TOKEN") && !show.contains(EVERYTHING_TOKEN),
        "{show}"
    );

    // The fallback file is private; opened up, it is refused, plainly.
    let store = home
        .path()
        .join("data/libre-assistant/secrets/secrets.toml");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store), 0o600);
    assert_eq!(mode(store.parent().unwrap()), 0o700);
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = plugins(&home, &["call", "everything", "get-env"]);
    assert_eq!(refused.status.code(), Some(8));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("its mode 0644 lets other users in") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!err.contains(EVERYTHING_TOKEN));
    let listed = plugins(&home, &["secret", "list"]);
    assert_eq!(
        listed.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
}

#[test]
fn secret_set_reads_stdin_names_the_secret_and_rm_removes_it() {
    let home = Home::new();
    let dir = home.path().join("config/libre-assistant/plugins/notes");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        "id = \"notes\"\nname = \"Notes\"\ncommand = \"notes-server\"\n",
    )
    .unwrap();
    let mut child = home
        .command()
        .args(["plugins", "secret", "set", "notes", "NOTES_KEY"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"k-42\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(ok(&out), "stored NOTES_KEY for notes in the file\n");
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    assert!(manifest.contains("secrets = [\"NOTES_KEY\"]"), "{manifest}");
    assert!(!manifest.contains("k-42"));
    assert_eq!(
        ok(&plugins(&home, &["secret", "list"])),
        "notes  NOTES_KEY  file\n"
    );
    assert_eq!(
        ok(&plugins(&home, &["secret", "rm", "notes", "NOTES_KEY"])),
        "removed NOTES_KEY of notes\n"
    );
    assert_eq!(
        plugins(&home, &["secret", "rm", "notes", "NOTES_KEY"])
            .status
            .code(),
        Some(2)
    );
}
