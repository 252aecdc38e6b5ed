//! Offering tools to a model: the generic format for chat templates that know no tools, and the
//! grammar that holds a call, once opened, to one of the tools' input schemas.
//!
//! Invariants: the generic format uses the Hermes/Qwen markup
//! (`<tool_call>{"name": …, "arguments": {…}}</tool_call>`), which `tools::parse` reads. The
//! grammar is lazy: text is free until the model opens a call, which is `<tool_call>`, or a
//! call object naming an offered tool, bare or in a fence (what small models write even when
//! told to use tags). From there the call is held to the tools' schemas, and once it is
//! closed only end-of-generation is allowed (one call per round). JSON that names no offered
//! tool never triggers it, so a model showing the user some JSON is left alone.

use serde_json::{Value, json};

use super::jinja::{function, python_json};
use super::prompt::{ChatMessage, Role};
use crate::tools::ToolSpec;

/// What opens a call, and starts the grammar.
pub const CALL_OPEN: &str = "<tool_call>";
/// What closes a call.
pub const CALL_CLOSE: &str = "</tool_call>";

/// The tools offered for one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolPrompt {
    /// The tools, under the names the model calls them by.
    pub tools: Vec<ToolSpec>,
    /// Constrain calls with a grammar built from the input schemas.
    pub grammar: bool,
    /// The model must answer in words this time: a grammar keeps the answer from opening
    /// with a call (the tools stay in the prompt, so its prefix stays cached).
    pub answer_only: bool,
    /// The answer must open with a call (with the grammar on): an elliptical follow-up
    /// ("And in Paris?") asks for the earlier request again, and small models otherwise
    /// adapt the earlier result instead of asking the tool.
    pub must_call: bool,
    /// Indices into `tools`, the most relevant to the question first: the order in which
    /// they are chosen when not all fit the budget (see `budget.rs`).
    pub priority: Vec<usize>,
    /// Which of `tools` the question may call, in the same order (empty: all of them). The
    /// others stay in the prompt, so that its prefix stays cached, but the call grammar
    /// leaves them out and the turn drops calls to them (see `tools.only_relevant`).
    pub callable: Vec<bool>,
    /// The most tokens the tool definitions may take; 0: a share of the context.
    pub budget: u32,
    /// Groups of `tools` (a plugin's) with a cap of their own: a group whose definitions take
    /// more than its cap together is not offered at all.
    pub caps: Vec<ToolGroup>,
    /// A call still being written when the answer's `max_tokens` runs out may go on for this
    /// many more tokens (its own allowance); 0 gives it none.
    pub call_max_tokens: u32,
}

/// Tools that are offered together or not at all: one plugin's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolGroup {
    /// Indices into [`ToolPrompt::tools`].
    pub tools: Vec<usize>,
    /// The most tokens their definitions may take together.
    pub cap: u32,
}

impl ToolPrompt {
    /// Whether `name` is a tool on offer (or a near miss of one's name, which repair mends)
    /// that the question may not call. An unknown name is not: validation reports it.
    pub fn off_topic(&self, name: &str) -> bool {
        let name = match self.tools.iter().any(|t| t.name == name) {
            true => Some(name.to_owned()),
            false => crate::tools::repair::near_name(name, &self.tools),
        };
        name.is_some_and(|name| !self.may_call(&name))
    }

    /// Whether the question may call the tool the model calls `name`.
    pub fn may_call(&self, name: &str) -> bool {
        self.callable.is_empty()
            || self
                .tools
                .iter()
                .zip(&self.callable)
                .any(|(tool, &callable)| callable && tool.name == name)
    }
}

/// The default of [`ToolPrompt::call_max_tokens`] (`tools.call_max_tokens`).
pub const DEFAULT_CALL_MAX_TOKENS: u32 = 256;

/// The grammar of an answer that does not open with a call: its first character is none of
/// `<`, `{`, a backtick or white space; anything may follow.
pub const ANSWER_GRAMMAR: &str = "root ::= [^<{`\\x00-\\x20] [^\\x00]*";

