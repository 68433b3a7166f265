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

/// Computes the dashboard figures at `now` at once (the console takes them a step at a time with
/// [`MetricsScan`]).
#[cfg(test)]
fn compute(ledger: &Ledger, now: DateTime<Utc>) -> Result<Metrics, WorkflowError> {
    let mut scan = MetricsScan::start(now);
    loop {
        if let Some(m) = scan.step(ledger, u64::MAX)? {
            return Ok(m);
        }
    }
}

/// The dashboard figures at `now`: the report's computations (`report::metrics`) over every request, plus
/// the obligation counts from the index, computed a slice of the requests at a time ([`MetricsScan::step`],
/// in the index's `created` order): on 660,000 requests the whole takes seconds, and the console's read
/// worker answers pages and details between the slices. The last step adds what the deployment histories
/// show.
pub struct MetricsScan {
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    weekly: Vec<u64>,
    builder: crate::report::metrics::Builder,
    /// The last request added (`created`, id); `None` before the first.
    after: Option<(String, Vec<u8>)>,
}

impl MetricsScan {
    /// The figures at `now`, nothing read yet.
    pub fn start(now: DateTime<Utc>) -> MetricsScan {
        MetricsScan {
            now,
            start: now - Duration::weeks(12),
            weekly: vec![0u64; 12],
            builder: crate::report::metrics::Builder::new(now),
            after: None,
        }
    }

    /// Adds up to `at_most` more requests; once every one is in, the figures.
    pub fn step(&mut self, ledger: &Ledger, at_most: u64) -> Result<Option<Metrics>, WorkflowError> {
        let (start, weekly, b) = (self.start, &mut self.weekly, &mut self.builder);
        let mut n = 0u64;
        let last = super::report::each_fact_after(ledger, self.after.as_ref(), at_most, &mut |f| {
            n += 1;
            b.add(f);
            if f.requested_at >= start {
                let w = ((f.requested_at - start).num_days() / 7).clamp(0, 11) as usize;
                weekly[w] += 1;
            }
        })?;
        if n >= at_most.max(1) && last.is_some() {
            self.after = last;
            return Ok(None);
        }
        let b = std::mem::replace(&mut self.builder, crate::report::metrics::Builder::new(self.now));
        finish(ledger, self.now, b, std::mem::take(&mut self.weekly)).map(Some)
    }
}

/// The figures from the requests' `b` and `weekly` counts, with the deployment histories' and the
/// obligations'.
fn finish(
    ledger: &Ledger,
    now: DateTime<Utc>,
    b: crate::report::metrics::Builder,
    weekly: Vec<u64>,
) -> Result<Metrics, WorkflowError> {
    let conn = ledger.cache_conn();
    let scalar =
        |sql: &str| -> Result<u64, WorkflowError> { Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The figures computed a slice of the requests at a time are those computed at once, whatever the
    /// slice, and a slice of every request is one step.
    #[test]
    fn figures_in_steps_are_the_figures_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap().with_timezone(&Utc);
        let d =
            crate::workflow::clock::at(now, || crate::demo::build(&dir.path().join("demo"), 0, &mut |_| {})).unwrap();
        let ledger = d.context().open().unwrap();
        crate::workflow::index::refresh(&ledger, now).unwrap();
        let at_once = compute(&ledger, now).unwrap();
        assert!(at_once.total > 3 && at_once.by_env.len() > 1, "the demo has requests: {at_once:?}");
        for slice in [1, 2, 5, at_once.total, u64::MAX] {
            let mut scan = MetricsScan::start(now);
            let mut steps = 1;
            let m = loop {
                match scan.step(&ledger, slice).unwrap() {
                    Some(m) => break m,
                    None => steps += 1,
                }
            };
            assert_eq!(m, at_once, "slices of {slice}");
            // A step that reads a full slice cannot know it was the last: one more finds none.
            let expected = at_once.total / slice + 1;
            assert_eq!(steps, expected, "slices of {slice}");
        }
    }
}
