//! Decision timelines for post-mortems: every entry about a request (or every request of an incident) in
//! order, with the time since the previous event and since the first, and the key latencies (request to
//! approval, to emergency, to execution, to validation, to review).

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One entry on a timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Event {
    pub at: DateTime<Utc>,
    pub kind: String,
    /// Who signed it (name and key id).
    pub actor: String,
    /// The request it belongs to (short id) and that request's title.
    pub request: String,
    pub entry_id: String,
    /// A one-line summary of its body (outcome, decision and comment, evidence name, …).
    pub summary: String,
    /// Why it did not count, when it did not.
    pub ignored: Option<String>,
    /// Minutes since the previous event and since the first.
    pub since_previous_min: f64,
    pub since_start_min: f64,
}

/// A named latency between two events.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Span {
    pub label: String,
    pub request: String,
    pub minutes: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Timeline {
    pub title: String,
    pub events: Vec<Event>,
    pub latencies: Vec<Span>,
}

/// Orders `events` by time (keeping log order for equal times), fills in the gaps and the key latencies.
pub(crate) fn build(title: &str, mut events: Vec<Event>) -> Timeline {
    events.sort_by_key(|e| e.at);
    let start = events.first().map(|e| e.at);
    let mut prev = start;
    for e in &mut events {
        e.since_previous_min = prev.map(|p| minutes(p, e.at)).unwrap_or(0.0);
        e.since_start_min = start.map(|s| minutes(s, e.at)).unwrap_or(0.0);
        prev = Some(e.at);
    }
    let mut latencies = Vec::new();
    let mut requests: Vec<&str> = events.iter().map(|e| e.request.as_str()).collect();
    requests.dedup();
    requests.sort();
    requests.dedup();
    for req in requests {
        let of = |kind: &str| {
            events.iter().find(|e| e.request == req && e.kind == kind && e.ignored.is_none()).map(|e| e.at)
        };
        let Some(requested) = of("rollback.requested") else { continue };
        for (label, kind, from) in [
            ("request to first approval", "approval.granted", Some(requested)),
            ("request to emergency", "emergency.invoked", Some(requested)),
            ("request to execution", "rollback.executed", Some(requested)),
            ("execution to validation", "rollback.validated", of("rollback.executed")),
            ("request to review", "rollback.reviewed", Some(requested)),
        ] {
            if let (Some(from), Some(to)) = (from, of(kind)) {
                latencies.push(Span { label: label.into(), request: req.to_string(), minutes: minutes(from, to) });
            }
        }
    }
    Timeline { title: title.to_string(), events, latencies }
}

fn minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 60_000.0
}

/// A duration for people: "45 s", "12 min", "3.5 h", "2.1 d".
pub(crate) fn human(minutes: f64) -> String {
    let m = minutes.abs();
    let sign = if minutes < 0.0 { "-" } else { "" };
    if m < 1.0 {
        format!("{sign}{:.0} s", m * 60.0)
    } else if m < 120.0 {
        format!("{sign}{m:.0} min")
    } else if m < 48.0 * 60.0 {
        format!("{sign}{:.1} h", m / 60.0)
    } else {
        format!("{sign}{:.1} d", m / 1440.0)
    }
}

