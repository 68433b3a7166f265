//! Evidence after attachment: reading it back (recognised and rendered), exporting the original bytes
//! (digest checked), purging a blob's bytes by a signed entry, and checking every stored blob.

use super::act::{Built, Draft, append_on};
use super::context::{Context, Receipt};
use super::error::WorkflowError;
use crate::audit::bodies::{EvidenceBody, PurgedBody};
use crate::audit::kinds::{EVIDENCE_ATTACHED, EVIDENCE_PURGED};
use crate::evidence::recognize::{Parsed, recognize};
use crate::evidence::store;
use crate::ledger::{EntryId, Hash, Ledger, PublicKey};
use chrono::{DateTime, Utc};
use std::path::Path;

/// An evidence entry and what is known about its bytes.
pub struct Evidence {
    pub entry: EntryId,
    pub index: u64,
    pub actor: PublicKey,
    pub ts: DateTime<Utc>,
    pub request: EntryId,
    pub body: EvidenceBody,
    /// The stored bytes, when present and matching their digest.
    pub bytes: Option<Vec<u8>>,
    pub parsed: Option<Parsed>,
    pub purge: Option<Purge>,
}

/// Who purged a blob, when and why.
#[derive(Clone, Debug)]
pub struct Purge {
    pub entry: EntryId,
    pub actor: PublicKey,
    pub ts: DateTime<Utc>,
    pub reason: String,
}

fn find_id(ledger: &Ledger, prefix: &str) -> Result<EntryId, WorkflowError> {
    let p = prefix.trim();
    if p.len() < 4 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WorkflowError::Usage(format!(
            "{:?} is not an evidence id (4+ hex characters; see `rollcall show REQ`)",
            crate::text::safe(p)
        )));
    }
    match ledger.ids_with_prefix(EVIDENCE_ATTACHED, p, 2)?.as_slice() {
        [one] => Ok(*one),
        [] => Err(WorkflowError::NotFound(format!("no evidence has an id starting with {p}"))),
        _ => Err(WorkflowError::Usage(format!("{p} matches more than one evidence entry; give more characters"))),
    }
}

fn purge_of(ledger: &Ledger, id: &EntryId) -> Result<Option<Purge>, WorkflowError> {
    for row in ledger.entries_referencing(id)? {
        if row.kind == EVIDENCE_PURGED {
            let f = super::state::fact_of(&row)?;
            let b: PurgedBody = serde_json::from_value(f.body).map_err(|e| WorkflowError::Usage(e.to_string()))?;
            return Ok(Some(Purge { entry: f.id, actor: f.actor, ts: f.ts, reason: b.reason }));
        }
    }
    Ok(None)
}

fn load(ledger: &Ledger, id: &EntryId) -> Result<Evidence, WorkflowError> {
    let row = ledger.entry(id)?.ok_or_else(|| WorkflowError::NotFound(format!("no evidence {}", id.short(12))))?;
    let f = super::state::fact_of(&row)?;
    let body: EvidenceBody = serde_json::from_value(f.body).map_err(|e| WorkflowError::Usage(e.to_string()))?;
    let request =
        Hash::from_hex(&body.request).ok_or_else(|| WorkflowError::Usage("evidence names no request".into()))?;
    let bytes = match body.sha256.as_deref().and_then(Hash::from_hex) {
        Some(d) => store::get(ledger.cache_conn(), &d)
            .map_err(|e| WorkflowError::Usage(e.to_string()))?
            .filter(|b| Hash::of(&[b]) == d),
        None => None,
    };
    let parsed = bytes.as_ref().map(|b| recognize(body.name.as_deref().unwrap_or(""), b).0);
    Ok(Evidence {
        entry: f.id,
        index: f.index,
        actor: f.actor,
        ts: f.ts,
        request,
        body,
        bytes,
        parsed,
        purge: purge_of(ledger, id)?,
    })
}

/// The evidence whose entry id starts with `prefix`.
pub fn show(ctx: &Context, prefix: &str) -> Result<Evidence, WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let id = find_id(&ledger, prefix)?;
    load(&ledger, &id)
}

