//! The request index's upkeep lock: one process (or thread) at a time brings the index up to date — a
//! reader's refresh, `rebuild`, or the catch-up a large import leaves to the background — so that the same
//! work is never done twice at once, and a reader that needs the index waits for the one building it
//! instead of building a second. It is an advisory lock (`flock`) on a file beside the ledger,
//! `<ledger>-index.lock`; the entries never depend on it (SQLite's own locks keep them whole), and the
//! operating system releases it when its holder exits, however that happens.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Held while the index is brought up to date; released when dropped. `None` inside: no lock file could be
/// opened or created (a directory this process may not write), and the work goes ahead unlocked, as it
/// would on a file nobody else can write either.
pub struct UpkeepLock {
    _file: Option<File>,
}

/// What this process does when another holds the lock and it has to wait: the command line tells the
/// person at the terminal once (set by the binary; nothing is printed by default, a console's screen
/// included).
static ON_WAIT: OnceLock<fn()> = OnceLock::new();

/// Sets what to do, once, before waiting for another process's index upkeep.
pub fn on_wait(notice: fn()) {
    let _ = ON_WAIT.set(notice);
}

/// The lock file of the ledger at `ledger`.
pub fn lock_path(ledger: &Path) -> PathBuf {
    let mut name = ledger.as_os_str().to_owned();
    name.push("-index.lock");
    PathBuf::from(name)
}

/// Where the background catch-up of the ledger at `ledger`'s index writes what it says (its output and
/// its errors), beside the lock file.
pub fn log_path(ledger: &Path) -> PathBuf {
    let mut name = ledger.as_os_str().to_owned();
    name.push("-index.log");
    PathBuf::from(name)
}

/// The lock file, created when `create` (by a process that keeps the index, which may write beside the
/// ledger). A reader only opens one that exists: an auditor's read-only console writes nothing, not even
/// an empty file, and when there is no file nobody is keeping the index.
fn open(ledger: &Path, create: bool) -> Option<File> {
    let path = lock_path(ledger);
    if !create {
        return File::open(&path).ok();
    }
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        // Beside a ledger whose files are the owner's alone: so is this one (it holds nothing).
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(&path).or_else(|_| File::open(&path)).ok()
}

/// The exclusive lock, waiting for whoever holds it (after telling [`on_wait`]'s notice).
pub fn exclusive(ledger: &Path) -> UpkeepLock {
    take(ledger, false)
}

/// A shared lock, for a reader that only checks whether the index is current: it waits for an upkeep in
/// progress, and does not keep other readers out.
pub(crate) fn shared(ledger: &Path) -> UpkeepLock {
    take(ledger, true)
}

/// How a lock was asked for.
enum Tried {
    Locked,
    Held,
    Failed,
}

/// `flock(2)` on `file` (`std::fs::File::lock` is newer than this crate's minimum Rust).
#[cfg(unix)]
fn flock(file: &File, shared: bool, wait: bool) -> Tried {
    use std::os::unix::io::AsRawFd;
    let op = if shared { libc::LOCK_SH } else { libc::LOCK_EX } | if wait { 0 } else { libc::LOCK_NB };
    loop {
        // SAFETY: flock on a descriptor this `File` owns and keeps open for the call.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Tried::Locked;
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Tried::Held,
            _ => return Tried::Failed,
        }
    }
}

#[cfg(not(unix))]
fn flock(_: &File, _: bool, _: bool) -> Tried {
    Tried::Failed
}

fn take(ledger: &Path, shared: bool) -> UpkeepLock {
    let Some(file) = open(ledger, !shared) else { return UpkeepLock { _file: None } };
    let locked = match flock(&file, shared, false) {
        Tried::Locked => true,
        Tried::Held => {
            if let Some(notice) = ON_WAIT.get() {
                notice();
            }
            matches!(flock(&file, shared, true), Tried::Locked)
        }
        Tried::Failed => false,
    };
    UpkeepLock { _file: locked.then_some(file) }
}

/// The exclusive lock if nobody holds it now; `None` when another upkeep is under way (it, or the next
/// reader, brings the index up to date).
pub(crate) fn exclusive_if_free(ledger: &Path) -> Option<UpkeepLock> {
    let Some(file) = open(ledger, true) else { return Some(UpkeepLock { _file: None }) };
    match flock(&file, false, false) {
        Tried::Locked => Some(UpkeepLock { _file: Some(file) }),
        Tried::Held => None,
        Tried::Failed => Some(UpkeepLock { _file: None }),
    }
}

/// Whether another process (or thread) is bringing the index of the ledger at `ledger` up to date now
/// (asked without creating the lock file, and with a shared lock, which keeps nobody out but a keeper).
pub fn busy(ledger: &Path) -> bool {
    open(ledger, false).is_some_and(|file| matches!(flock(&file, true, false), Tried::Held))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.db");
        assert_eq!(lock_path(&ledger), dir.path().join("ledger.db-index.lock"));
        assert_eq!(log_path(&ledger), dir.path().join("ledger.db-index.log"));
        let held = exclusive(&ledger);
        assert!(busy(&ledger), "a second opener sees it held");
        assert!(exclusive_if_free(&ledger).is_none());
        drop(held);
        assert!(!busy(&ledger));
        let a = shared(&ledger);
        let b = shared(&ledger);
        assert!(exclusive_if_free(&ledger).is_none(), "shared holders keep the exclusive lock out");
        assert!(!busy(&ledger), "readers waiting are not keeping the index");
        drop((a, b));
        assert!(exclusive_if_free(&ledger).is_some());
    }

    #[test]
    fn a_waiter_goes_on_once_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.db");
        let held = exclusive(&ledger);
        let (tx, rx) = std::sync::mpsc::channel();
        let path = ledger.clone();
        let waiter = std::thread::spawn(move || {
            let _l = exclusive(&path);
            tx.send(()).unwrap();
        });
        assert!(rx.try_recv().is_err(), "the waiter cannot have the lock while it is held");
        drop(held);
        rx.recv().unwrap();
        waiter.join().unwrap();
    }

    #[test]
    fn a_reader_creates_no_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.db");
        let _shared = shared(&ledger);
        assert!(!busy(&ledger));
        assert!(!lock_path(&ledger).exists(), "a read-only reader wrote nothing beside the ledger");
        let held = exclusive(&ledger);
        assert!(lock_path(&ledger).exists());
        assert!(busy(&ledger));
        drop(held);
    }

    #[test]
    fn a_directory_without_a_lock_file_it_may_not_create_goes_ahead_unlocked() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("missing").join("ledger.db");
        assert!(exclusive_if_free(&ledger).is_some());
        let _l = exclusive(&ledger);
        assert!(!busy(&ledger));
    }
}
