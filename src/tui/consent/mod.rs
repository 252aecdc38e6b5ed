//! The consent dialog's state: tool calls the model made that no rule allows, waiting for the
//! user's answer, oldest first. Only the first is shown; the app answers it with
//! `Op::Consent` and the next one shows.
//!
//! Invariant: a request leaves the queue exactly once, when it is answered (or when its turn
//! ends and the core no longer waits for it).

mod render;

use std::collections::VecDeque;

use libre_assistant::core::CallRequest;

pub use render::{max_scroll, render};

/// Requests waiting for the user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsentQueue {
    pending: VecDeque<CallRequest>,
    /// How far the arguments of the request on screen are scrolled, in lines.
    pub scroll: u16,
}

impl ConsentQueue {
    /// Adds a request; it shows once those before it are answered.
    pub fn push(&mut self, request: CallRequest) {
        self.pending.push_back(request);
    }

    /// The request on screen.
    pub fn current(&self) -> Option<&CallRequest> {
        self.pending.front()
    }

    /// Takes the request on screen off the queue (it has been answered).
    pub fn take(&mut self) -> Option<CallRequest> {
        self.scroll = 0;
        self.pending.pop_front()
    }

    /// Whether the dialog is open.
    pub fn is_open(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Requests behind the one on screen.
    pub fn waiting(&self) -> usize {
        self.pending.len().saturating_sub(1)
    }

    /// Forgets every request (their turn ended).
    pub fn clear(&mut self) {
        self.scroll = 0;
        self.pending.clear();
    }
}

#[cfg(test)]
pub(crate) mod tests;
