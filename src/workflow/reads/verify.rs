//! `verify`: every origin's log checked end to end, signers checked against the roster as it stood at
//! each entry, and the two verdicts — integrity and completeness — reported separately.

pub use super::domain_pass::Forked;
use super::domain_pass::{self, Collector};
use crate::identity::Roster;
use crate::identity::kinds::GOVERNANCE_KINDS;
use crate::identity::roster::Discounted;
pub use crate::ledger::verify::Budget;
use crate::ledger::verify::{
    Failure, LeafCounts, OriginReport, counts_for_walk, leaf_counts, orphan_entries, stray_rows, verify_origin,
};
use crate::ledger::{EntryId, Hash, Ledger, LedgerError, Pos};
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use std::time::{Duration, Instant};

/// The count of repeated leaves (an entry several logs hold counts once per log after its first), being
/// asked beside the walk, with the entries and leaves counted after it in the same snapshot, or asked
/// already.
enum Asked {
    Here(u64),
    Beside(std::thread::JoinHandle<Result<(u64, Option<LeafCounts>), LedgerError>>),
}

impl Asked {
    /// The repeated leaves, with the counts made beside the walk (if they were made: a failure to count is
    /// met again when they are made here), or why the scan of the leaf index failed.
    fn answer(self) -> Result<(u64, Option<LeafCounts>), Failure> {
        match self {
            Asked::Here(repeated) => Ok((repeated, None)),
            Asked::Beside(h) => match h.join() {
                Ok(r) => r.map_err(|e| Failure::unread("-", e)),
                Err(_) => Err(Failure::new("-", None, None, "the scan of the leaf index failed")),
            },
        }
    }
}

/// Asks which entries several logs hold, and how many leaves repeat one: a scan of the whole leaf index
/// (a quarter of a second on one core at a million entries). With a second thread in the budget it runs
/// on a connection of its own, opened now (after this connection's snapshot began, so it sees at least
/// what the walk sees: the tables only grow, and an entry found in several logs that the walk sees in
/// one is only folded from its stored rows), while the walk starts, and then counts the entries and the
/// leaves in the same snapshot for the check of entries in no log (two index scans the walk does not
/// make); otherwise here. The set comes over the channel; the rest, or the failure, from [`Asked::answer`].
fn ask_several(
    ledger: &Ledger,
    budget: &Budget,
) -> Result<(std::sync::mpsc::Receiver<std::collections::HashSet<EntryId>>, Asked), LedgerError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let beside = (budget.threads >= 2)
        .then(|| {
            let l = Ledger::open_read_only(ledger.path()).ok()?;
            l.set_cache_kib(budget.cache_kib);
            l.hold_snapshot().ok()?;
            Some(l)
        })
        .flatten();
    let Some(l) = beside else {
        let (several, repeated) = ledger.entries_in_several_logs()?;
        let _ = tx.send(several);
        return Ok((rx, Asked::Here(repeated)));
    };
    let handle = std::thread::spawn(move || {
        let (several, repeated) = l.entries_in_several_logs()?;
        // The walk may have failed and gone: nobody to tell.
        let _ = tx.send(several);
        Ok((repeated, leaf_counts(&l, repeated).ok()))
    });
    Ok((rx, Asked::Beside(handle)))
}

/// Records `f` as what verification found: the first failure, except that a failure of the record
/// replaces a read the file refused (verification went on past that read, in another log or another
/// check, and what it found wrong is the stronger statement: a file that cannot be read everywhere must not
/// hide tampering found elsewhere).
fn found(failure: &mut Option<Failure>, f: Failure) {
    if still_open(failure) && !(f.not_read && failure.is_some()) {
        *failure = Some(f);
    }
}

/// Whether nothing wrong with the record was found yet (nothing, or only a read the file refused).
fn still_open(failure: &Option<Failure>) -> bool {
    failure.as_ref().is_none_or(|f| f.not_read)
}

/// Whether every log was walked to its end. The checks that compare what the walk met with what the file
/// stores (the governance entries, the dates, the logs' declarations, the entries in no log, the refs
/// index, the requests' verdict) run only then: after a walk a read cut short, they would call what it
/// did not reach missing or changed.
fn walked_whole(origins: &[OriginReport]) -> bool {
    origins.iter().all(|o| o.failure.is_none())
}

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
    /// Governance changes that took effect with fewer admin signatures than a policy their proposal had not
    /// seen asks (made from a copy older than it; [`crate::identity::roster::Roster::stale_governance`]):
    /// they count, and are listed.
    pub stale_governance: Vec<crate::identity::roster::StaleGovernance>,
    /// Requests whose counted executions ran different versions (FORMAT.md §1.2, *Forks*), in position
    /// order: found with the requests' verdict (`authorization_checked`).
    pub forks: Vec<Forked>,
    /// Evidence blobs checked against their digests, and those purged by a signed entry.
    pub blobs: super::evidence::BlobReport,
    /// Whether every evidence blob was checked against its digest: not when an integrity failure stopped
    /// verification before that check (then `blobs` says nothing of the blobs).
    pub evidence_checked: bool,
    /// Whether every entry's signer was judged and every request's decisions counted under the policy: not
    /// when an integrity failure stopped verification before (then `discounted` holds only what was found
    /// until then).
    pub authorization_checked: bool,
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
    /// Whether a checkpoint held by another party (a witness cosignature) confirms the size: `None` when
    /// the cosignatures could not be read (not known, which is not "no").
    pub witnessed: Option<bool>,
    pub statement: String,
}

