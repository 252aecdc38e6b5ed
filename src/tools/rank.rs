//! Ranking the tools on offer by how well they match a question: a cheap lexical score over
//! each tool's name, description and parameters, so that when many tools are enabled the
//! ones the question needs are offered first (see the tool budget in `engine::prompt`), and
//! so that a question may call only the tools it points at (`tools.only_relevant`).
//!
//! Pure and deterministic: the same question and tools give the same order; ties keep the
//! tools' own order.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::ToolSpec;

/// Words too common to say anything about a tool.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "is", "are", "was", "be", "to", "of", "in", "on", "at", "for", "and", "or",
    "it", "its", "this", "that", "what", "which", "who", "how", "me", "my", "i", "you", "your",
    "do", "does", "can", "could", "would", "should", "please", "with", "from", "by", "as", "if",
    "then", "now", "right", "give", "tell", "get", "use", "using", "some", "any", "there", "will",
    "about", "into", "all", "one", "we", "our", "than", "them", "they", "not", "no", "yes",
];

/// Everyday words that stand for a tool's vocabulary: a question rarely uses the tool's own
/// words ("what time is it in Tokyo" names no "timezone").
const HINTS: &[(&str, &str)] = &[
    ("clock", "time"),
    ("o'clock", "time"),
    ("date", "time"),
    ("today", "time"),
    ("day", "time"),
    ("zone", "timezone"),
    ("calculate", "expression"),
    ("add", "expression"),
    ("total", "expression"),
    ("compute", "expression"),
    ("plus", "expression"),
    ("minus", "expression"),
    ("times", "expression"),
    ("multiply", "expression"),
    ("divide", "expression"),
    ("divided", "expression"),
    ("sum", "expression"),
    ("square", "expression"),
    ("root", "expression"),
    ("power", "expression"),
    ("percent", "expression"),
    ("much", "expression"),
    ("mortgage", "loan"),
    ("borrow", "loan"),
    ("monthly", "payment"),
    ("grow", "compound"),
    ("invest", "compound"),
    ("passphrase", "password"),
    ("secure", "password"),
    ("strong", "strength"),
    ("folder", "directory"),
    ("file", "file"),
    ("open", "read"),
    ("show", "read"),
    ("list", "list"),
];

/// Indices of `scores`, highest first; ties keep their order.
pub fn order(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
}

/// How much a tool must share with the question to score at all: a word of its name (3) or
/// of a parameter's name (2), or two words of its descriptions (1 each). One shared
/// description word ("name", "write") is chance.
const MIN_EVIDENCE: f64 = 2.0;

/// Each tool's relevance to `question` (and `context` at half weight): 0 when the question
/// shares too little with the tool's name, description or parameters (see `MIN_EVIDENCE`).
pub fn scores(question: &str, context: &str, tools: &[ToolSpec]) -> Vec<f64> {
    let docs: Vec<BTreeMap<String, f64>> = tools.iter().map(document).collect();
    let n = docs.len() as f64;
    let idf = |term: &str| {
        let df = docs.iter().filter(|d| d.contains_key(term)).count() as f64;
        ((n + 1.0) / (df + 0.5)).ln()
    };
    let mut terms: BTreeMap<String, f64> = BTreeMap::new();
    for (text, weight) in [(context, 0.5), (question, 1.0)] {
        for term in query_terms(text) {
            let slot = terms.entry(term).or_default();
            *slot = slot.max(weight);
        }
    }
    if arithmetic(question) {
        terms.entry("expression".into()).or_insert(1.0);
    }
    docs.iter()
        .map(|doc| {
            // Evidence counts where a word appears, not which message it came from: a
            // follow-up leans on the question before it.
            let shared = terms
                .iter()
                .filter_map(|(term, weight)| doc.get(term).map(|w| (*w, w * weight * idf(term))));
            let (evidence, score) =
                shared.fold((0.0, 0.0), |(e, s), (w, scored)| (e + w, s + scored));
            if evidence >= MIN_EVIDENCE { score } else { 0.0 }
        })
        .collect()
}

/// How close to the question's best tool another tool of a plugin already called this turn
/// must score to stay callable (see [`after_calls`]).
const SAME_PLUGIN_SHARE: f64 = 0.75;

