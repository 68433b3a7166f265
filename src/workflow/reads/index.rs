//! The request index: a cache table with one row per request (title, status, environment, risk, approvals
//! have/need, earliest obligation) so that `list` and the TUI's queue answer instantly on large ledgers.
//! It is derived from the entries, caught up incrementally from the log position it last saw, recomputed
//! where time alone can change a status, and rebuilt from scratch by `rollcall rebuild`. `show` and `gate`
//! never read it.

use super::state::{Snapshot, all_requests, evaluate_now, fact_of, load_view_unchecked};
use crate::audit::kinds::{REQUEST_KINDS, REQUESTED};
use crate::audit::projection::Status;
use crate::identity::kinds::GOVERNANCE_KINDS;
use crate::ledger::statement::format_ts;
use crate::ledger::{EntryId, Hash, Ledger};
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use std::collections::BTreeSet;

/// Bumped whenever what the index stores or how it is computed changes: a mismatch rebuilds it.
const INDEX_VERSION: &str = "9";

/// Filters for `list` and the queue: a status, environment, risk tier, only flagged, at most this many.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub status: Option<Status>,
    pub env: Option<String>,
    pub risk: Option<String>,
    pub flagged: bool,
    pub limit: Option<usize>,
}

/// How urgent a request is for the queue (lower first): an open obligation, then emergencies, requests
/// ready to run, pending by risk tier, and the rest.
fn urgency(status: &str, tier: &str, has_obligation: bool) -> i64 {
    if has_obligation && !matches!(status, "closed" | "withdrawn") {
        return 0;
    }
    match (status, tier) {
        ("emergency" | "review-due", _) => 1,
        ("approved", _) => 2,
        ("pending", "critical") => 3,
        ("pending", "high") => 4,
        ("pending", "medium") => 5,
        ("pending", _) => 6,
        ("rejected", _) => 7,
        _ => 9,
    }
}

