//! Reading the request index: the rows `list` and the queue show, a filter's pages, open obligations.

use crate::audit::projection::Status;
use crate::ledger::{EntryId, Hash, Ledger};
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Utc};

/// Filters for `list` and the queue: a status, environment, risk tier, only flagged, at most this many.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub status: Option<Status>,
    /// Only the statuses of a request still open ([`Status::OPEN`]: what the console's queue lists).
    pub open: bool,
    pub env: Option<String>,
    pub risk: Option<String>,
    pub flagged: bool,
    pub limit: Option<usize>,
}

/// One row of `list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub id: EntryId,
    pub pos: crate::ledger::Pos,
    pub title: String,
    pub status: String,
    pub env: String,
    pub risk: String,
    pub tier: String,
    pub have: u32,
    pub need: u32,
    pub flags: u32,
    pub requester: String,
    pub created: String,
    pub obligation_due: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// Its emergency no longer waives anything at the time it was read, while it is still the request's
    /// phase (its status is shown as *emergency (lapsed)*): worked out as it is read, like `overdue`, so a
    /// row not recomputed since (a read-only copy, a console left open) still says so.
    pub lapsed: bool,
    /// When its emergency stops waiving, while it is in that phase (`lapsed` from then).
    pub waiver_ends: Option<DateTime<Utc>>,
}

/// The columns [`Row::read`] reads, in its order (a caller may select more after them).
pub(crate) const ROW_COLUMNS: &str =
    "id, pos, title, status, env, risk, tier, have, need, flags, requester, created, obligation_due, waiver_ends";

impl Row {
    /// The row selected as [`ROW_COLUMNS`], as it stands at `now` (whether its obligation is overdue).
    pub(crate) fn read(r: &rusqlite::Row<'_>, now: DateTime<Utc>) -> rusqlite::Result<Row> {
        let due: Option<String> = r.get(12)?;
        let due = due.as_deref().and_then(crate::audit::record::parse_time);
        let waiver_ends = r.get::<_, Option<String>>(13)?.as_deref().and_then(crate::audit::record::parse_time);
        Ok(Row {
            id: Hash::from_slice(&r.get::<_, Vec<u8>>(0)?).unwrap_or(Hash([0; 32])),
            pos: crate::ledger::pos::from_key(&r.get::<_, String>(1)?).unwrap_or(0),
            title: r.get(2)?,
            status: r.get(3)?,
            env: r.get(4)?,
            risk: r.get(5)?,
            tier: r.get(6)?,
            have: r.get::<_, i64>(7)? as u32,
            need: r.get::<_, i64>(8)? as u32,
            flags: r.get::<_, i64>(9)? as u32,
            requester: r.get(10)?,
            created: r.get(11)?,
            obligation_due: due,
            overdue: due.is_some_and(|d| d < now),
            lapsed: waiver_ends.is_some_and(|t| t <= now),
            waiver_ends,
        })
    }

    /// Its status as lists show it ([`Status::shown`]).
    pub fn status_shown(&self) -> &str {
        if self.lapsed { Status::Emergency.shown(true) } else { &self.status }
    }
}

/// Rows matching `filter`, most recent first.
pub fn query(ledger: &Ledger, filter: &Filter) -> Result<Vec<Row>, WorkflowError> {
    let mut out = Vec::new();
    query_each(ledger, filter, |r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// Calls `visit` with each row matching `filter`, most recent first, one at a time: a listing of any
/// length in bounded memory.
pub(crate) fn query_each(
    ledger: &Ledger,
    filter: &Filter,
    mut visit: impl FnMut(Row) -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    let mut sql = format!("SELECT {ROW_COLUMNS} FROM request_index WHERE 1 = 1");
    let mut args: Vec<String> = Vec::new();
    if let Some(s) = filter.status {
        args.push(s.as_str().to_string());
        sql.push_str(&format!(" AND status = ?{}", args.len()));
    }
    if filter.open {
        sql.push_str(&format!(" AND status IN ({})", Status::sql_list(&Status::OPEN)));
    }
    if let Some(e) = &filter.env {
        args.push(e.trim().to_string());
        sql.push_str(&format!(" AND env = ?{} COLLATE NOCASE", args.len()));
    }
    if let Some(r) = &filter.risk {
        args.push(r.clone());
        sql.push_str(&format!(" AND tier = ?{}", args.len()));
    }
    if filter.flagged {
        sql.push_str(" AND flags > 0");
    }
    sql.push_str(" ORDER BY pos DESC");
    if let Some(l) = filter.limit {
        sql.push_str(&format!(" LIMIT {l}"));
    }
    let now = crate::workflow::clock::now();
    let mut stmt = ledger.cache_conn().prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| Row::read(r, now))?;
    for row in rows {
        visit(row?)?;
    }
    Ok(())
}

/// Requests that carry an open obligation.
pub(crate) fn with_obligations(ledger: &Ledger) -> Result<Vec<EntryId>, WorkflowError> {
    let mut stmt = ledger.cache_conn().prepare("SELECT id FROM request_index WHERE obligation_due IS NOT NULL")?;
    let ids = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for id in ids {
        out.extend(Hash::from_slice(&id?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    /// `Row::read` reads columns 0–13, and the queue reads `urgency` after them at 14.
    #[test]
    fn the_row_columns_are_the_fourteen_read() {
        assert_eq!(super::ROW_COLUMNS.split(',').count(), 14);
        assert!(super::ROW_COLUMNS.ends_with(", waiver_ends"));
    }
}
