//! The command-line front end: flags, setup shared by every command, and the subcommands.

pub mod args;
pub mod audit_cmd;
pub mod config_cmd;
pub mod failure;
pub mod models_cmd;
pub mod plugin_context;
pub mod plugin_review;
pub mod plugins_cmd;
pub mod resume;
pub mod secret_cmd;
pub mod sessions_cmd;
pub mod setup;
pub mod stats_cmd;
pub mod tools;
