//! The log file: tracing events (ours, and llama.cpp's forwarded by llama-cpp-2) written
//! without colour to a daily file in the state dir, through a non-blocking writer.
//!
//! Invariant: nothing is ever written to the terminal, which belongs to the TUI or to the
//! headless answer. llama.cpp is capped at `warn` unless the level is debug or trace, because
//! it is chatty at info. `RUST_LOG`, when set, replaces the whole filter.

use std::path::{Path, PathBuf};

use tracing::Subscriber;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Daily files are `libre-assistant.YYYY-MM-DD.log`; on Unix this link points at today's.
/// When the process started (as far as the app can tell: the first thing `main` does is
/// [`mark_start`]), for start-up figures in the log.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Notes the start of the process; later calls change nothing.
pub fn mark_start() {
    STARTED.get_or_init(std::time::Instant::now);
}

/// Milliseconds since [`mark_start`] (since the first call, when it was never marked).
pub fn ms_since_start() -> f64 {
    STARTED
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
        * 1000.0
}

pub const LOG_FILE: &str = "libre-assistant.log";
/// Daily files older than this many days are deleted.
const KEEP_FILES: usize = 7;

/// Keeps the background writer alive; dropping it flushes what is buffered.
#[derive(Debug)]
pub struct LogGuard {
    _worker: WorkerGuard,
}

/// Why the log file could not be set up; the caller warns and goes on without one.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// The log directory cannot be created.
    #[error("cannot create the log directory {}: {cause}", .dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error, as text.
        cause: String,
    },
    /// The log file in the directory cannot be opened.
    #[error("cannot open a log file in {}: {cause}", .dir.display())]
    OpenFile {
        /// The directory.
        dir: PathBuf,
        /// The appender's error, as text.
        cause: String,
    },
    /// The level is not one of error, warn, info, debug, trace.
    #[error("invalid log level {0:?}: expected one of error, warn, info, debug, trace")]
    Level(String),
    /// `RUST_LOG` is not a valid filter.
    #[error("invalid RUST_LOG {value:?}: {cause}")]
    RustLog {
        /// The variable's value.
        value: String,
        /// The parser's error, as text.
        cause: String,
    },
    /// Another global subscriber is already installed.
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled,
}

/// Installs the file logger as the global subscriber (and as the `log` crate's logger).
pub fn init(logs_dir: &Path, level: &str) -> Result<LogGuard, LoggingError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (subscriber, guard) = subscriber(logs_dir, level, rust_log.as_deref())?;
    subscriber
        .try_init()
        .map_err(|_| LoggingError::AlreadyInstalled)?;
    Ok(guard)
}

/// The file logger without installing it; `rust_log`, if set and not empty, is the filter.
pub fn subscriber(
    logs_dir: &Path,
    level: &str,
    rust_log: Option<&str>,
) -> Result<(impl Subscriber + Send + Sync + 'static, LogGuard), LoggingError> {
    let filter = filter(level, rust_log)?;
    std::fs::create_dir_all(logs_dir).map_err(|e| LoggingError::CreateDir {
        dir: logs_dir.to_owned(),
        cause: e.to_string(),
    })?;
    let builder = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("libre-assistant")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES);
    #[cfg(unix)]
    let builder = builder.latest_symlink(LOG_FILE);
    let appender = builder
        .build(logs_dir)
        .map_err(|e| LoggingError::OpenFile {
            dir: logs_dir.to_owned(),
            cause: e.to_string(),
        })?;
    let (writer, worker) = tracing_appender::non_blocking(appender);
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(writer);
    let subscriber = tracing_subscriber::registry().with(filter).with(layer);
    Ok((subscriber, LogGuard { _worker: worker }))
}

/// The filter for `level`, or `rust_log` when it is set and not empty.
pub fn filter(level: &str, rust_log: Option<&str>) -> Result<EnvFilter, LoggingError> {
    if let Some(value) = rust_log.filter(|v| !v.trim().is_empty()) {
        return EnvFilter::try_new(value).map_err(|e| LoggingError::RustLog {
            value: value.to_owned(),
            cause: e.to_string(),
        });
    }
    EnvFilter::try_new(directives(level)?).map_err(|_| LoggingError::Level(level.to_owned()))
}

