//! The projection of one request: its entries, in log order, folded into a `RequestView` — versions,
//! decisions, emergency, executions, validations, reviews, closure, evidence, notes — with the phase of
//! its lifecycle. Entries that arrive in a phase that does not admit them, or that the rules (supplied by
//! the policy layer) do not authorize, are kept aside with the reason; they never change the state.
//!
//! Over 1,100 lines with its tests (~700 of code): the lifecycle fold, every phase transition and the order
//! entries take effect in around an execution (FORMAT.md §1.2) in one place.

use super::bodies::*;
use super::kinds::*;
use super::record::{InvalidRecord, RequestBody};
use crate::ledger::{EntryId, Hash, Pos, PublicKey};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;

/// An entry as the projection reads it.
#[derive(Clone, Debug)]
pub struct Fact {
    /// Its position in the union of logs.
    pub pos: Pos,
    /// Its index in its origin's log (for display).
    pub index: u64,
    pub id: EntryId,
    pub kind: String,
    pub actor: PublicKey,
    pub ts: DateTime<Utc>,
    pub body: super::fact_body::Body,
}

/// Where a request is in its lifecycle (before policy evaluation adds approved/rejected).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Open,
    Emergency,
    Executed,
    Validated,
    Reviewed,
    Closed,
    Withdrawn,
}

/// The status people see: the phase refined by the policy's evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Pending,
    Approved,
    Rejected,
    Withdrawn,
    Emergency,
    Executed,
    Validated,
    ReviewDue,
    Reviewed,
    Closed,
    /// Executed, and the latest run did not succeed (failed, or partial): open to decisions and to
    /// another run again.
    Failed,
}

impl Status {
    pub(crate) const ALL: [&'static str; 11] = [
        "pending",
        "approved",
        "rejected",
        "withdrawn",
        "emergency",
        "executed",
        "validated",
        "review-due",
        "reviewed",
        "closed",
        "failed",
    ];

    /// The statuses of a request still open: what the console lists by default (a rejected or withdrawn
    /// request waits on nobody; a *failed* one is open again).
    pub(crate) const OPEN: [Status; 5] =
        [Status::Pending, Status::Approved, Status::Emergency, Status::ReviewDue, Status::Failed];

    pub(crate) fn as_str(&self) -> &'static str {
        Status::ALL[*self as usize]
    }

    /// The status as lists and `show` give it, `lapsed` when the request's emergency no longer waives
    /// anything: *emergency (lapsed)* for a request still in that phase (its gate asks for approvals
    /// again), else the status alone.
    pub fn shown(self, lapsed: bool) -> &'static str {
        match self {
            Status::Emergency if lapsed => "emergency (lapsed)",
            other => other.as_str(),
        }
    }

    /// `'pending', 'approved', …`: the names of `of` as an SQL `IN (…)` list (this code's own constants,
    /// never input).
    pub(crate) fn sql_list(of: &[Status]) -> String {
        of.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ")
    }

    pub fn parse(s: &str) -> Option<Status> {
        use Status::*;
        [Pending, Approved, Rejected, Withdrawn, Emergency, Executed, Validated, ReviewDue, Reviewed, Closed, Failed]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// What a person does to a request; the rules authorize each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Request,
    Amend,
    Withdraw,
    Decide,
    Emergency,
    Execute,
    Validate,
    Review,
    Close,
    Link,
    Note,
    Evidence,
    Purge,
}

impl Action {
    pub(crate) fn of_kind(kind: &str) -> Option<Action> {
        Some(match kind {
            REQUESTED => Action::Request,
            AMENDED => Action::Amend,
            WITHDRAWN => Action::Withdraw,
            APPROVED | REJECTED => Action::Decide,
            EMERGENCY => Action::Emergency,
            EXECUTED => Action::Execute,
            VALIDATED => Action::Validate,
            REVIEWED => Action::Review,
            CLOSED => Action::Close,
            INCIDENT_LINKED => Action::Link,
            NOTE => Action::Note,
            EVIDENCE_ATTACHED => Action::Evidence,
            EVIDENCE_PURGED => Action::Purge,
            _ => return None,
        })
    }
}

/// Why the lifecycle or the policy does not admit an entry: a reason for people, kept in the timeline of
/// the request beside the entry that did not count.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// Who may do what: implemented by the policy layer over the roster and the policy in force.
pub trait Rules {
    fn allow(&self, action: Action, fact: &Fact, view: &RequestView) -> Result<(), Refusal>;

    /// Whether the entry `earlier` happened before the one at `later` (causal order, FORMAT.md §7.2: the
    /// later one's log had seen it, at any of the positions the logs hold it at). Without a roster, position
    /// order: everything positioned before.
    fn before(&self, earlier: &Fact, later: Pos) -> bool {
        earlier.pos <= later
    }

    /// Whether `earlier` happened before `later` wherever a log holds `later`: what an entry several logs
    /// hold had seen is what every one of its positions had seen, so a copy cannot lend it a past its
    /// signer's log never had (the fork rules ask this; FORMAT.md §1.2, *Forks*). With one position, as
    /// [`Rules::before`] at it.
    fn before_all(&self, earlier: &Fact, later: &Fact) -> bool {
        self.before(earlier, later.pos)
    }

    /// Whether `review`'s signer may settle a fork with it (a review of either kind settles one; an
    /// emergency's post-hoc review is judged when admitted). Without a policy, anyone's.
    fn may_settle(&self, _review: &Fact) -> bool {
        true
    }

    /// Whether keys `a` and `b` are one member (a key and the one that replaced it under the same name): who
    /// ran a fork's reverts, or filed or amended the request, does not settle it with another key. Without
    /// a roster, the same key.
    fn same_member(&self, a: &PublicKey, b: &PublicKey) -> bool {
        a == b
    }
}

/// Rules that only need the lifecycle itself (tests, and reading a request without a policy).
#[cfg(test)]
pub(crate) struct NoRules;

#[cfg(test)]
impl Rules for NoRules {
    fn allow(&self, _: Action, _: &Fact, _: &RequestView) -> Result<(), Refusal> {
        Ok(())
    }
}

/// An entry with its decoded body.
#[derive(Clone, Debug)]
pub struct Rec<T> {
    pub id: EntryId,
    pub pos: Pos,
    pub index: u64,
    pub ts: DateTime<Utc>,
    pub actor: PublicKey,
    pub body: T,
}

/// A version of the record: the request itself or an amendment.
#[derive(Clone, Debug)]
pub struct Version {
    pub id: EntryId,
    pub pos: Pos,
    pub index: u64,
    pub ts: DateTime<Utc>,
    pub actor: PublicKey,
    /// Shared: every fold of a request (one per execution that ran from another log's view) starts from
    /// the same record, and copying it was a hundredth of `verify`'s work beside the signatures.
    pub record: Arc<RequestBody>,
    pub reason: Option<String>,
    /// `record.revert_digest()`, computed once: every decision and execution is checked against it.
    pub revert_digest: String,
}

/// Evidence attached to the request, and its purge if any.
#[derive(Clone, Debug)]
pub struct EvidenceRec {
    pub rec: Rec<EvidenceBody>,
    pub purged: Option<Rec<PurgedBody>>,
    /// Attached while the request was open, so an approver could have reviewed it. Evidence attached later
    /// (validation output, logs after execution, even after a run that did not succeed) never makes an
    /// approval stale: an approver who reads it and wants the retry stopped rejects.
    pub while_open: bool,
}

/// One line of the request's timeline.
#[derive(Clone, Debug)]
pub struct TimelineItem {
    pub pos: Pos,
    pub index: u64,
    pub id: EntryId,
    pub kind: String,
    pub actor: PublicKey,
    pub ts: DateTime<Utc>,
    /// Why it did not count, if it did not.
    pub ignored: Option<String>,
}

/// A deadline the request carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obligation {
    pub request: EntryId,
    /// `post-hoc-review`, `fork-review` or `temporary-revert`.
    pub kind: &'static str,
    pub due: DateTime<Utc>,
    pub overdue: bool,
    pub detail: String,
}

/// Everything known about one request.
#[derive(Clone, Debug)]
pub struct RequestView {
    pub id: EntryId,
    pub pos: Pos,
    pub index: u64,
    pub ts: DateTime<Utc>,
    pub requester: PublicKey,
    pub versions: Vec<Version>,
    pub phase: Phase,
    pub decisions: Vec<Rec<DecisionBody>>,
    pub emergency: Option<Rec<EmergencyBody>>,
    pub executions: Vec<Rec<ExecutedBody>>,
    pub validations: Vec<Rec<ValidatedBody>>,
    pub reviews: Vec<Rec<ReviewedBody>>,
    pub closure: Option<Rec<ClosedBody>>,
    pub withdrawal: Option<Rec<WithdrawnBody>>,
    pub incidents: Vec<Rec<IncidentLinkedBody>>,
    pub notes: Vec<Rec<super::note::NoteBody>>,
    pub evidence: Vec<EvidenceRec>,
    pub timeline: Vec<TimelineItem>,
    /// Set when the executions that counted ran different versions (see [`Fork`]); found once the whole
    /// request is folded.
    pub fork: Option<Fork>,
    /// Post-hoc reviews signed where a run that counted before them had not been seen: they settle no
    /// emergency (a review covers the runs in its past, FORMAT.md §1.2).
    pub(crate) blind_reviews: Vec<EntryId>,
    /// The security flags and risk tier the first run that counted was judged under where it was signed,
    /// when the fold's rules assessed it (FORMAT.md §1.3): the report's approval time is the run's.
    pub(crate) first_run: Option<RunJudgement>,
}

/// What a run was judged under: the request's security flag ids and risk tier at the run's position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RunJudgement {
    pub flags: Vec<String>,
    pub tier: String,
}

/// Executions that counted and ran different versions of the request (FORMAT.md §1.2, *Forks*): machines
/// that had not seen each other's entries each ran the request as their own log held it. A view shows one
/// record; the fork names every run, and a review of what ran is owed until a review that counted, by
/// someone who ran none of them, had seen every one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fork {
    /// Every execution that counted, in the order they took effect.
    pub runs: Vec<ForkRun>,
    /// The first review that counted, signed by none of the runs' executors, with every run in its past.
    pub reviewed: Option<EntryId>,
}

/// One execution of a [`Fork`]: the version it ran, and whether that is the version the view shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForkRun {
    pub execution: EntryId,
    pub ts: DateTime<Utc>,
    /// The version the execution names (an id: one that counted named a version its log held).
    pub version: Option<EntryId>,
    pub shown: bool,
    /// Whether it ran the revert operation of the version shown (`revert_digest`): an amendment may have
    /// changed only the record's words.
    pub same_operation: bool,
    pub outcome: Outcome,
}

/// Why a close may not count, or be signed, while an emergency's post-hoc review is owed.
const EMERGENCY_UNREVIEWED: &str = "the post-hoc review of the emergency is still due (by someone who neither \
     invoked it, ran the revert, nor filed or amended the request)";

/// Why a close may not count, or be signed, while a fork's review is owed.
const FORK_UNREVIEWED: &str = "its reverts ran different versions of the request and no review has seen them all";

