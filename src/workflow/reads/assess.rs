//! The security assessment of a request, from its signed entries: the change set blob its record names,
//! the ledger's memory of bad artifacts (marked bad, or rolled away from by an executed revert), the
//! advisories it recorded, its emergency and its test evidence — giving its flags and risk score.

use super::snapshot::Snapshot;
use crate::analysis::changeset::ChangeSet;
use crate::analysis::flags::{self, Flag, Input, Tests};
use crate::analysis::risk::{self, Risk};
use crate::audit::RequestView;
use crate::audit::kinds::{EXECUTED, MARKED_BAD};
use crate::audit::record::RequestBody;
use crate::ledger::{EntryId, Hash, Ledger};
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

/// Why `digest` is known bad, if it is: marked bad, or rolled away from by another request's execution.
pub(crate) fn known_bad(ledger: &Ledger, digest: &str, except: &EntryId) -> Result<Option<String>, WorkflowError> {
    if digest.trim().is_empty() {
        return Ok(None);
    }
    if let Some(reason) = ledger.body_where(MARKED_BAD, "digest", digest, "reason")? {
        return Ok(Some(format!("was marked bad: {reason}")));
    }
    // An execution of another request that did not fail, however many failed ones came before it.
    Ok(ledger.first_where_not(EXECUTED, "from", digest, &except.to_hex(), "request")?.map(|req| {
        format!("was rolled away from by request {}", crate::text::prefix(req.as_deref().unwrap_or_default(), 12))
    }))
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
) -> Result<Assessment, WorkflowError> {
    let (cs, changeset_problem) = changeset(ledger, record)?;
    let known = |d: &str| match &snap.memory {
        Some(m) => m.known_bad(d, id),
        None => known_bad(ledger, d, id).ok().flatten(),
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
            let (_, policy) = snap.policies.current();
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
    let risk = risk::score(record, &flags);
    Ok(Assessment { flags, risk, changeset_problem })
}

/// The full assessment of a request as it stands.
pub fn assess(ledger: &Ledger, snap: &Snapshot, view: &RequestView) -> Result<Assessment, WorkflowError> {
    assess_record(ledger, &view.id, view.record(), Some(view), snap)
}
