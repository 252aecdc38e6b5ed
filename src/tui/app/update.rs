//! Keys, paste and mouse become actions; actions change the UI state or become core `Op`s.

use crossterm::event::{KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use libre_assistant::backend::remote::consent as remote_consent;
use libre_assistant::backend::{BackendConfig, RemoteConfig};
use libre_assistant::core::{ConsentAnswer, Op};
use libre_assistant::models::{self, ModelError};
use libre_assistant::plugins::host::ElicitAnswer;

use super::App;
use super::action::Action;
use super::keys::{self, Scope};
use super::tasks;
use crate::tui::chat::Kind;
use crate::tui::composer::commands::{self, Command};
use crate::tui::layout::Pane;
use crate::tui::models::Loading;
use crate::tui::sessions::Field as SessionField;
use crate::tui::state::Activity;
use crate::tui::{clipboard, consent, help, markdown, models as model_pane, sampling, theme};

impl App {
    /// The key scopes in force, most specific first.
    fn scopes(&self) -> Vec<Scope> {
        if self.state.help.is_some() {
            return vec![Scope::Help];
        }
        if self.state.consent.is_open() {
            return vec![Scope::Consent];
        }
        if let Some(dialog) = &self.state.sampling {
            return match dialog.editing() {
                true => vec![Scope::SamplingEdit],
                false => vec![Scope::Sampling],
            };
        }
        if self.state.forms.is_open() {
            return vec![Scope::Form];
        }
        if self.state.focus == Pane::Sessions && self.state.sessions.confirm_delete.is_some() {
            return vec![Scope::Confirm];
        }
        if self.state.models.confirm_delete.is_some() || self.state.models.confirm_remote.is_some()
        {
            return vec![Scope::Confirm, Scope::Models];
        }
        match self.state.focus {
            Pane::Chat if self.state.composer.is_empty() => vec![Scope::ChatEmpty, Scope::Chat],
            Pane::Chat => vec![Scope::Chat],
            Pane::Models => vec![Scope::Models],
            Pane::Plugins => vec![Scope::Plugins],
            Pane::Sessions => vec![match self.state.sessions.field {
                SessionField::List => Scope::Sessions,
                SessionField::Search => Scope::SessionSearch,
                SessionField::Rename => Scope::SessionRename,
            }],
        }
    }

    pub(super) fn on_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        self.state.status.flash = None;
        self.key(key);
        if self.state.focus == Pane::Chat {
            self.ask_argument();
        }
    }

    fn key(&mut self, key: KeyEvent) {
        match keys::lookup(&self.scopes(), key) {
            Some(action) => self.act(action),
            None => {
                let plain = !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
                if self.state.help.is_none()
                    && !self.state.consent.is_open()
                    && self.state.sampling.is_none()
                    && self.state.forms.is_open()
                {
                    self.form_key(key);
                    return;
                }
                let above = self.state.help.is_some() || self.state.consent.is_open();
                if let (crossterm::event::KeyCode::Char(c), true, false, Some(dialog)) =
                    (key.code, plain, above, &mut self.state.sampling)
                {
                    dialog.change_draft(|d| d.push(c));
                    return;
                }
                let modal = self.state.help.is_some()
                    || self.state.consent.is_open()
                    || self.state.sampling.is_some();
                if let (crossterm::event::KeyCode::Char(c), true, false) = (key.code, plain, modal)
                    && self.session_field_open()
                {
                    self.field_type(c.encode_utf8(&mut [0; 4]));
                    return;
                }
                if let (crossterm::event::KeyCode::Char(c), true, Pane::Chat, false) =
                    (key.code, plain, self.state.focus, modal)
                {
                    self.state.composer.insert_char(c);
                }
            }
        }
    }

    pub(super) fn on_paste(&mut self, text: &str) {
        if self.state.help.is_none() && self.session_field_open() {
            self.field_type(text);
        } else if self.state.help.is_none() {
            self.state.focus = Pane::Chat;
            self.state.composer.insert_str(text);
            self.ask_argument();
        }
    }

    /// Scrolls the transcript with the wheel; true when the event did something.
    pub(super) fn on_mouse(&mut self, m: MouseEvent) -> bool {
        let height = self.transcript_height();
        match m.kind {
            MouseEventKind::ScrollUp => self.state.chat.scroll_by(-3, height),
            MouseEventKind::ScrollDown => self.state.chat.scroll_by(3, height),
            _ => return false,
        }
        true
    }

    /// Carries out one action.
    pub fn act(&mut self, action: Action) {
        let before = self.state.focus;
        self.act_on(action);
        // The list is read again each time the pane comes into view.
        if self.state.focus == Pane::Sessions && before != Pane::Sessions {
            self.refresh_sessions();
        }
    }

    fn act_on(&mut self, action: Action) {
        let height = self.transcript_height();
        let c = &mut self.state.composer;
        match action {
            Action::Quit => self.quit = true,
            Action::Stop => self.stop(),
            Action::Submit => self.submit(),
            Action::Newline => c.newline(),
            Action::PageUp if self.state.help.is_some() => self.scroll_help(-10),
            Action::PageDown if self.state.help.is_some() => self.scroll_help(10),
            Action::PageUp => self.state.chat.page_up(height),
            Action::PageDown => self.state.chat.page_down(height),
            Action::ScrollTop => self.state.chat.scroll_top(),
            Action::ScrollBottom => self.state.chat.scroll_bottom(),
            Action::Regenerate => self.regenerate(),
            Action::EditLast => self.edit_last(),
            Action::CopyAnswer => self.copy(false),
            Action::CopyCode => self.copy(true),
            Action::NextPane if self.state.focus == Pane::Chat && !c.completions().is_empty() => {
                c.complete();
            }
            Action::NextPane => self.state.focus = self.state.focus.cycle(1),
            Action::PrevPane => self.state.focus = self.state.focus.cycle(-1),
            Action::ShowChat => self.state.focus = Pane::Chat,
            Action::ShowModels => self.state.focus = Pane::Models,
            Action::ShowPlugins => self.state.focus = Pane::Plugins,
            Action::ShowSessions => self.state.focus = Pane::Sessions,
            Action::ToggleSidePanel => {
                self.state.side_panel = !self.state.side_panel;
                self.state.focus = Pane::Chat;
            }
            Action::ToggleHelp => {
                self.state.help = if self.state.help.is_some() {
                    None
                } else {
                    Some(0)
                };
            }
            Action::Redraw => self.repaint = true,
            Action::Left => c.left(),
            Action::Right => c.right(),
            Action::WordLeft => c.word_left(),
            Action::WordRight => c.word_right(),
            Action::LineStart => c.line_start(),
            Action::LineEnd => c.line_end(),
            Action::Up => {
                if !c.pick(false) && !c.up() {
                    c.history_prev();
                }
            }
            Action::Down => {
                if !c.pick(true) && !c.down() {
                    c.history_next();
                }
            }
            Action::Backspace => c.backspace(),
            Action::Delete => c.delete(),
            Action::KillLineStart => c.kill_to_line_start(),
            Action::KillLineEnd => c.kill_to_line_end(),
            Action::KillWord => c.kill_word_before(),
            Action::SelectPrev | Action::SelectNext => self.select(action == Action::SelectNext),
            Action::LoadModel => self.load_selected(),
            Action::DownloadModel => self.download_selected(),
            Action::DeleteModel => {
                self.state.models.confirm_delete = self
                    .state
                    .models
                    .selected_row()
                    .filter(|r| r.installed)
                    .map(|r| r.name.clone());
            }
            Action::OpenSession => self.open_session(),
            Action::SearchSessions => self.state.sessions.field = SessionField::Search,
            Action::ClearSearch => self.clear_search(),
            Action::RenameSession => self.start_rename(),
            Action::DeleteSession => self.ask_delete(),
            Action::ExportSession => self.export_session(),
            Action::FieldDone => self.field_done(),
            Action::FieldBackspace => self.field_backspace(),
            Action::FieldCancel => self.field_cancel(),
            Action::Yes if self.state.sessions.confirm_delete.is_some() => {
                self.delete_session_confirmed();
            }
            Action::Yes if self.state.models.confirm_remote.is_some() => self.remote_confirmed(),
            Action::Yes => self.delete_confirmed(),
            Action::No if self.state.models.confirm_remote.is_some() => {
                self.state.models.confirm_remote = None;
                self.state.status.activity = self.resting();
                self.return_queued();
                self.flash(
                    "nothing was sent; choose a local model in the model pane",
                    false,
                );
            }
            Action::No if self.state.sessions.confirm_delete.is_some() => {
                self.state.sessions.confirm_delete = None;
            }
            Action::No => self.state.models.confirm_delete = None,
            Action::AllowOnce => self.answer_consent(ConsentAnswer::Once),
            Action::AllowSession => self.answer_consent(ConsentAnswer::Session),
            Action::AllowAlways => {
                // Not offered for a tool declared destructive: the key does nothing there.
                if self
                    .state
                    .consent
                    .current()
                    .is_some_and(|r| !r.hints.destructive())
                {
                    self.answer_consent(ConsentAnswer::Always);
                }
            }
            Action::DenyCall => self.answer_consent(ConsentAnswer::Deny),
            Action::ApproveSampling => self.answer_sampling(true),
            Action::RejectSampling => self.answer_sampling(false),
            Action::EditSampling => {
                if !self.state.sampling.as_mut().is_some_and(|d| d.edit()) {
                    self.flash("the request has no message to edit", true);
                }
            }
            Action::StopEditingSampling => {
                if let Some(dialog) = &mut self.state.sampling {
                    dialog.stop_editing();
                }
            }
            Action::SamplingBackspace => {
                if let Some(dialog) = &mut self.state.sampling {
                    dialog.change_draft(|d| {
                        d.pop();
                    });
                }
            }
            Action::SamplingClear => {
                if let Some(dialog) = &mut self.state.sampling {
                    dialog.change_draft(String::clear);
                }
            }
            Action::FormSubmit => {
                let answered = self.state.forms.submit();
                self.answer_form(answered);
            }
            Action::FormNext => self.state.forms.move_focus(true),
            Action::FormPrev => self.state.forms.move_focus(false),
            Action::FormChoosePrev => self.state.forms.choose(false),
            Action::FormChooseNext => self.state.forms.choose(true),
            Action::FormToggle => self.state.forms.toggle(),
            Action::FormBackspace => self.state.forms.backspace(),
            Action::FormDecline => {
                let answered = self.state.forms.take(ElicitAnswer::Decline);
                self.answer_form(answered);
            }
            Action::FormCancel => {
                let answered = self.state.forms.take(ElicitAnswer::Cancel);
                self.answer_form(answered);
            }
        }
    }

    /// Sends the user's answer to a request for input.
    fn answer_form(&mut self, answered: Option<(u64, ElicitAnswer)>) {
        if let Some((id, answer)) = answered {
            let _ = self.ops.send(Op::Elicitation { id, answer });
        }
    }

    /// A key no binding takes while a request for input shows: typed into the field, or for
    /// a URL, `o` opens it and `c` copies it.
    fn form_key(&mut self, key: KeyEvent) {
        let crossterm::event::KeyCode::Char(c) = key.code else {
            return;
        };
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return;
        }
        let url = match self.state.forms.current().map(|d| &d.request.kind) {
            Some(libre_assistant::plugins::host::Elicit::Url { url }) => url.clone(),
            _ => {
                self.state.forms.type_char(c);
                return;
            }
        };
        match c {
            'c' => match clipboard::osc52(&url) {
                Some(sequence) => {
                    self.outbox.push(sequence);
                    self.flash("copied the URL", false);
                }
                None => self.flash("the URL is too long to copy", true),
            },
            'o' => match std::process::Command::new("xdg-open")
                .arg(&url)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
            {
                Ok(_) => self.flash("opening the URL in your browser", false),
                Err(e) => self.flash(
                    format!("cannot open a browser ({e}); press c to copy the URL"),
                    true,
                ),
            },
            _ => {}
        }
    }

    /// Answers the sampling dialog's question; the dialog closes until the core asks again.
    fn answer_sampling(&mut self, approve: bool) {
        if let Some(dialog) = self.state.sampling.take() {
            let _ = self.ops.send(Op::Sampling {
                id: dialog.id,
                approve,
                edited: dialog.edited().filter(|_| approve),
            });
        }
    }

    /// Answers the tool call on screen; the next waiting one shows, or the turn goes on.
    fn answer_consent(&mut self, answer: ConsentAnswer) {
        let Some(request) = self.state.consent.take() else {
            return;
        };
        let _ = self.ops.send(Op::Consent {
            id: request.id,
            answer,
        });
        if !self.state.consent.is_open() && self.state.status.activity == Activity::AwaitingConsent
        {
            self.state.status.activity = Activity::Generating;
        }
    }

    fn scroll_consent(&mut self, by: i32) {
        // The dialog is centred over everything but the status bar.
        let above = ratatui::layout::Rect {
            height: self.size.height.saturating_sub(1),
            ..self.size
        };
        let max = consent::max_scroll(&self.state.consent, &self.state.theme, above);
        let top = i32::from(self.state.consent.scroll) + by;
        self.state.consent.scroll = top.clamp(0, i32::from(max)) as u16;
    }

    fn scroll_help(&mut self, by: i32) {
        if let Some(top) = self.state.help {
            let max = help::max_scroll(&self.state.theme, self.size);
            self.state.help = Some((i32::from(top) + by).clamp(0, i32::from(max)) as u16);
        }
    }

    fn select(&mut self, next: bool) {
        if self.state.help.is_none() && self.state.consent.is_open() {
            self.scroll_consent(if next { 1 } else { -1 });
            return;
        }
        if self.state.help.is_none()
            && let Some(dialog) = &self.state.sampling
        {
            let above = ratatui::layout::Rect {
                height: self.size.height.saturating_sub(1),
                ..self.size
            };
            let max = sampling::max_scroll(dialog, &self.state.theme, above);
            let top = i32::from(dialog.scroll) + if next { 1 } else { -1 };
            if let Some(dialog) = &mut self.state.sampling {
                dialog.scroll = top.clamp(0, i32::from(max)) as u16;
            }
            return;
        }
        match (self.state.help.is_some(), self.state.focus, next) {
            (true, _, next) => self.scroll_help(if next { 1 } else { -1 }),
            (false, Pane::Models, true) => self.state.models.select_next(),
            (false, Pane::Models, false) => self.state.models.select_prev(),
            (false, Pane::Plugins, true) => self.state.plugins.select_next(),
            (false, Pane::Plugins, false) => self.state.plugins.select_prev(),
            (false, Pane::Sessions, true) => self.state.sessions.select_next(),
            (false, Pane::Sessions, false) => self.state.sessions.select_prev(),
            (false, Pane::Chat, _) => {}
        }
    }

    /// Esc: close what is open, else stop the answer in flight.
    pub(super) fn stop(&mut self) {
        if self.state.help.take().is_some() {
            return;
        }
        if self.state.busy() {
            let _ = self.ops.send(Op::Interrupt);
        } else if self.state.focus != Pane::Chat {
            self.state.focus = Pane::Chat;
        }
    }

    pub(super) fn flash(&mut self, text: impl Into<String>, error: bool) {
        self.state.status.flash = Some((text.into(), error));
    }

    fn submit(&mut self) {
        if self.state.composer.is_blank() {
            return;
        }
        // Enter on an entry picked with the arrow keys puts it in, and sends nothing yet.
        if self.state.composer.has_pick() {
            self.state.composer.complete();
            return;
        }
        // Enter on a partly typed command ("/cl") runs the command the menu shows first.
        if !self.state.composer.completions().is_empty()
            && matches!(commands::parse(self.state.composer.text()), Some(Err(_)))
        {
            self.state.composer.complete();
        }
        let text = self.state.composer.text().to_string();
        if let Some(parsed) = commands::parse(&text) {
            match parsed {
                Ok(Command::PluginPrompt {
                    plugin,
                    prompt,
                    arguments,
                }) => {
                    self.state.composer.take();
                    self.run_prompt(text, plugin, prompt, arguments);
                }
                Ok(cmd) => {
                    self.state.composer.take();
                    self.command(cmd);
                }
                Err(msg) => self.flash(msg, true),
            }
            return;
        }
        if self.state.busy() || self.regenerating {
            self.flash("an answer is still streaming; Esc stops it", true);
            return;
        }
        if self.queued.is_some() || self.waiting.is_some() {
            self.flash("a message is already waiting", true);
            return;
        }
        let text = self.state.composer.take();
        if self.model_ready {
            if !self.attach_and_send(&text) {
                self.send(text);
            }
        } else if self.model_on_its_way() {
            self.state.chat.push_queued(&text);
            self.queued = Some(text);
        } else {
            self.state.composer.set_text(&text);
            self.flash(
                "no model is loaded: choose one in the model pane (F3) or with /model",
                true,
            );
        }
        self.state.chat.scroll_bottom();
    }

    fn model_on_its_way(&self) -> bool {
        matches!(
            self.state.status.activity,
            Activity::Loading(_) | Activity::Downloading(_)
        )
    }

    /// Sends a user message to the core.
    pub(super) fn send(&mut self, text: String) {
        self.send_as(text.clone(), text);
    }

    /// Sends `text` to the core, showing `shown` in the chat (the two differ when resources
    /// are attached).
    pub(super) fn send_as(&mut self, shown: String, text: String) {
        self.state.chat.push(Kind::User, shown);
        self.state.status.activity = Activity::Generating;
        let _ = self.ops.send(Op::Submit { text });
    }

    fn regenerate(&mut self) {
        if self.state.busy() || !self.model_ready || self.state.chat.last_answer().is_none() {
            self.flash("nothing to answer again yet", true);
            return;
        }
        self.regenerating = true;
        self.state.status.activity = Activity::Generating;
        let _ = self.ops.send(Op::Regenerate);
    }

    fn edit_last(&mut self) {
        if self.state.busy() {
            self.flash("stop the answer first (Esc)", true);
            return;
        }
        let _ = self.ops.send(Op::RetractLast);
    }

    fn copy(&mut self, code: bool) {
        let Some(answer) = self.state.chat.last_answer() else {
            self.flash("no answer to copy yet", true);
            return;
        };
        let text = if code {
            match markdown::code_blocks(answer).pop() {
                Some(block) => block,
                None => {
                    self.flash("the last answer has no code block", true);
                    return;
                }
            }
        } else {
            answer.to_string()
        };
        match clipboard::osc52(&text) {
            Some(seq) => {
                self.outbox.push(seq);
                let what = if code { "code block" } else { "answer" };
                self.flash(
                    format!(
                        "copied the {what} ({} characters) via OSC 52",
                        text.chars().count()
                    ),
                    false,
                );
            }
            None => self.flash("too large for the terminal clipboard (over 100 kB)", true),
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Model(None) => self.state.focus = Pane::Models,
            Command::Model(Some(name)) => self.load_model(&name),
            Command::System(None) => {
                let text = format!("system prompt: {}", self.ctx.settings.system_prompt);
                self.state.chat.push(Kind::Notice, text);
            }
            Command::System(Some(text)) => {
                self.ctx.settings.system_prompt = text.clone();
                let _ = self.ops.send(Op::SetSystemPrompt { text });
            }
            Command::Clear => {
                if self.state.busy() {
                    self.flash("stop the answer first (Esc)", true);
                } else {
                    let _ = self.ops.send(Op::Clear);
                }
            }
            Command::Theme(None) => {
                let names = theme::available(&self.ctx.themes_dir).join(", ");
                let text = format!("theme {}; available: {names}", self.state.theme.name());
                self.state.chat.push(Kind::Notice, text);
            }
            Command::Theme(Some(name)) => self.set_theme(&name),
            Command::Help => self.state.help = Some(0),
            Command::Quit => self.quit = true,
            Command::Copy { code } => self.copy(code),
            Command::Retry => self.regenerate(),
            Command::Edit => self.edit_last(),
            // Taken in `submit`, which keeps the typed text for it.
            Command::PluginPrompt { .. } => {}
        }
    }

    /// Switches the theme live; problems are shown, never fatal.
    pub fn set_theme(&mut self, name: &str) {
        let loaded = theme::load(name, &self.ctx.themes_dir, self.ctx.color_mode);
        for w in &loaded.warnings {
            self.state.chat.push(Kind::Error, w.clone());
        }
        // The chat view lays everything out again when it sees another theme.
        self.state.theme = loaded.theme;
        self.flash(format!("theme {}", self.state.theme.name()), false);
    }

    /// Loads `name` (an installed or catalog name, or a path); a catalog model that is not
    /// here yet is downloaded first.
    pub fn load_model(&mut self, name: &str) {
        if self.state.busy() {
            self.flash("stop the answer first (Esc)", true);
            return;
        }
        if let Some(remote) = crate::cli::setup::remote_config(&self.ctx.settings, name) {
            match remote {
                Ok(config) => self.load_remote(name, config),
                Err(failure) => {
                    self.state.models.message = Some(failure.message.clone());
                    self.state.chat.push(Kind::Error, failure.message);
                }
            }
            return;
        }
        match self.ctx.store.resolve(name) {
            Ok(resolved) => {
                let config = crate::cli::setup::engine_config(
                    &self.ctx.settings,
                    &self.ctx.store,
                    resolved.path,
                );
                match config {
                    Ok(config) => self.start_loading(&resolved.name, BackendConfig::Local(config)),
                    Err(failure) => {
                        self.state.models.message = Some(failure.message.clone());
                        self.state.chat.push(Kind::Error, failure.message);
                    }
                }
            }
            Err(ModelError::NotInstalled { .. }) if models::find(name).is_some() => {
                self.start_download(name, true);
            }
            Err(e) => {
                self.state.models.message = Some(e.to_string());
                self.flash(e.to_string(), true);
            }
        }
    }

    fn load_selected(&mut self) {
        if let Some(name) = self.state.models.selected_row().map(|r| r.name.clone()) {
            self.load_model(&name);
        }
    }

    fn download_selected(&mut self) {
        match self.state.models.selected_row() {
            Some(row) if row.installed => {
                let msg = format!("{} is already installed", row.name);
                self.flash(msg, false);
            }
            Some(row) => {
                let name = row.name.clone();
                self.start_download(&name, false);
            }
            None => {}
        }
    }

    /// Starts fetching a catalog model in the background, with a gauge in the model pane.
    pub fn start_download(&mut self, name: &str, then_load: bool) {
        if self.state.models.download.is_some() {
            self.flash("a download is already running", true);
            return;
        }
        let Some(entry) = models::find(name) else {
            self.flash(format!("{name} is not in the catalog"), true);
            return;
        };
        self.state.models.download = Some(model_pane::Download {
            name: name.to_string(),
            phase: "starting".into(),
            done: 0,
            total: entry.size,
            bytes_per_second: 0.0,
        });
        if then_load {
            self.state.status.activity = Activity::Downloading(0.0);
        }
        let store = self.ctx.store.clone();
        tasks::download(
            store,
            entry,
            self.ctx.fetch.clone(),
            then_load,
            self.tasks.clone(),
        );
    }

    /// Uses the model `name` on a server: at once when the server is on this machine or the
    /// user said yes to it before, else after asking (once per url).
    fn load_remote(&mut self, name: &str, config: RemoteConfig) {
        if !config.is_loopback() && !remote_consent::given(&self.ctx.remote_consent, &config.url) {
            let question = format!(
                "{name} runs on {}, not this machine: send your conversations there? y/n",
                config.host()
            );
            self.state.chat.push(Kind::Notice, question);
            self.state.models.confirm_remote = Some((name.to_owned(), config));
            return;
        }
        self.start_loading(name, BackendConfig::Remote(config));
    }

    /// Has the core load `name` as `config`, and shows that it is loading.
    fn start_loading(&mut self, name: &str, config: BackendConfig) {
        self.model_name = Some(name.to_owned());
        self.model_ready = false;
        self.state.models.loading = Loading::InProgress {
            name: name.to_owned(),
            fraction: 0.0,
        };
        self.state.status.activity = Activity::Loading(0.0);
        let _ = self.ops.send(Op::LoadModel { config });
    }

    /// The user said yes to a server: remembered, then used.
    fn remote_confirmed(&mut self) {
        let Some((name, config)) = self.state.models.confirm_remote.take() else {
            return;
        };
        if let Err(e) = remote_consent::give(&self.ctx.remote_consent, &config.url) {
            let message = format!(
                "cannot remember your yes to {} ({e}); it will be asked again next time",
                config.host()
            );
            self.state.chat.push(Kind::Error, message);
        }
        self.load_remote(&name, config);
    }

    fn delete_confirmed(&mut self) {
        let Some(name) = self.state.models.confirm_delete.take() else {
            return;
        };
        let message = match self.ctx.store.remove(&name) {
            Ok(_) => format!("deleted {name}"),
            Err(e) => e.to_string(),
        };
        self.state.models.message = Some(message);
        self.rescan_models();
    }

    /// Reads the store again for the model pane.
    pub fn rescan_models(&mut self) {
        let rows = model_pane::scan(&self.ctx.store);
        self.state.models.set_rows(rows);
    }
}
