//! `libre-assistant sandbox-exec --policy JSON -- PROGRAM ARGS…`: the launcher that runs one
//! plugin under its policy (Linux).
//!
//! The launcher builds the Landlock ruleset and the seccomp program, makes itself a child
//! subreaper, and forks. The child drops its rights (rlimits, parent-death signal,
//! no_new_privs, Landlock, seccomp) and execs the plugin. The launcher stays as its parent:
//! when the plugin exits, or when the launcher is told to stop (SIGTERM, SIGINT, SIGHUP; the
//! host's death arrives as SIGTERM through the parent-death signal), every descendant is
//! signalled, including those that left the process group with `setsid` (as orphans they are
//! re-parented to the launcher). It exits with the plugin's status.
//!
//! Invariants: the launcher is single-threaded, so the forked child may allocate; it holds no
//! copy of the plugin's stdin and stdout after the fork (the host sees EOF when the plugin
//! closes them); every failure is one `libre-assistant: sandbox: …` line on stderr (the
//! plugin's log) and exit code [`SETUP_FAILED`], 126 or 127.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use super::{Mode, Policy, landlock, seccomp};
use crate::plugins::host::monitor::descendants;

/// The exit code when the sandbox could not be set up.
pub const SETUP_FAILED: i32 = 125;

/// How long descendants have between SIGTERM and SIGKILL; shorter than the host's own grace
/// (`host::GRACE`), so the launcher is done before the host kills the group.
const GRACE: Duration = Duration::from_millis(300);

/// Runs `program` with `args` under the policy in `policy_json`; returns the exit code.
pub fn run(policy_json: &str, program: &OsStr, args: &[OsString]) -> i32 {
    match prepare(policy_json, program, args) {
        Ok(prepared) => supervise(prepared),
        Err(message) => {
            say(&message);
            SETUP_FAILED
        }
    }
}

fn say(message: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("libre-assistant: sandbox: {message}");
    }
}

/// Everything made before the fork.
struct Prepared {
    policy: Policy,
    ruleset: ::landlock::RulesetCreated,
    filter: seccompiler::BpfProgram,
    program: CString,
    argv: Vec<CString>,
}

fn prepare(policy_json: &str, program: &OsStr, args: &[OsString]) -> Result<Prepared, String> {
    let policy: Policy =
        serde_json::from_str(policy_json).map_err(|e| format!("bad --policy: {e}"))?;
    let c =
        |s: &OsStr| CString::new(s.as_bytes()).map_err(|_| format!("{s:?} contains a NUL byte"));
    let program = c(program)?;
    let mut argv = vec![program.clone()];
    for a in args {
        argv.push(c(a)?);
    }
    Ok(Prepared {
        ruleset: landlock::ruleset(&policy)?,
        filter: seccomp::program(&policy)?,
        policy,
        program,
        argv,
    })
}

/// The signals the launcher waits for instead of dying of them.
fn waited_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill a local set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

fn supervise(prepared: Prepared) -> i32 {
    let set = waited_signals();
    // SAFETY: plain syscalls on this (only) thread; the set is initialised.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    let me = std::process::id() as libc::pid_t;
    // SAFETY: the launcher is single-threaded, so the child may run ordinary code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        say(&format!("fork: {}", std::io::Error::last_os_error()));
        return SETUP_FAILED;
    }
    if pid == 0 {
        let code = become_plugin(prepared, me);
        // SAFETY: leave the forked child without running the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    drop(prepared);
    release_stdio();
    wait_for(pid, &set)
}

/// Points the launcher's stdin and stdout at /dev/null, so only the plugin holds the pipes.
fn release_stdio() {
    // SAFETY: open/dup2/close on descriptors this process owns.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::dup2(null, 1);
            libc::close(null);
        }
    }
}

