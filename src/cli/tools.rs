//! Starting the plugins a session offers the model: discovery, the host, and the consent
//! policy from the config and the headless flags. Shared by the TUI and headless mode.

use std::collections::{BTreeMap, BTreeSet};

use libre_assistant::core::ToolsConfig;
use libre_assistant::core::tools::{Policy, parse_pattern};
use libre_assistant::plugins::audit::{self, Grant};
use libre_assistant::plugins::host::{self, HostConfig, SandboxConfig};
use libre_assistant::plugins::sandbox::{Mode, Protected, Support};
use libre_assistant::plugins::{self, Plugin, PluginsState, secrets, usage};

use super::setup::Setup;

/// How many times a crashed plugin is started again before it stays crashed.
pub const PLUGIN_RESTARTS: u32 = 3;

/// What was found, and the tools config when some plugin is enabled.
pub struct Started {
    /// Every plugin found, enabled or not (for the plugin pane).
    pub found: Vec<Plugin>,
    /// The config to give the core; None when no plugin is enabled.
    pub tools: Option<ToolsConfig>,
    /// Problems to show: bad manifests, a broken plugins.toml, a bad rule.
    pub problems: Vec<String>,
    /// How the plugins are confined.
    pub sandbox: SandboxConfig,
}

/// A headless run's rules from its flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// `--allow-tool` and `--allow-plugin` rules, as policy patterns.
    pub tools: Vec<String>,
    /// Plugins whose sampling requests are answered (`--allow-sampling`).
    pub sampling: Vec<String>,
}

/// Finds the plugins and starts the enabled ones in the background (nothing waits for them).
/// `flags` are headless `--allow-tool`/`--allow-plugin`/`--allow-sampling` rules. `ask` puts undecided calls to
/// the user (the TUI). Without it (headless) calls no rule allows are denied, so only the
/// plugins some rule names are started: offering tools that can only be refused would cost
/// prompt tokens and invite calls that fail.
pub fn start(setup: &Setup, flags: &Rules, ask: bool) -> Result<Started, String> {
    let mut problems = Vec::new();
    let sandbox = sandbox_config(setup, &mut problems);
    let state_path = plugins::state_file(&setup.dirs);
    let loaded = PluginsState::load(&state_path);
    let mut found = plugins::discover(
        &plugins::shipped_dirs(),
        &plugins::user_dir(&setup.dirs),
        loaded.as_ref().unwrap_or(&PluginsState::default()),
    );
    if let Err(e) = &loaded {
        // Fail closed: what the file would have said is unknown.
        let text = std::fs::read_to_string(&state_path).ok();
        for plugin in &mut found.plugins {
            plugin.enabled &= state_unknown_allows(plugin, text.as_deref());
        }
        problems.push(format!(
            "{e}; until it is fixed no user plugin starts, nor a shipped one it names"
        ));
    }
    problems.extend(found.problems.iter().cloned());
    let settings = &setup.config.settings.tools;
    let mut policy = Policy::default();
    let mut named = BTreeSet::new();
    for rule in &settings.allow {
        policy
            .allow(rule, Grant::Config)
            .map_err(|e| format!("tools.allow in the config: {e}"))?;
        named.insert(parse_pattern(rule)?.plugin);
    }
    for rule in &flags.tools {
        policy.allow(rule, Grant::HeadlessFlag)?;
        named.insert(parse_pattern(rule)?.plugin);
    }
    named.extend(flags.sampling.iter().cloned());
    for plugin in &named {
        match found.find(plugin) {
            None => problems.push(format!(
                "a tool rule names plugin {plugin:?}, which is not installed; see `libre-assistant plugins list`"
            )),
            Some(p) if !p.enabled => problems.push(format!(
                "a tool rule names plugin {plugin:?}, which is disabled; `libre-assistant plugins enable {plugin}` turns it on"
            )),
            Some(_) => {}
        }
    }
    let enabled: Vec<Plugin> = found
        .plugins
        .iter()
        .filter(|p| p.enabled && (ask || named.contains(&p.manifest.id)))
        .cloned()
        .collect();
    let tools = (!enabled.is_empty()).then(|| {
        let manifests: BTreeMap<_, _> = enabled
            .iter()
            .map(|p| (p.manifest.id.clone(), p.manifest.clone()))
            .collect();
        ToolsConfig {
            host: host::spawn(HostConfig {
                plugins: enabled,
                max_restarts: PLUGIN_RESTARTS,
                sandbox: Some(sandbox.clone()),
                secrets: Some(secrets::SecretStore::new(&setup.dirs)),
                serve_requests: true,
            }),
            manifests,
            policy,
            ask,
            max_rounds: settings.max_rounds,
            grammar: settings.grammar,
            budget: settings.budget,
            plugin_budget: settings.plugin_budget,
            generic_format: settings.generic_format,
            only_relevant: settings.only_relevant,
            call_max_tokens: settings.call_max_tokens,
            audit: Some(audit::audit_file(&setup.dirs)),
            usage: Some(usage::usage_file(&setup.dirs)),
            remembered: Some(state_path),
            allow_sampling: flags.sampling.clone(),
            sandbox: Some(sandbox.enforcement()),
        }
    });
    Ok(Started {
        found: found.plugins,
        tools,
        problems,
        sandbox,
    })
}

/// Whether `plugin` may start when `plugins.toml` cannot be parsed (`text`: what it holds) or
/// read (`None`): only a shipped plugin the text never names, whose default is enabled.
fn state_unknown_allows(plugin: &Plugin, text: Option<&str>) -> bool {
    plugin.source == plugins::Source::Shipped
        && text.is_some_and(|t| !t.contains(plugin.manifest.id.as_str()))
}

/// The sandbox the config asks for on this kernel; a kernel without Landlock and no explicit
/// choice adds one line to `problems`.
pub fn sandbox_config(setup: &Setup, problems: &mut Vec<String>) -> SandboxConfig {
    let support = Support::probe();
    let chosen = setup
        .config
        .settings
        .plugins
        .sandbox
        .as_deref()
        .and_then(Mode::parse);
    let mode = chosen.unwrap_or_else(|| support.default_mode());
    if chosen.is_none() && mode != Mode::Required {
        problems.push(format!(
            "the plugin sandbox is {}: plugins' file access is not confined on this system; see docs/security.md \
             (set plugins.sandbox to \"best-effort\" or \"off\" to silence this)",
            support.enforcement(mode).describe()
        ));
    }
    SandboxConfig {
        mode,
        support,
        protected: protected(&setup.dirs),
        launcher: std::env::current_exe().unwrap_or_else(|_| "libre-assistant".into()),
    }
}

/// libre-assistant's own files, which no plugin grant may expose.
pub fn protected(dirs: &libre_assistant::paths::Dirs) -> Protected {
    Protected {
        config: dirs.config.clone(),
        data: dirs.data.clone(),
        state: dirs.state.clone(),
        secrets: secrets::secrets_dir(dirs),
    }
}
