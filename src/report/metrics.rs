//! Governance figures computed from per-request facts: frequency by period, environment, component and
//! category; time to detect, to approve, to recover and to validate; emergency share and overdue post-hoc
//! reviews; evidence completeness; security flags; failed and partial rollbacks; expired temporary
//! reverts. Every figure carries its population and what it excluded, and the ids behind it, so a reader
//! holding the same bundle can recompute it.

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a report needs to know about one request, read from its signed entries.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct RequestFacts {
    pub id: String,
    pub title: String,
    pub env: String,
    pub component: String,
    pub category: String,
    pub status: String,
    pub requested_at: DateTime<Utc>,
    pub deployed_at: Option<DateTime<Utc>>,
    /// When the approval that met the threshold was signed (the `need`-th approval in time).
    pub approved_at: Option<DateTime<Utc>>,
    pub executed_at: Option<DateTime<Utc>>,
    /// `succeeded`, `partial` or `failed` (of the latest execution).
    pub outcome: Option<String>,
    pub validated_at: Option<DateTime<Utc>>,
    /// `pass` or `fail`.
    pub validation: Option<String>,
    pub emergency: bool,
    pub review_due: Option<DateTime<Utc>>,
    pub reviewed: bool,
    pub evidence_complete: bool,
    pub flags: Vec<String>,
    pub temporary_until: Option<DateTime<Utc>>,
    pub closed: bool,
    /// Withdrawn (its status may read `review-due` while an emergency's review is owed).
    #[serde(default)]
    pub withdrawn: bool,
    pub incident: Option<String>,
    /// Every component the revert touches (`component` is the first).
    #[serde(default)]
    pub components: Vec<String>,
    /// The revert's revisions or digests: the one deployed when it was requested, and the one it returns to.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// When an emergency was invoked for it.
    #[serde(default)]
    pub emergency_at: Option<DateTime<Utc>>,
    /// When that emergency stops waiving (`emergency.waives_for_hours` of the policy in force at it), if
    /// it lapses.
    #[serde(default)]
    pub emergency_until: Option<DateTime<Utc>>,
    /// Its counted executions ran different versions and no review has seen them all (FORMAT.md §1.2,
    /// *Forks*): when the latest of them ran.
    #[serde(default)]
    pub fork_unreviewed: Option<DateTime<Utc>>,
    /// Runs recorded that did not count (the gate did not allow them where they were judged), each
    /// "TIME UTC: why".
    #[serde(default)]
    pub runs_not_counted: Vec<String>,
}

/// A figure with the population it was computed over and what was left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figure {
    /// The value (a count, a share in 0..=1, or hours), absent when the population is empty.
    pub value: Option<f64>,
    pub population: usize,
    pub excluded: usize,
    /// Why requests were left out.
    pub excluded_because: String,
    /// How many requests the figure counts (for a share: those in the numerator).
    pub hits: usize,
    /// The first [`SHOWN_IDS`] of them, oldest first. Every id is listed by walking the facts again with
    /// [`Share::judge`] (a JSON report does), so a report over any number of requests is never held whole.
    pub ids: Vec<String>,
}

/// Ids of a figure kept in memory (what the Markdown report shows before "and N more").
pub(crate) const SHOWN_IDS: usize = 12;

/// Mean and median of a duration in hours.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    pub mean_hours: Option<f64>,
    pub median_hours: Option<f64>,
    pub population: usize,
    pub excluded: usize,
    pub excluded_because: String,
}

/// The rollbacks ingested deployment histories show in the period, matched with requests (`rollcall
/// reconcile`): how many were recorded before they ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ObservedRollbacks {
    /// Rollbacks observed in the period.
    pub observed: usize,
    /// Matched with a request filed before they ran, and after (post hoc, under an emergency).
    pub recorded_before: usize,
    pub recorded_after: usize,
    /// `recorded_before / observed`, absent without observed rollbacks.
    pub share_recorded_before: Option<f64>,
    /// Entry ids of the observations with no request, and with a request that did not clear them.
    pub unrecorded: Vec<String>,
    pub unauthorized: Vec<String>,
}

