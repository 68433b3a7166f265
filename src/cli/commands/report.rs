//! `report` and `timeline` output: the rendered document on standard output or in a file.

use crate::cli::args::ReportArgs;
use crate::cli::output;
use crate::say;
use crate::workflow::{self, Context, WorkflowError};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

/// A day (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 time.
pub(crate) fn parse_day(s: &str) -> Result<DateTime<Utc>, WorkflowError> {
    if let Some(t) = crate::audit::record::parse_time(s) {
        return Ok(t);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| WorkflowError::Usage(format!("{:?} is not a date: use YYYY-MM-DD", crate::text::safe(s))))
}

/// `report`: the governance report over a scope, of this ledger or of a bundle.
pub(crate) fn report_command(ctx: &Context, a: ReportArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let ReportArgs { format, since, until, env, component, out, bundle, signer } = a;
    let scope = workflow::report::Scope {
        since: since.as_deref().map(parse_day).transpose()?,
        until: until.as_deref().map(parse_day).transpose()?,
        env,
        component,
    };
    // A scope nothing can fall in, and two formats asked at once, are mistakes: a report of zero
    // requests, or JSON where CSV was asked, would look like an answer.
    if let (Some(s), Some(u)) = (scope.since, scope.until)
        && s >= u
    {
        return Err(WorkflowError::Usage(format!(
            "--since {} is not before --until {}: the report would cover nothing",
            s.format("%Y-%m-%d %H:%M UTC"),
            u.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    if json && out.is_none() && format != "md" && format != "json" {
        return Err(WorkflowError::Usage(format!(
            "--json prints the report as JSON; give --format {format} without --json (or --json with --out FILE)"
        )));
    }
    report(ctx, &scope, &format, out.as_deref(), bundle.as_deref(), signer.name.as_deref(), json)
}

/// Says that a report scoped to an environment or a component found no request for it: a name the
/// ledger does not use (`prod` for `production`) gives an empty report that looks like a quiet month.
fn warn_empty_scope(scope: &workflow::report::Scope, requests: usize) {
    if requests > 0 {
        return;
    }
    let names: Vec<String> = [("--env", &scope.env), ("--component", &scope.component)]
        .into_iter()
        .filter_map(|(flag, name)| name.as_ref().map(|n| format!("{flag} {:?}", n.trim())))
        .collect();
    if !names.is_empty() {
        output::warn(&format!(
            "no request in the report's period is for {} (names compare without ASCII case and surrounding \
             spaces; `rollcall list` shows the names requests use)",
            names.join(" with ")
        ));
    }
}

fn report(
    ctx: &Context,
    scope: &workflow::report::Scope,
    format: &str,
    out: Option<&Path>,
    bundle: Option<&Path>,
    signer: Option<&str>,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    let format = if json && out.is_none() { "json" } else { format };
    // Written as it is built: to the file (created 0600 at the first byte), or to standard output.
    let mut file;
    let mut stdout;
    let sink: &mut dyn std::io::Write = match out {
        Some(path) => {
            file = crate::paths::LazyFile::new(path);
            &mut file
        }
        None => {
            stdout = output::Stdout::new();
            &mut stdout
        }
    };
    let (report, receipt) = match bundle {
        Some(b) => {
            let copy = workflow::sync::open_bundle(b)?;
            let ledger = crate::ledger::Ledger::open(&copy.path)?;
            let fmt = crate::report::render::Format::parse(format);
            (workflow::report::report_read_only(&ledger, scope, fmt, sink)?, None)
        }
        None => {
            if let Some(p) = out {
                workflow::audited::check_destination(p, false)?;
            }
            workflow::audited::report(ctx, scope, format, signer, sink)?
        }
    };
    sink.flush().map_err(|e| match out {
        Some(p) => WorkflowError::Read(p.to_path_buf(), e),
        None => WorkflowError::Usage(format!("cannot write to stdout: {e}")),
    })?;
    warn_empty_scope(scope, report.metrics.requests);
    if let Some(p) = out {
        if json {
            output::json(&json!({"out": p, "format": format, "requests": report.metrics.requests,
                "intact": report.header.intact, "recorded": receipt.as_ref().map(|r| r.entry_id.to_hex())}));
        } else {
            say!(
                "wrote the {format} report ({} requests) to {}{}",
                report.metrics.requests,
                p.display(),
                receipt
                    .map(|r| format!("; the read is recorded as entry {}", r.entry_id.short(16)))
                    .unwrap_or_default()
            );
        }
    }
    Ok(if report.header.intact { ExitCode::SUCCESS } else { ExitCode::from(crate::cli::EXIT_CHECK_FAILED) })
}

pub(crate) fn timeline(
    ctx: &Context,
    req: Option<&str>,
    incident: Option<&str>,
    format: &str,
    bundle: Option<&Path>,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    let copy = bundle.map(workflow::sync::open_bundle).transpose()?;
    let ledger = match &copy {
        Some(c) => crate::ledger::Ledger::open_read_only(&c.path)?,
        None => ctx.open_read_only()?,
    };
    let t = match (req, incident) {
        (_, Some(i)) => workflow::report::incident_timeline(&ledger, i)?,
        (Some(r), None) => workflow::report::request_timeline(&ledger, r)?,
        (None, None) => return Err(WorkflowError::Usage("give a request id or --incident ID".into())),
    };
    if json || format == "json" {
        output::json(&serde_json::to_value(&t).unwrap_or_default());
    } else {
        output::emit(&crate::report::timeline::markdown(&t));
    }
    Ok(ExitCode::SUCCESS)
}
