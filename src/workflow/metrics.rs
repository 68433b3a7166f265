//! Figures for the dashboard, computed from the request index and the log in a few SQL passes (so a
//! million entries stay fast): rollbacks per week, by environment, component and status; time to
//! approval and to detection; emergency share; evidence completeness; obligations.

use super::error::WorkflowError;
use crate::ledger::Ledger;
use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    pub total: u64,
    /// Requests per week over the last 12 weeks, oldest first.
    pub weekly: Vec<u64>,
    pub by_env: Vec<(String, u64)>,
    pub by_component: Vec<(String, u64)>,
    pub by_status: Vec<(String, u64)>,
    pub emergency_share: f64,
    pub evidence_complete_share: f64,
    pub median_approval_minutes: Option<f64>,
    pub median_detect_hours: Option<f64>,
    pub open_obligations: u64,
    pub overdue_obligations: u64,
    pub flagged: u64,
}

fn group(ledger: &Ledger, col: &str) -> Result<Vec<(String, u64)>, WorkflowError> {
    let mut stmt = ledger
        .cache_conn()
        .prepare(&format!("SELECT {col}, COUNT(*) FROM request_index GROUP BY {col} ORDER BY COUNT(*) DESC LIMIT 8"))?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    Some(v[v.len() / 2])
}

/// Computes the dashboard figures at `now`.
pub fn compute(ledger: &Ledger, now: DateTime<Utc>) -> Result<Metrics, WorkflowError> {
    let conn = ledger.cache_conn();
    let scalar =
        |sql: &str| -> Result<u64, WorkflowError> { Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
    let mut m = Metrics { total: scalar("SELECT COUNT(*) FROM request_index")?, ..Default::default() };
    let start = now - Duration::weeks(12);
    let mut weekly = vec![0u64; 12];
    let mut stmt = conn.prepare_cached("SELECT created FROM request_index WHERE created >= ?1")?;
    for c in stmt.query_map([crate::ledger::statement::format_ts(start)], |r| r.get::<_, String>(0))? {
        if let Some(t) = crate::audit::record::parse_time(&c?) {
            let w = ((t - start).num_days() / 7).clamp(0, 11) as usize;
            weekly[w] += 1;
        }
    }
    m.weekly = weekly;
    m.by_env = group(ledger, "env")?;
    m.by_component = group(ledger, "component")?;
    m.by_status = group(ledger, "status")?;
    if m.total > 0 {
        m.emergency_share = scalar("SELECT COUNT(*) FROM request_index WHERE emergency = 1")? as f64 / m.total as f64;
        m.evidence_complete_share =
            scalar("SELECT COUNT(*) FROM request_index WHERE evidence_ok = 1")? as f64 / m.total as f64;
    }
    m.flagged = scalar("SELECT COUNT(*) FROM request_index WHERE flags > 0")?;
    m.open_obligations = scalar("SELECT COUNT(*) FROM request_index WHERE obligation_due IS NOT NULL")?;
    let now_s = crate::ledger::statement::format_ts(now);
    m.overdue_obligations =
        conn.query_row("SELECT COUNT(*) FROM request_index WHERE obligation_due < ?1", [&now_s], |r| {
            r.get::<_, i64>(0)
        })? as u64;
    // First counted-or-not approval after each request (a bounded sample keeps this fast).
    let mut stmt = conn.prepare_cached(
        "SELECT (julianday(MIN(e.ts)) - julianday(ri.created)) * 1440.0
           FROM request_index ri JOIN refs r ON r.ref = ri.id CROSS JOIN entries e ON e.id = r.entry_id
          WHERE e.kind = 'approval.granted' GROUP BY ri.id ORDER BY ri.pos DESC LIMIT 20000",
    )?;
    m.median_approval_minutes = median(stmt.query_map([], |r| r.get::<_, f64>(0))?.collect::<Result<Vec<_>, _>>()?);
    let mut stmt = conn.prepare_cached(
        "SELECT (julianday(created) - julianday(deployed_at)) * 24.0 FROM request_index WHERE deployed_at IS NOT NULL LIMIT 20000",
    )?;
    m.median_detect_hours = median(stmt.query_map([], |r| r.get::<_, f64>(0))?.collect::<Result<Vec<_>, _>>()?);
    Ok(m)
}
