//! Drawing the chooser: a pure function of [`Chooser`], the theme and the area.
//!
//! Top to bottom: what this is, the list, the highlighted model's details, why the recommended
//! one is, what the speeds assume, the keys. When rows are short the explanations collapse
//! first; the list (at least the highlighted row), the recommendation and the keys stay.

use libre_assistant::models::speed::USABLE_TOKENS_PER_SECOND;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{ChoiceRow, Chooser};
use crate::tui::fit::{self, cell, truncate, width};
use crate::tui::models::human_size;
use crate::tui::theme::Theme;

/// Sections, in the order they are drawn.
const INTRO: usize = 0;
const LIST: usize = 1;
const DETAILS: usize = 2;
const RECOMMEND: usize = 3;
const NOTE: usize = 4;
const HINTS: usize = 5;
const SECTIONS: usize = 6;

/// Below this width the list shows names and the tools column only.
const MIN_WIDTH_FOR_COLUMNS: u16 = 30;
/// "› ", the marker, a space.
const ROW_PREFIX: usize = 4;
const NAME_MIN: usize = 12;
/// Header and cell width of the columns after the name, dropped from the right.
const COLUMNS: [(&str, usize); 3] = [("TOOLS", 5), ("SPEED HERE", 13), ("SIZE", 7)];

/// Draws the chooser into `area` of `buf`.
pub fn render(chooser: &Chooser, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let inner = fit::frame(" Choose a model ", theme, area, buf, true);
    if inner.is_empty() {
        return;
    }
    let cells = usize::from(inner.width);
    let (text, dim) = (theme.style("text"), theme.style("text.dim"));
    let wrapped = |s: &str, max, style| -> Vec<Line<'static>> {
        fit::wrap(s, cells, max)
            .into_iter()
            .map(|l| Line::styled(l, style))
            .collect()
    };
    let mut sections: [Vec<Line<'static>>; SECTIONS] = Default::default();
    sections[INTRO] = wrapped(
        "No model is set up yet. Choose one to download (once, checksum-verified); it becomes \
         your model from now on.",
        3,
        text,
    );
    if let Some(row) = chooser.rows.get(chooser.selected) {
        sections[DETAILS] = wrapped(&details(row), 3, dim);
    }
    sections[RECOMMEND] = chooser
        .recommended
        .and_then(|i| chooser.rows.get(i))
        .map_or_else(Vec::new, |r| {
            wrapped(&recommendation(r), 3, theme.style("status.model"))
        });
    sections[NOTE] = wrapped(
        &format!(
            "Speeds are estimates for this machine ({}), scaled from measurements on a \
             2-core reference machine.",
            chooser.machine
        ),
        2,
        dim,
    );
    sections[HINTS] = vec![hints_line(theme, cells)];
    let list_rows = fit::rows(chooser.rows.len() + 1);
    let heights = plan(&sections, list_rows, inner.height);
    // Rows no section needs become blank lines between sections, top down; the keys sit on
    // the bottom row.
    let shown = heights[..HINTS].iter().filter(|&&h| h > 0).count();
    let mut blanks = inner
        .height
        .saturating_sub(heights.iter().sum())
        .min(fit::rows(shown));
    let mut top = 0;
    for (i, lines) in sections.iter().enumerate().take(HINTS) {
        if heights[i] == 0 {
            continue;
        }
        if top > 0 && blanks > 0 {
            top += 1;
            blanks -= 1;
        }
        let rect = fit::take_rows(inner, &mut top, heights[i]);
        if i == LIST {
            draw_list(chooser, theme, rect, buf);
        } else {
            fit::draw_lines(buf, rect, lines);
        }
    }
    let bottom = Rect::new(
        inner.x,
        inner.bottom() - heights[HINTS],
        inner.width,
        heights[HINTS],
    );
    fit::draw_lines(buf, bottom, &sections[HINTS]);
}