/// What the evidence and authorization lines say when an integrity failure stopped verification before
/// their checks ([`VerifyReport::evidence_checked`], [`VerifyReport::authorization_checked`]).
pub const NOT_CHECKED: &str = "not checked (verification stopped before it, at the failure above)";

impl VerifyReport {
    /// A report of ledger `ledger_id` before anything was checked, or when `failure` stopped verification
    /// before anything was: no origin, evidence or authorization checked.
    pub fn nothing_checked(ledger_id: Option<EntryId>, failure: Option<Failure>) -> VerifyReport {
        VerifyReport {
            ledger_id,
            origins: Vec::new(),
            failure,
            completeness: Vec::new(),
            discounted: Vec::new(),
            stale_governance: Vec::new(),
            forks: Vec::new(),
            blobs: Default::default(),
            evidence_checked: false,
            authorization_checked: false,
            witnesses: Default::default(),
            elapsed: Duration::ZERO,
        }
    }

    pub fn intact(&self) -> bool {
        self.failure.is_none()
    }
}

/// Verifies the ledger at `ctx.ledger_path`. A ledger that cannot be opened because it is damaged is
/// reported as an integrity failure; one that does not exist or is not a ledger is an error.
pub fn verify(ctx: &Context) -> Result<VerifyReport, WorkflowError> {
    verify_with(ctx, Budget::full(), None)
}

/// As [`verify`], within `budget`, telling `progress` (when given) now and then how much of the work is
/// done (entries checked plus requests evaluated, out of all of them). Without it, the requests are not
/// counted before the walk: that count reads the whole kind index, on one thread, before any signature
/// is checked (a tenth to a third of a second at a million entries, most of it waiting for the disk).
pub fn verify_with(
    ctx: &Context,
    budget: Budget,
    progress: Option<&mut dyn FnMut(u64, u64)>,
) -> Result<VerifyReport, WorkflowError> {
    let started = Instant::now();
    let ledger = match Ledger::open_read_only(&ctx.ledger_path) {
        Ok(l) => l,
        Err(LedgerError::Damaged(why)) => {
            let failure = Failure::new("-", None, None, why);
            return Ok(VerifyReport {
                elapsed: started.elapsed(),
                ..VerifyReport::nothing_checked(None, Some(failure))
            });
        }
        Err(e) => return Err(e.into()),
    };
    Ok(verify_ledger(&ledger, budget, progress, started))
}

/// Verifies an open ledger (an audit copy of a bundle, for `verify --bundle`).
pub fn verify_open(ledger: &Ledger) -> VerifyReport {
    verify_ledger(ledger, Budget::full(), None, Instant::now())
}

/// Entries or requests between two progress reports.
const PROGRESS_EVERY: u64 = 4096;

