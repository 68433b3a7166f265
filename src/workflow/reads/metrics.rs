//! Figures for the dashboard: the same computations as `rollcall report` (`report::metrics` over the
//! facts of every request, kept in the request index), shaped for the dashboard's charts.

use crate::ledger::Ledger;
use crate::workflow::error::WorkflowError;
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
    /// Rollbacks the ingested deployment histories show, the share recorded before they ran, and those
    /// with no request or with one that did not clear them.
    pub rollbacks_observed: u64,
    pub recorded_before_share: Option<f64>,
    pub unrecorded: u64,
    pub unauthorized: u64,
}

/// Computes the dashboard figures at `now`: the report's computations (`report::metrics`) over every
/// request, plus the obligation counts from the index.
pub(crate) fn compute(ledger: &Ledger, now: DateTime<Utc>) -> Result<Metrics, WorkflowError> {
    let conn = ledger.cache_conn();
    let scalar =
        |sql: &str| -> Result<u64, WorkflowError> { Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
    let start = now - Duration::weeks(12);
    let mut weekly = vec![0u64; 12];
    let mut b = crate::report::metrics::Builder::new(now);
    super::report::each_fact(ledger, &mut |f| {
        b.add(f);
        if f.requested_at >= start {
            let w = ((f.requested_at - start).num_days() / 7).clamp(0, 11) as usize;
            weekly[w] += 1;
        }
    })?;
    let r = b.finish();
    let mut m = Metrics { total: r.requests as u64, ..Default::default() };
    m.weekly = weekly;
    let top = |map: &std::collections::BTreeMap<String, usize>| {
        let mut v: Vec<(String, u64)> = map.iter().map(|(k, n)| (k.clone(), *n as u64)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(8);
        v
    };
    m.by_env = top(&r.by_env);
    m.by_component = top(&r.by_component);
    m.by_status = top(&r.by_status);
    m.emergency_share = r.emergency_share.value.unwrap_or(0.0);
    m.evidence_complete_share = r.evidence_complete_share.value.unwrap_or(0.0);
    m.flagged = r.flagged_share.hits as u64;
    m.median_approval_minutes = r.time_to_approve.median_hours.map(|h| h * 60.0);
    m.median_detect_hours = r.time_to_detect.median_hours;
    let observed = super::reconcile::rollbacks(ledger, &super::reconcile::Options::default())?;
    m.rollbacks_observed = observed.rollbacks as u64;
    m.recorded_before_share = observed.share_recorded_before();
    m.unrecorded = observed.unrecorded.len() as u64;
    m.unauthorized = observed.unauthorized.len() as u64;
    m.open_obligations = scalar("SELECT COUNT(*) FROM request_index WHERE obligation_due IS NOT NULL")?;
    let now_s = crate::ledger::statement::format_ts(now);
    m.overdue_obligations =
        conn.query_row("SELECT COUNT(*) FROM request_index WHERE obligation_due < ?1", [&now_s], |r| {
            r.get::<_, i64>(0)
        })? as u64;
    Ok(m)
}
