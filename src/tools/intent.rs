//! What a question asks for, read from its wording alone: knowledge the model has (why, tips,
//! what something stands for), or, in a conversation, the same thing again for another place
//! or amount ("And in Paris?"). Pure and cheap, like the ranking in `rank.rs`; used with
//! `tools.only_relevant` (measured with scripts/eval-tools: small models called a time tool
//! for "why do countries use daylight saving time?", and answered "and in Paris?" by
//! adapting the Tokyo result instead of asking the tool).

use super::ToolSpec;

/// How a question that asks for knowledge starts.
const KNOWLEDGE_OPENINGS: &[&str] = &[
    "why ",
    "explain ",
    "describe ",
    "what makes ",
    "what is the difference ",
    "what's the difference ",
];

/// Phrases anywhere in a question that ask for knowledge, not for a value.
const KNOWLEDGE_PHRASES: &[&str] = &[
    " tips",
    " advice",
    " stand for",
    " stands for",
    " in general",
];

/// How a request to read something first opens.
const READ_OPENINGS: &[&str] = &["read ", "open ", "look at ", "load "];

/// How an elliptical follow-up starts: it names only what changed.
const FOLLOW_UP_OPENINGS: &[&str] = &[
    "and ",
    "what about ",
    "how about ",
    "and what about ",
    "same for ",
    "now for ",
];

/// The longest follow-up, in words: a longer question says what it wants on its own.
const FOLLOW_UP_WORDS: usize = 6;

/// Whether `question` asks for knowledge the model has rather than for a value a tool
/// gives: it opens with "why" or "explain", or asks for tips or what something stands for,
/// and holds no concrete value a tool could take (a digit, a quotation, a path).
pub fn asks_knowledge(question: &str) -> bool {
    let text = format!(" {}", sentences(question));
    let opens = question_starts(question)
        .iter()
        .any(|start| KNOWLEDGE_OPENINGS.iter().any(|o| start.starts_with(o)));
    let asks = opens || KNOWLEDGE_PHRASES.iter().any(|p| text.contains(p));
    asks && !concrete(question)
}

/// Whether `question` is an elliptical follow-up ("And in Paris?", "What about Sydney?",
/// "And over 15 years?"): a short question that opens like one. It asks for the earlier
/// request again with what changed, so it needs a call of its own.
fn follow_up(question: &str) -> bool {
    let text = sentences(question);
    question.split_whitespace().count() <= FOLLOW_UP_WORDS
        && FOLLOW_UP_OPENINGS.iter().any(|o| text.starts_with(o))
}

/// Whether `question` opens by asking to read a path ("Read /tmp/hours.txt. At 25 dollars
/// an hour, how much did I earn?"): the read comes first, and whatever else it asks is
/// done with what the file says.
fn reads_first(question: &str) -> bool {
    let text = question.trim_start().to_lowercase();
    let Some(opening) = READ_OPENINGS.iter().find(|o| text.starts_with(**o)) else {
        return false;
    };
    // The path follows within a few words: "Read the file /tmp/a.txt".
    question.trim_start()[opening.len()..]
        .split_whitespace()
        .take(4)
        .any(|word| super::rank::path_kind(word).is_some())
}

/// Which tools this round must call, if it must: `Some` of the `callable` tools narrowed to
/// those it may call, `None` when the model may answer in words. Each tool's `owners`
/// (plugin, tool) and this turn's `called` ones tell the steps apart:
/// - an elliptical follow-up of an earlier question (`before`) calls again;
/// - a request that opens by reading a path calls a tool that takes a path first, then,
///   once that answered, one of another plugin's callable tools ("Read hours.txt. At 25
///   dollars an hour, how much did I earn?": the file, then the sum), when there is one.
///   (Any question that names a path was tried too: "what is on my to-do list in
///   todo.txt" then read the file, but "when was todo.txt modified" read it instead of
///   asking for its details.)
pub fn must_call(
    question: &str,
    before: &str,
    tools: &[ToolSpec],
    owners: &[(String, String)],
    callable: &[bool],
    called: &[(String, String)],
) -> Option<Vec<bool>> {
    let narrowed = |keep: &dyn Fn(usize) -> bool| {
        let out: Vec<bool> = (0..tools.len())
            .map(|i| callable.get(i).copied().unwrap_or(true) && keep(i))
            .collect();
        out.contains(&true).then_some(out)
    };
    if called.is_empty() && !before.is_empty() && follow_up(question) {
        return narrowed(&|_| true);
    }
    if !reads_first(question) {
        return None;
    }
    match called.is_empty() {
        true => narrowed(&|i| super::rank::takes_path(&tools[i])),
        false => narrowed(&|i| !called.iter().any(|(plugin, _)| *plugin == owners[i].0)),
    }
}

