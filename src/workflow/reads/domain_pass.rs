//! `verify`'s domain pass: every request folded under the policy and evaluated now — the lifecycle
//! entries the rules refused, the decisions the policy does not count (with the reasons), and the change
//! sets the records name, checked against their digests.
//!
//! The pass runs beside the integrity walk instead of after it. The walk hands over each verified entry;
//! a request is held with the entries referencing it that the walk meets, and is folded on a worker when
//! what is held passes the budget's `hold_kib` (the oldest request first) or the walk ends. Nothing is
//! read back from the ledger for those requests, and no index is looked up per request. Such a fold is
//! tentative: once every fold is done, the number of entries each was folded with is compared with the
//! number the refs index says reference it (one scan of the index in key order; the index itself is
//! checked against the verified statements after the walk). A request that was folded without all of them
//! — an entry referencing it was met before it (in a log walked earlier) or after its fold — has its
//! tentative result dropped and is folded again from its stored rows. A request held by several logs, or
//! referenced by an entry several logs hold, is folded once from its stored rows at the end (which entries
//! several logs hold is asked beside the walk's start; until the answer comes, every request met is held
//! and none folded, and the answer then lets go of the ones that should not have been). What is held is bounded by
//! `hold_kib`, plus 32 bytes per request deferred so; what the check needs of each tentative fold is kept
//! in sorted runs on disk ([`SortedRuns`]). The verdict is used only when everything verified.

use super::evidence::BlobReport;
use super::state::{Snapshot, changeset_of, decisions_now, fact_of, fact_of_verified, fold_facts};
use crate::audit::kinds::REQUESTED;
use crate::audit::projection::Fact;
use crate::identity::roster::Discounted;
use crate::ledger::pipeline::{Limits, Ordered};
use crate::ledger::refs_check::{RefSet, RefsChecked, check_refs, check_refs_counting};

/// What the check of the refs index found (`Some`: how it differs from the statements), or why its scan
/// stopped.
pub(super) type RefsAnswer = Result<Option<String>, WorkflowError>;
use crate::ledger::sorted_runs::SortedRuns;
use crate::ledger::verify::{Budget, VerifiedEntry};
use crate::ledger::{EntryId, Ledger, LedgerError, LogRow, Pos, PublicKey};
use crate::workflow::error::WorkflowError;
use std::collections::{HashMap, HashSet, VecDeque};

/// Maps and sets keyed by entry id, hashed with a keyed fast hash (foldhash's quality hasher, seeded per
/// process, so ids an enrolled member grinds cannot be aimed at one bucket): SipHash over the 32 bytes of
/// an id was a hundredth of `verify`'s time.
type IdMap<V> = HashMap<EntryId, V, foldhash::quality::RandomState>;
type IdSet = HashSet<EntryId, foldhash::quality::RandomState>;

/// What the domain pass found.
#[derive(Default)]
pub(super) struct DomainVerdict {
    pub discounted: Vec<Discounted>,
    pub blobs: BlobReport,
    pub forks: Vec<Forked>,
}

/// A request whose counted executions ran different versions (FORMAT.md §1.2, *Forks*).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forked {
    pub request: EntryId,
    /// The request's position.
    pub pos: Pos,
    pub fork: crate::audit::projection::Fork,
}

impl Forked {
    /// How `verify` and the console's integrity view introduce `n` forks.
    pub fn heading(n: usize) -> String {
        format!("forks: {n} request{} whose executions ran different versions", if n == 1 { "" } else { "s" })
    }

    /// One line under [`Forked::heading`].
    pub fn line(&self) -> String {
        format!("  request {}: {}", self.request.short(12), self.fork.line())
    }
}

/// One thing a fold found about its request, kept or taken back with a tentative fold.
enum Found {
    Discounted(Discounted),
    Fork(Forked),
}

impl DomainVerdict {
    fn keep(&mut self, found: Found) {
        match found {
            Found::Discounted(d) => self.discounted.push(d),
            Found::Fork(f) => self.forks.push(f),
        }
    }

    /// What the fold found (`discounted` and `forks`), to keep or take back with it.
    fn found(&mut self) -> impl Iterator<Item = Found> + use<> {
        let discounted = std::mem::take(&mut self.discounted).into_iter().map(Found::Discounted);
        discounted.chain(std::mem::take(&mut self.forks).into_iter().map(Found::Fork))
    }
}

/// Requests handed to a folding thread at a time.
const FOLD_BATCH: usize = 256;

/// Reasons a decision is excluded that are part of a normal lifecycle, not a violation (a stale approval
/// saw less evidence than was attached later; its approver approves again).
const ROUTINE: [&str; 4] = ["superseded by a later decision", "decided on an earlier version", "expired", "stale:"];

/// An entry the walk verified, as a fold takes it: where it is and its statement.
pub(super) struct Walked {
    pos: Pos,
    index: u64,
    /// The id of its origin in this file.
    origin: i64,
    id: EntryId,
    actor: PublicKey,
    bytes: Vec<u8>,
}

impl Walked {
    /// Entry `e`, its statement moved out of it when `last` (no one after needs it), else copied.
    fn of(e: &mut VerifiedEntry<'_>, last: bool) -> Walked {
        let bytes = if last { std::mem::take(&mut e.bytes) } else { e.bytes.clone() };
        Walked { pos: e.pos, index: e.index, origin: e.origin, id: e.id, actor: e.head.actor, bytes }
    }

    fn fact(&self) -> Result<(Fact, i64), WorkflowError> {
        Ok((fact_of_verified(self.pos, self.index, self.id, self.actor, &self.bytes)?, self.origin))
    }
}

