//! Errors of the ledger layer.

use super::hash::EntryId;
use super::note::NoteError;
use super::statement::StatementError;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("no ledger at {0}")]
    NotFound(PathBuf),
    #[error("{0} already exists; refusing to overwrite it")]
    AlreadyExists(PathBuf),
    #[error("{0} is not a rollcall ledger ({1})")]
    NotALedger(PathBuf, String),
    #[error("{path} is a ledger of format version {found}, newer than this rollcall reads ({reads}); upgrade rollcall")]
    NewerFormat { path: PathBuf, found: u32, reads: u32 },
    #[error("ledger is damaged: {0}")]
    Damaged(String),
    #[error("cannot access {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error("the ledger is busy (another rollcall process holds it); try again")]
    Busy,
    #[error("the log grew from {expected} to {actual} entries while this change was prepared")]
    Conflict { expected: u64, actual: u64 },
    #[error("entry {0} is already in the log")]
    Duplicate(EntryId),
    #[error("the origin key does not match this ledger's origin")]
    OriginKeyMismatch,
    /// Input (a bundle's claim) this ledger cannot take; the ledger itself is fine.
    #[error("{0}")]
    Refused(String),
    /// An entry's time is outside what the log may accept (§ time bounds of docs/FORMAT.md).
    #[error("{0}")]
    Time(String),
    #[error("unknown origin {0:?}")]
    UnknownOrigin(String),
    #[error(transparent)]
    Statement(#[from] StatementError),
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The file could not be written or read back (the disk full, an I/O error under SQLite): a failure of
    /// the system under the ledger, not of its input. SQLite rolls the transaction back.
    #[error("the ledger's disk failed: {0}")]
    Storage(rusqlite::Error),
    /// A new file could not be written, built or closed (`rebuild --into`'s copy): the system under it
    /// failed, at that path.
    #[error("cannot write {0}: {1}")]
    Unwritable(PathBuf, String),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => LedgerError::Busy,
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                LedgerError::Damaged(e.to_string())
            }
            Some(rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure) => LedgerError::Storage(e),
            _ => LedgerError::Sqlite(e),
        }
    }
}

/// What to check when SQLite refuses the file to this user ([`refused_access`]).
pub(crate) const ACCESS_HINT: &str =
    "check that you may write the ledger file and its directory: SQLite keeps its -wal and -shm files beside it";

/// Whether SQLite refused the file to this user (`SQLITE_READONLY`, `CANTOPEN`, `PERM`: the file or its
/// directory closed to it) rather than finding its content wrong.
pub(crate) fn refused_access(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied)
    )
}

/// How a verifier says that a read of the file failed: "database is damaged: …" when SQLite found the
/// content wrong (or could not make sense of it), and what it is otherwise (the disk failing, another
/// process holding the file, the file or its directory closed to this user), so that a full disk or a
/// permission is not reported as a damaged ledger.
pub fn read_problem(e: impl Into<LedgerError>) -> String {
    match e.into() {
        LedgerError::Damaged(why) => format!("database is damaged: {why}"),
        LedgerError::Sqlite(e) if refused_access(&e) => format!("cannot read the ledger file: {e} ({ACCESS_HINT})"),
        LedgerError::Sqlite(e) if system_failed(&e) => format!("cannot read the ledger file: {e}"),
        LedgerError::Sqlite(e) => format!("database is damaged: {e}"),
        other => other.to_string(),
    }
}

/// A failed read as a verifier reports it: [`read_problem`]'s text, and whether the file was not read (its
/// disk failing, a permission, another process holding it) rather than its content found wrong. A
/// verification that stops on a file it could not read has found nothing wrong with the record: it says so, and
/// does not call the ledger's integrity failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadProblem {
    pub text: String,
    pub not_read: bool,
}

/// [`read_problem`] with its class ([`ReadProblem`]).
pub fn read_problem_of(e: impl Into<LedgerError>) -> ReadProblem {
    let e = e.into();
    let not_read = not_read(&e);
    ReadProblem { text: read_problem(e), not_read }
}

