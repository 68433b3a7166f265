//! What waits on one key: the open requests it can act on now (approve, execute, validate, review), most
//! urgent first, and
//! how it already stands on the others it decided (its approval counts, or went stale). Decided by the
//! same policy evaluation and permission rules as `gate` and the console's actions, never here.

use super::snapshot::Snapshot;
use super::state::{evaluate_now, load_view};
use crate::audit::bodies::Decision;
use crate::ledger::{EntryId, Hash, Ledger, PublicKey};
use crate::policy::evaluate::{Permission, permission};
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Open requests looked at, most urgent first: the queue's first screens, bounded so that a ledger with a
/// hundred thousand open requests still opens at once.
pub const CANDIDATES: usize = 200;

/// What a key can do now on a request waiting on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Turn {
    /// Its approval would count (and it has none that counts).
    Approve,
    /// Its approval went stale, and a new one would count.
    Reapprove,
    /// The gate is open and it may record the execution.
    Execute,
    /// A review is owed that its review would settle (an emergency's post-hoc review; a fork's, when it ran
    /// none of the fork's runs), and it holds a role whose decisions count at the tier.
    Review,
    /// The revert ran and nobody has validated it yet: the key that recorded the execution (or, when
    /// that key is no longer active, the requester's) checks that it worked.
    Validate,
}

impl Turn {
    pub fn verb(self) -> &'static str {
        match self {
            Turn::Approve => "approve",
            Turn::Reapprove => "re-approve",
            Turn::Execute => "execute",
            Turn::Review => "review",
            Turn::Validate => "validate",
        }
    }
}

/// Where a key stands on a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stand {
    /// The request waits on this key.
    Waiting(Turn),
    /// Its approval of the current version counts.
    Approved,
    /// It rejected the request.
    Rejected,
    /// Its approval no longer counts (evidence attached after it, a new version, …): approve again.
    Stale,
}

/// The requests waiting on a key, in queue order, and its stand on each request looked at.
#[derive(Clone, Debug, Default)]
pub struct Waiting {
    pub ids: Vec<EntryId>,
    pub stands: HashMap<EntryId, Stand>,
}

impl Waiting {
    /// The rank of `id` among the requests waiting on the key.
    pub fn rank(&self, id: &EntryId) -> Option<usize> {
        self.ids.iter().position(|x| x == id)
    }
}

/// The names of the active members holding any of `roles` at `pos`, in the roster's order.
pub fn who_holds(roster: &crate::identity::Roster, roles: &[String], pos: crate::ledger::Pos) -> Vec<String> {
    roster
        .members()
        .filter(|m| roster.is_active(&m.key, pos) && roster.has_role(&m.key, pos, roles))
        .map(|m| m.name.clone())
        .collect()
}

/// Whether `signer` may invoke the emergency path under the policy in force, or why not and who may.
pub fn may_invoke_emergency(ctx: &crate::workflow::Context, signer: Option<&str>) -> Result<(), String> {
    Standing::load(ctx, signer)?.may(|p| &p.emergency.may_invoke, "invoke the emergency path")
}

/// Whether `signer` may file requests under the policy in force, or why not and who may.
pub fn may_file_requests(ctx: &crate::workflow::Context, signer: Option<&str>) -> Result<(), String> {
    Standing::load(ctx, signer)?.may(|p| &p.requests.may_request, "file requests")
}

/// Both answers the console asks at start (filing requests, invoking the emergency path), from one read
/// of the ledger.
pub fn may_file_and_invoke(
    ctx: &crate::workflow::Context,
    signer: Option<&str>,
) -> (Result<(), String>, Result<(), String>) {
    match Standing::load(ctx, signer) {
        Ok(st) => (
            st.may(|p| &p.requests.may_request, "file requests"),
            st.may(|p| &p.emergency.may_invoke, "invoke the emergency path"),
        ),
        Err(e) => (Err(e.clone()), Err(e)),
    }
}

/// A signer's name and key, with the roster and policies in force.
struct Standing {
    name: String,
    key: PublicKey,
    snap: Snapshot,
}

impl Standing {
    fn load(ctx: &crate::workflow::Context, signer: Option<&str>) -> Result<Standing, String> {
        let fail = |e: WorkflowError| e.to_string();
        let name = ctx.signer_name(signer).map_err(fail)?;
        let key = ctx.keystore.info(&name).map_err(|e| e.to_string())?.public_key;
        let ledger = ctx.open_read_only().map_err(fail)?;
        let snap = Snapshot::load(&ledger).map_err(fail)?;
        Ok(Standing { name, key, snap })
    }

