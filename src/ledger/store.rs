//! The ledger file: creating it, opening it safely, serialized appends (entry, leaf, tree hashes and a
//! signed checkpoint in one `BEGIN IMMEDIATE` transaction) and the reads the layers above need.
//!
//! Over 600 lines (~730 of code): opening the file safely, the append transaction and the writer's checks
//! stay together so the one path that writes the ledger's tables reads top to bottom; the reads the layers
//! above ask for are in `query.rs` and `history.rs`, verification in `verify.rs` and `pipeline.rs`.

use super::causal::{JOINED_KIND, MERGED_KIND, MergedBody, Seen, SeenPrefix, seen_of};
use super::error::LedgerError;
use super::hash::{EntryId, Hash};
use super::key::PublicKey;
use super::merkle::{Frontier, frontier_positions, stored_hash_index};
use super::note::{Checkpoint, valid_key_name};
use super::schema;
use super::statement::{SignedStatement, StatementError};
use ed25519_dalek::SigningKey;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a connection that waits for another's lock tries again.
const BUSY_POLL: Duration = Duration::from_millis(1);

/// SQLite's busy handler for every connection: try again every [`BUSY_POLL`], for about [`BUSY_TIMEOUT`].
/// SQLite's own timeout tries at growing intervals, up to 100 ms apart, and misses the short pause a
/// stepped rebuild of the request index leaves between its commits so that a waiting writer goes first.
fn poll_busy(tries: i32) -> bool {
    if BUSY_POLL * u32::try_from(tries).unwrap_or(u32::MAX) >= BUSY_TIMEOUT {
        return false;
    }
    std::thread::sleep(BUSY_POLL);
    true
}

/// A log in this ledger file: the own origin or a mirror of another machine's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub id: i64,
    pub name: String,
    pub key: PublicKey,
    pub own: bool,
}

impl Origin {
    /// The empty own origin of an auditor's temporary copy ([`super::pos::AUDIT_ORIGIN`]): it holds no
    /// entry, so it orders nothing and clashes with no origin's tag.
    pub(crate) fn is_audit_copy(&self) -> bool {
        self.own && self.name == super::pos::AUDIT_ORIGIN
    }
}

/// What an append did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Log index of the first appended entry.
    pub first_index: u64,
    /// Log size after the append.
    pub size: u64,
    pub root: Hash,
    /// The signed checkpoint written, if an origin key was given.
    pub checkpoint: Option<String>,
}

/// An entry as it arrived in this file (see [`Ledger::entries_after`]).
#[derive(Clone, Debug)]
pub struct Arrived {
    /// Its arrival number in this file.
    pub seq: i64,
    pub entry: SignedStatement,
    /// Its statement hashes to its stored id and its signature is 64 bytes.
    pub intact: bool,
    pub actor: String,
    pub ts: String,
    /// The first log holding it: the log's name, the leaf's index, its position in the union of logs.
    pub leaf: Option<(String, u64, super::pos::Pos)>,
}

/// One entry of a log, read back in log order.
#[derive(Clone, Debug)]
pub struct LogRow {
    /// Its index in its origin's log.
    pub index: u64,
    /// Its position in the union of logs.
    pub pos: super::pos::Pos,
    /// The id of its origin in this file.
    pub origin: i64,
    pub entry: SignedStatement,
    pub kind: String,
    pub actor: String,
    pub ts: String,
}

/// An open ledger file.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    ledger_id: EntryId,
    own: Origin,
    names: std::cell::RefCell<std::sync::Arc<std::collections::HashMap<i64, String>>>,
    /// Last, so it is dropped after `conn` is closed.
    _registration: super::open_files::Registration,
}

/// A read transaction started by [`Ledger::read_snapshot`]; ends when dropped.
pub struct ReadSnapshot<'a> {
    conn: Option<&'a Connection>,
}

impl Drop for ReadSnapshot<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn {
            let _ = c.execute_batch("COMMIT");
        }
    }
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).field("origin", &self.own.name).finish()
    }
}

