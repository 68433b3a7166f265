//! The security assessment of a request, from its signed entries: the change set blob its record names,
//! the ledger's memory of bad artifacts (marked bad, or rolled away from by an executed revert), the
//! advisories it recorded, its emergency and its test evidence — giving its flags and risk score.

use super::memory::Why;
use super::snapshot::Snapshot;
use crate::analysis::changeset::ChangeSet;
use crate::analysis::flags::{self, Emergency, Flag, Input, Tests};
use crate::analysis::risk::{self, Risk};
use crate::audit::RequestView;
use crate::audit::kinds::{EXECUTED, MARKED_BAD};
use crate::audit::record::RequestBody;
use crate::identity::Roster;
use crate::ledger::{EntryId, Hash, Ledger, POS_MAX, Pos};
use crate::workflow::error::WorkflowError;

/// Flags and risk of a request.
#[derive(Clone, Debug)]
pub struct Assessment {
    pub flags: Vec<Flag>,
    pub risk: Risk,
    /// Why the change set could not be read, when it could not (purged or missing bytes).
    pub changeset_problem: Option<String>,
}

impl Assessment {
    pub(crate) fn flag_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.flags.iter().map(|f| f.id.clone()).collect();
        ids.dedup();
        ids
    }
}

/// Indexes that make the memory look-ups logarithmic (skipped on a read-only file).
pub(crate) fn ensure_indexes(ledger: &Ledger) {
    let _ = ledger.index_body_field("memory_executed_from", EXECUTED, "from");
    let _ = ledger.index_body_field("memory_marked_bad", MARKED_BAD, "digest");
}

/// Why `digest` is known bad at `at`, if it is, for request `except` (its own execution does not count):
/// an entry that [`super::memory::says`] so, that happened before `at` (causal order;
/// [`POS_MAX`](crate::ledger::POS_MAX) sees every entry). A mark comes before any execution, then position
/// order.
pub(crate) fn known_bad(
    ledger: &Ledger,
    roster: &Roster,
    digest: &str,
    except: &EntryId,
    at: Pos,
    check: bool,
) -> Result<Option<String>, WorkflowError> {
    if digest.trim().is_empty() {
        return Ok(None);
    }
    let causal = roster.causal_order();
    // With `check`, each row that would count passes the check every decision makes of what it relies on
    // (FORMAT.md §7.5: statement, columns, signature, inclusion). One that fails stops the assessment, as a
    // request's own row does: leaving it out would let an edit of the file lift a mark.
    let mut checker = crate::ledger::inclusion::Checker::new(ledger);
    // Every entry naming the digest is read: those that do not count, however many, hide none that does.
    let mut first: Option<(Pos, Why)> = None;
    for (kind, field) in [(MARKED_BAD, "digest"), (EXECUTED, "from")] {
        if first.is_some() {
            break; // a mark: no execution comes before it
        }
        ledger.visit_where(kind, field, digest, |row| -> Result<(), WorkflowError> {
            let fact = super::state::fact_of(&row)?;
            // The row's columns found it; its signed statement must say so.
            let Some((named, why)) = super::memory::says(&fact, &row.kind, roster) else { return Ok(()) };
            if named == digest
                && why.counts_for(except)
                && causal.before(fact.pos, at)
                && first.as_ref().is_none_or(|(p, w)| why.rank(fact.pos) < w.rank(*p))
            {
                if check {
                    match checker.check(&row) {
                        Ok(_) => {}
                        Err(crate::ledger::inclusion::Unchecked::Fails(why)) => {
                            return Err(WorkflowError::Refused(format!(
                                "an entry naming {} as known bad fails its check: {why}",
                                crate::text::prefix(digest, 64)
                            )));
                        }
                        Err(crate::ledger::inclusion::Unchecked::Unreadable(e)) => return Err(e.into()),
                    }
                }
                first = Some((fact.pos, why));
            }
            Ok(())
        })?;
    }
    Ok(first.map(|(_, why)| why.message()))
}

/// The change set named by `record`, if its bytes are stored and match.
pub(crate) fn changeset(
    ledger: &Ledger,
    record: &RequestBody,
) -> Result<(Option<ChangeSet>, Option<String>), WorkflowError> {
    let Some(r) = &record.changeset else { return Ok((None, None)) };
    let Some(digest) = Hash::from_hex(&r.sha256) else {
        return Ok((None, Some("the change set digest is malformed".into())));
    };
    match crate::evidence::store::get(ledger.cache_conn(), &digest)? {
        Some(b) if Hash::of(&[&b]) == digest => match ChangeSet::from_bytes(&b) {
            Ok(cs) => Ok((Some(cs), None)),
            Err(e) => Ok((None, Some(e))),
        },
        Some(_) => Ok((None, Some("the stored change set does not match its digest".into()))),
        None => Ok((None, Some("the change set bytes are not in this ledger".into()))),
    }
}

