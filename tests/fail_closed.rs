//! Security decisions fail closed, checked on the real binary: a `plugins.toml` that cannot be
//! parsed starts no user plugin (seen by whether its process ever ran, not only in a list), and
//! headless output to a terminal has the model's escape sequences made inert while piped output
//! stays byte for byte.

mod support;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;

use support::Home;

/// A user plugin whose process leaves a mark in `marks` when it starts, then serves the probe.
fn install_marking_plugin(home: &Home, marks: &Path) {
    let dir = home.path().join("config/libre-assistant/plugins/imported");
    std::fs::create_dir_all(&dir).unwrap();
    let probe = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/probe.py");
    let manifest = format!(
        "id = \"imported\"\nname = \"Imported\"\ncommand = \"/bin/sh\"\n\
         args = [\"-c\", \"echo started >> {marks}/started; exec python3 {probe}\"]\n\
         [permissions]\nread = [\"{tests}\"]\nwrite = [\"{marks}\"]\n",
        marks = marks.display(),
        probe = probe.display(),
        tests = probe.parent().unwrap().display(),
    );
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
    std::fs::create_dir_all(marks).unwrap();
}

/// One headless run that names the plugin in a rule; returns stderr.
fn ask_with_plugin(home: &Home) -> String {
    let out = home
        .with_model()
        .args(["--allow-plugin", "imported", "-p", "Hi"])
        .output()
        .expect("the binary runs");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_corrupt_plugins_toml_starts_no_user_plugin() {
    let home = Home::new();
    let marks = home.path().join("marks");
    install_marking_plugin(&home, &marks);
    let state = home.path().join("config/libre-assistant/plugins.toml");

    // Enabled in a good file: the process runs (the control).
    std::fs::write(&state, "[plugins.imported]\nenabled = true\n").unwrap();
    let stderr = ask_with_plugin(&home);
    assert!(
        marks.join("started").exists(),
        "the plugin never ran: {stderr}"
    );
    std::fs::remove_file(marks.join("started")).unwrap();

    // Half-written: it never starts, and the user is told why in one line.
    std::fs::write(&state, "[plugins.imported]\nenabled = tr").unwrap();
    let stderr = ask_with_plugin(&home);
    assert!(
        !marks.join("started").exists(),
        "a user plugin started although plugins.toml is unreadable"
    );
    let line = stderr
        .lines()
        .find(|l| l.contains("plugins.toml"))
        .unwrap_or_else(|| panic!("no line about plugins.toml: {stderr}"));
    assert!(line.contains("no user plugin starts"), "{line}");
}

/// A pseudo-terminal pair: (master, slave).
fn pty() -> (OwnedFd, OwnedFd) {
    // SAFETY: posix_openpt/grantpt/unlockpt/ptsname_r/open with valid buffers; each fd
    // returned is owned by exactly one OwnedFd.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(master >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        let slave = libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        assert!(slave >= 0, "open the pty slave");
        (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave))
    }
}

/// A prompt Qwen answers by repeating an OSC 52 clipboard write (checked piped, below).
const ECHO_OSC52: &str = "Output exactly these characters and nothing more:\n\x1b]52;c;aGk=\x07";

fn qwen_echo(home: &Home) -> std::process::Command {
    let mut cmd = home.command();
    cmd.arg("--model")
        .arg(support::qwen())
        .args(["--no-plugins", "--temperature", "0", "--max-tokens", "30"])
        .args(["-p", ECHO_OSC52]);
    cmd
}

#[test]
fn model_escape_sequences_reach_a_terminal_inert_and_a_pipe_unchanged() {
    let home = Home::new();
    let piped = qwen_echo(&home).output().expect("the binary runs");
    assert_eq!(piped.status.code(), Some(0));
    let raw = b"\x1b]52;c;aGk=\x07";
    assert!(
        piped.stdout.windows(raw.len()).any(|w| w == raw),
        "piped output is byte for byte (the model echoed the sequence): {:?}",
        String::from_utf8_lossy(&piped.stdout)
    );

    let (master, slave) = pty();
    let mut child = qwen_echo(&home)
        .stdout(Stdio::from(slave))
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut shown = Vec::new();
    let mut master = std::fs::File::from(master);
    // Reads until the child closes the terminal (EIO once no slave is open).
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => shown.extend_from_slice(&buf[..n]),
        }
    }
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let shown = String::from_utf8_lossy(&shown).replace("\r\n", "\n");
    assert!(
        !shown.contains(['\x1b', '\x07']),
        "raw controls reached the terminal: {shown:?}"
    );
    assert!(shown.contains("␛]52;c;aGk=␇"), "{shown:?}");
}
