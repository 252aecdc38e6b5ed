//! The model store: a directory of GGUF files, each with a `.verified` sidecar recording its hash.
//!
//! A catalog model lives at `root/<file_name>`, an imported one at `root/<stem>.gguf`. A sidecar
//! (`<file>.verified`: sha256, size, mtime) spares re-hashing on every use; when the file's size or
//! mtime no longer match it, the file is hashed again before use and deleted if it changed.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::catalog::{self, CatalogEntry};
use super::fetch::{self, FetchOptions};
use super::progress::{NoProgress, Progress};
use super::verify::{HashingWriter, copy_chunks, same_digest, sha256_file_with};
use super::{ModelError, gguf, io_reason};
use crate::paths::Dirs;

/// The directory holding downloaded and imported models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    root: PathBuf,
}

/// A model file present in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledModel {
    /// The catalog name, or the file stem of an imported model.
    pub name: String,
    /// Where the file is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The catalog entry, when it is a catalog model.
    pub catalog: Option<CatalogEntry>,
}

/// A model ready to load: a checked GGUF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The name to show.
    pub name: String,
    /// The file to load.
    pub path: PathBuf,
}

/// What a sidecar records about a verified file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Sidecar {
    sha256: String,
    size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    mtime: u64,
}

impl Store {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    /// The standard store, `Dirs::models()`.
    pub fn from_dirs(dirs: &Dirs) -> Store {
        Store::new(dirs.models())
    }

    /// The store directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the catalog model `entry` lives once installed.
    pub fn path_of(&self, entry: &CatalogEntry) -> PathBuf {
        self.root.join(&entry.file_name)
    }

