//! Writing leaves to one log inside an open transaction: the entry (once, however many logs hold it), its
//! refs, the hash-chained leaf with its effective time, and every subtree hash the leaf completes. Used
//! for the own log's appends and for a mirror's imported leaves alike. A bulk load keeps the refs aside,
//! sorted, and writes them in key order at its end ([`write_refs`]) instead of one random place at a time.

use super::error::LedgerError;
use super::hash::Hash;
use super::leaf::{Leaf, ZERO_PREV};
use super::merkle::{Frontier, stored_hash_index};
use super::refs_check::RefSet;
use super::statement::{CheckedHead, SignedStatement};
use super::store::{load_frontier, log_size};
use rusqlite::{CachedStatement, Connection, OptionalExtension, params};

/// A cursor at the end (or, for a mirror being compared, inside) of one log.
pub struct LeafWriter<'c> {
    conn: &'c Connection,
    origin: i64,
    /// Leaves already stored in this log.
    held: u64,
    next: u64,
    prev: Hash,
    ets: i64,
    frontier: Frontier,
    /// Another log may already hold the entry (mirrors); the own log refuses duplicates.
    shared_entries: bool,
    /// Past the held leaves, only compute the tree (a log that is followed, not stored).
    shadow: bool,
    ins_entry: CachedStatement<'c>,
    ins_ref: CachedStatement<'c>,
    ins_leaf: CachedStatement<'c>,
    ins_hash: CachedStatement<'c>,
    /// The refs of the leaves stored, as (ref, entry) pairs, when they are written later ([`write_refs`]).
    deferred_refs: Option<RefSet>,
}

/// What happened to a pushed leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Stored as a new leaf.
    Added,
    /// Stored as a new leaf of an entry the file already held (in another leaf: a copy, which `verify`
    /// reports; a mirror's only).
    Copied,
    /// The log already held exactly this leaf.
    Held,
    /// The log holds a different leaf at this index (stored leaf hash, then the pushed one).
    Differs(Hash, Hash),
    /// Only added to the computed tree (shadow mode).
    Shadow,
}

