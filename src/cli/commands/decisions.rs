//! The decision and lifecycle commands: approve, reject, emergency, execute, validate, review, close,
//! incident links and bad-artifact marks.

use crate::audit::bodies::{Check, CheckResult, Decision, Outcome, Resolution, ReviewKind};
use crate::audit::record::split_command;
use crate::cli::args::{
    ApproveArgs, CloseArgs, EmergencyArgs, ExecuteArgs, IncidentLinkArgs, MarkBadArgs, OutcomeArg, RejectArgs,
    ResolutionArg, ResultArg, ReviewArgs, ReviewKindArg, ValidateArgs,
};
use crate::cli::print::{on_request, receipt};
use crate::say;
use crate::workflow::lifecycle::Execution;
use crate::workflow::{self, Context, WorkflowError};
use std::process::ExitCode;

/// `approve REQ`.
pub(crate) fn approve(ctx: &Context, a: ApproveArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let ApproveArgs { req, comment, signer } = a;
    let (r, id) = workflow::decisions::decide(ctx, signer.name.as_deref(), &req, Decision::Approve, &comment)?;
    on_request("approval", &r, &id, json);
    Ok(ExitCode::SUCCESS)
}

/// `reject REQ`.
pub(crate) fn reject(ctx: &Context, a: RejectArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let RejectArgs { req, comment, signer } = a;
    let (r, id) = workflow::decisions::decide(ctx, signer.name.as_deref(), &req, Decision::Reject, &comment)?;
    on_request("rejection", &r, &id, json);
    Ok(ExitCode::SUCCESS)
}

/// `emergency REQ`: the break-glass path.
pub(crate) fn emergency(ctx: &Context, a: EmergencyArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let EmergencyArgs { req, reason, signer } = a;
    let (r, id) = workflow::decisions::emergency(ctx, signer.name.as_deref(), &req, &reason)?;
    on_request("emergency", &r, &id, json);
    if !json {
        say_what_the_emergency_waives(ctx, &id);
    }
    Ok(ExitCode::SUCCESS)
}

/// What breaking glass just did, read back as the gate reads it, under the receipt: each requirement it
/// waives and until when (a rejection an approver signed said to no longer block), or why it waives
/// nothing; and the post-hoc review it makes due. (The command only said "recorded emergency", and the one
/// who broke glass on a request another member had rejected was not told that the rejection no longer
/// blocked.)
fn say_what_the_emergency_waives(ctx: &Context, id: &crate::ledger::EntryId) {
    let Ok(s) = workflow::query::show(ctx, &id.to_hex()) else { return };
    let waived: Vec<_> = s.eval.checklist.iter().filter(|i| i.waived).collect();
    for i in &waived {
        let note = if i.id == "rejections" { "; an approver's rejection no longer blocks the revert" } else { "" };
        let detail = i.detail.strip_prefix("waived: ").unwrap_or(&i.detail);
        say!("  it waives {}: {}{note}", i.id, crate::text::safe(detail));
    }
    if waived.is_empty() {
        match s.eval.checklist.iter().find(|i| i.id == "state") {
            // Not allowed to the signer under the policy applied, lapsed, or a state no emergency changes.
            Some(state) if !state.met || state.detail.contains("emergency") => {
                say!("  it waives nothing: {}", crate::text::safe(&state.detail))
            }
            _ => say!("  it waives nothing now: every requirement it could waive is met"),
        }
    }
    for o in s.obligations.iter().filter(|o| o.kind == "post-hoc-review") {
        say!(
            "  a post-hoc review by another member is due by {} ({})",
            o.due.format("%Y-%m-%d %H:%M UTC"),
            crate::text::safe(&o.detail)
        );
    }
}

/// `execute REQ`: what the revert did.
pub(crate) fn execute(ctx: &Context, a: ExecuteArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let ExecuteArgs { req, outcome, output_file, command, env, component, notes, signer } = a;
    let outcome = match outcome {
        OutcomeArg::Succeeded => Outcome::Succeeded,
        OutcomeArg::Partial => Outcome::Partial,
        OutcomeArg::Failed => Outcome::Failed,
    };
    let command = command.as_deref().map(split_command).transpose()?;
    let x = Execution { outcome, output_file: output_file.as_deref(), command, env, component, notes };
    let (r, id) = workflow::lifecycle::execute(ctx, signer.name.as_deref(), &req, x)?;
    on_request("execution", &r, &id, json);
    Ok(ExitCode::SUCCESS)
}

/// `validate REQ`: the checks after the revert.
pub(crate) fn validate(ctx: &Context, a: ValidateArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let ValidateArgs { req, result, checks, evidence, notes, signer } = a;
    let result = match result {
        ResultArg::Pass => CheckResult::Pass,
        ResultArg::Fail => CheckResult::Fail,
    };
    let checks = checks
        .iter()
        .map(|c| match c.rsplit_once('=') {
            Some((name, "pass")) if !name.trim().is_empty() => {
                Ok(Check { name: name.into(), result: CheckResult::Pass })
            }
            Some((name, "fail")) if !name.trim().is_empty() => {
                Ok(Check { name: name.into(), result: CheckResult::Fail })
            }
            _ => Err(WorkflowError::Usage(format!("--check {c:?} is not NAME=pass or NAME=fail"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (r, id) =
        workflow::lifecycle::validate(ctx, signer.name.as_deref(), &req, result, checks, evidence.as_deref(), notes)?;
    on_request("validation", &r, &id, json);
    Ok(ExitCode::SUCCESS)
}

/// `review REQ`: a post-hoc or post-incident review.
pub(crate) fn review(ctx: &Context, a: ReviewArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let ReviewArgs { req, summary, lessons, kind, signer } = a;
    let kind = match kind {
        ReviewKindArg::PostHoc => ReviewKind::PostHoc,
        ReviewKindArg::PostIncident => ReviewKind::PostIncident,
    };
    let (r, id) = workflow::lifecycle::review(ctx, signer.name.as_deref(), &req, kind, &summary, lessons)?;
    on_request("review", &r, &id, json);
    Ok(ExitCode::SUCCESS)
}

/// `close REQ`.
pub(crate) fn close(ctx: &Context, a: CloseArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let CloseArgs { req, resolution, superseded_by, comment, signer } = a;
    let resolution = match resolution {
        ResolutionArg::RolledForward => Resolution::RolledForward,
        ResolutionArg::MadePermanent => Resolution::MadePermanent,
        ResolutionArg::Superseded => Resolution::Superseded,
    };
    let (r, id) =
        workflow::lifecycle::close(ctx, signer.name.as_deref(), &req, resolution, superseded_by.as_deref(), &comment)?;
    on_request("closure", &r, &id, json);
    Ok(ExitCode::SUCCESS)
}

/// `incident link REQ INCIDENT`.
pub(crate) fn link_incident(ctx: &Context, a: IncidentLinkArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let IncidentLinkArgs { req, incident, url, signer } = a;
    let (r, id) = workflow::lifecycle::link_incident(ctx, signer.name.as_deref(), &req, &incident, url.as_deref())?;
    on_request("incident link", &r, &id, json);
    Ok(ExitCode::SUCCESS)
}

/// `mark-bad DIGEST`.
pub(crate) fn mark_bad(ctx: &Context, a: MarkBadArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let MarkBadArgs { digest, reason, signer } = a;
    let r = workflow::lifecycle::mark_bad(ctx, signer.name.as_deref(), &digest, &reason)?;
    receipt("bad-artifact mark", &r, json);
    Ok(ExitCode::SUCCESS)
}
