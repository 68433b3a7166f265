//! A governance report as Markdown (for people), JSON (every figure and the ids behind it) and CSV (one
//! row per request). The header names what the report rests on: the ledger, the checkpoints it covers and
//! the verification verdict.

use super::metrics::{Figure, Latency, Metrics, RequestFacts};
use super::timeline::cell;
use chrono::{DateTime, Utc};
use serde::Serialize;

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
    pub verdict: String,
}

/// A request that broke the policy or owes something.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Breach {
    pub id: String,
    pub title: String,
    pub what: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub header: Header,
    pub metrics: Metrics,
    pub breaches: Vec<Breach>,
    pub requests: Vec<RequestFacts>,
}

/// The requests that broke the policy or are overdue, judged at `now`.
pub fn breaches(requests: &[RequestFacts], now: DateTime<Utc>) -> Vec<Breach> {
    let mut out = Vec::new();
    for r in requests {
        let mut add = |what: String| out.push(Breach { id: r.id.clone(), title: r.title.clone(), what });
        if r.emergency && !r.reviewed && r.review_due.is_some_and(|d| d < now) {
            add(format!(
                "post-hoc review overdue since {}",
                r.review_due.map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
            ));
        }
        if !r.closed && r.temporary_until.is_some_and(|t| t < now) {
            add("temporary revert past its expiry and not closed".into());
        }
        if r.executed_at.is_some() && r.approved_at.is_none() && !r.emergency {
            add("executed without the approvals the policy requires".into());
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
        Some(v) => format!("{:.0} % ({} of {})", v * 100.0, f.ids.len(), f.population),
        None => "n/a (no requests)".into(),
    }
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
    let shown: Vec<String> = f.ids.iter().take(12).map(|i| format!("`{}`", &i[..12.min(i.len())])).collect();
    let more = f.ids.len().saturating_sub(12);
    format!("{}{}", shown.join(" "), if more > 0 { format!(" and {more} more") } else { String::new() })
}

fn table(out: &mut String, title: &str, rows: &std::collections::BTreeMap<String, usize>) {
    out.push_str(&format!("\n### {title}\n\n| {title} | requests |\n|---|---|\n"));
    let mut v: Vec<(&String, &usize)> = rows.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (k, n) in v {
        out.push_str(&format!("| {} | {n} |\n", cell(k)));
    }
}

fn day(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "…".into())
}

/// The report as Markdown.
pub fn markdown(r: &Report) -> String {
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
        if h.intact { "intact" } else { "FAILED" },
        cell(&h.verdict)
    ));
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
    if r.breaches.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| request | title | finding |\n|---|---|---|\n");
        for b in &r.breaches {
            out.push_str(&format!("| `{}` | {} | {} |\n", &b.id[..12.min(b.id.len())], cell(&b.title), cell(&b.what)));
        }
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
    out
}

/// The report as one JSON document (pretty-printed, ending in a newline), serialized straight from the
/// report rather than through a `serde_json::Value` tree.
pub fn json(r: &Report) -> String {
    let mut out = serde_json::to_string_pretty(r).unwrap_or_else(|_| "null".into());
    out.push('\n');
    out
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 22] = [
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
];

/// One CSV field (RFC 4180 quoting; a leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet
/// does not run it as a formula).
fn field(s: &str) -> String {
    let s = crate::text::safe(s);
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// The report as CSV, one row per request.
pub fn csv(r: &Report) -> String {
    let ts =
        |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for q in &r.requests {
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
        ];
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field("-1"), "'-1");
    }
}
