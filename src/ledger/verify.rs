//! Full verification of one origin's log, streamed in log order: every entry id, statement shape and
//! signature (`verify_strict`, on all cores through [`super::pipeline`]), every leaf and its chain link,
//! every stored tree hash, and every checkpoint's root and signature. Authorization of signers is the
//! caller's question, asked through a visitor called for each entry in order.

use super::dsse::Domain;
use super::error::{ReadProblem, read_problem_of};
use super::hash::{EntryId, Hash};
use super::leaf::{Leaf, ZERO_PREV};
use super::merkle::{Frontier, stored_hash_index};
use super::note::Checkpoint;
use super::pipeline::{Limits, check_entry, threads};
use super::statement::{CheckedHead, KeyCache};
use super::store::{Ledger, Origin};
use rusqlite::{OptionalExtension, params};

/// Rows handed to a worker at a time.
const BATCH: usize = 1024;

/// Batches out at once, per worker thread (rows wait in a bounded queue, results are taken back in order):
/// as deep as the queue `verify` had before the pipeline was shared, so its memory stays where it was.
const IN_FLIGHT_PER_THREAD: usize = 2;

/// The first thing found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub origin: String,
    pub index: Option<u64>,
    pub entry_id: Option<EntryId>,
    pub problem: String,
    /// The file could not be read there (its disk, a permission, another process holding it): the
    /// verification stopped without finding the record wrong ([`ReadProblem`]).
    pub not_read: bool,
}

impl Failure {
    /// A failure of the record found at `origin` (an entry's `index` and id, when known).
    pub fn new(origin: &str, index: Option<u64>, entry_id: Option<EntryId>, problem: impl Into<String>) -> Failure {
        Failure { origin: origin.to_string(), index, entry_id, problem: problem.into(), not_read: false }
    }

    /// A read that failed there: damage when SQLite found the content wrong, else the file unread.
    pub fn read(origin: &str, index: Option<u64>, entry_id: Option<EntryId>, problem: ReadProblem) -> Failure {
        Failure { origin: origin.to_string(), index, entry_id, problem: problem.text, not_read: problem.not_read }
    }

    /// A read of `origin`'s rows (or, as `-`, of the file) that failed, at no place in a log: damage when
    /// SQLite found the content wrong, else the file unread ([`read_problem_of`]).
    pub fn unread(origin: &str, e: impl Into<super::LedgerError>) -> Failure {
        Failure::read(origin, None, None, read_problem_of(e))
    }

    /// Whether it is a security failure — evidence that someone rewrote, cut back or forked the record, or
    /// copied an entry (what the console's title bar raises its alarm for): every place that finds one
    /// starts the problem with "SECURITY" (the one convention readers rely on, rather than a flag threaded
    /// through each error type that can carry such a finding).
    pub fn is_security(&self) -> bool {
        !self.not_read && self.problem.starts_with("SECURITY")
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "origin {}", self.origin)?;
        if let Some(i) = self.index {
            write!(f, " index {i}")?;
        }
        if let Some(id) = &self.entry_id {
            write!(f, " entry {}", id.short(16))?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// What verification of one origin found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OriginReport {
    pub origin: String,
    /// The origin's checkpoint verifier key (§4 of docs/FORMAT.md), as auditors publish and compare it.
    pub vkey: String,
    /// Leaves verified (all of them when there is no failure).
    pub verified: u64,
    /// Leaves in the log.
    pub size: u64,
    /// Entry signatures checked with `verify_strict`.
    pub signatures: u64,
    /// Checkpoints whose root and signature were checked.
    pub checkpoints: u64,
    /// Size and root of the latest valid checkpoint.
    pub latest_checkpoint: Option<(u64, Hash)>,
    /// The root recomputed over every verified leaf.
    pub root: Option<Hash>,
    pub failure: Option<Failure>,
}

/// An entry that passed the cryptographic checks, handed to the caller's visitor in log order.
pub(crate) struct VerifiedEntry<'a> {
    pub index: u64,
    /// Its position in the union of logs.
    pub pos: super::pos::Pos,
    /// The id of its origin in this file.
    pub origin: i64,
    pub id: EntryId,
    pub head: &'a CheckedHead,
    /// Its statement: the visitor may take it (the walk is done with it).
    pub bytes: Vec<u8>,
}

struct RawRow {
    index: i64,
    ets: i64,
    leaf_entry: Vec<u8>,
    prev: Vec<u8>,
    entry: Option<RawEntry>,
    /// Why a worker's lookup of the entry failed (other than the entry being absent).
    lookup_error: Option<ReadProblem>,
    checkpoints: Vec<(i64, String)>,
}

struct RawEntry {
    /// The stored id, when it is 32 bytes (no other can be a leaf's).
    id: Option<[u8; 32]>,
    statement: Vec<u8>,
    /// The stored signature, when it is 64 bytes (no other verifies).
    signature: Option<[u8; 64]>,
    /// The query columns kind, actor and ts, one after the other: one allocation instead of three, a
    /// million times over.
    columns: String,
    /// Where actor and ts start in `columns`.
    split: (usize, usize),
}

impl RawEntry {
    /// The entry in columns `at..at + 6` (id, statement, signature, kind, actor, ts) of `r`.
    fn from_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<RawEntry> {
        let (blob, text) = (|i| blob_at(r, i), |i| text_at(r, i));
        let (kind, actor, ts) = (text(at + 3)?, text(at + 4)?, text(at + 5)?);
        let mut columns = String::with_capacity(kind.len() + actor.len() + ts.len());
        columns.push_str(kind);
        columns.push_str(actor);
        columns.push_str(ts);
        Ok(RawEntry {
            id: blob(at)?.try_into().ok(),
            statement: blob(at + 1)?.to_vec(),
            signature: blob(at + 2)?.try_into().ok(),
            columns,
            split: (kind.len(), kind.len() + actor.len()),
        })
    }

    /// Whether its stored id is `id`.
    fn has_id(&self, id: &[u8]) -> bool {
        self.id.is_some_and(|own| own[..] == *id)
    }

