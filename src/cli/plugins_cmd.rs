//! `libre-assistant plugins list|show|enable|disable|grant|import` (`tools` and `call` are in
//! `plugin_review.rs`, `secret` in `secret_cmd.rs`, `stats` in `stats_cmd.rs`): results on
//! stdout; skipped manifests and servers as `warning:` lines on stderr, one per problem.

use std::path::{Path, PathBuf};

use libre_assistant::exit::Exit;
use libre_assistant::plugins::host::SandboxConfig;
use libre_assistant::plugins::sandbox::plugin_dirs;
use libre_assistant::plugins::secrets::SecretStore;
use libre_assistant::plugins::{
    self, Discovery, ImportError, ImportOptions, Imported, Permissions, Plugin, PluginsState,
    StateError, discover,
};

use super::args::PluginsAction;
use super::failure::Failure;
use super::setup::Setup;

/// Runs one `plugins` subcommand.
pub fn run(setup: &Setup, action: &PluginsAction) -> Result<Exit, Failure> {
    let state_path = plugins::state_file(&setup.dirs);
    let shipped = plugins::shipped_dirs();
    let user = plugins::user_dir(&setup.dirs);
    let load = || -> Result<(PluginsState, Discovery), Failure> {
        let state = PluginsState::load(&state_path).map_err(state_failure)?;
        let found = discover(&shipped, &user, &state);
        Ok((state, found))
    };
    match action {
        PluginsAction::List => {
            let (_, found) = load()?;
            warn(&found.problems);
            list(&found, &shipped, &user);
            Ok(Exit::Ok)
        }
        PluginsAction::Show { id } => {
            let (_, found) = load()?;
            warn(&found.problems);
            let mut problems = Vec::new();
            let sandbox = super::tools::sandbox_config(setup, &mut problems);
            warn(&problems);
            show(find(&found, id)?, &sandbox);
            Ok(Exit::Ok)
        }
        PluginsAction::Enable { id } => {
            let (state, found) = load()?;
            set_enabled(&found, state, &state_path, id, true)
        }
        PluginsAction::Disable { id } => {
            let (state, found) = load()?;
            set_enabled(&found, state, &state_path, id, false)
        }
        PluginsAction::Import { file, no_install } => {
            let (_, found) = load()?;
            import(setup, file, &found, !no_install)
        }
        PluginsAction::Login { id } => {
            let (_, found) = load()?;
            warn(&found.problems);
            login(setup, find(&found, id)?)
        }
        PluginsAction::Secret { action } => {
            let (_, found) = load()?;
            super::secret_cmd::run(setup, &found, action)
        }
        PluginsAction::Grant {
            id,
            read,
            write,
            network,
        } => {
            let (_, found) = load()?;
            warn(&found.problems);
            let plugin = find(&found, id)?;
            let add = Permissions {
                read: read.clone(),
                write: write.clone(),
                network: *network,
            };
            let permissions = plugins::grant(plugin, &add, &state_path)
                .map_err(|e| Failure::new(Exit::Usage, e))?;
            println!("{id}: {}", permissions.summary());
            if !plugin.enabled {
                println!("  {id} is disabled; `libre-assistant plugins enable {id}` starts it");
            }
            Ok(Exit::Ok)
        }
        PluginsAction::Stats { json } => super::stats_cmd::run(&setup.dirs, *json),
        PluginsAction::Resources { id, json } => {
            let (_, found) = load()?;
            warn(&found.problems);
            super::plugin_context::resources(setup, find(&found, id)?, *json)
        }
        PluginsAction::Read { id, uri } => {
            let (_, found) = load()?;
            warn(&found.problems);
            super::plugin_context::read(setup, find(&found, id)?, uri)
        }
        PluginsAction::Prompts { id, json } => {
            let (_, found) = load()?;
            warn(&found.problems);
            super::plugin_context::prompts(setup, find(&found, id)?, *json)
        }
        PluginsAction::Prompt {
            id,
            name,
            arguments,
        } => {
            let (_, found) = load()?;
            warn(&found.problems);
            super::plugin_context::prompt(setup, find(&found, id)?, name, arguments)
        }
        PluginsAction::Tools { id, json } => {
            let (_, found) = load()?;
            warn(&found.problems);
            super::plugin_review::tools(setup, find(&found, id)?, *json)
        }
        PluginsAction::Call {
            id,
            tool,
            arguments,
            json,
        } => {
            let (_, found) = load()?;
            warn(&found.problems);
            let plugin = find(&found, id)?;
            super::plugin_review::call(setup, plugin, tool, arguments.as_deref(), *json)
        }
    }
}

