//! Tools in the core's turns: what is offered to the model, how a call it writes is checked,
//! who allows it, and how it is recorded (audit log and usage figures).
//!
//! The [`Toolbox`] is owned by the core task. It holds the plugin host, the registry of
//! offered tools, the consent policy and the records; the turn loop in `task.rs` asks it to
//! prepare each call, waits for consent where needed, runs the call through a
//! [`HostCaller`], and hands the outcome back to be recorded. Invariant: every call the model
//! writes ends in exactly one [`Toolbox::record`], whether it ran, failed, was denied or was
//! invalid, so the audit log and the figures see every call; the one exception is a repeat of
//! a call already made in the turn, which the turn drops before it gets here.

mod held;
mod policy;
mod registry;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::sync::mpsc;

pub use held::Held;
pub use policy::{Pattern, Policy, parse_pattern};
pub use registry::{Offered, Registry, definition};

use crate::engine::{ChatMessage, Role, ToolGroup, ToolOffer, ToolPrompt};
use crate::plugins::audit::{self, AuditLog, AuditRecord, Decision, Grant, Outcome};
use crate::plugins::host::{
    CallError, Elicit, ElicitAnswer, ElicitationRequest, Hints, HostCaller, HostEvent, HostHandle,
    PluginState, SamplingAnswer, ToolOutcome,
};
use crate::plugins::sandbox::Enforcement;
use crate::plugins::usage::{CallKind, Figures, Usage};
use crate::plugins::{Manifest, Permissions, PluginsState, SamplingRule};
use crate::tools::{ToolCall, repair, validate};

/// A tool result longer than this (in bytes) is cut before the model sees it.
pub const RESULT_LIMIT: usize = 8 * 1024;

/// What the user is told when the loaded model is offered no tools.
pub const TOOLS_OFF: &str = "tools off for this model: its chat template has no tool support \
(set tools.generic_format = true in the config to describe the tools in its system prompt anyway)";

/// One enabled tool's part in a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedTool {
    /// The plugin's id.
    pub plugin: String,
    /// The name the model calls it by.
    pub name: String,
    /// Tokens its definition takes in the prompt.
    pub tokens: u32,
    /// Whether it was offered (it fitted the budget).
    pub offered: bool,
    /// Whether its plugin's tools take more than the plugin's cap (so none is offered).
    pub over_cap: bool,
    /// Whether the question may call it (`tools.only_relevant`).
    pub callable: bool,
}

/// How the core offers and runs tools.
#[derive(Debug)]
pub struct ToolsConfig {
    /// The running plugin host.
    pub host: HostHandle,
    /// Each started plugin's manifest, by id (for the permissions shown with a request).
    pub manifests: BTreeMap<String, Manifest>,
    /// Rules that allow calls without asking.
    pub policy: Policy,
    /// Ask the user about calls no rule allows (the TUI); else they are denied (headless).
    pub ask: bool,
    /// The most rounds of calls in one turn; the round after the last answers without tools.
    pub max_rounds: u32,
    /// Hold opened calls to the tools' schemas with a grammar.
    pub grammar: bool,
    /// The most prompt tokens tool definitions may take; 0: the engine's default share.
    pub budget: u32,
    /// The most prompt tokens one plugin's tool definitions may take (a manifest's
    /// `max_tool_tokens` overrides it); 0: no cap.
    pub plugin_budget: u32,
    /// Offer tools to models whose template has no tool support, in the generic format.
    pub generic_format: bool,
    /// Let the model call only the tools that share words with the question.
    pub only_relevant: bool,
    /// The extra tokens a call still being written at the answer's token limit may have.
    pub call_max_tokens: u32,
    /// The audit log; None records nothing (tests).
    pub audit: Option<PathBuf>,
    /// The usage figures file; None keeps them in memory only.
    pub usage: Option<PathBuf>,
    /// `plugins.toml`, where "always allow" answers are remembered; None remembers nothing.
    pub remembered: Option<PathBuf>,
    /// How much of each plugin's declared permissions the kernel enforces; None: no sandbox.
    pub sandbox: Option<Enforcement>,
    /// Plugins whose sampling requests a headless run answers (`--allow-sampling`).
    pub allow_sampling: Vec<String>,
}