/// The searchable text of a statement body: its string values, minus ids, keys and digests.
pub(crate) fn searchable(body: &serde_json::Value) -> String {
    fn walk(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                let id_like = (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())) || s.starts_with("ed25519:");
                if !id_like && s.len() < 8000 {
                    out.push_str(s);
                    out.push(' ');
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    if k != "toml" && k != "argv" {
                        walk(x, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = String::new();
    walk(body, &mut out);
    out
}

fn index_text(ledger: &Ledger, rows: &[crate::ledger::LogRow]) -> Result<(), WorkflowError> {
    for r in rows {
        insert_text(ledger, text_of(r))?;
    }
    Ok(())
}

/// An entry's row of the search index: (entry id, kind, text); `None` when it has no searchable text (an
/// unreadable entry has none: verify names it).
type TextRow = Option<(String, String, String)>;

fn text_of(r: &crate::ledger::LogRow) -> TextRow {
    let st = r.entry.statement().ok()?;
    let text = searchable(&st.body);
    (!text.trim().is_empty()).then(|| (r.entry.id.to_hex(), r.kind.clone(), text))
}

fn insert_text(ledger: &Ledger, row: TextRow) -> Result<(), WorkflowError> {
    if let Some((id, kind, text)) = row {
        ledger
            .cache_conn()
            .prepare_cached("INSERT INTO search_fts (entry_id, kind, text) VALUES (?1, ?2, ?3)")?
            .execute(params![id, kind, text])?;
    }
    Ok(())
}

/// Indexes the text of every entry of every log up to `sizes` (each log's size when the rebuild began:
/// entries appended since are the catch-up's), in log order, calling `step` after each text stored. Beside
/// a writer in WAL mode, one thread per core (`ROLLCALL_VERIFY_THREADS`) reads a stretch of a log on a
/// connection of its own and parses its statements, and the caller only inserts the text; otherwise the
/// caller reads the logs and the threads parse.
fn index_all_text(
    ledger: &Ledger,
    sizes: &[LogSize],
    step: &mut dyn FnMut() -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    let stopped = |e: crate::ledger::pipeline::Stopped| WorkflowError::Usage(format!("the search index: {e}"));
    let threads = crate::ledger::pipeline::threads();
    let mut stretches = Vec::new();
    for (origin, size) in sizes {
        let size = *size;
        stretches.extend(
            (0..size).step_by(TEXT_STRETCH as usize).map(|from| (origin.clone(), from, TEXT_STRETCH.min(size - from))),
        );
    }
    let readers = readers(ledger, threads, stretches.len() * TEXT_STRETCH as usize);
    if !readers.is_empty() {
        let limits = crate::ledger::pipeline::Limits { batch: 1, batch_bytes: usize::MAX, in_flight: 2 * threads };
        let read = |_: &mut crate::ledger::statement::KeyCache,
                    r: &mut Reader,
                    (origin, from, count): (crate::ledger::Origin, u64, u64)|
         -> Result<Vec<TextRow>, WorkflowError> {
            Ok(r.ledger.log_page(&origin, from, count)?.iter().map(text_of).collect())
        };
        return crate::ledger::pipeline::run(limits, readers, read, |pipe| -> Result<(), WorkflowError> {
            let mut take = |rows: Result<Vec<TextRow>, WorkflowError>| -> Result<(), WorkflowError> {
                rows?.into_iter().try_for_each(|row| {
                    insert_text(ledger, row)?;
                    step()
                })
            };
            for stretch in stretches {
                if pipe.push(stretch, 0).map_err(stopped)? {
                    while let Some(rows) = pipe.ready().map_err(stopped)? {
                        take(rows)?;
                    }
                }
            }
            while let Some(rows) = pipe.wait().map_err(stopped)? {
                take(rows)?;
            }
            Ok(())
        });
    }
    let limits = crate::ledger::pipeline::Limits { batch: 512, batch_bytes: usize::MAX, in_flight: 2 * threads };
    let parse = |_: &mut crate::ledger::statement::KeyCache, _: &mut (), row: crate::ledger::LogRow| text_of(&row);
    crate::ledger::pipeline::run(limits, vec![(); threads.max(1)], parse, |pipe| -> Result<(), WorkflowError> {
        let mut take = |text: TextRow| -> Result<(), WorkflowError> {
            insert_text(ledger, text)?;
            step()
        };
        for (origin, size) in sizes {
            let mut from = 0;
            while from < *size {
                let page = ledger.log_page(origin, from, (*size - from).min(10_000))?;
                let Some(last) = page.last() else { break };
                from = last.index + 1;
                for row in page {
                    if pipe.push(row, 0).map_err(stopped)? {
                        while let Some(text) = pipe.ready().map_err(stopped)? {
                            take(text)?;
                        }
                    }
                }
            }
        }
        while let Some(text) = pipe.wait().map_err(stopped)? {
            take(text)?;
        }
        Ok(())
    })
}

/// Entries a reading thread indexes the text of at a time.
const TEXT_STRETCH: u64 = 512;

/// One row of `list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub id: EntryId,
    pub pos: crate::ledger::Pos,
    pub title: String,
    pub status: String,
    pub env: String,
    pub risk: String,
    pub tier: String,
    pub have: u32,
    pub need: u32,
    pub flags: u32,
    pub requester: String,
    pub created: String,
    pub obligation_due: Option<DateTime<Utc>>,
    pub overdue: bool,
}

fn ensure(ledger: &Ledger) -> Result<(), rusqlite::Error> {
    ensure_in(ledger, "main")
}

/// Creates the index's tables in `schema`: `main` (the ledger file), or `temp` (this connection's private
/// temporary database, for a file this process must not write). Unqualified names find `temp` first, so
/// an index built there shadows the file's for this connection.
fn ensure_in(ledger: &Ledger, schema: &str) -> Result<(), rusqlite::Error> {
    tables_in(ledger, schema)?;
    sort_indexes_in(ledger, schema)
}

/// The index's tables in `schema`, without the request index's sort orders.
fn tables_in(ledger: &Ledger, schema: &str) -> Result<(), rusqlite::Error> {
    ledger.cache_conn().execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {schema}.index_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS {schema}.request_index (
             id BLOB PRIMARY KEY NOT NULL, pos TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,
             env TEXT NOT NULL, risk TEXT NOT NULL, tier TEXT NOT NULL, have INTEGER NOT NULL,
             need INTEGER NOT NULL, flags INTEGER NOT NULL, requester TEXT NOT NULL, created TEXT NOT NULL,
             recheck_at TEXT, obligation_due TEXT, urgency INTEGER NOT NULL, component TEXT NOT NULL,
             evidence_ok INTEGER NOT NULL, emergency INTEGER NOT NULL, deployed_at TEXT, facts TEXT NOT NULL);
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
fn sort_indexes_in(ledger: &Ledger, schema: &str) -> Result<(), rusqlite::Error> {
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

fn meta(ledger: &Ledger, key: &str) -> Result<Option<String>, rusqlite::Error> {
    ledger.cache_conn().query_row("SELECT value FROM index_meta WHERE key = ?1", [key], |r| r.get(0)).optional()
}

fn set_meta(ledger: &Ledger, key: &str, value: &str) -> Result<(), rusqlite::Error> {
    ledger
        .cache_conn()
        .execute("INSERT OR REPLACE INTO index_meta (key, value) VALUES (?1, ?2)", params![key, value])
        .map(|_| ())
}

/// Recomputes and stores the row of request `id`.
fn upsert(ledger: &Ledger, snap: &Snapshot, id: &EntryId, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    match computed(ledger, snap, id, now)? {
        Some(row) => store(ledger, &row),
        None => Ok(()),
    }
}

/// A request's row of the index, computed and not yet stored.
struct IndexRow {
    id: EntryId,
    pos: String,
    title: String,
    status: &'static str,
    env: String,
    risk: &'static str,
    tier: String,
    have: i64,
    need: i64,
    flags: i64,
    requester: String,
    created: String,
    recheck_at: Option<String>,
    obligation_due: Option<String>,
    urgency: i64,
    component: String,
    evidence_ok: bool,
    emergency: bool,
    deployed_at: Option<String>,
    facts: String,
}

/// The row of request `id` as it stands at `now`; `None` for a request left out of the index.
fn computed(
    ledger: &Ledger,
    snap: &Snapshot,
    id: &EntryId,
    now: DateTime<Utc>,
) -> Result<Option<IndexRow>, WorkflowError> {
    let view = match load_view_unchecked(ledger, snap, id) {
        // A stored statement that no longer hashes to its id (a tampered file): it is left out of the
        // index, and `verify` (and every report's header) names it.
        Err(WorkflowError::NotFound(_)) => return Ok(None),
        other => other?,
    };
    let judged = evaluate_now(ledger, &view, snap, now)?;
    let facts = serde_json::to_string(&super::facts::facts_of(&view, &judged))?;
    let eval = judged.eval;
    let flags = judged.assessment.flags.len() as i64;
    let (_, policy) = snap.policies.current();
    let recheck = if policy.approvals.expiry_hours > 0 {
        eval.decisions
            .iter()
            .filter(|d| d.excluded.is_none() && d.decision == crate::audit::bodies::Decision::Approve)
            .map(|d| d.ts + chrono::Duration::hours(policy.approvals.expiry_hours as i64))
            .min()
    } else {
        None
    };
    let due = view.obligations(now).iter().map(|o| o.due).min();
    let r = view.record();
    Ok(Some(IndexRow {
        id: *id,
        pos: crate::ledger::pos::to_key(view.pos),
        title: r.title.clone(),
        status: eval.status.as_str(),
        env: r.env.clone(),
        risk: r.risk.as_str(),
        tier: eval.tier.clone(),
        have: eval.approvals.len() as i64,
        need: eval.need as i64,
        flags,
        requester: snap.roster.display(&view.requester),
        created: format_ts(view.ts),
        recheck_at: recheck.map(format_ts),
        obligation_due: due.map(format_ts),
        urgency: urgency(eval.status.as_str(), &eval.tier, due.is_some()),
        component: r.components.first().cloned().unwrap_or_default(),
        evidence_ok: eval.evidence_missing.is_empty(),
        emergency: view.emergency.is_some(),
        deployed_at: r.deployed_at.clone(),
        facts,
    }))
}

/// Stores a computed row on the ledger's own connection (inside the caller's transaction).
fn store(ledger: &Ledger, row: &IndexRow) -> Result<(), WorkflowError> {
    ledger
        .cache_conn()
        .prepare_cached(
            "INSERT OR REPLACE INTO request_index
               (id, pos, title, status, env, risk, tier, have, need, flags, requester, created, recheck_at,
                obligation_due, urgency, component, evidence_ok, emergency, deployed_at, facts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        )?
        .execute(params![
            row.id.0,
            row.pos,
            row.title,
            row.status,
            row.env,
            row.risk,
            row.tier,
            row.have,
            row.need,
            row.flags,
            row.requester,
            row.created,
            row.recheck_at,
            row.obligation_due,
            row.urgency,
            row.component,
            row.evidence_ok as i64,
            row.emergency as i64,
            row.deployed_at,
            row.facts,
        ])?;
    Ok(())
}

/// Whether other connections may read the ledger while this one writes (WAL mode). A ledger file being
/// created is written by its one connection alone (`Ledger::create_with`, outside WAL): readers opened
/// beside it would wait for its lock.
fn readable_beside(ledger: &Ledger) -> bool {
    ledger
        .cache_conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
        .is_ok_and(|mode| mode.eq_ignore_ascii_case("wal"))
}

/// A reading connection of a rebuild's own, with the snapshot it computes rows from.
struct Reader {
    ledger: Ledger,
    snap: Option<Snapshot>,
}

/// Rows computed (and text read) beside the writer when a rebuild has at least this many of them.
const PARALLEL_FROM: usize = 1_000;

/// One reading connection per thread for `jobs` jobs of a rebuild (opened after the caller's transaction
/// started: each sees at least what that sees, as the entries only grow); none when they cannot be opened,
/// one thread is allowed, there are few jobs, or the file is being created and only its writer may read it.
fn readers(ledger: &Ledger, threads: usize, jobs: usize) -> Vec<Reader> {
    if threads < 2 || jobs < PARALLEL_FROM || !readable_beside(ledger) {
        return Vec::new();
    }
    let open = || -> Result<Reader, crate::ledger::LedgerError> {
        let l = Ledger::open_read_only(ledger.path())?;
        l.set_cache_kib(4 * 1024);
        l.hold_snapshot()?;
        Ok(Reader { ledger: l, snap: None })
    };
    (0..threads).map(|_| open()).collect::<Result<Vec<_>, _>>().unwrap_or_default()
}

/// Computes the rows of `ids` on one thread per core (`ROLLCALL_VERIFY_THREADS`), each reading the ledger
/// on a connection of its own ([`readers`]), and stores them in order on the caller's connection, calling
/// `step` after each row. Without such connections the caller computes every row itself.
fn compute_and_store(
    ledger: &Ledger,
    snap: &Snapshot,
    ids: &[(crate::ledger::Pos, EntryId)],
    now: DateTime<Utc>,
    step: &mut dyn FnMut() -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    let threads = crate::ledger::pipeline::threads();
    let readers = readers(ledger, threads, ids.len());
    if readers.is_empty() {
        for (_, id) in ids {
            upsert(ledger, snap, id, now)?;
            step()?;
        }
        return Ok(());
    }
    let limits = crate::ledger::pipeline::Limits { batch: 256, batch_bytes: usize::MAX, in_flight: 2 * threads };
    let compute = |_: &mut crate::ledger::statement::KeyCache, r: &mut Reader, id: EntryId| {
        if r.snap.is_none() {
            r.snap = Some(Snapshot::load(&r.ledger)?.remember(&r.ledger)?);
        }
        let snap = r.snap.as_ref().ok_or_else(|| WorkflowError::NotFound("no snapshot".into()))?;
        computed(&r.ledger, snap, &id, now)
    };
    crate::ledger::pipeline::run(limits, readers, compute, |pipe| -> Result<(), WorkflowError> {
        let stopped = |e: crate::ledger::pipeline::Stopped| WorkflowError::Usage(format!("the request index: {e}"));
        let mut take = |row: Result<Option<IndexRow>, WorkflowError>| match row? {
            Some(row) => {
                store(ledger, &row)?;
                step()
            }
            None => Ok(()),
        };
        for (_, id) in ids {
            if pipe.push(*id, 0).map_err(stopped)? {
                while let Some(row) = pipe.ready().map_err(stopped)? {
                    take(row)?;
                }
            }
        }
        while let Some(row) = pipe.wait().map_err(stopped)? {
            take(row)?;
        }
        Ok(())
    })
}

/// A log and its size.
type LogSize = (crate::ledger::Origin, u64);

/// Every log with its size, as this connection sees them now.
fn log_sizes(ledger: &Ledger) -> Result<Vec<LogSize>, WorkflowError> {
    ledger.origins()?.into_iter().map(|o| Ok((o.clone(), ledger.size(&o)?))).collect()
}

/// The size of this ledger's own log among `sizes`.
fn own_size(sizes: &[LogSize]) -> u64 {
    sizes.iter().find(|(o, _)| o.own).map(|(_, n)| *n).unwrap_or(0)
}

/// The sizes of the logs of other origins, as one string (`name=size,...`).
fn foreign_sizes(sizes: &[LogSize]) -> String {
    sizes.iter().filter(|(o, _)| !o.own).map(|(o, n)| format!("{}={n}", o.name)).collect::<Vec<_>>().join(",")
}

/// Rebuilds the index from every entry, then catches up what was appended while it was built. Waits for
/// an upkeep another process has under way (see [`super::index_lock`]).
pub fn rebuild(ledger: &Ledger, now: DateTime<Utc>) -> Result<usize, WorkflowError> {
    let _lock = super::index_lock::exclusive(ledger.path());
    let n = rebuild_in(ledger, now, "main")?;
    refresh_locked(ledger, now, None)?;
    Ok(n)
}

/// Rebuilds the index in `schema` (see [`ensure_in`]).
fn rebuild_in(ledger: &Ledger, now: DateTime<Utc>, schema: &str) -> Result<usize, WorkflowError> {
    // The writer keeps a larger page cache while it fills the index's b-trees (they are written all over),
    // and gives it back after.
    let cache: i64 = ledger.cache_conn().query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap_or(-2000);
    ledger.set_cache_kib(REBUILD_CACHE_KIB);
    let built = build_in(ledger, now, schema);
    let _ = ledger.cache_conn().pragma_update(None, "cache_size", cache);
    built
}

/// The writer's page cache during a rebuild, in KiB.
const REBUILD_CACHE_KIB: i64 = 32 * 1024;

/// Rows (or search texts) a rebuild of the file's index writes between two commits: another writer (an
/// approval, an append, an import) waits at most one step for the file, never the whole rebuild.
const STEP_ROWS: usize = 20_000;

/// The pause between two steps of a rebuild, for a waiting writer to go first (five of its tries).
const STEP_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

/// A rebuild's writes. In the ledger file they commit every [`STEP_ROWS`] rows (an index half built says
/// so: it has no version until its last step, and the next upkeep starts again); in a connection's private
/// temporary database nobody else waits, and they are one transaction.
struct Steps<'l> {
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

fn build_in(ledger: &Ledger, now: DateTime<Utc>, schema: &str) -> Result<usize, WorkflowError> {
    if schema == "main" {
        super::assess::ensure_indexes(ledger);
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
        "DROP TABLE IF EXISTS {schema}.request_index; DROP TABLE IF EXISTS {schema}.search_fts;"
    ))?;
    tables_in(ledger, schema)?;
    ledger.cache_conn().execute(&format!("DELETE FROM {schema}.index_meta"), [])?;
    steps.boundary()?;
    let mut step = || steps.wrote();
    compute_and_store(ledger, &snap, &ids, now, &mut step)?;
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

/// For a ledger opened read-only (an auditor's console): when the file's index is missing, of another
/// version or ledger, or behind the logs, the index is built in this connection's temporary database
/// instead, where it shadows the file's; nothing is written to the file. An index that is current is used
/// as it is. An upkeep under way in another process is waited for first (it may make the file's current).
pub fn refresh_read_only(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    let current = {
        let _waited = super::index_lock::shared(ledger.path());
        (|| -> Result<bool, WorkflowError> {
            Ok(meta(ledger, "version")?.as_deref() == Some(INDEX_VERSION)
                && meta(ledger, "ledger_id")?.as_deref() == Some(&ledger.ledger_id().to_hex())
                && {
                    let sizes = log_sizes(ledger)?;
                    meta(ledger, "foreign")? == Some(foreign_sizes(&sizes))
                        && meta(ledger, "applied_size")?.and_then(|s| s.parse::<u64>().ok()) >= Some(own_size(&sizes))
                })
        })()
        .unwrap_or(false)
    };
    if current {
        return Ok(());
    }
    rebuild_in(ledger, now, "temp").map(|_| ())
}

/// How an upkeep of the index ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upkeep {
    /// The index covers every log.
    Current,
    /// It needs a rebuild from every entry, left to a process of its own ([`refresh_or_defer`]).
    Deferred,
}

/// Logs at least this large (all entries together) have a rebuild the caller may leave to the background
/// ([`refresh_or_defer`]); `ROLLCALL_INDEX_BACKGROUND_FROM` sets another threshold.
const BACKGROUND_FROM: u64 = 20_000;

fn background_from() -> u64 {
    std::env::var("ROLLCALL_INDEX_BACKGROUND_FROM").ok().and_then(|s| s.parse().ok()).unwrap_or(BACKGROUND_FROM)
}

/// Brings the index up to the end of every log, and recomputes rows whose status time alone may have
/// changed. Read-only ledgers are left as they are (see [`refresh_read_only`]). Waits for an upkeep another
/// process has under way (see [`super::index_lock`]).
///
/// Entries that arrived since the index last saw a log — appended here, or imported from another machine —
/// add their text and recompute the rows of the requests they name. A governance entry among them (a role,
/// key or policy change can change any request's status), an index of another version or ledger, or new
/// entries that are more than half of all, rebuild the index instead.
pub fn refresh(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    let _lock = super::index_lock::exclusive(ledger.path());
    refresh_locked(ledger, now, None).map(|_| ())
}

/// As [`refresh`], except that a rebuild from every entry of a ledger of at least [`BACKGROUND_FROM`]
/// entries is not done but reported ([`Upkeep::Deferred`]): an import or a join returns as soon as its
/// entries are committed, and the command line starts `rollcall rebuild --if-behind` in the background.
/// Until that is done, a reader that needs the index waits for it, or does the rebuild itself. When
/// another process is keeping the index at that moment (the rebuild an earlier import left), nothing is
/// waited for either: the upkeep is reported deferred, and the catch-up started in the background waits
/// for that process, then adds what this import brought.
pub fn refresh_or_defer(ledger: &Ledger, now: DateTime<Utc>) -> Result<Upkeep, WorkflowError> {
    let Some(_lock) = super::index_lock::exclusive_if_free(ledger.path()) else { return Ok(Upkeep::Deferred) };
    refresh_locked(ledger, now, Some(background_from()))
}

/// What `rollcall rebuild --if-behind` does (the background catch-up after a large import): [`refresh`],
/// then a checkpoint of the write-ahead log, which the import left to it (`Ledger::checkpoint_here`) and
/// which a connection that stays open elsewhere (a console, `log --follow`) would otherwise never get.
pub fn catch_up(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    refresh(ledger, now)?;
    ledger.checkpoint()?;
    Ok(())
}

/// As [`refresh`] when no other upkeep is under way; otherwise nothing (that upkeep, or the next reader's
/// refresh, catches up what this process appended). A write never waits for an index. In a process that
/// called [`defer_rebuilds`], a rebuild of a large ledger (a governance entry appended to it) is deferred
/// as [`refresh_or_defer`] defers it, and the ledger is named by [`take_deferred`].
pub(crate) fn refresh_if_free(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    let Some(_lock) = super::index_lock::exclusive_if_free(ledger.path()) else { return Ok(()) };
    let defer = DEFER_REBUILDS.load(std::sync::atomic::Ordering::Relaxed).then(background_from);
    if refresh_locked(ledger, now, defer)? == Upkeep::Deferred {
        DEFERRED.lock().unwrap_or_else(|e| e.into_inner()).push(ledger.path().to_path_buf());
    }
    Ok(())
}

/// Whether writes in this process leave a rebuild of a large ledger's index ([`refresh_if_free`]).
static DEFER_REBUILDS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The ledgers whose rebuild a write of this process left.
static DEFERRED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// From now on, a write in this process that needs a rebuild of a large ledger's index leaves it, and
/// [`take_deferred`] names the ledger: the command line, which starts the rebuild in the background once
/// the command is done. (The console does not: its worker brings the index up to date off the screen.)
pub fn defer_rebuilds() {
    DEFER_REBUILDS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The ledgers whose rebuild a write left since the last call, each once.
pub fn take_deferred() -> Vec<std::path::PathBuf> {
    let mut out = std::mem::take(&mut *DEFERRED.lock().unwrap_or_else(|e| e.into_inner()));
    out.dedup();
    out
}

/// [`refresh`] with the upkeep lock held; a rebuild of a ledger of at least `defer_from` entries is left.
/// After a rebuild, one more pass adds what was appended while it ran (writers that found the lock held
/// left their entries to it).
fn refresh_locked(ledger: &Ledger, now: DateTime<Utc>, defer_from: Option<u64>) -> Result<Upkeep, WorkflowError> {
    match refresh_pass(ledger, now, defer_from)? {
        Pass::Rebuilt => refresh_pass(ledger, now, None).map(|_| Upkeep::Current),
        Pass::Done(upkeep) => Ok(upkeep),
    }
}

/// What one pass of [`refresh_locked`] did.
enum Pass {
    Done(Upkeep),
    /// It rebuilt the index from every entry (up to the logs' sizes when the rebuild began).
    Rebuilt,
}

fn refresh_pass(ledger: &Ledger, now: DateTime<Utc>, defer_from: Option<u64>) -> Result<Pass, WorkflowError> {
    let rebuild_or_defer = |total: u64| -> Result<Pass, WorkflowError> {
        if defer_from.is_some_and(|from| total >= from) {
            return Ok(Pass::Done(Upkeep::Deferred));
        }
        rebuild_unless_read_only_locked(ledger, now)?;
        Ok(Pass::Rebuilt)
    };
    // Every size this pass works to, read once: what it records as seen is exactly what it indexed (an
    // import committed while it runs stays ahead of the index, for the next pass).
    let sizes = log_sizes(ledger)?;
    let total: u64 = sizes.iter().map(|(_, n)| n).sum();
    let same = meta(ledger, "version").ok().flatten().as_deref() == Some(INDEX_VERSION)
        && meta(ledger, "ledger_id").ok().flatten().as_deref() == Some(&ledger.ledger_id().to_hex());
    let foreign = if !same {
        None
    } else if meta(ledger, "foreign").ok().flatten() == Some(foreign_sizes(&sizes)) {
        Some(Vec::new())
    } else {
        foreign_behind(ledger, &sizes)?
    };
    let Some(foreign) = foreign else { return rebuild_or_defer(total) };
    // A file this process may not write keeps the index it has (as a rebuild does: its readers use it);
    // any other failure to make the index's tables and orders (the disk full, the file busy) is said, not
    // taken for an index that is current: the entries behind it would not be applied.
    match ensure(ledger) {
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) => {
            return Ok(Pass::Done(Upkeep::Current));
        }
        r => r?,
    }
    let applied: u64 = meta(ledger, "applied_size")?.and_then(|s| s.parse().ok()).unwrap_or(0);
    let own = ledger.own_origin().clone();
    let size = own_size(&sizes);
    let now_s = format_ts(now);
    let stale: Vec<Vec<u8>> = {
        let mut stmt = ledger
            .cache_conn()
            .prepare("SELECT id FROM request_index WHERE recheck_at IS NOT NULL AND recheck_at <= ?1")?;
        stmt.query_map([&now_s], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    let mut behind = foreign;
    if applied < size {
        behind.push((own, applied, size));
    }
    if behind.is_empty() && stale.is_empty() {
        return Ok(Pass::Done(Upkeep::Current));
    }
    let new: u64 = behind.iter().map(|(_, from, to)| to - from).sum();
    if new >= PARALLEL_FROM as u64 && new > total / 2 {
        return rebuild_or_defer(total);
    }
    // One transaction for the new entries' search text and the rows they change (a commit per entry
    // cost 0.4 ms each: 40 s after a 100,000-revision ingest).
    let tx = ledger.cache_conn().unchecked_transaction()?;
    let mut affected = BTreeSet::new();
    for (origin, from, to) in &behind {
        if !note_entries(ledger, origin, *from, *to, &mut affected)? {
            // Every entry's text is indexed again: what was added above goes with the transaction.
            drop(tx);
            return rebuild_or_defer(total);
        }
    }
    affected.extend(stale.iter().filter_map(|b| Hash::from_slice(b)));
    let mut requests = Vec::new();
    for id in &affected {
        // Only ids that are requests of this ledger (a note may name anything).
        if let Some(row) = ledger.entry(id)?.filter(|r| r.kind == REQUESTED) {
            requests.push((row.pos, *id));
        }
    }
    let snap = Snapshot::load(ledger)?;
    compute_and_store(ledger, &snap, &requests, now, &mut || Ok(()))?;
    set_meta(ledger, "applied_size", &size.to_string())?;
    set_foreign_meta(ledger, &sizes)?;
    tx.commit()?;
    Ok(Pass::Done(Upkeep::Current))
}

/// Rebuilds the index, unless the file is read-only: its readers then use whatever index it has.
pub(crate) fn rebuild_unless_read_only(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    let _lock = super::index_lock::exclusive(ledger.path());
    rebuild_unless_read_only_locked(ledger, now)
}

fn rebuild_unless_read_only_locked(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    match rebuild_in(ledger, now, "main") {
        Err(WorkflowError::Ledger(crate::ledger::LedgerError::Sqlite(e)))
            if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) =>
        {
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

/// A log with entries the index has not seen: (origin, first unseen index, size).
type Behind = (crate::ledger::Origin, u64, u64);

/// The logs of other origins with entries the index has not seen. `None` when the index's record of them
/// does not fit the logs (only a rebuild can tell what it holds).
fn foreign_behind(ledger: &Ledger, sizes: &[LogSize]) -> Result<Option<Vec<Behind>>, WorkflowError> {
    let mut out = Vec::new();
    for (o, size) in sizes.iter().filter(|(o, _)| !o.own) {
        let (o, size) = (o.clone(), *size);
        // A log the index has no record of is new to it: it was never imported before.
        let seen = match meta(ledger, &foreign_key(&o))? {
            Some(s) => match s.parse::<u64>() {
                Ok(n) => n,
                Err(_) => return Ok(None),
            },
            None => 0,
        };
        if seen > size {
            return Ok(None);
        }
        if seen < size {
            out.push((o, seen, size));
        }
    }
    Ok(Some(out))
}

/// The meta key under which the index records how much of a foreign log it has seen.
fn foreign_key(o: &crate::ledger::Origin) -> String {
    format!("foreign_size:{}", o.id)
}

/// Records the size of every foreign log as seen by the index, `sizes` (both as one string and per log).
fn set_foreign_meta(ledger: &Ledger, sizes: &[LogSize]) -> Result<(), WorkflowError> {
    for (o, size) in sizes.iter().filter(|(o, _)| !o.own) {
        set_meta(ledger, &foreign_key(o), &size.to_string())?;
    }
    set_meta(ledger, "foreign", &foreign_sizes(sizes))?;
    Ok(())
}

/// Indexes the text of entries `from..to` of `origin`'s log and adds the requests they name to
/// `affected`. False when one of them is a governance entry (the caller rebuilds).
fn note_entries(
    ledger: &Ledger,
    origin: &crate::ledger::Origin,
    mut from: u64,
    to: u64,
    affected: &mut BTreeSet<EntryId>,
) -> Result<bool, WorkflowError> {
    while from < to {
        let page = ledger.log_page(origin, from, (to - from).min(10_000))?;
        if page.is_empty() {
            break;
        }
        index_text(ledger, &page)?;
        for row in &page {
            if row.kind == REQUESTED {
                affected.insert(row.entry.id);
            } else if REQUEST_KINDS.contains(&row.kind.as_str()) {
                let f = fact_of(row)?;
                let req = super::state::request_named(&f.body);
                if let Some(r) = req {
                    affected.insert(r);
                }
            } else if GOVERNANCE_KINDS.contains(&row.kind.as_str()) {
                return Ok(false);
            }
        }
        from = page.last().map(|r| r.index + 1).unwrap_or(to);
    }
    Ok(true)
}

/// Rows matching `filter`, most recent first.
pub fn query(ledger: &Ledger, filter: &Filter) -> Result<Vec<Row>, WorkflowError> {
    let mut out = Vec::new();
    query_each(ledger, filter, |r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// Calls `visit` with each row matching `filter`, most recent first, one at a time: a listing of any
/// length in bounded memory.
pub(crate) fn query_each(
    ledger: &Ledger,
    filter: &Filter,
    mut visit: impl FnMut(Row) -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    let mut sql = String::from(
        "SELECT id, pos, title, status, env, risk, tier, have, need, flags, requester, created, obligation_due
           FROM request_index WHERE 1 = 1",
    );
    let mut args: Vec<String> = Vec::new();
    if let Some(s) = filter.status {
        args.push(s.as_str().to_string());
        sql.push_str(&format!(" AND status = ?{}", args.len()));
    }
    if let Some(e) = &filter.env {
        args.push(e.clone());
        sql.push_str(&format!(" AND env = ?{}", args.len()));
    }
    if let Some(r) = &filter.risk {
        args.push(r.clone());
        sql.push_str(&format!(" AND tier = ?{}", args.len()));
    }
    if filter.flagged {
        sql.push_str(" AND flags > 0");
    }
    sql.push_str(" ORDER BY pos DESC");
    if let Some(l) = filter.limit {
        sql.push_str(&format!(" LIMIT {l}"));
    }
    let now = crate::workflow::clock::now();
    let mut stmt = ledger.cache_conn().prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
        let due: Option<String> = r.get(12)?;
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, i64>(8)?,
            r.get::<_, i64>(9)?,
            r.get::<_, String>(10)?,
            r.get::<_, String>(11)?,
            due,
        ))
    })?;
    for row in rows {
        let (id, pos, title, status, env, risk, tier, have, need, flags, requester, created, due) = row?;
        let due = due.as_deref().and_then(crate::audit::record::parse_time);
        visit(Row {
            id: Hash::from_slice(&id).unwrap_or(Hash([0; 32])),
            pos: crate::ledger::pos::from_key(&pos).unwrap_or(0),
            title,
            status,
            env,
            risk,
            tier,
            have: have as u32,
            need: need as u32,
            flags: flags as u32,
            requester,
            created,
            obligation_due: due,
            overdue: due.is_some_and(|d| d < now),
        })?;
    }
    Ok(())
}

/// Requests that carry an open obligation.
pub(crate) fn with_obligations(ledger: &Ledger) -> Result<Vec<EntryId>, WorkflowError> {
    let mut stmt = ledger.cache_conn().prepare("SELECT id FROM request_index WHERE obligation_due IS NOT NULL")?;
    let ids = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for id in ids {
        out.extend(Hash::from_slice(&id?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_computed_beside_the_writer_only_in_wal_mode() {
        // A join builds its ledger outside WAL, on one connection holding the file: readers beside it would
        // wait on its lock for as long as the rebuild runs.
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = crate::ledger::store::test_ledger(dir.path());
        let l = Ledger::open(&path).unwrap();
        assert!(readable_beside(&l));
        let mode: String = l.cache_conn().query_row("PRAGMA journal_mode = MEMORY", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "memory");
        assert!(!readable_beside(&l));
    }

    /// A refresh that cannot make the index's tables and sort orders on a file it may write (here another
    /// connection holds the write lock while the queue's order must be built) fails, saying why, instead of
    /// calling the index current with entries behind it; once the file is free the next refresh applies
    /// them.
    #[test]
    fn a_refresh_that_cannot_make_the_index_fails_instead_of_calling_it_current() {
        let dir = tempfile::tempdir().unwrap();
        let (path, genesis) = crate::ledger::store::test_ledger(dir.path());
        let mut l = Ledger::open(&path).unwrap();
        let now = crate::workflow::clock::now();
        refresh(&l, now).unwrap();
        let applied = |l: &Ledger| meta(l, "applied_size").unwrap().and_then(|s| s.parse::<u64>().ok());
        assert_eq!(applied(&l), Some(1));
        // An entry behind the index, and the queue's order to build again.
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let mut st = crate::ledger::Statement::new(
            "note",
            &crate::ledger::PublicKey::from_signing(&key),
            serde_json::json!({ "text": "behind" }),
            &[],
        );
        st.ts = crate::ledger::pos::format_ms(crate::ledger::pos::ts_ms(&genesis.statement().unwrap().ts) + 1000);
        l.append(&[st.sign(&key, &l.domain()).unwrap()], None, &key, i64::MAX).unwrap();
        l.cache_conn().execute_batch("DROP INDEX request_index_queue").unwrap();
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer.execute_batch("BEGIN IMMEDIATE").unwrap();
        // Not waited for (the handler would poll for half a minute): busy at once.
        l.cache_conn().busy_handler(None).unwrap();
        let e = refresh(&l, now).unwrap_err();
        assert!(matches!(e, WorkflowError::Ledger(crate::ledger::LedgerError::Busy)), "{e:?}");
        assert_eq!(applied(&l), Some(1), "nothing applied, nothing said to be");
        writer.execute_batch("COMMIT").unwrap();
        refresh(&l, now).unwrap();
        assert_eq!(applied(&l), Some(2));
    }

    /// A request index built by an earlier version (the queue's order in `request_index_urgency`, the order
    /// alone) gets `request_index_queue`, which holds the filters' columns, on its next refresh, and the
    /// index it replaces goes.
    #[test]
    fn a_refresh_replaces_the_queue_orders_earlier_index() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = crate::ledger::store::test_ledger(dir.path());
        let l = Ledger::open(&path).unwrap();
        let now = crate::workflow::clock::now();
        refresh(&l, now).unwrap();
        let indexes = |l: &Ledger| -> Vec<String> {
            let mut stmt = l
                .cache_conn()
                .prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'request_index_%' ORDER BY name",
                )
                .unwrap();
            stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
        };
        assert!(indexes(&l).contains(&"request_index_queue".to_string()), "{:?}", indexes(&l));
        l.cache_conn()
            .execute_batch(
                "DROP INDEX request_index_queue; CREATE INDEX request_index_urgency ON request_index(urgency, pos DESC);",
            )
            .unwrap();
        refresh(&l, now).unwrap();
        let after = indexes(&l);
        assert!(
            after.contains(&"request_index_queue".to_string()) && !after.contains(&"request_index_urgency".to_string()),
            "{after:?}"
        );
    }
}