/// Text made safe for a Markdown table cell: terminal controls escaped, newlines neutralized, and what
/// Markdown or HTML would read as markup (a pipe ending the cell, a link or image, a tag, a bare address
/// that GitHub's Markdown would make a link: `https://…`, `www.…`, an e-mail address or `mailto:` by its
/// `@`) escaped, so a title an enrolled member
/// wrote renders as the text it is and nothing in a report is a link a reader did not write. Emphasis and
/// code marks (`*`, `_`, `~`, `` ` ``) are escaped too (a title in bold would imitate the report's own
/// verdicts, a backtick would turn the rest of the cell into code), and `&` is written `&amp;`: a character
/// reference (`&#x202E;`) would otherwise render as the very bidi override the terminal escaping removed.
/// `$` is escaped (GitHub renders `$…$` as math), and so is what would open a block where the text starts
/// a line or a list item (the header's governance lines): a leading `#`, `+` or `-`, and the `.` or `)`
/// after leading digits (a heading, a nested list, a numbered list).
pub(crate) fn cell(s: &str) -> String {
    let mut out = String::new();
    let text = crate::text::safe(s);
    let mut rest = text.as_str();
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        // `\:`, `\.` and `\@` read as the characters themselves, and no autolink starts at them.
        let www = out.len() >= 3 && out.as_bytes()[out.len() - 3..].eq_ignore_ascii_case(b"www");
        if c == ':' && after.starts_with("//") || c == '.' && www {
            out.push('\\');
            out.push(c);
            rest = after;
            continue;
        }
        rest = after;
        match c {
            // Within a word (`GATE_BYPASS`) an underscore starts no emphasis: kept as it is.
            '_' if out.chars().next_back().is_some_and(char::is_alphanumeric)
                && after.chars().next().is_some_and(char::is_alphanumeric) =>
            {
                out.push('_')
            }
            '\\' | '|' | '[' | ']' | '@' | '*' | '_' | '~' | '`' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '+' | '-' if out.trim().is_empty() => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if !out.trim().is_empty() && out.trim_start().bytes().all(|b| b.is_ascii_digit()) => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The timeline as Markdown for a post-mortem document.
pub(crate) fn markdown(t: &Timeline) -> String {
    let mut out = format!("## Timeline: {}\n\n", cell(&t.title));
    out.push_str("| time (UTC) | +prev | +start | request | event | by | details |\n|---|---|---|---|---|---|---|\n");
    for e in &t.events {
        let details = match &e.ignored {
            Some(why) => format!("{} (does not count: {})", e.summary, why),
            None => e.summary.clone(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            e.at.format("%Y-%m-%d %H:%M:%S"),
            human(e.since_previous_min),
            human(e.since_start_min),
            cell(&e.request),
            cell(&e.kind),
            cell(&e.actor),
            cell(&details)
        ));
    }
    if !t.latencies.is_empty() {
        out.push_str("\n### Decision latencies\n\n| request | latency | time |\n|---|---|---|\n");
        for l in &t.latencies {
            out.push_str(&format!("| {} | {} | {} |\n", cell(&l.request), cell(&l.label), human(l.minutes)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ev(min: i64, kind: &str) -> Event {
        Event {
            at: Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).unwrap() + chrono::Duration::minutes(min),
            kind: kind.into(),
            actor: "carol".into(),
            request: "abcd1234".into(),
            entry_id: format!("{min:064}"),
            summary: "x | y".into(),
            ignored: None,
            since_previous_min: 0.0,
            since_start_min: 0.0,
        }
    }

    #[test]
    fn order_gaps_and_latencies_are_exact() {
        let t = build(
            "INC-1",
            vec![
                ev(90, "rollback.executed"),
                ev(0, "rollback.requested"),
                ev(30, "approval.granted"),
                ev(95, "rollback.validated"),
            ],
        );
        let kinds: Vec<&str> = t.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["rollback.requested", "approval.granted", "rollback.executed", "rollback.validated"]);
        assert_eq!(t.events[2].since_previous_min, 60.0);
        assert_eq!(t.events[3].since_start_min, 95.0);
        let l: Vec<(&str, f64)> = t.latencies.iter().map(|s| (s.label.as_str(), s.minutes)).collect();
        assert_eq!(
            l,
            [("request to first approval", 30.0), ("request to execution", 90.0), ("execution to validation", 5.0)]
        );
        let md = markdown(&t);
        assert!(md.contains("x \\| y"), "{md}");
        assert!(md.contains("| request to execution | 90 min |"));
    }

    #[test]
    fn bare_addresses_are_not_links() {
        assert_eq!(
            cell("see https://evil.example/x and WWW.evil.example"),
            "see https\\://evil.example/x and WWW\\.evil.example"
        );
        assert_eq!(cell("ratio 3:1, time 10:30, file.txt"), "ratio 3:1, time 10:30, file.txt");
        assert_eq!(cell("[click](http://x)"), "\\[click\\](http\\://x)");
        // What would open a block at the start of a list item, and math.
        assert_eq!(cell("# heading"), "\\# heading");
        assert_eq!(cell("- item"), "\\- item");
        assert_eq!(cell("+ item"), "\\+ item");
        assert_eq!(cell("12. item"), "12\\. item");
        assert_eq!(cell("3) item"), "3\\) item");
        assert_eq!(cell("$x^2$ costs $5"), "\\$x^2\\$ costs \\$5");
        assert_eq!(cell("a-b #3 v1.2 (x)"), "a-b #3 v1.2 (x)", "only at the start");
        assert_eq!((cell(" # x"), cell("  7. x")), (" \\# x".to_string(), "  7\\. x".to_string()), "after spaces too");
        assert_eq!(
            cell("mail ops@evil.example or mailto:ops@evil.example"),
            "mail ops\\@evil.example or mailto:ops\\@evil.example"
        );
    }

    /// Emphasis, code and character references from a member's text render as the characters written:
    /// no bold verdict, no code span swallowing the escapes, no `&#x202E;` turning into the bidi override
    /// the terminal escaping removed.
    #[test]
    fn emphasis_code_and_character_references_are_text() {
        assert_eq!(
            cell("**approved by security** ~~x~~ `c` _e_"),
            "\\*\\*approved by security\\*\\* \\~\\~x\\~\\~ \\`c\\` \\_e\\_"
        );
        assert_eq!(cell("invoice &#x202E;fdp.exe &amp;"), "invoice &amp;#x202E;fdp.exe &amp;amp;");
        assert_eq!(cell("payments-api 1.2 (p99) GATE_BYPASS"), "payments-api 1.2 (p99) GATE_BYPASS");
        assert_eq!(cell("_a_ b_ _c"), "\\_a\\_ b\\_ \\_c");
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(0.5), "30 s");
        assert_eq!(human(45.0), "45 min");
        assert_eq!(human(180.0), "3.0 h");
        assert_eq!(human(4320.0), "3.0 d");
    }
}