    fn kind(&self) -> &str {
        &self.columns[..self.split.0]
    }

    fn actor(&self) -> &str {
        &self.columns[self.split.0..self.split.1]
    }

    fn ts(&self) -> &str {
        &self.columns[self.split.1..]
    }
}

/// Column `i` of `r` as a blob, borrowed; for any other value, the error `Row::get` gives.
fn blob_at<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r [u8]> {
    match r.get_ref(i)? {
        rusqlite::types::ValueRef::Blob(b) => Ok(b),
        _ => Err(r.get::<_, Vec<u8>>(i).err().unwrap_or(rusqlite::Error::InvalidColumnIndex(i))),
    }
}

/// Column `i` of `r` as text, borrowed; for any other value (or text that is not UTF-8), the error
/// `Row::get` gives.
fn text_at<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    match r.get_ref(i)?.as_str() {
        Ok(t) => Ok(t),
        Err(_) => Err(r.get::<_, String>(i).err().unwrap_or(rusqlite::Error::InvalidColumnIndex(i))),
    }
}

/// A row once a worker checked it: what the chain still needs of it. The rest of what the worker read
/// (the entry's id, signature and query columns) is dropped on the worker, the thread that allocated it:
/// memory freed on another thread costs the allocator several times more, a million times over.
struct CheckedRow {
    index: i64,
    ets: i64,
    leaf_entry: Vec<u8>,
    prev: Vec<u8>,
    /// The statement, when the entry was found.
    statement: Option<Vec<u8>>,
    /// Whether the entry row's stored id is the leaf's.
    stored_id_is_leafs: bool,
    computed_id: Option<EntryId>,
    /// The head, or why it could not be read: a problem of the record, or the lookup's failed read.
    head: Result<CheckedHead, Problem>,
    checkpoints: Vec<(i64, Result<Hash, String>)>,
}

/// What was wrong with a row: the record's (its text), or a read that failed ([`ReadProblem`]).
enum Problem {
    Record(String),
    Read(ReadProblem),
}

/// What a verification may use: threads, and the SQLite page cache of each connection (bounded, so memory
/// does not grow with the ledger; the operating system's file cache holds the rest of the file, and does
/// not count as the process's memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Threads checking signatures (and folding requests, in `verify`'s domain pass).
    pub threads: usize,
    /// Page cache of each connection, in KiB.
    pub cache_kib: i64,
    /// Statements `verify`'s domain pass may hold for requests waiting for entries the walk has not met
    /// yet, in KiB (beyond it the oldest are folded with what the walk met; a fold that missed some is
    /// done again from the stored rows after the walk). A small window: held rows are touched again when
    /// the fold takes them, and 32 MiB cost a tenth more CPU than 4 MiB (cache misses). 0: the domain pass
    /// does not run beside the walk but after it, from the stored rows (the console's background
    /// verification, which keeps its memory and its second core to the screen).
    pub hold_kib: usize,
}

impl Budget {
    /// All cores (or `ROLLCALL_VERIFY_THREADS`), for `verify` and `import`.
    pub fn full() -> Budget {
        Budget { threads: threads(), cache_kib: 4 * 1024, hold_kib: 4 * 1024 }
    }

    /// One thread and small caches: the console's background verification, which must leave a core to
    /// the screen and keep the console's memory small.
    pub fn background() -> Budget {
        Budget { threads: 1, cache_kib: 1024, hold_kib: 0 }
    }
}

/// A read-only connection for a worker's entry lookups, or None (the reader then joins them in).
fn lookup_connection(path: &std::path::Path, cache_kib: i64) -> Option<rusqlite::Connection> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(path, flags).ok()?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).ok()?;
    let _ = conn.pragma_update(None, "cache_size", -cache_kib);
    conn.execute_batch("BEGIN").ok()?;
    // Start the snapshot now, after the reader's.
    conn.query_row("SELECT COUNT(*) FROM meta", [], |_| Ok(())).ok()?;
    Some(conn)
}

/// Rows a worker reads ahead at most, when its entries keep following each other in the table.
const READ_AHEAD: usize = 32;
/// The range read of [`Lookup::guess`], its limit [`READ_AHEAD`] written out.
const READ_AHEAD_SQL: &str =
    "SELECT rowid, id, statement, signature, kind, actor, ts FROM entries WHERE rowid >= ?1 ORDER BY rowid LIMIT 32";
const _: () = assert!(READ_AHEAD == 32);

/// A worker's connection for entry lookups, and where it expects the next entry.
struct Lookup {
    conn: rusqlite::Connection,
    /// The rowid just after the entry it found last: entries are stored in the order their leaves were
    /// appended (a log's own appends, and an import's, insert them so), so a batch's next entry is almost
    /// always that row. Reading it by rowid walks the table's pages in order; a look-up by id descends a
    /// random page of the id index for every entry, which dominates a walk whose pages are not cached.
    next_rowid: Option<i64>,
    /// Rows read ahead from `next_rowid` on, in rowid order: one range read serves the entries that
    /// follow, instead of a search of the table per entry. Dropped at the first that is not the leaf's.
    ahead: std::collections::VecDeque<(i64, RawEntry)>,
    /// How many rows the next read ahead takes: doubled after each read that was used up, back to one
    /// after a miss (a batch's first entry rarely follows the worker's previous batch).
    stride: usize,
}

impl Lookup {
    fn new(conn: rusqlite::Connection) -> Lookup {
        Lookup { conn, next_rowid: None, ahead: std::collections::VecDeque::new(), stride: 1 }
    }

