//! Taking turns with other instances on this machine. llama.cpp's threads wait for each other
//! at every step of a decode, so two engines decoding at once on the same cores both crawl
//! (measured: 5 tokens/s each instead of 150). Each engine holds an advisory lock on one file
//! (`<state dir>/engine.lock`, shared by every instance of this user) while it answers, so one
//! answers at a time with every core and the other waits, then goes. A prefill between turns
//! only runs when the cores are free: it never waits.
//!
//! The lock is `flock`, released by the kernel when its holder dies, even by `kill -9`.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

/// How often a waiting engine checks the lock and its job's cancellation.
const POLL: Duration = Duration::from_millis(20);

/// The lock file, open; `None` when there is none (no state directory, or it cannot be made:
/// then nothing is shared, as before).
pub(super) struct Cores {
    file: Option<File>,
}

/// Held while an engine answers; dropping it lets the next instance go.
pub(super) struct Held<'a>(&'a File);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl Cores {
    /// Opens (or makes, 0600) the lock file at `path`.
    pub(super) fn open(path: Option<&Path>) -> Cores {
        let file = path.and_then(|path| {
            if let Some(dir) = path.parent() {
                crate::paths::create_private_dir(dir).ok()?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.read(true).write(true).create(true).truncate(false);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options
                .open(path)
                .inspect_err(|e| tracing::warn!(path = %path.display(), "no engine lock: {e}"))
                .ok()
        });
        Cores { file }
    }

    /// Takes the cores for an answer. When another instance has them, calls `waiting` once and
    /// waits; gives up (None) if `cancelled` says so meanwhile.
    pub(super) fn take(
        &self,
        waiting: impl FnOnce(),
        cancelled: impl Fn() -> bool,
    ) -> Option<Held<'_>> {
        let file = self.file.as_ref()?;
        let mut waiting = Some(waiting);
        loop {
            match file.try_lock() {
                Ok(()) => return Some(Held(file)),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if let Some(say) = waiting.take() {
                        say();
                    }
                    if cancelled() {
                        return None;
                    }
                    std::thread::sleep(POLL);
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    tracing::warn!("the engine lock failed, answering without it: {e}");
                    return None;
                }
            }
        }
    }

    /// Takes the cores only if no other instance has them (for work that may be skipped).
    pub(super) fn take_if_free(&self) -> Option<Held<'_>> {
        let file = self.file.as_ref()?;
        file.try_lock().ok().map(|()| Held(file))
    }

    /// Whether there is a lock file at all.
    pub(super) fn shared(&self) -> bool {
        self.file.is_some()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[test]
    fn one_holder_at_a_time_and_a_waiter_is_told_once_and_can_give_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/engine.lock");
        let (a, b) = (Cores::open(Some(&path)), Cores::open(Some(&path)));
        assert!(a.shared() && b.shared());
        let held = a.take(|| panic!("free: no wait"), || false).unwrap();
        assert!(b.take_if_free().is_none());
        let told = AtomicBool::new(false);
        let polls = std::sync::atomic::AtomicU32::new(0);
        let got = b.take(
            || told.store(true, Ordering::Relaxed),
            || polls.fetch_add(1, Ordering::Relaxed) >= 3,
        );
        assert!(got.is_none() && told.load(Ordering::Relaxed));
        drop(held);
        assert!(b.take_if_free().is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn no_path_shares_nothing() {
        let none = Cores::open(None);
        assert!(!none.shared());
        assert!(none.take(|| {}, || false).is_none());
    }
}
