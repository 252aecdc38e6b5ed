//! The URL source: an HTTP(S) download into `.<file>.part` that resumes where it stopped.
//!
//! Beside the partial file, `.<file>.part.source` records which file (the catalog SHA-256) and
//! which URL its bytes came from; only a partial whose record matches is resumed, with
//! `Range: bytes=N-`. A 206 appends (the bytes already there are hashed again first), a 200 starts
//! over. Within one pull, a download cut in the middle is tried again as long as each attempt
//! gains bytes. A partial is kept when the download fails, and deleted when the whole file fails
//! its checksum.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::catalog::CatalogEntry;
use super::fetch::{FetchOptions, Fetched, SourceError, check_whole, part_path, unwritable};
use super::io_reason;
use super::progress::Progress;
use super::verify::{HashingWriter, copy_chunks};

/// Attempts within one pull; each after the first must follow one that gained bytes.
const ATTEMPTS: usize = 5;

/// Which download a `.part` file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    sha256: String,
    url: String,
}

/// The record beside a partial download.
pub(crate) fn source_record(part: &Path) -> PathBuf {
    let mut s = part.as_os_str().to_os_string();
    s.push(".source");
    PathBuf::from(s)
}

/// Downloads `url` (resuming a matching partial) and checks the whole file against `entry`.
pub(crate) fn fetch_url(
    url: &str,
    entry: &CatalogEntry,
    root: &Path,
    opts: &FetchOptions,
    progress: &dyn Progress,
    label: &str,
) -> Result<Fetched, SourceError> {
    let part = part_path(root, &entry.file_name);
    let mut w = open_partial(&part, entry, url)?;
    progress.advance(w.written());
    let agent = agent(opts);
    let mut attempt = 1;
    while w.written() < entry.size {
        let before = w.written();
        match get(&agent, url, entry.size, &part, &mut w, progress, label) {
            Ok(()) => break,
            Err(SourceError::Failed(reason)) if w.written() > before && attempt < ATTEMPTS => {
                tracing::warn!(%url, %reason, have = w.written(), "download cut; resuming");
                attempt += 1;
            }
            Err(e) => {
                if w.written() == 0 {
                    discard(&part);
                }
                return Err(e);
            }
        }
    }
    let (file, sha, n) = w.finish();
    if let Err(reason) = check_whole(entry, &sha, n) {
        drop(file);
        discard(&part);
        return Err(SourceError::Failed(reason));
    }
    file.sync_all().map_err(|e| unwritable(&part, &e))?;
    let _ = fs::remove_file(source_record(&part));
    Ok(Fetched {
        path: part,
        sha256: sha,
    })
}

/// Deletes a partial download and its record.
fn discard(part: &Path) {
    let _ = fs::remove_file(part);
    let _ = fs::remove_file(source_record(part));
}

/// The partial file to append to, with the bytes already there hashed; a fresh one when there is
/// none, or when it belongs to another file or URL, or is longer than the whole.
fn open_partial(
    part: &Path,
    entry: &CatalogEntry,
    url: &str,
) -> Result<HashingWriter<File>, SourceError> {
    let record = Record {
        sha256: entry.sha256.to_lowercase(),
        url: url.to_string(),
    };
    let recorded = fs::read(source_record(part))
        .ok()
        .and_then(|b| serde_json::from_slice::<Record>(&b).ok());
    if recorded.as_ref() == Some(&record)
        && let Some(w) = resume(part, entry.size)
    {
        tracing::info!(part = %part.display(), have = w.written(), "resuming a partial download");
        return Ok(w);
    }
    discard(part);
    let json = serde_json::to_vec(&record).unwrap_or_default();
    private_file(&source_record(part), false)
        .and_then(|mut f| f.write_all(&json))
        .map_err(|e| unwritable(&source_record(part), &e))?;
    let file = private_file(part, false).map_err(|e| unwritable(part, &e))?;
    Ok(HashingWriter::new(file))
}

/// An appending writer over an existing partial of at most `size` bytes, its bytes hashed.
fn resume(part: &Path, size: u64) -> Option<HashingWriter<File>> {
    let mut existing = File::open(part).ok()?;
    if existing.metadata().ok()?.len() > size {
        return None;
    }
    let mut w = HashingWriter::new(private_file(part, true).ok()?);
    w.absorb(&mut existing).ok()?;
    Some(w)
}

/// Opens `path` for writing, 0600: appending, or created empty.
fn private_file(path: &Path, append: bool) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.mode(0o600);
    if append {
        o.append(true);
    } else {
        o.write(true).create(true).truncate(true);
    }
    o.open(path)
}