/// What the system prompt says about tools whenever some are offered, in every format: small
/// models otherwise call a tool for any question, copy a schema's example values, and answer
/// a follow-up by adapting an earlier result (measured with scripts/eval-tools).
pub const GUIDANCE: &str = "Call a tool only when the request needs what it does: live facts \
such as the current time, exact arithmetic, random values, or files. A question that asks why, \
what something is, or for tips, explanations, translations, writing or code is answered by you, \
without tools. Give a tool the request's values exactly: every number and parenthesis, in the \
unit the user wrote (months stay months). A follow-up about another place, amount or time \
needs a new call: never adapt an earlier result.";

/// `messages` with [`GUIDANCE`] at the end of the system prompt (or as one).
pub fn guided(messages: &[ChatMessage]) -> Vec<ChatMessage> {
    let mut out = messages.to_vec();
    end_system_prompt(&mut out, GUIDANCE);
    out
}

/// Appends `section` to the system prompt of `messages`, or makes it the system prompt.
fn end_system_prompt(messages: &mut Vec<ChatMessage>, section: &str) {
    match messages.first_mut() {
        Some(system) if system.role == Role::System => {
            system.content = format!("{}\n\n{section}", system.content);
        }
        _ => messages.insert(0, ChatMessage::new(Role::System, section)),
    }
}

/// The system prompt's tool section in the generic format (documented in docs/plugins.md).
pub fn generic_instructions(tools: &[ToolSpec]) -> String {
    let mut text = String::from(
        "# Tools\n\nYou can call the tools below when they help. To call one, reply with only \
         this and nothing else:\n<tool_call>\n{\"name\": \"TOOL NAME\", \"arguments\": {ARGUMENTS}}\n\
         </tool_call>\nThe result comes back in a <tool_response> message; then answer the user \
         with it. When no tool is needed, answer directly.\n\n<tools>",
    );
    for tool in tools {
        text.push('\n');
        text.push_str(&definition(tool));
    }
    text.push_str("\n</tools>");
    text
}

/// One tool's definition as the generic format lists it.
pub fn definition(tool: &ToolSpec) -> String {
    python_json(&function(tool))
}

/// The messages for a template without tool support: the tool section joins the system
/// prompt (or becomes one), and tool results become user messages in `<tool_response>` tags.
pub fn generic_messages(messages: &[ChatMessage], tools: &[ToolSpec]) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = messages.iter().map(as_plain).collect();
    if tools.is_empty() {
        return out;
    }
    end_system_prompt(&mut out, &generic_instructions(tools));
    out
}

/// A tool result as a user message; every other message as it is.
pub fn as_plain(message: &ChatMessage) -> ChatMessage {
    match message.role {
        Role::Tool => ChatMessage::new(
            Role::User,
            format!("<tool_response>\n{}\n</tool_response>", message.content),
        ),
        _ => message.clone(),
    }
}

/// The messages for an answer-only round: each exchange of calls and results is folded into
/// the user message before it, as plain context ("Tool results: …"), and the tools leave the
/// prompt. Small models asked to answer from a transcript of calls call again; from plain
/// context they answer.
pub fn answer_messages(messages: &[ChatMessage], tools: &[ToolSpec]) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::with_capacity(messages.len());
    // A call repeated with the same arguments beside new calls gets its earlier result
    // again (the turn drops a lone repeat): only its first result is kept.
    let mut seen = std::collections::HashSet::new();
    let mut i = 0;
    while i < messages.len() {
        let message = &messages[i];
        let results = messages[i + 1..]
            .iter()
            .take_while(|m| m.role == Role::Tool)
            .count();
        if message.role != Role::Assistant || results == 0 {
            out.push(as_plain(message));
            i += 1;
            continue;
        }
        let parsed = crate::tools::parse(&message.content, tools);
        let lines: Vec<String> = messages[i + 1..=i + results]
            .iter()
            .enumerate()
            .filter_map(|(k, result)| match parsed.calls.get(k) {
                Some((call, _)) => {
                    let arguments = python_json(&Value::Object(call.arguments.clone()));
                    let line = format!("- {} {arguments}: {}", call.name, result.content);
                    seen.insert(format!("{} {arguments}", call.name))
                        .then_some(line)
                }
                None => Some(format!("- {}", result.content)),
            })
            .collect();
        i += 1 + results;
        if lines.is_empty() {
            continue;
        }
        let context = format!(
            "\n\nTool results (use them to answer):\n{}",
            lines.join("\n")
        );
        match out.iter_mut().rev().find(|m| m.role == Role::User) {
            Some(user) => user.content.push_str(&context),
            None => out.push(ChatMessage::new(Role::User, context.trim_start())),
        }
    }
    out
}

