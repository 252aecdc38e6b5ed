//! The chat composer: a multi-line input with shell-like history and slash-command completion.
//! It owns the draft text and a cursor that is always a byte index on a grapheme boundary;
//! newlines are always `\n`. Keys are not handled here: the app maps them to these methods.

pub mod commands;
mod graphemes;
pub mod render;
mod wrap;

#[cfg(test)]
mod editing_tests;
#[cfg(test)]
mod render_tests;

use commands::COMMANDS;
use graphemes::{line_end, line_start};

/// How many sent messages the history keeps.
const HISTORY_CAP: usize = 500;

/// The draft being typed, its cursor and the history of sent messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Composer {
    text: String,
    cursor: usize,
    /// The display column that up/down aim for, kept across a run of vertical moves.
    goal_column: Option<usize>,
    history: Vec<String>,
    /// The history entry shown while browsing; `None` when editing the draft.
    browsing: Option<usize>,
    /// The draft typed before browsing started, restored after the newest entry.
    draft: String,
    /// The running plugins' prompts, as `/PLUGIN:PROMPT` menu entries.
    pub plugin_prompts: Vec<MenuItem>,
    /// The running plugins' resources, as `@PLUGIN:URI` menu entries.
    pub plugin_resources: Vec<MenuItem>,
    /// What a plugin offered for a prompt argument (`completion/complete`): the argument it
    /// was asked about and the values.
    pub argument_values: Option<(Argument, Vec<String>)>,
    /// The menu entry picked with the arrow keys, and the text it was picked for (a pick is
    /// forgotten as soon as the text changes).
    picked: Option<(String, usize)>,
}

/// The prompt argument being typed: `/PLUGIN:PROMPT … NAME=VALUE` with the cursor at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argument {
    /// The plugin and prompt: `PLUGIN:PROMPT`.
    pub command: String,
    /// The argument's name.
    pub name: String,
    /// What is typed of its value so far.
    pub value: String,
    /// The arguments typed before it.
    pub given: Vec<(String, String)>,
}

/// One entry of the composer's menu: a slash command, a plugin's prompt or a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    /// The word it completes to: `/model`, `/everything:args-prompt`, `@everything:demo://x`.
    pub word: String,
    /// The argument synopsis, e.g. `[NAME]`.
    pub args: String,
    /// A short description (inert already).
    pub help: String,
}

impl Composer {
    /// An empty composer with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// The text being composed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor, a byte index into [`Composer::text`] on a grapheme boundary.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// True when there is no text at all.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// True when the text is empty or only whitespace (nothing worth sending).
    pub fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// Replaces the text (normalising line endings) with the cursor at the end; stops browsing.
    pub fn set_text(&mut self, text: &str) {
        self.browsing = None;
        self.replace(&normalize_newlines(text));
    }

    /// Returns the text and clears the composer, recording the text in the history unless it
    /// is blank or repeats the newest entry.
    pub fn take(&mut self) -> String {
        let text = std::mem::take(&mut self.text);
        self.cursor = 0;
        self.goal_column = None;
        self.browsing = None;
        self.draft.clear();
        if !text.trim().is_empty() && self.history.last() != Some(&text) {
            if self.history.len() == HISTORY_CAP {
                self.history.remove(0);
            }
            self.history.push(text.clone());
        }
        text
    }

    /// Inserts one char at the cursor (`\r` counts as a newline).
    pub fn insert_char(&mut self, c: char) {
        let c = if c == '\r' { '\n' } else { c };
        let mut buf = [0; 4];
        self.insert_normalized(c.encode_utf8(&mut buf));
    }

    /// Inserts pasted text at the cursor; `\r\n` and lone `\r` become `\n`. Linear in the
    /// paste and the draft.
    pub fn insert_str(&mut self, s: &str) {
        self.insert_normalized(&normalize_newlines(s));
    }

    /// Inserts a line break at the cursor.
    pub fn newline(&mut self) {
        self.insert_normalized("\n");
    }

    /// Deletes the grapheme before the cursor.
    pub fn backspace(&mut self) {
        let start = graphemes::prev_boundary(&self.text, self.cursor);
        self.remove(start, self.cursor);
    }

    /// Deletes the grapheme after the cursor.
    pub fn delete(&mut self) {
        let end = graphemes::next_boundary(&self.text, self.cursor);
        self.remove(self.cursor, end);
    }

    /// Moves one grapheme left.
    pub fn left(&mut self) {
        self.move_to(graphemes::prev_boundary(&self.text, self.cursor));
    }

    /// Moves one grapheme right.
    pub fn right(&mut self) {
        self.move_to(graphemes::next_boundary(&self.text, self.cursor));
    }

    /// Moves to the start of the word before the cursor.
    pub fn word_left(&mut self) {
        self.move_to(graphemes::word_start(&self.text, self.cursor));
    }

    /// Moves to the end of the word after the cursor.
    pub fn word_right(&mut self) {
        self.move_to(graphemes::word_end(&self.text, self.cursor));
    }

    /// Moves to the start of the logical line.
    pub fn line_start(&mut self) {
        self.move_to(line_start(&self.text, self.cursor));
    }

