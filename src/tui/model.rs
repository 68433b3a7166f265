//! View models: what the screens draw, built from workflow results by `worker::present`. Every string from the
//! ledger or from evidence is sanitized here, once, when it becomes a view model — control, bidi and
//! zero-width characters shown as `<U+XXXX>` and the row marked — so drawing never sees raw text.

use crate::ledger::EntryId;
use crate::text;
use chrono::{DateTime, Utc};

/// Longest single field drawn (longer ones are cut with `…`).
pub(crate) const MAX_FIELD: usize = 400;

/// Sanitized one-line text and whether anything was escaped.
pub(crate) fn clean(s: &str) -> (String, bool) {
    let c = text::one_line(s);
    (text::truncate(&c.text, MAX_FIELD).into_owned(), c.suspicious)
}

/// Sanitized one-line text, never cut, and whether anything was escaped: for what a signature covers
/// whole (the revert operation an approver signs and CI runs; at most 100 arguments of 300 characters).
pub(crate) fn clean_whole(s: &str) -> (String, bool) {
    let c = text::one_line(s);
    (c.text.into_owned(), c.suspicious)
}

/// Sanitized text (escaped characters marked), for display.
pub(crate) fn safe(s: &str) -> String {
    clean(s).0
}

/// What a worker could not do, sanitized: the toast says `text`; a list that could not load shows it in
/// place of its rows, with `hint` (what the user can do about it, when the message alone does not say:
/// a damaged file names `rollcall rebuild --into`) on the line below.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub text: String,
    pub hint: Option<&'static str>,
    /// What was being read: the screen waiting for it says why instead.
    pub reading: Reading,
}

/// What a failed command was reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reading {
    /// The queue's rows or count, asked for as this generation of the list.
    Queue(u64),
    /// The history's rows or count, asked for as this generation of the list.
    History(u64),
    /// The dashboard's figures.
    Metrics,
    /// Anything else (a request's detail, evidence, a search, an internal error).
    #[default]
    Other,
}

impl Problem {
    pub(crate) fn of(e: &crate::workflow::WorkflowError, reading: Reading) -> Problem {
        Problem { text: text::safe(&e.to_string()), hint: e.hint(), reading }
    }
}

impl From<&str> for Problem {
    fn from(text: &str) -> Problem {
        Problem { text: text::safe(text), hint: None, reading: Reading::Other }
    }
}

impl From<String> for Problem {
    fn from(text: String) -> Problem {
        Problem::from(text.as_str())
    }
}

/// A compact age: 5m, 3h, 2d, 7w.
pub(crate) fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - since).num_seconds().max(0);
    match s {
        0..3600 => format!("{}m", s / 60),
        3600..172800 => format!("{}h", s / 3600),
        172800..1209600 => format!("{}d", s / 86400),
        _ => format!("{}w", s / 604800),
    }
}

/// The queue's status for an emergency that no longer waives anything (its detail says *emergency
/// (lapsed)*; the column is ten wide).
pub const LAPSED: &str = "lapsed";

#[derive(Clone, Debug, PartialEq)]
pub struct QueueItem {
    pub key: crate::workflow::browse::QueueKey,
    pub id: EntryId,
    pub title: String,
    pub suspicious: bool,
    /// Its status, *lapsed* for an emergency that no longer waives anything.
    pub status: String,
    /// When its emergency stops waiving, while it is in that phase: the status turns *lapsed* then
    /// (`Msg::Minute`), without waiting for the ledger to change.
    pub waiver_ends: Option<DateTime<Utc>>,
    pub env: String,
    pub tier: String,
    pub flags: u32,
    pub have: u32,
    pub need: u32,
    pub age: String,
    pub overdue: bool,
    pub due: Option<DateTime<Utc>>,
    /// Where the signed-in key stands on it: waiting on it (first in the queue), approved, stale.
    pub stand: Option<crate::workflow::waiting::Stand>,
}