/// Writes the original bytes of evidence `prefix` to `out` (never over an existing file).
pub fn export(ctx: &Context, prefix: &str, out: &Path) -> Result<(Evidence, u64), WorkflowError> {
    let ev = show(ctx, prefix)?;
    let Some(bytes) = &ev.bytes else {
        return Err(match (&ev.purge, &ev.body.sha256) {
            (Some(p), _) => WorkflowError::NotFound(format!(
                "the bytes were purged at {} ({})",
                p.ts.format("%Y-%m-%d %H:%M UTC"),
                crate::text::safe(&p.reason)
            )),
            (None, None) => WorkflowError::NotFound("this evidence is a link; there are no bytes to export".into()),
            (None, Some(_)) => WorkflowError::Refused(
                "the stored bytes are missing or do not match their digest; run `rollcall verify`".into(),
            ),
        });
    };
    let mut f = crate::paths::private_file_options()
        .create_new(true)
        .open(out)
        .map_err(|e| WorkflowError::Read(out.to_path_buf(), e))?;
    std::io::Write::write_all(&mut f, bytes).map_err(|e| WorkflowError::Read(out.to_path_buf(), e))?;
    let n = bytes.len() as u64;
    Ok((ev, n))
}

/// Purges the bytes of evidence `prefix` with a signed entry; its digest stays in the chain.
pub fn purge(
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
    let body =
        serde_json::to_value(PurgedBody { request: ev.request.to_hex(), evidence: id.to_hex(), reason: reason.into() })
            .map_err(|e| WorkflowError::Usage(e.to_string()))?;
    let receipt =
        append_on(&mut session, &ev.request, EVIDENCE_PURGED, &|_: &Draft<'_>| -> Result<Built, WorkflowError> {
            Ok((body.clone(), vec![id]))
        })?;
    // Other live evidence may share the bytes; keep them then.
    let shared = session
        .ledger
        .entries_of_kinds(&[EVIDENCE_ATTACHED])?
        .iter()
        .filter(|r| r.entry.id != id)
        .filter_map(|r| super::state::fact_of(r).ok())
        .any(|f| {
            f.body.get("sha256").and_then(|s| s.as_str()) == Some(&digest.to_hex())
                && purge_of(&session.ledger, &f.id).ok().flatten().is_none()
        });
    if !shared {
        store::remove(session.ledger.cache_conn(), &digest).map_err(|e| WorkflowError::Usage(e.to_string()))?;
    }
    Ok((receipt, id))
}

/// The outcome of checking every evidence blob.
#[derive(Clone, Debug, Default)]
pub struct BlobReport {
    pub checked: u64,
    pub purged: Vec<(EntryId, Purge)>,
    /// The first blob that is missing without a purge, or does not match its digest.
    pub problem: Option<(EntryId, String)>,
    /// Blobs named by entries of other origins that were imported without them (`--no-blobs`).
    pub not_held: u64,
}

/// Checks the stored bytes of every evidence entry against the digest in its signed entry.
pub fn check_blobs(ledger: &Ledger) -> Result<BlobReport, WorkflowError> {
    let mut report = BlobReport::default();
    let own = ledger.own_origin().id;
    for row in ledger.entries_of_kinds(&[EVIDENCE_ATTACHED])? {
        let f = super::state::fact_of(&row)?;
        let Some(digest) = f.body.get("sha256").and_then(|s| s.as_str()).and_then(Hash::from_hex) else { continue };
        let purge = purge_of(ledger, &f.id)?;
        match (store::check(ledger.cache_conn(), &digest).map_err(|e| WorkflowError::Usage(e.to_string()))?, purge) {
            (_, Some(p)) => report.purged.push((f.id, p)),
            (Some(true), None) => report.checked += 1,
            (Some(false), None) => {
                report.problem.get_or_insert((
                    f.id,
                    "the stored evidence bytes do not match the digest in the signed entry".into(),
                ));
            }
            (None, None) if row.origin != own => report.not_held += 1,
            (None, None) => {
                report
                    .problem
                    .get_or_insert((f.id, "the evidence bytes are missing and no signed entry purged them".into()));
            }
        }
    }
    // The change sets requests name by digest.
    for row in ledger.entries_of_kinds(&[crate::audit::kinds::REQUESTED, crate::audit::kinds::AMENDED])? {
        let f = super::state::fact_of(&row)?;
        let record = if f.kind == crate::audit::kinds::AMENDED {
            f.body.get("record").cloned().unwrap_or_default()
        } else {
            f.body
        };
        let Some(digest) =
            record.get("changeset").and_then(|c| c.get("sha256")).and_then(|s| s.as_str()).and_then(Hash::from_hex)
        else {
            continue;
        };
        match store::check(ledger.cache_conn(), &digest).map_err(|e| WorkflowError::Usage(e.to_string()))? {
            Some(true) => report.checked += 1,
            Some(false) => {
                report.problem.get_or_insert((
                    f.id,
                    "the stored change set does not match the digest in the signed record".into(),
                ));
            }
            None if row.origin != own => report.not_held += 1,
            None => {
                report.problem.get_or_insert((f.id, "the change set the record names is missing".into()));
            }
        }
    }
    Ok(report)
}
