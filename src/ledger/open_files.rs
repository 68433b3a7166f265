//! The ledger files this process has open. A file's header is read through a descriptor of our own only
//! while no connection of this process has the file open: closing any descriptor of a file releases every
//! POSIX lock the process holds on it, including the shared lock SQLite keeps on a WAL database, after
//! which another process closing its connection may think it is the last one and checkpoint and delete
//! the WAL under this one.

use super::error::LedgerError;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// Connections open per file, by (device, inode).
static OPEN: Mutex<BTreeMap<(u64, u64), usize>> = Mutex::new(BTreeMap::new());

/// One connection to a ledger file, counted until dropped (drop it after the connection is closed).
#[derive(Debug)]
pub(crate) struct Registration {
    key: (u64, u64),
}

fn registry() -> std::sync::MutexGuard<'static, BTreeMap<(u64, u64), usize>> {
    OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(unix)]
fn key_of(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn key_of(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// Counts one more connection to `path`. `check` (which may open and close the file) runs only when this
/// process has no connection to it yet, and no other thread opens one meanwhile.
pub(crate) fn register(
    path: &Path,
    check: impl FnOnce() -> Result<(), LedgerError>,
) -> Result<Registration, LedgerError> {
    let mut open = registry();
    // stat, not open: no descriptor is closed here.
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            check()?;
            return Err(LedgerError::Io(path.to_path_buf(), e));
        }
    };
    let key = key_of(&meta);
    let held = open.get(&key).copied().unwrap_or(0);
    if held == 0 || cfg!(not(unix)) {
        check()?;
    }
    open.insert(key, held + 1);
    Ok(Registration { key })
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut open = registry();
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// How many connections of this process are counted for `path` (for tests).
#[cfg(test)]
pub(crate) fn count(path: &Path) -> usize {
    std::fs::metadata(path).map(|m| registry().get(&key_of(&m)).copied().unwrap_or(0)).unwrap_or(0)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::super::Ledger;
    use super::*;

    /// Whether this process holds a POSIX lock on `path` (from /proc/locks: `… POSIX ADVISORY READ <pid>
    /// <maj>:<min>:<inode> <start> <end>`).
    fn locked_by_us(path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let inode = std::fs::metadata(path).unwrap().ino();
        let pid = std::process::id().to_string();
        std::fs::read_to_string("/proc/locks").unwrap().lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() >= 6
                && f[1] == "POSIX"
                && f[4] == pid
                && f[5].rsplit(':').next() == Some(inode.to_string().as_str())
        })
    }

    #[test]
    fn a_second_connection_keeps_the_locks_of_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let (path, genesis) = super::super::store::test_ledger(dir.path());
        assert_eq!(count(&path), 0);

        let first = Ledger::open(&path).unwrap();
        assert!(first.entry(&genesis.id).unwrap().is_some());
        // A WAL connection keeps a shared lock on the database file while it is open.
        assert!(locked_by_us(&path), "the first connection holds no lock");
        let second = Ledger::open_read_only(&path).unwrap();
        assert_eq!(count(&path), 2);
        assert!(second.entry(&genesis.id).unwrap().is_some());
        assert!(locked_by_us(&path), "opening a second connection released the first one's lock");
        drop(second);
        assert!(locked_by_us(&path));
        drop(first);
        assert_eq!(count(&path), 0);

        // Refusals still come from the header check when nothing is open.
        std::fs::write(dir.path().join("other.db"), b"not a database at all, just some bytes").unwrap();
        let err = Ledger::open(&dir.path().join("other.db")).unwrap_err();
        assert!(err.to_string().contains("not an SQLite database"), "{err}");
        assert_eq!(count(&dir.path().join("other.db")), 0);
        assert!(matches!(Ledger::open(&dir.path().join("none.db")), Err(LedgerError::NotFound(_))));
    }
}
