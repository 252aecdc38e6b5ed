//! The escape suite: a probe plugin (`tests/servers/probe.py`) runs as a real plugin child
//! under the default policy (Landlock and seccomp, `required`) and tries what a hostile plugin
//! would. Every denial is asserted with the errno the kernel gives, and every allowed
//! operation is checked to work, so neither a sandbox that is off nor one that is too tight
//! passes. CI's kernel has Landlock ABI 7; nothing here skips.

mod support;

use std::os::linux::net::SocketAddrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use libre_assistant::plugins::host::{self, HostConfig, HostEvent, HostHandle};
use libre_assistant::plugins::{Manifest, Permissions, Plugin, Source};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

/// A scratch tree: what the probe is granted, and what it is not.
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["granted_rw", "granted_ro", "secret"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        std::fs::write(dir.path().join("granted_ro/ro.txt"), "read-only\n").unwrap();
        std::fs::write(dir.path().join("secret/id_ed25519"), "PRIVATE KEY\n").unwrap();
        Tree { dir }
    }

    fn path(&self, rel: &str) -> String {
        self.dir.path().join(rel).to_string_lossy().into_owned()
    }
}

fn probe_plugin(tree: &Tree, network: bool) -> Plugin {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/probe.py");
    Plugin {
        manifest: Manifest {
            id: "probe".into(),
            name: "Probe".into(),
            command: "python3".into(),
            args: vec![script.to_string_lossy().into_owned()],
            timeout_secs: 30,
            permissions: Permissions {
                read: vec![tree.path("granted_ro")],
                write: vec![tree.path("granted_rw")],
                network,
            },
            ..Manifest::default()
        },
        dir: PathBuf::from("/nonexistent-plugin-dir"),
        source: Source::User,
        enabled: true,
    }
}

/// The probe, running sandboxed, and the tree it probes.
struct Probe {
    host: HostHandle,
    tree: Tree,
}

impl Probe {
    async fn start(network: bool) -> Probe {
        let tree = Tree::new();
        let root = tree.dir.path().join("app");
        let mut host = host::spawn(HostConfig {
            plugins: vec![probe_plugin(&tree, network)],
            max_restarts: 0,
            sandbox: Some(support::sandbox(&root)),
            secrets: None,
            serve_requests: false,
        });
        let listed = tokio::time::timeout(WAIT, async {
            loop {
                match host.events.recv().await.expect("the host runs") {
                    HostEvent::Tools { .. } => return,
                    HostEvent::Status { status, .. } => {
                        assert!(
                            !matches!(status, host::PluginState::Crashed { .. }),
                            "the probe crashed: {status:?}"
                        );
                    }
                    _ => {}
                }
            }
        })
        .await;
        listed.expect("the probe listed its tools in time");
        Probe { host, tree }
    }

    /// Runs one case; `Ok(value)` or `Err(errno name)`.
    async fn try_case(&self, case: &str, mut args: Value) -> Result<Value, String> {
        args["case"] = json!(case);
        let arguments = args.as_object().cloned().unwrap();
        let outcome = tokio::time::timeout(WAIT, self.host.call("probe", "probe", arguments))
            .await
            .expect("the probe answered in time")
            .expect("the call ran");
        let result: Value = serde_json::from_str(&outcome.text).expect("the probe's JSON");
        if result["ok"] == json!(true) {
            Ok(result["value"].clone())
        } else {
            Err(result["errno"].as_str().unwrap_or("?").to_owned())
        }
    }

    async fn denied(&self, case: &str, args: Value, errno: &str) {
        let got = self.try_case(case, args.clone()).await;
        assert_eq!(got, Err(errno.to_owned()), "{case} {args}");
    }

    async fn allowed(&self, case: &str, args: Value) -> Value {
        let got = self.try_case(case, args.clone()).await;
        got.unwrap_or_else(|e| panic!("{case} {args} was denied: {e}"))
    }

