//! Shared by the integration tests: where the test model is, how to run the binary in an
//! isolated home, and a loopback HTTP server and fake pip for download tests.
#![allow(dead_code)]

pub mod core;
pub mod download;
pub mod engine;
pub mod events;
pub mod host;
pub mod http;
pub mod llama;
pub mod openai;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Engine threads for every test. The test harness runs two tests at a time, and llama.cpp's
/// threads wait for each other at every step of a decode: two engines of two threads on a
/// two-core machine measured 5 tokens/s instead of 150. One thread each keeps them apart.
pub const TEST_THREADS: u32 = 1;

/// The default model's file name in the store.
pub const SMOLLM_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The cache the test models live in (outside the checkout; `scripts/test-models` fills it).
pub fn model_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("LIBRE_ASSISTANT_TEST_MODELS") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache")
        });
    home.join("libre-assistant-tests")
}

/// The default model (SmolLM2-135M-Instruct Q4_1), fetched into the cache on first use with
/// the binary's own `models pull`, which verifies its checksum.
pub fn smollm() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| pulled("smollm2-135m-instruct", SMOLLM_FILE))
        .clone()
}

/// The catalog's tool-calling model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M), fetched like
/// [`smollm`].
pub fn qwen() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| pulled("qwen2.5-coder-0.5b-instruct", QWEN_FILE))
        .clone()
}

/// The Qwen model's file name in the store.
pub const QWEN_FILE: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";

/// The catalog's stronger tool-calling model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 1.1 GB, about
/// 17 s for one headless tool question here: for the few tests that need it), fetched like
/// [`smollm`].
pub fn qwen_1_5b() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| pulled("qwen2.5-coder-1.5b-instruct", QWEN_1_5B_FILE))
        .clone()
}

/// The 1.5B Qwen model's file name in the store.
pub const QWEN_1_5B_FILE: &str = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf";

/// The catalog model `name` in the test cache, pulled first if it is not there yet.
fn pulled(name: &str, file: &str) -> PathBuf {
    let cache = model_cache();
    let path = cache.join("libre-assistant/models").join(file);
    std::fs::create_dir_all(&cache).expect("create the test model cache");
    // Several test binaries may start at once: one fetches, the others wait on the lock.
    let lock = std::fs::File::create(cache.join(".lock")).expect("create the lock file");
    lock.lock().expect("lock the test model cache");
    if !path.with_extension("gguf.verified").exists() {
        let status = Command::new(env!("CARGO_BIN_EXE_libre-assistant"))
            .args(["models", "pull", name])
            .env("XDG_DATA_HOME", &cache)
            .env("XDG_STATE_HOME", cache.join("state"))
            .env("XDG_CONFIG_HOME", cache.join("config"))
            .status()
            .expect("run libre-assistant models pull");
        assert!(
            status.success(),
            "fetching the test model {name} failed; run scripts/test-models"
        );
    }
    path
}

/// A private home for one test: empty config, data and state directories.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The config file this home's runs read.
    pub fn config_file(&self) -> PathBuf {
        self.path().join("config/libre-assistant/config.toml")
    }

    /// Writes the config file.
    pub fn write_config(&self, text: &str) {
        let file = self.config_file();
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }

    /// The binary, with this home's XDG directories and nothing from the caller's config.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_libre-assistant"));
        cmd.env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_DATA_HOME", self.path().join("data"))
            .env("XDG_STATE_HOME", self.path().join("state"))
            .env("XDG_CACHE_HOME", self.path().join("cache"))
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("LIBRE_ASSISTANT_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("LIBRE_ASSISTANT_THREADS", TEST_THREADS.to_string());
        cmd
    }

    /// The binary, set up to use the cached test model by path, greedy and short.
    pub fn with_model(&self) -> Command {
        let mut cmd = self.command();
        cmd.arg("--model")
            .arg(smollm())
            .args(["--temperature", "0", "--max-tokens", "48"]);
        cmd
    }
}

/// Engine settings for the in-process tests: `context` tokens, [`TEST_THREADS`] threads.
pub fn engine_config(model_path: PathBuf, context: u32) -> libre_assistant::engine::EngineConfig {
    libre_assistant::engine::EngineConfig {
        model_path,
        context,
        threads: TEST_THREADS,
        n_gpu_layers: 0,
        batch: 512,
        chat_template: None,
        raw: false,
        prompt_cache: None,
        rpc: Vec::new(),
        core_lock: None,
        prompt_lookup: false,
        draft_model: None,
        flash_attention: Default::default(),
        kv_cache_type: Default::default(),
        mmap: false,
    }
}

/// The sandbox the tests run plugins in, as the app would: the real launcher, `required` (CI's
/// kernel has Landlock: nothing may skip), and libre-assistant's own directories under `root`
/// (each plugin's private directory goes in `root/state`).
pub fn sandbox(root: &Path) -> libre_assistant::plugins::host::SandboxConfig {
    use libre_assistant::plugins::sandbox::{Mode, Protected, Support};
    libre_assistant::plugins::host::SandboxConfig {
        mode: Mode::Required,
        support: Support::probe(),
        protected: Protected {
            config: root.join("config"),
            data: root.join("data"),
            state: root.join("state"),
            secrets: root.join("data/secrets"),
        },
        launcher: PathBuf::from(env!("CARGO_BIN_EXE_libre-assistant")),
    }
}

/// A user plugin `id` running `command args`, enabled, with no directory of its own and the
/// manifest's defaults otherwise.
pub fn plugin(id: &str, command: &str, args: &[&str]) -> libre_assistant::plugins::Plugin {
    use libre_assistant::plugins::{Manifest, Plugin, Source};
    Plugin {
        manifest: Manifest {
            id: id.to_owned(),
            name: id.to_owned(),
            command: command.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            ..Manifest::default()
        },
        dir: PathBuf::from("/nonexistent-plugin-dir"),
        source: Source::User,
        enabled: true,
    }
}

/// A directory for one test binary's plugin state, under cargo's target directory (not the
/// system temp directory, so nothing is left there), emptied first.
pub fn target_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test's directory");
    dir
}

/// The bin directory of the pinned third-party MCP servers (`scripts/test-servers` installs
/// them): `$LIBRE_ASSISTANT_TEST_SERVERS/bin`, by default `~/.cache/libre-assistant-tests/mcp/bin`.
pub fn test_servers() -> PathBuf {
    let root = std::env::var_os("LIBRE_ASSISTANT_TEST_SERVERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache")
                })
                .join("libre-assistant-tests/mcp")
        });
    let bin = root.join("bin");
    assert!(
        bin.join("mcp-server-time").exists(),
        "no test MCP servers in {}; run scripts/test-servers",
        bin.display()
    );
    bin
}
