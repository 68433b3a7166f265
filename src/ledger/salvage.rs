//! Salvaging a ledger file whose derived pages are damaged: a new file holding exactly the record of the
//! old one (every table of [`super::schema::LEDGER_TABLES`]), copied row for row through SQLite in one
//! snapshot, without reading the old file's caches (the request index, the search index, the look-up
//! indexes), which a damaged page can make impossible to clear in place. The old file is only read; the
//! new one appears at its path only once complete and checked by the caller, as [`Ledger::create_with`]
//! makes files. The layers above copy what they keep in the file themselves (the evidence blobs), in the
//! same snapshot.

use super::error::LedgerError;
use super::schema;
use super::store::{Ledger, link_new, new_file, remove_temporary, temp_beside};
use rusqlite::Connection;
use std::path::Path;

/// What a salvage copied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Salvaged {
    /// Rows copied, per table, in [`super::schema::LEDGER_TABLES`] order.
    pub rows: Vec<(String, u64)>,
}

/// Copies the record of the ledger at `from` into a new ledger file at `into` (refused when `into`
/// exists), in one snapshot: the tables of the record, then what `more` copies from the same snapshot (the
/// source attached as `old`, read-only); then `finish` (building the caches, verifying) works on the
/// complete copy, and only when it succeeds does the copy appear at `into`. On any failure, or when the
/// process is killed (the next salvage beside it removes what a dead process left), nothing is left at
/// `into`. A table of the record that SQLite finds damaged is [`LedgerError::Damaged`] naming it: the
/// record itself is damaged, and only a peer's bundle or a backup has it.
pub fn salvage<T, E: From<LedgerError>>(
    from: &Path,
    into: &Path,
    more: impl FnOnce(&Connection) -> Result<Vec<(String, u64)>, E>,
    finish: impl FnOnce(&Ledger) -> Result<T, E>,
) -> Result<(T, Salvaged), E> {
    schema::check_header(from)?;
    let tmp = temp_beside(into, "salvage")?;
    let result = copy(from, &tmp, into, more).and_then(|salvaged| {
        let ledger = Ledger::open(&tmp).map_err(|e| copy_failed(into, "opening the copy", e))?;
        let finished = finish(&ledger)?;
        // Whole in the file before it appears at `into`: only the file is linked there.
        ledger.close_whole().map_err(|e| copy_failed(into, "closing the copy", e))?;
        link_new(&tmp, into).map_err(|e| match e {
            LedgerError::AlreadyExists(_) => e,
            e => copy_failed(into, "linking the copy", e),
        })?;
        Ok((finished, salvaged))
    });
    remove_temporary(&tmp);
    result
}

/// The record of `from` and what `more` copies, in one snapshot, into a new file at `tmp`, closed.
fn copy<E: From<LedgerError>>(
    from: &Path,
    tmp: &Path,
    into: &Path,
    more: impl FnOnce(&Connection) -> Result<Vec<(String, u64)>, E>,
) -> Result<Salvaged, E> {
    let mut conn = new_file(tmp).map_err(|e| copy_failed(into, "creating the copy", e))?;
    // Read-only: nothing here can write to the damaged file.
    conn.execute("ATTACH DATABASE ?1 AS old", [read_only_uri(from)?]).map_err(LedgerError::from)?;
    let mut salvaged = Salvaged::default();
    let tx = conn.transaction().map_err(LedgerError::from)?;
    for table in schema::LEDGER_TABLES {
        // SQLite finding the source damaged, or a read that failed (the copy is only written here: the
        // source's disk), is the record's; any other failure (the new file's disk full) is the copy's.
        let failed = |e: rusqlite::Error| {
            let unreadable = matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            ) || matches!(&e, rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.extended_code, rusqlite::ffi::SQLITE_IOERR_READ | rusqlite::ffi::SQLITE_IOERR_SHORT_READ));
            if unreadable {
                LedgerError::Damaged(format!("the record itself cannot be read (table {table}): {e}"))
            } else {
                copy_failed(into, &format!("copying table {table}"), LedgerError::from(e))
            }
        };
        let (columns, rowid) = columns_of(&tx, table)?;
        // Rows keep their rowids where the table has them: the order entries arrived in (`log --follow`).
        let (list, key) = if rowid { (format!("rowid, {columns}"), "ORDER BY rowid") } else { (columns, "") };
        let n = tx
            .execute(&format!("INSERT INTO main.{table} ({list}) SELECT {list} FROM old.{table} {key}"), [])
            .map_err(failed)?;
        salvaged.rows.push((table.to_string(), n as u64));
    }
    salvaged.rows.extend(more(&tx)?);
    let written = |e: rusqlite::Error| copy_failed(into, "writing the copy", LedgerError::from(e));
    tx.commit().map_err(written)?;
    conn.execute("DETACH DATABASE old", []).map_err(written)?;
    conn.close().map_err(|(_, e)| written(e))?;
    Ok(salvaged)
}

/// A failure of the new file at `into` while it is written, built or closed (its disk full, an I/O error),
/// said as the copy's, naming it: the source was read whole by then, so it is not the record's.
pub(crate) fn copy_failed(into: &Path, what: &str, e: LedgerError) -> LedgerError {
    let why = match e {
        LedgerError::Storage(e) | LedgerError::Sqlite(e) => e.to_string(),
        e => e.to_string(),
    };
    LedgerError::Unwritable(into.to_path_buf(), format!("{what}: {why}"))
}

/// The columns of `table` as the new file declares them, comma-separated, and whether it has rowids.
fn columns_of(conn: &Connection, table: &str) -> Result<(String, bool), LedgerError> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1, 'main') ORDER BY cid")?;
    let columns: Vec<String> = stmt.query_map([table], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let sql: String =
        conn.query_row("SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?1", [table], |r| r.get(0))?;
    Ok((columns.join(", "), !sql.contains("WITHOUT ROWID")))
}

/// `file:` URI opening `path` read-only: an empty authority (so that a path starting with `//` is not read
/// as one), then the absolute path with every byte outside the unreserved set and `/` percent-encoded
/// (RFC 3986).
fn read_only_uri(path: &Path) -> Result<String, LedgerError> {
    let absolute = std::path::absolute(path).map_err(|e| LedgerError::Io(path.to_path_buf(), e))?;
    let mut uri = String::from("file://");
    for b in absolute.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => uri.push(*b as char),
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri.push_str("?mode=ro");
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uri_encodes_every_byte_a_uri_reserves() {
        let uri = read_only_uri(Path::new("/tmp/a b?#%é/ledger.db")).unwrap();
        assert_eq!(uri, "file:///tmp/a%20b%3F%23%25%C3%A9/ledger.db?mode=ro");
        assert_eq!(read_only_uri(Path::new("//srv/l.db")).unwrap(), "file:////srv/l.db?mode=ro");
    }
}
