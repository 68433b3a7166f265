//! Reading requests back: resolving an id prefix, turning stored entries into facts, folding a request
//! with the policy's rules, and evaluating it. Everything here decides from signed entries.

use super::assess::Assessment;
pub use super::snapshot::Snapshot;
use crate::audit::RequestBody;
use crate::audit::fact_body::Body;
use crate::audit::kinds::REQUESTED;
use crate::audit::projection::{Fact, RequestView};
use crate::ledger::inclusion::Unchecked;
use crate::ledger::{EntryId, Hash, Ledger, LogRow, Pos, PublicKey};
use crate::policy::evaluate::{Counted, Evaluation, decisions, evaluate};
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The kind a fact is given when its statement cannot be parsed (no entry is signed with it).
pub(crate) const UNREADABLE: &str = "(unreadable)";

/// Whether the stored statement `bytes` of entry `id` can be read: false for what [`fact_of`] makes an
/// [`UNREADABLE`] fact.
pub(crate) fn readable(id: EntryId, bytes: Vec<u8>) -> bool {
    crate::ledger::SignedStatement { id, bytes, signature: [0; 64] }.readable()
}

/// Decodes a stored entry for the projection.
/// An entry no reader can parse (stored before imports checked the statement limits, or written behind
/// the ledger's back) is kept as a fact of kind [`UNREADABLE`] with an empty body: every view goes on,
/// shows it as unreadable, and `verify` names it.
pub(crate) fn fact_of(row: &LogRow) -> Result<Fact, WorkflowError> {
    let invalid_actor = || WorkflowError::Usage("entry has an invalid actor".into());
    let (kind, actor, ts, body) = match row.entry.view() {
        Ok(st) => (
            st.kind.into_owned(),
            PublicKey::parse(&st.actor).ok_or_else(invalid_actor)?,
            st.ts,
            Body::from_raw(st.body),
        ),
        Err(_) => (
            UNREADABLE.to_string(),
            PublicKey::parse(&row.actor).ok_or_else(invalid_actor)?,
            row.ts.as_str().into(),
            Body::null(),
        ),
    };
    fact_at(row.pos, row.index, row.entry.id, kind, actor, &ts, body)
}

/// The fact of a statement a walk has just verified whole (`bytes`, entry `id` at `pos`, `index` in its
/// log, signed by `actor`): what [`fact_of`] reads from its stored row, its kind, time and body read again.
pub(crate) fn fact_of_verified(
    pos: Pos,
    index: u64,
    id: EntryId,
    actor: PublicKey,
    bytes: &[u8],
) -> Result<Fact, WorkflowError> {
    let st = crate::ledger::statement::reread(bytes)
        .map_err(|e| WorkflowError::Refused(format!("entry {} cannot be read: {e}", id.short(12))))?;
    fact_at(pos, index, id, st.kind.into_owned(), actor, &st.ts, Body::from_raw(st.body))
}

/// A fact from its parts, its time `ts` parsed.
fn fact_at(
    pos: Pos,
    index: u64,
    id: EntryId,
    kind: String,
    actor: PublicKey,
    ts: &str,
    body: Body,
) -> Result<Fact, WorkflowError> {
    let ts = crate::ledger::statement::parse_ts(ts)
        .ok_or_else(|| WorkflowError::Usage("entry has an invalid time".into()))?;
    Ok(Fact { pos, index, id, kind, actor, ts, body })
}

/// The request whose id starts with `prefix` (at least 4 hex characters, unique).
pub(crate) fn resolve_request(ledger: &Ledger, prefix: &str) -> Result<EntryId, WorkflowError> {
    let p = prefix.trim();
    if p.len() < 4 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WorkflowError::Usage(format!(
            "{:?} is not a request id: give at least 4 hex characters of it (see `rollcall list`)",
            crate::text::safe(p)
        )));
    }
    let ids = ledger.ids_with_prefix(REQUESTED, p, 2)?;
    match ids.as_slice() {
        [one] => Ok(*one),
        [] => Err(WorkflowError::NotFound(format!("no request has an id starting with {p}"))),
        _ => Err(WorkflowError::Usage(format!("{p} matches more than one request; give more characters"))),
    }
}

/// Folds request `id` from its entries under the policy's rules, with the static security flags of its
/// latest record (so evidence the policy requires per flag gates execution).
///
/// Every row the view is built from is checked first — its signature, and its inclusion under a signed
/// checkpoint of its origin — so a decision never rests on a row written behind the ledger's back; a row
/// that fails refuses the whole request, naming the row.
pub(crate) fn load_view(ledger: &Ledger, snap: &Snapshot, id: &EntryId) -> Result<RequestView, WorkflowError> {
    view_of(ledger, snap, id, true)
}

/// As [`load_view`] without the per-row checks: for `verify`, which has just checked every row, and for the
/// request index (a cache that decides nothing; `gate`, `show` and the console's detail decide from
/// checked rows).
pub(crate) fn load_view_unchecked(
    ledger: &Ledger,
    snap: &Snapshot,
    id: &EntryId,
) -> Result<RequestView, WorkflowError> {
    view_of(ledger, snap, id, false)
}