    /// The entry at the expected rowid, taken only when its id is `id` (otherwise what was read ahead is
    /// dropped and the next read ahead starts small).
    fn guess(&mut self, id: &[u8]) -> rusqlite::Result<Option<(i64, RawEntry)>> {
        if self.ahead.is_empty() {
            let Some(rowid) = self.next_rowid else { return Ok(None) };
            // The limit is a constant and only `stride` rows are stepped: SQLite plans with the value of a
            // bound LIMIT, so a statement with `LIMIT ?` is compiled again every time it is bound.
            let mut stmt = self.conn.prepare_cached(READ_AHEAD_SQL)?;
            let rows = stmt.query_map(params![rowid], |r| Ok((r.get::<_, i64>(0)?, RawEntry::from_row(r, 1)?)))?;
            for r in rows.take(self.stride) {
                self.ahead.push_back(r?);
            }
            self.stride = (self.stride * 2).min(READ_AHEAD);
        }
        match self.ahead.pop_front() {
            Some((rowid, e)) if Some(rowid) == self.next_rowid && e.has_id(id) => Ok(Some((rowid, e))),
            Some(_) => {
                self.ahead.clear();
                self.stride = 1;
                Ok(None)
            }
            None => Ok(None),
        }
    }
}

/// Looks up the entry of `row`'s leaf (an entry that is missing keeps `None`, which [`check_row`] reports,
/// as it reports a lookup that failed): first at the expected rowid, taken only when its id is the leaf's;
/// otherwise by id.
fn fill_entry(lookup: &mut Lookup, row: &mut RawRow) {
    let read = |r: &rusqlite::Row<'_>| Ok((r.get::<_, i64>(0)?, RawEntry::from_row(r, 1)?));
    let found = match lookup.guess(&row.leaf_entry) {
        Ok(Some(hit)) => Ok(Some(hit)),
        Ok(None) | Err(_) => {
            lookup.ahead.clear();
            lookup
                .conn
                .prepare_cached("SELECT rowid, id, statement, signature, kind, actor, ts FROM entries WHERE id = ?1")
                .and_then(|mut stmt| stmt.query_row([&row.leaf_entry], read).optional())
        }
    };
    match found {
        Ok(Some((rowid, e))) => {
            lookup.next_rowid = rowid.checked_add(1);
            row.entry = Some(e);
        }
        Ok(None) => lookup.next_rowid = None,
        Err(e) => {
            lookup.next_rowid = None;
            row.lookup_error = Some(read_problem_of(e));
        }
    }
}

fn check_row(raw: RawRow, origin: &Origin, keys: &mut KeyCache, signatures: bool, domain: &Domain) -> CheckedRow {
    let RawRow { index, ets, leaf_entry, prev, entry, lookup_error, checkpoints } = raw;
    let (computed_id, head) = match &entry {
        Some(e) => {
            let signature = e.signature.as_ref().map_or(&[][..], |s| &s[..]);
            let (id, head) = check_entry(&e.statement, signature, keys, domain, signatures);
            let head = head.map_err(|e| Problem::Record(e.to_string())).and_then(|h| {
                // The query columns must repeat the signed statement.
                if e.kind() != h.kind || e.ts() != h.ts || keys.parse(e.actor()) != Some(h.actor) {
                    Err(Problem::Record("stored kind, actor or time differ from the signed statement".to_string()))
                } else {
                    Ok(h)
                }
            });
            (Some(id), head)
        }
        None => (
            None,
            Err(match lookup_error {
                Some(read) => Problem::Read(read),
                None => Problem::Record("leaf points to an entry that is not in the ledger".into()),
            }),
        ),
    };
    let checkpoints = checkpoints
        .iter()
        .map(|(size, note)| {
            let r = Checkpoint::verify(note, &origin.name, &origin.key)
                .map_err(|e| format!("checkpoint of size {size}: {e}"))
                .and_then(|(cp, _)| {
                    if cp.size as i64 == *size {
                        Ok(cp.root)
                    } else {
                        Err(format!("checkpoint stored as size {size} says size {}", cp.size))
                    }
                });
            (*size, r)
        })
        .collect();
    let stored_id_is_leafs = entry.as_ref().is_some_and(|e| e.has_id(&leaf_entry));
    let statement = entry.map(|e| e.statement);
    CheckedRow { index, ets, leaf_entry, prev, statement, stored_id_is_leafs, computed_id, head, checkpoints }
}

/// The sequential half of verification: order, chain, tree and checkpoints.
struct Chain<'v> {
    origin: String,
    /// The origin's [`super::pos::origin_tag`].
    tag: u32,
    origin_id: i64,
    next: u64,
    prev: Hash,
    prev_ets: i64,
    frontier: Frontier,
    report: OriginReport,
    visitor: &'v mut dyn FnMut(&mut VerifiedEntry<'_>) -> Result<(), String>,
}

