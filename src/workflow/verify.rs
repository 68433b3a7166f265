//! `verify`: every origin's log checked end to end, signers checked against the roster as it stood at
//! each entry, and the two verdicts — integrity and completeness — reported separately.

use super::context::Context;
use super::error::WorkflowError;
use super::state::{Snapshot, all_requests, evaluate_now, load_view};
use crate::identity::Roster;
use crate::identity::roster::Discounted;
use crate::ledger::verify::{Failure, OriginReport, check_refs, orphan_entries, stray_rows, verify_origin};
use crate::ledger::{EntryId, Ledger, LedgerError};
use std::time::{Duration, Instant};

/// What `rollcall verify` found.
#[derive(Clone, Debug)]
pub struct VerifyReport {
    pub ledger_id: Option<EntryId>,
    pub origins: Vec<OriginReport>,
    /// The first integrity failure, if any.
    pub failure: Option<Failure>,
    pub completeness: Vec<Completeness>,
    /// Entries that are intact but do not count (unenrolled or revoked signers, non-admin governance, …).
    pub discounted: Vec<crate::identity::roster::Discounted>,
    /// Evidence blobs checked against their digests, and those purged by a signed entry.
    pub blobs: super::evidence::BlobReport,
    pub elapsed: Duration,
}

/// Per origin: how much of the log its own signed checkpoints cover, and what the file alone cannot show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completeness {
    pub origin: String,
    pub size: u64,
    pub checkpointed: u64,
    /// Entries after the latest checkpoint (appended while the origin key was locked).
    pub unchecked_tail: u64,
    /// Whether a checkpoint held by another party (a witness cosignature) confirms the size.
    pub witnessed: bool,
    pub statement: String,
}

impl VerifyReport {
    pub fn intact(&self) -> bool {
        self.failure.is_none()
    }
}

