//! Reading the request index: the rows `list` and the queue show, a filter's pages, open obligations.

use crate::audit::projection::Status;
use crate::ledger::{EntryId, Hash, Ledger};
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Utc};

/// Filters for `list` and the queue: a status, environment, risk tier, only flagged, at most this many.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub status: Option<Status>,
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
    let mut sql = String::from(
        "SELECT id, pos, title, status, env, risk, tier, have, need, flags, requester, created, obligation_due
           FROM request_index WHERE 1 = 1",
    );
    let mut args: Vec<String> = Vec::new();
    if let Some(s) = filter.status {
        args.push(s.as_str().to_string());
        sql.push_str(&format!(" AND status = ?{}", args.len()));
    }
    if let Some(e) = &filter.env {
        args.push(e.clone());
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
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
        let due: Option<String> = r.get(12)?;
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, i64>(8)?,
            r.get::<_, i64>(9)?,
            r.get::<_, String>(10)?,
            r.get::<_, String>(11)?,
            due,
        ))
    })?;
    for row in rows {
        let (id, pos, title, status, env, risk, tier, have, need, flags, requester, created, due) = row?;
        let due = due.as_deref().and_then(crate::audit::record::parse_time);
        visit(Row {
            id: Hash::from_slice(&id).unwrap_or(Hash([0; 32])),
            pos: crate::ledger::pos::from_key(&pos).unwrap_or(0),
            title,
            status,
            env,
            risk,
            tier,
            have: have as u32,
            need: need as u32,
            flags: flags as u32,
            requester,
            created,
            obligation_due: due,
            overdue: due.is_some_and(|d| d < now),
        })?;
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
