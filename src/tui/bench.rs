//! `bench-ui`: times frames of the real app over a synthetic transcript, with no model, no
//! config file and no network. A frame is what the event loop draws: [`App::draw_into`]
//! (layout of what changed, then the pure render) inside ratatui's `Terminal::draw`, so the
//! buffer diff and swap are counted too; only the bytes to a real terminal are left out
//! (a `TestBackend` stands in). The result is one JSON object.

use std::time::Instant;

use libre_assistant::config::Settings;
use libre_assistant::core::Event;
use libre_assistant::engine::{Finish, TurnStats};
use libre_assistant::models::{FetchOptions, Store};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use super::app::{App, Context};
use super::chat::{ChatView, Kind};
use super::models::ModelPane;
use super::plugins::PluginPane;
use super::state::State;
use super::theme::{self, ColorMode};

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Wrapped transcript lines to build, at least.
    pub lines: usize,
    /// Terminal columns.
    pub width: u16,
    /// Terminal rows.
    pub height: u16,
    /// Frames timed per scenario.
    pub frames: usize,
}

/// Runs the scenarios and returns their figures as one JSON object.
pub fn run(opts: Options) -> Result<serde_json::Value, String> {
    let frames = opts.frames.max(1);
    // A first pass finds how many exchanges make the transcript long enough (and loads the
    // syntax highlighter once, as any earlier frame of a real session would have).
    let exchanges = exchanges_for(opts)?;
    let mut app = new_app()?;
    for i in 0..exchanges {
        add_exchange(&mut app, i);
    }
    let mut term = terminal(opts)?;
    let first = time(|| draw(&mut app, &mut term))?;
    let lines = app.state.chat.total_lines();

    let idle = sample(frames, || draw(&mut app, &mut term))?;

    app.state
        .chat
        .push(Kind::User, "Go on, and show the code again.".to_string());
    app.on_core(Event::TurnStarted);
    // The answer is already long (a few screens) when the timed tokens arrive, as late in a
    // long real answer, so a cost that grows with the answer shows.
    let seed: Vec<String> = (0..4).map(|k| answer(exchanges + k)).collect();
    let seed = seed.join("\n\n") + "\n\n";
    let seed_bytes = seed.len();
    app.on_core(Event::TokenDelta { text: seed });
    draw(&mut app, &mut term)?;
    let pieces = tokens(&answer(exchanges + 4));
    let mut next = pieces.iter().cycle();
    let streaming = sample(frames, || {
        let text = next.next().cloned().unwrap_or_default();
        app.on_core(Event::TokenDelta { text });
        draw(&mut app, &mut term)
    })?;
    // Then a long code block streams: the worst case, as every token lands in an open block
    // that has to be highlighted.
    let (seed, code) = code_block(60);
    app.on_core(Event::TokenDelta { text: seed });
    draw(&mut app, &mut term)?;
    let code = tokens(&code);
    let mut next = code.iter().cycle();
    let streaming_code = sample(frames, || {
        let text = next.next().cloned().unwrap_or_default();
        app.on_core(Event::TokenDelta { text });
        draw(&mut app, &mut term)
    })?;
    app.on_core(Event::TurnComplete {
        finish: Finish::Stop,
        stats: stats(),
    });
    draw(&mut app, &mut term)?;

    let height = app.transcript_height();
    let total = app.state.chat.total_lines();
    app.state.chat.scroll_by(-((total / 2) as isize), height);
    let mut step: isize = -3;
    let scrolled = sample(frames, || {
        if app.state.chat.top(height) < 3 {
            step = 3;
        }
        app.state.chat.scroll_by(step, height);
        draw(&mut app, &mut term)
    })?;

    // A terminal being resized: every message is laid out again at each new width.
    app.state.chat.scroll_bottom();
    let mut narrow = false;
    let resized = sample(frames.min(10), || {
        narrow = !narrow;
        let width = opts.width - u16::from(narrow);
        term.backend_mut().resize(width, opts.height);
        draw(&mut app, &mut term)
    })?;

    Ok(serde_json::json!({
        "width": opts.width,
        "height": opts.height,
        "lines": lines,
        "messages": exchanges * 2,
        "frames": frames,
        "streaming_answer_bytes": seed_bytes,
        "first_frame_ms": round(first),
        "idle_frame_ms_median": median(&idle),
        "idle_frame_ms_p99": p99(&idle),
        "streaming_frame_ms_median": median(&streaming),
        "streaming_frame_ms_p99": p99(&streaming),
        "streaming_frame_ms_max": max(&streaming),
        "streaming_code_frame_ms_median": median(&streaming_code),
        "streaming_code_frame_ms_p99": p99(&streaming_code),
        "streaming_code_frame_ms_max": max(&streaming_code),
        "scrolled_frame_ms_median": median(&scrolled),
        "scrolled_frame_ms_p99": p99(&scrolled),
        "resized_frame_ms_median": median(&resized),
    }))
}

