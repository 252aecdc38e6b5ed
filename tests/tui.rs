//! The interactive app driven in tmux as a person would: start it, type, press keys, resize,
//! read the screen. The real binary with the real test model (greedy, so answers repeat);
//! every wait is bounded and fails with the screen it saw. Needs tmux (scripts/deps).

mod support;

use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use support::Home;
use support::tmux::{Launch, Tmux, WAIT, framed};
use unicode_width::UnicodeWidthStr;

const FRANCE: &str = "What is the capital of France?";
const STORY: &str = "Write a very long story about a dragon who learns to fly.";

/// The status bar: the bottom row.
fn status(screen: &str) -> &str {
    screen.lines().last().unwrap_or("")
}

fn idle(screen: &str) -> bool {
    status(screen).starts_with(" idle │")
}

fn generating(screen: &str) -> bool {
    status(screen).starts_with(" generating │")
}

/// Row of the last line containing `text`.
fn last_row(screen: &str, text: &str) -> Option<usize> {
    screen
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(text))
        .map(|(i, _)| i)
        .last()
}

/// Row of the last figures line under an answer, e.g. `7 tokens · 151.2 t/s · prompt 32`.
fn figures_row(screen: &str) -> Option<usize> {
    last_row(screen, " t/s · prompt ")
}

/// The last question has its answer finished: a figures line below the last "› You" (which
/// may have scrolled away) and the status bar idle again.
fn answered(screen: &str) -> bool {
    match (last_row(screen, "› You"), figures_row(screen)) {
        (Some(you), Some(figures)) => figures > you && idle(screen),
        (None, Some(_)) => idle(screen),
        _ => false,
    }
}

/// Waits for the model to be loaded and the input to show its placeholder.
#[track_caller]
fn wait_ready(tmux: &Tmux) -> String {
    tmux.wait_for(
        "the model loaded and the input waiting",
        |s| idle(s) && s.contains("Ask anything"),
        WAIT,
    )
}

#[track_caller]
fn wait_answered(tmux: &Tmux) -> String {
    tmux.wait_for("a finished answer with its figures", answered, WAIT)
}

/// Some answer text under the last "◆ Assistant" label (in its first 40 columns, the chat's).
fn answer_started(screen: &str) -> bool {
    let lines: Vec<&str> = screen.lines().collect();
    let Some(label) = last_row(screen, "◆ Assistant") else {
        return false;
    };
    lines.get(label + 1).is_some_and(|l| {
        let chat: String = l.chars().take(40).collect();
        let chat = chat.trim();
        !chat.is_empty() && chat != "▍"
    })
}

/// Starts the app, asks for a long story and waits until the answer streams.
#[track_caller]
fn streaming_story(home: &Home, launch: &Launch) -> Tmux {
    let tmux = Tmux::start(home, launch);
    wait_ready(&tmux);
    tmux.ask(STORY);
    tmux.wait_for(
        "the story streaming",
        |s| generating(s) && answer_started(s),
        WAIT,
    );
    tmux
}

/// Asserts that no row is wider than the pane (rows the terminal wrapped are joined back, so
/// drawing past the right edge shows) and that there are exactly `height` rows.
#[track_caller]
fn assert_fits(joined: &str, width: usize, height: usize) {
    for line in joined.lines() {
        assert!(
            line.width() <= width,
            "a row {} wide in a {width}-column pane: {line:?}\n{}",
            line.width(),
            framed(joined)
        );
    }
    assert_eq!(joined.lines().count(), height, "{}", framed(joined));
}

