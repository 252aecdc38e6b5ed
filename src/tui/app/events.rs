//! Facts from the core and from background tasks, folded into the UI state.

use libre_assistant::core::{CallResult, Event, FinishedCall, Op};
use libre_assistant::engine::EngineError;
use libre_assistant::plugins::host::{HostEvent, PluginState};
use libre_assistant::plugins::usage::Figures;

use super::App;
use super::tasks::TaskEvent;
use crate::tui::chat::{CallProgress, Kind, ToolOutcome};
use crate::tui::layout::Pane;
use crate::tui::models::{Loaded, Loading};
use crate::tui::plugins::PluginRow;
use crate::tui::sampling::SamplingDialog;
use crate::tui::state::Activity;

impl App {
    /// Folds one core event into the UI state.
    pub fn on_core(&mut self, ev: Event) {
        match ev {
            Event::TurnStarted => {
                if std::mem::take(&mut self.regenerating) {
                    self.state.chat.pop_last(Kind::Assistant);
                }
                self.state.chat.unqueue();
                self.state.chat.begin_answer();
                self.state.status.activity = Activity::Generating;
            }
            Event::WaitingForCores => self.state.status.activity = Activity::WaitingForCores,
            Event::TokenDelta { text } => {
                if self.state.status.activity == Activity::WaitingForCores {
                    self.state.status.activity = Activity::Generating;
                }
                self.state.chat.append(&text);
            }
            Event::HistoryTrimmed { dropped_messages } => {
                let text = format!(
                    "the context is full: the model no longer sees the {dropped_messages} oldest messages (they stay here and on disk)"
                );
                self.state.chat.push(Kind::Notice, text);
            }
            Event::TurnComplete { finish, stats } => {
                self.state.consent.clear();
                self.state.status.used = stats.prompt_tokens + stats.generated_tokens;
                self.state.status.last_tps = Some(stats.tokens_per_second);
                self.state.chat.finish(finish, stats);
                self.state.status.activity = Activity::Idle;
                // Saved before this event: the list shows the session's new size.
                self.refresh_sessions();
            }
            Event::TurnFailed { error, unsent } => self.turn_failed(&error, unsent),
            Event::Refused { reason } => {
                self.regenerating = false;
                if self.state.status.activity == Activity::Generating
                    && !self.state.chat.is_streaming()
                {
                    self.state.status.activity = self.resting();
                }
                self.flash(reason, true);
            }
            Event::ModelLoading { .. } => {
                self.state.status.activity = Activity::Loading(0.0);
            }
            Event::ModelLoadProgress { fraction } => {
                self.state.status.activity = Activity::Loading(fraction);
                if let Loading::InProgress { fraction: f, .. } = &mut self.state.models.loading {
                    *f = fraction;
                }
            }
            Event::ModelLoaded { info } => self.model_loaded(info),
            Event::ModelTools { offered } => {
                self.state.status.tools_off = !offered;
                self.state.plugins.tools_off = !offered;
            }
            Event::ToolsOffered { tools, budget } => {
                self.state.plugins.costs = tools;
                self.state.plugins.budget = budget;
            }
            Event::ModelLoadFailed { error } => self.model_failed(&error),
            Event::Retracted { text } => {
                self.state.chat.pop_last(Kind::Assistant);
                self.state.chat.pop_last(Kind::User);
                // A draft in the input goes to the history rather than being overwritten.
                self.state.composer.take();
                self.state.composer.set_text(&text);
            }
            Event::Cleared => {
                self.state.chat.clear();
                self.state.status.used = 0;
                self.flash("new conversation (the old one is saved)", false);
                self.refresh_sessions();
            }
            Event::SessionOpened {
                id,
                title,
                messages,
                cut_short,
            } => {
                self.state.chat.clear();
                self.state.status.used = 0;
                self.state.chat.show_conversation(&messages);
                let line = crate::tui::continued(id, &title, cut_short);
                self.state.chat.push(Kind::Notice, line);
                self.state.focus = Pane::Chat;
                self.refresh_sessions();
            }
            Event::SystemPromptSet { text } => {
                let text = if text.is_empty() {
                    "system prompt removed".to_string()
                } else {
                    format!("system prompt set: {text}")
                };
                self.state.chat.push(Kind::Notice, text);
            }
            Event::Plugin(ev) => self.on_plugin(ev),
            Event::PluginFigures { plugins } => {
                for (id, figures) in plugins {
                    self.plugin_figures(&id, &figures);
                }
            }
            Event::ToolConsent { request } => {
                self.state.consent.push(request);
                self.state.status.activity = Activity::AwaitingConsent;
            }
            Event::ToolCallStarted { request, .. } => {
                let header = call_header(&request.plugin, &request.tool, &request.arguments);
                self.state.chat.tool_started(request.id, header);
            }
            Event::ToolCallFinished { call } => self.tool_finished(call),
            Event::Notice { message } => self.state.chat.push(Kind::Notice, message),
            Event::SamplingConsent {
                request,
                max_tokens,
            } => self.state.sampling = Some(SamplingDialog::consent(request, max_tokens)),
            Event::Elicitation { request } => self.state.forms.push(request),
            Event::Asked {
                plugin,
                ask,
                answer,
            } => self.asked(plugin, ask, answer),
            Event::SamplingReview { id, plugin, text } => {
                self.state.sampling = Some(SamplingDialog::review(id, plugin, text));
            }
            Event::SamplingDone {
                id,
                plugin,
                outcome,
            } => {
                if self.state.sampling.as_ref().is_some_and(|d| d.id == id) {
                    self.state.sampling = None;
                }
                let text = format!(
                    "plugin {} asked the model to write a message: {}",
                    libre_assistant::text::inert(&plugin),
                    libre_assistant::text::inert(&outcome)
                );
                self.state.chat.push(Kind::Notice, text);
            }
            Event::JournalFailed { error } => {
                self.state.chat.push(
                    Kind::Error,
                    format!("cannot save the conversation: {error}"),
                );
            }
        }
    }