    /// Whether the signer is active and holds one of the roles `roles` names in the policy in force, or
    /// why not ("only ROLES may WHAT — ask NAMES").
    fn may(&self, roles: impl Fn(&crate::policy::model::Policy) -> &Vec<String>, what: &str) -> Result<(), String> {
        let (snap, key) = (&self.snap, &self.key);
        let (_, policy) = snap.policies.at(snap.next);
        let roles = roles(policy);
        if snap.roster.is_active(key, snap.next) && snap.roster.has_role(key, snap.next, roles) {
            return Ok(());
        }
        let others: Vec<String> =
            who_holds(&snap.roster, roles, snap.next).into_iter().filter(|n| *n != self.name).collect();
        let roles = if roles.is_empty() { "none".to_string() } else { roles.join(" or ") };
        Err(if others.is_empty() {
            format!("only {roles} may {what}")
        } else {
            format!("only {roles} may {what} — ask {}", others.join(", "))
        })
    }
}

/// What waits on `key` among the [`CANDIDATES`] most urgent open requests of the (current) request index.
pub fn waiting_on(ledger: &Ledger, key: &PublicKey, now: DateTime<Utc>) -> Result<Waiting, WorkflowError> {
    let snap = Snapshot::load(ledger)?;
    // Judged where an entry signed now would be stamped, as `gate` and the commands judge it.
    let now = crate::workflow::clock::judged_at(ledger, now, snap.roster.max_clock_skew_seconds())?;
    if snap.roster.member(key).is_none_or(|m| m.revoked.is_some()) {
        return Ok(Waiting::default());
    }
    let candidates: Vec<EntryId> = {
        // The open requests, and executed ones (which wait on a validation).
        use crate::audit::projection::Status;
        let waits = [&Status::OPEN[..], &[Status::Executed]].concat();
        let mut stmt = ledger.cache_conn().prepare_cached(&format!(
            "SELECT id FROM request_index WHERE +status IN ({}) ORDER BY urgency ASC, pos DESC LIMIT ?1",
            Status::sql_list(&waits)
        ))?;
        stmt.query_map([CANDIDATES as i64], |r| r.get::<_, Vec<u8>>(0))?
            .filter_map(|r| r.ok().and_then(|b| Hash::from_slice(&b)))
            .collect()
    };
    let mut out = Waiting::default();
    for id in candidates {
        // A request that no longer loads (a tampered row) waits on nobody; `verify` names it.
        let Ok(view) = load_view(ledger, &snap, &id) else { continue };
        let judged = match evaluate_now(ledger, &view, &snap, now) {
            Ok(j) => j,
            // A row its assessment relies on fails its check: it waits on nobody either.
            Err(WorkflowError::Refused(_)) => continue,
            Err(e) => return Err(e),
        };
        let flags = judged.assessment.flag_ids();
        let ctx = snap.context(&flags, Some(&judged.assessment.risk.tier));
        let may = |what| permission(&view, &ctx, key, what, now, snap.next).is_ok();
        let mine = judged.eval.decisions.iter().rev().find(|d| snap.roster.same_member(&d.actor, key));
        let stand = match mine {
            Some(d) if d.decision == Decision::Reject => Some(Stand::Rejected),
            Some(d) if d.excluded.is_none() => Some(Stand::Approved),
            Some(_) => Some(Stand::Stale),
            None => None,
        };
        let (_, policy) = snap.policies.at(snap.next);
        let tier = crate::policy::evaluate::tier_of(&view, Some(&judged.assessment.risk.tier));
        let reviewer = || {
            let roles = crate::policy::evaluate::roles_for(Permission::Review, policy, &tier);
            snap.roster.has_role(key, snap.next, &roles)
        };
        let validator = || {
            let ran = view.executions.last().map(|e| e.actor);
            // Members: a key that replaced the executor's or the requester's is theirs.
            let theirs = |k: &PublicKey| snap.roster.same_member(k, key) && snap.roster.is_active(key, snap.next);
            let still_member = |k: &PublicKey| {
                snap.roster
                    .members()
                    .any(|m| snap.roster.same_member(&m.key, k) && snap.roster.is_active(&m.key, snap.next))
            };
            match ran.filter(|k| still_member(k)) {
                Some(k) => theirs(&k),
                None => theirs(&view.requester),
            }
        };
        use crate::audit::projection::Phase;
        let ran = matches!(view.phase, Phase::Executed | Phase::Validated | Phase::Reviewed | Phase::Closed);
        let review = (view.review_owed_by(&|k| snap.roster.same_member(k, key))
            && view.admits(crate::audit::projection::Action::Review).is_ok()
            && reviewer()
            && may(Permission::Review))
        .then_some(Turn::Review);
        let validate = (view.phase == crate::audit::projection::Phase::Executed
            && view.validations.is_empty()
            && view.admits(crate::audit::projection::Action::Validate).is_ok()
            && validator())
        .then_some(Turn::Validate);
        // After a run that did not succeed the request is open again (decisions, and a new run once the
        // gate passes): it waits as an open one does, not on a validation of what failed.
        let turn = if ran && !view.retry_possible() {
            review.or(validate)
        } else if review.is_some() {
            // A review owed that this key may sign comes first; one it may not (or not yet: an emergency's
            // before its run) leaves the key's other turns, as for any open request (an executor's run under
            // the emergency, an approval once it has lapsed).
            review
        } else if ran && judged.eval.rejected() {
            // After a run only the rejecter's approval lifts a rejection, and nobody is asked to make it: a
            // rejected request waits on nobody.
            None
        } else if !judged.eval.gate && stand != Some(Stand::Approved) && stand != Some(Stand::Rejected) {
            let again = if stand == Some(Stand::Stale) { Turn::Reapprove } else { Turn::Approve };
            may(Permission::Approve).then_some(again)
        } else if judged.eval.gate {
            may(Permission::Execute).then_some(Turn::Execute)
        } else {
            None
        };
        match turn {
            Some(t) => {
                out.ids.push(id);
                out.stands.insert(id, Stand::Waiting(t));
            }
            None => {
                if let Some(s) = stand {
                    out.stands.insert(id, s);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::browse::{Page, QueueFilter, queue_count, queue_page};

    /// The demo ledger (no synthetic load) with its request index current, and the time it was refreshed.
    fn demo_ledger() -> (tempfile::TempDir, crate::workflow::Context, Ledger, DateTime<Utc>) {
        let dir = tempfile::tempdir().unwrap();
        let demo = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap();
        let ctx = demo.context();
        let ledger = ctx.open().unwrap();
        let now = crate::workflow::clock::now();
        crate::workflow::index::refresh(&ledger, now).unwrap();
        (dir, ctx, ledger, now)
    }

    #[test]
    fn the_queue_pages_the_waiting_requests_first_then_the_rest_without_gaps_or_repeats() {
        let (_dir, ctx, ledger, now) = demo_ledger();
        let carol = ctx.keystore.info("carol").unwrap().public_key;
        let w = waiting_on(&ledger, &carol, now).unwrap();
        assert!(!w.ids.is_empty(), "the demo has requests waiting on carol");
        for id in &w.ids {
            assert!(matches!(w.stands[id], Stand::Waiting(_)));
        }
        assert!(w.stands.values().any(|s| *s == Stand::Approved), "and some she approved");
        // The requester waits on nobody for her own request: bob files, and nothing of his waits on him to
        // approve.
        let bob = ctx.keystore.info("bob").unwrap().public_key;
        let wb = waiting_on(&ledger, &bob, now).unwrap();
        assert!(wb.stands.values().all(|s| *s != Stand::Waiting(Turn::Approve)), "{wb:?}");

        let f = QueueFilter::default();
        let all = queue_page(&ledger, &f, &w.ids, &Page::First, 1000).unwrap();
        assert_eq!(all.len() as u64, queue_count(&ledger, &f).unwrap());
        let ids: Vec<EntryId> = all.iter().map(|q| q.row.id).collect();
        assert_eq!(&ids[..w.ids.len()], &w.ids[..], "the waiting ones first, in their order");
        // Forward and backward by keyset, three at a time, cross the boundary without a gap or a repeat.
        let mut forward = Vec::new();
        let mut page = Page::First;
        loop {
            let rows = queue_page(&ledger, &f, &w.ids, &page, 3).unwrap();
            let Some(last) = rows.last() else { break };
            page = Page::After(last.key);
            forward.extend(rows.iter().map(|q| q.row.id));
        }
        assert_eq!(forward, ids);
        let mut backward = Vec::new();
        let mut page = Page::Last;
        loop {
            let rows = queue_page(&ledger, &f, &w.ids, &page, 3).unwrap();
            let Some(first) = rows.first() else { break };
            page = Page::Before(first.key);
            backward.splice(0..0, rows.iter().map(|q| q.row.id));
        }
        assert_eq!(backward, ids);
        // A filter applies to both parts; a sort the user picked (newest first) is not reordered.
        let pending = QueueFilter { status: Some("pending".into()), ..Default::default() };
        let rows = queue_page(&ledger, &pending, &w.ids, &Page::First, 1000).unwrap();
        assert!(rows.iter().all(|q| q.row.status == "pending"));
        let newest = QueueFilter { sort: crate::workflow::browse::QueueSort::Newest, ..Default::default() };
        let rows = queue_page(&ledger, &newest, &w.ids, &Page::First, 1000).unwrap();
        assert!(rows.iter().all(|q| q.key.waiting.is_none()));
    }

    /// Issue 16: the queue sorts by any of its columns; each order pages forward and backward by keyset,
    /// two at a time, without a gap or a repeat, and is the order it says.
    #[test]
    fn every_queue_order_pages_without_gaps_or_repeats() {
        use crate::workflow::browse::QueueSort;
        let (_dir, _ctx, ledger, _) = demo_ledger();
        let tier = |t: &str| ["critical", "high", "medium", "low"].iter().position(|x| *x == t).unwrap_or(4);
        // Every order, and every order of the flagged alone (read through their own index, then sorted).
        for (sort, flagged) in QueueSort::ALL.into_iter().flat_map(|s| [(s, false), (s, true)]) {
            let f = QueueFilter { sort, all: true, flagged, ..Default::default() };
            let all = queue_page(&ledger, &f, &[], &Page::First, 1000).unwrap();
            assert_eq!(all.len() as u64, queue_count(&ledger, &f).unwrap(), "{sort:?}");
            assert!(all.len() > if flagged { 2 } else { 10 }, "{sort:?} flagged {flagged}: {}", all.len());
            assert!(!flagged || all.iter().all(|q| q.row.flags > 0));
            let ordered = all.windows(2).all(|w| {
                let (a, b) = (&w[0].row, &w[1].row);
                let newer = a.pos > b.pos;
                match sort {
                    QueueSort::Urgency => {
                        (w[0].key.urgency, std::cmp::Reverse(a.pos)) < (w[1].key.urgency, std::cmp::Reverse(b.pos))
                    }
                    QueueSort::Newest => newer,
                    QueueSort::Oldest => !newer,
                    QueueSort::Title => a.title < b.title || (a.title == b.title && newer),
                    QueueSort::Environment => a.env < b.env || (a.env == b.env && newer),
                    QueueSort::Status => a.status < b.status || (a.status == b.status && newer),
                    QueueSort::Risk => tier(&a.tier) < tier(&b.tier) || (a.tier == b.tier && newer),
                    QueueSort::Requester => a.requester < b.requester || (a.requester == b.requester && newer),
                }
            });
            assert!(ordered, "{sort:?}: {:?}", all.iter().map(|q| (&q.row.title, &q.row.env)).collect::<Vec<_>>());
            let ids: Vec<EntryId> = all.iter().map(|q| q.row.id).collect();
            let (mut forward, mut page) = (Vec::new(), Page::First);
            loop {
                let rows = queue_page(&ledger, &f, &[], &page, 2).unwrap();
                let Some(last) = rows.last() else { break };
                page = Page::After(last.key);
                forward.extend(rows.iter().map(|q| q.row.id));
            }
            assert_eq!(forward, ids, "{sort:?} forward");
            let (mut backward, mut page) = (Vec::new(), Page::Last);
            loop {
                let rows = queue_page(&ledger, &f, &[], &page, 2).unwrap();
                let Some(first) = rows.first() else { break };
                page = Page::Before(first.key);
                backward.splice(0..0, rows.iter().map(|q| q.row.id));
            }
            assert_eq!(backward, ids, "{sort:?} backward");
            assert_eq!(QueueSort::from_name(sort.name()), Some(sort));
            assert_eq!(sort.step(true).step(false), sort);
        }
    }

    /// Issue 16: a revert that ran and is not validated waits on the key that recorded its execution.
    #[test]
    fn an_executed_revert_waits_on_its_executor_to_validate() {
        let (_dir, ctx, ledger, now) = demo_ledger();
        let snap = Snapshot::load(&ledger).unwrap();
        let executed: Vec<EntryId> = {
            let mut stmt =
                ledger.cache_conn().prepare("SELECT id FROM request_index WHERE status = 'executed'").unwrap();
            stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))
                .unwrap()
                .map(|b| Hash::from_slice(&b.unwrap()).unwrap())
                .collect()
        };
        assert!(!executed.is_empty(), "the demo has a revert that ran and is not validated");
        let mut checked = 0;
        for name in ["alice", "bob", "carol", "dave", "erin"] {
            let Ok(info) = ctx.keystore.info(name) else { continue };
            let w = waiting_on(&ledger, &info.public_key, now).unwrap();
            for id in &executed {
                let view = load_view(&ledger, &snap, id).unwrap();
                let ran_it = view.executions.last().map(|e| e.actor) == Some(info.public_key);
                let waits = w.stands.get(id) == Some(&Stand::Waiting(Turn::Validate));
                assert_eq!(waits, ran_it && view.validations.is_empty(), "{name} on {}", id.short(8));
                checked += usize::from(waits);
            }
        }
        assert!(checked > 0, "someone is asked to validate");
    }

    /// A request whose assessment relies on a row that fails its check (a `mark-bad` of what its revert
    /// brings back, its signature changed in the file) waits on nobody: the list is still made for every
    /// other request instead of failing (`verify` names the row).
    #[test]
    fn a_request_relying_on_a_row_that_fails_its_check_waits_on_nobody() {
        let (_dir, ctx, ledger, now) = demo_ledger();
        let names = ["alice", "bob", "carol", "dave", "erin"];
        let keys: Vec<PublicKey> = names.iter().map(|n| ctx.keystore.info(n).unwrap().public_key).collect();
        let waiting =
            |ledger: &Ledger| -> Vec<Waiting> { keys.iter().map(|k| waiting_on(ledger, k, now).unwrap()).collect() };
        let carol = waiting(&ledger)[2].clone();
        let target = carol.ids[0];
        let snap = Snapshot::load(&ledger).unwrap();
        let view = load_view(&ledger, &snap, &target).unwrap();
        let digest = view.record().revert.to.clone();
        drop(ledger);
        let mark = crate::workflow::lifecycle::mark_bad(&ctx, Some("dave"), &digest, "ships a backdoor").unwrap();
        let ledger = ctx.open().unwrap();
        // Every request bringing that digest back (to revert to, or in its lineage).
        let snap = Snapshot::load(&ledger).unwrap();
        let marked: Vec<EntryId> = super::super::state::all_requests(&ledger)
            .unwrap()
            .into_iter()
            .map(|(_, id)| id)
            .filter(|id| {
                let view = load_view(&ledger, &snap, id).unwrap();
                crate::analysis::flags::brought_back(view.record()).iter().any(|(d, _)| *d == digest)
            })
            .collect();
        let before = waiting(&ledger);
        assert!(before[2].stands.contains_key(&target), "still a stand of carol's, marked");
        drop(ledger);
        let raw = rusqlite::Connection::open(&ctx.ledger_path).unwrap();
        raw.execute_batch("DROP TRIGGER entries_no_update").unwrap();
        raw.execute("UPDATE entries SET signature = zeroblob(64) WHERE id = ?1", [mark.entry_id.0]).unwrap();
        drop(raw);
        let ledger = ctx.open().unwrap();
        let after = waiting(&ledger);
        let others = |w: &Waiting| {
            let mut s: Vec<(EntryId, Stand)> =
                w.stands.iter().filter(|(id, _)| !marked.contains(id)).map(|(i, s)| (*i, *s)).collect();
            s.sort_by_key(|(i, _)| *i);
            (s, w.ids.iter().filter(|id| !marked.contains(id)).copied().collect::<Vec<_>>())
        };
        for (now_w, was) in after.iter().zip(&before) {
            assert!(marked.iter().all(|id| !now_w.stands.contains_key(id) && now_w.rank(id).is_none()));
            assert_eq!(others(now_w), others(was), "every other request keeps its stand and rank");
        }
        assert!(!others(&after[2]).1.is_empty(), "carol still has requests waiting on her");
    }
}
