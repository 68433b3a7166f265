//! The blob store: evidence bytes by SHA-256 in a `blobs` table of the ledger file. Blobs are not ledger
//! rows — their digests are, in the entries that attach them — so a blob can be purged by a signed entry
//! while the chain still verifies.

use super::scan::{CHUNK, Scan, Scanner};
use crate::ledger::Hash;
use rusqlite::{Connection, OptionalExtension, params};
use std::io::{Read, Write};
use std::path::Path;

/// Largest file accepted as evidence unless the policy says otherwise.
pub(crate) const MAX_BLOB: u64 = 64 * 1024 * 1024;

/// The largest value SQLite stores (`SQLITE_MAX_LENGTH` of the bundled build): no blob can be larger,
/// whatever the policy's `[evidence] max_file_mib` says (it may say up to 4096 MiB).
pub(crate) const SQLITE_MAX_BLOB: u64 = 1_000_000_000;

/// The evidence size cap in bytes under a policy's `max_file_mib`: the policy's figure, but never more than
/// a blob SQLite can store.
pub(crate) fn cap(max_file_mib: u32) -> u64 {
    (u64::from(max_file_mib) * 1024 * 1024).min(SQLITE_MAX_BLOB)
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("cannot read {0}: {1}")]
    Read(std::path::PathBuf, std::io::Error),
    #[error(
        "{0} is larger than the {1} bytes allowed for evidence (the policy's [evidence] max_file_mib, and at most \
         1,000,000,000 bytes per file); attach a link with --url instead"
    )]
    TooLarge(std::path::PathBuf, u64),
    #[error("{0} is a symbolic link; attach the file it points to")]
    Symlink(std::path::PathBuf),
    #[error("{0} is not a regular file")]
    NotAFile(std::path::PathBuf),
    #[error("{0} changed while it was being attached; attach it again")]
    Changed(std::path::PathBuf),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Creates the table on the first write. Only writers call this: a ledger that never stored a blob has no
/// table, and a reader (a read-only audit copy, `verify`) must not try to create it.
fn ensure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS blobs (sha256 BLOB PRIMARY KEY NOT NULL, bytes BLOB NOT NULL)")
}

/// Copies every blob stored in the file attached to `conn` as `old` into its main file (a salvage of a
/// damaged file, inside its snapshot); returns how many.
pub(crate) fn copy_attached(conn: &Connection) -> Result<u64, BlobError> {
    let held: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM old.sqlite_master WHERE type = 'table' AND name = 'blobs'",
        [],
        |r| r.get(0),
    )?;
    if !held {
        return Ok(0);
    }
    ensure(conn)?;
    Ok(conn.execute("INSERT OR IGNORE INTO main.blobs (sha256, bytes) SELECT sha256, bytes FROM old.blobs", [])? as u64)
}

/// Whether the table exists (no blob was ever stored otherwise).
fn exists(conn: &Connection) -> Result<bool, rusqlite::Error> {
    conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'blobs'", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n > 0)
}

/// Reads a file for attachment in one pass, hashing as it reads: refuses symbolic links, non-files and
/// files over `cap` bytes (without reading past the cap). The digest is of exactly the bytes returned, so
/// a file that changes while it is read is stored and described consistently.
pub(crate) fn read_file(path: &Path, cap: u64) -> Result<(Vec<u8>, Hash), BlobError> {
    use sha2::{Digest, Sha256};
    let (f, len) = open_checked(path, cap)?;
    let mut f = f.take(cap + 1);
    let mut bytes = Vec::with_capacity(len as usize);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| BlobError::Read(path.to_path_buf(), e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        bytes.extend_from_slice(&buf[..n]);
        if bytes.len() as u64 > cap {
            return Err(BlobError::TooLarge(path.to_path_buf(), cap));
        }
    }
    Ok((bytes, Hash(h.finalize().into())))
}

fn open_checked(path: &Path, cap: u64) -> Result<(std::fs::File, u64), BlobError> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| BlobError::Read(path.to_path_buf(), e))?;
    if meta.file_type().is_symlink() {
        return Err(BlobError::Symlink(path.to_path_buf()));
    }
    if !meta.is_file() {
        return Err(BlobError::NotAFile(path.to_path_buf()));
    }
    if meta.len() > cap {
        return Err(BlobError::TooLarge(path.to_path_buf(), cap));
    }
    // What is opened is checked again, on the handle: a path swapped for a symbolic link after the check
    // (to a file of the user's the attacker cannot read) fails to open, one swapped for a FIFO does not
    // block the open, and one swapped for another file is refused.
    let f = crate::paths::open_no_follow(path).map_err(|e| match e.raw_os_error() {
        #[cfg(unix)]
        Some(libc::ELOOP) => BlobError::Symlink(path.to_path_buf()),
        _ => BlobError::Read(path.to_path_buf(), e),
    })?;
    let opened = f.metadata().map_err(|e| BlobError::Read(path.to_path_buf(), e))?;
    if !opened.is_file() {
        return Err(BlobError::NotAFile(path.to_path_buf()));
    }
    if !same_file(&meta, &opened) {
        return Err(BlobError::Changed(path.to_path_buf()));
    }
    if opened.len() > cap {
        return Err(BlobError::TooLarge(path.to_path_buf(), cap));
    }
    Ok((f, opened.len()))
}