/// A request ready to fold.
pub(super) enum Job {
    /// With the entries referencing it that the walk met while it was held: tentative until checked
    /// against the refs index ([`Sink::confirm`]).
    Met { request: Box<Walked>, related: Vec<Walked> },
    /// Only its id: its rows are read back from the ledger.
    Stored(EntryId),
    /// Its own row, read from the ledger: the entries referencing it are read back.
    Row(Box<LogRow>),
}

/// A request waiting for the entries that reference it.
struct Held {
    request: Walked,
    related: Vec<Walked>,
    bytes: usize,
}

/// Gathers requests and their references from the walk (see the module's documentation).
pub(super) struct Collector {
    /// Entries more than one log holds: a request involving one is folded from its stored rows, which
    /// take each such entry at its first position.
    several: HashSet<EntryId>,
    /// Where `several` comes from while it is still being asked (a scan of the leaf index, beside the
    /// start of the walk): until it comes, every request met is held (up to four times `hold_limit`)
    /// and nothing is folded.
    asked: Option<std::sync::mpsc::Receiver<HashSet<EntryId>>>,
    held: IdMap<Held>,
    /// Held requests, oldest first (ids no longer held are skipped).
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
            asked: None,
            held: IdMap::default(),
            order: VecDeque::new(),
            held_bytes: 0,
            hold_limit,
            deferred: Vec::new(),
        }
    }

    /// As [`Collector::with_limit`], the entries in several logs still being asked: they come over
    /// `several` (nothing coming, the sender gone, is taken as none: the asker reports its failure).
    pub(super) fn asking(several: std::sync::mpsc::Receiver<HashSet<EntryId>>, hold_limit: usize) -> Collector {
        Collector { asked: Some(several), ..Collector::with_limit(HashSet::new(), hold_limit) }
    }

    /// Takes the answer to which entries several logs hold, waiting for it when `wait`, and lets go of
    /// the held requests it shows should not have been (met while it was not known): those held by
    /// several logs, and those an entry held by several logs joined. They are folded from their stored
    /// rows, as they would have been had the answer been there.
    fn settle(&mut self, wait: bool) {
        let Some(rx) = &self.asked else { return };
        let several = if wait {
            rx.recv().unwrap_or_default()
        } else {
            match rx.try_recv() {
                Ok(s) => s,
                Err(std::sync::mpsc::TryRecvError::Empty) => return,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => HashSet::new(),
            }
        };
        self.asked = None;
        self.several = several;
        if self.several.is_empty() {
            return;
        }
        let several = &self.several;
        let wrong: Vec<EntryId> = self
            .held
            .iter()
            .filter(|(id, h)| several.contains(id) || h.related.iter().any(|w| several.contains(&w.id)))
            .map(|(id, _)| *id)
            .collect();
        for id in wrong {
            self.defer(&id);
        }
    }

    /// Takes one verified entry, in walk order (its statement, when one held request is all that keeps
    /// it: moved, not copied); pushes onto `ready` the requests to fold now (the oldest held, while more
    /// than the limit is held).
    pub(super) fn take(&mut self, e: &mut VerifiedEntry<'_>, ready: &mut Vec<Job>) {
        self.settle(false);
        let shared = !self.several.is_empty() && self.several.contains(&e.id);
        let head = e.head;
        let is_request = head.kind == REQUESTED;
        // Held requests it joins, counted down: the last one takes the statement itself.
        let mut joins = if shared { 0 } else { held_targets(&head.refs, &self.held).count() };
        for (i, r) in head.refs.iter().enumerate() {
            if head.refs[..i].contains(r) || !self.held.contains_key(r) {
                continue;
            }
            if shared {
                self.defer(r);
                continue;
            }
            joins -= 1;
            let entry = Walked::of(e, joins == 0 && !is_request);
            let bytes = weight(&entry);
            let Some(h) = self.held.get_mut(r) else { continue };
            self.held_bytes += bytes;
            h.related.push(entry);
            h.bytes += bytes;
        }
        if is_request {
            if shared {
                self.deferred.push(e.id);
            } else if self.held.contains_key(&e.id) {
                // Met again before the answer came: held by several logs (or twice by one), so it is let
                // go when the answer comes.
            } else {
                let request = Walked::of(e, true);
                let bytes = weight(&request);
                self.held_bytes += bytes;
                self.held.insert(e.id, Held { request, related: Vec::new(), bytes });
                self.order.push_back(e.id);
            }
        }
        // While the answer is asked, up to four times the limit is held (the scan takes longer than the
        // walk takes to meet the limit's worth), then it is waited for.
        if self.asked.is_some() && self.held_bytes > self.hold_limit.saturating_mul(4) {
            self.settle(true);
        }
        while self.asked.is_none() && self.held_bytes > self.hold_limit {
            let Some(oldest) = self.order.pop_front() else { break };
            if let Some(h) = self.held.remove(&oldest) {
                self.held_bytes -= h.bytes;
                ready.push(Job::Met { request: Box::new(h.request), related: h.related });
            }
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

    /// The requests left once the walk is done: those still held (oldest first) with what the walk met,
    /// then the deferred ones, from their stored rows.
    pub(super) fn finish(mut self) -> impl Iterator<Item = Job> {
        self.settle(true);
        let mut held = std::mem::take(&mut self.held);
        let met: Vec<Job> = self
            .order
            .iter()
            .filter_map(|id| held.remove(id))
            .map(|h| Job::Met { request: Box::new(h.request), related: h.related })
            .collect();
        // A request held by several logs is met once in each: folded once.
        self.deferred.sort_unstable();
        self.deferred.dedup();
        met.into_iter().chain(self.deferred.into_iter().map(Job::Stored))
    }
}

/// The held requests among `refs`, each once.
fn held_targets<'a>(refs: &'a [EntryId], held: &'a IdMap<Held>) -> impl Iterator<Item = EntryId> + 'a {
    refs.iter().enumerate().filter(|(i, r)| !refs[..*i].contains(r) && held.contains_key(r)).map(|(_, r)| *r)
}

fn weight(entry: &Walked) -> usize {
    entry.bytes.len() + 256
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

/// What folding one request found; for a tentative fold ([`Job::Met`]), the request and how many entries
/// referencing it it was folded with.
type Folded = Result<(Option<(EntryId, u64)>, DomainVerdict), WorkflowError>;

/// What the check of a tentative fold needs: the request's id, the entries it was folded with, and the
/// blobs it counted as checked and as not held (big-endian), so that a fold found incomplete can be taken
/// back.
type Tentative = [u8; 56];

fn tentative_record(id: &EntryId, related: u64, blobs: &BlobReport) -> Tentative {
    let mut r = [0u8; 56];
    r[..32].copy_from_slice(&id.0);
    r[32..40].copy_from_slice(&related.to_be_bytes());
    r[40..48].copy_from_slice(&blobs.checked.to_be_bytes());
    r[48..].copy_from_slice(&blobs.not_held.to_be_bytes());
    r
}

fn u64_at(r: &Tentative, at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&r[at..at + 8]);
    u64::from_be_bytes(b)
}

/// Where the walk sends requests to fold: worker threads, or the caller's own connection.
pub(super) struct Sink<'a> {
    pipe: Option<&'a mut Ordered<Job, Folded>>,
    ledger: &'a Ledger,
    snap: Option<Snapshot>,
    own: i64,
    now: chrono::DateTime<chrono::Utc>,
    verdict: DomainVerdict,
    /// What tentative folds found, by request, until [`Sink::confirm`] keeps or drops it.
    tentative: Vec<(EntryId, Found)>,
    records: SortedRuns<56>,
    tentatives: u64,
    /// Folding again the requests a tentative fold missed entries of (not counted in `folded`).
    refolding: bool,
    /// The (ref, entry) pairs of every statement the walk verified, checked against the `refs` index in
    /// the same scan that counts the entries referencing each request ([`Sink::confirm`]).
    refs: RefSet,
    error: Option<WorkflowError>,
    /// Requests folded so far.
    pub folded: u64,
}

