//! One [`Field`] per settings key: its dotted name, its environment variable, how a raw value
//! (from TOML or from the environment) becomes the typed value, and how it is shown back.
//!
//! Every `match` on `Field` is exhaustive, so a new key is a compile error until it is wired
//! everywhere.

use toml::de::DeValue;

use super::Settings;

/// A settings key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Field {
    Model,
    SystemPrompt,
    Temperature,
    TopP,
    TopK,
    MaxTokens,
    Seed,
    Stop,
    Context,
    Threads,
    NGpuLayers,
    ChatTemplate,
    Batch,
    PromptCache,
    PromptCacheMb,
    PromptLookup,
    DraftModel,
    FlashAttention,
    KvCacheType,
    Mmap,
    Rpc,
    Pip,
    AutoPull,
    LogLevel,
    Theme,
    Mouse,
    SidePanel,
    ToolsAllow,
    MaxRounds,
    Grammar,
    ToolBudget,
    PluginBudget,
    GenericFormat,
    OnlyRelevant,
    CallMaxTokens,
    Sandbox,
    Record,
}

/// A raw value before typing: a TOML value from the file or a string from the environment.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Raw<'a, 'i> {
    Toml(&'a DeValue<'i>),
    Env(&'a str),
}

/// A raw value that does not fit its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mismatch {
    /// What the key takes, e.g. "a number".
    pub expected: &'static str,
    /// What was there, e.g. "a string" or "-5".
    pub found: String,
    /// True when the type was right but the value does not fit (e.g. a negative count).
    pub out_of_range: bool,
    /// A list entry that is not a value the key takes: its index and why.
    pub bad_item: Option<(usize, String)>,
}

const TEXT: &str = "a string";
const NUMBER: &str = "a number";
const INTEGER: &str = "an integer";
const COUNT: &str = "a whole number from 0 to 4294967295";
const BOOL: &str = "true or false";
const LIST: &str = "an array of strings";
const ROUNDS: &str = "a whole number from 1 to 16";
const RULES: &str = "an array of tool rules (PLUGIN/TOOL, PLUGIN/* or PLUGIN)";
const ENDPOINTS: &str = "an array of HOST:PORT strings";
const RULES_ENV: &str = "tool rules separated by commas (PLUGIN/TOOL, PLUGIN/* or PLUGIN)";

/// The most rounds of tool calls `tools.max_rounds` may ask for.
pub(crate) const MAX_ROUNDS_LIMIT: u32 = 16;

impl Field {
    /// Every field, in the order of the config file.
    pub const ALL: [Field; 37] = [
        Field::Model,
        Field::SystemPrompt,
        Field::Temperature,
        Field::TopP,
        Field::TopK,
        Field::MaxTokens,
        Field::Seed,
        Field::Stop,
        Field::Context,
        Field::Threads,
        Field::NGpuLayers,
        Field::ChatTemplate,
        Field::Batch,
        Field::PromptCache,
        Field::PromptCacheMb,
        Field::PromptLookup,
        Field::DraftModel,
        Field::FlashAttention,
        Field::KvCacheType,
        Field::Mmap,
        Field::Rpc,
        Field::Pip,
        Field::AutoPull,
        Field::LogLevel,
        Field::Theme,
        Field::Mouse,
        Field::SidePanel,
        Field::ToolsAllow,
        Field::MaxRounds,
        Field::Grammar,
        Field::ToolBudget,
        Field::PluginBudget,
        Field::GenericFormat,
        Field::OnlyRelevant,
        Field::CallMaxTokens,
        Field::Sandbox,
        Field::Record,
    ];

