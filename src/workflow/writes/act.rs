//! The one way an entry about a request is recorded: build the body from the request's current state,
//! sign it, and append it only if — checked again against the log exactly as it will be extended — the
//! projection would accept it and the policy would count it. Refusals carry the reason and write nothing.

use crate::audit::projection::{Fact, RequestView};
use crate::ledger::{EntryId, Hash, Ledger, PublicKey, Statement};
use crate::policy::evaluate::evaluate;
use crate::workflow::context::{Context, Receipt, Session};
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::assess::Assessment;
use crate::workflow::reads::state::{Snapshot, load_view, resolve_request};
use chrono::{DateTime, Utc};

/// What a builder gets to decide the body.
pub struct Draft<'a> {
    pub view: &'a RequestView,
    pub snap: &'a Snapshot,
    /// Ids of the security flags the request raises now (what an approver is shown).
    pub flags: Vec<String>,
    /// Why the request's change set cannot be read here, if it cannot (its flags are then not among
    /// `flags`).
    pub changeset_problem: Option<String>,
    pub signer: PublicKey,
    pub now: DateTime<Utc>,
}

/// A body and the refs beyond the request itself.
pub(crate) type Built = (serde_json::Value, Vec<EntryId>);

/// Checks that `fact` would count if appended to `view` now; for decisions, that it would be counted by
/// the policy.
pub(crate) fn check_candidate(
    ledger: &Ledger,
    view: &RequestView,
    snap: &Snapshot,
    fact: &Fact,
) -> Result<(), WorkflowError> {
    let assessment = crate::workflow::reads::assess::assess(ledger, snap, view)?;
    check_assessed(view, snap, fact, &assessment)
}

/// [`check_candidate`] with the request's assessment already made. A decision changes neither the
/// evidence nor the emergency the assessment reads, so the evaluations before and after it share one.
pub(crate) fn check_assessed(
    view: &RequestView,
    snap: &Snapshot,
    fact: &Fact,
    assessment: &Assessment,
) -> Result<(), WorkflowError> {
    let flags = assessment.flag_ids();
    let tier = Some(assessment.risk.tier.as_str());
    let mut v = view.clone();
    v.apply(fact, &snap.rules(&flags, tier));
    if let Some(why) = v.timeline.last().and_then(|t| t.ignored.clone()) {
        return Err(WorkflowError::Refused(why));
    }
    if matches!(fact.kind.as_str(), crate::audit::kinds::APPROVED | crate::audit::kinds::REJECTED) {
        let before = evaluate(view, &snap.context(&flags, tier), fact.ts, crate::ledger::POS_MAX);
        let after = evaluate(&v, &snap.context(&flags, tier), fact.ts, crate::ledger::POS_MAX);
        let mine = after.decisions.iter().find(|d| d.entry == fact.id);
        // A decision that does not count is still written when it lifts a rejection of its signer's that
        // does (a rejecter whose approval cannot count here: a role of another tier, an amendment of theirs),
        // or the rejection could never be lifted.
        let own_rejection_counts = |e: &crate::policy::evaluate::Evaluation| {
            e.decisions.iter().any(|d| {
                d.decision == crate::audit::bodies::Decision::Reject
                    && d.excluded.is_none()
                    && snap.roster.same_member(&d.actor, &fact.actor)
            })
        };
        let lifts_own_rejection = fact.kind == crate::audit::kinds::APPROVED
            && own_rejection_counts(&before)
            && !own_rejection_counts(&after);
        if let Some(why) = mine.and_then(|d| d.excluded.clone())
            && !lifts_own_rejection
        {
            return Err(WorkflowError::Refused(format!("this decision would not count: {why}")));
        }
        let same = before.decisions.iter().any(|d| {
            snap.roster.same_member(&d.actor, &fact.actor)
                && d.excluded.is_none()
                && mine.is_some_and(|m| m.decision == d.decision)
        });
        if same {
            return Err(WorkflowError::Refused(format!(
                "{} already decided the same way on this version; a member counts once",
                snap.roster.display(&fact.actor)
            )));
        }
    }
    Ok(())
}