fn view_of(ledger: &Ledger, snap: &Snapshot, id: &EntryId, check: bool) -> Result<RequestView, WorkflowError> {
    let (row, rows) = request_rows(ledger, id)?;
    if check {
        let mut checker = crate::ledger::inclusion::Checker::new(ledger);
        for r in std::iter::once(&row).chain(&rows) {
            checker.check(r).map_err(|e| match e {
                Unchecked::Fails(why) => {
                    WorkflowError::Refused(format!("a row of request {} fails its check: {why}", id.short(12)))
                }
                Unchecked::Unreadable(e) => e.into(),
            })?;
        }
    }
    let request = fact_of(&row)?;
    let related = rows.iter().map(fact_of).collect::<Result<Vec<_>, _>>()?;
    fold_facts(ledger, snap, id, &request, &related)
}

/// The stored rows of request `id`: its own, and those of every entry referencing it, in union order.
pub(crate) fn request_rows(ledger: &Ledger, id: &EntryId) -> Result<(LogRow, Vec<LogRow>), WorkflowError> {
    let row = ledger.entry(id)?.ok_or_else(|| WorkflowError::NotFound(format!("no request {}", id.short(12))))?;
    Ok((row, ledger.entries_referencing(id)?))
}

/// The request an entry's body names: its `request` member, or its `on` member when it has none.
pub(crate) fn request_named(body: &crate::audit::fact_body::Body) -> Option<EntryId> {
    let named = body.member("request").or_else(|| body.member("on"))?;
    Hash::from_hex(named.as_str()?)
}

/// The digest of the change set named by the record a request entry or an amendment carries (other
/// kinds carry none).
pub(crate) fn changeset_of(fact: &Fact) -> Option<EntryId> {
    let changeset = match fact.kind.as_str() {
        REQUESTED => fact.body.member("changeset")?,
        crate::audit::kinds::AMENDED => fact.body.member("record")?.get_mut("changeset")?.take(),
        _ => return None,
    };
    changeset.get("sha256")?.as_str().and_then(Hash::from_hex)
}

/// Folds request `id` from its facts under the policy's rules, with the static security flags of its
/// latest record.
pub(crate) fn fold_facts(
    ledger: &Ledger,
    snap: &Snapshot,
    id: &EntryId,
    request: &Fact,
    related: &[Fact],
) -> Result<RequestView, WorkflowError> {
    // The request's own record is read once: for the flags when no amendment replaced it, and for the view.
    let own = request.body.read::<RequestBody>().ok();
    let amended = related
        .iter()
        .rev()
        .find(|f| f.kind == crate::audit::kinds::AMENDED)
        .and_then(|f| RequestBody::deserialize(f.body.member("record")?).ok());
    // The flags and tier only judge the entries referencing the request: a request alone is judged by
    // who filed it and its temporary window (`Action::Request`), so a request nothing references yet needs
    // no assessment here.
    let (flags, tier) = match amended.as_ref().or(own.as_ref()) {
        Some(r) if !related.is_empty() => {
            let a = super::assess::assess_record(ledger, id, r, None, snap)?;
            (a.flag_ids(), Some(a.risk.tier))
        }
        _ => (Vec::new(), None),
    };
    RequestView::fold_with_record(request, own, related, &snap.rules(&flags, tier.as_deref()))
        .map_err(|e| WorkflowError::Refused(e.to_string()))
}

/// A request's evaluation now, under the policy in force now, with its security assessment.
pub(crate) struct Judged {
    pub eval: Evaluation,
    pub assessment: Assessment,
}

/// Evaluates `view` at `now` with its full security assessment.
pub(crate) fn evaluate_now(
    ledger: &Ledger,
    view: &RequestView,
    snap: &Snapshot,
    now: DateTime<Utc>,
) -> Result<Judged, WorkflowError> {
    let assessment = super::assess::assess(ledger, snap, view)?;
    let flags = assessment.flag_ids();
    let eval = evaluate(view, &snap.context(&flags, Some(&assessment.risk.tier)), now, crate::ledger::POS_MAX);
    Ok(Judged { eval, assessment })
}

/// The decisions on `view`, each with whether it counts at `now` under the policy in force now, with the
/// flags and tier of its full assessment: the part of [`evaluate_now`] `verify` reports.
pub(crate) fn decisions_now(
    ledger: &Ledger,
    view: &RequestView,
    snap: &Snapshot,
    now: DateTime<Utc>,
) -> Result<Vec<Counted>, WorkflowError> {
    // Without decisions there is nothing to count (and no assessment to make for it).
    if view.decisions.is_empty() {
        return Ok(Vec::new());
    }
    let assessment = super::assess::assess(ledger, snap, view)?;
    let flags = assessment.flag_ids();
    Ok(decisions(view, &snap.context(&flags, Some(&assessment.risk.tier)), now, crate::ledger::POS_MAX))
}

/// Every request id in log order.
pub(crate) fn all_requests(ledger: &Ledger) -> Result<Vec<(crate::ledger::Pos, EntryId)>, WorkflowError> {
    Ok(ledger.ids_of_kind(REQUESTED)?)
}