/// Every figure of a report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    pub requests: usize,
    pub per_week: BTreeMap<String, usize>,
    pub per_month: BTreeMap<String, usize>,
    pub by_env: BTreeMap<String, usize>,
    pub by_component: BTreeMap<String, usize>,
    pub by_category: BTreeMap<String, usize>,
    pub by_status: BTreeMap<String, usize>,
    /// Deployment to rollback request (time to detect).
    pub time_to_detect: Latency,
    /// Request to the approval that met the threshold.
    pub time_to_approve: Latency,
    /// Request to execution (time to recover).
    pub time_to_execute: Latency,
    /// Request to validation.
    pub time_to_validate: Latency,
    pub emergency_share: Figure,
    /// Rollbacks observed in deployment histories (filled by the workflow from `deployment.observed`
    /// entries; empty when nothing was ingested).
    pub rollbacks: ObservedRollbacks,
    pub overdue_reviews: Figure,
    pub evidence_complete_share: Figure,
    pub flagged_share: Figure,
    pub by_flag: BTreeMap<String, usize>,
    pub failed_or_partial: Figure,
    pub expired_temporary: Figure,
}

/// The figures that count requests, each judged per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Share {
    Emergency,
    OverdueReviews,
    EvidenceComplete,
    Flagged,
    FailedOrPartial,
    /// A count, not a share: temporary reverts past their expiry and not closed.
    ExpiredTemporary,
}

impl Share {
    pub(crate) const ALL: [Share; 6] = [
        Share::Emergency,
        Share::OverdueReviews,
        Share::EvidenceComplete,
        Share::Flagged,
        Share::FailedOrPartial,
        Share::ExpiredTemporary,
    ];

    /// Whether `r` is in the figure's population, and whether the figure counts it, at `now`.
    pub(crate) fn judge(self, r: &RequestFacts, now: DateTime<Utc>) -> (bool, bool) {
        match self {
            Share::Emergency => (true, r.emergency),
            Share::OverdueReviews => (r.emergency, !r.reviewed && r.review_due.is_some_and(|d| d < now)),
            Share::EvidenceComplete => (true, r.evidence_complete),
            Share::Flagged => (true, !r.flags.is_empty()),
            Share::FailedOrPartial => (r.outcome.is_some(), matches!(r.outcome.as_deref(), Some("failed" | "partial"))),
            Share::ExpiredTemporary => (true, !r.closed && r.temporary_until.is_some_and(|t| t < now)),
        }
    }

    /// Why requests outside the population are left out.
    fn excluded_because(self) -> &'static str {
        match self {
            Share::OverdueReviews => "not emergencies (no post-hoc review owed)",
            Share::FailedOrPartial => "not executed",
            _ => "",
        }
    }

    /// The figure of `m` this share fills.
    pub(crate) fn of(self, m: &Metrics) -> &Figure {
        match self {
            Share::Emergency => &m.emergency_share,
            Share::OverdueReviews => &m.overdue_reviews,
            Share::EvidenceComplete => &m.evidence_complete_share,
            Share::Flagged => &m.flagged_share,
            Share::FailedOrPartial => &m.failed_or_partial,
            Share::ExpiredTemporary => &m.expired_temporary,
        }
    }

    fn of_mut(self, m: &mut Metrics) -> &mut Figure {
        match self {
            Share::Emergency => &mut m.emergency_share,
            Share::OverdueReviews => &mut m.overdue_reviews,
            Share::EvidenceComplete => &mut m.evidence_complete_share,
            Share::Flagged => &mut m.flagged_share,
            Share::FailedOrPartial => &mut m.failed_or_partial,
            Share::ExpiredTemporary => &mut m.expired_temporary,
        }
    }
}

/// Why `n` durations were left out that end before they start.
fn ends_before(n: usize) -> String {
    format!("{n} ending before {} start (a declared time after the request's)", if n == 1 { "its" } else { "their" })
}

fn hours(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 3_600_000.0
}

/// The durations of one latency figure, gathered one request at a time.
#[derive(Default)]
struct Durations {
    hours: Vec<f64>,
    excluded: usize,
    /// Of those excluded, the ones that end before they start (a time a filer declared, such as the
    /// deploy time, after the request): said apart from the ones whose start is unknown.
    negative: usize,
}