    /// The GGUF files in the store, sorted by name; an absent or unreadable store is empty.
    pub fn list(&self) -> Vec<InstalledModel> {
        let dir = match fs::read_dir(&self.root) {
            Ok(dir) => dir,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(store = %self.root.display(), error = %e, "cannot list the model store");
                }
                return Vec::new();
            }
        };
        let mut models: Vec<InstalledModel> = dir
            .filter_map(Result::ok)
            .filter_map(|e| {
                let file_name = e.file_name().to_str()?.to_string();
                let meta = e.metadata().ok()?;
                if file_name.starts_with('.') || !file_name.ends_with(".gguf") || !meta.is_file() {
                    return None;
                }
                let catalog = catalog::find_by_file(&file_name);
                let name = match &catalog {
                    Some(c) => c.name.clone(),
                    None => file_name.trim_end_matches(".gguf").to_string(),
                };
                Some(InstalledModel {
                    name,
                    path: e.path(),
                    size: meta.len(),
                    catalog,
                })
            })
            .collect();
        models.sort_by(|a, b| a.name.cmp(&b.name));
        models
    }

    /// Finds a model by path, catalog name or imported name, and checks it before use.
    pub fn resolve(&self, name_or_path: &str) -> Result<Resolved, ModelError> {
        let as_path = Path::new(name_or_path);
        if as_path.exists() || name_or_path.contains('/') || name_or_path.ends_with(".gguf") {
            gguf::check(as_path)?;
            let name = as_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned());
            return Ok(Resolved {
                name: name.unwrap_or_else(|| name_or_path.into()),
                path: as_path.into(),
            });
        }
        if let Some(entry) = catalog::find(name_or_path) {
            return match self.verified(&entry, &NoProgress)? {
                Some(path) => Ok(Resolved {
                    name: entry.name,
                    path,
                }),
                None => Err(ModelError::NotInstalled { name: entry.name }),
            };
        }
        let path = self.root.join(format!("{name_or_path}.gguf"));
        if path.is_file() {
            verify_file(&path, name_or_path, None, &NoProgress)?;
            return Ok(Resolved {
                name: name_or_path.into(),
                path,
            });
        }
        Err(ModelError::UnknownName {
            name: name_or_path.into(),
        })
    }

    /// The sha256 that `path`'s `.verified` sidecar records, if the file's size and mtime still
    /// match it; a cheap identity for a model file that never hashes the file itself.
    pub fn recorded_sha256(path: &Path) -> Option<String> {
        let meta = fs::metadata(path).ok()?;
        let sidecar = read_sidecar(path)?;
        (sidecar.size == meta.len() && sidecar.mtime == mtime_ns(&meta)).then_some(sidecar.sha256)
    }

    /// The catalog model's path if installed and verified; a file failing its check is deleted.
    pub fn verified(
        &self,
        entry: &CatalogEntry,
        progress: &dyn Progress,
    ) -> Result<Option<PathBuf>, ModelError> {
        let path = self.path_of(entry);
        if !path.is_file() {
            return Ok(None);
        }
        verify_file(&path, &entry.name, Some(&entry.sha256), progress)?;
        Ok(Some(path))
    }

    /// Deletes a catalog or imported model (and its sidecar); returns the deleted path.
    pub fn remove(&self, name: &str) -> Result<PathBuf, ModelError> {
        let entry = catalog::find(name);
        let path = match &entry {
            Some(e) => self.path_of(e),
            None => self.root.join(format!("{name}.gguf")),
        };
        if !path.is_file() {
            return Err(match entry {
                Some(e) => ModelError::NotInstalled { name: e.name },
                None => ModelError::UnknownName { name: name.into() },
            });
        }
        fs::remove_file(&path).map_err(|e| unwritable(&path, &e))?;
        let _ = fs::remove_file(sidecar_path(&path));
        Ok(path)
    }

    /// Copies a GGUF file into the store (atomically, hashed, with a sidecar).
    ///
    /// A file whose bytes are a catalog model's becomes that catalog model.
    pub fn import(&self, source: &Path) -> Result<InstalledModel, ModelError> {
        gguf::check(source)?;
        self.ensure_writable()?;
        let stem = source
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let part = fetch::part_path(&self.root, &format!("{stem}.gguf"));
        let (sha, size) = copy_hashed(source, &part)?;
        let known = catalog::catalog()
            .into_iter()
            .find(|e| e.size == size && same_digest(&e.sha256, &sha));
        let (name, file_name) = match &known {
            Some(e) => (e.name.clone(), e.file_name.clone()),
            None => (stem.clone(), format!("{stem}.gguf")),
        };
        let shadowed = catalog::catalog()
            .into_iter()
            .find(|e| known.is_none() && (e.file_name == file_name || e.name == stem));
        if let Some(e) = shadowed {
            let _ = fs::remove_file(&part);
            return Err(ModelError::Conflict {
                name: e.name,
                path: source.to_path_buf(),
            });
        }
        let dest = self.root.join(&file_name);
        if let Err(e) = fs::rename(&part, &dest) {
            let _ = fs::remove_file(&part);
            return Err(unwritable(&dest, &e));
        }
        write_sidecar(&dest, &sha);
        Ok(InstalledModel {
            name,
            path: dest,
            size,
            catalog: known,
        })
    }

    /// Downloads a catalog model unless it is already installed and verified; returns its path.
    pub fn pull(
        &self,
        entry: &CatalogEntry,
        opts: &FetchOptions,
        progress: &dyn Progress,
    ) -> Result<PathBuf, ModelError> {
        match self.verified(entry, progress) {
            Ok(Some(path)) => return Ok(path),
            Ok(None) => {}
            // The corrupt file was deleted: download it again.
            Err(ModelError::Checksum { .. }) => {}
            Err(e) => return Err(e),
        }
        self.ensure_writable()?;
        let (path, sha) = fetch::fetch(entry, &self.root, opts, progress)?;
        write_sidecar(&path, &sha);
        Ok(path)
    }

    /// Creates the store directory and proves a file can be written in it.
    fn ensure_writable(&self) -> Result<(), ModelError> {
        fs::create_dir_all(&self.root).map_err(|e| unwritable(&self.root, &e))?;
        let probe = self
            .root
            .join(format!(".write-test-{}", std::process::id()));
        File::create(&probe).map_err(|e| unwritable(&self.root, &e))?;
        let _ = fs::remove_file(&probe);
        Ok(())
    }
}

