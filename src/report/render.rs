//! A governance report as Markdown (for people), JSON (every figure and the ids behind it) and CSV (one
//! row per request). The header names what the report rests on: the ledger, the checkpoints it covers and
//! the verification verdict. Reports are written to a sink while the requests' facts are walked from
//! their source, so a report over any number of requests is never held whole.

use super::metrics::{Figure, Latency, Metrics, RequestFacts, Share};
use super::timeline::cell;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::io::{self, Write};

/// Where a report's requests come from: walked in order (oldest first) as often as a format needs.
pub trait Facts {
    /// Calls `visit` with the facts of every request in the report's scope, oldest first; stops at the
    /// first error.
    fn each(&self, visit: &mut dyn FnMut(&RequestFacts) -> io::Result<()>) -> io::Result<()>;
}

/// The checkpoint of one origin a report covers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Covered {
    pub origin: String,
    pub size: u64,
    pub root: String,
}

/// What a report rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Header {
    pub ledger_id: String,
    pub generated_at: DateTime<Utc>,
    pub generated_by: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub filters: Vec<(String, String)>,
    pub checkpoints: Vec<Covered>,
    pub intact: bool,
    /// Not intact because the ledger could not be read to verify it, not because anything was found wrong.
    pub not_read: bool,
    pub verdict: String,
    /// Governance changes that took effect with fewer admin signatures than a policy their proposal had not
    /// seen asks (`rollcall verify`'s `stale_governance`), one line each.
    pub governance: Vec<String>,
}

/// A request that broke the policy or owes something.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Breach {
    pub id: String,
    pub title: String,
    pub what: String,
}

/// A report's header and figures; its requests and breaches are walked from a [`Facts`] source when it is
/// written.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub header: Header,
    pub metrics: Metrics,
    /// When obligations and expiries are judged.
    pub now: DateTime<Utc>,
    /// The findings of every request in scope, oldest first, when the walk that computed the figures could
    /// hold them all (at most [`HELD_BREACHES`]): the Markdown then lists them without reading every
    /// request's facts a second time. `None`: walk the facts again.
    pub breaches: Option<Vec<Breach>>,
}

/// Findings a report holds from its figures' walk; beyond this it walks the facts again to list them.
pub const HELD_BREACHES: usize = 10_000;

/// The formats a report is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
    Csv,
}

impl Format {
    /// `json`, `csv`, else Markdown.
    pub fn parse(s: &str) -> Format {
        match s {
            "json" => Format::Json,
            "csv" => Format::Csv,
            _ => Format::Markdown,
        }
    }
}

/// Writes `r` in `format` to `out`, walking `facts` for its requests.
pub fn write(r: &Report, facts: &dyn Facts, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Markdown => markdown(r, facts, out),
        Format::Json => json(r, facts, out),
        Format::Csv => csv(facts, out),
    }
}

/// The findings against one request, judged at `now`.
pub fn breaches_of(r: &RequestFacts, now: DateTime<Utc>) -> Vec<Breach> {
    let mut out = Vec::new();
    {
        let mut add = |what: String| out.push(Breach { id: r.id.clone(), title: r.title.clone(), what });
        if r.emergency && !r.reviewed && r.review_due.is_some_and(|d| d < now) {
            add(format!(
                "post-hoc review overdue since {}",
                r.review_due.map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
            ));
        }
        if let Some(at) = r.fork_unreviewed {
            add(format!(
                "its reverts ran different versions of the request (a fork, the latest at {}) and no review has \
                 seen them all",
                at.format("%Y-%m-%d %H:%M")
            ));
        }
        if !r.closed && r.temporary_until.is_some_and(|t| t < now) {
            add("temporary revert past its expiry and not closed".into());
        }
        if r.executed_at.is_some() && r.approved_at.is_none() && !r.emergency {
            add("executed without the approvals the policy requires".into());
        }
        if let Some(first) = r.runs_not_counted.first() {
            let more = match r.runs_not_counted.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            add(format!("a run was recorded that does not count ({first}){more}"));
        }
        if let Some(o @ ("failed" | "partial")) = r.outcome.as_deref() {
            add(format!("execution {o}"));
        }
        if r.validation.as_deref() == Some("fail") {
            add("post-rollback validation failed".into());
        }
        if r.executed_at.is_some() && !r.evidence_complete && !r.emergency {
            add("executed without the complete evidence package".into());
        }
    }
    out
}