/// Who decides a plugin's sampling request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamplingDecision {
    /// Answered without asking; this allowed it.
    Allow(Grant),
    /// Put to the user.
    Ask,
    /// Refused, and why (one line, for the server and the user).
    Deny(String),
}

/// A call the model made, checked and ready to run once allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRequest {
    /// Unique in this core's life; consent answers name it.
    pub id: u64,
    /// The plugin's id.
    pub plugin: String,
    /// The tool's name, as the plugin spells it.
    pub tool: String,
    /// The arguments, valid against the tool's input schema.
    pub arguments: Value,
    /// The tool's description, from the server (untrusted: show it through `text::inert`).
    pub description: String,
    /// What the plugin's manifest declares it may do.
    pub permissions: Permissions,
    /// Whether the kernel holds it to that: `fully enforced`, `partly enforced (…)`, `not
    /// enforced (…)`.
    pub sandbox: String,
    /// The user approved this tool before, but its definition has changed since.
    pub changed: bool,
    /// SHA-256 of the tool's definition, for "always allow".
    pub definition: String,
    /// What the server says the tool does (a destructive one is never always allowed).
    pub hints: Hints,
}

/// The user's answer to a consent request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentAnswer {
    /// Run this call.
    Once,
    /// Run it, and allow this tool for the rest of the session.
    Session,
    /// Run it, and always allow this tool (remembered in plugins.toml).
    Always,
    /// Do not run it; the model is told so.
    Deny,
}

/// How a call ended, as the front ends and the model see it.
#[derive(Debug, Clone, PartialEq)]
pub enum CallResult {
    /// The tool returned a result (`is_error`: flagged as an error by the tool).
    Done {
        /// Its text (or structured content as JSON when it gave no text).
        text: String,
        /// The tool reported an error result.
        is_error: bool,
    },
    /// Nobody allowed it.
    Denied {
        /// Why, one line.
        reason: String,
    },
    /// The call was malformed (unknown tool, bad arguments); it never reached a plugin.
    Invalid {
        /// What is wrong, worded for the model.
        problem: String,
    },
    /// It ran but did not return (timeout, crash, protocol error, interrupted).
    Failed {
        /// Why, one line.
        error: String,
    },
}

impl CallResult {
    /// From what the host returned.
    pub fn from_host(result: Result<ToolOutcome, CallError>) -> CallResult {
        match result {
            Ok(outcome) => CallResult::Done {
                text: result_text(&outcome),
                is_error: outcome.is_error,
            },
            Err(e) => CallResult::Failed {
                error: e.to_string(),
            },
        }
    }

    /// The tool message the model reads next.
    pub fn for_model(&self) -> String {
        match self {
            CallResult::Done { text, is_error } => {
                let text = cut(text);
                if *is_error {
                    format!("error: {text}")
                } else {
                    text
                }
            }
            CallResult::Denied { reason } => format!("the call was not run: {reason}"),
            CallResult::Invalid { problem } => format!("error: {problem}"),
            CallResult::Failed { error } => format!("error: {error}"),
        }
    }
}

fn result_text(outcome: &ToolOutcome) -> String {
    match (&outcome.structured, outcome.text.trim().is_empty()) {
        (Some(structured), true) => structured.to_string(),
        _ => outcome.text.clone(),
    }
}

/// `text` cut to [`RESULT_LIMIT`] on a character boundary, saying so.
fn cut(text: &str) -> String {
    if text.len() <= RESULT_LIMIT {
        return text.to_owned();
    }
    let mut end = RESULT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[… cut: the result had {} bytes]",
        &text[..end],
        text.len()
    )
}

