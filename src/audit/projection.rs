//! The projection of one request: its entries, in log order, folded into a `RequestView` — versions,
//! decisions, emergency, executions, validations, reviews, closure, evidence, notes — with the phase of
//! its lifecycle. Entries that arrive in a phase that does not admit them, or that the rules (supplied by
//! the policy layer) do not authorize, are kept aside with the reason; they never change the state.
//!
//! Over 600 lines with its tests (~550 of code): the lifecycle fold, every phase transition in one place.

use super::bodies::*;
use super::kinds::*;
use super::record::{InvalidRecord, RequestBody};
use crate::ledger::{EntryId, Hash, Pos, PublicKey};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

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
}

impl Status {
    pub(crate) const ALL: [&'static str; 10] = [
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
    ];

    pub(crate) fn as_str(&self) -> &'static str {
        Status::ALL[*self as usize]
    }

    pub fn parse(s: &str) -> Option<Status> {
        use Status::*;
        [Pending, Approved, Rejected, Withdrawn, Emergency, Executed, Validated, ReviewDue, Reviewed, Closed]
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
    pub record: RequestBody,
    pub reason: Option<String>,
    /// `record.revert_digest()`, computed once: every decision and execution is checked against it.
    pub revert_digest: String,
}

/// Evidence attached to the request, and its purge if any.
#[derive(Clone, Debug)]
pub struct EvidenceRec {
    pub rec: Rec<EvidenceBody>,
    pub purged: Option<Rec<PurgedBody>>,
    /// Attached while the request was open (decisions admitted), so an approver could have reviewed it.
    /// Evidence attached later (validation output, logs after execution) never makes an approval stale.
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
    /// `post-hoc-review` or `temporary-revert`.
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
        Ok(RequestView {
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
                revert_digest: record.revert_digest(),
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
            timeline: vec![TimelineItem {
                pos: request.pos,
                index: request.index,
                id: request.id,
                kind: request.kind.clone(),
                actor: request.actor,
                ts: request.ts,
                ignored: None,
            }],
        })
    }

    /// Folds a request and its related entries (in log order).
    pub fn fold(request: &Fact, related: &[Fact], rules: &dyn Rules) -> Result<RequestView, InvalidRecord> {
        RequestView::fold_with_record(request, None, related, rules)
    }

    /// As [`RequestView::fold`], with the request's record when the caller has already read it (see
    /// [`RequestView::with_record`]).
    pub fn fold_with_record(
        request: &Fact,
        record: Option<RequestBody>,
        related: &[Fact],
        rules: &dyn Rules,
    ) -> Result<RequestView, InvalidRecord> {
        // Amendments an execution's record displaced (see `fold_round`): each round that displaces more
        // refuses at least one more amendment, so there are at most as many rounds as amendments, plus one.
        let mut displaced: HashMap<EntryId, String> = HashMap::new();
        loop {
            let (v, more) = RequestView::fold_round(request, &record, related, rules, &displaced)?;
            let known = displaced.len();
            displaced.extend(more);
            if displaced.len() == known {
                return Ok(v);
            }
        }
    }

    /// One fold of the request with the amendments in `displaced` refused (with their reasons), and the
    /// amendments it found displaced besides: an execution that counted fixes the record it ran (FORMAT.md
    /// §1.2), so an amendment in force here that its log had not seen — signed concurrently, perhaps
    /// backdated to stand before it — does not count, and the fold is run again without it (the amendment
    /// it displaced, and the decisions on it, then count again).
    fn fold_round(
        request: &Fact,
        record: &Option<RequestBody>,
        related: &[Fact],
        rules: &dyn Rules,
        displaced: &HashMap<EntryId, String>,
    ) -> Result<(RequestView, HashMap<EntryId, String>), InvalidRecord> {
        let mut v = RequestView::started(request, record.clone(), rules)?;
        let mut more = HashMap::new();
        // What each execution met so far was judged: None when it counted, else why not.
        let mut judged: HashMap<EntryId, Option<String>> = HashMap::new();
        for (i, f) in related.iter().enumerate() {
            if let Some(why) = displaced.get(&f.id) {
                v.met(f, Err(why.clone()));
                continue;
            }
            let execution = Action::of_kind(&f.kind) == Some(Action::Execute);
            // An execution is judged by what its log had seen when it was recorded (FORMAT.md §1.2): an
            // entry positioned before it that its log had not seen (a rejection, an approval, an amendment
            // or a withdrawal signed elsewhere, concurrently, perhaps backdated) neither voids it nor makes
            // it count. Only then is the request folded again, from the entries in its causal past, each
            // earlier execution among them taking the verdict it was given here (its own past lies within
            // this one's), so no execution is judged twice.
            // Asked once per earlier entry (an entry several logs hold may be looked up).
            let past: Vec<bool> =
                if execution { related[..i].iter().map(|g| rules.before(g, f.pos)).collect() } else { Vec::new() };
            if past.contains(&false) {
                let mut seen = RequestView::started(request, record.clone(), rules)?;
                for (g, _) in related[..i].iter().zip(&past).filter(|(_, in_past)| **in_past) {
                    match (displaced.get(&g.id), judged.get(&g.id)) {
                        (Some(why), _) => seen.met(g, Err(why.clone())),
                        (None, Some(verdict)) => seen.apply_verdict(g, verdict.clone()),
                        (None, None) => seen.apply(g, rules),
                    }
                }
                v.apply_judged(f, rules, Some(&seen));
                let counted = v.timeline.last().is_some_and(|t| t.ignored.is_none());
                if counted && v.current().id != seen.current().id {
                    let ran = seen.current().id;
                    for (g, _) in related[..i].iter().zip(&past).filter(|(_, in_past)| !**in_past) {
                        if v.versions.iter().any(|x| x.id == g.id) {
                            more.insert(
                                g.id,
                                format!(
                                    "signed concurrently with the execution {} (neither log had seen the other), \
                                     which ran version {}: the record that ran stands",
                                    f.id.short(12),
                                    ran.short(12)
                                ),
                            );
                        }
                    }
                }
            } else {
                v.apply(f, rules);
            }
            if execution {
                judged.insert(f.id, v.timeline.last().and_then(|t| t.ignored.clone()));
            }
        }
        Ok((v, more))
    }

    /// The request alone, its own entry judged by `rules`.
    fn started(request: &Fact, record: Option<RequestBody>, rules: &dyn Rules) -> Result<RequestView, InvalidRecord> {
        let mut v = RequestView::with_record(request, record)?;
        if let Err(why) = rules.allow(Action::Request, request, &v) {
            v.timeline[0].ignored = Some(why.0);
        }
        Ok(v)
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

    /// Whether a post-hoc review is owed (an emergency was invoked and no post-hoc review recorded).
    pub(crate) fn review_owed(&self) -> bool {
        self.emergency.is_some() && !self.reviews.iter().any(|r| r.body.kind == ReviewKind::PostHoc)
    }

    /// The ids of the evidence entries an approver signs as reviewed: every one attached to the request,
    /// purged or not (a purge removes bytes, not what the signed entry says the file was).
    pub(crate) fn evidence_ids(&self) -> Vec<EntryId> {
        self.evidence.iter().map(|e| e.rec.id).collect()
    }

    /// The first version that `key` filed or amended, if any (whoever wrote any version is a requester
    /// for the separation of duties).
    pub(crate) fn authored_by(&self, key: &PublicKey) -> Option<&Version> {
        self.versions.iter().find(|v| v.actor == *key)
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
        if self.phase == Phase::Withdrawn {
            return out;
        }
        if let Some(e) = &self.emergency
            && self.review_owed()
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
            Action::Withdraw => matches!(phase, Open | Emergency),
            Action::Decide => phase == Open,
            Action::Emergency => phase == Open,
            Action::Execute => {
                matches!(phase, Open | Emergency)
                    || (phase == Executed && self.last_outcome().is_some_and(|o| o != Outcome::Succeeded))
            }
            Action::Validate => matches!(phase, Executed | Validated | Reviewed),
            Action::Review => matches!(phase, Executed | Validated | Reviewed | Closed),
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
            Action::Close if self.review_owed() => "the post-hoc review of the emergency is still due".into(),
            Action::Execute if phase == Executed => "it was already executed successfully".into(),
            Action::Validate | Action::Review | Action::Close if phase < Executed => {
                format!("the request is {state} and has not been executed yet")
            }
            _ => format!("the request is {state}"),
        }))
    }

    /// Applies one related entry.
    pub(crate) fn apply(&mut self, f: &Fact, rules: &dyn Rules) {
        self.apply_judged(f, rules, None);
    }

    /// Applies one related entry, admitted by the lifecycle and the rules as `judge` stands (the request as
    /// the entry's log had seen it), or as this view stands when `None`.
    fn apply_judged(&mut self, f: &Fact, rules: &dyn Rules, judge: Option<&RequestView>) {
        let outcome = self.try_apply(f, rules, judge);
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

    fn try_apply(&mut self, f: &Fact, rules: &dyn Rules, judge: Option<&RequestView>) -> Result<(), String> {
        let action = Action::of_kind(&f.kind).ok_or_else(|| format!("{} is not a request entry", f.kind))?;
        let request_field = f.body.str_member("request").and_then(|r| Hash::from_hex(&r));
        if action != Action::Note && request_field != Some(self.id) {
            return Err("names another request".into());
        }
        let judge = judge.unwrap_or(self);
        judge.admits(action).map_err(|r| r.0)?;
        rules.allow(action, f, judge).map_err(|r| r.0)?;
        self.take_effect(action, f)
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
                b.record.validate().map_err(|r| r.0)?;
                self.versions.push(Version {
                    id: f.id,
                    pos: f.pos,
                    index: f.index,
                    ts: f.ts,
                    actor: f.actor,
                    revert_digest: b.record.revert_digest(),
                    record: b.record,
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
                if self.phase != Phase::Closed {
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
    fn authors_and_the_author_of_the_revert_operation() {
        let r = request();
        let mut retitled = sample();
        retitled.title = "clearer title".into();
        let mut rerouted = retitled.clone();
        rerouted.revert.argv.push("--force".into());
        let a1 =
            fact(2, AMENDED, 2, json!({"request": rid(), "previous": rid(), "reason": "title", "record": retitled}));
        let v = RequestView::fold(&r, std::slice::from_ref(&a1), &NoRules).unwrap();
        assert_eq!(v.revert_author().id, r.id, "a new title leaves the operation with its author");
        assert_eq!(v.authored_by(&key(2)).map(|x| x.id), Some(a1.id));
        assert_eq!(v.authored_by(&key(1)).map(|x| x.id), Some(r.id));
        assert!(v.authored_by(&key(3)).is_none());
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
            fact(5, REVIEWED, 1, json!({"request": rid(), "kind": "post-hoc", "summary": "ok", "lessons": ["x"]}));
        let v = RequestView::fold(&r, &[em, exec, review], &NoRules).unwrap();
        assert_eq!(v.phase, Phase::Reviewed);
        assert!(v.obligations(now).is_empty());
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
        // The rest of the fold reads every entry: the request is executed, with both decisions listed.
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

    /// An execution fixes the record it ran: bob's amendment (20), approved (21), runs (30); an amendment of
    /// the original version signed on a machine that had seen none of it (12, positioned first, as a
    /// backdated one would be) is refused for it, and the amendment that ran, with the approval of it,
    /// counts. By position alone the other amendment would be the record and the approval would not count.
    #[test]
    fn an_execution_fixes_the_record_it_ran() {
        /// Runs only the current version; entries at 10..20 are concurrent with everything after the request.
        struct Current(bool);
        impl Rules for Current {
            fn allow(&self, action: Action, f: &Fact, view: &RequestView) -> Result<(), Refusal> {
                if action == Action::Execute && f.body.str_member("version") != Some(view.current().id.to_hex()) {
                    return Err(Refusal("not the current version".into()));
                }
                Ok(())
            }
            fn before(&self, a: &Fact, b: Pos) -> bool {
                let (a, elsewhere) = (a.pos, |p: Pos| (10..20).contains(&p));
                if self.0 { a <= b } else { a <= 1 || (a <= b && elsewhere(a) == elsewhere(b)) }
            }
        }
        let r = request();
        let amend = |pos: u64, title: &str| {
            let mut record = sample();
            record.title = title.into();
            let body = json!({"request": rid(), "previous": rid(), "reason": "r", "record": record});
            fact(pos, AMENDED, 1, body)
        };
        let (stale, real) = (amend(12, "stale"), amend(20, "real"));
        let approve = fact(
            21,
            APPROVED,
            2,
            json!({"request": rid(), "version": real.id.to_hex(), "revert_digest": "x", "evidence": [], "policy": rid(), "decision": "approve", "comment": "ok"}),
        );
        let exec = fact(
            30,
            EXECUTED,
            3,
            json!({"request": rid(), "version": real.id.to_hex(), "revert_digest": "x", "env": "production", "from": "42", "to": "41", "command": ["helm"], "outcome": "succeeded"}),
        );
        let related = [stale.clone(), real.clone(), approve, exec];
        let v = RequestView::fold(&r, &related, &Current(false)).unwrap();
        assert_eq!((v.phase, v.current().id, v.decisions.len()), (Phase::Executed, real.id, 1));
        let why = v.timeline[1].ignored.as_deref().expect("the stale amendment does not count");
        assert!(why.contains("concurrently with the execution") && why.contains(&real.id.short(12)), "{why}");
        assert!(v.timeline[2..].iter().all(|t| t.ignored.is_none()), "{:?}", v.timeline);
        // By position alone (no causality), the stale amendment is the record and nothing else counts.
        let v = RequestView::fold(&r, &related, &Current(true)).unwrap();
        assert_eq!((v.phase, v.current().id, v.decisions.len()), (Phase::Open, stale.id, 0));
    }
}