    /// Moves to the end of the logical line.
    pub fn line_end(&mut self) {
        self.move_to(line_end(&self.text, self.cursor));
    }

    /// Moves one logical line up, keeping the display column; false on the first line.
    pub fn up(&mut self) -> bool {
        let start = line_start(&self.text, self.cursor);
        if start == 0 {
            return false;
        }
        let column = self.column(start);
        let above = line_start(&self.text, start - 1);
        self.cursor = graphemes::at_column(&self.text, above, start - 1, column);
        self.goal_column = Some(column);
        true
    }

    /// Moves one logical line down, keeping the display column; false on the last line.
    pub fn down(&mut self) -> bool {
        let end = line_end(&self.text, self.cursor);
        if end == self.text.len() {
            return false;
        }
        let column = self.column(line_start(&self.text, self.cursor));
        let below_end = line_end(&self.text, end + 1);
        self.cursor = graphemes::at_column(&self.text, end + 1, below_end, column);
        self.goal_column = Some(column);
        true
    }

    /// Shows the previous (older) history entry, saving the draft first; false at the oldest.
    pub fn history_prev(&mut self) -> bool {
        let index = match self.browsing {
            None if self.history.is_empty() => return false,
            None => {
                self.draft = std::mem::take(&mut self.text);
                self.history.len() - 1
            }
            Some(0) => return false,
            Some(i) => i - 1,
        };
        self.show_entry(Some(index));
        true
    }

    /// Shows the next (newer) history entry, then the saved draft; false when not browsing.
    pub fn history_next(&mut self) -> bool {
        match self.browsing {
            None => false,
            Some(i) if i + 1 < self.history.len() => {
                self.show_entry(Some(i + 1));
                true
            }
            Some(_) => {
                self.show_entry(None);
                true
            }
        }
    }

    /// Ctrl+U: deletes from the line start to the cursor, or the line break before an
    /// already empty line prefix.
    pub fn kill_to_line_start(&mut self) {
        let start = line_start(&self.text, self.cursor);
        if start == self.cursor {
            self.remove(self.cursor.saturating_sub(1), self.cursor);
        } else {
            self.remove(start, self.cursor);
        }
    }

    /// Ctrl+K: deletes from the cursor to the line end, or the line break when already there.
    pub fn kill_to_line_end(&mut self) {
        let end = line_end(&self.text, self.cursor);
        if end == self.cursor {
            self.remove(self.cursor, (end + 1).min(self.text.len()));
        } else {
            self.remove(self.cursor, end);
        }
    }

    /// Ctrl+W: deletes the word before the cursor and the whitespace after it.
    pub fn kill_word_before(&mut self) {
        let start = graphemes::word_start(&self.text, self.cursor);
        self.remove(start, self.cursor);
    }

    /// The argument of a plugin prompt being typed, if the prompt has one of that name.
    pub fn argument(&self) -> Option<Argument> {
        let (command, _) = self
            .text
            .strip_prefix('/')?
            .split_once(char::is_whitespace)?;
        let last = self.last_word();
        let (name, value) = last.split_once('=')?;
        let before = &self.text[..self.text.len() - last.len()];
        let Some(Ok(commands::Command::PluginPrompt {
            arguments: given, ..
        })) = commands::parse(before.trim_end())
        else {
            return None;
        };
        let prompt = self
            .plugin_prompts
            .iter()
            .find(|p| p.word[1..] == *command)?;
        let declared = prompt
            .args
            .split_whitespace()
            .any(|a| a.trim_start_matches('[').starts_with(&format!("{name}=")));
        declared.then(|| Argument {
            command: command.to_owned(),
            name: name.to_owned(),
            value: value.to_owned(),
            given,
        })
    }

    /// The menu for what is typed: the slash commands and plugin prompts while the text is `/`
    /// plus a name prefix (no whitespace yet), in menu order; the values a plugin offered for
    /// the prompt argument being typed; the resources matching an `@` word; else empty.
    pub fn completions(&self) -> Vec<MenuItem> {
        if let Some(prefix) = self.text.strip_prefix('/') {
            if prefix.contains(char::is_whitespace) {
                return self.argument_completions();
            }
            let commands = COMMANDS.iter().map(|c| MenuItem {
                word: format!("/{}", c.name),
                args: c.args.to_owned(),
                help: c.help.to_owned(),
            });
            return commands
                .chain(self.plugin_prompts.iter().cloned())
                .filter(|item| item.word[1..].starts_with(prefix))
                .collect();
        }
        // `@…` as the last word: the resources whose word or name holds what follows the
        // `@`, as a whole or letter by letter in order ("arcmd" finds architecture.md); whole
        // matches first.
        let Some(wanted) = self.last_word().strip_prefix('@') else {
            return Vec::new();
        };
        let wanted = wanted.to_lowercase();
        let score = |r: &MenuItem| {
            let (word, name) = (r.word.to_lowercase(), r.help.to_lowercase());
            if word.contains(&wanted) || name.contains(&wanted) {
                Some(0)
            } else if in_order(&wanted, &word) || in_order(&wanted, &name) {
                Some(1)
            } else {
                None
            }
        };
        let mut found: Vec<(u8, &MenuItem)> = self
            .plugin_resources
            .iter()
            .filter_map(|r| Some((score(r)?, r)))
            .collect();
        found.sort_by_key(|(score, _)| *score);
        found.into_iter().map(|(_, r)| r.clone()).collect()
    }

