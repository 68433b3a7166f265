//! Loading many leaves in one transaction (a new machine importing a whole ledger): the `leaves_entry`
//! index is rebuilt once at the end and the refs are written in key order at the end, instead of each
//! random entry id taking a random place in a B-tree one at a time, and the
//! WAL is written back to disk while the load runs, so the commit's fsync does not start from zero. A file
//! that nobody else can see yet (a ledger being created) is filled without the WAL at all: each page is
//! written once instead of twice, and the whole file is synced before it appears.

use super::error::LedgerError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// New leaves from which an import loads in bulk.
pub(crate) const BULK_LEAVES: u64 = 50_000;

/// Memory in which a bulk load keeps each log's refs aside, sorted (the rest in a temporary file), until
/// it writes them in key order: 8 MiB is 131,072 pairs.
pub(crate) const REFS_BUDGET_KIB: i64 = 8 * 1024;

/// How often the WAL is flushed during a bulk load.
const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// The index a bulk load defers, exactly as the schema creates it.
pub(crate) const LEAVES_ENTRY_INDEX: &str = "CREATE INDEX IF NOT EXISTS leaves_entry ON leaves(entry_id)";

/// Whether loading `new_leaves` into a file holding `held` leaves should drop `leaves_entry` and rebuild
/// it: only when the load at least doubles the file, so the rebuild (a sort of every leaf) costs no more
/// than the random inserts it replaces.
pub(crate) fn defer_index(held: u64, new_leaves: u64) -> bool {
    new_leaves >= BULK_LEAVES && new_leaves >= held
}

/// Drops `leaves_entry` inside the open transaction (a rollback restores it).
pub(crate) fn drop_index(conn: &Connection) -> Result<(), LedgerError> {
    conn.execute_batch("DROP INDEX IF EXISTS leaves_entry")?;
    Ok(())
}

/// Builds `leaves_entry` again, inside the same transaction.
pub(crate) fn rebuild_index(conn: &Connection) -> Result<(), LedgerError> {
    conn.execute_batch(LEAVES_ENTRY_INDEX)?;
    Ok(())
}

/// A thread that flushes the ledger's WAL file to disk every [`FLUSH_EVERY`] until it is dropped.
///
/// It opens only the `-wal` file, never the database file: closing another descriptor of the database
/// would release the POSIX locks SQLite holds on it for this process.
pub(crate) struct WalFlusher {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WalFlusher {
    /// Starts flushing `<database>-wal`.
    pub(crate) fn start(database: &Path) -> WalFlusher {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("rollcall-wal-flush".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(FLUSH_EVERY) {
                    // Best effort: the commit syncs the WAL itself; this only starts the writes early.
                    if let Ok(f) = std::fs::File::open(&wal) {
                        let _ = f.sync_data();
                    }
                }
            })
            .ok();
        WalFlusher { stop: Some(stop), thread }
    }
}

impl Drop for WalFlusher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A ledger file being filled before it appears at its path: no other connection can exist, so it is
/// written without the WAL and without a sync per transaction (each page once, in place), and flushed to
/// disk in the background; [`PrivateLoad::restore`] puts it back in WAL mode and [`PrivateLoad::sync`]
/// syncs it whole once it is closed.
pub(crate) struct PrivateLoad {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<std::fs::File>,
}

impl PrivateLoad {
    /// Switches `conn` (the only connection to `path`) to bulk loading.
    pub(crate) fn begin(conn: &Connection, path: &Path) -> Result<PrivateLoad, LedgerError> {
        let mode: String = conn.query_row("PRAGMA journal_mode = MEMORY", [], |r| r.get(0))?;
        if mode != "memory" {
            return Err(LedgerError::Damaged(format!("cannot leave WAL mode to create the ledger (mode {mode})")));
        }
        conn.pragma_update(None, "synchronous", "OFF")?;
        // This descriptor stays open until after the connection is closed (see `sync`): closing a
        // descriptor of the file while SQLite holds locks on it would release them.
        let file = std::fs::File::open(path).map_err(|e| LedgerError::Io(path.to_path_buf(), e))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("rollcall-load-flush".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(FLUSH_EVERY) {
                    // Only starts the writes early; `sync` syncs and checks.
                    let _ = file.sync_data();
                }
                file
            })
            .map_err(|e| LedgerError::Io(path.to_path_buf(), e))?;
        Ok(PrivateLoad { stop, thread })
    }

    /// Puts the file back in WAL mode with full syncs (before its connection is closed).
    pub(crate) fn restore(&self, conn: &Connection) -> Result<(), LedgerError> {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if mode != "wal" {
            return Err(LedgerError::Damaged(format!("the new ledger did not enter WAL mode (mode {mode})")));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(())
    }

    /// Syncs the whole file to disk, once its connection is closed.
    pub(crate) fn sync(self, path: &Path) -> Result<(), LedgerError> {
        drop(self.stop);
        let file = self.thread.join().map_err(|_| LedgerError::Damaged("the flushing thread panicked".into()))?;
        file.sync_all().map_err(|e| LedgerError::Io(path.to_path_buf(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deferred_index_is_the_schemas() {
        let conn = Connection::open_in_memory().unwrap();
        super::super::schema::create(&conn).unwrap();
        let sql = |c: &Connection| -> Option<String> {
            c.query_row("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'leaves_entry'", [], |r| {
                r.get(0)
            })
            .ok()
        };
        let created = sql(&conn).unwrap();
        drop_index(&conn).unwrap();
        assert_eq!(sql(&conn), None);
        rebuild_index(&conn).unwrap();
        // SQLite keeps the statement's text: the same index, whichever way it was made.
        assert_eq!(sql(&conn).unwrap().replace("IF NOT EXISTS ", ""), created);
    }

    #[test]
    fn only_loads_that_at_least_double_the_file_defer_the_index() {
        assert!(!defer_index(0, BULK_LEAVES - 1));
        assert!(defer_index(0, BULK_LEAVES));
        assert!(!defer_index(80_000, 79_999));
        assert!(defer_index(80_000, 80_000));
    }

    #[test]
    fn the_flusher_flushes_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("l.db");
        std::fs::write(format!("{}-wal", db.display()), b"x").unwrap();
        let flusher = WalFlusher::start(&db);
        assert!(flusher.thread.is_some());
        std::thread::sleep(FLUSH_EVERY * 2);
        // Dropping stops and joins the thread (a thread that never stopped would hang here).
        drop(flusher);
        // A missing WAL is not an error.
        drop(WalFlusher::start(&dir.path().join("none.db")));
    }
}