fn verify_ledger(
    ledger: &Ledger,
    budget: Budget,
    progress: Option<&mut dyn FnMut(u64, u64)>,
    started: Instant,
) -> VerifyReport {
    let mut report = VerifyReport::nothing_checked(Some(ledger.ledger_id()), None);
    let fail = |problem: String| Failure::new("-", None, None, problem);
    // "cannot {what}: {e}", the file unread when `e` is a read of the ledger that failed for another reason
    // than its content, or a file beside it the system did not read.
    fn cannot(what: &str, e: impl Into<WorkflowError>) -> Failure {
        let e = e.into();
        let not_read = match &e {
            WorkflowError::Ledger(l) => crate::ledger::not_read(l),
            // A file beside the ledger (an evidence blob, the folds' temporary file) the system did not read.
            WorkflowError::Io(..) | WorkflowError::Read(..) => true,
            _ => false,
        };
        Failure { not_read, ..Failure::new("-", None, None, format!("cannot {what}: {e}")) }
    }
    // One snapshot for every question below; the domain pass's connections open right after it starts.
    ledger.set_cache_kib(budget.cache_kib);
    let _snapshot = match ledger.read_snapshot() {
        Ok(s) => s,
        Err(e) => {
            report.failure = Some(Failure::unread("-", e));
            report.elapsed = started.elapsed();
            return report;
        }
    };
    let folders = domain_pass::connections(ledger, &budget);
    // Asked first: it runs beside what follows.
    let (several, asked) = match ask_several(ledger, &budget) {
        Ok(s) => s,
        Err(e) => {
            report.failure = Some(Failure::unread("-", e));
            report.elapsed = started.elapsed();
            return report;
        }
    };
    let origins = match ledger.origins() {
        Ok(o) => o,
        Err(e) => {
            report.failure = Some(Failure::unread("-", e));
            report.elapsed = started.elapsed();
            return report;
        }
    };
    // Two origins sharing a position tag leave the order of their entries undefined: every verdict that
    // follows order (the roster, causality, a request's lifecycle) could differ between two machines.
    let ordered = origins.iter().filter(|o| !o.is_audit_copy());
    if let Some((a, b)) = crate::ledger::pos::tag_clash(ordered.map(|o| o.name.as_str())) {
        found(&mut report.failure, Failure::new(b, None, None, crate::ledger::pos::clash_problem(a, b)));
    }
    let total = match progress {
        Some(_) => {
            origins.iter().map(|o| ledger.size(o).unwrap_or(0)).sum::<u64>()
                + ledger.count_of_kind(crate::audit::kinds::REQUESTED).unwrap_or(0)
        }
        None => 0,
    };
    let mut unheard = |_: u64, _: u64| {};
    let progress: &mut dyn FnMut(u64, u64) = progress.unwrap_or(&mut unheard);
    let mut done = 0u64;
    progress(0, total);
    let witnesses = super::witness::witness_state(ledger);
    #[cfg(test)]
    let witnesses = tests::refused_cosignatures(witnesses);
    // Without the cosignatures, whether a peer witnessed a log is not known (and not "no").
    let witnesses_read = witnesses.is_ok();
    match witnesses {
        Ok(w) => report.witnesses = w,
        Err(e) => report.failure = Some(cannot("read the cosignatures", e)),
    }
    // Who counts is known only once every governance entry is verified, but holding every other entry
    // until then would grow with the ledger. So the roster is built first from the governance entries as
    // stored, each entry's signer is judged against it as the entry passes, and once the walk is done the
    // governance entries it verified must be exactly those the roster was built from.
    let (pre_governance, pre_roster, causal) = match pre_roster(ledger) {
        Ok(p) => p,
        Err(e) => {
            report.failure = Some(cannot("read the governance entries", e));
            report.elapsed = started.elapsed();
            return report;
        }
    };
    let mut governance: Vec<(Pos, EntryId, crate::ledger::statement::CheckedHead, Vec<u8>)> = Vec::new();
    let mut unauthorized: Vec<Discounted> = Vec::new();
    let mut firsts: Vec<(String, Option<EntryId>, Option<String>)> = Vec::new();
    let mut tails: Vec<Failure> = Vec::new();
    // The latest statement time seen: (ms, origin, index, id, ts).
    let mut latest: Option<(i64, usize, u64, EntryId, String)> = None;
    // The domain pass folds each request beside the walk, with the entries referencing it that the walk
    // met while it was held (see `domain_pass`).
    let mut collector = Collector::asking(several, budget.hold_kib.saturating_mul(1024));
    // Within no budget to hold anything, the requests are folded after the walk from their stored rows.
    let beside = budget.hold_kib > 0;
    let mut ready = Vec::new();
    // Whether every request was handed to the folds: the verdict covers only those.
    let mut all_sent = false;
    let (whole, verdict, refs_checked) = domain_pass::run(ledger, folders, &budget, |sink| {
        for (oi, origin) in origins.iter().enumerate() {
            let mut first = None;
            let mut visit = |e: &mut crate::ledger::verify::VerifiedEntry<'_>| {
                if e.index == 0 {
                    first = Some((e.id, e.head.kind.clone()));
                }
                for r in &e.head.refs {
                    sink.refer(*r, e.id);
                }
                let ms = crate::ledger::pos::ts_ms(&e.head.ts);
                if latest.as_ref().is_none_or(|l| ms > l.0) {
                    latest = Some((ms, oi, e.index, e.id, e.head.ts.clone()));
                }
                if GOVERNANCE_KINDS.contains(&e.head.kind.as_str()) {
                    governance.push((e.pos, e.id, e.head.clone(), e.bytes.clone()));
                } else if e.head.kind == crate::ledger::causal::MERGED_KIND {
                    // Merge markers are signed by the origin key; `check_markers` checks them.
                } else if !pre_roster.is_active(&e.head.actor, e.pos) {
                    unauthorized.push(Discounted {
                        pos: e.pos,
                        id: e.id,
                        kind: e.head.kind.clone(),
                        reason: pre_roster.signer_problem(&e.head.actor, e.pos),
                    });
                }
                if beside {
                    collector.take(e, &mut ready);
                }
                for job in ready.drain(..) {
                    sink.send(job);
                }
                done += 1;
                if done % PROGRESS_EVERY == 0 {
                    progress(done + sink.folded, total);
                }
                Ok(())
            };
            let r = {
                #[cfg(test)]
                let mut visit = tests::cut_walk(oi, &mut visit);
                verify_origin(ledger, origin, &budget, &mut visit)
            };
            #[cfg(test)]
            let r = tests::cut_report(oi, r);
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
                witnessed: witnesses_read.then_some(!witnesses.is_empty()),
                // A walk that stopped at a failure read the checkpoints before it only: what it says of the
                // tail would read as entries appended past the latest checkpoint.
                statement: match &r.failure {
                    Some(f) => format!(
                        "not known: verification of this log stopped at its failure{}",
                        f.index.map(|i| format!(" (index {i})")).unwrap_or_default()
                    ),
                    None => {
                        completeness_statement(r.size, checkpointed, witnesses_read.then_some(witnesses.as_slice()))
                    }
                },
            });
            if let Some(f) = &r.failure {
                found(&mut report.failure, f.clone());
            }
            // A log whose walk stopped has verified neither its tail nor (when the read of its size was the one
            // refused) its size: the two checks below would say entries were appended or removed.
            let walked = r.failure.is_none();
            if walked && r.verified > checkpointed {
                // A log runs past its latest signed checkpoint: leaves no origin key vouched for. Reported
                // after the checks that can name a SECURITY cause (a cut-back mirror loses its checkpoints).
                tails.push(Failure::new(
                    &origin.name,
                    Some(checkpointed),
                    None,
                    format!(
                        "{} entr{} after the latest signed checkpoint (size {checkpointed}): no checkpoint covers \
                         them (appended behind the ledger's back)",
                        r.verified - checkpointed,
                        if r.verified - checkpointed == 1 { "y" } else { "ies" }
                    ),
                ));
            }
            if walked
                && still_open(&report.failure)
                && let Some(w) = witnesses.iter().find(|(_, n)| *n > r.size)
            {
                report.failure = Some(Failure::new(
                    &origin.name,
                    None,
                    None,
                    format!(
                        "SECURITY: {} cosigned this log at size {} but the file holds only {} of its entries: entries \
                         were removed",
                        w.0, w.1, r.size
                    ),
                ));
            }
            report.origins.push(r);
        }
        // What the walk could not complete (or everything, when it failed: the verdict is then not used).
        let whole = walked_whole(&report.origins);
        if still_open(&report.failure) && whole {
            let mut send = |job| {
                sink.send(job);
                if sink.folded % PROGRESS_EVERY == 0 {
                    progress(done + sink.folded, total);
                }
            };
            if beside {
                collector.finish().for_each(&mut send);
                all_sent = true;
            } else {
                match ledger.visit_kinds(&[crate::audit::kinds::REQUESTED], |row| -> Result<(), LedgerError> {
                    #[cfg(test)]
                    tests::refused_request_scan()?;
                    send(domain_pass::Job::Row(Box::new(row)));
                    Ok(())
                }) {
                    Ok(()) => all_sent = true,
                    Err(e) => found(&mut report.failure, cannot("evaluate the requests", e)),
                }
            }
        }
        whole
    });
    // After a read the file refused, the checks below still run, so that what they find wrong with the
    // record is the verdict (`found`); those that compare with the walk run only after a whole walk.
    let open_after_walk = |failure: &Option<Failure>| still_open(failure) && whole;
    if still_open(&report.failure) {
        match crate::ledger::causal::check_markers(ledger) {
            Ok(Some((origin, index, problem))) => {
                found(&mut report.failure, Failure::new(&origin, Some(index), None, problem))
            }
            Ok(None) => {}
            Err(e) => found(&mut report.failure, cannot("check the merge markers", e)),
        }
    }
    if still_open(&report.failure)
        && let Some(t) = tails.into_iter().next()
    {
        report.failure = Some(t);
    }
    // Who counted: the roster from the governance entries of every log, in causal order.
    let mut roster = Roster::default();
    let mut roster_built = false;
    if open_after_walk(&report.failure) {
        governance.sort_by_key(|g| g.0);
        // An entry held by several logs counts once, at its first position.
        let mut seen = std::collections::HashSet::new();
        governance.retain(|g| seen.insert(g.1));
        if governance.iter().map(|g| g.1).ne(pre_governance.iter().copied()) {
            found(
                &mut report.failure,
                fail(
                    "the governance entries in the logs are not those stored under their kinds (rows changed behind \
                 the ledger's back)"
                        .into(),
                ),
            );
        }
        match Roster::build(causal, &governance) {
            Ok(r) => {
                roster = r;
                roster_built = true;
            }
            Err((id, problem)) => found(&mut report.failure, Failure::new("-", None, Some(id), problem)),
        }
    }
    if open_after_walk(&report.failure)
        && let Some((ms, oi, index, id, ts)) = &latest
    {
        let limit = crate::workflow::clock::latest_ms(roster.max_clock_skew_seconds());
        if *ms > limit {
            found(
                &mut report.failure,
                Failure::new(
                    &origins[*oi].name,
                    Some(*index),
                    Some(*id),
                    format!(
                        "stamped {ts}, later than this machine's clock plus the allowed skew ({}): forward-dated",
                        crate::ledger::pos::format_ms(limit)
                    ),
                ),
            );
        }
    }
    if open_after_walk(&report.failure) {
        match roster.genesis() {
            Some((gid, _)) if *gid == ledger.ledger_id() => {}
            _ => found(&mut report.failure, fail("the ledger id in the metadata is not its genesis entry's id".into())),
        }
    }
    if open_after_walk(&report.failure) {
        for (o, (name, first, kind)) in origins.iter().zip(&firsts) {
            if first.is_none() && !o.own {
                // Every log starts with its declaration: an empty one claims a name and key nothing declared
                // (an import refuses such a section now; a file may hold one from before, or from tampering).
                found(
                    &mut report.failure,
                    Failure::new(name, None, None, "this log holds no entries: nothing declares this origin"),
                );
                break;
            }
            let declared = roster.origin_key(name);
            let genesis_log = first.is_some() && *first == Some(ledger.ledger_id());
            if first.is_some() && !genesis_log && kind.as_deref() != Some(crate::identity::kinds::ORIGIN_JOINED) {
                found(
                    &mut report.failure,
                    Failure::new(name, Some(0), *first, "this log does not start with its origin.joined declaration"),
                );
                break;
            }
            if first.is_some() && declared != Some(&o.key) {
                found(
                    &mut report.failure,
                    Failure::new(
                        name,
                        Some(0),
                        *first,
                        match declared {
                            Some(_) => "the origin key stored in the file is not the one declared for this origin",
                            None => "no signed entry declares this origin (a genesis or an origin.joined entry)",
                        },
                    ),
                );
                break;
            }
        }
    }
    report.discounted.extend(roster.discounted().iter().cloned());
    report.discounted.extend(unauthorized);
    report.stale_governance = roster.stale_governance();
    // Asked beside the walk: a failure to answer is reported unless the walk found one first.
    // Without it, the entries in no log cannot be counted, and the requests' folds may have met an entry
    // several logs hold more than once.
    let (repeated_leaves, counted, answered) = match asked.answer() {
        Ok((repeated, counted)) => (repeated, counted, true),
        Err(f) => {
            found(&mut report.failure, f);
            (0, None, false)
        }
    };
    // An entry several leaves hold is evidence, as a fork is: open unless acknowledged, then the failure
    // below (looked up in the walk's snapshot: the scan beside it may have seen a later import).
    if answered && repeated_leaves > 0 {
        // Acknowledgments are judged by the roster of the walk, or (when a failure stopped the walk before it
        // was built) by the stored governance entries, as the recorded forks' are: not by an empty one.
        let split = (|| -> Result<_, WorkflowError> {
            let stored = if roster_built { None } else { Some(Roster::from_staged(ledger)?) };
            let judge = stored.as_ref().unwrap_or(&roster);
            super::witness::split_equivocations(ledger, super::witness::copies(ledger)?, judge)
        })();
        match split {
            Ok((open, acknowledged)) => {
                report.witnesses.equivocations.extend(open);
                report.witnesses.acknowledged.extend(acknowledged);
            }
            Err(e) => found(&mut report.failure, cannot("read the entries several leaves hold", e)),
        }
    }
    if open_after_walk(&report.failure) && answered {
        let walked: u64 = report.origins.iter().map(|o| o.size).sum();
        match counts_for_walk(ledger, counted, walked, repeated_leaves).and_then(|c| orphan_entries(ledger, c)) {
            Ok(ids) if !ids.is_empty() => found(
                &mut report.failure,
                Failure::new(
                    "-",
                    None,
                    Some(ids[0]),
                    format!(
                        "{} stored entr{} in no log (inserted behind the ledger's back)",
                        ids.len(),
                        if ids.len() == 1 { "y is" } else { "ies are" }
                    ),
                ),
            ),
            Ok(_) => {}
            Err(e) => found(&mut report.failure, Failure::unread("-", e)),
        }
    }
    // A scan of the refs index that stopped also stopped the check of the tentative folds: the verdict is then
    // not whole either.
    #[cfg(test)]
    let refs_checked = tests::refused_refs(refs_checked);
    let refs_scanned = refs_checked.is_ok();
    if open_after_walk(&report.failure) {
        match refs_checked {
            Ok(Some(what)) => found(&mut report.failure, fail(what)),
            Ok(None) => {}
            // SQLite's failure, said as a read (damage, or the file unread).
            Err(WorkflowError::Ledger(e)) => found(&mut report.failure, Failure::unread("-", e)),
            Err(e) => found(&mut report.failure, cannot("check the refs index: the scan stopped", e)),
        }
    }
    if still_open(&report.failure) {
        match stray_rows(ledger) {
            Ok(Some(what)) => found(&mut report.failure, fail(what)),
            Ok(None) => {}
            Err(e) => found(&mut report.failure, Failure::unread("-", e)),
        }
    }
    if still_open(&report.failure) {
        if let Some(e) = report.witnesses.equivocations.first() {
            // A copy names its entry (the start of its `ours`).
            let entry = (e.kind == super::witness::COPY).then(|| e.ours.get(..64).and_then(Hash::from_hex)).flatten();
            report.failure = Some(Failure::new(
                &e.origin,
                None,
                entry,
                format!(
                    "SECURITY: {} equivocation{} recorded ({}: {}); the evidence is kept in this file",
                    report.witnesses.equivocations.len(),
                    if report.witnesses.equivocations.len() == 1 { "" } else { "s" },
                    e.kind,
                    e.detail
                ),
            ));
        } else if let Some(p) = report.witnesses.problems.first() {
            report.failure = Some(fail(p.clone()));
        }
    }
    let mut blobs_checked = false;
    if still_open(&report.failure) {
        match super::evidence::check_blobs(ledger) {
            Ok(b) => {
                if let Some((id, problem)) = &b.problem {
                    found(&mut report.failure, Failure::new("-", None, Some(*id), problem.clone()));
                }
                report.blobs = b;
                blobs_checked = true;
            }
            Err(e) => found(&mut report.failure, cannot("check evidence", e)),
        }
    }
    if open_after_walk(&report.failure) && answered && all_sent && refs_scanned {
        match verdict {
            Ok(verdict) => {
                report.blobs.checked += verdict.blobs.checked;
                report.blobs.not_held += verdict.blobs.not_held;
                if let Some((id, problem)) = verdict.blobs.problem {
                    found(&mut report.failure, Failure::new("-", None, Some(id), problem.clone()));
                    report.blobs.problem = Some((id, problem));
                }
                let mut known: std::collections::HashSet<EntryId> = report.discounted.iter().map(|d| d.id).collect();
                report.discounted.extend(verdict.discounted.into_iter().filter(|d| known.insert(d.id)));
                report.discounted.sort_by_key(|d| d.pos);
                report.forks = verdict.forks;
                report.forks.sort_by_key(|f| f.pos);
                // (Each request is folded once for the verdict: a second fork of one would be a bug.)
                report.forks.dedup_by_key(|f| f.request);
                // The change sets the records name are counted among the blobs only here.
                report.evidence_checked = blobs_checked;
                report.authorization_checked = true;
            }
            Err(e) => found(&mut report.failure, cannot("evaluate the requests", e)),
        }
    }
    progress(total, total);
    report.elapsed = started.elapsed();
    report
}

