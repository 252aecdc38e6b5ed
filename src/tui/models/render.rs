//! Drawing the model pane: a pure function of `ModelPane`, the theme and the area.
//!
//! Top to bottom: the list, the download gauge, the load gauge (or its failure), the delete
//! confirmation, the message, the loaded model's details, the key hints. When rows are short
//! the details collapse first, then the gauges' bars and wrapped lines, then list rows; the
//! selected row, the confirmation and the hints go last.

use libre_assistant::engine::{Placement, TemplateSource};
use libre_assistant::models::gguf;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{
    Download, Loaded, Loading, ModelPane, ModelRow, context_label, eta, human_size, human_speed,
};
use crate::tui::fit::{self, cell, truncate, width};
use crate::tui::theme::Theme;

/// Sections, in the order they are drawn.
const LIST: usize = 0;
const DOWNLOAD: usize = 1;
const LOADING: usize = 2;
const CONFIRM: usize = 3;
const MESSAGE: usize = 4;
const DETAILS: usize = 5;
const HINTS: usize = 6;
const SECTIONS: usize = 7;

/// Below this pane width the list shows names only.
const MIN_WIDTH_FOR_COLUMNS: u16 = 30;
/// "› " or "  ", the marker, a space.
const ROW_PREFIX: usize = 4;
const NAME_MIN: usize = 12;
/// Header and cell width of the optional columns, dropped from the right.
const COLUMNS: [(&str, usize); 4] = [("SIZE", 7), ("QUANT", 7), ("PARAMS", 6), ("CTX", 5)];

