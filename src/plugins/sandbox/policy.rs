//! One plugin's sandbox policy: the paths it may read, the paths it may write, and whether it
//! may use the network, decided in the host from its manifest and passed to the launcher.
//!
//! Read-only: what interpreters need to start (system libraries, TLS and name-service files,
//! `/proc`), the program's install directories (`programs.rs`), the plugin's directory and the
//! manifest's `read`. Read-write: `/dev/null`, the plugin's private directory under
//! `<state dir>/plugins/<id>` (its `TMPDIR` and cache) and the manifest's `write`.
//!
//! Invariant: a grant that would expose libre-assistant's own files is refused, never narrowed:
//! no `write` may overlap the config, data or state directories (a plugin could rewrite its own
//! manifest, the always-allow answers or the audit log), and no `read` may cover the secret
//! store.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Mode;

/// Read-only for every plugin: what dynamic linking, TLS, user lookups and runtimes need.
/// Paths that do not exist on this system are skipped.
#[cfg(not(target_os = "macos"))]
pub const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/timezone",
    "/proc",
    "/sys/devices/system/cpu",
    "/sys/fs/cgroup",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
];

/// Read-only for every plugin on macOS (Seatbelt): libraries, frameworks, `/etc`, time zones,
/// the random devices, and Homebrew's prefixes.
#[cfg(target_os = "macos")]
pub const SYSTEM_READ: &[&str] = &[
    "/usr/lib",
    "/usr/share",
    "/usr/bin",
    "/bin",
    "/System",
    "/Library/Apple",
    "/private/etc",
    "/private/var/db/timezone",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
    "/opt/homebrew",
    "/usr/local",
];

/// Read-only when the plugin may use the network: name resolution.
pub const NETWORK_READ: [&str; 6] = [
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/run/systemd/resolve",
];

/// Files a plugin larger than this cannot write (`RLIMIT_FSIZE`), in MiB.
pub const FILE_SIZE_MB: u64 = 1024;

/// The most open files a plugin may have (`RLIMIT_NOFILE`, soft and hard).
pub const OPEN_FILES: u64 = 4096;

/// What the launcher applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The plugin's id, for messages.
    pub plugin: String,
    /// Read and execute, everything beneath.
    pub read: Vec<PathBuf>,
    /// Read, write, create and remove, everything beneath.
    pub write: Vec<PathBuf>,
    /// TCP and UDP sockets allowed (unix sockets never are).
    pub network: bool,
    /// `RLIMIT_FSIZE`, in MiB.
    pub file_size_mb: u64,
    /// `RLIMIT_NOFILE`.
    pub open_files: u64,
    /// `Required`: refuse to run what the kernel cannot confine.
    pub mode: Mode,
}

/// libre-assistant's own files that no grant may expose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protected {
    /// The config directory (manifests, plugins.toml).
    pub config: PathBuf,
    /// The data directory (models, the secret store).
    pub data: PathBuf,
    /// The state directory (audit log, usage, logs, plugin directories).
    pub state: PathBuf,
    /// The secret store's directory (its fallback file).
    pub secrets: PathBuf,
}

/// A plugin's private directories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginDirs {
    /// `<state>/plugins/<id>`: the plugin may write here.
    pub root: PathBuf,
    /// Its `TMPDIR`, emptied at every start.
    pub tmp: PathBuf,
    /// Its `XDG_CACHE_HOME` and npm cache.
    pub cache: PathBuf,
}

/// The private directories of plugin `id` under the state directory `state`.
pub fn plugin_dirs(state: &Path, id: &str) -> PluginDirs {
    let root = state.join("plugins").join(id);
    PluginDirs {
        tmp: root.join("tmp"),
        cache: root.join("cache"),
        root,
    }
}

/// Why a policy cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A grant would expose libre-assistant's own files.
    #[error(
        "permissions.{key} {path} covers libre-assistant's {what} ({}); grant a narrower directory with `libre-assistant plugins grant`, or edit the manifest",
        .protected.display()
    )]
    Exposes {
        /// `read` or `write`.
        key: &'static str,
        /// The grant, as expanded.
        path: String,
        /// What it exposes, in words.
        what: &'static str,
        /// The protected path.
        protected: PathBuf,
    },
}

