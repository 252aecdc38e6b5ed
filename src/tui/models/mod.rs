//! The model pane's state: the catalog and the store as rows, the selection, and the progress
//! of a download or a load. The app calls `scan` when the store changed and feeds progress
//! events into the fields; `render` draws the state and does no I/O.
//!
//! Invariant: `selected < rows.len()` whenever `rows` is non-empty (0 otherwise).

mod render;

use std::path::Path;

use libre_assistant::backend::RemoteConfig;
use libre_assistant::backend::remote::ServedModel;
use libre_assistant::engine::ModelInfo;
use libre_assistant::models::{self, CatalogEntry, GgufInfo, InstalledModel, Store};

pub use render::render;

/// One model in the list: a catalog entry (installed or not) or an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRow {
    /// The catalog name, or the file stem of an imported model.
    pub name: String,
    /// A human title (the catalog's, the GGUF `general.name`, or the name).
    pub title: String,
    /// Bytes on disk when installed, else the catalog size.
    pub size: u64,
    /// Quantisation name (`Q4_K_M`), or "-" when unknown.
    pub quantization: String,
    /// Parameter count label (`135M`), or "-" when unknown.
    pub parameters: String,
    /// The trained context from the GGUF header, when installed and readable.
    pub context: Option<u32>,
    /// Whether the file is in the store.
    pub installed: bool,
    /// Whether it is a catalog model.
    pub in_catalog: bool,
    /// For a model on a configured server (`NAME/MODEL`), the server's host.
    pub remote: Option<String>,
}

/// A download in progress, as the app last heard of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Download {
    /// The model being downloaded.
    pub name: String,
    /// What is happening: "downloading", "verifying", …
    pub phase: String,
    /// Bytes done.
    pub done: u64,
    /// Bytes in all (0 when unknown).
    pub total: u64,
    /// Recent speed.
    pub bytes_per_second: f64,
}

/// The model the engine has loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The model's name.
    pub name: String,
    /// What the engine reported after loading it.
    pub info: ModelInfo,
    /// The file's GGUF header, when it could be read.
    pub gguf: Option<GgufInfo>,
}

/// Where loading a model stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Loading {
    /// Nothing is loading.
    Idle,
    /// `name` is loading, `fraction` (0–1) done.
    InProgress {
        /// The model being loaded.
        name: String,
        /// How much is done, 0 to 1.
        fraction: f32,
    },
    /// Loading `name` failed.
    Failed {
        /// The model that failed.
        name: String,
        /// Why, one line.
        error: String,
    },
}

/// Everything the model pane shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPane {
    /// The models, catalog first.
    pub rows: Vec<ModelRow>,
    /// Index of the selected row.
    pub selected: usize,
    /// The model awaiting a y/n before it is deleted.
    pub confirm_delete: Option<String>,
    /// A server not on this machine awaiting a y/n before it is first used: the model's name
    /// and how to reach it.
    pub confirm_remote: Option<(String, RemoteConfig)>,
    /// The download in progress.
    pub download: Option<Download>,
    /// The model in the engine.
    pub loaded: Option<Loaded>,
    /// Where loading stands.
    pub loading: Loading,
    /// The last result line, e.g. "removed x" or an error.
    pub message: Option<String>,
}

impl ModelPane {
    /// A pane listing `rows`, the first selected, nothing loaded.
    pub fn new(rows: Vec<ModelRow>) -> ModelPane {
        ModelPane {
            rows,
            selected: 0,
            confirm_delete: None,
            confirm_remote: None,
            download: None,
            loaded: None,
            loading: Loading::Idle,
            message: None,
        }
    }