#[test]
fn a_question_is_answered_and_ctrl_c_gives_the_terminal_back() {
    let home = Home::new();
    let tmux = Tmux::start(&home, &Launch::new(80, 24));
    let screen = wait_ready(&tmux);
    assert!(status(&screen).contains("SmolLM2"), "{}", framed(&screen));
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "1",
        "the app uses the alternate screen"
    );

    tmux.ask(FRANCE);
    let screen = wait_answered(&tmux);
    let label = last_row(&screen, "◆ Assistant").expect("an answer label");
    assert!(
        last_row(&screen, FRANCE).unwrap() < label && label < figures_row(&screen).unwrap(),
        "question, answer, figures in that order:\n{}",
        framed(&screen)
    );
    let answer: Vec<&str> = screen.lines().collect();
    let answer = answer[label..figures_row(&screen).unwrap()].join("\n");
    assert!(answer.contains("Paris"), "{}", framed(&screen));
    assert!(
        status(&screen).contains("t/s"),
        "the speed in the status bar"
    );

    tmux.send_keys(&["C-c"]);
    let screen = tmux.wait_for_text("EXIT=");
    assert!(screen.contains("EXIT=0"), "{}", framed(&screen));
    for tui in ["◆ Assistant", "› You", "idle │", "F1 help", "Ask anything"] {
        assert!(
            !screen.contains(tui),
            "{tui:?} left behind:\n{}",
            framed(&screen)
        );
    }
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "the alternate screen was left"
    );
    assert_eq!(
        tmux.display("#{cursor_flag}"),
        "1",
        "the cursor is visible again"
    );
}

#[test]
fn resizing_while_streaming_leaves_a_clean_screen() {
    let home = Home::new();
    let tmux = streaming_story(&home, &Launch::new(120, 40).max_tokens(400));
    for (w, h) in [(120, 40), (40, 20), (80, 24), (33, 12), (100, 30)] {
        tmux.resize(w, h);
        sleep(Duration::from_millis(250));
    }
    // Stop it rather than wait for 400 tokens; a no-op if it already ended.
    tmux.send_keys(&["Escape"]);
    wait_answered(&tmux);
    assert_eq!(tmux.display("#{pane_width}x#{pane_height}"), "100x30");

    let drawn = tmux.capture();
    assert_fits(&tmux.capture_joined(), 100, 30);
    // Blank the terminal (tmux's own reset, which the app does not see), so that only the
    // app's full redraw on Ctrl+L can bring the screen back.
    tmux.reset_terminal();
    assert_eq!(tmux.capture().trim(), "", "the terminal was blanked");
    tmux.send_keys(&["C-l"]);
    let redrawn = tmux.wait_for(
        &format!(
            "a full redraw equal to the incremental frames:\n{}",
            framed(&drawn)
        ),
        |s| s == drawn,
        WAIT,
    );
    assert!(idle(&redrawn) && redrawn.contains("◆ Assistant"));
}

#[test]
fn escape_stops_the_answer_and_the_next_question_is_answered() {
    let home = Home::new();
    let tmux = streaming_story(&home, &Launch::new(80, 24).max_tokens(400));
    tmux.send_keys(&["Escape"]);
    let screen = tmux.wait_for(
        "■ stopped and the status idle",
        |s| s.contains("■ stopped") && idle(s),
        WAIT,
    );
    assert!(
        figures_row(&screen) < last_row(&screen, "■ stopped"),
        "figures, then the stop mark:\n{}",
        framed(&screen)
    );

    tmux.ask(FRANCE);
    let screen = wait_answered(&tmux);
    let label = last_row(&screen, "◆ Assistant").unwrap();
    assert!(last_row(&screen, "› You").unwrap() < label);
    assert!(
        answer_started(&screen.lines().skip(label).collect::<Vec<_>>().join("\n")),
        "the second answer has text:\n{}",
        framed(&screen)
    );
}

