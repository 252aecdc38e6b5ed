//! The key table: every binding, which scope it works in, and the line of help it shows. The
//! app dispatches keys through [`lookup`] and the help overlay lists [`BINDINGS`], so the two
//! cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere.
    Global,
    /// The chat pane.
    Chat,
    /// The chat pane while the input is empty (checked before `Chat`).
    ChatEmpty,
    /// The model pane.
    Models,
    /// The plugin pane.
    Plugins,
    /// The session pane's list.
    Sessions,
    /// The session pane while a search is typed (other keys are typed into it).
    SessionSearch,
    /// The session pane while a new title is typed (other keys are typed into it).
    SessionRename,
    /// While a tool call waits for consent.
    Consent,
    /// While a plugin's sampling request waits for the user.
    Sampling,
    /// While the user edits a sampling request's message or what the model wrote.
    SamplingEdit,
    /// While a plugin's request for input (a form or a URL) waits for the user.
    Form,
    /// While a yes/no question is open.
    Confirm,
    /// While the help overlay is open.
    Help,
}

impl Scope {
    /// The heading the help overlay shows for this scope.
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::Chat => "Chat",
            Scope::ChatEmpty => "Chat, with an empty input",
            Scope::Models => "Model pane",
            Scope::Plugins => "Plugin pane",
            Scope::Sessions => "Session pane",
            Scope::SessionSearch => "Session pane, typing a search",
            Scope::SessionRename => "Session pane, typing a new title",
            Scope::Consent => "Tool call consent",
            Scope::Sampling => "A plugin asks for the model (sampling)",
            Scope::SamplingEdit => "Editing a message in a sampling request",
            Scope::Form => "A plugin asks for your input (elicitation)",
            Scope::Confirm => "Questions",
            Scope::Help => "This help",
        }
    }
}

/// One key with its modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl, Alt, Shift.
    pub mods: KeyModifiers,
}

/// One line of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// Keys that trigger it (the first is the one shown first).
    pub keys: &'static [Key],
    /// What it does.
    pub action: Action,
    /// Where it works.
    pub scope: Scope,
    /// One line of help.
    pub help: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const ALT: KeyModifiers = KeyModifiers::ALT;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

const fn k(code: KeyCode) -> Key {
    Key { code, mods: NONE }
}
const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: CTRL,
    }
}
const fn alt(code: KeyCode) -> Key {
    Key { code, mods: ALT }
}
const fn ch(c: char) -> Key {
    k(KeyCode::Char(c))
}

const fn bind(scope: Scope, keys: &'static [Key], action: Action, help: &'static str) -> Binding {
    Binding {
        keys,
        action,
        scope,
        help,
    }
}

use Action as A;
use KeyCode as C;
use Scope as S;

