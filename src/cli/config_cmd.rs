//! `libre-assistant config`: the effective config and where each value came from.

use libre_assistant::exit::Exit;

use super::setup::Setup;

/// Prints the effective config to stdout.
pub fn run(setup: &Setup) -> Exit {
    print!("{}", setup.config.render());
    Exit::Ok
}
