//! The user's yes to sending conversations to a server that is not on this machine: asked once
//! per url in the TUI, remembered in a private file (one url a line). A file that cannot be
//! read remembers nothing, so the question comes again (fail closed).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Whether the user already said yes to `url`.
pub fn given(file: &Path, url: &str) -> bool {
    std::fs::read_to_string(file).is_ok_and(|text| text.lines().any(|line| line == url))
}

/// Remembers the user's yes to `url` (the file 0600, its directory 0700).
pub fn give(file: &Path, url: &str) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(file)?;
    writeln!(out, "{url}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_yes_is_kept_privately_and_only_for_its_url() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state/remote-consent");
        assert!(!given(&file, "http://gpu:8080/v1"));
        give(&file, "http://gpu:8080/v1").unwrap();
        assert!(given(&file, "http://gpu:8080/v1"));
        assert!(!given(&file, "http://gpu:8080"));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
    }

    #[test]
    fn an_unreadable_file_remembers_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: it cannot be read as text.
        std::fs::create_dir(dir.path().join("remote-consent")).unwrap();
        assert!(!given(
            &dir.path().join("remote-consent"),
            "http://gpu:8080/v1"
        ));
    }
}
