//! Tests of the plugin pane: the selection, and snapshots of the drawn pane at 80×24 and 40×20.

use super::*;
use libre_assistant::core::tools::OfferedTool;

const DIR: &str = "~/.config/libre-assistant/plugins";

fn three_rows() -> Vec<PluginRow> {
    vec![
        PluginRow {
            id: "fs".into(),
            name: "filesystem".into(),
            status: PluginStatus::Running,
            tools: 11,
            calls: 42,
            errors: 1,
            denials: 2,
            p50_ms: Some(12),
            last_call: Some("fs.read_text_file 2s ago".into()),
            sandbox: "fully enforced".into(),
            error: None,
            resources: None,
            latencies: Vec::new(),
            logs: Vec::new(),
            server: None,
        },
        PluginRow {
            id: "web-search".into(),
            name: "web search".into(),
            status: PluginStatus::Crashed { restarts: 3 },
            tools: 2,
            calls: 7,
            errors: 7,
            denials: 0,
            p50_ms: Some(1340),
            last_call: Some("search 1m ago".into()),
            sandbox: "fully enforced".into(),
            error: Some("MCP handshake failed (it was denied the network; `libre-assistant plugins grant web-search --network` (permissions.network) allows it)".into()),
            resources: None,
            latencies: Vec::new(),
            logs: Vec::new(),
            server: None,
        },
        PluginRow {
            id: "time".into(),
            name: "time".into(),
            status: PluginStatus::Disabled,
            tools: 2,
            calls: 0,
            errors: 0,
            denials: 0,
            p50_ms: None,
            last_call: None,
            sandbox: "fully enforced".into(),
            error: None,
            resources: None,
            latencies: Vec::new(),
            logs: Vec::new(),
            server: None,
        },
    ]
}

/// The pane drawn unfocused into a `width`×`height` buffer, one text line per row.
fn snapshot(pane: &PluginPane, width: u16, height: u16) -> String {
    crate::tui::fit::drawn_text(width, height, |theme, area, buf| {
        render(pane, theme, area, buf, false)
    })
}