fn pct(f: &Figure) -> String {
    match f.value {
        Some(v) => format!("{} % ({} of {})", percent(v), f.hits, f.population),
        // Nothing to count in the scope: no requests, or none of the kind the figure is a share of (no
        // emergencies for the overdue reviews).
        None => "n/a (none in scope)".into(),
    }
}

/// A share as a whole percentage that never says more or less than it is: 299 of 300 is "99", not
/// "100", and 1 of 300 is "1", not "0" (rounding alone would state complete evidence, or no overdue
/// review, where one is missing).
pub(crate) fn percent(share: f64) -> String {
    let p = (share * 100.0).round();
    let p = if share < 1.0 && p >= 100.0 {
        99.0
    } else if share > 0.0 && p <= 0.0 {
        1.0
    } else {
        p
    };
    format!("{p:.0}")
}

fn lat(l: &Latency) -> String {
    let h = |v: Option<f64>| v.map(|x| super::timeline::human(x * 60.0)).unwrap_or_else(|| "n/a".into());
    let mut s = format!("median {}, mean {} over {}", h(l.median_hours), h(l.mean_hours), l.population);
    if l.excluded > 0 {
        s.push_str(&format!(" ({} excluded: {})", l.excluded, l.excluded_because));
    }
    s
}

fn ids(f: &Figure) -> String {
    if f.ids.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = f.ids.iter().take(12).map(|i| format!("`{}`", crate::text::prefix(i, 12))).collect();
    let more = f.hits.saturating_sub(shown.len());
    format!("{}{}", shown.join(" "), if more > 0 { format!(" and {more} more") } else { String::new() })
}

fn table(out: &mut String, title: &str, rows: &std::collections::BTreeMap<String, usize>) {
    out.push_str(&format!("\n### {title}\n\n| {title} | requests |\n|---|---|\n"));
    let mut v: Vec<(&String, &usize)> = rows.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (k, n) in v {
        out.push_str(&format!("| {}{} | {n} |\n", cell(k), lookalike_note(k)));
    }
}

/// A note for a name with characters beyond ASCII: rollcall signs environments only in ASCII, but an entry
/// signed elsewhere may name `prоduction` with a Cyrillic `о`, a row of its own that reads as the real
/// one (and that `--env production` leaves out). The note names the first such character.
fn lookalike_note(name: &str) -> String {
    match name.chars().find(|c| !c.is_ascii()) {
        Some(c) => format!(" (not ASCII: U+{:04X})", c as u32),
        None => String::new(),
    }
}

fn day(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "…".into())
}

