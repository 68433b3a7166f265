//! Pages of one log's history for browsing: entries in log order, filtered by kind, actor, time and an
//! id scope the caller selects from its own derived tables (e.g. the requests of one status), keyed by
//! log index so a page is found by an index seek however deep it is. Rows are returned as stored; the
//! caller decides what an unreadable statement shows as.

use super::error::LedgerError;
use super::hash::{EntryId, Hash};
use super::statement::{KeyCache, parse_head_shallow};
use super::store::Ledger;
use rusqlite::params_from_iter;

/// Which entries of the own log a history page shows.
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    pub kind: Option<String>,
    /// The actor's encoded public key.
    pub actor: Option<String>,
    /// Stamped at or after (RFC 3339, compared as stored).
    pub since: Option<String>,
    /// Stamped before.
    pub until: Option<String>,
    /// Only entries that are, or whose refs name, an id in this scope.
    pub scope: Option<Scope>,
}

/// The ids a history page is narrowed to (e.g. the requests of one status), in the form that keeps the
/// page fast: a few ids, which rarely match, as a list probed against the `refs` table; many ids, which
/// match densely, as a test asked of each entry (an entry's refs are read from its statement then, since
/// the `refs` table is keyed by ref and has no way from an entry to its refs but a scan).
#[derive(Clone, Debug)]
pub enum Scope {
    Ids(Vec<EntryId>),
    /// A `SELECT` over the caller's own derived tables (never the ledger's) that finds a row when `{id}`
    /// is in scope, through an index on `{id}`; its anonymous `?` placeholders are bound to the strings
    /// in order.
    Matching(String, Vec<String>),
}

/// Which end a page is taken from: the newest or the oldest entries, or those beyond a log index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seek {
    Newest,
    Oldest,
    /// Older than this index.
    Below(u64),
    /// Newer than this index.
    Above(u64),
}

/// One entry of a history page, as stored.
#[derive(Clone, Debug)]
pub struct HistoryItem {
    pub index: u64,
    pub id: EntryId,
    pub kind: String,
    pub actor: String,
    pub ts: String,
    /// The first entry its statement refers to (for the lifecycle kinds, its request: docs/FORMAT.md),
    /// `None` for a statement no reader can parse.
    pub first_ref: Option<EntryId>,
    pub statement: Vec<u8>,
}

/// The condition that keeps a log's indexes to `range` (nothing for all of them), its arguments pushed.
fn within(range: std::ops::Range<u64>, args: &mut Vec<String>) -> &'static str {
    if range == (0..u64::MAX) {
        return "";
    }
    // (Bound as text like the origin: the column's integer affinity makes them numbers.)
    args.push(range.start.min(i64::MAX as u64).to_string());
    args.push(range.end.min(i64::MAX as u64).to_string());
    " AND l.idx >= ? AND l.idx < ?"
}

/// The `WHERE` conditions after the origin, and their arguments in order.
fn conditions(q: &HistoryQuery, args: &mut Vec<String>) -> String {
    let mut w = String::new();
    for (value, cond) in [
        (&q.kind, " AND e.kind = ?"),
        (&q.actor, " AND e.actor = ?"),
        (&q.since, " AND e.ts >= ?"),
        (&q.until, " AND e.ts < ?"),
    ] {
        if let Some(v) = value {
            args.push(v.clone());
            w.push_str(cond);
        }
    }
    match &q.scope {
        None => {}
        Some(Scope::Ids(ids)) if ids.is_empty() => w.push_str(" AND 0"),
        Some(Scope::Ids(ids)) => {
            // Hex literals of the ids (hashes this process holds: nothing but hex digits). The entries in
            // scope are listed once (the ids, and what refers to them, by the refs key) and each leaf is
            // looked up in that list.
            let hex: Vec<String> = ids.iter().map(|id| format!("x'{}'", id.to_hex())).collect();
            let rows = hex.iter().map(|h| format!("({h})")).collect::<Vec<_>>().join(", ");
            w.push_str(&format!(
                " AND l.entry_id IN (SELECT column1 FROM (VALUES {rows}) \
                 UNION ALL SELECT r.entry_id FROM refs r WHERE r.ref IN ({}))",
                hex.join(", ")
            ));
        }
        Some(Scope::Matching(sub, sub_args)) => {
            args.extend(sub_args.iter().cloned());
            args.extend(sub_args.iter().cloned());
            // A statement that is not JSON names nothing (json_each would fail the whole page).
            w.push_str(&format!(
                " AND (EXISTS ({}) OR CASE WHEN json_valid(CAST(e.statement AS TEXT)) THEN EXISTS (SELECT 1 FROM \
                 json_each(CAST(e.statement AS TEXT), '$.refs') j WHERE EXISTS ({})) ELSE 0 END)",
                sub.replace("{id}", "e.id"),
                sub.replace("{id}", "unhex(j.value)")
            ));
        }
    }
    w
}

impl Ledger {
    /// At most `limit` entries of `origin`'s log matching `q` from `seek`, newest first.
    pub fn history_page(
        &self,
        origin: &super::store::Origin,
        q: &HistoryQuery,
        seek: Seek,
        limit: usize,
    ) -> Result<Vec<HistoryItem>, LedgerError> {
        self.history_page_in(origin, q, seek, limit, 0..u64::MAX)
    }