/// Whether review `r` settles a fork of the executions `runs` of `v`: signed by none of their signers nor
/// by whoever filed or amended the request (members, [`Rules::same_member`]), by a key the policy lets
/// review ([`Rules::may_settle`]), with every one of them in its past wherever a log holds it
/// ([`Rules::before_all`]).
fn settles(r: &Rec<ReviewedBody>, runs: &[&Fact], v: &RequestView, s: &Settled) -> bool {
    let Some(review) = s.fact(r.id) else { return false };
    let same = |k: &PublicKey| s.rules.same_member(k, &r.actor);
    !runs.iter().any(|e| same(&e.actor))
        && !v.versions.iter().any(|ver| same(&ver.actor))
        && s.rules.may_settle(review)
        && runs.iter().all(|e| s.rules.before_all(e, review))
}

impl Fork {
    /// The fork of `v`'s counted executions, if they ran any version other than the one `v` shows; its
    /// review is the first that counted and [`settles`] it.
    fn of(v: &RequestView, s: &Settled) -> Option<Fork> {
        let current = v.current();
        let shown = |e: &Rec<ExecutedBody>| Hash::from_hex(&e.body.version) == Some(current.id);
        if v.executions.iter().all(&shown) {
            return None;
        }
        let ran: Vec<&Fact> = v.executions.iter().filter_map(|e| s.fact(e.id)).collect();
        // (Every counted execution is one of `related`: were one not, no review would settle the fork.)
        let reviewed =
            v.reviews.iter().find(|r| ran.len() == v.executions.len() && settles(r, &ran, v, s)).map(|r| r.id);
        let runs = v
            .executions
            .iter()
            .map(|e| ForkRun {
                execution: e.id,
                ts: e.ts,
                version: Hash::from_hex(&e.body.version),
                shown: shown(e),
                same_operation: e.body.revert_digest == current.revert_digest,
                outcome: e.body.outcome,
            })
            .collect();
        Some(Fork { runs, reviewed })
    }

    /// One line: which execution ran which version, and how it ended.
    pub fn describe(&self) -> String {
        let runs: Vec<String> = self
            .runs
            .iter()
            .map(|r| {
                let version = r.version.map_or_else(|| "(not an id)".to_string(), |v| v.short(12));
                let what = if r.shown {
                    ", the record shown"
                } else if r.same_operation {
                    ", the same revert operation"
                } else {
                    ", another revert operation"
                };
                format!("{} ran version {version}{what} ({})", r.execution.short(12), r.outcome.as_str())
            })
            .collect();
        format!("the executions ran different versions of this request: {}", runs.join("; "))
    }

    /// When its review became owed (the latest run), while no review has settled it.
    pub fn owed_since(&self) -> Option<DateTime<Utc>> {
        self.reviewed.is_none().then(|| self.runs.iter().map(|r| r.ts).max()).flatten()
    }

    /// [`Fork::describe`] as a security finding, with whether a review has settled it.
    pub fn line(&self) -> String {
        let reviewed = match self.reviewed {
            Some(id) => format!("reviewed in {}", id.short(12)),
            None => "no review has seen every run yet".into(),
        };
        format!("SECURITY: {} ({reviewed})", self.describe())
    }
}

/// What every fold of one request shares: the request and the rules, and what was settled about each
/// execution met so far (see [`RequestView::fold_with_record`]).
struct Settled<'a> {
    request: &'a Fact,
    /// The request's record and its revert digest, read once for every fold.
    first: (Arc<RequestBody>, String),
    related: &'a [Fact],
    rules: &'a dyn Rules,
    /// Each execution met so far (index into `related`): None when it counted, else why not.
    verdicts: HashMap<usize, Option<String>>,
    /// Each execution that counted: what it had seen and ran under.
    ran: HashMap<usize, Ran>,
    /// Where each entry is in `related`, made when a fork first needs it ([`Settled::fact`]).
    at: std::cell::OnceCell<HashMap<EntryId, usize>>,
}

impl Settled<'_> {
    /// The entry of `related` with id `id` (a map made on first need).
    fn fact(&self, id: EntryId) -> Option<&Fact> {
        let at = self.at.get_or_init(|| self.related.iter().enumerate().map(|(i, f)| (f.id, i)).collect());
        at.get(&id).map(|&i| &self.related[i])
    }
}

/// What an execution that counted had not seen and ran under.
struct Ran {
    /// The earlier entries (indexes, ascending) its log had not seen: usually none.
    unseen: Vec<usize>,
    /// The emergency (index) the request held where it was judged.
    emergency: Option<usize>,
}

/// The kinds an execution that counted defers when its log had not seen them: the ones that change the
/// record or the phase a revert ran in (an amendment, a withdrawal, an emergency). Decisions, evidence,
/// links, notes and the rest stay where they are.
fn deferrable(f: &Fact) -> bool {
    matches!(Action::of_kind(&f.kind), Some(Action::Amend | Action::Withdraw | Action::Emergency))
}

/// One fold of a set of the request's entries, met in position order (FORMAT.md §1.2, *The order entries
/// take effect in*): the deferrals are this set's own, so that a view of what an execution's log had seen
/// is the one that log's machine folded.
struct Replay {
    v: RequestView,
    /// The entries met so far, in the order they took effect.
    order: Vec<usize>,
    /// Met so far.
    held: Vec<bool>,
    /// Deferrable entries met since the last execution that counted (the only ones that can float: at
    /// an execution that counts, each is either in its past, and anchored for good, or deferred).
    candidates: Vec<usize>,
    /// Entries judged after an execution that counted without having seen them: which one.
    deferred: HashMap<usize, usize>,
}

/// Why authorization `g` (an approval, a rejection or an emergency) reviewed nothing, if it did not: it
/// was signed where the request, or the version it names, had not been seen (FORMAT.md §1.2). An entry's
/// id can be computed before it is signed, so a member could otherwise sign decisions in advance on a
/// request a colluding requester files later, and they would outlive the signer's revocation.
fn unseen_authorization(g: &Fact, s: &Settled) -> Option<String> {
    if !matches!(Action::of_kind(&g.kind), Some(Action::Decide | Action::Emergency)) {
        return None;
    }
    if !s.rules.before(s.request, g.pos) {
        return Some("signed where the request had not been seen: it reviewed nothing".into());
    }
    let named = g.body.str_member("version").and_then(|v| Hash::from_hex(&v))?;
    let version = s.related.iter().find(|f| f.id == named && f.kind == AMENDED)?;
    (!s.rules.before(version, g.pos))
        .then(|| "signed where the version it names had not been seen: it reviewed nothing".into())
}

impl Replay {
    fn new(s: &Settled) -> Replay {
        Replay {
            v: RequestView::started(s.request, &s.first, s.rules),
            order: Vec::new(),
            held: vec![false; s.related.len()],
            candidates: Vec::new(),
            deferred: HashMap::new(),
        }
    }

    /// The fold of the entries `keep` keeps among those before `end` (every execution among them settled).
    fn of(s: &Settled, end: usize, keep: impl Fn(usize) -> bool) -> Replay {
        let mut r = Replay::new(s);
        for k in (0..end).filter(|&k| keep(k)) {
            r.meet(s, k);
        }
        r
    }

    /// Meets entry `k` (an execution is settled already). An execution that counted defers the
    /// deferrable entries met so far that it had not seen and that no execution that counted before it
    /// had seen (nor deferred): the request is folded again without them, it takes effect, and they are
    /// judged after it.
    fn meet(&mut self, s: &Settled, k: usize) {
        self.held[k] = true;
        let Some(ran) = s.ran.get(&k) else {
            if deferrable(&s.related[k]) {
                self.candidates.push(k);
            }
            self.take(s, k);
            self.order.push(k);
            return;
        };
        let floating: Vec<usize> = self.candidates.drain(..).filter(|e| ran.unseen.binary_search(e).is_ok()).collect();
        if floating.is_empty() {
            self.take(s, k);
            self.order.push(k);
            return;
        }
        for &e in &floating {
            self.deferred.insert(e, k);
        }
        self.order.retain(|e| self.deferred.get(e) != Some(&k));
        self.v = RequestView::started(s.request, &s.first, s.rules);
        for e in self.order.clone() {
            self.take(s, e);
        }
        self.take(s, k);
        self.order.push(k);
        for e in floating {
            self.take(s, e);
            self.order.push(e);
        }
    }

    /// Applies entry `e` to the request as it stands: an execution with its verdict (and, when it counted,
    /// the emergency it ran under if the request holds none); an entry deferred past an execution saying
    /// so when it does not count.
    fn take(&mut self, s: &Settled, e: usize) {
        let g = &s.related[e];
        if let Some(verdict) = s.verdicts.get(&e) {
            self.v.apply_verdict(g, verdict.clone());
            if let Some(em) = s.ran.get(&e).and_then(|r| r.emergency)
                && self.held[em]
                && self.v.emergency.is_none()
                && let Ok(b) = body::<EmergencyBody>(&s.related[em])
            {
                self.v.rely_on(rec(&s.related[em], b));
            }
            return;
        }
        // (`try_apply`, with the one rule of the fold that reads a fork between judging and taking effect.)
        let tried = unseen_authorization(g, s).map_or_else(
            || {
                self.v.judge(g, s.rules).and_then(|action| match fork_seen_by(&self.v, g, s) {
                    Some(why) => Err(why),
                    None => self.v.take_effect(action, g),
                })
            },
            Err,
        );
        if tried.is_ok() && g.kind == REVIEWED && g.body.str_member("kind").as_deref() == Some("post-hoc") {
            let unseen = |x: &Rec<ExecutedBody>| s.fact(x.id).is_none_or(|xf| !s.rules.before_all(xf, g));
            if self.v.executions.iter().any(unseen) {
                self.v.blind_reviews.push(g.id);
            }
        }
        let outcome = match (tried, self.deferred.get(&e)) {
            (Err(why), Some(&x)) => Err(format!(
                "{why} (signed concurrently with the execution {}, which had not seen it, and judged after it)",
                s.related[x].id.short(12)
            )),
            (outcome, _) => outcome,
        };
        self.v.met(g, outcome);
    }
}

/// Why close `c`, admitted by the phase and the rules, may not count, if it may not: the counted executions
/// it had seen ran different versions, and no counted review it had also seen settled them (by none of
/// their executors, with every one of them in its past; FORMAT.md §1.2, *Forks*). A close that had not seen
/// the fork closes what it knew. Each "seen" is [`Rules::before_all`]: at every position of the later entry.
fn fork_seen_by(v: &RequestView, c: &Fact, s: &Settled) -> Option<String> {
    if c.kind != CLOSED || v.executions.len() < 2 {
        return None;
    }
    let version = |e: &Rec<ExecutedBody>| Hash::from_hex(&e.body.version);
    let first = v.executions.first().map(version)?;
    if v.executions.iter().all(|e| version(e) == first) {
        return None;
    }
    let seen: Vec<(&Fact, Option<Hash>)> = v
        .executions
        .iter()
        .filter_map(|e| s.fact(e.id).map(|f| (f, version(e))))
        .filter(|(f, _)| s.rules.before_all(f, c))
        .collect();
    if seen.iter().all(|(_, v)| *v == seen[0].1) {
        return None;
    }
    let runs: Vec<&Fact> = seen.iter().map(|(f, _)| *f).collect();
    let seen_review = |r: &&Rec<ReviewedBody>| s.fact(r.id).is_some_and(|f| s.rules.before_all(f, c));
    if v.reviews.iter().filter(seen_review).any(|r| settles(r, &runs, v, s)) {
        return None;
    }
    Some(FORK_UNREVIEWED.into())
}

