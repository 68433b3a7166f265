//! Typed queries over the ledger's tables for the layers above, so no SQL outside `src/ledger/` names
//! them: the kinds present, and look-ups by a field of the statement body (with their partial indexes).
//! These read stored rows as they are; callers that decide anything from them check the rows first.

use super::error::LedgerError;
use super::store::Ledger;
use rusqlite::OptionalExtension;

/// `json_extract` of a body field, exactly as the partial index on it is written (SQLite uses the index
/// only for the identical expression).
fn body(field: &str) -> String {
    format!("json_extract(CAST(statement AS TEXT), '$.body.{field}')")
}

/// Kinds and field names are fixed by the program, never by input; this keeps them plain identifiers.
fn checked(word: &str) -> Result<&str, LedgerError> {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
        Ok(word)
    } else {
        Err(LedgerError::Damaged(format!("{word:?} is not a kind or body field name")))
    }
}

impl Ledger {
    /// Every kind of entry stored, in byte order.
    pub fn kinds(&self) -> Result<Vec<String>, LedgerError> {
        Ok(self.kinds_up_to(usize::MAX)?.unwrap_or_default())
    }

    /// The distinct kinds of the entries stored, in byte order: up to `max` of them (then `None`). One
    /// seek on the kind index per kind, however many entries there are; one scan of the table instead in
    /// a file whose kind index is missing or is not on `kind` (a seek per kind would be a scan per kind).
    pub fn kinds_up_to(&self, max: usize) -> Result<Option<Vec<String>>, LedgerError> {
        let conn = self.conn();
        let mut kinds: Vec<String> = Vec::new();
        let seek = "SELECT min(kind) FROM entries INDEXED BY entries_kind";
        let columns: Vec<Option<String>> = conn
            .prepare_cached("SELECT name FROM pragma_index_info('entries_kind')")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let (true, Ok(mut first), Ok(mut after)) = (
            columns == [Some("kind".to_string())],
            conn.prepare_cached(seek),
            conn.prepare_cached(&format!("{seek} WHERE kind > ?1")),
        ) else {
            let mut scan = conn.prepare_cached("SELECT DISTINCT kind FROM entries ORDER BY kind LIMIT ?1")?;
            let limit = i64::try_from(max).unwrap_or(i64::MAX).saturating_add(1);
            for kind in scan.query_map([limit], |r| r.get(0))? {
                kinds.push(kind?);
            }
            return Ok((kinds.len() <= max).then_some(kinds));
        };
        let mut next: Option<String> = first.query_row([], |r| r.get(0))?;
        while let Some(kind) = next {
            if kinds.len() == max {
                return Ok(None);
            }
            next = after.query_row([&kind], |r| r.get(0))?;
            kinds.push(kind);
        }
        Ok(Some(kinds))
    }