#[test]
fn a_40_column_tmux_side_pane_gets_the_narrow_layout() {
    let home = Home::new();
    let mut tmux = Tmux::start_shell(120, 30);
    tmux.split_app(&home, &Launch::new(40, 30), 40);
    assert_eq!(tmux.display("#{pane_width}"), "40");
    let screen = wait_ready(&tmux);
    let tabs = screen.lines().next().unwrap();
    assert!(
        tabs.contains("1 Chat") && tabs.contains("2 Models"),
        "the tab line on top:\n{}",
        framed(&screen)
    );

    tmux.ask(FRANCE);
    let screen = wait_answered(&tmux);
    assert!(screen.contains("Paris"), "{}", framed(&screen));
    assert_fits(&tmux.capture_joined(), 40, 30);

    tmux.send_keys(&["F3"]);
    // The list truncates names to its column; the start is enough.
    let screen = tmux.wait_for_text("smollm2-135m");
    assert!(
        !screen.contains("Paris"),
        "one pane at a time:\n{}",
        framed(&screen)
    );
    assert_fits(&tmux.capture_joined(), 40, 30);
    tmux.send_keys(&["F2"]);
    tmux.wait_for(
        "the chat pane again",
        |s| s.contains("Paris") && s.contains("Ask anything"),
        WAIT,
    );
}

/// Whether an SGR-laden capture sets any colour (foreground, background, underline colour),
/// in any form: 16-colour codes, `38;5;n`, `38;2;r;g;b`, or their `:` forms.
fn colour_codes(escaped: &str) -> Vec<String> {
    let mut found = Vec::new();
    for seq in escaped.split("\x1b[").skip(1) {
        let Some(end) = seq.find(|c: char| c.is_ascii_alphabetic()) else {
            continue;
        };
        if &seq[end..end + 1] != "m" {
            continue;
        }
        let params = &seq[..end];
        for p in params.split(';') {
            let head = p.split(':').next().unwrap_or("");
            let Ok(n) = head.parse::<u16>() else { continue };
            if matches!(n, 30..=37 | 40..=47 | 90..=97 | 100..=107 | 38 | 48 | 58) {
                found.push(format!("\\e[{params}m"));
                break;
            }
        }
    }
    found
}

#[test]
fn no_color_means_no_colour_and_other_terms_work() {
    // One after another: three engines at once on a small machine only slow each other down.
    for launch in [
        Launch::new(80, 24).term("screen-256color").no_color(),
        Launch::new(80, 24).term("tmux-256color"),
        Launch::new(80, 24).term("xterm"),
    ] {
        let home = Home::new();
        let tmux = Tmux::start(&home, &launch);
        wait_ready(&tmux);
        tmux.ask(FRANCE);
        let screen = wait_answered(&tmux);
        let term = &launch.term;
        assert!(
            screen.contains("Paris"),
            "TERM={term}:\n{}",
            framed(&screen)
        );
        let escaped = tmux.capture_escapes();
        let colours = colour_codes(&escaped);
        if launch.no_color {
            assert!(escaped.contains("Paris"), "{escaped:?}");
            assert!(
                colours.is_empty(),
                "NO_COLOR, yet colours {colours:?} in {escaped:?}"
            );
        } else {
            // The check above can see colours: here they are.
            assert!(
                !colours.is_empty(),
                "TERM={term} without NO_COLOR has colours: {escaped:?}"
            );
        }
    }
}

#[test]
fn a_tiny_terminal_says_so_until_it_grows() {
    let home = Home::new();
    let tmux = Tmux::start(&home, &Launch::new(15, 5));
    // The message may wrap; read it as words.
    tmux.wait_for(
        "\"terminal too small\"",
        |s| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .contains("terminal too small")
        },
        // The first frame, drawn before the model loads.
        Duration::from_secs(15),
    );
    tmux.resize(60, 20);
    let screen = wait_ready(&tmux);
    assert!(!screen.contains("too sm"), "{}", framed(&screen));
    assert_fits(&tmux.capture_joined(), 60, 20);
}

#[test]
fn f1_shows_the_keys_and_escape_closes_them() {
    let home = Home::new();
    let tmux = Tmux::start(&home, &Launch::new(80, 24));
    wait_ready(&tmux);
    tmux.send_keys(&["F1"]);
    let screen = tmux.wait_for(
        "the help overlay",
        |s| {
            s.lines()
                .any(|l| l.contains("Ctrl+C") && l.contains("quit"))
        },
        WAIT,
    );
    assert!(screen.contains("F1"), "{}", framed(&screen));
    tmux.send_keys(&["Escape"]);
    let screen = tmux.wait_for(
        "the help closed",
        |s| !s.contains("Ctrl+C") && s.contains("Ask anything"),
        WAIT,
    );
    assert!(idle(&screen));
}

