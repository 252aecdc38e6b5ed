//! Discovery: every subdirectory with a `plugin.toml`, in the shipped directories and then the
//! user's plugins directory.
//!
//! Invariants: ids in a [`Discovery`] are unique and sorted; a later directory replaces an
//! earlier one's plugin of the same id (the user's win over shipped ones); two plugins with one
//! id in the same directory keep the first (by directory name) and report the second. A bad
//! manifest is reported and skipped, never fatal.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::manifest::{self, MANIFEST_FILE, Manifest};
use super::state::PluginsState;

/// Where a plugin was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// In a directory of plugins shipped with libre-assistant.
    Shipped,
    /// In the user's plugins directory.
    User,
}

/// One discovered plugin with a valid manifest, its permissions including what `plugins.toml`
/// grants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plugin {
    /// Its manifest, as written (not expanded).
    pub manifest: Manifest,
    /// The plugin's directory (holds `plugin.toml`; `${PLUGIN_DIR}` expands to it).
    pub dir: PathBuf,
    /// Shipped or the user's.
    pub source: Source,
    /// Whether the user has it enabled.
    pub enabled: bool,
}

/// The plugins found, and one line per manifest that was skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Valid plugins, sorted by id.
    pub plugins: Vec<Plugin>,
    /// Problems, one line each: `<path>: <field>: <what is wrong>; …`.
    pub problems: Vec<String>,
}

impl Source {
    /// `shipped` or `user`.
    pub fn label(self) -> &'static str {
        match self {
            Source::Shipped => "shipped",
            Source::User => "user",
        }
    }
}

impl Plugin {
    /// The path of its `plugin.toml`.
    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join(MANIFEST_FILE)
    }
}

impl Discovery {
    /// The plugin with this id.
    pub fn find(&self, id: &str) -> Option<&Plugin> {
        self.plugins.iter().find(|p| p.manifest.id == id)
    }
}

/// Scans `shipped` directories (in order; a later one wins), then `user`, which wins over all
/// of them. Missing directories are skipped; `state` says which plugins are enabled.
pub fn discover(shipped: &[PathBuf], user: &Path, state: &PluginsState) -> Discovery {
    let roots = shipped
        .iter()
        .map(|dir| (dir.as_path(), Source::Shipped))
        .chain([(user, Source::User)]);
    let mut found: BTreeMap<String, Plugin> = BTreeMap::new();
    let mut problems = Vec::new();
    for (root, source) in roots {
        let mut here: BTreeMap<String, PathBuf> = BTreeMap::new();
        for dir in plugin_dirs(root, &mut problems) {
            let path = dir.join(MANIFEST_FILE);
            let manifest = match manifest::load(&path) {
                Ok(m) => m,
                Err(e) => {
                    problems.push(e.to_string());
                    continue;
                }
            };
            if let Some(first) = here.get(&manifest.id) {
                problems.push(format!(
                    "{}: id: {:?} is already used by {}; rename one of them",
                    path.display(),
                    manifest.id,
                    first.display()
                ));
                continue;
            }
            here.insert(manifest.id.clone(), path);
            let enabled = state.is_enabled(&manifest.id);
            let mut manifest = manifest;
            super::grant::add(&mut manifest.permissions, &state.granted(&manifest.id));
            // A remote server is reached over the network, whatever its manifest says.
            manifest.permissions.network |= manifest.is_remote();
            found.insert(
                manifest.id.clone(),
                Plugin {
                    manifest,
                    dir,
                    source,
                    enabled,
                },
            );
        }
    }
    Discovery {
        plugins: found.into_values().collect(),
        problems,
    }
}

/// The subdirectories of `root` that hold a manifest, sorted by name.
fn plugin_dirs(root: &Path, problems: &mut Vec<String>) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            problems.push(format!(
                "{}: cannot read the plugins directory: {e}",
                root.display()
            ));
            return Vec::new();
        }
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join(MANIFEST_FILE).is_file())
        .collect();
    dirs.sort();
    dirs
}