/// The number of exchanges whose wrapped transcript is at least `opts.lines` long.
fn exchanges_for(opts: Options) -> Result<usize, String> {
    let mut app = new_app()?;
    let mut term = terminal(opts)?;
    let mut n = 0;
    loop {
        // Ten at a time: the count only needs to be about right, and frames are not free.
        for _ in 0..10 {
            add_exchange(&mut app, n);
            n += 1;
        }
        draw(&mut app, &mut term)?;
        if app.state.chat.total_lines() >= opts.lines {
            return Ok(n);
        }
    }
}

/// An app in its resting state, with a model "loaded" so nothing asks for one.
fn new_app() -> Result<App, String> {
    // Never created: the bench reads no themes and touches no models.
    let dir = std::env::temp_dir().join(format!("libre-assistant-bench-{}", std::process::id()));
    let settings = Settings::default();
    let themes_dir = dir.join("themes");
    let loaded = theme::load(&settings.ui.theme, &themes_dir, ColorMode::TrueColor);
    if let Some(w) = loaded.warnings.first() {
        return Err(w.clone());
    }
    let state = State::new(
        loaded.theme,
        ChatView::default(),
        ModelPane::new(Vec::new()),
        PluginPane::new(Vec::new(), "~/.config/libre-assistant/plugins"),
    );
    let ctx = Context {
        settings,
        store: Store::new(dir.join("models")),
        fetch: FetchOptions::default(),
        themes_dir,
        color_mode: ColorMode::TrueColor,
        remote_consent: dir.join("remote-consent"),
    };
    let (ops, _) = mpsc::unbounded_channel();
    let (tasks, _) = mpsc::unbounded_channel();
    Ok(App::new(state, ctx, ops, tasks))
}

fn terminal(opts: Options) -> Result<Terminal<TestBackend>, String> {
    Terminal::new(TestBackend::new(opts.width, opts.height)).map_err(|e| e.to_string())
}