/// Whether two looks at a path saw the same file.
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        true
    }
}

/// Scans a file for attachment in one streaming pass (digest, size, text or not, lines): refuses symbolic
/// links, non-files and files over `cap` bytes, without reading past the cap. Memory stays bounded by
/// the read buffer whatever the file's size.
pub(crate) fn scan_file(path: &Path, cap: u64) -> Result<Scan, BlobError> {
    let (f, _) = open_checked(path, cap)?;
    let mut f = f.take(cap + 1);
    let mut s = Scanner::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = f.read(&mut buf).map_err(|e| BlobError::Read(path.to_path_buf(), e))?;
        if n == 0 {
            break;
        }
        s.update(&buf[..n]);
        if s.len() > cap {
            return Err(BlobError::TooLarge(path.to_path_buf(), cap));
        }
    }
    Ok(s.finish())
}

/// Copies the file that `scan` described into the store, in chunks (SQLite incremental blob I/O), and
/// checks on the way that it still has exactly those bytes: a file that changed since it was scanned is
/// refused and nothing is kept. The row and its bytes are written in one transaction (a savepoint): a
/// process stopped halfway leaves nothing, where it used to leave a row of zeros under the real digest.
/// Idempotent: bytes already stored under the digest are not written again, but only when they still hash
/// to it; a row that does not (damaged, or left by an older version) is written afresh. Returns whether
/// the digest had no row before (the caller may remove the bytes again when the entry naming them is
/// refused; a row repaired here is named by an entry already).
pub(crate) fn put_file(conn: &Connection, path: &Path, scan: &Scan) -> Result<bool, BlobError> {
    ensure(conn)?;
    let held = check(conn, &scan.digest)?;
    if held == Some(true) {
        return Ok(false);
    }
    let len = i64::try_from(scan.len).map_err(|_| BlobError::TooLarge(path.to_path_buf(), i64::MAX as u64))?;
    in_savepoint(conn, || {
        conn.execute("DELETE FROM blobs WHERE sha256 = ?1", [scan.digest.0])?;
        conn.execute("INSERT INTO blobs (sha256, bytes) VALUES (?1, zeroblob(?2))", params![scan.digest.0, len])?;
        let rowid = conn.last_insert_rowid();
        let (f, _) = open_checked(path, scan.len)?;
        let mut f = f.take(scan.len + 1);
        let mut blob = conn.blob_open("main", "blobs", "bytes", rowid, false)?;
        let mut s = Scanner::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = f.read(&mut buf).map_err(|e| BlobError::Read(path.to_path_buf(), e))?;
            if n == 0 {
                break;
            }
            s.update(&buf[..n]);
            if s.len() > scan.len {
                return Err(BlobError::Changed(path.to_path_buf()));
            }
            blob.write_all(&buf[..n]).map_err(|e| BlobError::Read(path.to_path_buf(), e))?;
        }
        blob.close()?;
        if s.finish().digest != scan.digest {
            return Err(BlobError::Changed(path.to_path_buf()));
        }
        Ok(())
    })?;
    Ok(held.is_none())
}

/// Runs `write` inside a savepoint of `conn` (its own transaction when none is open): everything it wrote
/// is kept when it succeeds, and nothing when it fails or the process stops before it returns.
fn in_savepoint(conn: &Connection, write: impl FnOnce() -> Result<(), BlobError>) -> Result<(), BlobError> {
    conn.execute_batch("SAVEPOINT rollcall_blob")?;
    match write() {
        Ok(()) => {
            conn.execute_batch("RELEASE rollcall_blob")?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO rollcall_blob; RELEASE rollcall_blob");
            Err(e)
        }
    }
}

