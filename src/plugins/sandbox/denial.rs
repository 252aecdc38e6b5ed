//! Reading what a plugin that failed under its policy says on stderr, to tell the user what was
//! denied and which grant would allow it.
//!
//! Landlock and seccomp answer EACCES and EPERM without telling anyone, so the plugin's own
//! error is the best witness: Node (`EACCES: permission denied, open '/x'`), Python
//! (`PermissionError: [Errno 13] Permission denied: '/x'`) and C tools (`cat: /x: Permission
//! denied`) name the path; a refused socket names no path but says `EPERM`/`EACCES` next to
//! `socket`, `connect` or `bind`.

/// What a stderr tail shows was denied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denial {
    /// A path it could not read or write.
    Path {
        /// The path as the plugin printed it.
        path: String,
        /// Whether the failed operation writes (mkdir, unlink, rename, write…).
        write: bool,
    },
    /// The network.
    Network,
}

/// Node's operations that write.
const WRITES: [&str; 11] = [
    "mkdir", "rmdir", "unlink", "rename", "symlink", "link", "copyfile", "write", "utime", "chmod",
    "mkdtemp",
];

/// The first denial the stderr `lines` show, if any.
pub fn explain(lines: &[String]) -> Option<Denial> {
    lines.iter().find_map(|line| denial_in(line))
}

fn denial_in(line: &str) -> Option<Denial> {
    let lower = line.to_ascii_lowercase();
    let denied = [
        "eacces",
        "eperm",
        "permission denied",
        "operation not permitted",
    ]
    .iter()
    .any(|w| lower.contains(w));
    if !denied {
        return None;
    }
    // Node: `EACCES: permission denied, open '/x'`.
    if let Some(rest) = line.split("permission denied, ").nth(1)
        && let Some((op, path)) = rest.split_once(' ')
    {
        return Some(Denial::Path {
            path: unquote(path),
            write: WRITES.contains(&op),
        });
    }
    // Python: `[Errno 13] Permission denied: '/x'`; C tools: `/x: Permission denied`.
    if let Some((_, path)) = line.split_once("Permission denied: ") {
        return Some(Denial::Path {
            path: unquote(path),
            write: false,
        });
    }
    if let Some((before, _)) = line.rsplit_once(": Permission denied")
        && let Some(path) = before.rsplit(": ").next()
        && path.starts_with('/')
    {
        return Some(Denial::Path {
            path: path.to_owned(),
            write: false,
        });
    }
    let sockets = [
        "socket",
        "connect",
        "bind",
        "sendto",
        "getaddrinfo",
        "fetch failed",
    ];
    sockets
        .iter()
        .any(|w| lower.contains(w))
        .then_some(Denial::Network)
}

fn unquote(text: &str) -> String {
    text.trim()
        .trim_end_matches([',', '.'])
        .trim_matches(|c| c == '\'' || c == '"')
        .to_owned()
}

impl Denial {
    /// What was denied and the grant that allows it, e.g. `it was denied read access to /x;
    /// \`libre-assistant plugins grant ID --read /x\` (permissions.read) allows it`.
    pub fn advice(&self, id: &str) -> String {
        match self {
            Denial::Path { path, write: false } => format!(
                "it was denied access to {path}; `libre-assistant plugins grant {id} --read {path}` \
                 (permissions.read) allows reading it, --write (permissions.write) writing"
            ),
            Denial::Path { path, write: true } => format!(
                "it was denied writing {path}; `libre-assistant plugins grant {id} --write {path}` \
                 (permissions.write) allows it"
            ),
            Denial::Network => format!(
                "it was denied the network; `libre-assistant plugins grant {id} --network` \
                 (permissions.network) allows it"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Option<Denial> {
        explain(&[line.to_owned()])
    }

    fn path(path: &str, write: bool) -> Option<Denial> {
        Some(Denial::Path {
            path: path.to_owned(),
            write,
        })
    }

    #[test]
    fn node_python_and_c_tools_name_the_path() {
        assert_eq!(
            one("Error: EACCES: permission denied, open '/home/me/.ssh/id_ed25519'"),
            path("/home/me/.ssh/id_ed25519", false)
        );
        assert_eq!(
            one("Error: EACCES: permission denied, mkdir '/home/me/out'"),
            path("/home/me/out", true)
        );
        assert_eq!(
            one("PermissionError: [Errno 13] Permission denied: '/srv/data/x.csv'"),
            path("/srv/data/x.csv", false)
        );
        assert_eq!(
            one("cat: /etc/shadow: Permission denied"),
            path("/etc/shadow", false)
        );
    }

    #[test]
    fn refused_sockets_are_the_network() {
        assert_eq!(
            one("Error: connect EACCES 127.0.0.1:8080"),
            Some(Denial::Network)
        );
        assert_eq!(
            one("PermissionError: [Errno 1] Operation not permitted (socket)"),
            Some(Denial::Network)
        );
        assert_eq!(one("listening on stdio"), None);
        assert_eq!(one("EPERM somewhere unknown"), None);
    }

    #[test]
    fn advice_names_the_grant() {
        assert_eq!(
            Denial::Network.advice("web"),
            "it was denied the network; `libre-assistant plugins grant web --network` \
             (permissions.network) allows it"
        );
        assert!(
            path("/x", true)
                .unwrap()
                .advice("fs")
                .contains("plugins grant fs --write /x")
        );
    }
}
