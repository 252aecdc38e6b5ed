//! Drawing the plugin pane: a pure function of `PluginPane`, the theme and the area.
//!
//! With plugins: the list (status badge, name, tools, calls, p50 latency, errors/denials), then the selected
//! plugin's details, which collapse first when rows are short. Without: a centred "no
//! plugins" and where to put them.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{PluginPane, PluginRow, PluginStatus};
use crate::tui::fit::{self, cell, truncate, width};
use crate::tui::theme::Theme;
use libre_assistant::core::tools::OfferedTool;

/// Below this pane width a badge is its symbol alone and the list shows no columns.
const MIN_WIDTH_FOR_COLUMNS: u16 = 30;
/// "›" or " ", then a space.
const ROW_PREFIX: usize = 2;
const NAME_MIN: usize = 8;
/// Header and cell width of the optional columns, dropped from the right.
const COLUMNS: [(&str, usize); 4] = [("TOOLS", 5), ("CALLS", 5), ("P50", 8), ("ERR/DENY", 8)];
/// The most lines a crashed plugin's error takes in the details.
const ERROR_LINES: usize = 4;

/// Draws the plugin pane into `area` of `buf`.
pub fn render(pane: &PluginPane, theme: &Theme, area: Rect, buf: &mut Buffer, focused: bool) {
    let inner = fit::frame(" Plugins ", theme, area, buf, focused);
    if inner.is_empty() {
        return;
    }
    if pane.rows.is_empty() {
        draw_empty(pane, theme, inner, buf);
        return;
    }
    let details = pane.selected_row().map_or_else(Vec::new, |row| {
        let mut lines = details_lines(row, theme, usize::from(inner.width));
        lines.extend(cost_lines(pane, row, theme, usize::from(inner.width)));
        lines
    });
    let list_full = fit::rows(pane.rows.len() + 1);
    let mut heights = [0u16; 2];
    let left = fit::allocate(
        inner.height,
        &[(0, list_full), (1, fit::rows(details.len()))],
        &mut heights,
    );
    heights[0] += left;
    let mut top = 0;
    draw_list(
        pane,
        theme,
        fit::take_rows(inner, &mut top, heights[0]),
        buf,
    );
    fit::draw_lines(buf, fit::take_rows(inner, &mut top, heights[1]), &details);
}

/// "no plugins" and the hint, centred both ways.
fn draw_empty(pane: &PluginPane, theme: &Theme, inner: Rect, buf: &mut Buffer) {
    let cells = usize::from(inner.width);
    let hint = format!("plugins live in {}; see plugins/README.md", pane.plugin_dir);
    let mut text = vec!["no plugins".to_string()];
    if inner.height > 2 {
        text.push(String::new());
        let room = usize::from(inner.height) - text.len();
        text.extend(fit::wrap(&hint, cells, room.min(4)));
    }
    let style = theme.style("text.dim");
    let lines: Vec<Line<'static>> = text
        .into_iter()
        .map(|t| Line::styled(truncate(&t, cells), style))
        .collect();
    let height = fit::rows(lines.len()).min(inner.height);
    let y = inner.y + (inner.height - height) / 2;
    fit::draw_centered(buf, Rect::new(inner.x, y, inner.width, height), &lines);
}

/// The list: a header when there is room for it, then the rows around the selection.
fn draw_list(pane: &PluginPane, theme: &Theme, rect: Rect, buf: &mut Buffer) {
    let cells = usize::from(rect.width);
    let wide = rect.width >= MIN_WIDTH_FOR_COLUMNS;
    let badges = pane.rows.iter().map(|r| width(&badge(r.status).0));
    let badge_cells = if wide { badges.max().unwrap_or(0) } else { 1 };
    let longest = pane.rows.iter().map(|r| width(&r.name)).max().unwrap_or(0);
    let prefix = ROW_PREFIX + badge_cells + 1;
    let widths = COLUMNS.map(|(_, w)| w);
    let layout = fit::row_layout(cells, wide, (prefix, NAME_MIN, longest), &widths);
    let mut titles = vec![
        ("", ROW_PREFIX - 1, false),
        ("STATUS", badge_cells, false),
        ("NAME", layout.name_cells, false),
    ];
    titles.extend(COLUMNS[..layout.shown].iter().map(|&(t, w)| (t, w, true)));
    let header = (layout.shown > 0).then(|| {
        Line::styled(
            truncate(&fit::join_cells(&titles), cells),
            theme.style("text.dim"),
        )
    });
    let row = |i: usize| {
        let selected = i == pane.selected;
        row_line(&pane.rows[i], selected, theme, (badge_cells, layout))
    };
    let rows = (pane.rows.len(), pane.selected);
    fit::draw_list(buf, rect, header, rows, row, theme.style("selection"));
}

