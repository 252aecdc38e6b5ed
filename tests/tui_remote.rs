//! The interactive app with its model on a server, driven in tmux as a person would: the
//! config points at a `llama-server` on a loopback port (`scripts/test-llama`), a question is
//! answered with the status bar saying where the model runs, and a stream the server cuts off
//! leaves the partial answer, one error line, and an app that goes on working.

mod support;

use support::Home;
use support::openai::{Reply, Server, text_chunk};
use support::tmux::{Launch, Tmux, WAIT, framed};

fn home_using(url: &str) -> Home {
    let home = Home::new();
    home.write_config(&format!(
        "model = \"box/m\"\n[backends.box]\nurl = \"{url}\"\n"
    ));
    home
}

fn status(screen: &str) -> &str {
    screen.lines().last().unwrap_or("")
}

#[test]
fn a_question_streams_from_llama_server_with_its_host_in_the_status_bar() {
    let server = support::llama::server(support::smollm(), "m", 2048);
    let url = format!("http://127.0.0.1:{}/v1", server.port);
    let home = home_using(&url);
    let tmux = Tmux::start(&home, &Launch::new(100, 24).without_model());
    let screen = tmux.wait_for(
        "the remote model ready",
        |s| status(s).starts_with(" idle │") && s.contains("Ask anything"),
        WAIT,
    );
    let host = format!("remote 127.0.0.1:{}", server.port);
    assert!(
        status(&screen).contains(&format!("│ box/m │ {host} │")),
        "{}",
        framed(&screen)
    );
    tmux.ask("What is the capital of France?");
    let screen = tmux.wait_for(
        "the answer with its figures",
        |s| s.contains(" t/s · prompt ") && status(s).starts_with(" idle │"),
        WAIT,
    );
    assert!(screen.contains("Paris"), "{}", framed(&screen));
    let written = support::llama::metric(server.port, "llamacpp:tokens_predicted_total");
    assert!(
        written.is_some_and(|n| n > 0.0),
        "the server wrote the answer: {written:?}"
    );
}

#[test]
fn a_stream_cut_off_keeps_the_partial_answer_and_the_app_goes_on() {
    let server = Server::start(Reply::Stream(vec![
        text_chunk("The partial "),
        text_chunk("answer so far"),
    ]));
    let home = home_using(&server.url());
    let tmux = Tmux::start(&home, &Launch::new(100, 24).without_model());
    tmux.wait_for(
        "the remote model ready",
        |s| status(s).starts_with(" idle │") && s.contains("Ask anything"),
        WAIT,
    );
    tmux.ask("Hello?");
    let screen = tmux.wait_for_text("cut the answer off mid-stream");
    assert!(
        screen.contains("The partial answer so far"),
        "{}",
        framed(&screen)
    );
    assert!(
        screen.contains("broke off"),
        "the answer is marked: {}",
        framed(&screen)
    );
    let screen = tmux.wait_for("idle again", |s| status(s).starts_with(" idle │"), WAIT);
    // The app still takes questions.
    tmux.ask("Again?");
    tmux.wait_for(
        "the second question answered as far as the server goes",
        |s| s.matches("The partial answer so far").count() == 2,
        WAIT,
    );
    assert!(!screen.contains("EXIT="), "{}", framed(&screen));
}