fn configure(conn: &Connection) -> Result<(), LedgerError> {
    conn.busy_handler(Some(poll_busy))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

fn blob_hash(b: Vec<u8>, what: &str) -> Result<Hash, LedgerError> {
    Hash::from_slice(&b).ok_or_else(|| LedgerError::Damaged(format!("{what} is not 32 bytes")))
}

/// A leaf's place: its log's name and its index there.
pub(crate) type LeafPlace = (String, u64);

impl Ledger {
    /// Creates a new ledger at `path` whose own log starts with `genesis`, checkpointed by `origin_key`.
    /// The file appears at `path` only once it is complete; an existing file is never overwritten.
    pub fn create(
        path: &Path,
        origin_name: &str,
        origin_key: &SigningKey,
        genesis: &SignedStatement,
    ) -> Result<Ledger, LedgerError> {
        let key = PublicKey::from_signing(origin_key);
        Self::create_with(path, origin_name, &key, &genesis.id, |l| {
            l.append(std::slice::from_ref(genesis), Some(0), origin_key, i64::MAX).map(|_| ())
        })
    }

    /// Creates a new ledger file of the ledger `ledger_id` at `path` with an empty own log of
    /// `origin_name` (checkpoint key `origin_key`), lets `fill` write to it, and only then makes it appear
    /// at `path`. If `fill` fails, nothing appears. An existing file is never overwritten.
    pub fn create_with<E: From<LedgerError>>(
        path: &Path,
        origin_name: &str,
        origin_key: &PublicKey,
        ledger_id: &EntryId,
        fill: impl FnOnce(&mut Ledger) -> Result<(), E>,
    ) -> Result<Ledger, E> {
        if !valid_key_name(origin_name) || origin_name == super::note::COSIGNATURE_HEADER {
            return Err(LedgerError::Damaged(format!("origin name {origin_name:?} is not valid")).into());
        }
        let tmp = temp_beside(path, "init")?;
        let result = Self::build(&tmp, origin_name, origin_key, ledger_id).map_err(E::from).and_then(|()| {
            let mut ledger = Self::open(&tmp)?;
            // Nobody else can see the file yet: it is filled without the WAL and synced whole below.
            let load = super::bulk::PrivateLoad::begin(&ledger.conn, &tmp)?;
            let filled = fill(&mut ledger).and_then(|()| Ok(load.restore(&ledger.conn)?));
            drop(ledger);
            // Synced (or, on failure, given up) only once its connection is closed.
            let synced = load.sync(&tmp);
            filled?;
            synced?;
            Ok(link_new(&tmp, path)?)
        });
        remove_temporary(&tmp);
        result?;
        Ok(Self::open(path)?)
    }

    fn build(tmp: &Path, origin_name: &str, key: &PublicKey, ledger_id: &EntryId) -> Result<(), LedgerError> {
        let mut conn = new_file(tmp)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO origins (id, name, public_key, own) VALUES (1, ?1, ?2, 1)",
            params![origin_name, key.encode()],
        )?;
        let meta = [
            ("format", schema::FORMAT_VERSION.to_string()),
            ("ledger_id", ledger_id.to_hex()),
            ("created", super::statement::now_ts()),
        ];
        for (k, v) in meta {
            tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![k, v])?;
        }
        tx.commit()?;
        conn.close().map_err(|(_, e)| LedgerError::from(e))?;
        Ok(())
    }

    /// Opens an existing ledger for reading and appending. Foreign, damaged or newer files are refused
    /// before SQLite writes anything to them.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        Self::open_with(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
    }

    /// Opens an existing ledger without write access.
    pub fn open_read_only(path: &Path) -> Result<Ledger, LedgerError> {
        Self::open_with(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
    }

    fn open_with(path: &Path, mode: OpenFlags) -> Result<Ledger, LedgerError> {
        // Declared before the connection, so that on every path it is dropped after it.
        let registration = super::open_files::register(path, || schema::check_header(path))?;
        let conn = Connection::open_with_flags(path, mode | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_handler(Some(poll_busy))?;
        if mode.contains(OpenFlags::SQLITE_OPEN_READ_WRITE) {
            configure(&conn)?;
        }
        let ledger_id: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'ledger_id'", [], |r| r.get(0))
            .optional()
            .map_err(|e| match e.sqlite_error_code() {
                // The file's content (damaged pages, no metadata table): the ledger is damaged. Anything
                // else (the disk, another process, permissions) is said as what it is.
                Some(
                    rusqlite::ErrorCode::DatabaseCorrupt
                    | rusqlite::ErrorCode::NotADatabase
                    | rusqlite::ErrorCode::Unknown,
                ) => LedgerError::Damaged(format!("cannot read ledger metadata: {e}")),
                _ => LedgerError::from(e),
            })?;
        let ledger_id = ledger_id
            .and_then(|s| Hash::from_hex(&s))
            .ok_or_else(|| LedgerError::Damaged("ledger id missing from metadata".into()))?;
        let own = read_origins(&conn)?
            .into_iter()
            .find(|o| o.own)
            .ok_or_else(|| LedgerError::Damaged("the ledger has no own origin".into()))?;
        Ok(Ledger {
            conn,
            path: path.to_path_buf(),
            ledger_id,
            own,
            names: Default::default(),
            _registration: registration,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ledger's id: the entry id of its genesis statement.
    pub fn ledger_id(&self) -> EntryId {
        self.ledger_id
    }

    /// The signing domain of this ledger: statements are signed and verified bound to its id.
    pub fn domain(&self) -> super::dsse::Domain {
        super::dsse::Domain::of(&self.ledger_id)
    }

    /// This file's own log.
    pub fn own_origin(&self) -> &Origin {
        &self.own
    }

    /// Every log this file holds, the own first.
    pub fn origins(&self) -> Result<Vec<Origin>, LedgerError> {
        read_origins(&self.conn)
    }

    pub fn origin_by_name(&self, name: &str) -> Result<Origin, LedgerError> {
        self.origins()?.into_iter().find(|o| o.name == name).ok_or_else(|| LedgerError::UnknownOrigin(name.into()))
    }

    /// Number of leaves in `origin`'s log.
    pub fn size(&self, origin: &Origin) -> Result<u64, LedgerError> {
        log_size(&self.conn, origin.id)
    }

    /// SQLite's `data_version`: changes when another connection commits.
    pub fn data_version(&self) -> Result<i64, LedgerError> {
        Ok(self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// Appends `entries` to the own log in one transaction, serialized against every other writer, and
    /// signs a checkpoint of the new size with `origin_key`. With `expect_size`, refuses if the log is not
    /// exactly that long (another writer got in first).
    ///
    /// Refuses to extend a log that runs past its latest signed checkpoint (leaves this origin key did not
    /// sign over), and any entry stamped before the latest time this machine has seen (its own log and
    /// every mirror) or after `latest_ms` (the caller's clock plus the allowed skew). When the mirrors
    /// changed since the own log last recorded them, a `log.merged` marker naming each one's size and
    /// root is appended first, signed by the origin key (docs/FORMAT.md §2.2).
    ///
    /// The caller guarantees each statement's signature was made (or verified) by its actor.
    pub fn append(
        &mut self,
        entries: &[SignedStatement],
        expect_size: Option<u64>,
        origin_key: &SigningKey,
        latest_ms: i64,
    ) -> Result<AppendOutcome, LedgerError> {
        self.append_if(entries, expect_size, origin_key, latest_ms, &|_| Ok(()))
    }

    /// [`Ledger::append`], after `precondition` holds on the file inside the same write transaction: what
    /// the entries rely on that another process could take away between the caller's check and the
    /// write (the layers above: stored bytes an entry names). Refused with its error, nothing written.
    pub fn append_if(
        &mut self,
        entries: &[SignedStatement],
        expect_size: Option<u64>,
        origin_key: &SigningKey,
        latest_ms: i64,
        precondition: &dyn Fn(&Connection) -> Result<(), LedgerError>,
    ) -> Result<AppendOutcome, LedgerError> {
        let own = self.own.clone();
        let domain = self.domain();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        precondition(&tx)?;
        let out = append_in(&tx, &own, &domain, entries, expect_size, origin_key, latest_ms)?;
        tx.commit()?;
        Ok(out)
    }

    /// Size and root of every other origin's log this file holds (what a merge marker names).
    pub fn seen_now(&self) -> Result<Vec<(String, u64, Hash)>, LedgerError> {
        mirror_state(&self.conn, &self.own)
    }

    /// The latest statement time (milliseconds) over every log this file holds: the earliest time the
    /// next own entry may carry.
    pub fn time_floor_ms(&self) -> Result<i64, LedgerError> {
        time_floor(&self.conn)
    }

    /// The latest stored checkpoint of `origin`: its size and signed note text.
    pub fn latest_checkpoint(&self, origin: &Origin) -> Result<Option<(u64, String)>, LedgerError> {
        latest_checkpoint(&self.conn, origin.id)
    }

    /// Up to `limit` entries of `origin`'s log from index `from`, in log order.
    pub fn log_page(&self, origin: &Origin, from: u64, limit: u64) -> Result<Vec<LogRow>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ROW_COLUMNS} FROM leaves l CROSS JOIN entries e ON e.id = l.entry_id
              WHERE l.origin = ?1 AND l.idx >= ?2 ORDER BY l.idx LIMIT ?3"
        ))?;
        collect_rows(
            stmt.query(params![origin.id, from.min(i64::MAX as u64) as i64, limit.min(i64::MAX as u64) as i64])?,
            &mut self.names()?,
        )
    }

    /// Origin names by id, as cached (loaded when empty). Origins are only ever added, so a cached name
    /// never goes wrong; an id the cache does not know is looked up again through [`Names::get`].
    fn names(&self) -> Result<Names<'_>, LedgerError> {
        if self.names.borrow().is_empty() {
            self.reload_names()?;
        }
        Ok(Names { ledger: self, map: std::sync::Arc::clone(&self.names.borrow()) })
    }

    fn reload_names(&self) -> Result<std::sync::Arc<std::collections::HashMap<i64, String>>, LedgerError> {
        let map = std::sync::Arc::new(self.origins()?.into_iter().map(|o| (o.id, o.name)).collect());
        *self.names.borrow_mut() = std::sync::Arc::clone(&map);
        Ok(map)
    }

    /// Starts a read transaction on this connection, ended when the guard is dropped: a walk of many
    /// reads then sees one snapshot and takes SQLite's shared lock once instead of once per statement.
    /// Inside a transaction already, it does nothing.
    pub fn read_snapshot(&self) -> Result<ReadSnapshot<'_>, LedgerError> {
        if !self.conn.is_autocommit() {
            return Ok(ReadSnapshot { conn: None });
        }
        self.hold_snapshot()?;
        Ok(ReadSnapshot { conn: Some(&self.conn) })
    }

    /// Starts a read transaction that lasts as long as this connection (for a worker's own connection,
    /// opened to read the same snapshot as another: it sees at least what that one saw when it started).
    pub fn hold_snapshot(&self) -> Result<(), LedgerError> {
        if self.conn.is_autocommit() {
            self.conn.execute_batch("BEGIN")?;
            // The snapshot starts at the first read.
            self.conn.prepare_cached("SELECT COUNT(*) FROM meta")?.query_row([], |_| Ok(()))?;
        }
        Ok(())
    }

    /// Sets the page cache of this connection, in KiB (a walk over a large file keeps it small: the
    /// operating system's file cache holds the rest and does not count as the process's memory).
    pub fn set_cache_kib(&self, kib: i64) {
        let _ = self.conn.pragma_update(None, "cache_size", -kib);
    }

    /// Whether this connection copies the pages its commits wrote to the write-ahead log into the file
    /// (a checkpoint) after a commit and when it closes, as SQLite does by default (`true`), or leaves that
    /// to the next connection that commits (`false`). A commit is durable either way once the log is
    /// synced (`synchronous = FULL`); a checkpoint only moves pages. A large import leaves it: on a million
    /// entries it is 3 s of copying on one core after the last check, which the rebuild of the request
    /// index that follows in the background does instead (`index::catch_up`).
    pub fn checkpoint_here(&self, yes: bool) -> Result<(), LedgerError> {
        self.conn.pragma_update(None, "wal_autocheckpoint", if yes { 1000 } else { 0 })?;
        self.conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, !yes)?;
        Ok(())
    }

    /// Copies what the write-ahead log holds into the file as far as readers allow (`PASSIVE`: it never
    /// waits for them); a no-op outside WAL mode.
    pub fn checkpoint(&self) -> Result<(), LedgerError> {
        self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Folds the write-ahead log into the file whole, empties it, and closes the file: what a new file must
    /// be before it appears under its name, since only the file itself is linked there. A checkpoint that
    /// cannot finish (its disk full) is an error, where closing alone would leave pages in the log silently.
    pub fn close_whole(self) -> Result<(), LedgerError> {
        let (busy, log, moved): (i64, i64, i64) =
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        if busy != 0 || log != moved {
            return Err(LedgerError::Refused(format!(
                "its write-ahead log was not folded in whole ({moved} of {log} pages: a reader held it)"
            )));
        }
        Ok(())
    }

    /// How many stored entries are of `kind`.
    pub fn count_of_kind(&self, kind: &str) -> Result<u64, LedgerError> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM entries WHERE kind = ?1")?
            .query_row([kind], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Every entry of the given kinds, in every log, in union order.
    pub fn entries_of_kinds(&self, kinds: &[&str]) -> Result<Vec<LogRow>, LedgerError> {
        let mut out = Vec::new();
        self.visit_kinds(kinds, |r| {
            out.push(r);
            Ok::<(), LedgerError>(())
        })?;
        out.sort_by_key(|r| r.pos);
        Ok(out)
    }

    /// Calls `visit` with every entry of the given kinds, one at a time and in no particular order, each
    /// entry once (at its first position when several logs hold it): for walks over many entries that
    /// must not hold them all.
    pub fn visit_kinds<E: From<LedgerError>>(
        &self,
        kinds: &[&str],
        mut visit: impl FnMut(LogRow) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = format!("{ROW_COLUMNS} FROM entries e CROSS JOIN leaves l ON l.entry_id = e.id WHERE e.kind = ?1");
        for kind in kinds {
            self.visit_rows(&sql, params![kind], &mut visit)?;
        }
        Ok(())
    }

    /// Calls `visit` with each entry the query `sql` (its columns [`ROW_COLUMNS`], entries joined to their
    /// leaves, each entry's leaves one after another) finds with `args`, once, at its first position.
    pub(super) fn visit_rows<E: From<LedgerError>>(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
        visit: &mut impl FnMut(LogRow) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(LedgerError::from)?;
        let mut names = self.names()?;
        let mut rows = stmt.query(args).map_err(LedgerError::from)?;
        // The join visits each entry's leaves one after another: keep the first position of a run.
        let mut held: Option<LogRow> = None;
        while let Some(r) = rows.next().map_err(LedgerError::from)? {
            let row = log_row(r, &mut names)?;
            match &mut held {
                Some(h) if h.entry.id == row.entry.id => {
                    if row.pos < h.pos {
                        *h = row;
                    }
                }
                _ => {
                    if let Some(h) = held.replace(row) {
                        visit(h)?;
                    }
                }
            }
        }
        if let Some(h) = held {
            visit(h)?;
        }
        Ok(())
    }

    /// The first `limit` entries (by id) that several leaves hold, each with the leaves holding it (log name
    /// and index, sorted by the name's bytes, then index): what `verify` and the report name when an entry is
    /// not in one log only (one scan of the leaves' entry index; normally none).
    pub(crate) fn entries_in_several_leaves(
        &self,
        limit: usize,
    ) -> Result<Vec<(EntryId, Vec<LeafPlace>)>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.entry_id, o.name, l.idx FROM leaves l JOIN origins o ON o.id = l.origin
             WHERE l.entry_id IN (SELECT entry_id FROM leaves GROUP BY entry_id HAVING COUNT(*) > 1
                                  ORDER BY entry_id LIMIT ?1)
             ORDER BY l.entry_id",
        )?;
        let mut out: Vec<(EntryId, Vec<LeafPlace>)> = Vec::new();
        let mut rows = stmt.query(params![i64::try_from(limit).unwrap_or(i64::MAX)])?;
        while let Some(r) = rows.next()? {
            let id = Hash::from_slice(&r.get::<_, Vec<u8>>(0)?)
                .ok_or_else(|| LedgerError::Damaged("a leaf's entry id is not 32 bytes".into()))?;
            let place = (r.get::<_, String>(1)?, u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0));
            match out.last_mut() {
                Some((last, leaves)) if *last == id => leaves.push(place),
                _ => out.push((id, vec![place])),
            }
        }
        // Sorted here, not by SQL: the order is the evidence's (FORMAT.md §8.5), whatever the file's collation.
        for (_, leaves) in &mut out {
            leaves.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
        }
        Ok(out)
    }

    /// Of `ids`, those several leaves hold, each with its leaves (log name and index, in the order of
    /// [`Ledger::entries_in_several_leaves`]): one look-up of the leaves' entry index per id.
    pub(crate) fn several_leaves_of(&self, ids: &[EntryId]) -> Result<Vec<(EntryId, Vec<LeafPlace>)>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.name, l.idx FROM leaves l JOIN origins o ON o.id = l.origin WHERE l.entry_id = ?1",
        )?;
        let mut out = Vec::new();
        for id in ids {
            let mut leaves: Vec<LeafPlace> = stmt
                .query_map(params![id.0], |r| {
                    Ok((r.get::<_, String>(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
                })?
                .collect::<Result<_, _>>()?;
            if leaves.len() > 1 {
                leaves.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
                out.push((*id, leaves));
            }
        }
        Ok(out)
    }

    /// Entries that more than one log holds (one scan of the leaves' entry index; normally none), and how
    /// many leaves point at an entry an earlier leaf already points at: the number of distinct entries the
    /// leaves hold is the number of leaves less that (what [`super::verify::orphan_entries`] needs, without
    /// a second scan of the index).
    pub fn entries_in_several_logs(&self) -> Result<(std::collections::HashSet<EntryId>, u64), LedgerError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT entry_id, COUNT(*) FROM leaves GROUP BY entry_id HAVING COUNT(*) > 1")?;
        let ids = stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = std::collections::HashSet::new();
        let mut repeated = 0u64;
        for row in ids {
            let (id, count) = row?;
            repeated = repeated.saturating_add(u64::try_from(count - 1).unwrap_or(0));
            if let Some(id) = Hash::from_slice(&id) {
                out.insert(id);
            }
        }
        Ok((out, repeated))
    }

    /// Every leaf that holds an entry of `kind`, each as its own row (an entry several logs hold comes
    /// once per log), in no particular order. A row whose signature bytes are malformed is left out: it
    /// is no signed entry of this kind (`verify` names it).
    pub(crate) fn leaves_of_kind(&self, kind: &str) -> Result<Vec<LogRow>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ROW_COLUMNS} FROM entries e CROSS JOIN leaves l ON l.entry_id = e.id WHERE e.kind = ?1"
        ))?;
        let mut names = self.names()?;
        let mut out = Vec::new();
        let mut rows = stmt.query(params![kind])?;
        while let Some(r) = rows.next()? {
            match log_row(r, &mut names) {
                Ok(row) => out.push(row),
                Err(LedgerError::Damaged(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The ids of every entry of `kind` with their first position, in union order: what a caller that
    /// walks many entries needs up front, without holding their statements. A row whose statement does not
    /// hash to its stored id is no entry of this kind (`verify` names it) and is left out.
    pub fn ids_of_kind(&self, kind: &str) -> Result<Vec<(super::pos::Pos, EntryId)>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.id, e.statement, l.idx, l.origin, l.ets FROM entries e CROSS JOIN leaves l ON l.entry_id = e.id
              WHERE e.kind = ?1",
        )?;
        let mut names = self.names()?;
        let mut out = Vec::new();
        let mut rows = stmt.query(params![kind])?;
        while let Some(r) = rows.next()? {
            let id = r.get_ref(0)?.as_blob().ok().and_then(Hash::from_slice);
            let statement = r.get_ref(1)?.as_blob().unwrap_or_default();
            let Some(id) = id.filter(|id| *id == Hash::of(&[statement])) else { continue };
            let (idx, origin, ets): (i64, i64, i64) = (r.get(2)?, r.get(3)?, r.get(4)?);
            out.push((super::pos::pos(ets, names.get(origin)?, idx as u64), id));
        }
        out.sort_unstable();
        // An entry held by several logs counts once, at its first position.
        let mut seen = std::collections::HashSet::new();
        out.retain(|(_, id)| seen.insert(*id));
        Ok(out)
    }

    /// Up to `limit` entries stored after arrival number `after` (the entries table's rowid: the order rows
    /// arrived in this file, never renumbered, as nothing here vacuums), in that order, each with the first
    /// leaf that holds it. A row whose statement does not hash to its stored id, or whose signature bytes
    /// are malformed, comes back with `intact` false.
    pub fn entries_after(&self, after: i64, limit: u64) -> Result<Vec<Arrived>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid, id, statement, signature, actor, ts FROM entries WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        )?;
        let mut leaf = self.conn.prepare_cached(
            "SELECT l.origin, l.idx, l.ets FROM leaves l WHERE l.entry_id = ?1 ORDER BY l.ets, l.origin, l.idx LIMIT 1",
        )?;
        let mut names = self.names()?;
        let mut out = Vec::new();
        let mut rows = stmt.query(params![after, limit.min(i64::MAX as u64) as i64])?;
        while let Some(r) = rows.next()? {
            let stored: Vec<u8> = r.get(1)?;
            let bytes: Vec<u8> = r.get(2)?;
            let signature: Vec<u8> = r.get(3)?;
            let entry = SignedStatement::from_parts(bytes.clone(), &signature);
            let intact = entry.as_ref().is_some_and(|e| e.id.0.as_slice() == stored.as_slice());
            let entry = entry.unwrap_or(SignedStatement {
                id: Hash::from_slice(&stored).unwrap_or(Hash([0; 32])),
                bytes,
                signature: [0; 64],
            });
            let at: Option<(i64, i64, i64)> =
                leaf.query_row([&stored], |l| Ok((l.get(0)?, l.get(1)?, l.get(2)?))).optional()?;
            let leaf = match at {
                Some((origin, idx, ets)) => {
                    let name = names.get(origin)?.to_string();
                    let pos = super::pos::pos(ets, &name, idx as u64);
                    Some((name, idx as u64, pos))
                }
                None => None,
            };
            out.push(Arrived { seq: r.get(0)?, entry, intact, actor: r.get(4)?, ts: r.get(5)?, leaf });
        }
        Ok(out)
    }

    /// The entry `id`, in whichever log holds it.
    pub fn entry(&self, id: &EntryId) -> Result<Option<LogRow>, LedgerError> {
        Ok(self.entry_rows(id)?.into_iter().next())
    }

    /// Every leaf holding the entry `id` (one row per log that holds it), in union order.
    pub fn entry_rows(&self, id: &EntryId) -> Result<Vec<LogRow>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ROW_COLUMNS} FROM entries e CROSS JOIN leaves l ON l.entry_id = e.id WHERE e.id = ?1"
        ))?;
        let mut rows = collect_rows(stmt.query(params![id.0])?, &mut self.names()?)?;
        rows.sort_by_key(|r| r.pos);
        Ok(rows)
    }

    /// Every entry whose refs include `id`, in union order.
    pub fn entries_referencing(&self, id: &EntryId) -> Result<Vec<LogRow>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ROW_COLUMNS} FROM refs r CROSS JOIN entries e ON e.id = r.entry_id
               CROSS JOIN leaves l ON l.entry_id = e.id
              WHERE r.ref = ?1"
        ))?;
        let mut rows = collect_rows(stmt.query(params![id.0])?, &mut self.names()?)?;
        rows.sort_by_key(|r| r.pos);
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert(r.entry.id));
        Ok(rows)
    }

    /// The position the next entry of the own log would take if stamped at `ts` (RFC 3339).
    pub fn next_pos(&self, ts: &str) -> Result<super::pos::Pos, LedgerError> {
        let last: Option<(i64, i64)> = self
            .conn
            .query_row("SELECT idx, ets FROM leaves WHERE origin = ?1 ORDER BY idx DESC LIMIT 1", [self.own.id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (idx, ets) = match last {
            Some((i, e)) => ((i + 1) as u64, e.max(super::pos::ts_ms(ts))),
            None => (0, super::pos::ts_ms(ts)),
        };
        Ok(super::pos::pos(ets, &self.own.name, idx))
    }

    /// Entries of `kind` whose id starts with the hex `prefix` (at most `limit`).
    pub fn ids_with_prefix(&self, kind: &str, prefix: &str, limit: usize) -> Result<Vec<EntryId>, LedgerError> {
        let prefix = prefix.to_ascii_lowercase();
        if prefix.is_empty() || prefix.len() > 64 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Vec::new());
        }
        // The id range [low, high) of the prefix: pad with 0 / f and compare as blobs.
        let low = Hash::from_hex(&format!("{prefix:0<64}")).unwrap_or(Hash([0; 32]));
        let high = Hash::from_hex(&format!("{prefix:f<64}")).unwrap_or(Hash([0xff; 32]));
        let mut stmt =
            self.conn.prepare_cached("SELECT id FROM entries WHERE id >= ?1 AND id <= ?2 AND +kind = ?3 LIMIT ?4")?;
        let rows = stmt.query_map(params![low.0, high.0, kind, limit as i64], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for r in rows {
            if let Some(h) = Hash::from_slice(&r?) {
                out.push(h);
            }
        }
        Ok(out)
    }

    /// The connection, for the derived cache tables of the layers above in this crate (the request
    /// index, the search index, stored evidence): never the append-only ledger tables, which only this
    /// layer's typed queries read.
    pub(crate) fn cache_conn(&self) -> &Connection {
        &self.conn
    }

    /// The underlying connection, for the verifier in this layer.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// The columns of a log row (`l` = leaves, `e` = entries). Queries name their join order with CROSS JOIN
/// so SQLite starts from the selective index, never from a scan of the whole log.
pub(super) const ROW_COLUMNS: &str = "SELECT l.idx, e.statement, e.signature, e.kind, e.actor, e.ts, l.origin, l.ets";

/// Origin names for rows being read: the ledger's cache, looked up again for an origin added since.
struct Names<'l> {
    ledger: &'l Ledger,
    map: std::sync::Arc<std::collections::HashMap<i64, String>>,
}

