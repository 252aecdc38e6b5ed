//! The first-run chooser: on the first interactive start with no model configured and none in
//! the store, a full-screen list of the catalog models with their size, estimated speed here,
//! whether they call tools, and a recommendation. It runs before the app, on the app's screen,
//! and ends with a choice or with the user leaving; drawing is a pure function of [`Chooser`].
//!
//! Invariant: the rows are the catalog's, in its order, so a new catalog entry just appears.

mod render;
#[cfg(test)]
mod tests;

use crossterm::event::KeyModifiers;
use crossterm::event::{Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind};
use futures_util::StreamExt;
use libre_assistant::models::speed::{self, Machine, Suitability};
use libre_assistant::models::{self, CatalogEntry};
use tokio::signal::unix::{SignalKind, signal};

pub use render::render;

use super::terminal::Screen;
use super::theme::Theme;

/// One catalog model as the chooser shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRow {
    /// The catalog name.
    pub name: String,
    /// The human title.
    pub title: String,
    /// File size, bytes.
    pub size: u64,
    /// Parameter count label.
    pub parameters: String,
    /// Quantisation.
    pub quantization: String,
    /// How it would do here.
    pub fit: Suitability,
}

/// The chooser's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Chooser {
    /// The catalog, in order.
    pub rows: Vec<ChoiceRow>,
    /// The highlighted row.
    pub selected: usize,
    /// The recommended row.
    pub recommended: Option<usize>,
    /// What the speeds are estimated for, e.g. "2 threads, 38 GB/s memory".
    pub machine: String,
}

/// How the chooser ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// This catalog model was chosen.
    Chosen(String),
    /// The user left without choosing.
    Quit,
}

impl Chooser {
    /// The catalog assessed for `machine`, the recommended model highlighted.
    pub fn new(catalog: Vec<CatalogEntry>, machine: &Machine) -> Chooser {
        let assessed: Vec<(CatalogEntry, Suitability)> = catalog
            .into_iter()
            .map(|e| {
                let fit = speed::assess(&e, machine);
                (e, fit)
            })
            .collect();
        let recommended = speed::recommend(&assessed, models::DEFAULT_MODEL);
        let rows = assessed
            .into_iter()
            .map(|(e, fit)| ChoiceRow {
                name: e.name,
                title: e.title,
                size: e.size,
                parameters: e.parameters,
                quantization: e.quantization,
                fit,
            })
            .collect();
        Chooser {
            rows,
            selected: recommended.unwrap_or(0),
            recommended,
            machine: machine_label(machine),
        }
    }

    /// Folds a key in: moves the highlight, or ends with a choice or without one.
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Outcome> {
        let last = self.rows.len().saturating_sub(1);
        match key.code {
            KeyCode::Char('c' | 'q') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                Some(Outcome::Quit)
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.selected = self.selected.saturating_sub(1);
                None
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(last);
                None
            }
            KeyCode::Home | KeyCode::Char('g') => {
                self.selected = 0;
                None
            }
            KeyCode::End | KeyCode::Char('G') => {
                self.selected = last;
                None
            }
            KeyCode::Enter => self
                .rows
                .get(self.selected)
                .map(|r| Outcome::Chosen(r.name.clone())),
            KeyCode::Esc | KeyCode::Char('q') => Some(Outcome::Quit),
            _ => None,
        }
    }
}

/// "2 threads, 38 GB/s memory": what the speed estimates assume.
fn machine_label(machine: &Machine) -> String {
    let threads = match machine.threads {
        1 => "1 thread".to_string(),
        n => format!("{n} threads"),
    };
    match machine.bandwidth {
        Some(b) => format!("{threads}, {:.0} GB/s memory", b / 1e9),
        None => threads,
    }
}

/// Shows the chooser on `screen` until the user chooses or leaves (a signal leaves too).
pub async fn run(
    screen: &mut Screen,
    chooser: &mut Chooser,
    theme: &Theme,
) -> std::io::Result<Outcome> {
    let mut input = EventStream::new();
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        screen
            .terminal
            .draw(|f| render(chooser, theme, f.area(), f.buffer_mut()))?;
        let key = tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(TermEvent::Key(key))) if key.kind != KeyEventKind::Release => Some(key),
                Some(Ok(_)) => None,
                Some(Err(_)) | None => return Ok(Outcome::Quit),
            },
            _ = term.recv() => return Ok(Outcome::Quit),
            _ = hup.recv() => return Ok(Outcome::Quit),
            _ = int.recv() => return Ok(Outcome::Quit),
        };
        if let Some(outcome) = key.and_then(|k| chooser.on_key(k)) {
            return Ok(outcome);
        }
    }
}