    /// The dotted key, e.g. `generation.temperature`.
    pub fn key(self) -> &'static str {
        match self {
            Field::Model => "model",
            Field::SystemPrompt => "system_prompt",
            Field::Temperature => "generation.temperature",
            Field::TopP => "generation.top_p",
            Field::TopK => "generation.top_k",
            Field::MaxTokens => "generation.max_tokens",
            Field::Seed => "generation.seed",
            Field::Stop => "generation.stop",
            Field::Context => "engine.context",
            Field::Threads => "engine.threads",
            Field::NGpuLayers => "engine.n_gpu_layers",
            Field::ChatTemplate => "engine.chat_template",
            Field::Batch => "engine.batch",
            Field::PromptCache => "engine.prompt_cache",
            Field::PromptCacheMb => "engine.prompt_cache_mb",
            Field::PromptLookup => "engine.prompt_lookup",
            Field::DraftModel => "engine.draft_model",
            Field::FlashAttention => "engine.flash_attention",
            Field::KvCacheType => "engine.kv_cache_type",
            Field::Mmap => "engine.mmap",
            Field::Rpc => "engine.rpc",
            Field::Pip => "models.pip",
            Field::AutoPull => "models.auto_pull",
            Field::LogLevel => "log.level",
            Field::Theme => "ui.theme",
            Field::Mouse => "ui.mouse",
            Field::SidePanel => "ui.side_panel",
            Field::ToolsAllow => "tools.allow",
            Field::MaxRounds => "tools.max_rounds",
            Field::Grammar => "tools.grammar",
            Field::ToolBudget => "tools.budget",
            Field::PluginBudget => "tools.plugin_budget",
            Field::GenericFormat => "tools.generic_format",
            Field::OnlyRelevant => "tools.only_relevant",
            Field::CallMaxTokens => "tools.call_max_tokens",
            Field::Sandbox => "plugins.sandbox",
            Field::Record => "sessions.record",
        }
    }

    /// The environment variable that overrides this key, if any.
    pub fn env(self) -> Option<&'static str> {
        match self {
            Field::Model => Some("LIBRE_ASSISTANT_MODEL"),
            Field::SystemPrompt => Some("LIBRE_ASSISTANT_SYSTEM_PROMPT"),
            Field::Temperature => Some("LIBRE_ASSISTANT_TEMPERATURE"),
            Field::TopP => Some("LIBRE_ASSISTANT_TOP_P"),
            Field::TopK => Some("LIBRE_ASSISTANT_TOP_K"),
            Field::MaxTokens => Some("LIBRE_ASSISTANT_MAX_TOKENS"),
            Field::Seed => Some("LIBRE_ASSISTANT_SEED"),
            Field::Stop => None,
            Field::Context => Some("LIBRE_ASSISTANT_CONTEXT"),
            Field::Threads => Some("LIBRE_ASSISTANT_THREADS"),
            Field::NGpuLayers => Some("LIBRE_ASSISTANT_N_GPU_LAYERS"),
            Field::ChatTemplate => Some("LIBRE_ASSISTANT_CHAT_TEMPLATE"),
            Field::Batch => Some("LIBRE_ASSISTANT_BATCH"),
            Field::PromptCache => Some("LIBRE_ASSISTANT_PROMPT_CACHE"),
            Field::PromptCacheMb => Some("LIBRE_ASSISTANT_PROMPT_CACHE_MB"),
            Field::PromptLookup => Some("LIBRE_ASSISTANT_PROMPT_LOOKUP"),
            Field::DraftModel => Some("LIBRE_ASSISTANT_DRAFT_MODEL"),
            Field::FlashAttention => Some("LIBRE_ASSISTANT_FLASH_ATTENTION"),
            Field::KvCacheType => Some("LIBRE_ASSISTANT_KV_CACHE_TYPE"),
            Field::Mmap => Some("LIBRE_ASSISTANT_MMAP"),
            Field::Rpc => Some("LIBRE_ASSISTANT_RPC"),
            Field::Pip => None,
            Field::AutoPull => Some("LIBRE_ASSISTANT_AUTO_PULL"),
            Field::LogLevel => Some("LIBRE_ASSISTANT_LOG_LEVEL"),
            Field::Theme => Some("LIBRE_ASSISTANT_THEME"),
            Field::Mouse => Some("LIBRE_ASSISTANT_MOUSE"),
            Field::SidePanel => Some("LIBRE_ASSISTANT_SIDE_PANEL"),
            Field::ToolsAllow => Some("LIBRE_ASSISTANT_TOOLS_ALLOW"),
            Field::MaxRounds => Some("LIBRE_ASSISTANT_TOOLS_MAX_ROUNDS"),
            Field::Grammar => Some("LIBRE_ASSISTANT_TOOLS_GRAMMAR"),
            Field::ToolBudget => Some("LIBRE_ASSISTANT_TOOLS_BUDGET"),
            Field::PluginBudget => Some("LIBRE_ASSISTANT_TOOLS_PLUGIN_BUDGET"),
            Field::GenericFormat => Some("LIBRE_ASSISTANT_TOOLS_GENERIC_FORMAT"),
            Field::OnlyRelevant => Some("LIBRE_ASSISTANT_TOOLS_ONLY_RELEVANT"),
            Field::CallMaxTokens => Some("LIBRE_ASSISTANT_TOOLS_CALL_MAX_TOKENS"),
            Field::Sandbox => Some("LIBRE_ASSISTANT_PLUGINS_SANDBOX"),
            Field::Record => Some("LIBRE_ASSISTANT_SESSIONS_RECORD"),
        }
    }

    /// The field with this dotted key.
    pub fn by_key(key: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key() == key)
    }

    /// Sets this field of `s` from a raw value.
    pub fn apply(self, s: &mut Settings, raw: Raw<'_, '_>) -> Result<(), Mismatch> {
        let (g, e) = (&mut s.generation, &mut s.engine);
        match self {
            Field::Model => s.model = raw.text()?,
            Field::SystemPrompt => s.system_prompt = raw.text()?,
            Field::Temperature => g.temperature = raw.number()?,
            Field::TopP => g.top_p = raw.number()?,
            Field::TopK => g.top_k = raw.integer()?,
            Field::MaxTokens => g.max_tokens = raw.count()?,
            Field::Seed => g.seed = Some(raw.count()?),
            Field::Stop => g.stop = raw.list()?,
            Field::Context => e.context = raw.count()?,
            Field::Threads => e.threads = Some(raw.count()?),
            Field::NGpuLayers => e.n_gpu_layers = raw.count()?,
            Field::ChatTemplate => e.chat_template = Some(raw.text()?),
            Field::Batch => e.batch = raw.count()?,
            Field::PromptCache => e.prompt_cache = raw.boolean()?,
            Field::PromptCacheMb => e.prompt_cache_mb = raw.count()?,
            Field::PromptLookup => e.prompt_lookup = raw.boolean()?,
            Field::DraftModel => e.draft_model = Some(raw.text()?).filter(|m| !m.is_empty()),
            Field::FlashAttention => e.flash_attention = raw.text()?,
            Field::KvCacheType => e.kv_cache_type = raw.text()?,
            Field::Mmap => e.mmap = raw.boolean()?,
            Field::Rpc => e.rpc = raw.endpoints()?,
            Field::Pip => s.models.pip = raw.list()?,
            Field::AutoPull => s.models.auto_pull = raw.boolean()?,
            Field::LogLevel => s.log.level = raw.text()?,
            Field::Theme => s.ui.theme = raw.text()?,
            Field::Mouse => s.ui.mouse = raw.boolean()?,
            Field::SidePanel => s.ui.side_panel = raw.boolean()?,
            Field::ToolsAllow => s.tools.allow = raw.rules()?,
            Field::MaxRounds => s.tools.max_rounds = raw.rounds()?,
            Field::Grammar => s.tools.grammar = raw.boolean()?,
            Field::ToolBudget => s.tools.budget = raw.count()?,
            Field::PluginBudget => s.tools.plugin_budget = raw.count()?,
            Field::GenericFormat => s.tools.generic_format = raw.boolean()?,
            Field::OnlyRelevant => s.tools.only_relevant = raw.boolean()?,
            Field::CallMaxTokens => s.tools.call_max_tokens = raw.count()?,
            Field::Sandbox => s.plugins.sandbox = Some(raw.text()?),
            Field::Record => s.sessions.record = raw.boolean()?,
        }
        Ok(())
    }

    /// The value as TOML text, or `None` for an unset optional key.
    pub fn show(self, s: &Settings) -> Option<String> {
        let (g, e) = (&s.generation, &s.engine);
        match self {
            Field::Model => Some(quote(&s.model)),
            Field::SystemPrompt => Some(quote(&s.system_prompt)),
            Field::Temperature => Some(float(g.temperature)),
            Field::TopP => Some(float(g.top_p)),
            Field::TopK => Some(g.top_k.to_string()),
            Field::MaxTokens => Some(g.max_tokens.to_string()),
            Field::Seed => g.seed.map(|v| v.to_string()),
            Field::Stop => Some(array(&g.stop)),
            Field::Context => Some(e.context.to_string()),
            Field::Threads => e.threads.map(|v| v.to_string()),
            Field::NGpuLayers => Some(e.n_gpu_layers.to_string()),
            Field::ChatTemplate => e.chat_template.as_deref().map(quote),
            Field::Batch => Some(e.batch.to_string()),
            Field::PromptCache => Some(e.prompt_cache.to_string()),
            Field::PromptCacheMb => Some(e.prompt_cache_mb.to_string()),
            Field::PromptLookup => Some(e.prompt_lookup.to_string()),
            Field::DraftModel => e.draft_model.as_deref().map(quote),
            Field::FlashAttention => Some(quote(&e.flash_attention)),
            Field::KvCacheType => Some(quote(&e.kv_cache_type)),
            Field::Mmap => Some(e.mmap.to_string()),
            Field::Rpc => Some(array(&e.rpc)),
            Field::Pip => Some(array(&s.models.pip)),
            Field::AutoPull => Some(s.models.auto_pull.to_string()),
            Field::LogLevel => Some(quote(&s.log.level)),
            Field::Theme => Some(quote(&s.ui.theme)),
            Field::Mouse => Some(s.ui.mouse.to_string()),
            Field::SidePanel => Some(s.ui.side_panel.to_string()),
            Field::ToolsAllow => Some(array(&s.tools.allow)),
            Field::MaxRounds => Some(s.tools.max_rounds.to_string()),
            Field::Grammar => Some(s.tools.grammar.to_string()),
            Field::ToolBudget => Some(s.tools.budget.to_string()),
            Field::PluginBudget => Some(s.tools.plugin_budget.to_string()),
            Field::GenericFormat => Some(s.tools.generic_format.to_string()),
            Field::OnlyRelevant => Some(s.tools.only_relevant.to_string()),
            Field::CallMaxTokens => Some(s.tools.call_max_tokens.to_string()),
            Field::Sandbox => s.plugins.sandbox.as_deref().map(quote),
            Field::Record => Some(s.sessions.record.to_string()),
        }
    }

    /// What an unset optional key means, for `config` output; `None` for keys always set.
    pub fn unset_meaning(self) -> Option<&'static str> {
        match self {
            Field::Seed => Some("a new random seed each run"),
            Field::Threads => Some("one thread per physical core"),
            Field::ChatTemplate => Some("the model's own template"),
            Field::DraftModel => Some("no draft model"),
            Field::Sandbox => Some("required where the kernel has Landlock, else best-effort"),
            Field::Model
            | Field::SystemPrompt
            | Field::Temperature
            | Field::TopP
            | Field::TopK
            | Field::MaxTokens
            | Field::Stop
            | Field::Context
            | Field::NGpuLayers
            | Field::Batch
            | Field::PromptCache
            | Field::PromptCacheMb
            | Field::PromptLookup
            | Field::FlashAttention
            | Field::KvCacheType
            | Field::Mmap
            | Field::Rpc
            | Field::Pip
            | Field::AutoPull
            | Field::LogLevel
            | Field::Theme
            | Field::Mouse
            | Field::SidePanel
            | Field::ToolsAllow
            | Field::MaxRounds
            | Field::Grammar
            | Field::ToolBudget
            | Field::PluginBudget
            | Field::GenericFormat
            | Field::Record
            | Field::OnlyRelevant
            | Field::CallMaxTokens => None,
        }
    }
}

