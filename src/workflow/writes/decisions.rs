//! Approving, rejecting, and invoking the emergency path: signatures over exactly what was reviewed.

use super::act::{Built, Draft, on_request};
use crate::audit::bodies::{Decision, DecisionBody, EmergencyBody};
use crate::audit::kinds::{APPROVED, EMERGENCY, REJECTED};
use crate::ledger::EntryId;
use crate::workflow::context::{Context, Receipt};
use crate::workflow::error::WorkflowError;

/// What an approver signs, read from the request as it stands: version, operation digest, the evidence
/// in front of them, the policy in force, the flags shown.
pub fn decision_body(d: &Draft<'_>, decision: Decision, comment: &str) -> DecisionBody {
    let (policy_id, _) = d.snap.policies.current();
    DecisionBody {
        request: d.view.id.to_hex(),
        version: d.view.current().id.to_hex(),
        revert_digest: d.view.record().revert_digest(),
        evidence: d.view.evidence_ids().iter().map(|e| e.to_hex()).collect(),
        policy: policy_id.to_hex(),
        decision,
        comment: comment.to_string(),
        flags: d.flags.clone(),
    }
}

/// Why an approval is refused while the request's change set cannot be read here (`problem` says why):
/// the console says it before anything is typed, `approve` refuses with it.
pub(crate) fn unseen_changeset(problem: &str) -> String {
    format!(
        "{}: its security flags cannot be shown here, so an approval would not say what it saw (sync or import \
         a bundle that carries it, then approve)",
        crate::text::safe(problem)
    )
}

/// Approves or rejects request `req`. The comment is required.
pub(crate) fn decide(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    decision: Decision,
    comment: &str,
) -> Result<(Receipt, EntryId), WorkflowError> {
    if comment.trim().is_empty() {
        return Err(WorkflowError::Usage("a decision needs a comment (--comment)".into()));
    }
    let kind = match decision {
        Decision::Approve => APPROVED,
        Decision::Reject => REJECTED,
    };
    on_request(ctx, signer, req, kind, &|d: &Draft<'_>| -> Result<Built, WorkflowError> {
        // An approval signs the flags shown: without the change set's bytes its flags are not, and the
        // approval would be stale wherever the bytes are (a rejection asks nothing of them).
        if let (Decision::Approve, Some(problem)) = (decision, &d.changeset_problem) {
            return Err(WorkflowError::Refused(unseen_changeset(problem)));
        }
        let body = decision_body(d, decision, comment);
        Ok((serde_json::to_value(body)?, vec![d.view.current().id]))
    })
}

/// Invokes the emergency (break-glass) path on request `req`.
pub(crate) fn emergency(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    reason: &str,
) -> Result<(Receipt, EntryId), WorkflowError> {
    if reason.trim().is_empty() {
        return Err(WorkflowError::Usage("the emergency path needs a reason (--reason)".into()));
    }
    let (mut rec, id) = on_request(ctx, signer, req, EMERGENCY, &|d: &Draft<'_>| -> Result<Built, WorkflowError> {
        let (_, policy) = d.snap.policies.current();
        let due = policy.emergency.review_due(d.now);
        let body = EmergencyBody {
            request: d.view.id.to_hex(),
            version: d.view.current().id.to_hex(),
            reason: reason.to_string(),
            review_due: crate::ledger::statement::format_ts(due),
        };
        Ok((serde_json::to_value(body)?, vec![d.view.current().id]))
    })?;
    // Committed: escalate (a failing command costs a warning, never the entry).
    rec.warnings.extend(crate::workflow::notify::emergency_invoked(ctx, &id, &rec.entry_id));
    Ok((rec, id))
}
