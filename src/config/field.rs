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
    Context,
    Threads,
    NGpuLayers,
    ChatTemplate,
    Batch,
    Pip,
    AutoPull,
    LogLevel,
    Theme,
    Mouse,
    SidePanel,
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
}

const TEXT: &str = "a string";
const NUMBER: &str = "a number";
const INTEGER: &str = "an integer";
const COUNT: &str = "a whole number from 0 to 4294967295";
const BOOL: &str = "true or false";
const LIST: &str = "an array of strings";

impl Field {
    /// Every field, in the order of the config file.
    pub const ALL: [Field; 18] = [
        Field::Model,
        Field::SystemPrompt,
        Field::Temperature,
        Field::TopP,
        Field::TopK,
        Field::MaxTokens,
        Field::Seed,
        Field::Context,
        Field::Threads,
        Field::NGpuLayers,
        Field::ChatTemplate,
        Field::Batch,
        Field::Pip,
        Field::AutoPull,
        Field::LogLevel,
        Field::Theme,
        Field::Mouse,
        Field::SidePanel,
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
            Field::Context => "engine.context",
            Field::Threads => "engine.threads",
            Field::NGpuLayers => "engine.n_gpu_layers",
            Field::ChatTemplate => "engine.chat_template",
            Field::Batch => "engine.batch",
            Field::Pip => "models.pip",
            Field::AutoPull => "models.auto_pull",
            Field::LogLevel => "log.level",
            Field::Theme => "ui.theme",
            Field::Mouse => "ui.mouse",
            Field::SidePanel => "ui.side_panel",
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
            Field::Context => Some("LIBRE_ASSISTANT_CONTEXT"),
            Field::Threads => Some("LIBRE_ASSISTANT_THREADS"),
            Field::NGpuLayers => Some("LIBRE_ASSISTANT_N_GPU_LAYERS"),
            Field::ChatTemplate => Some("LIBRE_ASSISTANT_CHAT_TEMPLATE"),
            Field::Batch => Some("LIBRE_ASSISTANT_BATCH"),
            Field::Pip => None,
            Field::AutoPull => Some("LIBRE_ASSISTANT_AUTO_PULL"),
            Field::LogLevel => Some("LIBRE_ASSISTANT_LOG_LEVEL"),
            Field::Theme => Some("LIBRE_ASSISTANT_THEME"),
            Field::Mouse => Some("LIBRE_ASSISTANT_MOUSE"),
            Field::SidePanel => Some("LIBRE_ASSISTANT_SIDE_PANEL"),
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
            Field::Context => e.context = raw.count()?,
            Field::Threads => e.threads = Some(raw.count()?),
            Field::NGpuLayers => e.n_gpu_layers = raw.count()?,
            Field::ChatTemplate => e.chat_template = Some(raw.text()?),
            Field::Batch => e.batch = raw.count()?,
            Field::Pip => s.models.pip = raw.list()?,
            Field::AutoPull => s.models.auto_pull = raw.boolean()?,
            Field::LogLevel => s.log.level = raw.text()?,
            Field::Theme => s.ui.theme = raw.text()?,
            Field::Mouse => s.ui.mouse = raw.boolean()?,
            Field::SidePanel => s.ui.side_panel = raw.boolean()?,
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
            Field::Context => Some(e.context.to_string()),
            Field::Threads => e.threads.map(|v| v.to_string()),
            Field::NGpuLayers => Some(e.n_gpu_layers.to_string()),
            Field::ChatTemplate => e.chat_template.as_deref().map(quote),
            Field::Batch => Some(e.batch.to_string()),
            Field::Pip => {
                let items: Vec<String> = s.models.pip.iter().map(|p| quote(p)).collect();
                Some(format!("[{}]", items.join(", ")))
            }
            Field::AutoPull => Some(s.models.auto_pull.to_string()),
            Field::LogLevel => Some(quote(&s.log.level)),
            Field::Theme => Some(quote(&s.ui.theme)),
            Field::Mouse => Some(s.ui.mouse.to_string()),
            Field::SidePanel => Some(s.ui.side_panel.to_string()),
        }
    }

    /// What an unset optional key means, for `config` output; `None` for keys always set.
    pub fn unset_meaning(self) -> Option<&'static str> {
        match self {
            Field::Seed => Some("a new random seed each run"),
            Field::Threads => Some("one thread per physical core"),
            Field::ChatTemplate => Some("the model's own template"),
            Field::Model
            | Field::SystemPrompt
            | Field::Temperature
            | Field::TopP
            | Field::TopK
            | Field::MaxTokens
            | Field::Context
            | Field::NGpuLayers
            | Field::Batch
            | Field::Pip
            | Field::AutoPull
            | Field::LogLevel
            | Field::Theme
            | Field::Mouse
            | Field::SidePanel => None,
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
        T::try_from(wide).map_err(|_| Mismatch {
            expected,
            found: wide.to_string(),
            out_of_range: true,
        })
    }

    fn integer(self) -> Result<i32, Mismatch> {
        self.whole(INTEGER)
    }

    fn count(self) -> Result<u32, Mismatch> {
        self.whole(COUNT)
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
                }),
            })
            .collect()
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