/// A TOML basic string, always on one line.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML array of basic strings, on one line.
/// Whether `text` is `HOST:PORT` with a port number (a bracketed IPv6 host included).
pub(crate) fn is_endpoint(text: &str) -> bool {
    text.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty()
            && !host.contains(char::is_whitespace)
            && port.parse::<u16>().is_ok_and(|p| p > 0)
    })
}

fn array(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|p| quote(p)).collect();
    format!("[{}]", items.join(", "))
}

/// Why `rule` is not a `tools.allow` entry (`PLUGIN/TOOL`, `PLUGIN/*`, `PLUGIN` or
/// `PLUGIN:read-only`, the plugin id matching `^[a-z0-9][a-z0-9-]*$`), or `None` when it is
/// one.
pub(crate) fn bad_rule(rule: &str) -> Option<String> {
    match crate::core::tools::parse_pattern(rule) {
        Err(why) => Some(why),
        Ok(p) if p.plugin.starts_with('-') => Some(format!(
            "{rule:?} is not a tool rule; a plugin id starts with a lowercase letter or a digit"
        )),
        Ok(_) => None,
    }
}

/// A TOML float that stays a float: `1` would read back as an integer.
fn float(v: f32) -> String {
    let s = v.to_string();
    if s.contains(['.', 'e', 'E', 'i', 'N']) {
        s
    } else {
        format!("{s}.0")
    }
}