/// Every key binding, in the order the help shows them.
pub const BINDINGS: &[Binding] = &[
    bind(
        S::Global,
        &[ctrl('c'), ctrl('q')],
        A::Quit,
        "quit (the conversation is saved)",
    ),
    bind(
        S::Global,
        &[k(C::F(1))],
        A::ToggleHelp,
        "show or hide this help",
    ),
    bind(
        S::Global,
        &[k(C::Esc)],
        A::Stop,
        "stop the answer in flight; close a dialog",
    ),
    bind(
        S::Global,
        &[k(C::F(2)), alt(C::Char('1'))],
        A::ShowChat,
        "chat pane",
    ),
    bind(
        S::Global,
        &[k(C::F(3)), alt(C::Char('2'))],
        A::ShowModels,
        "model pane",
    ),
    bind(
        S::Global,
        &[k(C::F(4)), alt(C::Char('3'))],
        A::ShowPlugins,
        "plugin pane",
    ),
    bind(
        S::Global,
        &[k(C::F(5)), alt(C::Char('4'))],
        A::ShowSessions,
        "session pane (saved conversations)",
    ),
    bind(
        S::Global,
        &[k(C::Tab)],
        A::NextPane,
        "next pane (completes a /command first)",
    ),
    bind(
        S::Global,
        &[
            k(C::BackTab),
            Key {
                code: C::BackTab,
                mods: SHIFT,
            },
        ],
        A::PrevPane,
        "previous pane",
    ),
    bind(
        S::Global,
        &[ctrl('b')],
        A::ToggleSidePanel,
        "show or hide the side panel",
    ),
    bind(S::Global, &[ctrl('l')], A::Redraw, "redraw the screen"),
    bind(S::ChatEmpty, &[ch('?')], A::ToggleHelp, "show this help"),
    bind(
        S::ChatEmpty,
        &[k(C::Home)],
        A::ScrollTop,
        "scroll to the first message",
    ),
    bind(
        S::ChatEmpty,
        &[k(C::End)],
        A::ScrollBottom,
        "scroll to the end and follow",
    ),
    bind(
        S::Chat,
        &[k(C::Enter)],
        A::Submit,
        "send the message or /command",
    ),
    bind(
        S::Chat,
        &[
            alt(C::Enter),
            ctrl('j'),
            Key {
                code: C::Enter,
                mods: SHIFT,
            },
        ],
        A::Newline,
        "new line in the message",
    ),
    bind(
        S::Chat,
        &[k(C::PageUp)],
        A::PageUp,
        "scroll the conversation up",
    ),
    bind(
        S::Chat,
        &[k(C::PageDown)],
        A::PageDown,
        "scroll the conversation down",
    ),
    bind(
        S::Chat,
        &[Key {
            code: C::Home,
            mods: CTRL,
        }],
        A::ScrollTop,
        "scroll to the first message",
    ),
    bind(
        S::Chat,
        &[Key {
            code: C::End,
            mods: CTRL,
        }],
        A::ScrollBottom,
        "scroll to the end and follow",
    ),
    bind(
        S::Chat,
        &[ctrl('r')],
        A::Regenerate,
        "answer the last message again",
    ),
    bind(
        S::Chat,
        &[ctrl('e')],
        A::EditLast,
        "edit and resend the last message",
    ),
    bind(
        S::Chat,
        &[ctrl('y')],
        A::CopyAnswer,
        "copy the last answer (OSC 52)",
    ),
    bind(
        S::Chat,
        &[alt(C::Char('y'))],
        A::CopyCode,
        "copy the last code block (OSC 52)",
    ),
    bind(
        S::Chat,
        &[k(C::Up)],
        A::Up,
        "the menu's entry above, while it shows; else line up, previous input on the first line",
    ),
    bind(
        S::Chat,
        &[k(C::Down)],
        A::Down,
        "the menu's entry below, while it shows; else line down, next input on the last line",
    ),
    bind(S::Chat, &[k(C::Left)], A::Left, "cursor left"),
    bind(S::Chat, &[k(C::Right)], A::Right, "cursor right"),
    bind(
        S::Chat,
        &[
            Key {
                code: C::Left,
                mods: CTRL,
            },
            alt(C::Char('b')),
        ],
        A::WordLeft,
        "word left",
    ),
    bind(
        S::Chat,
        &[
            Key {
                code: C::Right,
                mods: CTRL,
            },
            alt(C::Char('f')),
        ],
        A::WordRight,
        "word right",
    ),
    bind(
        S::Chat,
        &[k(C::Home), ctrl('a')],
        A::LineStart,
        "start of line",
    ),
    bind(S::Chat, &[k(C::End)], A::LineEnd, "end of line"),
    bind(
        S::Chat,
        &[k(C::Backspace), ctrl('h')],
        A::Backspace,
        "delete before the cursor",
    ),
    bind(
        S::Chat,
        &[k(C::Delete), ctrl('d')],
        A::Delete,
        "delete under the cursor",
    ),
    bind(
        S::Chat,
        &[ctrl('u')],
        A::KillLineStart,
        "delete to the start of the line",
    ),
    bind(
        S::Chat,
        &[ctrl('k')],
        A::KillLineEnd,
        "delete to the end of the line",
    ),
    bind(
        S::Chat,
        &[ctrl('w'), alt(C::Backspace)],
        A::KillWord,
        "delete the word before the cursor",
    ),
    bind(
        S::Models,
        &[k(C::Up), ch('k')],
        A::SelectPrev,
        "previous model",
    ),
    bind(
        S::Models,
        &[k(C::Down), ch('j')],
        A::SelectNext,
        "next model",
    ),
    bind(
        S::Models,
        &[k(C::Enter)],
        A::LoadModel,
        "load the selected model",
    ),
    bind(
        S::Models,
        &[ch('d')],
        A::DownloadModel,
        "download the selected model",
    ),
    bind(
        S::Models,
        &[ch('x'), k(C::Delete)],
        A::DeleteModel,
        "delete the selected model",
    ),
    bind(S::Models, &[ch('?')], A::ToggleHelp, "show this help"),
    bind(
        S::Plugins,
        &[k(C::Up), ch('k')],
        A::SelectPrev,
        "previous plugin",
    ),
    bind(
        S::Plugins,
        &[k(C::Down), ch('j')],
        A::SelectNext,
        "next plugin",
    ),
    bind(S::Plugins, &[ch('?')], A::ToggleHelp, "show this help"),
    bind(
        S::Sessions,
        &[k(C::Up), ch('k')],
        A::SelectPrev,
        "previous session",
    ),
    bind(
        S::Sessions,
        &[k(C::Down), ch('j')],
        A::SelectNext,
        "next session",
    ),
    bind(
        S::Sessions,
        &[k(C::Enter)],
        A::OpenSession,
        "go on with the selected session in the chat (not while an answer streams)",
    ),
    bind(
        S::Sessions,
        &[ch('/')],
        A::SearchSessions,
        "search the conversations (the list follows as you type)",
    ),
    bind(
        S::Sessions,
        &[k(C::Esc)],
        A::ClearSearch,
        "clear the search; without one, back to the chat",
    ),
    bind(
        S::Sessions,
        &[ch('r')],
        A::RenameSession,
        "rename the selected session",
    ),
    bind(
        S::Sessions,
        &[ch('d'), k(C::Delete)],
        A::DeleteSession,
        "delete the selected session (asks first)",
    ),
    bind(
        S::Sessions,
        &[ch('e')],
        A::ExportSession,
        "export the selected session as Markdown, to exports/session-ID.md in the data directory",
    ),
    bind(S::Sessions, &[ch('?')], A::ToggleHelp, "show this help"),
    bind(
        S::SessionSearch,
        &[k(C::Up)],
        A::SelectPrev,
        "previous session",
    ),
    bind(
        S::SessionSearch,
        &[k(C::Down)],
        A::SelectNext,
        "next session",
    ),
    bind(
        S::SessionSearch,
        &[k(C::Enter)],
        A::FieldDone,
        "done typing: back to the list, the search kept",
    ),
    bind(
        S::SessionSearch,
        &[k(C::Backspace)],
        A::FieldBackspace,
        "delete the last character",
    ),
    bind(
        S::SessionSearch,
        &[k(C::Esc)],
        A::FieldCancel,
        "clear the search",
    ),
    bind(
        S::SessionRename,
        &[k(C::Enter)],
        A::FieldDone,
        "save the new title",
    ),
    bind(
        S::SessionRename,
        &[k(C::Backspace)],
        A::FieldBackspace,
        "delete the last character",
    ),
    bind(
        S::SessionRename,
        &[k(C::Esc)],
        A::FieldCancel,
        "keep the old title",
    ),
    bind(
        S::Consent,
        &[ch('y'), k(C::Enter)],
        A::AllowOnce,
        "allow this call once",
    ),
    bind(
        S::Consent,
        &[ch('s')],
        A::AllowSession,
        "allow this tool for the session",
    ),
    bind(
        S::Consent,
        &[ch('a')],
        A::AllowAlways,
        "always allow this tool (until it changes)",
    ),
    bind(
        S::Consent,
        &[ch('n'), k(C::Esc)],
        A::DenyCall,
        "deny the call",
    ),
    bind(
        S::Consent,
        &[k(C::Up), ch('k')],
        A::SelectPrev,
        "scroll the arguments up",
    ),
    bind(
        S::Consent,
        &[k(C::Down), ch('j')],
        A::SelectNext,
        "scroll the arguments down",
    ),
    bind(
        S::Sampling,
        &[ch('y'), k(C::Enter)],
        A::ApproveSampling,
        "let the model write / send what it wrote",
    ),
    bind(
        S::Sampling,
        &[ch('n'), k(C::Esc)],
        A::RejectSampling,
        "reject the request",
    ),
    bind(
        S::Sampling,
        &[ch('e')],
        A::EditSampling,
        "edit the request's last message before the model writes, what it wrote after",
    ),
    bind(
        S::SamplingEdit,
        &[k(C::Enter)],
        A::ApproveSampling,
        "go on with your edit (the model answers it / it is sent)",
    ),
    bind(
        S::SamplingEdit,
        &[k(C::Esc)],
        A::StopEditingSampling,
        "back, without the edit",
    ),
    bind(
        S::SamplingEdit,
        &[k(C::Backspace)],
        A::SamplingBackspace,
        "delete the last character",
    ),
    bind(
        S::SamplingEdit,
        &[ctrl('u')],
        A::SamplingClear,
        "clear the text, to write your own",
    ),
    bind(
        S::Sampling,
        &[k(C::Up), ch('k')],
        A::SelectPrev,
        "scroll up",
    ),
    bind(
        S::Sampling,
        &[k(C::Down), ch('j')],
        A::SelectNext,
        "scroll down",
    ),
    bind(
        S::Form,
        &[k(C::Enter)],
        A::FormSubmit,
        "send the form (it is checked first) / done with the URL",
    ),
    bind(S::Form, &[k(C::Tab), k(C::Down)], A::FormNext, "next field"),
    bind(
        S::Form,
        &[k(C::BackTab), k(C::Up)],
        A::FormPrev,
        "previous field",
    ),
    bind(
        S::Form,
        &[k(C::Left)],
        A::FormChoosePrev,
        "previous option (or yes/no)",
    ),
    bind(
        S::Form,
        &[k(C::Right)],
        A::FormChooseNext,
        "next option (or yes/no)",
    ),
    bind(
        S::Form,
        &[k(C::Char(' '))],
        A::FormToggle,
        "tick or untick (booleans, multiple choice)",
    ),
    bind(
        S::Form,
        &[k(C::Backspace)],
        A::FormBackspace,
        "delete a character",
    ),
    bind(S::Form, &[ctrl('d')], A::FormDecline, "decline to answer"),
    bind(
        S::Form,
        &[k(C::Esc)],
        A::FormCancel,
        "cancel (the plugin stops what it asked for)",
    ),
    bind(S::Confirm, &[ch('y')], A::Yes, "yes"),
    bind(S::Confirm, &[ch('n'), k(C::Esc)], A::No, "no"),
    bind(S::Help, &[k(C::Up), ch('k')], A::SelectPrev, "scroll up"),
    bind(
        S::Help,
        &[k(C::Down), ch('j')],
        A::SelectNext,
        "scroll down",
    ),
    bind(S::Help, &[k(C::PageUp)], A::PageUp, "page up"),
    bind(
        S::Help,
        &[k(C::PageDown), ch(' ')],
        A::PageDown,
        "page down",
    ),
    bind(
        S::Help,
        &[k(C::Esc), ch('q'), ch('?')],
        A::ToggleHelp,
        "close",
    ),
];