fn unwritable(path: &Path, e: &std::io::Error) -> ModelError {
    ModelError::Unwritable {
        path: path.to_path_buf(),
        reason: io_reason(e),
    }
}

/// Copies `source` to `part` while hashing, fsyncs it; returns the SHA-256 and size.
fn copy_hashed(source: &Path, part: &Path) -> Result<(String, u64), ModelError> {
    let unreadable = |e: &std::io::Error| ModelError::Unreadable {
        path: source.into(),
        reason: io_reason(e),
    };
    let mut input = File::open(source).map_err(|e| unreadable(&e))?;
    let out = super::create_private(part).map_err(|e| unwritable(part, &e))?;
    let mut w = HashingWriter::new(out);
    let copied = copy_chunks(&mut input, &mut w, u64::MAX, &NoProgress);
    let (out, sha, size) = w.finish();
    let synced = copied.map_err(|e| match e {
        super::verify::CopyError::Read(e) => unreadable(&e),
        super::verify::CopyError::Write(e) => unwritable(part, &e),
    });
    let synced = synced.and_then(|_| out.sync_all().map_err(|e| unwritable(part, &e)));
    if let Err(e) = synced {
        let _ = fs::remove_file(part);
        return Err(e);
    }
    Ok((sha, size))
}

/// Checks a store file against its sidecar, re-hashing when it looks changed; deletes on mismatch.
///
/// `expected` is the catalog hash; without one the sidecar's hash is the reference, and a file
/// with neither (dropped into the store by hand) is only checked as GGUF.
fn verify_file(
    path: &Path,
    name: &str,
    expected: Option<&str>,
    progress: &dyn Progress,
) -> Result<(), ModelError> {
    let meta = fs::metadata(path).map_err(|e| ModelError::Unreadable {
        path: path.into(),
        reason: io_reason(&e),
    })?;
    let (size, mtime) = (meta.len(), mtime_ns(&meta));
    let sidecar = read_sidecar(path);
    let reference = expected
        .map(str::to_string)
        .or_else(|| sidecar.as_ref().map(|s| s.sha256.clone()));
    let fresh = sidecar.as_ref().is_some_and(|s| {
        s.size == size
            && s.mtime == mtime
            && reference
                .as_deref()
                .is_some_and(|r| same_digest(r, &s.sha256))
    });
    if let (false, Some(reference)) = (fresh, reference) {
        tracing::info!(path = %path.display(), "re-verifying model file");
        let actual = sha256_file_with(path, progress).map_err(|e| ModelError::Unreadable {
            path: path.into(),
            reason: io_reason(&e),
        })?;
        if !same_digest(&reference, &actual) {
            let _ = fs::remove_file(path);
            let _ = fs::remove_file(sidecar_path(path));
            return Err(ModelError::Checksum {
                name: name.into(),
                expected: reference,
                actual,
            });
        }
        write_sidecar(path, &actual);
    }
    gguf::check(path)
}

fn sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".verified");
    PathBuf::from(s)
}

fn mtime_ns(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn read_sidecar(path: &Path) -> Option<Sidecar> {
    let text = fs::read_to_string(sidecar_path(path)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Records `sha256` for `path` as it is now; a failure only costs a re-hash later.
fn write_sidecar(path: &Path, sha256: &str) {
    let Ok(meta) = fs::metadata(path) else { return };
    let sidecar = Sidecar {
        sha256: sha256.to_string(),
        size: meta.len(),
        mtime: mtime_ns(&meta),
    };
    let Ok(json) = serde_json::to_string(&sidecar) else {
        return;
    };
    if let Err(e) = fs::write(sidecar_path(path), json) {
        tracing::warn!(path = %path.display(), error = %e, "cannot write the .verified sidecar");
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