/// A checked call, or why it cannot run.
pub enum Prepared {
    /// Ready: allowed by a rule (`Some`) or waiting for consent (`None`).
    Ready(Box<CallRequest>, Option<Grant>),
    /// It never reaches a plugin.
    Invalid {
        /// The plugin, when the tool is known.
        plugin: String,
        /// The tool as the model named it.
        tool: String,
        /// What is wrong.
        problem: String,
    },
}

/// What recording a call produced, for the front ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The tool's figures after this call.
    pub tool: Figures,
    /// The plugin's figures after this call.
    pub plugin: Figures,
    /// A record that could not be written, one line.
    pub problem: Option<String>,
}

/// The core's tools: the host, what is offered, the policy and the records.
pub struct Toolbox {
    host: HostHandle,
    caller: HostCaller,
    manifests: BTreeMap<String, Manifest>,
    registry: Registry,
    policy: Policy,
    ask: bool,
    max_rounds: u32,
    grammar: bool,
    budget: u32,
    plugin_budget: u32,
    /// Plugins already said to be over their cap.
    told_over_cap: BTreeSet<String>,
    generic_format: bool,
    only_relevant: bool,
    call_max_tokens: u32,
    audit_path: Option<PathBuf>,
    audit: Option<AuditLog>,
    usage_path: Option<PathBuf>,
    usage: Usage,
    remembered: Option<PathBuf>,
    sandbox: String,
    allow_sampling: Vec<String>,
    /// Resource samples arrived since the figures were last written.
    resources_unsaved: bool,
    next_id: u64,
}

impl Toolbox {
    /// The toolbox, and the host's event stream for the core to read. Remembered "always
    /// allow" answers and the usage figures are read here; a problem comes back as a notice.
    pub fn new(mut config: ToolsConfig) -> (Toolbox, mpsc::Receiver<HostEvent>, Vec<String>) {
        let events = config.host.take_events();
        let mut notices = Vec::new();
        if let Some(path) = &config.remembered {
            match PluginsState::load(path) {
                Ok(state) => {
                    for (plugin, choice) in &state.plugins {
                        for (tool, def) in &choice.always_allow {
                            config
                                .policy
                                .allow_definition(plugin, tool, def, Grant::Remembered);
                        }
                    }
                }
                Err(e) => notices.push(format!(
                    "{e}; no \"always allow\" answer applies until it is fixed: every call is asked"
                )),
            }
        }
        let usage = match &config.usage {
            Some(path) => Usage::load(path).unwrap_or_else(|e| {
                notices.push(format!("{e}; the figures start afresh"));
                Usage::default()
            }),
            None => Usage::default(),
        };
        let toolbox = Toolbox {
            caller: config.host.caller(),
            host: config.host,
            manifests: config.manifests,
            registry: Registry::default(),
            policy: config.policy,
            ask: config.ask,
            max_rounds: config.max_rounds,
            grammar: config.grammar,
            budget: config.budget,
            plugin_budget: config.plugin_budget,
            told_over_cap: BTreeSet::new(),
            generic_format: config.generic_format,
            only_relevant: config.only_relevant,
            call_max_tokens: config.call_max_tokens,
            audit_path: config.audit,
            audit: None,
            usage_path: config.usage,
            usage,
            remembered: config.remembered,
            sandbox: config
                .sandbox
                .map_or_else(|| "not enforced (no sandbox)".to_owned(), |e| e.describe()),
            resources_unsaved: false,
            next_id: 1,
            allow_sampling: config.allow_sampling,
        };
        (toolbox, events, notices)
    }