/// Verifies the ledger at `ctx.ledger_path`. A ledger that cannot be opened because it is damaged is
/// reported as an integrity failure; one that does not exist or is not a ledger is an error.
pub fn verify(ctx: &Context) -> Result<VerifyReport, WorkflowError> {
    let started = Instant::now();
    let ledger = match Ledger::open_read_only(&ctx.ledger_path) {
        Ok(l) => l,
        Err(LedgerError::Damaged(why)) => {
            return Ok(VerifyReport {
                ledger_id: None,
                origins: Vec::new(),
                failure: Some(Failure { origin: "-".into(), index: None, entry_id: None, problem: why }),
                completeness: Vec::new(),
                discounted: Vec::new(),
                blobs: Default::default(),
                elapsed: started.elapsed(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    Ok(verify_ledger(&ledger, started))
}

fn verify_ledger(ledger: &Ledger, started: Instant) -> VerifyReport {
    let mut report = VerifyReport {
        ledger_id: Some(ledger.ledger_id()),
        origins: Vec::new(),
        failure: None,
        completeness: Vec::new(),
        discounted: Vec::new(),
        blobs: Default::default(),
        elapsed: Duration::ZERO,
    };
    let fail = |problem: String| Failure { origin: "-".into(), index: None, entry_id: None, problem };
    let origins = match ledger.origins() {
        Ok(o) => o,
        Err(e) => {
            report.failure = Some(fail(e.to_string()));
            report.elapsed = started.elapsed();
            return report;
        }
    };
    let mut refs = std::collections::HashSet::new();
    for origin in origins.iter().filter(|o| o.own) {
        let mut roster = Roster::default();
        let mut genesis_id = None;
        let mut visit = |e: &crate::ledger::verify::VerifiedEntry<'_>| {
            if e.index == 0 {
                genesis_id = Some(e.id);
            }
            for r in &e.head.refs {
                refs.insert((*r, e.id));
            }
            roster.observe(e.index, &e.id, e.head, e.bytes).map(|_| ())
        };
        let mut r = verify_origin(ledger, origin, &mut visit);
        if r.failure.is_none() {
            if genesis_id != Some(ledger.ledger_id()) {
                r.failure = Some(Failure {
                    origin: origin.name.clone(),
                    index: Some(0),
                    entry_id: genesis_id,
                    problem: "the ledger id in the metadata is not the genesis entry's id".into(),
                });
            } else if roster.origin_key(&origin.name) != Some(&origin.key) {
                r.failure = Some(Failure {
                    origin: origin.name.clone(),
                    index: None,
                    entry_id: None,
                    problem: "the origin key stored in the file is not the one its genesis declares".into(),
                });
            }
        }
        report.discounted.extend(roster.discounted().iter().cloned());
        let checkpointed = r.latest_checkpoint.map(|c| c.0).unwrap_or(0);
        let tail = r.size.saturating_sub(checkpointed);
        report.completeness.push(Completeness {
            origin: origin.name.clone(),
            size: r.size,
            checkpointed,
            unchecked_tail: tail,
            witnessed: false,
            statement: completeness_statement(r.size, checkpointed),
        });
        if report.failure.is_none() {
            report.failure = r.failure.clone();
        }
        report.origins.push(r);
    }
    if report.failure.is_none() {
        match orphan_entries(ledger) {
            Ok(ids) if !ids.is_empty() => {
                report.failure = Some(Failure {
                    origin: "-".into(),
                    index: None,
                    entry_id: Some(ids[0]),
                    problem: format!(
                        "{} stored entr{} in no log (inserted behind the ledger's back)",
                        ids.len(),
                        if ids.len() == 1 { "y is" } else { "ies are" }
                    ),
                });
            }
            Ok(_) => {}
            Err(e) => report.failure = Some(fail(format!("database is damaged: {e}"))),
        }
    }
    if report.failure.is_none() {
        match check_refs(ledger, &refs) {
            Ok(Some(what)) => report.failure = Some(fail(what)),
            Ok(None) => {}
            Err(e) => report.failure = Some(fail(format!("database is damaged: {e}"))),
        }
    }
    if report.failure.is_none() {
        match stray_rows(ledger) {
            Ok(Some(what)) => report.failure = Some(fail(what)),
            Ok(None) => {}
            Err(e) => report.failure = Some(fail(format!("database is damaged: {e}"))),
        }
    }
    if report.failure.is_none() {
        match super::evidence::check_blobs(ledger) {
            Ok(b) => {
                if let Some((id, problem)) = &b.problem {
                    report.failure = Some(Failure {
                        origin: "-".into(),
                        index: None,
                        entry_id: Some(*id),
                        problem: problem.clone(),
                    });
                }
                report.blobs = b;
            }
            Err(e) => report.failure = Some(fail(format!("cannot check evidence: {e}"))),
        }
    }
    if report.failure.is_none() {
        match domain_verdict(ledger) {
            Ok(items) => {
                for d in items {
                    if !report.discounted.iter().any(|x| x.id == d.id) {
                        report.discounted.push(d);
                    }
                }
                report.discounted.sort_by_key(|d| d.pos);
            }
            Err(e) => report.failure = Some(fail(format!("cannot evaluate the requests: {e}"))),
        }
    }
    report.elapsed = started.elapsed();
    report
}

/// Reasons a decision is excluded that are part of a normal lifecycle, not a violation.
const ROUTINE: [&str; 3] = ["superseded by a later decision", "decided on an earlier version", "expired"];

/// Every request folded under the policy: lifecycle entries the rules refused, and decisions the policy
/// does not count (no role, self-approval, revoked key, …), with the reasons.
fn domain_verdict(ledger: &Ledger) -> Result<Vec<Discounted>, WorkflowError> {
    let snap = Snapshot::load(ledger)?;
    let now = super::clock::now();
    let mut out = Vec::new();
    for (_, id) in all_requests(ledger)? {
        let view = load_view(ledger, &snap, &id)?;
        for t in &view.timeline {
            if let Some(reason) = &t.ignored {
                out.push(Discounted { pos: t.pos, id: t.id, kind: t.kind.clone(), reason: reason.clone() });
            }
        }
        for d in evaluate_now(ledger, &view, &snap, now)?.eval.decisions {
            if let Some(reason) = d.excluded.filter(|r| !ROUTINE.iter().any(|x| r.starts_with(x))) {
                if let Some(rec) = view.decisions.iter().find(|x| x.id == d.entry) {
                    let kind = format!(
                        "approval.{}",
                        if d.decision == crate::audit::bodies::Decision::Approve { "granted" } else { "rejected" }
                    );
                    out.push(Discounted { pos: rec.pos, id: d.entry, kind, reason });
                }
            }
        }
    }
    Ok(out)
}

fn completeness_statement(size: u64, checkpointed: u64) -> String {
    let base = "this file alone cannot show that nothing was cut off after its latest checkpoint; \
                that needs a checkpoint held elsewhere (a peer's cosignature, collected by sync)";
    if checkpointed == size {
        format!("the log ends exactly at its latest signed checkpoint (size {size}); {base}")
    } else {
        format!(
            "{} entr{} after the latest signed checkpoint (size {checkpointed}) are not yet covered by one; {base}",
            size - checkpointed,
            if size - checkpointed == 1 { "y" } else { "ies" }
        )
    }
}
