//! The `libre-assistant` binary: the edge where flags are parsed, errors become one line on
//! stderr and an exit code, and a front end is chosen: the interactive app or headless mode.

mod cli;
mod headless;
mod tui;

use std::process::ExitCode;

use cli::args::{Cli, Command};
use cli::failure::Failure;
use cli::resume::Resume;
use cli::setup::Setup;
use headless::Sink;
use headless::input::{PromptArg, compose, read_piped_stdin};
use libre_assistant::exit::Exit;

fn main() -> ExitCode {
    libre_assistant::logging::mark_start();
    let cli = Cli::parse_or_exit();
    // Before anything is written: everything the app creates is private to the user. A plugin
    // (the sandbox launcher, a built-in server) keeps the umask the host gave it: the user's.
    if !matches!(
        cli.command,
        Some(Command::SandboxExec { .. } | Command::McpServe { .. })
    ) {
        libre_assistant::paths::make_private();
    }
    let mut sink = Sink::new(cli.json, cli.stats);
    let exit = match run(&cli, &mut sink) {
        Ok(exit) => exit,
        Err(failure) => {
            sink.failure(&failure);
            failure.exit
        }
    };
    ExitCode::from(u8::try_from(exit.code()).unwrap_or(1))
}

fn run(cli: &Cli, sink: &mut Sink) -> Result<Exit, Failure> {
    match &cli.command {
        Some(Command::Models { action }) => {
            let setup = Setup::new(cli)?;
            cli::models_cmd::run(&setup, action)
        }
        Some(Command::Config) => Ok(cli::config_cmd::run(&Setup::new(cli)?)),
        Some(Command::Plugins { action }) => cli::plugins_cmd::run(&Setup::new(cli)?, action),
        // No Setup: conversations stay readable whatever the config says.
        Some(Command::Sessions { action }) => cli::sessions_cmd::run(action),
        // No Setup: the audit trail stays readable whatever the config says.
        Some(Command::Audit { action }) => cli::audit_cmd::run(action),
        // No Setup: no config, no log file, nothing on stdout but the MCP session.
        Some(Command::McpServe { name, allow }) => mcp_serve(name, allow),
        // No Setup, no threads: the launcher forks, so it must stay single-threaded.
        Some(Command::SandboxExec { policy, command }) => Ok(sandbox_exec(policy, command)),
        // No Setup either: a synthetic transcript, timed; one JSON line on stdout.
        Some(Command::BenchUi {
            lines,
            width,
            height,
            frames,
        }) => bench_ui(tui::bench::Options {
            lines: *lines,
            width: *width,
            height: *height,
            frames: *frames,
        }),
        None if interactive(cli) => {
            raw_fits(cli)?;
            let setup = Setup::new(cli)?;
            runtime()?.block_on(tui::run(&setup, Resume::from_cli(cli), !cli.no_plugins))
        }
        None => {
            raw_fits(cli)?;
            let prompt = one_shot_prompt(cli)?;
            let rules = cli.tool_rules().map_err(|e| Failure::new(Exit::Usage, e))?;
            let setup = Setup::new(cli)?;
            let rules = (!cli.no_plugins && !cli.raw).then_some(rules);
            let record = !cli.no_session && !cli.raw && setup.config.settings.sessions.record;
            let run = headless::Run {
                prompt,
                rules,
                raw: cli.raw,
                resume: Resume::from_cli(cli),
                record,
            };
            runtime()?.block_on(headless::run(&setup, sink, run))
        }
    }
}

/// Serves a built-in plugin until its client hangs up.
fn mcp_serve(name: &str, allow: &[std::path::PathBuf]) -> Result<Exit, Failure> {
    use libre_assistant::plugins::builtin::{self, Builtin};
    let usage = |e: builtin::ServeError| Failure::new(Exit::Usage, e.to_string());
    let builtin = Builtin::from_name(name).map_err(usage)?;
    let mut warn = |line: &str| eprintln!("libre-assistant: warning: {line}");
    runtime()?
        .block_on(builtin::serve(builtin, allow, &mut warn))
        .map_err(|e| match e {
            builtin::ServeError::Unknown(_) | builtin::ServeError::AllowNotFiles => usage(e),
            builtin::ServeError::Session(_) => Failure::new(Exit::Internal, e.to_string()),
        })?;
    Ok(Exit::Ok)
}

/// Runs a plugin under its policy and leaves with its exit code (never returns).
#[cfg(target_os = "linux")]
fn sandbox_exec(policy: &str, command: &[std::ffi::OsString]) -> Exit {
    use libre_assistant::plugins::sandbox::exec;
    let code = match command.split_first() {
        Some((program, args)) => exec::run(policy, program, args),
        None => exec::SETUP_FAILED,
    };
    std::process::exit(code)
}

#[cfg(not(target_os = "linux"))]
fn sandbox_exec(_policy: &str, _command: &[std::ffi::OsString]) -> Exit {
    eprintln!("libre-assistant: sandbox-exec runs on Linux only");
    std::process::exit(125)
}

/// Times frames of the interactive app and prints the figures.
fn bench_ui(opts: tui::bench::Options) -> Result<Exit, Failure> {
    let figures = tui::bench::run(opts).map_err(|e| Failure::new(Exit::Internal, e))?;
    println!("{figures}");
    Ok(Exit::Ok)
}

/// No prompt, and a person at a terminal on both ends: the interactive app.
fn interactive(cli: &Cli) -> bool {
    use std::io::IsTerminal;
    cli.prompt.is_none() && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::new(
                Exit::Internal,
                format!("cannot start the async runtime: {e}"),
            )
        })
}

/// `--raw` sends one prompt as given: flags that add a template's parts, or a conversation,
/// make no sense with it.
fn raw_fits(cli: &Cli) -> Result<(), Failure> {
    if !cli.raw {
        return Ok(());
    }
    let conflict = if cli.resume || cli.resume_id.is_some() {
        "--raw completes one prompt as given and cannot go on with a session; drop --continue or --resume"
    } else if cli.system.is_some() {
        "--raw sends the prompt as given, with no system prompt; drop --system (or put the text in the prompt)"
    } else if !cli.allow_tool.is_empty() || !cli.allow_plugin.is_empty() {
        "--raw offers the model no tools; drop --allow-tool and --allow-plugin"
    } else if interactive(cli) {
        "--raw completes one prompt in headless mode; give it with -p \"…\""
    } else {
        return Ok(());
    };
    Err(Failure::new(Exit::Usage, conflict))
}

/// The user message for a one-shot run, or a usage failure.
fn one_shot_prompt(cli: &Cli) -> Result<String, Failure> {
    let arg = match &cli.prompt {
        Some(p) => PromptArg::from_flag(p),
        None if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
            return Err(Failure::new(
                Exit::Usage,
                "stdout is not a terminal, so the interactive app cannot start; pass a prompt with -p \"…\" (see --help)",
            ));
        }
        // `echo question | libre-assistant` asks the piped text.
        None => PromptArg::Stdin,
    };
    let stdin = read_piped_stdin()?;
    compose(&arg, stdin.as_deref()).ok_or_else(|| {
        Failure::new(
            Exit::Usage,
            "the prompt is empty; pass text with -p \"…\" or pipe it in with -p -",
        )
    })
}
