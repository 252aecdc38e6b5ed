//! The app: owns the UI state, turns keys into actions and actions into core `Op`s, and runs
//! the loop that selects over terminal events, core events, background tasks, the plugin host
//! and the frame timer. Frames are coalesced (at most one per [`FRAME`] after input, one per
//! [`STREAM_FRAME`] while only the core changed the screen) and nothing wakes up while idle.

pub mod action;
mod events;
pub mod keys;
mod plugin_context;
mod sessions;
pub mod tasks;
mod update;

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures_util::StreamExt;
use libre_assistant::config::Settings;
use libre_assistant::core::{Event, Op};
use libre_assistant::models::{FetchOptions, Store};
use ratatui::layout::Rect;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use tasks::TaskEvent;

use super::state::State;
use super::terminal::Screen;
use super::theme::ColorMode;
use super::view;

/// The shortest time between two frames.
const FRAME: Duration = Duration::from_millis(16);

/// The shortest time between two frames when only core events (a streaming answer) changed
/// the screen: 30 frames a second is smooth for text, and on a machine whose cores all run
/// llama.cpp every frame takes time from it (measured: 16 ms frames cost about 8% of
/// SmolLM2's generation speed on 2 cores, 33 ms frames about 1%; docs/performance.md).
const STREAM_FRAME: Duration = Duration::from_millis(33);

/// What the app needs from the environment.
pub struct Context {
    /// Settings in effect.
    pub settings: Settings,
    /// The model store.
    pub store: Store,
    /// How to fetch models.
    pub fetch: FetchOptions,
    /// Where user themes live.
    pub themes_dir: PathBuf,
    /// What colours the terminal shows.
    pub color_mode: ColorMode,
    /// Where the user's yes to servers not on this machine is kept.
    pub remote_consent: PathBuf,
}

/// The interactive app.
pub struct App {
    /// What is on screen.
    pub state: State,
    ctx: Context,
    ops: mpsc::UnboundedSender<Op>,
    tasks: mpsc::UnboundedSender<TaskEvent>,
    /// A message typed before the model was ready; sent when it is.
    queued: Option<String>,
    /// The name of the model loaded or loading.
    model_name: Option<String>,
    /// A model is loaded and can answer.
    model_ready: bool,
    /// A Regenerate was sent: the next answer replaces the last one.
    regenerating: bool,
    /// Escape sequences to write after the next frame (OSC 52 copies).
    outbox: Vec<String>,
    /// The terminal size at the last frame.
    size: Rect,
    /// Clear and repaint everything at the next frame.
    repaint: bool,
    quit: bool,
    /// A frame has been drawn (the first is logged with the time since start).
    drawn: bool,
    /// A message waiting for what it asks of plugins (a prompt to render, resources to
    /// attach) before it is sent.
    waiting: Option<plugin_context::Waiting>,
    /// Resources attached to the conversation, (plugin, URI), to tell about when they change.
    watched: Vec<(String, String)>,
    /// The prompt argument whose values were last asked for.
    argument_asked: Option<crate::tui::composer::Argument>,
    /// The session pane's own connection to the session database (the core has another).
    sessions: Option<std::sync::Arc<libre_assistant::sessions::Store>>,
    /// The generation of the last session query asked for; older results are dropped.
    sessions_asked: u64,
}

impl App {
    /// An app over a running core.
    pub fn new(
        state: State,
        ctx: Context,
        ops: mpsc::UnboundedSender<Op>,
        tasks: mpsc::UnboundedSender<TaskEvent>,
    ) -> App {
        App {
            state,
            ctx,
            ops,
            tasks,
            queued: None,
            model_name: None,
            model_ready: false,
            regenerating: false,
            outbox: Vec::new(),
            size: Rect::new(0, 0, 80, 24),
            repaint: false,
            quit: false,
            drawn: false,
            waiting: None,
            argument_asked: None,
            watched: Vec::new(),
            sessions: None,
            sessions_asked: 0,
        }
    }

    /// The model store.
    pub fn store(&self) -> &Store {
        &self.ctx.store
    }

    /// The settings in effect.
    pub fn settings(&self) -> &libre_assistant::config::Settings {
        &self.ctx.settings
    }

    /// Lays out what changed and draws one frame into `buf` (also used by tests).
    pub fn draw_into(
        &mut self,
        size: Rect,
        buf: &mut ratatui::buffer::Buffer,
    ) -> Option<ratatui::layout::Position> {
        self.size = size;
        self.prepare();
        view::render(&self.state, size, buf)
    }

    /// Brings cached layout up to date for the current size: the only place layout work
    /// happens, so drawing stays a pure read.
    fn prepare(&mut self) {
        let areas = view::areas(&self.state, self.size);
        if let Some(chat) = areas.chat {
            let (transcript, _) = view::chat_split(&self.state, chat);
            self.state.chat.layout(transcript.width, &self.state.theme);
        }
    }