type PreRoster = (Vec<EntryId>, Roster, std::sync::Arc<crate::ledger::causal::Causality>);

/// The governance entries as stored (each once, at its first position, unchecked) and the roster they
/// make, to judge signers while the walk goes; the walk then confirms them.
fn pre_roster(ledger: &Ledger) -> Result<PreRoster, WorkflowError> {
    let mut rows = Vec::new();
    for row in ledger.entries_of_kinds(&GOVERNANCE_KINDS)? {
        if let Ok(head) = crate::ledger::statement::parse_head(&row.entry.bytes) {
            rows.push((row.pos, row.entry.id, head, row.entry.bytes));
        }
    }
    let ids = rows.iter().map(|r| r.1).collect();
    let causal = std::sync::Arc::new(crate::ledger::causal::Causality::load(ledger)?);
    // A roster that cannot be built is reported once the walk has verified the entries.
    let roster = Roster::build(std::sync::Arc::clone(&causal), &rows).unwrap_or_default();
    Ok((ids, roster, causal))
}

/// What a log's completeness rests on; `witnesses` None when the cosignatures could not be read.
fn completeness_statement(size: u64, checkpointed: u64, witnesses: Option<&[(String, u64)]>) -> String {
    let base = match witnesses {
        None => "whether a peer witnessed it is not known: the cosignatures could not be read".to_string(),
        Some([]) => "this file alone cannot show that nothing was cut off after its latest \
             checkpoint; that needs a checkpoint held elsewhere (a peer's cosignature, collected by sync)"
            .to_string(),
        Some(witnesses) => {
            format!(
                "witnessed: {} (a shorter log than a witness saw would be refused on import)",
                witnesses.iter().map(|(w, n)| format!("size {n} by {w}")).collect::<Vec<_>>().join(", ")
            )
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::verify::VerifiedEntry;
    use crate::workflow::reads::witness::WitnessState;
    use std::cell::Cell;

    /// A read the file refuses, made to happen in this thread's verifications (the tests below): the read
    /// of the cosignatures, or the walk of the `origin`th log from its entry `at` on.
    #[derive(Clone, Copy, Debug)]
    enum Refuse {
        Cosignatures,
        Walk {
            origin: usize,
            at: u64,
        },
        RefsScan,
        /// The scan of the requests folded after the walk (nothing held beside it).
        RequestScan,
    }

    thread_local! {
        static REFUSE: Cell<Option<Refuse>> = const { Cell::new(None) };
    }

    /// The busy file, as SQLite says it: a read refused, not the record's fault.
    fn refused() -> LedgerError {
        LedgerError::Busy
    }

    pub(super) fn refused_cosignatures(w: Result<WitnessState, WorkflowError>) -> Result<WitnessState, WorkflowError> {
        match REFUSE.get() {
            Some(Refuse::Cosignatures) => Err(refused().into()),
            _ => w,
        }
    }

    pub(super) fn refused_refs(r: domain_pass::RefsAnswer) -> domain_pass::RefsAnswer {
        match REFUSE.get() {
            Some(Refuse::RefsScan) => Err(refused().into()),
            _ => r,
        }
    }

    pub(super) fn refused_request_scan() -> Result<(), LedgerError> {
        match REFUSE.get() {
            Some(Refuse::RequestScan) => Err(refused()),
            _ => Ok(()),
        }
    }

    /// The walk's visitor, which meets nothing of the cut log from the refused entry on.
    pub(super) fn cut_walk<'a>(
        oi: usize,
        visit: &'a mut dyn FnMut(&mut VerifiedEntry<'_>) -> Result<(), String>,
    ) -> impl FnMut(&mut VerifiedEntry<'_>) -> Result<(), String> + 'a {
        let cut = match REFUSE.get() {
            Some(Refuse::Walk { origin, at }) if origin == oi => Some(at),
            _ => None,
        };
        move |e| if cut.is_some_and(|at| e.index >= at) { Ok(()) } else { visit(e) }
    }

    /// The cut log's report, as the walk gives it when a read is refused at the entry.
    pub(super) fn cut_report(oi: usize, mut r: OriginReport) -> OriginReport {
        if let Some(Refuse::Walk { origin, at }) = REFUSE.get()
            && origin == oi
        {
            // The walk records a checkpoint once it has verified up to it.
            r.verified = at;
            r.root = None;
            r.latest_checkpoint = r.latest_checkpoint.filter(|c| c.0 <= at);
            r.failure = Some(Failure::read(&r.origin, Some(at), None, crate::ledger::read_problem_of(refused())));
        }
        r
    }

    /// `ctx`'s ledger verified with `refuse` made to happen.
    fn verified(ctx: &Context, refuse: Option<Refuse>) -> VerifyReport {
        REFUSE.set(refuse);
        let report = verify(ctx).unwrap();
        REFUSE.set(None);
        report
    }

    fn demo() -> (tempfile::TempDir, Context) {
        let dir = tempfile::tempdir().unwrap();
        let demo = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap();
        (dir, demo.context())
    }

    /// An entry stored in no log, as someone with the file adds one.
    fn add_orphan(ctx: &Context) {
        rusqlite::Connection::open(&ctx.ledger_path)
            .unwrap()
            .execute(
                "INSERT INTO entries (id, statement, signature, kind, actor, ts)
                 SELECT zeroblob(32), statement, signature, kind, actor, ts FROM entries LIMIT 1",
                [],
            )
            .unwrap();
    }

    /// A read refused outside the walk (the cosignatures) stops no other check: on an intact ledger the
    /// verdict is NOT VERIFIED with evidence and authorization checked, and tampering any later check
    /// finds (here an entry in no log) is the verdict.
    #[test]
    fn a_read_refused_outside_the_walk_leaves_the_other_checks_to_run() {
        let (_dir, ctx) = demo();
        let intact = verified(&ctx, None);
        assert!(intact.intact(), "{:?}", intact.failure);
        let r = verified(&ctx, Some(Refuse::Cosignatures));
        let f = r.failure.as_ref().unwrap();
        assert!(f.not_read && f.problem.starts_with("cannot read the cosignatures"), "{f:?}");
        assert!(r.evidence_checked && r.authorization_checked);
        assert_eq!((r.blobs.checked, r.discounted.len()), (intact.blobs.checked, intact.discounted.len()));
        // Whether a peer witnessed the logs is not known, not "no": the jump host's log is witnessed.
        assert!(
            intact.completeness.iter().any(|c| c.statement.contains("witnessed: size")),
            "{:?}",
            intact.completeness
        );
        assert!(intact.completeness.iter().any(|c| c.witnessed == Some(true)), "{:?}", intact.completeness);
        for c in &r.completeness {
            assert!(
                c.statement.ends_with("whether a peer witnessed it is not known: the cosignatures could not be read")
            );
            assert_eq!(c.witnessed, None, "{c:?}");
        }
        add_orphan(&ctx);
        let f = verified(&ctx, Some(Refuse::Cosignatures)).failure.unwrap();
        assert!(!f.not_read && f.problem.contains("in no log"), "{f:?}");
    }

    /// A scan of the refs index the file refused also leaves the tentative folds unchecked: the requests'
    /// verdict is not given, so authorization and evidence are "not checked", and the verdict is NOT
    /// VERIFIED.
    #[test]
    fn a_refused_scan_of_the_refs_index_leaves_authorization_unchecked() {
        let (_dir, ctx) = demo();
        let r = verified(&ctx, Some(Refuse::RefsScan));
        let f = r.failure.as_ref().unwrap();
        assert!(f.not_read, "{f:?}");
        assert!(!r.authorization_checked && !r.evidence_checked);
    }

    /// Folding from the stored rows after the walk (nothing held beside it), a scan of the requests the
    /// file refused leaves the requests' verdict unchecked too: not every request was sent to be folded, so
    /// authorization and evidence are "not checked", and the verdict is NOT VERIFIED at the scan.
    #[test]
    fn a_refused_scan_of_the_requests_leaves_authorization_unchecked() {
        let (_dir, ctx) = demo();
        let held_nothing = Budget { threads: 2, cache_kib: 4096, hold_kib: 0 };
        let whole = verify_with(&ctx, held_nothing, None).unwrap();
        assert!(whole.intact() && whole.authorization_checked && whole.evidence_checked, "{:?}", whole.failure);
        REFUSE.set(Some(Refuse::RequestScan));
        let r = verify_with(&ctx, held_nothing, None).unwrap();
        REFUSE.set(None);
        let f = r.failure.as_ref().unwrap();
        assert!(f.not_read && f.problem.starts_with("cannot evaluate the requests"), "{f:?}");
        assert!(!r.authorization_checked && !r.evidence_checked);
    }

    /// A walk a read cut short is never called tampered by the checks that compare with the walk (what it
    /// did not reach would look missing): they do not run, and the verdict is NOT VERIFIED where the read
    /// was refused. The checks that stand on their own still run, and what they find is the verdict.
    #[test]
    fn a_walk_cut_short_is_not_called_tampered_and_the_checks_of_their_own_still_run() {
        let (_dir, ctx) = demo();
        let cut = Some(Refuse::Walk { origin: 0, at: 5 });
        let r = verified(&ctx, cut);
        let f = r.failure.as_ref().unwrap();
        assert!(f.not_read && f.index == Some(5), "{f:?}");
        assert!(!r.evidence_checked && !r.authorization_checked);
        // The entry in no log: found only by a whole walk.
        add_orphan(&ctx);
        assert!(verified(&ctx, cut).failure.unwrap().not_read);
        assert!(verified(&ctx, None).failure.unwrap().problem.contains("in no log"));
        // A row of no known origin: found whatever the walk.
        rusqlite::Connection::open(&ctx.ledger_path)
            .unwrap()
            .execute("INSERT INTO checkpoints VALUES (999, 1, 'n')", [])
            .unwrap();
        let f = verified(&ctx, cut).failure.unwrap();
        assert!(!f.not_read && f.problem == "1 rows of checkpoints belong to no known origin", "{f:?}");
    }

    /// The first failure found is kept, except that a failure of the record replaces a read the file
    /// refused: one log that could not be read does not hide tampering found in another.
    #[test]
    fn a_failure_of_the_record_replaces_a_read_the_file_refused_and_nothing_else() {
        let record = |origin: &str| Failure::new(origin, Some(3), None, "signature does not verify");
        let refused = |origin: &str| Failure { not_read: true, ..Failure::new(origin, None, None, "disk I/O error") };
        let mut failure = None;
        assert!(still_open(&failure));
        found(&mut failure, refused("a"));
        assert!(still_open(&failure), "only a read refused so far");
        found(&mut failure, refused("b"));
        assert_eq!(failure, Some(refused("a")), "the first read refused is kept");
        found(&mut failure, record("b"));
        assert_eq!(failure, Some(record("b")), "tampering found elsewhere is the verdict");
        assert!(!still_open(&failure));
        found(&mut failure, refused("c"));
        found(&mut failure, record("c"));
        assert_eq!(failure, Some(record("b")), "then the first failure of the record stays");
    }
}