/// The stored bytes of `digest` as a reader (read-only incremental blob I/O) and their length; `None`
/// when not stored (or purged). Reading it never loads the whole blob.
pub(crate) fn open<'c>(
    conn: &'c Connection,
    digest: &Hash,
) -> Result<Option<(rusqlite::blob::Blob<'c>, u64)>, BlobError> {
    let has_table: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'blobs'", [], |r| r.get(0))?;
    if has_table == 0 {
        return Ok(None);
    }
    let row: Option<(i64, i64)> = conn
        .query_row("SELECT rowid, length(bytes) FROM blobs WHERE sha256 = ?1", [digest.0], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((rowid, len)) = row else { return Ok(None) };
    let blob = conn.blob_open("main", "blobs", "bytes", rowid, true)?;
    Ok(Some((blob, u64::try_from(len).unwrap_or(0))))
}

/// Scans the stored bytes of `digest` in one streaming pass; `None` when not stored.
pub(crate) fn scan_stored(conn: &Connection, digest: &Hash) -> Result<Option<Scan>, BlobError> {
    let Some((blob, _)) = open(conn, digest)? else { return Ok(None) };
    Ok(Some(super::scan::scan(blob).map_err(blob_read)?))
}

/// A read of a stored blob that failed: SQLite's own failure (the ledger file's: damage, or the file not
/// read), which the blob's reader hands on inside an I/O error, as such; else the reading's.
fn blob_read(e: std::io::Error) -> BlobError {
    match e.downcast::<rusqlite::Error>() {
        Ok(sqlite) => BlobError::Sqlite(sqlite),
        Err(e) => BlobError::Read("blob".into(), e),
    }
}

/// Stores `bytes` under `digest` (the caller computed the digest of exactly these bytes). Idempotent, as
/// [`put_file`]: bytes already stored are kept when they still hash to the digest, replaced otherwise.
/// Returns whether the digest had no row before.
pub(crate) fn put(conn: &Connection, digest: &Hash, bytes: &[u8]) -> Result<bool, BlobError> {
    ensure(conn)?;
    let held = check(conn, digest)?;
    if held == Some(true) {
        return Ok(false);
    }
    conn.execute("INSERT OR REPLACE INTO blobs (sha256, bytes) VALUES (?1, ?2)", params![digest.0, bytes])?;
    Ok(held.is_none())
}

/// Removes the bytes of `digest` (a purge); returns whether there were any.
pub(crate) fn remove(conn: &Connection, digest: &Hash) -> Result<bool, BlobError> {
    if !exists(conn)? {
        return Ok(false);
    }
    // Overwrite the freed pages so the purged bytes do not linger in the file.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(conn.execute("DELETE FROM blobs WHERE sha256 = ?1", [digest.0])? > 0)
}

/// Whether an entry of `ledger` names the bytes of `digest` (`None`: none does), and whether one that
/// does still wants them: a request or amendment naming its change set, or an evidence entry not purged.
/// Bytes only purged entries name are not to be held (an import reads them without storing them; a
/// command that stored them for an entry then refused removes them).
pub(crate) fn wanted(
    ledger: &crate::ledger::Ledger,
    digest: &Hash,
) -> Result<Option<bool>, crate::ledger::LedgerError> {
    use crate::audit::kinds::{BLOB_FIELDS, EVIDENCE_ATTACHED, EVIDENCE_PURGED};
    let hex = digest.to_hex();
    let mut named = false;
    for (kind, field) in BLOB_FIELDS {
        for id in ledger.ids_where(kind, field, &hex)? {
            named = true;
            if kind != EVIDENCE_ATTACHED || ledger.count_referencing(&id, EVIDENCE_PURGED)? == 0 {
                return Ok(Some(true));
            }
        }
    }
    Ok(named.then_some(false))
}

/// Drops the table of bytes when it holds none (after the only bytes were removed again): a ledger
/// without stored bytes has no such table, and every reader takes its absence for none.
pub(crate) fn drop_if_empty(conn: &Connection) -> Result<(), BlobError> {
    if exists(conn)? && conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM blobs)", [], |r| r.get::<_, bool>(0))? {
        conn.execute_batch("DROP TABLE blobs")?;
    }
    Ok(())
}

/// Whether the bytes of `digest` are stored, and whether they still hash to it (read in chunks, never
/// held whole).
pub(crate) fn check(conn: &Connection, digest: &Hash) -> Result<Option<bool>, BlobError> {
    // Never creates the table: a read-only audit copy of a bundle without blobs has none.
    Ok(scan_stored(conn, digest)?.map(|s| s.digest == *digest))
}

/// Whether a row of bytes is stored under `digest` (not re-hashed: [`put`] replaces a row that does not
/// hash to its digest, and `verify` checks them).
pub(crate) fn holds(conn: &Connection, digest: &Hash) -> Result<bool, BlobError> {
    Ok(exists(conn)?
        && conn.query_row("SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?1)", [digest.0], |r| r.get(0))?)
}

/// The bytes of `digest`, if stored (and not purged).
pub(crate) fn get(conn: &Connection, digest: &Hash) -> Result<Option<Vec<u8>>, BlobError> {
    if !exists(conn)? {
        return Ok(None);
    }
    Ok(conn.query_row("SELECT bytes FROM blobs WHERE sha256 = ?1", [digest.0], |r| r.get(0)).optional()?)
}

