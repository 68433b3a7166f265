//! Checking one stored row before a decision relies on it: its statement's signature (`verify_strict`,
//! bound to this ledger), that the query columns repeat the statement, that its position is the one its
//! statement's time gives, and its inclusion under the latest
//! signed checkpoint of its origin (an RFC 6962 inclusion proof from the stored tree hashes, O(log n)).
//! A row inserted behind the ledger's back — a forged signature, a leaf no checkpoint covers, a tree hash
//! changed — fails here, so `gate`, `show`, approval counting and the roster never count it, without
//! waiting for a full `verify`.

use super::dsse::Domain;
use super::error::LedgerError;
use super::hash::Hash;
use super::leaf::Leaf;
use super::merkle::stored_hash_index;
use super::note::Checkpoint;
use super::proof::verify_inclusion;
use super::statement::{CheckedHead, KeyCache, check_statement_with};
use super::store::{Ledger, LogRow, Origin, latest_checkpoint_row, read_origins, stored_hash_row};
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;

/// Why a row does not pass [`Checker::check`].
#[derive(Debug)]
pub(crate) enum Unchecked {
    /// The row fails its check (forged, changed behind the ledger's back, or not covered by a signed
    /// checkpoint): it does not count. Says which row and why.
    Fails(String),
    /// SQLite could not read what the check needs (a damaged page, an I/O error, a busy file): nothing can
    /// be decided from the file, and the caller stops with this error instead of deciding without the row.
    Unreadable(LedgerError),
}

/// A failure of SQLite itself (it carries an SQLite result code: a damaged page, an I/O error, a busy
/// file) is [`Unchecked::Unreadable`]; any other error reading a row (a value of the wrong type, put there
/// behind the ledger's back) fails that row, described by `at`.
fn classify(e: rusqlite::Error, at: impl FnOnce(String) -> String) -> Unchecked {
    match e.sqlite_error_code() {
        Some(_) => Unchecked::Unreadable(e.into()),
        None => Unchecked::Fails(at(e.to_string())),
    }
}

/// Checks rows of one open ledger, caching each origin's verified latest checkpoint.
pub(crate) struct Checker<'l> {
    ledger: &'l Ledger,
    domain: Domain,
    keys: KeyCache,
    origins: Option<HashMap<i64, Origin>>,
    checkpoints: HashMap<i64, Result<(u64, Hash), String>>,
}

impl<'l> Checker<'l> {
    pub(crate) fn new(ledger: &'l Ledger) -> Checker<'l> {
        Checker {
            ledger,
            domain: ledger.domain(),
            keys: KeyCache::default(),
            origins: None,
            checkpoints: HashMap::new(),
        }
    }

    fn origin(&mut self, id: i64) -> Result<Origin, Unchecked> {
        if self.origins.is_none() {
            let all = read_origins(self.ledger.conn()).map_err(Unchecked::Unreadable)?;
            self.origins = Some(all.into_iter().map(|o| (o.id, o)).collect());
        }
        self.origins
            .as_ref()
            .and_then(|m| m.get(&id).cloned())
            .ok_or_else(|| Unchecked::Fails(format!("its log (origin id {id}) is not in the ledger")))
    }

    /// Size and root of `origin`'s latest checkpoint, its signature checked with the origin key (the inner
    /// `Err` says why there is none that counts; the outer one, that the file could not be read).
    fn checkpoint(&mut self, origin: &Origin) -> Result<Result<(u64, Hash), String>, Unchecked> {
        if let Some(c) = self.checkpoints.get(&origin.id) {
            return Ok(c.clone());
        }
        let c = match latest_checkpoint_row(self.ledger.conn(), origin.id) {
            Ok(Some((size, note))) => match Checkpoint::verify(&note, &origin.name, &origin.key) {
                Ok((cp, _)) if cp.size == size => Ok((size, cp.root)),
                Ok(_) => Err(format!("the latest checkpoint of {} is stored under another size", origin.name)),
                Err(e) => Err(format!("the latest checkpoint of {} does not verify: {e}", origin.name)),
            },
            Ok(None) => Err(format!("{} has no signed checkpoint", origin.name)),
            Err(e) => match classify(e, |why| why) {
                Unchecked::Fails(why) => Err(LedgerError::Damaged(why).to_string()),
                unreadable => return Err(unreadable),
            },
        };
        self.checkpoints.insert(origin.id, c.clone());
        Ok(c)
    }

    /// Checks `row` and returns its statement's head; [`Unchecked::Fails`] says which row failed and why.
    pub(crate) fn check(&mut self, row: &LogRow) -> Result<CheckedHead, Unchecked> {
        let origin = self.origin(row.origin)?;
        let at = |why: String| format!("entry {} ({} #{}): {why}", row.entry.id.short(16), origin.name, row.index);
        let fails = |why: String| Unchecked::Fails(at(why));
        let head = check_statement_with(&row.entry.bytes, &row.entry.signature, &mut self.keys, &self.domain)
            .map_err(|e| fails(e.to_string()))?;
        if Hash::of(&[&row.entry.bytes]) != row.entry.id {
            return Err(fails("its bytes do not hash to its id".into()));
        }
        if head.kind != row.kind || head.ts != row.ts || head.actor.encode() != row.actor {
            return Err(fails("the stored kind, actor or time differ from the signed statement".into()));
        }
        // Its position is its leaf's effective time, which is the statement's own time in every log that
        // verifies (a log's times never go backwards, so the running maximum is the time itself): a stored
        // effective time changed behind the ledger's back would move it before or after other logs' rows.
        let tag = super::pos::origin_tag(&origin.name);
        if row.pos != super::pos::pos_tagged(super::pos::ts_ms(&head.ts), tag, row.index) {
            return Err(fails("its leaf's stored effective time is not its statement's time".into()));
        }
        let (size, root) = self.checkpoint(&origin)?.map_err(fails)?;
        if row.index >= size {
            return Err(fails(format!(
                "no signed checkpoint of {} covers it (the latest has {size} entries)",
                origin.name
            )));
        }
        let conn = self.ledger.conn();
        let prev: Option<Vec<u8>> = conn
            .prepare_cached("SELECT prev FROM leaves WHERE origin = ?1 AND idx = ?2")
            .and_then(|mut s| s.query_row(params![origin.id, row.index as i64], |r| r.get(0)).optional())
            .map_err(|e| classify(e, at))?;
        let prev = prev.and_then(|p| Hash::from_slice(&p)).ok_or_else(|| fails("its leaf is missing".into()))?;
        let leaf = Leaf { index: row.index, entry_id: row.entry.id, prev }.hash();
        let mut stored = |level: u32, n: u64| -> Result<Hash, Unchecked> {
            let idx = stored_hash_index(level, n);
            let hash = stored_hash_row(conn, origin.id, idx).map_err(|e| classify(e, at))?;
            let hash =
                hash.ok_or_else(|| fails(LedgerError::Damaged(format!("tree hash {idx} is missing")).to_string()))?;
            Hash::from_slice(&hash)
                .ok_or_else(|| fails(LedgerError::Damaged("tree hash is not 32 bytes".into()).to_string()))
        };
        let proof = super::proof::inclusion_proof(&mut stored, row.index, size)?;
        if !verify_inclusion(&leaf, row.index, size, &proof, &root) {
            return Err(fails(format!(
                "it is not included under the signed checkpoint of {} at size {size}",
                origin.name
            )));
        }
        Ok(head)
    }
}