    /// Takes in what a plugin reported. A plugin the monitor stopped over a limit is written
    /// to the audit log and the figures; the notice for the user comes back.
    pub fn on_host(&mut self, event: &HostEvent) -> Option<String> {
        match event {
            HostEvent::Status { plugin, status } => {
                self.registry.set_state(plugin, status);
                match status {
                    PluginState::Halted { reason } => Some(self.halted(plugin, reason)),
                    PluginState::Starting
                    | PluginState::Running
                    | PluginState::Crashed { .. }
                    | PluginState::Stopped => None,
                }
            }
            HostEvent::Tools { plugin, tools } => {
                self.registry.set_tools(plugin, tools.clone());
                None
            }
            HostEvent::Resources { plugin, resources } => {
                self.usage.sampled(plugin, resources, SystemTime::now());
                self.resources_unsaved = true;
                None
            }
            HostEvent::Progress { .. }
            | HostEvent::Connected { .. }
            | HostEvent::ResourceUpdated { .. }
            | HostEvent::Log { .. }
            | HostEvent::Sampling(_)
            | HostEvent::Elicitation(_) => None,
        }
    }

    /// Records that the monitor stopped `plugin`; returns the notice.
    fn halted(&mut self, plugin: &str, reason: &str) -> String {
        let record = AuditRecord {
            time: audit::timestamp(SystemTime::now()),
            plugin: plugin.to_owned(),
            tool: String::new(),
            arguments: Value::Null,
            decision: Decision::Denied,
            granted_by: Grant::None,
            duration_ms: 0,
            outcome: Outcome::Failed(reason.to_owned()),
            result_sha256: None,
            event: Some(audit::STOPPED_OVER_LIMIT.to_owned()),
        };
        let mut notice =
            format!("plugin {plugin} was {reason}; it stays stopped until the next start");
        self.usage.halted(plugin, reason);
        for problem in [self.audit_append(&record), self.save_usage()]
            .into_iter()
            .flatten()
        {
            notice.push_str(&format!(" ({problem})"));
        }
        notice
    }

    /// Writes the figures; a problem comes back as one line.
    fn save_usage(&mut self) -> Option<String> {
        let path = self.usage_path.as_ref()?;
        self.resources_unsaved = false;
        self.usage.save(path).err().map(|e| e.to_string())
    }

    /// Whether a model is offered tools: one whose template takes them always is; one whose
    /// template does not only when the generic format is asked for.
    pub fn offers_to(&self, tool_template: bool) -> bool {
        tool_template || self.generic_format
    }

    /// The tools to offer before answering `messages`: none when no plugin runs. Every tool,
    /// in the same order in every round, so the prompt's prefix stays cached; when they do
    /// not all fit the budget, the engine takes them in `priority` order, the most relevant
    /// to the last user message (and the one before, for follow-ups) first. With
    /// `only_relevant`, only the tools that share a word with those messages may be called,
    /// and a question that shares none with any tool is offered none. After this turn's
    /// `called` tools (plugin, tool), see [`crate::tools::after_calls`]. A question that asks
    /// for knowledge ("why …", tips) is offered none, and an elliptical follow-up ("And in
    /// Paris?") must call, as must each step of "Read a.txt and …" (see
    /// `crate::tools::must_call`). `answer_only` asks for words, not calls.
    pub fn offer(
        &self,
        answer_only: bool,
        messages: &[ChatMessage],
        called: &[(String, String)],
    ) -> Option<Arc<ToolPrompt>> {
        if self.registry.offered().is_empty() {
            return None;
        }
        let tools = self.registry.specs();
        let mut users = messages.iter().rev().filter(|m| m.role == Role::User);
        let question = users.next().map_or("", |m| m.content.as_str());
        let before = users.next().map_or("", |m| m.content.as_str());
        let scores = crate::tools::scores(question, before, &tools);
        let mut callable: Vec<bool> = match self.only_relevant {
            true => {
                let relevant: Vec<bool> = scores.iter().map(|&s| s > 0.0).collect();
                crate::tools::fit_paths(question, &tools, &relevant)
            }
            false => Vec::new(),
        };
        let knowledge = self.only_relevant && crate::tools::asks_knowledge(question);
        if self.only_relevant && !answer_only && (knowledge || !callable.contains(&true)) {
            return None;
        }
        let owners: Vec<(String, String)> = tools
            .iter()
            .map(|t| match self.registry.find(&t.name) {
                Some(o) => (o.plugin.clone(), o.info.name.clone()),
                None => Default::default(),
            })
            .collect();
        let mut answer_only = answer_only;
        if self.only_relevant && !called.is_empty() {
            callable = crate::tools::after_calls(&callable, &scores, &owners, called);
            // Nothing left to call: the model answers with the results it has.
            answer_only |= !callable.contains(&true);
        }
        // "And in Paris?" asks the tool again; "Read a.txt and add up …" reads, then adds.
        let must = match self.only_relevant && !answer_only {
            true => crate::tools::must_call(question, before, &tools, &owners, &callable, called),
            false => None,
        };
        let must_call = must.is_some();
        if let Some(narrowed) = must {
            callable = narrowed;
        }
        Some(Arc::new(ToolPrompt {
            priority: crate::tools::order(&scores),
            callable,
            tools,
            grammar: self.grammar,
            answer_only,
            must_call,
            budget: self.budget,
            caps: self.caps(&owners),
            call_max_tokens: self.call_max_tokens,
        }))
    }