/// Which tools stay callable after this turn's `called` tools, given each tool's `owner`
/// (plugin, tool): the tools called again (another city), other plugins' tools (compute
/// with what a file said), and a plugin's other tools only when the question points at them
/// nearly as much as at its best tool. Small models otherwise follow a loan payment with
/// compound interest, or a new password with a strength check, that nobody asked for
/// (measured with scripts/eval-tools).
pub fn after_calls(
    callable: &[bool],
    scores: &[f64],
    owners: &[(String, String)],
    called: &[(String, String)],
) -> Vec<bool> {
    let best = scores.iter().copied().fold(0.0, f64::max);
    callable
        .iter()
        .zip(scores)
        .zip(owners)
        .map(|((&callable, &score), owner)| {
            callable
                && (called.contains(owner)
                    || !called.iter().any(|(plugin, _)| *plugin == owner.0)
                    || score >= SAME_PLUGIN_SHARE * best)
        })
        .collect()
}

/// Whether `text` writes arithmetic: an operator between a number and a number or a
/// parenthesis (`2 + 3`, `4*(1+2)`, `(17 + 25) * 3`), or a percentage (`15%`). A hyphen in
/// "16-character" or a slash in a path is not.
fn arithmetic(text: &str) -> bool {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    chars.iter().enumerate().any(|(i, &c)| {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let operand_before = before.is_some_and(|b| b.is_ascii_digit() || b == ')');
        let operand_after = after.is_some_and(|a| a.is_ascii_digit() || a == '(');
        match c {
            '%' => before.is_some_and(|b| b.is_ascii_digit()),
            '+' | '-' | '*' | '/' | '^' | '×' | '÷' => operand_before && operand_after,
            _ => false,
        }
    })
}

/// A tool's terms and the weight of the best place each appears: its name counts most.
fn document(tool: &ToolSpec) -> BTreeMap<String, f64> {
    let mut doc = BTreeMap::new();
    let mut add = |text: &str, weight: f64| {
        for term in terms(text) {
            let slot = doc.entry(term).or_insert(0.0);
            if weight > *slot {
                *slot = weight;
            }
        }
    };
    add(&tool.name, 3.0);
    add(&tool.description, 1.0);
    if let Some(Value::Object(props)) = tool.input_schema.get("properties") {
        for (name, schema) in props {
            add(name, 2.0);
            if let Some(text) = schema.get("description").and_then(Value::as_str) {
                add(text, 1.0);
            }
        }
    }
    doc
}

/// A question's terms, with the tool words its everyday words stand for: a path names a
/// "file" (`notes.txt`, `/tmp/a.md`) or a "directory" (`/tmp/docs`).
fn query_terms(text: &str) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = text
        .split_whitespace()
        .filter_map(path_kind)
        .map(str::to_owned)
        .collect();
    for word in words(text) {
        if let Some((_, hint)) = HINTS.iter().find(|(w, _)| *w == word) {
            out.insert(stem(hint));
        }
        // A number says nothing about which tool: "20" in a question is not the "default 20"
        // of a password tool.
        if !STOP_WORDS.contains(&word.as_str()) && !word.chars().all(|c| c.is_ascii_digit()) {
            out.insert(stem(&word));
        }
    }
    out
}

/// What a word of a question names when it is a path: a "file" (`notes.txt`, `/tmp/a.md`)
/// or a "directory" (`/tmp/docs`, `~/notes`); a URL, a time zone (`Europe/Paris`), "and/or"
/// or a date such as 1/2 is none.
pub(super) fn path_kind(word: &str) -> Option<&'static str> {
    let token = word.trim_matches(|c: char| !(c.is_alphanumeric() || "/~_".contains(c)));
    let last = token.rsplit('/').next().unwrap_or(token);
    let extension = last.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (1..=5).contains(&ext.len())
            && ext.starts_with(|c: char| c.is_ascii_alphabetic())
            && ext.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if extension {
        Some("file")
    } else if token.starts_with(['/', '~', '.'])
        && token.contains('/')
        && token.contains(|c: char| c.is_alphabetic())
        && !token.contains("//")
    {
        Some("directory")
    } else {
        None
    }
}

