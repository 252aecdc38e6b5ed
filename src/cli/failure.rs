//! A failure at the edge: one line for the user and the exit code it maps to.

use libre_assistant::exit::Exit;

/// What ends the process unsuccessfully.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// One line: what went wrong and what to do.
    pub message: String,
}

impl Failure {
    /// A failure with this code and message.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
        }
    }
}

impl From<libre_assistant::models::ModelError> for Failure {
    fn from(e: libre_assistant::models::ModelError) -> Self {
        Failure::new(e.exit(), e.to_string())
    }
}

impl From<libre_assistant::config::ConfigError> for Failure {
    fn from(e: libre_assistant::config::ConfigError) -> Self {
        Failure::new(e.exit(), e.to_string())
    }
}

impl From<libre_assistant::engine::EngineError> for Failure {
    fn from(e: libre_assistant::engine::EngineError) -> Self {
        use libre_assistant::engine::EngineError as E;
        let exit = match &e {
            E::Load { .. } | E::NoModel => Exit::Model,
            E::PromptTooLong { .. } => Exit::Usage,
            E::Settings(_) => Exit::Config,
            E::Server(_) => Exit::Server,
            E::Backend(_) | E::Context { .. } | E::Template(_) | E::Decode(_) | E::Gone => {
                Exit::Generation
            }
        };
        Failure::new(exit, e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::new(Exit::Internal, format!("I/O error: {e}"))
    }
}
