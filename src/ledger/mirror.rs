//! What sync needs from the file: the logs of other origins (mirrors) written inside one import
//! transaction, every stored checkpoint, witness cosignatures, recorded equivocations, raw leaf ranges for
//! export, and roots and proofs computed from the stored subtree hashes.

use super::cosign::Cosignature;
use super::error::LedgerError;
use super::hash::Hash;
use super::key::PublicKey;
use super::merkle::stored_hash_index;
use super::note::valid_key_name;
use super::store::{Ledger, Origin, read_origins, stored_hash};
use super::writer::LeafWriter;
use rusqlite::{Connection, OptionalExtension, params};

/// Called for each leaf of a range: (index, statement bytes, signature).
pub(crate) type LeafVisitor<'a> = dyn FnMut(u64, &[u8], &[u8]) -> Result<(), LedgerError> + 'a;

/// Evidence that an origin showed two histories: both signed checkpoints and what disagrees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Equivocation {
    pub origin: String,
    pub detected: String,
    /// `fork` (two trees that are not prefixes of each other) or `rollback` (an origin presenting less
    /// than it signed before).
    pub kind: String,
    /// The signed checkpoint this ledger held.
    pub ours: String,
    /// The signed checkpoint (or cosignature line) that contradicts it.
    pub theirs: String,
    pub detail: String,
}

impl Equivocation {
    /// What identifies this evidence: SHA-256 of `ours`, one LF, and `theirs` (hex).
    pub fn evidence_digest(&self) -> String {
        super::Hash::of(&[self.ours.as_bytes(), b"\n", self.theirs.as_bytes()]).to_hex()
    }
}

impl Ledger {
    /// The root of the first `size` leaves of `origin`'s log (which must hold that many).
    pub fn root_at(&self, origin: &Origin, size: u64) -> Result<Hash, LedgerError> {
        root_at_in(self.conn(), origin.id, size)
    }

    /// The RFC 9162 inclusion proof of leaf `index` in the first `size` leaves of `origin`'s log.
    pub fn inclusion_proof(&self, origin: &Origin, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        let conn = self.conn();
        super::proof::inclusion_proof(&mut |l, n| stored_hash(conn, origin.id, stored_hash_index(l, n)), index, size)
    }

    /// The RFC 9162 consistency proof between the first `old` and `new` leaves of `origin`'s log.
    pub fn consistency_proof(&self, origin: &Origin, old: u64, new: u64) -> Result<Vec<Hash>, LedgerError> {
        let conn = self.conn();
        super::proof::consistency_proof(&mut |l, n| stored_hash(conn, origin.id, stored_hash_index(l, n)), old, new)
    }

    /// The hash of leaf `index` of `origin`'s log.
    pub fn leaf_hash(&self, origin: &Origin, index: u64) -> Result<Hash, LedgerError> {
        stored_hash(self.conn(), origin.id, stored_hash_index(0, index))
    }

