//! Why the settings could not be loaded: one line each, naming the file, line and column for
//! problems in the config file, or the variable or flag otherwise.

use std::path::PathBuf;

use super::Origin;
use crate::exit::Exit;

const FIX: &str = "fix the file or see config.example.toml";

/// A config file, environment variable or flag that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// An explicitly named config file does not exist.
    #[error("config file {} (named by {origin}) does not exist", .path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// The flag or variable that named it.
        origin: Origin,
    },
    /// The config file exists but cannot be read.
    #[error("{}: cannot read the config file: {cause}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error, as text (keeps the error comparable).
        cause: String,
    },
    /// A `[backends.NAME]` table breaks a rule.
    #[error("{}: [backends.{name}]: {rule}; {FIX}", .path.display())]
    Backend {
        /// The file.
        path: PathBuf,
        /// The back end's name.
        name: String,
        /// What is wrong.
        rule: &'static str,
    },
    /// The config file is not valid TOML.
    #[error("{}:{line}:{col}: invalid TOML: {message}; {FIX}", .path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// The parser's message, on one line.
        message: String,
    },
    /// The config file has a key that no setting has.
    #[error(
        "{}:{line}:{col}: unknown key {key:?} {}; expected one of {expected}; {FIX}",
        .path.display(),
        in_table(.table)
    )]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// The unknown key as written.
        key: String,
        /// The table it is in; `None` at the top level.
        table: Option<String>,
        /// The known keys of that table, comma-separated.
        expected: String,
    },
    /// A config file value has the wrong type or does not fit.
    #[error(
        "{}:{line}:{col}: {} for {key}: expected {expected}, found {found}; {FIX}",
        .path.display(),
        problem(.out_of_range)
    )]
    WrongType {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// The dotted key.
        key: String,
        /// What the key takes.
        expected: &'static str,
        /// What was there.
        found: String,
        /// True when the type was right but the value does not fit.
        out_of_range: bool,
    },
    /// A config file value has the right type but is not one the key takes (e.g. a
    /// `tools.allow` entry that is not a tool rule); the position is the entry's.
    #[error("{}:{line}:{col}: invalid value for {key}: {reason}; {FIX}", .path.display())]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// The dotted key.
        key: String,
        /// What is wrong with it and what the key takes.
        reason: String,
    },
    /// An environment variable cannot be parsed as its key's type.
    #[error("environment variable {var}={value:?} is malformed: expected {expected}")]
    Env {
        /// The variable.
        var: String,
        /// Its value.
        value: String,
        /// What it takes.
        expected: &'static str,
    },
    /// A value has the right type but breaks a rule (e.g. `top_p` above 1).
    #[error("{}{key} = {value} {}is invalid: {rule}", at_file(.origin, .position), from(.origin, .position))]
    Invalid {
        /// The dotted key.
        key: String,
        /// The value, as TOML text.
        value: String,
        /// Where the value came from.
        origin: Origin,
        /// Line and column in the file, when the value came from one.
        position: Option<(usize, usize)>,
        /// The rule it breaks.
        rule: &'static str,
    },
}

impl ConfigError {
    /// The process exit code for this error.
    pub fn exit(&self) -> Exit {
        Exit::Config
    }
}

/// `in [table]`, or `at the top level`.
fn in_table(table: &Option<String>) -> String {
    table
        .as_deref()
        .map_or("at the top level".to_owned(), |t| format!("in [{t}]"))
}

/// What is wrong with a value of the wrong type or size.
fn problem(out_of_range: &bool) -> &'static str {
    if *out_of_range {
        "value out of range"
    } else {
        "wrong type"
    }
}

/// `path:line:col: ` for a value from the file, else nothing.
fn at_file(origin: &Origin, position: &Option<(usize, usize)>) -> String {
    match (origin, position) {
        (Origin::File(path), Some((line, col))) => format!("{}:{line}:{col}: ", path.display()),
        _ => String::new(),
    }
}

/// `(from env X) ` when the place is not already given as `path:line:col`.
fn from(origin: &Origin, position: &Option<(usize, usize)>) -> String {
    match (origin, position) {
        (Origin::File(_), Some(_)) => String::new(),
        _ => format!("(from {origin}) "),
    }
}
