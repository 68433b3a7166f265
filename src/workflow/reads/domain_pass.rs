//! `verify`'s domain pass: every request folded under the policy and evaluated now — the lifecycle
//! entries the rules refused, the decisions the policy does not count (with the reasons), and the change
//! sets the records name, checked against their digests.
//!
//! The pass runs beside the integrity walk instead of after it. The walk hands over each verified entry;
//! a request is held with the entries that reference it as the walk meets them, and is folded on a worker
//! as soon as the walk has met them all (the walk's workers count, per request, the entries the refs index
//! says reference it: [`crate::ledger::verify::Followers`]). Nothing is read back from the ledger for
//! those requests. A request the walk cannot complete this way — an entry referencing it was met before it
//! (in a log walked earlier), it or one of them is held by several logs, or it waited while more than
//! the budget's `hold_kib` were held — is folded at the end from its stored rows, as every request was
//! before. What is held is bounded by `hold_kib` plus 32 bytes per request deferred so. The refs index the counts
//! come from is itself checked against the verified statements after the walk; the verdict is used only
//! when everything verified.

use super::evidence::BlobReport;
use super::state::{Snapshot, evaluate_now, fact_of, fold_facts, record_of};
use crate::audit::kinds::REQUESTED;
use crate::identity::roster::Discounted;
use crate::ledger::pipeline::{Limits, Ordered};
use crate::ledger::verify::{Budget, VerifiedEntry};
use crate::ledger::{EntryId, Ledger, LedgerError, LogRow, SignedStatement};
use crate::workflow::error::WorkflowError;
use std::collections::{HashMap, HashSet, VecDeque};

/// What the domain pass found.
#[derive(Default)]
pub(super) struct DomainVerdict {
    pub discounted: Vec<Discounted>,
    pub blobs: BlobReport,
}

/// Requests handed to a folding thread at a time.
const FOLD_BATCH: usize = 256;

/// Reasons a decision is excluded that are part of a normal lifecycle, not a violation (a stale approval
/// saw less evidence than was attached later; its approver approves again).
const ROUTINE: [&str; 4] = ["superseded by a later decision", "decided on an earlier version", "expired", "stale:"];

/// A request ready to fold.
pub(super) enum Job {
    /// With every entry referencing it, as the walk met them.
    Met { request: Box<LogRow>, related: Vec<LogRow> },
    /// Only its id: its rows are read back from the ledger.
    Stored(EntryId),
    /// Its own row, read from the ledger: the entries referencing it are read back.
    Row(Box<LogRow>),
}

/// A request waiting for the entries that reference it.
struct Held {
    request: LogRow,
    related: Vec<LogRow>,
    /// Entries the walk has still to meet.
    waiting: u64,
    bytes: usize,
}

/// Gathers requests and their references from the walk (see the module's documentation).
pub(super) struct Collector {
    /// Entries more than one log holds: a request involving one is folded from its stored rows, which
    /// take each such entry at its first position.
    several: HashSet<EntryId>,
    held: HashMap<EntryId, Held>,
    /// Held requests, oldest first (ids already folded are skipped when met).
    order: VecDeque<EntryId>,
    held_bytes: usize,
    hold_limit: usize,
    deferred: Vec<EntryId>,
}

impl Collector {
    /// For a walk of a ledger whose entries in several logs are `several`, holding at most about
    /// `hold_limit` bytes of statements for requests waiting for entries the walk has not met.
    pub(super) fn with_limit(several: HashSet<EntryId>, hold_limit: usize) -> Collector {
        Collector {
            several,
            held: HashMap::new(),
            order: VecDeque::new(),
            held_bytes: 0,
            hold_limit,
            deferred: Vec::new(),
        }
    }

