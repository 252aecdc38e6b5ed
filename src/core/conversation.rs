//! The transcript: every message of the conversation, and which of them the model still sees.
//!
//! The context overflowing deletes nothing: the engine leaves the oldest turns out of the
//! prompt and the window start moves past them. Only the user removes messages (taking back
//! the last exchange, or an answer to regenerate); the window start never points past the end.

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
        Conversation::from_parts(system_prompt, Vec::new())
    }

    /// A conversation with these messages (a resumed one); the model sees all of them until
    /// the engine reports they no longer fit.
    pub fn from_parts(system_prompt: &str, messages: Vec<ChatMessage>) -> Self {
        Conversation {
            system: system_message(system_prompt),
            messages,
            window_start: 0,
        }
    }

    /// The system prompt; empty when there is none.
    pub fn system_prompt(&self) -> &str {
        self.system.as_ref().map_or("", |m| m.content.as_str())
    }

    /// Replaces the system prompt for later turns (empty means none).
    pub fn set_system_prompt(&mut self, system_prompt: &str) {
        self.system = system_message(system_prompt);
    }

    /// Whether there are no messages (the system prompt aside).
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Every message, oldest first, without the system prompt.
    pub fn messages(&self) -> &[ChatMessage] {
        &self.messages
    }

    /// Appends a message.
    pub fn push(&mut self, message: ChatMessage) {
        self.messages.push(message);
    }

    /// Removes the last message if it is the assistant's (an answer whose calls were all
    /// dropped as repeats).
    pub fn drop_last_answer(&mut self) {
        if self
            .messages
            .last()
            .is_some_and(|m| m.role == Role::Assistant)
        {
            self.messages.pop();
        }
        self.clamp_window();
    }

    /// Removes and returns the last message if it is from the user (a turn that failed).
    pub fn take_unanswered(&mut self) -> Option<ChatMessage> {
        let unanswered = self.messages.last().is_some_and(|m| m.role == Role::User);
        let message = if unanswered {
            self.messages.pop()
        } else {
            None
        };
        self.clamp_window();
        message
    }

    /// Removes the answer to the last user message (to regenerate it): everything after that
    /// message, tool rounds included. Returns the last message removed, or None when the last
    /// message is the user's (nothing answered it yet).
    pub fn pop_answer(&mut self) -> Option<ChatMessage> {
        let at = self.messages.iter().rposition(|m| m.role == Role::User)?;
        let answer = self.messages.drain(at + 1..).next_back();
        self.clamp_window();
        answer
    }

    /// Removes the last user message and everything after it (its answer); returns its text.
    pub fn retract_last(&mut self) -> Option<String> {
        let at = self.messages.iter().rposition(|m| m.role == Role::User)?;
        let text = self.messages.drain(at..).next().map(|m| m.content);
        self.clamp_window();
        text
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

    fn clamp_window(&mut self) {
        self.window_start = self.window_start.min(self.messages.len());
    }
}

fn system_message(text: &str) -> Option<ChatMessage> {
    (!text.trim().is_empty()).then(|| ChatMessage::new(Role::System, text))
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

    fn transcript(texts: &[(Role, &str)]) -> Conversation {
        let messages = texts.iter().map(|&(r, t)| ChatMessage::new(r, t)).collect();
        Conversation::from_parts("sys", messages)
    }

    #[test]
    fn from_parts_keeps_the_system_prompt_and_messages() {
        let c = transcript(&[(Role::User, "q"), (Role::Assistant, "a")]);
        assert_eq!(c.system_prompt(), "sys");
        assert_eq!(
            c.prompt(),
            vec![
                ChatMessage::new(Role::System, "sys"),
                ChatMessage::new(Role::User, "q"),
                ChatMessage::new(Role::Assistant, "a"),
            ]
        );
    }

    #[test]
    fn setting_the_system_prompt_replaces_or_removes_it() {
        let mut c = Conversation::new("old");
        c.set_system_prompt("new");
        assert_eq!(c, Conversation::new("new"));
        c.set_system_prompt("");
        assert_eq!(c.system_prompt(), "");
        assert_eq!(c, Conversation::new(""));
    }

    #[test]
    fn pop_answer_takes_only_an_answer_to_a_user_message() {
        let mut c = transcript(&[(Role::User, "q"), (Role::Assistant, "a")]);
        assert_eq!(c.pop_answer(), Some(ChatMessage::new(Role::Assistant, "a")));
        assert_eq!(c, transcript(&[(Role::User, "q")]));
        assert_eq!(c.pop_answer(), None, "an unanswered question has no answer");
        assert_eq!(Conversation::new("").pop_answer(), None);
    }

    #[test]
    fn retract_last_removes_the_last_question_and_its_answer() {
        let mut c = transcript(&[
            (Role::User, "q1"),
            (Role::Assistant, "a1"),
            (Role::User, "q2"),
            (Role::Assistant, "a2"),
        ]);
        assert_eq!(c.retract_last(), Some("q2".to_string()));
        assert_eq!(
            c,
            transcript(&[(Role::User, "q1"), (Role::Assistant, "a1")])
        );
        assert_eq!(c.retract_last(), Some("q1".to_string()));
        assert_eq!(c, transcript(&[]));
        assert_eq!(c.retract_last(), None);
    }

    #[test]
    fn an_unanswered_question_is_retracted_alone() {
        let mut c = transcript(&[
            (Role::User, "q1"),
            (Role::Assistant, "a1"),
            (Role::User, "q2"),
        ]);
        assert_eq!(c.retract_last(), Some("q2".to_string()));
        assert_eq!(
            c,
            transcript(&[(Role::User, "q1"), (Role::Assistant, "a1")])
        );
    }

    #[test]
    fn removing_messages_keeps_the_window_inside_the_transcript() {
        let mut c = transcript(&[
            (Role::User, "q1"),
            (Role::Assistant, "a1"),
            (Role::User, "q2"),
        ]);
        c.drop_oldest(3);
        assert_eq!(c.dropped(), 3);
        assert_eq!(c.retract_last(), Some("q2".to_string()));
        assert_eq!(c.dropped(), 2);
        assert_eq!(c.prompt(), vec![ChatMessage::new(Role::System, "sys")]);
        assert_eq!(
            c.pop_answer(),
            Some(ChatMessage::new(Role::Assistant, "a1"))
        );
        assert_eq!(c.dropped(), 1);
        assert_eq!(
            c.take_unanswered(),
            Some(ChatMessage::new(Role::User, "q1"))
        );
        assert_eq!(c.dropped(), 0);
    }
}