    /// The transcript's height in the current layout (for paging).
    pub fn transcript_height(&self) -> u16 {
        view::areas(&self.state, self.size)
            .chat
            .map_or(self.size.height, |chat| {
                view::chat_split(&self.state, chat).0.height
            })
    }

    /// Runs until the user quits, a signal arrives, or the core ends.
    pub async fn run(
        &mut self,
        screen: &mut Screen,
        events: &mut mpsc::Receiver<Event>,
        tasks: &mut mpsc::UnboundedReceiver<TaskEvent>,
    ) -> std::io::Result<()> {
        let mut input = EventStream::new();
        let mut term = signal(SignalKind::terminate())?;
        let mut hup = signal(SignalKind::hangup())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut batch = Vec::with_capacity(256);
        let mut dirty = true;
        let mut last_frame = Instant::now() - STREAM_FRAME;
        // FRAME once input changed the screen, so keys show at once; else STREAM_FRAME.
        let mut interval = STREAM_FRAME;
        while !self.quit {
            if dirty && Instant::now() >= last_frame + interval {
                // Core events that came while the frame was owed go into this frame.
                while let Ok(ev) = events.try_recv() {
                    self.on_core(ev);
                }
                self.frame(screen)?;
                if !self.drawn {
                    self.drawn = true;
                    let ms = libre_assistant::logging::ms_since_start();
                    tracing::info!(ms, "first frame drawn: the composer takes keys");
                }
                last_frame = Instant::now();
                dirty = false;
                interval = STREAM_FRAME;
            }
            let next_frame = last_frame + interval;
            // Not `biased`: when keys and a busy core are both ready, either may go first, and
            // a batch of core events is at most 256 appends, so keys never wait behind tokens.
            let changed = tokio::select! {
                ev = input.next() => match ev {
                    Some(Ok(ev)) => {
                        let changed = self.on_terminal(ev);
                        if changed {
                            interval = FRAME;
                        }
                        changed
                    }
                    // The terminal is gone (e.g. the SSH connection dropped).
                    Some(Err(_)) | None => self.stop_loop(),
                },
                // Once a frame is owed, core events wait for it (they are drained just before
                // it is drawn): a streaming answer then wakes this thread once per frame, not
                // once per token, and on a machine whose cores all run llama.cpp every wake-up
                // preempts a thread the others wait for.
                n = events.recv_many(&mut batch, 256), if !dirty => {
                    if n == 0 {
                        self.quit = true;
                    }
                    for ev in batch.drain(..) {
                        self.on_core(ev);
                    }
                    true
                }
                Some(ev) = tasks.recv() => {
                    self.on_task(ev);
                    true
                }
                // The frame owed is drawn at the top of the loop.
                _ = tokio::time::sleep_until(next_frame), if dirty => false,
                _ = term.recv() => self.stop_loop(),
                _ = hup.recv() => self.stop_loop(),
                _ = int.recv() => self.stop_loop(),
            };
            dirty |= changed;
        }
        Ok(())
    }

    fn frame(&mut self, screen: &mut Screen) -> std::io::Result<()> {
        if std::mem::take(&mut self.repaint) {
            screen.terminal.clear()?;
        }
        let size = screen.terminal.size()?;
        self.size = Rect::new(0, 0, size.width, size.height);
        screen.terminal.draw(|f| {
            let area = f.area();
            if let Some(pos) = self.draw_into(area, f.buffer_mut()) {
                f.set_cursor_position(pos);
            }
        })?;
        for seq in self.outbox.drain(..) {
            screen.write_raw(&seq)?;
        }
        Ok(())
    }

    fn stop_loop(&mut self) -> bool {
        self.quit = true;
        true
    }

    /// Folds a terminal event into the state; false when nothing on screen can have changed
    /// (mouse motion, which the terminal reports on every cell the pointer crosses, a key
    /// release, focus), so that no frame is drawn for it.
    fn on_terminal(&mut self, ev: TermEvent) -> bool {
        match ev {
            TermEvent::Key(key) if key.kind == KeyEventKind::Release => false,
            TermEvent::Key(key) => {
                self.on_key(key);
                true
            }
            TermEvent::Paste(text) => {
                self.on_paste(&text);
                true
            }
            TermEvent::Mouse(m) => self.on_mouse(m),
            TermEvent::Resize(..) => true,
            TermEvent::FocusGained | TermEvent::FocusLost => false,
        }
    }
}

#[cfg(test)]
mod plugin_context_tests;
#[cfg(test)]
mod remote_tests;
#[cfg(test)]
mod sampling_tests;
#[cfg(test)]
mod sessions_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tool_tests;