    /// Takes one verified entry, in walk order; pushes onto `ready` the requests it completes.
    pub(super) fn take(&mut self, e: &VerifiedEntry<'_>, ready: &mut Vec<Job>) {
        let shared = !self.several.is_empty() && self.several.contains(&e.id);
        for (i, r) in e.head.refs.iter().enumerate() {
            if e.head.refs[..i].contains(r) || !self.held.contains_key(r) {
                continue;
            }
            if shared {
                self.defer(r);
                continue;
            }
            let row = row_of(e);
            let bytes = weight(&row);
            self.held_bytes += bytes;
            let Some(h) = self.held.get_mut(r) else { continue };
            h.related.push(row);
            h.bytes += bytes;
            h.waiting = h.waiting.saturating_sub(1);
            if h.waiting == 0
                && let Some(h) = self.held.remove(r)
            {
                self.held_bytes -= h.bytes;
                ready.push(Job::Met { request: Box::new(h.request), related: h.related });
            }
        }
        if e.head.kind == REQUESTED {
            match e.followers {
                Some(f) if !shared => {
                    let request = row_of(e);
                    if f.entries == 0 {
                        ready.push(Job::Met { request: Box::new(request), related: Vec::new() });
                    } else {
                        let bytes = weight(&request);
                        self.held_bytes += bytes;
                        self.held.insert(e.id, Held { request, related: Vec::new(), waiting: f.entries, bytes });
                        self.order.push_back(e.id);
                    }
                }
                _ => self.deferred.push(e.id),
            }
        }
        while self.held_bytes > self.hold_limit {
            let Some(oldest) = self.order.pop_front() else { break };
            self.defer(&oldest);
        }
        if self.order.len() > 2 * self.held.len() + 1024 {
            let held = &self.held;
            self.order.retain(|id| held.contains_key(id));
        }
    }

    /// Stops holding request `id`: it is folded from its stored rows at the end.
    fn defer(&mut self, id: &EntryId) {
        if let Some(h) = self.held.remove(id) {
            self.held_bytes -= h.bytes;
            self.deferred.push(*id);
        }
    }

    /// The requests left once the walk is done: deferred ones, and any still waiting (the walk stopped, or
    /// the stored rows promised entries it did not meet), each folded from its stored rows.
    pub(super) fn finish(self) -> impl Iterator<Item = Job> {
        let mut left: Vec<EntryId> = self.held.into_keys().collect();
        left.sort_unstable();
        self.deferred.into_iter().chain(left).map(Job::Stored)
    }
}

/// The row of a verified entry, as the ledger's own read of it would give it.
fn row_of(e: &VerifiedEntry<'_>) -> LogRow {
    let mut signature = [0u8; 64];
    if e.signature.len() == 64 {
        signature.copy_from_slice(e.signature);
    }
    LogRow {
        index: e.index,
        pos: e.pos,
        origin: e.origin,
        entry: SignedStatement { id: e.id, bytes: e.bytes.to_vec(), signature },
        kind: e.head.kind.clone(),
        actor: e.head.actor.encode(),
        ts: e.head.ts.clone(),
    }
}

fn weight(row: &LogRow) -> usize {
    row.entry.bytes.len() + 256
}

/// A connection of the domain pass's own, with the snapshot it decides from.
pub(super) struct Folder {
    ledger: Ledger,
    snap: Option<Snapshot>,
}

/// One read-only connection per thread for the domain pass, opened now (right after the caller's
/// snapshot started, so each sees at least what it sees: the tables only grow). Empty when they cannot be
/// opened or one thread is all the budget allows: the caller's connection then folds every request.
pub(super) fn connections(ledger: &Ledger, budget: &Budget) -> Vec<Folder> {
    if budget.threads < 2 {
        return Vec::new();
    }
    let open = || -> Result<Folder, LedgerError> {
        let l = Ledger::open_read_only(ledger.path())?;
        l.set_cache_kib(budget.cache_kib);
        l.hold_snapshot()?;
        Ok(Folder { ledger: l, snap: None })
    };
    (0..budget.threads).map(|_| open()).collect::<Result<Vec<_>, _>>().unwrap_or_default()
}

/// What folding one request found.
type Folded = Result<DomainVerdict, WorkflowError>;

/// Where the walk sends requests to fold: worker threads, or the caller's own connection.
pub(super) struct Sink<'a> {
    pipe: Option<&'a mut Ordered<Job, Folded>>,
    ledger: &'a Ledger,
    snap: Option<Snapshot>,
    own: i64,
    now: chrono::DateTime<chrono::Utc>,
    verdict: DomainVerdict,
    error: Option<WorkflowError>,
    /// Requests folded so far.
    pub folded: u64,
}

