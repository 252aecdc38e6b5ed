//! `libre-assistant models list|pull|rm|show|import`.

use libre_assistant::engine;
use libre_assistant::exit::Exit;
use libre_assistant::models::{self, BarProgress, ModelError};
use libre_assistant::text::inert;

use super::args::ModelsAction;
use super::failure::Failure;
use super::setup::Setup;

/// Lists each configured back end's models as `NAME/MODEL`; a server that cannot be asked
/// gets one line on stderr, and the rest are listed.
fn list_remote(setup: &Setup) {
    let (served, problems) = super::setup::served_models(&setup.config.settings);
    for problem in problems {
        eprintln!("libre-assistant: {problem}");
    }
    for (backend, host, model) in served {
        let params = model
            .parameters
            .map_or_else(|| "-".to_owned(), models::gguf::parameters_label);
        println!(
            "{:<30} {:>9}  {:<8} {:<7} remote {host}",
            format!("{backend}/{}", model.id),
            "-",
            "-",
            params
        );
    }
}

/// Runs one `models` subcommand; output on stdout, progress on stderr.
pub fn run(setup: &Setup, action: &ModelsAction) -> Result<Exit, Failure> {
    let store = setup.store();
    match action {
        ModelsAction::List => {
            let installed = store.list();
            println!(
                "{:<30} {:>9}  {:<8} {:<7} STATUS",
                "NAME", "SIZE", "QUANT", "PARAMS"
            );
            for entry in models::catalog() {
                let here = installed.iter().any(|m| m.name == entry.name);
                let status = if here { "installed" } else { "available" };
                println!(
                    "{:<30} {:>9}  {:<8} {:<7} {}",
                    entry.name,
                    human_size(entry.size),
                    entry.quantization,
                    entry.parameters,
                    status
                );
            }
            for m in installed.iter().filter(|m| m.catalog.is_none()) {
                println!(
                    "{:<30} {:>9}  {:<8} {:<7} imported",
                    m.name,
                    human_size(m.size),
                    "-",
                    "-"
                );
            }
            list_remote(setup);
            println!("\nstore: {}", setup.dirs.models().display());
            Ok(Exit::Ok)
        }
        ModelsAction::Key { backend } => {
            if !setup.config.settings.backends.contains_key(backend) {
                return Err(Failure::new(
                    Exit::Usage,
                    format!(
                        "no back end {backend} in the config; add [backends.{backend}] first (config.example.toml)"
                    ),
                ));
            }
            let value = super::secret_cmd::read_value(&format!("API key of {backend}: "))?;
            let store = libre_assistant::plugins::secrets::SecretStore::new(&setup.dirs);
            let owner = super::setup::backend_owner(backend);
            let stored = store
                .set(&owner, super::setup::API_KEY, &value)
                .map_err(super::secret_cmd::secret_failure)?;
            println!(
                "stored the API key of {backend} in the {}",
                stored.backend.label()
            );
            Ok(Exit::Ok)
        }
        ModelsAction::Pull { name } => {
            let entry =
                models::find(name).ok_or_else(|| ModelError::UnknownName { name: name.clone() })?;
            let path = store.pull(&entry, &setup.fetch_options(), &BarProgress::new())?;
            println!("{name} is ready: {}", path.display());
            Ok(Exit::Ok)
        }
        ModelsAction::Rm { name } => {
            store.remove(name)?;
            println!("removed {name}");
            Ok(Exit::Ok)
        }
        ModelsAction::Show { name } => {
            let resolved = store.resolve(name)?;
            let info = models::gguf::metadata(&resolved.path)?;
            println!("name:           {}", resolved.name);
            println!("file:           {}", resolved.path.display());
            println!("size:           {}", human_size(info.file_size));
            println!("architecture:   {}", info.architecture);
            println!("parameters:     {}", info.parameters_label());
            println!(
                "quantization:   {}",
                info.quantization.as_deref().unwrap_or("unknown")
            );
            println!(
                "trained context: {}",
                info.context_length
                    .map_or("unknown".to_string(), |c| c.to_string())
            );
            let template = template_mode(
                info.has_chat_template,
                setup.config.settings.engine.chat_template.as_deref(),
            );
            println!("chat template:  {template}");
            Ok(Exit::Ok)
        }
        ModelsAction::Import { path } => {
            let m = store.import(path)?;
            println!("imported {} as {}", path.display(), m.name);
            Ok(Exit::Ok)
        }
    }
}

/// Which template a model runs with: the config's override, its own, or the ChatML fallback.
fn template_mode(in_file: bool, override_: Option<&str>) -> String {
    let file = if in_file {
        "its own"
    } else {
        "none in the file"
    };
    match override_ {
        Some(name) => format!(
            "override {} from engine.chat_template ({file} unused)",
            inert(&format!("{name:?}"))
        ),
        None if in_file => "the model's own".to_string(),
        None => format!(
            "none in the file: runs with the ChatML fallback and stops at its markers ({}); --raw completes text as given",
            engine::CHATML_STOPS[0]
        ),
    }
}

fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", b / 1e6)
    }
}
