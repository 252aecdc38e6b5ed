//! The sampling dialog: a plugin asks the local model to write a message for it. The user sees
//! who asks and everything the model will read before it writes (generate or reject), then
//! what it wrote before it goes back (send or reject). The core runs one request at a time,
//! so one dialog shows at most.
//!
//! Invariant: the dialog closes when its stage is answered, and for good when the core says
//! the request is done (`Event::SamplingDone`).

mod render;

use libre_assistant::plugins::host::SamplingRequest;

pub use render::{max_scroll, render};

/// Which question the dialog asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// Let the model write an answer to this request?
    Consent {
        /// The request.
        request: SamplingRequest,
        /// The most tokens the answer may take.
        max_tokens: u32,
    },
    /// Send what the model wrote?
    Review {
        /// The plugin that asked.
        plugin: String,
        /// What the model wrote (untrusted).
        text: String,
    },
}

/// The open dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingDialog {
    /// The request's id, for the answer.
    pub id: u64,
    /// The question.
    pub stage: Stage,
    /// How far its text is scrolled, in lines.
    pub scroll: u16,
    /// While the user edits: their text, sent in place of the request's last message
    /// (consent) or of what the model wrote (review).
    pub draft: Option<String>,
}

impl SamplingDialog {
    /// Asks before the model writes.
    pub fn consent(request: SamplingRequest, max_tokens: u32) -> SamplingDialog {
        SamplingDialog {
            id: request.id,
            stage: Stage::Consent {
                request,
                max_tokens,
            },
            scroll: 0,
            draft: None,
        }
    }

    /// Asks before the text goes back to `plugin`.
    pub fn review(id: u64, plugin: String, text: String) -> SamplingDialog {
        SamplingDialog {
            id,
            stage: Stage::Review { plugin, text },
            scroll: 0,
            draft: None,
        }
    }

    /// Whether the user is editing.
    pub fn editing(&self) -> bool {
        self.draft.is_some()
    }

    /// Starts editing: the request's last message before the model writes, what it wrote
    /// after. False when there is nothing to edit.
    pub fn edit(&mut self) -> bool {
        let text = match &self.stage {
            Stage::Consent { request, .. } => match request.messages.last() {
                Some((_, text)) => text.clone(),
                None => return false,
            },
            Stage::Review { text, .. } => text.clone(),
        };
        self.draft.get_or_insert(text);
        true
    }

    /// Changes the draft with `change`; nothing when not editing.
    pub fn change_draft(&mut self, change: impl FnOnce(&mut String)) {
        if let Some(draft) = &mut self.draft {
            change(draft);
        }
    }

    /// Stops editing, dropping the edit.
    pub fn stop_editing(&mut self) {
        self.draft = None;
    }

    /// The edited text, if the user edited.
    pub fn edited(&self) -> Option<String> {
        self.draft.clone()
    }
}

#[cfg(test)]
mod tests;
