//! Purging the stored bytes of an evidence file by a signed entry; its digest stays in the chain.

use super::act::{Built, Draft, append_on};
use crate::audit::bodies::PurgedBody;
use crate::audit::kinds::EVIDENCE_PURGED;
use crate::ledger::{EntryId, Hash};
use crate::workflow::context::{Context, Receipt};
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::evidence::{find_id, load};

/// Purges the bytes of evidence `prefix` with a signed entry; its digest stays in the chain.
pub(crate) fn purge(
    ctx: &Context,
    signer: Option<&str>,
    prefix: &str,
    reason: &str,
) -> Result<(Receipt, EntryId), WorkflowError> {
    if reason.trim().is_empty() {
        return Err(WorkflowError::Usage("give the reason for the purge (--reason)".into()));
    }
    let mut session = ctx.session(signer)?;
    let id = find_id(&session.ledger, prefix)?;
    let ev = load(&session.ledger, &id)?;
    let digest = ev
        .body
        .sha256
        .as_deref()
        .and_then(Hash::from_hex)
        .ok_or_else(|| WorkflowError::Usage("this evidence is a link; there are no bytes to purge".into()))?;
    let body = serde_json::to_value(PurgedBody {
        request: ev.request.to_hex(),
        evidence: id.to_hex(),
        reason: reason.into(),
    })?;
    let receipt =
        append_on(&mut session, &ev.request, EVIDENCE_PURGED, &|_: &Draft<'_>| -> Result<Built, WorkflowError> {
            Ok((body.clone(), vec![id]))
        })?;
    // Kept while another entry wants the same bytes (live evidence of the same file, a change set), decided
    // and removed in one write transaction: an attach of the same file committing in between keeps them.
    super::remove_unwanted(&session.ledger, &digest)?;
    Ok((receipt, id))
}
