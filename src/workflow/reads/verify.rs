//! `verify`: every origin's log checked end to end, signers checked against the roster as it stood at
//! each entry, and the two verdicts — integrity and completeness — reported separately.

use super::state::{Snapshot, all_requests, evaluate_now, load_view_unchecked};
use crate::identity::Roster;
use crate::identity::kinds::GOVERNANCE_KINDS;
use crate::identity::roster::Discounted;
use crate::ledger::verify::{Failure, OriginReport, check_refs, orphan_entries, stray_rows, verify_origin};
use crate::ledger::{EntryId, Ledger, LedgerError, Pos};
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
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
    /// Cosignatures held, per origin, and recorded equivocations.
    pub witnesses: super::witness::WitnessState,
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
                witnesses: Default::default(),
                elapsed: started.elapsed(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    Ok(verify_ledger(&ledger, started))
}

/// Verifies an open ledger (an audit copy of a bundle, for `verify --bundle`).
pub fn verify_open(ledger: &Ledger) -> VerifyReport {
    verify_ledger(ledger, Instant::now())
}

fn verify_ledger(ledger: &Ledger, started: Instant) -> VerifyReport {
    let mut report = VerifyReport {
        ledger_id: Some(ledger.ledger_id()),
        origins: Vec::new(),
        failure: None,
        completeness: Vec::new(),
        discounted: Vec::new(),
        blobs: Default::default(),
        witnesses: Default::default(),
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
    match super::witness::witness_state(ledger) {
        Ok(w) => report.witnesses = w,
        Err(e) => report.failure = Some(fail(format!("cannot read the cosignatures: {e}"))),
    }
    let mut refs = match crate::ledger::verify::RefSet::new() {
        Ok(r) => r,
        Err(e) => {
            report.failure = Some(fail(format!("cannot open a temporary file to check the refs index: {e}")));
            report.elapsed = started.elapsed();
            return report;
        }
    };
    // Governance entries (few) are kept whole; every other entry as (position, signer, kind, origin).
    let mut governance: Vec<(Pos, EntryId, crate::ledger::statement::CheckedHead, Vec<u8>)> = Vec::new();
    let mut signers: Vec<crate::ledger::PublicKey> = Vec::new();
    let mut signer_ix: std::collections::HashMap<[u8; 32], u32> = std::collections::HashMap::new();
    let mut kinds: Vec<String> = Vec::new();
    let mut others: Vec<(Pos, u32, u16, u16)> = Vec::new();
    let mut firsts: Vec<(String, Option<EntryId>, Option<String>)> = Vec::new();
    let mut tails: Vec<Failure> = Vec::new();
    // The latest statement time seen: (ms, origin, index, id, ts).
    let mut latest: Option<(i64, usize, u64, EntryId, String)> = None;
    for (oi, origin) in origins.iter().enumerate() {
        let mut first = None;
        let mut visit = |e: &crate::ledger::verify::VerifiedEntry<'_>| {
            if e.index == 0 {
                first = Some((e.id, e.head.kind.clone()));
            }
            for r in &e.head.refs {
                refs.insert(*r, e.id);
            }
            let ms = crate::ledger::pos::ts_ms(&e.head.ts);
            if latest.as_ref().is_none_or(|l| ms > l.0) {
                latest = Some((ms, oi, e.index, e.id, e.head.ts.clone()));
            }
            if GOVERNANCE_KINDS.contains(&e.head.kind.as_str()) {
                governance.push((e.pos, e.id, e.head.clone(), e.bytes.to_vec()));
            } else if e.head.kind == crate::ledger::causal::MERGED_KIND {
                // Merge markers are signed by the origin key; `check_markers` checks them.
            } else {
                let si = *signer_ix.entry(e.head.actor.bytes()).or_insert_with(|| {
                    signers.push(e.head.actor);
                    (signers.len() - 1) as u32
                });
                let ki = match kinds.iter().position(|k| *k == e.head.kind) {
                    Some(i) => i,
                    None => {
                        kinds.push(e.head.kind.clone());
                        kinds.len() - 1
                    }
                };
                others.push((e.pos, si, ki as u16, oi as u16));
            }
            Ok(())
        };
        let r = verify_origin(ledger, origin, &mut visit);
        firsts.push((origin.name.clone(), first.as_ref().map(|f| f.0), first.map(|f| f.1)));
        let checkpointed = r.latest_checkpoint.map(|c| c.0).unwrap_or(0);
        let witnesses: Vec<(String, u64)> = report
            .witnesses
            .by_origin
            .get(&origin.name)
            .map(|l| l.iter().map(|w| (w.name.clone(), w.size)).collect())
            .unwrap_or_default();
        report.completeness.push(Completeness {
            origin: origin.name.clone(),
            size: r.size,
            checkpointed,
            unchecked_tail: r.size.saturating_sub(checkpointed),
            witnessed: !witnesses.is_empty(),
            statement: completeness_statement(r.size, checkpointed, &witnesses),
        });
        if report.failure.is_none() {
            report.failure = r.failure.clone();
        }
        if r.verified > checkpointed {
            // A log runs past its latest signed checkpoint: leaves no origin key vouched for. Reported
            // after the checks that can name a SECURITY cause (a cut-back mirror loses its checkpoints).
            tails.push(Failure {
                origin: origin.name.clone(),
                index: Some(checkpointed),
                entry_id: None,
                problem: format!(
                    "{} entr{} after the latest signed checkpoint (size {checkpointed}): no checkpoint covers \
                     them (appended behind the ledger's back)",
                    r.verified - checkpointed,
                    if r.verified - checkpointed == 1 { "y" } else { "ies" }
                ),
            });
        }
        if report.failure.is_none()
            && let Some(w) = witnesses.iter().find(|(_, n)| *n > r.size)
        {
            report.failure = Some(Failure {
                origin: origin.name.clone(),
                index: None,
                entry_id: None,
                problem: format!(
                    "SECURITY: {} cosigned this log at size {} but the file holds only {} of its entries: entries \
                     were removed",
                    w.0, w.1, r.size
                ),
            });
        }
        report.origins.push(r);
    }
    if report.failure.is_none() {
        match crate::ledger::causal::check_markers(ledger) {
            Ok(Some((origin, index, problem))) => {
                report.failure = Some(Failure { origin, index: Some(index), entry_id: None, problem })
            }
            Ok(None) => {}
            Err(e) => report.failure = Some(fail(format!("cannot check the merge markers: {e}"))),
        }
    }
    if report.failure.is_none() {
        report.failure = tails.into_iter().next();
    }
    // Who counted: the roster from the governance entries of every log, in causal order.
    let mut roster = Roster::default();
    if report.failure.is_none() {
        governance.sort_by_key(|g| g.0);
        let causal = match crate::ledger::causal::Causality::load(ledger) {
            Ok(c) => std::sync::Arc::new(c),
            Err(e) => {
                report.failure = Some(fail(format!("cannot read the merge markers: {e}")));
                std::sync::Arc::default()
            }
        };
        match Roster::build(causal, &governance) {
            Ok(r) => roster = r,
            Err((id, problem)) => {
                report.failure = Some(Failure { origin: "-".into(), index: None, entry_id: Some(id), problem })
            }
        }
    }
    if report.failure.is_none()
        && let Some((ms, oi, index, id, ts)) = &latest
    {
        let limit = crate::workflow::clock::latest_ms(roster.max_clock_skew_seconds());
        if *ms > limit {
            report.failure = Some(Failure {
                origin: origins[*oi].name.clone(),
                index: Some(*index),
                entry_id: Some(*id),
                problem: format!(
                    "stamped {ts}, later than this machine's clock plus the allowed skew ({}): forward-dated",
                    crate::ledger::pos::format_ms(limit)
                ),
            });
        }
    }
    if report.failure.is_none() {
        match roster.genesis() {
            Some((gid, _)) if *gid == ledger.ledger_id() => {}
            _ => report.failure = Some(fail("the ledger id in the metadata is not its genesis entry's id".into())),
        }
    }
    if report.failure.is_none() {
        for (o, (name, first, kind)) in origins.iter().zip(&firsts) {
            let declared = roster.origin_key(name);
            let genesis_log = first.is_some() && *first == Some(ledger.ledger_id());
            if first.is_some() && !genesis_log && kind.as_deref() != Some(crate::identity::kinds::ORIGIN_JOINED) {
                report.failure = Some(Failure {
                    origin: name.clone(),
                    index: Some(0),
                    entry_id: *first,
                    problem: "this log does not start with its origin.joined declaration".into(),
                });
                break;
            }
            if first.is_some() && declared != Some(&o.key) {
                report.failure = Some(Failure {
                    origin: name.clone(),
                    index: Some(0),
                    entry_id: *first,
                    problem: match declared {
                        Some(_) => "the origin key stored in the file is not the one declared for this origin".into(),
                        None => "no signed entry declares this origin (a genesis or an origin.joined entry)".into(),
                    },
                });
                break;
            }
        }
    }
    report.discounted.extend(roster.discounted().iter().cloned());
    if report.failure.is_none() {
        for (pos, si, ki, oi) in &others {
            let key = &signers[*si as usize];
            if !roster.is_active(key, *pos) {
                let origin = &origins[*oi as usize];
                let index = crate::ledger::pos::index_of(*pos);
                let id = ledger
                    .log_page(origin, index, 1)
                    .ok()
                    .and_then(|r| r.first().map(|r| r.entry.id))
                    .unwrap_or(crate::ledger::Hash([0; 32]));
                report.discounted.push(Discounted {
                    pos: *pos,
                    id,
                    kind: kinds[*ki as usize].clone(),
                    reason: roster.signer_problem(key, *pos),
                });
            }
        }
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
        match check_refs(ledger, refs) {
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
        if let Some(e) = report.witnesses.equivocations.first() {
            report.failure = Some(Failure {
                origin: e.origin.clone(),
                index: None,
                entry_id: None,
                problem: format!(
                    "SECURITY: {} equivocation{} recorded ({}: {}); the evidence is kept in this file",
                    report.witnesses.equivocations.len(),
                    if report.witnesses.equivocations.len() == 1 { "" } else { "s" },
                    e.kind,
                    e.detail
                ),
            });
        } else if let Some(p) = report.witnesses.problems.first() {
            report.failure = Some(fail(p.clone()));
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

/// Reasons a decision is excluded that are part of a normal lifecycle, not a violation (a stale approval
/// saw less evidence than was attached later; its approver approves again).
const ROUTINE: [&str; 4] = ["superseded by a later decision", "decided on an earlier version", "expired", "stale:"];

/// Every request folded under the policy: lifecycle entries the rules refused, and decisions the policy
/// does not count (no role, self-approval, revoked key, …), with the reasons.
fn domain_verdict(ledger: &Ledger) -> Result<Vec<Discounted>, WorkflowError> {
    let snap = Snapshot::load(ledger)?;
    let now = crate::workflow::clock::now();
    let mut out = Vec::new();
    for (_, id) in all_requests(ledger)? {
        let view = load_view_unchecked(ledger, &snap, &id)?;
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

fn completeness_statement(size: u64, checkpointed: u64, witnesses: &[(String, u64)]) -> String {
    let base = if witnesses.is_empty() {
        "this file alone cannot show that nothing was cut off after its latest checkpoint; \
         that needs a checkpoint held elsewhere (a peer's cosignature, collected by sync)"
            .to_string()
    } else {
        format!(
            "witnessed: {} (a shorter log than a witness saw would be refused on import)",
            witnesses.iter().map(|(w, n)| format!("size {n} by {w}")).collect::<Vec<_>>().join(", ")
        )
    };
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