/// Each section's height: the highlighted row, the keys and the recommendation first, then
/// the rest of the list, the details, the intro and the note. Nothing is stretched.
fn plan(sections: &[Vec<Line<'static>>; SECTIONS], list_rows: u16, height: u16) -> [u16; SECTIONS] {
    let len = |i: usize| fit::rows(sections[i].len());
    let mut heights = [0; SECTIONS];
    let asks = [
        (LIST, 1),
        (HINTS, len(HINTS)),
        (RECOMMEND, len(RECOMMEND)),
        (LIST, list_rows),
        (DETAILS, len(DETAILS)),
        (INTRO, len(INTRO)),
        (NOTE, len(NOTE)),
    ];
    fit::allocate(height, &asks, &mut heights);
    heights
}

/// "491 MB · 0.5B parameters · Q4_K_M · ~29 t/s here (est.) · calls tools".
fn details(row: &ChoiceRow) -> String {
    let tools = match row.fit.calls_tools {
        Some(true) => "calls tools",
        Some(false) => "does not call tools",
        None => "tool calls unknown",
    };
    let mut parts = vec![
        row.title.clone(),
        human_size(row.size),
        format!("{} parameters", row.parameters),
        row.quantization.clone(),
        format!("{} here", speed_label(row)),
        tools.to_string(),
    ];
    if !row.fit.fits {
        parts.push("needs more memory than is free".into());
    }
    parts.join(" · ")
}

/// Why the recommended model is.
fn recommendation(row: &ChoiceRow) -> String {
    if row.fit.calls_tools == Some(true) {
        format!(
            "★ recommended: {}, the best tool caller that runs at a usable speed here \
             (at least {USABLE_TOKENS_PER_SECOND:.0} t/s).",
            row.name
        )
    } else {
        format!(
            "★ recommended: {}: no model that calls tools runs at a usable speed here.",
            row.name
        )
    }
}

/// "~29 t/s est.", "~4.8 t/s est.", or "too big" for a model that does not fit in memory.
fn speed_label(row: &ChoiceRow) -> String {
    let tps = row.fit.tokens_per_second;
    if !row.fit.fits {
        "too big".into()
    } else if tps < 10.0 {
        format!("~{tps:.1} t/s est.")
    } else {
        format!("~{tps:.0} t/s est.")
    }
}

/// The list: a header when there is room for it, then the rows around the highlight.
fn draw_list(chooser: &Chooser, theme: &Theme, rect: Rect, buf: &mut Buffer) {
    let cells = usize::from(rect.width);
    let longest = chooser
        .rows
        .iter()
        .map(|r| width(&r.name))
        .max()
        .unwrap_or(0);
    let wide = rect.width >= MIN_WIDTH_FOR_COLUMNS;
    let widths = COLUMNS.map(|(_, w)| w);
    let layout = fit::row_layout(cells, wide, (ROW_PREFIX, NAME_MIN, longest), &widths);
    let mut titles = vec![
        ("", ROW_PREFIX - 1, false),
        ("MODEL", layout.name_cells, false),
    ];
    titles.extend(
        COLUMNS[..layout.shown]
            .iter()
            .map(|&(t, w)| (t, w, t != "TOOLS")),
    );
    let header = (layout.shown > 0).then(|| {
        Line::styled(
            truncate(&fit::join_cells(&titles), cells),
            theme.style("text.dim"),
        )
    });
    let row = |i: usize| row_line(chooser, i, theme, layout);
    let rows = (chooser.rows.len(), chooser.selected);
    fit::draw_list(buf, rect, header, rows, row, theme.style("selection"));
}

/// One row: "› ★ name  yes  ~29 t/s est.  491 MB", with `shown` columns after the name.
fn row_line(chooser: &Chooser, i: usize, theme: &Theme, layout: fit::RowLayout) -> Line<'static> {
    let row = &chooser.rows[i];
    let text = theme.style("text");
    let marker = if chooser.recommended == Some(i) {
        "★"
    } else {
        " "
    };
    let tools = match row.fit.calls_tools {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    };
    let values = [tools.to_string(), speed_label(row), human_size(row.size)];
    let mut spans = vec![
        Span::styled(if i == chooser.selected { "› " } else { "  " }, text),
        Span::styled(marker, theme.style("status.model")),
        Span::styled(" ", text),
        Span::styled(cell(&row.name, layout.name_cells, false), text),
    ];
    for (value, (title, w)) in values.iter().zip(COLUMNS).take(layout.shown) {
        spans.push(Span::styled(" ", text));
        spans.push(Span::styled(cell(value, w, title != "TOOLS"), text));
    }
    Line::from(spans)
}

/// "↑↓ move · Enter choose · Esc quit", as much as fits.
fn hints_line(theme: &Theme, cells: usize) -> Line<'static> {
    fit::hints(
        &[("↑↓", "move"), ("Enter", "choose"), ("Esc", "quit")],
        theme,
        cells,
    )
}
