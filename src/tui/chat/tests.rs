//! The chat view's layout cache: what it keeps must always equal a layout from scratch, after
//! a width or theme change, a replaced answer, a cleared conversation and a growing stream.

use std::collections::HashMap;

use ratatui::style::{Color, Style};

use super::stream::last_block_boundary;
use super::*;

fn theme() -> Theme {
    Theme::from_roles("t", "base16-ocean.dark", HashMap::new())
}

/// A theme that looks different from [`theme`] wherever the transcript has a role.
fn other_theme() -> Theme {
    let roles = [
        ("chat", Color::Red),
        ("markdown", Color::Green),
        ("text", Color::Blue),
    ]
    .into_iter()
    .map(|(role, c)| (role.to_string(), Style::new().fg(c)))
    .collect();
    Theme::from_roles("other", "InspiredGitHub", roles)
}

const ANSWER: &str = "# Title\n\nA paragraph with **bold** and a line long enough to wrap at thirty columns.\n\n```rust\nfn a() {}\n\nfn b() {}\n```\n\n- one\n- two\n\n> a quote\r\n\r\nThe\tend.";

/// Every line of the view as it is laid out now.
fn shown(view: &ChatView) -> Vec<Line<'static>> {
    view.lines(0, usize::MAX).cloned().collect()
}

/// The lines of a new view with the same messages, laid out once.
fn from_scratch(view: &ChatView, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let mut fresh = ChatView::default();
    for e in &view.entries {
        let mut copy = Entry::new(e.kind, e.text.clone());
        copy.outcome = e.outcome.clone();
        copy.streaming = e.streaming;
        copy.queued = e.queued;
        copy.call = e.call;
        copy.result = e.result.clone();
        fresh.entries.push(copy);
    }
    fresh.layout(width, theme);
    assert_eq!(fresh.total_lines(), shown(&fresh).len());
    shown(&fresh)
}

/// The cache holds exactly what a layout from scratch gives, and counts it right.
fn assert_fresh(view: &ChatView, width: u16, theme: &Theme) {
    let lines = shown(view);
    assert_eq!(lines, from_scratch(view, width, theme));
    assert_eq!(view.total_lines(), lines.len());
}

/// A conversation of two exchanges, the last answer finished.
fn conversation() -> ChatView {
    let mut view = ChatView::default();
    view.push(
        Kind::User,
        "a question long enough to wrap when the pane is narrow",
    );
    view.begin_answer();
    view.append(ANSWER);
    view.finish(Finish::Stop, TurnStats::default());
    view.push(Kind::Notice, "theme changed");
    view.push(Kind::User, "and another one");
    view.begin_answer();
    view.append("Short **answer**.");
    view.finish(Finish::Cancelled, TurnStats::default());
    view
}

#[test]
fn block_boundaries_skip_fenced_code() {
    assert_eq!(last_block_boundary("no boundary yet"), 0);
    assert_eq!(last_block_boundary("one\n\ntwo"), 5);
    assert_eq!(last_block_boundary("one\n\n```\ncode\n\nmore code"), 5);
    assert_eq!(last_block_boundary("one\n\n```\ncode\n\n```\n\nafter"), 20);
    assert_eq!(last_block_boundary("~~~\n```\n\n~~~\n\nx"), 14);
}

/// Streaming renders what a finished answer renders, token by token, at any width.
#[test]
fn streaming_layout_matches_the_finished_layout() {
    let theme = theme();
    let answer = "# Title\n\nA paragraph with **bold**.\n\n```rust\nfn a() {}\n\nfn b() {}\n```\n\n> a quote\n\nThe end.";
    for width in [80, 30] {
        let mut view = ChatView::default();
        view.begin_answer();
        for c in answer.chars() {
            view.append(&c.to_string());
            view.layout(width, &theme);
        }
        let streamed = shown(&view);
        view.finish(Finish::Stop, TurnStats::default());
        view.layout(width, &theme);
        let done = shown(&view);
        // The streaming view ends with its cursor; the finished one with its figures.
        assert_eq!(streamed[..streamed.len() - 1], done[..done.len() - 1]);
    }
}

#[test]
fn a_width_change_lays_everything_out_again() {
    let theme = theme();
    let mut view = conversation();
    view.layout(80, &theme);
    let wide = shown(&view);
    view.layout(30, &theme);
    assert_fresh(&view, 30, &theme);
    assert_ne!(shown(&view), wide);
}

#[test]
fn a_theme_change_lays_everything_out_again() {
    let (first, second) = (theme(), other_theme());
    let mut view = conversation();
    view.layout(80, &first);
    let before = shown(&view);
    view.layout(80, &second);
    assert_fresh(&view, 80, &second);
    assert_ne!(shown(&view), before);
}

