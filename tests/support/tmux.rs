//! Driving the real binary in tmux, as a person would: a private tmux server per test (its own
//! socket, no config file, killed on drop), the app started in an isolated [`Home`], keys sent
//! with `send-keys`, the screen read back with `capture-pane`.
//!
//! The app runs under `sh -c '<app>; echo "EXIT=$?"; sleep 600'`, so after it quits the pane
//! stays open showing the restored screen and the exit code.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Home, smollm};

/// How long a wait may take before the test fails: a bound, not a timing.
pub const WAIT: Duration = Duration::from_secs(60);

/// How to start the app: pane size, terminal type, colour, and its arguments.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Columns of the window.
    pub width: u16,
    /// Rows of the window.
    pub height: u16,
    /// `TERM` inside the pane.
    pub term: String,
    /// Sets `NO_COLOR=1`.
    pub no_color: bool,
    /// `--max-tokens`.
    pub max_tokens: u32,
    /// The model file (`--model`); the default test model unless set.
    pub model: Option<std::path::PathBuf>,
    /// Arguments after the model, temperature and max-tokens ones.
    pub args: Vec<String>,
    /// No `--model` at all: the app's first run, with whatever the config says.
    pub without_model: bool,
    /// More environment variables for the app.
    pub env: Vec<(String, String)>,
    /// The umask the app starts with (octal), when not the server's.
    pub umask: Option<String>,
}

impl Launch {
    /// The app with the test model, greedy, in a `width`×`height` xterm-256color window.
    pub fn new(width: u16, height: u16) -> Launch {
        Launch {
            width,
            height,
            term: "xterm-256color".into(),
            no_color: false,
            max_tokens: 48,
            model: None,
            args: Vec::new(),
            without_model: false,
            env: Vec::new(),
            umask: None,
        }
    }

    /// Started with this umask (octal, e.g. "000").
    pub fn umask(mut self, mask: &str) -> Launch {
        self.umask = Some(mask.to_string());
        self
    }

    /// With another model file.
    pub fn model(mut self, path: std::path::PathBuf) -> Launch {
        self.model = Some(path);
        self
    }

    /// With another `TERM`.
    pub fn term(mut self, term: &str) -> Launch {
        self.term = term.into();
        self
    }

    /// With `NO_COLOR=1`.
    pub fn no_color(mut self) -> Launch {
        self.no_color = true;
        self
    }

    /// With another `--max-tokens`.
    pub fn max_tokens(mut self, n: u32) -> Launch {
        self.max_tokens = n;
        self
    }

    /// Without `--model`, as a new user starts it.
    pub fn without_model(mut self) -> Launch {
        self.without_model = true;
        self
    }

    /// With one more environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Launch {
        self.env.push((key.into(), value.into()));
        self
    }

    /// With one more argument.
    pub fn arg(mut self, arg: &str) -> Launch {
        self.args.push(arg.into());
        self
    }

    /// The `sh -c` script that runs the app in `home`, then shows its exit code and waits.
    fn script(&self, home: &Home) -> String {
        let dir = home.path();
        let mut vars = vec![
            ("HOME", dir.display().to_string()),
            ("XDG_CONFIG_HOME", dir.join("config").display().to_string()),
            ("XDG_DATA_HOME", dir.join("data").display().to_string()),
            ("XDG_STATE_HOME", dir.join("state").display().to_string()),
            ("XDG_CACHE_HOME", dir.join("cache").display().to_string()),
            ("TERM", self.term.clone()),
            // Tests run two at a time on two cores: see support::TEST_THREADS.
            ("LIBRE_ASSISTANT_THREADS", super::TEST_THREADS.to_string()),
        ];
        if self.no_color {
            vars.push(("NO_COLOR", "1".into()));
        }
        let mut script = String::new();
        if let Some(mask) = &self.umask {
            script.push_str(&format!("umask {mask}; "));
        }
        let extra = self.env.iter().map(|(k, v)| (k.as_str(), v.clone()));
        for (key, value) in vars.into_iter().chain(extra) {
            script.push_str(&format!("{key}={}; export {key}; ", quote(&value)));
        }
        let mut argv = vec![env!("CARGO_BIN_EXE_libre-assistant").to_string()];
        if !self.without_model {
            let model = self.model.clone().unwrap_or_else(smollm);
            argv.extend(["--model".into(), model.display().to_string()]);
        }
        argv.extend([
            "--temperature".into(),
            "0".into(),
            "--max-tokens".into(),
            self.max_tokens.to_string(),
        ]);
        argv.extend(self.args.iter().cloned());
        let argv: Vec<String> = argv.iter().map(|a| quote(a)).collect();
        script.push_str(&argv.join(" "));
        script.push_str("; echo \"EXIT=$?\"; sleep 600");
        script
    }
}

/// Single-quotes `s` for `sh`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A private tmux server with one session, `main`, and the pane the test drives.
pub struct Tmux {
    socket: String,
    /// The socket file, removed on drop (tmux leaves it behind).
    socket_path: Option<String>,
    target: String,
}

impl Tmux {
    /// Starts the app in a new `launch.width`×`launch.height` session.
    pub fn start(home: &Home, launch: &Launch) -> Tmux {
        let script = launch.script(home);
        Tmux::session(launch.width, launch.height, &["sh", "-c", &script])
    }

