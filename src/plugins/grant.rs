//! `plugins grant`: adding permissions to a user plugin's manifest (imported plugins start
//! with none).
//!
//! Invariants: only a manifest in the user's plugins directory is changed (a shipped one is
//! replaced on upgrade); the new text must pass the schema before it replaces the old file,
//! which happens atomically; the comment lines at the top of the file are kept.

use super::manifest::{self, Manifest, Permissions};
use super::{Plugin, Source};

/// Adds `grant`'s paths (those not already there) and, if it says so, the network to
/// `plugin`'s manifest file. Returns the manifest as written; errors are one line.
pub fn grant(plugin: &Plugin, grant: &Permissions) -> Result<Manifest, String> {
    let id = &plugin.manifest.id;
    if plugin.source != Source::User {
        return Err(format!(
            "{id} is a shipped plugin; copy {} into your plugins directory and grant there (see docs/plugins.md)",
            plugin.dir.display()
        ));
    }
    let path = plugin.manifest_path();
    let old = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut updated = manifest::parse(&path, &old).map_err(|e| e.to_string())?;
    let permissions = &mut updated.permissions;
    for (have, add) in [
        (&mut permissions.read, &grant.read),
        (&mut permissions.write, &grant.write),
    ] {
        for p in add {
            if !have.contains(p) {
                have.push(p.clone());
            }
        }
    }
    permissions.network |= grant.network;
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
        grant(&plugin, &add).unwrap();
        let plugin = user_plugin(
            dir.path(),
            &std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap(),
        );
        let m = grant(&plugin, &add).unwrap();
        assert_eq!(m.permissions.read, ["~/notes"]);
        assert!(m.permissions.network);
        let text = std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap();
        assert!(
            text.starts_with("# Imported from x.json\n# No permissions.\n"),
            "{text}"
        );
    }

    #[test]
    fn shipped_plugins_are_not_changed() {
        let dir = tempfile::tempdir().unwrap();
        let mut plugin = user_plugin(dir.path(), IMPORTED);
        plugin.source = Source::Shipped;
        let e = grant(&plugin, &Permissions::default()).unwrap_err();
        assert!(e.contains("shipped plugin"), "{e}");
    }
}
