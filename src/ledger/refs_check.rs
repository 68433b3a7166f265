//! The check of the `refs` index against the references of every verified statement. The walk records
//! each (ref, entry) pair in a [`RefSet`] (sorted runs spilled to a temporary file: [`SortedRuns`]), and
//! once the walk is done [`check_refs`] reads them back in key order beside a scan of the index. Memory
//! stays bounded whatever the ledger holds, and no pair is inserted into a B-tree one at a time (a
//! temporary SQLite table cost a twentieth of `verify`'s time).

use super::hash::{EntryId, Hash};
use super::sorted_runs::SortedRuns;
use super::store::Ledger;

/// A reference and the entry that makes it: 32 bytes of the referenced id, then 32 of the entry's.
type Pair = [u8; 64];

/// The (ref, entry) pairs of every verified statement, as a set.
pub(crate) struct RefSet(SortedRuns<64>);

impl RefSet {
    /// Holding at most about `budget_kib` of pairs in memory (see [`SortedRuns`]).
    pub(crate) fn new(budget_kib: i64) -> RefSet {
        RefSet(SortedRuns::new(budget_kib))
    }

    /// Records that entry `entry`'s statement refers to `reference`.
    pub(crate) fn insert(&mut self, reference: EntryId, entry: EntryId) {
        let mut pair = [0u8; 64];
        pair[..32].copy_from_slice(&reference.0);
        pair[32..].copy_from_slice(&entry.0);
        self.0.insert(pair);
    }
}

/// Checks the `refs` index against the refs of every verified statement (`expected`), walking both in
/// key order side by side. `Some(problem)` when they differ (or the pairs cannot be read back).
pub(crate) fn check_refs(ledger: &Ledger, expected: RefSet) -> Result<Option<String>, rusqlite::Error> {
    let mut want = match expected.0.merged() {
        Ok(m) => m,
        Err(e) => return Ok(Some(format!("cannot check the refs index: {e}"))),
    };
    let cannot = |e: std::io::Error| Ok(Some(format!("cannot check the refs index: {e}")));
    let mut stmt = ledger.conn().prepare("SELECT ref, entry_id FROM refs ORDER BY ref, entry_id")?;
    let mut rows = stmt.query([])?;
    // The index's rows compare as SQLite orders blobs (bytes, then length), as the pairs do.
    let key = |p: &Pair| (p[..32].to_vec(), p[32..].to_vec());
    let mut next_want = match want.next_record() {
        Ok(p) => p.as_ref().map(key),
        Err(e) => return cannot(e),
    };
    let mut lacking = 0u64;
    let mut step = |next_want: &mut Option<(Vec<u8>, Vec<u8>)>| -> std::io::Result<()> {
        *next_want = want.next_record()?.as_ref().map(key);
        Ok(())
    };
    while let Some(r) = rows.next()? {
        let have: (Vec<u8>, Vec<u8>) = (r.get(0)?, r.get(1)?);
        // Pairs the statements make that sort before this row are missing from the index.
        while next_want.as_ref().is_some_and(|w| *w < have) {
            lacking += 1;
            if let Err(e) = step(&mut next_want) {
                return cannot(e);
            }
        }
        if next_want.as_ref() == Some(&have) {
            if let Err(e) = step(&mut next_want) {
                return cannot(e);
            }
            continue;
        }
        let (a, b) = (Hash::from_slice(&have.0), Hash::from_slice(&have.1));
        let short = |h: Option<Hash>| h.map(|h| h.short(16)).unwrap_or_else(|| "(not 32 bytes)".into());
        return Ok(Some(format!(
            "the refs index says entry {} builds on {}, but its statement does not",
            short(b),
            short(a)
        )));
    }
    while next_want.is_some() {
        lacking += 1;
        if let Err(e) = step(&mut next_want) {
            return cannot(e);
        }
    }
    if lacking > 0 {
        return Ok(Some(format!("the refs index lacks {lacking} of the statements' references")));
    }
    Ok(None)
}