#[test]
fn continue_shows_the_previous_conversation() {
    let home = Home::new();
    {
        let tmux = Tmux::start(&home, &Launch::new(80, 24));
        wait_ready(&tmux);
        tmux.ask(FRANCE);
        let screen = wait_answered(&tmux);
        assert!(screen.contains("Paris"), "{}", framed(&screen));
        tmux.send_keys(&["C-c"]);
        let screen = tmux.wait_for_text("EXIT=");
        assert!(screen.contains("EXIT=0"), "{}", framed(&screen));
    }
    let tmux = Tmux::start(&home, &Launch::new(80, 24).arg("--continue"));
    let screen = wait_ready(&tmux);
    assert!(screen.contains("continued"), "{}", framed(&screen));
    let question = last_row(&screen, FRANCE).expect("the question is back");
    let answer = last_row(&screen, "Paris").expect("the answer is back");
    assert!(question < answer, "{}", framed(&screen));
}

#[test]
fn colour_codes_sees_every_colour_form_and_only_those() {
    let plain = "\x1b[1m\x1b[7mbold\x1b[0m \x1b[3;4mitalic\x1b[39m\x1b[49m\x1b[2m";
    assert_eq!(colour_codes(plain), Vec::<String>::new());
    for sgr in [
        "31",
        "1;44",
        "91",
        "107",
        "38;5;12",
        "48;2;1;2;3",
        "38:2::1:2:3",
        "4;58;5;1",
    ] {
        assert_eq!(
            colour_codes(&format!("x\x1b[{sgr}my")),
            vec![format!("\\e[{sgr}m")]
        );
    }
}

/// The app's process id: the child of the pane's shell.
fn app_pid(tmux: &Tmux) -> String {
    let shell = tmux.display("#{pane_pid}");
    let out = std::process::Command::new("pgrep")
        .args(["-P", shell.trim()])
        .output()
        .expect("pgrep runs");
    let pid = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(!pid.is_empty(), "the app runs under the pane's shell");
    pid
}

/// The newest saved session in `home`, as its JSON export.
fn saved_conversation(home: &Home) -> String {
    let dir = home.path().join("data/libre-assistant");
    let (store, _) = libre_assistant::sessions::Store::open(&dir).unwrap();
    let id = store.latest().unwrap().expect("a saved session");
    libre_assistant::sessions::export::to_json(&store.load(id).unwrap())
}

#[test]
fn sigterm_and_sighup_mid_answer_restore_the_terminal_and_keep_the_conversation() {
    for signal in ["TERM", "HUP"] {
        let home = Home::new();
        let tmux = streaming_story(&home, &Launch::new(80, 24).max_tokens(400));
        let pid = app_pid(&tmux);
        let killed = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let screen = tmux.wait_for_text("EXIT=");
        assert!(
            !screen.contains("◆ Assistant"),
            "SIG{signal}: {}",
            framed(&screen)
        );
        assert_eq!(
            tmux.display("#{alternate_on}"),
            "0",
            "SIG{signal}: alternate screen left"
        );
        assert_eq!(
            tmux.display("#{cursor_flag}"),
            "1",
            "SIG{signal}: cursor visible"
        );
        let saved = saved_conversation(&home);
        assert!(
            saved.contains("dragon"),
            "SIG{signal}: the question was saved: {saved}"
        );
        assert!(
            saved.contains("\"assistant\""),
            "SIG{signal}: the partial answer was saved: {saved}"
        );
    }
}

