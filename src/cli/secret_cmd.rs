//! `plugins secret set|rm|list`: a plugin's secrets in the OS keyring (or the private fallback
//! file), named in its manifest, never printed.

use std::io::{IsTerminal, Read, Write};

use libre_assistant::exit::Exit;
use libre_assistant::plugins::secrets::{SecretError, SecretStore};
use libre_assistant::plugins::{self, Discovery};

use super::args::SecretAction;
use super::failure::Failure;
use super::plugins_cmd::{find, warn};
use super::setup::Setup;

/// Runs one `plugins secret` subcommand.
pub fn run(setup: &Setup, found: &Discovery, action: &SecretAction) -> Result<Exit, Failure> {
    let store = SecretStore::new(&setup.dirs);
    match action {
        SecretAction::Set { id, name } => {
            let plugin = find(found, id)?;
            check_name(name)?;
            let value = read_value(&format!("value of {name} for {id}: "))?;
            // Named first: a shipped plugin takes no secrets, and nothing is stored for it.
            plugins::name_secret(plugin, name).map_err(|e| Failure::new(Exit::Usage, e))?;
            let stored = store.set(id, name, &value).map_err(secret_failure)?;
            warn(&stored.first_in_file.into_iter().collect::<Vec<_>>());
            println!("stored {name} for {id} in the {}", stored.backend.label());
            Ok(Exit::Ok)
        }
        SecretAction::Rm { id, name } => {
            if store.remove(id, name).map_err(secret_failure)? {
                println!("removed {name} of {id}");
                Ok(Exit::Ok)
            } else {
                Err(Failure::new(
                    Exit::Usage,
                    format!(
                        "{id} has no secret {name}; `libre-assistant plugins secret list` shows them"
                    ),
                ))
            }
        }
        SecretAction::List { id } => {
            let rows = store.list().map_err(secret_failure)?;
            let rows: Vec<_> = rows
                .into_iter()
                .filter(|(p, _, _)| id.as_ref().is_none_or(|id| p == id))
                .collect();
            if rows.is_empty() {
                println!("no secrets stored");
            }
            for (plugin, name, backend) in rows {
                println!("{plugin}  {name}  {}", backend.label());
            }
            Ok(Exit::Ok)
        }
    }
}

fn check_name(name: &str) -> Result<(), Failure> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Failure::new(
            Exit::Usage,
            format!(
                "{name:?} is not an environment variable name (letters, digits and _, not starting with a digit)"
            ),
        ))
    }
}

/// The secret's value: typed at a prompt that does not echo when stdin is a terminal, else
/// all of stdin (one trailing newline removed).
pub(super) fn read_value(prompt: &str) -> Result<String, Failure> {
    let failed =
        |e: std::io::Error| Failure::new(Exit::Usage, format!("cannot read the value: {e}"));
    let value = if std::io::stdin().is_terminal() {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let line = read_line_without_echo().map_err(failed)?;
        eprintln!();
        line
    } else {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(failed)?;
        text.strip_suffix('\n').unwrap_or(&text).to_owned()
    };
    let value = value.strip_suffix('\r').unwrap_or(&value).to_owned();
    if value.is_empty() {
        return Err(Failure::new(
            Exit::Usage,
            "the value is empty; nothing was stored",
        ));
    }
    Ok(value)
}

/// One line from the terminal on stdin with echo off, restored afterwards.
fn read_line_without_echo() -> std::io::Result<String> {
    // SAFETY: tcgetattr/tcsetattr on fd 0 with a local termios.
    let old = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut t) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut quiet = t;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::ECHONL;
        libc::tcsetattr(0, libc::TCSANOW, &quiet);
        t
    };
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    // SAFETY: as above, restoring the saved settings.
    unsafe { libc::tcsetattr(0, libc::TCSANOW, &old) };
    read?;
    Ok(line.strip_suffix('\n').unwrap_or(&line).to_owned())
}

pub(super) fn secret_failure(e: SecretError) -> Failure {
    let exit = match &e {
        SecretError::Unsafe { .. } | SecretError::File { .. } => Exit::Storage,
        SecretError::Keyring { .. } | SecretError::Missing { .. } => Exit::Plugin,
    };
    Failure::new(exit, e.to_string())
}
