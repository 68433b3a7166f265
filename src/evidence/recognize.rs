//! Recognising what an evidence file is — JUnit XML, SARIF, OSV, other JSON, text, binary — and what it
//! says: a one-line summary and the counts the policy and the analysis use. A file that claims a format
//! but does not parse is kept as opaque evidence with a warning; recognition never fails an attachment.

use super::json::{Fields, Scalar, read_doc};
use super::scan::{Scan, scan_bytes};
use super::{junit, osv, sarif};
use serde::de::MapAccess;
use std::collections::BTreeMap;
use std::io::{BufReader, Read};

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
    pub(crate) fn format(&self) -> &'static str {
        match self {
            Parsed::JUnit(_) => "junit",
            Parsed::Sarif(_) => "sarif",
            Parsed::Osv(_) => "osv",
            Parsed::Json { .. } => "json",
            Parsed::Text { .. } => "text",
            Parsed::Binary => "binary",
        }
    }

    pub(crate) fn media_type(&self) -> &'static str {
        match self {
            Parsed::JUnit(_) => "application/xml",
            Parsed::Sarif(_) => "application/sarif+json",
            Parsed::Osv(_) | Parsed::Json { .. } => "application/json",
            Parsed::Text { .. } => "text/plain",
            Parsed::Binary => "application/octet-stream",
        }
    }

    /// A one-line summary.
    pub(crate) fn summary(&self, size: usize) -> String {
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
    pub(crate) fn counts(&self) -> BTreeMap<String, u64> {
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

/// Most distinct top-level keys told apart when counting them; past that, each further key counts.
const MAX_KEYS_TRACKED: usize = 1_000_000;

/// The top-level members of a JSON document that the recognisers use, read in one streaming pass.
#[derive(Default)]
pub(crate) struct TopDoc {
    keys: std::collections::HashSet<u64>,
    untracked_keys: usize,
    hasher: std::collections::hash_map::RandomState,
    pub(crate) version: Scalar,
    pub(crate) runs: Option<sarif::Runs>,
    has_runs: bool,
    id: Option<Scalar>,
    affected: Option<osv::AffectedList>,
    aliases: Vec<String>,
    summary: Option<Scalar>,
    details: Option<Scalar>,
}

impl TopDoc {
    /// Distinct top-level keys.
    pub(crate) fn keys(&self) -> usize {
        self.keys.len() + self.untracked_keys
    }

    pub(crate) fn osv(self) -> Result<osv::Advisory, String> {
        osv::from_parts(self.id.as_ref(), self.affected, self.aliases, self.summary.as_ref(), self.details.as_ref())
    }
}

impl Fields for TopDoc {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(key);
        if !self.keys.contains(&h) {
            if self.keys.len() < MAX_KEYS_TRACKED {
                self.keys.insert(h);
            } else {
                self.untracked_keys += 1;
            }
        }
        match key {
            "version" => self.version = map.next_value()?,
            "runs" => {
                self.has_runs = true;
                self.runs = sarif::read_runs(map)?;
            }
            "id" => self.id = Some(map.next_value()?),
            "affected" => self.affected = Some(osv::read_affected(map)?),
            "aliases" => self.aliases = osv::read_aliases(map)?,
            "summary" => self.summary = Some(map.next_value()?),
            "details" => self.details = Some(map.next_value()?),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Recognises evidence from `name` and its [`Scan`], reading the bytes again (streaming, once) from
/// `open()` when a parser needs them. Memory stays bounded whatever the size: parsers keep counts and the
/// first findings only.
pub(crate) fn recognize_stream<R: Read>(
    name: &str,
    scan: &Scan,
    open: impl FnOnce() -> std::io::Result<R>,
) -> (Parsed, Option<String>) {
    let lower = name.to_ascii_lowercase();
    let as_text = || if scan.utf8 { Parsed::Text { lines: scan.lines as usize } } else { Parsed::Binary };
    if lower.ends_with(".xml") || (scan.utf8 && looks_xml(&scan.head)) {
        let res = if scan.utf8 {
            open().map_err(|e| format!("cannot read: {e}")).and_then(|r| junit::parse_reader(BufReader::new(r)))
        } else {
            Err("not UTF-8 text".to_string())
        };
        return match res {
            Ok(j) => (Parsed::JUnit(j), None),
            Err(why) => (as_text(), Some(format!("{name} was not read as JUnit XML ({why}); stored as it is"))),
        };
    }
    if scan.utf8 {
        let mut top = TopDoc::default();
        let read = open().map_err(|e| e.to_string()).and_then(|r| read_doc(r, &mut top).map_err(|e| e.to_string()));
        if let Ok(object) = read {
            let keys = if object { top.keys() } else { 0 };
            if top.has_runs || lower.contains(".sarif") {
                return match sarif::from_parts(top.version.str(), top.runs) {
                    Ok(s) => (Parsed::Sarif(s), None),
                    Err(why) => {
                        (Parsed::Json { keys }, Some(format!("{name} was not read as SARIF ({why}); stored as it is")))
                    }
                };
            }
            if top.affected.is_some() && top.id.is_some() {
                if let Ok(a) = top.osv() {
                    return (Parsed::Osv(Box::new(a)), None);
                }
            }
            return (Parsed::Json { keys }, None);
        }
    }
    if lower.ends_with(".json") || lower.ends_with(".sarif") {
        return (as_text(), Some(format!("{name} is not valid JSON; stored as it is")));
    }
    (as_text(), None)
}

/// Recognises `bytes` held in memory, attached from file `name`; the warning says why a file that looked
/// like a known format was kept opaque.
pub(crate) fn recognize(name: &str, bytes: &[u8]) -> (Parsed, Option<String>) {
    recognize_stream(name, &scan_bytes(bytes), || Ok(bytes))
}

/// The recogniser this module had before it streamed, kept for tests that compare the two on every fixture.
#[cfg(test)]
pub(crate) mod dom {
    use super::{Parsed, looks_xml};

    /// Recognises `bytes` attached as `kind` from file `name`; the warning says why a file that looked like a
    /// known format was kept opaque.
    pub(crate) fn recognize_dom(name: &str, bytes: &[u8]) -> (Parsed, Option<String>) {
        let lower = name.to_ascii_lowercase();
        let text = std::str::from_utf8(bytes).ok();
        if lower.ends_with(".xml") || (text.is_some() && looks_xml(bytes)) {
            return match crate::evidence::junit::dom::parse_dom(bytes) {
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
                return match crate::evidence::sarif::dom::parse_dom(bytes) {
                    Ok(s) => (Parsed::Sarif(s), None),
                    Err(why) => (
                        Parsed::Json { keys: v.as_object().map_or(0, |o| o.len()) },
                        Some(format!("{name} was not read as SARIF ({why}); stored as it is")),
                    ),
                };
            }
            if v.get("affected").is_some() && v.get("id").is_some() {
                if let Ok(a) = crate::evidence::osv::dom::parse_dom(bytes) {
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

    /// The streaming readers against the ones they replaced: the recorded format, counts and summary are
    /// the same for every fixture and demo file; findings differ only by the per-rule cap.
    fn same_as_before(name: &str, bytes: &[u8]) {
        let (new, new_w) = recognize(name, bytes);
        let (old, old_w) = dom::recognize_dom(name, bytes);
        assert_eq!(new.format(), old.format(), "{name}");
        assert_eq!(new.counts(), old.counts(), "{name}");
        assert_eq!(new.summary(bytes.len()), old.summary(bytes.len()), "{name}");
        assert_eq!(new_w.is_some(), old_w.is_some(), "{name}: {new_w:?} / {old_w:?}");
        match (&new, &old) {
            (Parsed::Sarif(n), Parsed::Sarif(o)) => {
                let mut per_rule = std::collections::HashMap::<&str, usize>::new();
                let capped: Vec<_> = o
                    .findings
                    .iter()
                    .filter(|f| {
                        let c = per_rule.entry(f.rule.as_str()).or_insert(0);
                        *c += 1;
                        *c <= sarif::MAX_FINDINGS_PER_RULE
                    })
                    .cloned()
                    .collect();
                assert_eq!(n.findings, capped, "{name}");
                assert_eq!(n.tools, o.tools, "{name}");
            }
            _ => assert_eq!(new, old, "{name}"),
        }
    }

    #[test]
    fn streaming_readers_match_the_old_ones_on_every_fixture() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for dir in ["tests/fixtures", "assets/demo"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                // Subfolders hold other parsers' fixtures (tests/fixtures/ingest).
                if p.is_dir() {
                    continue;
                }
                let bytes = std::fs::read(&p).unwrap();
                same_as_before(&p.file_name().unwrap().to_string_lossy(), &bytes);
                seen += 1;
            }
        }
        assert!(seen >= 18, "{seen} fixtures");
    }

    #[test]
    fn streaming_readers_match_the_old_ones_on_odd_documents() {
        let cases: &[(&str, &str)] = &[
            (
                "a.sarif",
                r#"{"runs":[{"results":[{"ruleId":"R","ruleIndex":0}],"tool":{"driver":{"name":"T","rules":[{"id":"R","defaultConfiguration":{"level":"note"},"properties":{"security-severity":7}}]}}}],"version":"2.1.0"}"#,
            ),
            (
                "a.json",
                r#"{"version":"2.1.0","runs":[1,"x",null,{"results":[2,{"level":5},{"ruleIndex":9}]},{"tool":{"driver":{"rules":[{"defaultConfiguration":{"level":"error"}}]}},"results":[{},{"ruleId":"zz"}]}]}"#,
            ),
            ("a.json", r#"{"version":"2.1.0","runs":{"a":1}}"#),
            ("a.json", r#"{"version":"1.0","runs":[]}"#),
            ("a.sarif", r#"{"version":"2.1.0"}"#),
            ("a.sarif", r#"[1,2,3]"#),
            (
                "a.json",
                r#"{"version":"2.1.0","runs":[{"results":[{"level":"error"}]}],"runs":[{"results":[{"level":"note"}]}]}"#,
            ),
            (
                "a.json",
                r#"{"id":"X","affected":[1,{"package":"p","ranges":[{"events":[{"fixed":"2"},{"introduced":"3"}]},7]}],"summary":5,"details":"d"}"#,
            ),
            ("a.json", r#"{"id":"X","affected":[],"details":"line one\nline two","aliases":["A",1]}"#),
            ("a.json", r#"{"id":3,"affected":[]}"#),
            ("a.json", r#"{"a":1,"b":{"c":[1,2]},"a":2} "#),
            ("a.json", r#"{"a":1} x"#),
            ("notes.txt", "one\ntwo\r\nthree"),
            (
                "a.xml",
                "<testsuites time=\"2\"><testsuite name=\"s\"><testcase name=\"t\"><error><![CDATA[ boom ]]></error></testcase></testsuite></testsuites>",
            ),
        ];
        for (name, doc) in cases {
            same_as_before(name, doc.as_bytes());
        }
        let deep = format!("{{\"runs\":{}{}}}", "[".repeat(200), "]".repeat(200));
        same_as_before("deep.json", deep.as_bytes());
        same_as_before("bin.json", &[0x7b, 0xff, 0x7d]);
    }

    proptest::proptest! {
        #[test]
        fn streaming_matches_the_old_recogniser_on_random_json(s in "[\\[\\]{}\",:0-9a-z \\-.]{0,120}") {
            same_as_before("r.sarif", s.as_bytes());
            same_as_before("r.json", s.as_bytes());
        }
    }
}