/// Flags and risk of `record` alone (what the change set, memory and advisories say), for request `id`.
pub(crate) fn assess_record(
    ledger: &Ledger,
    id: &EntryId,
    record: &RequestBody,
    view: Option<&RequestView>,
    snap: &Snapshot,
    at: Pos,
) -> Result<Assessment, WorkflowError> {
    let (cs, changeset_problem) = changeset(ledger, record)?;
    // A question the database could not answer fails the assessment: a flag left out would ask less.
    let failed = std::cell::RefCell::new(None);
    let causal = snap.roster.causal_order();
    let known = |d: &str| match &snap.memory {
        Some(m) => m.known_bad(d, id, at, &causal),
        None => known_bad(ledger, &snap.roster, d, id, at, snap.check_rows).unwrap_or_else(|e| {
            failed.borrow_mut().get_or_insert(e);
            None
        }),
    };
    let (emergency, tests, tests_required) = match view {
        Some(v) => {
            let (_, policy) = snap.policies.at(at);
            // Whether it waives is the evaluation's rule (policy::evaluate): only when the policy applied here
            // lets its signer invoke one.
            let emergency = v.emergency.as_ref().map(|e| Emergency {
                who: format!("by {} at {}", snap.roster.display(&e.actor), super::present::when(&e.ts)),
                waives: snap.roster.has_role(&e.actor, e.pos, &policy.emergency.may_invoke),
                until: policy.emergency.waives_until(e.ts).map(|u| super::present::when(&u)),
            });
            // Test evidence clears the missing-tests flag by the rule that satisfies a `test` requirement
            // (a JUnit report with at least one test, or opaque evidence where the policy accepts it),
            // read from the signed bodies, purged or not; failures count from every test report. The sum
            // saturates: counts are signed claims of any member (each up to 2^53), and a sum that wrapped
            // around would read another report's failures as none.
            let mut tests = Tests::default();
            for e in v.evidence.iter().filter(|e| e.rec.body.kind == "test") {
                let b = &e.rec.body;
                tests.attached |= crate::policy::evidence::satisfies(b, policy.evidence.accept_opaque).is_ok();
                tests.failing = add_failing(tests.failing, &b.counts);
            }
            let tier = crate::policy::evaluate::tier_of(v, None);
            let required = policy.evidence.tiers.get(&tier).is_some_and(|k| k.iter().any(|k| k == "test"));
            (emergency, tests, required)
        }
        None => (None, Tests::default(), false),
    };
    let flags =
        flags::flags(&Input { record, changeset: cs.as_ref(), known_bad: &known, emergency, tests, tests_required });
    if let Some(e) = failed.into_inner() {
        return Err(e);
    }
    let risk = risk::score(record, &flags);
    Ok(Assessment { flags, risk, changeset_problem })
}

/// The full assessment of a request as it stands now: from every entry the ledger holds, under the
/// policy in force now.
pub fn assess(ledger: &Ledger, snap: &Snapshot, view: &RequestView) -> Result<Assessment, WorkflowError> {
    assess_at(ledger, snap, view, POS_MAX)
}

/// The assessment of `view` as it stood at position `at` (an execution judged where it was signed): from the
/// entries that happened before `at`, under the policy in force there (§1.3), so entries signed later
/// never change how it was judged.
pub(crate) fn assess_at(
    ledger: &Ledger,
    snap: &Snapshot,
    view: &RequestView,
    at: Pos,
) -> Result<Assessment, WorkflowError> {
    assess_record(ledger, &view.id, view.record(), Some(view), snap, at)
}

/// `total` with a test report's failures and errors (its signed `counts`) added, saturating: counts are
/// claims of any member, each up to 2^53, and a sum that wrapped around would read another report's
/// failures as none.
fn add_failing(total: u64, counts: &std::collections::BTreeMap<String, u64>) -> u64 {
    let count = |k: &str| counts.get(k).copied().unwrap_or(0);
    total.saturating_add(count("failures")).saturating_add(count("errors"))
}

#[cfg(test)]
mod failing_tests {
    /// A member's crafted counts cannot wrap the sum back to zero (which hid an honest report's failures).
    #[test]
    fn failing_counts_saturate_instead_of_wrapping() {
        let honest = std::collections::BTreeMap::from([("failures".to_string(), 3u64)]);
        let crafted = std::collections::BTreeMap::from([
            ("failures".to_string(), u64::MAX / 2),
            ("errors".to_string(), u64::MAX / 2 - 1),
        ]);
        let total = super::add_failing(super::add_failing(0, &honest), &crafted);
        assert_eq!(total, u64::MAX);
        assert_eq!(super::add_failing(total, &honest), u64::MAX);
        assert_eq!(super::add_failing(0, &std::collections::BTreeMap::new()), 0);
    }
}