fn agent(opts: &FetchOptions) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(opts.connect_timeout))
        .timeout_recv_response(Some(opts.read_timeout))
        .timeout_per_read(Some(opts.read_timeout))
        .build();
    ureq::Agent::new_with_config(config)
}

/// One request for the rest of the file: appends what a 206 sends, starts over on a 200.
fn get(
    agent: &ureq::Agent,
    url: &str,
    size: u64,
    part: &Path,
    w: &mut HashingWriter<File>,
    progress: &dyn Progress,
    label: &str,
) -> Result<(), SourceError> {
    let from = w.written();
    let mut request = agent.get(url);
    if from > 0 {
        request = request.header("Range", format!("bytes={from}-"));
    }
    let response = request
        .call()
        .map_err(|e| SourceError::Failed(http_reason(e)))?;
    let status = response.status().as_u16();
    let content_range = response
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match (status, from) {
        (200, 0) => {}
        (200, _) => {
            tracing::info!(%url, "the server sent the whole file; starting over");
            *w = HashingWriter::new(private_file(part, false).map_err(|e| unwritable(part, &e))?);
            progress.begin(label, size);
        }
        (206, 1..) => check_range(content_range.as_deref(), from, size)?,
        _ => {
            return Err(SourceError::Failed(format!(
                "unexpected HTTP status {status}"
            )));
        }
    }
    let rest = size - w.written();
    if let Some(len) = response.body().content_length()
        && len != rest
    {
        return Err(SourceError::Failed(format!(
            "the server offers {len} bytes, expected {rest}"
        )));
    }
    let mut reader = response.into_body().into_reader();
    copy_chunks(&mut reader, w, rest, progress)
        .map_err(|e| SourceError::from_copy(e, "reading the body", part))?;
    Ok(())
}

/// A 206's `Content-Range` must start where the partial file ends and describe the same file.
fn check_range(header: Option<&str>, from: u64, size: u64) -> Result<(), SourceError> {
    let parsed = header.and_then(|h| {
        let (range, total) = h.strip_prefix("bytes ")?.split_once('/')?;
        let start: u64 = range.split_once('-')?.0.trim().parse().ok()?;
        let total = match total.trim() {
            "*" => None,
            t => Some(t.parse::<u64>().ok()?),
        };
        Some((start, total))
    });
    match parsed {
        Some((start, total)) if start == from && total.is_none_or(|t| t == size) => Ok(()),
        _ => Err(SourceError::Failed(format!(
            "the server answered a request for bytes {from}- with the range {}",
            header.unwrap_or("(none)")
        ))),
    }
}

pub(crate) fn http_reason(e: ureq::Error) -> String {
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
    fn http_reasons_are_short() {
        let e = ureq::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(http_reason(e), "connection refused");
        assert_eq!(http_reason(ureq::Error::StatusCode(404)), "HTTP status 404");
    }

    #[test]
    fn ranges_must_continue_the_partial_file() {
        let ok = |h: &str| check_range(Some(h), 100, 1000).is_ok();
        assert!(ok("bytes 100-999/1000"));
        assert!(ok("bytes 100-999/*"));
        assert!(!ok("bytes 0-999/1000"));
        assert!(!ok("bytes 100-999/2000"));
        assert!(!ok("100-999/1000"));
        let Err(SourceError::Failed(m)) = check_range(None, 100, 1000) else {
            panic!("a 206 without Content-Range passed")
        };
        assert_eq!(
            m,
            "the server answered a request for bytes 100- with the range (none)"
        );
    }

    #[test]
    fn a_partial_resumes_only_for_its_own_file_and_url() {
        let dir = tempfile::tempdir().unwrap();
        let mut entry = crate::models::find(crate::models::DEFAULT_MODEL).unwrap();
        entry.size = 10;
        let part = part_path(dir.path(), &entry.file_name);
        let mut w = open_partial(&part, &entry, "http://a/m").unwrap();
        w.write_all(b"abc").unwrap();
        drop(w);
        assert_eq!(
            open_partial(&part, &entry, "http://a/m").unwrap().written(),
            3
        );
        assert_eq!(
            open_partial(&part, &entry, "http://b/m").unwrap().written(),
            0
        );
        assert_eq!(fs::read(&part).unwrap(), b"");
        let mut w = open_partial(&part, &entry, "http://b/m").unwrap();
        w.write_all(b"0123456789x").unwrap();
        drop(w);
        assert_eq!(
            open_partial(&part, &entry, "http://b/m").unwrap().written(),
            0,
            "longer than the whole file"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&part).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
