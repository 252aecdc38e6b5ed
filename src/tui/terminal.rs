//! Taking over the terminal and giving it back on every way out: normal quit, error, panic
//! (a hook restores first), and signals (the app loop turns SIGTERM, SIGHUP and SIGINT into a
//! normal quit, so this guard's `Drop` runs).

use std::io::{self, Stdout, Write};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal while the app owns it. Dropping it restores the terminal.
pub struct Screen {
    /// The ratatui terminal.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
    mouse: bool,
}

impl Screen {
    /// Raw mode, the alternate screen, bracketed paste, and mouse capture only if asked for.
    pub fn enter(mouse: bool) -> io::Result<Screen> {
        install_panic_hook(mouse);
        enable_raw_mode()?;
        let mut out = io::stdout();
        let entered = execute!(out, EnterAlternateScreen, EnableBracketedPaste).and_then(|()| {
            if mouse {
                execute!(out, EnableMouseCapture)
            } else {
                Ok(())
            }
        });
        if let Err(e) = entered {
            restore(mouse);
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(out)) {
            Ok(terminal) => Ok(Screen { terminal, mouse }),
            Err(e) => {
                restore(mouse);
                Err(e)
            }
        }
    }

    /// Writes raw bytes (an OSC 52 sequence) to the terminal.
    pub fn write_raw(&mut self, bytes: &str) -> io::Result<()> {
        let out = self.terminal.backend_mut();
        out.write_all(bytes.as_bytes())?;
        out.flush()
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore(self.mouse);
    }
}

/// Puts the terminal back as it was. Errors are ignored: after SIGHUP there is no terminal.
fn restore(mouse: bool) {
    let mut out = io::stdout();
    if mouse {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(
        out,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
}

/// Restores the terminal before the panic message prints, so it is readable.
fn install_panic_hook(mouse: bool) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore(mouse);
        previous(info);
    }));
}
