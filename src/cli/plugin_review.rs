//! Reviewing a plugin before trusting it: `plugins tools ID` starts it (sandboxed, exactly as
//! the app would) and lists its tools with their token cost; `plugins call ID TOOL [JSON]`
//! runs one call without a model. The command itself is the consent: the call is audited
//! (`granted_by: "command"`) and counted like any other. Both work on a disabled plugin.
//!
//! Untrusted text (descriptions, results) goes through `text::inert` when stdout is a terminal,
//! and is written unchanged when piped.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Instant;

use libre_assistant::core::ToolsConfig;
use libre_assistant::core::tools::{CallResult, Policy, Prepared, Toolbox};
use libre_assistant::engine;
use libre_assistant::exit::Exit;
use libre_assistant::plugins::audit::{self, Grant};
use libre_assistant::plugins::host::{self, HostConfig, HostEvent, PluginState, ToolInfo};
use libre_assistant::plugins::{Plugin, usage};
use libre_assistant::text::inert;
use libre_assistant::tools::{ToolCall, ToolSpec};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::failure::Failure;
use super::setup::Setup;

/// `plugins tools ID [--json]`.
pub fn tools(setup: &Setup, plugin: &Plugin, json: bool) -> Result<Exit, Failure> {
    crate::runtime()?.block_on(async {
        let (toolbox, tools, _) = start(setup, plugin).await?;
        toolbox.shutdown().await;
        let specs: Vec<ToolSpec> = tools
            .iter()
            .map(|t| ToolSpec::new(&t.name, &t.description, t.input_schema.clone()))
            .collect();
        let (costs, counted_with) = token_costs(setup, &specs);
        print_tools(
            &plugin.manifest.id,
            &tools,
            &costs,
            counted_with.as_deref(),
            json,
        );
        Ok(Exit::Ok)
    })
}

/// `plugins call ID TOOL [JSON] [--json]`.
pub fn call(
    setup: &Setup,
    plugin: &Plugin,
    tool: &str,
    arguments: Option<&str>,
    json: bool,
) -> Result<Exit, Failure> {
    let arguments = parse_arguments(arguments)?;
    crate::runtime()?.block_on(async {
        let (mut toolbox, _, mut events) = start(setup, plugin).await?;
        let id = plugin.manifest.id.clone();
        let call = ToolCall {
            name: tool.to_owned(),
            arguments: arguments.clone(),
        };
        let args = Value::Object(arguments);
        let started = Instant::now();
        let (result, exit) = match toolbox.prepare(&call) {
            Prepared::Invalid { problem, .. } => (CallResult::Invalid { problem }, Exit::Usage),
            Prepared::Ready(request, _) => {
                let outcome = toolbox
                    .caller()
                    .call(&id, &request.tool, call.arguments.clone())
                    .await;
                let result = CallResult::from_host(outcome);
                let exit = match &result {
                    CallResult::Done {
                        is_error: false, ..
                    } => Exit::Ok,
                    _ => Exit::Plugin,
                };
                (result, exit)
            }
        };
        // An invalid call never ran: nothing granted it (as for the model's invalid calls).
        let grant = match result {
            CallResult::Invalid { .. } => Grant::None,
            _ => Grant::Command,
        };
        let recorded = toolbox.record(&id, tool, &args, grant, started.elapsed(), &result);
        // A plugin stopped over a limit during the call: the monitor said so before the
        // process went, so the event is already waiting.
        while let Ok(event) = events.try_recv() {
            if let Some(notice) = toolbox.on_host(&event) {
                eprintln!("libre-assistant: {notice}");
            }
        }
        toolbox.shutdown().await;
        if let Some(problem) = recorded.problem {
            eprintln!("libre-assistant: warning: {problem}");
        }
        print_result(&result, json);
        match result {
            CallResult::Invalid { problem } => Err(Failure::new(exit, format!("{id}: {problem}"))),
            CallResult::Failed { error } | CallResult::Denied { reason: error } => {
                Err(Failure::new(exit, format!("{id}/{tool}: {error}")))
            }
            CallResult::Done { .. } => Ok(exit),
        }
    })
}

/// The arguments: a JSON object, `{}` when left out.
fn parse_arguments(text: Option<&str>) -> Result<Map<String, Value>, Failure> {
    let usage = |why: String| {
        Failure::new(
            Exit::Usage,
            format!(
                "JSON-ARGUMENTS {why}; give an object such as '{{\"timezone\": \"Asia/Tokyo\"}}'"
            ),
        )
    };
    match text.map(serde_json::from_str::<Value>) {
        None => Ok(Map::new()),
        Some(Ok(Value::Object(map))) => Ok(map),
        Some(Ok(other)) => Err(usage(format!("is not an object: {other}"))),
        Some(Err(e)) => Err(usage(format!("is not JSON ({e})"))),
    }
}

