//! The macOS sandbox: the same policy as a Seatbelt profile, run through
//! `/usr/bin/sandbox-exec -p PROFILE -D NAME=PATH… -- PROGRAM ARGS…`.
//!
//! Invariant: paths never appear in the profile text; each is passed as a parameter
//! (`(param "READ_0")`) so a path with quotes or parentheses cannot change the profile. It
//! cannot run on the Linux machines this project is tested on: the generated profile and
//! arguments are unit-tested here, and docs/security.md says so.

use std::ffi::OsString;
use std::path::Path;

use super::Policy;

/// The Seatbelt launcher, always by absolute path (never looked up on `PATH`).
pub const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";

/// What every process needs: `(deny default)`, then exec, fork, signals inside the sandbox,
/// sysctl reads, file metadata (as with Landlock, existence is not hidden), and the
/// system services a runtime asks for at start.
const BASE: &str = r#"(version 1)
(deny default)
(allow process-exec process-fork)
(allow signal (target same-sandbox))
(allow sysctl-read)
(allow file-read-metadata)
(allow mach-lookup (global-name "com.apple.system.logger") (global-name "com.apple.system.opendirectoryd.libinfo"))
(allow ipc-posix-shm-read-data ipc-posix-shm-read-metadata)
"#;

/// Name resolution and TLS trust when the network is allowed; unix sockets stay denied.
const NETWORK: &str = r#"(allow network-outbound (remote ip))
(allow network-inbound (local ip))
(allow network-bind (local ip))
(allow system-socket)
(allow mach-lookup (global-name "com.apple.dnssd.service") (global-name "com.apple.trustd") (global-name "com.apple.SystemConfiguration.configd"))
"#;

/// The profile text and the `-D` parameters for `policy`.
pub fn profile(policy: &Policy) -> (String, Vec<(String, OsString)>) {
    let mut text = String::from(BASE);
    let mut params = Vec::new();
    for (kind, paths, rights) in [
        ("READ", &policy.read, "file-read*"),
        ("WRITE", &policy.write, "file-read* file-write*"),
    ] {
        if paths.is_empty() {
            continue;
        }
        let mut clause = format!("(allow {rights}");
        for (i, path) in paths.iter().enumerate() {
            let name = format!("{kind}_{i}");
            clause.push_str(&format!(" (subpath (param \"{name}\"))"));
            params.push((name, path.clone().into_os_string()));
        }
        clause.push_str(")\n");
        text.push_str(&clause);
    }
    if policy.network {
        text.push_str(NETWORK);
    }
    (text, params)
}

/// The full argument list for `sandbox-exec` running `program` with `args` under `policy`.
pub fn arguments(policy: &Policy, program: &Path, args: &[String]) -> Vec<OsString> {
    let (text, params) = profile(policy);
    let mut out = vec![OsString::from("-p"), OsString::from(text)];
    for (name, path) in params {
        let mut define = OsString::from(format!("-D{name}="));
        define.push(path);
        out.push(define);
    }
    out.push(OsString::from("--"));
    out.push(program.as_os_str().to_owned());
    out.extend(args.iter().map(OsString::from));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::sandbox::Mode;
    use std::path::PathBuf;

    fn policy(network: bool) -> Policy {
        Policy {
            plugin: "notes".to_owned(),
            read: vec![
                PathBuf::from("/usr/lib"),
                PathBuf::from("/Users/me/My \"Notes\")"),
            ],
            write: vec![PathBuf::from("/dev/null")],
            network,
            file_size_mb: 1024,
            open_files: 4096,
            mode: Mode::Required,
        }
    }

    #[test]
    fn paths_are_parameters_never_profile_text() {
        let (text, params) = profile(&policy(false));
        assert!(text.starts_with("(version 1)\n(deny default)\n"));
        assert!(text.contains(
            "(allow file-read* (subpath (param \"READ_0\")) (subpath (param \"READ_1\")))\n"
        ));
        assert!(text.contains("(allow file-read* file-write* (subpath (param \"WRITE_0\")))\n"));
        assert!(!text.contains("/Users"), "{text}");
        assert!(!text.contains("network"), "{text}");
        assert_eq!(
            params,
            [
                ("READ_0".to_owned(), OsString::from("/usr/lib")),
                (
                    "READ_1".to_owned(),
                    OsString::from("/Users/me/My \"Notes\")")
                ),
                ("WRITE_0".to_owned(), OsString::from("/dev/null")),
            ]
        );
    }

    #[test]
    fn the_network_adds_ip_sockets_only() {
        let (text, _) = profile(&policy(true));
        assert!(text.contains("(allow network-outbound (remote ip))"));
        assert!(!text.contains("unix"), "{text}");
    }

    #[test]
    fn arguments_end_with_the_command() {
        let args = arguments(
            &policy(false),
            Path::new("/opt/homebrew/bin/node"),
            &["server.js".to_owned()],
        );
        assert_eq!(args[0], "-p");
        assert_eq!(args[2], "-DREAD_0=/usr/lib");
        assert_eq!(args[3], "-DREAD_1=/Users/me/My \"Notes\")");
        assert_eq!(
            &args[args.len() - 3..],
            ["--", "/opt/homebrew/bin/node", "server.js"]
        );
    }
}
