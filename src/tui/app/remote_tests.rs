//! A model on a server from the app's side: a server not on this machine is used only after
//! the user says yes (once per url, remembered), and its models show in the model pane.

use insta::assert_snapshot;
use libre_assistant::backend::BackendConfig;
use libre_assistant::backend::remote::ServedModel;
use libre_assistant::config::BackendSettings;
use libre_assistant::core::Op;

use super::action::Action;
use super::tests::{SIZES, harness, screen};
use crate::tui::layout::Pane;
use crate::tui::models::remote_row;

fn with_backend(url: &str) -> super::tests::Harness {
    let mut t = harness("dark");
    t.app.ctx.settings.backends.insert(
        "gpu".into(),
        BackendSettings {
            url: url.into(),
            model: String::new(),
            api_key_env: None,
            timeout_secs: 60,
            context: None,
            native_tools: true,
            extra_sampling: true,
        },
    );
    t
}

fn loads_remote(op: Op) -> bool {
    matches!(op, Op::LoadModel { config: BackendConfig::Remote(c) } if c.backend == "gpu" && c.model == "qwen")
}

#[test]
fn a_server_elsewhere_is_used_only_after_a_yes_and_asked_once() {
    let mut t = with_backend("http://192.168.1.20:8080/v1");
    t.app.load_model("gpu/qwen");
    assert!(
        t.ops.try_recv().is_err(),
        "nothing is sent before the answer"
    );
    let shown = screen(&mut t.app, 80, 24);
    assert!(
        shown.contains("gpu/qwen runs on 192.168.1.20:8080") && shown.contains("y/n"),
        "{shown}"
    );
    t.app.act(Action::No);
    assert!(t.ops.try_recv().is_err(), "a no sends nothing");
    assert!(t.app.state.models.confirm_remote.is_none());

    t.app.load_model("gpu/qwen");
    t.app.act(Action::Yes);
    assert!(loads_remote(t.ops.try_recv().unwrap()));
    // Asked once: the next use goes ahead.
    t.app.load_model("gpu/qwen");
    assert!(t.app.state.models.confirm_remote.is_none());
    assert!(loads_remote(t.ops.try_recv().unwrap()));
}

#[test]
fn a_server_on_this_machine_is_used_without_asking() {
    let mut t = with_backend("http://localhost:8080/v1");
    t.app.load_model("gpu/qwen");
    assert!(t.app.state.models.confirm_remote.is_none());
    assert!(loads_remote(t.ops.try_recv().unwrap()));
}

#[test]
fn snapshot_the_servers_models_after_the_local_ones() {
    for (w, h) in SIZES {
        let mut t = harness("dark");
        t.app.state.focus = Pane::Models;
        let served = ServedModel {
            id: "qwen2.5-32b".into(),
            context: Some(32768),
            trained_context: None,
            parameters: Some(32_760_000_000),
        };
        let row = remote_row("gpu", "192.168.1.20:8080", &served);
        t.app.state.models.set_remote_rows(vec![row]);
        assert_snapshot!(format!("remote_rows_{w}x{h}"), screen(&mut t.app, w, h));
    }
}
