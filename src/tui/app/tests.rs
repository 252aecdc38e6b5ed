//! The whole screen, drawn from the app's state after real sequences of core events: snapshots
//! at 80×24 and 40×20 (one helper takes the size), and the safety of untrusted text all the way
//! to the bytes written to the terminal.

use std::path::PathBuf;

use libre_assistant::config::Settings;
use libre_assistant::core::{Event, Op};
use libre_assistant::engine::{Finish, ModelInfo, Placement, TemplateSource, TurnStats};
use libre_assistant::models::{FetchOptions, Store};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use tokio::sync::mpsc;

use super::{App, Context};
use crate::tui::chat::ChatView;
use crate::tui::layout::Pane;
use crate::tui::models::{ModelPane, ModelRow};
use crate::tui::plugins::{PluginPane, PluginRow, PluginStatus};
use crate::tui::state::{Activity, State};
use crate::tui::theme::{self, ColorMode};

pub(super) const SIZES: [(u16, u16); 2] = [(80, 24), (40, 20)];

pub(super) struct Harness {
    pub(super) app: App,
    pub(super) ops: mpsc::UnboundedReceiver<Op>,
    _dir: tempfile::TempDir,
}

pub(super) fn harness(theme_name: &str) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let themes_dir = dir.path().join("themes");
    let loaded = theme::load(theme_name, &themes_dir, ColorMode::TrueColor);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let state = State::new(
        loaded.theme,
        ChatView::default(),
        ModelPane::new(rows()),
        PluginPane::new(Vec::new(), "~/.config/libre-assistant/plugins"),
    );
    let ctx = Context {
        settings: Settings::default(),
        store: Store::new(dir.path().join("models")),
        fetch: FetchOptions::default(),
        themes_dir,
        color_mode: ColorMode::TrueColor,
        remote_consent: dir.path().join("remote-consent"),
    };
    let (ops_tx, ops) = mpsc::unbounded_channel();
    let (tasks, _) = mpsc::unbounded_channel();
    let mut app = App::new(state, ctx, ops_tx, tasks);
    app.model_name = Some("smollm2-135m-instruct".into());
    app.on_core(Event::ModelLoaded {
        info: ModelInfo {
            path: PathBuf::from("/models/SmolLM2-135M-Instruct.Q4_1.gguf"),
            context: 4096,
            trained_context: 8192,
            parameters: 134_515_008,
            template: TemplateSource::Model,
            tool_template: true,
            load_ms: 148.0,
            runs: Placement::Local,
        },
    });
    app.state.models.message = None;
    Harness {
        app,
        ops,
        _dir: dir,
    }
}

fn rows() -> Vec<ModelRow> {
    vec![
        ModelRow {
            name: "smollm2-135m-instruct".into(),
            title: "SmolLM2 135M Instruct".into(),
            size: 98_362_432,
            quantization: "Q4_1".into(),
            parameters: "135M".into(),
            context: Some(8192),
            installed: true,
            in_catalog: true,
            remote: None,
        },
        ModelRow {
            name: "qwen2.5-coder-0.5b-instruct".into(),
            title: "Qwen2.5 Coder 0.5B Instruct".into(),
            size: 491_400_064,
            quantization: "Q4_K_M".into(),
            parameters: "0.5B".into(),
            context: None,
            installed: false,
            in_catalog: true,
            remote: None,
        },
    ]
}

/// The screen as text at `w`×`h`.
pub(super) fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| {
        let area = f.area();
        if let Some(p) = app.draw_into(area, f.buffer_mut()) {
            f.set_cursor_position(p);
        }
    })
    .unwrap();
    term.backend().to_string()
}

pub(super) fn stats(tokens: u32) -> TurnStats {
    TurnStats {
        prompt_tokens: 31,
        generated_tokens: tokens,
        tokens_per_second: 121.5,
        ..TurnStats::default()
    }
}

pub(super) fn ask(app: &mut App, question: &str) {
    app.state.composer.insert_str(question);
    app.act(super::action::Action::Submit);
}