    /// The stored signed checkpoint of `origin` at exactly `size`, if any.
    pub fn checkpoint_at(&self, origin: &Origin, size: u64) -> Result<Option<String>, LedgerError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT note FROM checkpoints WHERE origin = ?1 AND size = ?2",
                params![origin.id, size as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The stored checkpoint of `origin` with the smallest size at least `size`.
    pub fn checkpoint_covering(&self, origin: &Origin, size: u64) -> Result<Option<(u64, String)>, LedgerError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT size, note FROM checkpoints WHERE origin = ?1 AND size >= ?2 ORDER BY size LIMIT 1",
                params![origin.id, size as i64],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?)
    }

    /// Streams leaves `[from, to)` of `origin`'s log as (index, statement bytes, signature), in order.
    pub fn for_each_leaf(
        &self,
        origin: &Origin,
        from: u64,
        to: u64,
        f: &mut LeafVisitor<'_>,
    ) -> Result<(), LedgerError> {
        let mut stmt = self.conn().prepare(
            "SELECT l.idx, e.statement, e.signature FROM leaves l CROSS JOIN entries e ON e.id = l.entry_id
              WHERE l.origin = ?1 AND l.idx >= ?2 AND l.idx < ?3 ORDER BY l.idx",
        )?;
        let mut rows = stmt.query(params![origin.id, from as i64, to as i64])?;
        let mut next = from;
        while let Some(r) = rows.next()? {
            let idx = r.get::<_, i64>(0)? as u64;
            if idx != next {
                return Err(LedgerError::Damaged(format!("origin {} leaf {next} is missing", origin.name)));
            }
            let st = r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
            let sig = r.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
            f(idx, st, sig)?;
            next += 1;
        }
        if next != to {
            return Err(LedgerError::Damaged(format!("origin {} leaf {next} is missing", origin.name)));
        }
        Ok(())
    }

    /// Every stored cosignature, or those of one origin.
    pub fn cosignatures(&self, origin: Option<&Origin>) -> Result<Vec<Cosignature>, LedgerError> {
        // One origin's name is known; all of them are read by id and name only (no key parsed): an import
        // that cosigns asks once per origin.
        let names: std::collections::HashMap<i64, String> = match origin {
            Some(o) => std::iter::once((o.id, o.name.clone())).collect(),
            None => {
                let mut stmt = self.conn().prepare_cached("SELECT id, name FROM origins")?;
                let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
                rows.collect::<Result<_, _>>()?
            }
        };
        let mut stmt = self.conn().prepare(
            "SELECT origin, size, root, witness, time, signature FROM cosignatures
              WHERE ?1 IS NULL OR origin = ?1 ORDER BY origin, size, witness",
        )?;
        let rows = stmt.query_map(params![origin.map(|o| o.id)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Vec<u8>>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (o, size, root, witness, time, sig) = row?;
            let bad = || LedgerError::Damaged("a stored cosignature is malformed".into());
            out.push(Cosignature {
                origin: names.get(&o).cloned().ok_or_else(bad)?,
                size: size as u64,
                root: Hash::from_slice(&root).ok_or_else(bad)?,
                witness,
                time: time as u64,
                signature: sig.try_into().map_err(|_| bad())?,
            });
        }
        Ok(out)
    }

    /// Every recorded equivocation, oldest first.
    pub fn equivocations(&self) -> Result<Vec<Equivocation>, LedgerError> {
        let mut stmt = self
            .conn()
            .prepare("SELECT origin, detected, kind, ours, theirs, detail FROM equivocations ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Equivocation {
                origin: r.get(0)?,
                detected: r.get(1)?,
                kind: r.get(2)?,
                ours: r.get(3)?,
                theirs: r.get(4)?,
                detail: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores evidence of an equivocation (once: the same pair of checkpoints is not stored twice).
    pub fn record_equivocation(&self, e: &Equivocation) -> Result<(), LedgerError> {
        let known: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM equivocations WHERE origin = ?1 AND ours = ?2 AND theirs = ?3",
            params![e.origin, e.ours, e.theirs],
            |r| r.get(0),
        )?;
        if known == 0 {
            self.conn().execute(
                "INSERT INTO equivocations (origin, detected, kind, ours, theirs, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![e.origin, e.detected, e.kind, e.ours, e.theirs, e.detail],
            )?;
        }
        Ok(())
    }

    /// Starts an import: one `BEGIN IMMEDIATE` transaction that is rolled back unless committed.
    pub fn begin_import(&self) -> Result<Import<'_>, LedgerError> {
        // An import inserts into the entry-id index in random order: a page cache of up to 64 MiB
        // (allocated as used) keeps a million-entry ledger's index in memory while it runs. A larger one
        // only holds more dirty pages back until the commit, which then writes them all at once.
        self.conn().pragma_update(None, "cache_size", -65_536i64)?;
        self.conn().execute_batch("BEGIN IMMEDIATE")?;
        Ok(Import {
            conn: self.conn(),
            path: self.path(),
            open: true,
            index_deferred: false,
            flusher: None,
            refs: Vec::new(),
            writers_deferring: 0,
            known: None,
        })
    }
}

fn root_at_in(conn: &Connection, origin: i64, size: u64) -> Result<Hash, LedgerError> {
    super::proof::root_at(&mut |l, n| stored_hash(conn, origin, stored_hash_index(l, n)), size)
}