impl Chain<'_> {
    fn fail(&self, index: Option<u64>, entry_id: Option<EntryId>, problem: impl Into<String>) -> Failure {
        Failure::new(&self.origin, index, entry_id, problem)
    }

    fn accept(
        &mut self,
        row: CheckedRow,
        hashes: &mut dyn Iterator<Item = rusqlite::Result<(i64, Option<Hash>)>>,
    ) -> Result<(), Failure> {
        let idx = row.index;
        if idx < 0 || idx as u64 != self.next {
            return Err(self.fail(
                Some(self.next),
                None,
                format!("leaf {} is missing (the next leaf stored has index {idx})", self.next),
            ));
        }
        let index = self.next;
        let leaf_entry = Hash::from_slice(&row.leaf_entry)
            .ok_or_else(|| self.fail(Some(index), None, "leaf entry id is not 32 bytes"))?;
        let id = Some(leaf_entry);
        let prev = Hash::from_slice(&row.prev)
            .ok_or_else(|| self.fail(Some(index), id, "leaf previous hash is not 32 bytes"))?;
        // A statement whose bytes no longer hash to the id in its leaf was changed after it was signed:
        // said with the signature's failure, which is how it shows first.
        let changed = row.computed_id.is_some_and(|c| c != leaf_entry);
        let head = row.head.map_err(|p| match p {
            Problem::Record(p) if changed => self.fail(
                Some(index),
                id,
                format!("{p}; its statement does not hash to its id: its bytes were changed after it was signed"),
            ),
            Problem::Record(p) => self.fail(Some(index), id, p),
            Problem::Read(p) => Failure::read(&self.origin, Some(index), id, p),
        })?;
        let statement = row.statement.ok_or_else(|| self.fail(Some(index), id, "entry missing"))?;
        if row.computed_id != Some(leaf_entry) {
            return Err(self.fail(Some(index), id, "statement bytes do not hash to the entry id in the leaf"));
        }
        if !row.stored_id_is_leafs {
            return Err(self.fail(Some(index), id, "stored entry id differs from its statement hash"));
        }
        self.report.signatures += 1;
        let ms = super::pos::ts_ms(&head.ts);
        if ms < self.prev_ets {
            return Err(self.fail(
                Some(index),
                id,
                format!(
                    "stamped {}, earlier than the entry before it in this log ({}): time never goes backwards \
                     within a log",
                    head.ts,
                    super::pos::format_ms(self.prev_ets)
                ),
            ));
        }
        let ets = self.prev_ets.max(ms);
        if row.ets != ets {
            return Err(self.fail(
                Some(index),
                id,
                "the leaf's effective time is not its statement's (nor its predecessor's)",
            ));
        }
        self.prev_ets = ets;
        if prev != self.prev {
            return Err(self.fail(Some(index), id, "previous-leaf hash breaks the chain"));
        }
        let leaf_hash = Leaf { index, entry_id: leaf_entry, prev }.hash();
        let first = stored_hash_index(0, index);
        self.frontier.push(leaf_hash);
        for (k, h) in self.frontier.completed().iter().enumerate() {
            let want = first + k as u64;
            match hashes.next() {
                Some(Ok((got, stored))) if got as u64 == want => {
                    if stored.as_ref() != Some(h) {
                        return Err(self.fail(Some(index), id, format!("stored tree hash {want} is wrong")));
                    }
                }
                Some(Ok((got, _))) => {
                    return Err(self.fail(Some(index), id, format!("tree hash {want} missing (found {got})")));
                }
                Some(Err(e)) => return Err(Failure::read(&self.origin, Some(index), id, read_problem_of(e))),
                None => return Err(self.fail(Some(index), id, format!("tree hash {want} missing"))),
            }
        }
        self.prev = leaf_hash;
        self.next += 1;
        let pos = super::pos::pos_tagged(ets, self.tag, index);
        (self.visitor)(&mut VerifiedEntry {
            index,
            pos,
            origin: self.origin_id,
            id: leaf_entry,
            head: &head,
            bytes: statement,
        })
        .map_err(|p| self.fail(Some(index), id, p))?;
        for (size, r) in row.checkpoints {
            let root = r.map_err(|p| self.fail(Some(index), id, p))?;
            if size as u64 != self.next {
                return Err(self.fail(Some(index), id, format!("checkpoint of size {size} does not end on a leaf")));
            }
            if root != self.frontier.root() {
                return Err(self.fail(
                    Some(index),
                    id,
                    format!("checkpoint of size {size} has a root that differs from the log's"),
                ));
            }
            self.report.checkpoints += 1;
            self.report.latest_checkpoint = Some((size as u64, root));
        }
        self.report.verified = self.next;
        Ok(())
    }
}

