//! The security assessment of a request, from its signed entries: the change set blob its record names,
//! the ledger's memory of bad artifacts (marked bad, or rolled away from by an executed revert), the
//! advisories it recorded, its emergency and its test evidence — giving its flags and risk score.

use super::snapshot::Snapshot;
use crate::analysis::changeset::ChangeSet;
use crate::analysis::flags::{self, Flag, Input, Tests};
use crate::analysis::risk::{self, Risk};
use crate::audit::RequestView;
use crate::audit::kinds::{EXECUTED, MARKED_BAD};
use crate::audit::projection::Fact;
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

/// What a known-bad artifact's flag says when an entry marked it bad.
pub(crate) fn marked_bad_reason(reason: &str) -> String {
    format!("was marked bad: {reason}")
}

/// What it says when another request's execution rolled away from it (`shown`: the start of that request's
/// id as its body gives it).
pub(crate) fn rolled_away_reason(shown: &str) -> String {
    format!("was rolled away from by request {shown}")
}

/// Why `digest` is known bad at `at`, if it is, for request `except` (its own execution does not count):
/// an `artifact.marked-bad` naming it, or another request's `rollback.executed` from it that did not fail,
/// that happened before `at` (causal order; [`POS_MAX`](crate::ledger::POS_MAX) sees every entry) and whose
/// signer counted where it was signed. Of several, the first in position order says why.
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
    let mut counted = |kind: &str, field: &str| -> Result<Option<Fact>, WorkflowError> {
        let mut first: Option<Fact> = None;
        ledger.visit_where(kind, field, digest, |row| -> Result<(), WorkflowError> {
            let fact = super::state::fact_of(&row)?;
            // The row's columns found it; its signed statement must say so (kind, and the field given once).
            if fact.kind == kind
                && fact.body.single_str_member(field).as_deref() == Some(digest)
                && causal.before(fact.pos, at)
                && roster.is_active(&fact.actor, fact.pos)
                && first.as_ref().is_none_or(|f| fact.pos < f.pos)
                && qualifies(&fact, except)
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
                first = Some(fact);
            }
            Ok(())
        })?;
        Ok(first)
    };
    if let Some(f) = counted(MARKED_BAD, "digest")? {
        return Ok(f.body.str_member("reason").map(|r| marked_bad_reason(&r)));
    }
    Ok(counted(EXECUTED, "from")?
        .map(|f| rolled_away_reason(crate::text::prefix(&f.body.str_member("request").unwrap_or_default(), 12))))
}

/// A mark says why (its `reason`); an execution rolls away from its `from` for other requests than its
/// own, unless it failed.
fn qualifies(f: &Fact, except: &EntryId) -> bool {
    if f.kind == MARKED_BAD {
        return f.body.str_member("reason").is_some();
    }
    f.body.str_member("outcome").as_deref() != Some("failed")
        && f.body.str_member("request").as_deref().and_then(Hash::from_hex) != Some(*except)
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
            let emergency = v
                .emergency
                .as_ref()
                .map(|e| format!("by {} at {}", snap.roster.display(&e.actor), e.ts.format("%Y-%m-%d %H:%M UTC")));
            // Test evidence clears the missing-tests flag by the rule that satisfies a `test` requirement
            // (a JUnit report with at least one test, or opaque evidence where the policy accepts it),
            // read from the signed bodies, purged or not; failures count from every test report.
            let (_, policy) = snap.policies.at(at);
            let mut tests = Tests::default();
            for e in v.evidence.iter().filter(|e| e.rec.body.kind == "test") {
                let b = &e.rec.body;
                tests.attached |= crate::policy::evidence::satisfies(b, policy.evidence.accept_opaque).is_ok();
                tests.failing +=
                    b.counts.get("failures").copied().unwrap_or(0) + b.counts.get("errors").copied().unwrap_or(0);
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