/// A regenerated answer (same length, other words) replaces the old lines.
#[test]
fn a_replaced_answer_is_laid_out_again() {
    let theme = theme();
    let mut view = conversation();
    view.layout(80, &theme);
    view.pop_last(Kind::Assistant);
    view.begin_answer();
    view.append("Other **answer**.");
    view.layout(80, &theme);
    assert_fresh(&view, 80, &theme);
    view.finish(Finish::Stop, TurnStats::default());
    view.layout(80, &theme);
    assert_fresh(&view, 80, &theme);
    assert!(shown(&view).iter().any(|l| l.to_string().contains("Other")));
}

/// A retracted exchange (answer and question gone, nothing added) leaves no lines behind.
#[test]
fn a_retracted_exchange_leaves_no_lines() {
    let theme = theme();
    let mut view = conversation();
    view.layout(80, &theme);
    view.pop_last(Kind::Assistant);
    view.pop_last(Kind::User);
    view.layout(80, &theme);
    assert_fresh(&view, 80, &theme);
}

/// Removing the first message makes the next one first: no blank line above it.
#[test]
fn a_new_first_message_loses_its_separator() {
    let theme = theme();
    let mut view = ChatView::default();
    view.begin_answer();
    view.push(Kind::User, "question");
    view.layout(80, &theme);
    view.close_streaming();
    view.layout(80, &theme);
    assert_fresh(&view, 80, &theme);
    assert_eq!(shown(&view)[0].to_string(), "› You");
}

#[test]
fn a_cleared_conversation_shows_nothing_then_only_the_new_messages() {
    let theme = theme();
    let mut view = conversation();
    view.layout(80, &theme);
    view.clear();
    view.layout(80, &theme);
    assert_eq!(view.total_lines(), 0);
    assert!(shown(&view).is_empty());
    view.push(Kind::User, "fresh start");
    view.layout(80, &theme);
    assert_fresh(&view, 80, &theme);
}

/// Token by token (some cut inside "\r\n" or a fence), the streaming answer's cached head
/// and fresh tail equal a layout of the whole text from scratch.
#[test]
fn a_growing_stream_matches_a_layout_from_scratch() {
    let theme = theme();
    let tricky = "1. one\n\n2. two\n\n   more for two\n\nAfter [x].\n\n    indented\n\n    code\n\n<!--\n\nhidden\n-->\n\n[x]: http://example.com\n\nEnd.";
    let texts = [format!("{ANSWER}\n\n{ANSWER}"), tricky.to_string()];
    for (width, text) in [80, 30]
        .into_iter()
        .flat_map(|w| texts.iter().map(move |t| (w, t)))
    {
        let mut view = conversation();
        view.push(Kind::User, "go on");
        view.begin_answer();
        let mut rest = text.as_str();
        let mut n = 1;
        while !rest.is_empty() {
            let cut = rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
            view.append(&rest[..cut]);
            rest = &rest[cut..];
            n = n % 7 + 1;
            view.layout(width, &theme);
            assert_fresh(&view, width, &theme);
        }
    }
}

/// A token marks only the streaming answer for layout; finished messages keep their lines.
#[test]
fn a_token_touches_only_the_streaming_answer() {
    let theme = theme();
    let mut view = conversation();
    view.begin_answer();
    view.append("first");
    view.layout(80, &theme);
    view.append(" second");
    let last = view.entries.len() - 1;
    assert_eq!(view.stale, last);
    assert!(view.entries[..last].iter().all(|e| !e.dirty));
    assert!(view.entries[last].dirty);
}

/// A window found by binary search is the same as a walk over every line.
#[test]
fn a_window_of_lines_equals_a_walk() {
    let theme = theme();
    let mut view = conversation();
    view.layout(30, &theme);
    let all: Vec<Line> = view.entries.iter().flat_map(|e| e.lines.clone()).collect();
    assert_eq!(view.total_lines(), all.len());
    for top in 0..=all.len() {
        for count in [0, 1, 5, 100] {
            let window: Vec<Line> = view.lines(top, count).cloned().collect();
            let end = (top + count).min(all.len());
            assert_eq!(window, all[top..end], "top {top}, count {count}");
        }
    }
}

#[test]
fn the_figures_line_counts_drafts_only_when_there_were_any() {
    let text = |stats: &TurnStats| -> String {
        meta(Finish::Stop, stats, 80, &theme())
            .iter()
            .map(|l| l.to_string())
            .collect()
    };
    let plain = TurnStats {
        generated_tokens: 42,
        tokens_per_second: 118.25,
        prompt_tokens: 30,
        ..TurnStats::default()
    };
    assert_eq!(text(&plain), "42 tokens · 118.2 t/s · prompt 30");
    let drafted = TurnStats {
        draft_tokens: 74,
        draft_accepted: 61,
        ..plain
    };
    assert_eq!(
        text(&drafted),
        "42 tokens · 118.2 t/s · prompt 30 · drafted 74, 61 kept"
    );
}