/// Verifies `origin`'s log in `ledger`. `visitor` is called for each entry, in log order, after its
/// cryptographic checks passed; returning an error stops verification with that problem.
pub(crate) fn verify_origin(
    ledger: &Ledger,
    origin: &Origin,
    budget: &Budget,
    visitor: &mut dyn FnMut(&mut VerifiedEntry<'_>) -> Result<(), String>,
) -> OriginReport {
    verify_origin_with(ledger, origin, true, budget, visitor)
}

/// As [`verify_origin`]; without `signatures`, entry signatures are not checked (a structural check: every
/// statement hash, leaf, chain link, tree hash, checkpoint root and checkpoint signature).
pub(crate) fn verify_origin_with(
    ledger: &Ledger,
    origin: &Origin,
    signatures: bool,
    budget: &Budget,
    visitor: &mut dyn FnMut(&mut VerifiedEntry<'_>) -> Result<(), String>,
) -> OriginReport {
    let mut chain = Chain {
        origin: origin.name.clone(),
        tag: super::pos::origin_tag(&origin.name),
        origin_id: origin.id,
        next: 0,
        prev: ZERO_PREV,
        prev_ets: 0,
        frontier: Frontier::new(),
        report: OriginReport {
            origin: origin.name.clone(),
            vkey: super::note::verifier_key(&origin.name, &origin.key),
            ..Default::default()
        },
        visitor,
    };
    let result = run(ledger, origin, signatures, budget, &mut chain);
    let mut report = std::mem::take(&mut chain.report);
    if !signatures {
        report.signatures = 0;
    }
    report.size = super::store::log_size(ledger.conn(), origin.id).unwrap_or(chain.next);
    if let Err(f) = result {
        report.failure = Some(f);
    } else {
        report.root = Some(chain.frontier.root());
    }
    report
}

fn run(
    ledger: &Ledger,
    origin: &Origin,
    signatures: bool,
    budget: &Budget,
    chain: &mut Chain<'_>,
) -> Result<(), Failure> {
    let db = |e: rusqlite::Error| Failure::unread(&origin.name, e);
    let conn = ledger.conn();
    // No memory map: its pages count as the process's resident memory and grow with the file. A bounded
    // page cache holds the upper levels of the indexes the scan and the lookups walk; the rest comes from
    // the operating system's file cache.
    let _ = conn.pragma_update(None, "cache_size", -budget.cache_kib);
    // One snapshot for the whole walk (the caller's, when it holds one).
    let _snapshot = ledger.read_snapshot().map_err(|e| Failure::unread(&origin.name, e))?;
    let tx = conn;
    // The workers look the entries up (see [`fill_entry`]) on connections of their own, in parallel, when
    // they can open them (opened after this transaction's first read, so each sees at
    // least what it sees: the tables only grow). Otherwise this reader joins them in.
    let threads = budget.threads.max(1);
    let mut leaves_stmt = tx
        .prepare(
            "SELECT l.idx, l.entry_id, l.prev, e.id, e.statement, e.signature, e.kind, e.actor, e.ts, l.ets
               FROM leaves l LEFT JOIN entries e ON e.id = l.entry_id
              WHERE l.origin = ?1 ORDER BY l.idx",
        )
        .map_err(db)?;
    let mut bare_stmt = tx
        .prepare("SELECT l.idx, l.entry_id, l.prev, l.ets FROM leaves l WHERE l.origin = ?1 ORDER BY l.idx")
        .map_err(db)?;
    let mut hashes_stmt = tx.prepare("SELECT idx, hash FROM tree_hashes WHERE origin = ?1 ORDER BY idx").map_err(db)?;
    let mut cps_stmt = tx.prepare("SELECT size, note FROM checkpoints WHERE origin = ?1 ORDER BY size").map_err(db)?;
    // Compared in place: a stored hash that is not a 32-byte blob is a wrong one.
    let stored_hash = |r: &rusqlite::Row<'_>| {
        let hash = match r.get_ref(1)? {
            rusqlite::types::ValueRef::Blob(b) => Hash::from_slice(b),
            _ => None,
        };
        Ok((r.get(0)?, hash))
    };
    let mut hashes = hashes_stmt.query_map(params![origin.id], stored_hash).map_err(db)?;
    let mut cps = cps_stmt
        .query_map(params![origin.id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(db)?
        .peekable();
    let joined = |r: &rusqlite::Row<'_>| {
        let entry = match r.get::<_, Option<Vec<u8>>>(3)? {
            Some(_) => Some(RawEntry::from_row(r, 3)?),
            None => None,
        };
        Ok(RawRow {
            index: r.get(0)?,
            ets: r.get(9)?,
            leaf_entry: r.get(1)?,
            prev: r.get(2)?,
            entry,
            lookup_error: None,
            checkpoints: Vec::new(),
        })
    };
    let bare = |r: &rusqlite::Row<'_>| {
        Ok(RawRow {
            index: r.get(0)?,
            ets: r.get(3)?,
            leaf_entry: r.get(1)?,
            prev: r.get(2)?,
            entry: None,
            lookup_error: None,
            checkpoints: Vec::new(),
        })
    };
    let mut rows = bare_stmt.query_map(params![origin.id], bare).map_err(db)?;
    // The first row starts this transaction's snapshot; the workers' connections open after it.
    let first = rows.next();
    let lookups: Option<Vec<rusqlite::Connection>> =
        (0..threads).map(|_| lookup_connection(ledger.path(), budget.cache_kib)).collect::<Option<Vec<_>>>();
    let mut rows: Box<dyn Iterator<Item = rusqlite::Result<RawRow>>> = match &lookups {
        Some(_) => Box::new(first.into_iter().chain(rows)),
        None => {
            drop(rows);
            Box::new(leaves_stmt.query_map(params![origin.id], joined).map_err(db)?)
        }
    };

    // One worker per lookup connection (or per thread, the reader joining the entries in).
    let states: Vec<Option<Lookup>> = match lookups {
        Some(conns) => conns.into_iter().map(|conn| Some(Lookup::new(conn))).collect(),
        None => (0..threads).map(|_| None).collect(),
    };
    let limits = Limits { batch: BATCH, batch_bytes: usize::MAX, in_flight: threads * IN_FLIGHT_PER_THREAD };
    let domain = &ledger.domain();
    let stopped = |_| chain_fail(&origin.name, super::pipeline::Stopped.to_string());
    let check = |keys: &mut KeyCache, lookup: &mut Option<Lookup>, mut row: RawRow| {
        if let Some(lookup) = lookup {
            fill_entry(lookup, &mut row);
        }
        check_row(row, origin, keys, signatures, domain)
    };
    super::pipeline::run(limits, states, check, |pipe| -> Result<(), Failure> {
        for row in rows.by_ref() {
            let mut row = row.map_err(|e| Failure::unread(&origin.name, e))?;
            while let Some(Ok((size, _))) = cps.peek() {
                if *size > row.index + 1 {
                    break;
                }
                if let Some(Ok(cp)) = cps.next() {
                    row.checkpoints.push(cp);
                }
            }
            if pipe.push(row, 0).map_err(stopped)? {
                while let Some(checked) = pipe.ready().map_err(stopped)? {
                    chain.accept(checked, &mut hashes)?;
                }
            }
        }
        while let Some(checked) = pipe.wait().map_err(stopped)? {
            chain.accept(checked, &mut hashes)?;
        }
        if let Some(extra) = hashes.next() {
            return Err(match extra {
                Ok((idx, _)) => chain_fail(
                    &origin.name,
                    format!("tree hash {idx} belongs to no leaf (entries were removed from the end)"),
                ),
                Err(e) => Failure::unread(&origin.name, e),
            });
        }
        if let Some(cp) = cps.next() {
            return Err(match cp {
                Ok((size, _)) => chain_fail(
                    &origin.name,
                    format!(
                        "SECURITY: a checkpoint covers {size} entries but the log has {}: entries were removed \
                         from the end",
                        chain.next
                    ),
                ),
                Err(e) => Failure::unread(&origin.name, e),
            });
        }
        Ok(())
    })
}

fn chain_fail(origin: &str, problem: String) -> Failure {
    Failure::new(origin, None, None, problem)
}

/// What [`orphan_entries`] needs, read in one snapshot: the entries the file stores, the leaves its logs
/// hold, and the leaves that point at an entry an earlier leaf points at (from
/// [`Ledger::entries_in_several_logs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LeafCounts {
    pub stored: u64,
    pub leaves: u64,
    pub repeated: u64,
}