/// An open import transaction. Dropping it without [`Import::commit`] rolls everything back.
pub struct Import<'c> {
    conn: &'c Connection,
    path: &'c std::path::Path,
    open: bool,
    /// `leaves_entry` is dropped until [`Import::finish_bulk`] (or the commit) builds it again.
    index_deferred: bool,
    flusher: Option<super::bulk::WalFlusher>,
    /// Refs a bulk load's writers kept aside, one sorted set per log, written by [`Import::finish_bulk`].
    refs: Vec<super::refs_check::RefSet>,
    /// Writers that keep refs aside and were not handed back yet ([`Import::done_with`]).
    writers_deferring: usize,
    /// The origins the file holds, read once and kept up to date as origins are added (a bundle of many
    /// sections must not read every origin, parse its key and hash its name once per section).
    known: Option<KnownOrigins>,
}

/// Origins by name and by tag (an audit copy's own origin has no tag: it orders nothing).
#[derive(Default)]
struct KnownOrigins {
    list: Vec<Origin>,
    by_name: std::collections::HashMap<String, usize>,
    by_tag: std::collections::HashMap<u32, usize>,
}

impl KnownOrigins {
    fn add(&mut self, o: Origin) {
        let i = self.list.len();
        self.by_name.insert(o.name.clone(), i);
        if !o.is_audit_copy() {
            self.by_tag.entry(super::pos::origin_tag(&o.name)).or_insert(i);
        }
        self.list.push(o);
    }
}

impl<'c> Import<'c> {
    /// The origin `name` with checkpoint key `key`, added as a mirror if this file does not hold it yet.
    /// A known name with another key is refused.
    pub fn origin(&mut self, name: &str, key: &PublicKey) -> Result<Origin, LedgerError> {
        if !valid_key_name(name) || name == super::note::COSIGNATURE_HEADER {
            return Err(LedgerError::Refused(format!("origin name {name:?} is not valid")));
        }
        if name == super::pos::AUDIT_ORIGIN {
            return Err(LedgerError::Refused(format!("origin name {name} is reserved for audit copies")));
        }
        let known = self.known()?;
        let tag = super::pos::origin_tag(name);
        if let Some(o) = known.by_tag.get(&tag).map(|&i| &known.list[i]).filter(|o| o.name != name) {
            return Err(LedgerError::Refused(super::pos::clash_problem(&o.name, name)));
        }
        if let Some(o) = known.by_name.get(name).map(|&i| &known.list[i]) {
            if o.key != *key {
                return Err(LedgerError::Refused(format!(
                    "origin {name} is known here with key {}, the bundle gives {}",
                    o.key.key_id(),
                    key.key_id()
                )));
            }
            return Ok(o.clone());
        }
        self.conn
            .execute("INSERT INTO origins (name, public_key, own) VALUES (?1, ?2, 0)", params![name, key.encode()])?;
        let id = self.conn.last_insert_rowid();
        let added = Origin { id, name: name.to_string(), key: *key, own: false };
        if let Some(known) = &mut self.known {
            known.add(added.clone());
        }
        Ok(added)
    }

    /// The origin called `name`, if the file holds it now.
    pub fn find(&mut self, name: &str) -> Result<Option<Origin>, LedgerError> {
        let known = self.known()?;
        Ok(known.by_name.get(name).map(|&i| known.list[i].clone()))
    }

    /// The origins, read from the file once and indexed by name and tag.
    fn known(&mut self) -> Result<&KnownOrigins, LedgerError> {
        if self.known.is_none() {
            let mut known = KnownOrigins::default();
            for o in read_origins(self.conn)? {
                known.add(o);
            }
            self.known = Some(known);
        }
        Ok(self.known.get_or_insert_with(KnownOrigins::default))
    }

    /// Announces that about `new_leaves` leaves follow. From [`super::bulk::BULK_LEAVES`] on, the WAL is
    /// flushed while they load, and when they at least double the file, `leaves_entry` is dropped until
    /// [`Import::finish_bulk`]: lookups of leaves by entry id are slow in between, not wrong.
    pub fn expect_leaves(&mut self, new_leaves: u64) -> Result<(), LedgerError> {
        if new_leaves < super::bulk::BULK_LEAVES {
            return Ok(());
        }
        if self.flusher.is_none() {
            self.flusher = Some(super::bulk::WalFlusher::start(self.path));
        }
        let mut held = 0u64;
        for o in read_origins(self.conn)? {
            held += super::store::log_size(self.conn, o.id)?;
        }
        if !self.index_deferred && super::bulk::defer_index(held, new_leaves) {
            super::bulk::drop_index(self.conn)?;
            self.index_deferred = true;
        }
        Ok(())
    }