/// One row: "› ● running  name  5  120  12 ms  3/1", with `shown` columns after the name.
fn row_line(
    row: &PluginRow,
    selected: bool,
    theme: &Theme,
    (badge_cells, layout): (usize, fit::RowLayout),
) -> Line<'static> {
    let text = theme.style("text");
    let (label, role) = badge(row.status);
    let label = if badge_cells < width(&label) {
        label.chars().next().map_or(String::new(), String::from)
    } else {
        label
    };
    let p50 = row
        .p50_ms
        .map_or_else(|| "-".to_string(), |ms| format!("{ms} ms"));
    let failures = if row.errors + row.denials > 0 {
        format!("{}/{}", row.errors, row.denials)
    } else {
        "-".to_string()
    };
    let values = [row.tools.to_string(), row.calls.to_string(), p50, failures];
    let mut spans = vec![
        Span::styled(if selected { "› " } else { "  " }, text),
        Span::styled(cell(&label, badge_cells, false), theme.style(role)),
        Span::styled(" ", text),
        Span::styled(cell(&row.name, layout.name_cells, false), text),
    ];
    for (value, (_, w)) in values.iter().zip(COLUMNS).take(layout.shown) {
        spans.push(Span::styled(" ", text));
        spans.push(Span::styled(cell(value, w, true), text));
    }
    Line::from(spans)
}

/// The badge text and its role: "● running", "◌ starting", "✖ crashed ×3", "○ disabled".
fn badge(status: PluginStatus) -> (String, &'static str) {
    match status {
        PluginStatus::Running => ("● running".into(), "status.busy"),
        PluginStatus::Starting => ("◌ starting".into(), "text.dim"),
        PluginStatus::Crashed { restarts: 0 } => ("✖ crashed".into(), "error"),
        PluginStatus::Crashed { restarts } => (format!("✖ crashed ×{restarts}"), "error"),
        PluginStatus::Disabled => ("○ disabled".into(), "text.dim"),
        PluginStatus::Halted => ("■ stopped".into(), "error"),
    }
}

/// The monitor's figures and the recent call latencies, each with a sparkline that takes the
/// room the value leaves: `cpu  3% ▁▂▁▃`, `memory  48 MB ▃▃▄▅`, `processes  2 · 9 threads ·
/// 12 files`, `latency  ▁▅▁▂`.
fn usage_lines(row: &PluginRow, cells: usize) -> Vec<(&'static str, String)> {
    let room = cells.saturating_sub(fit::LABEL_CELLS);
    let with_spark = |value: String, spark: String| {
        let left = room.saturating_sub(width(&value) + 1);
        if left >= 4 {
            let spark: String = spark
                .chars()
                .rev()
                .take(left)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("{value} {spark}")
        } else {
            value
        }
    };
    let mut out = Vec::new();
    if let Some(r) = &row.resources {
        let cpu: Vec<f64> = r.cpu_history.iter().map(|v| f64::from(*v)).collect();
        let cpu_top = cpu.iter().copied().fold(100.0, f64::max);
        out.push((
            "cpu",
            with_spark(format!("{:.0}%", r.cpu_percent), spark(&cpu, 0.0, cpu_top)),
        ));
        let mem: Vec<f64> = r.rss_history.iter().map(|v| *v as f64).collect();
        let low = mem.iter().copied().fold(f64::MAX, f64::min);
        let high = mem.iter().copied().fold(0.0, f64::max);
        let mb = r.rss_bytes / (1024 * 1024);
        out.push((
            "memory",
            with_spark(format!("{mb} MB"), spark(&mem, low, high)),
        ));
        out.push((
            "processes",
            format!(
                "{} · {} threads · {} files",
                r.processes, r.threads, r.open_files
            ),
        ));
    }
    if !row.latencies.is_empty() {
        let ms: Vec<f64> = row.latencies.iter().map(|v| *v as f64).collect();
        let top = ms.iter().copied().fold(1.0, f64::max);
        let last = row.latencies.last().copied().unwrap_or(0);
        out.push((
            "latency",
            with_spark(format!("{last} ms"), spark(&ms, 0.0, top)),
        ));
    }
    out
}