impl Names<'_> {
    fn get(&mut self, origin: i64) -> Result<&str, LedgerError> {
        if !self.map.contains_key(&origin) {
            self.map = self.ledger.reload_names()?;
        }
        Ok(self.map.get(&origin).map(String::as_str).unwrap_or(""))
    }
}

fn collect_rows(mut rows: rusqlite::Rows<'_>, names: &mut Names<'_>) -> Result<Vec<LogRow>, LedgerError> {
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(log_row(r, names)?);
    }
    Ok(out)
}

/// A row of [`ROW_COLUMNS`].
fn log_row(r: &rusqlite::Row<'_>, names: &mut Names<'_>) -> Result<LogRow, LedgerError> {
    let idx: i64 = r.get(0)?;
    let statement: Vec<u8> = r.get(1)?;
    let signature: Vec<u8> = r.get(2)?;
    let origin: i64 = r.get(6)?;
    let ets: i64 = r.get(7)?;
    let entry = SignedStatement::from_parts(statement, &signature)
        .ok_or_else(|| LedgerError::Damaged(format!("entry at index {idx} has a malformed signature")))?;
    Ok(LogRow {
        index: idx as u64,
        pos: super::pos::pos(ets, names.get(origin)?, idx as u64),
        origin,
        entry,
        kind: r.get(3)?,
        actor: r.get(4)?,
        ts: r.get(5)?,
    })
}

