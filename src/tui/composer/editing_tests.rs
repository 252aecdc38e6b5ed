//! Editing, history and completion tests: each compares the whole text with the cursor
//! marked as `|`.

use super::{Composer, MenuItem};

/// A composer holding `marked` with the cursor at its `|`.
fn composer(marked: &str) -> Composer {
    let cursor = marked.find('|').expect("a | marks the cursor");
    let mut composer = Composer::new();
    composer.set_text(&marked.replacen('|', "", 1));
    composer.cursor = cursor;
    composer
}

/// The text with `|` at the cursor.
fn marked(composer: &Composer) -> String {
    let mut text = composer.text().to_string();
    text.insert(composer.cursor(), '|');
    text
}

/// Runs `edit` on `before` and returns the marked result.
fn after(before: &str, edit: impl FnOnce(&mut Composer)) -> String {
    let mut c = composer(before);
    edit(&mut c);
    marked(&c)
}

#[test]
fn typing_and_deleting() {
    let mut c = Composer::new();
    assert!(c.is_empty() && c.is_blank());
    "héllo".chars().for_each(|ch| c.insert_char(ch));
    c.left();
    c.left();
    c.insert_char('X');
    assert_eq!(marked(&c), "hélX|lo");
    c.backspace();
    c.delete();
    assert_eq!(marked(&c), "hél|o");
    c.newline();
    assert_eq!(marked(&c), "hél\n|o");
    assert_eq!(after("|ab", Composer::backspace), "|ab");
    assert_eq!(after("ab|", Composer::delete), "ab|");
    assert_eq!(after("ab|", |c| c.insert_char('\r')), "ab\n|");
    assert!(composer("  \n\t|").is_blank());
    assert!(!composer("  \n\t|").is_empty());
}

#[test]
fn graphemes_move_and_delete_whole() {
    let mut c = Composer::new();
    c.insert_char('e');
    c.insert_char('\u{301}');
    assert_eq!(marked(&c), "e\u{301}|");
    c.left();
    assert_eq!(marked(&c), "|e\u{301}");
    c.right();
    c.backspace();
    assert_eq!(marked(&c), "|");

    let twice_left = |c: &mut Composer| {
        c.left();
        c.left();
    };
    assert_eq!(after("a👍🏽b|", twice_left), "a|👍🏽b");
    assert_eq!(after("a|👍🏽b", Composer::delete), "a|b");
    assert_eq!(after("a👍🏽|b", Composer::backspace), "a|b");
    assert_eq!(after("你好|世界", Composer::right), "你好世|界");
    assert_eq!(after("🇫🇷🇩🇪|", Composer::backspace), "🇫🇷|");
}

#[test]
fn edits_keep_the_cursor_on_a_grapheme_boundary() {
    // Typing a base before a lone combining mark merges them: the cursor goes after both.
    assert_eq!(after("|\u{301}x", |c| c.insert_char('e')), "e\u{301}|x");
    // Deleting the line break between a letter and a mark merges them too.
    assert_eq!(after("e\n|\u{301}", Composer::backspace), "e\u{301}|");
}

#[test]
fn word_moves() {
    let text = "let x = foo_bar(1, 2);  \nnext";
    assert_eq!(
        after(&format!("{text}|"), Composer::word_left),
        "let x = foo_bar(1, 2);  \n|next"
    );
    assert_eq!(
        after("let x = foo_bar(1, 2);|", Composer::word_left),
        "let x = foo_bar(1, 2|);"
    );
    assert_eq!(
        after("let x = foo_bar(|1", Composer::word_left),
        "let x = foo_bar|(1"
    );
    assert_eq!(
        after("let x = foo_bar|(1", Composer::word_left),
        "let x = |foo_bar(1"
    );
    assert_eq!(after("a   |b", Composer::word_left), "|a   b");
    assert_eq!(after("|  let x", Composer::word_right), "  let| x");
    assert_eq!(after("let| x = 1", Composer::word_right), "let x| = 1");
    assert_eq!(after("foo_bar|(1)", Composer::word_right), "foo_bar(|1)");
    assert_eq!(after("end|  \n", Composer::word_right), "end  \n|");
    assert_eq!(
        after("日本語 テキスト|", Composer::word_left),
        "日本語 |テキスト"
    );
    assert_eq!(
        after("café\u{301}s| x", Composer::word_left),
        "|café\u{301}s x"
    );
}