/// `level` for us (our modules, and target `plugin`: plugins' stderr and log notifications);
/// llama.cpp (target `llama-cpp-2` for its own logs, `llama_cpp_2::…` for the wrapper's) and
/// other crates capped at warn unless debug or trace is asked for.
fn directives(level: &str) -> Result<String, LoggingError> {
    let cap = match level {
        "error" => "error",
        "warn" | "info" => "warn",
        "debug" | "trace" => level,
        _ => return Err(LoggingError::Level(level.to_owned())),
    };
    Ok(format!(
        "{cap},libre_assistant={level},plugin={level},llama-cpp-2={cap},llama_cpp_2={cap}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything the logger wrote to `dir` after `emit` ran under it.
    fn logged(dir: &Path, level: &str, rust_log: Option<&str>, emit: fn()) -> String {
        let (subscriber, guard) = subscriber(dir, level, rust_log).unwrap();
        tracing::subscriber::with_default(subscriber, emit);
        drop(guard);
        let mut text = String::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.is_symlink() {
                text.push_str(&std::fs::read_to_string(path).unwrap());
            }
        }
        text
    }

    #[test]
    fn writes_to_a_daily_file_and_caps_llama_cpp_at_warn() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state/logs");
        let text = logged(&dir, "info", None, || {
            tracing::info!(target: "libre_assistant::core", "kept: our info");
            tracing::debug!(target: "libre_assistant::core", "dropped: our debug");
            tracing::info!(target: "plugin", "kept: a plugin's info");
            tracing::debug!(target: "plugin", "dropped: a plugin's debug");
            tracing::info!(target: "llama-cpp-2", "dropped: llama.cpp info");
            tracing::warn!(target: "llama-cpp-2", "kept: llama.cpp warning");
            tracing::info!(target: "llama_cpp_2::model", "dropped: wrapper info");
        });
        let kept: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once("kept: ").map(|(_, m)| m))
            .collect();
        assert_eq!(kept, ["our info", "a plugin's info", "llama.cpp warning"]);
        assert!(!text.contains("dropped"), "{text}");
        assert!(!text.contains('\x1b'), "no ANSI colour in the file");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("libre-assistant.2") && n.ends_with(".log")),
            "{names:?}"
        );
        #[cfg(unix)]
        assert!(dir.join(LOG_FILE).is_symlink(), "{names:?}");
    }

    #[test]
    fn debug_lets_llama_cpp_through_and_rust_log_overrides() {
        let root = tempfile::tempdir().unwrap();
        let text = logged(&root.path().join("a"), "debug", None, || {
            tracing::debug!(target: "llama-cpp-2", "kept: llama.cpp debug");
        });
        assert!(text.contains("kept: llama.cpp debug"), "{text}");
        let text = logged(
            &root.path().join("b"),
            "error",
            Some("llama-cpp-2=info"),
            || {
                tracing::info!(target: "llama-cpp-2", "kept: by RUST_LOG");
                tracing::error!(target: "libre_assistant", "dropped: not in RUST_LOG");
            },
        );
        assert!(
            text.contains("kept: by RUST_LOG") && !text.contains("dropped"),
            "{text}"
        );
    }

    #[test]
    fn errors_are_one_line_and_name_the_problem() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("file");
        std::fs::write(&file, "").unwrap();
        let blocked = file.join("logs");
        let err = subscriber(&blocked, "info", None).map(|_| ()).unwrap_err();
        assert!(
            matches!(&err, LoggingError::CreateDir { dir, .. } if *dir == blocked),
            "{err}"
        );
        assert!(err.to_string().starts_with(&format!(
            "cannot create the log directory {}: ",
            blocked.display()
        )));
        let err = filter("loud", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid log level \"loud\": expected one of error, warn, info, debug, trace"
        );
        let err = filter("info", Some("llama=notalevel")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid RUST_LOG \"llama=notalevel\": "),
            "{err}"
        );
        for e in [err, filter("loud", None).unwrap_err()] {
            assert!(!e.to_string().contains('\n'));
        }
    }
}