/// `question` in lower case, its punctuation spaces.
fn sentences(question: &str) -> String {
    question
        .to_lowercase()
        .chars()
        .map(|c| match c {
            '?' | '!' | '.' | ',' | ';' | ':' => ' ',
            '\u{2019}' => '\'',
            c => c,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        + " "
}

/// The start of each sentence of `question`, lower case: "Thanks! What does JST stand
/// for?" asks its question in the second.
fn question_starts(question: &str) -> Vec<String> {
    question
        .split(['.', '!', '?'])
        .map(sentences)
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// Whether `question` holds a value a tool could take: a digit, a quotation or a path.
fn concrete(question: &str) -> bool {
    question.chars().any(|c| c.is_ascii_digit())
        || question.contains(['"', '\u{201c}', '`'])
        || quoted(question)
        || question
            .split_whitespace()
            .any(|w| w.contains('/') && w.chars().any(char::is_alphabetic))
}

/// Whether `question` quotes something in single quotes ('hunter2'); an apostrophe in
/// "what's" or "countries'" is not a quotation.
fn quoted(question: &str) -> bool {
    question.split_whitespace().any(|w| {
        w.starts_with(['\'', '\u{2018}'])
            && w.trim_start_matches(['\'', '\u{2018}'])
                .chars()
                .next()
                .is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_for_knowledge_holds_no_value_for_a_tool() {
        for yes in [
            "Why do some countries use daylight saving time?",
            "What makes a password strong? Give me three tips.",
            "Thanks! What does JST stand for?",
            "Explain what a time zone is, in two sentences.",
            "Any advice on picking a passphrase?",
        ] {
            assert!(asks_knowledge(yes), "{yes}");
        }
        for no in [
            "What time is it in Tokyo right now?",
            "Why is 'hunter2' a weak password?",
            "Explain what (17 + 25) * 3 comes to.",
            "Why is /tmp/docs/todo.txt so long?",
            "Generate a random password of 24 characters.",
            "Is 'correct horse battery staple' a good password?",
            "Give me tips on 'hunter2'.",
        ] {
            assert!(!asks_knowledge(no), "{no}");
        }
    }

    #[test]
    fn a_request_to_read_a_path_first() {
        for yes in [
            "Read /tmp/docs/hours.txt. At 25 dollars an hour, how much did I earn?",
            "read notes.md and sum the numbers",
            "Open the file ~/todo.txt and tell me what is due",
        ] {
            assert!(reads_first(yes), "{yes}");
        }
        for no in [
            "What is on my to-do list in /tmp/docs/todo.txt?",
            "Read me a poem about /tmp",
            "Ready to read /tmp/a.txt?",
            "Read the following text and summarise it, then save it as a.txt",
        ] {
            assert!(!reads_first(no), "{no}");
        }
    }

    #[test]
    fn a_round_must_call_for_a_follow_up_and_for_each_step_of_a_read() {
        use serde_json::json;
        let tools = [
            ToolSpec::new("read_text_file", "", json!({"properties": {"path": {}}})),
            ToolSpec::new("evaluate", "", json!({"properties": {"expression": {}}})),
            ToolSpec::new("current_time", "", json!({"properties": {"timezone": {}}})),
        ];
        let owner = |p: &str, t: &str| (p.to_owned(), t.to_owned());
        let owners = [
            owner("files", "read_text_file"),
            owner("calc", "evaluate"),
            owner("time", "current_time"),
        ];
        let callable = [true, true, false];
        let must = |question: &str, before: &str, called: &[(String, String)]| {
            must_call(question, before, &tools, &owners, &callable, called)
        };
        assert_eq!(
            must("And in Paris?", "What time is it in Tokyo?", &[]),
            Some(vec![true, true, false])
        );
        assert_eq!(must("And in Paris?", "", &[]), None);
        let read = "Read /tmp/hours.txt. At 25 dollars an hour, how much did I earn?";
        assert_eq!(must(read, "", &[]), Some(vec![true, false, false]));
        let after_read = [owner("files", "read_text_file")];
        assert_eq!(must(read, "", &after_read), Some(vec![false, true, false]));
        let after_both = [owner("files", "read_text_file"), owner("calc", "evaluate")];
        assert_eq!(must(read, "", &after_both), None);
        assert_eq!(must("What time is it in Tokyo?", "", &[]), None);
        // A path alone does not make the question call.
        assert_eq!(
            must("What is on my to-do list in /tmp/todo.txt?", "", &[]),
            None
        );
    }

    #[test]
    fn a_follow_up_is_short_and_names_only_what_changed() {
        for yes in [
            "And in Paris?",
            "What about Sydney?",
            "And over 15 years?",
            "how about 20 characters",
        ] {
            assert!(follow_up(yes), "{yes}");
        }
        for no in [
            "Thanks! What does JST stand for?",
            "And now write me a long poem about the sea and the sky.",
            "Android phones keep time how?",
            "What time is it in Paris?",
        ] {
            assert!(!follow_up(no), "{no}");
        }
    }
}