    /// The menu entry picked with the arrow keys (0, the first, until one is).
    pub fn picked(&self) -> usize {
        match &self.picked {
            Some((text, i)) if *text == self.text => *i,
            _ => 0,
        }
    }

    /// Whether an entry was picked with the arrow keys for the text as it is.
    pub fn has_pick(&self) -> bool {
        self.picked
            .as_ref()
            .is_some_and(|(text, _)| *text == self.text)
    }

    /// ↑/↓ while the menu shows: picks the entry above or below (round the ends); false when
    /// no menu shows.
    pub fn pick(&mut self, down: bool) -> bool {
        let n = self.completions().len();
        if n == 0 {
            return false;
        }
        let at = self.picked();
        let next = match (down, self.has_pick()) {
            (true, false) => 0,
            (true, true) => (at + 1) % n,
            (false, _) => (at + n - 1) % n,
        };
        self.picked = Some((self.text.clone(), next));
        true
    }

    /// The offered values that go on from what is typed of the argument.
    fn argument_completions(&self) -> Vec<MenuItem> {
        let (Some(typing), Some((asked, values))) = (self.argument(), &self.argument_values) else {
            return Vec::new();
        };
        if (&typing.command, &typing.name) != (&asked.command, &asked.name) {
            return Vec::new();
        }
        values
            .iter()
            .filter(|v| v.starts_with(&typing.value) && **v != typing.value)
            // A value with spaces goes in quotes, as the command parser reads it; one with a
            // quote cannot be typed, so it is not offered.
            .filter(|v| !v.contains('"'))
            .map(|v| MenuItem {
                word: match v.contains(char::is_whitespace) {
                    true => format!("{}=\"{v}\"", typing.name),
                    false => format!("{}={v}", typing.name),
                },
                args: String::new(),
                help: String::new(),
            })
            .collect()
    }

    /// The word the cursor ends, when it is at the end of the text.
    fn last_word(&self) -> &str {
        if self.cursor != self.text.len() {
            return "";
        }
        let start = self.text.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        &self.text[start..]
    }

    /// Tab: completes a lone match to `/name ` or several to their longest common prefix;
    /// false when that would change nothing.
    pub fn complete(&mut self) -> bool {
        let matches = self.completions();
        let picked = match self.has_pick() {
            true => matches.get(self.picked()),
            false => None,
        };
        let word = match (picked, matches.as_slice()) {
            (_, []) => return false,
            (Some(item), _) | (None, [item]) => format!("{} ", item.word),
            (None, [first, rest @ ..]) => rest
                .iter()
                .fold(first.word.as_str(), |common, item| {
                    common_prefix(common, &item.word)
                })
                .to_owned(),
        };
        let start = if self.text.starts_with('/') && !self.text.contains(char::is_whitespace) {
            0
        } else {
            self.text.len() - self.last_word().len()
        };
        // Several resources that share no more than the `@`: the word stays as typed.
        if word.len() <= self.text.len() - start {
            return false;
        }
        let completed = format!("{}{word}", &self.text[..start]);
        if completed == self.text {
            return false;
        }
        self.set_text(&completed);
        true
    }

    /// The cursor's display column within the line starting at `start`, or the column that a
    /// run of vertical moves aims for.
    fn column(&self, start: usize) -> usize {
        self.goal_column
            .unwrap_or_else(|| graphemes::width(&self.text[start..self.cursor]))
    }

    fn show_entry(&mut self, index: Option<usize>) {
        self.browsing = index;
        let text = match index {
            Some(i) => self.history[i].clone(),
            None => std::mem::take(&mut self.draft),
        };
        self.replace(&text);
    }

    fn replace(&mut self, text: &str) {
        self.text.clear();
        self.text.push_str(text);
        self.cursor = self.text.len();
        self.goal_column = None;
    }

    fn insert_normalized(&mut self, s: &str) {
        self.text.insert_str(self.cursor, s);
        self.cursor = graphemes::snap(&self.text, self.cursor + s.len());
        self.goal_column = None;
    }

    fn remove(&mut self, start: usize, end: usize) {
        self.text.replace_range(start..end, "");
        self.cursor = graphemes::snap(&self.text, start);
        self.goal_column = None;
    }

    fn move_to(&mut self, pos: usize) {
        self.cursor = pos;
        self.goal_column = None;
    }
}

/// `text` with `\r\n` and lone `\r` turned into `\n`, in one pass.
fn normalize_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\r') {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            chars.next_if_eq(&'\n');
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Whether the characters of `wanted` appear in `text` in the same order.
fn in_order(wanted: &str, text: &str) -> bool {
    let mut rest = text.chars();
    wanted.chars().all(|c| rest.any(|t| t == c))
}

/// The longest common prefix of two ASCII command names.
fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let len = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    &a[..len]
}