    /// Each plugin's tools with its cap: the manifest's `max_tool_tokens`, else
    /// `tools.plugin_budget`; none where both are 0.
    fn caps(&self, owners: &[(String, String)]) -> Vec<ToolGroup> {
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, (plugin, _)) in owners.iter().enumerate() {
            if !plugin.is_empty() {
                groups.entry(plugin).or_default().push(i);
            }
        }
        groups
            .into_iter()
            .filter_map(|(plugin, tools)| {
                let cap = self.cap_of(plugin);
                (cap > 0).then_some(ToolGroup { tools, cap })
            })
            .collect()
    }

    /// The most prompt tokens `plugin`'s tools may take: its manifest's `max_tool_tokens`,
    /// else `tools.plugin_budget`; 0: no cap.
    fn cap_of(&self, plugin: &str) -> u32 {
        match self.manifests.get(plugin).map_or(0, |m| m.max_tool_tokens) {
            0 => self.plugin_budget,
            own => own,
        }
    }

    /// A notice for each plugin whose tools were left out for passing its cap, the first
    /// time it happens.
    pub fn over_cap_notices(&mut self, offered: &[OfferedTool]) -> Vec<String> {
        let mut totals: BTreeMap<&str, u32> = BTreeMap::new();
        for tool in offered.iter().filter(|t| t.over_cap) {
            *totals.entry(&tool.plugin).or_default() += tool.tokens;
        }
        let mut notices = Vec::new();
        for (plugin, total) in totals {
            if self.told_over_cap.insert(plugin.to_owned()) {
                let cap = self.cap_of(plugin);
                notices.push(format!(
                    "plugin {plugin}'s tools take {total} prompt tokens, over its cap of {cap}, so \
                     none of them is offered; raise max_tool_tokens in its manifest or \
                     tools.plugin_budget"
                ));
            }
        }
        notices
    }

    /// The engine's choice of tools for `prompt`, with the plugin of each.
    pub fn offered(&self, offer: &ToolOffer, prompt: &ToolPrompt) -> Vec<OfferedTool> {
        offer
            .costs
            .iter()
            .map(|c| OfferedTool {
                plugin: self.plugin_of(&c.name).unwrap_or_default(),
                name: c.name.clone(),
                tokens: c.tokens,
                offered: c.offered,
                over_cap: c.over_cap,
                callable: c.offered && prompt.may_call(&c.name),
            })
            .collect()
    }

    /// The plugin offering the tool the model calls `model_name`.
    pub fn plugin_of(&self, model_name: &str) -> Option<String> {
        self.registry.find(model_name).map(|o| o.plugin.clone())
    }

    /// The most rounds of calls in one turn.
    pub fn max_rounds(&self) -> u32 {
        self.max_rounds
    }

    /// Whether undecided calls are put to the user.
    pub fn asks(&self) -> bool {
        self.ask
    }

    /// Checks a call the model wrote and decides whether a rule allows it.
    /// A near miss (a number written as text, a tool name with a prefix, …) is mended
    /// against the schema first (`tools::repair`), and runs as mended.
    pub fn prepare(&mut self, call: &ToolCall) -> Prepared {
        let specs = self.registry.specs();
        let call = match validate(call, &specs) {
            Ok(()) => call.clone(),
            Err(problem) => {
                let (mended, notes) = repair(call, &specs);
                if notes.is_empty() || validate(&mended, &specs).is_err() {
                    return Prepared::Invalid {
                        plugin: self.plugin_of(&call.name).unwrap_or_default(),
                        tool: call.name.clone(),
                        problem: problem.to_string(),
                    };
                }
                tracing::info!(tool = %mended.name, repairs = %notes.join("; "), "mended a call");
                mended
            }
        };
        let known = self.registry.find(&call.name).cloned();
        let offered = known.expect("validate found the tool");
        let grant = self.policy.decide(
            &offered.plugin,
            &offered.info.name,
            &offered.definition,
            offered.info.hints.read_only(),
        );
        let id = self.next_id;
        self.next_id += 1;
        let request = CallRequest {
            id,
            changed: self.policy.approval_outdated(
                &offered.plugin,
                &offered.info.name,
                &offered.definition,
            ),
            permissions: self
                .manifests
                .get(&offered.plugin)
                .map(|m| m.permissions.clone())
                .unwrap_or_default(),
            sandbox: match self.manifests.get(&offered.plugin) {
                Some(m) if m.is_remote() => crate::plugins::remote_label(&m.url),
                _ => self.sandbox.clone(),
            },
            plugin: offered.plugin,
            tool: offered.info.name,
            arguments: Value::Object(call.arguments.clone()),
            description: offered.info.description,
            definition: offered.definition,
            hints: offered.info.hints,
        };
        Prepared::Ready(Box::new(request), grant)
    }

    /// Applies the user's answer; returns the grant, or None for a denial. "Always" is
    /// remembered in plugins.toml; when that file cannot be read or written the tool is allowed
    /// for this session only, and the notice says so (nothing is remembered that was not saved).
    pub fn answer(
        &mut self,
        request: &CallRequest,
        answer: ConsentAnswer,
    ) -> (Option<Grant>, Option<String>) {
        let (plugin, tool, def) = (&request.plugin, &request.tool, &request.definition);
        if answer == ConsentAnswer::Always && request.hints.destructive() {
            // Never offered for it; a front end that sends it anyway gets this call only.
            let problem = format!(
                "{plugin}/{tool} is declared destructive, so it is never always allowed; this call alone was allowed"
            );
            return (Some(Grant::User), Some(problem));
        }
        match answer {
            ConsentAnswer::Deny => (None, None),
            ConsentAnswer::Once => (Some(Grant::User), None),
            ConsentAnswer::Session => {
                self.policy
                    .allow_definition(plugin, tool, def, Grant::Session);
                (Some(Grant::User), None)
            }
            ConsentAnswer::Always => {
                let saved = self.remembered.as_ref().map(|path| {
                    let mut state = PluginsState::load(path).map_err(|e| e.to_string())?;
                    state.set_always_allow(plugin, tool, def);
                    state.save(path).map_err(|e| e.to_string())
                });
                match saved {
                    Some(Err(e)) => {
                        self.policy
                            .allow_definition(plugin, tool, def, Grant::Session);
                        let problem = format!(
                            "cannot remember \"always allow\" for {plugin}/{tool}: {e}; it is allowed for this session only"
                        );
                        (Some(Grant::User), Some(problem))
                    }
                    Some(Ok(())) | None => {
                        self.policy
                            .allow_definition(plugin, tool, def, Grant::Remembered);
                        (Some(Grant::User), None)
                    }
                }
            }
        }
    }

    /// A caller for one call; drop it when the call ends.
    pub fn caller(&self) -> HostCaller {
        self.caller.clone()
    }

    /// Records how a call ended: one audit line and the usage figures (saved at once).
    pub fn record(
        &mut self,
        plugin: &str,
        tool: &str,
        arguments: &Value,
        grant: Grant,
        duration: Duration,
        result: &CallResult,
    ) -> Recorded {
        let (decision, outcome, kind, digest) = match result {
            CallResult::Done { text, is_error } => (
                Decision::Allowed,
                if *is_error {
                    Outcome::ToolError
                } else {
                    Outcome::Ok
                },
                Some(if *is_error {
                    CallKind::Error
                } else {
                    CallKind::Ok
                }),
                Some(audit::sha256_hex(text.as_bytes())),
            ),
            CallResult::Failed { error } => (
                Decision::Allowed,
                Outcome::Failed(error.clone()),
                Some(CallKind::Error),
                None,
            ),
            CallResult::Denied { reason } => (
                Decision::Denied,
                Outcome::Failed(reason.clone()),
                Some(CallKind::Denied),
                None,
            ),
            CallResult::Invalid { problem } => (
                Decision::Denied,
                Outcome::Failed(problem.clone()),
                None,
                None,
            ),
        };
        let now = SystemTime::now();
        let record = AuditRecord {
            time: audit::timestamp(now),
            plugin: plugin.to_owned(),
            tool: tool.to_owned(),
            arguments: arguments.clone(),
            decision,
            granted_by: grant,
            duration_ms: duration.as_millis() as u64,
            outcome,
            result_sha256: digest,
            event: None,
        };
        let mut problem = self.audit_append(&record);
        // An invalid call is the model's mistake, not the tool's use: the audit log has it,
        // the figures (calls that ran, and consent denials) do not.
        if let Some(kind) = kind {
            self.usage.record(plugin, tool, kind, duration, now);
            if let Some(e) = self.save_usage() {
                problem.get_or_insert(e);
            }
        }
        Recorded {
            tool: self.usage.tool(plugin, tool),
            plugin: self.usage.plugin(plugin),
            problem,
        }
    }

    fn audit_append(&mut self, record: &AuditRecord) -> Option<String> {
        let path = self.audit_path.as_ref()?;
        if self.audit.is_none() {
            match AuditLog::open(path) {
                Ok(log) => self.audit = Some(log),
                Err(e) => return Some(e.to_string()),
            }
        }
        let log = self.audit.as_mut()?;
        log.append(record).err().map(|e| e.to_string())
    }

    /// Who decides `plugin`'s sampling requests: its manifest's `sampling`, then a headless
    /// `--allow-sampling`, then the user where there is one to ask.
    pub fn sampling_decision(&self, plugin: &str) -> SamplingDecision {
        let rule = self.manifests.get(plugin).map(|m| m.sampling);
        match rule {
            Some(SamplingRule::Deny) => {
                SamplingDecision::Deny(format!("plugin {plugin}'s manifest denies sampling"))
            }
            Some(SamplingRule::Allow) => SamplingDecision::Allow(Grant::Config),
            _ if self.allow_sampling.iter().any(|p| p == plugin) => {
                SamplingDecision::Allow(Grant::HeadlessFlag)
            }
            _ if self.ask => SamplingDecision::Ask,
            _ => SamplingDecision::Deny(format!(
                "headless runs deny sampling; allow it with --allow-sampling {plugin}"
            )),
        }
    }

    /// Answers an elicitation and audits it (`event: "elicitation"`, the fields' names, never
    /// their values); a record that could not be written comes back as one line.
    pub fn answer_elicitation(
        &mut self,
        request: &ElicitationRequest,
        answer: ElicitAnswer,
    ) -> Option<String> {
        let (decision, outcome) = match &answer {
            ElicitAnswer::Accept(_) => (Decision::Allowed, Outcome::Ok),
            ElicitAnswer::Decline => (Decision::Denied, Outcome::Failed("declined".into())),
            ElicitAnswer::Cancel => (Decision::Denied, Outcome::Failed("cancelled".into())),
        };
        let asked = match &request.kind {
            Elicit::Form(form) => {
                let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
                serde_json::json!({"message": request.message, "fields": names})
            }
            Elicit::Url { url } => serde_json::json!({"message": request.message, "url": url}),
        };
        if !self.caller.answer_elicitation(request.id, answer) {
            tracing::info!(target: "plugin", plugin = %request.plugin, "an elicitation was answered after its server stopped waiting");
        }
        let record = AuditRecord {
            time: audit::timestamp(SystemTime::now()),
            plugin: request.plugin.clone(),
            tool: String::new(),
            arguments: asked,
            decision,
            granted_by: if decision == Decision::Allowed {
                Grant::User
            } else {
                Grant::None
            },
            duration_ms: 0,
            outcome,
            result_sha256: None,
            event: Some(audit::ELICITATION.to_owned()),
        };
        self.audit_append(&record)
    }

    /// Answers a sampling request; false when its server no longer waits.
    pub fn answer_sampling(&self, id: u64, answer: SamplingAnswer) -> bool {
        self.caller.answer_sampling(id, answer)
    }

    /// Writes a sampling request to the audit log: `event: "sampling"`, the request as
    /// `arguments`, and how it ended; a problem comes back as one line.
    pub fn record_sampling(
        &mut self,
        plugin: &str,
        request: Value,
        granted_by: Grant,
        duration: Duration,
        answer: &SamplingAnswer,
    ) -> Option<String> {
        let (decision, outcome, result) = match answer {
            SamplingAnswer::Sampled { text, .. } => (
                Decision::Allowed,
                Outcome::Ok,
                Some(audit::sha256_hex(text.as_bytes())),
            ),
            SamplingAnswer::Rejected(why) => (Decision::Denied, Outcome::Failed(why.clone()), None),
        };
        let record = AuditRecord {
            time: audit::timestamp(SystemTime::now()),
            plugin: plugin.to_owned(),
            tool: String::new(),
            arguments: request,
            decision,
            granted_by,
            duration_ms: duration.as_millis() as u64,
            outcome,
            result_sha256: result,
            event: Some(audit::SAMPLING.to_owned()),
        };
        self.audit_append(&record)
    }

    /// Every plugin's figures, for front ends that show them from the start.
    pub fn figures(&self) -> Vec<(String, Figures)> {
        self.host
            .plugin_ids()
            .map(|p| (p.to_owned(), self.usage.plugin(p)))
            .collect()
    }

    /// Stops every plugin and waits for their process groups to go; resource figures not yet
    /// written are saved (the monitor's samples are kept in memory between calls).
    pub async fn shutdown(mut self) {
        if self.resources_unsaved
            && let Some(problem) = self.save_usage()
        {
            tracing::warn!("{problem}");
        }
        drop(self.caller);
        self.host.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_for_the_model_say_what_happened() {
        let done = CallResult::Done {
            text: "12:00".into(),
            is_error: false,
        };
        assert_eq!(done.for_model(), "12:00");
        let err = CallResult::Done {
            text: "bad zone".into(),
            is_error: true,
        };
        assert_eq!(err.for_model(), "error: bad zone");
        let denied = CallResult::Denied {
            reason: "the user denied it".into(),
        };
        assert_eq!(
            denied.for_model(),
            "the call was not run: the user denied it"
        );
    }

    #[test]
    fn long_results_are_cut_on_a_character_boundary() {
        let text = "é".repeat(RESULT_LIMIT);
        let out = cut(&text);
        assert!(out.len() < text.len());
        assert!(out.ends_with(&format!("[… cut: the result had {} bytes]", text.len())));
    }

    #[test]
    fn structured_content_stands_in_for_missing_text() {
        let outcome = ToolOutcome {
            text: String::new(),
            structured: Some(serde_json::json!({"a": 1})),
            is_error: false,
        };
        assert_eq!(result_text(&outcome), "{\"a\":1}");
    }
}
