//! The Landlock half of the Linux sandbox: files (read and execute beneath the policy's `read`,
//! everything beneath its `write`, nothing elsewhere), TCP bind and connect (denied unless the
//! policy has the network), and the abstract-unix-socket and signal scopes.
//!
//! The ruleset is built before `fork` (it opens each path and allocates); the forked child only
//! calls [`restrict`]. Rules bind the inodes that exist when they are made: paths that do not
//! exist are skipped, and a file gets only the rights that apply to files.

use std::path::Path;

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope,
};

use super::Policy;

/// The newest ABI whose rights we ask for: files (with `IoctlDev`), TCP and scopes. Older
/// kernels get what they have (the crate's best-effort compatibility).
const ABI_USED: ABI = ABI::V6;

/// The ruleset for `policy`, ready to apply.
pub fn ruleset(policy: &Policy) -> Result<RulesetCreated, String> {
    let fail = |e: &dyn std::fmt::Display| format!("cannot build the Landlock ruleset: {e}");
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(ABI_USED))
        .map_err(|e| fail(&e))?;
    if !policy.network {
        ruleset = ruleset
            .handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)
            .map_err(|e| fail(&e))?;
    }
    let mut created = ruleset
        .scope(Scope::AbstractUnixSocket | Scope::Signal)
        .map_err(|e| fail(&e))?
        .create()
        .map_err(|e| fail(&e))?;
    let read = AccessFs::from_read(ABI_USED);
    let all = AccessFs::from_all(ABI_USED);
    for (paths, access) in [(&policy.read, read), (&policy.write, all)] {
        for path in paths {
            if let Some(rule) = rule(path, access) {
                created = created.add_rule(rule).map_err(|e| fail(&e))?;
            }
        }
    }
    Ok(created)
}

/// A rule granting `access` beneath `path`, or None when it does not exist.
fn rule(path: &Path, access: BitFlags<AccessFs>) -> Option<PathBeneath<PathFd>> {
    let is_file = !std::fs::metadata(path).ok()?.is_dir();
    let fd = PathFd::new(path).ok()?;
    let access = if is_file {
        access & AccessFs::from_file(ABI_USED)
    } else {
        access
    };
    Some(PathBeneath::new(fd, access))
}

/// Restricts the calling thread (and what it execs) to `ruleset`; also sets no_new_privs.
/// Returns whether the kernel enforces it fully, partly, or not at all.
pub fn restrict(ruleset: RulesetCreated) -> Result<RulesetStatus, String> {
    ruleset
        .restrict_self()
        .map(|status| status.ruleset)
        .map_err(|e| format!("cannot apply the Landlock ruleset: {e}"))
}
