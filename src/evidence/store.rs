//! The blob store: evidence bytes by SHA-256 in a `blobs` table of the ledger file. Blobs are not ledger
//! rows — their digests are, in the entries that attach them — so a blob can be purged by a signed entry
//! while the chain still verifies.

use crate::ledger::Hash;
use rusqlite::{Connection, OptionalExtension, params};
use std::io::Read;
use std::path::Path;

/// Largest file accepted as evidence unless the policy says otherwise.
pub const MAX_BLOB: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("cannot read {0}: {1}")]
    Read(std::path::PathBuf, std::io::Error),
    #[error("{0} is larger than the {1} bytes the policy allows for evidence (attach a link with --url instead)")]
    TooLarge(std::path::PathBuf, u64),
    #[error("{0} is a symbolic link; attach the file it points to")]
    Symlink(std::path::PathBuf),
    #[error("{0} is not a regular file")]
    NotAFile(std::path::PathBuf),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Creates the table on the first write. Only writers call this: a ledger that never stored a blob has no
/// table, and a reader (a read-only audit copy, `verify`) must not try to create it.
fn ensure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS blobs (sha256 BLOB PRIMARY KEY NOT NULL, bytes BLOB NOT NULL)")
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
pub fn read_file(path: &Path, cap: u64) -> Result<(Vec<u8>, Hash), BlobError> {
    use sha2::{Digest, Sha256};
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
    let mut f = std::fs::File::open(path).map_err(|e| BlobError::Read(path.to_path_buf(), e))?.take(cap + 1);
    let mut bytes = Vec::with_capacity(meta.len() as usize);
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

/// Stores `bytes` under `digest` (idempotent; the caller computed the digest of exactly these bytes).
pub fn put(conn: &Connection, digest: &Hash, bytes: &[u8]) -> Result<(), BlobError> {
    ensure(conn)?;
    conn.execute("INSERT OR IGNORE INTO blobs (sha256, bytes) VALUES (?1, ?2)", params![digest.0, bytes])?;
    Ok(())
}

/// Removes the bytes of `digest` (a purge); returns whether there were any.
pub fn remove(conn: &Connection, digest: &Hash) -> Result<bool, BlobError> {
    if !exists(conn)? {
        return Ok(false);
    }
    // Overwrite the freed pages so the purged bytes do not linger in the file.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(conn.execute("DELETE FROM blobs WHERE sha256 = ?1", [digest.0])? > 0)
}

/// Whether the bytes of `digest` are stored, and whether they still hash to it (read in chunks, never
/// held whole).
pub fn check(conn: &Connection, digest: &Hash) -> Result<Option<bool>, BlobError> {
    use sha2::{Digest, Sha256};
    let Some(rowid) = rowid(conn, digest)? else { return Ok(None) };
    let mut blob = conn.blob_open(rusqlite::MAIN_DB, c"blobs", c"bytes", rowid, true)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = blob.read(&mut buf).map_err(|e| BlobError::Read("the blob store".into(), e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(Some(Hash(h.finalize().into()) == *digest))
}

fn rowid(conn: &Connection, digest: &Hash) -> Result<Option<i64>, BlobError> {
    if !exists(conn)? {
        return Ok(None);
    }
    Ok(conn.query_row("SELECT rowid FROM blobs WHERE sha256 = ?1", [digest.0], |r| r.get(0)).optional()?)
}

/// The bytes of `digest`, if stored (and not purged).
pub fn get(conn: &Connection, digest: &Hash) -> Result<Option<Vec<u8>>, BlobError> {
    if !exists(conn)? {
        return Ok(None);
    }
    Ok(conn.query_row("SELECT bytes FROM blobs WHERE sha256 = ?1", [digest.0], |r| r.get(0)).optional()?)
}

/// A blob being written in chunks (an import): the row is created at its full size, filled by
/// [`BlobSink::write`], hashed as it goes, and kept only if [`BlobSink::finish`] finds the digest. The
/// caller's transaction rolls back a blob that is never finished.
pub struct BlobSink<'c> {
    blob: Option<rusqlite::blob::Blob<'c>>,
    hasher: sha2::Sha256,
    written: u64,
    size: u64,
}

impl<'c> BlobSink<'c> {
    /// Starts a blob of `size` bytes under `digest`. When the blob is already stored, the data is only
    /// hashed. `store` false: only hash (a purged blob that must not be stored again).
    pub fn start(conn: &'c Connection, digest: &Hash, size: u64, store: bool) -> Result<BlobSink<'c>, BlobError> {
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
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), String> {
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
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The digest of the bytes written.
    pub fn finish(self) -> Hash {
        use sha2::Digest;
        Hash(self.hasher.finalize().into())
    }
}
