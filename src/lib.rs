//! libre-assistant: a privacy-first AI assistant for the terminal.
//!
//! The library is the core and knows no terminal: front ends (headless now, the TUI later)
//! speak to it through `core::Op` in and `core::Event` out. It never prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod backend;
pub mod config;
pub mod core;
pub mod engine;
pub mod exit;
pub mod logging;
pub mod models;
pub mod paths;
pub mod plugins;
pub mod sessions;
pub mod text;
pub mod tools;
