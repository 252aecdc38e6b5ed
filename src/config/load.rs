//! Layering: defaults, then the config file, then `LIBRE_ASSISTANT_*` variables, then flags;
//! each layer records the origin of every key it sets, and the result is validated last so an
//! error can say which layer the bad value came from.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::field::{Field, MAX_ROUNDS_LIMIT, Mismatch, Raw, bad_rule, with_article};
use super::{ConfigError, Effective, LOG_LEVELS, Origin, Overrides, SANDBOX_MODES, Settings};
use crate::engine::{FlashAttention, KvType};
use crate::paths::Dirs;
use crate::text::line_col;

/// The environment variable naming the config file.
pub const CONFIG_ENV: &str = "LIBRE_ASSISTANT_CONFIG";

/// Settings being layered: values, origins, and file positions for error messages.
struct Layers {
    settings: Settings,
    origins: BTreeMap<Field, Origin>,
    positions: BTreeMap<Field, (usize, usize)>,
}

/// Layers flags over the environment over the config file over the defaults, and validates.
///
/// The file is `flags.config_path`, else `$LIBRE_ASSISTANT_CONFIG`, else `dirs.config_file()`;
/// only the last may be missing. `env` looks up a variable (pass `|k| std::env::var(k).ok()`).
pub fn load(
    dirs: &Dirs,
    flags: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Effective, ConfigError> {
    let mut layers = Layers {
        settings: Settings::default(),
        origins: Field::ALL
            .into_iter()
            .map(|f| (f, Origin::Default))
            .collect(),
        positions: BTreeMap::new(),
    };
    let file = read_file(dirs, flags, env)?;
    if let Some((path, text)) = &file {
        layers.apply_file(path, text)?;
    }
    layers.apply_env(env)?;
    layers.apply_flags(flags);
    layers.settings.log.level = layers.settings.log.level.to_ascii_lowercase();
    if let Err((field, rule)) = validate(&layers.settings) {
        return Err(ConfigError::Invalid {
            key: field.key().to_owned(),
            value: field.show(&layers.settings).unwrap_or_default(),
            origin: layers.origins[&field].clone(),
            position: layers.positions.get(&field).copied(),
            rule,
        });
    }
    Ok(Effective {
        settings: layers.settings,
        origins: layers
            .origins
            .into_iter()
            .map(|(f, o)| (f.key().to_owned(), o))
            .collect(),
        file: file.map(|(path, _)| path),
    })
}

/// The config file's path and text; `None` when the default file does not exist.
fn read_file(
    dirs: &Dirs,
    flags: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(PathBuf, String)>, ConfigError> {
    let named = match (
        &flags.config_path,
        env(CONFIG_ENV).filter(|v| !v.is_empty()),
    ) {
        (Some(path), _) => Some((path.clone(), Origin::Flag("--config".to_owned()))),
        (None, Some(var)) => Some((PathBuf::from(var), Origin::Env(CONFIG_ENV.to_owned()))),
        (None, None) => None,
    };
    let (path, origin) = match named {
        Some((path, origin)) => (path, Some(origin)),
        None => (dirs.config_file(), None),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some((path, text))),
        Err(e) if e.kind() == ErrorKind::NotFound => match origin {
            Some(origin) => Err(ConfigError::Missing { path, origin }),
            None => Ok(None),
        },
        Err(e) => Err(ConfigError::Read {
            path,
            cause: e.to_string(),
        }),
    }
}

impl Layers {
    fn apply_file(&mut self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let doc = DeTable::parse(text).map_err(|e| syntax(path, text, &e))?;
        for (key, value) in by_position(doc.get_ref()) {
            if key.get_ref() == "backends" {
                self.settings.backends = super::backends::read(path, text)?;
                continue;
            }
            if let DeValue::Table(table) = value.get_ref()
                && is_table(key.get_ref())
            {
                for (sub, v) in by_position(table) {
                    let dotted = format!("{}.{}", key.get_ref(), sub.get_ref());
                    self.apply_file_key(path, text, &dotted, sub, v)?;
                }
                continue;
            }
            self.apply_file_key(path, text, key.get_ref(), key, value)?;
        }
        Ok(())
    }

    fn apply_file_key(
        &mut self,
        path: &Path,
        text: &str,
        dotted: &str,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<(), ConfigError> {
        let at = |offset: usize| line_col(text, offset);
        let Some(field) = Field::by_key(dotted) else {
            let (line, col) = at(key.span().start);
            if is_table(dotted) {
                let found = with_article(value.get_ref().type_str());
                return Err(wrong_type(
                    path,
                    (line, col),
                    dotted,
                    "a table",
                    found,
                    false,
                ));
            }
            let table = dotted.rsplit_once('.').map(|(t, _)| t.to_owned());
            let expected = known_keys(table.as_deref());
            let key = key.get_ref().to_string();
            let path = path.to_owned();
            return Err(ConfigError::UnknownKey {
                path,
                line,
                col,
                key,
                table,
                expected,
            });
        };
        let position = at(value.span().start);
        field
            .apply(&mut self.settings, Raw::Toml(value.get_ref()))
            .map_err(|m| match m.bad_item {
                Some((index, reason)) => {
                    let start = match value.get_ref() {
                        DeValue::Array(items) => items.get(index).map(|item| item.span().start),
                        _ => None,
                    };
                    let (line, col) = start.map_or(position, at);
                    ConfigError::BadValue {
                        path: path.to_owned(),
                        line,
                        col,
                        key: dotted.to_owned(),
                        reason,
                    }
                }
                None => wrong_type(path, position, dotted, m.expected, m.found, m.out_of_range),
            })?;
        self.origins.insert(field, Origin::File(path.to_owned()));
        self.positions.insert(field, position);
        Ok(())
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for field in Field::ALL {
            let Some(var) = field.env() else { continue };
            // An empty variable counts as unset, so `VAR= cmd` falls back to the file.
            let Some(value) = env(var).filter(|v| !v.is_empty()) else {
                continue;
            };
            field.apply(&mut self.settings, Raw::Env(&value)).map_err(
                |Mismatch { expected, .. }| ConfigError::Env {
                    var: var.to_owned(),
                    value: value.clone(),
                    expected,
                },
            )?;
            self.origins.insert(field, Origin::Env(var.to_owned()));
            self.positions.remove(&field);
        }
        Ok(())
    }

    fn apply_flags(&mut self, flags: &Overrides) {
        let s = &mut self.settings;
        let (g, e) = (&mut s.generation, &mut s.engine);
        let applied = [
            (
                Field::Model,
                "--model",
                replace(&mut s.model, flags.model.clone()),
            ),
            (
                Field::SystemPrompt,
                "--system",
                replace(&mut s.system_prompt, flags.system_prompt.clone()),
            ),
            (
                Field::Temperature,
                "--temperature",
                replace(&mut g.temperature, flags.temperature),
            ),
            (Field::TopP, "--top-p", replace(&mut g.top_p, flags.top_p)),
            (Field::TopK, "--top-k", replace(&mut g.top_k, flags.top_k)),
            (
                Field::MaxTokens,
                "--max-tokens",
                replace(&mut g.max_tokens, flags.max_tokens),
            ),
            (
                Field::Seed,
                "--seed",
                replace(&mut g.seed, flags.seed.map(Some)),
            ),
            (
                Field::Stop,
                "--stop",
                replace(
                    &mut g.stop,
                    Some(flags.stop.clone()).filter(|s| !s.is_empty()),
                ),
            ),
            (
                Field::Context,
                "--ctx",
                replace(&mut e.context, flags.context),
            ),
            (
                Field::Threads,
                "--threads",
                replace(&mut e.threads, flags.threads.map(Some)),
            ),
            (
                Field::LogLevel,
                "--log-level",
                replace(&mut s.log.level, flags.log_level.clone()),
            ),
            (
                Field::Theme,
                "--theme",
                replace(&mut s.ui.theme, flags.theme.clone()),
            ),
        ];
        for (field, name, present) in applied {
            if present {
                self.origins.insert(field, Origin::Flag(name.to_owned()));
                self.positions.remove(&field);
            }
        }
    }
}

/// Sets `slot` when a flag gave a value; says whether it did.
fn replace<T>(slot: &mut T, value: Option<T>) -> bool {
    value.map(|v| *slot = v).is_some()
}

/// Checks every rule; the first broken one, in file order, with what it requires.
pub(crate) fn validate(s: &Settings) -> Result<(), (Field, &'static str)> {
    let (g, e) = (&s.generation, &s.engine);
    let rules = [
        (
            Field::Model,
            !s.model.trim().is_empty(),
            "must not be empty",
        ),
        (
            Field::Temperature,
            g.temperature >= 0.0,
            "must be 0 or more",
        ),
        (
            Field::TopP,
            g.top_p > 0.0 && g.top_p <= 1.0,
            "must be more than 0 and at most 1",
        ),
        (Field::TopK, g.top_k >= 0, "must be 0 (off) or more"),
        (Field::MaxTokens, g.max_tokens >= 1, "must be at least 1"),
        (
            Field::Stop,
            g.stop.iter().all(|s| !s.is_empty()),
            "must not hold an empty string",
        ),
        (Field::Context, e.context >= 64, "must be at least 64"),
        (
            Field::Threads,
            e.threads.is_none_or(|t| t >= 1),
            "must be at least 1",
        ),
        (Field::Batch, e.batch >= 1, "must be at least 1"),
        (
            Field::PromptCacheMb,
            e.prompt_cache_mb >= 1,
            "must be at least 1 (engine.prompt_cache = false turns the cache off)",
        ),
        (
            Field::FlashAttention,
            FlashAttention::from_name(&e.flash_attention).is_some(),
            "must be one of auto, on, off",
        ),
        (
            Field::KvCacheType,
            KvType::from_name(&e.kv_cache_type).is_some(),
            "must be one of f16, bf16, q8_0, q5_1, q5_0, q4_1, q4_0",
        ),
        (
            Field::KvCacheType,
            KvType::from_name(&e.kv_cache_type).is_none_or(|t| !t.quantised())
                || e.flash_attention != "off",
            "must be f16 or bf16 while engine.flash_attention is off (a quantised cache needs flash attention)",
        ),
        (
            Field::Pip,
            !s.models.pip.is_empty(),
            "must name a command, e.g. [\"pip\"]",
        ),
        (
            Field::LogLevel,
            LOG_LEVELS.contains(&s.log.level.as_str()),
            "must be one of error, warn, info, debug, trace",
        ),
        (
            Field::Theme,
            !s.ui.theme.trim().is_empty(),
            "must not be empty",
        ),
        (
            Field::ToolsAllow,
            s.tools.allow.iter().all(|r| bad_rule(r).is_none()),
            "must hold only tool rules: PLUGIN/TOOL, PLUGIN/* or PLUGIN",
        ),
        (
            Field::MaxRounds,
            (1..=MAX_ROUNDS_LIMIT).contains(&s.tools.max_rounds),
            "must be from 1 to 16",
        ),
        (
            Field::Sandbox,
            s.plugins
                .sandbox
                .as_deref()
                .is_none_or(|m| SANDBOX_MODES.contains(&m)),
            "must be one of required, best-effort, off",
        ),
    ];
    match rules.into_iter().find(|(_, ok, _)| !ok) {
        Some((field, _, rule)) => Err((field, rule)),
        None => Ok(()),
    }
}

/// The sections of the file: `[generation]`, `[engine]`, `[models]`, `[log]`, `[ui]`, `[tools]`.
fn is_table(key: &str) -> bool {
    Field::ALL
        .iter()
        .any(|f| f.key().split_once('.').is_some_and(|(t, _)| t == key))
}

/// The keys a table may hold, comma-separated, in file order.
fn known_keys(table: Option<&str>) -> String {
    let mut keys: Vec<&str> = Vec::new();
    for field in Field::ALL {
        let name = match (table, field.key().split_once('.')) {
            (Some(t), Some((section, name))) if section == t => name,
            (None, Some((section, _))) => section,
            (None, None) => field.key(),
            _ => continue,
        };
        if !keys.contains(&name) {
            keys.push(name);
        }
    }
    keys.join(", ")
}

/// A table's entries in the order they appear in the file.
fn by_position<'t, 'i>(
    table: &'t DeTable<'i>,
) -> Vec<(
    &'t Spanned<std::borrow::Cow<'i, str>>,
    &'t Spanned<DeValue<'i>>,
)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

fn wrong_type(
    path: &Path,
    (line, col): (usize, usize),
    key: &str,
    expected: &'static str,
    found: String,
    out_of_range: bool,
) -> ConfigError {
    let (path, key) = (path.to_owned(), key.to_owned());
    ConfigError::WrongType {
        path,
        line,
        col,
        key,
        expected,
        found,
        out_of_range,
    }
}

pub(super) fn syntax(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let (line, col) = line_col(text, e.span().map_or(0, |s| s.start));
    let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    ConfigError::Syntax {
        path: path.to_owned(),
        line,
        col,
        message,
    }
}