/// A blob being written in chunks (an import): the row is created at its full size, filled by
/// [`BlobSink::write`], hashed as it goes, and kept only if [`BlobSink::finish`] finds the digest. The
/// caller's transaction rolls back a blob that is never finished.
pub(crate) struct BlobSink<'c> {
    blob: Option<rusqlite::blob::Blob<'c>>,
    hasher: sha2::Sha256,
    written: u64,
    size: u64,
}

impl<'c> BlobSink<'c> {
    /// Starts a blob of `size` bytes under `digest`. When the blob is already stored, the data is only
    /// hashed. `store` false: only hash (a purged blob that must not be stored again).
    pub(crate) fn start(
        conn: &'c Connection,
        digest: &Hash,
        size: u64,
        store: bool,
    ) -> Result<BlobSink<'c>, BlobError> {
        use sha2::Digest;
        let mut blob = None;
        if store && size > 0 {
            ensure(conn)?;
            let size_i = i64::try_from(size).map_err(|_| rusqlite::Error::ToSqlConversionFailure("size".into()))?;
            let n = conn.execute(
                "INSERT OR IGNORE INTO blobs (sha256, bytes) VALUES (?1, zeroblob(?2))",
                params![digest.0, size_i],
            )?;
            if n == 1 {
                let rowid = conn.last_insert_rowid();
                blob = Some(conn.blob_open(rusqlite::MAIN_DB, c"blobs", c"bytes", rowid, false)?);
            }
        } else if store {
            put(conn, digest, &[])?;
        }
        Ok(BlobSink { blob, hasher: sha2::Sha256::new(), written: 0, size })
    }

    /// Appends a chunk; refuses more bytes than the size announced.
    pub(crate) fn write(&mut self, chunk: &[u8]) -> Result<(), String> {
        use sha2::Digest;
        if self.written + chunk.len() as u64 > self.size {
            return Err(format!("more data than its size {}", self.size));
        }
        if let Some(b) = &mut self.blob {
            b.write_all_at(chunk, self.written as usize).map_err(|e| format!("cannot store it: {e}"))?;
        }
        self.hasher.update(chunk);
        self.written += chunk.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// The digest of the bytes written.
    pub(crate) fn finish(self) -> Hash {
        use sha2::Digest;
        Hash(self.hasher.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an attach opens is the file it checked: a symbolic link put in its place is not followed (the
    /// open fails, reported as a link), a FIFO does not hold the open until a writer comes, and the
    /// checks are made on the handle.
    #[cfg(unix)]
    #[test]
    fn the_file_opened_is_the_one_checked() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "key=1").unwrap();
        let link = dir.path().join("link.log");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        assert_eq!(crate::paths::open_no_follow(&link).unwrap_err().raw_os_error(), Some(libc::ELOOP));
        let fifo = dir.path().join("fifo.log");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let f = crate::paths::open_no_follow(&fifo).expect("a FIFO opens at once, without a writer");
        assert!(!f.metadata().unwrap().is_file());
        let plain = dir.path().join("plain.log");
        std::fs::write(&plain, "ok").unwrap();
        let (_, len) = open_checked(&plain, 10).unwrap();
        assert_eq!(len, 2);
        assert!(matches!(open_checked(&fifo, 10), Err(BlobError::NotAFile(_))));
        assert!(matches!(open_checked(&link, 10), Err(BlobError::Symlink(_))));
    }

    /// SQLite's failure under a blob's reader is the ledger's (classified as damage or the file not read),
    /// anything else the reading's.
    #[test]
    fn a_failed_read_of_a_blob_is_sqlites_when_sqlite_failed() {
        let disk = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR), None);
        match blob_read(std::io::Error::other(disk)) {
            BlobError::Sqlite(e) => assert_eq!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::SystemIoFailure)),
            other => panic!("{other:?}"),
        }
        match blob_read(std::io::Error::new(std::io::ErrorKind::InvalidData, "not zstd")) {
            BlobError::Read(_, e) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidData),
            other => panic!("{other:?}"),
        }
    }

    /// The cap is the SQLite build's own limit: a value of that length is accepted, one byte more is not
    /// (zeroblob values are not materialized by a bare SELECT, so this costs nothing).
    #[test]
    fn the_cap_is_what_sqlite_can_store() {
        let c = Connection::open_in_memory().unwrap();
        let len = |n: u64| c.query_row("SELECT length(zeroblob(?1))", [n as i64], |r| r.get::<_, i64>(0));
        assert_eq!(len(SQLITE_MAX_BLOB).unwrap(), SQLITE_MAX_BLOB as i64);
        assert!(len(SQLITE_MAX_BLOB + 1).unwrap_err().to_string().contains("too big"));
        assert_eq!(cap(64), 64 * 1024 * 1024);
        assert_eq!(cap(4096), SQLITE_MAX_BLOB);
    }
}
