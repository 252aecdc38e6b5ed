//! `plugins grant` and `plugins secret set`: adding permissions or a secret's name to a
//! plugin.
//!
//! Invariants: a user plugin's manifest is changed in place (it must pass the schema before it
//! replaces the old file, atomically; the comment lines at the top are kept); a shipped
//! plugin's manifest is never changed (it is replaced on upgrade): its grants go into
//! `plugins.toml`, and discovery adds them to what its manifest declares.

use std::path::Path;

use super::manifest::{self, Manifest, Permissions};
use super::state::PluginsState;
use super::{Plugin, Source};

/// Adds `grant`'s paths (those not already there) and, if it says so, the network to
/// `plugin`: to its manifest if it is the user's, else to its entry in `state_path`. Returns
/// the plugin's permissions after the grant; errors are one line.
pub fn grant(
    plugin: &Plugin,
    grant: &Permissions,
    state_path: &Path,
) -> Result<Permissions, String> {
    match plugin.source {
        Source::User => rewrite(plugin, |m| add(&mut m.permissions, grant)).map(|m| m.permissions),
        Source::Shipped => {
            let mut state = PluginsState::load(state_path).map_err(|e| e.to_string())?;
            let granted = state.grant(&plugin.manifest.id, grant);
            state.save(state_path).map_err(|e| e.to_string())?;
            let mut all = plugin.manifest.permissions.clone();
            add(&mut all, &granted);
            Ok(all)
        }
    }
}

/// Adds `add`'s paths that `to` lacks, and the network if `add` has it.
pub fn add(to: &mut Permissions, add: &Permissions) {
    for (have, more) in [(&mut to.read, &add.read), (&mut to.write, &add.write)] {
        for p in more {
            if !have.contains(p) {
                have.push(p.clone());
            }
        }
    }
    to.network |= add.network;
}

/// Names `secret` in a user plugin's `secrets`, so the plugin receives it.
pub fn name_secret(plugin: &Plugin, secret: &str) -> Result<Manifest, String> {
    if plugin.manifest.secrets.iter().any(|s| s == secret) {
        return Ok(plugin.manifest.clone());
    }
    if plugin.source != Source::User {
        return Err(format!(
            "{} is a shipped plugin and takes no secrets",
            plugin.manifest.id
        ));
    }
    rewrite(plugin, |m| m.secrets.push(secret.to_owned()))
}

/// Applies `change` to a user plugin's manifest file, checked against the schema and written
/// atomically, keeping its leading comment lines.
fn rewrite(plugin: &Plugin, change: impl FnOnce(&mut Manifest)) -> Result<Manifest, String> {
    let path = plugin.manifest_path();
    let old = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut updated = manifest::parse(&path, &old).map_err(|e| e.to_string())?;
    change(&mut updated);
    let header: String = old
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let body = updated
        .to_toml()
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    let text = format!("{header}{body}");
    manifest::parse(&path, &text).map_err(|e| e.to_string())?;
    let tmp = path.with_extension(format!("toml.{}.tmp", std::process::id()));
    std::fs::write(&tmp, &text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("{}: cannot write: {e}", path.display())
        })?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::MANIFEST_FILE;

    fn user_plugin(dir: &std::path::Path, text: &str) -> Plugin {
        std::fs::write(dir.join(MANIFEST_FILE), text).unwrap();
        Plugin {
            manifest: manifest::parse(&dir.join(MANIFEST_FILE), text).unwrap(),
            dir: dir.to_owned(),
            source: Source::User,
            enabled: false,
        }
    }

    const IMPORTED: &str = "# Imported from x.json\n# No permissions.\nid = \"notes\"\nname = \"notes\"\ncommand = \"notes-server\"\n";

    #[test]
    fn grants_add_paths_once_and_keep_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let plugin = user_plugin(dir.path(), IMPORTED);
        let add = Permissions {
            read: vec!["~/notes".into()],
            write: vec![],
            network: true,
        };
        let state = dir.path().join("plugins.toml");
        grant(&plugin, &add, &state).unwrap();
        let plugin = user_plugin(
            dir.path(),
            &std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap(),
        );
        let p = grant(&plugin, &add, &state).unwrap();
        assert_eq!(p.read, ["~/notes"]);
        assert!(p.network);
        assert!(
            !state.exists(),
            "a user plugin's grant goes into its manifest"
        );
        let text = std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap();
        assert!(
            text.starts_with("# Imported from x.json\n# No permissions.\n"),
            "{text}"
        );
    }

    #[test]
    fn a_shipped_plugin_is_granted_in_plugins_toml_not_in_its_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let mut plugin = user_plugin(dir.path(), IMPORTED);
        plugin.source = Source::Shipped;
        let state = dir.path().join("plugins.toml");
        let add = Permissions {
            read: vec!["~/Documents".into()],
            ..Permissions::default()
        };
        let p = grant(&plugin, &add, &state).unwrap();
        assert_eq!(p.read, ["~/Documents"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap(),
            IMPORTED
        );
        let saved = PluginsState::load(&state).unwrap();
        assert_eq!(saved.plugins["notes"].read, ["~/Documents"]);
        let e = name_secret(&plugin, "TOKEN").unwrap_err();
        assert!(e.contains("shipped plugin"), "{e}");
    }
}
