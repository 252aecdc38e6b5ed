//! Tests of `parse`: each format, compared as whole values, and inputs that must stay text.

use serde_json::{Map, Value, json};

use super::{Format, Parsed, ToolCall, ToolSpec, parse};

fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "get_current_time",
            "The current time in a time zone.",
            json!({"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}),
        ),
        ToolSpec::new(
            "list_zones",
            "Every IANA time zone.",
            json!({"type": "object", "properties": {}}),
        ),
    ]
}

fn call(name: &str, arguments: Value) -> ToolCall {
    let arguments = match arguments {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    ToolCall {
        name: name.to_owned(),
        arguments,
    }
}

fn tokyo() -> ToolCall {
    call("get_current_time", json!({"timezone": "Asia/Tokyo"}))
}

fn parsed(calls: Vec<(ToolCall, Format)>, text: &str) -> Parsed {
    Parsed {
        calls,
        text: text.to_owned(),
    }
}

fn text_only(output: &str) -> Parsed {
    parsed(vec![], output.trim())
}

#[test]
fn qwen_fenced_json_measured_in_issue_4_is_a_call() {
    let output = "```json\n{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}}\n```";
    assert_eq!(
        parse(output, &tools()),
        parsed(vec![(tokyo(), Format::FencedJson)], "")
    );
}

#[test]
fn fenced_call_keeps_the_prose_around_it() {
    let output = "Let me check.\n```json\n{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}}\n```\nOne moment.";
    assert_eq!(
        parse(output, &tools()),
        parsed(
            vec![(tokyo(), Format::FencedJson)],
            "Let me check.\n\nOne moment."
        )
    );
}

#[test]
fn hermes_tag() {
    let output = "<tool_call>\n{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}}\n</tool_call>";
    assert_eq!(
        parse(output, &tools()),
        parsed(vec![(tokyo(), Format::Hermes)], "")
    );
}

#[test]
fn two_hermes_calls_with_prose() {
    let output = "Checking both.\n<tool_call>{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}}</tool_call>\n<tool_call>{\"name\": \"list_zones\", \"arguments\": {}}</tool_call>";
    assert_eq!(
        parse(output, &tools()),
        parsed(
            vec![
                (tokyo(), Format::Hermes),
                (call("list_zones", json!({})), Format::Hermes)
            ],
            "Checking both."
        )
    );
}

#[test]
fn arguments_as_a_json_string() {
    let output = "<tool_call>{\"name\": \"get_current_time\", \"arguments\": \"{\\\"timezone\\\": \\\"Asia/Tokyo\\\"}\"}</tool_call>";
    assert_eq!(
        parse(output, &tools()),
        parsed(vec![(tokyo(), Format::Hermes)], "")
    );
}

#[test]
fn unclosed_hermes_tag_at_the_end() {
    let output = "Sure.\n<tool_call>\n{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}}\n";
    assert_eq!(
        parse(output, &tools()),
        parsed(vec![(tokyo(), Format::Hermes)], "Sure.")
    );
}

#[test]
fn hermes_tag_names_an_unknown_tool_still_a_call_for_validate_to_refuse() {
    let output = "<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>";
    assert_eq!(
        parse(output, &tools()),
        parsed(vec![(call("rm_rf", json!({})), Format::Hermes)], "")
    );
}

#[test]
fn garbage_inside_tags_is_no_call_and_stays_text() {
    for output in [
        "Hmm <tool_call>get the time please</tool_call> done",
        "<tool_call>{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": }</tool_call>",
        "<tool_call>{\"arguments\": {}}</tool_call>",
        "<tool_call>{\"name\": \"list_zones\"} trailing words</tool_call>",
        "<tool_call></tool_call>",
        "<tool_call>",
    ] {
        assert_eq!(parse(output, &tools()), text_only(output), "{output}");
    }
}

#[test]
fn mistral_array() {
    let output = "[TOOL_CALLS] [{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}}, {\"name\": \"list_zones\", \"arguments\": {}}]";
    assert_eq!(
        parse(output, &tools()),
        parsed(
            vec![
                (tokyo(), Format::MistralTag),
                (call("list_zones", json!({})), Format::MistralTag)
            ],
            ""
        )
    );
}

#[test]
fn mistral_name_and_args_tokens() {
    let output = "[TOOL_CALLS]get_current_time[ARGS]{\"timezone\": \"Asia/Tokyo\"}";
    assert_eq!(
        parse(output, &tools()),
        parsed(vec![(tokyo(), Format::MistralTag)], "")
    );
}

#[test]
fn llama3_bare_parameters() {
    let output = "{\"name\": \"get_current_time\", \"parameters\": {\"timezone\": \"Asia/Tokyo\"}}";
    assert_eq!(
        parse(output, &tools()),
        parsed(vec![(tokyo(), Format::Llama3Json)], "")
    );
}