/// Counts the stored entries and the leaves (two scans of the tables' smallest indexes, which a walk
/// does not otherwise read: on a cold file cache, mostly waiting for the disk), beside `repeated`.
pub(crate) fn leaf_counts(ledger: &Ledger, repeated: u64) -> Result<LeafCounts, rusqlite::Error> {
    let count = |sql: &str| ledger.conn().query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64);
    Ok(LeafCounts {
        stored: count("SELECT COUNT(*) FROM entries")?,
        leaves: count("SELECT COUNT(*) FROM leaves")?,
        repeated,
    })
}

/// The [`LeafCounts`] for a walk over `walked` leaves: `beside` (counted in another snapshot, beside the
/// walk) when it counts exactly those leaves (the tables only grow, so the two snapshots then hold the same
/// rows), else counted again in `ledger`'s snapshot, the walk's (an import committed between the two, or
/// the counts beside failing).
pub(crate) fn counts_for_walk(
    ledger: &Ledger,
    beside: Option<LeafCounts>,
    walked: u64,
    repeated: u64,
) -> Result<LeafCounts, rusqlite::Error> {
    match beside {
        Some(c) if c.leaves == walked => Ok(c),
        _ => leaf_counts(ledger, repeated),
    }
}

/// Entries stored in the file that no log contains (inserted behind the ledger's back). For a ledger whose
/// every leaf was found to point at a stored entry (a walk that passed), and its [`LeafCounts`]: when
/// there are as many stored entries as distinct entries the leaves hold (the leaves less the repeated
/// ones), there is none, which the counts tell without looking every entry up; otherwise they are looked
/// for and named.
pub(crate) fn orphan_entries(ledger: &Ledger, counts: LeafCounts) -> Result<Vec<EntryId>, rusqlite::Error> {
    let LeafCounts { stored, leaves, repeated } = counts;
    if i128::from(stored) == i128::from(leaves) - i128::from(repeated) {
        return Ok(Vec::new());
    }
    let mut stmt = ledger.conn().prepare(
        "SELECT id FROM entries e WHERE NOT EXISTS (SELECT 1 FROM leaves l WHERE l.entry_id = e.id) LIMIT 10",
    )?;
    let ids = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for id in ids {
        out.push(Hash::from_slice(&id?).unwrap_or(Hash([0; 32])));
    }
    Ok(out)
}

/// The tables whose rows name an origin, checked by [`stray_rows`].
const ORIGIN_TABLES: [&str; 4] = ["leaves", "tree_hashes", "checkpoints", "cosignatures"];

/// Rows in ledger tables that belong to no known origin. Each table's key starts with the origin, so a
/// row outside the known ids lies in one of the key ranges between them (below the first, between two,
/// above the last): one seek each, instead of a scan of every row. A range that holds any is then
/// counted for the message.
pub(crate) fn stray_rows(ledger: &Ledger) -> Result<Option<String>, rusqlite::Error> {
    let mut known = Vec::new();
    for id in ledger.conn().prepare("SELECT id FROM origins ORDER BY id")?.query_map([], |r| r.get::<_, i64>(0))? {
        known.push(id?);
    }
    for table in ORIGIN_TABLES {
        if !outside_known(ledger.conn(), table, &known)? {
            continue;
        }
        let n: i64 = ledger.conn().query_row(
            &format!("SELECT COUNT(*) FROM {table} WHERE origin NOT IN (SELECT id FROM origins)"),
            [],
            |r| r.get(0),
        )?;
        if n > 0 {
            return Ok(Some(format!("{n} rows of {table} belong to no known origin")));
        }
    }
    Ok(None)
}

