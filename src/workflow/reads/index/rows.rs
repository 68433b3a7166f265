//! One request's row of the index: computed from its folded state and stored, beside the writer on
//! threads of their own when there are many.

use crate::ledger::statement::format_ts;
use crate::ledger::{EntryId, Ledger};
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::state::{Snapshot, evaluate_now, load_view_unchecked};
use chrono::{DateTime, Utc};
use rusqlite::params;

/// How urgent a request is for the queue (lower first): an open obligation, then emergencies, requests
/// ready to run, pending by risk tier, and the rest.
pub(super) fn urgency(status: &str, tier: &str, has_obligation: bool) -> i64 {
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

/// The status a request is ranked by in the queue: its own, except after a run that did not succeed
/// (*failed*), when it is open again and ranks as an open request in the same state (ready to run again,
/// rejected, or waiting for approvals).
fn queue_status(eval: &crate::policy::evaluate::Evaluation) -> &'static str {
    if eval.status != crate::audit::projection::Status::Failed {
        eval.status.as_str()
    } else if eval.gate {
        "approved"
    } else if eval.rejected() {
        "rejected"
    } else {
        "pending"
    }
}

/// Recomputes and stores the row of request `id` (`fresh`: into tables a rebuild is filling, which hold
/// no row of it yet).
pub(super) fn upsert(
    ledger: &Ledger,
    snap: &Snapshot,
    id: &EntryId,
    now: DateTime<Utc>,
    fresh: bool,
) -> Result<(), WorkflowError> {
    put(ledger, id, computed(ledger, snap, id, now)?.as_ref(), fresh)
}

/// Stores request `id`'s computed row; when it is left out now (gone from the file, or its statement no
/// longer hashes to its id), the rows it had go too (none when `fresh`: the tables are being filled).
fn put(ledger: &Ledger, id: &EntryId, row: Option<&IndexRow>, fresh: bool) -> Result<(), WorkflowError> {
    match row {
        Some(row) => store(ledger, row, fresh),
        None if fresh => Ok(()),
        None => {
            let conn = ledger.cache_conn();
            conn.prepare_cached("DELETE FROM request_index WHERE id = ?1")?.execute([id.0])?;
            conn.prepare_cached("DELETE FROM request_target WHERE id = ?1")?.execute([id.0])?;
            Ok(())
        }
    }
}

/// A request's row of the index, computed and not yet stored.
pub(super) struct IndexRow {
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
    /// [`crate::policy::evaluate::Evaluation::waiver_ends`]: a list shows the request's emergency as lapsed
    /// from then, whether or not the row was recomputed since.
    waiver_ends: Option<String>,
    deployed_at: Option<String>,
    facts: String,
    /// What its revert brings back (not blank, each once): a mark or an execution naming one of these
    /// recomputes the row.
    targets: std::collections::BTreeSet<String>,
}