/// Draws the model pane into `area` of `buf`.
pub fn render(pane: &ModelPane, theme: &Theme, area: Rect, buf: &mut Buffer, focused: bool) {
    let inner = fit::frame(" Models ", theme, area, buf, focused);
    if inner.is_empty() {
        return;
    }
    let cells = usize::from(inner.width);
    let mut sections: [Vec<Line<'static>>; SECTIONS] = Default::default();
    sections[DOWNLOAD] = pane
        .download
        .as_ref()
        .map_or_else(Vec::new, |d| download_lines(d, theme, cells));
    sections[LOADING] = loading_lines(&pane.loading, theme, cells);
    sections[CONFIRM] = confirm_lines(pane, theme, cells);
    sections[MESSAGE] = pane.message.as_deref().map_or_else(Vec::new, |m| {
        let style = theme.style("text");
        fit::wrap(m, cells, 2)
            .into_iter()
            .map(|l| Line::styled(l, style))
            .collect()
    });
    sections[DETAILS] = pane
        .loaded
        .as_ref()
        .map_or_else(Vec::new, |l| details_lines(l, pane, theme, cells));
    sections[HINTS] = vec![hints_line(theme, cells)];

    let heights = plan(pane, &sections, inner.height);
    let mut top = 0;
    for (i, lines) in sections.iter().enumerate() {
        let rect = fit::take_rows(inner, &mut top, heights[i]);
        if i == LIST {
            draw_list(pane, theme, rect, buf);
        } else {
            fit::draw_lines(buf, rect, lines);
        }
    }
}

/// Each section's height: essentials first, then the optional lines, leftovers to the list.
fn plan(
    pane: &ModelPane,
    sections: &[Vec<Line<'static>>; SECTIONS],
    height: u16,
) -> [u16; SECTIONS] {
    let len = |i: usize| fit::rows(sections[i].len());
    let first = |i: usize| len(i).min(1);
    let list_full = fit::rows(pane.rows.len().max(1) + 1);
    let asks = [
        (LIST, 1),
        (CONFIRM, first(CONFIRM)),
        (HINTS, first(HINTS)),
        (DOWNLOAD, first(DOWNLOAD)),
        (LOADING, first(LOADING)),
        (MESSAGE, first(MESSAGE)),
        (LIST, list_full),
        (DOWNLOAD, len(DOWNLOAD)),
        (LOADING, len(LOADING)),
        (MESSAGE, len(MESSAGE)),
        (DETAILS, len(DETAILS)),
    ];
    let mut heights = [0u16; SECTIONS];
    let left = fit::allocate(height, &asks, &mut heights);
    heights[LIST] += left;
    heights
}

/// The list: a header when there is room for it, then the rows around the selection.
fn draw_list(pane: &ModelPane, theme: &Theme, rect: Rect, buf: &mut Buffer) {
    let cells = usize::from(rect.width);
    if pane.rows.is_empty() {
        let empty = Line::styled(truncate("no models", cells), theme.style("text.dim"));
        fit::draw_lines(buf, rect, &[empty]);
        return;
    }
    let longest = pane.rows.iter().map(|r| width(&r.name)).max().unwrap_or(0);
    let wide = rect.width >= MIN_WIDTH_FOR_COLUMNS;
    let widths = COLUMNS.map(|(_, w)| w);
    let layout = fit::row_layout(cells, wide, (ROW_PREFIX, NAME_MIN, longest), &widths);
    let mut titles = vec![
        ("", ROW_PREFIX - 1, false),
        ("NAME", layout.name_cells, false),
    ];
    titles.extend(
        COLUMNS[..layout.shown]
            .iter()
            .map(|&(t, w)| (t, w, t != "QUANT")),
    );
    let header = (layout.shown > 0).then(|| {
        Line::styled(
            truncate(&fit::join_cells(&titles), cells),
            theme.style("text.dim"),
        )
    });
    let row = |i: usize| row_line(pane, &pane.rows[i], i == pane.selected, theme, layout);
    let rows = (pane.rows.len(), pane.selected);
    fit::draw_list(buf, rect, header, rows, row, theme.style("selection"));
}

/// One row: "› ● name  98 MB  Q4_1  135M  8k", with `shown` columns after the name.
fn row_line(
    pane: &ModelPane,
    row: &ModelRow,
    selected: bool,
    theme: &Theme,
    layout: fit::RowLayout,
) -> Line<'static> {
    let text = theme.style(if row.installed { "text" } else { "text.dim" });
    let (marker, marker_style) = if pane.is_loaded(&row.name) {
        ("●", theme.style("status.busy"))
    } else if row.remote.is_some() {
        ("↗", text)
    } else if row.installed {
        ("✓", text)
    } else {
        (" ", text)
    };
    let size = match row.remote {
        Some(_) => "remote".to_owned(),
        None => human_size(row.size),
    };
    let values = [
        size,
        row.quantization.clone(),
        row.parameters.clone(),
        context_label(row.context),
    ];
    let mut spans = vec![
        Span::styled(if selected { "› " } else { "  " }, text),
        Span::styled(marker, marker_style),
        Span::styled(" ", text),
        Span::styled(cell(&row.name, layout.name_cells, false), text),
    ];
    for (value, (title, w)) in values.iter().zip(COLUMNS).take(layout.shown) {
        spans.push(Span::styled(" ", text));
        spans.push(Span::styled(cell(value, w, title != "QUANT"), text));
    }
    Line::from(spans)
}

/// "downloading NAME… 45%", then the bar followed by "120 MB/491 MB 35.2 MB/s ETA 0:11".
fn download_lines(d: &Download, theme: &Theme, cells: usize) -> Vec<Line<'static>> {
    let fraction = (d.total > 0).then(|| d.done as f64 / d.total as f64);
    let percent = fraction.map_or("?%".to_string(), |f| format!("{:.0}%", (f * 100.0).floor()));
    let remaining = d.total.saturating_sub(d.done);
    let stats = [
        format!("{}/{}", human_size(d.done), human_size(d.total)),
        human_speed(d.bytes_per_second),
        format!("ETA {}", eta(remaining, d.bytes_per_second)),
    ];
    vec![
        Line::styled(
            progress_label(&d.phase, &d.name, &percent, cells),
            theme.style("text"),
        ),
        bar_line(fraction.unwrap_or(0.0), &stats, theme, cells),
    ]
}

/// "PHASE NAME… PERCENT", the name shortened so the percentage stays in view.
fn progress_label(phase: &str, name: &str, percent: &str, cells: usize) -> String {
    let fixed = width(phase) + width(percent) + 2;
    let subject = truncate(&format!("{name}…"), cells.saturating_sub(fixed).max(2));
    truncate(&format!("{phase} {subject} {percent}"), cells)
}

/// The bar, then as many of `stats` as leave it `MIN_BAR` cells, the first dropped first.
fn bar_line(fraction: f64, stats: &[String], theme: &Theme, cells: usize) -> Line<'static> {
    const MIN_BAR: usize = 10;
    let text = (0..=stats.len())
        .map(|skip| stats[skip..].join(" "))
        .find(|t| t.is_empty() || width(t) + 1 + MIN_BAR <= cells)
        .unwrap_or_default();
    let text = if text.is_empty() {
        text
    } else {
        format!(" {text}")
    };
    let bar = fit::bar(fraction, cells.saturating_sub(width(&text)));
    Line::from(vec![
        Span::styled(bar, theme.style("gauge")),
        Span::styled(text, theme.style("text")),
    ])
}

