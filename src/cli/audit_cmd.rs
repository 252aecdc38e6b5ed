//! `libre-assistant audit verify|tail`: reads `<state dir>/audit.jsonl` without loading the
//! config, so a broken config never hides the audit trail. Results on stdout; a broken chain
//! is one line on stderr and exit code 3.

use libre_assistant::exit::Exit;
use libre_assistant::paths::Dirs;
use libre_assistant::plugins::audit::{self, AuditError, AuditRecord, Decision, Grant, Outcome};

use super::args::AuditAction;
use super::failure::Failure;

/// Runs one `audit` subcommand.
pub fn run(action: &AuditAction) -> Result<Exit, Failure> {
    let dirs = Dirs::discover().map_err(|e| Failure::new(Exit::Storage, e.to_string()))?;
    let path = audit::audit_file(&dirs);
    match action {
        AuditAction::Verify => {
            let report = audit::verify(&path).map_err(failure)?;
            if report.lines == 0 {
                println!("no tool calls recorded yet ({})", path.display());
            } else {
                let calls = if report.lines == 1 { "call" } else { "calls" };
                println!(
                    "audit log {}: {} {calls}, chain intact",
                    path.display(),
                    report.lines
                );
            }
        }
        AuditAction::Tail { n } => {
            for record in audit::tail(&path, *n).map_err(failure)? {
                println!("{}", line(&record));
            }
        }
    }
    Ok(Exit::Ok)
}

/// A damaged or unreadable log is a data error (3), like a malformed config file.
fn failure(e: AuditError) -> Failure {
    Failure::new(Exit::Config, e.to_string())
}

/// One call: time, plugin/tool, decision (granted by), outcome, duration; or an event about a
/// plugin (the monitor stopped it).
fn line(r: &AuditRecord) -> String {
    if let Some(event) = &r.event {
        let what = match &r.outcome {
            Outcome::Failed(why) => why.as_str(),
            Outcome::Ok | Outcome::ToolError => "",
        };
        return format!(
            "{}  {}  {}: {what}",
            r.time,
            r.plugin,
            event.replace('_', " ")
        );
    }
    let decision = match r.decision {
        Decision::Allowed => "allowed",
        Decision::Denied => "denied",
    };
    let granted_by = match r.granted_by {
        Grant::User => "user",
        Grant::Session => "session",
        Grant::Remembered => "remembered",
        Grant::Config => "config",
        Grant::HeadlessFlag => "headless flag",
        Grant::Command => "plugins call",
        Grant::None => "nothing",
    };
    let outcome = match &r.outcome {
        Outcome::Ok => "ok".to_owned(),
        Outcome::ToolError => "tool error".to_owned(),
        Outcome::Failed(why) => format!("failed: {why}"),
    };
    format!(
        "{}  {}/{}  {decision} ({granted_by})  {outcome}  {} ms",
        r.time, r.plugin, r.tool, r.duration_ms
    )
}
