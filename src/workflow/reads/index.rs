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
const INDEX_VERSION: &str = "8";

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
    let mut ins =
        ledger.cache_conn().prepare_cached("INSERT INTO search_fts (entry_id, kind, text) VALUES (?1, ?2, ?3)")?;
    for r in rows {
        // An unreadable entry has no searchable text (verify names it).
        let Ok(st) = r.entry.statement() else { continue };
        let text = searchable(&st.body);
        if !text.trim().is_empty() {
            ins.execute(params![r.entry.id.to_hex(), r.kind, text])?;
        }
    }
    Ok(())
}

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
    ledger.cache_conn().execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {schema}.index_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS {schema}.request_index (
             id BLOB PRIMARY KEY NOT NULL, pos TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,
             env TEXT NOT NULL, risk TEXT NOT NULL, tier TEXT NOT NULL, have INTEGER NOT NULL,
             need INTEGER NOT NULL, flags INTEGER NOT NULL, requester TEXT NOT NULL, created TEXT NOT NULL,
             recheck_at TEXT, obligation_due TEXT, urgency INTEGER NOT NULL, component TEXT NOT NULL,
             evidence_ok INTEGER NOT NULL, emergency INTEGER NOT NULL, deployed_at TEXT, facts TEXT NOT NULL);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_urgency ON request_index(urgency, pos DESC);
         CREATE VIRTUAL TABLE IF NOT EXISTS {schema}.search_fts USING fts5(entry_id UNINDEXED, kind UNINDEXED, text);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_pos ON request_index(pos);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_status ON request_index(status, pos);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_recheck ON request_index(recheck_at);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_due ON request_index(obligation_due);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_created ON request_index(created, id);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_title ON request_index(title, pos DESC);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_env ON request_index(env, pos DESC);
         CREATE INDEX IF NOT EXISTS {schema}.request_index_requester ON request_index(requester, pos DESC);"
    ))
}

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
    let view = match load_view_unchecked(ledger, snap, id) {
        // A stored statement that no longer hashes to its id (a tampered file): it is left out of the
        // index, and `verify` (and every report's header) names it.
        Err(WorkflowError::NotFound(_)) => return Ok(()),
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
    let urgency = urgency(eval.status.as_str(), &eval.tier, due.is_some());
    ledger.cache_conn().execute(
        "INSERT OR REPLACE INTO request_index
           (id, pos, title, status, env, risk, tier, have, need, flags, requester, created, recheck_at, obligation_due, urgency,
            component, evidence_ok, emergency, deployed_at, facts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        params![
            id.0,
            crate::ledger::pos::to_key(view.pos),
            r.title,
            eval.status.as_str(),
            r.env,
            r.risk.as_str(),
            eval.tier,
            eval.approvals.len() as i64,
            eval.need as i64,
            flags,
            snap.roster.display(&view.requester),
            format_ts(view.ts),
            recheck.map(format_ts),
            due.map(format_ts),
            urgency,
            r.components.first().cloned().unwrap_or_default(),
            eval.evidence_missing.is_empty() as i64,
            view.emergency.is_some() as i64,
            r.deployed_at.clone(),
            facts,
        ],
    )?;
    Ok(())
}

/// The sizes of the logs of other origins, as one string (`name=size,...`).
fn foreign_sizes(ledger: &Ledger) -> Result<String, WorkflowError> {
    let own = ledger.own_origin().id;
    let mut out = Vec::new();
    for o in ledger.origins()?.into_iter().filter(|o| o.id != own) {
        out.push(format!("{}={}", o.name, ledger.size(&o)?));
    }
    Ok(out.join(","))
}

/// Rebuilds the index from every entry.
pub fn rebuild(ledger: &Ledger, now: DateTime<Utc>) -> Result<usize, WorkflowError> {
    rebuild_in(ledger, now, "main")
}

/// Rebuilds the index in `schema` (see [`ensure_in`]).
fn rebuild_in(ledger: &Ledger, now: DateTime<Utc>, schema: &str) -> Result<usize, WorkflowError> {
    ledger.cache_conn().execute_batch(&format!(
        "DROP TABLE IF EXISTS {schema}.request_index; DROP TABLE IF EXISTS {schema}.search_fts;"
    ))?;
    ensure_in(ledger, schema)?;
    if schema == "main" {
        super::assess::ensure_indexes(ledger);
    }
    let tx = ledger.cache_conn().unchecked_transaction()?;
    // Every request is assessed: the memory of bad artifacts is read once, not asked per request.
    let snap = Snapshot::load(ledger)?.remember(ledger)?;
    let ids = all_requests(ledger)?;
    for (_, id) in &ids {
        upsert(ledger, &snap, id, now)?;
    }
    for origin in ledger.origins()? {
        let mut from = 0;
        loop {
            let page = ledger.log_page(&origin, from, 10_000)?;
            let Some(last) = page.last() else { break };
            from = last.index + 1;
            index_text(ledger, &page)?;
        }
    }
    set_meta(ledger, "foreign", &foreign_sizes(ledger)?)?;
    set_meta(ledger, "version", INDEX_VERSION)?;
    set_meta(ledger, "ledger_id", &ledger.ledger_id().to_hex())?;
    set_meta(ledger, "applied_size", &snap.size.to_string())?;
    tx.commit()?;
    Ok(ids.len())
}

/// For a ledger opened read-only (an auditor's console): when the file's index is missing, of another
/// version or ledger, or behind the logs, the index is built in this connection's temporary database
/// instead, where it shadows the file's; nothing is written to the file. An index that is current is used
/// as it is.
pub fn refresh_read_only(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    let current = (|| -> Result<bool, WorkflowError> {
        Ok(meta(ledger, "version")?.as_deref() == Some(INDEX_VERSION)
            && meta(ledger, "ledger_id")?.as_deref() == Some(&ledger.ledger_id().to_hex())
            && meta(ledger, "foreign")? == Some(foreign_sizes(ledger)?)
            && meta(ledger, "applied_size")?.and_then(|s| s.parse::<u64>().ok())
                >= Some(ledger.size(ledger.own_origin())?))
    })()
    .unwrap_or(false);
    if current {
        return Ok(());
    }
    rebuild_in(ledger, now, "temp").map(|_| ())
}

/// Brings the index up to the end of the log, and recomputes rows whose status time alone may have
/// changed. Read-only ledgers are left as they are (see [`refresh_read_only`]).
pub fn refresh(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    // Entries of other origins arrive only by import, in bulk: any change there rebuilds.
    let current = meta(ledger, "version").ok().flatten().as_deref() == Some(INDEX_VERSION)
        && meta(ledger, "ledger_id").ok().flatten().as_deref() == Some(&ledger.ledger_id().to_hex())
        && meta(ledger, "foreign").ok().flatten() == Some(foreign_sizes(ledger)?);
    if !current {
        return match rebuild(ledger, now) {
            Err(WorkflowError::Ledger(crate::ledger::LedgerError::Sqlite(e)))
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) =>
            {
                Ok(()) // a read-only file: readers use whatever index it has
            }
            other => other.map(|_| ()),
        };
    }
    if ensure(ledger).is_err() {
        return Ok(());
    }
    let applied: u64 = meta(ledger, "applied_size")?.and_then(|s| s.parse().ok()).unwrap_or(0);
    let size = ledger.size(ledger.own_origin())?;
    let now_s = format_ts(now);
    let stale: Vec<Vec<u8>> = {
        let mut stmt = ledger
            .cache_conn()
            .prepare("SELECT id FROM request_index WHERE recheck_at IS NOT NULL AND recheck_at <= ?1")?;
        stmt.query_map([&now_s], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    if applied >= size && stale.is_empty() {
        return Ok(());
    }
    // One transaction for the new entries' search text and the rows they change (a commit per entry
    // cost 0.4 ms each: 40 s after a 100,000-revision ingest).
    let tx = ledger.cache_conn().unchecked_transaction()?;
    let mut affected = BTreeSet::new();
    let mut governance = false;
    let mut from = applied;
    while from < size {
        let page = ledger.log_page(ledger.own_origin(), from, 10_000)?;
        if page.is_empty() {
            break;
        }
        index_text(ledger, &page)?;
        for row in &page {
            if row.kind == REQUESTED {
                affected.insert(row.entry.id);
            } else if REQUEST_KINDS.contains(&row.kind.as_str()) {
                let f = fact_of(row)?;
                let req = f
                    .body
                    .get("request")
                    .or_else(|| f.body.get("on"))
                    .and_then(|v| v.as_str())
                    .and_then(Hash::from_hex);
                if let Some(r) = req {
                    affected.insert(r);
                }
            } else if GOVERNANCE_KINDS.contains(&row.kind.as_str()) {
                governance = true;
            }
        }
        from = page.last().map(|r| r.index + 1).unwrap_or(size);
    }
    if governance {
        // A role change, revocation or new policy can change any request's status: the rebuild indexes
        // every entry's text again, so what was added above is dropped with the transaction.
        drop(tx);
        rebuild(ledger, now)?;
        return Ok(());
    }
    affected.extend(stale.iter().filter_map(|b| Hash::from_slice(b)));
    let snap = Snapshot::load(ledger)?;
    for id in &affected {
        // Only ids that are requests of this ledger (a note may name anything).
        if ledger.entry(id)?.is_some_and(|r| r.kind == REQUESTED) {
            upsert(ledger, &snap, id, now)?;
        }
    }
    set_meta(ledger, "applied_size", &size.to_string())?;
    tx.commit()?;
    Ok(())
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
