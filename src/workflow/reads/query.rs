//! Read-only questions: one request in full (`show`), whether it may run now (`gate`), the list of
//! requests, open obligations, the people enrolled, and the policy in force.

use super::index;
use super::state::{Snapshot, evaluate_now, load_view, resolve_request};
use crate::audit::RequestView;
use crate::audit::projection::Obligation;
use crate::identity::roster::{Member, Pending};
use crate::ledger::EntryId;
use crate::policy::evaluate::Evaluation;
use crate::workflow::clock;
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Utc};

/// A request with its evaluation now.
pub struct Shown {
    pub view: RequestView,
    pub eval: Evaluation,
    pub assessment: super::assess::Assessment,
    pub obligations: Vec<Obligation>,
    pub now: DateTime<Utc>,
    pub snap: Snapshot,
}

/// Everything about request `req`, evaluated now, decided from its signed entries.
pub fn show(ctx: &Context, req: &str) -> Result<Shown, WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let id = resolve_request(&ledger, req)?;
    let snap = Snapshot::load(&ledger)?;
    let view = load_view(&ledger, &snap, &id)?;
    let now = clock::now();
    let judged = evaluate_now(&ledger, &view, &snap, now)?;
    let obligations = view.obligations(now);
    Ok(Shown { view, eval: judged.eval, assessment: judged.assessment, obligations, now, snap })
}

/// The gate: whether the revert of `req` may run now, with the checklist.
pub fn gate(ctx: &Context, req: &str) -> Result<Shown, WorkflowError> {
    show(ctx, req)
}

pub use super::index::Filter;

/// Requests matching `filter`, most recent first.
pub fn list(ctx: &Context, filter: &Filter) -> Result<Vec<index::Row>, WorkflowError> {
    let ledger = ctx.open()?;
    index::refresh(&ledger, clock::now())?;
    index::query(&ledger, filter)
}

/// [`list`] one row at a time, in bounded memory; `passes` walks over the same rows (a table's column
/// widths are measured in the first).
pub(crate) fn list_each(
    ctx: &Context,
    filter: &Filter,
    passes: usize,
    mut visit: impl FnMut(usize, index::Row) -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    let ledger = ctx.open()?;
    index::refresh(&ledger, clock::now())?;
    // One read transaction: every pass sees the same rows.
    let tx = ledger.cache_conn().unchecked_transaction()?;
    for pass in 0..passes {
        index::query_each(&ledger, filter, |r| visit(pass, r))?;
    }
    tx.finish()?;
    Ok(())
}

/// An obligation with its request's title.
pub(crate) struct OpenObligation {
    pub obligation: Obligation,
    pub title: String,
}

/// Open obligations (only overdue ones with `overdue_only`), soonest due first.
pub(crate) fn obligations(ctx: &Context, overdue_only: bool) -> Result<Vec<OpenObligation>, WorkflowError> {
    let ledger = ctx.open()?;
    let now = clock::now();
    index::refresh(&ledger, now)?;
    obligations_in(&ledger, now, overdue_only)
}

/// [`obligations`] on an open ledger whose request index is current (the console's, which may be
/// read-only).
pub(crate) fn obligations_in(
    ledger: &crate::ledger::Ledger,
    now: DateTime<Utc>,
    overdue_only: bool,
) -> Result<Vec<OpenObligation>, WorkflowError> {
    let snap = Snapshot::load(ledger)?;
    let mut out = Vec::new();
    for id in index::with_obligations(ledger)? {
        let view = load_view(ledger, &snap, &id)?;
        for o in view.obligations(now) {
            if !overdue_only || o.overdue {
                out.push(OpenObligation { obligation: o, title: view.record().title.clone() });
            }
        }
    }
    out.sort_by_key(|o| o.obligation.due);
    Ok(out)
}

/// The roster: members and pending governance changes.
pub(crate) fn members(ctx: &Context) -> Result<(Vec<Member>, Vec<Pending>, crate::ledger::Pos), WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let snap = Snapshot::load(&ledger)?;
    let mut members: Vec<Member> = snap.roster.members().cloned().collect();
    members.sort_by(|a, b| a.name.cmp(&b.name).then(a.since.cmp(&b.since)));
    Ok((members, snap.roster.pending().cloned().collect(), snap.next))
}

/// Every policy adopted, oldest first: its entry, the log index from which it was in force, its text.
pub(crate) fn policy_versions(ledger: &crate::ledger::Ledger) -> Result<Vec<(EntryId, u64, String)>, WorkflowError> {
    let snap = Snapshot::load(ledger)?;
    Ok(snap
        .roster
        .policies()
        .iter()
        .map(|p| (p.id, crate::ledger::pos::index_of(p.pos), p.text.toml.clone()))
        .collect())
}

/// The members on an open ledger, by name, with the log's next position (what "active" is judged at).
pub(crate) fn members_in(ledger: &crate::ledger::Ledger) -> Result<(Vec<Member>, crate::ledger::Pos), WorkflowError> {
    let snap = Snapshot::load(ledger)?;
    let mut members: Vec<Member> = snap.roster.members().cloned().collect();
    members.sort_by(|a, b| a.name.cmp(&b.name).then(a.since.cmp(&b.since)));
    Ok((members, snap.next))
}

/// The policy in force: its entry id, the position it took effect, and its text.
pub(crate) fn policy_in_force(ctx: &Context) -> Result<(EntryId, crate::ledger::Pos, String), WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let snap = Snapshot::load(&ledger)?;
    let p = snap
        .roster
        .policy_at(crate::ledger::POS_MAX)
        .ok_or_else(|| WorkflowError::NotFound("the ledger has no policy".into()))?;
    Ok((p.id, p.pos, p.text.toml.clone()))
}