    /// Creates (if missing) the partial index `name` on body field `field` of entries of `kind`, which makes
    /// [`Ledger::bodies_where`] on that pair logarithmic. Fails on a read-only file (callers may ignore it).
    pub fn index_body_field(&self, name: &str, kind: &str, field: &str) -> Result<(), LedgerError> {
        let (name, kind, field) = (checked(name)?, checked(kind)?, checked(field)?);
        if name.contains(['.', '-']) {
            return Err(LedgerError::Damaged(format!("{name:?} is not an index name")));
        }
        self.conn().execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS {name} ON entries({}) WHERE kind = '{kind}'",
            body(field)
        ))?;
        Ok(())
    }

    /// Body fields `want` (as text, absent as `None`) of up to `limit` entries of `kind` whose body field
    /// `field` equals `value`.
    pub fn bodies_where(
        &self,
        kind: &str,
        field: &str,
        value: &str,
        want: &[&str],
        limit: usize,
    ) -> Result<Vec<Vec<Option<String>>>, LedgerError> {
        let (kind, field) = (checked(kind)?, checked(field)?);
        let mut cols = Vec::new();
        for w in want {
            cols.push(body(checked(w)?));
        }
        let sql = format!(
            "SELECT {} FROM entries WHERE kind = '{kind}' AND {} = ?1 LIMIT {limit}",
            cols.join(", "),
            body(field)
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map([value], |r| (0..want.len()).map(|i| r.get::<_, Option<String>>(i)).collect())?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The signature stored with entry `id`, if it is stored (staged rows of an import included: the
    /// import's transaction is on this connection).
    pub fn stored_signature(&self, id: &super::hash::EntryId) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT signature FROM entries WHERE id = ?1")?
            .query_row([id.0], |r| r.get(0))
            .optional()?)
    }

    /// The ids of the entries of `kind` whose body field `field` equals `value` (logarithmic once
    /// [`Ledger::index_body_field`] has indexed that pair, as an import does before it stages its rows).
    pub fn ids_where(&self, kind: &str, field: &str, value: &str) -> Result<Vec<super::hash::EntryId>, LedgerError> {
        let sql =
            format!("SELECT id FROM entries WHERE kind = '{}' AND {} = ?1", checked(kind)?, body(checked(field)?));
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let mut out = Vec::new();
        for id in stmt.query_map([value], |r| r.get::<_, Vec<u8>>(0))? {
            if let Some(id) = super::hash::Hash::from_slice(&id?) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// How many entries of `kind` refer to `id`.
    pub fn count_referencing(&self, id: &super::hash::EntryId, kind: &str) -> Result<u64, LedgerError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM refs r JOIN entries e ON e.id = r.entry_id WHERE r.ref = ?1 AND e.kind = ?2",
            rusqlite::params![id.0, kind],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Calls `visit` with every entry of `kind` whose body field `field` equals `value`, once each, at its
    /// first position, in no particular order (the partial index on the field when the file has one).
    pub fn visit_where<E: From<LedgerError>>(
        &self,
        kind: &str,
        field: &str,
        value: &str,
        mut visit: impl FnMut(super::store::LogRow) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = format!(
            "{} FROM entries e CROSS JOIN leaves l ON l.entry_id = e.id WHERE e.kind = '{}' AND {} = ?1",
            super::store::ROW_COLUMNS,
            checked(kind)?,
            body(checked(field)?)
        );
        self.visit_rows(&sql, [value], &mut visit)
    }

    /// The first entry of `kind` whose body field `field` equals `value`: its body field `want`.
    pub fn body_where(&self, kind: &str, field: &str, value: &str, want: &str) -> Result<Option<String>, LedgerError> {
        Ok(self.bodies_where(kind, field, value, &[want], 1)?.into_iter().next().and_then(|mut r| r.pop().flatten()))
    }
}

#[cfg(test)]
mod tests {
    use crate::ledger::Ledger;

    /// The kinds read one seek at a time are the distinct kinds a scan finds, however they sort (the empty
    /// kind of a row written behind the ledger's back included), and a cap says when there are more.
    #[test]
    fn kinds_are_every_distinct_kind_up_to_a_cap() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = super::super::store::test_ledger(dir.path());
        let raw = rusqlite::Connection::open(&path).unwrap();
        for (i, kind) in ["zeta", "", "alpha", "alpha", "Alpha", "é.kind"].iter().enumerate() {
            raw.execute(
                "INSERT INTO entries VALUES (?1, x'7b7d', zeroblob(64), ?2, 'someone', '2026-12-05T10:00:00Z')",
                rusqlite::params![vec![i as u8; 32], kind],
            )
            .unwrap();
        }
        let ledger = Ledger::open_read_only(&path).unwrap();
        let mut scanned: Vec<String> = raw
            .prepare("SELECT DISTINCT kind FROM entries")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        scanned.sort();
        assert_eq!(scanned, ["", "Alpha", "alpha", "genesis", "zeta", "é.kind"]);
        assert_eq!(ledger.kinds().unwrap(), scanned);
        assert_eq!(ledger.kinds_up_to(6).unwrap(), Some(scanned.clone()));
        assert_eq!(ledger.kinds_up_to(5).unwrap(), None);
        assert_eq!(ledger.kinds_up_to(0).unwrap(), None);
        // Without the kind index, or with another index under its name: the same, from one scan.
        drop(ledger);
        for index in
            ["", "CREATE INDEX entries_kind ON entries(actor)", "CREATE INDEX entries_kind ON entries(kind, actor)"]
        {
            raw.execute_batch("DROP INDEX IF EXISTS entries_kind").unwrap();
            raw.execute_batch(index).unwrap();
            let ledger = Ledger::open_read_only(&path).unwrap();
            assert_eq!(ledger.kinds().unwrap(), scanned, "{index:?}");
            assert_eq!(ledger.kinds_up_to(6).unwrap(), Some(scanned.clone()));
            assert_eq!(ledger.kinds_up_to(5).unwrap(), None);
        }
    }

    #[test]
    fn names_are_plain_identifiers() {
        assert!(super::checked("rollback.executed").is_ok());
        assert!(super::checked("from").is_ok());
        assert!(super::checked("x'; DROP TABLE entries; --").is_err());
        assert!(super::checked("").is_err());
    }
}