/// "loading NAME… 60%" and a bar, or the failure in the error role.
fn loading_lines(loading: &Loading, theme: &Theme, cells: usize) -> Vec<Line<'static>> {
    match loading {
        Loading::Idle => Vec::new(),
        Loading::InProgress { name, fraction } => {
            let fraction = f64::from(*fraction).clamp(0.0, 1.0);
            let percent = format!("{:.0}%", (fraction * 100.0).floor());
            vec![
                Line::styled(
                    progress_label("loading", name, &percent, cells),
                    theme.style("text"),
                ),
                bar_line(fraction, &[], theme, cells),
            ]
        }
        Loading::Failed { name, error } => {
            let style = theme.style("error");
            fit::wrap(&format!("failed to load {name}: {error}"), cells, 3)
                .into_iter()
                .map(|l| Line::styled(l, style))
                .collect()
        }
    }
}

/// "Delete NAME (98 MB)? y/n", the name shortened so the question stays whole.
fn confirm_lines(pane: &ModelPane, theme: &Theme, cells: usize) -> Vec<Line<'static>> {
    if let Some((name, remote)) = &pane.confirm_remote {
        let text = format!(
            "{name} runs on {}, not this machine: send your conversations there? y/n",
            remote.host()
        );
        return fit::wrap(&text, cells, 3)
            .into_iter()
            .map(|line| Line::styled(line, theme.style("warning")))
            .collect();
    }
    let Some(name) = &pane.confirm_delete else {
        return Vec::new();
    };
    let size = pane
        .rows
        .iter()
        .find(|r| &r.name == name)
        .map_or(String::new(), |r| format!(" ({})", human_size(r.size)));
    let fixed = width("Delete ") + width(&size) + width("? y/n");
    let name = truncate(name, cells.saturating_sub(fixed).max(1));
    let text = truncate(&format!("Delete {name}{size}? y/n"), cells);
    vec![Line::styled(text, theme.style("warning"))]
}

/// The loaded model: a rule, then one "label  value" line per fact.
fn details_lines(
    loaded: &Loaded,
    pane: &ModelPane,
    theme: &Theme,
    cells: usize,
) -> Vec<Line<'static>> {
    let styles = (theme.style("text.dim"), theme.style("text"));
    let mut lines = vec![fit::rule("loaded", cells, theme.style("title"))];
    let facts = loaded_facts(loaded, pane, cells.saturating_sub(fit::LABEL_CELLS));
    lines.extend(facts.iter().map(|(l, v)| fit::field(l, v, cells, styles)));
    lines
}

/// What the details say about the loaded model; `path_cells` bounds the path, cut from the left.
fn loaded_facts(
    loaded: &Loaded,
    pane: &ModelPane,
    path_cells: usize,
) -> [(&'static str, String); 8] {
    let (info, header) = (&loaded.info, loaded.gguf.as_ref());
    let title = pane
        .rows
        .iter()
        .find(|r| r.name == loaded.name && r.title != r.name)
        .map_or(String::new(), |r| format!(" ({})", r.title));
    let path = match info.runs {
        Placement::Remote { .. } => "-".to_owned(),
        _ => info.path.display().to_string(),
    };
    let dash = || "-".to_string();
    [
        ("name", format!("{}{title}", loaded.name)),
        (
            "runs",
            fit::truncate_start(&info.runs.to_string(), path_cells),
        ),
        ("file", fit::truncate_start(&path, path_cells)),
        (
            "architecture",
            header.map_or_else(dash, |h| h.architecture.clone()),
        ),
        (
            "parameters",
            header.map_or_else(
                || gguf::parameters_label(info.parameters),
                |h| h.parameters_label(),
            ),
        ),
        (
            "quantization",
            header
                .and_then(|h| h.quantization.clone())
                .unwrap_or_else(dash),
        ),
        (
            "context",
            format!("{} used / {} trained", info.context, info.trained_context),
        ),
        ("chat template", template_label(&info.template)),
    ]
}

fn template_label(source: &TemplateSource) -> String {
    match source {
        TemplateSource::Model => "the model's own".to_string(),
        TemplateSource::Fallback => "none: ChatML fallback".to_string(),
        TemplateSource::Override(name) => format!("override \"{name}\" (config)"),
        TemplateSource::Raw => "none: raw completion".to_string(),
        TemplateSource::Server => "the server's".to_string(),
    }
}

/// "Enter load · d download · x delete": keys in help.key; hints that don't fit are left out.
fn hints_line(theme: &Theme, cells: usize) -> Line<'static> {
    fit::hints(
        &[("Enter", "load"), ("d", "download"), ("x", "delete")],
        theme,
        cells,
    )
}
