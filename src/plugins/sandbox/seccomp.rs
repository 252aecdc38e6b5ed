//! The seccomp half of the Linux sandbox: what Landlock (ABI 7) cannot stop.
//!
//! Every listed call fails with `EPERM`; everything else is allowed. Sockets: with the network
//! off, `socket()` of any family (UDP, raw, netlink and unix sockets included; Landlock only
//! covers TCP) and `socketpair()` of any family but `AF_UNIX`; with the network on, still
//! `socket(AF_UNIX)`, so D-Bus (and the keyring behind it), the ssh agent and docker.sock stay
//! out of reach. Always: io_uring (its `IORING_OP_SOCKET` bypasses the socket rule), ptrace
//! and `process_vm_*`, the kernel keyring, and file metadata (chmod, chown, xattr, utime
//! families), which Landlock never controls. On x86-64 a guard after seccompiler's
//! architecture check refuses x32 system-call numbers, which would otherwise bypass every rule
//! (rust-vmm/seccompiler#74).

// `libc::SYS_*` is a c_long: i64 here, but i32 on 32-bit targets, so the conversions stay.
#![allow(clippy::useless_conversion)]

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch, sock_filter,
};

use super::Policy;

/// `fchmodat2` (Linux 6.6), the same number on every architecture.
const SYS_FCHMODAT2: i64 = 452;
/// `setxattrat` (Linux 6.13).
const SYS_SETXATTRAT: i64 = 463;
/// `removexattrat` (Linux 6.13).
const SYS_REMOVEXATTRAT: i64 = 466;

/// The bit x32 system-call numbers carry on x86-64.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Calls denied whatever their arguments.
fn always_denied() -> Vec<i64> {
    let mut calls = vec![
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_fchmod,
        libc::SYS_fchmodat,
        SYS_FCHMODAT2,
        libc::SYS_fchown,
        libc::SYS_fchownat,
        libc::SYS_setxattr,
        libc::SYS_lsetxattr,
        libc::SYS_fsetxattr,
        SYS_SETXATTRAT,
        libc::SYS_removexattr,
        libc::SYS_lremovexattr,
        libc::SYS_fremovexattr,
        SYS_REMOVEXATTRAT,
        libc::SYS_utimensat,
    ];
    #[cfg(target_arch = "x86_64")]
    calls.extend([
        libc::SYS_chmod,
        libc::SYS_chown,
        libc::SYS_lchown,
        libc::SYS_utime,
        libc::SYS_utimes,
        libc::SYS_futimesat,
    ]);
    calls.into_iter().map(i64::from).collect()
}

/// The filter for `policy`, as a BPF program to load in the child before it execs.
pub fn program(policy: &Policy) -> Result<BpfProgram, String> {
    let fail = |e: &dyn std::fmt::Display| format!("cannot build the seccomp filter: {e}");
    let arch = target_arch().ok_or("seccomp filters are built for x86-64 and aarch64 only")?;
    let family = |op, value: i32| {
        SeccompCondition::new(0, SeccompCmpArgLen::Dword, op, value as u64)
            .and_then(|c| SeccompRule::new(vec![c]))
            .map_err(|e| fail(&e))
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = always_denied()
        .into_iter()
        .map(|nr| (nr, Vec::new()))
        .collect();
    // An empty rule list matches every call of that number.
    let socket = if policy.network {
        vec![family(SeccompCmpOp::Eq, libc::AF_UNIX)?]
    } else {
        Vec::new()
    };
    rules.insert(i64::from(libc::SYS_socket), socket);
    rules.insert(
        i64::from(libc::SYS_socketpair),
        vec![family(SeccompCmpOp::Ne, libc::AF_UNIX)?],
    );
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|e| fail(&e))?;
    let program: BpfProgram = filter.try_into().map_err(|e| fail(&e))?;
    if arch == TargetArch::x86_64 {
        with_x32_guard(program)
    } else {
        Ok(program)
    }
}

fn target_arch() -> Option<TargetArch> {
    if cfg!(target_arch = "x86_64") {
        Some(TargetArch::x86_64)
    } else if cfg!(target_arch = "aarch64") {
        Some(TargetArch::aarch64)
    } else {
        None
    }
}

// Classic BPF opcodes (linux/bpf_common.h).
/// BPF_LD (0x00) | BPF_W (0x00) | BPF_ABS (0x20).
const BPF_LD_W_ABS: u16 = 0x20;
/// BPF_JMP (0x05) | BPF_JGE (0x30) | BPF_K (0x00).
const BPF_JMP_JGE_K: u16 = 0x35;
const BPF_RET_K: u16 = 0x06;
/// `offsetof(struct seccomp_data, nr)`.
const DATA_NR: u32 = 0;

/// `program` with `if nr >= 0x40000000 return EPERM` right after its architecture check and the
/// load of the call number (instructions 0–3). Later jumps are relative and stay in their own
/// chains, so inserting before them moves nothing they point at.
fn with_x32_guard(mut program: BpfProgram) -> Result<BpfProgram, String> {
    let loads_nr = program
        .get(3)
        .is_some_and(|i| i.code == BPF_LD_W_ABS && i.k == DATA_NR && i.jt == 0 && i.jf == 0);
    if !loads_nr {
        return Err("cannot add the x32 guard: unexpected seccomp program layout".to_owned());
    }
    let guard = [
        sock_filter {
            code: BPF_JMP_JGE_K,
            jt: 0,
            jf: 1,
            k: X32_SYSCALL_BIT,
        },
        sock_filter {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        },
    ];
    program.splice(4..4, guard);
    Ok(program)
}

/// Loads `program` into the calling thread (it sets no_new_privs first).
pub fn apply(program: &BpfProgram) -> Result<(), String> {
    seccompiler::apply_filter(program).map_err(|e| format!("cannot apply the seccomp filter: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::sandbox::Mode;

    fn policy(network: bool) -> Policy {
        Policy {
            plugin: "p".to_owned(),
            read: Vec::new(),
            write: Vec::new(),
            network,
            file_size_mb: 1,
            open_files: 64,
            mode: Mode::Required,
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_x32_guard_follows_the_number_load() {
        let program = program(&policy(false)).unwrap();
        assert_eq!(program[3].code, BPF_LD_W_ABS);
        assert_eq!(
            (program[4].code, program[4].k, program[4].jf),
            (BPF_JMP_JGE_K, X32_SYSCALL_BIT, 1)
        );
        assert_eq!(program[5].k, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32);
        let bad = vec![program[0].clone(); 6];
        assert!(with_x32_guard(bad).is_err());
    }

    #[test]
    fn the_network_changes_only_the_socket_rule() {
        let off = program(&policy(false)).unwrap();
        let on = program(&policy(true)).unwrap();
        // On: one more comparison (family == AF_UNIX) in the socket chain.
        assert!(on.len() > off.len(), "{} vs {}", on.len(), off.len());
    }
}