impl Durations {
    fn add(&mut self, h: Option<f64>) {
        match h {
            Some(h) if h >= 0.0 => self.hours.push(h),
            Some(_) => {
                self.excluded += 1;
                self.negative += 1;
            }
            None => self.excluded += 1,
        }
    }

    fn finish(mut self, because: &str) -> Latency {
        let v = &mut self.hours;
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        let median = match n {
            0 => None,
            _ if n % 2 == 1 => Some(v[n / 2]),
            _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
        };
        Latency {
            mean_hours: (n > 0).then(|| v.iter().sum::<f64>() / n as f64),
            median_hours: median,
            population: n,
            excluded: self.excluded,
            excluded_because: match (self.excluded - self.negative, self.negative) {
                (0, 0) => String::new(),
                (_, 0) => because.to_string(),
                (0, n) => ends_before(n),
                (_, n) => format!("{because}, or {}", ends_before(n)),
            },
        }
    }
}

/// Names counted by what they name: without ASCII case and the spaces around them, as every command
/// compares them ([`crate::audit::record::name_key`]), each with the spellings it was written in
/// (spaces trimmed) and how often.
#[derive(Default)]
struct Spellings(std::collections::HashMap<String, BTreeMap<String, usize>>);

impl Spellings {
    fn add(&mut self, name: &str) {
        let spelled = name.trim();
        let key = crate::audit::record::name_key(spelled);
        let spellings = self.0.entry(key).or_default();
        match spellings.get_mut(spelled) {
            Some(n) => *n += 1,
            None => {
                spellings.insert(spelled.to_string(), 1);
            }
        }
    }

    /// One row per name: its most frequent spelling (of equally frequent ones, the first in code point
    /// order) and the count of every spelling.
    fn rows(self) -> BTreeMap<String, usize> {
        self.0
            .into_values()
            .filter_map(|spellings| {
                let total = spellings.values().sum();
                let mut best: Option<(&String, usize)> = None;
                for (s, &n) in &spellings {
                    if best.is_none_or(|(_, b)| n > b) {
                        best = Some((s, n));
                    }
                }
                best.map(|(s, _)| (s.clone(), total))
            })
            .collect()
    }
}

/// The figures, computed one request at a time (oldest first, as the report lists them): memory grows
/// with the number of distinct periods, environments, components and flags, and by one number per request
/// for each duration, never with the requests' text.
pub(crate) struct Builder {
    now: DateTime<Utc>,
    m: Metrics,
    /// Environments and components by name without case or surrounding spaces (as `--env`, `--component`
    /// and `reconcile` compare them), each with its spellings and their counts: one row per name, under its
    /// most frequent spelling.
    envs: Spellings,
    components: Spellings,
    detect: Durations,
    approve: Durations,
    execute: Durations,
    validate: Durations,
}

impl Builder {
    pub(crate) fn new(now: DateTime<Utc>) -> Builder {
        Builder {
            now,
            m: Metrics::default(),
            envs: Spellings::default(),
            components: Spellings::default(),
            detect: Durations::default(),
            approve: Durations::default(),
            execute: Durations::default(),
            validate: Durations::default(),
        }
    }

    pub(crate) fn add(&mut self, r: &RequestFacts) {
        let m = &mut self.m;
        m.requests += 1;
        let week = r.requested_at.iso_week();
        *m.per_week.entry(format!("{}-W{:02}", week.year(), week.week())).or_default() += 1;
        *m.per_month.entry(r.requested_at.format("%Y-%m").to_string()).or_default() += 1;
        // "production ", "Production" and "production" are one environment, shown as most requests wrote it.
        self.envs.add(&r.env);
        self.components.add(&r.component);
        *m.by_category.entry(r.category.clone()).or_default() += 1;
        *m.by_status.entry(r.status.clone()).or_default() += 1;
        for f in &r.flags {
            *m.by_flag.entry(f.clone()).or_default() += 1;
        }
        self.detect.add(r.deployed_at.map(|d| hours(d, r.requested_at)));
        self.approve.add(r.approved_at.map(|a| hours(r.requested_at, a)));
        self.execute.add(r.executed_at.map(|e| hours(r.requested_at, e)));
        self.validate.add(r.validated_at.map(|v| hours(r.requested_at, v)));
        for share in Share::ALL {
            let (within, hit) = share.judge(r, self.now);
            let f = share.of_mut(m);
            if within {
                f.population += 1;
                if hit {
                    f.hits += 1;
                    if f.ids.len() < SHOWN_IDS {
                        f.ids.push(r.id.clone());
                    }
                }
            }
        }
    }

