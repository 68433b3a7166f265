//! The SQLite file: its identity (application id, format version), the append-only tables and their
//! triggers, and the header check that refuses foreign files before SQLite touches them.

use super::error::LedgerError;
use rusqlite::Connection;
use std::io::Read;
use std::path::Path;

/// `PRAGMA application_id` of a rollcall ledger: the ASCII bytes "RLLC".
pub(crate) const APPLICATION_ID: u32 = u32::from_be_bytes(*b"RLLC");

/// The ledger file format this build writes and reads (`PRAGMA user_version`).
pub(crate) const FORMAT_VERSION: u32 = 2;

/// Every table whose rows are part of the signed record. UPDATE and DELETE abort on all of them.
pub(crate) const LEDGER_TABLES: [&str; 9] =
    ["meta", "origins", "entries", "refs", "leaves", "tree_hashes", "checkpoints", "cosignatures", "equivocations"];

const SCHEMA: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE origins (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    own        INTEGER NOT NULL
) STRICT;
CREATE TABLE entries (
    id        BLOB PRIMARY KEY NOT NULL,
    statement BLOB NOT NULL,
    signature BLOB NOT NULL,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    ts        TEXT NOT NULL
) STRICT;
CREATE INDEX entries_kind ON entries(kind);
CREATE TABLE refs (
    ref      BLOB NOT NULL,
    entry_id BLOB NOT NULL,
    PRIMARY KEY (ref, entry_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE leaves (
    origin   INTEGER NOT NULL,
    idx      INTEGER NOT NULL,
    entry_id BLOB NOT NULL,
    prev     BLOB NOT NULL,
    ets      INTEGER NOT NULL,
    PRIMARY KEY (origin, idx)
) STRICT, WITHOUT ROWID;
CREATE INDEX leaves_entry ON leaves(entry_id);
CREATE TABLE tree_hashes (
    origin INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hash   BLOB NOT NULL,
    PRIMARY KEY (origin, idx)
) STRICT, WITHOUT ROWID;
CREATE TABLE checkpoints (
    origin INTEGER NOT NULL,
    size   INTEGER NOT NULL,
    note   TEXT NOT NULL,
    PRIMARY KEY (origin, size)
) STRICT, WITHOUT ROWID;
CREATE TABLE cosignatures (
    origin    INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    root      BLOB NOT NULL,
    witness   TEXT NOT NULL,
    time      INTEGER NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (origin, size, witness)
) STRICT, WITHOUT ROWID;
CREATE TABLE equivocations (
    id       INTEGER PRIMARY KEY,
    origin   TEXT NOT NULL,
    detected TEXT NOT NULL,
    kind     TEXT NOT NULL,
    ours     TEXT NOT NULL,
    theirs   TEXT NOT NULL,
    detail   TEXT NOT NULL
) STRICT;
";

/// Creates the tables and the append-only triggers, and stamps the file's identity.
pub(crate) fn create(conn: &Connection) -> Result<(), LedgerError> {
    conn.pragma_update(None, "application_id", APPLICATION_ID as i64)?;
    conn.pragma_update(None, "user_version", FORMAT_VERSION as i64)?;
    conn.execute_batch(SCHEMA)?;
    for t in LEDGER_TABLES {
        conn.execute_batch(&format!(
            "CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} \
               BEGIN SELECT RAISE(ABORT, 'rollcall ledger tables are append-only'); END;
             CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t} \
               BEGIN SELECT RAISE(ABORT, 'rollcall ledger tables are append-only'); END;"
        ))?;
    }
    Ok(())
}

/// Reads the SQLite header of `path` without opening it through SQLite (so a foreign or damaged file is
/// never modified) and refuses anything that is not a rollcall ledger this build can read.
pub(crate) fn check_header(path: &Path) -> Result<(), LedgerError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LedgerError::NotFound(path.to_path_buf()),
        _ => LedgerError::Io(path.to_path_buf(), e),
    })?;
    let not_ledger = |reason: &str| LedgerError::NotALedger(path.to_path_buf(), reason.to_string());
    if !meta.is_file() {
        return Err(not_ledger("not a regular file"));
    }
    let mut header = [0u8; 100];
    let mut f = std::fs::File::open(path).map_err(|e| LedgerError::Io(path.to_path_buf(), e))?;
    let mut read = 0;
    while read < header.len() {
        match f.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(LedgerError::Io(path.to_path_buf(), e)),
        }
    }
    if read < header.len() || &header[..16] != b"SQLite format 3\0" {
        return Err(not_ledger("not an SQLite database"));
    }
    let user_version = u32::from_be_bytes(header[60..64].try_into().unwrap_or_default());
    let app_id = u32::from_be_bytes(header[68..72].try_into().unwrap_or_default());
    if app_id != APPLICATION_ID {
        return Err(not_ledger("an SQLite database of another program"));
    }
    if user_version > FORMAT_VERSION {
        return Err(LedgerError::NewerFormat { path: path.to_path_buf(), found: user_version, reads: FORMAT_VERSION });
    }
    if user_version == 0 {
        return Err(not_ledger("a rollcall file that was never initialized"));
    }
    if user_version < FORMAT_VERSION {
        return Err(not_ledger(&format!(
            "format version {user_version}, written before signatures were bound to their ledger; this rollcall \
             reads version {FORMAT_VERSION} and has no migration: create a new ledger"
        )));
    }
    Ok(())
}