impl Sink<'_> {
    /// Folds `job` (on a worker when there are any), and takes what the workers have finished.
    pub(super) fn send(&mut self, job: Job) {
        if self.error.is_some() {
            return;
        }
        match self.pipe.as_deref_mut() {
            Some(pipe) => match pipe.push(job, 0) {
                Ok(true) => self.drain(false),
                Ok(false) => {}
                Err(e) => self.error = Some(e.into()),
            },
            None => {
                let folded = (|| -> Folded {
                    if self.snap.is_none() {
                        self.snap = Some(Snapshot::load(self.ledger)?.remember(self.ledger)?);
                    }
                    let snap = self.snap.as_ref().ok_or_else(|| WorkflowError::NotFound("no snapshot".into()))?;
                    fold_job(self.ledger, snap, job, self.own, self.now)
                })();
                self.merge(folded);
            }
        }
    }

    /// Takes the folds that are done (every one still out with `all`).
    fn drain(&mut self, all: bool) {
        while let Some(pipe) = self.pipe.as_deref_mut() {
            let next = if all { pipe.wait() } else { pipe.ready() };
            match next {
                Ok(Some(f)) => self.merge(f),
                Ok(None) => break,
                Err(e) => {
                    self.error = Some(e.into());
                    break;
                }
            }
        }
    }

    fn merge(&mut self, folded: Folded) {
        match folded {
            Ok(f) => {
                self.verdict.discounted.extend(f.discounted);
                self.verdict.blobs.checked += f.blobs.checked;
                self.verdict.blobs.not_held += f.blobs.not_held;
                if self.verdict.blobs.problem.is_none() {
                    self.verdict.blobs.problem = f.blobs.problem;
                }
            }
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some(e);
                }
            }
        }
        self.folded += 1;
    }
}

/// Runs `body` with a [`Sink`] folding on `folders` (or on `ledger` when there are none), then waits for
/// every fold: `body`'s result, and the verdict (or the first error a fold met).
pub(super) fn run<T>(
    ledger: &Ledger,
    folders: Vec<Folder>,
    budget: &Budget,
    body: impl FnOnce(&mut Sink<'_>) -> T,
) -> (T, Result<DomainVerdict, WorkflowError>) {
    let now = crate::workflow::clock::now();
    let own = ledger.own_origin().id;
    let finish = |mut sink: Sink<'_>, out: T| {
        sink.drain(true);
        let verdict = match sink.error {
            Some(e) => Err(e),
            None => Ok(sink.verdict),
        };
        (out, verdict)
    };
    fn sink<'a>(
        pipe: Option<&'a mut Ordered<Job, Folded>>,
        ledger: &'a Ledger,
        own: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Sink<'a> {
        Sink { pipe, ledger, snap: None, own, now, verdict: DomainVerdict::default(), error: None, folded: 0 }
    }
    if folders.is_empty() {
        let mut s = sink(None, ledger, own, now);
        let out = body(&mut s);
        return finish(s, out);
    }
    let limits = Limits { batch: FOLD_BATCH, batch_bytes: 4 << 20, in_flight: 2 * budget.threads.max(1) };
    let check = |_: &mut crate::ledger::statement::KeyCache, f: &mut Folder, job: Job| -> Folded {
        if f.snap.is_none() {
            f.snap = Some(Snapshot::load(&f.ledger)?.remember(&f.ledger)?);
        }
        let snap = f.snap.as_ref().ok_or_else(|| WorkflowError::NotFound("no snapshot".into()))?;
        fold_job(&f.ledger, snap, job, own, now)
    };
    crate::ledger::pipeline::run(limits, folders, check, |pipe| {
        let mut s = sink(Some(pipe), ledger, own, now);
        let out = body(&mut s);
        finish(s, out)
    })
}