pub(crate) fn read_origins(conn: &Connection) -> Result<Vec<Origin>, LedgerError> {
    let mut stmt = conn.prepare("SELECT id, name, public_key, own FROM origins ORDER BY own DESC, id")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, key, own) = row?;
        let key = PublicKey::parse(&key)
            .ok_or_else(|| LedgerError::Damaged(format!("origin {name:?} has an invalid public key")))?;
        out.push(Origin { id, name, key, own: own != 0 });
    }
    Ok(out)
}

pub(crate) fn log_size(conn: &Connection, origin: i64) -> Result<u64, LedgerError> {
    let n: i64 =
        conn.query_row("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves WHERE origin = ?1", [origin], |r| r.get(0))?;
    Ok(n as u64)
}

pub(crate) fn latest_checkpoint(conn: &Connection, origin: i64) -> Result<Option<(u64, String)>, LedgerError> {
    Ok(latest_checkpoint_row(conn, origin)?)
}

/// [`latest_checkpoint`] with SQLite's own error, for a caller that tells a file SQLite cannot read from
/// a row that is not what a row holds.
pub(crate) fn latest_checkpoint_row(conn: &Connection, origin: i64) -> rusqlite::Result<Option<(u64, String)>> {
    conn.query_row("SELECT size, note FROM checkpoints WHERE origin = ?1 ORDER BY size DESC LIMIT 1", [origin], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
    })
    .optional()
}