fn body<T: DeserializeOwned>(f: &Fact) -> Result<T, String> {
    f.body.read::<T>().map_err(|e| format!("malformed {} body: {e}", f.kind))
}

fn rec<T>(f: &Fact, body: T) -> Rec<T> {
    Rec { id: f.id, pos: f.pos, index: f.index, ts: f.ts, actor: f.actor, body }
}

impl RequestView {
    /// Starts a view from the `rollback.requested` fact.
    pub fn new(request: &Fact) -> Result<RequestView, InvalidRecord> {
        RequestView::with_record(request, None)
    }

    /// As [`RequestView::new`], with the request's record when the caller has already read it from
    /// `request.body` (None: read here).
    pub fn with_record(request: &Fact, record: Option<RequestBody>) -> Result<RequestView, InvalidRecord> {
        let (record, revert_digest) = RequestView::first_version(request, record)?;
        Ok(RequestView::of_first(request, record, revert_digest))
    }

    /// The request's record (read from `request.body` when None) and its revert digest, once the fact is
    /// found to be a request.
    fn first_version(request: &Fact, record: Option<RequestBody>) -> Result<(Arc<RequestBody>, String), InvalidRecord> {
        if request.kind != REQUESTED {
            return Err(InvalidRecord(format!(
                "entry {} is a {}, not a rollback request",
                request.id.short(12),
                request.kind
            )));
        }
        let record: RequestBody = match record {
            Some(r) => r,
            None => body(request)?,
        };
        let digest = record.revert_digest();
        Ok((Arc::new(record), digest))
    }

    /// The view of request `request` alone, with its record read and its revert digest.
    fn of_first(request: &Fact, record: Arc<RequestBody>, revert_digest: String) -> RequestView {
        RequestView {
            id: request.id,
            pos: request.pos,
            index: request.index,
            ts: request.ts,
            requester: request.actor,
            versions: vec![Version {
                id: request.id,
                pos: request.pos,
                index: request.index,
                ts: request.ts,
                actor: request.actor,
                revert_digest,
                record,
                reason: None,
            }],
            phase: Phase::Open,
            decisions: Vec::new(),
            emergency: None,
            executions: Vec::new(),
            validations: Vec::new(),
            reviews: Vec::new(),
            closure: None,
            withdrawal: None,
            incidents: Vec::new(),
            notes: Vec::new(),
            evidence: Vec::new(),
            fork: None,
            blind_reviews: Vec::new(),
            first_run: None,
            timeline: vec![TimelineItem {
                pos: request.pos,
                index: request.index,
                id: request.id,
                kind: request.kind.clone(),
                actor: request.actor,
                ts: request.ts,
                ignored: None,
            }],
        }
    }

    /// Folds a request and its related entries (in log order).
    pub fn fold(request: &Fact, related: &[Fact], rules: &dyn Rules) -> Result<RequestView, InvalidRecord> {
        RequestView::fold_with_record(request, None, related, rules)
    }

    /// As [`RequestView::fold`], with the request's record when the caller has already read it (see
    /// [`RequestView::with_record`]).
    ///
    /// Entries take effect in position order, with one exception (FORMAT.md §1.2, *The order entries take
    /// effect in*): an execution is judged on the fold of what its log had seen (the fold its machine
    /// made), and when it counts, the amendments, withdrawals and emergencies positioned before it that
    /// its log had not seen (signed concurrently, perhaps backdated) and that no earlier execution that
    /// counted had seen either are judged after it instead ([`Replay::meet`]) — they never change the
    /// record or the phase of a revert that ran.
    pub fn fold_with_record(
        request: &Fact,
        record: Option<RequestBody>,
        related: &[Fact],
        rules: &dyn Rules,
    ) -> Result<RequestView, InvalidRecord> {
        let mut settled = Settled {
            request,
            first: RequestView::first_version(request, record)?,
            related,
            rules,
            verdicts: HashMap::new(),
            ran: HashMap::new(),
            at: Default::default(),
        };
        let mut main = Replay::new(&settled);
        for (i, f) in related.iter().enumerate() {
            if Action::of_kind(&f.kind) != Some(Action::Execute) {
                main.meet(&settled, i);
                continue;
            }
            // Asked once per earlier entry (an entry several logs hold may be looked up).
            let past: Vec<bool> = related[..i].iter().map(|g| rules.before(g, f.pos)).collect();
            // Judged on the request folded from what its log had seen (the fold its machine made), each
            // earlier execution there keeping the verdict it was given (its own past lies within this
            // one's), so no execution is judged twice.
            let elsewhere = if past.contains(&false) { Some(Replay::of(&settled, i, |k| past[k])) } else { None };
            let seen = elsewhere.as_ref().map_or(&main.v, |r| &r.v);
            let verdict = seen.judge(f, rules).and_then(|_| body::<ExecutedBody>(f));
            match verdict {
                Ok(_) => {
                    let emergency =
                        seen.emergency.as_ref().and_then(|em| related[..i].iter().position(|g| g.id == em.id));
                    let unseen = past.iter().enumerate().filter(|(_, seen)| !**seen).map(|(k, _)| k).collect();
                    settled.verdicts.insert(i, None);
                    settled.ran.insert(i, Ran { unseen, emergency });
                }
                Err(why) => {
                    settled.verdicts.insert(i, Some(why));
                }
            }
            main.meet(&settled, i);
        }
        let mut v = main.v;
        if !main.deferred.is_empty() {
            // Shown in position order, as every other request's timeline is (the request itself first).
            v.timeline[1..].sort_by_key(|t| t.pos);
        }
        v.fork = Fork::of(&v, &settled);
        Ok(v)
    }

    /// The request alone, its own entry judged by `rules`.
    fn started(request: &Fact, first: &(Arc<RequestBody>, String), rules: &dyn Rules) -> RequestView {
        let mut v = RequestView::of_first(request, Arc::clone(&first.0), first.1.clone());
        if let Err(why) = rules.allow(Action::Request, request, &v) {
            v.timeline[0].ignored = Some(why.0);
        }
        v
    }

    /// The version in force.
    pub fn current(&self) -> &Version {
        self.versions.last().expect("a view always has its first version")
    }

    pub fn record(&self) -> &RequestBody {
        &self.current().record
    }

    /// Whether the request was filed by a key whose entry did not count.
    pub(crate) fn request_counted(&self) -> bool {
        self.timeline.first().is_some_and(|t| t.ignored.is_none())
    }

    pub(crate) fn last_outcome(&self) -> Option<Outcome> {
        self.executions.last().map(|e| e.body.outcome)
    }

    /// Whether decisions are taken: while open, and again after a run that did not succeed (the revert
    /// may run again, so a rejection must still be able to stop it).
    pub(crate) fn takes_decisions(&self) -> bool {
        self.phase == Phase::Open || self.retry_possible()
    }

    /// Executed, and the latest run did not succeed: it may run again.
    pub(crate) fn retry_possible(&self) -> bool {
        self.phase == Phase::Executed && self.last_outcome().is_some_and(|o| o != Outcome::Succeeded)
    }

    /// Whether a review is owed: an emergency was invoked and no post-hoc review that settles it recorded
    /// ([`RequestView::settles_emergency`]), or the executions forked and no review had seen them all
    /// ([`Fork`]).
    pub(crate) fn review_owed(&self) -> bool {
        self.emergency_review_owed() || self.fork_unreviewed()
    }

    /// Whether an emergency was invoked and no counted post-hoc review settles it.
    pub(crate) fn emergency_review_owed(&self) -> bool {
        self.emergency.is_some()
            && !self.reviews.iter().any(|r| {
                r.body.kind == ReviewKind::PostHoc && self.settles_emergency(&r.actor) && self.saw_every_run(r)
            })
    }

    /// Whether review `r` had every run that counted in its past: none positioned after it (position order
    /// extends causal order), and none before it that its log had not seen ([`RequestView::blind_reviews`]).
    /// A run recorded from a copy that had not seen the review is a run nobody reviewed.
    fn saw_every_run(&self, r: &Rec<ReviewedBody>) -> bool {
        !self.blind_reviews.contains(&r.id) && self.executions.iter().all(|x| x.pos < r.pos)
    }

    /// Whether a post-hoc review `key` signs may settle the request's emergency (FORMAT.md §1.2): `key`
    /// did not sign the emergency that counts, nor any counted execution, nor any version of the request.
    /// Whoever broke the glass, ran the revert under it, or asked for it, does not review it: the review is
    /// the emergency path's only approval, and a requester's own would be self-approval.
    pub(crate) fn settles_emergency(&self, key: &PublicKey) -> bool {
        self.settles_emergency_by(&|k| k == key)
    }

    /// [`RequestView::settles_emergency`] for a reviewer that `is_reviewer` recognizes among the keys (the
    /// policy's rules ask it of every key of the reviewing member).
    pub(crate) fn settles_emergency_by(&self, is_reviewer: &dyn Fn(&PublicKey) -> bool) -> bool {
        self.emergency.as_ref().is_some_and(|e| !is_reviewer(&e.actor))
            && !self.executions.iter().any(|x| is_reviewer(&x.actor))
            && !self.versions.iter().any(|v| is_reviewer(&v.actor))
    }

