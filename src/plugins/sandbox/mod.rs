//! The plugin sandbox: what each plugin child may touch, and how the kernel holds it there.
//!
//! The host builds a [`Policy`] per plugin (`policy.rs`: system paths, the program's own
//! install directory, the manifest's grants, a private state and temp directory) and [`wrap`]s
//! the plugin's command in a launcher. On Linux the launcher is this binary's hidden
//! `sandbox-exec` (`exec.rs`): it forks, and the child sets rlimits and no_new_privs, restricts
//! itself with Landlock (`landlock.rs`) and seccomp (`seccomp.rs`), then execs the plugin; the
//! launcher stays as its parent, a subreaper that takes every descendant down with it. On macOS
//! the launcher is `/usr/bin/sandbox-exec` with a Seatbelt profile (`seatbelt.rs`).
//!
//! Invariants: the policy is decided in the host, never by the plugin; a path the manifest
//! grants that would expose libre-assistant's own secrets or records refuses the start (it is
//! never silently narrowed); in `required` mode a plugin whose policy the kernel cannot hold
//! does not start.

mod denial;
#[cfg(target_os = "linux")]
pub mod exec;
#[cfg(target_os = "linux")]
mod landlock;
mod policy;
mod programs;
pub mod seatbelt;
#[cfg(target_os = "linux")]
mod seccomp;

use serde::{Deserialize, Serialize};

pub use denial::{Denial, explain};
pub use policy::{PluginDirs, Policy, PolicyError, Protected, Request, build, plugin_dirs};
pub use programs::{install_roots, resolve};

/// The name of the hidden subcommand that applies a policy and runs the plugin.
pub const EXEC_SUBCOMMAND: &str = "sandbox-exec";

/// `plugins.sandbox` in the config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A plugin whose policy the kernel cannot hold does not start.
    Required,
    /// Apply what the kernel supports and say what is missing.
    BestEffort,
    /// No sandbox: plugins run with the user's full rights.
    Off,
}

impl Mode {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Required => "required",
            Mode::BestEffort => "best-effort",
            Mode::Off => "off",
        }
    }

    /// The config spelling parsed.
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "required" => Some(Mode::Required),
            "best-effort" => Some(Mode::BestEffort),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }
}

/// What this kernel can enforce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Support {
    /// The Landlock ABI version, 0 when there is none.
    pub landlock_abi: i32,
    /// Whether seccomp filters can be set.
    pub seccomp: bool,
    /// Whether this is macOS with `/usr/bin/sandbox-exec`.
    pub seatbelt: bool,
}

/// The first Landlock ABI with TCP rules.
pub const ABI_TCP: i32 = 4;
/// The first Landlock ABI with scopes (abstract unix sockets, signals).
pub const ABI_SCOPES: i32 = 6;

impl Support {
    /// Asks the running kernel.
    pub fn probe() -> Support {
        Support {
            landlock_abi: landlock_abi(),
            seccomp: cfg!(target_os = "linux") && seccomp_available(),
            seatbelt: cfg!(target_os = "macos")
                && std::path::Path::new(seatbelt::SANDBOX_EXEC).exists(),
        }
    }

    /// The mode a missing `plugins.sandbox` means: `required` where the kernel can hold the
    /// policy, else `best-effort`.
    pub fn default_mode(&self) -> Mode {
        if self.landlock_abi > 0 || self.seatbelt {
            Mode::Required
        } else {
            Mode::BestEffort
        }
    }

    /// Whether a plugin may start under `mode`: `required` needs the files confined (Landlock,
    /// or Seatbelt on macOS).
    pub fn allows_start(&self, mode: Mode) -> Result<(), String> {
        if mode != Mode::Required || self.landlock_abi > 0 || self.seatbelt {
            return Ok(());
        }
        Err(format!(
            "plugins.sandbox is \"required\" but this system cannot confine plugins ({}); \
             set plugins.sandbox = \"best-effort\" to run them with what it can enforce",
            self.enforcement(mode).describe()
        ))
    }

