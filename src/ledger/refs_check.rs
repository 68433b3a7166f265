//! The check of the `refs` index against the references of every verified statement. The walk records
//! each (ref, entry) pair in a [`RefSet`] (sorted runs spilled to a temporary file: [`SortedRuns`]), and
//! once the walk is done [`check_refs`] reads them back in key order beside a scan of the index. Memory
//! stays bounded whatever the ledger holds, and no pair is inserted into a B-tree one at a time (a
//! temporary SQLite table cost a twentieth of `verify`'s time).

use super::hash::{EntryId, Hash};
use super::sorted_runs::{Merged, SortedRuns};
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

    /// Every pair once, in key order (the ref's 32 bytes, then the entry's), or why they cannot be read
    /// back from the temporary file.
    pub(crate) fn sorted(self) -> std::io::Result<Merged<64>> {
        self.0.merged()
    }

    /// The same set, spilling its runs to files `make_file` creates.
    #[cfg(test)]
    pub(crate) fn spilling_to(self, make_file: fn() -> std::io::Result<std::fs::File>) -> RefSet {
        RefSet(self.0.spilling_to(make_file))
    }
}

/// Checks the `refs` index against the refs of every verified statement (`expected`), walking both in
/// key order side by side. `Some(problem)` when they differ (or the pairs cannot be read back).
pub(crate) fn check_refs(ledger: &Ledger, expected: RefSet) -> Result<Option<String>, rusqlite::Error> {
    match compare(ledger, expected) {
        Ok(found) => Ok(found),
        Err(Failed::Pairs(e)) => Ok(Some(format!("cannot check the refs index: {e}"))),
        Err(Failed::Index(e)) => Err(e),
    }
}

/// Why the comparison stopped: the pairs could not be read back, or the index could not be read.
enum Failed {
    Pairs(std::io::Error),
    Index(rusqlite::Error),
}

impl From<std::io::Error> for Failed {
    fn from(e: std::io::Error) -> Failed {
        Failed::Pairs(e)
    }
}

impl From<rusqlite::Error> for Failed {
    fn from(e: rusqlite::Error) -> Failed {
        Failed::Index(e)
    }
}

impl From<rusqlite::types::FromSqlError> for Failed {
    fn from(e: rusqlite::types::FromSqlError) -> Failed {
        Failed::Index(e.into())
    }
}

/// A pair as the index's two columns: SQLite orders blobs by their bytes, then their length, as slices
/// compare.
fn columns(p: &Pair) -> (&[u8], &[u8]) {
    (&p[..32], &p[32..])
}

fn compare(ledger: &Ledger, expected: RefSet) -> Result<Option<String>, Failed> {
    let mut want = expected.sorted()?;
    let mut stmt = ledger.conn().prepare("SELECT ref, entry_id FROM refs ORDER BY ref, entry_id")?;
    let mut rows = stmt.query([])?;
    let mut next_want = want.next_record()?;
    let mut lacking = 0u64;
    while let Some(r) = rows.next()? {
        let have = (r.get_ref(0)?.as_blob()?, r.get_ref(1)?.as_blob()?);
        // Pairs the statements make that sort before this row are missing from the index.
        while next_want.as_ref().is_some_and(|w| columns(w) < have) {
            lacking += 1;
            next_want = want.next_record()?;
        }
        if next_want.as_ref().is_some_and(|w| columns(w) == have) {
            next_want = want.next_record()?;
            continue;
        }
        let (a, b) = (Hash::from_slice(have.0), Hash::from_slice(have.1));
        let short = |h: Option<Hash>| h.map(|h| h.short(16)).unwrap_or_else(|| "(not 32 bytes)".into());
        return Ok(Some(format!(
            "the refs index says entry {} builds on {}, but its statement does not",
            short(b),
            short(a)
        )));
    }
    while next_want.is_some() {
        lacking += 1;
        next_want = want.next_record()?;
    }
    if lacking > 0 {
        return Ok(Some(format!("the refs index lacks {lacking} of the statements' references")));
    }
    Ok(None)
}