const ANSWER: &str = "# Adding numbers\n\nHere is a **small** function with `i64`:\n\n```rust\nfn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n```\n\n- it is *pure*\n- it never panics\n\n> Overflow wraps in release builds.\n\n| input | output |\n|---|---|\n| 1, 2 | 3 |\n\nSee [the book](https://doc.rust-lang.org/book/).";

#[test]
fn streaming_after_successive_deltas() {
    for (w, h) in SIZES {
        let mut t = harness("dark");
        ask(&mut t.app, "How do I add two numbers in Rust?");
        assert_eq!(
            t.ops.try_recv().unwrap(),
            Op::Submit {
                text: "How do I add two numbers in Rust?".into()
            }
        );
        t.app.on_core(Event::TurnStarted);
        let mut shots = Vec::new();
        for delta in [
            "Use the ",
            "`+` operator:\n\n```rust\nfn add(a: i32, ",
            "b: i32) -> i32 { a + b }\n```\n",
        ] {
            t.app.on_core(Event::TokenDelta { text: delta.into() });
            shots.push(screen(&mut t.app, w, h));
        }
        t.app.on_core(Event::TurnComplete {
            finish: Finish::Stop,
            stats: stats(24),
        });
        shots.push(screen(&mut t.app, w, h));
        insta::assert_snapshot!(format!("streaming_{w}x{h}"), shots.join("\n"));
    }
}

#[test]
fn long_markdown_answer_with_code() {
    for (w, h) in SIZES {
        let mut t = harness("dark");
        ask(&mut t.app, "Show me a function");
        t.app.on_core(Event::TurnStarted);
        t.app.on_core(Event::TokenDelta {
            text: ANSWER.into(),
        });
        t.app.on_core(Event::TurnComplete {
            finish: Finish::Stop,
            stats: stats(90),
        });
        let bottom = screen(&mut t.app, w, h);
        t.app.act(super::action::Action::ScrollTop);
        let top = screen(&mut t.app, w, h);
        insta::assert_snapshot!(format!("markdown_{w}x{h}"), format!("{top}\n{bottom}"));
    }
}

#[test]
fn stopped_answer_is_kept_and_marked() {
    let mut t = harness("dark");
    ask(&mut t.app, "Tell me a story");
    t.app.on_core(Event::TurnStarted);
    t.app.on_core(Event::TokenDelta {
        text: "Once upon a time".into(),
    });
    t.app.act(super::action::Action::Stop);
    let _ = t.ops.try_recv();
    assert_eq!(t.ops.try_recv().unwrap(), Op::Interrupt);
    t.app.on_core(Event::TurnComplete {
        finish: Finish::Cancelled,
        stats: stats(4),
    });
    let s = screen(&mut t.app, 80, 24);
    assert!(
        s.contains("Once upon a time") && s.contains("■ stopped"),
        "{s}"
    );
}

#[test]
fn help_overlay() {
    for (w, h) in SIZES {
        let mut t = harness("dark");
        t.app.act(super::action::Action::ToggleHelp);
        insta::assert_snapshot!(format!("help_{w}x{h}"), screen(&mut t.app, w, h));
    }
}

#[test]
fn too_small() {
    let mut t = harness("dark");
    insta::assert_snapshot!("too_small", screen(&mut t.app, 19, 5));
}

#[test]
fn model_and_plugin_panes() {
    for (w, h) in SIZES {
        let mut t = harness("dark");
        t.app.state.focus = Pane::Models;
        let models = screen(&mut t.app, w, h);
        t.app.state.focus = Pane::Plugins;
        let empty = screen(&mut t.app, w, h);
        t.app.state.plugins.set_rows(vec![PluginRow {
            id: "fs".into(),
            name: "Filesystem".into(),
            status: PluginStatus::Running,
            tools: 11,
            calls: 3,
            errors: 0,
            denials: 0,
            p50_ms: Some(4),
            last_call: Some("read_file 2s ago".into()),
            sandbox: "fully enforced".into(),
            error: None,
            resources: None,
            latencies: Vec::new(),
            logs: Vec::new(),
            server: None,
        }]);
        let one = screen(&mut t.app, w, h);
        insta::assert_snapshot!(format!("panes_{w}x{h}"), [models, empty, one].join("\n"));
    }
}