    /// How much of a policy the kernel holds under `mode`: the plugin pane, `plugins show`,
    /// the consent dialog and the log all say this.
    pub fn enforcement(&self, mode: Mode) -> Enforcement {
        if mode == Mode::Off {
            return Enforcement::Off("plugins.sandbox is \"off\"".to_owned());
        }
        if self.seatbelt {
            return Enforcement::Full;
        }
        if cfg!(not(target_os = "linux")) {
            return Enforcement::Off("no sandbox on this operating system".to_owned());
        }
        let mut missing = Vec::new();
        if self.landlock_abi <= 0 {
            missing.push("files (no Landlock in this kernel)");
        } else {
            if self.landlock_abi < ABI_TCP {
                missing.push("TCP rules (Landlock ABI < 4)");
            }
            if self.landlock_abi < ABI_SCOPES {
                missing.push("signal and abstract-socket scopes (Landlock ABI < 6)");
            }
        }
        if !self.seccomp {
            missing.push("system-call filter (no seccomp)");
        }
        match (missing.is_empty(), self.landlock_abi > 0 || self.seccomp) {
            (true, _) => Enforcement::Full,
            (false, true) => Enforcement::Partial(missing.join(", ")),
            (false, false) => Enforcement::Off(missing.join(", ")),
        }
    }
}

/// How much of a plugin's policy the kernel holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enforcement {
    /// All of it.
    Full,
    /// Some of it; what is missing.
    Partial(String),
    /// None of it; why.
    Off(String),
}

impl Enforcement {
    /// `fully enforced`, `partly enforced (missing: …)` or `not enforced (…)`.
    pub fn describe(&self) -> String {
        match self {
            Enforcement::Full => "fully enforced".to_owned(),
            Enforcement::Partial(missing) => format!("partly enforced (missing: {missing})"),
            Enforcement::Off(why) => format!("not enforced ({why})"),
        }
    }
}

/// The Landlock ABI of the running kernel, 0 without Landlock.
fn landlock_abi() -> i32 {
    #[cfg(target_os = "linux")]
    {
        // LANDLOCK_CREATE_RULESET_VERSION: no ruleset, just the version.
        // SAFETY: a null attribute pointer with size 0 and this flag is the documented query.
        let v = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<libc::c_void>(),
                0usize,
                1u32,
            )
        };
        i32::try_from(v).unwrap_or(0).max(0)
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// Whether the kernel has seccomp (its status line is in /proc/self/status).
fn seccomp_available() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Seccomp:")))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux(abi: i32, seccomp: bool) -> Support {
        Support {
            landlock_abi: abi,
            seccomp,
            seatbelt: false,
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn enforcement_follows_the_kernel() {
        assert_eq!(
            linux(7, true).enforcement(Mode::Required),
            Enforcement::Full
        );
        assert_eq!(
            linux(6, true).enforcement(Mode::BestEffort),
            Enforcement::Full
        );
        assert_eq!(
            linux(5, true).enforcement(Mode::Required),
            Enforcement::Partial("signal and abstract-socket scopes (Landlock ABI < 6)".to_owned())
        );
        let none = linux(0, true).enforcement(Mode::BestEffort);
        assert_eq!(
            none,
            Enforcement::Partial("files (no Landlock in this kernel)".to_owned())
        );
        let refused = linux(0, true).allows_start(Mode::Required).unwrap_err();
        assert!(
            refused.contains("cannot confine plugins (partly enforced (missing: files"),
            "{refused}"
        );
        assert!(linux(0, true).allows_start(Mode::BestEffort).is_ok());
        assert!(linux(5, true).allows_start(Mode::Required).is_ok());
        assert!(matches!(
            linux(0, false).enforcement(Mode::BestEffort),
            Enforcement::Off(_)
        ));
        assert_eq!(
            linux(7, true).enforcement(Mode::Off).describe(),
            "not enforced (plugins.sandbox is \"off\")"
        );
    }

    #[test]
    fn the_default_mode_is_required_only_with_landlock() {
        assert_eq!(linux(7, true).default_mode(), Mode::Required);
        assert_eq!(linux(0, true).default_mode(), Mode::BestEffort);
    }

    #[test]
    fn modes_parse_back() {
        for mode in [Mode::Required, Mode::BestEffort, Mode::Off] {
            assert_eq!(Mode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(Mode::parse("strict"), None);
    }
}
