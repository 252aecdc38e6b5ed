//! The chat pane's view of the conversation: what each message looks like, laid out for the
//! current width, and where the view is scrolled to.
//!
//! Layout happens in [`ChatView::layout`] (called by the app before drawing), never in render:
//! finished messages keep their rendered lines until the width or theme changes, so a frame
//! only re-renders the message that is streaming (and of that, only the text after its last
//! block boundary). Invariants: every change to an entry goes through a method that marks it
//! dirty and lowers `stale` to its index; `ends` (the running line counts that let a frame find
//! its first visible line by binary search) is exact for the entries before `stale`.

mod render;
mod stream;
mod wrap;

pub use render::render;
pub use wrap::wrap;

use libre_assistant::engine::{ChatMessage, Finish, Role, TurnStats};
use libre_assistant::text::inert;
use ratatui::text::{Line, Span};

use super::markdown;
use super::theme::Theme;
use stream::Stream;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The person at the keyboard.
    User,
    /// The model.
    Assistant,
    /// A note from the app (history trimmed, theme changed, …).
    Notice,
    /// Something went wrong.
    Error,
    /// A tool call the model made, and its result (never markdown: shown as plain inert text).
    Tool,
}

/// How a tool call ended, as the transcript shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutcome {
    /// What the `↳` line starts with, e.g. "ok 3 ms", "denied", "error".
    pub label: String,
    /// The result's text (untrusted: neutralised at layout time).
    pub body: String,
    /// It failed, was denied or was invalid.
    pub failed: bool,
}

/// Result lines a tool block shows at most before "…".
const TOOL_LINES: usize = 6;

/// Cells of a running call's progress bar.
const BAR_CELLS: usize = 12;

/// What a running call last said about its progress.
#[derive(Debug, Clone, PartialEq)]
pub struct CallProgress {
    /// How far it is, in the server's units.
    pub progress: f64,
    /// Where it ends, if known.
    pub total: Option<f64>,
    /// What it is doing (inert already).
    pub message: Option<String>,
}

/// One message as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Who wrote it.
    pub kind: Kind,
    /// The raw text (untrusted for the model; neutralised at layout time).
    pub text: String,
    /// How the answer ended and how fast it came, for finished assistant messages.
    pub outcome: Option<(Finish, TurnStats)>,
    /// Still streaming.
    pub streaming: bool,
    /// Waiting for the model to be ready.
    pub queued: bool,
    /// For tool blocks: the call's id, to pair the result with its start.
    pub call: Option<u64>,
    /// For tool blocks: how the call ended, once it has.
    pub result: Option<ToolOutcome>,
    /// For running tool blocks: its last progress report.
    pub progress: Option<CallProgress>,
    /// The laid-out lines, for the view's width and theme.
    lines: Vec<Line<'static>>,
    /// `lines` is out of date.
    dirty: bool,
    /// `lines` was laid out as the first entry (which has no blank line above it).
    first: bool,
    /// While streaming: what later tokens cannot change, kept between frames.
    stream: Option<Stream>,
    /// Its code blocks as highlighted, kept across widths (highlighting is most of the cost).
    code: markdown::Highlights,
}

impl Entry {
    fn new(kind: Kind, text: String) -> Entry {
        Entry {
            kind,
            text,
            outcome: None,
            streaming: false,
            queued: false,
            call: None,
            result: None,
            progress: None,
            lines: Vec::new(),
            dirty: true,
            first: false,
            stream: None,
            code: markdown::Highlights::default(),
        }
    }
}

/// Where the transcript is scrolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    /// Show the newest lines and follow the stream.
    Follow,
    /// The first visible line, counted from the top of the transcript.
    At(usize),
}

/// The chat pane's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatView {
    entries: Vec<Entry>,
    scroll: Scroll,
    /// The width and theme the entries' lines were laid out for.
    laid_for: Option<(u16, Theme)>,
    /// `ends[i]`: the lines of entries `0..=i`; exact below `stale`.
    ends: Vec<usize>,
    /// The first entry that may have changed since the last layout.
    stale: usize,
}