/// The call that `text` opens and does not finish: where its markup starts and the tool it
/// names (empty when the name is not written yet). None when no call is open.
pub fn open_call(text: &str, tools: &[ToolSpec]) -> Option<(usize, String)> {
    let start = text
        .find(CALL_OPEN)
        .or_else(|| bare_call_start(text, tools))?;
    let call = &text[start..];
    if !crate::tools::parse(call, tools).calls.is_empty() {
        return None;
    }
    Some((start, called_name(call).unwrap_or_default()))
}

/// Where a call object naming one of `tools` starts (in a fence, where the fence starts), as
/// the trigger pattern finds it.
fn bare_call_start(text: &str, tools: &[ToolSpec]) -> Option<usize> {
    // At the end of the text the key or the name may still be half written.
    let at = text.match_indices('{').map(|(i, _)| i).find(|&i| {
        let head = text[i + 1..].trim_start();
        if head.starts_with("\"name\"") {
            called_name(head).is_none_or(|name| tools.iter().any(|t| t.name == name))
        } else {
            !head.is_empty() && "\"name\"".starts_with(head)
        }
    })?;
    let before = text[..at].trim_end();
    let before = before.strip_suffix("json").unwrap_or(before);
    Some(before.strip_suffix("```").map_or(at, str::len))
}