impl<'c> LeafWriter<'c> {
    /// A writer positioned at index `from` of `origin`'s log, which must not exceed the leaves held.
    pub fn open(conn: &'c Connection, origin: i64, from: u64, shared_entries: bool) -> Result<Self, LedgerError> {
        let held = log_size(conn, origin)?;
        if from > held {
            return Err(LedgerError::Damaged(format!("cannot continue a log of {held} leaves at index {from}")));
        }
        let frontier = load_frontier(conn, origin, from)?;
        let ets: i64 = if held == 0 {
            0
        } else {
            conn.query_row(
                "SELECT ets FROM leaves WHERE origin = ?1 AND idx = ?2",
                params![origin, (held - 1) as i64],
                |r| r.get(0),
            )?
        };
        let prev = if from == 0 {
            ZERO_PREV
        } else {
            let h: Option<Vec<u8>> = conn
                .query_row(
                    "SELECT hash FROM tree_hashes WHERE origin = ?1 AND idx = ?2",
                    params![origin, stored_hash_index(0, from - 1) as i64],
                    |r| r.get(0),
                )
                .optional()?;
            h.and_then(|h| Hash::from_slice(&h))
                .ok_or_else(|| LedgerError::Damaged(format!("leaf hash {} is missing", from - 1)))?
        };
        Ok(LeafWriter {
            conn,
            origin,
            held,
            next: from,
            prev,
            ets,
            frontier,
            shared_entries,
            shadow: false,
            ins_entry: conn.prepare_cached(if shared_entries {
                "INSERT OR IGNORE INTO entries (id, statement, signature, kind, actor, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            } else {
                "INSERT INTO entries (id, statement, signature, kind, actor, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            })?,
            ins_ref: conn.prepare_cached("INSERT OR IGNORE INTO refs (ref, entry_id) VALUES (?1, ?2)")?,
            ins_leaf: conn
                .prepare_cached("INSERT INTO leaves (origin, idx, entry_id, prev, ets) VALUES (?1, ?2, ?3, ?4, ?5)")?,
            ins_hash: conn.prepare_cached("INSERT INTO tree_hashes (origin, idx, hash) VALUES (?1, ?2, ?3)")?,
            deferred_refs: None,
        })
    }

    /// From now on nothing is written or compared: pushes only extend the computed tree.
    pub fn shadow(&mut self) {
        self.shadow = true;
    }

    /// From now on the refs of stored leaves are kept aside (sorted, in about `budget_kib` of memory and a
    /// temporary file) instead of inserted: the caller takes them with [`LeafWriter::take_deferred_refs`]
    /// and writes them with [`write_refs`] before anything reads the `refs` table.
    pub(crate) fn defer_refs(&mut self, budget_kib: i64) {
        self.deferred_refs = Some(RefSet::new(budget_kib));
    }

    /// The refs kept aside since [`LeafWriter::defer_refs`] (then no longer deferred).
    pub(crate) fn take_deferred_refs(&mut self) -> Option<RefSet> {
        self.deferred_refs.take()
    }

    /// Index the next pushed leaf takes.
    pub fn next_index(&self) -> u64 {
        self.next
    }

    /// Leaves the log held when the writer was opened.
    pub fn held(&self) -> u64 {
        self.held
    }

    /// Effective time of the log's last stored leaf (milliseconds; 0 when empty): the earliest time its
    /// next leaf may carry.
    pub fn last_ms(&self) -> i64 {
        self.ets
    }

    /// Root of the leaves up to the cursor.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// Pushes the next leaf. Below the leaves already held, it is compared (a different leaf is reported,
    /// not written); past them it is stored, which needs its checked `head`. The caller has checked the
    /// statement and its signature.
    pub fn push(&mut self, e: &SignedStatement, head: Option<&CheckedHead>) -> Result<Pushed, LedgerError> {
        let index = self.next;
        let hash = Leaf { index, entry_id: e.id, prev: self.prev }.hash();
        let outcome = if self.shadow {
            self.frontier.push(hash);
            Pushed::Shadow
        } else if index < self.held {
            let stored = self.stored_leaf_hash(index)?;
            if stored != hash {
                return Ok(Pushed::Differs(stored, hash));
            }
            self.frontier.push(hash);
            Pushed::Held
        } else {
            let head = head.ok_or_else(|| LedgerError::Damaged(format!("leaf {index} was not checked")))?;
            self.ets = self.ets.max(super::pos::ts_ms(&head.ts));
            let stored = match self.ins_entry.execute(params![
                e.id.0,
                e.bytes,
                e.signature,
                head.kind,
                head.actor.encode(),
                head.ts
            ]) {
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::ConstraintViolation && !self.shared_entries =>
                {
                    return Err(LedgerError::Duplicate(e.id));
                }
                r => r?,
            };
            match &mut self.deferred_refs {
                Some(pairs) => {
                    for r in &head.refs {
                        pairs.insert(*r, e.id);
                    }
                }
                None => {
                    for r in &head.refs {
                        self.ins_ref.execute(params![r.0, e.id.0])?;
                    }
                }
            }
            self.ins_leaf.execute(params![self.origin, index as i64, e.id.0, self.prev.0, self.ets])?;
            let first = stored_hash_index(0, index);
            for (k, h) in self.frontier.push(hash).iter().enumerate() {
                self.ins_hash.execute(params![self.origin, (first + k as u64) as i64, h.0])?;
            }
            // `INSERT OR IGNORE` stored no row: the entry was there already.
            if stored == 0 { Pushed::Copied } else { Pushed::Added }
        };
        self.prev = hash;
        self.next += 1;
        Ok(outcome)
    }

    fn stored_leaf_hash(&self, index: u64) -> Result<Hash, LedgerError> {
        let b: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT hash FROM tree_hashes WHERE origin = ?1 AND idx = ?2")?
            .query_row(params![self.origin, stored_hash_index(0, index) as i64], |r| r.get(0))
            .optional()?;
        b.and_then(|b| Hash::from_slice(&b))
            .ok_or_else(|| LedgerError::Damaged(format!("leaf hash {index} is missing")))
    }
}

/// Inserts refs kept aside by [`LeafWriter::defer_refs`], in key order (each insert lands beside the one
/// before it), inside the caller's transaction.
pub(crate) fn write_refs(conn: &Connection, pairs: RefSet) -> Result<(), LedgerError> {
    // The pairs that did not fit in memory are in an unnamed temporary file there.
    let io = |e: std::io::Error| LedgerError::Io(std::env::temp_dir(), e);
    let mut merged = pairs.sorted().map_err(io)?;
    let mut ins = conn.prepare_cached("INSERT OR IGNORE INTO refs (ref, entry_id) VALUES (?1, ?2)")?;
    while let Some(pair) = merged.next_record().map_err(io)? {
        ins.execute(params![&pair[..32], &pair[32..]])?;
    }
    Ok(())
}

/// A leaf hash computed without a writer: for following a log that is not being stored.
pub(crate) fn leaf_hash_of(index: u64, id: &Hash, prev: &Hash) -> Hash {
    Leaf { index, entry_id: *id, prev: *prev }.hash()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs_rows(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM refs", [], |r| r.get(0)).unwrap()
    }

    fn pair(i: u32) -> (Hash, Hash) {
        let mut r = [0u8; 32];
        r[..4].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes());
        (Hash(r), Hash([7; 32]))
    }

    #[test]
    fn refs_kept_aside_are_all_written_or_fail_as_an_io_error() {
        let conn = Connection::open_in_memory().unwrap();
        super::super::schema::create(&conn).unwrap();
        // 64 KiB: runs of 1,024 pairs; 3,000 spill two.
        let mut set = RefSet::new(64);
        for i in 0..3_000u32 {
            let (r, e) = pair(i);
            set.insert(r, e);
        }
        write_refs(&conn, set).unwrap();
        assert_eq!(refs_rows(&conn), 3_000);

        // Spilled runs that cannot be read back: an I/O error, and nothing written.
        fn write_only() -> std::io::Result<std::fs::File> {
            let dir = tempfile::tempdir()?;
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(dir.path().join("refs"))
        }
        let conn = Connection::open_in_memory().unwrap();
        super::super::schema::create(&conn).unwrap();
        let mut set = RefSet::new(64).spilling_to(write_only);
        for i in 0..3_000u32 {
            let (r, e) = pair(i);
            set.insert(r, e);
        }
        let err = write_refs(&conn, set).unwrap_err();
        assert!(matches!(err, LedgerError::Io(..)), "{err}");
        assert_eq!(refs_rows(&conn), 0);
    }
}
