//! What the user wants, as the key table names it. Panes and the app turn actions into state
//! changes and core `Op`s; a key never reaches the core directly.

/// A user intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the app.
    Quit,
    /// Stop the answer in flight, or close whatever is open.
    Stop,
    /// Send the message, or run the slash command.
    Submit,
    /// Insert a newline in the message.
    Newline,
    /// Scroll the transcript up a page.
    PageUp,
    /// Scroll the transcript down a page.
    PageDown,
    /// Scroll to the first message.
    ScrollTop,
    /// Scroll to the newest line and follow the stream again.
    ScrollBottom,
    /// Answer the last message again.
    Regenerate,
    /// Take the last message back into the input to edit and resend it.
    EditLast,
    /// Copy the last answer to the clipboard (OSC 52).
    CopyAnswer,
    /// Copy the last code block to the clipboard (OSC 52).
    CopyCode,
    /// Move focus to the next pane.
    NextPane,
    /// Move focus to the previous pane.
    PrevPane,
    /// Show the chat pane.
    ShowChat,
    /// Show the model pane.
    ShowModels,
    /// Show the plugin pane.
    ShowPlugins,
    /// Show the session pane.
    ShowSessions,
    /// Show or hide the side panel.
    ToggleSidePanel,
    /// Show or hide the key help.
    ToggleHelp,
    /// Redraw the whole screen.
    Redraw,
    /// Cursor one character left.
    Left,
    /// Cursor one character right.
    Right,
    /// Cursor one word left.
    WordLeft,
    /// Cursor one word right.
    WordRight,
    /// Cursor to the start of the line.
    LineStart,
    /// Cursor to the end of the line.
    LineEnd,
    /// Cursor up a line, or the previous input from history.
    Up,
    /// Cursor down a line, or the next input from history.
    Down,
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character under the cursor.
    Delete,
    /// Delete to the start of the line.
    KillLineStart,
    /// Delete to the end of the line.
    KillLineEnd,
    /// Delete the word before the cursor.
    KillWord,
    /// Select the previous row of a list.
    SelectPrev,
    /// Select the next row of a list.
    SelectNext,
    /// Load the selected model.
    LoadModel,
    /// Download the selected model.
    DownloadModel,
    /// Delete the selected model (asks first).
    DeleteModel,
    /// Go on with the selected session in the chat.
    OpenSession,
    /// Type a search into the session pane's search line.
    SearchSessions,
    /// Clear the session search; without one, leave the pane.
    ClearSearch,
    /// Type a new title for the selected session.
    RenameSession,
    /// Delete the selected session (asks first).
    DeleteSession,
    /// Write the selected session to a Markdown file.
    ExportSession,
    /// Done typing in the session pane's field (the search kept, the title saved).
    FieldDone,
    /// Delete the last character typed in the session pane's field.
    FieldBackspace,
    /// Leave the session pane's field (the search cleared, the title left as it was).
    FieldCancel,
    /// Answer yes to a question.
    Yes,
    /// Answer no to a question.
    No,
    /// Let the tool call on screen run, this once.
    AllowOnce,
    /// Let the tool run for the rest of the session.
    AllowSession,
    /// Always let the tool run (remembered until its definition changes).
    AllowAlways,
    /// Refuse the tool call on screen.
    DenyCall,
    /// Go on with the sampling request on screen (generate, or send what was generated).
    ApproveSampling,
    /// Reject the sampling request on screen.
    RejectSampling,
    /// Edit what the model wrote before it goes to the plugin.
    EditSampling,
    /// Stop editing what the model wrote, dropping the edit.
    StopEditingSampling,
    /// Delete the last character of the edit.
    SamplingBackspace,
    /// Clear the edit.
    SamplingClear,
    /// Send the form on screen (or accept the URL).
    FormSubmit,
    /// The form's next field.
    FormNext,
    /// The form's previous field.
    FormPrev,
    /// The focused field's previous option.
    FormChoosePrev,
    /// The focused field's next option.
    FormChooseNext,
    /// Tick or untick in the focused field.
    FormToggle,
    /// Delete a character in the focused field.
    FormBackspace,
    /// Decline the request for input.
    FormDecline,
    /// Cancel the request for input.
    FormCancel,
}