/// Starts `plugin` alone under the app's sandbox and waits until it has listed its tools; a
/// plugin that fails is one error line (what was denied, the stderr tail) and exit code 8.
pub(super) async fn start(
    setup: &Setup,
    plugin: &Plugin,
) -> Result<(Toolbox, Vec<ToolInfo>, mpsc::Receiver<HostEvent>), Failure> {
    let mut problems = Vec::new();
    let sandbox = super::tools::sandbox_config(setup, &mut problems);
    for problem in &problems {
        eprintln!("libre-assistant: warning: {problem}");
    }
    let id = plugin.manifest.id.clone();
    let enforcement = sandbox.enforcement();
    let config = ToolsConfig {
        host: host::spawn(HostConfig {
            plugins: vec![plugin.clone()],
            max_restarts: 0,
            sandbox: Some(sandbox),
            secrets: Some(libre_assistant::plugins::secrets::SecretStore::new(
                &setup.dirs,
            )),
            serve_requests: false,
        }),
        sandbox: Some(enforcement),
        manifests: BTreeMap::from([(id.clone(), plugin.manifest.clone())]),
        policy: Policy::default(),
        allow_sampling: Vec::new(),
        ask: false,
        max_rounds: 1,
        grammar: false,
        budget: 0,
        plugin_budget: 0,
        generic_format: false,
        only_relevant: false,
        call_max_tokens: engine::DEFAULT_CALL_MAX_TOKENS,
        audit: Some(audit::audit_file(&setup.dirs)),
        usage: Some(usage::usage_file(&setup.dirs)),
        remembered: None,
    };
    let (mut toolbox, mut events, _) = Toolbox::new(config);
    while let Some(event) = events.recv().await {
        toolbox.on_host(&event);
        match event {
            HostEvent::Tools { tools, .. } => return Ok((toolbox, tools, events)),
            HostEvent::Status {
                status: PluginState::Crashed { error, .. } | PluginState::Halted { reason: error },
                ..
            } => {
                toolbox.shutdown().await;
                return Err(Failure::new(
                    Exit::Plugin,
                    format!("plugin {id} failed to start: {error}"),
                ));
            }
            HostEvent::Status { .. }
            | HostEvent::Resources { .. }
            | HostEvent::Progress { .. }
            | HostEvent::Connected { .. }
            | HostEvent::ResourceUpdated { .. }
            | HostEvent::Log { .. }
            // Rejected by the host: `plugins call` serves no requests.
            | HostEvent::Sampling(_)
            | HostEvent::Elicitation(_) => {}
        }
    }
    Err(Failure::new(
        Exit::Plugin,
        format!("plugin {id} stopped before listing its tools"),
    ))
}

/// Each tool's cost in prompt tokens, counted with the configured model's tokenizer when it is
/// installed (and the model's name), else estimated at four bytes a token.
fn token_costs(setup: &Setup, specs: &[ToolSpec]) -> (Vec<usize>, Option<String>) {
    let model = &setup.config.settings.model;
    let counted = setup
        .store()
        .resolve(model)
        .ok()
        .and_then(|resolved| engine::tool_costs(&resolved.path, specs).ok());
    match counted {
        Some(costs) => (costs, Some(model.clone())),
        None => {
            let estimate = specs
                .iter()
                .map(|s| engine::tool_definition(s).len().div_ceil(4))
                .collect();
            (estimate, None)
        }
    }
}

/// Untrusted text for stdout: inert on a terminal, unchanged when piped.
pub(super) fn shown(text: &str) -> String {
    if std::io::stdout().is_terminal() {
        inert(text).into_owned()
    } else {
        text.to_owned()
    }
}

fn print_tools(
    id: &str,
    tools: &[ToolInfo],
    costs: &[usize],
    counted_with: Option<&str>,
    json: bool,
) {
    if json {
        let rows: Vec<Value> = tools
            .iter()
            .zip(costs)
            .map(|(t, cost)| {
                json!({
                    "name": t.name,
                    "description": t.description,
                    "input_schema": t.input_schema,
                    "title": t.hints.title,
                    "annotations": t.hints.words(),
                    "tokens": cost,
                    "tokens_counted_with": counted_with,
                })
            })
            .collect();
        println!("{}", Value::Array(rows));
        return;
    }
    let total: usize = costs.iter().sum();
    let how = match counted_with {
        Some(model) => format!("counted with {model}"),
        None => "estimated: no model installed to count with".to_owned(),
    };
    let tools_word = if tools.len() == 1 { "tool" } else { "tools" };
    println!(
        "{id}: {} {tools_word}, {total} prompt tokens in all ({how})",
        tools.len()
    );
    for (tool, cost) in tools.iter().zip(costs) {
        println!();
        let declares = tool.hints.words();
        let declares = match declares.is_empty() {
            true => String::new(),
            false => format!(", declares {}", declares.join(", ")),
        };
        println!("{}  ({cost} tokens{declares})", shown(&tool.name));
        if let Some(title) = &tool.hints.title {
            println!("  {}", shown(title));
        }
        for line in tool.description.lines() {
            println!("  {}", shown(line));
        }
        let schema = serde_json::to_string_pretty(&tool.input_schema).unwrap_or_default();
        for line in schema.lines() {
            println!("  {}", shown(line));
        }
    }
}

fn print_result(result: &CallResult, json: bool) {
    let (outcome, text) = match result {
        CallResult::Done {
            text,
            is_error: false,
        } => ("ok", text),
        CallResult::Done {
            text,
            is_error: true,
        } => ("tool_error", text),
        CallResult::Failed { error } => ("failed", error),
        CallResult::Denied { reason } => ("denied", reason),
        CallResult::Invalid { problem } => ("invalid", problem),
    };
    if json {
        println!("{}", json!({"outcome": outcome, "text": text}));
    } else if matches!(result, CallResult::Done { .. }) {
        let text = shown(text);
        if text.ends_with('\n') {
            print!("{text}");
        } else {
            println!("{text}");
        }
    }
}
