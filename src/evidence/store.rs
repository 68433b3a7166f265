//! The blob store: evidence bytes by SHA-256 in a `blobs` table of the ledger file. Blobs are not ledger
//! rows — their digests are, in the entries that attach them — so a blob can be purged by a signed entry
//! while the chain still verifies.

use crate::ledger::Hash;
use rusqlite::{Connection, OptionalExtension, params};
use std::io::Read;
use std::path::Path;

/// Largest file accepted as evidence.
pub const MAX_BLOB: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("cannot read {0}: {1}")]
    Read(std::path::PathBuf, std::io::Error),
    #[error("{0} is {1} bytes; evidence files are limited to {MAX_BLOB} bytes (attach a link with --url instead)")]
    TooLarge(std::path::PathBuf, u64),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

fn ensure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS blobs (sha256 BLOB PRIMARY KEY NOT NULL, bytes BLOB NOT NULL)")
}

/// Reads a file for attachment, refusing huge ones.
pub fn read_file(path: &Path) -> Result<Vec<u8>, BlobError> {
    let meta = std::fs::metadata(path).map_err(|e| BlobError::Read(path.to_path_buf(), e))?;
    if !meta.is_file() {
        return Err(BlobError::Read(path.to_path_buf(), std::io::Error::other("not a regular file")));
    }
    if meta.len() > MAX_BLOB {
        return Err(BlobError::TooLarge(path.to_path_buf(), meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_BLOB + 1).read_to_end(&mut bytes))
        .map_err(|e| BlobError::Read(path.to_path_buf(), e))?;
    if bytes.len() as u64 > MAX_BLOB {
        return Err(BlobError::TooLarge(path.to_path_buf(), bytes.len() as u64));
    }
    Ok(bytes)
}

/// Stores `bytes` (idempotent) and returns their digest.
pub fn put(conn: &Connection, bytes: &[u8]) -> Result<Hash, BlobError> {
    ensure(conn)?;
    let digest = Hash::of(&[bytes]);
    conn.execute("INSERT OR IGNORE INTO blobs (sha256, bytes) VALUES (?1, ?2)", params![digest.0, bytes])?;
    Ok(digest)
}

/// The bytes of `digest`, if stored (and not purged).
pub fn get(conn: &Connection, digest: &Hash) -> Result<Option<Vec<u8>>, BlobError> {
    ensure(conn)?;
    Ok(conn.query_row("SELECT bytes FROM blobs WHERE sha256 = ?1", [digest.0], |r| r.get(0)).optional()?)
}

/// A media type guessed from the file name and content.
pub fn media_type(name: &str, bytes: &[u8]) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_string();
    if lower.ends_with(".sarif") || lower.ends_with(".sarif.json") {
        "application/sarif+json"
    } else if lower.ends_with(".xml")
        || head.trim_start().starts_with("<?xml")
        || head.trim_start().starts_with("<testsuite")
    {
        "application/xml"
    } else if lower.ends_with(".json") || head.trim_start().starts_with('{') || head.trim_start().starts_with('[') {
        "application/json"
    } else if std::str::from_utf8(bytes).is_ok() {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}