    fn tool_finished(&mut self, call: FinishedCall) {
        let header = call_header(&call.plugin, &call.tool, &call.arguments);
        let ms = call.duration_ms;
        let (label, body, failed) = match call.result {
            CallResult::Done {
                text,
                is_error: false,
            } => (format!("ok {ms} ms"), text, false),
            CallResult::Done {
                text,
                is_error: true,
            } => (format!("error {ms} ms"), text, true),
            CallResult::Denied { reason } => ("denied".to_string(), reason, true),
            CallResult::Invalid { problem } => ("error".to_string(), problem, true),
            CallResult::Failed { error } => ("error".to_string(), error, true),
        };
        let outcome = ToolOutcome {
            label,
            body,
            failed,
        };
        self.state.chat.tool_finished(call.id, header, outcome);
        if !call.plugin.is_empty() {
            self.plugin_figures(&call.plugin, &call.plugin_figures);
            if let Some(row) = self.plugin_row(&call.plugin) {
                row.last_call = Some(format!("{} ({ms} ms)", call.tool));
                row.call_took(call.duration_ms);
            }
        }
    }

    fn plugin_row(&mut self, id: &str) -> Option<&mut PluginRow> {
        self.state.plugins.rows.iter_mut().find(|r| r.id == id)
    }

    fn plugin_figures(&mut self, id: &str, figures: &Figures) {
        if let Some(row) = self.plugin_row(id) {
            row.set_figures(figures);
        }
    }

    /// The activity when nothing runs.
    pub(super) fn resting(&self) -> Activity {
        if self.model_ready {
            Activity::Idle
        } else {
            Activity::NoModel
        }
    }

    fn turn_failed(&mut self, error: &EngineError, unsent: String) {
        self.regenerating = false;
        self.state.consent.clear();
        if self.state.chat.is_streaming() {
            self.state.chat.pop_last(Kind::Assistant);
        }
        if !unsent.is_empty() {
            self.state.chat.pop_last(Kind::User);
            self.state.composer.take();
            self.state.composer.set_text(&unsent);
        }
        self.state.chat.push(Kind::Error, error.to_string());
        self.state.status.activity = self.resting();
    }

    fn model_loaded(&mut self, info: libre_assistant::engine::ModelInfo) {
        let name = self
            .model_name
            .clone()
            .unwrap_or_else(|| info.path.display().to_string());
        self.model_ready = true;
        self.state.status.model = Some(name.clone());
        self.state.status.context = info.context;
        self.state.status.runs = Some(info.runs.clone());
        self.state.status.used = 0;
        self.state.status.activity = Activity::Idle;
        // A server's model has no file here to read.
        let gguf = match info.runs {
            libre_assistant::engine::Placement::Remote { .. } => None,
            _ => libre_assistant::models::gguf::metadata(&info.path).ok(),
        };
        self.state.models.loading = Loading::Idle;
        self.state.models.loaded = Some(Loaded {
            name: name.clone(),
            info,
            gguf,
        });
        self.state.models.message = Some(format!("{name} is loaded"));
        if let Some(text) = self.queued.take() {
            self.state.status.activity = Activity::Generating;
            let _ = self.ops.send(Op::Submit { text });
        }
    }

    fn model_failed(&mut self, error: &EngineError) {
        self.model_ready = false;
        let name = self.model_name.take().unwrap_or_default();
        self.state.models.loading = Loading::Failed {
            name,
            error: error.to_string(),
        };
        self.state.models.loaded = None;
        self.state.status.model = None;
        self.state.status.runs = None;
        self.state.status.activity = Activity::NoModel;
        self.state.chat.push(Kind::Error, error.to_string());
        self.return_queued();
    }

