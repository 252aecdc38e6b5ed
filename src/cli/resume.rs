//! Which session a run writes into: a new one, the most recent (`--continue`) or one by id
//! (`--resume ID`), and the conversation it goes on with. Shared by both front ends.

use std::path::Path;

use libre_assistant::core::{Conversation, Journal};
use libre_assistant::sessions::{Store, Summary};

use super::args::Cli;
use super::failure::Failure;

/// Which session a run goes on with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// A new one.
    New,
    /// The most recently changed one.
    Latest,
    /// This one.
    Id(i64),
}

impl Resume {
    /// From `--continue` and `--resume ID`.
    pub fn from_cli(cli: &Cli) -> Resume {
        match (cli.resume_id, cli.resume) {
            (Some(id), _) => Resume::Id(id),
            (None, true) => Resume::Latest,
            (None, false) => Resume::New,
        }
    }
}

/// The journal of a run and what it resumed.
pub struct Opened {
    /// Where the conversation is saved; None when the database cannot be used.
    pub journal: Option<Journal>,
    /// The session gone on with, and its conversation.
    pub resumed: Option<Resumed>,
    /// Things the user should know (one line each).
    pub notices: Vec<String>,
}

/// A session gone on with.
pub struct Resumed {
    /// Its list entry.
    pub summary: Summary,
    /// Its conversation.
    pub conversation: Conversation,
    /// Its last answer was cut short (see [`libre_assistant::sessions::Session::cut_short`]).
    pub cut_short: bool,
}

/// Opens the session database in `data_dir` for a run. A database that cannot be used is a
/// notice (the run goes on unsaved) unless a session was asked for by id.
pub fn open(data_dir: &Path, resume: Resume) -> Result<Opened, Failure> {
    let (store, mut notices) = match Store::open(data_dir) {
        Ok(opened) => opened,
        Err(e) if resume == Resume::New => {
            return Ok(Opened {
                journal: None,
                resumed: None,
                notices: vec![format!("{e}; the conversation goes on unsaved")],
            });
        }
        Err(e) => return Err(super::sessions_cmd::failure(e)),
    };
    let id = match resume {
        Resume::New => None,
        Resume::Id(id) => Some(id),
        Resume::Latest => {
            let latest = store.latest().map_err(super::sessions_cmd::failure)?;
            if latest.is_none() {
                notices.push("no earlier conversation to continue; this is a new one".into());
            }
            latest
        }
    };
    let Some(id) = id else {
        return Ok(Opened {
            journal: Some(Journal::new(store)),
            resumed: None,
            notices,
        });
    };
    let session = store.load(id).map_err(super::sessions_cmd::failure)?;
    let cut_short = session.cut_short();
    let messages: Vec<_> = session.messages.into_iter().map(|s| s.message).collect();
    let conversation = Conversation::from_parts(&session.system, messages.clone());
    Ok(Opened {
        journal: Some(Journal::resuming(store, id, messages)),
        resumed: Some(Resumed {
            summary: session.summary,
            conversation,
            cut_short,
        }),
        notices,
    })
}