#[test]
fn snapshot_no_plugins() {
    let pane = PluginPane::new(Vec::new(), DIR);
    insta::assert_snapshot!("empty_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("empty_40x20", snapshot(&pane, 40, 20));
}

/// The first row with the monitor's figures, its recent call latencies and an anomaly.
fn monitored() -> Vec<PluginRow> {
    let mut rows = three_rows();
    let mb = 1024 * 1024;
    rows[0].resources = Some(libre_assistant::plugins::host::Resources {
        cpu_seconds: 3.5,
        cpu_percent: 12.0,
        rss_bytes: 48 * mb,
        peak_rss_bytes: 52 * mb,
        open_files: 12,
        processes: 2,
        threads: 9,
        cpu_history: vec![0.0, 1.0, 3.0, 40.0, 12.0, 2.0, 0.0, 12.0],
        rss_history: [40, 41, 44, 52, 48, 48, 48, 48]
            .iter()
            .map(|m| m * mb)
            .collect(),
        flags: vec!["memory only grows (40 → 52 MB in a minute)".into()],
    });
    rows[0].latencies = vec![12, 9, 250, 14, 11];
    rows[0].server = Some("MCP 2025-11-25, secure-filesystem-server 0.2.0".into());
    rows
}

#[test]
fn snapshot_monitor_figures() {
    let pane = PluginPane::new(monitored(), DIR);
    insta::assert_snapshot!("monitor_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("monitor_40x20", snapshot(&pane, 40, 20));
}

#[test]
fn snapshot_three_plugins() {
    let mut pane = PluginPane::new(three_rows(), DIR);
    pane.select_next();
    insta::assert_snapshot!("three_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("three_40x20", snapshot(&pane, 40, 20));
}

#[test]
fn narrow_panes_keep_the_badge_symbol_and_never_panic() {
    let pane = PluginPane::new(three_rows(), DIR);
    let text = snapshot(&pane, 20, 8);
    assert!(text.contains("› ● filesystem"), "{text}");
    assert!(text.contains("  ✖ web search"), "{text}");
    let empty = PluginPane::new(Vec::new(), DIR);
    for (w, h) in [(0, 0), (1, 1), (2, 2), (3, 3), (12, 4), (30, 3), (80, 4)] {
        snapshot(&pane, w, h);
        snapshot(&empty, w, h);
    }
}

#[test]
fn details_collapse_before_the_list_when_short() {
    let pane = PluginPane::new(three_rows(), DIR);
    let text = snapshot(&pane, 80, 7);
    assert!(text.contains("time"), "{text}");
    assert!(!text.contains("last call"), "{text}");
}

#[test]
fn selection_moves_within_the_rows_and_follows_the_id() {
    let mut pane = PluginPane::new(three_rows(), DIR);
    pane.select_prev();
    assert_eq!(pane.selected, 0);
    for _ in 0..5 {
        pane.select_next();
    }
    assert_eq!(pane.selected_row().map(|r| r.id.as_str()), Some("time"));
    let mut rows = three_rows();
    rows.reverse();
    pane.set_rows(rows);
    assert_eq!(pane.selected, 0);
    pane.set_rows(Vec::new());
    assert_eq!((pane.selected, pane.selected_row()), (0, None));
}

#[test]
fn usage_leaves_out_what_is_zero() {
    let rows = three_rows();
    assert_eq!(rows[0].usage(), "42 calls · p50 12 ms · 1 error · 2 denied");
    assert_eq!(rows[2].usage(), "0 calls");
    let mut row = rows[2].clone();
    row.set_figures(&libre_assistant::plugins::usage::Figures {
        calls: 1,
        p50_ms: Some(3),
        ..Default::default()
    });
    assert_eq!(row.usage(), "1 call · p50 3 ms");
}

fn cost(plugin: &str, name: &str, tokens: u32, offered: bool) -> OfferedTool {
    OfferedTool {
        plugin: plugin.into(),
        name: name.into(),
        tokens,
        offered,
        callable: offered,
        over_cap: false,
    }
}

#[test]
fn snapshot_tool_costs() {
    let mut pane = PluginPane::new(three_rows(), DIR);
    pane.select_next();
    pane.select_next();
    pane.costs = vec![
        cost("fs", "read_file", 120, true),
        cost("time", "current_time", 132, true),
        cost("time", "convert_time", 199, false),
    ];
    pane.budget = 1843;
    let text = snapshot(&pane, 80, 24);
    assert!(
        text.contains("331 tokens; 1 of 2 offered (budget 1843)"),
        "{text}"
    );
    assert!(
        text.contains("199 tok  convert_time (not offered)"),
        "{text}"
    );
    assert!(
        !text.contains("read_file"),
        "another plugin's tools: {text}"
    );
    insta::assert_snapshot!("costs_80x24", text);
}

#[test]
fn a_plugin_over_its_cap_says_so_in_place_of_the_budget() {
    let mut pane = PluginPane::new(three_rows(), DIR);
    pane.select_next();
    pane.select_next();
    let over = |name: &str, tokens| OfferedTool {
        over_cap: true,
        ..cost("time", name, tokens, false)
    };
    pane.costs = vec![over("current_time", 132), over("convert_time", 199)];
    pane.budget = 1843;
    let text = snapshot(&pane, 80, 24);
    assert!(
        text.contains("331 tokens, over the plugin's cap: none offered"),
        "{text}"
    );
}

#[test]
fn tools_off_is_said_in_place_of_the_costs() {
    let mut pane = PluginPane::new(three_rows(), DIR);
    pane.tools_off = true;
    pane.costs = vec![cost("fs", "read_file", 120, true)];
    let text = snapshot(&pane, 80, 24);
    assert!(text.contains("tools off for this model"), "{text}");
    assert!(!text.contains("120 tok"), "{text}");
}