/// `values` as block characters `▁`–`█`, scaled from `low` to `high`; a range within 5 % of
/// `high` is flat, drawn at half height.
fn spark(values: &[f64], low: f64, high: f64) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let span = high - low;
    if span <= high.abs() * 0.05 {
        return BARS[3].to_string().repeat(values.len());
    }
    values
        .iter()
        .map(|v| {
            let level = ((v - low) / span * 7.0).round().clamp(0.0, 7.0) as usize;
            BARS[level]
        })
        .collect()
}

/// What the selected plugin's tools cost in the prompt, and whether the model was offered
/// them; or that tools are off for this model.
fn cost_lines(
    pane: &PluginPane,
    row: &PluginRow,
    theme: &Theme,
    cells: usize,
) -> Vec<Line<'static>> {
    let styles: (Style, Style) = (theme.style("text.dim"), theme.style("text"));
    if pane.tools_off {
        return vec![Line::styled(
            truncate("tools off for this model", cells),
            theme.style("warning"),
        )];
    }
    let tools: Vec<&OfferedTool> = pane.costs.iter().filter(|t| t.plugin == row.id).collect();
    if tools.is_empty() {
        return Vec::new();
    }
    let total: u32 = tools.iter().map(|t| t.tokens).sum();
    let offered = tools.iter().filter(|t| t.offered).count();
    let summary = match tools.iter().any(|t| t.over_cap) {
        true => format!("{total} tokens, over the plugin's cap: none offered"),
        false => format!(
            "{total} tokens; {offered} of {} offered (budget {})",
            tools.len(),
            pane.budget
        ),
    };
    let mut lines = vec![fit::field("prompt", &summary, cells, styles)];
    lines.extend(tools.iter().map(|t| {
        let mark = if t.offered { "" } else { " (not offered)" };
        let text = format!("{:>6} tok  {}{mark}", t.tokens, t.name);
        Line::styled(truncate(&text, cells), styles.0)
    }));
    lines
}

/// The selected plugin: a rule, then one "label  value" line per fact.
fn details_lines(row: &PluginRow, theme: &Theme, cells: usize) -> Vec<Line<'static>> {
    let styles: (Style, Style) = (theme.style("text.dim"), theme.style("text"));
    let status = match row.status {
        PluginStatus::Starting => "starting".to_string(),
        PluginStatus::Running => "running".to_string(),
        PluginStatus::Crashed { restarts } => format!("crashed ({restarts} restarts)"),
        PluginStatus::Disabled => "disabled".to_string(),
        PluginStatus::Halted => "stopped over a limit".to_string(),
    };
    let mut facts = vec![("id", row.id.clone()), ("status", status)];
    if let Some(server) = &row.server {
        facts.push(("server", server.clone()));
    }
    facts.extend([
        ("tools", row.tools.to_string()),
        ("usage", row.usage()),
        (
            "last call",
            row.last_call.clone().unwrap_or_else(|| "-".into()),
        ),
        ("sandbox", row.sandbox.clone()),
    ]);
    let mut lines = vec![fit::rule(&row.name, cells, theme.style("title"))];
    lines.extend(
        facts
            .iter()
            .map(|(label, value)| fit::field(label, value, cells, styles)),
    );
    lines.extend(
        usage_lines(row, cells)
            .iter()
            .map(|(label, value)| fit::field(label, value, cells, styles)),
    );
    if let Some(r) = &row.resources {
        lines.extend(r.flags.iter().flat_map(|flag| {
            fit::wrap(&format!("⚠ {flag}"), cells, 2)
                .into_iter()
                .map(|l| Line::styled(l, theme.style("warning")))
        }));
    }
    if let Some(error) = &row.error {
        lines.extend(
            fit::wrap(error, cells, ERROR_LINES)
                .into_iter()
                .map(|l| Line::styled(l, theme.style("error"))),
        );
    }
    if !row.logs.is_empty() {
        lines.push(fit::rule("log", cells, theme.style("text.dim")));
        lines.extend(
            row.logs
                .iter()
                .map(|l| Line::styled(truncate(l, cells), styles.0)),
        );
    }
    lines
}