fn fold_job(ledger: &Ledger, snap: &Snapshot, job: Job, own: i64, now: chrono::DateTime<chrono::Utc>) -> Folded {
    match job {
        Job::Met { request, mut related } => {
            // As the ledger's read of them gives them: in union order, an entry several logs hold once, at
            // its first position.
            related.sort_by_key(|r| r.pos);
            let mut seen = std::collections::HashSet::new();
            related.retain(|r| seen.insert(r.entry.id));
            fold_request(ledger, snap, *request, related, own, now)
        }
        Job::Stored(id) => {
            let request = ledger
                .entry(&id)?
                .ok_or_else(|| WorkflowError::NotFound(format!("request {} is not stored", id.short(12))))?;
            let related = ledger.entries_referencing(&id)?;
            fold_request(ledger, snap, request, related, own, now)
        }
        Job::Row(request) => {
            let related = ledger.entries_referencing(&request.entry.id)?;
            fold_request(ledger, snap, *request, related, own, now)
        }
    }
}

/// Folds the request stored as `row`, with the entries referencing it (in union order), under the policy
/// and evaluates it now: what does not count, and its change sets.
fn fold_request(
    ledger: &Ledger,
    snap: &Snapshot,
    row: LogRow,
    rows: Vec<LogRow>,
    own: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Folded {
    let mut out = DomainVerdict::default();
    let id = &row.entry.id;
    let request = fact_of(&row)?;
    let related = rows.iter().map(fact_of).collect::<Result<Vec<_>, _>>()?;
    for (fact, origin) in
        std::iter::once((&request, row.origin)).chain(related.iter().zip(rows.iter().map(|r| r.origin)))
    {
        if let Some(record) = record_of(fact) {
            super::evidence::check_changeset(ledger, record, fact.id, origin != own, &mut out.blobs)?;
        }
    }
    let view = fold_facts(ledger, snap, id, &request, &related)?;
    for t in &view.timeline {
        if let Some(reason) = &t.ignored {
            out.discounted.push(Discounted { pos: t.pos, id: t.id, kind: t.kind.clone(), reason: reason.clone() });
        }
    }
    for d in evaluate_now(ledger, &view, snap, now)?.eval.decisions {
        if let Some(reason) = d.excluded.filter(|r| !ROUTINE.iter().any(|x| r.starts_with(x))) {
            if let Some(rec) = view.decisions.iter().find(|x| x.id == d.entry) {
                let kind = format!(
                    "approval.{}",
                    if d.decision == crate::audit::bodies::Decision::Approve { "granted" } else { "rejected" }
                );
                out.discounted.push(Discounted { pos: rec.pos, id: d.entry, kind, reason });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Hash;
    use crate::ledger::key::PublicKey;
    use crate::ledger::statement::CheckedHead;
    use crate::ledger::verify::Followers;

    /// Feeds the collector one entry of `kind` with `refs`, at `index` of origin 1.
    fn feed(
        c: &mut Collector,
        index: u64,
        id: u8,
        kind: &str,
        refs: &[u8],
        followers: Option<u64>,
    ) -> Vec<(EntryId, Vec<u64>)> {
        let head = CheckedHead {
            kind: kind.into(),
            actor: PublicKey::from_signing(&ed25519_dalek::SigningKey::from_bytes(&[7; 32])),
            ts: "2026-12-03T10:00:00Z".into(),
            refs: refs.iter().map(|r| Hash([*r; 32])).collect(),
        };
        let bytes = vec![b'x'; 100];
        let e = VerifiedEntry {
            index,
            pos: crate::ledger::pos::pos(1_000 + index as i64, "o", index),
            origin: 1,
            id: Hash([id; 32]),
            head: &head,
            bytes: &bytes,
            signature: &[0; 64],
            followers: followers.map(|entries| Followers { entries }),
        };
        let mut ready = Vec::new();
        c.take(&e, &mut ready);
        ready.into_iter().map(done).collect()
    }

    fn done(job: Job) -> (EntryId, Vec<u64>) {
        match job {
            Job::Met { request, related } => (request.entry.id, related.iter().map(|r| r.index).collect()),
            Job::Stored(id) => panic!("request {} deferred", id.short(4)),
            Job::Row(_) => panic!("the walk reads no rows"),
        }
    }

    fn left(c: Collector) -> Vec<u8> {
        c.finish()
            .map(|j| match j {
                Job::Stored(id) => id.0[0],
                _ => panic!("finish folds from stored rows only"),
            })
            .collect()
    }

    #[test]
    fn a_request_is_folded_once_the_walk_met_every_entry_referencing_it() {
        let mut c = Collector::with_limit(HashSet::new(), 1 << 20);
        assert_eq!(feed(&mut c, 0, 1, REQUESTED, &[], Some(2)), vec![]);
        assert_eq!(feed(&mut c, 1, 2, REQUESTED, &[], Some(0)), vec![(Hash([2; 32]), vec![])], "nothing to wait for");
        assert_eq!(feed(&mut c, 2, 3, "approval.granted", &[1, 1], None), vec![], "one entry, counted once");
        assert_eq!(feed(&mut c, 3, 4, "note", &[9], None), vec![]);
        assert_eq!(feed(&mut c, 4, 5, "rollback.executed", &[1], None), vec![(Hash([1; 32]), vec![2, 4])]);
        assert_eq!(c.held_bytes, 0);
        assert!(left(c).is_empty());
    }

    #[test]
    fn requests_the_walk_cannot_complete_are_folded_from_their_stored_rows() {
        let several: HashSet<EntryId> = [Hash([6; 32]), Hash([8; 32])].into();
        let mut c = Collector::with_limit(several, 1 << 20);
        // Referenced by an entry met before it (a log walked earlier): never complete.
        feed(&mut c, 0, 1, REQUESTED, &[], Some(1));
        // Its referencing entry is held by several logs.
        feed(&mut c, 1, 2, REQUESTED, &[], Some(1));
        feed(&mut c, 2, 6, "approval.granted", &[2], None);
        // Followers unknown (no lookup connection).
        feed(&mut c, 3, 3, REQUESTED, &[], None);
        // Held by several logs itself.
        feed(&mut c, 4, 8, REQUESTED, &[], Some(0));
        assert_eq!(left(c), vec![2, 3, 8, 1]);
    }

    /// A fold that fails (here: a request deferred to its stored rows that the file does not hold) reaches
    /// the verdict as an error, on worker threads and on the caller's connection alike.
    #[test]
    fn a_fold_that_fails_reaches_the_verdict_as_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let demo = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap();
        let ledger = demo.context().open().unwrap();
        let requests: Vec<EntryId> =
            ledger.entries_of_kinds(&[REQUESTED]).unwrap().into_iter().map(|r| r.entry.id).collect();
        assert!(requests.len() > 2);
        let missing = Hash([9; 32]);
        for threads in [1, 2] {
            let budget = Budget { threads, cache_kib: 1024, hold_kib: 0 };
            let folders = connections(&ledger, &budget);
            assert_eq!(folders.len(), if threads > 1 { threads } else { 0 });
            let (folded, verdict) = run(&ledger, folders, &budget, |sink| {
                sink.send(Job::Stored(requests[0]));
                sink.send(Job::Stored(missing));
                for id in &requests[1..] {
                    sink.send(Job::Stored(*id));
                }
                sink.folded
            });
            assert!(folded <= requests.len() as u64 + 1);
            match verdict {
                Err(WorkflowError::NotFound(why)) => assert!(why.contains("is not stored"), "{why}"),
                Err(e) => panic!("{threads} threads: another error: {e}"),
                Ok(_) => panic!("{threads} threads: a request missing from the file was not reported"),
            }
        }
        // Without it, the same requests fold cleanly.
        let budget = Budget { threads: 2, cache_kib: 1024, hold_kib: 0 };
        let (_, verdict) = run(&ledger, connections(&ledger, &budget), &budget, |sink| {
            for id in &requests {
                sink.send(Job::Stored(*id));
            }
        });
        assert!(verdict.is_ok());
    }

    #[test]
    fn what_is_held_stays_under_its_limit() {
        let mut c = Collector::with_limit(HashSet::new(), 1_000);
        for i in 0..10u8 {
            feed(&mut c, i as u64, i + 1, REQUESTED, &[], Some(1));
            assert!(c.held_bytes <= 1_000, "{} bytes held", c.held_bytes);
        }
        // The oldest went first; the newest still completes from what the walk met.
        assert_eq!(feed(&mut c, 10, 99, "approval.granted", &[10], None), vec![(Hash([10; 32]), vec![10])]);
        let left = left(c);
        assert_eq!(&left[..3], &[1, 2, 3]);
        assert!(!left.contains(&10));
    }
}