impl Default for ChatView {
    fn default() -> Self {
        ChatView {
            entries: Vec::new(),
            scroll: Scroll::Follow,
            laid_for: None,
            ends: Vec::new(),
            stale: 0,
        }
    }
}

impl ChatView {
    /// Every message shown.
    #[cfg(test)]
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Adds an entry at the end (new entries are dirty).
    fn add(&mut self, e: Entry) {
        self.stale = self.stale.min(self.entries.len());
        self.entries.push(e);
    }

    /// Marks entry `i` for layout.
    fn touch(&mut self, i: usize) {
        self.entries[i].dirty = true;
        self.stale = self.stale.min(i);
    }

    /// Adds a message.
    pub fn push(&mut self, kind: Kind, text: impl Into<String>) {
        self.add(Entry::new(kind, text.into()));
    }

    /// Adds a user message that waits for the model.
    pub fn push_queued(&mut self, text: &str) {
        let mut e = Entry::new(Kind::User, text.to_string());
        e.queued = true;
        self.add(e);
    }

    /// The queued message is being sent now.
    pub fn unqueue(&mut self) {
        for i in 0..self.entries.len() {
            if std::mem::take(&mut self.entries[i].queued) {
                self.touch(i);
            }
        }
    }

    /// Starts a streaming answer.
    pub fn begin_answer(&mut self) {
        let mut e = Entry::new(Kind::Assistant, String::new());
        e.streaming = true;
        self.add(e);
    }

    /// Appends streamed text to the answer in progress; after a tool block, the text that
    /// follows is a new answer block under it.
    pub fn append(&mut self, text: &str) {
        if self.streaming_index().is_none()
            && self.entries.last().is_some_and(|e| e.kind == Kind::Tool)
        {
            self.begin_answer();
        }
        if let Some(i) = self.streaming_index() {
            self.entries[i].text.push_str(text);
            self.touch(i);
        }
    }

    /// Ends the answer in progress.
    pub fn finish(&mut self, finish: Finish, stats: TurnStats) {
        if let Some(i) = self.streaming_index() {
            self.entries[i].streaming = false;
            self.entries[i].outcome = Some((finish, stats));
            self.touch(i);
        }
    }

    /// A tool call started: `header` is "plugin/tool {arguments}". The answer streaming
    /// before it ends there (and goes if it is empty).
    pub fn tool_started(&mut self, id: u64, header: String) {
        self.close_streaming();
        let mut e = Entry::new(Kind::Tool, header);
        e.call = Some(id);
        self.add(e);
    }

    /// A tool call ended: its block (started earlier, or new when it never ran) shows how.
    pub fn tool_finished(&mut self, id: Option<u64>, header: String, outcome: ToolOutcome) {
        let open = id.and_then(|id| {
            self.entries
                .iter()
                .rposition(|e| e.kind == Kind::Tool && e.call == Some(id) && e.result.is_none())
        });
        let i = match open {
            Some(i) => i,
            None => {
                self.close_streaming();
                let mut e = Entry::new(Kind::Tool, header);
                e.call = id;
                self.add(e);
                self.entries.len() - 1
            }
        };
        self.entries[i].result = Some(outcome);
        self.touch(i);
    }

    /// The running call reported progress; shown in its block until it ends.
    pub fn tool_progress(&mut self, progress: CallProgress) {
        let running = self
            .entries
            .iter()
            .rposition(|e| e.kind == Kind::Tool && e.call.is_some() && e.result.is_none());
        if let Some(i) = running {
            self.entries[i].progress = Some(progress);
            self.touch(i);
        }
    }

    /// A tool result from a saved conversation, with no call line.
    pub fn push_tool_output(&mut self, text: &str) {
        let mut e = Entry::new(Kind::Tool, String::new());
        e.result = Some(ToolOutcome {
            label: "result".into(),
            body: text.to_string(),
            failed: false,
        });
        self.add(e);
    }