impl Sink<'_> {
    /// Records that verified entry `entry` refers to `reference`.
    pub(super) fn refer(&mut self, reference: EntryId, entry: EntryId) {
        self.refs.insert(reference, entry);
    }

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
            Ok((tentative, mut f)) => {
                match tentative {
                    Some((id, related)) => {
                        self.records.insert(tentative_record(&id, related, &f.blobs));
                        self.tentatives += 1;
                        self.tentative.extend(f.found().map(|d| (id, d)));
                    }
                    None => f.found().for_each(|d| self.verdict.keep(d)),
                }
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
        if !self.refolding {
            self.folded += 1;
        }
    }

    /// Waits for every fold, then checks the tentative ones against the refs index: a request folded with
    /// fewer entries than reference it has what its fold found taken back, and is folded again from its
    /// stored rows. The same scan of the index checks it against the walk's pairs: what that found, or
    /// why the scan stopped (a read of the file or of the folds' temporary file that failed; the folds'
    /// verdict is then not given either).
    fn confirm(&mut self) -> RefsAnswer {
        self.drain(true);
        let refs = std::mem::replace(&mut self.refs, RefSet::new(0));
        let records = std::mem::replace(&mut self.records, SortedRuns::new(0));
        let mut tentative = std::mem::take(&mut self.tentative);
        if self.error.is_some() || self.tentatives == 0 {
            tentative.into_iter().for_each(|(_, d)| self.verdict.keep(d));
            return check_refs(self.ledger, refs).map_err(WorkflowError::from);
        }
        // In request order (stable: each request's own order is kept), beside the records.
        tentative.sort_by_key(|a| a.0);
        let (again, checked) = match check_tentative(self.ledger, records, tentative, &mut self.verdict, refs) {
            Ok(done) => done,
            Err(e) => {
                self.error = Some(WorkflowError::Refused(format!("the refs index was not checked: {e}")));
                return Err(e);
            }
        };
        self.refolding = true;
        for id in again {
            self.send(Job::Stored(id));
        }
        self.drain(true);
        checked.map_err(WorkflowError::from)
    }
}