#[test]
fn each_theme() {
    for name in theme::available(std::path::Path::new("/nonexistent")) {
        let mut t = harness(&name);
        ask(&mut t.app, "Hi");
        t.app.on_core(Event::TurnStarted);
        t.app.on_core(Event::TokenDelta {
            text: "**Hello!** Try `cargo run`:\n```sh\ncargo run\n```".into(),
        });
        t.app.on_core(Event::TurnComplete {
            finish: Finish::Stop,
            stats: stats(9),
        });
        let mut term = Terminal::new(TestBackend::new(60, 16)).unwrap();
        term.draw(|f| {
            let area = f.area();
            t.app.draw_into(area, f.buffer_mut());
        })
        .unwrap();
        insta::assert_debug_snapshot!(format!("theme_{name}"), term.backend().buffer());
    }
}

#[test]
fn escape_sequences_from_the_model_arrive_inert() {
    let mut t = harness("dark");
    ask(&mut t.app, "print escapes");
    t.app.on_core(Event::TurnStarted);
    let hostile = "a\x1b]52;c;aGFja2Vk\x07b\x1b[2Jc\u{9b}31md\x1bP+q\x1b\\e\r\u{202e}f";
    for piece in hostile.split_inclusive(['\x1b', '\x07']) {
        t.app.on_core(Event::TokenDelta { text: piece.into() });
    }
    t.app.on_core(Event::TurnComplete {
        finish: Finish::Stop,
        stats: stats(5),
    });
    // Draw through the real crossterm backend and look at the bytes a terminal would get.
    let out = Tap::default();
    let mut term = Terminal::new(CrosstermBackend::new(out.clone())).unwrap();
    term.resize(ratatui::layout::Rect::new(0, 0, 80, 24))
        .unwrap();
    term.draw(|f| {
        let area = f.area();
        t.app.draw_into(area, f.buffer_mut());
    })
    .unwrap();
    drop(term);
    let bytes = String::from_utf8_lossy(&out.0.borrow()).into_owned();
    // (The backend itself clears the screen with ESC [2J on resize, so that one is looked for
    // with the model's neighbouring characters.)
    for bad in [
        "\x1b]52",
        "b\x1b[2Jc",
        "\u{9b}",
        "\x1bP",
        "\x07",
        "\u{202e}",
    ] {
        assert!(!bytes.contains(bad), "{bad:?} reached the terminal");
    }
    let shown = screen(&mut t.app, 80, 24);
    assert!(shown.contains("a␛]52;c;aGFja2Vk␇b␛[2Jc"), "{shown}");
}

#[test]
fn queued_message_waits_for_the_model_and_failures_give_the_text_back() {
    let mut t = harness("dark");
    t.app.model_ready = false;
    t.app.state.status.activity = Activity::Loading(0.2);
    ask(&mut t.app, "first question");
    assert!(
        t.ops.try_recv().is_err(),
        "nothing is sent before the model is ready"
    );
    assert!(screen(&mut t.app, 80, 24).contains("queued"));
    t.app.on_core(Event::ModelLoaded {
        info: ModelInfo {
            path: PathBuf::from("/m.gguf"),
            context: 2048,
            trained_context: 2048,
            parameters: 1,
            template: TemplateSource::Model,
            tool_template: true,
            load_ms: 1.0,
            runs: Placement::Local,
        },
    });
    assert_eq!(
        t.ops.try_recv().unwrap(),
        Op::Submit {
            text: "first question".into()
        }
    );
    t.app.on_core(Event::TurnFailed {
        error: libre_assistant::engine::EngineError::PromptTooLong {
            tokens: 9000,
            context: 2048,
        },
        unsent: "first question".into(),
    });
    assert_eq!(t.app.state.composer.text(), "first question");
    assert!(screen(&mut t.app, 80, 24).contains("9000 tokens"));
}

