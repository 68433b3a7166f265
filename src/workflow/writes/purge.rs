//! Purging the stored bytes of an evidence file by a signed entry; its digest stays in the chain.

use super::act::{Built, Draft, append_on};
use crate::audit::bodies::PurgedBody;
use crate::audit::kinds::{EVIDENCE_ATTACHED, EVIDENCE_PURGED};
use crate::evidence::store;
use crate::ledger::{EntryId, Hash};
use crate::workflow::context::{Context, Receipt};
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::evidence::{find_id, load, purge_of};

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
    // Other live evidence may share the bytes; keep them then.
    let mut shared = false;
    session.ledger.visit_kinds(&[EVIDENCE_ATTACHED], |r| -> Result<(), WorkflowError> {
        if !shared
            && r.entry.id != id
            && let Ok(f) = crate::workflow::reads::state::fact_of(&r)
        {
            shared = f.body.str_member("sha256") == Some(digest.to_hex())
                && purge_of(&session.ledger, &f.id).ok().flatten().is_none();
        }
        Ok(())
    })?;
    if !shared {
        store::remove(session.ledger.cache_conn(), &digest)?;
    }
    Ok((receipt, id))
}