    /// A queued message goes back to the input when its model will not come.
    pub(super) fn return_queued(&mut self) {
        if let Some(text) = self.queued.take() {
            self.state.chat.pop_last(Kind::User);
            self.state.composer.take();
            self.state.composer.set_text(&text);
        }
    }

    pub(super) fn on_task(&mut self, ev: TaskEvent) {
        match ev {
            TaskEvent::DownloadProgress {
                phase,
                done,
                total,
                bytes_per_second,
            } => {
                if let Some(d) = &mut self.state.models.download {
                    d.phase = phase;
                    d.done = done;
                    d.total = total;
                    d.bytes_per_second = bytes_per_second;
                }
                if let Activity::Downloading(_) = self.state.status.activity {
                    let f = if total > 0 {
                        done as f32 / total as f32
                    } else {
                        0.0
                    };
                    self.state.status.activity = Activity::Downloading(f.min(1.0));
                }
            }
            TaskEvent::RemoteModels { rows, problems } => {
                self.state.models.set_remote_rows(rows);
                if let Some(problem) = problems.into_iter().next() {
                    self.state.models.message = Some(problem);
                }
            }
            TaskEvent::Sessions { generation, result } => {
                self.sessions_listed(generation, result);
            }
            TaskEvent::SessionChanged { result } => self.session_changed(result),
            TaskEvent::DownloadDone {
                name,
                result,
                then_load,
            } => {
                self.state.models.download = None;
                self.rescan_models();
                match result {
                    Ok(()) => {
                        self.state.models.message = Some(format!("{name} downloaded and verified"));
                        if then_load {
                            self.load_model(&name);
                        }
                    }
                    Err(e) => {
                        self.state.models.message = Some(e.clone());
                        self.state.chat.push(Kind::Error, e);
                        if then_load {
                            self.state.status.activity = self.resting();
                            self.return_queued();
                        }
                    }
                }
            }
        }
    }

    pub(super) fn on_plugin(&mut self, ev: HostEvent) {
        match ev {
            HostEvent::Status { plugin, status } => {
                if let Some(row) = self.state.plugins.rows.iter_mut().find(|r| r.id == plugin) {
                    row.status = (&status).into();
                    match &status {
                        PluginState::Crashed { error, restarts } => {
                            row.error = Some(libre_assistant::text::inert(error).into_owned());
                            // The first failure says why in the chat too; restarts repeat it.
                            if *restarts == 0 {
                                let line = format!("plugin {plugin} failed: {error}");
                                self.state.chat.push(Kind::Error, line);
                            }
                        }
                        PluginState::Halted { reason } => {
                            row.error = Some(libre_assistant::text::inert(reason).into_owned());
                        }
                        PluginState::Running => row.error = None,
                        PluginState::Starting | PluginState::Stopped => {}
                    }
                }
            }
            HostEvent::Resources { plugin, resources } => {
                if let Some(row) = self.state.plugins.rows.iter_mut().find(|r| r.id == plugin) {
                    row.resources = Some(resources);
                }
            }
            HostEvent::Tools { plugin, tools } => {
                if let Some(row) = self.state.plugins.rows.iter_mut().find(|r| r.id == plugin) {
                    row.tools = tools.len();
                }
                self.plugin_listed(&plugin);
            }
            HostEvent::Connected {
                plugin,
                server,
                protocol,
            } => {
                if let Some(row) = self.state.plugins.rows.iter_mut().find(|r| r.id == plugin) {
                    row.server = Some(format!("MCP {protocol}, {server}"));
                }
            }
            HostEvent::Log {
                plugin,
                level,
                text,
            } => {
                if let Some(row) = self.state.plugins.rows.iter_mut().find(|r| r.id == plugin) {
                    row.logged(&level, &text);
                }
            }
            HostEvent::ResourceUpdated { plugin, uri } => self.resource_updated(&plugin, &uri),
            // The core answers these itself; they never reach a front end.
            HostEvent::Sampling(_) | HostEvent::Elicitation(_) => {}
            HostEvent::Progress {
                progress,
                total,
                message,
                ..
            } => self.state.chat.tool_progress(CallProgress {
                progress,
                total,
                message,
            }),
        }
    }
}

/// "plugin/tool {arguments}" with the arguments as compact JSON (made inert when laid out).
fn call_header(plugin: &str, tool: &str, arguments: &serde_json::Value) -> String {
    let args = serde_json::to_string(arguments).unwrap_or_default();
    if plugin.is_empty() {
        format!("{tool} {args}")
    } else {
        format!("{plugin}/{tool} {args}")
    }
}