    /// Why the member `is_signer` recognizes among the keys (every key of it, `Roster::same_member`) may not
    /// sign a post-hoc review of this request, if it may not: it invoked the emergency or ran the revert
    /// (rollcall does not sign a review that would settle nothing; a post-incident review is anyone's).
    pub(crate) fn post_hoc_refusal(&self, is_signer: &dyn Fn(&PublicKey) -> bool) -> Option<&'static str> {
        (self.emergency.is_some() && !self.settles_emergency_by(is_signer)).then_some(
            "the signer invoked this emergency, ran its revert or filed or amended the request; its post-hoc \
             review must come from someone who did none of these (a post-incident review is open to anyone)",
        )
    }

    /// Whether the executions forked ([`Fork`]) and no review that counted had seen every run.
    pub(crate) fn fork_unreviewed(&self) -> bool {
        self.fork.as_ref().is_some_and(|f| f.reviewed.is_none())
    }

    /// Whether a review the member `is_signer` recognizes signs now could settle what is owed: an
    /// emergency's post-hoc review (by neither its invoker nor an executor), or a fork's (by none of its
    /// runs' executors).
    pub(crate) fn review_owed_by(&self, is_signer: &dyn Fn(&PublicKey) -> bool) -> bool {
        (self.emergency_review_owed() && self.settles_emergency_by(is_signer))
            || (self.fork_unreviewed()
                && !self.executions.iter().any(|e| is_signer(&e.actor))
                && !self.versions.iter().any(|v| is_signer(&v.actor)))
    }

    /// The ids of the evidence entries an approver signs as reviewed: every one attached to the request,
    /// purged or not (a purge removes bytes, not what the signed entry says the file was).
    pub(crate) fn evidence_ids(&self) -> Vec<EntryId> {
        self.evidence.iter().map(|e| e.rec.id).collect()
    }

    /// The version that last changed the revert operation (`{env, revert}`, see `revert_digest`): its
    /// signer authored what would run now.
    pub(crate) fn revert_author(&self) -> &Version {
        let mut author = &self.versions[0];
        for v in &self.versions[1..] {
            if v.revert_digest != author.revert_digest {
                author = v;
            }
        }
        author
    }

    /// Open deadlines at `now`.
    pub(crate) fn obligations(&self, now: DateTime<Utc>) -> Vec<Obligation> {
        let mut out = Vec::new();
        // Withdrawing ends every obligation but an emergency's review: the glass was broken, and the gate
        // stood open while it held.
        if let Some(e) = &self.emergency
            && self.emergency_review_owed()
            && let Some(due) = super::record::parse_time(&e.body.review_due)
        {
            out.push(Obligation {
                request: self.id,
                kind: "post-hoc-review",
                due,
                overdue: now > due,
                detail: "post-hoc review of an emergency rollback".into(),
            });
        }
        if self.phase == Phase::Withdrawn {
            return out;
        }
        if let Some(fork) = &self.fork
            && let Some(due) = fork.owed_since()
        {
            // Owed from the moment the second revert ran: nothing it waits for.
            out.push(Obligation {
                request: self.id,
                kind: "fork-review",
                due,
                overdue: now > due,
                detail: format!("{}: review what ran", fork.describe()),
            });
        }
        let executed = self.executions.iter().any(|e| e.body.outcome != Outcome::Failed);
        if executed
            && self.closure.is_none()
            && let Some(due) = self.record().temporary_until_time()
        {
            out.push(Obligation {
                request: self.id,
                kind: "temporary-revert",
                due,
                overdue: now > due,
                detail: "temporary revert: roll forward or make permanent".into(),
            });
        }
        out
    }

    /// Whether `action` is admitted in the current phase, and why not.
    pub(crate) fn admits(&self, action: Action) -> Result<(), Refusal> {
        use Phase::*;
        let phase = self.phase;
        let ok = match action {
            Action::Request => false,
            Action::Amend => phase == Open,
            // After a failed run only: a partial run changed something, and an owed review must not vanish
            // with the request.
            Action::Withdraw => {
                matches!(phase, Open | Emergency)
                    || (self.retry_possible()
                        && self.executions.iter().all(|e| e.body.outcome == Outcome::Failed)
                        && !self.review_owed())
            }
            // Under an emergency too: one that a stricter policy does not let waive anything leaves the
            // request needing approvals (a valid one waives them, and rejections, anyway).
            Action::Decide => self.takes_decisions() || phase == Emergency,
            Action::Emergency => phase == Open,
            Action::Execute => matches!(phase, Open | Emergency) || self.retry_possible(),
            Action::Validate => matches!(phase, Executed | Validated | Reviewed),
            // A withdrawn request whose emergency counted still owes its post-hoc review (the gate was open:
            // a revert may have run unrecorded), and takes it.
            Action::Review => {
                matches!(phase, Executed | Validated | Reviewed | Closed)
                    || (phase == Withdrawn && self.emergency_review_owed())
            }
            Action::Close => matches!(phase, Executed | Validated | Reviewed) && !self.review_owed(),
            Action::Link | Action::Note | Action::Evidence | Action::Purge => true,
        };
        if ok {
            return Ok(());
        }
        let state = match phase {
            Open => "open",
            Emergency => "under an emergency",
            Executed => "executed",
            Validated => "validated",
            Reviewed => "reviewed",
            Closed => "closed",
            Withdrawn => "withdrawn",
        };
        Err(Refusal(match action {
            Action::Close if self.emergency_review_owed() => EMERGENCY_UNREVIEWED.into(),
            Action::Close if self.fork_unreviewed() => FORK_UNREVIEWED.into(),
            Action::Execute if phase == Executed => "it was already executed successfully".into(),
            Action::Validate | Action::Review | Action::Close if phase < Executed => {
                format!("the request is {state} and has not been executed yet")
            }
            _ => format!("the request is {state}"),
        }))
    }

    /// Applies one related entry.
    pub(crate) fn apply(&mut self, f: &Fact, rules: &dyn Rules) {
        let outcome = self.try_apply(f, rules);
        self.met(f, outcome);
    }

    /// Applies an entry already judged elsewhere: `None` when it counted (it only takes effect), else why not.
    fn apply_verdict(&mut self, f: &Fact, verdict: Option<String>) {
        let outcome = match verdict {
            None => Action::of_kind(&f.kind)
                .ok_or_else(|| format!("{} is not a request entry", f.kind))
                .and_then(|action| self.take_effect(action, f)),
            Some(why) => Err(why),
        };
        self.met(f, outcome);
    }

    /// Holds `em` as the request's emergency, counted (an execution that counted ran under it, FORMAT.md
    /// §1.2), though the phase refused it where it was met: its post-hoc review is owed.
    fn rely_on(&mut self, em: Rec<EmergencyBody>) {
        if let Some(t) = self.timeline.iter_mut().find(|t| t.id == em.id) {
            t.ignored = None;
        }
        self.emergency = Some(em);
    }

    /// Adds `f` to the timeline, with why it did not count when it did not.
    fn met(&mut self, f: &Fact, outcome: Result<(), String>) {
        self.timeline.push(TimelineItem {
            pos: f.pos,
            index: f.index,
            id: f.id,
            kind: f.kind.clone(),
            actor: f.actor,
            ts: f.ts,
            ignored: outcome.err(),
        });
    }

    fn try_apply(&mut self, f: &Fact, rules: &dyn Rules) -> Result<(), String> {
        let action = self.judge(f, rules)?;
        self.take_effect(action, f)
    }

    /// Whether the request as it stands admits `f` (it names it, the phase admits its action, the rules
    /// allow it), and as what action.
    fn judge(&self, f: &Fact, rules: &dyn Rules) -> Result<Action, String> {
        let action = Action::of_kind(&f.kind).ok_or_else(|| format!("{} is not a request entry", f.kind))?;
        let request_field = f.body.str_member("request").and_then(|r| Hash::from_hex(&r));
        if action != Action::Note && request_field != Some(self.id) {
            return Err("names another request".into());
        }
        self.admits(action).map_err(|r| r.0)?;
        rules.allow(action, f, self).map_err(|r| r.0)?;
        Ok(action)
    }

    /// Takes an admitted entry's effect on the request.
    fn take_effect(&mut self, action: Action, f: &Fact) -> Result<(), String> {
        match action {
            Action::Request => return Err("a request cannot be filed twice".into()),
            Action::Amend => {
                let b: AmendedBody = body(f)?;
                if Hash::from_hex(&b.previous) != Some(self.current().id) {
                    return Err("amends a version that is no longer current".into());
                }
                // A new version ends what was decided on the last (its rejections included): one that changes
                // nothing would lift a rejection with nothing addressed.
                if b.record == *self.current().record {
                    return Err("changes nothing: the record is the current version's own".into());
                }
                b.record.validate().map_err(|r| r.0)?;
                self.versions.push(Version {
                    id: f.id,
                    pos: f.pos,
                    index: f.index,
                    ts: f.ts,
                    actor: f.actor,
                    revert_digest: b.record.revert_digest(),
                    record: Arc::new(b.record),
                    reason: Some(b.reason),
                });
            }
            Action::Withdraw => {
                self.withdrawal = Some(rec(f, body(f)?));
                self.phase = Phase::Withdrawn;
            }
            Action::Decide => {
                let b: DecisionBody = body(f)?;
                let kind_matches = (f.kind == APPROVED) == (b.decision == Decision::Approve);
                if !kind_matches {
                    return Err("the decision does not match the entry kind".into());
                }
                if !self.versions.iter().any(|v| Hash::from_hex(&b.version) == Some(v.id)) {
                    return Err("decides on a version this request never had".into());
                }
                if b.comment.trim().is_empty() {
                    return Err("a decision needs a comment".into());
                }
                self.decisions.push(rec(f, b));
            }
            Action::Emergency => {
                let b: EmergencyBody = body(f)?;
                if b.reason.trim().is_empty() {
                    return Err("an emergency needs a reason".into());
                }
                // Whoever breaks the glass authorizes what they saw: an amendment that took effect before
                // (signed concurrently, or placed there by a log of its signer's making) changed what would
                // run, and an emergency naming the version before it waives nothing for the new one.
                if Hash::from_hex(&b.version) != Some(self.current().id) {
                    return Err("names a version the request no longer shows (it was amended before the \
                                emergency took effect): invoke it again for the version shown"
                        .into());
                }
                self.emergency = Some(rec(f, b));
                self.phase = Phase::Emergency;
            }
            Action::Execute => {
                let b: ExecutedBody = body(f)?;
                self.executions.push(rec(f, b));
                self.phase = Phase::Executed;
            }
            Action::Validate => {
                self.validations.push(rec(f, body(f)?));
                if self.phase == Phase::Executed {
                    self.phase = Phase::Validated;
                }
            }
            Action::Review => {
                self.reviews.push(rec(f, body(f)?));
                if !matches!(self.phase, Phase::Closed | Phase::Withdrawn) {
                    self.phase = Phase::Reviewed;
                }
            }
            Action::Close => {
                self.closure = Some(rec(f, body(f)?));
                self.phase = Phase::Closed;
            }
            Action::Link => self.incidents.push(rec(f, body(f)?)),
            Action::Note => self.notes.push(rec(f, body(f)?)),
            Action::Evidence => {
                let while_open = self.phase == Phase::Open;
                self.evidence.push(EvidenceRec { rec: rec(f, body(f)?), purged: None, while_open })
            }
            Action::Purge => {
                let b: PurgedBody = body(f)?;
                let target = Hash::from_hex(&b.evidence);
                let e = self
                    .evidence
                    .iter_mut()
                    .find(|e| Some(e.rec.id) == target)
                    .ok_or("purges evidence this request does not have")?;
                if e.purged.is_some() {
                    return Err("that evidence was already purged".into());
                }
                e.purged = Some(rec(f, b));
            }
        }
        Ok(())
    }
}

/// Facts for the unit tests of the projection and of the policy's evaluation.
#[cfg(test)]
pub mod tests_support {
    use super::*;
    use ed25519_dalek::SigningKey;

    /// The public key of the key whose bytes are all `n`.
    pub fn key(n: u8) -> PublicKey {
        PublicKey::from_signing(&SigningKey::from_bytes(&[n; 32]))
    }