/// The plugin host runs the shipped plugins (found in the checkout's plugins/) as children of
/// the app: the pane shows them running with their tools, and quitting leaves none behind.
#[test]
fn the_plugin_pane_shows_the_shipped_plugins_running_and_quitting_stops_them() {
    let home = Home::new();
    let tmux = Tmux::start(&home, &Launch::new(120, 30));
    wait_ready(&tmux);
    let screen = tmux.wait_for(
        "four running plugins",
        |s| s.matches("● running").count() == 4,
        WAIT,
    );
    for name in ["Time", "Calculator", "Passwords", "Files"] {
        assert!(screen.contains(name), "{name}: {}", framed(&screen));
    }
    let app = app_pid(&tmux);
    let children = std::process::Command::new("pgrep")
        .args(["-f", "mcp-serve", "-P", &app])
        .output()
        .unwrap();
    let children: Vec<String> = String::from_utf8_lossy(&children.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(children.len(), 4, "one child per plugin: {children:?}");
    tmux.send_keys(&["C-c"]);
    let screen = tmux.wait_for_text("EXIT=");
    assert!(screen.contains("EXIT=0"), "{}", framed(&screen));
    for pid in children {
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
        assert!(!alive, "plugin process {pid} outlived the app");
    }
}

/// The issue's "done when", as a person does it: Qwen calls the time plugin, the call waits in
/// the consent dialog, the person allows it, the answer quotes the result, and the plugin pane
/// counts the call. Any further call the model asks for is denied.
#[test]
fn a_tool_call_is_allowed_in_the_dialog_and_the_answer_uses_its_result() {
    let home = Home::new();
    let launch = Launch::new(120, 40).model(support::qwen()).max_tokens(96);
    let tmux = Tmux::start(&home, &launch);
    wait_ready(&tmux);
    tmux.ask("What time is it in Tokyo right now?");
    let dialog = tmux.wait_for(
        "the consent dialog",
        |s| s.contains("Allow tool call?"),
        WAIT * 2,
    );
    assert!(dialog.contains("current_time"), "{}", framed(&dialog));
    assert!(dialog.contains("Asia/Tokyo"), "{}", framed(&dialog));
    tmux.send_keys(&["y"]);
    let screen = tmux.wait_for(
        "an answer, denying any further call",
        |s| {
            if s.contains("Allow tool call?") {
                tmux.send_keys(&["n"]);
                return false;
            }
            answered(s)
        },
        WAIT * 2,
    );
    // "↳ ok N ms: In Asia/Tokyo it is now HH:MM on …": the answer below quotes HH:MM.
    let result = screen
        .lines()
        .find(|l| l.contains("it is now "))
        .unwrap_or_else(|| panic!("a result line in {}", framed(&screen)));
    let clock: String = result
        .split("it is now ")
        .nth(1)
        .unwrap()
        .chars()
        .take(5)
        .collect();
    let after = &screen[screen.find(result).unwrap() + result.len()..];
    let answer_row = last_row(after, "◆ Assistant").expect("an answer after the call");
    let answer: String = after.lines().skip(answer_row).collect();
    assert!(answer.contains(&clock), "{clock} in {}", framed(&screen));
    // The plugin pane counts the call: `● running Time  2  1` (tools, calls).
    let time_row = screen
        .lines()
        .find(|l| l.contains("running Time"))
        .unwrap_or_else(|| panic!("the Time row in {}", framed(&screen)));
    let figures: Vec<&str> = time_row.split_whitespace().rev().skip(1).take(2).collect();
    assert_eq!(figures, ["1", "2"], "{time_row}");
    tmux.send_keys(&["C-c"]);
    let verify = home.command().args(["audit", "verify"]).output().unwrap();
    assert!(verify.status.success());
    let tail = home.command().args(["audit", "tail"]).output().unwrap();
    let tail = String::from_utf8_lossy(&tail.stdout);
    assert!(
        tail.contains("time/current_time  allowed (user)  ok"),
        "{tail}"
    );
}

/// A plugin's server asks for the model (sampling) as soon as it starts: the dialog shows who
/// asks and the messages, the person lets the model write, reads what it wrote, rewrites it,
/// sends it, and the server logs what it got (its log notification reaches the app's log file).
#[test]
fn a_sampling_request_is_answered_by_the_local_model_after_the_person_allows_it() {
    let home = Home::new();
    install_sdk_server(&home, "asks");
    let tmux = Tmux::start(&home, &Launch::new(120, 40));
    let dialog = tmux.wait_for(
        "the sampling dialog, the model loaded",
        |s| s.contains("A plugin asks for the model") && idle(s),
        WAIT,
    );
    for text in [
        "asks",
        "You are brief.",
        "user: Say hello to the test.",
        "y let the model write",
    ] {
        assert!(dialog.contains(text), "{text}: {}", framed(&dialog));
    }
    tmux.send_keys(&["y"]);
    let review = tmux.wait_for(
        "what the model wrote",
        |s| s.contains("Send the model's message?"),
        WAIT,
    );
    assert!(review.contains("the model wrote"), "{}", framed(&review));
    // The person rewrites it before it goes.
    tmux.send_keys(&["e", "C-u"]);
    tmux.type_text("Hello from a person");
    tmux.wait_for(
        "the edit",
        |s| s.contains("Edit the model's message") && s.contains("Hello from a person"),
        WAIT,
    );
    tmux.send_keys(&["Enter"]);
    let done = tmux.wait_for(
        "the notice that it was sent",
        |s| s.contains("asked the model to write a message: sent"),
        WAIT,
    );
    assert!(
        !done.contains("Send the model's message?"),
        "{}",
        framed(&done)
    );
    tmux.send_keys(&["C-c"]);
    tmux.wait_for_text("EXIT=");
    // The server logged what it got; its log notifications are in the app's log file.
    let logged = logged(&home);
    let line = logged
        .lines()
        .find(|l| l.contains("sampled: "))
        .unwrap_or_else(|| panic!("the server's log of the answer in {logged}"));
    assert!(line.contains("asks"), "{line}");
    assert!(line.contains("sampled: Hello from a person"), "{line}");
    let tail = home.command().args(["audit", "tail"]).output().unwrap();
    let tail = String::from_utf8_lossy(&tail.stdout);
    assert!(tail.contains("asks"), "{tail}");
}

/// Installs `tests/servers/NAME.cjs` as the enabled user plugin NAME (run by node on the
/// reference servers' SDK).
fn install_sdk_server(home: &Home, name: &str) {
    let dir = home
        .path()
        .join("config/libre-assistant/plugins")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/servers/{name}.cjs"));
    let modules = support::test_servers().join("../node/node_modules");
    let modules = modules.to_string_lossy();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "id = {name:?}\nname = {name:?}\ncommand = \"node\"\nargs = [{:?}, {modules:?}]\n\n[permissions]\nread = [{modules:?}]\n",
            script.to_string_lossy()
        ),
    )
    .unwrap();
    let enabled = home
        .command()
        .args(["plugins", "enable", name])
        .output()
        .unwrap();
    assert!(enabled.status.success(), "{enabled:?}");
}

