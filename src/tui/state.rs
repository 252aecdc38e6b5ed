//! Everything the screen shows, owned by the app. Drawing reads it and nothing else.

use super::chat::ChatView;
use super::composer::Composer;
use super::consent::ConsentQueue;
use super::form::FormQueue;
use super::layout::Pane;
use super::models::ModelPane;
use super::plugins::PluginPane;
use super::sampling::SamplingDialog;
use super::sessions::SessionPane;
use super::theme::Theme;
use libre_assistant::engine::Placement;

/// What the assistant is busy with, for the status bar.
#[derive(Debug, Clone, PartialEq)]
pub enum Activity {
    /// Nothing: ready for a message.
    Idle,
    /// An answer is streaming.
    Generating,
    /// A model is loading (fraction done).
    Loading(f32),
    /// A model is downloading (fraction done).
    Downloading(f32),
    /// No model is loaded and none is on its way.
    NoModel,
    /// A tool call waits for the user's consent (the turn goes on once answered).
    AwaitingConsent,
    /// Another instance on this machine is answering; this answer starts when it is done.
    WaitingForCores,
}

/// The status bar's facts.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The loaded model's name.
    pub model: Option<String>,
    /// Where it runs.
    pub runs: Option<Placement>,
    /// The context size in tokens.
    pub context: u32,
    /// Tokens of the context the last turn used.
    pub used: u32,
    /// Tokens per second of the last answer.
    pub last_tps: Option<f64>,
    /// What is going on.
    pub activity: Activity,
    /// A short message that stays until the next key (e.g. "copied 120 characters").
    pub flash: Option<(String, bool)>,
    /// Plugins are enabled but the loaded model is offered no tools.
    pub tools_off: bool,
}

/// The whole UI state.
#[derive(Debug)]
pub struct State {
    /// Colours and styles in use.
    pub theme: Theme,
    /// The conversation as shown.
    pub chat: ChatView,
    /// The message being written.
    pub composer: Composer,
    /// The model pane.
    pub models: ModelPane,
    /// The plugin pane.
    pub plugins: PluginPane,
    /// The session pane.
    pub sessions: SessionPane,
    /// The pane that has the keyboard.
    pub focus: Pane,
    /// Whether the side panel shows on wide terminals.
    pub side_panel: bool,
    /// Tool calls waiting for the user's consent; the dialog shows while any wait.
    pub consent: ConsentQueue,
    /// Plugins' requests for input (forms, URLs) waiting for the user.
    pub forms: FormQueue,
    /// A plugin's sampling request waiting for the user, when one is.
    pub sampling: Option<SamplingDialog>,
    /// The help overlay's scroll offset, when it is open.
    pub help: Option<u16>,
    /// The status bar.
    pub status: Status,
}

impl State {
    /// The state at start-up: chat focused, nothing loaded yet.
    pub fn new(theme: Theme, chat: ChatView, models: ModelPane, plugins: PluginPane) -> State {
        State {
            theme,
            chat,
            composer: Composer::new(),
            models,
            plugins,
            sessions: SessionPane::new(),
            focus: Pane::Chat,
            side_panel: true,
            consent: ConsentQueue::default(),
            sampling: None,
            forms: FormQueue::default(),
            help: None,
            status: Status {
                model: None,
                runs: None,
                context: 0,
                used: 0,
                last_tps: None,
                activity: Activity::NoModel,
                flash: None,
                tools_off: false,
            },
        }
    }

    /// True while a turn runs (streaming, or waiting for consent to a tool call).
    pub fn busy(&self) -> bool {
        matches!(
            self.status.activity,
            Activity::Generating | Activity::AwaitingConsent | Activity::WaitingForCores
        )
    }
}
