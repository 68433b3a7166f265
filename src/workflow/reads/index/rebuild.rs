//! Rebuilding the index from every entry, in steps a waiting writer can pass between; in a temporary
//! database for a file this process may not write.

use super::rows::compute_and_store;
use super::schema::{INDEX_VERSION, log_sizes, set_foreign_meta, set_meta, sort_indexes_in, tables_in};
use super::text::index_all_text;
use crate::ledger::Ledger;
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::state::{Snapshot, all_requests};
use chrono::{DateTime, Utc};

/// Rebuilds the index in `schema` (see [`ensure_in`]).
pub(super) fn rebuild_in(ledger: &Ledger, now: DateTime<Utc>, schema: &str) -> Result<usize, WorkflowError> {
    // The writer keeps a larger page cache while it fills the index's b-trees (they are written all over),
    // and gives it back after.
    let cache: i64 = ledger.cache_conn().query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap_or(-2000);
    ledger.set_cache_kib(REBUILD_CACHE_KIB);
    let built = build_in(ledger, now, schema);
    let _ = ledger.cache_conn().pragma_update(None, "cache_size", cache);
    built
}

/// The writer's page cache during a rebuild, in KiB.
pub(super) const REBUILD_CACHE_KIB: i64 = 32 * 1024;

/// Rows (or search texts) a rebuild of the file's index writes between two commits: another writer (an
/// approval, an append, an import) waits at most one step for the file, never the whole rebuild.
pub(super) const STEP_ROWS: usize = 20_000;

/// The pause between two steps of a rebuild, for a waiting writer to go first (five of its tries).
pub(super) const STEP_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

/// A rebuild's writes. In the ledger file they commit every [`STEP_ROWS`] rows (an index half built says
/// so: it has no version until its last step, and the next upkeep starts again); in a connection's private
/// temporary database nobody else waits, and they are one transaction.
pub(super) struct Steps<'l> {
    ledger: &'l Ledger,
    stepped: bool,
    written: usize,
    open: bool,
}

impl<'l> Steps<'l> {
    fn begin(ledger: &'l Ledger, stepped: bool) -> Result<Steps<'l>, WorkflowError> {
        ledger.cache_conn().execute_batch(if stepped { "BEGIN IMMEDIATE" } else { "BEGIN" })?;
        Ok(Steps { ledger, stepped, written: 0, open: true })
    }

    /// One more row written: commits when a step is full.
    fn wrote(&mut self) -> Result<(), WorkflowError> {
        self.written += 1;
        if self.written % STEP_ROWS == 0 {
            self.boundary()?;
        }
        Ok(())
    }

    /// Commits what is written so far (in the ledger file), leaves a writer that waits for the file the
    /// time to take it (every connection tries again each millisecond: `ledger::store`'s busy handler),
    /// and goes on in a new transaction, after that writer's.
    fn boundary(&mut self) -> Result<(), WorkflowError> {
        if self.stepped {
            self.open = false;
            self.ledger.cache_conn().execute_batch("COMMIT")?;
            std::thread::sleep(STEP_PAUSE);
            self.ledger.cache_conn().execute_batch("BEGIN IMMEDIATE")?;
            self.open = true;
        }
        Ok(())
    }

    fn commit(mut self) -> Result<(), WorkflowError> {
        self.open = false;
        self.ledger.cache_conn().execute_batch("COMMIT")?;
        Ok(())
    }
}

impl Drop for Steps<'_> {
    fn drop(&mut self) {
        // Also when a COMMIT failed and left its transaction open (a full disk): the connection must not
        // stay inside it.
        if self.open || !self.ledger.cache_conn().is_autocommit() {
            let _ = self.ledger.cache_conn().execute_batch("ROLLBACK");
        }
    }
}

pub(super) fn build_in(ledger: &Ledger, now: DateTime<Utc>, schema: &str) -> Result<usize, WorkflowError> {
    if schema == "main" {
        crate::workflow::reads::assess::ensure_indexes(ledger);
    }
    // What the rebuild covers is fixed first, in one read transaction and without the write lock (on a
    // million entries this takes seconds): the logs as they stand now, and every request in them, each
    // assessed against the memory of bad artifacts read once. Entries appended later are the catch-up's.
    let (snap, ids, sizes) = {
        let read = ledger.cache_conn().unchecked_transaction()?;
        let snap = Snapshot::load(ledger)?.remember(ledger)?;
        let ids = all_requests(ledger)?;
        let sizes = log_sizes(ledger)?;
        read.commit()?;
        (snap, ids, sizes)
    };
    let mut steps = Steps::begin(ledger, schema == "main")?;
    ledger.cache_conn().execute_batch(&format!(
        "DROP TABLE IF EXISTS {schema}.request_index; DROP TABLE IF EXISTS {schema}.request_target;
         DROP TABLE IF EXISTS {schema}.search_fts;"
    ))?;
    tables_in(ledger, schema)?;
    ledger.cache_conn().execute(&format!("DELETE FROM {schema}.index_meta"), [])?;
    steps.boundary()?;
    let mut step = || steps.wrote();
    compute_and_store(ledger, &snap, &ids, now, true, &mut step)?;
    steps.boundary()?;
    sort_indexes_in(ledger, schema)?;
    steps.boundary()?;
    index_all_text(ledger, &sizes, &mut || steps.wrote())?;
    set_foreign_meta(ledger, &sizes)?;
    set_meta(ledger, "version", INDEX_VERSION)?;
    set_meta(ledger, "ledger_id", &ledger.ledger_id().to_hex())?;
    set_meta(ledger, "applied_size", &snap.size.to_string())?;
    steps.commit()?;
    Ok(ids.len())
}

pub(super) fn rebuild_unless_read_only_locked(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    match rebuild_in(ledger, now, "main") {
        Err(WorkflowError::Ledger(crate::ledger::LedgerError::Sqlite(e)))
            if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) =>
        {
            Ok(())
        }
        other => other.map(|_| ()),
    }
}
