//! The interactive terminal app: a front end over the core, like headless mode. It owns the
//! terminal; the core, the engine thread and downloads report to it through channels.

pub mod app;
pub mod bench;
pub mod chat;
pub mod chooser;
pub mod clipboard;
pub mod composer;
pub mod consent;
pub mod fit;
pub mod form;
pub mod help;
pub mod layout;
pub mod markdown;
pub mod models;
pub mod plugins;
pub mod sampling;
pub mod sessions;
pub mod state;
pub mod status;
pub mod terminal;
pub mod theme;
pub mod view;

use std::time::Duration;

use libre_assistant::config::{self, Origin};
use libre_assistant::core::{self, CoreConfig, Op, ToolsConfig};
use libre_assistant::exit::Exit;
use libre_assistant::models::speed::Machine;
use libre_assistant::models::{self as store_models, ModelError};
use tokio::sync::mpsc;

use crate::cli::failure::Failure;
use crate::cli::resume::Resume;
use crate::cli::setup::{Setup, sampling};
use crate::cli::tools as cli_tools;
use app::{App, Context};
use chat::{ChatView, Kind};
use layout::Pane;
use state::State;

/// How long quitting waits for the engine to stop before giving up on it.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// Runs the interactive app until the user quits; `plugins` false (`--no-plugins`) starts none.
pub async fn run(setup: &Setup, resume: Resume, plugins: bool) -> Result<Exit, Failure> {
    let settings = setup.config.settings.clone();
    // Before the terminal is taken, so that an unknown session id is one line on stderr.
    let opened = crate::cli::resume::open(&setup.dirs.data, resume)?;
    let themes_dir = setup.dirs.config.join("themes");
    let color_mode = theme::detect(&|key| std::env::var(key).ok());
    let loaded = theme::load(&settings.ui.theme, &themes_dir, color_mode);
    let mut screen = terminal::Screen::enter(settings.ui.mouse)
        .map_err(|e| Failure::new(Exit::Internal, format!("cannot set up the terminal: {e}")))?;
    let chosen = if first_run(setup) {
        match choose_model(setup, &mut screen, &loaded.theme).await? {
            Some(name) => Some(name),
            None => {
                drop(screen);
                eprintln!(
                    "libre-assistant: no model chosen; run libre-assistant again to choose one, \
                     or start it with --model NAME (\"libre-assistant models list\" shows the names)"
                );
                return Ok(Exit::Ok);
            }
        }
    } else {
        None
    };
    let mut chat = ChatView::default();
    for w in loaded.warnings {
        chat.push(Kind::Error, w);
    }
    for notice in opened.notices {
        chat.push(Kind::Notice, notice);
    }
    let resumed = opened.resumed.map(|r| {
        chat.show_conversation(r.conversation.messages());
        let line = continued(r.summary.id, &r.summary.title, r.cut_short);
        chat.push(Kind::Notice, line);
        r.conversation
    });
    let (plugin_rows, tools) = if plugins {
        start_plugins(setup, &mut chat)?
    } else {
        (Vec::new(), None)
    };
    let mut handle = core::spawn(
        None,
        CoreConfig {
            system_prompt: settings.system_prompt.clone(),
            sampling: sampling(&settings),
            resume: resumed,
            journal: opened.journal,
            tools,
        },
    );
    let (task_tx, mut task_rx) = mpsc::unbounded_channel();
    let store = setup.store();
    let plugin_dir = tilde(&setup.dirs.config.join("plugins"));
    let mut state = State::new(
        loaded.theme,
        chat,
        models::ModelPane::new(models::scan(&store)),
        plugins::PluginPane::new(plugin_rows, plugin_dir),
    );
    state.side_panel = settings.ui.side_panel;
    let ctx = Context {
        settings: settings.clone(),
        store,
        fetch: setup.fetch_options(),
        themes_dir,
        color_mode,
        remote_consent: setup.dirs.state.join("remote-consent"),
    };
    app::tasks::list_remote(settings.clone(), task_tx.clone());
    let mut app = App::new(state, ctx, handle.ops.clone(), task_tx);
    // The pane's own connection (the journal has the first); notices were shown by the first.
    let session_store = libre_assistant::sessions::Store::open(&setup.dirs.data)
        .map(|(store, _)| store)
        .map_err(|e| e.to_string());
    app.set_session_store(session_store);
    match &chosen {
        Some(name) => {
            save_choice(setup, name, &mut app.state.chat);
            // Choosing a model is consent to download it, whatever `models.auto_pull` says.
            start_model(&mut app, name, true);
        }
        None => start_model(&mut app, &settings.model, settings.models.auto_pull),
    }
    let result = app.run(&mut screen, &mut handle.events, &mut task_rx).await;
    drop(screen);
    // The core stops the plugins (and waits for their process groups) as it ends.
    let _ = handle.ops.send(Op::Shutdown);
    drop(handle.events);
    let _ = tokio::time::timeout(SHUTDOWN_WAIT, handle.task).await;
    result.map_err(|e| Failure::new(Exit::Internal, format!("terminal error: {e}")))?;
    Ok(Exit::Ok)
}

