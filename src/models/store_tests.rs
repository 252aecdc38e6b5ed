//! Tests of the store: resolving, importing, sidecars, re-verification and removal.

use std::time::{Duration, SystemTime};

use super::*;
use crate::exit::Exit;

/// A minimal valid GGUF file: header, no tensors, one string key, then `extra` bytes.
fn gguf_bytes(extra: &[u8]) -> Vec<u8> {
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    b.extend(1u64.to_le_bytes());
    let key = "general.architecture";
    b.extend((key.len() as u64).to_le_bytes());
    b.extend(key.as_bytes());
    b.extend(8u32.to_le_bytes());
    b.extend(5u64.to_le_bytes());
    b.extend(b"llama");
    b.extend(extra);
    b
}

struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("models"));
    Fixture { dir, store }
}

impl Fixture {
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        fs::write(&p, bytes).unwrap();
        p
    }
}

#[test]
fn resolves_a_path_to_a_gguf_file() {
    let f = fixture();
    let p = f.file("my-model.gguf", &gguf_bytes(b""));
    let r = f.store.resolve(p.to_str().unwrap()).unwrap();
    assert_eq!(
        r,
        Resolved {
            name: "my-model".into(),
            path: p
        }
    );
}

#[test]
fn a_path_that_is_not_gguf_or_missing_fails() {
    let f = fixture();
    let p = f.file("notes.txt", b"hello world");
    let e = f.store.resolve(p.to_str().unwrap()).unwrap_err();
    assert!(matches!(e, ModelError::NotGguf { .. }), "{e:?}");
    let e = f.store.resolve("./nope.gguf").unwrap_err();
    assert!(matches!(e, ModelError::Missing { .. }), "{e:?}");
}

#[test]
fn catalog_name_not_installed_and_unknown_names() {
    let f = fixture();
    let e = f.store.resolve("smollm2-135m-instruct").unwrap_err();
    assert!(matches!(e, ModelError::NotInstalled { .. }), "{e:?}");
    assert_eq!(e.exit(), Exit::Model);
    let e = f.store.resolve("no-such-model").unwrap_err();
    assert!(matches!(e, ModelError::UnknownName { .. }), "{e:?}");
}

#[test]
fn import_then_resolve_list_and_remove() {
    let f = fixture();
    let src = f.file("tiny.gguf", &gguf_bytes(b"payload"));
    let m = f.store.import(&src).unwrap();
    assert_eq!(m.name, "tiny");
    assert_eq!(m.path, f.store.root().join("tiny.gguf"));
    assert!(m.catalog.is_none());
    assert!(sidecar_path(&m.path).is_file());
    assert!(src.is_file(), "import copies, it does not move");
    let stray: Vec<_> = fs::read_dir(f.store.root())
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    assert_eq!(stray.len(), 2, "only the model and its sidecar: {stray:?}");

    assert_eq!(f.store.resolve("tiny").unwrap().path, m.path);
    let listed = f.store.list();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].name.as_str(), listed[0].size), ("tiny", m.size));

    assert_eq!(f.store.remove("tiny").unwrap(), m.path);
    assert!(!m.path.exists() && !sidecar_path(&m.path).exists());
    assert!(matches!(
        f.store.remove("tiny").unwrap_err(),
        ModelError::UnknownName { .. }
    ));
    assert!(f.store.list().is_empty());
}

#[test]
fn a_changed_imported_file_is_rehashed_and_deleted() {
    let f = fixture();
    let m = f
        .store
        .import(&f.file("tiny.gguf", &gguf_bytes(b"aaaa")))
        .unwrap();
    fs::write(&m.path, gguf_bytes(b"bbbb")).unwrap();
    let e = f.store.resolve("tiny").unwrap_err();
    assert!(matches!(e, ModelError::Checksum { .. }), "{e:?}");
    assert!(!m.path.exists(), "the bad file is deleted");
}

#[test]
fn a_touched_but_unchanged_file_is_rehashed_and_kept() {
    let f = fixture();
    let m = f
        .store
        .import(&f.file("tiny.gguf", &gguf_bytes(b"aaaa")))
        .unwrap();
    let before = read_sidecar(&m.path).unwrap();
    let later = SystemTime::now() + Duration::from_secs(100);
    File::options()
        .write(true)
        .open(&m.path)
        .unwrap()
        .set_modified(later)
        .unwrap();
    f.store.resolve("tiny").unwrap();
    let after = read_sidecar(&m.path).unwrap();
    assert_eq!(after.sha256, before.sha256);
    assert_ne!(
        after.mtime, before.mtime,
        "the sidecar follows the new mtime"
    );
}

#[test]
fn a_wrong_catalog_file_is_deleted_on_resolve() {
    let f = fixture();
    let entry = catalog::find("smollm2-135m-instruct").unwrap();
    fs::create_dir_all(f.store.root()).unwrap();
    fs::write(f.store.path_of(&entry), gguf_bytes(b"not smollm")).unwrap();
    assert_eq!(f.store.list()[0].name, "smollm2-135m-instruct");
    let e = f.store.resolve("smollm2-135m-instruct").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("checksum mismatch for smollm2-135m-instruct: expected b179"),
        "{msg}"
    );
    assert!(!f.store.path_of(&entry).exists());
}

#[test]
fn a_fresh_sidecar_spares_the_hash() {
    let f = fixture();
    let entry = catalog::find("smollm2-135m-instruct").unwrap();
    fs::create_dir_all(f.store.root()).unwrap();
    let path = f.store.path_of(&entry);
    fs::write(&path, gguf_bytes(b"")).unwrap();
    // A sidecar claiming the catalog hash, matching size and mtime: trusted without hashing.
    write_sidecar(&path, &entry.sha256);
    assert_eq!(f.store.resolve(&entry.name).unwrap().path, path);
}

#[test]
fn importing_over_a_catalog_name_conflicts() {
    let f = fixture();
    let src = f.file("smollm2-135m-instruct.gguf", &gguf_bytes(b""));
    let e = f.store.import(&src).unwrap_err();
    assert!(matches!(e, ModelError::Conflict { .. }), "{e:?}");
    let src = f.file("SmolLM2-135M-Instruct.Q4_1.gguf", &gguf_bytes(b""));
    assert!(matches!(
        f.store.import(&src).unwrap_err(),
        ModelError::Conflict { .. }
    ));
    let leftovers = fs::read_dir(f.store.root()).unwrap().count();
    assert_eq!(leftovers, 0, "no .part left behind");
}

#[test]
fn importing_a_non_gguf_file_fails_before_copying() {
    let f = fixture();
    let e = f
        .store
        .import(&f.file("x.gguf", b"nope nope nope"))
        .unwrap_err();
    assert!(matches!(e, ModelError::NotGguf { .. }), "{e:?}");
    assert!(!f.store.root().exists());
}

#[test]
fn a_store_under_a_regular_file_is_unwritable() {
    let f = fixture();
    let blocker = f.file("afile", b"");
    let store = Store::new(blocker.join("models"));
    let e = store
        .import(&f.file("tiny.gguf", &gguf_bytes(b"")))
        .unwrap_err();
    assert!(matches!(e, ModelError::Unwritable { .. }), "{e:?}");
    assert_eq!(e.exit(), Exit::Storage);
    assert!(e.to_string().contains("make it writable"));
}