#[test]
fn line_start_and_end() {
    assert_eq!(after("ab\ncd|e\nf", Composer::line_start), "ab\n|cde\nf");
    assert_eq!(after("ab\nc|de\nf", Composer::line_end), "ab\ncde|\nf");
    assert_eq!(after("ab|", Composer::line_start), "|ab");
}

#[test]
fn up_and_down_keep_the_display_column() {
    let mut c = composer("你好世界\nabcd|efgh");
    assert!(c.up());
    assert_eq!(marked(&c), "你好|世界\nabcdefgh");
    assert!(!c.up());
    assert!(c.down());
    assert_eq!(marked(&c), "你好世界\nabcd|efgh");
    assert!(!c.down());
    // Column 3 falls inside a wide char: stop before it.
    assert_eq!(after("你好\nabc|", |c| assert!(c.up())), "你|好\nabc");
    assert_eq!(after("a👍🏽b\nabc|", |c| assert!(c.up())), "a👍🏽|b\nabc");
    assert_eq!(
        after("e\u{301}x\nab|", |c| assert!(c.up())),
        "e\u{301}x|\nab"
    );
}

#[test]
fn vertical_moves_remember_the_goal_column() {
    let mut c = composer("abcdef\nab\n\nabcdef|");
    c.up();
    assert_eq!(marked(&c), "abcdef\nab\n|\nabcdef");
    c.up();
    assert_eq!(marked(&c), "abcdef\nab|\n\nabcdef");
    c.up();
    assert_eq!(marked(&c), "abcdef|\nab\n\nabcdef");
    // Any other move forgets the goal.
    c.down();
    c.left();
    c.up();
    assert_eq!(marked(&c), "a|bcdef\nab\n\nabcdef");
}

#[test]
fn history_browses_like_a_shell() {
    let mut c = Composer::new();
    assert!(!c.history_prev());
    for text in ["first", "second\nline", "second\nline", "   ", "third"] {
        c.set_text(text);
        assert_eq!(c.take(), text);
    }
    assert_eq!(c.history, ["first", "second\nline", "third"]);
    assert!(!c.history_next());
    c.insert_str("draft");
    assert!(c.history_prev());
    assert_eq!(marked(&c), "third|");
    assert!(c.history_prev());
    assert_eq!(marked(&c), "second\nline|");
    assert!(c.history_prev());
    assert!(!c.history_prev());
    assert_eq!(marked(&c), "first|");
    assert!(c.history_next());
    assert!(c.history_next());
    assert!(c.history_next());
    assert_eq!(marked(&c), "draft|");
    assert!(!c.history_next());
    // Sending ends browsing and forgets the draft.
    c.history_prev();
    assert_eq!(c.take(), "third");
    assert_eq!(c.history.len(), 3);
    assert!(c.history_prev());
    assert!(c.history_next());
    assert_eq!(marked(&c), "|");
}

#[test]
fn history_keeps_the_newest_500() {
    let mut c = Composer::new();
    for i in 0..510 {
        c.set_text(&i.to_string());
        c.take();
    }
    assert_eq!(c.history.len(), 500);
    assert_eq!(c.history.first().map(String::as_str), Some("10"));
    assert_eq!(c.history.last().map(String::as_str), Some("509"));
}

#[test]
fn kills() {
    assert_eq!(after("ab\ncd|ef", Composer::kill_to_line_start), "ab\n|ef");
    assert_eq!(after("ab\n|ef", Composer::kill_to_line_start), "ab|ef");
    assert_eq!(after("|ef", Composer::kill_to_line_start), "|ef");
    assert_eq!(after("ab|cd\nef", Composer::kill_to_line_end), "ab|\nef");
    assert_eq!(after("ab|\nef", Composer::kill_to_line_end), "ab|ef");
    assert_eq!(after("ab|", Composer::kill_to_line_end), "ab|");
    assert_eq!(after("say hello  |x", Composer::kill_word_before), "say |x");
    assert_eq!(after("a.b(c|", Composer::kill_word_before), "a.b(|");
    assert_eq!(after("|x", Composer::kill_word_before), "|x");
}

#[test]
fn paste_normalises_line_endings() {
    assert_eq!(
        after("<|>", |c| c.insert_str("a\r\nb\rc\n\r\nd")),
        "<a\nb\nc\n\nd|>"
    );
    let mut c = Composer::new();
    c.set_text("x\r\ny");
    assert_eq!(c.text(), "x\ny");
}

