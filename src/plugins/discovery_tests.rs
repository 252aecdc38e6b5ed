//! Discovery over temporary directories: good, bad and duplicate manifests, and precedence.

use std::path::{Path, PathBuf};

use super::discovery::{Source, discover};
use super::state::PluginsState;

fn write_plugin(root: &Path, dir: &str, text: &str) -> PathBuf {
    let dir = root.join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plugin.toml"), text).unwrap();
    dir
}

fn manifest(id: &str, name: &str) -> String {
    format!("id = \"{id}\"\nname = \"{name}\"\ncommand = \"server\"\n")
}

/// (id, name, source, enabled) of each plugin found.
fn summary(found: &super::Discovery) -> Vec<(String, String, Source, bool)> {
    found
        .plugins
        .iter()
        .map(|p| {
            (
                p.manifest.id.clone(),
                p.manifest.name.clone(),
                p.source,
                p.enabled,
            )
        })
        .collect()
}

#[test]
fn good_plugins_load_and_bad_ones_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let user = tmp.path().join("user");
    write_plugin(&user, "b", &manifest("beta", "Beta"));
    write_plugin(&user, "a", &manifest("alpha", "Alpha"));
    let bad = write_plugin(
        &user,
        "c",
        &format!("{}timeout_secs = 9000\n", manifest("gamma", "Gamma")),
    );
    std::fs::create_dir_all(user.join("no-manifest")).unwrap();
    std::fs::write(user.join("README.md"), "not a plugin").unwrap();

    let found = discover(&[], &user, &PluginsState::default());
    assert_eq!(
        summary(&found),
        vec![
            ("alpha".into(), "Alpha".into(), Source::User, true),
            ("beta".into(), "Beta".into(), Source::User, true),
        ]
    );
    assert_eq!(
        found.problems,
        vec![format!(
            "{}: timeout_secs: 9000 is greater than the maximum of 600; see docs/plugins.md",
            bad.join("plugin.toml").display()
        )]
    );
    assert_eq!(
        found.find("beta").map(|p| p.dir.clone()),
        Some(user.join("b"))
    );
}

#[test]
fn the_user_wins_over_shipped_and_a_duplicate_in_one_directory_is_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let shipped = tmp.path().join("shipped");
    let extra = tmp.path().join("extra");
    let user = tmp.path().join("user");
    write_plugin(&shipped, "time", &manifest("time", "Shipped time"));
    write_plugin(&shipped, "calc", &manifest("calc", "Shipped calc"));
    write_plugin(&extra, "calc", &manifest("calc", "Extra calc"));
    write_plugin(&user, "my-time", &manifest("time", "My time"));
    let second = write_plugin(&user, "other-time", &manifest("time", "Other time"));

    let mut state = PluginsState::default();
    state.set_enabled("calc", false);
    let found = discover(&[shipped, extra, tmp.path().join("missing")], &user, &state);
    assert_eq!(
        summary(&found),
        vec![
            ("calc".into(), "Extra calc".into(), Source::Shipped, false),
            ("time".into(), "My time".into(), Source::User, true),
        ]
    );
    assert_eq!(
        found.problems,
        vec![format!(
            "{}: id: \"time\" is already used by {}; rename one of them",
            second.join("plugin.toml").display(),
            user.join("my-time/plugin.toml").display()
        )]
    );
}

#[test]
fn enabled_state_round_trips_through_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config/plugins.toml");
    assert_eq!(PluginsState::load(&path).unwrap(), PluginsState::default());
    let mut state = PluginsState::default();
    state.set_enabled("time", false);
    state.set_enabled("calc", true);
    state.save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[plugins.time]\nenabled = false"), "{text}");
    let back = PluginsState::load(&path).unwrap();
    assert_eq!(back, state);
    assert!(!back.is_enabled("time") && back.is_enabled("calc") && back.is_enabled("other"));
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("plugins.toml")]);
}

#[test]
fn a_bad_state_file_names_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("plugins.toml");
    std::fs::write(&path, "[plugins.time]\nenabled = \"no\"\n").unwrap();
    assert_eq!(
        PluginsState::load(&path).unwrap_err().to_string(),
        format!(
            "{}:2:11: invalid type: string \"no\", expected a boolean; fix or delete the file (see docs/plugins.md)",
            path.display()
        )
    );
}
