//! The event walker: turns pulldown-cmark events into wrapped, styled lines. Block
//! containers (quotes, list items, code indentation) form a stack whose prefixes start every
//! emitted line; inline text collects in a buffer of styled fragments until its block ends.
//! Invariants: a blank line separates blocks and is only written when another block follows,
//! so the output never starts or ends with one; every line fits the width.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, LinkType, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::highlight::{Highlights, highlight, language};
use super::table::{Table, TableStyles};
use super::wrap::{Frag, Row, hard_wrap, truncate, wrap};
use crate::tui::theme::Theme;

/// Columns kept for content however deep the nesting (or half the width, if less):
/// prefixes are cut to leave this many.
const MIN_CONTENT: usize = 10;
/// The gutter drawn before every line of a block quote.
const QUOTE_GUTTER: &str = "▌ ";
/// The indentation of code block lines.
const CODE_INDENT: &str = "  ";

/// Something that prefixes each line of the blocks inside it.
#[derive(Debug)]
enum Container {
    /// A block quote: a gutter on every line.
    Quote,
    /// A list item: its marker on the first line, as many spaces on the others.
    Item { marker: String, pending: bool },
    /// Plain indentation.
    Indent(&'static str),
}

/// A link or image whose text is being collected.
struct Link {
    url: String,
    kind: LinkType,
    image: bool,
    start: usize,
}

/// A code block whose text is being collected.
struct Code {
    lang: Option<String>,
    text: String,
}

/// Walks the events of one document into lines.
pub(super) struct Writer<'t> {
    theme: &'t Theme,
    width: usize,
    lines: Vec<Line<'static>>,
    containers: Vec<Container>,
    inline: Vec<Frag>,
    styles: Vec<Style>,
    pending_blank: bool,
    blank_before: Option<usize>,
    lists: Vec<Option<u64>>,
    links: Vec<Link>,
    code: Option<Code>,
    table: Option<Table>,
    memo: Option<&'t mut Highlights>,
    /// The number of the next code block in `memo`.
    blocks: usize,
}