    /// As [`Ledger::history_page`], among the entries with an index in `range` only: a page taken a slice
    /// of the log at a time (each slice a seek on the log's index, then a scan of at most the slice).
    pub fn history_page_in(
        &self,
        origin: &super::store::Origin,
        q: &HistoryQuery,
        seek: Seek,
        limit: usize,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<HistoryItem>, LedgerError> {
        if range.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut args = vec![origin.id.to_string()];
        let within = within(range, &mut args);
        let w = conditions(q, &mut args);
        let (cond, order, reverse) = match seek {
            Seek::Newest => (String::new(), "DESC", false),
            Seek::Oldest => (String::new(), "ASC", true),
            Seek::Below(i) => (format!(" AND l.idx < {}", i.min(i64::MAX as u64)), "DESC", false),
            Seek::Above(i) => (format!(" AND l.idx > {}", i.min(i64::MAX as u64)), "ASC", true),
        };
        let sql = format!(
            "SELECT l.idx, e.id, e.kind, e.actor, e.ts, e.statement
               FROM leaves l CROSS JOIN entries e ON e.id = l.entry_id
              WHERE l.origin = ?{within}{w}{cond} ORDER BY l.idx {order} LIMIT {limit}"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        // The first ref is read from the statement's own head, not from the `refs` table: that table is
        // keyed by (ref, entry), so finding an entry's refs there scans it (about a second per page on a
        // million entries), and its smallest ref is not the statement's first.
        let mut keys = KeyCache::default();
        let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
            let statement: Vec<u8> = r.get(5)?;
            let first_ref = parse_head_shallow(&statement, &mut keys).ok().and_then(|h| h.refs.first().copied());
            Ok(HistoryItem {
                index: r.get::<_, i64>(0)? as u64,
                id: Hash::from_slice(&r.get::<_, Vec<u8>>(1)?).unwrap_or(Hash([0; 32])),
                kind: r.get(2)?,
                actor: r.get(3)?,
                ts: r.get(4)?,
                first_ref,
                statement,
            })
        })?;
        let mut out = rows.collect::<Result<Vec<_>, _>>()?;
        if reverse {
            out.reverse();
        }
        Ok(out)
    }

    /// How many entries of `origin`'s log match `q`.
    pub fn history_count(&self, origin: &super::store::Origin, q: &HistoryQuery) -> Result<u64, LedgerError> {
        self.count_where(origin, q, 0..u64::MAX)
    }

    /// How many entries of `origin`'s log with an index in `range` match `q`: a count taken a slice at a
    /// time (each slice is a seek on the log's index, then a scan of the slice).
    pub fn history_count_in(
        &self,
        origin: &super::store::Origin,
        q: &HistoryQuery,
        range: std::ops::Range<u64>,
    ) -> Result<u64, LedgerError> {
        if range.is_empty() {
            return Ok(0);
        }
        self.count_where(origin, q, range)
    }

    fn count_where(
        &self,
        origin: &super::store::Origin,
        q: &HistoryQuery,
        range: std::ops::Range<u64>,
    ) -> Result<u64, LedgerError> {
        let mut args = vec![origin.id.to_string()];
        let within = within(range, &mut args);
        let w = conditions(q, &mut args);
        let sql = format!(
            "SELECT COUNT(*) FROM leaves l CROSS JOIN entries e ON e.id = l.entry_id WHERE l.origin = ?{within}{w}"
        );
        let n: i64 = self.conn().prepare_cached(&sql)?.query_row(params_from_iter(args.iter()), |r| r.get(0))?;
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::key::PublicKey;
    use crate::ledger::statement::Statement;
    use ed25519_dalek::SigningKey;

    /// A page names each entry's first ref as its statement gives it (for the lifecycle kinds, the request),
    /// not the smallest of its refs, and an entry without refs has none.
    #[test]
    fn a_pages_first_ref_is_the_statements_first() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = crate::ledger::store::test_ledger(dir.path());
        let mut l = Ledger::open(&path).unwrap();
        let key = SigningKey::from_bytes(&[7; 32]);
        let actor = PublicKey::from_signing(&key);
        let note = |l: &Ledger, text: &str, refs: &[EntryId]| {
            Statement::new("note", &actor, serde_json::json!({ "text": text }), refs).sign(&key, &l.domain()).unwrap()
        };
        let (a, b) = (note(&l, "a", &[]), note(&l, "b", &[]));
        let (low, high) = if a.id < b.id { (a.id, b.id) } else { (b.id, a.id) };
        let c = note(&l, "c", &[high, low]);
        l.append(&[a, b, c.clone()], None, &key, i64::MAX).unwrap();
        let own = l.own_origin().clone();
        let page = l.history_page(&own, &HistoryQuery::default(), Seek::Newest, 10).unwrap();
        let first_refs: Vec<(EntryId, Option<EntryId>)> = page.iter().map(|i| (i.id, i.first_ref)).collect();
        assert_eq!(first_refs[0], (c.id, Some(high)), "{first_refs:?}");
        assert!(first_refs[1..].iter().all(|(_, r)| r.is_none()), "{first_refs:?}");
    }
}