/// The report as Markdown.
pub(crate) fn markdown(r: &Report, facts: &dyn Facts, sink: &mut dyn Write) -> io::Result<()> {
    let h = &r.header;
    let m = &r.metrics;
    let mut out = format!("# Rollback governance report, {} to {}\n\n", day(h.since), day(h.until));
    out.push_str(&format!("- Ledger: `{}`\n", h.ledger_id));
    for c in &h.checkpoints {
        out.push_str(&format!(
            "- Covers {} up to its checkpoint of size {} (root `{}`)\n",
            cell(&c.origin),
            c.size,
            c.root
        ));
    }
    out.push_str(&format!(
        "- Verification: **{}** — {}\n",
        if h.intact {
            "intact"
        } else if h.not_read {
            "NOT VERIFIED"
        } else {
            "FAILED"
        },
        cell(&h.verdict)
    ));
    if !h.governance.is_empty() {
        out.push_str(&format!("- {}:\n", cell(&crate::identity::roster::StaleGovernance::heading(h.governance.len()))));
        for g in &h.governance {
            out.push_str(&format!("  - {}\n", cell(g)));
        }
    }
    if !h.filters.is_empty() {
        let f: Vec<String> = h.filters.iter().map(|(k, v)| format!("{k} = {}", cell(v))).collect();
        out.push_str(&format!("- Filters: {}\n", f.join(", ")));
    }
    out.push_str(&format!(
        "- Generated {}{}\n",
        h.generated_at.format("%Y-%m-%d %H:%M UTC"),
        h.generated_by.as_ref().map(|b| format!(" by {}", cell(b))).unwrap_or_default()
    ));
    out.push_str("\n## Summary\n\n| figure | value |\n|---|---|\n");
    out.push_str(&format!("| rollback requests | {} |\n", m.requests));
    out.push_str(&format!("| time to detect (deploy to request) | {} |\n", lat(&m.time_to_detect)));
    out.push_str(&format!("| approval latency (request to approval) | {} |\n", lat(&m.time_to_approve)));
    out.push_str(&format!("| time to recover (request to execution) | {} |\n", lat(&m.time_to_execute)));
    out.push_str(&format!("| request to validation | {} |\n", lat(&m.time_to_validate)));
    out.push_str(&format!("| emergency path | {} |\n", pct(&m.emergency_share)));
    let o = &m.rollbacks;
    out.push_str(&format!(
        "| rollbacks recorded before they ran (of those ingested deployment histories show) | {} |\n",
        match o.share_recorded_before {
            Some(v) => format!(
                "{} % ({} of {}; {} after, post hoc; {} unrecorded; {} unauthorized)",
                percent(v),
                o.recorded_before,
                o.observed,
                o.recorded_after,
                o.unrecorded.len(),
                o.unauthorized.len()
            ),
            None => "— (no rollback observed)".into(),
        }
    ));
    out.push_str(&format!("| post-hoc reviews overdue (of emergencies) | {} |\n", pct(&m.overdue_reviews)));
    out.push_str(&format!("| complete evidence package per policy | {} |\n", pct(&m.evidence_complete_share)));
    out.push_str(&format!("| raised security flags | {} |\n", pct(&m.flagged_share)));
    out.push_str(&format!("| failed or partial rollbacks (of executed) | {} |\n", pct(&m.failed_or_partial)));
    out.push_str(&format!(
        "| temporary reverts past expiry | {} |\n",
        m.expired_temporary.value.map(|v| format!("{v:.0}")).unwrap_or_default()
    ));
    table(&mut out, "environment", &m.by_env);
    table(&mut out, "component", &m.by_component);
    table(&mut out, "category", &m.by_category);
    table(&mut out, "status", &m.by_status);
    table(&mut out, "month", &m.per_month);
    if !m.by_flag.is_empty() {
        table(&mut out, "security flag", &m.by_flag);
    }
    out.push_str("\n## Requests that broke policy or are overdue\n\n");
    sink.write_all(out.as_bytes())?;
    let mut any = false;
    let mut write_breach = |b: &Breach| -> io::Result<()> {
        if !any {
            sink.write_all(b"| request | title | finding |\n|---|---|---|\n")?;
            any = true;
        }
        let line = format!("| `{}` | {} | {} |\n", crate::text::prefix(&b.id, 12), cell(&b.title), cell(&b.what));
        sink.write_all(line.as_bytes())
    };
    match &r.breaches {
        Some(held) => held.iter().try_for_each(&mut write_breach)?,
        None => facts.each(&mut |q| breaches_of(q, r.now).iter().try_for_each(&mut write_breach))?,
    }
    let mut out = String::new();
    if !any {
        out.push_str("None.\n");
    }
    out.push_str("\n## The ids behind the shares\n\n");
    for (label, f) in [
        ("emergency path", &m.emergency_share),
        ("post-hoc review overdue", &m.overdue_reviews),
        ("raised security flags", &m.flagged_share),
        ("failed or partial", &m.failed_or_partial),
        ("temporary past expiry", &m.expired_temporary),
    ] {
        out.push_str(&format!("- {label}: {}\n", if f.ids.is_empty() { "none".into() } else { ids(f) }));
    }
    for (label, list) in
        [("unrecorded rollbacks", &m.rollbacks.unrecorded), ("unauthorized rollbacks", &m.rollbacks.unauthorized)]
    {
        let shown: Vec<String> =
            list.iter().take(SHOWN_OBSERVATIONS).map(|id| format!("`{}`", crate::text::prefix(id, 12))).collect();
        let more = list.len().saturating_sub(SHOWN_OBSERVATIONS);
        out.push_str(&format!(
            "- {label} (observation ids; `rollcall reconcile` lists them): {}{}\n",
            if shown.is_empty() { "none".into() } else { shown.join(", ") },
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
    }
    sink.write_all(out.as_bytes())
}

/// The report as one JSON document (pretty-printed, ending in a newline): `header`, `metrics` (each
/// figure with every id behind it), `breaches` and `requests`, serialized straight to the sink while the
/// facts are walked (once for the requests, once for the breaches, once per figure's ids).
pub(crate) fn json(r: &Report, facts: &dyn Facts, sink: &mut dyn Write) -> io::Result<()> {
    let walk = |what| Walk { facts, now: r.now, what };
    let doc = JsonReport {
        header: &r.header,
        metrics: JsonMetrics { m: &r.metrics, walk: &walk },
        breaches: walk(What::Breaches),
        requests: walk(What::Requests),
    };
    crate::text::json_pretty_to(&mut *sink, &doc).map_err(io::Error::other)?;
    sink.write_all(b"\n")
}

#[derive(Serialize)]
struct JsonReport<'a> {
    header: &'a Header,
    metrics: JsonMetrics<'a>,
    breaches: Walk<'a>,
    requests: Walk<'a>,
}

/// What a JSON array lists for each request.
#[derive(Clone, Copy)]
enum What {
    Requests,
    Breaches,
    /// The request's id, when the figure counts it.
    Ids(Share),
}

/// A JSON array written as the facts are walked.
struct Walk<'a> {
    facts: &'a dyn Facts,
    now: DateTime<Utc>,
    what: What,
}

