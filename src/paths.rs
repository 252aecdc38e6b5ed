//! Where libre-assistant keeps its files: config, data (models), state (logs) and cache.
//!
//! On Linux these follow XDG (`$XDG_CONFIG_HOME/libre-assistant`, `$XDG_DATA_HOME/libre-assistant`,
//! `$XDG_STATE_HOME/libre-assistant`, `$XDG_CACHE_HOME/libre-assistant`), through `directories`.

use std::path::PathBuf;

/// The directories libre-assistant reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    /// Holds `config.toml`.
    pub config: PathBuf,
    /// Holds `models/`.
    pub data: PathBuf,
    /// Holds `logs/`.
    pub state: PathBuf,
    /// Scratch space (partial downloads live next to their target instead, for atomic renames).
    pub cache: PathBuf,
}

/// No home directory could be found, so no standard directory exists.
#[derive(Debug, thiserror::Error)]
#[error("cannot find a home directory: set HOME (or XDG_DATA_HOME and XDG_CONFIG_HOME)")]
pub struct NoHomeDir;

impl Dirs {
    /// The platform's standard directories for libre-assistant.
    pub fn discover() -> Result<Dirs, NoHomeDir> {
        let p = directories::ProjectDirs::from("", "", "libre-assistant").ok_or(NoHomeDir)?;
        Ok(Dirs {
            config: p.config_dir().to_path_buf(),
            data: p.data_dir().to_path_buf(),
            state: p
                .state_dir()
                .map(|d| d.to_path_buf())
                .unwrap_or_else(|| p.data_local_dir().join("state")),
            cache: p.cache_dir().to_path_buf(),
        })
    }

    /// The model store.
    pub fn models(&self) -> PathBuf {
        self.data.join("models")
    }

    /// The config file.
    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.toml")
    }

    /// The log directory.
    pub fn logs(&self) -> PathBuf {
        self.state.join("logs")
    }
}

/// Creates `dir` and any missing parents private to the user (0700 on Unix), at creation.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The umask the user started the app with, given back to plugins (see [`make_private`]).
static USER_UMASK: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0o022);

/// Makes every file and directory this process creates from now on private to the user
/// (umask 077), whoever creates it: our code, SQLite, llama.cpp, the log appender. Called
/// first thing in `main`; plugins get the user's own umask back (`user_umask`), since what
/// they write is theirs.
pub fn make_private() {
    #[cfg(unix)]
    {
        // SAFETY: umask only swaps the process's mask; it cannot fail.
        let old = unsafe { libc::umask(0o077) };
        // mode_t is u16 on macOS.
        #[allow(clippy::useless_conversion)]
        let old = u32::from(old);
        USER_UMASK.store(old, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The umask the user started the app with.
pub fn user_umask() -> u32 {
    USER_UMASK.load(std::sync::atomic::Ordering::Relaxed)
}
