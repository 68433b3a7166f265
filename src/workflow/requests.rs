//! Filing, amending and withdrawing rollback requests.

use super::act::{Built, Draft, on_request};
use super::clock;
use super::context::{Context, Receipt};
use super::error::WorkflowError;
use super::state::Snapshot;
use crate::audit::bodies::{AmendedBody, WithdrawnBody};
use crate::audit::kinds::{AMENDED, REQUESTED, WITHDRAWN};
use crate::audit::projection::{Action, Fact, RequestView, Rules};
use crate::audit::record::RequestBody;
use crate::ledger::{EntryId, Hash, Ledger, Statement};

/// Files a new request.
pub fn new_request(ctx: &Context, signer: Option<&str>, record: RequestBody) -> Result<Receipt, WorkflowError> {
    record.validate().map_err(WorkflowError::Usage)?;
    let mut session = ctx.session(signer)?;
    let now = clock::now();
    let actor = session.signer.public();
    let body = serde_json::to_value(&record).map_err(|e| WorkflowError::Usage(e.to_string()))?;
    let statement = Statement::new_at(REQUESTED, &actor, body, &[], now);
    let id = Hash::of(&[&statement.canonical_bytes()?]);
    let candidate = statement.clone();
    let validate = move |ledger: &Ledger, roster: &crate::identity::Roster| -> Result<(), WorkflowError> {
        let snap = Snapshot::with_roster(ledger, roster.clone())?;
        let fact = Fact { pos: snap.size, id, kind: REQUESTED.into(), actor, ts: now, body: candidate.body.clone() };
        let view = RequestView::new(&fact).map_err(WorkflowError::Usage)?;
        snap.rules().allow(Action::Request, &fact, &view).map_err(WorkflowError::Refused)
    };
    session.append(statement, &validate)
}

/// Amends request `req` with `change` applied to its current record.
pub fn amend(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    reason: &str,
    change: &dyn Fn(&mut RequestBody) -> Result<(), String>,
) -> Result<(Receipt, EntryId), WorkflowError> {
    if reason.trim().is_empty() {
        return Err(WorkflowError::Usage("give the reason for the amendment with --reason".into()));
    }
    on_request(ctx, signer, req, AMENDED, &|d: &Draft<'_>| -> Result<Built, WorkflowError> {
        let mut record = d.view.record().clone();
        change(&mut record).map_err(WorkflowError::Usage)?;
        record.validate().map_err(WorkflowError::Usage)?;
        if &record == d.view.record() {
            return Err(WorkflowError::Usage("the amendment changes nothing".into()));
        }
        let previous = d.view.current().id;
        let body =
            AmendedBody { request: d.view.id.to_hex(), previous: previous.to_hex(), reason: reason.into(), record };
        Ok((serde_json::to_value(body).map_err(|e| WorkflowError::Usage(e.to_string()))?, vec![previous]))
    })
}

/// Withdraws request `req`.
pub fn withdraw(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    reason: &str,
) -> Result<(Receipt, EntryId), WorkflowError> {
    if reason.trim().is_empty() {
        return Err(WorkflowError::Usage("give the reason for withdrawing with --reason".into()));
    }
    on_request(ctx, signer, req, WITHDRAWN, &|d: &Draft<'_>| {
        let body = WithdrawnBody { request: d.view.id.to_hex(), reason: reason.into() };
        Ok((serde_json::to_value(body).map_err(|e| WorkflowError::Usage(e.to_string()))?, vec![]))
    })
}
