//! `libre-assistant sessions list|search|show|export|rename|rm`: the session database read
//! without loading the config (like `audit`), so a broken config never hides a conversation.
//! Text from conversations reaches a terminal only through `text::inert`.

use std::io::IsTerminal;

use libre_assistant::exit::Exit;
use libre_assistant::paths::Dirs;
use libre_assistant::sessions::{Hit, SessionError, Store, Summary, export};
use libre_assistant::text;

use super::args::SessionsAction;
use super::failure::Failure;

/// Runs one `sessions` subcommand.
pub fn run(action: &SessionsAction) -> Result<Exit, Failure> {
    let dirs = Dirs::discover().map_err(|e| Failure::new(Exit::Storage, e.to_string()))?;
    let (store, notices) = Store::open(&dirs.data).map_err(failure)?;
    for notice in notices {
        eprintln!("libre-assistant: {}", text::inert(&notice));
    }
    match action {
        SessionsAction::List { json } => {
            let list = store.list().map_err(failure)?;
            if *json {
                println!("{}", serde_json::to_string(&list).unwrap_or_default());
            } else if list.is_empty() {
                println!("no sessions yet ({})", store.path().display());
            } else {
                print_table(&list);
            }
        }
        SessionsAction::Search { query, json } => {
            let hits = store.search(&query.join(" "), 50).map_err(failure)?;
            if *json {
                println!("{}", serde_json::to_string(&hits).unwrap_or_default());
            } else if hits.is_empty() {
                println!("no session matches {:?}", query.join(" "));
            } else {
                for hit in &hits {
                    print_hit(hit);
                }
            }
        }
        SessionsAction::Show { id } => {
            let session = store.load(*id).map_err(failure)?;
            print!(
                "{}",
                text::inert(&export::to_markdown(&session, &facts(&session.summary)))
            );
        }
        SessionsAction::Export { id, format } => {
            let session = store.load(*id).map_err(failure)?;
            let out = match format.as_str() {
                "json" => export::to_json(&session) + "\n",
                _ => export::to_markdown(&session, &facts(&session.summary)),
            };
            // Into a file or a pipe as it is; onto a terminal made inert.
            if std::io::stdout().is_terminal() {
                print!("{}", text::inert(&out));
            } else {
                print!("{out}");
            }
        }
        SessionsAction::Rename { id, title } => {
            let title = text::one_line(&title.join(" "));
            if title.is_empty() {
                return Err(Failure::new(
                    Exit::Usage,
                    "the title is empty; give a few words",
                ));
            }
            store.rename(*id, &title).map_err(failure)?;
            println!("session {id} is now {:?}", text::inert(&title));
        }
        SessionsAction::Rm { id } => {
            let summary = store.summary(*id).map_err(failure)?;
            store.remove(*id).map_err(failure)?;
            println!(
                "removed session {id} ({}, {} messages)",
                text::inert(&summary.title),
                summary.messages
            );
        }
    }
    Ok(Exit::Ok)
}

/// An unknown id is a usage error (2); a database that cannot be used, a storage error (7).
pub fn failure(e: SessionError) -> Failure {
    let exit = match e {
        SessionError::NotFound(_) => Exit::Usage,
        SessionError::Db { .. } | SessionError::Newer { .. } => Exit::Storage,
    };
    Failure::new(exit, e.to_string())
}

/// A session's facts on one line: id, model, dates, size.
pub fn facts(s: &Summary) -> String {
    let model = if s.model.is_empty() {
        String::new()
    } else {
        format!(" · {}", s.model)
    };
    format!(
        "session {}{model} · started {} · updated {} · {} messages · {} tokens",
        s.id,
        date(s.created),
        date(s.updated),
        s.messages,
        s.tokens
    )
}

/// Local date and time to the minute.
pub fn date(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis).map_or_else(String::new, |t| {
        t.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    })
}

fn print_table(list: &[Summary]) {
    let width = list
        .iter()
        .map(|s| s.id.to_string().len())
        .max()
        .unwrap_or(2)
        .max(2);
    let models = list
        .iter()
        .map(|s| s.model.chars().count())
        .max()
        .unwrap_or(0);
    let models = models.clamp(5, 32);
    println!(
        "{:>width$}  {:<16}  {:>5}  {:<models$}  TITLE",
        "ID", "UPDATED", "MSGS", "MODEL"
    );
    for s in list {
        println!(
            "{:>width$}  {:<16}  {:>5}  {:<models$}  {}",
            s.id,
            date(s.updated),
            s.messages,
            clip(&text::inert(&s.model), models),
            text::inert(&s.title)
        );
    }
}

fn print_hit(hit: &Hit) {
    let s = &hit.session;
    println!("{}  {}  {}", s.id, date(s.updated), text::inert(&s.title));
    if !hit.snippet.is_empty() {
        let snippet: String = hit
            .snippet
            .iter()
            .map(|(t, matched)| {
                let t = text::inert(t);
                if *matched {
                    format!("[{t}]")
                } else {
                    t.into_owned()
                }
            })
            .collect();
        println!("    {snippet}");
    }
}

/// `text` cut to `width` characters, with `…` where it was cut.
fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}
