//! Tool calls through the app: the consent dialog's keys and queue, the status it shows, the
//! tool blocks in the transcript, and the plugin figures.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use libre_assistant::core::{CallResult, ConsentAnswer, Event, FinishedCall, Op};
use libre_assistant::engine::Finish;
use libre_assistant::plugins::audit::Grant;
use libre_assistant::plugins::host::HostEvent;
use libre_assistant::plugins::usage::Figures;
use serde_json::json;

use super::tests::{SIZES, ask, harness, screen, stats};
use crate::tui::consent::tests::request;
use crate::tui::layout::Pane;
use crate::tui::plugins::{PluginRow, PluginStatus};
use crate::tui::state::Activity;

fn press(t: &mut super::tests::Harness, code: KeyCode) {
    t.app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn consent(id: u64, answer: ConsentAnswer) -> Op {
    Op::Consent { id, answer }
}

/// A harness in a turn that asked for consent to call `read_text_file` (id 1).
fn asking() -> super::tests::Harness {
    let mut t = harness("dark");
    ask(&mut t.app, "read my notes");
    let _ = t.ops.try_recv();
    t.app.on_core(Event::TurnStarted);
    t.app.on_core(Event::ToolConsent {
        request: request(1, "read_text_file", false),
    });
    t
}

#[test]
fn each_key_gives_its_answer() {
    for (code, answer) in [
        (KeyCode::Char('y'), ConsentAnswer::Once),
        (KeyCode::Enter, ConsentAnswer::Once),
        (KeyCode::Char('s'), ConsentAnswer::Session),
        (KeyCode::Char('a'), ConsentAnswer::Always),
        (KeyCode::Char('n'), ConsentAnswer::Deny),
        (KeyCode::Esc, ConsentAnswer::Deny),
    ] {
        let mut t = asking();
        assert_eq!(t.app.state.status.activity, Activity::AwaitingConsent);
        press(&mut t, code);
        assert_eq!(t.ops.try_recv().ok(), Some(consent(1, answer)), "{code:?}");
        assert!(t.ops.try_recv().is_err(), "Esc must not also interrupt");
        assert!(!t.app.state.consent.is_open());
        assert_eq!(t.app.state.status.activity, Activity::Generating);
    }
}

#[test]
fn the_status_bar_says_when_another_instance_has_the_cores_until_the_answer_starts() {
    let mut t = harness("dark");
    ask(&mut t.app, "hello");
    t.app.on_core(Event::TurnStarted);
    t.app.on_core(Event::WaitingForCores);
    assert!(t.app.state.busy());
    let bar = screen(&mut t.app, 80, 24);
    assert!(
        bar.lines()
            .last()
            .unwrap()
            .contains("waiting for another instance"),
        "{bar}"
    );
    t.app.on_core(Event::TokenDelta { text: "Hi".into() });
    assert_eq!(t.app.state.status.activity, Activity::Generating);
}

#[test]
fn always_is_not_an_answer_for_a_destructive_tool() {
    let mut t = harness("dark");
    ask(&mut t.app, "erase my notes");
    let _ = t.ops.try_recv();
    t.app.on_core(Event::TurnStarted);
    let mut erase = request(1, "erase", false);
    erase.hints.destructive = Some(true);
    t.app.on_core(Event::ToolConsent { request: erase });
    press(&mut t, KeyCode::Char('a'));
    assert!(t.ops.try_recv().is_err(), "'a' must not answer");
    assert!(t.app.state.consent.is_open());
    press(&mut t, KeyCode::Char('y'));
    assert_eq!(t.ops.try_recv().ok(), Some(consent(1, ConsentAnswer::Once)));
}

#[test]
fn keys_do_not_reach_the_input_while_asking() {
    let mut t = asking();
    press(&mut t, KeyCode::Char('x'));
    assert!(t.app.state.composer.is_empty());
    assert!(t.app.state.consent.is_open());
}

#[test]
fn a_second_request_shows_after_the_first_is_answered() {
    let mut t = asking();
    t.app.on_core(Event::ToolConsent {
        request: request(2, "write_file", true),
    });
    let first = screen(&mut t.app, 80, 24);
    assert!(first.contains("read_text_file") && first.contains("1 more waiting"));
    press(&mut t, KeyCode::Char('a'));
    assert_eq!(
        t.ops.try_recv().ok(),
        Some(consent(1, ConsentAnswer::Always))
    );
    let second = screen(&mut t.app, 80, 24);
    assert!(second.contains("write_file") && !second.contains("more waiting"));
    assert_eq!(t.app.state.status.activity, Activity::AwaitingConsent);
    press(&mut t, KeyCode::Char('n'));
    assert_eq!(t.ops.try_recv().ok(), Some(consent(2, ConsentAnswer::Deny)));
    assert!(!screen(&mut t.app, 80, 24).contains("Allow tool call?"));
}

#[test]
fn long_arguments_scroll_within_their_bounds() {
    let mut t = asking();
    screen(&mut t.app, 40, 20);
    let before = screen(&mut t.app, 40, 20);
    assert!(before.contains("… lines 1–"), "{before}");
    for _ in 0..100 {
        press(&mut t, KeyCode::Down);
    }
    let max = t.app.state.consent.scroll;
    assert!(max > 0);
    let after = screen(&mut t.app, 40, 20);
    assert!(after.contains(" of 20 ·") && after.contains("}"), "{after}");
    press(&mut t, KeyCode::Char('k'));
    assert_eq!(t.app.state.consent.scroll, max - 1);
    press(&mut t, KeyCode::Char('y'));
    assert_eq!(t.app.state.consent.scroll, 0);
}

#[test]
fn snapshot_consent_over_the_chat() {
    for (w, h) in SIZES {
        let mut t = asking();
        insta::assert_snapshot!(format!("consent_{w}x{h}"), screen(&mut t.app, w, h));
    }
}

fn finished(result: CallResult, ms: u64) -> FinishedCall {
    FinishedCall {
        id: Some(7),
        plugin: "time".into(),
        tool: "current_time".into(),
        arguments: json!({"timezone": "Asia/Tokyo"}),
        result,
        granted_by: Grant::Config,
        duration_ms: ms,
        tool_figures: Figures::default(),
        plugin_figures: Figures {
            calls: 3,
            p50_ms: Some(12),
            ..Figures::default()
        },
    }
}

#[test]
fn snapshot_tool_call_result_and_answer() {
    for (w, h) in SIZES {
        let mut t = harness("dark");
        ask(&mut t.app, "What time is it in Tokyo?");
        t.app.on_core(Event::TurnStarted);
        t.app.on_core(Event::TokenDelta {
            text: "Let me check.".into(),
        });
        let mut req = request(7, "current_time", false);
        req.plugin = "time".into();
        req.arguments = json!({"timezone": "Asia/Tokyo"});
        t.app.on_core(Event::ToolCallStarted {
            request: req,
            granted_by: Grant::Config,
        });
        let running = screen(&mut t.app, w, h);
        let text = "{\n  \"datetime\": \"2026-11-24T02:07:00+09:00\",\n  \"timezone\": \"Asia/Tokyo\"\n}\n# not a heading \x1b[31m\n1\n2\n3\n4\n5";
        t.app.on_core(Event::ToolCallFinished {
            call: finished(
                CallResult::Done {
                    text: text.into(),
                    is_error: false,
                },
                3,
            ),
        });
        for delta in ["It is **2:07** ", "in the morning in Tokyo."] {
            t.app.on_core(Event::TokenDelta { text: delta.into() });
        }
        t.app.on_core(Event::TurnComplete {
            finish: Finish::Stop,
            stats: stats(12),
        });
        let done = screen(&mut t.app, w, h);
        assert!(!done.contains('\x1b'), "{done}");
        insta::assert_snapshot!(format!("tool_call_{w}x{h}"), format!("{running}\n{done}"));
    }
}

#[test]
fn snapshot_progress_of_a_running_call() {
    let mut t = harness("dark");
    ask(&mut t.app, "Run the long operation");
    t.app.on_core(Event::TurnStarted);
    let mut req = request(3, "trigger-long-running-operation", false);
    req.plugin = "everything".into();
    req.arguments = json!({"duration": 10, "steps": 10});
    t.app.on_core(Event::ToolCallStarted {
        request: req,
        granted_by: Grant::Config,
    });
    let progress = |progress: f64, total: Option<f64>, message: Option<&str>| {
        Event::Plugin(HostEvent::Progress {
            plugin: "everything".into(),
            tool: "trigger-long-running-operation".into(),
            progress,
            total,
            message: message.map(Into::into),
        })
    };
    t.app
        .on_core(progress(4.0, Some(10.0), Some("step 4 of 10")));
    let bar = screen(&mut t.app, 80, 24);
    assert!(bar.contains("↳ ▰▰▰▰▰▱▱▱▱▱▱▱ 4/10 step 4 of 10"), "{bar}");
    t.app.on_core(progress(2.5, None, None));
    let open = screen(&mut t.app, 80, 24);
    assert!(open.contains("↳ running… 2.5"), "{open}");
    insta::assert_snapshot!("progress_80x24", format!("{bar}\n{open}"));
}

#[test]
fn denied_and_failed_calls_say_so_and_regenerate_drops_the_blocks() {
    let mut t = harness("dark");
    ask(&mut t.app, "time?");
    t.app.on_core(Event::TurnStarted);
    t.app.on_core(Event::ToolCallFinished {
        call: finished(
            CallResult::Denied {
                reason: "the user said no".into(),
            },
            0,
        ),
    });
    let mut failed = finished(
        CallResult::Failed {
            error: "timed out after 30 s".into(),
        },
        30_000,
    );
    failed.id = Some(8);
    t.app.on_core(Event::ToolCallFinished { call: failed });
    t.app.on_core(Event::TokenDelta {
        text: "I could not tell.".into(),
    });
    t.app.on_core(Event::TurnComplete {
        finish: Finish::Stop,
        stats: stats(5),
    });
    let s = screen(&mut t.app, 80, 24);
    assert!(s.contains("↳ denied: the user said no"), "{s}");
    assert!(s.contains("↳ error: timed out after 30 s"), "{s}");
    assert!(
        s.contains("⚙ time/current_time {\"timezone\":\"Asia/Tokyo\"}"),
        "{s}"
    );
    t.app.on_core(Event::Retracted {
        text: "time?".into(),
    });
    let s = screen(&mut t.app, 80, 24);
    assert!(!s.contains("⚙") && !s.contains("could not tell"), "{s}");
}

#[test]
fn plugin_figures_fill_the_pane() {
    for (w, h) in SIZES {
        let mut t = harness("dark");
        t.app.state.plugins.rows = vec![PluginRow {
            id: "time".into(),
            name: "Time".into(),
            status: PluginStatus::Running,
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
        }];
        t.app.on_core(Event::PluginFigures {
            plugins: vec![(
                "time".into(),
                Figures {
                    calls: 2,
                    denials: 1,
                    p50_ms: Some(9),
                    ..Figures::default()
                },
            )],
        });
        assert_eq!(
            t.app.state.plugins.rows[0].usage(),
            "2 calls · p50 9 ms · 1 denied"
        );
        t.app.on_core(Event::ToolCallFinished {
            call: finished(
                CallResult::Done {
                    text: "now".into(),
                    is_error: false,
                },
                4,
            ),
        });
        assert_eq!(t.app.state.plugins.rows[0].usage(), "3 calls · p50 12 ms");
        t.app.state.focus = Pane::Plugins;
        insta::assert_snapshot!(format!("plugin_figures_{w}x{h}"), screen(&mut t.app, w, h));
    }
}