pub(crate) fn stored_hash(conn: &Connection, origin: i64, idx: u64) -> Result<Hash, LedgerError> {
    match stored_hash_row(conn, origin, idx)? {
        Some(b) => blob_hash(b, "tree hash"),
        None => Err(LedgerError::Damaged(format!("tree hash {idx} is missing"))),
    }
}

/// The stored bytes of tree hash `idx` of `origin`, with SQLite's own error (see [`latest_checkpoint_row`]).
pub(crate) fn stored_hash_row(conn: &Connection, origin: i64, idx: u64) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT hash FROM tree_hashes WHERE origin = ?1 AND idx = ?2")?
        .query_row(params![origin, idx as i64], |r| r.get(0))
        .optional()
}

/// Rebuilds the Merkle frontier of a log of `size` leaves from its stored subtree hashes.
pub(crate) fn load_frontier(conn: &Connection, origin: i64, size: u64) -> Result<Frontier, LedgerError> {
    let mut hashes = Vec::new();
    for (level, n) in frontier_positions(size) {
        hashes.push(stored_hash(conn, origin, stored_hash_index(level, n))?);
    }
    Frontier::from_parts(size, hashes).ok_or_else(|| LedgerError::Damaged("tree frontier is inconsistent".into()))
}

/// The latest effective time over every log of the file (0 when empty).
fn time_floor(conn: &Connection) -> Result<i64, LedgerError> {
    let mut floor = 0i64;
    for o in read_origins(conn)? {
        let ets: Option<i64> = conn
            .query_row("SELECT ets FROM leaves WHERE origin = ?1 ORDER BY idx DESC LIMIT 1", [o.id], |r| r.get(0))
            .optional()?;
        floor = floor.max(ets.unwrap_or(0));
    }
    Ok(floor)
}