    /// Ends the streaming answer without figures (a tool block follows); drops it if empty.
    fn close_streaming(&mut self) {
        let Some(i) = self.entries.iter().rposition(|e| e.streaming) else {
            return;
        };
        if self.entries[i].text.trim().is_empty() {
            self.entries.remove(i);
            self.stale = self.stale.min(i);
        } else {
            self.entries[i].streaming = false;
            self.touch(i);
        }
    }

    /// The answer streaming, if any (the last entry, or close to it).
    fn streaming_index(&self) -> Option<usize> {
        self.entries.iter().rposition(|e| e.streaming)
    }

    /// Removes the last message of `kind` if it is the last user or assistant message. An
    /// answer goes with the tool blocks (and the text between them) since the last user
    /// message.
    pub fn pop_last(&mut self, kind: Kind) -> Option<Entry> {
        let i = self
            .entries
            .iter()
            .rposition(|e| matches!(e.kind, Kind::User | Kind::Assistant))?;
        if self.entries[i].kind != kind {
            return None;
        }
        let removed = self.entries.remove(i);
        self.stale = self.stale.min(i);
        if kind == Kind::Assistant {
            let start = self
                .entries
                .iter()
                .rposition(|e| e.kind == Kind::User)
                .map_or(0, |u| u + 1);
            let mut index = 0;
            self.entries.retain(|e| {
                index += 1;
                index <= start || !matches!(e.kind, Kind::Tool | Kind::Assistant)
            });
            self.stale = self.stale.min(start);
        }
        Some(removed)
    }

    /// The text of the last finished answer.
    pub fn last_answer(&self) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.kind == Kind::Assistant && !e.streaming)
            .map(|e| e.text.as_str())
    }

    /// True while an answer streams.
    pub fn is_streaming(&self) -> bool {
        self.streaming_index().is_some()
    }

    /// Shows a saved conversation's messages as they were: tool results as tool output, and
    /// an answer's words without its call markup.
    pub fn show_conversation(&mut self, messages: &[ChatMessage]) {
        for m in messages {
            match m.role {
                Role::User => self.push(Kind::User, m.content.clone()),
                Role::Tool => self.push_tool_output(&m.content),
                Role::Assistant | Role::System => {
                    let text = libre_assistant::tools::parse(&m.content, &[]).text;
                    if !text.trim().is_empty() {
                        self.push(Kind::Assistant, text);
                    }
                }
            }
        }
    }

    /// Forgets every message.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.ends.clear();
        self.stale = 0;
        self.scroll = Scroll::Follow;
    }

    /// Lays out what changed for `width` columns and `theme`: nothing but the entries changed
    /// since the last layout, unless the width or theme differ, which lays out everything.
    pub fn layout(&mut self, width: u16, theme: &Theme) {
        let same = self
            .laid_for
            .as_ref()
            .is_some_and(|(w, t)| *w == width && t == theme);
        if !same {
            self.laid_for = Some((width, theme.clone()));
            for e in &mut self.entries {
                e.dirty = true;
                e.stream = None;
            }
            self.stale = 0;
        }
        self.ends.truncate(self.stale);
        let mut total = self.ends.last().copied().unwrap_or(0);
        for (i, e) in self.entries.iter_mut().enumerate().skip(self.stale) {
            if e.dirty || e.first != (i == 0) {
                layout_entry(e, width, theme, i == 0);
            }
            total += e.lines.len();
            self.ends.push(total);
        }
        self.stale = self.entries.len();
    }

    /// Lines in the laid-out transcript.
    pub fn total_lines(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    /// The scroll position.
    pub fn scroll(&self) -> Scroll {
        self.scroll
    }

    /// The first visible line for a view `height` rows tall.
    pub fn top(&self, height: u16) -> usize {
        let max_top = self.total_lines().saturating_sub(usize::from(height));
        match self.scroll {
            Scroll::Follow => max_top,
            Scroll::At(top) => top.min(max_top),
        }
    }

    /// Scrolls up a page (keeping two lines of overlap).
    pub fn page_up(&mut self, height: u16) {
        let step = usize::from(height.saturating_sub(2).max(1));
        self.scroll = Scroll::At(self.top(height).saturating_sub(step));
    }

    /// Scrolls down a page; reaching the end follows the stream again.
    pub fn page_down(&mut self, height: u16) {
        let step = usize::from(height.saturating_sub(2).max(1));
        let max_top = self.total_lines().saturating_sub(usize::from(height));
        let top = self.top(height) + step;
        self.scroll = if top >= max_top {
            Scroll::Follow
        } else {
            Scroll::At(top)
        };
    }

    /// Scrolls by `lines` (negative is up), as the mouse wheel does.
    pub fn scroll_by(&mut self, lines: isize, height: u16) {
        let max_top = self.total_lines().saturating_sub(usize::from(height));
        let top = self.top(height).saturating_add_signed(lines);
        self.scroll = if top >= max_top {
            Scroll::Follow
        } else {
            Scroll::At(top)
        };
    }

    /// Scrolls to the first line.
    pub fn scroll_top(&mut self) {
        self.scroll = Scroll::At(0);
    }

    /// Scrolls to the end and follows the stream.
    pub fn scroll_bottom(&mut self) {
        self.scroll = Scroll::Follow;
    }

    /// The laid-out lines from `top`, at most `count` of them: found by binary search over
    /// the running line counts, so a frame costs the lines it shows, not the transcript.
    pub fn lines(&self, top: usize, count: usize) -> impl Iterator<Item = &Line<'static>> {
        let k = self.ends.partition_point(|&end| end <= top);
        let start = k.checked_sub(1).map_or(0, |j| self.ends[j]);
        self.entries
            .iter()
            .skip(k)
            .flat_map(|e| e.lines.iter())
            .skip(top - start)
            .take(count)
    }
}

