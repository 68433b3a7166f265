//! The check of the `refs` index against the references of every verified statement. The walk records
//! each (ref, entry) pair in a [`RefSet`] (sorted runs spilled to a temporary file: [`SortedRuns`]), and
//! once the walk is done [`check_refs`] reads them back in key order beside a scan of the index (which
//! [`check_refs_counting`] also counts, for `verify`'s domain pass). Memory
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
/// key order side by side. `Some(problem)` when they differ.
pub(crate) fn check_refs(ledger: &Ledger, expected: RefSet) -> RefsChecked {
    match check_refs_counting(ledger, expected, &mut |_, _| Ok::<(), std::convert::Infallible>(())) {
        Ok(checked) => checked,
        Err(never) => match never {},
    }
}

/// Called with each reference the index holds and the number of its rows; an error stops the scan.
pub(crate) type Count<'a, E> = dyn FnMut(&[u8], u64) -> Result<(), E> + 'a;

/// What the check of the `refs` index found: `Some(problem)` when it differs from the statements, an error
/// when the index cannot be read (SQLite's) or the walk's pairs cannot be read back from their temporary
/// file (the system's, not the record's).
pub(crate) type RefsChecked = Result<Option<String>, super::LedgerError>;

/// As [`check_refs`], also calling `count` with each reference the index holds and the number of its
/// rows (the entries that make it), in key order, once its last row is read: one scan of the index for
/// both. The counts stop where a difference is found (the check then says so); an error `count` returns
/// stops the scan and is returned.
pub(crate) fn check_refs_counting<E>(
    ledger: &Ledger,
    expected: RefSet,
    count: &mut Count<'_, E>,
) -> Result<RefsChecked, E> {
    match compare(ledger, expected, count) {
        Ok(found) => Ok(Ok(found)),
        Err(Failed::Pairs(e)) => Ok(Err(super::LedgerError::Io("the refs check's temporary file".into(), e))),
        Err(Failed::Index(e)) => Ok(Err(e.into())),
        Err(Failed::Counted(e)) => Err(e),
    }
}

/// Why the comparison stopped: the pairs could not be read back, the index could not be read, or the
/// caller's count stopped it.
enum Failed<E> {
    Pairs(std::io::Error),
    Index(rusqlite::Error),
    Counted(E),
}

impl<E> From<std::io::Error> for Failed<E> {
    fn from(e: std::io::Error) -> Failed<E> {
        Failed::Pairs(e)
    }
}

impl<E> From<rusqlite::Error> for Failed<E> {
    fn from(e: rusqlite::Error) -> Failed<E> {
        Failed::Index(e)
    }
}

impl<E> From<rusqlite::types::FromSqlError> for Failed<E> {
    fn from(e: rusqlite::types::FromSqlError) -> Failed<E> {
        Failed::Index(e.into())
    }
}

/// A pair as the index's two columns: SQLite orders blobs by their bytes, then their length, as slices
/// compare.
fn columns(p: &Pair) -> (&[u8], &[u8]) {
    (&p[..32], &p[32..])
}

fn compare<E>(ledger: &Ledger, expected: RefSet, count: &mut Count<'_, E>) -> Result<Option<String>, Failed<E>> {
    let mut want = expected.sorted()?;
    let mut stmt = ledger.conn().prepare("SELECT ref, entry_id FROM refs ORDER BY ref, entry_id")?;
    let mut rows = stmt.query([])?;
    let mut next_want = want.next_record()?;
    let mut lacking = 0u64;
    // The reference being counted (its bytes, reused) and its rows so far.
    let (mut counting, mut rows_of_it) = (Vec::new(), 0u64);
    while let Some(r) = rows.next()? {
        let have = (r.get_ref(0)?.as_blob()?, r.get_ref(1)?.as_blob()?);
        if rows_of_it > 0 && counting != have.0 {
            count(&counting, rows_of_it).map_err(Failed::Counted)?;
            rows_of_it = 0;
        }
        if rows_of_it == 0 {
            counting.clear();
            counting.extend_from_slice(have.0);
        }
        rows_of_it += 1;
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
    if rows_of_it > 0 {
        count(&counting, rows_of_it).map_err(Failed::Counted)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A ledger whose `refs` index holds `pairs` (written behind its back: the triggers refuse updates and
    /// deletes, not inserts), with the genesis's own pairs (none).
    fn ledger_with(pairs: &[(u8, u8)]) -> (tempfile::TempDir, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = super::super::store::test_ledger(dir.path());
        let raw = rusqlite::Connection::open(&path).unwrap();
        for (r, e) in pairs {
            raw.execute("INSERT INTO refs VALUES (?1, ?2)", [vec![*r; 32], vec![*e; 32]]).unwrap();
        }
        (dir, Ledger::open_read_only(&path).unwrap())
    }

    fn set(pairs: &[(u8, u8)]) -> RefSet {
        let mut s = RefSet::new(64);
        for (r, e) in pairs {
            s.insert(Hash([*r; 32]), Hash([*e; 32]));
        }
        s
    }

    fn counted(ledger: &Ledger, expected: RefSet) -> (RefsChecked, Vec<(u8, u64)>) {
        let mut counts = Vec::new();
        let checked = check_refs_counting(ledger, expected, &mut |r, n| {
            counts.push((r[0], n));
            Ok::<(), ()>(())
        })
        .unwrap();
        (checked, counts)
    }

    #[test]
    fn one_scan_checks_the_index_and_counts_the_rows_of_each_reference() {
        let pairs = [(3, 1), (3, 2), (3, 9), (5, 2), (7, 7), (7, 8)];
        let (_dir, ledger) = ledger_with(&pairs);
        // The counts are the index's own, in key order.
        let mut stmt = ledger.conn().prepare("SELECT ref, COUNT(*) FROM refs GROUP BY ref ORDER BY ref").unwrap();
        let grouped: Vec<(u8, u64)> = stmt
            .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?[0], r.get::<_, i64>(1)? as u64)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(grouped, vec![(3, 3), (5, 1), (7, 2)]);
        let (checked, counts) = counted(&ledger, set(&pairs));
        assert_eq!(checked.unwrap(), None);
        assert_eq!(counts, grouped);
        assert_eq!(check_refs(&ledger, set(&pairs)).unwrap(), None);
    }

    #[test]
    fn a_difference_is_found_and_the_counts_stop_there() {
        let (_dir, ledger) = ledger_with(&[(3, 1), (5, 2), (7, 7)]);
        // The index holds a pair no statement makes: found at its row, after the references before it.
        let (checked, counts) = counted(&ledger, set(&[(3, 1), (7, 7)]));
        assert!(checked.unwrap().unwrap().contains("but its statement does not"));
        assert_eq!(counts, vec![(3, 1)]);
        // A pair the statements make that the index lacks: found at the end, every count made.
        let (checked, counts) = counted(&ledger, set(&[(3, 1), (4, 4), (5, 2), (7, 7)]));
        assert_eq!(checked.unwrap(), Some("the refs index lacks 1 of the statements' references".into()));
        assert_eq!(counts, vec![(3, 1), (5, 1), (7, 1)]);
        // The caller's error stops the scan.
        let r = check_refs_counting(&ledger, set(&[(3, 1), (5, 2), (7, 7)]), &mut |_, _| Err("stop"));
        assert_eq!(r.err(), Some("stop"));
    }
}