/// One `warning:` line per problem.
pub(super) fn warn(problems: &[String]) {
    for problem in problems {
        eprintln!("libre-assistant: warning: {problem}");
    }
}

/// `plugins login ID`: the OAuth sign-in of a remote plugin.
fn login(setup: &Setup, plugin: &Plugin) -> Result<Exit, Failure> {
    let id = &plugin.manifest.id;
    if !plugin.manifest.is_remote() {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "{id} runs on this machine; only a remote plugin (a manifest with `url`) signs in"
            ),
        ));
    }
    let url = &plugin.manifest.url;
    let credentials = plugins::oauth::SecretCredentials {
        store: SecretStore::new(&setup.dirs),
        plugin: id.clone(),
    };
    let show = |address: &str| {
        println!(
            "Open this address in a browser to sign in to {id} ({}):\n\n  {}\n",
            plugins::remote_label(url),
            libre_assistant::text::inert(address)
        );
        println!(
            "Waiting for the browser to come back (up to {} minutes; Ctrl+C stops)…",
            plugins::oauth::WAIT.as_secs() / 60
        );
    };
    crate::runtime()?
        .block_on(plugins::oauth::login(url, credentials, show))
        .map_err(|e| Failure::new(Exit::Plugin, e))?;
    println!("Signed in to {id}; its tokens are in the secret store.");
    Ok(Exit::Ok)
}

pub(super) fn find<'a>(found: &'a Discovery, id: &str) -> Result<&'a Plugin, Failure> {
    found.find(id).ok_or_else(|| {
        Failure::new(
            Exit::Usage,
            format!("no plugin {id:?}; `libre-assistant plugins list` shows the ids"),
        )
    })
}

fn list(found: &Discovery, shipped: &[PathBuf], user: &Path) {
    let rows: Vec<[String; 5]> = found
        .plugins
        .iter()
        .map(|p| {
            [
                p.manifest.id.clone(),
                p.manifest.name.clone(),
                status(p.enabled).to_owned(),
                p.source.label().to_owned(),
                p.manifest.permissions.summary(),
            ]
        })
        .collect();
    table(["ID", "NAME", "STATUS", "SOURCE", "PERMISSIONS"], &rows);
    println!();
    for dir in shipped {
        println!("shipped plugins: {}", dir.display());
    }
    println!("user plugins:    {}", user.display());
}

/// Prints `header` and `rows` in columns two spaces apart, each as wide as its widest cell; the
/// last column is not padded.
pub(super) fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) {
    let header = header.map(str::to_owned);
    let mut widths = [0usize; N];
    for row in std::iter::once(&header).chain(rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        println!("{line}");
    }
}

fn status(enabled: bool) -> &'static str {
    if enabled { "enabled" } else { "disabled" }
}

fn show(plugin: &Plugin, sandbox: &SandboxConfig) {
    let m = &plugin.manifest;
    let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    let runs = m.expanded(&plugin.dir, home.as_deref());
    let or_none = |items: &[String]| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        }
    };
    println!("id:           {}", m.id);
    println!("name:         {}", m.name);
    println!("description:  {}", m.description);
    println!("manifest:     {}", plugin.manifest_path().display());
    println!("source:       {}", plugin.source.label());
    println!("status:       {}", status(plugin.enabled));
    if m.is_remote() {
        println!("url:          {}", m.url);
        let token = m.token_secret.as_deref().unwrap_or("none");
        println!("token:        {token} (a secret, sent as Authorization: Bearer)");
        for (header, secret) in &m.headers {
            println!("header:       {header}: the secret {secret}");
        }
    } else {
        println!("command:      {}", m.command);
        println!("args:         {}", words(&m.args));
        println!(
            "runs:         {}",
            words(&[&[runs.command][..], &runs.args].concat())
        );
    }
    println!("env:          {}", or_none(&m.env));
    println!(
        "secrets:      {} (values in the secret store)",
        or_none(&m.secrets)
    );
    println!(
        "timeout:      {} s without progress, {} s in all",
        m.timeout_secs,
        m.max_timeout_secs.max(m.timeout_secs)
    );
    println!("read:         {}", or_none(&m.permissions.read));
    println!("write:        {}", or_none(&m.permissions.write));
    println!(
        "network:      {}",
        if m.permissions.network { "yes" } else { "no" }
    );
    println!("sandbox:      {}", sandbox.enforcement().describe());
    let private = plugin_dirs(&sandbox.protected.state, &m.id).root;
    println!("private dir:  {} (its TMPDIR and cache)", private.display());
}