    /// Starts a session running a plain shell, `width`×`height`.
    pub fn start_shell(width: u16, height: u16) -> Tmux {
        Tmux::session(width, height, &["sh"])
    }

    /// A new server with one `width`×`height` session, `main`, running `command`.
    fn session(width: u16, height: u16, command: &[&str]) -> Tmux {
        let tmux = Tmux::server();
        let (w, h) = (width.to_string(), height.to_string());
        let mut args = vec!["new-session", "-d", "-s", "main", "-x", &w, "-y", &h, "--"];
        args.extend_from_slice(command);
        tmux.run(&args);
        tmux.started()
    }

    /// Splits the window side by side and starts the app in a new pane `columns` wide on the
    /// right; the new pane is the one driven from now on.
    pub fn split_app(&mut self, home: &Home, launch: &Launch, columns: u16) {
        let script = launch.script(home);
        let cols = columns.to_string();
        let out = self.run(&[
            "split-window",
            "-h",
            "-l",
            &cols,
            "-t",
            "main",
            "-P",
            "-F",
            "#{pane_id}",
            "--",
            "sh",
            "-c",
            &script,
        ]);
        self.target = out.trim().to_string();
        assert!(self.target.starts_with('%'), "a pane id: {:?}", self.target);
    }

    /// Notes where the new server's socket is.
    fn started(mut self) -> Tmux {
        self.socket_path = Some(self.display("#{socket_path}"));
        self
    }

    fn server() -> Tmux {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        match Command::new("tmux").arg("-V").output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!("`tmux -V` failed ({}); run scripts/deps", out.status),
            Err(e) => {
                panic!("tmux is needed for the TUI tests and cannot run ({e}); run scripts/deps")
            }
        }
        let socket = format!(
            "libre-assistant-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Tmux {
            socket,
            socket_path: None,
            target: "main".into(),
        }
    }

    /// Runs one tmux command against this server; panics if it fails. Returns its stdout.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("tmux prints UTF-8")
    }

    /// The server gets a bare environment, so nothing of the caller's (a `LIBRE_ASSISTANT_*`
    /// variable, `TMUX`, `RUST_LOG`) leaks into the pane; `-u` makes tmux speak UTF-8.
    fn output(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LC_ALL", "C.UTF-8")
            .args(["-u", "-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// Sends keys by tmux name: `Enter`, `Escape`, `C-c`, `F1`, `M-Enter`, …
    pub fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.target];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", &self.target, "-l", "--", text]);
    }

    /// Types `text` and presses Enter.
    pub fn ask(&self, text: &str) {
        self.type_text(text);
        self.send_keys(&["Enter"]);
    }

    /// Resets the pane's terminal (`send-keys -R`): the screen is blanked by tmux, unseen by
    /// the app.
    pub fn reset_terminal(&self) {
        self.run(&["send-keys", "-R", "-t", &self.target]);
    }

    /// The visible screen as text, one line a row.
    pub fn capture(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.target])
    }

    /// The visible screen with lines the terminal wrapped joined back (`-J`), so a row the
    /// app wrote past the right edge shows as one over-long line.
    pub fn capture_joined(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-t", &self.target])
    }

    /// The visible screen with its colours and attributes as escape sequences.
    pub fn capture_escapes(&self) -> String {
        self.run(&["capture-pane", "-p", "-e", "-t", &self.target])
    }

    /// A tmux format expanded for the pane, e.g. `#{cursor_flag}`.
    pub fn display(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", &self.target, format])
            .trim_end()
            .to_string()
    }

    /// Resizes the window (the pane follows).
    pub fn resize(&self, width: u16, height: u16) {
        let (w, h) = (width.to_string(), height.to_string());
        self.run(&["resize-window", "-t", "main", "-x", &w, "-y", &h]);
    }

    /// Polls the screen every 100 ms until `ready` holds and returns that screen; fails with
    /// `what` and the last screen after `timeout`.
    #[track_caller]
    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if ready(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!(
                    "waited {timeout:?} for {what}; the screen:\n{}",
                    framed(&screen)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the screen contains `text`.
    #[track_caller]
    pub fn wait_for_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), |s| s.contains(text), WAIT)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // The apps in the panes, so their shutdown (saving the prompt cache, the figures) is
        // over before the test's home directory is removed: nothing is written after it.
        let panes = self.output(&["list-panes", "-a", "-F", "#{pane_pid}"]);
        let apps: Vec<u32> = String::from_utf8_lossy(&panes.stdout)
            .lines()
            .filter_map(|p| p.trim().parse().ok())
            .flat_map(|shell| {
                let mut tree = libre_assistant::plugins::host::monitor::descendants(shell);
                tree.push(shell);
                tree
            })
            .collect();
        // Errors are ignored: the server may already be gone.
        let _ = self.output(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
        let deadline = Instant::now() + WAIT;
        for pid in apps {
            while is_running(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Whether `pid` is a process that has not exited (a zombie has).
fn is_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat[stat.rfind(')')? + 1..]
                .split_whitespace()
                .next()?
                .to_owned();
            Some(state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

/// The screen inside a frame, so blank rows and trailing spaces show in a failure message.
pub fn framed(screen: &str) -> String {
    screen
        .lines()
        .map(|l| format!("|{l}|\n"))
        .collect::<String>()
}