impl<'t> Writer<'t> {
    /// A writer for lines at most `width` (at least 1) columns wide, taking code blocks
    /// highlighted earlier from `memo` when given one, numbering them from `first_block`.
    pub(super) fn new(
        theme: &'t Theme,
        width: usize,
        memo: Option<&'t mut Highlights>,
        first_block: usize,
    ) -> Writer<'t> {
        Writer {
            theme,
            width: width.max(1),
            lines: Vec::new(),
            containers: Vec::new(),
            inline: Vec::new(),
            styles: Vec::new(),
            pending_blank: false,
            blank_before: None,
            lists: Vec::new(),
            links: Vec::new(),
            code: None,
            table: None,
            memo,
            blocks: first_block,
        }
    }

    /// The lines written, after any unfinished text is flushed.
    pub(super) fn finish(mut self) -> Vec<Line<'static>> {
        self.flush_inline();
        let width = self.width;
        self.lines
            .into_iter()
            .map(|line| {
                if line.width() <= width {
                    line
                } else {
                    Line::from(truncate(line.spans, width))
                }
            })
            .collect()
    }

    /// Handles one parser event.
    pub(super) fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text),
            Event::Code(text) | Event::InlineMath(text) | Event::DisplayMath(text) => {
                let style = self.current().patch(self.theme.style("markdown.code"));
                self.inline.push((text.to_string(), style));
            }
            Event::Html(text) | Event::InlineHtml(text) => self.text(&text),
            Event::FootnoteReference(label) => self.push_text(format!("[^{label}]")),
            Event::SoftBreak => self.push_text(" ".to_string()),
            Event::HardBreak => self.push_text("\n".to_string()),
            Event::Rule => self.rule(),
            Event::TaskListMarker(done) => self.task_marker(done),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph
            | Tag::HtmlBlock
            | Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.open_block(),
            Tag::Heading { level, .. } => self.start_heading(level),
            Tag::BlockQuote(_) => {
                self.open_block();
                self.containers.push(Container::Quote);
                self.push_style("markdown.quote", Modifier::empty());
            }
            Tag::CodeBlock(kind) => self.start_code(kind),
            Tag::List(first) => {
                self.open_block();
                self.lists.push(first);
            }
            Tag::Item => self.start_item(),
            Tag::Table(aligns) => {
                self.open_block();
                self.table = Some(Table::new(aligns));
                self.push_style("markdown.table", Modifier::empty());
            }
            Tag::TableHead => self.push_style("markdown.table", Modifier::BOLD),
            Tag::TableRow | Tag::TableCell => {}
            Tag::Emphasis => self.push_style("markdown.emphasis", Modifier::ITALIC),
            Tag::Strong => self.push_style("markdown.strong", Modifier::BOLD),
            Tag::Strikethrough => self.push_style("markdown.strikethrough", Modifier::CROSSED_OUT),
            Tag::Superscript | Tag::Subscript => self.push_style("markdown", Modifier::empty()),
            Tag::Link {
                link_type,
                dest_url,
                ..
            } => self.start_link(link_type, &dest_url, false),
            Tag::Image {
                link_type,
                dest_url,
                ..
            } => self.start_link(link_type, &dest_url, true),
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph
            | TagEnd::HtmlBlock
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_) => self.close_block(),
            TagEnd::Heading(_) => {
                self.close_block();
                self.styles.pop();
            }
            TagEnd::BlockQuote(_) => {
                self.close_block();
                self.containers.pop();
                self.styles.pop();
            }
            TagEnd::CodeBlock => self.end_code(),
            TagEnd::List(_) => {
                self.lists.pop();
                self.pending_blank |= self.lists.is_empty();
            }
            TagEnd::Item => self.end_item(),
            TagEnd::Table => self.end_table(),
            TagEnd::TableHead => {
                self.styles.pop();
                self.end_row();
            }
            TagEnd::TableRow => self.end_row(),
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.inline);
                if let Some(table) = &mut self.table {
                    table.push_cell(cell);
                }
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript => {
                self.styles.pop();
            }
            TagEnd::Link | TagEnd::Image => self.end_link(),
        }
    }

    /// The style of inline text here: the innermost pushed style.
    fn current(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_style(&mut self, role: &str, modifier: Modifier) {
        let style = self
            .current()
            .patch(self.theme.style(role))
            .add_modifier(modifier);
        self.styles.push(style);
    }

    fn text(&mut self, text: &str) {
        match &mut self.code {
            Some(code) => code.text.push_str(text),
            None => self.push_text(text.to_string()),
        }
    }

    fn push_text(&mut self, text: String) {
        let style = self.current();
        self.inline.push((text, style));
    }

    /// Starts a block: writes inline text left over from a tight list item, and moves the
    /// blank line owed by the block before to this block's first line, drawn under the
    /// containers open now (an empty block writes neither).
    fn open_block(&mut self) {
        self.flush_inline();
        if self.pending_blank && !self.lines.is_empty() {
            let depth = self.containers.len();
            self.blank_before = Some(self.blank_before.map_or(depth, |d| d.min(depth)));
        }
        self.pending_blank = false;
    }

    /// Ends a block: writes its text and owes a blank line to the next block.
    fn close_block(&mut self) {
        self.flush_inline();
        self.pending_blank = true;
    }

    /// Word-wraps the inline buffer into lines under the current prefixes.
    fn flush_inline(&mut self) {
        if self.inline.is_empty() {
            return;
        }
        let mut frags = std::mem::take(&mut self.inline);
        // An HTML block's text ends with its newline; a trailing break would be an empty line.
        while let Some((text, _)) = frags.last_mut() {
            let kept = text.trim_end_matches('\n').len();
            text.truncate(kept);
            if !text.is_empty() {
                break;
            }
            frags.pop();
        }
        if frags.is_empty() {
            return;
        }
        let rows = wrap(&frags, self.content_width());
        self.emit_rows(rows);
    }

    /// Writes content rows, each after the current prefixes.
    fn emit_rows(&mut self, rows: Vec<Row>) {
        if rows.is_empty() {
            return;
        }
        if let Some(depth) = self.blank_before.take() {
            let mut prefix = self.prefix(false, depth);
            trim_end(&mut prefix);
            self.lines.push(Line::from(prefix));
        }
        for row in rows {
            let mut spans = self.prefix(true, usize::MAX);
            if row.is_empty() {
                trim_end(&mut spans);
            }
            spans.extend(row);
            self.lines.push(Line::from(spans));
        }
    }

    /// The prefixes of the outermost `depth` open containers, cut to leave room for content.
    /// With `consume`, pending list markers are drawn (once); otherwise they show as spaces.
    fn prefix(&mut self, consume: bool, depth: usize) -> Row {
        let budget = self.prefix_budget();
        let quote = self.theme.style("markdown.quote");
        let marker_style = self.theme.style("markdown.list_marker");
        let mut spans = Vec::new();
        for container in self.containers.iter_mut().take(depth) {
            match container {
                Container::Quote => spans.push(Span::styled(QUOTE_GUTTER, quote)),
                Container::Item { marker, pending } if *pending && consume => {
                    *pending = false;
                    spans.push(Span::styled(marker.clone(), marker_style));
                }
                Container::Item { marker, .. } => spans.push(Span::raw(" ".repeat(marker.width()))),
                Container::Indent(indent) => spans.push(Span::raw(*indent)),
            }
        }
        truncate(spans, budget)
    }

    /// The columns left for content after the prefixes.
    fn content_width(&self) -> usize {
        let prefix: usize = self
            .containers
            .iter()
            .map(|c| match c {
                Container::Quote => QUOTE_GUTTER.width(),
                Container::Item { marker, .. } => marker.width(),
                Container::Indent(indent) => indent.width(),
            })
            .sum();
        self.width - prefix.min(self.prefix_budget())
    }

    /// The most columns prefixes may take.
    fn prefix_budget(&self) -> usize {
        let content = MIN_CONTENT.min(self.width / 2).max(1);
        self.width - content
    }

    fn start_heading(&mut self, level: HeadingLevel) {
        self.open_block();
        let n = level as usize;
        let role = format!("markdown.heading.{n}");
        let modifier = match level {
            HeadingLevel::H1 => Modifier::BOLD | Modifier::UNDERLINED,
            _ => Modifier::BOLD,
        };
        self.push_style(&role, modifier);
        if n >= 3 {
            self.push_text(format!("{} ", "#".repeat(n)));
        }
    }

    fn start_item(&mut self) {
        self.open_block();
        let depth = self.lists.len().saturating_sub(1);
        let marker = match self.lists.last_mut() {
            Some(Some(number)) => {
                let marker = format!("{number}. ");
                *number = number.saturating_add(1);
                marker
            }
            Some(None) | None if depth.is_multiple_of(2) => "• ".to_string(),
            Some(None) | None => "◦ ".to_string(),
        };
        self.containers.push(Container::Item {
            marker,
            pending: true,
        });
    }

    fn end_item(&mut self) {
        self.flush_inline();
        if let Some(Container::Item { pending: true, .. }) = self.containers.last() {
            self.emit_rows(vec![Vec::new()]);
        }
        self.containers.pop();
    }

    /// Shows a task box in place of the item's bullet, while its first line is unwritten.
    fn task_marker(&mut self, done: bool) {
        let mark = if done { "[x] " } else { "[ ] " };
        match self.containers.last_mut() {
            Some(Container::Item { marker, pending }) if *pending => *marker = mark.to_string(),
            _ => self.push_text(mark.to_string()),
        }
    }

    fn start_link(&mut self, kind: LinkType, url: &str, image: bool) {
        self.push_style("markdown.link", Modifier::empty());
        if image {
            self.push_text("[image: ".to_string());
        }
        self.links.push(Link {
            url: url.to_string(),
            kind,
            image,
            start: self.inline.len(),
        });
    }

    /// Closes a link as `label (url)`, or just the label when it already is the url.
    fn end_link(&mut self) {
        let Some(link) = self.links.pop() else {
            self.styles.pop();
            return;
        };
        if link.image {
            self.push_text("]".to_string());
            self.styles.pop();
            return;
        }
        let label: String = self.inline[link.start.min(self.inline.len())..]
            .iter()
            .map(|(text, _)| text.as_str())
            .collect();
        self.styles.pop();
        let autolink = matches!(link.kind, LinkType::Autolink | LinkType::Email);
        let same = label == link.url || label == link.url.trim_start_matches("mailto:");
        if !autolink && !same && !link.url.is_empty() {
            let style = self.current().patch(self.theme.style("markdown.link"));
            let text = if label.is_empty() {
                link.url
            } else {
                format!(" ({})", link.url)
            };
            self.inline.push((text, style));
        }
    }

    fn rule(&mut self) {
        self.open_block();
        let style = self.theme.style("markdown.rule");
        let rule = "─".repeat(self.content_width());
        self.emit_rows(vec![vec![Span::styled(rule, style)]]);
        self.pending_blank = true;
    }

    fn start_code(&mut self, kind: CodeBlockKind<'_>) {
        self.open_block();
        let lang = match kind {
            CodeBlockKind::Fenced(info) => language(&info).map(str::to_string),
            CodeBlockKind::Indented => None,
        };
        self.code = Some(Code {
            lang,
            text: String::new(),
        });
    }

    /// Writes a finished code block: the language label, then each line highlighted and
    /// hard-wrapped so nothing is hidden.
    fn end_code(&mut self) {
        let Some(code) = self.code.take() else {
            return;
        };
        self.containers.push(Container::Indent(CODE_INDENT));
        let width = self.content_width();
        if let Some(lang) = &code.lang {
            let label = self.theme.style("markdown.code_block.label");
            self.emit_rows(hard_wrap(vec![(lang.clone(), label)], width));
        }
        let base = self
            .current()
            .patch(self.theme.style("markdown.code_block"));
        let body = code.text.strip_suffix('\n').unwrap_or(&code.text);
        if !body.is_empty() {
            for line in highlight(
                body,
                code.lang.as_deref(),
                self.theme,
                base,
                self.memo.as_deref_mut().map(|m| m.block(self.blocks)),
            ) {
                self.emit_rows(hard_wrap(line, width));
            }
        }
        self.blocks += 1;
        self.containers.pop();
        self.pending_blank = true;
    }

    fn end_row(&mut self) {
        if let Some(table) = &mut self.table {
            table.end_row();
        }
    }

    fn end_table(&mut self) {
        self.styles.pop();
        let Some(table) = self.table.take() else {
            return;
        };
        let styles = TableStyles {
            border: self.theme.style("markdown.table.border"),
        };
        let rows = table.render(self.content_width(), &styles);
        self.emit_rows(rows);
        self.pending_blank = true;
    }
}

/// Drops trailing spaces, so blank lines inside containers carry no trailing whitespace.
fn trim_end(row: &mut Row) {
    while let Some(last) = row.last_mut() {
        let trimmed = last.content.trim_end();
        if trimmed.is_empty() {
            row.pop();
        } else {
            if trimmed.len() != last.content.len() {
                last.content = trimmed.to_string().into();
            }
            return;
        }
    }
}
