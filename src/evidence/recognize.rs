//! Recognising what an evidence file is — JUnit XML, SARIF, OSV, other JSON, text, binary — and what it
//! says: a one-line summary and the counts the policy and the analysis use. A file that claims a format
//! but does not parse is kept as opaque evidence with a warning; recognition never fails an attachment.

use super::{junit, osv, sarif};
use std::collections::BTreeMap;

/// What was recognised.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    JUnit(junit::JUnit),
    Sarif(sarif::Sarif),
    Osv(Box<osv::Advisory>),
    Json { keys: usize },
    Text { lines: usize },
    Binary,
}

impl Parsed {
    pub fn format(&self) -> &'static str {
        match self {
            Parsed::JUnit(_) => "junit",
            Parsed::Sarif(_) => "sarif",
            Parsed::Osv(_) => "osv",
            Parsed::Json { .. } => "json",
            Parsed::Text { .. } => "text",
            Parsed::Binary => "binary",
        }
    }

    pub fn media_type(&self) -> &'static str {
        match self {
            Parsed::JUnit(_) => "application/xml",
            Parsed::Sarif(_) => "application/sarif+json",
            Parsed::Osv(_) | Parsed::Json { .. } => "application/json",
            Parsed::Text { .. } => "text/plain",
            Parsed::Binary => "application/octet-stream",
        }
    }

    /// A one-line summary.
    pub fn summary(&self, size: usize) -> String {
        match self {
            Parsed::JUnit(j) => j.summary(),
            Parsed::Sarif(s) => s.summary(),
            Parsed::Osv(a) => a.summary_line(),
            Parsed::Json { keys } => format!("JSON document, {keys} top-level keys, {size} bytes"),
            Parsed::Text { lines } => format!("text, {lines} lines, {size} bytes"),
            Parsed::Binary => format!("binary, {size} bytes"),
        }
    }

    /// Counts recorded in the evidence entry (integers only).
    pub fn counts(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        match self {
            Parsed::JUnit(j) => {
                m.insert("tests".into(), j.tests);
                m.insert("failures".into(), j.failures);
                m.insert("errors".into(), j.errors);
                m.insert("skipped".into(), j.skipped);
            }
            Parsed::Sarif(s) => {
                m.insert("error".into(), s.errors);
                m.insert("warning".into(), s.warnings);
                m.insert("note".into(), s.notes);
            }
            _ => {}
        }
        m
    }
}

fn looks_xml(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    let t = head.trim_start_matches('\u{feff}').trim_start();
    t.starts_with('<')
}

/// Recognises `bytes` attached as `kind` from file `name`; the warning says why a file that looked like a
/// known format was kept opaque.
pub fn recognize(name: &str, bytes: &[u8]) -> (Parsed, Option<String>) {
    let lower = name.to_ascii_lowercase();
    let text = std::str::from_utf8(bytes).ok();
    if lower.ends_with(".xml") || (text.is_some() && looks_xml(bytes)) {
        return match junit::parse(bytes) {
            Ok(j) => (Parsed::JUnit(j), None),
            Err(why) => (
                text.map(|t| Parsed::Text { lines: t.lines().count() }).unwrap_or(Parsed::Binary),
                Some(format!("{name} was not read as JUnit XML ({why}); stored as it is")),
            ),
        };
    }
    if let Some(t) = text
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(t)
    {
        if v.get("runs").is_some() || lower.contains(".sarif") {
            return match sarif::parse(bytes) {
                Ok(s) => (Parsed::Sarif(s), None),
                Err(why) => (
                    Parsed::Json { keys: v.as_object().map_or(0, |o| o.len()) },
                    Some(format!("{name} was not read as SARIF ({why}); stored as it is")),
                ),
            };
        }
        if v.get("affected").is_some() && v.get("id").is_some() {
            if let Ok(a) = osv::parse(bytes) {
                return (Parsed::Osv(Box::new(a)), None);
            }
        }
        return (Parsed::Json { keys: v.as_object().map_or(0, |o| o.len()) }, None);
    }
    if lower.ends_with(".json") || lower.ends_with(".sarif") {
        let kept = text.map(|t| Parsed::Text { lines: t.lines().count() }).unwrap_or(Parsed::Binary);
        return (kept, Some(format!("{name} is not valid JSON; stored as it is")));
    }
    match text {
        Some(t) => (Parsed::Text { lines: t.lines().count() }, None),
        None => (Parsed::Binary, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_formats_and_warns_on_broken_ones() {
        let (p, w) = recognize("r.xml", b"<testsuite><testcase name=\"a\"/></testsuite>");
        assert_eq!(p.format(), "junit");
        assert!(w.is_none());
        let (p, w) = recognize("r.xml", b"<testsuite><testcase");
        assert_eq!(p.format(), "text");
        assert!(w.unwrap().contains("not read as JUnit"));
        let (p, _) = recognize("scan.json", br#"{"version":"2.1.0","runs":[]}"#);
        assert_eq!(p.format(), "sarif");
        let (p, w) = recognize("scan.sarif", b"{oops");
        assert_eq!(p.format(), "text");
        assert!(w.is_some());
        assert_eq!(recognize("build.log", b"line1\nline2\n").0, Parsed::Text { lines: 2 });
        assert_eq!(recognize("core", &[0, 159, 146, 150]).0, Parsed::Binary);
        assert_eq!(recognize("x.json", b"{\"a\":1}").0, Parsed::Json { keys: 1 });
    }
}