/// One frame, as the event loop draws it.
fn draw(app: &mut App, term: &mut Terminal<TestBackend>) -> Result<(), String> {
    term.draw(|f| {
        let area = f.area();
        if let Some(pos) = app.draw_into(area, f.buffer_mut()) {
            f.set_cursor_position(pos);
        }
    })
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// A user question and a finished answer, through the core events the app handles.
fn add_exchange(app: &mut App, i: usize) {
    app.state.chat.push(Kind::User, question(i));
    app.on_core(Event::TurnStarted);
    app.on_core(Event::TokenDelta { text: answer(i) });
    app.on_core(Event::TurnComplete {
        finish: Finish::Stop,
        stats: stats(),
    });
}

fn stats() -> TurnStats {
    TurnStats {
        prompt_tokens: 812,
        generated_tokens: 348,
        tokens_per_second: 41.7,
        ..TurnStats::default()
    }
}

fn question(i: usize) -> String {
    match i % 3 {
        0 => format!("How do I read a file line by line in Rust and count the words (#{i})?"),
        1 => format!(
            "I have a Python script that parses a large CSV export from our billing system, \
             groups the rows by customer and month, and writes a summary; it takes minutes on a \
             file of a few hundred megabytes. What would you change first, and why? (#{i})"
        ),
        _ => format!("Explain the difference between a process and a thread. #{i}"),
    }
}

/// A realistic answer: a heading, paragraphs with long wrapping lines, lists, a fenced code
/// block that gets highlighted, inline code and emphasis.
fn answer(i: usize) -> String {
    let mut text = format!(
        "## Answer {i}\n\n\
         Reading a file line by line is best done with a **buffered reader**: it reads large \
         chunks from the operating system and hands you one line at a time, so memory stays \
         flat however big the file is, and the number of system calls stays small. Each line \
         comes back as a `Result<String>`, because the bytes may not be valid UTF-8 or the \
         read may fail halfway through.\n\n\
         The steps:\n\n\
         1. Open the file with `File::open`, which fails if it does not exist.\n\
         2. Wrap it in a `BufReader` so reads are batched.\n\
         3. Iterate over `.lines()` and split each line on whitespace.\n\
         4. Add up the counts, and report errors with the path and the line number so the \
            user knows where to look.\n\n"
    );
    if i.is_multiple_of(2) {
        text.push_str(
            "```rust\n\
             use std::fs::File;\n\
             use std::io::{self, BufRead, BufReader};\n\
             \n\
             fn count_words(path: &str) -> io::Result<usize> {\n\
             \x20   let reader = BufReader::new(File::open(path)?);\n\
             \x20   let mut words = 0;\n\
             \x20   for line in reader.lines() {\n\
             \x20       words += line?.split_whitespace().count();\n\
             \x20   }\n\
             \x20   Ok(words)\n\
             }\n\
             ```\n\n",
        );
    } else {
        text.push_str(
            "```python\n\
             import csv\n\
             from collections import defaultdict\n\
             \n\
             def summarise(path):\n\
             \x20   totals = defaultdict(float)\n\
             \x20   with open(path, newline=\"\") as f:\n\
             \x20       for row in csv.DictReader(f):\n\
             \x20           totals[(row[\"customer\"], row[\"date\"][:7])] += float(row[\"amount\"])\n\
             \x20   return totals\n\
             ```\n\n",
        );
    }
    text.push_str(
        "A few things to keep in mind:\n\n\
         - *Encoding*: files that are not UTF-8 make `lines()` fail; read bytes with \
           `read_until` if you must accept anything.\n\
         - *Very long lines*: a single line of gigabytes is read whole; cap it if the input is \
           untrusted.\n\
         - *Speed*: the buffered reader is usually fast enough; measure before reaching for \
           memory maps.\n\n\
         That is all there is to it: open, buffer, iterate, and handle the errors where they \
         happen rather than unwrapping them, so a bad file gives a clear message instead of a \
         panic.",
    );
    text
}

/// The start of a fenced Rust block `lines` lines long, and more lines to stream into it.
fn code_block(lines: usize) -> (String, String) {
    let line =
        |k: usize| format!("    let value_{k} = compute(&input[{k}..], {k} * 3)?; // step {k}\n");
    let mut seed = String::from("\n\n```rust\nfn run(input: &[u8]) -> Result<u64, Error> {\n");
    seed.extend((0..lines).map(line));
    let more = (lines..lines + 200).map(line).collect();
    (seed, more)
}

/// `text` cut into token-sized pieces ("word ", "\n\n", "```rust\n"), as a model streams it.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if c == ' ' || c == '\n' {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Runs `f` and returns how long it took, in milliseconds.
fn time(f: impl FnOnce() -> Result<(), String>) -> Result<f64, String> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64() * 1000.0)
}

/// `n` timings of `f` in milliseconds, sorted.
fn sample(n: usize, mut f: impl FnMut() -> Result<(), String>) -> Result<Vec<f64>, String> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(time(&mut f)?);
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

fn median(sorted: &[f64]) -> f64 {
    round(sorted[sorted.len() / 2])
}

fn p99(sorted: &[f64]) -> f64 {
    let i = (sorted.len() * 99).div_ceil(100).saturating_sub(1);
    round(sorted[i.min(sorted.len() - 1)])
}

fn max(sorted: &[f64]) -> f64 {
    round(sorted[sorted.len() - 1])
}

/// Milliseconds to the microsecond.
fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bench builds at least the lines asked for and reports every figure.
    #[test]
    fn reports_every_figure() {
        let opts = Options {
            lines: 300,
            width: 100,
            height: 30,
            frames: 3,
        };
        let v = run(opts).unwrap();
        assert!(v["lines"].as_u64().unwrap() >= 300);
        for key in [
            "first_frame_ms",
            "idle_frame_ms_median",
            "idle_frame_ms_p99",
            "streaming_frame_ms_median",
            "streaming_frame_ms_p99",
            "scrolled_frame_ms_median",
        ] {
            assert!(v[key].as_f64().is_some(), "{key}");
        }
    }
}
