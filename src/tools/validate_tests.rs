//! Tests of `validate`: each problem as the exact message the model will read.

use serde_json::{Value, json};

use super::{CallProblem, ToolCall, ToolSpec, validate};

fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "get_time",
            "The current time.",
            json!({
                "type": "object",
                "properties": {"timezone": {"type": "string"}},
                "required": ["timezone"],
                "additionalProperties": false
            }),
        ),
        ToolSpec::new("list_zones", "Every zone.", json!({"type": "object"})),
    ]
}

fn call(name: &str, arguments: Value) -> ToolCall {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object")
    };
    ToolCall {
        name: name.to_owned(),
        arguments,
    }
}

#[test]
fn a_valid_call_passes() {
    assert_eq!(
        validate(&call("get_time", json!({"timezone": "UTC"})), &tools()),
        Ok(())
    );
    assert_eq!(validate(&call("list_zones", json!({})), &tools()), Ok(()));
}

#[test]
fn unknown_tool() {
    let problem = validate(&call("send_email", json!({})), &tools());
    assert_eq!(
        problem,
        Err(CallProblem::UnknownTool {
            name: "send_email".into(),
            known: "get_time, list_zones".into()
        })
    );
    assert_eq!(
        problem.map_err(|p| p.to_string()),
        Err("there is no tool named \"send_email\"; the tools are: get_time, list_zones; call one of them".into())
    );
}

#[test]
fn wrong_type() {
    let problem =
        validate(&call("get_time", json!({"timezone": 5})), &tools()).map_err(|p| p.to_string());
    assert_eq!(
        problem,
        Err("tool get_time: arguments.timezone: 5 is not of type \"string\"; call it again with valid arguments".into())
    );
}

#[test]
fn missing_required_field() {
    let problem = validate(&call("get_time", json!({})), &tools()).map_err(|p| p.to_string());
    assert_eq!(
        problem,
        Err("tool get_time: arguments: \"timezone\" is a required property; call it again with valid arguments".into())
    );
}

#[test]
fn extra_field_when_additional_properties_is_false() {
    let problem = validate(
        &call("get_time", json!({"timezone": "UTC", "format": "iso"})),
        &tools(),
    );
    assert_eq!(
        problem,
        Err(CallProblem::InvalidArguments {
            name: "get_time".into(),
            detail: "arguments: Additional properties are not allowed ('format' was unexpected)"
                .into(),
        })
    );
}

#[test]
fn nested_paths_read_like_the_model_wrote_them() {
    let tools = vec![ToolSpec::new(
        "sum",
        "Adds.",
        json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "number"}}}}),
    )];
    let problem =
        validate(&call("sum", json!({"items": [1, "two"]})), &tools).map_err(|p| p.to_string());
    assert_eq!(
        problem,
        Err("tool sum: arguments.items[1]: \"two\" is not of type \"number\"; call it again with valid arguments".into())
    );
}

#[test]
fn an_invalid_schema_is_the_plugins_fault() {
    let tools = vec![ToolSpec::new("odd", "Odd.", json!({"type": 12}))];
    let problem = validate(&call("odd", json!({})), &tools);
    assert!(
        matches!(problem, Err(CallProblem::BadSchema { ref name, .. }) if name == "odd"),
        "{problem:?}"
    );
}
