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

fn ensure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS blobs (sha256 BLOB PRIMARY KEY NOT NULL, bytes BLOB NOT NULL)")
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
    ensure(conn)?;
    // Overwrite the freed pages so the purged bytes do not linger in the file.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(conn.execute("DELETE FROM blobs WHERE sha256 = ?1", [digest.0])? > 0)
}

/// Whether the bytes of `digest` are stored, and whether they still hash to it.
pub fn check(conn: &Connection, digest: &Hash) -> Result<Option<bool>, BlobError> {
    Ok(get(conn, digest)?.map(|b| Hash::of(&[&b]) == *digest))
}

/// The bytes of `digest`, if stored (and not purged).
pub fn get(conn: &Connection, digest: &Hash) -> Result<Option<Vec<u8>>, BlobError> {
    ensure(conn)?;
    Ok(conn.query_row("SELECT bytes FROM blobs WHERE sha256 = ?1", [digest.0], |r| r.get(0)).optional()?)
}
