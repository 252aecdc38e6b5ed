//! Command-line flags and subcommands (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A privacy-first AI assistant for the terminal. Models run in-process; nothing leaves the machine.
#[derive(Debug, Parser)]
#[command(name = "libre-assistant", version, about, long_about = None, allow_negative_numbers = true)]
pub struct Cli {
    /// Answer this prompt and exit (headless). `-p -` reads the prompt from stdin; otherwise
    /// piped stdin is added to the prompt as context.
    #[arg(short = 'p', long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// Write a versioned stream of JSON events, one per line, instead of plain text.
    #[arg(long)]
    pub json: bool,
    /// Print the turn's statistics to stderr after the answer.
    #[arg(long)]
    pub stats: bool,
    /// Model to use: a catalog or imported name, or a path to a .gguf file.
    #[arg(short = 'm', long, value_name = "NAME|PATH")]
    pub model: Option<String>,
    /// System prompt.
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Most tokens to generate.
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature; 0 is greedy and reproducible.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f32>,
    /// Nucleus sampling threshold.
    #[arg(long, value_name = "P")]
    pub top_p: Option<f32>,
    /// Keep only the K most likely tokens.
    #[arg(long, value_name = "K")]
    pub top_k: Option<i32>,
    /// Random seed, for reproducible sampling.
    #[arg(long, value_name = "N")]
    pub seed: Option<u32>,
    /// End the answer where this text first appears, leaving it out (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub stop: Vec<String>,
    /// Raw completion, for base models: the prompt is sent as given, with no chat template,
    /// system prompt or tools; the answer continues it. Headless (-p) only.
    #[arg(long)]
    pub raw: bool,
    /// Context length in tokens.
    #[arg(long, value_name = "TOKENS")]
    pub ctx: Option<u32>,
    /// CPU threads (default: the physical cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<u32>,
    /// Log level for the log file: error, warn, info, debug or trace.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Colour theme of the interactive app: dark, light, high-contrast, gruvbox-dark,
    /// catppuccin-mocha, or one of yours in <config dir>/themes.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Config file to read instead of the default one.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Headless: allow this tool's calls without asking (PLUGIN/TOOL; repeatable). Headless
    /// runs deny every other call.
    #[arg(long = "allow-tool", value_name = "PLUGIN/TOOL")]
    pub allow_tool: Vec<String>,
    /// Headless: allow calls to every tool of this plugin, or with `ID:read-only` to the tools
    /// it declares read-only (repeatable).
    #[arg(long = "allow-plugin", value_name = "ID[:read-only]")]
    pub allow_plugin: Vec<String>,
    /// Headless: answer this plugin's sampling requests (its server asks the local model to
    /// write a message) without asking (repeatable). Headless runs deny them otherwise.
    #[arg(long = "allow-sampling", value_name = "ID")]
    pub allow_sampling: Vec<String>,
    /// Start no plugins: the model is offered no tools.
    #[arg(long)]
    pub no_plugins: bool,
    /// Go on with the most recent session (in the app, or headless with -p).
    #[arg(short = 'c', long = "continue", conflicts_with = "resume_id")]
    pub resume: bool,
    /// Go on with this session (`sessions list` shows the ids).
    #[arg(long = "resume", value_name = "ID")]
    pub resume_id: Option<i64>,
    /// Headless: do not save this run as a session.
    #[arg(long)]
    pub no_session: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage models: list, pull, rm, show, import.
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
    /// Print the effective configuration and where each value came from.
    Config,
    /// Manage plugins (MCP servers): list, show, enable, disable, grant, import, tools, call,
    /// stats.
    Plugins {
        #[command(subcommand)]
        action: PluginsAction,
    },
    /// Check or show the audit log of tool calls: verify, tail.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Saved conversations: list, search, show, export, rename, rm.
    Sessions {
        #[command(subcommand)]
        action: SessionsAction,
    },
    /// Serve a built-in plugin (calc, password, files) as an MCP server on stdin/stdout.
    /// Its shipped manifest runs this; stdout carries only JSON-RPC.
    #[command(hide = true)]
    McpServe {
        /// The built-in plugin.
        #[arg(value_parser = libre_assistant::plugins::builtin::NAMES)]
        name: String,
        /// A directory the files plugin may read; repeat for more.
        #[arg(long, value_name = "DIR")]
        allow: Vec<PathBuf>,
    },
    /// Run a plugin's program under its sandbox policy (the host starts every plugin this way
    /// on Linux). Exit code 125: the sandbox could not be set up.
    #[command(hide = true, name = "sandbox-exec")]
    SandboxExec {
        /// The policy, as the host writes it (JSON).
        #[arg(long, value_name = "JSON")]
        policy: String,
        /// The program (an absolute path) and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "PROGRAM")]
        command: Vec<std::ffi::OsString>,
    },
    /// Time frames of the interactive app over a synthetic transcript (no model, config or
    /// network) and print the figures as one JSON line.
    #[command(hide = true)]
    BenchUi {
        /// Wrapped transcript lines to build, at least.
        #[arg(long, value_name = "N", default_value_t = 10_000)]
        lines: usize,
        /// Terminal columns.
        #[arg(long, value_name = "W", default_value_t = 200)]
        width: u16,
        /// Terminal rows.
        #[arg(long, value_name = "H", default_value_t = 60)]
        height: u16,
        /// Frames timed per scenario.
        #[arg(long, value_name = "N", default_value_t = 200)]
        frames: usize,
    },
}