#[test]
fn llama3_python_tag() {
    let output = "<|python_tag|>{\"name\": \"get_current_time\", \"parameters\": {\"timezone\": \"Asia/Tokyo\"}}<|eom_id|>";
    assert_eq!(
        parse(output, &tools()),
        parsed(vec![(tokyo(), Format::Llama3Json)], "")
    );
}

#[test]
fn bare_json_naming_a_known_tool_amid_prose() {
    let output = "I will call {\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}} now.";
    assert_eq!(
        parse(output, &tools()),
        parsed(vec![(tokyo(), Format::BareJson)], "I will call  now.")
    );
}

#[test]
fn bare_call_without_arguments_only_when_nothing_is_required() {
    assert_eq!(
        parse("{\"name\": \"list_zones\"}", &tools()),
        parsed(vec![(call("list_zones", json!({})), Format::BareJson)], "")
    );
    let needs_args = "{\"name\": \"get_current_time\"}";
    assert_eq!(parse(needs_args, &tools()), text_only(needs_args));
}

#[test]
fn json_naming_an_unknown_tool_stays_text() {
    for output in [
        "{\"name\": \"send_email\", \"arguments\": {\"to\": \"a@b.c\"}}",
        "```json\n{\"name\": \"send_email\", \"arguments\": {}}\n```",
    ] {
        assert_eq!(parse(output, &tools()), text_only(output), "{output}");
    }
}

#[test]
fn json_examples_in_prose_are_not_calls() {
    for output in [
        "A person as JSON: {\"name\": \"Alice\", \"age\": 30}. Arrays look like [1, 2].",
        "```json\n{\"name\": \"get_current_time\", \"description\": \"what a tool looks like\"}\n```",
        "Write `{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"UTC\"}}` to call it.",
        "```python\nprint({\"name\": \"list_zones\", \"arguments\": {}})\n```",
        "{\"config\": {\"name\": \"list_zones\", \"arguments\": {}}}",
    ] {
        assert_eq!(parse(output, &tools()), text_only(output), "{output}");
    }
}

#[test]
fn plain_text_is_untouched_but_trimmed() {
    assert_eq!(
        parse("  Hello, 世界 {  \n", &tools()),
        text_only("Hello, 世界 {")
    );
    assert_eq!(parse("", &tools()), Parsed::default());
}

/// A small deterministic generator: the test must be reproducible, not random.
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

#[test]
fn never_panics_on_noise_or_truncations() {
    let tools = tools();
    let pieces = [
        "<tool_call>",
        "</tool_call>",
        "[TOOL_CALLS]",
        "[ARGS]",
        "<|python_tag|>",
        "```",
        "```json\n",
        "`",
        "{",
        "}",
        "[",
        "]",
        "\"",
        "\\",
        ":",
        ",",
        "\"name\"",
        "\"arguments\"",
        "\"list_zones\"",
        "\"get_current_time\"",
        " ",
        "\n",
        "é",
        "世",
        "🦀",
        "\u{0}",
    ];
    let mut state = 7;
    for _ in 0..3000 {
        let len = next(&mut state) % 40;
        let mut output = String::new();
        for _ in 0..len {
            if next(&mut state).is_multiple_of(3) {
                let bytes: Vec<u8> = (0..4).map(|_| (next(&mut state) % 256) as u8).collect();
                output.push_str(&String::from_utf8_lossy(&bytes));
            } else {
                output.push_str(pieces[(next(&mut state) as usize) % pieces.len()]);
            }
        }
        let _ = parse(&output, &tools);
    }
    let valid = [
        "Sure.\n<tool_call>{\"name\": \"get_current_time\", \"arguments\": \"{\\\"timezone\\\": \\\"Asia/Tokyo\\\"}\"}</tool_call> ok",
        "[TOOL_CALLS] [{\"name\": \"list_zones\", \"arguments\": {}}]",
        "[TOOL_CALLS]get_current_time[ARGS]{\"timezone\": \"世界\"}",
        "<|python_tag|>{\"name\": \"list_zones\", \"parameters\": {}}<|eot_id|>",
        "é```json\n{\"name\": \"get_current_time\", \"arguments\": {\"timezone\": \"🦀\"}}\n```é",
    ];
    for output in valid {
        for (end, _) in output.char_indices() {
            let _ = parse(&output[..end], &tools);
            let _ = parse(&output[end..], &tools);
        }
    }
}

#[test]
fn fenced_json_naming_a_near_miss_of_a_tool_is_a_call_under_that_name() {
    // Measured with scripts/eval-tools: Qwen 1.5B wrote a server's prefix before the name.
    let output = "```json\n{\"name\": \"time__current_time\", \"arguments\": {\"timezone\": \"Asia/Tokyo\"}}\n```";
    assert_eq!(
        parse(output, &tools()),
        parsed(
            vec![(
                call("time__current_time", json!({"timezone": "Asia/Tokyo"})),
                Format::FencedJson
            )],
            ""
        )
    );
}
