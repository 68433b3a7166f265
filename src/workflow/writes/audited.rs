//! Audited reads: when the policy's `audit.record_reads` is on, a report or an export first appends a
//! signed `audit.read` entry saying who read what, over which scope, and how much of each log they saw.

use crate::audit::bodies::ReadBody;
use crate::audit::kinds::AUDIT_READ;
use crate::ledger::Ledger;
use crate::ledger::Statement;
use crate::report::render::{Format, Report};
use crate::workflow::context::{Context, Receipt};
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::report::{Scope, count_in, write_report};
use crate::workflow::reads::state::Snapshot;
use std::collections::BTreeMap;

/// Whether reads are recorded under the policy in force.
fn record_reads(ledger: &Ledger) -> Result<bool, WorkflowError> {
    let snap = Snapshot::load(ledger)?;
    Ok(snap.policies.current().1.audit.record_reads)
}

/// Appends the `audit.read` entry of a report or an export, when the policy records reads.
pub(crate) fn record_read(
    ctx: &Context,
    signer: Option<&str>,
    what: &str,
    format: &str,
    scope: BTreeMap<String, String>,
    count: u64,
) -> Result<Option<Receipt>, WorkflowError> {
    let ledger = ctx.open_read_only()?;
    if !record_reads(&ledger)? {
        return Ok(None);
    }
    let mut seen = BTreeMap::new();
    for origin in ledger.origins()? {
        seen.insert(origin.name.clone(), ledger.size(&origin)?.to_string());
    }
    drop(ledger);
    let mut session = ctx.session(signer)?;
    let body = ReadBody { what: what.into(), format: format.into(), scope, count: count.to_string(), seen };
    let body = serde_json::to_value(&body)?;
    // When the read happened: the real time in a release build, whatever time `ROLLCALL_NOW` evaluates at.
    let st = Statement::new_at(AUDIT_READ, &session.signer.public(), body, &[], crate::workflow::clock::bound_now());
    Ok(Some(super::append(&mut session, st, &|_, _, _| Ok(()))?))
}

/// Refuses, before a read is recorded, output that cannot be written at `path` (a directory that is not
/// there, one that is read-only, a path naming a directory): a mistyped `--out` must not leave an
/// `audit.read` entry for a read nobody received.
/// `by_rename`: the output is written beside `path` and renamed into place (a bundle), not written in place
/// (a report).
pub fn check_destination(path: &std::path::Path, by_rename: bool) -> Result<(), WorkflowError> {
    crate::paths::check_writable(path, by_rename)
        .map_err(|e| WorkflowError::Usage(format!("cannot write {}: {e}", path.display())))
}

/// `rollcall report`: records the read (when the policy says so), then writes the report to `sink`.
pub(crate) fn report(
    ctx: &Context,
    scope: &Scope,
    format: &str,
    signer: Option<&str>,
    sink: &mut dyn std::io::Write,
) -> Result<(Report, Option<Receipt>), WorkflowError> {
    let ledger = ctx.open()?;
    crate::workflow::reads::index::refresh(&ledger, crate::workflow::clock::now())?;
    let count = count_in(&ledger, scope)?;
    drop(ledger);
    let receipt = record_read(ctx, signer, "report", format, scope.map(format), count)?;
    let by = match (&receipt, signer) {
        (Some(_), _) | (None, Some(_)) => Some(ctx.signer_name(signer)?),
        (None, None) => ctx.signer_name(None).ok(),
    };
    let ledger = ctx.open()?;
    Ok((write_report(&ledger, scope, by, Format::parse(format), sink)?, receipt))
}