/// The fact `statement`, signed by `actor`, would be as the next entry of the own log: at its own time,
/// where the ledger judges it.
pub(crate) fn fact_for(statement: &Statement, snap: &Snapshot, actor: PublicKey) -> Result<Fact, WorkflowError> {
    let ts = crate::ledger::statement::parse_ts(&statement.ts)
        .ok_or_else(|| crate::ledger::StatementError::Time(statement.ts.clone()))?;
    Ok(Fact {
        pos: snap.next,
        index: snap.size,
        id: Hash::of(&[&statement.canonical_bytes()?]),
        kind: statement.kind.clone(),
        actor,
        ts,
        body: crate::audit::fact_body::Body::of(&statement.body),
    })
}

/// Records a `kind` entry on request `req` (an id prefix) signed by `signer`.
pub(crate) fn on_request(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    kind: &str,
    build: &dyn Fn(&Draft<'_>) -> Result<Built, WorkflowError>,
) -> Result<(Receipt, EntryId), WorkflowError> {
    // The id is checked before the key is unlocked: a mistyped id costs no passphrase.
    resolve_request(&ctx.open_read_only()?, req)?;
    let mut session = ctx.session(signer)?;
    let id = resolve_request(&session.ledger, req)?;
    let receipt = append_on(&mut session, &id, kind, build)?;
    Ok((receipt, id))
}

/// Whether a `kind` entry built by `build` on request `id` would be accepted now, as [`append_on`] checks it,
/// without signing or writing anything: for a command that records another entry first and must not leave
/// it behind when this one is refused.
pub(crate) fn check_on(
    session: &Session,
    id: &EntryId,
    kind: &str,
    build: &dyn Fn(&Draft<'_>) -> Result<Built, WorkflowError>,
) -> Result<(), WorkflowError> {
    let now = session.stamp_now()?;
    let (statement, snap, view) = drafted(session, id, kind, build, now)?;
    let fact = fact_for(&statement, &snap, session.signer.public())?;
    check_candidate(&session.ledger, &view, &snap, &fact)
}

/// The statement `build` makes for a `kind` entry on request `id` at `now`, with the snapshot and the
/// request's view it was made from.
fn drafted(
    session: &Session,
    id: &EntryId,
    kind: &str,
    build: &dyn Fn(&Draft<'_>) -> Result<Built, WorkflowError>,
    now: DateTime<Utc>,
) -> Result<(Statement, Snapshot, RequestView), WorkflowError> {
    let signer = session.signer.public();
    let snap = Snapshot::load(&session.ledger)?;
    let view = load_view(&session.ledger, &snap, id)?;
    let assessment = crate::workflow::reads::assess::assess(&session.ledger, &snap, &view)?;
    let (flags, changeset_problem) = (assessment.flag_ids(), assessment.changeset_problem);
    let (body, extra) = build(&Draft { view: &view, snap: &snap, flags, changeset_problem, signer, now })?;
    let mut refs = vec![*id];
    refs.extend(extra);
    Ok((Statement::new_at(kind, &signer, body, &refs, now), snap, view))
}

/// As [`on_request`], inside an open session, for a resolved request id.
pub fn append_on(
    session: &mut Session,
    id: &EntryId,
    kind: &str,
    build: &dyn Fn(&Draft<'_>) -> Result<Built, WorkflowError>,
) -> Result<Receipt, WorkflowError> {
    append_naming_on(session, id, kind, build, &[])
}

/// [`append_on`] of an entry naming the stored bytes `held` (see [`Session::append`]).
pub(crate) fn append_naming_on(
    session: &mut Session,
    id: &EntryId,
    kind: &str,
    build: &dyn Fn(&Draft<'_>) -> Result<Built, WorkflowError>,
    held: &[Hash],
) -> Result<Receipt, WorkflowError> {
    let now = session.stamp_now()?;
    let signer = session.signer.public();
    let statement = drafted(session, id, kind, build, now)?.0;
    // Judged as it will be written: stamped later than `now` if another process wrote later meanwhile.
    let validate = move |ledger: &Ledger, roster: &crate::identity::Roster, st: &Statement| {
        let snap = Snapshot::with_roster(ledger, roster.clone())?;
        let view = load_view(ledger, &snap, id)?;
        let fact = fact_for(st, &snap, signer)?;
        check_candidate(ledger, &view, &snap, &fact)
    };
    super::append_naming(session, statement, &validate, held)
}