/// Compares each tentative fold (`records`, in id order) with the number of entries the refs index says
/// reference the request, in the scan that checks the index against the walk's pairs (`refs`). Keeps what
/// the complete ones discounted (`tentative`, in request order) in `verdict`, takes the incomplete ones'
/// blob counts back out of it, and returns those requests with what the check of the index found. When
/// the index differs from the statements, `verify` fails on that and its verdict is not used: the counts
/// stop there, and nothing is folded again.
fn check_tentative(
    ledger: &Ledger,
    records: SortedRuns<56>,
    tentative: Vec<(EntryId, Found)>,
    verdict: &mut DomainVerdict,
    refs: RefSet,
) -> Result<(Vec<EntryId>, RefsChecked), WorkflowError> {
    let unreadable = |e: std::io::Error| WorkflowError::Io("read back the folds from a temporary file".into(), e);
    let mut records = records.merged().map_err(unreadable)?;
    let mut next = records.next_record().map_err(unreadable)?;
    let mut tentative = tentative.into_iter().peekable();
    let mut again = Vec::new();
    // One record against the number of entries referencing its request.
    let mut settle = |r: &Tentative, referencing: u64, verdict: &mut DomainVerdict| {
        let mut id = [0u8; 32];
        id.copy_from_slice(&r[..32]);
        let id = crate::ledger::Hash(id);
        let complete = u64_at(r, 32) == referencing;
        while let Some((t, _)) = tentative.peek() {
            if *t > id {
                break;
            }
            if let Some((t, d)) = tentative.next()
                && (t < id || complete)
            {
                verdict.keep(d);
            }
        }
        if !complete {
            verdict.blobs.checked = verdict.blobs.checked.saturating_sub(u64_at(r, 40));
            verdict.blobs.not_held = verdict.blobs.not_held.saturating_sub(u64_at(r, 48));
            again.push(id);
        }
    };
    let checked = check_refs_counting(ledger, refs, &mut |reference, count| -> Result<(), WorkflowError> {
        while let Some(r) = next.filter(|r| r[..32] <= *reference) {
            settle(&r, if r[..32] == *reference { count } else { 0 }, verdict);
            next = records.next_record().map_err(unreadable)?;
        }
        Ok(())
    })?;
    if !matches!(checked, Ok(None)) {
        tentative.for_each(|(_, d)| verdict.keep(d));
        return Ok((Vec::new(), checked));
    }
    while let Some(r) = next {
        settle(&r, 0, verdict);
        next = records.next_record().map_err(unreadable)?;
    }
    tentative.for_each(|(_, d)| verdict.keep(d));
    Ok((again, checked))
}

/// Runs `body` with a [`Sink`] folding on `folders` (or on `ledger` when there are none), then waits for
/// every fold and checks the tentative ones: `body`'s result, the verdict (or the first error a fold
/// met), and what the check of the `refs` index against the pairs `body` recorded ([`Sink::refer`])
/// found.
pub(super) fn run<T>(
    ledger: &Ledger,
    folders: Vec<Folder>,
    budget: &Budget,
    body: impl FnOnce(&mut Sink<'_>) -> T,
) -> (T, Result<DomainVerdict, WorkflowError>, RefsAnswer) {
    let now = crate::workflow::clock::now();
    let own = ledger.own_origin().id;
    let finish = |mut sink: Sink<'_>, out: T| {
        let refs = sink.confirm();
        let verdict = match sink.error {
            Some(e) => Err(e),
            None => Ok(sink.verdict),
        };
        (out, verdict, refs)
    };
    fn sink<'a>(
        pipe: Option<&'a mut Ordered<Job, Folded>>,
        ledger: &'a Ledger,
        own: i64,
        now: chrono::DateTime<chrono::Utc>,
        budget: &Budget,
    ) -> Sink<'a> {
        Sink {
            pipe,
            ledger,
            snap: None,
            own,
            now,
            verdict: DomainVerdict::default(),
            tentative: Vec::new(),
            // Records held in memory before a sorted run is spilled: as much as a connection's cache.
            records: SortedRuns::new(budget.cache_kib),
            tentatives: 0,
            refolding: false,
            // Pairs held in memory before a sorted run is spilled: twice a connection's cache.
            refs: RefSet::new(2 * budget.cache_kib),
            error: None,
            folded: 0,
        }
    }
    if folders.is_empty() {
        let mut s = sink(None, ledger, own, now, budget);
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
        let mut s = sink(Some(pipe), ledger, own, now, budget);
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
            // (Most requests have one such entry: no set is built for them.)
            if related.len() > 1 {
                let mut seen = IdSet::default();
                related.retain(|r| seen.insert(r.id));
            }
            let met = (request.id, related.len() as u64);
            let related = related.iter().map(Walked::fact).collect::<Result<Vec<_>, _>>()?;
            Ok((Some(met), fold_request(ledger, snap, request.fact()?, related, own, now)?))
        }
        Job::Stored(id) => {
            let request = ledger
                .entry(&id)?
                .ok_or_else(|| WorkflowError::NotFound(format!("request {} is not stored", id.short(12))))?;
            let related = ledger.entries_referencing(&id)?;
            Ok((None, fold_rows(ledger, snap, &request, &related, own, now)?))
        }
        Job::Row(request) => {
            let related = ledger.entries_referencing(&request.entry.id)?;
            Ok((None, fold_rows(ledger, snap, &request, &related, own, now)?))
        }
    }
}