/// The row of request `id` as it stands at `now`; `None` for a request left out of the index.
pub(super) fn computed(
    ledger: &Ledger,
    snap: &Snapshot,
    id: &EntryId,
    now: DateTime<Utc>,
) -> Result<Option<IndexRow>, WorkflowError> {
    let view = match load_view_unchecked(ledger, snap, id) {
        // A request gone from the file, or whose stored statement no longer hashes to its id (a tampered
        // file): it is left out of the index, and `verify` (and every report's header) names it.
        Err(WorkflowError::NotFound(_)) => return Ok(None),
        other => other?,
    };
    let judged = evaluate_now(ledger, &view, snap, now)?;
    let facts = serde_json::to_string(&crate::workflow::reads::facts::facts_of(&view, &judged, snap))?;
    let eval = judged.eval;
    let flags = judged.assessment.flags.len() as i64;
    let (_, policy) = snap.policies.current();
    let expiry = if policy.approvals.expiry_hours > 0 {
        eval.decisions
            .iter()
            .filter(|d| d.excluded.is_none() && d.decision == crate::audit::bodies::Decision::Approve)
            .map(|d| d.ts + chrono::Duration::hours(policy.approvals.expiry_hours as i64))
            .min()
    } else {
        None
    };
    // The row changes when an approval expires, and when an emergency stops waiving.
    let lapse = eval.waiver_ends.filter(|t| *t > now);
    let recheck = expiry.into_iter().chain(lapse).min();
    let due = view.obligations(now).iter().map(|o| o.due).min();
    let r = view.record();
    Ok(Some(IndexRow {
        id: *id,
        pos: crate::ledger::pos::to_key(view.pos),
        title: r.title.clone(),
        status: eval.status.as_str(),
        // Trimmed: the filters compare it as `same_env` does (without ASCII case and surrounding spaces).
        env: r.env.trim().to_string(),
        risk: r.risk.as_str(),
        tier: eval.tier.clone(),
        have: eval.approvals.len() as i64,
        need: eval.need as i64,
        flags,
        requester: snap.roster.display(&view.requester),
        created: format_ts(view.ts),
        recheck_at: recheck.map(format_ts),
        obligation_due: due.map(format_ts),
        urgency: urgency(queue_status(&eval), &eval.tier, due.is_some()),
        component: r.components.first().cloned().unwrap_or_default(),
        evidence_ok: eval.evidence_missing.is_empty(),
        emergency: view.emergency.is_some(),
        waiver_ends: eval.waiver_ends.map(format_ts),
        deployed_at: r.deployed_at.clone(),
        facts,
        targets: crate::analysis::flags::brought_back(r)
            .into_iter()
            .filter(|(d, _)| !d.trim().is_empty())
            .map(|(d, _)| d.to_string())
            .collect(),
    }))
}

/// Stores a computed row on the ledger's own connection (inside the caller's transaction). `fresh`: the
/// tables are being filled by a rebuild (their indexes come after), so there is no earlier row to replace.
pub(super) fn store(ledger: &Ledger, row: &IndexRow, fresh: bool) -> Result<(), WorkflowError> {
    ledger
        .cache_conn()
        .prepare_cached(
            "INSERT OR REPLACE INTO request_index
               (id, pos, title, status, env, risk, tier, have, need, flags, requester, created, recheck_at,
                obligation_due, urgency, component, evidence_ok, emergency, waiver_ends, deployed_at, facts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
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
            row.waiver_ends,
            row.deployed_at,
            row.facts,
        ])?;
    let conn = ledger.cache_conn();
    if !fresh {
        conn.prepare_cached("DELETE FROM request_target WHERE id = ?1")?.execute([row.id.0])?;
    }
    let mut add = conn.prepare_cached("INSERT INTO request_target (id, digest) VALUES (?1, ?2)")?;
    for d in &row.targets {
        add.execute(params![row.id.0, d])?;
    }
    Ok(())
}