    /// Moves the selection down one row (stops at the last).
    pub fn select_next(&mut self) {
        self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1));
    }

    /// Moves the selection up one row (stops at the first).
    pub fn select_prev(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    /// The selected row, if there are any rows.
    pub fn selected_row(&self) -> Option<&ModelRow> {
        self.rows.get(self.selected)
    }

    /// Replaces the rows (after a scan), keeping the selection on the same model when it is
    /// still listed, else on the same position.
    pub fn set_rows(&mut self, rows: Vec<ModelRow>) {
        let name = self.selected_row().map(|r| r.name.clone());
        let remote: Vec<ModelRow> = self.rows.drain(..).filter(|r| r.remote.is_some()).collect();
        self.rows = rows;
        self.rows.extend(remote);
        let same = name.and_then(|n| self.rows.iter().position(|r| r.name == n));
        self.selected = same.unwrap_or(self.selected);
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    /// Replaces the rows of the servers' models (listed after the local ones).
    pub fn set_remote_rows(&mut self, remote: Vec<ModelRow>) {
        let local: Vec<ModelRow> = self
            .rows
            .iter()
            .filter(|r| r.remote.is_none())
            .cloned()
            .collect();
        let name = self.selected_row().map(|r| r.name.clone());
        self.rows = local;
        self.rows.extend(remote);
        let same = name.and_then(|n| self.rows.iter().position(|r| r.name == n));
        self.selected = same
            .unwrap_or(self.selected)
            .min(self.rows.len().saturating_sub(1));
    }

    /// Whether `name` is the loaded model.
    pub fn is_loaded(&self, name: &str) -> bool {
        self.loaded.as_ref().is_some_and(|l| l.name == name)
    }
}

/// The catalog's models (installed or not), then imported ones, each with what its GGUF
/// header says when the catalog doesn't. Unreadable files get "-" fields, never an error.
pub fn scan(store: &Store) -> Vec<ModelRow> {
    let installed = store.list();
    let mut rows: Vec<ModelRow> = models::catalog()
        .into_iter()
        .map(|entry| {
            let file = installed
                .iter()
                .find(|m| m.catalog.as_ref().is_some_and(|c| c.name == entry.name));
            catalog_row(entry, file)
        })
        .collect();
    rows.extend(
        installed
            .iter()
            .filter(|m| m.catalog.is_none())
            .map(imported_row),
    );
    rows
}

fn catalog_row(entry: CatalogEntry, file: Option<&InstalledModel>) -> ModelRow {
    let header = file.and_then(|m| header(&m.path));
    let from_header = |catalog: String, read: fn(&GgufInfo) -> Option<String>| {
        if catalog.is_empty() {
            header.as_ref().and_then(read).unwrap_or_else(dash)
        } else {
            catalog
        }
    };
    ModelRow {
        quantization: from_header(entry.quantization, quantization),
        parameters: from_header(entry.parameters, parameters),
        context: header.as_ref().and_then(context),
        size: file.map_or(entry.size, |m| m.size),
        installed: file.is_some(),
        in_catalog: true,
        remote: None,
        name: entry.name,
        title: entry.title,
    }
}

fn imported_row(model: &InstalledModel) -> ModelRow {
    let header = header(&model.path);
    let header = header.as_ref();
    ModelRow {
        name: model.name.clone(),
        title: header
            .and_then(|h| h.name.clone())
            .unwrap_or_else(|| model.name.clone()),
        size: model.size,
        quantization: header.and_then(quantization).unwrap_or_else(dash),
        parameters: header.and_then(parameters).unwrap_or_else(dash),
        context: header.and_then(context),
        installed: true,
        in_catalog: false,
        remote: None,
    }
}

/// The GGUF header of `path`, or `None` (logged) when it cannot be read.
fn header(path: &Path) -> Option<GgufInfo> {
    match models::gguf::metadata(path) {
        Ok(info) => Some(info),
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "no GGUF header for the model list");
            None
        }
    }
}

fn quantization(h: &GgufInfo) -> Option<String> {
    h.quantization.clone()
}

fn parameters(h: &GgufInfo) -> Option<String> {
    (h.size_label.is_some() || h.parameter_count > 0).then(|| h.parameters_label())
}

fn context(h: &GgufInfo) -> Option<u32> {
    h.context_length
        .map(|c| u32::try_from(c).unwrap_or(u32::MAX))
}

fn dash() -> String {
    "-".to_string()
}

/// A size for people: "512 B", "12 kB", "98 MB", "1.2 GB" (decimal units, like the CLI).
pub fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

/// A transfer speed: "35.2 MB/s", "800 kB/s"; "--" when unknown.
pub fn human_speed(bytes_per_second: f64) -> String {
    let b = bytes_per_second;
    if !b.is_finite() || b <= 0.0 {
        "--".to_string()
    } else if b >= 1e9 {
        format!("{:.1} GB/s", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB/s", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB/s", b / 1e3)
    } else {
        format!("{b:.0} B/s")
    }
}

/// Time left at the current speed: "0:11", "1:02:03"; "--" when the speed is 0 or unknown.
pub fn eta(remaining_bytes: u64, bytes_per_second: f64) -> String {
    if !bytes_per_second.is_finite() || bytes_per_second <= 0.0 {
        return "--".to_string();
    }
    // `as` saturates, so an absurd estimate is a large number, not a wrap.
    let secs = (remaining_bytes as f64 / bytes_per_second).ceil() as u64;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A context length in tokens: "8k" for 8192, "500" below 1024, "-" when unknown.
pub fn context_label(context: Option<u32>) -> String {
    match context {
        None => dash(),
        Some(c) if c >= 1024 => format!("{}k", (u64::from(c) + 512) / 1024),
        Some(c) => c.to_string(),
    }
}

#[cfg(test)]
mod tests;

/// A row for `model` on the server of back end `backend` at `host`.
pub fn remote_row(backend: &str, host: &str, model: &ServedModel) -> ModelRow {
    let name = format!("{backend}/{}", model.id);
    ModelRow {
        title: name.clone(),
        name,
        size: 0,
        quantization: dash(),
        parameters: model
            .parameters
            .map_or_else(dash, libre_assistant::models::gguf::parameters_label),
        context: model.context.or(model.trained_context),
        installed: true,
        in_catalog: false,
        remote: Some(host.to_owned()),
    }
}
