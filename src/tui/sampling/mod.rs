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
        /// The user's edit of it while they edit (sent instead when they send).
        draft: Option<String>,
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
        }
    }

    /// Asks before the text goes back to `plugin`.
    pub fn review(id: u64, plugin: String, text: String) -> SamplingDialog {
        SamplingDialog {
            id,
            stage: Stage::Review {
                plugin,
                text,
                draft: None,
            },
            scroll: 0,
        }
    }

    /// Whether the user is editing what the model wrote.
    pub fn editing(&self) -> bool {
        matches!(&self.stage, Stage::Review { draft: Some(_), .. })
    }

    /// Starts editing what the model wrote (at review only); false at consent.
    pub fn edit(&mut self) -> bool {
        match &mut self.stage {
            Stage::Review { text, draft, .. } => {
                draft.get_or_insert_with(|| text.clone());
                true
            }
            Stage::Consent { .. } => false,
        }
    }

    /// Changes the draft being edited with `change`; nothing when not editing.
    pub fn change_draft(&mut self, change: impl FnOnce(&mut String)) {
        if let Stage::Review {
            draft: Some(draft), ..
        } = &mut self.stage
        {
            change(draft);
        }
    }

    /// Stops editing, dropping the edits.
    pub fn stop_editing(&mut self) {
        if let Stage::Review { draft, .. } = &mut self.stage {
            *draft = None;
        }
    }

    /// The edited text to send instead of the model's, if the user edited it.
    pub fn edited(&self) -> Option<String> {
        match &self.stage {
            Stage::Review {
                draft: Some(draft), ..
            } => Some(draft.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
