//! The command that starts one plugin: its manifest expanded, the environment cleared down to
//! the baseline and the manifest's names, a process group of its own, and, unless the sandbox
//! is off, the launcher that holds it to its policy (`plugins::sandbox`).
//!
//! Invariants: the policy is built here, in the host, from the manifest and the directories
//! (never by the plugin); the plugin's private directory exists before the launcher binds
//! Landlock rules to it, and its temp directory starts empty; the launcher gets the parent-death
//! signal, checked against the pid that forked it, so it never outlives the host.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::child::environment;
use crate::plugins::sandbox::{
    self, Enforcement, Mode, PluginDirs, Protected, Request, Support, plugin_dirs,
};
use crate::plugins::{Manifest, Plugin};

/// The variable that tells a plugin the paths it was granted for reading, `:`-separated.
pub const GRANTED_READ_ENV: &str = "LIBRE_ASSISTANT_GRANTED_READ";

/// How the host confines its plugins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxConfig {
    /// `plugins.sandbox`.
    pub mode: Mode,
    /// What the kernel can enforce.
    pub support: Support,
    /// libre-assistant's own files, which no grant may expose.
    pub protected: Protected,
    /// The program whose `sandbox-exec` launches plugins on Linux: this executable.
    pub launcher: PathBuf,
}

impl SandboxConfig {
    /// How much of each policy the kernel holds.
    pub fn enforcement(&self) -> Enforcement {
        self.support.enforcement(self.mode)
    }
}

/// The command for `plugin` under `sandbox` (`None`: no sandbox), plus extra variables
/// (`extra`, e.g. its secrets). Errors are one line: a command not found, a refused grant, a
/// private directory that cannot be made, a kernel that cannot hold a required policy.
pub fn command(
    plugin: &Plugin,
    sandbox: Option<&SandboxConfig>,
    extra: Vec<(String, OsString)>,
) -> Result<Command, String> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let manifest = plugin.manifest.expanded(&plugin.dir, home.as_deref());
    let mut env = environment(&manifest.env, |name| std::env::var_os(name));
    env.extend(extra);
    // Every plugin is told what it may read (the built-in files plugin serves exactly that).
    if let Ok(granted) = std::env::join_paths(&manifest.permissions.read) {
        env.push((GRANTED_READ_ENV.to_owned(), granted));
    }
    let mut cmd = match sandbox.filter(|s| s.mode != Mode::Off) {
        None => {
            let mut cmd = Command::new(&manifest.command);
            cmd.args(&manifest.args);
            cmd
        }
        Some(sandbox) => sandboxed(plugin, &manifest, sandbox, &mut env, home.as_deref())?,
    };
    cmd.env_clear()
        .envs(env)
        .current_dir(existing_dir(&plugin.dir))
        .process_group(0)
        .kill_on_drop(true);
    die_with_parent(&mut cmd);
    users_umask(&mut cmd);
    Ok(cmd)
}

/// A plugin creates files with the user's own umask, not the app's private one.
fn users_umask(cmd: &mut Command) {
    let mask = crate::paths::user_umask() as libc::mode_t;
    // SAFETY: umask is async-signal-safe; nothing is allocated.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(mask);
            Ok(())
        });
    }
}

/// The launcher running `manifest`'s program under its policy; the policy's variables (a
/// private `TMPDIR` and cache) go into `env`.
fn sandboxed(
    plugin: &Plugin,
    manifest: &Manifest,
    sandbox: &SandboxConfig,
    env: &mut Vec<(String, OsString)>,
    home: Option<&Path>,
) -> Result<Command, String> {
    sandbox.support.allows_start(sandbox.mode)?;
    let path_var = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone());
    let program = sandbox::resolve(&manifest.command, path_var.as_deref()).ok_or_else(|| {
        format!(
            "cannot start `{}`: no such program (looked on the plugin's PATH)",
            manifest.command
        )
    })?;
    let dirs = plugin_dirs(&sandbox.protected.state, &manifest.id);
    prepare_dirs(&dirs)?;
    let request = Request {
        id: &manifest.id,
        dir: &plugin.dir,
        program_roots: sandbox::install_roots(&program, &manifest.args, path_var.as_deref(), home),
        read: &manifest.permissions.read,
        write: &manifest.permissions.write,
        network: manifest.permissions.network,
    };
    let policy = sandbox::build(request, &dirs, &sandbox.protected, sandbox.mode)
        .map_err(|e| e.to_string())?;
    for (name, value) in policy.environment(&dirs, home) {
        env.retain(|(k, _)| *k != name);
        env.push((name, value));
    }
    launcher(sandbox, &policy, &program, &manifest.args)
}

/// `libre-assistant sandbox-exec --policy JSON -- PROGRAM ARGS` (Linux).
#[cfg(target_os = "linux")]
fn launcher(
    sandbox: &SandboxConfig,
    policy: &sandbox::Policy,
    program: &Path,
    args: &[String],
) -> Result<Command, String> {
    let json =
        serde_json::to_string(policy).map_err(|e| format!("cannot encode the policy: {e}"))?;
    let mut cmd = Command::new(&sandbox.launcher);
    cmd.arg(sandbox::EXEC_SUBCOMMAND)
        .arg("--policy")
        .arg(json)
        .arg("--")
        .arg(program)
        .args(args);
    Ok(cmd)
}

/// `/usr/bin/sandbox-exec -p PROFILE -D… -- PROGRAM ARGS` (macOS).
#[cfg(target_os = "macos")]
fn launcher(
    _sandbox: &SandboxConfig,
    policy: &sandbox::Policy,
    program: &Path,
    args: &[String],
) -> Result<Command, String> {
    let mut cmd = Command::new(sandbox::seatbelt::SANDBOX_EXEC);
    cmd.args(sandbox::seatbelt::arguments(policy, program, args));
    Ok(cmd)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn launcher(
    _sandbox: &SandboxConfig,
    _policy: &sandbox::Policy,
    program: &Path,
    args: &[String],
) -> Result<Command, String> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    Ok(cmd)
}

/// Makes the plugin's private directories (0700) and empties its temp directory.
fn prepare_dirs(dirs: &PluginDirs) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    let fail = |p: &Path, e: std::io::Error| {
        format!("cannot make the plugin's directory {}: {e}", p.display())
    };
    if dirs.tmp.exists() {
        std::fs::remove_dir_all(&dirs.tmp).map_err(|e| fail(&dirs.tmp, e))?;
    }
    for dir in [&dirs.root, &dirs.tmp, &dirs.cache] {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| fail(dir, e))?;
    }
    Ok(())
}

/// The plugin's directory if it exists (a plugin built in memory may have none), else `/`.
fn existing_dir(dir: &Path) -> &Path {
    if dir.is_dir() { dir } else { Path::new("/") }
}

/// The child gets SIGTERM when the thread that spawned it (a runtime worker, alive as long as
/// the host) dies, SIGKILL included; the launcher then takes the plugin's processes down.
fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: prctl and getppid are async-signal-safe; nothing is allocated.
        unsafe {
            cmd.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0);
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}
