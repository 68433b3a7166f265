//! Reading requests back: resolving an id prefix, turning stored entries into facts, folding a request
//! with the policy's rules, and evaluating it. Everything here decides from signed entries.

use super::assess::Assessment;
pub use super::snapshot::Snapshot;
use crate::audit::RequestBody;
use crate::audit::fact_body::Body;
use crate::audit::kinds::REQUESTED;
use crate::audit::projection::{Fact, RequestView, RunJudgement};
use crate::ledger::inclusion::Unchecked;
use crate::ledger::{EntryId, Hash, Ledger, LogRow, Pos, PublicKey};
use crate::policy::evaluate::{Counted, Evaluation, decisions, evaluate};
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Utc};

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

/// Folds request `id` from its entries under the policy's rules, an execution judged by the request's
/// security flags and tier as they stood when it was met (so evidence the policy requires per flag gates
/// execution; [`fold_facts`]).
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
    if !check && row.entry.id != *id {
        // Unchecked (the request index): a statement edited in the file is left out, as a rebuild of the
        // index leaves it out ([`crate::ledger::Ledger::ids_of_kind`]); checked, it fails its check below.
        return Err(WorkflowError::NotFound(format!("request {} does not hash to its id", id.short(12))));
    }
    if check && row.entry.id != *id {
        // Named by the id it is stored (and asked for) under, as `verify` names it, and said for what it is.
        return Err(WorkflowError::Refused(format!(
            "request {} fails its check: its statement does not hash to its id (its bytes were changed after it \
             was signed); `rollcall verify` names the entry",
            id.short(12)
        )));
    }
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
    fold_facts(ledger, snap, &request, &related)
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

/// Folds a request from its facts under the policy's rules ([`FoldRules`]).
pub(crate) fn fold_facts(
    ledger: &Ledger,
    snap: &Snapshot,
    request: &Fact,
    related: &[Fact],
) -> Result<RequestView, WorkflowError> {
    let own = request.body.read::<RequestBody>().ok();
    let rules = FoldRules { ledger, snap, failed: std::cell::RefCell::new(None), judged: Default::default() };
    let mut view = RequestView::fold_with_record(request, own, related, &rules)
        .map_err(|e| WorkflowError::Refused(e.to_string()))?;
    if let Some(e) = rules.failed.into_inner() {
        return Err(e);
    }
    // What the first run that counted was judged under (an execution the rules allowed may still have been
    // refused by the fold, so it is found by its position).
    view.first_run = view
        .executions
        .first()
        .and_then(|run| rules.judged.into_inner().into_iter().find(|(pos, _)| *pos == run.pos))
        .map(|(_, j)| j);
    Ok(view)
}

/// The lifecycle rules a fold applies: the policy's ([`Snapshot::rules`]). Only an execution is judged by
/// the request's security flags and tier (the gate at its time); they are assessed when one is met, from
/// the request as folded up to it — its current record, its emergency and test evidence so far — exactly
/// as `gate` and the command that records an execution assess them. (Assessed once per request from its
/// last stored record instead, an amendment the fold did not admit, or the flags of the emergency and the
/// test evidence left out, could lower the tier and admit an execution the gate refused.) A failure to
/// assess is the fold's error, not a refusal of the entry.
struct FoldRules<'a> {
    ledger: &'a Ledger,
    snap: &'a Snapshot,
    failed: std::cell::RefCell<Option<WorkflowError>>,
    /// The flags and tier of each execution the rules allowed, by position.
    judged: std::cell::RefCell<Vec<(Pos, RunJudgement)>>,
}

