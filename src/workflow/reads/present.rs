//! Text shared by the CLI and the console: how a record field and an evidence file read on a terminal
//! (sanitized). JSON and tables of the CLI stay in `cli::render`.

use crate::text::{multi_line, safe};

/// A time as people read it in both front ends.
pub(crate) fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `label` and `value` (sanitized; continuation lines aligned under the first).
pub(crate) fn field(out: &mut String, label: &str, value: &str) {
    let clean = multi_line(value).text.into_owned();
    let mut lines = clean.lines();
    out.push_str(&format!("{label:<18}{}\n", lines.next().unwrap_or("")));
    for l in lines {
        out.push_str(&format!("{:<18}{l}\n", ""));
    }
}

/// Longest text shown by `evidence show` before it is cut.
const SHOW_TEXT_MAX: usize = 64 * 1024;

/// Evidence as text: the header, then the parsed rendering or the (sanitized) first 64 KiB of text, with
/// `more(bytes not shown)` as the line that ends a text cut after its first page.
pub(crate) fn evidence_text_with(ev: &super::evidence::Evidence, more: &dyn Fn(u64) -> String) -> String {
    use crate::evidence::recognize::Parsed;
    let b = &ev.body;
    let mut out = String::new();
    out.push_str(&format!(
        "EVIDENCE {}  {} ({})
",
        ev.entry.short(12),
        safe(b.name.as_deref().or(b.url.as_deref()).unwrap_or("-")),
        safe(&b.kind)
    ));
    field(&mut out, "request", &ev.request.to_hex());
    field(&mut out, "attached", &format!("{} by {}", when(&ev.ts), ev.actor.key_id()));
    if let Some(d) = &b.sha256 {
        field(&mut out, "sha256", d);
    }
    if let Some(sz) = &b.size {
        field(&mut out, "size", &format!("{sz} bytes"));
    }
    if let Some(u) = &b.url {
        field(&mut out, "link", u);
    }
    if let Some(s) = &b.source {
        field(&mut out, "source", s);
    }
    if let Some(s) = &b.summary {
        field(&mut out, "summary", s);
    }
    if let Some(p) = &ev.purge {
        out.push_str(&format!(
            "
PURGED by {} at {}: {}
",
            p.actor.key_id(),
            when(&p.ts),
            safe(&p.reason)
        ));
        return out;
    }
    out.push('\n');
    match (&ev.parsed, &ev.head) {
        (Some(Parsed::JUnit(j)), _) => {
            out.push_str(&format!("{}\n", safe(&j.summary())));
            for f in &j.failed {
                out.push_str(&format!(
                    "  {} {}: {}\n",
                    f.kind.to_uppercase(),
                    safe(&f.name),
                    safe(&crate::text::truncate(&f.message, 300))
                ));
            }
        }
        (Some(Parsed::Sarif(s)), _) => {
            out.push_str(&format!("{}\n", safe(&s.summary())));
            let mut t = crate::table::Table::new(&["LEVEL", "SEVERITY", "RULE", "LOCATION", "MESSAGE"]);
            for f in &s.findings {
                t.row(vec![
                    f.level.clone(),
                    f.severity.clone().unwrap_or_default(),
                    f.rule.clone(),
                    f.location.clone().unwrap_or_default(),
                    crate::text::truncate(&f.message, 80).into_owned(),
                ]);
            }
            out.push_str(&t.render());
        }
        (Some(Parsed::Osv(a)), _) => out.push_str(&format!("{}\n", safe(&a.summary_line()))),
        (Some(Parsed::Binary), _) => out.push_str("(binary; use `rollcall evidence export` to get the bytes)\n"),
        (Some(_), Some(bytes)) => {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SHOW_TEXT_MAX)]);
            let clean = multi_line(&text);
            if clean.suspicious {
                out.push_str("(this text contains control or invisible characters; they are shown as <U+XXXX>)\n");
            }
            out.push_str(&clean.text);
            let shown = bytes.len().min(SHOW_TEXT_MAX) as u64;
            if ev.size > shown {
                out.push_str(&format!("\n{}\n", more(ev.size - shown)));
            }
        }
        (None, _) | (_, None) => out.push_str("(no stored bytes)\n"),
    }
    out
}