#[test]
fn edit_last_puts_the_message_back_without_losing_a_draft() {
    let mut t = harness("dark");
    ask(&mut t.app, "original");
    t.app.on_core(Event::TurnStarted);
    t.app.on_core(Event::TokenDelta {
        text: "answer".into(),
    });
    t.app.on_core(Event::TurnComplete {
        finish: Finish::Stop,
        stats: stats(1),
    });
    t.app.state.composer.insert_str("draft");
    t.app.act(super::action::Action::EditLast);
    let _ = t.ops.try_recv();
    assert_eq!(t.ops.try_recv().unwrap(), Op::RetractLast);
    t.app.on_core(Event::Retracted {
        text: "original".into(),
    });
    assert_eq!(t.app.state.composer.text(), "original");
    assert!(t.app.state.chat.entries().is_empty());
    t.app.state.composer.take();
    assert!(t.app.state.composer.history_prev());
    assert_eq!(t.app.state.composer.text(), "original");
    assert!(t.app.state.composer.history_prev());
    assert_eq!(t.app.state.composer.text(), "draft");
}

#[test]
fn ten_thousand_lines_scroll() {
    let mut t = harness("dark");
    for i in 0..2_000 {
        t.app
            .state
            .chat
            .push(crate::tui::chat::Kind::Notice, format!("line {i}"));
    }
    let s = screen(&mut t.app, 80, 24);
    assert!(s.contains("line 1999"));
    assert!(t.app.state.chat.total_lines() >= 3_999);
    t.app.act(super::action::Action::ScrollTop);
    assert!(screen(&mut t.app, 80, 24).contains("line 0"));
    t.app.act(super::action::Action::PageDown);
    let s = screen(&mut t.app, 80, 24);
    assert!(s.contains("more · End"), "{s}");
    t.app.act(super::action::Action::ScrollBottom);
    assert!(screen(&mut t.app, 80, 24).contains("line 1999"));
}

/// A writer whose bytes the test can read after the terminal is done with it.
#[derive(Clone, Default)]
struct Tap(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Tap {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn enter_on_a_partial_command_runs_the_first_match() {
    let mut t = harness("dark");
    ask(&mut t.app, "/cle");
    assert_eq!(t.ops.try_recv().unwrap(), Op::Clear);
    assert!(t.app.state.composer.is_empty());
    ask(&mut t.app, "/nosuch");
    assert!(t.ops.try_recv().is_err());
    assert_eq!(
        t.app.state.composer.text(),
        "/nosuch",
        "a bad command stays to be fixed"
    );
    assert!(screen(&mut t.app, 80, 24).contains("unknown command"));
}

/// Mouse motion (reported for every cell the pointer crosses), key releases and focus changes
/// ask for no frame; the wheel and a key do.
#[test]
fn only_events_that_change_the_screen_ask_for_a_frame() {
    use crossterm::event::{
        Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent,
        MouseEventKind,
    };
    let mut t = harness("dark");
    let mouse = |kind| {
        TermEvent::Mouse(MouseEvent {
            kind,
            column: 3,
            row: 4,
            modifiers: KeyModifiers::NONE,
        })
    };
    let mut release = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    assert!(!t.app.on_terminal(mouse(MouseEventKind::Moved)));
    assert!(!t.app.on_terminal(TermEvent::FocusLost));
    assert!(!t.app.on_terminal(TermEvent::Key(release)));
    assert!(t.app.state.composer.is_empty());
    assert!(t.app.on_terminal(mouse(MouseEventKind::ScrollUp)));
    let key = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
    assert!(t.app.on_terminal(TermEvent::Key(key)));
    assert_eq!(t.app.state.composer.text(), "x");
}

#[test]
fn a_model_offered_no_tools_says_so_in_the_status_bar_and_plugin_pane() {
    let mut t = harness("dark");
    t.app.state.plugins.set_rows(vec![PluginRow {
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
    }]);
    t.app.state.focus = Pane::Plugins;
    t.app.on_core(Event::ModelTools { offered: false });
    let off = screen(&mut t.app, 100, 30);
    assert_eq!(off.matches("tools off for this model").count(), 2, "{off}");
    t.app.on_core(Event::ModelTools { offered: true });
    let on = screen(&mut t.app, 100, 30);
    assert!(!on.contains("tools off"), "{on}");
}