    /// A fact at position and index `pos`, stamped `pos` minutes after 2026-11-23 10:00 UTC, by key(actor).
    pub fn fact(pos: u64, kind: &str, actor: u8, body: serde_json::Value) -> Fact {
        Fact {
            pos: pos as Pos,
            index: pos,
            id: Hash::of(&[&pos.to_be_bytes()]),
            kind: kind.into(),
            actor: key(actor),
            ts: DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().with_timezone(&Utc)
                + chrono::Duration::minutes(pos as i64),
            body: crate::audit::fact_body::Body::of(&body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::tests_support::sample;
    use serde_json::json;

    use tests_support::{fact, key};

    fn request() -> Fact {
        fact(1, REQUESTED, 1, serde_json::to_value(sample()).unwrap())
    }

    fn rid() -> String {
        request().id.to_hex()
    }

    #[test]
    fn lifecycle_moves_and_refusals() {
        let r = request();
        let v = RequestView::fold(&r, &[], &NoRules).unwrap();
        assert_eq!(v.phase, Phase::Open);
        assert!(v.admits(Action::Validate).unwrap_err().0.contains("not been executed"));
        let exec = fact(
            2,
            EXECUTED,
            3,
            json!({"request": rid(), "version": rid(), "revert_digest": "x", "env": "production", "from": "42", "to": "41", "command": ["helm"], "outcome": "succeeded"}),
        );
        let validate = fact(3, VALIDATED, 3, json!({"request": rid(), "result": "pass"}));
        let approve_late = fact(
            4,
            APPROVED,
            2,
            json!({"request": rid(), "version": rid(), "revert_digest": "x", "evidence": [], "policy": rid(), "decision": "approve", "comment": "ok"}),
        );
        let close = fact(5, CLOSED, 1, json!({"request": rid(), "resolution": "made-permanent", "comment": "done"}));
        let v = RequestView::fold(&r, &[exec, validate, approve_late, close], &NoRules).unwrap();
        assert_eq!(v.phase, Phase::Closed);
        assert!(v.timeline[3].ignored.as_deref().unwrap().contains("validated"), "{:?}", v.timeline[3]);
        assert!(v.decisions.is_empty());
    }

    /// docs/FORMAT.md's lifecycle table says in which phases each kind is admitted: read from the document
    /// and checked against `admits` for every kind and phase, so that the two cannot drift apart. (An
    /// execution after one that did not succeed, the table's one exception, is checked after it.)
    #[test]
    fn the_lifecycle_table_of_format_md_is_what_admits_does() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FORMAT.md")).unwrap();
        let start = doc.find("| kind | admitted in phase |").expect("FORMAT.md's lifecycle table");
        let rows: Vec<&str> = doc[start..].lines().skip(2).take_while(|l| l.starts_with('|')).collect();
        use Phase::*;
        let phases = [
            ("open", Open),
            ("emergency", Emergency),
            ("executed", Executed),
            ("validated", Validated),
            ("reviewed", Reviewed),
            ("closed", Closed),
            ("withdrawn", Withdrawn),
        ];
        let r = request();
        let executed = |outcome: &str| {
            let body = json!({"request": rid(), "version": rid(), "revert_digest": "x", "env": "production",
                "from": "42", "to": "41", "command": ["helm"], "outcome": outcome});
            RequestView::fold(&r, &[fact(2, EXECUTED, 3, body)], &NoRules).unwrap()
        };
        // A view that executed successfully and owes no review, put in each phase in turn.
        let base = executed("succeeded");
        let mut kinds_seen = Vec::new();
        for row in rows {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let kinds: Vec<&str> = cells[1].split('`').skip(1).step_by(2).collect();
            let admitted = cells[2].split(';').next().unwrap();
            let words: Vec<&str> = admitted.split(|c: char| !c.is_alphanumeric() && c != '-').collect();
            for kind in kinds {
                let action = Action::of_kind(kind).unwrap_or_else(|| panic!("{kind} is no lifecycle kind"));
                for (name, phase) in phases {
                    let mut v = base.clone();
                    v.phase = phase;
                    let documented = admitted == "any" || words.contains(&name);
                    assert_eq!(
                        v.admits(action).is_ok(),
                        documented,
                        "{kind} in phase {name}: FORMAT.md says {admitted:?}"
                    );
                }
                kinds_seen.push(kind);
            }
        }
        assert_eq!(
            kinds_seen.len(),
            REQUEST_KINDS.len() + 1,
            "rollback.requested and every kind that names a request: {kinds_seen:?}"
        );
        assert!(executed("failed").admits(Action::Execute).is_ok());
        assert!(executed("partial").admits(Action::Execute).is_ok());
        // The table's exceptions for a run that did not succeed: decisions, and a withdrawal after failed
        // runs only.
        assert!(executed("failed").admits(Action::Decide).is_ok());
        assert!(executed("partial").admits(Action::Decide).is_ok());
        assert!(executed("failed").admits(Action::Withdraw).is_ok());
        assert!(executed("partial").admits(Action::Withdraw).is_err());
    }

    #[test]
    fn amendment_must_follow_the_current_version() {
        let r = request();
        let mut rec2 = sample();
        rec2.title = "new title".into();
        let a1 = fact(2, AMENDED, 1, json!({"request": rid(), "previous": rid(), "reason": "typo", "record": rec2}));
        let a2 =
            fact(3, AMENDED, 1, json!({"request": rid(), "previous": rid(), "reason": "stale", "record": sample()}));
        let v = RequestView::fold(&r, &[a1, a2], &NoRules).unwrap();
        assert_eq!(v.versions.len(), 2);
        assert_eq!(v.record().title, "new title");
        assert!(v.timeline[2].ignored.as_deref().unwrap().contains("no longer current"));
    }

    #[test]
    fn the_author_of_the_revert_operation() {
        let r = request();
        let mut retitled = sample();
        retitled.title = "clearer title".into();
        let mut rerouted = retitled.clone();
        rerouted.revert.argv.push("--force".into());
        let a1 =
            fact(2, AMENDED, 2, json!({"request": rid(), "previous": rid(), "reason": "title", "record": retitled}));
        let v = RequestView::fold(&r, std::slice::from_ref(&a1), &NoRules).unwrap();
        assert_eq!(v.revert_author().id, r.id, "a new title leaves the operation with its author");
        let a2 = fact(
            3,
            AMENDED,
            3,
            json!({"request": rid(), "previous": a1.id.to_hex(), "reason": "force", "record": rerouted}),
        );
        let v = RequestView::fold(&r, &[a1, a2.clone()], &NoRules).unwrap();
        assert_eq!(v.revert_author().id, a2.id);
        assert_eq!(v.revert_author().actor, key(3));
    }

    #[test]
    fn evidence_remembers_whether_the_request_was_open() {
        let r = request();
        let ev = |pos| {
            fact(pos, EVIDENCE_ATTACHED, 1, json!({"request": rid(), "kind": "log", "url": "https://ci.example/1"}))
        };
        let exec = fact(
            3,
            EXECUTED,
            3,
            json!({"request": rid(), "version": rid(), "revert_digest": "x", "env": "production", "from": "42", "to": "41", "command": ["helm"], "outcome": "succeeded"}),
        );
        let v = RequestView::fold(&r, &[ev(2), exec, ev(4)], &NoRules).unwrap();
        assert_eq!(v.evidence.iter().map(|e| e.while_open).collect::<Vec<_>>(), [true, false]);
        assert_eq!(v.evidence_ids().len(), 2);
    }

    #[test]
    fn emergency_requires_review_before_close_and_creates_obligation() {
        let r = request();
        let em = fact(
            2,
            EMERGENCY,
            2,
            json!({"request": rid(), "version": rid(), "reason": "outage", "review_due": "2026-11-25T10:00:00Z"}),
        );
        let exec = fact(
            3,
            EXECUTED,
            3,
            json!({"request": rid(), "version": rid(), "revert_digest": "x", "env": "production", "from": "42", "to": "41", "command": ["helm"], "outcome": "succeeded"}),
        );
        let close = fact(4, CLOSED, 1, json!({"request": rid(), "resolution": "made-permanent", "comment": "done"}));
        let v = RequestView::fold(&r, &[em.clone(), exec.clone(), close], &NoRules).unwrap();
        assert_eq!(v.phase, Phase::Executed);
        assert!(v.timeline[3].ignored.as_deref().unwrap().contains("post-hoc review"));
        let now = DateTime::parse_from_rfc3339("2026-11-26T00:00:00Z").unwrap().with_timezone(&Utc);
        let obligations = v.obligations(now);
        assert_eq!(obligations.len(), 1);
        assert!(obligations[0].overdue);
        let review =
            fact(5, REVIEWED, 4, json!({"request": rid(), "kind": "post-hoc", "summary": "ok", "lessons": ["x"]}));
        let v = RequestView::fold(&r, &[em.clone(), exec.clone(), review], &NoRules).unwrap();
        assert_eq!(v.phase, Phase::Reviewed);
        assert!(v.obligations(now).is_empty());
    }

    /// An approval or an emergency signed where the request (or the version it names) had not been seen
    /// reviewed nothing and does not count: a member could sign one in advance on a request id a colluding
    /// requester computes and files later (it would outlive the signer's revocation). The same entries,
    /// signed where it had been seen, count.
    #[test]
    fn authorizations_signed_before_their_request_was_seen_do_not_count() {
        /// Position order, except for the (earlier, later) pairs listed: not seen.
        struct Unseen(Vec<(u128, u128)>);
        impl Rules for Unseen {
            fn allow(&self, _: Action, _: &Fact, _: &RequestView) -> Result<(), Refusal> {
                Ok(())
            }
            fn before(&self, earlier: &Fact, later: Pos) -> bool {
                earlier.pos <= later && !self.0.contains(&(earlier.pos, later))
            }
        }
        let r = request();
        let approve_at = |pos: u64, version: &Fact| approve(pos, version);
        let emergency = fact(
            4,
            EMERGENCY,
            3,
            json!({"request": rid(), "version": rid(), "reason": "outage", "review_due": "2026-11-25T10:00:00Z"}),
        );
        let related = [approve_at(3, &r), emergency.clone()];
        let v = RequestView::fold(&r, &related, &Unseen(vec![(1, 3), (1, 4)])).unwrap();
        assert!(v.decisions.is_empty() && v.emergency.is_none(), "{v:?}");
        assert!(v.timeline[1].ignored.as_deref().unwrap().contains("request had not been seen"), "{:?}", v.timeline);
        let v = RequestView::fold(&r, &related, &Unseen(vec![])).unwrap();
        assert!(v.decisions.len() == 1 && v.emergency.is_some(), "{v:?}");
        // An approval of an amended version, signed where the amendment (at 2) had not been seen.
        let v2 = amend(2, &rid(), "amended");
        let v = RequestView::fold(&r, &[v2.clone(), approve_at(3, &v2)], &Unseen(vec![(2, 3)])).unwrap();
        assert!(v.decisions.is_empty(), "{v:?}");
        assert!(v.timeline[2].ignored.as_deref().unwrap().contains("version it names"), "{:?}", v.timeline);
    }

    /// An amendment that changes nothing is not admitted: it would end a rejection of the version it
    /// repeats (decisions count only on the current version) with nothing addressed.
    #[test]
    fn an_amendment_that_changes_nothing_does_not_lift_a_rejection() {
        let r = request();
        let reject = fact(
            2,
            REJECTED,
            3,
            json!({"request": rid(), "version": rid(), "revert_digest": "x", "evidence": [], "policy": rid(),
                   "decision": "reject", "comment": "not this"}),
        );
        let same =
            fact(3, AMENDED, 1, json!({"request": rid(), "previous": rid(), "reason": "again", "record": sample()}));
        let v = RequestView::fold(&r, &[reject.clone(), same], &NoRules).unwrap();
        assert_eq!(v.versions.len(), 1, "{v:?}");
        assert!(v.timeline[2].ignored.as_deref().unwrap().contains("changes nothing"), "{:?}", v.timeline);
        let changed = amend(3, &rid(), "addressed the rejection");
        assert_eq!(RequestView::fold(&r, &[reject, changed], &NoRules).unwrap().versions.len(), 2);
    }

    /// An emergency naming a version the request no longer shows (an amendment took effect before it) is
    /// not admitted: its invoker authorized the operation they saw, not the amended one. Naming the version
    /// shown, it is.
    #[test]
    fn an_emergency_is_for_the_version_it_names() {
        let r = request();
        let v2 = amend(2, &rid(), "changed before the glass broke");
        let emergency = |pos: u64, version: &Fact| {
            fact(
                pos,
                EMERGENCY,
                2,
                json!({"request": rid(), "version": version.id.to_hex(), "reason": "outage", "review_due": "2026-11-25T10:00:00Z"}),
            )
        };
        let v = RequestView::fold(&r, &[v2.clone(), emergency(3, &r)], &NoRules).unwrap();
        assert!(v.emergency.is_none() && v.phase == Phase::Open, "{v:?}");
        assert!(v.timeline[2].ignored.as_deref().unwrap().contains("no longer shows"), "{:?}", v.timeline);
        let v = RequestView::fold(&r, &[v2.clone(), emergency(3, &v2)], &NoRules).unwrap();
        assert!(v.emergency.is_some() && v.phase == Phase::Emergency, "{v:?}");
    }

    /// Whoever broke the glass (2), ran the revert under it (3) or filed the request (1) does not settle the
    /// emergency's post-hoc review, nor does a post-incident review; until someone else's post-hoc review,
    /// the close is refused.
    #[test]
    fn an_emergencys_post_hoc_review_is_not_its_invokers_or_executors() {
        let r = request();
        let em = fact(
            2,
            EMERGENCY,
            2,
            json!({"request": rid(), "version": rid(), "reason": "outage", "review_due": "2026-11-25T10:00:00Z"}),
        );
        let exec = run(3, &r, "succeeded");
        let review = |pos: u64, actor: u8, kind: &str| {
            fact(pos, REVIEWED, actor, json!({"request": rid(), "kind": kind, "summary": "s", "lessons": []}))
        };
        let close = |pos: u64| {
            fact(pos, CLOSED, 1, json!({"request": rid(), "resolution": "made-permanent", "comment": format!("{pos}")}))
        };
        let now = DateTime::parse_from_rfc3339("2026-11-26T00:00:00Z").unwrap().with_timezone(&Utc);
        let own = [
            review(4, 2, "post-hoc"),
            review(5, 3, "post-hoc"),
            review(6, 1, "post-hoc"),
            review(7, 4, "post-incident"),
        ];
        let mut related = vec![em, exec];
        related.extend(own.iter().cloned());
        related.push(close(8));
        let v = RequestView::fold(&r, &related, &NoRules).unwrap();
        assert_eq!((v.phase, v.reviews.len()), (Phase::Reviewed, 4), "{v:?}");
        assert!(v.review_owed(), "{v:?}");
        assert_eq!(v.obligations(now).iter().map(|o| o.kind).collect::<Vec<_>>(), ["post-hoc-review"]);
        assert_eq!(why(&v, &related[6]), EMERGENCY_UNREVIEWED);
        assert!(![1, 2, 3].iter().any(|k| v.review_owed_by(&|x| *x == key(*k))) && v.review_owed_by(&|x| *x == key(4)));
        assert!(v.post_hoc_refusal(&|x| *x == key(1)).is_some_and(|w| w.contains("filed or amended")));
        // Someone else's post-hoc review settles it, and a close after it counts.
        related.pop();
        related.extend([review(9, 4, "post-hoc"), close(10)]);
        let v = RequestView::fold(&r, &related, &NoRules).unwrap();
        assert_eq!(v.phase, Phase::Closed, "{v:?}");
        assert!(!v.review_owed() && v.obligations(now).is_empty(), "{v:?}");
    }

    #[test]
    fn entries_for_other_requests_are_ignored() {
        let r = request();
        let other = fact(2, WITHDRAWN, 1, json!({"request": Hash([9; 32]).to_hex(), "reason": "x"}));
        let v = RequestView::fold(&r, &[other], &NoRules).unwrap();
        assert_eq!(v.phase, Phase::Open);
        assert!(v.timeline[1].ignored.is_some());
    }

    /// An execution is judged by the request as its log had seen it. Here positions 10 and up were signed on
    /// another machine that had seen nothing after the request, and nothing of it was seen by the machine
    /// that recorded the execution (position 30): a rejection there, positioned before the execution, does
    /// not void it; an approval there does not make an execution count that the approvals it had seen did not
    /// allow. With position order alone (no causality) both would.
    #[test]
    fn an_execution_is_judged_by_what_its_log_had_seen() {
        /// Executes only with at least `need` approvals and no rejection; entries at 10..20 are concurrent
        /// with everything else after the request.
        struct Need(usize, bool);
        impl Rules for Need {
            fn allow(&self, action: Action, _: &Fact, view: &RequestView) -> Result<(), Refusal> {
                let count = |d: Decision| view.decisions.iter().filter(|x| x.body.decision == d).count();
                if action == Action::Execute && (count(Decision::Approve) < self.0 || count(Decision::Reject) > 0) {
                    return Err(Refusal("not allowed".into()));
                }
                Ok(())
            }
            fn before(&self, a: &Fact, b: Pos) -> bool {
                let (a, elsewhere) = (a.pos, |p: Pos| (10..20).contains(&p));
                if self.1 { a <= b } else { a <= 1 || (a <= b && elsewhere(a) == elsewhere(b)) }
            }
        }
        let r = request();
        let decide = |pos: u64, actor: u8, decision: &str| {
            let kind = if decision == "approve" { APPROVED } else { REJECTED };
            fact(
                pos,
                kind,
                actor,
                json!({"request": rid(), "version": rid(), "revert_digest": "x", "evidence": [], "policy": rid(), "decision": decision, "comment": "c"}),
            )
        };
        let exec = fact(
            30,
            EXECUTED,
            3,
            json!({"request": rid(), "version": rid(), "revert_digest": "x", "env": "production", "from": "42", "to": "41", "command": ["helm"], "outcome": "succeeded"}),
        );
        let counted = |rules: &Need, related: &[Fact]| {
            let v = RequestView::fold(&r, related, rules).unwrap();
            v.timeline.last().unwrap().ignored.is_none()
        };
        let rejected_elsewhere = [decide(2, 2, "approve"), decide(12, 4, "reject"), exec.clone()];
        assert!(counted(&Need(1, false), &rejected_elsewhere));
        assert!(!counted(&Need(1, true), &rejected_elsewhere), "by position alone");
        let approved_elsewhere = [decide(2, 2, "approve"), decide(12, 4, "approve"), exec];
        assert!(!counted(&Need(2, false), &approved_elsewhere));
        assert!(counted(&Need(2, true), &approved_elsewhere), "by position alone");
        // The rest of the fold reads every entry: the request is executed, with both decisions listed (a
        // decision changes neither the record nor the phase a revert ran in: it is not deferred).
        let v = RequestView::fold(&r, &rejected_elsewhere, &Need(1, false)).unwrap();
        assert_eq!((v.phase, v.decisions.len()), (Phase::Executed, 2));
    }

    /// However many executions a request has, each concurrent with entries positioned before it, each is
    /// judged once: the causal past an execution is judged on takes the earlier executions' verdicts as
    /// they were given (a fold judging them again in every past would cost 2^k).
    #[test]
    fn each_execution_is_judged_once() {
        /// Entries at odd positions come from a machine no executing log had seen; counts Execute judgments.
        struct Counting(std::cell::Cell<usize>);
        impl Rules for Counting {
            fn allow(&self, action: Action, _: &Fact, _: &RequestView) -> Result<(), Refusal> {
                if action == Action::Execute {
                    self.0.set(self.0.get() + 1);
                }
                Ok(())
            }
            fn before(&self, a: &Fact, b: Pos) -> bool {
                a.pos <= 1 || (a.pos <= b && a.pos % 2 == b % 2)
            }
        }
        let r = request();
        let mut related = Vec::new();
        for i in 1..=40u64 {
            related.push(fact(2 * i + 1, NOTE, 4, json!({"on": rid(), "text": "elsewhere"})));
            related.push(fact(
                2 * i + 2,
                EXECUTED,
                3,
                json!({"request": rid(), "version": rid(), "revert_digest": "x", "env": "production", "from": "42", "to": "41", "command": ["helm"], "outcome": "failed"}),
            ));
        }
        let rules = Counting(std::cell::Cell::new(0));
        let v = RequestView::fold(&r, &related, &rules).unwrap();
        assert_eq!((rules.0.get(), v.executions.len()), (40, 40));
    }

    /// Runs only the current version, approved by someone; `past(a, b)`: whether the entry at `a` is in the
    /// causal past of the one at `b`.
    struct Causal(fn(Pos, Pos) -> bool);
    impl Rules for Causal {
        fn allow(&self, action: Action, f: &Fact, view: &RequestView) -> Result<(), Refusal> {
            let rejected = view.decisions.iter().any(|d| d.body.decision == Decision::Reject);
            if action == Action::Execute
                && (f.body.str_member("version") != Some(view.current().id.to_hex())
                    || view.decisions.is_empty()
                    || rejected)
            {
                return Err(Refusal("not the current version, or not approved".into()));
            }
            Ok(())
        }
        fn before(&self, a: &Fact, b: Pos) -> bool {
            a.pos == 1 || (self.0)(a.pos, b)
        }
    }

    fn amend(pos: u64, previous: &str, title: &str) -> Fact {
        let mut record = sample();
        record.title = title.into();
        fact(pos, AMENDED, 1, json!({"request": rid(), "previous": previous, "reason": "r", "record": record}))
    }

    fn approve(pos: u64, version: &Fact) -> Fact {
        let body = json!({"request": rid(), "version": version.id.to_hex(), "revert_digest": "x", "evidence": [],
            "policy": rid(), "decision": "approve", "comment": "ok"});
        fact(pos, APPROVED, 2, body)
    }

    fn run(pos: u64, version: &Fact, outcome: &str) -> Fact {
        let digest = sample().revert_digest();
        let body = json!({"request": rid(), "version": version.id.to_hex(), "revert_digest": digest, "env": "production",
            "from": "42", "to": "41", "command": ["helm"], "outcome": outcome});
        fact(pos, EXECUTED, 3, body)
    }

    /// Positions 10..20 are another machine's, concurrent with everything after the request on the others.
    fn elsewhere(a: Pos, b: Pos) -> bool {
        let other = |p: Pos| (10..20).contains(&p);
        a <= b && other(a) == other(b)
    }

    /// An emergency on the original version, by key 4, at `pos`.
    fn invoke(pos: u64) -> Fact {
        let body = json!({"request": rid(), "version": rid(), "reason": "down", "review_due": "2026-12-01T00:00:00Z"});
        fact(pos, EMERGENCY, 4, body)
    }

    fn why(v: &RequestView, f: &Fact) -> String {
        v.timeline.iter().find(|t| t.id == f.id).and_then(|t| t.ignored.clone()).unwrap_or_default()
    }

    /// An execution fixes the record it ran: bob's amendment (20), approved (21), runs (30); an amendment of
    /// the original version signed on a machine that had seen none of it (12, positioned first, as a
    /// backdated one would be) is judged after the execution, and refused. By position alone it would be
    /// the record, and the approval and the execution would not count.
    #[test]
    fn a_concurrent_amendment_does_not_change_the_record_that_ran() {
        let r = request();
        let (stale, real) = (amend(12, &rid(), "stale"), amend(20, &rid(), "real"));
        let exec = run(30, &real, "succeeded");
        let related = [stale.clone(), real.clone(), approve(21, &real), exec.clone()];
        let v = RequestView::fold(&r, &related, &Causal(elsewhere)).unwrap();
        assert_eq!((v.phase, v.current().id, v.decisions.len()), (Phase::Executed, real.id, 1));
        let why_stale = why(&v, &stale);
        assert!(
            why_stale.starts_with("the request is executed (signed concurrently with the execution"),
            "{why_stale}"
        );
        assert!(why_stale.contains(&exec.id.short(12)), "{why_stale}");
        // The timeline stays in position order, the stale amendment where it was signed.
        assert_eq!(v.timeline.iter().map(|t| t.pos).collect::<Vec<_>>(), [1, 12, 20, 21, 30]);
        assert!(v.timeline[2..].iter().all(|t| t.ignored.is_none()), "{:?}", v.timeline);
        // By position alone (no causality), the stale amendment is the record and nothing else counts.
        let v = RequestView::fold(&r, &related, &Causal(|a, b| a <= b)).unwrap();
        assert_eq!((v.phase, v.current().id, v.decisions.len()), (Phase::Open, stale.id, 0));
    }

    /// The same for a withdrawal signed on the machine that had seen nothing after the request (12): the
    /// amendment and the approval the revert ran on count, and the withdrawal does not.
    #[test]
    fn a_concurrent_withdrawal_does_not_undo_the_revert_that_ran() {
        let r = request();
        let withdraw = fact(12, WITHDRAWN, 1, json!({"request": rid(), "reason": "changed my mind"}));
        let real = amend(20, &rid(), "real");
        let related = [withdraw.clone(), real.clone(), approve(21, &real), run(30, &real, "succeeded")];
        let v = RequestView::fold(&r, &related, &Causal(elsewhere)).unwrap();
        assert_eq!((v.phase, v.current().id, v.decisions.len()), (Phase::Executed, real.id, 1));
        assert!(v.withdrawal.is_none());
        assert!(why(&v, &withdraw).starts_with("the request is executed (signed concurrently"), "{v:?}");
    }

    /// What is not deferred: a rejection signed where a failed run had not seen it still blocks the retry
    /// that had; a validation signed before any revert ran still does not count (a deferred one would, in
    /// the phase after the run). A withdrawal stamped before the request itself (a stale log's clock) is
    /// deferred, and the request stays first in the timeline (whether it counts is read there).
    #[test]
    fn decisions_and_validations_are_not_deferred_and_the_request_stays_first() {
        let r = request();
        let reject = fact(
            12,
            REJECTED,
            4,
            json!({"request": rid(), "version": rid(), "revert_digest": "x", "evidence": [], "policy": rid(), "decision": "reject", "comment": "no"}),
        );
        let validate = fact(13, VALIDATED, 4, json!({"request": rid(), "result": "pass"}));
        let (failed, retry) = (run(20, &r, "failed"), run(30, &r, "succeeded"));
        let related = [approve(2, &r), reject.clone(), validate.clone(), failed.clone(), retry.clone()];
        // The failed run (20) had not seen 12 and 13; the retry (30) had seen everything.
        let v = RequestView::fold(&r, &related, &Causal(|a, b| a <= b && (b != 20 || !(10..20).contains(&a)))).unwrap();
        assert_eq!(why(&v, &failed), "");
        assert!(why(&v, &retry).contains("not approved"), "{v:?}");
        assert_eq!(why(&v, &reject), "");
        assert!(why(&v, &validate).contains("has not been executed yet"), "{v:?}");
        assert_eq!(v.decisions.len(), 2);

        let early = fact(0, WITHDRAWN, 1, json!({"request": rid(), "reason": "stale clock"}));
        let related = [early.clone(), approve(2, &r), run(30, &r, "succeeded")];
        let v = RequestView::fold(&r, &related, &Causal(|a, b| a > 0 && a <= b)).unwrap();
        assert_eq!((v.phase, v.timeline[0].id, v.request_counted()), (Phase::Executed, r.id, true));
        assert!(why(&v, &early).contains("judged after it"), "{v:?}");
    }

    /// An execution that counted anchors what it had seen: a later execution signed on a machine that had
    /// seen only the first approval (2; at 30, of the original version) counts for what it ran (both
    /// happened), and nothing it had not seen is deferred: the amendment that ran first (20, approved at
    /// 21, run at 22) stays the record.
    #[test]
    fn a_stale_execution_does_not_undo_an_amendment_that_ran() {
        let r = request();
        let real = amend(20, &rid(), "real");
        let (ran, stale_run) = (run(22, &real, "succeeded"), run(30, &r, "failed"));
        let related = [approve(2, &r), real.clone(), approve(21, &real), ran, stale_run];
        let v = RequestView::fold(&r, &related, &Causal(|a, b| if b == 30 { a <= 2 } else { a <= b })).unwrap();
        assert_eq!((v.current().id, v.decisions.len(), v.executions.len()), (real.id, 2, 2));
        assert!(v.timeline.iter().all(|t| t.ignored.is_none()), "{:?}", v.timeline);
    }

    /// Two machines each ran the request as their log held it: a stale one the original version (15; its
    /// log had seen only the approval at 2), the other the amendment (20) approved (21) and run (22). Both
    /// reverts happened and both count; the view shows the record the first ran, and the fork names both
    /// runs and owes a review (the status is review-due, a close is refused) until a review that had seen
    /// both counts: one signed where the stale run was unseen (30) does not settle it, one that had seen
    /// both (40) does.
    #[test]
    fn executions_of_different_versions_are_a_fork_a_review_must_see() {
        let r = request();
        let real = amend(20, &rid(), "real");
        let (stale_run, ran) = (run(15, &r, "succeeded"), run(22, &real, "succeeded"));
        let review = |pos| fact(pos, REVIEWED, 2, json!({"request": rid(), "kind": "post-incident", "summary": "s"}));
        let closed = |pos: u64| {
            fact(
                pos,
                CLOSED,
                1,
                json!({"request": rid(), "resolution": "made-permanent", "comment": format!("close {pos}")}),
            )
        };
        let close = closed(50);
        let past = |a: Pos, b: Pos| match b {
            15 => a <= 2 || a == 15,
            22 | 30 => a <= b && a != 15,
            _ => a <= b,
        };
        let related = [approve(2, &r), stale_run.clone(), real.clone(), approve(21, &real), ran.clone()];
        let v = RequestView::fold(&r, &related, &Causal(past)).unwrap();
        assert_eq!((v.phase, v.current().id, v.executions.len()), (Phase::Executed, r.id, 2), "{v:?}");
        let fork = v.fork.clone().expect("a fork");
        let runs: Vec<_> = fork.runs.iter().map(|x| (x.execution, x.version, x.shown, x.same_operation)).collect();
        // (The amendment changed only the title.)
        assert_eq!(runs, [(stale_run.id, Some(r.id), true, true), (ran.id, Some(real.id), false, true)]);
        assert_eq!(fork.reviewed, None);
        assert!(v.review_owed());
        let owed = v.obligations(ran.ts);
        assert_eq!(owed.iter().map(|o| o.kind).collect::<Vec<_>>(), ["fork-review"], "{owed:?}");
        assert!(owed[0].detail.contains(&ran.id.short(12)) && owed[0].detail.contains(&real.id.short(12)), "{owed:?}");
        assert!(v.admits(Action::Close).unwrap_err().0.contains("ran different versions"), "{v:?}");

        // A review that had not seen the stale run does not settle the fork, nor one by who ran it; one by
        // someone else that had seen both does.
        let mut more = related.to_vec();
        more.extend([
            review(30),
            fact(35, REVIEWED, 3, json!({"request": rid(), "kind": "post-incident", "summary": "mine"})),
        ]);
        let v = RequestView::fold(&r, &more, &Causal(past)).unwrap();
        assert_eq!((v.reviews.len(), v.fork.as_ref().map(|f| f.reviewed)), (2, Some(None)), "{v:?}");
        // A close that had seen both runs and no review that settles them does not count; one signed where
        // the stale run was unseen (33) closes what it knew.
        let seen_close = closed(36);
        let mut closing = more.clone();
        closing.push(seen_close.clone());
        let v = RequestView::fold(&r, &closing, &Causal(past)).unwrap();
        assert_eq!(
            why(&v, &seen_close),
            "its reverts ran different versions of the request and no review has seen them all"
        );
        assert_eq!(v.phase, Phase::Reviewed);
        let blind_close = closed(33);
        let past_blind = |a: Pos, b: Pos| match b {
            15 => a <= 2 || a == 15,
            22 | 30 | 33 => a <= b && a != 15,
            _ => a <= b,
        };
        let mut closing = more.clone();
        closing.insert(closing.len() - 1, blind_close.clone());
        let v = RequestView::fold(&r, &closing, &Causal(past_blind)).unwrap();
        assert_eq!((why(&v, &blind_close), v.phase), (String::new(), Phase::Closed), "{v:?}");
        assert!(v.fork_unreviewed(), "the fork still owes its review");
        // A settling review the close had not seen (34, concurrent with it) does not let it count.
        let hidden = |a: Pos, b: Pos| match b {
            15 => a <= 2 || a == 15,
            22 | 30 => a <= b && a != 15,
            36 => a <= b && a != 34,
            _ => a <= b,
        };
        // A review by whoever filed and amended the request (1) that had seen both settles nothing, and a
        // close after it does not count.
        let own = fact(34, REVIEWED, 1, json!({"request": rid(), "kind": "post-incident", "summary": "my runs"}));
        let mut closing = more.clone();
        closing.extend([own, seen_close.clone()]);
        let v = RequestView::fold(&r, &closing, &Causal(past)).unwrap();
        assert!(why(&v, &seen_close).starts_with("its reverts ran different versions"), "{v:?}");
        assert!(v.fork.as_ref().is_some_and(|f| f.reviewed.is_none()) && !v.review_owed_by(&|x| *x == key(1)), "{v:?}");
        let mut closing = more.clone();
        closing.insert(closing.len() - 1, review(34));
        closing.push(seen_close.clone());
        let v = RequestView::fold(&r, &closing, &Causal(hidden)).unwrap();
        assert!(why(&v, &seen_close).starts_with("its reverts ran different versions"), "{v:?}");
        assert!(v.fork.as_ref().is_some_and(|f| f.reviewed.is_some()), "the review itself settles the fork");
        let settled = review(40);
        more.extend([settled.clone(), close]);
        let v = RequestView::fold(&r, &more, &Causal(past)).unwrap();
        assert_eq!(v.fork.as_ref().map(|f| f.reviewed), Some(Some(settled.id)), "{v:?}");
        assert!(!v.review_owed() && v.obligations(ran.ts).is_empty(), "{v:?}");
        assert_eq!(v.phase, Phase::Closed);
        // A second close is refused for what the phase says, not for the fork.
        let again = closed(55);
        more.push(again.clone());
        let v = RequestView::fold(&r, &more, &Causal(past)).unwrap();
        assert_eq!(why(&v, &again), "the request is closed");

        // A stale run that failed is listed too (it ran), with its outcome.
        let failed = run(15, &r, "failed");
        let related = [approve(2, &r), failed.clone(), real.clone(), approve(21, &real), ran.clone()];
        let v = RequestView::fold(&r, &related, &Causal(past)).unwrap();
        let fork = v.fork.expect("a fork");
        assert_eq!(fork.runs.iter().map(|x| x.outcome).collect::<Vec<_>>(), [Outcome::Failed, Outcome::Succeeded]);
        assert!(
            fork.describe().contains(&format!(
                "{} ran version {}, the record shown (failed)",
                failed.id.short(12),
                r.id.short(12)
            )),
            "{}",
            fork.describe()
        );

        // Runs of the same version (the retry after a failed run) are no fork.
        let related = [approve(2, &r), run(5, &r, "failed"), run(6, &r, "succeeded")];
        assert_eq!(RequestView::fold(&r, &related, &Causal(|a, b| a <= b)).unwrap().fork, None);
    }

    /// A review or close several logs hold had seen only what every one of its positions had seen. Runs at
    /// 15 (a stale machine) and 22; positions 40 and 41 are on a log that had seen both, copies of entries
    /// signed where the stale run was unseen (their other position, 45). The copied review does not settle
    /// the fork, and the copied blind close closes what it knew; by their first positions alone the review
    /// would settle it and the close would be refused.
    #[test]
    fn a_copy_lends_a_review_or_a_close_no_past() {
        fn seen(a: Pos, b: Pos) -> bool {
            a == 1 || if b == 15 { a <= 2 || a == 15 } else { a <= b && (a != 15 || b >= 40) }
        }
        struct Copied(bool);
        impl Rules for Copied {
            fn allow(&self, action: Action, f: &Fact, view: &RequestView) -> Result<(), Refusal> {
                Causal(seen).allow(action, f, view)
            }
            fn before(&self, a: &Fact, b: Pos) -> bool {
                seen(a.pos, b)
            }
            fn before_all(&self, a: &Fact, b: &Fact) -> bool {
                let elsewhere = self.0 && matches!(b.pos, 40 | 41);
                seen(a.pos, b.pos) && (!elsewhere || seen(a.pos, 45) && a.pos != 15)
            }
        }
        let r = request();
        let real = amend(20, &rid(), "real");
        let related =
            [approve(2, &r), run(15, &r, "succeeded"), real.clone(), approve(21, &real), run(22, &real, "succeeded")];
        let copied = fact(40, REVIEWED, 2, json!({"request": rid(), "kind": "post-incident", "summary": "s"}));
        let close = fact(41, CLOSED, 1, json!({"request": rid(), "resolution": "made-permanent", "comment": "c"}));
        for copies in [true, false] {
            let mut reviewed = related.to_vec();
            reviewed.push(copied.clone());
            let v = RequestView::fold(&r, &reviewed, &Copied(copies)).unwrap();
            assert_eq!(v.fork.as_ref().map(|f| f.reviewed.is_some()), Some(!copies), "{v:?}");
            let mut closed = related.to_vec();
            closed.push(close.clone());
            let v = RequestView::fold(&r, &closed, &Copied(copies)).unwrap();
            let refused = if copies { String::new() } else { FORK_UNREVIEWED.to_string() };
            assert_eq!(why(&v, &close), refused, "{v:?}");
        }
    }

    /// An entry stays deferred past the first execution that deferred it: a stale amendment (10) deferred
    /// past a failed run (20) is not moved again by the retry (30) that had not seen it either, so a run on
    /// a third machine (40) that had seen the first run but not the retry judges it where every other view
    /// does, after the first run, and counts.
    #[test]
    fn an_entry_stays_deferred_past_the_first_execution() {
        let r = request();
        let stale = amend(10, &rid(), "stale");
        let (e1, e2, e3) = (run(20, &r, "failed"), run(30, &r, "failed"), run(40, &r, "succeeded"));
        let related = [approve(2, &r), stale.clone(), e1, e2.clone(), e3.clone()];
        let past = |a: Pos, b: Pos| match b {
            20 | 30 => a <= b && a != 10,
            40 => a <= b && a != 30,
            _ => a <= b,
        };
        let v = RequestView::fold(&r, &related, &Causal(past)).unwrap();
        assert_eq!((v.current().id, v.executions.len()), (r.id, 3), "{v:?}");
        assert!(why(&v, &stale).contains("judged after it"), "{v:?}");
        assert_eq!(why(&v, &e3), "");
    }

    /// An execution that counted under an emergency (12, signed on a machine that had not seen the first
    /// run, 5, and refused where it stands: the request was executed) keeps it: the emergency counts and
    /// its post-hoc review is owed, though the view's phase never passed through it.
    #[test]
    fn an_emergency_a_counted_execution_ran_under_stands() {
        let r = request();
        let emergency = invoke(12);
        let (e1, e2) = (run(5, &r, "succeeded"), run(14, &r, "succeeded"));
        let related = [approve(2, &r), e1, emergency.clone(), e2.clone()];
        let past = |a: Pos, b: Pos| if b == 14 { a <= 2 || a == 12 } else { a <= b };
        let v = RequestView::fold(&r, &related, &Causal(past)).unwrap();
        assert_eq!((v.executions.len(), v.review_owed()), (2, true), "{v:?}");
        assert_eq!(v.emergency.as_ref().map(|e| e.id), Some(emergency.id));
        assert!(v.timeline.iter().all(|t| t.ignored.is_none()), "{v:?}");
        // Positioned before the first run instead (deferred past it), the same.
        let emergency = invoke(4);
        let related = [approve(2, &r), emergency.clone(), run(5, &r, "succeeded"), e2];
        let past = |a: Pos, b: Pos| {
            if b == 5 {
                a <= 5 && a != 4
            } else if b == 14 {
                a <= 2 || a == 4
            } else {
                a <= b
            }
        };
        let v = RequestView::fold(&r, &related, &Causal(past)).unwrap();
        assert_eq!((v.executions.len(), v.review_owed()), (2, true), "{v:?}");
        assert!(v.timeline.iter().all(|t| t.ignored.is_none()), "{v:?}");
        // And whenever the request is folded again: both runs fail, a stale amendment (16) comes in, and the
        // retry (20) that had not seen it defers it.
        let emergency = invoke(12);
        let stale = amend(16, &rid(), "stale");
        let related = [
            approve(2, &r),
            run(5, &r, "failed"),
            emergency.clone(),
            run(14, &r, "failed"),
            stale.clone(),
            run(20, &r, "succeeded"),
        ];
        let past = |a: Pos, b: Pos| match b {
            14 => a <= 2 || a == 12,
            20 => a <= 20 && a != 16,
            _ => a <= b,
        };
        let v = RequestView::fold(&r, &related, &Causal(past)).unwrap();
        assert_eq!((v.executions.len(), v.review_owed()), (3, true), "{v:?}");
        assert!(why(&v, &stale).contains("judged after it"), "{v:?}");
        assert_eq!(why(&v, &emergency), "");
    }

    /// An execution is judged on the fold its own machine made, with that fold's own deferrals: a stale
    /// amendment (10) is deferred past a failed run (20) in the whole ledger, and past another failed run
    /// (30, on a machine that had not seen the first) in the view of the retry (40) made on that machine
    /// after it had seen the amendment but not the first run. There the original version is still current:
    /// the retry runs it and counts.
    #[test]
    fn an_execution_is_judged_on_the_fold_its_machine_made() {
        let r = request();
        let stale = amend(10, &rid(), "stale");
        let (x, y, e) = (run(20, &r, "failed"), run(30, &r, "failed"), run(40, &r, "succeeded"));
        let related = [approve(2, &r), stale.clone(), x, y, e.clone()];
        let past = |a: Pos, b: Pos| match b {
            20 | 30 => a <= 2,
            40 => a <= 40 && a != 20,
            _ => a <= b,
        };
        let v = RequestView::fold(&r, &related, &Causal(past)).unwrap();
        assert_eq!(why(&v, &e), "", "{v:?}");
        assert_eq!((v.current().id, v.executions.len()), (r.id, 3));
        assert!(why(&v, &stale).contains("judged after it"), "{v:?}");
    }

    /// An emergency is deferred past a run that failed too: one stamped (10) before an approved amendment
    /// (15, 16) on a machine that had seen only the first approval would put the request under an
    /// emergency before the amendment, refuse it and its approval, and let a retry of the original version
    /// (30) run. Judged after the failed run of the amendment (20) that had not seen it, it does not count:
    /// the record stays the amendment that ran, and the retry of the original does not count.
    #[test]
    fn an_emergency_is_deferred_past_a_failed_run() {
        let r = request();
        let emergency = invoke(10);
        let fixed = amend(15, &rid(), "fixed");
        let (x, y) = (run(20, &fixed, "failed"), run(30, &r, "succeeded"));
        let related = [approve(2, &r), emergency.clone(), fixed.clone(), approve(16, &fixed), x, y.clone()];
        let past = |a: Pos, b: Pos| if b == 20 { a <= 2 || a == 15 || a == 16 } else { a <= b };
        let v = RequestView::fold(&r, &related, &Causal(past)).unwrap();
        assert_eq!((v.current().id, v.emergency.is_none()), (fixed.id, true), "{v:?}");
        assert!(why(&v, &emergency).contains("judged after it"), "{v:?}");
        assert!(why(&v, &y).contains("not the current version"), "{v:?}");
    }

    /// Three machines: one amends the original version (12, first by position); the second, having seen
    /// it, runs the original version (25), which its own view no longer holds; the third amends (20),
    /// approves (21) and runs (30) without having seen either. The second's execution does not count, the
    /// third's does, and the first's amendment is judged after it: one pass, and a view in which each
    /// refusal still holds.
    #[test]
    fn executions_on_three_machines_are_judged_once_and_agree() {
        let r = request();
        let first = approve(2, &r);
        let (z, y) = (amend(12, &rid(), "z"), amend(20, &rid(), "y"));
        let (e2, e1) = (run(25, &r, "succeeded"), run(30, &y, "succeeded"));
        let related = [first, z.clone(), y.clone(), approve(21, &y), e2.clone(), e1.clone()];
        let past = |a: Pos, b: Pos| match b {
            25 => a <= 2 || a == 12,
            30 => a <= 2 || (20..=21).contains(&a),
            _ => a <= b,
        };
        let v = RequestView::fold(&r, &related, &Causal(past)).unwrap();
        assert_eq!((v.current().id, v.executions.len()), (y.id, 1));
        assert_eq!(v.executions[0].id, e1.id);
        assert!(why(&v, &e2).contains("not the current version"), "{v:?}");
        assert!(why(&v, &z).contains("judged after it"), "{v:?}");
    }
}