/// The value of the first `"name": "…"` in `text`, when it is written out.
fn called_name(text: &str) -> Option<String> {
    let key = text.find("\"name\"")?;
    let rest = text[key + 6..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(rest[..end].to_owned())
}

/// The GBNF grammar of one call to one of `tools`, markup included; its root is `root`.
/// A lazy grammar takes the call in whatever markup the model opened (the tag, a fence or a
/// bare object); one that `must_call` from the first token takes the tag alone, the markup
/// of the model's template and of the generic format (given the fence too, Qwen 0.5B opened
/// with it and then called a tool it had not meant).
pub fn grammar(tools: &[ToolSpec], must_call: bool) -> Result<String, String> {
    let alternatives: Vec<Value> = tools.iter().map(call_schema).collect();
    let schema = json!({ "oneOf": alternatives });
    let body = llama_cpp_2::json_schema_to_grammar(&schema.to_string())
        .map_err(|e| format!("cannot turn the tools' input schemas into a grammar: {e}"))?;
    let renamed = rename_root(&body)?;
    let tagged = format!("\"{CALL_OPEN}\" call-ws tool-call call-ws \"{CALL_CLOSE}\"");
    let root = match must_call {
        true => tagged,
        false => {
            format!("{tagged} | \"```\" \"json\"? call-ws tool-call call-ws \"```\" | tool-call")
        }
    };
    Ok(format!(
        "root ::= {root}\ncall-ws ::= [ \\n]{{0,2}}\n{renamed}"
    ))
}

/// The regular expression (ECMAScript, matched against everything generated so far) whose
/// first group starts a call: the tag, or a call object naming one of `tools`, in a fence or
/// bare. The grammar is fed the text from that group on.
pub fn trigger_pattern(tools: &[ToolSpec]) -> String {
    let names: Vec<String> = tools.iter().map(|t| regex_escape(&t.name)).collect();
    let object = format!(r#"\{{\s*"name"\s*:\s*"(?:{})""#, names.join("|"));
    format!(r"[\s\S]*?({CALL_OPEN}|```(?:json)?\s*{object}|{object})[\s\S]*")
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !c.is_ascii_alphanumeric() && c != '_' && c != '-' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `{"name": <const>, "arguments": <input schema>}` for one tool.
fn call_schema(tool: &ToolSpec) -> Value {
    let mut arguments = tool.input_schema.clone();
    if let Value::Object(map) = &mut arguments {
        // Meta keys the converter does not need (and may not know).
        map.remove("$schema");
        map.remove("$id");
        map.entry("type").or_insert_with(|| json!("object"));
    } else {
        arguments = json!({ "type": "object" });
    }
    json!({
        "type": "object",
        "properties": { "name": { "const": tool.name }, "arguments": arguments },
        "required": ["name", "arguments"],
        "additionalProperties": false,
    })
}

/// The converter names its start rule `root`; ours wraps it, so it becomes `tool-call`.
fn rename_root(grammar: &str) -> Result<String, String> {
    let mut found = false;
    let lines: Vec<String> = grammar
        .lines()
        .map(|line| match line.strip_prefix("root ::=") {
            Some(rest) => {
                found = true;
                format!("tool-call ::={rest}")
            }
            None => line.to_owned(),
        })
        .collect();
    if !found {
        return Err("the converted grammar has no root rule".to_owned());
    }
    // A rule body that refers to `root` (a recursive schema) follows the rename.
    Ok(lines
        .join("\n")
        .replace(" root ", " tool-call ")
        .replace(" root\n", " tool-call\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time_tool() -> ToolSpec {
        ToolSpec::new(
            "get_current_time",
            "Current time",
            json!({"$schema": "x", "type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}),
        )
    }

    #[test]
    fn the_grammar_wraps_the_calls_in_the_markup() {
        let g = grammar(&[time_tool()], false).unwrap();
        assert!(
            g.starts_with(
                "root ::= \"<tool_call>\" call-ws tool-call call-ws \"</tool_call>\" | \"```\""
            ),
            "{g}"
        );
        assert!(g.contains("tool-call ::="), "{g}");
        assert_eq!(g.matches("root ::=").count(), 1, "{g}");
        assert!(g.contains("get_current_time"), "{g}");
        let must = grammar(&[time_tool()], true).unwrap();
        assert!(
            must.starts_with(
                "root ::= \"<tool_call>\" call-ws tool-call call-ws \"</tool_call>\"\n"
            ),
            "{must}"
        );
    }

    #[test]
    fn the_grammar_holds_arguments_to_the_schemas_bounds() {
        let tool = ToolSpec::new(
            "t",
            "",
            json!({"type": "object", "properties": {
                "note": {"type": "string", "maxLength": 40},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
                "unit": {"enum": ["celsius", "fahrenheit"]},
                "count": {"type": "integer"},
                "term": {"type": "string", "pattern": "^[0-9]+ (years?|months?)$"},
            }, "required": ["note"]}),
        );
        let g = grammar(&[tool], false).unwrap();
        for held in [
            r#"alternative-0-arguments-note ::= "\"" char{0,40} "\"""#,
            r#"alternative-0-arguments-tags ::= "[" space (string ("," space string){0,2})? space "]""#,
            r#"alternative-0-arguments-unit ::= ("\"celsius\"" | "\"fahrenheit\"")"#,
            r#"alternative-0-arguments-count-kv ::= "\"count\"" space ":" space integer"#,
            r#"alternative-0-arguments-term ::= "\"" ([0-9]+ " " ("year" "s"? | "month" "s"?)) "\"""#,
        ] {
            assert!(g.contains(held), "{held} not in\n{g}");
        }
    }

    #[test]
    fn an_open_call_is_found_until_it_is_closed() {
        let tools = [time_tool()];
        let open = "Sure. <tool_call>\n{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"Asia/To";
        assert_eq!(
            open_call(open, &tools),
            Some((6, "get_current_time".into()))
        );
        let closed = format!("{open}kyo\"}}}}\n</tool_call>");
        assert_eq!(open_call(&closed, &tools), None);
        assert_eq!(
            open_call("<tool_call>\n{\"na", &tools),
            Some((0, String::new()))
        );
        let bare = "```json\n{\"name\": \"get_current_time\", \"arguments\": {\"time";
        assert_eq!(
            open_call(bare, &tools),
            Some((0, "get_current_time".into()))
        );
        let fenced = "```json\n{\n  \"name\":";
        assert_eq!(open_call(fenced, &tools), Some((0, String::new())));
        assert_eq!(
            open_call("```json\n{\"na", &tools),
            Some((0, String::new()))
        );
        assert_eq!(open_call("Here is JSON: {\"a\": 1", &tools), None);
        assert_eq!(open_call("{\"name\": \"Bob\", \"age\": 3", &tools), None);
        assert_eq!(open_call("no call at all", &tools), None);
    }

    #[test]
    fn the_trigger_names_the_offered_tools() {
        let p = trigger_pattern(&[time_tool(), ToolSpec::new("a.b", "", json!({}))]);
        assert_eq!(
            p,
            r#"[\s\S]*?(<tool_call>|```(?:json)?\s*\{\s*"name"\s*:\s*"(?:get_current_time|a\.b)"|\{\s*"name"\s*:\s*"(?:get_current_time|a\.b)")[\s\S]*"#
        );
    }

    #[test]
    fn generic_messages_extend_the_system_prompt_and_wrap_results() {
        let messages = vec![
            ChatMessage::new(Role::System, "Be brief."),
            ChatMessage::new(Role::User, "time?"),
            ChatMessage::new(Role::Tool, "12:00"),
        ];
        let out = generic_messages(&messages, &[time_tool()]);
        assert!(out[0].content.starts_with("Be brief.\n\n# Tools"));
        assert!(
            out[0]
                .content
                .contains("{\"type\": \"function\", \"function\": {\"name\": \"get_current_time\"")
        );
        assert_eq!(
            out[2],
            ChatMessage::new(Role::User, "<tool_response>\n12:00\n</tool_response>")
        );
    }

    #[test]
    fn without_a_system_prompt_the_tools_become_one() {
        let out = generic_messages(&[ChatMessage::new(Role::User, "hi")], &[time_tool()]);
        assert_eq!(out[0].role, Role::System);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn the_guidance_ends_the_system_prompt_or_becomes_one() {
        let with = guided(&[
            ChatMessage::new(Role::System, "Be brief."),
            ChatMessage::new(Role::User, "hi"),
        ]);
        assert_eq!(with[0].content, format!("Be brief.\n\n{GUIDANCE}"));
        assert_eq!(with[1].content, "hi");
        let without = guided(&[ChatMessage::new(Role::User, "hi")]);
        assert_eq!(without[0].role, Role::System);
        assert_eq!(without[0].content, GUIDANCE);
    }

    #[test]
    fn only_the_callable_tools_may_be_called() {
        let offer = ToolPrompt {
            tools: vec![time_tool(), ToolSpec::new("evaluate", "", json!({}))],
            grammar: true,
            answer_only: false,
            must_call: false,
            priority: Vec::new(),
            callable: vec![false, true],
            budget: 0,
            caps: Vec::new(),
            call_max_tokens: 0,
        };
        assert!(offer.may_call("evaluate"));
        assert!(!offer.may_call("get_current_time"));
        assert!(offer.off_topic("get_current_time"));
        assert!(offer.off_topic("time__get_current_time"));
        // An unknown name is for repair and validation to judge.
        assert!(!offer.off_topic("multiply"));
        let all = ToolPrompt {
            callable: Vec::new(),
            ..offer
        };
        assert!(all.may_call("get_current_time") && !all.off_topic("get_current_time"));
    }

    #[test]
    fn answer_rounds_fold_calls_and_results_into_the_question() {
        let messages = vec![
            ChatMessage::new(Role::System, "Be brief."),
            ChatMessage::new(Role::User, "time in Tokyo?"),
            ChatMessage::new(
                Role::Assistant,
                "<tool_call>{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}}</tool_call>",
            ),
            ChatMessage::new(Role::Tool, "12:00"),
        ];
        let out = answer_messages(&messages, &[time_tool()]);
        assert_eq!(
            out,
            vec![
                messages[0].clone(),
                ChatMessage::new(
                    Role::User,
                    "time in Tokyo?\n\nTool results (use them to answer):\n- get_current_time {\"timezone\": \"Asia/Tokyo\"}: 12:00"
                ),
            ]
        );
    }

    #[test]
    fn a_repeated_call_is_folded_once() {
        let call = "<tool_call>{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"UTC\"}}</tool_call>";
        let messages = vec![
            ChatMessage::new(Role::User, "time?"),
            ChatMessage::new(Role::Assistant, call),
            ChatMessage::new(Role::Tool, "12:00"),
            ChatMessage::new(Role::Assistant, call),
            ChatMessage::new(Role::Tool, "12:00"),
        ];
        let out = answer_messages(&messages, &[time_tool()]);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].content.ends_with("{\"timezone\": \"UTC\"}: 12:00"),
            "{}",
            out[0].content
        );
    }

    #[test]
    fn without_tools_only_results_change() {
        let m = vec![ChatMessage::new(Role::User, "hi")];
        assert_eq!(generic_messages(&m, &[]), m);
    }
}