impl Serialize for Walk<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(None)?;
        let mut failed: Option<S::Error> = None;
        let walked = self.facts.each(&mut |q| {
            let r = match self.what {
                What::Requests => seq.serialize_element(q),
                What::Breaches => breaches_of(q, self.now).iter().try_for_each(|b| seq.serialize_element(b)),
                What::Ids(share) => match share.judge(q, self.now) {
                    (true, true) => seq.serialize_element(&q.id),
                    _ => Ok(()),
                },
            };
            r.map_err(|e| {
                failed = Some(e);
                io::Error::other("serialization failed")
            })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        walked.map_err(S::Error::custom)?;
        seq.end()
    }
}

/// The figures, in the order of [`Metrics`], each share with every id behind it.
struct JsonMetrics<'a> {
    m: &'a Metrics,
    walk: &'a dyn Fn(What) -> Walk<'a>,
}

#[derive(Serialize)]
struct JsonFigure<'a> {
    value: Option<f64>,
    population: usize,
    excluded: usize,
    excluded_because: &'a str,
    ids: Walk<'a>,
}

impl Serialize for JsonMetrics<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let m = self.m;
        let figure = |share: Share| {
            let f = share.of(m);
            JsonFigure {
                value: f.value,
                population: f.population,
                excluded: f.excluded,
                excluded_because: &f.excluded_because,
                ids: (self.walk)(What::Ids(share)),
            }
        };
        let mut st = serializer.serialize_struct("Metrics", 19)?;
        st.serialize_field("requests", &m.requests)?;
        st.serialize_field("per_week", &m.per_week)?;
        st.serialize_field("per_month", &m.per_month)?;
        st.serialize_field("by_env", &m.by_env)?;
        st.serialize_field("by_component", &m.by_component)?;
        st.serialize_field("by_category", &m.by_category)?;
        st.serialize_field("by_status", &m.by_status)?;
        st.serialize_field("time_to_detect", &m.time_to_detect)?;
        st.serialize_field("time_to_approve", &m.time_to_approve)?;
        st.serialize_field("time_to_execute", &m.time_to_execute)?;
        st.serialize_field("time_to_validate", &m.time_to_validate)?;
        st.serialize_field("emergency_share", &figure(Share::Emergency))?;
        st.serialize_field("rollbacks_observed", &m.rollbacks)?;
        st.serialize_field("overdue_reviews", &figure(Share::OverdueReviews))?;
        st.serialize_field("evidence_complete_share", &figure(Share::EvidenceComplete))?;
        st.serialize_field("flagged_share", &figure(Share::Flagged))?;
        st.serialize_field("by_flag", &m.by_flag)?;
        st.serialize_field("failed_or_partial", &figure(Share::FailedOrPartial))?;
        st.serialize_field("expired_temporary", &figure(Share::ExpiredTemporary))?;
        st.end()
    }
}