/// Whether `table` (one of [`ORIGIN_TABLES`]) holds a row whose origin is none of `known` (sorted
/// ascending): as `origin NOT IN known` selects, a row whose origin is not an integer included (SQLite
/// sorts text and blobs after every number; the column is `NOT NULL`).
fn outside_known(conn: &rusqlite::Connection, table: &str, known: &[i64]) -> Result<bool, rusqlite::Error> {
    let exists = |sql: &str, bounds: &[i64]| -> Result<bool, rusqlite::Error> {
        conn.query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE {sql})"),
            rusqlite::params_from_iter(bounds),
            |r| r.get(0),
        )
    };
    let (Some(first), Some(last)) = (known.first(), known.last()) else {
        return exists("1", &[]);
    };
    if exists("origin < ?1", &[*first])? || exists("origin > ?1", &[*last])? {
        return Ok(true);
    }
    for pair in known.windows(2) {
        // Between two consecutive ids too: a real number (which no STRICT table holds) would sort there.
        if exists("origin > ?1 AND origin < ?2", pair)? {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: u8) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE entries (id BLOB PRIMARY KEY NOT NULL, statement BLOB NOT NULL, signature BLOB NOT NULL,
                                   kind TEXT NOT NULL, actor TEXT NOT NULL, ts TEXT NOT NULL)",
        )
        .unwrap();
        for i in 1..=n {
            conn.execute("INSERT INTO entries VALUES (?1, ?2, x'00', 'note', 'a', 't')", params![vec![i; 32], vec![i]])
                .unwrap();
        }
        conn
    }

    fn find(lookup: &mut Lookup, id: u8) -> Option<Vec<u8>> {
        let mut row = RawRow {
            index: 0,
            ets: 0,
            leaf_entry: vec![id; 32],
            prev: vec![0; 32],
            entry: None,
            lookup_error: None,
            checkpoints: Vec::new(),
        };
        fill_entry(lookup, &mut row);
        assert_eq!(row.lookup_error, None);
        row.entry.map(|e| {
            assert_eq!(e.id, Some([id; 32]));
            e.statement
        })
    }

    /// The genesis ledger of [`super::super::store::test_ledger`], and a raw connection to its file for
    /// rows written behind its back (the triggers refuse updates and deletes, not inserts).
    fn raw_ledger() -> (tempfile::TempDir, Ledger, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = super::super::store::test_ledger(dir.path());
        let raw = rusqlite::Connection::open(&path).unwrap();
        (dir, Ledger::open_read_only(&path).unwrap(), raw)
    }

    fn orphans(ledger: &Ledger) -> Vec<EntryId> {
        let (_, repeated) = ledger.entries_in_several_logs().unwrap();
        orphan_entries(ledger, leaf_counts(ledger, repeated).unwrap()).unwrap()
    }

    /// A row whose entry could not be read because the file was not (its disk, a permission) stops the walk
    /// as not read, naming the leaf; a row whose entry is not there, or unreadable content, is the
    /// record's failure.
    #[test]
    fn a_read_the_file_refused_stops_the_walk_as_not_read_and_damage_as_the_records() {
        let (_dir, ledger, _raw) = raw_ledger();
        let origin = ledger.origins().unwrap().remove(0);
        let domain = ledger.domain();
        let mut keys = KeyCache::default();
        let mut visitor = |_: &mut VerifiedEntry<'_>| Ok(());
        let mut chain = Chain {
            origin: "o".into(),
            tag: 0,
            origin_id: 0,
            next: 0,
            prev: ZERO_PREV,
            prev_ets: 0,
            frontier: Frontier::new(),
            report: OriginReport::default(),
            visitor: &mut visitor,
        };
        let mut walk = |lookup_error: Option<ReadProblem>| {
            let row = RawRow {
                index: 0,
                ets: 0,
                leaf_entry: vec![1; 32],
                prev: vec![0; 32],
                entry: None,
                lookup_error,
                checkpoints: Vec::new(),
            };
            let checked = check_row(row, &origin, &mut keys, true, &domain);
            chain.accept(checked, &mut std::iter::empty()).unwrap_err()
        };
        let disk = ReadProblem { text: "the ledger's disk failed: disk I/O error".into(), not_read: true };
        let f = walk(Some(disk.clone()));
        let at = |problem: &str, not_read| Failure {
            origin: "o".into(),
            index: Some(0),
            entry_id: Some(Hash([1; 32])),
            problem: problem.into(),
            not_read,
        };
        assert_eq!(f, at(&disk.text, true));
        let damage = ReadProblem { text: "database is damaged: malformed".into(), not_read: false };
        assert_eq!(walk(Some(damage)), at("database is damaged: malformed", false));
        assert_eq!(walk(None), at("leaf points to an entry that is not in the ledger", false));
    }

    /// The counts made beside the walk are used only when they count the leaves it walked; otherwise (an
    /// import committed between the two snapshots, or no counts) they are made again in the walk's
    /// snapshot, where an entry in no log is then found.
    #[test]
    fn counts_beside_the_walk_are_used_only_for_the_leaves_it_walked() {
        let (_dir, ledger, raw) = raw_ledger();
        let walked = ledger.size(&ledger.origins().unwrap()[0]).unwrap();
        let here = LeafCounts { stored: 1, leaves: 1, repeated: 0 };
        assert_eq!(walked, 1);
        // Counts of the same leaves are taken as they are (these claim more entries: they are not redone).
        let same = LeafCounts { stored: 5, leaves: walked, repeated: 0 };
        assert_eq!(counts_for_walk(&ledger, Some(same), walked, 0).unwrap(), same);
        // Counts of more leaves (an import seen beside the walk) or none: counted here.
        let more = LeafCounts { stored: 3, leaves: 3, repeated: 0 };
        assert_eq!(counts_for_walk(&ledger, Some(more), walked, 0).unwrap(), here);
        assert_eq!(counts_for_walk(&ledger, None, walked, 0).unwrap(), here);
        // An entry inserted in no log: counted here, it is found, whatever the stale counts said.
        raw.execute(
            "INSERT INTO entries (id, statement, signature, kind, actor, ts)
             SELECT x'0202020202020202020202020202020202020202020202020202020202020202', statement, signature, kind,
                    actor, ts FROM entries LIMIT 1",
            [],
        )
        .unwrap();
        let stale = LeafCounts { stored: 2, leaves: 2, repeated: 0 };
        let counts = counts_for_walk(&ledger, Some(stale), walked, 0).unwrap();
        assert_eq!(counts, LeafCounts { stored: 2, leaves: 1, repeated: 0 });
        assert_eq!(orphan_entries(&ledger, counts).unwrap(), vec![Hash([2; 32])]);
    }

    #[test]
    fn orphans_are_counted_against_the_distinct_entries_the_leaves_hold() {
        let (_dir, ledger, raw) = raw_ledger();
        assert_eq!(orphans(&ledger), vec![]);
        let genesis: Vec<u8> = raw.query_row("SELECT entry_id FROM leaves WHERE idx = 0", [], |r| r.get(0)).unwrap();
        // A second leaf pointing at the genesis entry (as another log holding it would): still no orphan.
        raw.execute("INSERT INTO leaves VALUES (2, 0, ?1, zeroblob(32), 0)", [&genesis]).unwrap();
        raw.execute("INSERT INTO leaves VALUES (3, 0, ?1, zeroblob(32), 0)", [&genesis]).unwrap();
        assert_eq!(ledger.entries_in_several_logs().unwrap().1, 2);
        assert_eq!(orphans(&ledger), vec![]);
        // An entry in no log beside them: as many entries as leaves, but one entry is in none. Counting
        // leaves instead of distinct entries would miss it.
        raw.execute(
            "INSERT INTO entries (id, statement, signature, kind, actor, ts)
             SELECT x'0101010101010101010101010101010101010101010101010101010101010101', statement, signature, kind,
                    actor, ts FROM entries LIMIT 1",
            [],
        )
        .unwrap();
        raw.execute("INSERT INTO leaves VALUES (4, 0, ?1, zeroblob(32), 0)", [&genesis]).unwrap();
        let counts: (i64, i64) = raw
            .query_row(
                "SELECT (SELECT COUNT(*) FROM entries), (SELECT COUNT(DISTINCT entry_id) FROM leaves)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(counts.0, counts.1 + 1);
        assert_eq!(orphans(&ledger), vec![Hash([1; 32])]);
    }

    #[test]
    fn rows_of_no_known_origin_are_found_below_between_and_above_the_known_ones() {
        let (_dir, ledger, raw) = raw_ledger();
        assert_eq!(stray_rows(&ledger).unwrap(), None);
        // A second known origin, with a gap below it.
        raw.execute("INSERT INTO origins VALUES (5, 'test.example/b', 'k', 0)", []).unwrap();
        raw.execute("INSERT INTO tree_hashes VALUES (5, 0, zeroblob(32))", []).unwrap();
        assert_eq!(stray_rows(&ledger).unwrap(), None);
        for (origin, table) in [(3, "tree_hashes"), (0, "checkpoints"), (9, "cosignatures")] {
            let (_dir, ledger, raw) = raw_ledger();
            raw.execute("INSERT INTO origins VALUES (5, 'test.example/b', 'k', 0)", []).unwrap();
            let sql = match table {
                "tree_hashes" => "INSERT INTO tree_hashes VALUES (?1, 0, zeroblob(32))",
                "checkpoints" => "INSERT INTO checkpoints VALUES (?1, 1, 'n')",
                _ => "INSERT INTO cosignatures VALUES (?1, 1, zeroblob(32), 'w', 0, zeroblob(64))",
            };
            raw.execute(sql, [origin]).unwrap();
            assert_eq!(
                stray_rows(&ledger).unwrap(),
                Some(format!("1 rows of {table} belong to no known origin")),
                "origin {origin}"
            );
        }
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// The seeks between the known ids find a stray row exactly when `origin NOT IN (known)` does,
        /// whatever the ids and whatever the rows hold (text and real values included: the reference
        /// query is run on a table without STRICT, where they can be stored).
        #[test]
        fn the_seeks_find_what_not_in_finds(
            known in proptest::collection::btree_set(-5i64..20, 0..5),
            rows in proptest::collection::vec(proptest::prop_oneof![
                (-8i64..24).prop_map(rusqlite::types::Value::Integer),
                (-8i64..24).prop_map(|i| rusqlite::types::Value::Real(i as f64 + 0.5)),
                "[a-z]{0,3}".prop_map(rusqlite::types::Value::Text),
            ], 0..6),
        ) {
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            conn.execute_batch("CREATE TABLE origins (id INTEGER PRIMARY KEY); CREATE TABLE t (origin NOT NULL);").unwrap();
            for id in &known {
                conn.execute("INSERT INTO origins VALUES (?1)", [id]).unwrap();
            }
            for v in &rows {
                conn.execute("INSERT INTO t VALUES (?1)", [v]).unwrap();
            }
            let n: i64 = conn
                .query_row("SELECT COUNT(*) FROM t WHERE origin NOT IN (SELECT id FROM origins)", [], |r| r.get(0))
                .unwrap();
            let known: Vec<i64> = known.into_iter().collect();
            proptest::prop_assert_eq!(outside_known(&conn, "t", &known).unwrap(), n > 0);
        }
    }

    #[test]
    fn entries_are_read_ahead_while_they_follow_each_other_and_looked_up_by_id_otherwise() {
        let mut lookup = Lookup::new(entries(40));
        // In order: after the first look-up by id, read ahead in growing strides.
        for i in 1..=20u8 {
            assert_eq!(find(&mut lookup, i), Some(vec![i]));
        }
        assert!(lookup.stride > 4, "stride {}", lookup.stride);
        assert!(!lookup.ahead.is_empty());
        // A jump (the next batch of another worker's): what was read ahead is dropped, the entry found by id.
        assert_eq!(find(&mut lookup, 35), Some(vec![35]));
        assert_eq!((lookup.stride, lookup.next_rowid), (1, Some(36)));
        assert_eq!(find(&mut lookup, 36), Some(vec![36]));
        // Backwards, and an entry that is not there.
        assert_eq!(find(&mut lookup, 2), Some(vec![2]));
        assert_eq!(find(&mut lookup, 99), None);
        assert_eq!(lookup.next_rowid, None);
        assert_eq!(find(&mut lookup, 3), Some(vec![3]));
        // Past the last row: the read ahead finds nothing, the look-up by id still does.
        assert_eq!(find(&mut lookup, 40), Some(vec![40]));
        assert_eq!(find(&mut lookup, 40), Some(vec![40]));
    }

    #[test]
    fn a_read_ahead_that_fails_falls_back_to_the_look_up_by_id() {
        // Row 6's statement is not a blob (a table without STRICT lets a damaged file hold that): any read
        // that reaches it fails.
        let conn = entries(10);
        conn.execute("UPDATE entries SET statement = 7 WHERE rowid = 6", []).unwrap();
        let mut lookup = Lookup::new(conn);
        for i in 1..=4u8 {
            assert_eq!(find(&mut lookup, i), Some(vec![i]));
        }
        // Entry 5's read ahead takes rows 5 to 8 and fails at row 6: entry 5 is then found by its id.
        assert_eq!(lookup.stride, 4);
        assert_eq!(find(&mut lookup, 5), Some(vec![5]));
        assert!(lookup.ahead.is_empty());
        // Row 6 itself is reported as damage, not as missing.
        let mut row = RawRow {
            index: 0,
            ets: 0,
            leaf_entry: vec![6; 32],
            prev: vec![0; 32],
            entry: None,
            lookup_error: None,
            checkpoints: Vec::new(),
        };
        fill_entry(&mut lookup, &mut row);
        assert!(row.entry.is_none());
        // With the error reading the column gives (the columns are borrowed, not read with `Row::get`, but a
        // value of the wrong type is reported as `Row::get` reports it).
        let wrong = rusqlite::Error::InvalidColumnType(2, "statement".into(), rusqlite::types::Type::Integer);
        assert_eq!(
            row.lookup_error,
            Some(ReadProblem { text: format!("database is damaged: {wrong}"), not_read: false })
        );
        assert_eq!(lookup.next_rowid, None);
        // The entries after it are found again.
        assert_eq!(find(&mut lookup, 7), Some(vec![7]));
        assert_eq!(find(&mut lookup, 8), Some(vec![8]));
    }
}