/// What the own log last recorded of the mirrors (by name: size), from its latest merge marker.
fn recorded_seen(conn: &Connection, own: &Origin) -> Result<std::collections::BTreeMap<String, u64>, LedgerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.idx, e.statement FROM entries e CROSS JOIN leaves l ON l.entry_id = e.id
          WHERE e.kind IN (?1, ?2) AND l.origin = ?3 ORDER BY l.idx DESC LIMIT 1",
    )?;
    let row: Option<Vec<u8>> = stmt.query_row(params![MERGED_KIND, JOINED_KIND, own.id], |r| r.get(1)).optional()?;
    Ok(row.and_then(|b| seen_of(&b)).map(|s| s.into_iter().map(|(n, size, _)| (n, size)).collect()).unwrap_or_default())
}

/// The size and root of every mirror with at least one leaf.
pub(crate) fn mirror_state(conn: &Connection, own: &Origin) -> Result<Vec<(String, u64, Hash)>, LedgerError> {
    let mut out = Vec::new();
    for o in read_origins(conn)? {
        if o.id == own.id {
            continue;
        }
        let size = log_size(conn, o.id)?;
        if size > 0 {
            out.push((o.name.clone(), size, load_frontier(conn, o.id, size)?.root()));
        }
    }
    Ok(out)
}

fn append_in(
    tx: &Transaction<'_>,
    origin: &Origin,
    domain: &super::dsse::Domain,
    entries: &[SignedStatement],
    expect_size: Option<u64>,
    origin_key: &SigningKey,
    latest_ms: i64,
) -> Result<AppendOutcome, LedgerError> {
    if PublicKey::from_signing(origin_key) != origin.key {
        return Err(LedgerError::OriginKeyMismatch);
    }
    let size = log_size(tx, origin.id)?;
    if let Some(expected) = expect_size
        && expected != size
    {
        return Err(LedgerError::Conflict { expected, actual: size });
    }
    let mut writer = super::writer::LeafWriter::open(tx, origin.id, size, false)?;
    // Never extend a log past what its own signed checkpoints cover: a leaf after the latest checkpoint
    // was not written by this origin key, and signing a checkpoint over it would vouch for it.
    match latest_checkpoint(tx, origin.id)? {
        Some((cp_size, note)) => {
            if cp_size != size {
                return Err(LedgerError::Damaged(format!(
                    "the latest signed checkpoint covers {cp_size} entries but the own log has {size}; \
                     refusing to sign over entries this origin key did not write (run `rollcall verify`)"
                )));
            }
            let (cp, _) = Checkpoint::verify(&note, &origin.name, &origin.key)?;
            if cp.root != writer.root() {
                return Err(LedgerError::Damaged(
                    "the stored tree does not match the latest checkpoint; run `rollcall verify`".into(),
                ));
            }
        }
        None if size > 0 => {
            return Err(LedgerError::Damaged(format!(
                "the own log has {size} entries and no signed checkpoint; run `rollcall verify`"
            )));
        }
        None => {}
    }
    let floor = time_floor(tx)?;
    let mut keys = super::statement::KeyCache::default();
    let mut heads = Vec::with_capacity(entries.len());
    let mut prev_ms = floor;
    for e in entries {
        let head = super::statement::parse_head_with(&e.bytes, &mut keys)?;
        if Hash::of(&[&e.bytes]) != e.id {
            return Err(StatementError::Malformed("entry id does not match its bytes".into()).into());
        }
        let ms = super::pos::ts_ms(&head.ts);
        if ms < prev_ms {
            return Err(LedgerError::Time(format!(
                "entry stamped {} is earlier than entries this machine has already seen (latest {}); \
                 check the clock",
                head.ts,
                super::pos::format_ms(prev_ms)
            )));
        }
        if ms > latest_ms {
            return Err(LedgerError::Time(format!(
                "entry stamped {} is later than this machine's clock allows (at most {}); check the clock",
                head.ts,
                super::pos::format_ms(latest_ms)
            )));
        }
        prev_ms = ms;
        heads.push(head);
    }
    // Record what this log has seen of the others before anything it signs now.
    if let Some(first) = heads.first()
        && size > 0
    {
        let state = mirror_state(tx, origin)?;
        let recorded = recorded_seen(tx, origin)?;
        if state.iter().any(|(n, s, _)| recorded.get(n) != Some(s)) {
            let seen: Seen = state.iter().map(|(n, s, r)| (n.clone(), SeenPrefix::new(*s, r))).collect();
            let at = super::statement::parse_ts(&first.ts).ok_or_else(|| StatementError::Time(first.ts.clone()))?;
            let body =
                serde_json::to_value(MergedBody { seen }).map_err(|e| StatementError::Malformed(e.to_string()))?;
            let marker = super::Statement::new_at(MERGED_KIND, &origin.key, body, &[], at).sign(origin_key, domain)?;
            let head = super::statement::parse_head_with(&marker.bytes, &mut keys)?;
            writer.push(&marker, Some(&head))?;
        }
    }
    for (e, head) in entries.iter().zip(&heads) {
        writer.push(e, Some(head))?;
    }
    let first_index = writer.next_index() - entries.len() as u64;
    let new_size = writer.next_index();
    let root = writer.root();
    let note = Checkpoint { origin: origin.name.clone(), size: new_size, root }.sign(origin_key).serialize();
    tx.execute(
        "INSERT INTO checkpoints (origin, size, note) VALUES (?1, ?2, ?3)",
        params![origin.id, new_size as i64, note],
    )?;
    Ok(AppendOutcome { first_index, size: new_size, root, checkpoint: Some(note) })
}

/// A new, empty ledger file at `tmp` (which must not exist): created with mode 0600 before SQLite opens it
/// (SQLite gives its WAL and SHM files the database file's mode, and a hard link keeps it), the tables and
/// triggers created, in WAL mode. Its connection accepts `file:` URIs (to attach another file read-only).
pub(super) fn new_file(tmp: &Path) -> Result<Connection, LedgerError> {
    crate::paths::private_file_options()
        .create_new(true)
        .open(tmp)
        .map_err(|e| LedgerError::Io(tmp.to_path_buf(), e))?;
    let conn = Connection::open_with_flags(
        tmp,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    schema::create(&conn)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    configure(&conn)?;
    Ok(conn)
}

/// Makes the complete file `tmp` appear at `path` too; fails if `path` exists, or appeared meanwhile:
/// never clobbers.
pub(super) fn link_new(tmp: &Path, path: &Path) -> Result<(), LedgerError> {
    std::fs::hard_link(tmp, path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => LedgerError::AlreadyExists(path.to_path_buf()),
        _ => LedgerError::Io(path.to_path_buf(), e),
    })
}