/// Observation ids a Markdown report lists per finding before "and N more".
const SHOWN_OBSERVATIONS: usize = 12;

/// The CSV columns, in order.
pub(crate) const CSV_COLUMNS: [&str; 24] = [
    "id",
    "title",
    "env",
    "component",
    "category",
    "status",
    "requested_at",
    "deployed_at",
    "approved_at",
    "executed_at",
    "outcome",
    "validated_at",
    "validation",
    "emergency",
    "review_due",
    "reviewed",
    "evidence_complete",
    "flags",
    "temporary_until",
    "closed",
    "incident",
    "hours_to_execute",
    "fork_unreviewed_since",
    "runs_not_counted",
];

/// One CSV field (RFC 4180 quoting; a leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet
/// does not run it as a formula). A field holding `;` is quoted too: a spreadsheet in a locale whose list
/// separator is `;` would split it there, and the piece after it could start a formula.
fn field(s: &str) -> String {
    let s = crate::text::safe(s);
    // A formula is defused (spaces before it too: some spreadsheets skip them); a number is not one, so a
    // negative duration stays a number instead of becoming the text `'-0.250`.
    let formula = s.trim_start().starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err();
    let s = if formula { format!("'{s}") } else { s };
    if s.contains([',', ';', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// The report as CSV, one row per request.
pub(crate) fn csv(facts: &dyn Facts, sink: &mut dyn Write) -> io::Result<()> {
    let ts =
        |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    sink.write_all(out.as_bytes())?;
    facts.each(&mut |q| {
        let hours = q.executed_at.map(|e| format!("{:.3}", (e - q.requested_at).num_seconds() as f64 / 3600.0));
        let row = [
            q.id.clone(),
            q.title.clone(),
            q.env.clone(),
            q.component.clone(),
            q.category.clone(),
            q.status.clone(),
            ts(Some(q.requested_at)),
            ts(q.deployed_at),
            ts(q.approved_at),
            ts(q.executed_at),
            q.outcome.clone().unwrap_or_default(),
            ts(q.validated_at),
            q.validation.clone().unwrap_or_default(),
            q.emergency.to_string(),
            ts(q.review_due),
            q.reviewed.to_string(),
            q.evidence_complete.to_string(),
            q.flags.join(" "),
            ts(q.temporary_until),
            q.closed.to_string(),
            q.incident.clone().unwrap_or_default(),
            hours.unwrap_or_default(),
            ts(q.fork_unreviewed),
            // Each "TIME UTC: why", as the JSON lists them.
            q.runs_not_counted.join("; "),
        ];
        let mut line = row.iter().map(|f| field(f)).collect::<Vec<_>>().join(",");
        line.push_str("\r\n");
        sink.write_all(line.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Listed(Vec<RequestFacts>);

    impl Facts for Listed {
        fn each(&self, visit: &mut dyn FnMut(&RequestFacts) -> io::Result<()>) -> io::Result<()> {
            self.0.iter().try_for_each(visit)
        }
    }

    #[test]
    fn a_share_is_never_rounded_to_all_or_none() {
        assert_eq!(percent(299.0 / 300.0), "99");
        assert_eq!(percent(1.0 / 300.0), "1");
        assert_eq!(
            (percent(1.0), percent(0.0), percent(0.5), percent(2.0 / 3.0)),
            ("100".into(), "0".into(), "50".into(), "67".into())
        );
    }

    #[test]
    fn breaches_held_from_the_figures_walk_read_as_those_walked_again() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-10T00:00:00Z").unwrap().to_utc();
        let at = |d: u32| chrono::DateTime::parse_from_rfc3339(&format!("2026-03-{d:02}T00:00:00Z")).unwrap().to_utc();
        let facts: Vec<RequestFacts> = (1..=6u32)
            .map(|d| RequestFacts {
                id: format!("{d:064x}"),
                title: format!("request {d}"),
                requested_at: at(d),
                executed_at: (d % 2 == 0).then(|| at(d)),
                outcome: (d == 4).then(|| "failed".to_string()),
                ..Default::default()
            })
            .collect();
        let header = Header {
            ledger_id: "0".repeat(64),
            generated_at: now,
            generated_by: None,
            since: None,
            until: Some(now),
            filters: Vec::new(),
            checkpoints: Vec::new(),
            intact: true,
            not_read: false,
            verdict: "ok".into(),
            governance: Vec::new(),
        };
        let metrics = super::super::metrics::compute(&facts, now);
        let held: Vec<Breach> = facts.iter().flat_map(|f| breaches_of(f, now)).collect();
        assert!(held.len() >= 3, "{held:?}");
        let render = |breaches: Option<Vec<Breach>>| {
            let r = Report { header: header.clone(), metrics: metrics.clone(), now, breaches };
            let mut out = Vec::new();
            write(&r, &Listed(facts.clone()), Format::Markdown, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let walked = render(None);
        assert!(walked.contains("execution failed"), "{walked}");
        assert_eq!(render(Some(held)), walked);
    }

    /// Several runs of one request that do not count are one finding, naming the first and how many more.
    #[test]
    fn runs_that_do_not_count_are_one_finding_naming_the_first() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-10T00:00:00Z").unwrap().to_utc();
        let runs = |n: usize| (1..=n).map(|i| format!("2026-03-0{i} 10:00 UTC: run {i}")).collect::<Vec<_>>();
        let said = |n: usize| {
            let r = RequestFacts { runs_not_counted: runs(n), ..Default::default() };
            breaches_of(&r, now).into_iter().map(|b| b.what).collect::<Vec<_>>()
        };
        assert_eq!(said(0), Vec::<String>::new());
        assert_eq!(said(1), ["a run was recorded that does not count (2026-03-01 10:00 UTC: run 1)"]);
        assert_eq!(said(3), ["a run was recorded that does not count (2026-03-01 10:00 UTC: run 1) (and 2 more)"]);
    }

    #[test]
    fn a_name_beyond_ascii_is_marked_in_the_tables() {
        let mut out = String::new();
        let rows =
            std::collections::BTreeMap::from([("production".to_string(), 3), ("pr\u{43e}duction".to_string(), 1)]);
        table(&mut out, "environment", &rows);
        assert!(out.contains("| production | 3 |"), "{out}");
        assert!(out.contains("| pr\u{43e}duction (not ASCII: U+043E) | 1 |"), "{out}");
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("x;=cmd|' /C calc'!A0"), "\"x;=cmd|' /C calc'!A0\"", "one cell in a ; locale too");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field(" =HYPERLINK(1)"), "' =HYPERLINK(1)");
        assert_eq!(field("-1+cmd|' /C calc'!A0"), "'-1+cmd|' /C calc'!A0");
        assert_eq!((field("-0.250"), field("-1"), field("+3")), ("-0.250".into(), "-1".into(), "+3".into()));
    }
}