/// What [`build`] needs to know about the plugin.
pub struct Request<'a> {
    /// The plugin's id.
    pub id: &'a str,
    /// Its directory.
    pub dir: &'a Path,
    /// Its program's install directories (`programs::install_roots`).
    pub program_roots: Vec<PathBuf>,
    /// The manifest's `read`, expanded.
    pub read: &'a [String],
    /// The manifest's `write`, expanded.
    pub write: &'a [String],
    /// The manifest's `network`.
    pub network: bool,
}

/// The policy for `request`, or why one of its grants is refused.
pub fn build(
    request: Request<'_>,
    dirs: &PluginDirs,
    protected: &Protected,
    mode: Mode,
) -> Result<Policy, PolicyError> {
    for grant in request.write {
        let grant_path = Path::new(grant);
        for (what, dir) in [
            ("config directory", &protected.config),
            ("data directory", &protected.data),
            ("state directory", &protected.state),
        ] {
            if overlaps(grant_path, dir) {
                return Err(PolicyError::Exposes {
                    key: "write",
                    path: grant.clone(),
                    what,
                    protected: dir.clone(),
                });
            }
        }
    }
    for grant in request.read.iter().chain(request.write) {
        if overlaps(Path::new(grant), &protected.secrets) {
            let key = if request.read.contains(grant) {
                "read"
            } else {
                "write"
            };
            return Err(PolicyError::Exposes {
                key,
                path: grant.clone(),
                what: "secret store",
                protected: protected.secrets.clone(),
            });
        }
    }
    let mut read: Vec<PathBuf> = SYSTEM_READ.iter().map(PathBuf::from).collect();
    if request.network {
        read.extend(NETWORK_READ.iter().map(PathBuf::from));
    }
    read.extend(request.program_roots);
    read.push(request.dir.to_path_buf());
    read.extend(request.read.iter().map(PathBuf::from));
    let mut write = vec![PathBuf::from("/dev/null"), dirs.root.clone()];
    write.extend(request.write.iter().map(PathBuf::from));
    Ok(Policy {
        plugin: request.id.to_owned(),
        read: dedup(read),
        write: dedup(write),
        network: request.network,
        file_size_mb: FILE_SIZE_MB,
        open_files: OPEN_FILES,
        mode,
    })
}

impl Policy {
    /// Variables the sandboxed plugin gets on top of its manifest's: a private temp and cache
    /// directory (caches under `~` are not writable), no Python bytecode writes into read-only
    /// packages, and git's global config read from `/dev/null` unless `~/.gitconfig` is granted
    /// (git dies on an unreadable config file, not on a missing one).
    pub fn environment(&self, dirs: &PluginDirs, home: Option<&Path>) -> Vec<(String, OsString)> {
        let mut env = vec![
            ("TMPDIR".to_owned(), dirs.tmp.clone().into_os_string()),
            (
                "XDG_CACHE_HOME".to_owned(),
                dirs.cache.clone().into_os_string(),
            ),
            (
                "npm_config_cache".to_owned(),
                dirs.cache.join("npm").into_os_string(),
            ),
            ("PYTHONDONTWRITEBYTECODE".to_owned(), OsString::from("1")),
        ];
        let gitconfig = home.map(|h| h.join(".gitconfig"));
        let granted = gitconfig.is_some_and(|g| self.read.iter().any(|r| g.starts_with(r)));
        if !granted {
            env.push(("GIT_CONFIG_GLOBAL".to_owned(), OsString::from("/dev/null")));
        }
        env
    }
}

/// Whether one of `a` and `b` lies beneath the other.
fn overlaps(a: &Path, b: &Path) -> bool {
    let (a, b) = (normal(a), normal(b));
    a.starts_with(&b) || b.starts_with(&a)
}

