//! `notify check` and `notify test EVENT`: escalation through the commands of `notify.toml`.

use crate::cli::args::NotifyCommand;
use crate::cli::output;
use crate::say;
use crate::text::safe;
use crate::workflow::notify::{Delivered, Event};
use crate::workflow::{Context, WorkflowError};
use serde_json::json;
use std::process::ExitCode;

pub(crate) fn run(ctx: &Context, command: NotifyCommand, json: bool) -> Result<ExitCode, WorkflowError> {
    match command {
        NotifyCommand::Check => check(ctx, json),
        NotifyCommand::Test { event } => test(ctx, &event, json),
    }
}

fn runs_json(d: &Delivered) -> serde_json::Value {
    d.runs.iter().map(|(argv, problem)| json!({"command": argv, "ok": problem.is_none(), "problem": problem})).collect()
}

fn status(d: &Delivered) -> ExitCode {
    if d.failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(crate::cli::EXIT_CHECK_FAILED) }
}

/// `notify check`.
fn check(ctx: &Context, json: bool) -> Result<ExitCode, WorkflowError> {
    let c = crate::workflow::notify::check(ctx)?;
    for w in &c.delivered.warnings {
        output::warn(w);
    }
    let d = &c.delivered;
    if json {
        let findings: serde_json::Map<String, serde_json::Value> =
            c.findings.iter().map(|(e, n)| (e.name().to_string(), json!(n))).collect();
        output::json(&json!({
            "config": c.config.display().to_string(), "configured": c.configured, "findings": findings,
            "sent": d.sent, "failed": d.failed, "already": d.already, "waiting": d.waiting, "runs": runs_json(d),
        }));
    } else if !c.configured {
        say!("no {}: nothing to notify", c.config.display());
    } else {
        let findings: Vec<String> = c.findings.iter().map(|(e, n)| format!("{n} {}", e.name())).collect();
        say!(
            "{}; {} notification{} sent, {} failed, {} sent before",
            if findings.is_empty() {
                "no event of notify check is configured".to_string()
            } else {
                findings.join(", ")
            },
            d.sent,
            if d.sent == 1 { "" } else { "s" },
            d.failed,
            d.already
        );
    }
    Ok(status(d))
}

/// `notify test EVENT`.
fn test(ctx: &Context, event: &str, json: bool) -> Result<ExitCode, WorkflowError> {
    let e = Event::parse(event).ok_or_else(|| {
        WorkflowError::Usage(format!(
            "unknown event {:?} (one of: {})",
            safe(event),
            Event::ALL.iter().map(|e| e.name()).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let (_, d) = crate::workflow::notify::test(ctx, e)?;
    for w in &d.warnings {
        output::warn(w);
    }
    if json {
        output::json(&json!({"event": e.name(), "sent": d.sent, "failed": d.failed, "runs": runs_json(&d)}));
    } else {
        for (argv, problem) in &d.runs {
            match problem {
                None => say!("sent a sample {} to {}", e.name(), safe(&argv[0])),
                Some(p) => say!("FAILED {} to {}: {}", e.name(), safe(&argv[0]), safe(p)),
            }
        }
    }
    Ok(status(&d))
}
