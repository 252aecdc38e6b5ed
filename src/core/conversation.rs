//! The transcript: every message of the conversation, and which of them the model still sees.
//!
//! Nothing is ever deleted from the transcript. When the context overflows, the engine leaves
//! the oldest turns out of the prompt and the window start moves past them.

use crate::engine::{ChatMessage, Role};

/// The conversation the core owns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conversation {
    system: Option<ChatMessage>,
    messages: Vec<ChatMessage>,
    /// Index into `messages` of the oldest message the model still sees.
    window_start: usize,
}

impl Conversation {
    /// An empty conversation with an optional system prompt (empty means none).
    pub fn new(system_prompt: &str) -> Self {
        let system = (!system_prompt.trim().is_empty())
            .then(|| ChatMessage::new(Role::System, system_prompt));
        Conversation {
            system,
            messages: Vec::new(),
            window_start: 0,
        }
    }

    /// Every message, oldest first, without the system prompt.
    pub fn messages(&self) -> &[ChatMessage] {
        &self.messages
    }

    /// Appends a message.
    pub fn push(&mut self, message: ChatMessage) {
        self.messages.push(message);
    }

    /// Removes and returns the last message if it is from the user (a turn that failed).
    pub fn take_unanswered(&mut self) -> Option<ChatMessage> {
        if self.messages.last().is_some_and(|m| m.role == Role::User) {
            self.messages.pop()
        } else {
            None
        }
    }

    /// What the model is shown: the system prompt, then the window.
    pub fn prompt(&self) -> Vec<ChatMessage> {
        let mut out = Vec::with_capacity(self.messages.len() - self.window_start + 1);
        out.extend(self.system.iter().cloned());
        out.extend_from_slice(&self.messages[self.window_start..]);
        out
    }

    /// Records that the engine left `dropped` more of the oldest windowed messages out.
    pub fn drop_oldest(&mut self, dropped: usize) {
        self.window_start = (self.window_start + dropped).min(self.messages.len());
    }

    /// How many messages the model no longer sees.
    pub fn dropped(&self) -> usize {
        self.window_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_keeps_the_system_message_and_the_window() {
        let mut c = Conversation::new("be brief");
        for (role, text) in [(Role::User, "a"), (Role::Assistant, "b"), (Role::User, "c")] {
            c.push(ChatMessage::new(role, text));
        }
        c.drop_oldest(2);
        assert_eq!(
            c.prompt(),
            vec![
                ChatMessage::new(Role::System, "be brief"),
                ChatMessage::new(Role::User, "c")
            ]
        );
        assert_eq!(
            c.messages().len(),
            3,
            "dropped messages stay in the transcript"
        );
        assert_eq!(c.dropped(), 2);
    }

    #[test]
    fn an_empty_system_prompt_is_left_out() {
        let mut c = Conversation::new("  ");
        c.push(ChatMessage::new(Role::User, "hi"));
        assert_eq!(c.prompt(), vec![ChatMessage::new(Role::User, "hi")]);
    }

    #[test]
    fn only_an_unanswered_user_message_is_taken_back() {
        let mut c = Conversation::new("");
        c.push(ChatMessage::new(Role::User, "q"));
        assert_eq!(c.take_unanswered(), Some(ChatMessage::new(Role::User, "q")));
        c.push(ChatMessage::new(Role::Assistant, "a"));
        assert_eq!(c.take_unanswered(), None);
    }
}
