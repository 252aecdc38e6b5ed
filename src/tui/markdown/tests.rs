//! Tests of markdown rendering: whole values on small inputs, the width invariant over every
//! fixture, no panics on hostile or half-streamed input, and snapshots of a long answer.

use std::collections::{HashMap, HashSet};

use proptest::strategy::Strategy;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;

use super::{Highlights, code_blocks, render, render_cached};
use crate::tui::theme::Theme;

fn plain_theme() -> Theme {
    Theme::from_roles("plain", "base16-ocean.dark", HashMap::new())
}

fn color_theme() -> Theme {
    let roles = [
        (
            "markdown.heading",
            Style::new().fg(Color::Rgb(200, 120, 50)),
        ),
        ("markdown.code", Style::new().fg(Color::Rgb(120, 200, 120))),
        ("markdown.link", Style::new().fg(Color::Rgb(80, 120, 250))),
        ("markdown.quote", Style::new().fg(Color::Rgb(150, 150, 150))),
    ];
    let roles = roles
        .into_iter()
        .map(|(role, style)| (role.to_string(), style))
        .collect();
    Theme::from_roles("color", "base16-ocean.dark", roles)
}

/// The text of each line, spans joined.
fn text(lines: &[Line<'_>]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

fn plain(md: &str, width: u16) -> Vec<String> {
    text(&render(md, width, &plain_theme()))
}

const ANSWER: &str = r#"# Reading a file in Rust

There are a few ways to read a file. The *simplest* is `std::fs::read_to_string`, which
reads the **whole file** into memory at once — fine for configuration, not for logs.

## Options

1. `read_to_string` for small text files
2. `BufReader` for line-by-line reading:
   - it keeps memory flat
   - it handles ~~huge~~ large files
3. Memory mapping, if you need random access

- [x] handle errors
- [ ] handle non-UTF-8 input

> **Note:** errors are values in Rust. A missing file is an `io::Error` of kind
> `NotFound`, not a crash.
>
> > Nested quotes work too.

| Method | Memory | Best for |
|:-------|:------:|---------:|
| `read_to_string` | whole file | configs |
| `BufReader::lines` | one line | logs and other long streams |

```rust
use std::fs;

fn main() -> std::io::Result<()> {
    let text = fs::read_to_string("notes.txt")?; // may fail
    println!("{} bytes", text.len());
    Ok(())
}
```

See [the std docs](https://doc.rust-lang.org/std/fs/) or <https://rust-lang.org>.

---

That's all!"#;

/// Every fixture the width invariant is checked over.
fn fixtures() -> Vec<String> {
    let mut all: Vec<String> = [
        ANSWER,
        "",
        "```",
        "```rust\nfn main() {\n",
        "*",
        "**bol",
        "[link](",
        "| a | b |\n|---|",
        "| a | b |\n|---|---|\n| 1 |",
        "- a\n  - b\n    - c\n      - d\n        - e\n          - f\n            - g\n              - h",
        "> > > > > > > > > > > deep quote with some words in it",
        "日本語のテキストはとても長いのでここで折り返す必要があります。",
        "emoji 👨‍👩‍👧 party 🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉 and ｆｕｌｌｗｉｄｔｈ",
        "```\n日本語のコード🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉\n```",
        "<div>\n<b>html</b>\n</div>",
        "line one  \nline two\\\nline three",
        "    indented code\n    block",
        "---",
        "# \n## ",
        "- \n1. ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all.push("x".repeat(2000));
    all.push(format!("- {}", "y".repeat(2000)));
    all.push(format!("```\n{}\n```", "z".repeat(2000)));
    let wide_table = (0..12)
        .map(|i| format!("column number {i}"))
        .collect::<Vec<_>>();
    all.push(format!(
        "| {} |\n|{}|\n| {} |",
        wide_table.join(" | "),
        "---|".repeat(12),
        wide_table.join(" | ")
    ));
    all.push(format!("- nest\n{}- deep", "  ".repeat(60)));
    all.push("> - [x] quoted task\n>   ```py\n>   print('hi')\n>   ```".to_string());
    all
}

#[test]
fn every_line_fits_the_width() {
    for md in fixtures() {
        for width in [80u16, 40, 20, 1] {
            for (i, line) in render(&md, width, &color_theme()).iter().enumerate() {
                assert!(
                    line.width() <= usize::from(width),
                    "line {i} is {} wide at width {width} for {md:?}: {line:?}",
                    line.width()
                );
            }
        }
    }
}

#[test]
fn never_panics_on_nasty_or_partial_input() {
    let nested = "- a\n".to_string()
        + &(1..200)
            .map(|i| format!("{}- x\n", "  ".repeat(i)))
            .collect::<String>();
    let mut inputs = fixtures();
    inputs.push(nested);
    inputs.push("*".repeat(500));
    inputs.push("[".repeat(300) + &"]".repeat(300));
    inputs.push(">".repeat(500));
    // Every prefix of the long answer, as a stream would deliver it.
    inputs.extend(ANSWER.char_indices().map(|(i, _)| ANSWER[..i].to_string()));
    for md in &inputs {
        for width in [0u16, 1, 2, 3, 7, 40] {
            let lines = render(md, width, &plain_theme());
            assert!(lines.iter().all(|l| l.width() <= usize::from(width)));
        }
        code_blocks(md);
    }
}

#[test]
fn zero_width_renders_nothing() {
    assert!(render(ANSWER, 0, &plain_theme()).is_empty());
}

#[test]
fn paragraphs_wrap_at_words_with_a_blank_line_between() {
    assert_eq!(
        plain("one two three four\nfive\n\nnext paragraph", 9),
        ["one two", "three", "four five", "", "next", "paragraph"]
    );
}

#[test]
fn words_longer_than_the_width_are_broken() {
    assert_eq!(plain("ab abcdefghij", 4), ["ab", "abcd", "efgh", "ij"]);
}

#[test]
fn wide_characters_wrap_by_columns() {
    assert_eq!(plain("日本語です", 4), ["日本", "語で", "す"]);
    assert_eq!(plain("日本", 1), ["…", "…"]);
}

#[test]
fn breaks_soft_and_hard() {
    assert_eq!(plain("a\nb  \nc", 20), ["a b", "c"]);
}

#[test]
fn headings_are_bold_with_markers_from_level_three() {
    let md = "# Title\n\n## Part\n\n### Detail\n\ntext";
    assert_eq!(
        plain(md, 20),
        ["Title", "", "Part", "", "### Detail", "", "text"]
    );
    let lines = render(md, 20, &color_theme());
    let title = &lines[0].spans[0];
    assert!(title.style.add_modifier.contains(Modifier::BOLD));
    assert_eq!(title.style.fg, Some(Color::Rgb(200, 120, 50)));
}

#[test]
fn inline_styles_follow_their_roles() {
    let lines = render("*it* **bo** ~~st~~ `co`", 40, &color_theme());
    let spans: Vec<(String, Style)> = lines[0]
        .spans
        .iter()
        .map(|s| (s.content.to_string(), s.style))
        .collect();
    let code = Style::new().fg(Color::Rgb(120, 200, 120));
    assert_eq!(
        spans,
        [
            (
                "it".to_string(),
                Style::new().add_modifier(Modifier::ITALIC)
            ),
            (" ".to_string(), Style::new()),
            ("bo".to_string(), Style::new().add_modifier(Modifier::BOLD)),
            (" ".to_string(), Style::new()),
            (
                "st".to_string(),
                Style::new().add_modifier(Modifier::CROSSED_OUT)
            ),
            (" ".to_string(), Style::new()),
            ("co".to_string(), code),
        ]
    );
}

#[test]
fn nested_lists_indent_continuation_lines() {
    let md = "- first item wraps\n- b\n  - nested wraps too\n- c\n\n1. one\n2. two";
    assert_eq!(
        plain(md, 12),
        [
            "• first item",
            "  wraps",
            "• b",
            "  ◦ nested",
            "    wraps",
            "    too",
            "• c",
            "",
            "1. one",
            "2. two",
        ]
    );
}

#[test]
fn loose_lists_keep_blank_lines_between_items() {
    assert_eq!(plain("3. a\n\n4. b", 20), ["3. a", "", "4. b"]);
}

#[test]
fn task_items_show_their_box() {
    assert_eq!(
        plain("- [x] done\n- [ ] to do later", 12),
        ["[x] done", "[ ] to do", "    later"]
    );
}

#[test]
fn quotes_have_a_gutter_on_every_line() {
    assert_eq!(
        plain("> one two three\n>\n> > four five", 9),
        ["▌ one two", "▌ three", "▌", "▌ ▌ four", "▌ ▌ five"]
    );
}

#[test]
fn tables_are_boxed_and_aligned() {
    let md = "| a | bb |\n|---|---:|\n| 1 | 2 |\n| 333 | |";
    assert_eq!(
        plain(md, 40),
        [
            "┌─────┬────┐",
            "│ a   │ bb │",
            "├─────┼────┤",
            "│ 1   │  2 │",
            "│ 333 │    │",
            "└─────┴────┘",
        ]
    );
}

#[test]
fn tables_wrap_cells_to_fit() {
    let md = "| k | value |\n|---|---|\n| a | one two three |";
    assert_eq!(
        plain(md, 13),
        [
            "┌───┬───────┐",
            "│ k │ value │",
            "├───┼───────┤",
            "│ a │ one   │",
            "│   │ two   │",
            "│   │ three │",
            "└───┴───────┘",
        ]
    );
}

#[test]
fn tables_too_narrow_for_a_grid_stack_their_rows() {
    let md = "| k | v |\n|---|---|\n| a | 1 |\n| b | 2 |";
    assert_eq!(plain(md, 8), ["k: a", "v: 1", "", "k: b", "v: 2"]);
}

#[test]
fn links_show_their_url_when_it_differs() {
    assert_eq!(
        plain(
            "[docs](https://d.rs) <https://a.b> [https://c.d](https://c.d) ![cat](c.png)",
            80
        ),
        ["docs (https://d.rs) https://a.b https://c.d [image: cat]"]
    );
}

#[test]
fn rules_span_the_width() {
    assert_eq!(plain("a\n\n---\n\nb", 5), ["a", "", "─────", "", "b"]);
}

#[test]
fn code_blocks_are_labelled_and_hard_wrapped() {
    let md = "```rust\nlet x = 1;\n\nlet yy = 2;\n```\n\nafter";
    assert_eq!(
        plain(md, 8),
        [
            "  rust", "  let x ", "  = 1;", "", "  let yy", "   = 2;", "", "after"
        ]
    );
}

#[test]
fn unknown_languages_and_unclosed_fences_render_plainly() {
    let lines = render("```nosuchlang\nsome code", 40, &color_theme());
    assert_eq!(text(&lines), ["  nosuchlang", "  some code"]);
    assert_eq!(lines[1].spans[1].style.fg, None);
    assert_eq!(plain("```", 10), Vec::<String>::new());
    assert_eq!(plain("a\n\n```\n```\n\nb", 10), ["a", "", "b"]);
}

#[test]
fn partial_markup_renders_as_text() {
    assert_eq!(plain("so **bol", 20), ["so **bol"]);
    assert_eq!(plain("| a | b |\n|--", 20), ["| a | b | |--"]);
}

#[test]
fn html_is_shown_as_text() {
    assert_eq!(
        plain("<div>\n<b>hi</b>\n</div>\n\nx <br> y", 20),
        ["<div>", "<b>hi</b>", "</div>", "", "x <br> y"]
    );
}

#[test]
fn rust_code_is_highlighted_in_several_colours() {
    let md = "```rust\nfn main() {\n    let answer: u32 = 42; // why\n    println!(\"{answer}\");\n}\n```";
    let lines = render(md, 80, &color_theme());
    let colours: HashSet<Color> = lines[1..]
        .iter()
        .flat_map(|l| l.spans.iter().filter_map(|s| s.style.fg))
        .collect();
    assert!(colours.len() > 1, "only {colours:?}");
}

#[test]
fn an_unknown_syntax_theme_falls_back() {
    let theme = Theme::from_roles("odd", "no-such-theme", HashMap::new());
    let lines = render("```rust\nfn main() {}\n```", 80, &theme);
    assert!(lines[1].spans.iter().any(|s| s.style.fg.is_some()));
}

#[test]
fn code_blocks_are_listed_in_order() {
    let md = "```sh\nls -l\n```\n\ntext\n\n    indented\n\n```\nlast\nblock\n```";
    assert_eq!(code_blocks(md), ["ls -l", "indented", "last\nblock"]);
    assert_eq!(code_blocks("```py\nprint(1)"), ["print(1)"]);
    assert!(code_blocks("no code").is_empty());
}

#[test]
fn snapshot_answer_at_80() {
    insta::assert_snapshot!(plain(ANSWER, 80).join("\n"));
}

#[test]
fn snapshot_answer_at_40() {
    insta::assert_snapshot!(plain(ANSWER, 40).join("\n"));
}

/// Highlighting resumed from a memo, character by character through two code blocks (one in
/// a list, so with another base style), gives exactly what highlighting from scratch gives.
#[test]
fn a_growing_text_renders_as_from_scratch() {
    let theme = color_theme();
    let text = "Some code:\n\n```rust\nfn main() {\n    let s = \"a /* b\";\n    /* open\n    comment */\n}\n```\n\n- item\n\n  ```python\n  def f(x):\n      return x  # done\n  ```\n\nafter";
    let mut memo = Highlights::default();
    for (i, _) in text.char_indices().skip(1) {
        let prefix = &text[..i];
        assert_eq!(
            render_cached(prefix, 40, &theme, &mut memo),
            render(prefix, 40, &theme),
            "{prefix:?}"
        );
    }
    // Kept blocks serve other widths and a changed block; another theme is not served them.
    for width in [40, 25, 60] {
        assert_eq!(
            render_cached(text, width, &theme, &mut memo),
            render(text, width, &theme)
        );
    }
    let changed = text.replace("return x", "return y");
    assert_eq!(
        render_cached(&changed, 40, &theme, &mut memo),
        render(&changed, 40, &theme)
    );
    let other = Theme::from_roles("other", "InspiredGitHub", HashMap::new());
    assert_eq!(
        render_cached(text, 40, &other, &mut memo),
        render(text, 40, &other)
    );
}

/// Markdown syntax, escape sequences and wide or combining characters, for the property below.
const MARKDOWN: &[&str] = &[
    "# ",
    "**",
    "*",
    "`",
    "```rust\n",
    "```\n",
    "> ",
    "- ",
    "1. ",
    "| a | b |\n",
    "|---|---|\n",
    "[x](http://h)",
    "\n",
    "\n\n",
    "\u{1b}]52;c;aGk=\u{7}",
    "\u{1b}[2J",
    "\t",
    "\r",
    "\u{202e}",
    "漢字",
    "e\u{301}",
    "   ",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
    /// Whatever a model writes, made inert and rendered as markdown at any width: no panic, and
    /// no control character reaches a span.
    #[test]
    fn any_answer_renders_inert(
        text in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::sample::select(MARKDOWN).prop_map(str::to_string),
                proptest::prelude::any::<String>(),
            ],
            0..30,
        ).prop_map(|v| v.concat()),
        width in 1u16..120,
    ) {
        let text = libre_assistant::text::inert(&text);
        for theme in [plain_theme(), color_theme()] {
            for line in render(&text, width, &theme) {
                for span in &line.spans {
                    proptest::prop_assert!(
                        !span.content.chars().any(|c| c.is_control()),
                        "{:?}",
                        span.content
                    );
                }
            }
        }
    }
}