impl FoldRules<'_> {
    /// The positions other than its first at which a log holds `f` and `keep` wants, each only as a row
    /// that passes its check when rows are checked (§7.5); `None` (the failure kept for the fold) when the
    /// file could not be read.
    fn other_positions(&self, f: &Fact, keep: impl Fn(crate::ledger::Pos) -> bool) -> Option<Vec<crate::ledger::Pos>> {
        let fail = |e: crate::ledger::LedgerError| {
            self.failed.borrow_mut().get_or_insert(e.into());
            None
        };
        let rows = match self.ledger.entry_rows(&f.id) {
            Ok(rows) => rows,
            Err(e) => return fail(e),
        };
        let mut checker = crate::ledger::inclusion::Checker::new(self.ledger);
        let mut out = Vec::new();
        for r in rows.iter().filter(|r| r.pos != f.pos && keep(r.pos)) {
            if self.snap.check_rows {
                match checker.check(r) {
                    Ok(_) => {}
                    Err(crate::ledger::inclusion::Unchecked::Fails(_)) => continue,
                    Err(crate::ledger::inclusion::Unchecked::Unreadable(e)) => return fail(e),
                }
            }
            out.push(r.pos);
        }
        Some(out)
    }
}

impl crate::audit::projection::Rules for FoldRules<'_> {
    /// At its first position, or at any other a log holds it at (an entry copied into a log the executing
    /// one never saw takes its first position there, and must not leave the past of what had seen it).
    fn before(&self, earlier: &Fact, later: crate::ledger::Pos) -> bool {
        let roster = &self.snap.roster;
        roster.happened_before(earlier.pos, later)
            || self.other_positions(earlier, |p| roster.happened_before(p, later)).is_some_and(|p| !p.is_empty())
    }

    /// At every position a log holds `later` at, its first included.
    fn before_all(&self, earlier: &Fact, later: &Fact) -> bool {
        self.before(earlier, later.pos)
            && self.other_positions(later, |_| true).is_some_and(|ps| ps.iter().all(|&p| self.before(earlier, p)))
    }

    fn may_settle(&self, review: &Fact) -> bool {
        self.snap.rules(&[], None).may_settle(review)
    }

    fn same_member(&self, a: &PublicKey, b: &PublicKey) -> bool {
        self.snap.roster.same_member(a, b)
    }

    fn allow(
        &self,
        action: crate::audit::projection::Action,
        f: &Fact,
        view: &RequestView,
    ) -> Result<(), crate::audit::projection::Refusal> {
        if action != crate::audit::projection::Action::Execute {
            return self.snap.rules(&[], None).allow(action, f, view);
        }
        // Judged where it was signed: entries signed later do not change whether it counted.
        match super::assess::assess_at(self.ledger, self.snap, view, f.pos) {
            Ok(a) => {
                let flags = a.flag_ids();
                let allowed = self.snap.rules(&flags, Some(&a.risk.tier)).allow(action, f, view);
                if allowed.is_ok() {
                    self.judged.borrow_mut().push((f.pos, RunJudgement { flags, tier: a.risk.tier }));
                }
                allowed
            }
            Err(e) => {
                let refusal = crate::audit::projection::Refusal(format!("the request could not be assessed: {e}"));
                self.failed.borrow_mut().get_or_insert(e);
                Err(refusal)
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::kinds::{AMENDED, APPROVED, EXECUTED};
    use crate::audit::record::{Category, Risk};
    use serde_json::json;

    /// An entry of `kind` by `actor` that would be signed `n` places after the ledger's end, at `now`.
    fn to_sign(
        snap: &Snapshot,
        n: u128,
        kind: &str,
        actor: crate::ledger::PublicKey,
        now: DateTime<Utc>,
        body: serde_json::Value,
    ) -> Fact {
        Fact {
            pos: snap.next + n,
            index: 0,
            id: Hash::of(&[&n.to_be_bytes(), kind.as_bytes()]),
            kind: kind.into(),
            actor,
            ts: now,
            body: Body::of(&body),
        }
    }

    /// A fold judges an execution by the request as it stands: its current record's risk score (here a
    /// record declared low whose score is medium, so `test` evidence is required), not by the record of a
    /// later amendment the fold did not admit (signed by someone who may not amend, with a record that
    /// scores low). Before, the flags and tier came from the last stored amendment, admitted or not, and
    /// an execution the gate refused counted.
    #[test]
    fn an_execution_is_judged_by_the_record_in_force_not_by_an_amendment_that_did_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let demo = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap();
        let ledger = demo.context().open().unwrap();
        let snap = Snapshot::load(&ledger).unwrap();
        let key = |name: &str| snap.roster.member_by_name(name).unwrap().key;
        let now = crate::workflow::clock::now();
        let mut record = crate::audit::record::tests_support::sample();
        (record.category, record.env, record.risk) = (Category::SecurityPatch, "production".into(), Risk::Low);
        let mut benign = record.clone();
        (benign.category, benign.env) = (Category::Other, "dev".into());
        let fact =
            |n: u128, kind: &str, who: &str, body: serde_json::Value| to_sign(&snap, n, kind, key(who), now, body);
        let request = fact(0, REQUESTED, "bob", serde_json::to_value(&record).unwrap());
        let r = request.id.to_hex();
        let digest = record.revert_digest();
        let policy = snap.policies.current().0.to_hex();
        let approval = fact(
            1,
            APPROVED,
            "carol",
            json!({"request": r, "version": r, "revert_digest": digest, "evidence": [], "policy": policy,
                "decision": "approve", "comment": "ok"}),
        );
        let amendment =
            fact(2, AMENDED, "carol", json!({"request": r, "previous": r, "reason": "lower it", "record": benign}));
        let execution = fact(
            3,
            EXECUTED,
            "erin",
            json!({"request": r, "version": r, "revert_digest": digest, "env": "production", "from": "42",
                "to": "41", "command": ["helm", "rollback", "payments", "41"], "outcome": "succeeded"}),
        );
        let view = fold_facts(&ledger, &snap, &request, &[approval, amendment, execution]).unwrap();
        assert!(view.timeline[2].ignored.is_some(), "carol may not amend bob's request");
        let executed = &view.timeline[3];
        let why = executed.ignored.as_deref().expect("the execution does not count");
        assert!(why.contains("missing evidence: test"), "{why}");
        assert_ne!(view.phase, crate::audit::projection::Phase::Executed);
    }

    /// A fold that meets an execution assesses the request where it ran; when a row that assessment relies
    /// on fails its check (the demo's `mark-bad` of the digest this revert brings back, its signature
    /// changed in the file), the fold fails naming the row. It does not list the execution as refused
    /// ("could not be assessed"), which would read as a verdict on the revert.
    #[test]
    fn a_fold_whose_execution_cannot_be_assessed_fails() {
        let dir = tempfile::tempdir().unwrap();
        let demo = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap();
        let ctx = demo.context();
        let raw = rusqlite::Connection::open(&ctx.ledger_path).unwrap();
        raw.execute_batch(
            "DROP TRIGGER entries_no_update;
             UPDATE entries SET signature = zeroblob(64) WHERE kind = 'artifact.marked-bad'",
        )
        .unwrap();
        drop(raw);
        let ledger = ctx.open().unwrap();
        let snap = Snapshot::load(&ledger).unwrap();
        let key = |name: &str| snap.roster.member_by_name(name).unwrap().key;
        let now = crate::workflow::clock::now();
        let marked =
            "registry.example.com/checkout@sha256:0000000000000000000000000000000000000000000000000000000000001015";
        let mut record = crate::audit::record::tests_support::sample();
        record.revert.to = marked.into();
        let fact =
            |n: u128, kind: &str, who: &str, body: serde_json::Value| to_sign(&snap, n, kind, key(who), now, body);
        let request = fact(0, REQUESTED, "bob", serde_json::to_value(&record).unwrap());
        let r = request.id.to_hex();
        let digest = record.revert_digest();
        let execution = fact(
            1,
            EXECUTED,
            "erin",
            json!({"request": r, "version": r, "revert_digest": digest, "env": "production", "from": "42",
                "to": marked, "command": ["helm", "rollback", "payments", "41"], "outcome": "succeeded"}),
        );
        let err = fold_facts(&ledger, &snap, &request, &[execution]).map(|v| v.timeline.len()).unwrap_err();
        assert!(matches!(&err, WorkflowError::Refused(why) if why.contains("as known bad fails its check")), "{err}");
    }
}