/// Everything the app logged in `home`.
fn logged(home: &Home) -> String {
    let logs = home.path().join("state/libre-assistant/logs");
    std::fs::read_dir(&logs)
        .unwrap_or_else(|e| panic!("{}: {e}", logs.display()))
        .filter_map(|f| std::fs::read_to_string(f.ok()?.path()).ok())
        .collect()
}

/// A plugin's server asks for input as soon as it starts: the person fills the form it sent
/// (typing, Tab, Space), sends it, then declines the URL it asks them to visit; the server
/// logs both answers.
#[test]
fn a_plugin_form_is_filled_and_sent_and_its_url_declined() {
    let home = Home::new();
    install_sdk_server(&home, "elicits");
    let tmux = Tmux::start(&home, &Launch::new(120, 40));
    let form = tmux.wait_for(
        "the form",
        |s| s.contains("elicits asks for your input") && s.contains("Who are you?"),
        WAIT,
    );
    assert!(
        form.contains("Name*") && form.contains("[ ] no"),
        "{}",
        framed(&form)
    );
    tmux.send_keys(&["Enter"]);
    tmux.wait_for_text("Name is required");
    tmux.type_text("Ada");
    tmux.send_keys(&["Tab", "Space", "Enter"]);
    let url = tmux.wait_for(
        "the URL",
        |s| s.contains("goes to") && s.contains("login.example"),
        WAIT,
    );
    assert!(
        url.contains("https://login.example/device"),
        "{}",
        framed(&url)
    );
    tmux.send_keys(&["C-d"]);
    tmux.wait_for(
        "the dialog closed",
        |s| !s.contains("asks for your input"),
        WAIT,
    );
    // The server logs each answer as a notification, which reaches the log file.
    let mut log = String::new();
    for _ in 0..100 {
        log = logged(&home);
        if log.contains("url: decline") {
            break;
        }
        sleep(Duration::from_millis(100));
    }
    assert!(
        log.contains(r#"elicited: accept {"name":"Ada","agree":true}"#),
        "{log}"
    );
    assert!(log.contains("url: decline"), "{log}");
    tmux.send_keys(&["C-c"]);
    tmux.wait_for_text("EXIT=");
}

/// As a person does it: type `@`, pick a resource from the menu, ask about it (the resource's
/// text goes with the question); then run a plugin's prompt from `/`, and one whose arguments
/// are completed from the values the server offers.
#[test]
fn a_resource_is_attached_with_at_and_a_plugin_prompt_runs_from_slash() {
    let home = Home::new();
    let everything = support::test_servers().join("mcp-server-everything");
    let dir = home
        .path()
        .join("config/libre-assistant/plugins/everything");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "id = \"everything\"\nname = \"Everything\"\ncommand = {:?}\nargs = [\"stdio\"]\n",
            everything.to_string_lossy()
        ),
    )
    .unwrap();
    let enabled = home
        .command()
        .args(["plugins", "enable", "everything"])
        .output()
        .unwrap();
    assert!(enabled.status.success(), "{enabled:?}");
    let tmux = Tmux::start(&home, &Launch::new(120, 40));
    wait_ready(&tmux);
    tmux.wait_for(
        "the plugin running",
        |s| s.contains("running Everything"),
        WAIT,
    );
    tmux.type_text("Summarize @architect");
    let menu = tmux.wait_for(
        "the resource menu",
        |s| s.contains("@everything:demo://resource/static/document/architecture.md"),
        WAIT,
    );
    assert!(menu.contains("architecture.md"), "{}", framed(&menu));
    tmux.send_keys(&["Tab", "Enter"]);
    let sent = tmux.wait_for(
        "the attachment and an answer",
        |s| {
            s.contains("attached @everything:demo://resource/static/document/architecture.md")
                && answered(s)
        },
        WAIT,
    );
    assert!(sent.contains("characters)"), "{}", framed(&sent));
    tmux.type_text("/everything:args-prompt city=Paris");
    tmux.send_keys(&["Enter"]);
    let ran = tmux.wait_for(
        "the prompt's message sent",
        |s| {
            s.contains("ran /everything:args-prompt city=Paris")
                && s.contains("What's weather in Paris?")
                && answered(s)
        },
        WAIT,
    );
    assert!(!ran.contains("unknown command"), "{}", framed(&ran));
    // Argument completion: the server offers the values, the second narrowed by the first.
    tmux.type_text("/everything:completable-prompt department=E");
    tmux.wait_for(
        "the department offered",
        |s| s.contains("department=Engineering"),
        WAIT,
    );
    tmux.send_keys(&["Tab"]);
    tmux.type_text("name=");
    let names = tmux.wait_for(
        "Engineering's names offered",
        |s| s.contains("name=Alice") && s.contains("name=Charlie"),
        WAIT,
    );
    assert!(!names.contains("name=David"), "{}", framed(&names));
    tmux.type_text("B");
    tmux.send_keys(&["Tab", "Enter"]);
    tmux.wait_for(
        "the completed prompt's message sent",
        |s| s.contains("Please promote Bob to the head of the Engineering team."),
        WAIT,
    );
    tmux.send_keys(&["C-c"]);
    tmux.wait_for_text("EXIT=");
}