/// A rollback a CD tool's history shows that no request cleared — none was filed (unrecorded), or the one
/// filed was not approved when it ran (unauthorized): drawn on top of the queue.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// The `deployment.observed` entry.
    pub observation: EntryId,
    /// Whether it brought an earlier revision back (every alert on the queue does; an observation opened
    /// from the history may not).
    pub rollback: bool,
    /// The request matched with it and why it did not clear it (an unauthorized rollback).
    pub request: Option<(EntryId, String)>,
    pub source: String,
    pub env: String,
    pub component: String,
    pub revision: String,
    pub from: Option<String>,
    pub to: String,
    pub at: String,
    pub artifact: Option<String>,
    pub by: Option<String>,
    pub description: Option<String>,
    /// The observation as recorded, unsanitized: what a request filed from it is filled with (the fields
    /// above are escaped and cut for display; a form filled from them would sign `<U+200B>` or `…`).
    pub recorded: Box<crate::workflow::reconcile::Observation>,
}

impl Alert {
    /// `UNRECORDED` or `UNAUTHORIZED`.
    pub fn finding(&self) -> &'static str {
        if self.request.is_some() { "UNAUTHORIZED" } else { "UNRECORDED" }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct HistoryItem {
    pub index: u64,
    pub id: EntryId,
    pub kind: String,
    pub actor: String,
    pub ts: String,
    pub request: Option<(EntryId, String)>,
    pub suspicious: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EvidenceItem {
    pub id: EntryId,
    pub kind: String,
    pub name: String,
    pub summary: String,
    pub purged: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FlagItem {
    pub id: String,
    pub severity: String,
    pub explanation: String,
    pub location: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CheckItem {
    pub id: String,
    pub met: bool,
    pub waived: bool,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimelineItem {
    pub index: u64,
    pub ts: String,
    pub kind: String,
    pub actor: String,
    pub note: Option<String>,
}

/// An open obligation of the request (a review due, a temporary revert expiring).
#[derive(Clone, Debug, PartialEq)]
pub struct ObligationItem {
    pub text: String,
    pub overdue: bool,
}

/// Exactly what an approval or rejection would sign.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SignPreview {
    pub request: String,
    pub version: String,
    pub revert_digest: String,
    pub revert: String,
    pub evidence: Vec<String>,
    pub policy: String,
    pub flags: Vec<String>,
}

/// Whether the signer may do something, or why not (said when the action is asked for, before anything is
/// typed).
pub type Allowed = Result<(), String>;

/// What the signer may do on this request, each with the reason when not (from the policy's permission
/// rules, the ones `gate` and the write path apply).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Can {
    pub approve: Allowed,
    pub reject: Allowed,
    pub emergency: Allowed,
    pub execute: Allowed,
    pub annotate: Allowed,
    pub validate: Allowed,
    pub review: Allowed,
    /// Whether the review may be a post-hoc one (not for the emergency's invoker or an executor).
    pub post_hoc: Allowed,
    pub close: Allowed,
}

impl Can {
    /// Nothing, for `why`.
    pub fn none(why: &str) -> Can {
        let no = || Err(why.to_string());
        Can {
            approve: no(),
            reject: no(),
            emergency: no(),
            execute: no(),
            annotate: no(),
            validate: no(),
            review: no(),
            post_hoc: no(),
            close: no(),
        }
    }
}

impl Default for Can {
    fn default() -> Can {
        Can::none("this console may not sign")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Detail {
    pub id: EntryId,
    pub title: String,
    pub status: String,
    pub tier: String,
    pub score: u32,
    pub gate: bool,
    pub approvals: (usize, u32),
    pub suspicious: bool,
    pub record: Vec<(String, String)>,
    pub evidence: Vec<EvidenceItem>,
    pub flags: Vec<FlagItem>,
    pub risk_factors: Vec<String>,
    pub checklist: Vec<CheckItem>,
    pub decisions: Vec<String>,
    pub obligations: Vec<ObligationItem>,
    pub timeline: Vec<TimelineItem>,
    pub lineage: Vec<(String, String)>,
    pub sign: SignPreview,
    pub can: Can,
}

pub use crate::workflow::metrics::Metrics;

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Integrity {
    pub checked: bool,
    pub intact: bool,
    pub failure: Option<String>,
    /// The failure is the file not read (its disk, a permission, another process): the verification
    /// stopped without finding the record wrong.
    pub not_read: bool,
    /// Recorded equivocations (forks, rollbacks): shown first, as a security alarm.
    pub security: Vec<String>,
    pub lines: Vec<String>,
    pub elapsed_ms: u64,
}