/// Finds the plugins and starts the enabled ones in the background (the app never waits for
/// them); problems with manifests become notices in the chat. The core owns the host.
fn start_plugins(
    setup: &Setup,
    chat: &mut ChatView,
) -> Result<(Vec<plugins::PluginRow>, Option<ToolsConfig>), Failure> {
    let started = cli_tools::start(setup, &cli_tools::Rules::default(), true)
        .map_err(|e| Failure::new(Exit::Usage, e))?;
    for problem in &started.problems {
        chat.push(Kind::Error, problem.clone());
    }
    let sandbox = started.sandbox.enforcement().describe();
    let rows = started
        .found
        .iter()
        .map(|p| plugins::PluginRow::discovered(p, &sandbox))
        .collect();
    Ok((rows, started.tools))
}

/// A first interactive start: no model named by flag, environment or config file, and no model
/// file in the store. Headless runs never ask; they use the small default.
/// The chat's line for a session gone on with.
pub(crate) fn continued(id: i64, title: &str, cut_short: bool) -> String {
    let mut line = format!("continued session {id}: {title}");
    if cut_short {
        line.push_str(" (its last answer was cut short: the app stopped while writing it)");
    }
    line
}

fn first_run(setup: &Setup) -> bool {
    setup.config.origins.get("model") == Some(&Origin::Default) && setup.store().list().is_empty()
}

/// Shows the chooser on `screen`; the chosen catalog name, or `None` when the user left.
async fn choose_model(
    setup: &Setup,
    screen: &mut terminal::Screen,
    theme: &theme::Theme,
) -> Result<Option<String>, Failure> {
    let threads = setup.config.settings.engine.effective_threads();
    let machine = tokio::task::spawn_blocking(move || Machine::probe(threads))
        .await
        .map_err(|e| Failure::new(Exit::Internal, format!("cannot probe this machine: {e}")))?;
    let mut chooser = chooser::Chooser::new(store_models::catalog(), &machine);
    let outcome = chooser::run(screen, &mut chooser, theme)
        .await
        .map_err(|e| Failure::new(Exit::Internal, format!("terminal error: {e}")))?;
    Ok(match outcome {
        chooser::Outcome::Chosen(name) => Some(name),
        chooser::Outcome::Quit => None,
    })
}

/// Saves the chosen model as `model` in the config file, so the chooser does not return; says
/// where in the chat (or why it could not).
fn save_choice(setup: &Setup, name: &str, chat: &mut ChatView) {
    let path = setup
        .config
        .file
        .clone()
        .unwrap_or_else(|| setup.dirs.config_file());
    match config::save_model(&path, name) {
        Ok(()) => chat.push(
            Kind::Notice,
            format!(
                "saved model = \"{name}\" in {}; change it there or start with --model NAME",
                tilde(&path)
            ),
        ),
        Err(e) => chat.push(Kind::Error, e.to_string()),
    }
}

/// Loads the configured model, fetching the default one first on a first run.
fn start_model(app: &mut App, name: &str, auto_pull: bool) {
    if app.settings().backend_for(name).is_some() {
        app.load_model(name);
        return;
    }
    let store = app.store().clone();
    match store.resolve(name) {
        Ok(_) => app.load_model(name),
        Err(ModelError::NotInstalled { .. }) if auto_pull && store_models::find(name).is_some() => {
            app.state.chat.push(
                Kind::Notice,
                format!(
                    "first run: downloading {name} once (checksum-verified); you can type meanwhile"
                ),
            );
            app.start_download(name, true);
        }
        Err(e) => {
            app.state.chat.push(Kind::Error, e.to_string());
            app.state.focus = Pane::Chat;
        }
    }
}

/// `path` with the home directory shown as `~`, which is shorter in narrow panes.
fn tilde(path: &std::path::Path) -> String {
    match std::env::var_os("HOME").map(std::path::PathBuf::from) {
        Some(home) if !home.as_os_str().is_empty() => match path.strip_prefix(&home) {
            Ok(rest) => format!("~/{}", rest.display()),
            Err(_) => path.display().to_string(),
        },
        _ => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use libre_assistant::core::Conversation;
    use libre_assistant::engine::{ChatMessage, Role};

    use super::*;

    /// A continued conversation shows tool results as tool output and no call markup.
    #[test]
    fn resumed_tool_rounds_show_results_without_markup() {
        let messages = vec![
            ChatMessage::new(Role::User, "time in Tokyo?".to_string()),
            ChatMessage::new(
                Role::Assistant,
                "<tool_call>{\"name\":\"current_time\",\"arguments\":{}}</tool_call>".to_string(),
            ),
            ChatMessage::new(Role::Tool, "2026-11-24T02:07".to_string()),
            ChatMessage::new(Role::Assistant, "It is 2:07.".to_string()),
        ];
        let conversation = Conversation::from_parts("", messages);
        let mut chat = ChatView::default();
        chat.show_conversation(conversation.messages());
        let shown: Vec<(Kind, &str)> = chat
            .entries()
            .iter()
            .map(|e| (e.kind, e.text.as_str()))
            .collect();
        assert_eq!(
            &shown[..3],
            &[
                (Kind::User, "time in Tokyo?"),
                (Kind::Tool, ""),
                (Kind::Assistant, "It is 2:07."),
            ]
        );
        let result = chat.entries()[1].result.as_ref().map(|r| r.body.as_str());
        assert_eq!(result, Some("2026-11-24T02:07"));
    }
}