    pub(crate) fn finish(self) -> Metrics {
        let mut m = self.m;
        m.by_env = self.envs.rows();
        m.by_component = self.components.rows();
        m.time_to_detect = self.detect.finish("no known deploy time");
        m.time_to_approve = self.approve.finish("not approved");
        m.time_to_execute = self.execute.finish("not executed");
        m.time_to_validate = self.validate.finish("not validated");
        let all = m.requests;
        for share in Share::ALL {
            let f = share.of_mut(&mut m);
            f.excluded = all - f.population;
            if f.excluded > 0 {
                f.excluded_because = share.excluded_because().to_string();
            }
            f.value = if share == Share::ExpiredTemporary {
                Some(f.hits as f64)
            } else {
                (f.population > 0).then(|| f.hits as f64 / f.population as f64)
            };
        }
        m
    }
}

/// The figures over `requests` (oldest first), with obligations judged at `now` (tests; reports use
/// [`Builder`] while they walk the index).
#[cfg(test)]
pub(crate) fn compute(requests: &[RequestFacts], now: DateTime<Utc>) -> Metrics {
    let mut b = Builder::new(now);
    for r in requests {
        b.add(r);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    fn req(id: &str, d: u32) -> RequestFacts {
        RequestFacts {
            id: id.into(),
            env: "production".into(),
            component: "api".into(),
            category: "critical-bug".into(),
            status: "pending".into(),
            requested_at: t(d, 0),
            ..Default::default()
        }
    }

    /// One environment written four ways is one row, under the spelling most requests used, as `--env`
    /// and `reconcile` take it; a component likewise. Case is ASCII's, as the gate's: "ÄPI" and "äpi" are
    /// two names, and so are the Kelvin sign's "\u{212A}afka" and "kafka".
    #[test]
    fn names_written_with_other_case_or_spaces_are_one_row() {
        let named = |id: &str, env: &str, component: &str| RequestFacts {
            env: env.into(),
            component: component.into(),
            ..req(id, 2)
        };
        let m = compute(
            &[
                named("a", "Production", "ÄPI"),
                named("b", "production", "äpi "),
                named("c", " production", "äpi"),
                named("d", "PRODUCTION", "WEB"),
                named("e", "staging", "web"),
                named("f", "staging", "web"),
                named("g", "staging", "\u{212A}afka"),
                named("h", "staging", "kafka"),
            ],
            t(20, 0),
        );
        assert_eq!(m.by_env, BTreeMap::from([("production".to_string(), 4), ("staging".to_string(), 4)]));
        let components = [("ÄPI", 1), ("äpi", 2), ("web", 3), ("\u{212A}afka", 1), ("kafka", 1)];
        assert_eq!(m.by_component, components.into_iter().map(|(c, n)| (c.to_string(), n)).collect());
    }

    #[test]
    fn figures_match_hand_computed_values() {
        let mut a = req("a", 2);
        a.deployed_at = Some(t(1, 18)); // detect 6 h
        a.approved_at = Some(t(2, 1)); // approve 1 h
        a.executed_at = Some(t(2, 3)); // 3 h
        a.outcome = Some("succeeded".into());
        a.evidence_complete = true;
        let mut b = req("b", 3);
        b.deployed_at = Some(t(3, 0) - chrono::Duration::hours(2)); // detect 2 h
        b.approved_at = Some(t(3, 4)); // 4 h
        b.executed_at = Some(t(3, 5)); // 5 h
        b.outcome = Some("partial".into());
        b.flags = vec!["AUTHZ_CONFIG".into(), "CRYPTO_CHANGE".into()];
        b.env = "staging".into();
        let mut c = req("c", 10);
        c.emergency = true;
        c.review_due = Some(t(12, 0));
        c.executed_at = Some(t(10, 1)); // 1 h
        c.outcome = Some("failed".into());
        c.flags = vec!["AUTHZ_CONFIG".into()];
        let mut d = req("d", 11);
        d.emergency = true;
        d.review_due = Some(t(12, 0));
        d.reviewed = true;
        d.temporary_until = Some(t(11, 12));
        let m = compute(&[a, b, c, d], t(20, 0));
        assert_eq!(m.requests, 4);
        assert_eq!(m.by_env["production"], 3);
        assert_eq!(m.by_env["staging"], 1);
        assert_eq!(m.per_month["2026-03"], 4);
        assert_eq!(m.per_week.values().sum::<usize>(), 4);
        assert_eq!(m.time_to_detect.population, 2);
        assert_eq!(m.time_to_detect.excluded, 2);
        assert_eq!(m.time_to_detect.excluded_because, "no known deploy time");
        assert_eq!(m.time_to_detect.mean_hours, Some(4.0));
        assert_eq!(m.time_to_detect.median_hours, Some(4.0));
        assert_eq!(m.time_to_approve.mean_hours, Some(2.5));
        // 3, 5, 1 hours: median 3, mean 3
        assert_eq!(m.time_to_execute.median_hours, Some(3.0));
        assert_eq!(m.time_to_execute.mean_hours, Some(3.0));
        assert_eq!(m.emergency_share.value, Some(0.5));
        assert_eq!(m.overdue_reviews.population, 2);
        assert_eq!(m.overdue_reviews.ids, vec!["c".to_string()]);
        assert_eq!(m.overdue_reviews.excluded_because, "not emergencies (no post-hoc review owed)");
        assert_eq!(m.evidence_complete_share.value, Some(0.25));
        assert_eq!(m.flagged_share.ids, vec!["b".to_string(), "c".to_string()]);
        assert_eq!(m.by_flag["AUTHZ_CONFIG"], 2);
        assert_eq!(m.failed_or_partial.population, 3);
        assert_eq!(m.failed_or_partial.ids, vec!["b".to_string(), "c".to_string()]);
        assert_eq!(m.expired_temporary.ids, vec!["d".to_string()]);
        assert_eq!((m.expired_temporary.value, m.expired_temporary.population), (Some(1.0), 4));
        assert_eq!(m.failed_or_partial.hits, 2);
    }

    /// Only the first ids are held; the count is of every hit.
    #[test]
    fn a_figure_holds_its_first_ids_and_counts_the_rest() {
        let reqs: Vec<RequestFacts> = (0..30)
            .map(|i| {
                let mut r = req(&format!("r{i:02}"), 2);
                r.emergency = true;
                r
            })
            .collect();
        let m = compute(&reqs, t(20, 0));
        assert_eq!(m.emergency_share.hits, 30);
        assert_eq!(m.emergency_share.ids.len(), SHOWN_IDS);
        assert_eq!(m.emergency_share.ids[0], "r00");
        assert_eq!(m.emergency_share.value, Some(1.0));
    }

    /// A deploy time declared after the request is left out of time to detect under its own reason, not
    /// as "no known deploy time" (it is known, and wrong).
    #[test]
    fn a_duration_that_ends_before_it_starts_is_left_out_saying_so() {
        let mut a = req("a", 2);
        a.deployed_at = Some(t(2, 5));
        let b = req("b", 3);
        let m = compute(&[a.clone()], t(20, 0));
        assert_eq!((m.time_to_detect.population, m.time_to_detect.excluded), (0, 1));
        assert_eq!(
            m.time_to_detect.excluded_because,
            "1 ending before its start (a declared time after the request's)"
        );
        let m = compute(&[a, b], t(20, 0));
        assert_eq!(
            m.time_to_detect.excluded_because,
            "no known deploy time, or 1 ending before its start (a declared time after the request's)"
        );
    }

    #[test]
    fn empty_population_has_no_value() {
        let m = compute(&[], t(1, 0));
        assert_eq!(m.time_to_approve.median_hours, None);
        assert_eq!(m.emergency_share.value, None);
    }
}