/// Which of the `callable` tools fit the paths `question` names: when it names paths and
/// every one is a file (`/tmp/docs/todo.txt`), a tool whose name says "directory" does not
/// (small models listed "my to-do list in …/todo.txt" as a directory). Otherwise
/// `callable` as it is.
pub fn fit_paths(question: &str, tools: &[ToolSpec], callable: &[bool]) -> Vec<bool> {
    let kinds: Vec<&str> = question.split_whitespace().filter_map(path_kind).collect();
    if kinds.is_empty() || kinds.contains(&"directory") {
        return callable.to_vec();
    }
    callable
        .iter()
        .zip(tools)
        .map(|(&c, tool)| c && !terms(&tool.name).any(|t| t.starts_with("director")))
        .collect()
}

/// Whether one of `tool`'s parameters is a path, by its name (`path`, `file`, `directory`).
pub(super) fn takes_path(tool: &ToolSpec) -> bool {
    let Some(Value::Object(props)) = tool.input_schema.get("properties") else {
        return false;
    };
    let path_words = ["path", "file", "filename", "directory", "dir", "folder"];
    props
        .keys()
        .any(|name| terms(name).any(|t| path_words.contains(&t.as_str())))
}

/// A tool text's terms: words split at case changes and underscores, stop words left out.
fn terms(text: &str) -> impl Iterator<Item = String> {
    words(&split_case(text))
        .into_iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
}

/// Lowercase words of letters, digits and apostrophes.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// `currentTime` and `current_time` read as two words.
fn split_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut prev_lower = false;
    for c in text.chars() {
        if c == '_' {
            out.push(' ');
        } else {
            if c.is_uppercase() && prev_lower {
                out.push(' ');
            }
            out.push(c);
        }
        prev_lower = c.is_lowercase();
    }
    out
}