/// Words joined by spaces, quoted where a shell would need it.
fn words(items: &[String]) -> String {
    items
        .iter()
        .map(|w| {
            let plain = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,~${}".contains(c));
            if plain { w.clone() } else { format!("{w:?}") }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn set_enabled(
    found: &Discovery,
    mut state: PluginsState,
    state_path: &Path,
    id: &str,
    enabled: bool,
) -> Result<Exit, Failure> {
    warn(&found.problems);
    let plugin = find(found, id)?;
    state.set_enabled(&plugin.manifest.id, enabled);
    state.save(state_path).map_err(state_failure)?;
    println!("{} {id}", if enabled { "enabled" } else { "disabled" });
    Ok(Exit::Ok)
}

fn import(setup: &Setup, file: &Path, found: &Discovery, install: bool) -> Result<Exit, Failure> {
    let options = ImportOptions {
        secrets: Some(SecretStore::new(&setup.dirs)),
        install,
    };
    let user = plugins::user_dir(&setup.dirs);
    let state_path = plugins::state_file(&setup.dirs);
    let report = plugins::import(file, &user, &state_path, found, &options).map_err(|e| {
        let exit = match &e {
            ImportError::Read { .. } | ImportError::Json { .. } | ImportError::NoServers { .. } => {
                Exit::Usage
            }
            ImportError::Write { .. } => Exit::Storage,
            ImportError::State(e) => state_exit(e),
        };
        Failure::new(exit, e.to_string())
    })?;
    for imported in &report.imported {
        print_imported(imported);
    }
    for skipped in &report.skipped {
        eprintln!(
            "libre-assistant: warning: skipped {:?}: {}",
            skipped.name, skipped.reason
        );
    }
    warn(&report.notes);
    if !report.imported.is_empty() {
        println!(
            "imported plugins start disabled; review one with `libre-assistant plugins show ID` \
             and `plugins tools ID`, then `libre-assistant plugins enable ID`"
        );
    }
    Ok(Exit::Ok)
}

fn print_imported(imported: &Imported) {
    let id = &imported.id;
    println!(
        "imported {:?} as {id} (disabled): {}",
        imported.name,
        imported.path.display()
    );
    match &imported.installed {
        Some(Ok(package)) => {
            println!(
                "  installed {package} into its directory; it runs with node from there, offline"
            )
        }
        Some(Err(e)) => println!(
            "  note: {e}; it runs through npx, which under the sandbox needs the network \
             (`libre-assistant plugins grant {id} --network`)"
        ),
        None => {}
    }
    if imported.read.is_empty() {
        println!("  it may read no files of yours");
    } else {
        println!(
            "  it may read {} (named in its arguments); `libre-assistant plugins grant {id} --write PATH` lets it write",
            imported.read.join(", ")
        );
    }
    if !imported.secrets.is_empty() {
        println!(
            "  secrets {} are in the secret store, not in the manifest",
            imported.secrets.join(", ")
        );
    }
    if !imported.env.is_empty() {
        println!(
            "  note: it reads {} from your environment; export them before starting libre-assistant",
            imported.env.join(", ")
        );
    }
}

fn state_exit(e: &StateError) -> Exit {
    match e {
        StateError::Read { .. } | StateError::Syntax { .. } => Exit::Config,
        StateError::Write { .. } => Exit::Storage,
    }
}

fn state_failure(e: StateError) -> Failure {
    Failure::new(state_exit(&e), e.to_string())
}