/// `plugins` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginsAction {
    /// List shipped and user plugins, enabled or not, with their permissions.
    List,
    /// Show everything in a plugin's manifest.
    Show {
        /// Plugin id.
        id: String,
    },
    /// Enable a plugin.
    Enable {
        /// Plugin id.
        id: String,
    },
    /// Disable a plugin.
    Disable {
        /// Plugin id.
        id: String,
    },
    /// Grant a user plugin permissions (imported plugins have none): paths it may read or
    /// write, and the network. They are added to its manifest and shown before every call.
    Grant {
        /// Plugin id.
        id: String,
        /// A path it may read (repeatable).
        #[arg(long, value_name = "PATH")]
        read: Vec<String>,
        /// A path it may write (repeatable).
        #[arg(long, value_name = "PATH")]
        write: Vec<String>,
        /// It may use the network.
        #[arg(long)]
        network: bool,
    },
    /// Turn another client's mcpServers JSON (Claude Desktop, VS Code, Cursor) into plugins,
    /// disabled, allowed to read only the paths their arguments name; `env` values go into the
    /// secret store; `npx -y PACKAGE` servers are installed into their plugin directories.
    Import {
        /// The JSON file.
        file: PathBuf,
        /// Do not install npx packages with npm (they then run through npx).
        #[arg(long)]
        no_install: bool,
    },
    /// Sign in to a remote plugin's server that asks for it (OAuth 2.1 with PKCE): prints the
    /// address to open in a browser and waits on a loopback port for it to come back; the
    /// tokens go into the secret store (`plugins secret rm ID OAUTH` signs out).
    Login {
        /// Plugin id.
        id: String,
    },
    /// Keep a plugin's secrets (API tokens) out of files: set, rm, list.
    Secret {
        #[command(subcommand)]
        action: SecretAction,
    },
    /// Start a plugin (sandboxed, as the app would) and list its tools: descriptions, input
    /// schemas and what each costs in prompt tokens. Works on disabled plugins, to review one
    /// before enabling it.
    Tools {
        /// Plugin id.
        id: String,
        /// Print one JSON array of objects instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run one tool call without a model and print the result; the command is the consent.
    /// Audited and counted like any call.
    Call {
        /// Plugin id.
        id: String,
        /// The tool's name.
        tool: String,
        /// The arguments, a JSON object (default `{}`).
        #[arg(value_name = "JSON-ARGUMENTS")]
        arguments: Option<String>,
        /// Print the result as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Start a plugin and list its resources (and resource templates).
    Resources {
        /// Plugin id.
        id: String,
        /// Print one JSON array of objects instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Start a plugin and print one of its resources (text only).
    Read {
        /// Plugin id.
        id: String,
        /// The resource's URI.
        uri: String,
    },
    /// Start a plugin and list its prompts with their arguments.
    Prompts {
        /// Plugin id.
        id: String,
        /// Print one JSON array of objects instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Start a plugin and print one of its prompts' messages, rendered with ARG=VALUE
    /// arguments.
    Prompt {
        /// Plugin id.
        id: String,
        /// The prompt's name.
        name: String,
        /// Its arguments, each ARG=VALUE.
        #[arg(value_name = "ARG=VALUE")]
        arguments: Vec<String>,
    },
    /// Show tool-call figures per plugin and tool: calls, errors, denials, p50/p95 latency, last use.
    Stats {
        /// Print one JSON array of objects instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `plugins secret` subcommands.
#[derive(Debug, Subcommand)]
pub enum SecretAction {
    /// Store a secret (the value is read from a prompt that does not echo, or from stdin) and
    /// name it in the plugin's manifest; the plugin receives it in its environment only.
    Set {
        /// Plugin id.
        id: String,
        /// The environment variable the plugin reads, e.g. GITHUB_TOKEN.
        name: String,
    },
    /// Delete a secret.
    Rm {
        /// Plugin id.
        id: String,
        /// The variable's name.
        name: String,
    },
    /// List secrets by plugin and name, and where each is kept (never their values).
    List {
        /// Only this plugin's.
        id: Option<String>,
    },
}

/// `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the hash chain: any edited, deleted or reordered line is reported.
    Verify,
    /// Show the most recent tool calls, oldest first.
    Tail {
        /// How many calls to show.
        #[arg(short = 'n', value_name = "N", default_value_t = 20)]
        n: usize,
    },
}

/// `sessions` subcommands.
#[derive(Debug, Subcommand)]
pub enum SessionsAction {
    /// List every session, the most recent first.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Find sessions by the words in their messages, best match first.
    Search {
        /// The words (all must match; the last may be the start of a word).
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print a session's conversation.
    Show {
        /// The session's id.
        id: i64,
    },
    /// Write a session out, to stdout.
    Export {
        /// The session's id.
        id: i64,
        /// md (Markdown) or json.
        #[arg(long, value_name = "FORMAT", default_value = "md", value_parser = ["md", "json"])]
        format: String,
    },
    /// Give a session a new title.
    Rename {
        /// The session's id.
        id: i64,
        /// The new title.
        #[arg(required = true, num_args = 1..)]
        title: Vec<String>,
    },
    /// Delete a session and its messages.
    Rm {
        /// The session's id.
        id: i64,
    },
}

/// `models` subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelsAction {
    /// List catalog and installed models.
    List,
    /// Download a catalog model and verify its checksum.
    Pull {
        /// Catalog name.
        name: String,
    },
    /// Delete an installed model.
    Rm {
        /// Installed name.
        name: String,
    },
    /// Show a model's GGUF metadata.
    Show {
        /// Installed name, catalog name, or path.
        name: String,
    },
    /// Copy a local GGUF file into the store.
    Import {
        /// The .gguf file.
        path: PathBuf,
    },
    /// Keep the API key of a server back end (`[backends.NAME]`) in the OS keyring (or a 0600
    /// file), typed without echo or read from stdin.
    Key {
        /// The back end's name.
        backend: String,
    },
}

impl Cli {
    /// The headless tool rules the flags give, as policy patterns; a malformed one is a
    /// one-line usage error.
    pub fn tool_rules(&self) -> Result<crate::cli::tools::Rules, String> {
        let mut rules = Vec::new();
        for tool in &self.allow_tool {
            let checked = libre_assistant::core::tools::parse_pattern(tool)
                .map_err(|e| format!("--allow-tool: {e}"))?;
            match checked.tool {
                Some(_) if !checked.read_only => rules.push(tool.clone()),
                _ => {
                    return Err(format!(
                        "--allow-tool {tool:?}: write PLUGIN/TOOL, e.g. --allow-tool time/current_time (or --allow-plugin ID for all its tools)"
                    ));
                }
            }
        }
        for plugin in &self.allow_plugin {
            let checked = libre_assistant::core::tools::parse_pattern(plugin);
            if plugin.contains('/') || checked.is_err() {
                return Err(format!(
                    "--allow-plugin {plugin:?}: give a plugin id (see `libre-assistant plugins list`); use --allow-tool PLUGIN/TOOL for one tool"
                ));
            }
            rules.push(plugin.clone());
        }
        let mut sampling = Vec::new();
        for plugin in &self.allow_sampling {
            let checked = libre_assistant::core::tools::parse_pattern(plugin);
            if checked.is_err() || plugin.contains(['/', ':']) {
                return Err(format!(
                    "--allow-sampling {plugin:?}: give a plugin id (see `libre-assistant plugins list`)"
                ));
            }
            sampling.push(plugin.clone());
        }
        Ok(crate::cli::tools::Rules {
            tools: rules,
            sampling,
        })
    }

    /// The config overrides these flags carry.
    pub fn overrides(&self) -> libre_assistant::config::Overrides {
        libre_assistant::config::Overrides {
            config_path: self.config.clone(),
            model: self.model.clone(),
            system_prompt: self.system.clone(),
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
            max_tokens: self.max_tokens,
            seed: self.seed,
            stop: self.stop.clone(),
            context: self.ctx,
            threads: self.threads,
            log_level: self.log_level.clone(),
            theme: self.theme.clone(),
        }
    }

    /// Parses the process arguments. Help and version print and exit as usual; a usage error
    /// becomes one line (clap's own first line) and exit code 2.
    pub fn parse_or_exit() -> Cli {
        use clap::error::ErrorKind;
        match Cli::try_parse() {
            Ok(cli) => cli,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::DisplayHelp
                        | ErrorKind::DisplayVersion
                        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                ) =>
            {
                e.exit()
            }
            Err(e) => {
                let rendered = e.render().to_string();
                let first = rendered.lines().next().unwrap_or("invalid arguments");
                let first = first.strip_prefix("error: ").unwrap_or(first);
                eprintln!("libre-assistant: {first}; see --help");
                std::process::exit(libre_assistant::exit::Exit::Usage.code());
            }
        }
    }
}
