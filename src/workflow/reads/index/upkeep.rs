//! Keeping the index up to date: the incremental catch-up from the positions it last saw, the rows time
//! alone changes, and when to rebuild instead (now, or deferred to the background).

use super::rebuild::{rebuild_in, rebuild_unless_read_only_locked};
use super::rows::{PARALLEL_FROM, bringing_back, compute_and_store};
use super::schema::{
    INDEX_VERSION, LogSize, ensure, foreign_key, foreign_sizes, log_sizes, meta, own_size, set_foreign_meta, set_meta,
};
use super::text::index_text;
use crate::audit::kinds::{EXECUTED, MARKED_BAD, REQUEST_KINDS, REQUESTED};
use crate::identity::kinds::GOVERNANCE_KINDS;
use crate::ledger::statement::format_ts;
use crate::ledger::{EntryId, Hash, Ledger};
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::state::{Snapshot, fact_of};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

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
pub(super) const BACKGROUND_FROM: u64 = 20_000;

pub(super) fn background_from() -> u64 {
    std::env::var("ROLLCALL_INDEX_BACKGROUND_FROM").ok().and_then(|s| s.parse().ok()).unwrap_or(BACKGROUND_FROM)
}

/// Brings the index up to the end of every log, and recomputes rows whose status time alone may have
/// changed. Read-only ledgers are left as they are (see [`refresh_read_only`]). Waits for an upkeep another
/// process has under way (see [`crate::workflow::reads::index_lock`]).
///
/// Entries that arrived since the index last saw a log — appended here, or imported from another machine —
/// add their text and recompute the rows of the requests they name. A governance entry among them (a role,
/// key or policy change can change any request's status), an index of another version or ledger, or new
/// entries that are more than half of all, rebuild the index instead.
pub fn refresh(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    let _lock = crate::workflow::reads::index_lock::exclusive(ledger.path());
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
    let Some(_lock) = crate::workflow::reads::index_lock::exclusive_if_free(ledger.path()) else {
        return Ok(Upkeep::Deferred);
    };
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
    let Some(_lock) = crate::workflow::reads::index_lock::exclusive_if_free(ledger.path()) else { return Ok(()) };
    let defer = DEFER_REBUILDS.load(std::sync::atomic::Ordering::Relaxed).then(background_from);
    if refresh_locked(ledger, now, defer)? == Upkeep::Deferred {
        DEFERRED.lock().unwrap_or_else(|e| e.into_inner()).push(ledger.path().to_path_buf());
    }
    Ok(())
}

/// Whether writes in this process leave a rebuild of a large ledger's index ([`refresh_if_free`]).
pub(super) static DEFER_REBUILDS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The ledgers whose rebuild a write of this process left.
pub(super) static DEFERRED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

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
pub(super) fn refresh_locked(
    ledger: &Ledger,
    now: DateTime<Utc>,
    defer_from: Option<u64>,
) -> Result<Upkeep, WorkflowError> {
    match refresh_pass(ledger, now, defer_from)? {
        Pass::Rebuilt => refresh_pass(ledger, now, None).map(|_| Upkeep::Current),
        Pass::Done(upkeep) => Ok(upkeep),
    }
}

/// What one pass of [`refresh_locked`] did.
pub(super) enum Pass {
    Done(Upkeep),
    /// It rebuilt the index from every entry (up to the logs' sizes when the rebuild began).
    Rebuilt,
}

pub(super) fn refresh_pass(
    ledger: &Ledger,
    now: DateTime<Utc>,
    defer_from: Option<u64>,
) -> Result<Pass, WorkflowError> {
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
    let snap = Snapshot::load(ledger)?.unchecked();
    compute_and_store(ledger, &snap, &requests, now, false, &mut || Ok(()))?;
    set_meta(ledger, "applied_size", &size.to_string())?;
    set_foreign_meta(ledger, &sizes)?;
    tx.commit()?;
    Ok(Pass::Done(Upkeep::Current))
}

/// A log with entries the index has not seen: (origin, first unseen index, size).
pub(super) type Behind = (crate::ledger::Origin, u64, u64);

/// The logs of other origins with entries the index has not seen. `None` when the index's record of them
/// does not fit the logs (only a rebuild can tell what it holds).
pub(super) fn foreign_behind(ledger: &Ledger, sizes: &[LogSize]) -> Result<Option<Vec<Behind>>, WorkflowError> {
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

/// Indexes the text of entries `from..to` of `origin`'s log and adds the requests they name to
/// `affected`. False when one of them is a governance entry (the caller rebuilds).
pub(super) fn note_entries(
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
                let req = crate::workflow::reads::state::request_named(&f.body);
                if let Some(r) = req {
                    affected.insert(r);
                }
                // An execution makes what it rolled away from known bad for the requests bringing it back.
                if f.kind == EXECUTED
                    && let Some(from) = f.body.single_str_member("from")
                {
                    affected.extend(bringing_back(ledger, &from)?);
                }
            } else if row.kind == MARKED_BAD {
                if let Some(digest) = fact_of(row)?.body.single_str_member("digest") {
                    affected.extend(bringing_back(ledger, &digest)?);
                }
            } else if GOVERNANCE_KINDS.contains(&row.kind.as_str()) {
                return Ok(false);
            }
        }
        from = page.last().map(|r| r.index + 1).unwrap_or(to);
    }
    Ok(true)
}

/// Rebuilds the index from every entry, then catches up what was appended while it was built. Waits for
/// an upkeep another process has under way (see [`crate::workflow::reads::index_lock`]).
pub fn rebuild(ledger: &Ledger, now: DateTime<Utc>) -> Result<usize, WorkflowError> {
    let _lock = crate::workflow::reads::index_lock::exclusive(ledger.path());
    let n = rebuild_in(ledger, now, "main")?;
    refresh_locked(ledger, now, None)?;
    Ok(n)
}

/// For a ledger opened read-only (an auditor's console): when the file's index is missing, of another
/// version or ledger, or behind the logs, the index is built in this connection's temporary database
/// instead, where it shadows the file's; nothing is written to the file. An index that is current is used
/// as it is. An upkeep under way in another process is waited for first (it may make the file's current).
pub fn refresh_read_only(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    let current = {
        let _waited = crate::workflow::reads::index_lock::shared(ledger.path());
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

/// Rebuilds the index, unless the file is read-only: its readers then use whatever index it has.
pub(crate) fn rebuild_unless_read_only(ledger: &Ledger, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    let _lock = crate::workflow::reads::index_lock::exclusive(ledger.path());
    rebuild_unless_read_only_locked(ledger, now)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        crate::ledger::store::test_append(&mut l, &genesis, "note", serde_json::json!({ "text": "behind" }), 1000);
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
