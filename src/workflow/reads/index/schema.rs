//! The index's tables, its sort orders and its metadata (version, ledger, what it has seen).

use crate::ledger::Ledger;
use crate::workflow::error::WorkflowError;
use rusqlite::{OptionalExtension, params};

/// Bumped whenever what the index stores or how it is computed changes: a mismatch rebuilds it.
pub(super) const INDEX_VERSION: &str = "22";

pub(super) fn ensure(ledger: &Ledger) -> Result<(), rusqlite::Error> {
    ensure_in(ledger, "main")
}

/// Creates the index's tables in `schema`: `main` (the ledger file), or `temp` (this connection's private
/// temporary database, for a file this process must not write). Unqualified names find `temp` first, so
/// an index built there shadows the file's for this connection.
pub(super) fn ensure_in(ledger: &Ledger, schema: &str) -> Result<(), rusqlite::Error> {
    tables_in(ledger, schema)?;
    sort_indexes_in(ledger, schema)
}

/// The index's tables in `schema`, without the request index's sort orders.
pub(super) fn tables_in(ledger: &Ledger, schema: &str) -> Result<(), rusqlite::Error> {
    ledger.cache_conn().execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {schema}.index_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS {schema}.request_index (
             id BLOB PRIMARY KEY NOT NULL, pos TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,
             env TEXT NOT NULL, risk TEXT NOT NULL, tier TEXT NOT NULL, have INTEGER NOT NULL,
             need INTEGER NOT NULL, flags INTEGER NOT NULL, requester TEXT NOT NULL, created TEXT NOT NULL,
             recheck_at TEXT, obligation_due TEXT, urgency INTEGER NOT NULL, component TEXT NOT NULL,
             evidence_ok INTEGER NOT NULL, emergency INTEGER NOT NULL, waiver_ends TEXT, deployed_at TEXT,
             facts TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS {schema}.request_target (id BLOB NOT NULL, digest TEXT NOT NULL);
         CREATE VIRTUAL TABLE IF NOT EXISTS {schema}.search_fts USING fts5(entry_id UNINDEXED, kind UNINDEXED, text);"
    ))
}

/// The request index's sort orders (for the queue, `list` and its filters), each the queue's order for it
/// (`browse::QueueSort`, newest first within a value) so that a page is a scan in order, not a sort of every
/// request, and the flagged requests (few, and what a security review looks at first) on their own. A
/// rebuild creates them once its rows are in: sorting a finished table is much cheaper than keeping eleven
/// b-trees in order row by row. The queue's default order also holds every column its filters read
/// (`request_index_queue`), so a filter few requests match is checked in the index, not by reading each
/// request's row, and a count of a filter reads that index alone (660,000 requests: a page of a filter
/// nothing matches 0.7 → 0.2 s, its count 0.4 → 0.2 s). An index this version replaced is dropped
/// (`request_index_status` ran ascending by position, and the queue by status sorted every request under
/// it: 1.3 s for 660,000; `request_index_urgency` held the order alone, and goes only once its successor
/// is built).
pub(super) fn sort_indexes_in(ledger: &Ledger, schema: &str) -> Result<(), rusqlite::Error> {
    ledger.cache_conn().execute_batch(&format!(
        "DROP INDEX IF EXISTS {schema}.request_index_status;
         CREATE INDEX IF NOT EXISTS {schema}.request_index_queue
             ON request_index(urgency, pos DESC, status, env, tier, flags, component, title, id);
         DROP INDEX IF EXISTS {schema}.request_index_urgency;
         CREATE INDEX IF NOT EXISTS {schema}.request_index_pos ON request_index(pos);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_by_status ON request_index(status, pos DESC);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_by_risk ON request_index({RISK_RANK}, pos DESC);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_flagged ON request_index(urgency, pos DESC) WHERE flags > 0;
         CREATE INDEX IF NOT EXISTS {schema}.request_index_recheck ON request_index(recheck_at);
         CREATE INDEX IF NOT EXISTS {schema}.request_target_digest ON request_target(digest);
         CREATE INDEX IF NOT EXISTS {schema}.request_target_id ON request_target(id);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_due ON request_index(obligation_due);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_created ON request_index(created, id);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_title ON request_index(title, pos DESC);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_env ON request_index(env, pos DESC);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_requester ON request_index(requester, pos DESC);"
    ))
}

/// The queue's risk order, highest first, as SQL over the `tier` column: the index on it and the queue's
/// `ORDER BY` must be the same expression for SQLite to use one for the other.
pub(crate) const RISK_RANK: &str =
    "(CASE tier WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END)";

pub(super) fn meta(ledger: &Ledger, key: &str) -> Result<Option<String>, rusqlite::Error> {
    ledger.cache_conn().query_row("SELECT value FROM index_meta WHERE key = ?1", [key], |r| r.get(0)).optional()
}

pub(super) fn set_meta(ledger: &Ledger, key: &str, value: &str) -> Result<(), rusqlite::Error> {
    ledger
        .cache_conn()
        .execute("INSERT OR REPLACE INTO index_meta (key, value) VALUES (?1, ?2)", params![key, value])
        .map(|_| ())
}

/// A log and its size.
pub(super) type LogSize = (crate::ledger::Origin, u64);

/// Every log with its size, as this connection sees them now.
pub(super) fn log_sizes(ledger: &Ledger) -> Result<Vec<LogSize>, WorkflowError> {
    ledger.origins()?.into_iter().map(|o| Ok((o.clone(), ledger.size(&o)?))).collect()
}

/// The size of this ledger's own log among `sizes`.
pub(super) fn own_size(sizes: &[LogSize]) -> u64 {
    sizes.iter().find(|(o, _)| o.own).map(|(_, n)| *n).unwrap_or(0)
}

/// The sizes of the logs of other origins, as one string (`name=size,...`).
pub(super) fn foreign_sizes(sizes: &[LogSize]) -> String {
    sizes.iter().filter(|(o, _)| !o.own).map(|(o, n)| format!("{}={n}", o.name)).collect::<Vec<_>>().join(",")
}

/// The meta key under which the index records how much of a foreign log it has seen.
pub(super) fn foreign_key(o: &crate::ledger::Origin) -> String {
    format!("foreign_size:{}", o.id)
}

/// Records the size of every foreign log as seen by the index, `sizes` (both as one string and per log).
pub(super) fn set_foreign_meta(ledger: &Ledger, sizes: &[LogSize]) -> Result<(), WorkflowError> {
    for (o, size) in sizes.iter().filter(|(o, _)| !o.own) {
        set_meta(ledger, &foreign_key(o), &size.to_string())?;
    }
    set_meta(ledger, "foreign", &foreign_sizes(sizes))?;
    Ok(())
}
