//! `libre-assistant plugins list|show|enable|disable|import`: results on stdout; skipped
//! manifests and servers as `warning:` lines on stderr, one per problem.

use std::path::{Path, PathBuf};

use libre_assistant::exit::Exit;
use libre_assistant::plugins::{
    self, Discovery, ImportError, Plugin, PluginsState, StateError, discover,
};

use super::args::PluginsAction;
use super::failure::Failure;
use super::setup::Setup;

/// Runs one `plugins` subcommand.
pub fn run(setup: &Setup, action: &PluginsAction) -> Result<Exit, Failure> {
    let state_path = plugins::state_file(&setup.dirs);
    let state = PluginsState::load(&state_path).map_err(state_failure)?;
    let shipped = plugins::shipped_dirs();
    let user = plugins::user_dir(&setup.dirs);
    let found = discover(&shipped, &user, &state);
    match action {
        PluginsAction::List => {
            warn(&found.problems);
            list(&found, &shipped, &user);
            Ok(Exit::Ok)
        }
        PluginsAction::Show { id } => {
            warn(&found.problems);
            show(find(&found, id)?);
            Ok(Exit::Ok)
        }
        PluginsAction::Enable { id } => set_enabled(&found, state, &state_path, id, true),
        PluginsAction::Disable { id } => set_enabled(&found, state, &state_path, id, false),
        PluginsAction::Import { file } => import(file, &user, &state_path, &found),
    }
}

/// One `warning:` line per problem.
fn warn(problems: &[String]) {
    for problem in problems {
        eprintln!("libre-assistant: warning: {problem}");
    }
}

fn find<'a>(found: &'a Discovery, id: &str) -> Result<&'a Plugin, Failure> {
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
    let header = ["ID", "NAME", "STATUS", "SOURCE", "PERMISSIONS"].map(str::to_owned);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let [id, name, status, source, permissions] = row;
        println!(
            "{id:<w0$}  {name:<w1$}  {status:<w2$}  {source:<w3$}  {permissions}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        );
    }
    println!();
    for dir in shipped {
        println!("shipped plugins: {}", dir.display());
    }
    println!("user plugins:    {}", user.display());
}

fn status(enabled: bool) -> &'static str {
    if enabled { "enabled" } else { "disabled" }
}

fn show(plugin: &Plugin) {
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
    println!("command:      {}", m.command);
    println!("args:         {}", words(&m.args));
    println!(
        "runs:         {}",
        words(&[&[runs.command][..], &runs.args].concat())
    );
    println!("env:          {}", or_none(&m.env));
    println!("timeout:      {} s", m.timeout_secs);
    println!("read:         {}", or_none(&m.permissions.read));
    println!("write:        {}", or_none(&m.permissions.write));
    println!(
        "network:      {}",
        if m.permissions.network { "yes" } else { "no" }
    );
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

fn import(file: &Path, user: &Path, state_path: &Path, found: &Discovery) -> Result<Exit, Failure> {
    let report = plugins::import(file, user, state_path, found).map_err(|e| {
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
        println!(
            "imported {:?} as {} (disabled): {}",
            imported.name,
            imported.id,
            imported.path.display()
        );
        if !imported.env.is_empty() {
            println!(
                "  note: export {} before starting libre-assistant; values in {} were not copied",
                imported.env.join(", "),
                file.display()
            );
        }
    }
    for skipped in &report.skipped {
        eprintln!(
            "libre-assistant: warning: skipped {:?}: {}",
            skipped.name, skipped.reason
        );
    }
    if !report.imported.is_empty() {
        println!(
            "imported plugins start disabled with no permissions; review one with \
             `libre-assistant plugins show ID`, then `libre-assistant plugins enable ID`"
        );
    }
    Ok(Exit::Ok)
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