#[test]
fn a_megabyte_paste_is_one_insertion() {
    let line = "fn main() { println!(\"héllo 👍🏽\"); }\r\n";
    let paste = line.repeat((1 << 20) / line.len());
    let mut c = composer("before | after");
    c.insert_str(&paste);
    let expected = format!("before {} after", paste.replace("\r\n", "\n"));
    assert_eq!(c.text(), expected);
    assert_eq!(c.cursor(), expected.len() - " after".len());
}

#[test]
fn completions_list_matching_commands() {
    let names = |text: &str| -> Vec<String> {
        composer(&format!("{text}|"))
            .completions()
            .iter()
            .map(|c| c.word.trim_start_matches('/').to_owned())
            .collect::<Vec<String>>()
    };
    assert_eq!(
        names("/"),
        [
            "model", "system", "clear", "theme", "help", "quit", "copy", "retry", "edit"
        ]
    );
    assert_eq!(names("/c"), ["clear", "copy"]);
    assert_eq!(names("/mo"), ["model"]);
    assert!(names("/model ").is_empty());
    assert!(names("/x").is_empty());
    assert!(names("//").is_empty());
    assert!(names("hi /m").is_empty());
    assert!(names("/m\n").is_empty());
}

#[test]
fn complete_fills_in_the_name() {
    let completed = |text: &str| {
        let mut c = composer(&format!("{text}|"));
        let changed = c.complete();
        (changed, marked(&c))
    };
    assert_eq!(completed("/m"), (true, "/model |".to_string()));
    assert_eq!(completed("/model"), (true, "/model |".to_string()));
    assert_eq!(completed("/c"), (false, "/c|".to_string()));
    assert_eq!(completed("/co"), (true, "/copy |".to_string()));
    assert_eq!(completed("/"), (false, "/|".to_string()));
    assert_eq!(completed("/zz"), (false, "/zz|".to_string()));
    assert_eq!(completed("hello"), (false, "hello|".to_string()));
}

#[test]
fn complete_uses_the_longest_common_prefix() {
    // No two menu names share more than their first letter, so check the rule directly.
    assert_eq!(super::common_prefix("retry", "rerun"), "re");
    assert_eq!(super::common_prefix("quit", "model"), "");
}

fn resource(word: &str, name: &str) -> MenuItem {
    MenuItem {
        word: word.into(),
        args: String::new(),
        help: name.into(),
    }
}

#[test]
fn resources_match_whole_first_then_letter_by_letter() {
    let mut c = composer("Read @arcmd|");
    c.plugin_resources = vec![
        resource("@docs:file:///architecture.md", "architecture.md"),
        resource("@docs:file:///aurochs.md", "aurochs.md"),
        resource("@docs:file:///arc.md", "arc.md"),
    ];
    let words =
        |c: &Composer| -> Vec<String> { c.completions().into_iter().map(|m| m.word).collect() };
    // Letter by letter, each of them, in the menu's own order.
    assert_eq!(
        words(&c),
        [
            "@docs:file:///architecture.md",
            "@docs:file:///aurochs.md",
            "@docs:file:///arc.md"
        ]
    );
    c.set_text("Read @zq");
    assert!(words(&c).is_empty());
    c.set_text("Read @arc");
    // "arc" is whole in two; "aurochs" holds a, r, c in order only, so it comes last.
    assert_eq!(
        words(&c),
        [
            "@docs:file:///architecture.md",
            "@docs:file:///arc.md",
            "@docs:file:///aurochs.md"
        ]
    );
}

#[test]
fn the_arrow_keys_pick_a_menu_entry_and_tab_puts_it_in() {
    let mut c = composer("/c|");
    assert_eq!(c.picked(), 0);
    assert!(!c.has_pick());
    assert!(c.pick(true), "the first ↓ picks the first entry");
    assert_eq!((c.picked(), c.has_pick()), (0, true));
    assert!(c.pick(true));
    assert_eq!(c.picked(), 1);
    assert!(c.pick(true), "round the end");
    assert_eq!(c.picked(), 0);
    assert!(c.pick(false));
    assert_eq!(c.picked(), 1);
    assert!(c.complete());
    assert_eq!(c.text(), "/copy ");
    // A pick is forgotten once the text changes.
    let mut c = composer("/c|");
    c.pick(true);
    c.pick(true);
    c.insert_char('l');
    assert_eq!((c.picked(), c.has_pick()), (0, false));
    // No menu: the arrows are not taken.
    let mut c = composer("hello|");
    assert!(!c.pick(true));
}