/// The temporary name a new file at `path` is built under before it appears there (refused when `path`
/// exists): `.NAME.KIND-PID` beside it, its directory created private, and what a dead process's `KIND`
/// left there removed first.
pub(super) fn temp_beside(path: &Path, kind: &str) -> Result<PathBuf, LedgerError> {
    if path.exists() {
        return Err(LedgerError::AlreadyExists(path.to_path_buf()));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    crate::paths::create_private_dir(dir).map_err(|e| LedgerError::Io(dir.to_path_buf(), e))?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("ledger");
    remove_abandoned(dir, file_name, kind);
    Ok(dir.join(format!(".{file_name}.{kind}-{}", std::process::id())))
}

/// Removes the temporary file `tmp` and every file beside it named after it (`tmp` then `-` and anything:
/// SQLite's `-wal`, `-shm` and `-journal`, and what the layers above keep beside a ledger).
pub(super) fn remove_temporary(tmp: &Path) {
    let _ = std::fs::remove_file(tmp);
    let (Some(dir), Some(name)) = (tmp.parent(), tmp.file_name().and_then(|n| n.to_str())) else { return };
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_str().and_then(|n| n.strip_prefix(name)).is_some_and(|rest| rest.starts_with('-')) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Removes what a killed `create_with` (`kind` "init") or salvage (`kind` "salvage") of `file_name` left in
/// `dir` (`.NAME.KIND-PID` and its `-wal`, `-shm`, `-journal`, `-index.lock`, `-index.log`), when the process
/// PID is gone. Only where `/proc` says which processes run; a PID that is running (perhaps reused) keeps
/// its files.
fn remove_abandoned(dir: &Path, file_name: &str, kind: &str) {
    let proc_fs = Path::new("/proc/self");
    if !proc_fs.exists() {
        return;
    }
    let prefix = format!(".{file_name}.{kind}-");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else { continue };
        let pid = rest.split('-').next().unwrap_or_default();
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) || pid == std::process::id().to_string() {
            continue;
        }
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A new ledger file `l.db` in `dir` whose genesis (returned) is signed by the key of bytes `[7; 32]`.
#[cfg(test)]
pub(crate) fn test_ledger(dir: &Path) -> (PathBuf, SignedStatement) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let actor = PublicKey::from_signing(&key);
    let genesis = super::Statement::new("genesis", &actor, serde_json::json!({}), &[])
        .sign(&key, &super::dsse::Domain::genesis_only())
        .unwrap();
    let path = dir.join("l.db");
    drop(Ledger::create(&path, "test.example/a", &key, &genesis).unwrap());
    (path, genesis)
}

/// Appends to a ledger made by [`test_ledger`] an entry of `kind` with `body`, signed by its key and stamped
/// `ms` milliseconds after its `genesis`.
#[cfg(test)]
pub(crate) fn test_append(l: &mut Ledger, genesis: &SignedStatement, kind: &str, body: serde_json::Value, ms: i64) {
    test_append_by(l, genesis, [7; 32], kind, body, ms);
}

/// As [`test_append`], the statement signed by the key of `seed` (the log's own key signs the checkpoint).
#[cfg(test)]
pub(crate) fn test_append_by(
    l: &mut Ledger,
    genesis: &SignedStatement,
    seed: [u8; 32],
    kind: &str,
    body: serde_json::Value,
    ms: i64,
) {
    let (signer, key) = (SigningKey::from_bytes(&seed), SigningKey::from_bytes(&[7; 32]));
    let mut st = super::Statement::new(kind, &PublicKey::from_signing(&signer), body, &[]);
    st.ts = super::pos::format_ms(super::pos::ts_ms(&genesis.statement().unwrap().ts) + ms);
    l.append(&[st.sign(&signer, &l.domain()).unwrap()], None, &key, i64::MAX).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Statement;
    use crate::ledger::causal::Causality;
    use crate::ledger::pos::POS_MAX;

    fn note(key: &SigningKey, l: &Ledger, text: &str, ts: &str) -> SignedStatement {
        let mut st = Statement::new("note", &PublicKey::from_signing(key), serde_json::json!({ "text": text }), &[]);
        st.ts = ts.into();
        st.sign(key, &l.domain()).unwrap()
    }

    #[test]
    fn sqlite_keeps_each_connections_page_cache_apart() {
        // Built without SQLITE_ENABLE_MEMORY_MANAGEMENT (.cargo/config.toml): with it, every connection's
        // pages share one LRU list, and the readers `report` and `verify` run side by side evict each
        // other's pages (the root of the entries table was read again for almost every lookup).
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let mut stmt = c.prepare("PRAGMA compile_options").unwrap();
        let opts: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
        assert!(opts.iter().any(|o| o.starts_with("THREADSAFE=")), "{opts:?}");
        assert!(!opts.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "built with one page cache for all: {opts:?}");
    }

    #[test]
    fn a_connection_that_leaves_the_checkpoint_keeps_its_commits_in_the_log_until_another_writer() {
        let dir = tempfile::tempdir().unwrap();
        let (path, genesis) = test_ledger(dir.path());
        let key = SigningKey::from_bytes(&[7; 32]);
        let g_ms = super::super::pos::ts_ms(&genesis.statement().unwrap().ts);
        let wal = dir.path().join("l.db-wal");
        let append = |checkpoint: bool, text: &str, ms: i64| {
            let mut l = Ledger::open(&path).unwrap();
            l.checkpoint_here(checkpoint).unwrap();
            let st = note(&key, &l, text, &super::super::pos::format_ms(ms));
            l.append(&[st], None, &key, i64::MAX).unwrap();
            // The last connection closes here.
        };
        append(false, "left", g_ms + 1000);
        // Committed, and still only in the write-ahead log: nobody copied it into the file.
        assert!(std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0), "the log is kept");
        let l = Ledger::open_read_only(&path).unwrap();
        assert_eq!(l.size(l.own_origin()).unwrap(), 2, "the commit is there for every reader");
        drop(l);
        // A writer that checkpoints (the default) copies it and removes the log when it closes last.
        append(true, "next", g_ms + 2000);
        assert!(std::fs::metadata(&wal).is_err(), "the log is gone");
        let l = Ledger::open_read_only(&path).unwrap();
        assert_eq!(l.size(l.own_origin()).unwrap(), 3);
    }

    /// A file is closed whole only when its write-ahead log was folded in entirely: a reader holding an
    /// older snapshot keeps pages in the log, and closing then is refused, naming why (the new file a
    /// salvage built does not appear under its name with pages only in a log left behind).
    #[test]
    fn a_file_whose_log_a_reader_holds_is_not_closed_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (path, genesis) = test_ledger(dir.path());
        let key = SigningKey::from_bytes(&[7; 32]);
        let g_ms = super::super::pos::ts_ms(&genesis.statement().unwrap().ts);
        let reader = Connection::open(&path).unwrap();
        let mut l = Ledger::open(&path).unwrap();
        l.checkpoint_here(false).unwrap();
        reader.execute_batch("BEGIN; SELECT COUNT(*) FROM entries;").unwrap();
        let st = note(&key, &l, "held", &super::super::pos::format_ms(g_ms + 1000));
        l.append(&[st], None, &key, i64::MAX).unwrap();
        // Not waited for here (the handler would poll for half a minute): refused at once.
        l.conn.busy_handler(None).unwrap();
        match l.close_whole() {
            Err(LedgerError::Refused(why)) => assert!(why.contains("a reader held it"), "{why}"),
            other => panic!("closed with a reader holding the log: {other:?}"),
        }
        // Without the reader, the same file closes whole: its log is emptied.
        reader.execute_batch("COMMIT").unwrap();
        Ledger::open(&path).unwrap().close_whole().unwrap();
        let wal = dir.path().join("l.db-wal");
        assert!(std::fs::metadata(&wal).map_or(true, |m| m.len() == 0), "the log is folded in");
        drop(reader);
    }

    /// A new file appears under its name by a link that never clobbers: a name taken is said as such, any
    /// other failure of the link as a failure to reach that path, with the system's reason.
    #[test]
    fn a_link_that_fails_says_whether_the_name_was_taken_or_the_path_failed() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join(".tmp-new");
        std::fs::write(&tmp, b"complete").unwrap();
        let taken = dir.path().join("taken.db");
        std::fs::write(&taken, b"someone else's").unwrap();
        assert!(matches!(link_new(&tmp, &taken), Err(LedgerError::AlreadyExists(p)) if p == taken));
        assert_eq!(std::fs::read(&taken).unwrap(), b"someone else's", "never clobbered");
        let nowhere = dir.path().join("no-such-directory").join("l.db");
        match link_new(&tmp, &nowhere) {
            Err(LedgerError::Io(p, e)) => assert_eq!((p, e.kind()), (nowhere, std::io::ErrorKind::NotFound)),
            other => panic!("{other:?}"),
        }
        let fresh = dir.path().join("fresh.db");
        link_new(&tmp, &fresh).unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"complete");
    }

    #[test]
    fn append_refuses_times_before_the_log_or_past_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let (path, genesis) = test_ledger(dir.path());
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut l = Ledger::open(&path).unwrap();
        let g_ms = super::super::pos::ts_ms(&genesis.statement().unwrap().ts);
        let at = |ms: i64| super::super::pos::format_ms(ms);
        // Before the genesis: refused, nothing written.
        let early = note(&key, &l, "early", &at(g_ms - 1000));
        assert!(matches!(l.append(&[early], None, &key, i64::MAX), Err(LedgerError::Time(m)) if m.contains("earlier")));
        // Past the caller's bound: refused.
        let late = note(&key, &l, "late", &at(g_ms + 60_000));
        assert!(
            matches!(l.append(std::slice::from_ref(&late), None, &key, g_ms + 1000), Err(LedgerError::Time(m)) if m.contains("later"))
        );
        assert_eq!(l.size(&l.own_origin().clone()).unwrap(), 1);
        // Within both: written, and the floor moves with it.
        l.append(&[late], None, &key, g_ms + 60_000).unwrap();
        assert_eq!(l.time_floor_ms().unwrap(), g_ms + 60_000);
        // A batch whose own times go backwards is refused too.
        let a = note(&key, &l, "a", &at(g_ms + 70_000));
        let b = note(&key, &l, "b", &at(g_ms + 65_000));
        assert!(matches!(l.append(&[a, b], None, &key, i64::MAX), Err(LedgerError::Time(_))));
        assert_eq!(l.size(&l.own_origin().clone()).unwrap(), 2);
    }

    #[test]
    fn an_append_after_the_mirrors_changed_records_them_first() {
        let dir = tempfile::tempdir().unwrap();
        let (path, genesis) = test_ledger(dir.path());
        let key = SigningKey::from_bytes(&[7; 32]);
        let mirror_key = SigningKey::from_bytes(&[8; 32]);
        let mut l = Ledger::open(&path).unwrap();
        let g_ms = super::super::pos::ts_ms(&genesis.statement().unwrap().ts);
        let at = |ms: i64| super::super::pos::format_ms(ms);
        // A mirror of two leaves, as an import would store it.
        let m = {
            let mut tx = l.begin_import().unwrap();
            let o = tx.origin("test.example/m", &PublicKey::from_signing(&mirror_key)).unwrap();
            let mut w = tx.writer(&o, 0).unwrap();
            for i in 0..2 {
                let n = note(&key, &l, &format!("m{i}"), &at(g_ms + 10 + i));
                w.push(&n, Some(&n.check(&l.domain()).unwrap())).unwrap();
            }
            let root = w.root();
            drop(w);
            let cp = Checkpoint { origin: o.name.clone(), size: 2, root }.sign(&mirror_key).serialize();
            tx.add_checkpoint(&o, 2, &cp).unwrap();
            tx.commit().unwrap();
            o
        };
        let own = l.own_origin().clone();
        let out = l.append(&[note(&key, &l, "after", &at(g_ms + 100))], None, &key, i64::MAX).unwrap();
        // The marker took index 1, the note index 2, and both are under the new checkpoint.
        assert_eq!((out.first_index, out.size), (2, 3));
        let rows = l.log_page(&own, 1, 2).unwrap();
        assert_eq!(rows[0].kind, MERGED_KIND);
        assert_eq!(rows[0].actor, own.key.encode());
        assert_eq!(seen_of(&rows[0].entry.bytes).unwrap(), vec![(m.name.clone(), 2, l.root_at(&m, 2).unwrap())]);
        let c = Causality::load(&l).unwrap();
        let mirror_leaf = l.log_page(&m, 1, 1).unwrap()[0].pos;
        assert!(c.before(mirror_leaf, rows[1].pos), "the note follows the mirror's leaves");
        assert!(!c.before(rows[1].pos, mirror_leaf));
        assert!(c.before(rows[1].pos, POS_MAX));
        // Nothing changed since: the next append writes no marker.
        let out = l.append(&[note(&key, &l, "again", &at(g_ms + 200))], None, &key, i64::MAX).unwrap();
        assert_eq!((out.first_index, out.size), (3, 4));
        // The marker changed behind the ledger's back orders nothing: its leaf's effective time moved, its
        // signature broken, or its signature not even 64 bytes (each undone before the next).
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch("DROP TRIGGER leaves_no_update; DROP TRIGGER entries_no_update").unwrap();
        let marker = rows[0].entry.id.0.to_vec();
        let (ets, signature): (i64, Vec<u8>) = raw
            .query_row(
                "SELECT l.ets, e.signature FROM leaves l JOIN entries e ON e.id = l.entry_id WHERE e.id = ?1",
                [&marker],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        for change in [
            "UPDATE leaves SET ets = ets + 1 WHERE entry_id = ?1",
            "UPDATE entries SET signature = zeroblob(64) WHERE id = ?1",
            "UPDATE entries SET signature = x'00' WHERE id = ?1",
        ] {
            raw.execute(change, [&marker]).unwrap();
            assert!(
                !Causality::load(&l).unwrap().before(mirror_leaf, rows[1].pos),
                "{change}: the marker still counts"
            );
            raw.execute("UPDATE leaves SET ets = ?2 WHERE entry_id = ?1", rusqlite::params![marker, ets]).unwrap();
            raw.execute("UPDATE entries SET signature = ?2 WHERE id = ?1", rusqlite::params![marker, signature])
                .unwrap();
            assert!(Causality::load(&l).unwrap().before(mirror_leaf, rows[1].pos), "{change}: undone");
        }
    }
}
