//! The interactive terminal app: a front end over the core, like headless mode.

pub mod theme;