    /// Writes what a bulk load deferred: the refs its writers kept aside, in key order, and the
    /// `leaves_entry` index (nothing if none was deferred).
    pub fn finish_bulk(&mut self) -> Result<(), LedgerError> {
        if self.writers_deferring > 0 {
            return Err(LedgerError::Damaged("a writer's deferred refs were not handed back".into()));
        }
        for pairs in std::mem::take(&mut self.refs) {
            super::writer::write_refs(self.conn, pairs)?;
        }
        if self.index_deferred {
            super::bulk::rebuild_index(self.conn)?;
            self.index_deferred = false;
        }
        Ok(())
    }

    /// In a bulk load, writes the staged pages held in the page cache to the WAL (or the new file) now,
    /// while other threads still work, so that the commit writes little; a small import keeps them until
    /// its commit (a refused one then leaves no byte behind).
    pub fn write_out(&self) -> Result<(), LedgerError> {
        if self.flusher.is_some() {
            self.conn.cache_flush()?;
        }
        Ok(())
    }

    /// A writer at index `from` of a mirror's log. In a bulk load it keeps the refs of the leaves it stores
    /// aside: hand it back with [`Import::done_with`].
    pub fn writer(&mut self, origin: &Origin, from: u64) -> Result<LeafWriter<'c>, LedgerError> {
        let mut w = LeafWriter::open(self.conn, origin.id, from, true)?;
        if self.index_deferred {
            w.defer_refs(super::bulk::REFS_BUDGET_KIB);
            self.writers_deferring += 1;
        }
        Ok(w)
    }

    /// Takes back a writer from [`Import::writer`] once its log's leaves are all pushed.
    pub fn done_with(&mut self, mut writer: LeafWriter<'c>) {
        if let Some(pairs) = writer.take_deferred_refs() {
            self.refs.push(pairs);
            self.writers_deferring -= 1;
        }
    }

    /// Stores a verified signed checkpoint (idempotent).
    pub fn add_checkpoint(&self, origin: &Origin, size: u64, note: &str) -> Result<(), LedgerError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO checkpoints (origin, size, note) VALUES (?1, ?2, ?3)",
            params![origin.id, size as i64, note],
        )?;
        Ok(())
    }

    /// Stores a verified cosignature (idempotent: one per origin, size and witness).
    pub fn add_cosignature(&self, origin: &Origin, c: &Cosignature) -> Result<bool, LedgerError> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO cosignatures (origin, size, root, witness, time, signature)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![origin.id, c.size as i64, c.root.0, c.witness, c.time as i64, c.signature],
        )?;
        Ok(n > 0)
    }

    /// The connection inside the transaction (for the blob store and reads of staged rows).
    pub fn conn(&self) -> &'c Connection {
        self.conn
    }

    /// Makes everything staged durable (with the deferred index built again).
    pub fn commit(mut self) -> Result<(), LedgerError> {
        self.finish_bulk()?;
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Import<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Statement, bulk::BULK_LEAVES};
    use super::*;
    use ed25519_dalek::SigningKey;

    fn has_index(l: &Ledger) -> bool {
        l.conn()
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'leaves_entry'", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
            == 1
    }

    /// A test ledger (in a directory the caller keeps) and a signer's key.
    fn signer_and_ledger() -> (tempfile::TempDir, Ledger, SigningKey, PublicKey) {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = super::super::store::test_ledger(dir.path());
        let ledger = Ledger::open(&path).unwrap();
        let key = SigningKey::from_bytes(&[9; 32]);
        let actor = PublicKey::from_signing(&key);
        (dir, ledger, key, actor)
    }

    #[test]
    fn a_bulk_load_rebuilds_the_entry_index_before_it_commits() {
        let (_dir, ledger, key, actor) = signer_and_ledger();
        let mirror_key = PublicKey::from_signing(&SigningKey::from_bytes(&[8; 32]));
        // Each note builds on two made-up entries, given in an order that is not the refs table's.
        let refs_of = |i: u8| [Hash([200 - i; 32]), Hash([i; 32])];
        let notes: Vec<_> = (0..3u8)
            .map(|i| {
                Statement::new("note", &actor, serde_json::json!({ "i": i }), &refs_of(i))
                    .sign(&key, &ledger.domain())
                    .unwrap()
            })
            .collect();
        let refs_table = |l: &Ledger| -> Vec<(Vec<u8>, Vec<u8>)> {
            let mut stmt = l.conn().prepare("SELECT ref, entry_id FROM refs ORDER BY ref, entry_id").unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect()
        };
        let before = refs_table(&ledger);

        // Rolled back: the dropped index is back.
        let mut tx = ledger.begin_import().unwrap();
        tx.expect_leaves(BULK_LEAVES).unwrap();
        assert!(!has_index(&ledger));
        drop(tx);
        assert!(has_index(&ledger));

        // Committed: rebuilt inside the transaction, and lookups by entry id find the new leaves.
        let mut tx = ledger.begin_import().unwrap();
        let origin = tx.origin("test.example/m", &mirror_key).unwrap();
        tx.expect_leaves(BULK_LEAVES).unwrap();
        assert!(!has_index(&ledger));
        let mut w = tx.writer(&origin, 0).unwrap();
        for n in &notes {
            w.push(n, Some(&n.check(&ledger.domain()).unwrap())).unwrap();
        }
        // The refs are kept aside until the bulk load ends.
        assert_eq!(refs_table(&ledger), before);
        tx.done_with(w);
        tx.commit().unwrap();
        assert!(has_index(&ledger));
        let mut want = before.clone();
        for (i, n) in notes.iter().enumerate() {
            for r in refs_of(i as u8) {
                want.push((r.0.to_vec(), n.id.0.to_vec()));
            }
        }
        want.sort();
        assert_eq!(refs_table(&ledger), want);
        for n in &notes {
            assert_eq!(ledger.entry(&n.id).unwrap().map(|r| r.entry.id), Some(n.id));
        }
        let plan: String = ledger
            .conn()
            .query_row("EXPLAIN QUERY PLAN SELECT idx FROM leaves WHERE entry_id = ?1", [notes[0].id.0], |r| r.get(3))
            .unwrap();
        assert!(plan.contains("leaves_entry"), "{plan}");

        // A small load leaves the index alone.
        let mut tx = ledger.begin_import().unwrap();
        tx.expect_leaves(BULK_LEAVES - 1).unwrap();
        assert!(has_index(&ledger));
    }

    #[test]
    fn a_bulk_load_whose_writer_was_not_handed_back_does_not_commit() {
        let (_dir, ledger, key, actor) = signer_and_ledger();
        let n = Statement::new("note", &actor, serde_json::json!({}), &[Hash([7; 32])]).sign(&key, &ledger.domain());
        let n = n.unwrap();
        let mut tx = ledger.begin_import().unwrap();
        let origin = tx.origin("test.example/m", &PublicKey::from_signing(&SigningKey::from_bytes(&[8; 32]))).unwrap();
        tx.expect_leaves(BULK_LEAVES).unwrap();
        let mut w = tx.writer(&origin, 0).unwrap();
        w.push(&n, Some(&n.check(&ledger.domain()).unwrap())).unwrap();
        drop(w);
        // Its refs would be lost: the commit refuses, and the rollback leaves nothing of the load.
        assert!(matches!(tx.commit(), Err(LedgerError::Damaged(_))));
        assert_eq!(ledger.entry(&n.id).unwrap().map(|r| r.entry.id), None);
        assert!(has_index(&ledger));
    }

    #[test]
    fn a_created_ledger_is_in_wal_mode_with_full_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let (path, genesis) = super::super::store::test_ledger(dir.path());
        // The file itself says WAL (bytes 18 and 19 of the header are 2), whoever opens it next.
        let header = std::fs::read(&path).unwrap();
        assert_eq!((header[18], header[19]), (2, 2));
        let l = Ledger::open(&path).unwrap();
        let mode: String = l.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(l.entry(&genesis.id).unwrap().map(|r| r.entry.id), Some(genesis.id));
        // Nothing of the temporary file is left beside it.
        let names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        assert!(names.iter().all(|n| n.starts_with("l.db")), "{names:?}");
    }
}