/// Whether `e`, from a read, says the file was not read rather than its content found wrong
/// ([`ReadProblem`]): the disk failing or full, another process holding the file, the file or its directory
/// closed to this user, or SQLite failing for a reason of the system. Anything else (damage SQLite found,
/// a statement or note that does not parse) is the content's.
pub fn not_read(e: &LedgerError) -> bool {
    match e {
        LedgerError::Busy | LedgerError::Storage(_) | LedgerError::Io(..) => true,
        LedgerError::Sqlite(s) => refused_access(s) || system_failed(s),
        _ => false,
    }
}

/// Whether SQLite failed for a reason of the system rather than of the file: memory, an interrupt, its
/// locking protocol, a file larger than the system supports.
fn system_failed(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::OutOfMemory
                | rusqlite::ErrorCode::OperationInterrupted
                | rusqlite::ErrorCode::FileLockingProtocolFailed
                | rusqlite::ErrorCode::NoLargeFileSupport
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::os::raw::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn only_content_sqlite_cannot_read_is_called_damage() {
        use rusqlite::ffi;
        for code in [ffi::SQLITE_CORRUPT, ffi::SQLITE_NOTADB, ffi::SQLITE_ERROR] {
            assert!(read_problem(failure(code)).starts_with("database is damaged: "), "{code}");
        }
        for code in [ffi::SQLITE_READONLY, ffi::SQLITE_CANTOPEN, ffi::SQLITE_PERM] {
            let said = read_problem(failure(code));
            assert!(said.starts_with("cannot read the ledger file: ") && said.contains("its directory"), "{said}");
        }
        for (code, start) in
            [(ffi::SQLITE_FULL, "the ledger's disk failed"), (ffi::SQLITE_IOERR, "the ledger's disk failed")]
        {
            assert!(read_problem(failure(code)).starts_with(start), "{code}");
        }
        for code in [ffi::SQLITE_BUSY, ffi::SQLITE_LOCKED] {
            assert!(!read_problem(failure(code)).contains("damaged"), "{code}");
        }
        assert_eq!(read_problem(LedgerError::Damaged("x".into())), "database is damaged: x");
    }

    /// Only what SQLite found wrong in the content is damage; the file not read (its disk, a permission,
    /// another process) is the file not read, with the same text as [`read_problem`]'s.
    #[test]
    fn a_read_that_failed_is_damage_only_when_the_content_is_wrong() {
        use rusqlite::ffi;
        for (code, not_read) in [
            (ffi::SQLITE_CORRUPT, false),
            (ffi::SQLITE_NOTADB, false),
            (ffi::SQLITE_ERROR, false),
            (ffi::SQLITE_IOERR, true),
            (ffi::SQLITE_FULL, true),
            (ffi::SQLITE_BUSY, true),
            (ffi::SQLITE_LOCKED, true),
            (ffi::SQLITE_READONLY, true),
            (ffi::SQLITE_CANTOPEN, true),
            (ffi::SQLITE_PERM, true),
            (ffi::SQLITE_NOMEM, true),
            (ffi::SQLITE_INTERRUPT, true),
            (ffi::SQLITE_PROTOCOL, true),
            (ffi::SQLITE_NOLFS, true),
            (ffi::SQLITE_MISMATCH, false),
        ] {
            let p = read_problem_of(failure(code));
            assert_eq!(p, ReadProblem { text: read_problem(failure(code)), not_read }, "{code}");
        }
        assert!(!read_problem_of(LedgerError::Damaged("x".into())).not_read);
        // Besides SQLite's codes: the file's own errors are the system's, a statement or a note that does
        // not parse is the content's.
        assert!(not_read(&LedgerError::Busy));
        assert!(not_read(&LedgerError::Io("l.db".into(), std::io::Error::other("EIO"))));
        assert!(not_read(&LedgerError::Storage(failure(ffi::SQLITE_IOERR))));
        assert!(!not_read(&LedgerError::Statement(crate::ledger::statement::StatementError::BadSignature)));
        assert!(!not_read(&LedgerError::Refused("a bundle's claim".into())));
        let wrong = rusqlite::Error::InvalidColumnType(2, "statement".into(), rusqlite::types::Type::Integer);
        assert!(!read_problem_of(wrong).not_read, "a value of the wrong type is the content's");
    }
}
