//! The elicitation dialog: a plugin asks the user for input, as a form generated from the
//! schema it sent, or as a URL to visit. The form is edited here and checked
//! (`plugins::form`) before it is sent; what fails shows under the form, naming the field.
//!
//! Invariants: one request shows at a time, oldest first; each leaves the queue exactly once,
//! answered accept, decline or cancel. A URL is shown with its host and never opened without
//! a key press.

pub(crate) mod render;

use std::collections::VecDeque;

use libre_assistant::plugins::form::{Filled, Kind};
use libre_assistant::plugins::host::{Elicit, ElicitAnswer, ElicitationRequest};

pub use render::render;

/// Requests for input waiting for the user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormQueue {
    pending: VecDeque<FormDialog>,
}

/// One request on screen, with the user's edits.
#[derive(Debug, Clone, PartialEq)]
pub struct FormDialog {
    /// The request (its form holds what the user typed so far).
    pub request: ElicitationRequest,
    /// The field with the cursor.
    pub focus: usize,
    /// In a multi-select field: the option with the cursor.
    pub option: usize,
    /// Why the last submit was refused, naming the field.
    pub error: Option<String>,
}

impl FormQueue {
    /// Adds a request; it shows once those before it are answered.
    pub fn push(&mut self, request: ElicitationRequest) {
        self.pending.push_back(FormDialog {
            request,
            focus: 0,
            option: 0,
            error: None,
        });
    }

    /// The request on screen.
    pub fn current(&self) -> Option<&FormDialog> {
        self.pending.front()
    }

    /// Whether the dialog is open.
    pub fn is_open(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Moves the cursor to the next (or previous) field.
    pub fn move_focus(&mut self, next: bool) {
        let Some(d) = self.pending.front_mut() else {
            return;
        };
        let Elicit::Form(form) = &d.request.kind else {
            return;
        };
        let n = form.fields.len();
        if n > 0 {
            d.focus = if next {
                (d.focus + 1) % n
            } else {
                (d.focus + n - 1) % n
            };
            d.option = 0;
        }
    }

    /// Left/Right: another option in a single-select field, the option cursor in a
    /// multi-select one, yes/no in a boolean.
    pub fn choose(&mut self, next: bool) {
        let Some((field, option)) = self.focused() else {
            return;
        };
        match (&field.kind, &mut field.value) {
            (Kind::Choice(options), Filled::Choice(chosen)) if !options.is_empty() => {
                let n = options.len();
                *chosen = Some(match (*chosen, next) {
                    (None, _) => 0,
                    (Some(i), true) => (i + 1) % n,
                    (Some(i), false) => (i + n - 1) % n,
                });
            }
            (Kind::Multi { options, .. }, _) if !options.is_empty() => {
                let n = options.len();
                *option = if next {
                    (*option + 1) % n
                } else {
                    (*option + n - 1) % n
                };
            }
            (Kind::Bool, Filled::Bool(b)) => *b = !*b,
            _ => {}
        }
    }

    /// Space: toggles a boolean or the multi-select option under the cursor; else types it.
    pub fn toggle(&mut self) {
        let Some((field, option)) = self.focused() else {
            return;
        };
        match &mut field.value {
            Filled::Bool(b) => *b = !*b,
            Filled::Multi(picked) => {
                if let Some(p) = picked.get_mut(*option) {
                    *p = !*p;
                }
            }
            Filled::Text(text) => text.push(' '),
            Filled::Choice(_) => {}
        }
    }

    /// Types `c` into the focused text or number field.
    pub fn type_char(&mut self, c: char) {
        if let Some((field, _)) = self.focused()
            && let Filled::Text(text) = &mut field.value
        {
            text.push(c);
        }
    }

    /// Deletes the last character of the focused text or number field.
    pub fn backspace(&mut self) {
        if let Some((field, _)) = self.focused()
            && let Filled::Text(text) = &mut field.value
        {
            text.pop();
        }
    }

    /// Enter: the form's content if it checks out (the request leaves the queue), else the
    /// error shows and the cursor goes to the field. A URL is accepted as it is.
    pub fn submit(&mut self) -> Option<(u64, ElicitAnswer)> {
        let d = self.pending.front_mut()?;
        let answer = match &d.request.kind {
            Elicit::Url { .. } => ElicitAnswer::Accept(None),
            Elicit::Form(form) => match form.content() {
                Ok(content) => ElicitAnswer::Accept(Some(content)),
                Err((field, why)) => {
                    d.focus = field;
                    d.error = Some(why);
                    return None;
                }
            },
        };
        self.take(answer)
    }

    /// Answers the request on screen with `answer` (decline, cancel) and takes it off.
    pub fn take(&mut self, answer: ElicitAnswer) -> Option<(u64, ElicitAnswer)> {
        self.pending.pop_front().map(|d| (d.request.id, answer))
    }

    fn focused(&mut self) -> Option<(&mut libre_assistant::plugins::form::Field, &mut usize)> {
        let d = self.pending.front_mut()?;
        d.error = None;
        let Elicit::Form(form) = &mut d.request.kind else {
            return None;
        };
        let field = form.fields.get_mut(d.focus)?;
        Some((field, &mut d.option))
    }
}

#[cfg(test)]
mod tests;