    async fn stop(self) {
        tokio::time::timeout(WAIT, self.host.shutdown())
            .await
            .expect("shutdown in time");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn files_outside_the_grants_cannot_be_read_or_written() {
    let p = Probe::start(false).await;
    let secret = p.tree.path("secret/id_ed25519");
    p.denied("read_file", json!({"path": secret}), "EACCES")
        .await;
    p.denied("list_dir", json!({"path": p.tree.path("secret")}), "EACCES")
        .await;
    // Landlock does not hide that a file exists.
    assert_eq!(p.allowed("stat", json!({"path": secret})).await, json!(12));
    p.denied(
        "write_file",
        json!({"path": p.tree.path("secret/new")}),
        "EACCES",
    )
    .await;
    let home_file = std::env::var("HOME").unwrap() + "/.libre-assistant-probe";
    p.denied("write_file", json!({"path": home_file}), "EACCES")
        .await;
    assert!(!Path::new(&home_file).exists());

    // What is granted works: read-only reads, read-write writes.
    let ro = p.tree.path("granted_ro/ro.txt");
    assert_eq!(p.allowed("read_file", json!({"path": ro})).await, json!(10));
    p.denied("write_file", json!({"path": ro}), "EACCES").await;
    p.denied("truncate", json!({"path": ro}), "EACCES").await;
    let rw = p.tree.path("granted_rw/out.txt");
    p.allowed("write_file", json!({"path": rw})).await;
    assert_eq!(std::fs::read_to_string(&rw).unwrap(), "probe");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn links_and_renames_do_not_carry_rights_across_grants() {
    let p = Probe::start(false).await;
    let ro = p.tree.path("granted_ro/ro.txt");
    // A symlink in the writable directory to the read-only file: made, but not writable.
    let link = p.tree.path("granted_rw/link");
    p.denied(
        "symlink_write",
        json!({"link": link, "target": ro}),
        "EACCES",
    )
    .await;
    assert_eq!(std::fs::read_to_string(&ro).unwrap(), "read-only\n");
    // A hard link of the read-only file into the writable directory.
    let hard = p.tree.path("granted_rw/hard");
    p.denied("hardlink", json!({"src": ro, "dst": hard}), "EXDEV")
        .await;
    // Moving it out of the read-only directory.
    let moved = p.tree.path("granted_rw/moved");
    p.denied("rename", json!({"src": ro, "dst": moved}), "EACCES")
        .await;
    assert!(Path::new(&ro).exists());
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn file_metadata_cannot_be_changed_even_where_landlock_does_not_look() {
    let p = Probe::start(false).await;
    let secret = p.tree.path("secret/id_ed25519");
    let before = std::fs::metadata(&secret).unwrap();
    for case in ["chmod", "chown", "utime", "setxattr"] {
        p.denied(case, json!({"path": secret}), "EPERM").await;
    }
    let after = std::fs::metadata(&secret).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(before.mode(), after.mode());
    assert_eq!(before.mtime(), after.mtime());
    p.stop().await;
}

/// A TCP listener on loopback (IPv4 and IPv6), a pathname unix socket and an abstract one,
/// each accepting in the background.
struct Listeners {
    port4: u16,
    port6: u16,
    udp: std::net::UdpSocket,
    unix_path: PathBuf,
    abstract_name: String,
    _keep: Vec<Box<dyn std::any::Any + Send>>,
}

fn listeners(dir: &Path) -> Listeners {
    let tcp4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp6 = std::net::TcpListener::bind("[::1]:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let unix_path = dir.join("agent.sock");
    let unix = std::os::unix::net::UnixListener::bind(&unix_path).unwrap();
    let abstract_name = format!("libre-assistant-probe-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(&abstract_name).unwrap();
    let abstract_listener = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    Listeners {
        port4: tcp4.local_addr().unwrap().port(),
        port6: tcp6.local_addr().unwrap().port(),
        udp,
        unix_path,
        abstract_name,
        _keep: vec![
            Box::new(tcp4),
            Box::new(tcp6),
            Box::new(unix),
            Box::new(abstract_listener),
        ],
    }
}

/// With or without the network: no unix socket (pathname or abstract), no io_uring.
async fn unix_sockets_and_io_uring_stay_closed(p: &Probe, l: &Listeners) {
    p.denied("unix", json!({"path": l.unix_path}), "EPERM")
        .await;
    p.denied("abstract", json!({"name": l.abstract_name}), "EPERM")
        .await;
    p.denied("io_uring_setup", json!({}), "EPERM").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_network_no_socket_reaches_anything() {
    let p = Probe::start(false).await;
    let l = listeners(p.tree.dir.path());
    let udp_port = l.udp.local_addr().unwrap().port();
    p.denied("tcp4", json!({"port": l.port4}), "EPERM").await;
    p.denied("tcp6", json!({"port": l.port6}), "EPERM").await;
    p.denied(
        "udp",
        json!({"host": "127.0.0.1", "port": udp_port}),
        "EPERM",
    )
    .await;
    let mut buf = [0u8; 16];
    assert!(l.udp.recv(&mut buf).is_err(), "a datagram got through");
    unix_sockets_and_io_uring_stay_closed(&p, &l).await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_network_loopback_tcp_works_and_unix_sockets_stay_closed() {
    let p = Probe::start(true).await;
    let l = listeners(p.tree.dir.path());
    p.allowed("tcp4", json!({"port": l.port4})).await;
    p.allowed("tcp6", json!({"port": l.port6})).await;
    unix_sockets_and_io_uring_stay_closed(&p, &l).await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plugin_cannot_signal_trace_or_read_the_host_and_runs_without_new_privileges() {
    let p = Probe::start(false).await;
    let host = json!({"pid": std::process::id()});
    p.denied("ptrace", host.clone(), "EPERM").await;
    p.denied("process_vm_readv", host, "EPERM").await;
    // The filter's own answer to an x32 call (a kernel without x32 would say ENOSYS).
    p.denied("x32_getpid", json!({}), "EPERM").await;
    p.denied("kill", json!({"pid": std::process::id()}), "EPERM")
        .await;
    let status = p.allowed("status", json!({})).await;
    assert_eq!(status, json!(["NoNewPrivs:\t1", "Seccomp:\t2"]));
    p.stop().await;
}

/// Whether a process with this pid exists (a zombie counts).
fn exists(pid: i64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits until `pid` is gone; false if it is still there after [`WAIT`].
async fn gone(pid: i64) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while exists(pid) {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grandchild_that_left_the_process_group_is_gone_after_stop() {
    let p = Probe::start(false).await;
    let pid = p.allowed("spawn_setsid", json!({})).await.as_i64().unwrap();
    assert!(exists(pid));
    let sid = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let plugin_pgid = p.host.process_group("probe").await.unwrap();
    assert_ne!(
        sid.split_whitespace().nth(4),
        Some(plugin_pgid.to_string().as_str()),
        "the grandchild should lead its own process group"
    );
    p.stop().await;
    assert!(
        gone(pid).await,
        "the setsid grandchild {pid} outlived the stop"
    );
}

/// Runs `cmd` as an unprivileged user when the tests run as root (as CI does): root may read
/// any process's environment whatever the sandbox, plugins run as you.
fn unprivileged(cmd: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: geteuid has no failure modes.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534).gid(65534);
    }
    cmd
}

#[test]
fn a_sandboxed_process_cannot_read_another_process_environment() {
    use std::os::unix::fs::PermissionsExt;
    let tree = Tree::new();
    // The launcher, where the unprivileged user can run it.
    std::fs::set_permissions(tree.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let launcher = tree.dir.path().join("libre-assistant");
    std::fs::copy(env!("CARGO_BIN_EXE_libre-assistant"), &launcher).unwrap();
    let mut witness = unprivileged(std::process::Command::new("sleep").arg("600"))
        .env("WITNESS_TOKEN", "w-7c1e")
        .spawn()
        .unwrap();
    let environ = format!("/proc/{}/environ", witness.id());
    // Outside the sandbox the same user reads it.
    let plain = unprivileged(std::process::Command::new("cat").arg(&environ))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&plain.stdout).contains("w-7c1e"));

    let policy = libre_assistant::plugins::sandbox::Policy {
        plugin: "reader".into(),
        read: [
            "/usr",
            "/lib",
            "/lib64",
            "/bin",
            "/etc/ld.so.cache",
            "/proc",
        ]
        .map(PathBuf::from)
        .to_vec(),
        write: vec![PathBuf::from("/dev/null")],
        network: false,
        file_size_mb: 16,
        open_files: 64,
        mode: libre_assistant::plugins::sandbox::Mode::Required,
    };
    let policy = serde_json::to_string(&policy).unwrap();
    let sandboxed = unprivileged(std::process::Command::new(&launcher).args([
        "sandbox-exec",
        "--policy",
        &policy,
        "--",
        "/bin/cat",
        &environ,
    ]))
    .output()
    .unwrap();
    witness.kill().unwrap();
    witness.wait().unwrap();
    let err = String::from_utf8_lossy(&sandboxed.stderr);
    assert_eq!(sandboxed.status.code(), Some(1), "{err}");
    assert!(!String::from_utf8_lossy(&sandboxed.stdout).contains("w-7c1e"));
    assert!(
        err.contains(&format!("{environ}: Permission denied")),
        "{err}"
    );
}