impl Raw<'_, '_> {
    fn mismatch(&self, expected: &'static str) -> Mismatch {
        let found = match self {
            Raw::Toml(v) => with_article(v.type_str()),
            Raw::Env(s) => format!("{s:?}"),
        };
        Mismatch {
            expected,
            found,
            out_of_range: false,
            bad_item: None,
        }
    }

    fn text(self) -> Result<String, Mismatch> {
        match self {
            Raw::Toml(DeValue::String(s)) => Ok(s.to_string()),
            Raw::Toml(_) => Err(self.mismatch(TEXT)),
            Raw::Env(s) => Ok(s.to_owned()),
        }
    }

    fn number(self) -> Result<f32, Mismatch> {
        let parsed = match self {
            Raw::Toml(DeValue::Float(f)) => f.as_str().parse::<f64>().ok(),
            Raw::Toml(DeValue::Integer(i)) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|v| v as f64),
            Raw::Toml(_) => None,
            Raw::Env(s) => s.trim().parse::<f64>().ok(),
        };
        parsed
            .map(|v| v as f32)
            .ok_or_else(|| self.mismatch(NUMBER))
    }

    /// A TOML integer or an environment string, checked to fit `T`.
    fn whole<T: TryFrom<i64>>(self, expected: &'static str) -> Result<T, Mismatch> {
        let wide = match self {
            Raw::Toml(DeValue::Integer(i)) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            Raw::Toml(_) => None,
            Raw::Env(s) => s.trim().parse::<i64>().ok(),
        };
        let wide = wide.ok_or_else(|| self.mismatch(expected))?;
        T::try_from(wide).map_err(|_| out_of_range(expected, wide))
    }

    fn integer(self) -> Result<i32, Mismatch> {
        self.whole(INTEGER)
    }

    fn count(self) -> Result<u32, Mismatch> {
        self.whole(COUNT)
    }

    /// `tools.max_rounds`: 1 to [`MAX_ROUNDS_LIMIT`].
    fn rounds(self) -> Result<u32, Mismatch> {
        let n: i64 = self.whole(ROUNDS)?;
        u32::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_ROUNDS_LIMIT).contains(n))
            .ok_or_else(|| out_of_range(ROUNDS, n))
    }

    fn boolean(self) -> Result<bool, Mismatch> {
        match self {
            Raw::Toml(DeValue::Boolean(b)) => Ok(*b),
            Raw::Toml(_) => Err(self.mismatch(BOOL)),
            Raw::Env(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(self.mismatch(BOOL)),
            },
        }
    }

    fn list(self) -> Result<Vec<String>, Mismatch> {
        let Raw::Toml(DeValue::Array(items)) = self else {
            return Err(self.mismatch(LIST));
        };
        items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) => Ok(s.to_string()),
                other => Err(Mismatch {
                    expected: LIST,
                    found: format!("an array holding {}", with_article(other.type_str())),
                    out_of_range: false,
                    bad_item: None,
                }),
            })
            .collect()
    }

    /// An array of strings from the file, or from the environment strings separated by commas
    /// (blank entries skipped); `expected` names what the key takes.
    fn list_or_commas(self, expected: &'static str) -> Result<Vec<String>, Mismatch> {
        match self {
            Raw::Toml(_) => self.list().map_err(|m| Mismatch { expected, ..m }),
            Raw::Env(s) => Ok(s
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect()),
        }
    }

    /// `engine.rpc`: an array of `host:port`, or from the environment separated by commas.
    fn endpoints(self) -> Result<Vec<String>, Mismatch> {
        let endpoints = self.list_or_commas(ENDPOINTS)?;
        match endpoints.iter().position(|e| !is_endpoint(e)) {
            None => Ok(endpoints),
            Some(i) => Err(Mismatch {
                expected: ENDPOINTS,
                found: format!("{:?}", endpoints[i]),
                out_of_range: true,
                bad_item: Some((
                    i,
                    format!(
                        "{:?} is not HOST:PORT (e.g. \"192.168.1.20:50052\")",
                        endpoints[i]
                    ),
                )),
            }),
        }
    }

    /// `tools.allow`: an array of tool rules, or from the environment rules separated by
    /// commas (blank entries skipped).
    fn rules(self) -> Result<Vec<String>, Mismatch> {
        let rules = self.list_or_commas(RULES)?;
        let bad = rules
            .iter()
            .enumerate()
            .find_map(|(i, rule)| bad_rule(rule).map(|why| (i, rule, why)));
        match bad {
            None => Ok(rules),
            Some((i, rule, why)) => Err(Mismatch {
                expected: if matches!(self, Raw::Env(_)) {
                    RULES_ENV
                } else {
                    RULES
                },
                found: format!("{rule:?}"),
                out_of_range: false,
                bad_item: Some((i, why)),
            }),
        }
    }
}

/// A whole number of the right type that does not fit.
fn out_of_range(expected: &'static str, found: i64) -> Mismatch {
    Mismatch {
        expected,
        found: found.to_string(),
        out_of_range: true,
        bad_item: None,
    }
}

/// "integer" → "an integer".
pub(crate) fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}