/// The action bound to `key` in the first of `scopes` that binds it, then in `Global`.
pub fn lookup(scopes: &[Scope], key: KeyEvent) -> Option<Action> {
    let wanted = normalise(key);
    scopes
        .iter()
        .chain(std::iter::once(&Scope::Global))
        .find_map(|scope| {
            BINDINGS
                .iter()
                .filter(|b| b.scope == *scope)
                .find(|b| b.keys.contains(&wanted))
                .map(|b| b.action)
        })
}

/// Terminals report Shift on upper-case letters and symbols inconsistently; a character key
/// is matched by its character with Shift ignored.
fn normalise(key: KeyEvent) -> Key {
    let mods = match key.code {
        KeyCode::Char(_) => key.modifiers - KeyModifiers::SHIFT,
        _ => key.modifiers,
    };
    Key {
        code: key.code,
        mods: mods & (CTRL | ALT | SHIFT),
    }
}

/// How the help shows a key, e.g. `Ctrl+C`, `Alt+Enter`, `PgUp`.
pub fn label(key: &Key) -> String {
    let mut out = String::new();
    if key.mods.contains(CTRL) {
        out.push_str("Ctrl+");
    }
    if key.mods.contains(ALT) {
        out.push_str("Alt+");
    }
    if key.mods.contains(SHIFT) && key.code != C::BackTab {
        out.push_str("Shift+");
    }
    let name = match key.code {
        C::Char(' ') => "Space".to_string(),
        C::Char(c) if key.mods.contains(CTRL) => c.to_ascii_uppercase().to_string(),
        C::Char(c) => c.to_string(),
        C::F(n) => format!("F{n}"),
        C::Enter => "Enter".into(),
        C::Esc => "Esc".into(),
        C::Tab => "Tab".into(),
        C::BackTab => "Shift+Tab".into(),
        C::Backspace => "Backspace".into(),
        C::Delete => "Del".into(),
        C::PageUp => "PgUp".into(),
        C::PageDown => "PgDn".into(),
        C::Home => "Home".into(),
        C::End => "End".into(),
        C::Up => "↑".into(),
        C::Down => "↓".into(),
        C::Left => "←".into(),
        C::Right => "→".into(),
        other => format!("{other:?}"),
    };
    out.push_str(&name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn scope_order_decides() {
        let home = key(C::Home, NONE);
        assert_eq!(lookup(&[S::ChatEmpty, S::Chat], home), Some(A::ScrollTop));
        assert_eq!(lookup(&[S::Chat], home), Some(A::LineStart));
        assert_eq!(lookup(&[S::Chat], key(C::Char('c'), CTRL)), Some(A::Quit));
        assert_eq!(lookup(&[S::Chat], key(C::Char('x'), NONE)), None);
        assert_eq!(
            lookup(&[S::Models], key(C::Char('x'), NONE)),
            Some(A::DeleteModel)
        );
    }

    #[test]
    fn newline_keys_work_over_ssh() {
        for k in [key(C::Enter, ALT), key(C::Char('j'), CTRL)] {
            assert_eq!(lookup(&[S::Chat], k), Some(A::Newline));
        }
        assert_eq!(lookup(&[S::Chat], key(C::Enter, NONE)), Some(A::Submit));
    }

    #[test]
    fn shift_on_symbols_is_ignored() {
        assert_eq!(
            lookup(&[S::ChatEmpty], key(C::Char('?'), SHIFT)),
            Some(A::ToggleHelp)
        );
    }

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                if a.scope == b.scope {
                    for key in a.keys {
                        assert!(
                            !b.keys.contains(key),
                            "{} bound twice in {:?}",
                            label(key),
                            a.scope
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn labels() {
        assert_eq!(label(&ctrl('c')), "Ctrl+C");
        assert_eq!(label(&alt(C::Enter)), "Alt+Enter");
        assert_eq!(label(&k(C::PageUp)), "PgUp");
        assert_eq!(label(&k(C::F(1))), "F1");
    }
}