/// A crude English stem: enough that "payments" meets "payment" and "zones" meets "zone".
fn stem(word: &str) -> String {
    let w = word.strip_suffix("'s").unwrap_or(word);
    for suffix in ["ing", "ed", "s"] {
        if w.len() > suffix.len() + 3
            && let Some(base) = w.strip_suffix(suffix)
        {
            return base.to_owned();
        }
    }
    w.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, description: &str, props: Value) -> ToolSpec {
        ToolSpec::new(
            name,
            description,
            json!({"type": "object", "properties": props}),
        )
    }

    fn builtins() -> Vec<ToolSpec> {
        vec![
            tool(
                "evaluate",
                "Evaluate an arithmetic expression.",
                json!({"expression": {"type": "string"}}),
            ),
            tool(
                "loan_payment",
                "The monthly payment of a loan.",
                json!({"principal": {}, "annual_rate_percent": {}, "years": {}}),
            ),
            tool(
                "compound_interest",
                "What a sum grows to with compound interest.",
                json!({"principal": {}, "years": {}}),
            ),
            tool(
                "generate_password",
                "A random password.",
                json!({"length": {}}),
            ),
            tool(
                "current_time",
                "The current time in a time zone.",
                json!({"timezone": {"description": "IANA time zone name"}}),
            ),
            tool(
                "convert_time",
                "Converts a time between time zones.",
                json!({"time": {}, "source_timezone": {}, "target_timezone": {}}),
            ),
            tool(
                "read_file",
                "Reads a file.",
                json!({"path": {"description": "the file's path"}}),
            ),
        ]
    }

    fn first(question: &str, context: &str) -> String {
        let tools = builtins();
        tools[order(&scores(question, context, &tools))[0]]
            .name
            .clone()
    }

    #[test]
    fn the_tool_a_question_needs_comes_first() {
        assert_eq!(
            first("What time is it in Tokyo right now?", ""),
            "current_time"
        );
        assert_eq!(
            first("Convert 09:30 from Paris time to Los Angeles time.", ""),
            "convert_time"
        );
        assert_eq!(
            first(
                "What is the monthly payment on a 200000 dollar mortgage?",
                ""
            ),
            "loan_payment"
        );
        assert_eq!(first("Calculate 1234 * 5678.", ""), "evaluate");
        assert_eq!(first("What is (17 + 25) * 3 - 8?", ""), "evaluate");
        assert_eq!(
            first("Generate a random password of 24 characters.", ""),
            "generate_password"
        );
        assert_eq!(first("Show me the file notes.txt", ""), "read_file");
    }

    #[test]
    fn a_follow_up_reads_the_question_before_it() {
        assert_eq!(
            first("And in Paris?", "What time is it in Tokyo?"),
            "current_time"
        );
    }

    fn relevant(question: &str, context: &str) -> Vec<String> {
        let tools = builtins();
        let scores = scores(question, context, &tools);
        tools
            .iter()
            .zip(scores)
            .filter(|(_, s)| *s > 0.0)
            .map(|(t, _)| t.name.clone())
            .collect()
    }

    #[test]
    fn a_question_that_shares_nothing_with_a_tool_scores_zero() {
        assert!(relevant("Who wrote Romeo and Juliet?", "").is_empty());
        assert!(relevant("What is the capital of France?", "").is_empty());
        // One shared word of a description is chance.
        assert!(relevant("Write an arithmetic poem.", "").is_empty());
        // Numbers say nothing: "24" is no password length here.
        assert_eq!(relevant("What is 20 + 4?", ""), ["evaluate"]);
    }

    #[test]
    fn a_path_names_a_file_and_a_follow_up_leans_on_the_question_before() {
        assert_eq!(
            relevant("What is on my to-do list in /tmp/docs/todo.txt?", ""),
            ["read_file"]
        );
        assert!(relevant("And in Paris?", "").is_empty());
        assert_eq!(
            relevant("And in Paris?", "What time is it in Tokyo?"),
            ["current_time", "convert_time"]
        );
    }

    #[test]
    fn after_a_call_a_plugins_other_tools_need_the_questions_word() {
        let owner = |p: &str, t: &str| (p.to_owned(), t.to_owned());
        let owners = [
            owner("calc", "loan_payment"),
            owner("calc", "compound_interest"),
            owner("files", "read_text_file"),
            owner("password", "estimate_strength"),
        ];
        let callable = [true, true, true, false];
        let scores = [22.4, 13.1, 6.0, 0.0];
        let called = [owner("calc", "loan_payment")];
        assert_eq!(
            after_calls(&callable, &scores, &owners, &called),
            [true, false, true, false]
        );
        // Named nearly as much as the tool called: "generate a password and rate it".
        let scores = [22.4, 20.0, 6.0, 0.0];
        assert_eq!(
            after_calls(&callable, &scores, &owners, &called),
            [true, true, true, false]
        );
    }

    #[test]
    fn a_file_path_is_no_directory() {
        let tools = vec![
            tool("list_directory", "Lists a directory.", json!({"path": {}})),
            tool("read_text_file", "Reads a file.", json!({"path": {}})),
            tool("list_allowed_directories", "", json!({})),
        ];
        let all = [true, true, true];
        let todo = "What is on my to-do list in /tmp/docs/todo.txt?";
        assert_eq!(fit_paths(todo, &tools, &all), [false, true, false]);
        // A directory among the paths, or no path: nothing changes.
        let both = "Copy /tmp/docs/todo.txt into /tmp/old";
        assert_eq!(fit_paths(both, &tools, &all), all);
        assert_eq!(fit_paths("List my folders", &tools, &all), all);
        assert_eq!(fit_paths(todo, &tools, &[]), Vec::<bool>::new());
    }

    #[test]
    fn a_path_parameter_is_named_so() {
        let takes = |props: Value| takes_path(&tool("t", "", props));
        assert!(takes(json!({"path": {}})));
        assert!(takes(json!({"filePath": {}})));
        assert!(takes(json!({"source_file": {}, "mode": {}})));
        assert!(!takes(json!({"timezone": {}})));
        assert!(!takes(json!({"pathological": {}})));
    }

    #[test]
    fn arithmetic_is_operators_between_numbers() {
        for yes in [
            "2 + 3",
            "(17 + 25) * 3 - 8",
            "4*(1+2)",
            "15% of 2,340",
            "10 / 4",
        ] {
            assert!(arithmetic(yes), "{yes}");
        }
        for no in [
            "a 16-character password",
            "/tmp/2024/notes.txt",
            "UTF-8",
            "the 3 of us",
        ] {
            assert!(!arithmetic(no), "{no}");
        }
    }

    #[test]
    fn ties_keep_the_tools_order() {
        let tools = builtins();
        let order = order(&scores("hello there", "", &tools));
        assert_eq!(order, (0..tools.len()).collect::<Vec<_>>());
    }

    #[test]
    fn names_split_at_case_and_underscores() {
        let got: Vec<String> = terms("getCurrentTime current_time").collect();
        assert_eq!(got, ["current", "time", "current", "time"]);
        assert_eq!(stem("payments"), "payment");
        assert_eq!(stem("zones"), "zone");
        assert_eq!(stem("zone"), "zone");
    }
}
