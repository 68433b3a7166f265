//! Filing many requests at once (the synthetic history of `demo --scale`, a backlog brought over from
//! another tool): each request, and the approval planned for it, is built and checked by the same code
//! as `request new` and `approve` (the record's validation, the policy's rule for filing, the decision
//! body an approver signs and the check that it would count), signed by its author's key, and appended
//! in batches: one transaction and one signed checkpoint per batch instead of one per entry.

use super::act::{Draft, check_assessed, fact_for};
use super::decisions::decision_body;
use crate::audit::bodies::Decision;
use crate::audit::kinds::{APPROVED, REQUESTED};
use crate::audit::projection::{Action, RequestView, Rules};
use crate::audit::record::RequestBody;
use crate::ledger::{SignedStatement, Statement};
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::assess::assess;
use crate::workflow::reads::state::Snapshot;
use chrono::{DateTime, Utc};

/// One request to file, when, and the approval to record on it (when, with which comment).
pub(crate) struct Planned {
    pub record: RequestBody,
    pub at: DateTime<Utc>,
    pub approval: Option<(DateTime<Utc>, String)>,
}

/// Files requests as one requester, approved by one approver where planned: each key unlocked once, for
/// every batch filed.
pub(crate) struct Filer {
    session: crate::workflow::context::Session,
    approver: String,
    approver_key: crate::identity::UnlockedKey,
}

impl Filer {
    /// For requests filed as `requester`, approved by `approver`.
    pub(crate) fn new(ctx: &Context, requester: &str, approver: &str) -> Result<Filer, WorkflowError> {
        let session = ctx.session(Some(requester))?;
        let (approver_key, _) = ctx.unlock(approver)?;
        Ok(Filer { session, approver: approver.to_string(), approver_key })
    }

    /// Files every request of `batch` in one transaction, with one checkpoint; refused whole, with nothing
    /// written, at the first request or approval the rules refuse. Returns the number of requests filed.
    pub(crate) fn file(&mut self, batch: Vec<Planned>) -> Result<usize, WorkflowError> {
        if batch.is_empty() {
            return Ok(0);
        }
        let (session, approver_key) = (&mut self.session, &self.approver_key);
        let by = session.signer.public();
        let approving = approver_key.public();
        let domain = session.ledger.domain();
        let snap = Snapshot::load(&session.ledger)?;
        if !snap.roster.is_active(&approving, snap.next) {
            return Err(WorkflowError::not_enrolled(&snap.roster, self.approver.clone(), &approving));
        }
        // Stamped after what the file holds and after the entry ahead of it in the batch (`stamp_after`).
        let mut floor = session.ledger.time_floor_ms()?;
        let mut stamp = |at: DateTime<Utc>| -> DateTime<Utc> {
            let ms = crate::ledger::pos::stamp_after(at.timestamp_millis(), floor);
            floor = ms;
            DateTime::from_timestamp_millis(ms).unwrap_or(at)
        };
        let filed = batch.len();
        let mut signed: Vec<SignedStatement> = Vec::with_capacity(filed * 2);
        for p in batch {
            p.record.validate_to_sign()?;
            let at = stamp(p.at);
            let statement = Statement::new_at(REQUESTED, &by, serde_json::to_value(&p.record)?, &[], at);
            let fact = fact_for(&statement, &snap, by)?;
            let view = RequestView::new(&fact)?;
            snap.rules(&[], None).allow(Action::Request, &fact, &view)?;
            signed.push(statement.sign(session.signer.signing_key(), &domain)?);
            if let Some((when, comment)) = &p.approval {
                let when = stamp(*when);
                let assessment = assess(&session.ledger, &snap, &view)?;
                let draft = Draft {
                    view: &view,
                    snap: &snap,
                    flags: assessment.flag_ids(),
                    changeset_problem: assessment.changeset_problem.clone(),
                    signer: approving,
                    now: when,
                };
                let body = serde_json::to_value(decision_body(&draft, Decision::Approve, comment))?;
                let statement = Statement::new_at(APPROVED, &approving, body, &[fact.id, view.current().id], when);
                check_assessed(&view, &snap, &fact_for(&statement, &snap, approving)?, &assessment)?;
                signed.push(statement.sign(approver_key.signing_key(), &domain)?);
            }
        }
        session.append_checked(&signed, snap.size)?;
        Ok(filed)
    }
}