/// The forked child: drop rights, then exec. Returns only on failure, with the exit code.
fn become_plugin(p: Prepared, launcher: libc::pid_t) -> i32 {
    // SAFETY: plain syscalls with valid arguments in the single-threaded child.
    unsafe {
        let empty: libc::sigset_t = std::mem::zeroed();
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        if libc::getppid() != launcher {
            return SETUP_FAILED;
        }
    }
    let mb = p.policy.file_size_mb.saturating_mul(1024 * 1024);
    for (resource, limit) in [
        (libc::RLIMIT_CORE, 0),
        (libc::RLIMIT_FSIZE, mb),
        (libc::RLIMIT_NOFILE, p.policy.open_files),
    ] {
        if let Err(e) = lower_limit(resource, limit) {
            say(&e);
            return SETUP_FAILED;
        }
    }
    match landlock::restrict(p.ruleset) {
        Ok(::landlock::RulesetStatus::NotEnforced) if p.policy.mode == Mode::Required => {
            say("this kernel cannot enforce Landlock, and plugins.sandbox is \"required\"");
            return SETUP_FAILED;
        }
        Ok(_) => {}
        Err(e) => {
            say(&e);
            return SETUP_FAILED;
        }
    }
    if let Err(e) = seccomp::apply(&p.filter) {
        say(&e);
        return SETUP_FAILED;
    }
    let mut argv: Vec<*const libc::c_char> = p.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: program and argv are NUL-terminated and outlive the call.
    unsafe { libc::execv(p.program.as_ptr(), argv.as_ptr()) };
    let e = std::io::Error::last_os_error();
    say(&format!("cannot run {}: {e}", p.program.to_string_lossy()));
    if e.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    }
}

/// Sets `resource`'s soft and hard limits to `limit`, or leaves them where they are lower.
fn lower_limit(resource: libc::__rlimit_resource_t, limit: u64) -> Result<(), String> {
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        let mut old: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(resource, &mut old);
        let new = libc::rlimit {
            rlim_cur: old.rlim_cur.min(limit),
            rlim_max: old.rlim_max.min(limit),
        };
        if libc::setrlimit(resource, &new) != 0 {
            return Err(format!(
                "setrlimit({resource}): {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// The launcher's loop: reap, forward stop signals, and end with the plugin.
fn wait_for(plugin: libc::pid_t, set: &libc::sigset_t) -> i32 {
    let mut stop_deadline: Option<Instant> = None;
    loop {
        let timeout = stop_deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match next_signal(set, timeout) {
            Some(libc::SIGTERM | libc::SIGINT | libc::SIGHUP) if stop_deadline.is_none() => {
                signal_descendants(libc::SIGTERM);
                stop_deadline = Some(Instant::now() + GRACE);
            }
            _ => {}
        }
        if let Some(status) = reap(plugin) {
            // The plugin is gone: nothing it started may outlive it.
            signal_descendants(libc::SIGKILL);
            reap_all();
            return exit_code(status);
        }
        if stop_deadline.is_some_and(|d| Instant::now() >= d) {
            signal_descendants(libc::SIGKILL);
        }
    }
}

/// The next waited signal, or None when `timeout` passes first.
fn next_signal(set: &libc::sigset_t, timeout: Option<Duration>) -> Option<i32> {
    // SAFETY: sigwaitinfo/sigtimedwait with an initialised set and a local siginfo.
    let sig = unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        match timeout {
            None => libc::sigwaitinfo(set, &mut info),
            Some(t) => {
                let ts = libc::timespec {
                    tv_sec: t.as_secs() as libc::time_t,
                    tv_nsec: t.subsec_nanos() as libc::c_long,
                };
                libc::sigtimedwait(set, &mut info, &ts)
            }
        }
    };
    (sig > 0).then_some(sig)
}

/// Reaps every exited child; returns the plugin's wait status if it was among them.
fn reap(plugin: libc::pid_t) -> Option<i32> {
    let mut found = None;
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a local status.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return found;
        }
        if pid == plugin {
            found = Some(status);
        }
    }
}

/// Kills and reaps every remaining descendant.
fn reap_all() {
    loop {
        signal_descendants(libc::SIGKILL);
        let mut status = 0;
        // SAFETY: waitpid with a local status.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid < 0 {
            return;
        }
    }
}

fn exit_code(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

/// Sends `sig` to every descendant of the launcher, found through `/proc/PID/task/*/children`.
fn signal_descendants(sig: i32) {
    for pid in descendants(std::process::id()) {
        // SAFETY: kill(2) on a descendant's pid.
        unsafe { libc::kill(pid as libc::pid_t, sig) };
    }
}