/// Lays out one entry: a streaming answer keeps what later tokens cannot change.
fn layout_entry(e: &mut Entry, width: u16, theme: &Theme, first: bool) {
    if e.first != first {
        e.stream = None;
    }
    e.first = first;
    e.dirty = false;
    if e.kind == Kind::Assistant && e.streaming {
        stream::layout(e, width, theme);
    } else {
        e.stream = None;
        e.lines = render_entry(e, width, theme, first);
    }
}

/// The label above an answer.
fn assistant_label(theme: &Theme) -> Line<'static> {
    Line::styled("◆ Assistant", theme.style("chat.assistant.label"))
}

/// One finished message as lines: a blank separator (but for the first), a label, the body
/// and its figures.
fn render_entry(e: &mut Entry, width: u16, theme: &Theme, first: bool) -> Vec<Line<'static>> {
    let text = inert(&e.text);
    let mut lines = Vec::new();
    if !first {
        lines.push(Line::default());
    }
    match e.kind {
        Kind::User => {
            let label = if e.queued {
                "› You · queued until the model is ready"
            } else {
                "› You"
            };
            lines.push(Line::styled(label, theme.style("chat.user.label")));
            let style = theme.style("chat.user");
            lines.extend(
                wrap(&text, width)
                    .into_iter()
                    .map(|l| Line::styled(l, style)),
            );
        }
        Kind::Assistant => {
            lines.push(assistant_label(theme));
            let style = theme.style("chat.assistant");
            let body = markdown::render_cached(&text, width, theme, &mut e.code);
            lines.extend(body.into_iter().map(|l| l.patch_style(style)));
            if let Some((finish, stats)) = &e.outcome {
                lines.extend(meta(*finish, stats, width, theme));
            }
        }
        Kind::Notice => {
            let style = theme.style("chat.notice");
            let text = format!("· {text}");
            lines.extend(
                wrap(&text, width)
                    .into_iter()
                    .map(|l| Line::styled(l, style)),
            );
        }
        Kind::Error => {
            let style = theme.style("chat.error");
            let text = format!("✖ {text}");
            lines.extend(
                wrap(&text, width)
                    .into_iter()
                    .map(|l| Line::styled(l, style)),
            );
        }
        Kind::Tool => lines.extend(tool_block(
            &text,
            e.result.as_ref(),
            e.progress.as_ref(),
            width,
            theme,
        )),
    }
    lines
}