/// `path` canonical if it exists (symlinks and `..` resolved), else as written.
fn normal(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn dedup(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::with_capacity(paths.len());
    for p in paths {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protected(root: &Path) -> Protected {
        Protected {
            config: root.join("config/libre-assistant"),
            data: root.join("data/libre-assistant"),
            state: root.join("state/libre-assistant"),
            secrets: root.join("data/libre-assistant/secrets.toml"),
        }
    }

    fn request<'a>(read: &'a [String], write: &'a [String], network: bool) -> Request<'a> {
        Request {
            id: "notes",
            dir: Path::new("/plugins/notes"),
            program_roots: vec![PathBuf::from("/opt/notes")],
            read,
            write,
            network,
        }
    }

    #[test]
    fn a_policy_has_the_system_the_program_the_grants_and_a_private_directory() {
        let root = Path::new("/home/me");
        let dirs = plugin_dirs(&root.join("state/libre-assistant"), "notes");
        let read = ["/home/me/notes".to_owned()];
        let write = ["/home/me/notes/out".to_owned()];
        let p = build(
            request(&read, &write, false),
            &dirs,
            &protected(root),
            Mode::Required,
        )
        .unwrap();
        assert!(
            p.read
                .starts_with(&[PathBuf::from("/usr"), PathBuf::from("/lib")])
        );
        assert!(p.read.ends_with(&[
            PathBuf::from("/opt/notes"),
            PathBuf::from("/plugins/notes"),
            PathBuf::from("/home/me/notes"),
        ]));
        assert!(!p.read.contains(&PathBuf::from("/etc/resolv.conf")));
        assert_eq!(
            p.write,
            [
                PathBuf::from("/dev/null"),
                PathBuf::from("/home/me/state/libre-assistant/plugins/notes"),
                PathBuf::from("/home/me/notes/out"),
            ]
        );
        assert!(!p.network);
        let networked = build(
            request(&[], &[], true),
            &dirs,
            &protected(root),
            Mode::Required,
        );
        assert!(
            networked
                .unwrap()
                .read
                .contains(&PathBuf::from("/etc/resolv.conf"))
        );
    }

    #[test]
    fn grants_over_our_own_files_are_refused() {
        let root = Path::new("/home/me");
        let dirs = plugin_dirs(&root.join("state/libre-assistant"), "notes");
        let home = ["/home/me".to_owned()];
        let e = build(
            request(&[], &home, false),
            &dirs,
            &protected(root),
            Mode::Required,
        );
        assert_eq!(
            e.unwrap_err().to_string(),
            "permissions.write /home/me covers libre-assistant's config directory \
             (/home/me/config/libre-assistant); grant a narrower directory with \
             `libre-assistant plugins grant`, or edit the manifest"
        );
        let inside = ["/home/me/config/libre-assistant/plugins/notes".to_owned()];
        let e = build(
            request(&[], &inside, false),
            &dirs,
            &protected(root),
            Mode::Required,
        );
        assert!(matches!(e, Err(PolicyError::Exposes { key: "write", .. })));
        let e = build(
            request(&home, &[], false),
            &dirs,
            &protected(root),
            Mode::Required,
        );
        assert!(
            matches!(
                &e,
                Err(PolicyError::Exposes {
                    key: "read",
                    what: "secret store",
                    ..
                })
            ),
            "{e:?}"
        );
        // Reading the config (manifests) is fine.
        let config = ["/home/me/config".to_owned()];
        assert!(
            build(
                request(&config, &[], false),
                &dirs,
                &protected(root),
                Mode::Required
            )
            .is_ok()
        );
    }

    #[test]
    fn git_reads_its_global_config_from_dev_null_unless_granted() {
        let dirs = plugin_dirs(Path::new("/s"), "g");
        let home = Path::new("/home/me");
        let mut p = build(
            request(&[], &[], false),
            &dirs,
            &protected(home),
            Mode::Required,
        )
        .unwrap();
        let env = p.environment(&dirs, Some(home));
        assert!(env.contains(&("GIT_CONFIG_GLOBAL".to_owned(), OsString::from("/dev/null"))));
        assert!(env.contains(&("TMPDIR".to_owned(), OsString::from("/s/plugins/g/tmp"))));
        p.read.push(PathBuf::from("/home/me/.gitconfig"));
        let env = p.environment(&dirs, Some(home));
        assert!(!env.iter().any(|(k, _)| k == "GIT_CONFIG_GLOBAL"));
    }
}