/// [`fold_request`] from stored rows.
fn fold_rows(
    ledger: &Ledger,
    snap: &Snapshot,
    request: &LogRow,
    rows: &[LogRow],
    own: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DomainVerdict, WorkflowError> {
    let related = rows.iter().map(|r| Ok((fact_of(r)?, r.origin))).collect::<Result<Vec<_>, WorkflowError>>()?;
    fold_request(ledger, snap, (fact_of(request)?, request.origin), related, own, now)
}

/// Folds `request` with the entries referencing it (in union order; each with the id of its origin in
/// this file) under the policy and evaluates it now: what does not count, and its change sets.
fn fold_request(
    ledger: &Ledger,
    snap: &Snapshot,
    (request, request_origin): (Fact, i64),
    related: Vec<(Fact, i64)>,
    own: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DomainVerdict, WorkflowError> {
    let mut out = DomainVerdict::default();
    let (related, origins): (Vec<Fact>, Vec<i64>) = related.into_iter().unzip();
    let view = fold_facts(ledger, snap, &request, &related)?;
    // The request's own record was read into the view's first version (the fold fails without one): its
    // change set is taken from there instead of reading the body once more.
    let own_changeset =
        view.versions[0].record.changeset.as_ref().and_then(|c| crate::ledger::Hash::from_hex(&c.sha256));
    if let Some(digest) = own_changeset {
        super::evidence::check_changeset(ledger, digest, request.id, request_origin != own, &mut out.blobs)?;
    }
    for (fact, origin) in related.iter().zip(origins) {
        if let Some(digest) = changeset_of(fact) {
            super::evidence::check_changeset(ledger, digest, fact.id, origin != own, &mut out.blobs)?;
        }
    }
    if let Some(fork) = view.fork.clone() {
        out.forks.push(Forked { request: view.id, pos: view.pos, fork });
    }
    for t in &view.timeline {
        if let Some(reason) = &t.ignored {
            out.discounted.push(Discounted { pos: t.pos, id: t.id, kind: t.kind.clone(), reason: reason.clone() });
        }
    }
    for d in decisions_now(ledger, &view, snap, now)? {
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
    use crate::ledger::statement::CheckedHead;

    /// Feeds the collector one entry of `kind` with `refs`, at `index` of origin 1; returns the requests
    /// it made ready, with the indexes of the entries each was folded with.
    fn feed(c: &mut Collector, index: u64, id: u8, kind: &str, refs: &[u8]) -> Vec<(EntryId, Vec<u64>)> {
        let key = PublicKey::from_signing(&ed25519_dalek::SigningKey::from_bytes(&[7; 32]));
        let head = CheckedHead {
            kind: kind.into(),
            actor: key,
            ts: "2026-12-03T10:00:00Z".into(),
            refs: refs.iter().map(|r| Hash([*r; 32])).collect(),
        };
        let mut e = VerifiedEntry {
            index,
            pos: crate::ledger::pos::pos(1_000 + index as i64, "o", index),
            origin: 1,
            id: Hash([id; 32]),
            head: &head,
            bytes: vec![b'x'; 100],
        };
        let mut ready = Vec::new();
        c.take(&mut e, &mut ready);
        ready.into_iter().map(met).collect()
    }

    fn met(job: Job) -> (EntryId, Vec<u64>) {
        match job {
            Job::Met { request, related } => {
                // Each with the whole statement, whether it was moved or copied.
                assert!(std::iter::once(&*request).chain(&related).all(|w| w.bytes == vec![b'x'; 100]));
                (request.id, related.iter().map(|r| r.index).collect())
            }
            Job::Stored(id) => panic!("request {} deferred", id.short(4)),
            Job::Row(_) => panic!("the walk reads no rows"),
        }
    }

    /// What `finish` hands over: (first id byte, indexes met) for tentative folds, (first id byte, None)
    /// for folds from stored rows.
    fn left(c: Collector) -> Vec<(u8, Option<Vec<u64>>)> {
        c.finish()
            .map(|j| match j {
                Job::Stored(id) => (id.0[0], None),
                j => {
                    let (id, related) = met(j);
                    (id.0[0], Some(related))
                }
            })
            .collect()
    }

    #[test]
    fn requests_are_held_with_the_entries_referencing_them_until_the_walk_ends() {
        let mut c = Collector::with_limit(HashSet::new(), 1 << 20);
        assert_eq!(feed(&mut c, 0, 1, REQUESTED, &[]), vec![]);
        assert_eq!(feed(&mut c, 1, 2, REQUESTED, &[]), vec![]);
        assert_eq!(feed(&mut c, 2, 3, "approval.granted", &[1, 1]), vec![], "one entry, counted once");
        assert_eq!(feed(&mut c, 3, 4, "note", &[9]), vec![]);
        assert_eq!(feed(&mut c, 4, 5, "rollback.executed", &[1]), vec![]);
        // One entry joining two held requests: each gets the statement.
        assert_eq!(feed(&mut c, 5, 6, "note", &[2, 1]), vec![]);
        assert!(c.held_bytes > 0);
        assert_eq!(left(c), vec![(1, Some(vec![2, 4, 5])), (2, Some(vec![5]))], "oldest first");
    }

    #[test]
    fn requests_involving_an_entry_held_by_several_logs_are_folded_from_their_stored_rows() {
        let several: HashSet<EntryId> = [Hash([6; 32]), Hash([8; 32])].into();
        let mut c = Collector::with_limit(several, 1 << 20);
        feed(&mut c, 0, 1, REQUESTED, &[]);
        // Its referencing entry is held by several logs.
        feed(&mut c, 1, 2, REQUESTED, &[]);
        feed(&mut c, 2, 6, "approval.granted", &[2]);
        // Held by several logs itself: met in each, folded once.
        feed(&mut c, 3, 8, REQUESTED, &[]);
        feed(&mut c, 4, 8, REQUESTED, &[]);
        assert_eq!(left(c), vec![(1, Some(vec![])), (2, None), (8, None)]);
    }

    #[test]
    fn an_answer_that_comes_late_sorts_out_what_was_held_as_a_known_one_would() {
        let several: HashSet<EntryId> = [Hash([6; 32]), Hash([8; 32])].into();
        // The answer after the walk (taken at its end), or before the second request (taken as it is met).
        for answer_at in [5, 1] {
            let (tx, rx) = std::sync::mpsc::channel();
            let mut c = Collector::asking(rx, 1 << 20);
            let feeds: [(u64, u8, &str, &[u8]); 5] = [
                (0, 1, REQUESTED, &[]),
                (1, 2, REQUESTED, &[]),
                (2, 6, "approval.granted", &[2]),
                (3, 8, REQUESTED, &[]),
                (4, 8, REQUESTED, &[]),
            ];
            let mut tx = Some(tx);
            for (i, (index, id, kind, refs)) in feeds.into_iter().enumerate() {
                if i == answer_at
                    && let Some(tx) = tx.take()
                {
                    tx.send(several.clone()).unwrap();
                }
                assert_eq!(feed(&mut c, index, id, kind, refs), vec![]);
            }
            if let Some(tx) = tx.take() {
                tx.send(several.clone()).unwrap();
            }
            assert_eq!(left(c), vec![(1, Some(vec![])), (2, None), (8, None)], "answer at {answer_at}");
        }
        // No answer at all (the asker failed: it reports that): nothing is taken as held by several logs.
        let (tx, rx) = std::sync::mpsc::channel::<HashSet<EntryId>>();
        let mut c = Collector::asking(rx, 1 << 20);
        feed(&mut c, 0, 1, REQUESTED, &[]);
        drop(tx);
        assert_eq!(left(c), vec![(1, Some(vec![]))]);
    }

    #[test]
    fn nothing_is_folded_while_the_answer_is_asked_up_to_four_times_the_limit() {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut c = Collector::asking(rx, 1_000);
        let mut i = 0u8;
        // Each request weighs 356 bytes: eleven of them are under 4,000.
        while c.held_bytes + 356 <= 4_000 {
            assert_eq!(feed(&mut c, i as u64, i + 1, REQUESTED, &[]), vec![]);
            i += 1;
        }
        assert!(c.held_bytes > 1_000);
        tx.send(HashSet::new()).unwrap();
        // The answer taken, the oldest are folded down to the limit.
        let ready = feed(&mut c, i as u64, i + 1, REQUESTED, &[]);
        assert_eq!(ready.iter().map(|r| r.0.0[0]).collect::<Vec<_>>(), (1..=ready.len() as u8).collect::<Vec<_>>());
        assert!(c.held_bytes <= 1_000, "{} bytes held", c.held_bytes);
    }

    proptest::proptest! {
        /// Whenever the answer comes, what is left at the end is what a collector that knew it from the
        /// start leaves.
        #[test]
        fn a_late_answer_leaves_what_an_early_one_leaves(
            entries in proptest::collection::vec((0u8..8, proptest::collection::vec(0u8..8, 0..3)), 0..24),
            shared in proptest::collection::hash_set(0u8..8, 0..4),
            answer_at in 0usize..25,
        ) {
            // Ids under 4 are requests. An entry met more than once is held by several logs (or twice by
            // one): the scan finds it.
            let entries: Vec<(u8, bool, Vec<u8>)> = entries.into_iter().map(|(id, refs)| (id, id < 4, refs)).collect();
            let mut several: HashSet<EntryId> = shared.iter().map(|b| Hash([*b; 32])).collect();
            for (i, (id, _, _)) in entries.iter().enumerate() {
                if entries[..i].iter().any(|e| e.0 == *id) {
                    several.insert(Hash([*id; 32]));
                }
            }
            let mut known = Collector::with_limit(several.clone(), 1 << 20);
            let (tx, rx) = std::sync::mpsc::channel();
            let mut late = Collector::asking(rx, 1 << 20);
            let mut tx = Some(tx);
            for (i, (id, is_request, refs)) in entries.iter().enumerate() {
                if i == answer_at && let Some(tx) = tx.take() {
                    tx.send(several.clone()).unwrap();
                }
                let kind = if *is_request { REQUESTED } else { "approval.granted" };
                feed(&mut known, i as u64, *id, kind, refs);
                feed(&mut late, i as u64, *id, kind, refs);
            }
            if let Some(tx) = tx.take() {
                tx.send(several).unwrap();
            }
            proptest::prop_assert_eq!(left(late), left(known));
        }
    }

    #[test]
    fn what_is_held_stays_under_its_limit_the_oldest_folded_first() {
        let mut c = Collector::with_limit(HashSet::new(), 1_000);
        let mut ready = Vec::new();
        for i in 0..10u8 {
            ready.extend(feed(&mut c, i as u64, i + 1, REQUESTED, &[]));
            assert!(c.held_bytes <= 1_000, "{} bytes held", c.held_bytes);
        }
        let firsts: Vec<u8> = ready.iter().map(|(id, _)| id.0[0]).collect();
        assert_eq!(firsts, (1..=firsts.len() as u8).collect::<Vec<_>>());
        // An entry referencing a request still held joins it (and what it adds folds the oldest held); one
        // referencing a request already folded is left to the check after the walk.
        assert_eq!(feed(&mut c, 10, 99, "approval.granted", &[10, 1]), vec![(Hash([9; 32]), vec![])]);
        let left = left(c);
        assert!(left.contains(&(10, Some(vec![10]))), "{left:?}");
        assert!(!left.iter().any(|(id, _)| *id == 1));
    }

    /// Every (ref, entry) pair of the refs index, as the walk records them from the statements.
    fn index_pairs(ledger: &Ledger) -> Vec<(EntryId, EntryId)> {
        let mut stmt = ledger.conn().prepare("SELECT ref, entry_id FROM refs").unwrap();
        stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .map(|(a, b)| (crate::ledger::Hash::from_slice(&a).unwrap(), crate::ledger::Hash::from_slice(&b).unwrap()))
            .collect()
    }

    /// A stored row as the walk hands it over.
    fn walked_row(r: &LogRow) -> Walked {
        Walked {
            pos: r.pos,
            index: r.index,
            origin: r.origin,
            id: r.entry.id,
            actor: PublicKey::parse(&r.actor).unwrap(),
            bytes: r.entry.bytes.clone(),
        }
    }

    /// Folds `jobs` on 1 or 2 threads of the demo ledger, with every (ref, entry) pair of its statements
    /// recorded as the walk records them (so the check of the refs index passes).
    fn fold_all(ledger: &Ledger, threads: usize, jobs: Vec<Job>) -> DomainVerdict {
        let budget = Budget { threads, cache_kib: 1024, hold_kib: 0 };
        let pairs = index_pairs(ledger);
        let ((), verdict, refs) = run(ledger, connections(ledger, &budget), &budget, |sink| {
            for (r, e) in pairs {
                sink.refer(r, e);
            }
            for j in jobs {
                sink.send(j);
            }
        });
        assert_eq!(refs.unwrap(), None, "the refs index is the statements'");
        verdict.expect("folds")
    }

    /// What a fold found is handed on whole, whichever list it is in: a tentative fold's findings are kept
    /// or taken back together.
    #[test]
    fn a_folds_findings_are_kept_together() {
        let id = crate::ledger::Hash([7; 32]);
        let discounted = Discounted { pos: 3, id, kind: "approval.granted".into(), reason: "r".into() };
        let fork = crate::audit::projection::Fork { runs: Vec::new(), reviewed: None };
        let forked = Forked { request: id, pos: 2, fork };
        let mut found =
            DomainVerdict { discounted: vec![discounted.clone()], forks: vec![forked.clone()], ..Default::default() };
        let mut kept = DomainVerdict::default();
        found.found().for_each(|f| kept.keep(f));
        assert_eq!((kept.discounted, kept.forks), (vec![discounted], vec![forked]));
        assert!(found.discounted.is_empty() && found.forks.is_empty());
    }

    /// A tentative fold that missed entries referencing its request (met before it, or after it was
    /// folded) is taken back once the refs index is read, and the request folded again from its stored
    /// rows: the verdict is the same as folding it from its rows at once, never counted twice.
    #[test]
    fn a_tentative_fold_that_missed_entries_is_taken_back_and_folded_again() {
        let dir = tempfile::tempdir().unwrap();
        let demo = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap();
        let ledger = demo.context().open().unwrap();
        let requests = ledger.entries_of_kinds(&[REQUESTED]).unwrap();
        // A request with change sets checked and entries referencing it, and what folding it from its rows
        // finds.
        let (row, related, stored) = requests
            .into_iter()
            .find_map(|row| {
                let related = ledger.entries_referencing(&row.entry.id).unwrap();
                let v = fold_all(&ledger, 1, vec![Job::Stored(row.entry.id)]);
                (v.blobs.checked > 0 && !related.is_empty()).then_some((row, related, v))
            })
            .expect("the demo has a request with change sets and decisions");
        for threads in [1, 2] {
            // Complete: kept as it is.
            let request = || Box::new(walked_row(&row));
            let complete = Job::Met { request: request(), related: related.iter().map(walked_row).collect() };
            let v = fold_all(&ledger, threads, vec![complete]);
            assert_eq!(
                (v.blobs.checked, &v.discounted, &v.forks),
                (stored.blobs.checked, &stored.discounted, &stored.forks)
            );
            // Missing an entry: taken back and folded again.
            let partial = Job::Met { request: request(), related: related[1..].iter().map(walked_row).collect() };
            let v = fold_all(&ledger, threads, vec![partial]);
            assert_eq!(
                (v.blobs.checked, &v.discounted, &v.forks),
                (stored.blobs.checked, &stored.discounted, &stored.forks),
                "{threads} threads"
            );
        }
    }

    /// What an incomplete tentative fold found is taken back, not only folded again: an approval that fold
    /// read (here changed, so that it would not count for a reason the verdict names) leaves nothing in
    /// the verdict once the request is folded from its stored rows. (The test above cannot tell: its
    /// request's partial fold finds what the whole one finds.)
    #[test]
    fn what_an_incomplete_fold_found_does_not_stay_in_the_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let demo = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap();
        let ledger = demo.context().open().unwrap();
        // A request with an approval and another entry referencing it.
        let (row, related, approval) = ledger
            .entries_of_kinds(&[REQUESTED])
            .unwrap()
            .into_iter()
            .find_map(|row| {
                let related = ledger.entries_referencing(&row.entry.id).unwrap();
                let approval = related.iter().position(|r| r.kind == crate::audit::kinds::APPROVED)?;
                (related.len() > 1).then_some((row, related, approval))
            })
            .expect("the demo has a request with an approval and another entry");
        let stored = fold_all(&ledger, 1, vec![Job::Stored(row.entry.id)]);
        assert!(stored.discounted.iter().all(|d| d.id != related[approval].entry.id));
        // The approval signing another revert operation, and another entry missed.
        let changed = || {
            let mut w = walked_row(&related[approval]);
            let mut st: serde_json::Value = serde_json::from_slice(&w.bytes).unwrap();
            st["body"]["revert_digest"] = serde_json::json!("00".repeat(32));
            w.bytes = serde_json::to_vec(&st).unwrap();
            w
        };
        let missed = if approval == 0 { 1 } else { 0 };
        let partial = || Job::Met {
            request: Box::new(walked_row(&row)),
            related: (0..related.len())
                .filter(|i| *i != missed)
                .map(|i| if i == approval { changed() } else { walked_row(&related[i]) })
                .collect(),
        };
        // Folded alone, that fold discounts the changed approval.
        let snap = Snapshot::load(&ledger).unwrap().remember(&ledger).unwrap();
        let (met, alone) =
            fold_job(&ledger, &snap, partial(), ledger.own_origin().id, crate::workflow::clock::now()).unwrap();
        assert_eq!(met, Some((row.entry.id, related.len() as u64 - 1)));
        assert!(
            alone
                .discounted
                .iter()
                .any(|d| d.id == related[approval].entry.id && d.reason == "signed a different revert operation"),
            "{:?}",
            alone.discounted
        );
        for threads in [1, 2] {
            let v = fold_all(&ledger, threads, vec![partial()]);
            assert_eq!(
                (v.blobs.checked, &v.discounted, &v.forks),
                (stored.blobs.checked, &stored.discounted, &stored.forks),
                "{threads} threads"
            );
        }
    }

    /// With tentative folds, the refs index is checked in the scan that counts them: a pair the index
    /// holds that no walked statement makes, and one a statement makes that the index lacks, are both
    /// found there (the notes ledgers of the tamper tests have no requests, so they take the other path).
    #[test]
    fn the_scan_that_counts_the_tentative_folds_checks_the_refs_index() {
        let dir = tempfile::tempdir().unwrap();
        let demo = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap();
        let ledger = demo.context().open().unwrap();
        let row = ledger.entries_of_kinds(&[REQUESTED]).unwrap().into_iter().next().expect("a request");
        let related = ledger.entries_referencing(&row.entry.id).unwrap();
        let pairs = index_pairs(&ledger);
        let budget = Budget { threads: 1, cache_kib: 1024, hold_kib: 0 };
        let checked = |recorded: Vec<(EntryId, EntryId)>| {
            let job =
                Job::Met { request: Box::new(walked_row(&row)), related: related.iter().map(walked_row).collect() };
            let ((), verdict, refs) = run(&ledger, Vec::new(), &budget, |sink| {
                for (r, e) in recorded {
                    sink.refer(r, e);
                }
                sink.send(job);
            });
            verdict.expect("folds");
            refs.expect("the index is read")
        };
        assert_eq!(checked(pairs.clone()), None);
        let one_short = pairs[1..].to_vec();
        assert!(checked(one_short).is_some_and(|p| p.contains("but its statement does not")));
        let one_more = [pairs.clone(), vec![(crate::ledger::Hash([0xff; 32]), row.entry.id)]].concat();
        assert_eq!(checked(one_more), Some("the refs index lacks 1 of the statements' references".into()));
    }

    /// Folds whose records cannot be read back from their temporary file fail the check with an I/O
    /// error (exit 1), not a verdict.
    #[test]
    fn folds_that_cannot_be_read_back_are_an_io_error() {
        fn write_only() -> std::io::Result<std::fs::File> {
            let dir = tempfile::tempdir()?;
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(dir.path().join("folds"))
        }
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = crate::ledger::store::test_ledger(dir.path());
        let ledger = Ledger::open(&path).unwrap();
        // 64 KiB: runs of 1,170 records; 2,000 spill one.
        let mut records = SortedRuns::<56>::new(64).spilling_to(write_only);
        for i in 0..2_000u32 {
            let mut id = [0u8; 32];
            id[..4].copy_from_slice(&i.to_be_bytes());
            records.insert(tentative_record(&Hash(id), 1, &BlobReport::default()));
        }
        let mut verdict = DomainVerdict::default();
        match check_tentative(&ledger, records, Vec::new(), &mut verdict, RefSet::new(64)) {
            Err(WorkflowError::Io(what, _)) => assert!(what.contains("read back the folds"), "{what}"),
            Err(e) => panic!("another error: {e}"),
            Ok((again, _)) => panic!("the folds were read back: {} to fold again", again.len()),
        }
    }

    /// A walked statement that cannot be read again (which a statement the walk verified whole never is) is
    /// refused, naming its entry, instead of being folded as something else.
    #[test]
    fn a_walked_statement_that_cannot_be_read_again_is_refused_by_its_entry() {
        let key = PublicKey::from_signing(&ed25519_dalek::SigningKey::from_bytes(&[7; 32]));
        let walked = |bytes: &[u8]| Walked {
            pos: crate::ledger::pos::pos(1_000, "o", 0),
            index: 0,
            origin: 1,
            id: Hash([0xab; 32]),
            actor: key,
            bytes: bytes.to_vec(),
        };
        for bytes in [&b"not json"[..], br#"{"kind":"note","ts":"2026-12-03T10:00:00Z"}"#] {
            match walked(bytes).fact() {
                Err(WorkflowError::Refused(why)) => {
                    assert!(why.starts_with("entry abababababab cannot be read: "), "{why}")
                }
                other => panic!("{:?}", other.map(|(f, _)| f.kind)),
            }
        }
        let read = walked(br#"{"body":{},"kind":"note","ts":"2026-12-03T10:00:00Z"}"#).fact().unwrap().0;
        assert_eq!((read.kind.as_str(), read.body.value()), ("note", serde_json::json!({})));
    }

    /// What `verify` reports of a request's evaluation (its decisions, each with whether it counts) is what
    /// the full evaluation `show` and `gate` make says, for every request of the demo, some decisions of
    /// which do not count.
    #[test]
    fn the_decisions_verify_counts_are_those_of_the_full_evaluation() {
        let dir = tempfile::tempdir().unwrap();
        let demo = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap();
        let ledger = demo.context().open().unwrap();
        let snap = Snapshot::load(&ledger).unwrap();
        let now = crate::workflow::clock::now();
        let (mut decisions, mut excluded) = (0, 0);
        for row in ledger.entries_of_kinds(&[REQUESTED]).unwrap() {
            let view = super::super::state::load_view_unchecked(&ledger, &snap, &row.entry.id).unwrap();
            let full = super::super::state::evaluate_now(&ledger, &view, &snap, now).unwrap().eval.decisions;
            assert_eq!(decisions_now(&ledger, &view, &snap, now).unwrap(), full, "request {}", row.entry.id.short(8));
            decisions += full.len();
            excluded += full.iter().filter(|d| d.excluded.is_some()).count();
        }
        assert!(decisions > excluded && excluded > 0, "{decisions} decisions, {excluded} not counted");
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
            let (folded, verdict, _) = run(&ledger, folders, &budget, |sink| {
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
        let (_, verdict, _) = run(&ledger, connections(&ledger, &budget), &budget, |sink| {
            for id in &requests {
                sink.send(Job::Stored(*id));
            }
        });
        assert!(verdict.is_ok());
    }
}