/// A tool block: "⚙ plugin/tool {args}" cut to one line, then "↳ ok 3 ms: …" with at most
/// [`TOOL_LINES`] lines of the result (inert plain text, never markdown).
fn tool_block(
    header: &str,
    result: Option<&ToolOutcome>,
    progress: Option<&CallProgress>,
    width: u16,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if !header.is_empty() {
        let one_line = format!("⚙ {}", header.replace('\n', " "));
        lines.push(Line::styled(
            crate::tui::fit::truncate(&one_line, usize::from(width)),
            theme.style("chat.tool.label"),
        ));
    }
    let Some(result) = result else {
        let running = progress.map_or_else(|| "↳ running…".to_owned(), progress_line);
        lines.push(Line::styled(
            crate::tui::fit::truncate(&running, usize::from(width)),
            theme.style("chat.meta"),
        ));
        return lines;
    };
    let style = theme.style(if result.failed {
        "chat.error"
    } else {
        "chat.tool"
    });
    let body = inert(&result.body);
    let body = body.trim_end();
    let text = if body.is_empty() {
        format!("↳ {}", result.label)
    } else {
        format!("↳ {}: {body}", result.label)
    };
    let mut rows: Vec<String> = text.lines().flat_map(|l| wrap(l, width)).collect();
    if rows.len() > TOOL_LINES {
        rows.truncate(TOOL_LINES);
        rows.push("…".into());
    }
    lines.extend(rows.into_iter().map(|l| Line::styled(l, style)));
    lines
}

/// "↳ ▰▰▰▰▱▱▱▱ 4/10 message" (a bar when the total is known), or "↳ running… 4 message".
fn progress_line(p: &CallProgress) -> String {
    let number = |v: f64| {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            format!("{}", v as i64)
        } else {
            format!("{v:.1}")
        }
    };
    let mut line = match p.total.filter(|t| *t > 0.0) {
        Some(total) => {
            let filled = ((p.progress / total).clamp(0.0, 1.0) * BAR_CELLS as f64).round() as usize;
            format!(
                "↳ {}{} {}/{}",
                "▰".repeat(filled),
                "▱".repeat(BAR_CELLS - filled),
                number(p.progress),
                number(total)
            )
        }
        None => format!("↳ running… {}", number(p.progress)),
    };
    if let Some(message) = &p.message {
        line.push(' ');
        line.push_str(&message.replace('\n', " "));
    }
    line
}

/// The figures line under an answer, e.g. `42 tokens · 118.3 t/s · stopped`.
fn meta(finish: Finish, stats: &TurnStats, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let mut text = format!(
        "{} tokens · {:.1} t/s · prompt {}",
        stats.generated_tokens, stats.tokens_per_second, stats.prompt_tokens
    );
    if stats.draft_tokens > 0 {
        let drafts = format!(
            " · drafted {}, {} kept",
            stats.draft_tokens, stats.draft_accepted
        );
        text.push_str(&drafts);
    }
    let ending = match finish {
        Finish::Stop => None,
        Finish::Cancelled => Some("stopped"),
        Finish::Length => Some("cut at max_tokens"),
        Finish::ContextFull => Some("context full"),
        Finish::Cut => Some("broke off"),
    };
    let mut lines: Vec<Line<'static>> = wrap(&text, width)
        .into_iter()
        .map(|l| Line::styled(l, theme.style("chat.meta")))
        .collect();
    if let Some(ending) = ending {
        text = format!("■ {ending}");
        let style = theme.style("chat.stopped");
        lines.extend(
            wrap(&text, width)
                .into_iter()
                .map(|l| Line::from(Span::styled(l, style))),
        );
    }
    lines
}

#[cfg(test)]
mod tests;
