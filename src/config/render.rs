//! The text `libre-assistant config` prints: every key, its value and where it came from, as
//! TOML with dotted keys, so it can be pasted into a config file.

use std::fmt::Write as _;

use super::field::Field;
use super::{Effective, Origin};

/// Comments start at this column at most; a longer line gets its comment two spaces after it.
const MAX_ALIGN: usize = 40;

impl Effective {
    /// Every key with its value and origin, one a line, comments aligned.
    pub fn render(&self) -> String {
        let rows: Vec<(String, String)> = Field::ALL
            .into_iter()
            .map(|field| {
                let origin = self.origins.get(field.key()).unwrap_or(&Origin::Default);
                match (field.show(&self.settings), field.unset_meaning()) {
                    (Some(value), _) => (format!("{} = {value}", field.key()), describe(origin)),
                    (None, meaning) => (
                        format!("# {} =", field.key()),
                        format!("unset: {}", meaning.unwrap_or("no value")),
                    ),
                }
            })
            .collect();
        let mut rows = rows;
        // The back ends come only from the file.
        for (name, backend) in &self.settings.backends {
            let Ok(table) = toml::Table::try_from(backend) else {
                continue;
            };
            for (key, value) in table {
                rows.push((
                    format!("backends.{name}.{key} = {value}"),
                    "from file".into(),
                ));
            }
        }
        let width = rows
            .iter()
            .map(|(left, _)| left.chars().count())
            .filter(|&w| w <= MAX_ALIGN)
            .max()
            .unwrap_or(0);
        let mut out = match &self.file {
            Some(path) => format!("# config file: {}\n", path.display()),
            None => "# config file: none (defaults, environment and flags only)\n".to_owned(),
        };
        for (left, comment) in rows {
            let pad = width.saturating_sub(left.chars().count());
            let _ = writeln!(out, "{left}{:pad$}  # {comment}", "");
        }
        out
    }
}

/// `default`, `from file` (the header names it), or `from env LIBRE_ASSISTANT_TEMPERATURE`.
fn describe(origin: &Origin) -> String {
    match origin {
        Origin::Default => "default".to_owned(),
        Origin::File(_) => "from file".to_owned(),
        Origin::Env(_) | Origin::Flag(_) => format!("from {origin}"),
    }
}