/// The requests whose current record brings back `digest` (see [`IndexRow::targets`]).
pub(super) fn bringing_back(ledger: &Ledger, digest: &str) -> Result<Vec<EntryId>, WorkflowError> {
    let mut stmt = ledger.cache_conn().prepare_cached("SELECT id FROM request_target WHERE digest = ?1")?;
    let ids = stmt.query_map([digest], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for id in ids {
        out.extend(crate::ledger::Hash::from_slice(&id?));
    }
    Ok(out)
}

/// Whether other connections may read the ledger while this one writes (WAL mode). A ledger file being
/// created is written by its one connection alone (`Ledger::create_with`, outside WAL): readers opened
/// beside it would wait for its lock.
pub(super) fn readable_beside(ledger: &Ledger) -> bool {
    ledger
        .cache_conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
        .is_ok_and(|mode| mode.eq_ignore_ascii_case("wal"))
}

/// A reading connection of a rebuild's own, with the snapshot it computes rows from.
pub(super) struct Reader {
    pub(super) ledger: Ledger,
    snap: Option<Snapshot>,
}

/// Rows computed (and text read) beside the writer when a rebuild has at least this many of them.
pub(super) const PARALLEL_FROM: usize = 1_000;

/// One reading connection per thread for `jobs` jobs of a rebuild (opened after the caller's transaction
/// started: each sees at least what that sees, as the entries only grow); none when they cannot be opened,
/// one thread is allowed, there are few jobs, or the file is being created and only its writer may read it.
pub(super) fn readers(ledger: &Ledger, threads: usize, jobs: usize) -> Vec<Reader> {
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

/// Computes the rows of `ids` (`fresh`: into tables a rebuild is filling) on one thread per core
/// (`ROLLCALL_VERIFY_THREADS`), each reading the ledger on a connection of its own ([`readers`]), and stores
/// them in order on the caller's connection, calling `step` after each row (a request left out included).
/// Without such connections the caller computes every row itself.
pub(super) fn compute_and_store(
    ledger: &Ledger,
    snap: &Snapshot,
    ids: &[(crate::ledger::Pos, EntryId)],
    now: DateTime<Utc>,
    fresh: bool,
    step: &mut dyn FnMut() -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    let threads = crate::ledger::pipeline::threads();
    let readers = readers(ledger, threads, ids.len());
    if readers.is_empty() {
        for (_, id) in ids {
            upsert(ledger, snap, id, now, fresh)?;
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
        computed(&r.ledger, snap, &id, now).map(|row| (id, row))
    };
    crate::ledger::pipeline::run(limits, readers, compute, |pipe| -> Result<(), WorkflowError> {
        let stopped = |e: crate::ledger::pipeline::Stopped| WorkflowError::Usage(format!("the request index: {e}"));
        let mut take = |row: Result<(EntryId, Option<IndexRow>), WorkflowError>| {
            let (id, row) = row?;
            put(ledger, &id, row.as_ref(), fresh)?;
            step()
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

    /// A request whose stored statement no longer hashes to its id leaves the index when an upkeep computes
    /// its row again, on the writer's thread or beside it (an upkeep of at least [`PARALLEL_FROM`] rows on
    /// a machine of two cores or more): the row it had is deleted either way.
    #[test]
    fn an_edited_request_leaves_the_index_however_its_row_is_computed() {
        let dir = tempfile::tempdir().unwrap();
        let demo = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap();
        let ctx = demo.context();
        let ids = crate::workflow::reads::state::all_requests(&ctx.open().unwrap()).unwrap();
        let (edited, others) = (ids[0].1, &ids[1..]);
        let raw = rusqlite::Connection::open(&ctx.ledger_path).unwrap();
        raw.execute_batch("DROP TRIGGER entries_no_update").unwrap();
        raw.execute(
            "UPDATE entries SET statement = CAST(replace(CAST(statement AS TEXT), '\"title\":\"', '\"title\":\"x') AS BLOB)
              WHERE id = ?1",
            [edited.0],
        )
        .unwrap();
        drop(raw);
        let indexed = |l: &Ledger| -> i64 {
            l.cache_conn()
                .query_row("SELECT count(*) FROM request_index WHERE id = ?1", [edited.0], |r| r.get(0))
                .unwrap()
        };
        let ledger = ctx.open().unwrap();
        // The row the index holds from before the edit, put back before each upkeep.
        ledger
            .cache_conn()
            .execute("CREATE TEMP TABLE held AS SELECT * FROM request_index WHERE id = ?1", [edited.0])
            .unwrap();
        for many in [1, PARALLEL_FROM] {
            let now = crate::workflow::clock::now();
            let snap = Snapshot::load(&ledger).unwrap().unchecked();
            ledger.cache_conn().execute_batch("INSERT OR REPLACE INTO request_index SELECT * FROM temp.held").unwrap();
            assert_eq!(indexed(&ledger), 1);
            // The edited request among `many` rows to compute (the others again and again).
            let mut jobs = vec![(ids[0].0, edited)];
            jobs.extend(others.iter().cycle().take(many.max(2) - 1).copied());
            let mut steps = 0;
            let tx = ledger.cache_conn().unchecked_transaction().unwrap();
            compute_and_store(&ledger, &snap, &jobs, now, false, &mut || {
                steps += 1;
                Ok(())
            })
            .unwrap();
            tx.commit().unwrap();
            assert_eq!((indexed(&ledger), steps), (0, jobs.len()), "{many} rows");
        }
    }
}
