//! Unit tests for the `files` built-in's path checks, reading and search.

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    inside: PathBuf,
    outside: PathBuf,
    roots: Roots,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let inside = dir.path().join("allowed");
    let outside = dir.path().join("secret");
    std::fs::create_dir_all(inside.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(inside.join("notes.txt"), "hello\nNeedle here\n").unwrap();
    std::fs::write(inside.join("sub/more.md"), "another needle\n").unwrap();
    std::fs::write(inside.join("blob.bin"), [0u8, 1, 2, 3, 0, 255]).unwrap();
    std::fs::write(outside.join("key.txt"), "needle secret").unwrap();
    std::os::unix::fs::symlink(&outside, inside.join("escape")).unwrap();
    std::os::unix::fs::symlink(outside.join("key.txt"), inside.join("key-link")).unwrap();
    let (roots, problems) = Roots::new(std::slice::from_ref(&inside));
    assert!(problems.is_empty(), "{problems:?}");
    Fixture {
        _dir: dir,
        inside,
        outside,
        roots,
    }
}

#[test]
fn reads_inside_and_refuses_escapes() {
    let f = fixture();
    let (text, _) = read_text_file(&f.roots, "notes.txt", 100).unwrap();
    assert_eq!(text, "hello\nNeedle here\n");
    let abs = f.inside.join("notes.txt");
    assert!(read_text_file(&f.roots, &abs.to_string_lossy(), 100).is_ok());
    for bad in [
        "../secret/key.txt",
        "escape/key.txt",
        "key-link",
        "/etc/passwd",
    ] {
        let err = read_text_file(&f.roots, bad, 100).unwrap_err();
        assert!(err.contains("outside the allowed"), "{bad}: {err}");
    }
    let outside = f.outside.join("key.txt");
    assert!(read_text_file(&f.roots, &outside.to_string_lossy(), 100).is_err());
    assert!(list_directory(&f.roots, "escape").is_err());
    assert!(list_directory(&f.roots, "..").is_err());
}

#[test]
fn binary_files_are_refused_and_truncation_keeps_whole_characters() {
    let f = fixture();
    let err = read_text_file(&f.roots, "blob.bin", 100).unwrap_err();
    assert!(err.contains("binary"), "{err}");
    let (text, value) = read_text_file(&f.roots, "notes.txt", 3).unwrap();
    assert_eq!(text, "hel");
    assert_eq!(value["truncated"], true);
    assert_eq!(
        text_of("é".as_bytes()[..1].as_ref(), true),
        Some(String::new())
    );
    assert_eq!(text_of(&[0xff, 0xfe], false), None);
}

#[test]
fn no_allowed_directory_refuses_everything() {
    let (roots, problems) = Roots::new(&[PathBuf::from("/nonexistent-dir-for-test")]);
    assert_eq!(problems.len(), 1);
    let err = list_directory(&roots, "/").unwrap_err();
    assert!(err.contains("no directory is allowed"), "{err}");
}

#[test]
fn lists_sorted_entries_with_kinds() {
    let f = fixture();
    let (_, value) = list_directory(&f.roots, ".").unwrap();
    let names: Vec<(&str, &str)> = value["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("blob.bin", "file"),
            ("escape", "symlink"),
            ("key-link", "symlink"),
            ("notes.txt", "file"),
            ("sub", "directory")
        ]
    );
}

#[test]
fn search_finds_lines_and_never_follows_symlinks() {
    let f = fixture();
    let (text, value) = search_files(&f.roots, ".", "NEEDLE", 50).unwrap();
    let matches = value["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 2, "{text}");
    assert!(!text.contains("secret"), "{text}");
    let (_, limited) = search_files(&f.roots, ".", "needle", 1).unwrap();
    assert_eq!(limited["matches"].as_array().unwrap().len(), 1);
    assert!(search_files(&f.roots, ".", " ", 5).is_err());
    assert!(search_files(&f.roots, "escape", "needle", 5).is_err());
}
