//! Pages of one log's history for browsing: entries in log order, filtered by kind, actor, time and an
//! id scope the caller selects from its own derived tables (e.g. the requests of one status), keyed by
//! log index so a page is found by an index seek however deep it is. Rows are returned as stored; the
//! caller decides what an unreadable statement shows as.

use super::error::LedgerError;
use super::hash::{EntryId, Hash};
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
    /// Only entries that are, or whose first refs name, an id this `SELECT` returns. It is written by the
    /// caller over its own derived tables (never the ledger's), with anonymous `?` placeholders bound to
    /// the strings in order.
    pub scope: Option<(String, Vec<String>)>,
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
    /// The first entry it refers to (for most kinds, its request).
    pub first_ref: Option<EntryId>,
    pub statement: Vec<u8>,
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
    if let Some((sub, sub_args)) = &q.scope {
        args.extend(sub_args.iter().cloned());
        args.extend(sub_args.iter().cloned());
        w.push_str(&format!(
            " AND (e.id IN ({sub}) OR EXISTS (SELECT 1 FROM refs r WHERE r.entry_id = e.id AND r.ref IN ({sub})))"
        ));
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
        let mut args = vec![origin.id.to_string()];
        let w = conditions(q, &mut args);
        let (cond, order, reverse) = match seek {
            Seek::Newest => (String::new(), "DESC", false),
            Seek::Oldest => (String::new(), "ASC", true),
            Seek::Below(i) => (format!(" AND l.idx < {i}"), "DESC", false),
            Seek::Above(i) => (format!(" AND l.idx > {i}"), "ASC", true),
        };
        let sql = format!(
            "SELECT l.idx, e.id, e.kind, e.actor, e.ts, (SELECT r.ref FROM refs r WHERE r.entry_id = e.id LIMIT 1),
                    e.statement
               FROM leaves l CROSS JOIN entries e ON e.id = l.entry_id
              WHERE l.origin = ?{w}{cond} ORDER BY l.idx {order} LIMIT {limit}"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
            Ok(HistoryItem {
                index: r.get::<_, i64>(0)? as u64,
                id: Hash::from_slice(&r.get::<_, Vec<u8>>(1)?).unwrap_or(Hash([0; 32])),
                kind: r.get(2)?,
                actor: r.get(3)?,
                ts: r.get(4)?,
                first_ref: r.get::<_, Option<Vec<u8>>>(5)?.and_then(|b| Hash::from_slice(&b)),
                statement: r.get(6)?,
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
        let mut args = vec![origin.id.to_string()];
        let w = conditions(q, &mut args);
        let sql =
            format!("SELECT COUNT(*) FROM leaves l CROSS JOIN entries e ON e.id = l.entry_id WHERE l.origin = ?{w}");
        let n: i64 = self.conn().query_row(&sql, params_from_iter(args.iter()), |r| r.get(0))?;
        Ok(n as u64)
    }
}
