//! JUnit XML as written by surefire, pytest, cargo-nextest, jest-junit and most CI tools: totals,
//! failures and errors with test names and messages, duration. Documents with a DOCTYPE are refused
//! (no entity is ever expanded), as are ones nested absurdly deep.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde::{Deserialize, Serialize};
use std::io::BufRead;

/// Most failures kept with their messages (totals still count them all).
pub(crate) const MAX_FAILURES_KEPT: usize = 500;
const MAX_DEPTH: usize = 64;
const MAX_MESSAGE: usize = 2000;

/// One failing or erroring test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub suite: String,
    pub name: String,
    /// `failure` or `error`.
    pub kind: String,
    pub message: String,
}

/// What a JUnit report says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JUnit {
    pub suites: u64,
    pub tests: u64,
    pub failures: u64,
    pub errors: u64,
    pub skipped: u64,
    /// Total duration in milliseconds, when the report gives it.
    pub duration_ms: Option<u64>,
    pub failed: Vec<Failure>,
}

impl JUnit {
    pub(crate) fn passed(&self) -> u64 {
        self.tests.saturating_sub(self.failures.saturating_add(self.errors).saturating_add(self.skipped))
    }

    pub(crate) fn summary(&self) -> String {
        format!(
            "JUnit: {} tests, {} passed, {} failed, {} errors, {} skipped{}",
            self.tests,
            self.passed(),
            self.failures,
            self.errors,
            self.skipped,
            self.duration_ms.map(|d| format!(", {:.1} s", d as f64 / 1000.0)).unwrap_or_default()
        )
    }
}

/// Attribute `name`, cut to [`MAX_MESSAGE`] characters: a suite's name is copied into every failure kept
/// from it, so a name of tens of megabytes must not be (a hostile report read on an approver's machine).
fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok().map(|v| cut(v.into_owned())))
}

fn seconds_ms(s: &str) -> Option<u64> {
    let v: f64 = s.trim().replace(',', "").parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * 1000.0).round() as u64)
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_MESSAGE && s.chars().nth(MAX_MESSAGE).is_some() {
        s = s.chars().take(MAX_MESSAGE).collect();
        s.push('…');
    }
    s
}

/// Parses a JUnit XML report. `Err` says why it is not one (the caller stores it as opaque evidence).
#[cfg(test)]
pub(crate) fn parse(bytes: &[u8]) -> Result<JUnit, String> {
    std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    parse_reader(bytes)
}

/// Parses a JUnit XML report as it streams from `r` (quick-xml's streaming reader; one event in memory at
/// a time). The caller has checked that the input is UTF-8.
pub(crate) fn parse_reader<R: BufRead>(r: R) -> Result<JUnit, String> {
    let mut reader = Reader::from_reader(r);
    let mut buf = Vec::new();
    let mut out = JUnit::default();
    let mut depth = 0usize;
    let mut saw_root = false;
    let mut suite_stack: Vec<String> = Vec::new();
    // The testcase being read, and the failure inside it.
    let mut case: Option<(String, String)> = None;
    let mut failure: Option<Failure> = None;
    let mut counted_cases = JUnit::default();
    let mut declared_duration: Option<u64> = None;
    let mut case_duration = 0u64;
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.buffer_position()))?;
        match ev {
            Event::DocType(_) => return Err("has a DOCTYPE; refused so that no entity is expanded".into()),
            Event::Start(e) | Event::Empty(e) if depth >= MAX_DEPTH => {
                let _ = e;
                return Err("nested too deeply".into());
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = e.local_name().as_ref().to_string();
                match name.as_str() {
                    "testsuites" => {
                        saw_root = true;
                        if let Some(t) = attr(e, "time").and_then(|t| seconds_ms(&t)) {
                            declared_duration = Some(t);
                        }
                    }
                    "testsuite" => {
                        saw_root = true;
                        out.suites += 1;
                        suite_stack.push(attr(e, "name").unwrap_or_default());
                        if suite_stack.len() == 1 && declared_duration.is_none() {
                            if let Some(t) = attr(e, "time").and_then(|t| seconds_ms(&t)) {
                                case_duration = case_duration.saturating_add(t);
                            }
                        }
                        if empty {
                            suite_stack.pop();
                        }
                    }
                    "testcase" => {
                        counted_cases.tests += 1;
                        let n = attr(e, "name").unwrap_or_default();
                        let class = attr(e, "classname").unwrap_or_default();
                        let full = if class.is_empty() { n } else { format!("{class}::{n}") };
                        if !empty {
                            case = Some((suite_stack.last().cloned().unwrap_or_default(), full));
                        }
                    }
                    "failure" | "error" if case.is_some() => {
                        let kind = name.clone();
                        if kind == "failure" {
                            counted_cases.failures += 1;
                        } else {
                            counted_cases.errors += 1;
                        }
                        let (suite, test) = case.clone().unwrap_or_default();
                        let f = Failure { suite, name: test, kind, message: attr(e, "message").unwrap_or_default() };
                        if empty {
                            if out.failed.len() < MAX_FAILURES_KEPT {
                                out.failed.push(Failure { message: cut(f.message.clone()), ..f });
                            }
                        } else {
                            failure = Some(f);
                        }
                    }
                    "skipped" if case.is_some() => counted_cases.skipped += 1,
                    _ => {}
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().as_ref() {
                    "testsuite" => {
                        suite_stack.pop();
                    }
                    "testcase" => case = None,
                    "failure" | "error" => {
                        if let Some(f) = failure.take()
                            && out.failed.len() < MAX_FAILURES_KEPT
                        {
                            out.failed.push(Failure { message: cut(f.message.trim().to_string()), ..f });
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some(f) = failure.as_mut()
                    && f.message.len() < MAX_MESSAGE
                {
                    let body = t.xml10_content();
                    if f.message.is_empty() {
                        f.message = body.trim().to_string();
                    }
                }
            }
            Event::CData(c) => {
                if let Some(f) = failure.as_mut()
                    && f.message.is_empty()
                {
                    f.message = c.into_inner().trim().to_string();
                }
            }
            Event::Eof => {
                if depth != 0 {
                    return Err("the document ends inside an element".into());
                }
                break;
            }
            _ => {}
        }
    }
    if !saw_root {
        return Err("no <testsuite> or <testsuites> element".into());
    }
    out.tests = counted_cases.tests;
    out.failures = counted_cases.failures;
    out.errors = counted_cases.errors;
    out.skipped = counted_cases.skipped;
    out.duration_ms = declared_duration.or((case_duration > 0).then_some(case_duration));
    Ok(out)
}

/// The parser this module had before it streamed (it read from a `&str` of the whole document), kept for
/// tests that compare the two on every fixture.
#[cfg(test)]
pub(crate) mod dom {
    use super::*;

    /// Parses a JUnit XML report. `Err` says why it is not one (the caller stores it as opaque evidence).
    pub(crate) fn parse_dom(bytes: &[u8]) -> Result<JUnit, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
        let mut reader = Reader::from_str(text);
        let mut out = JUnit::default();
        let mut depth = 0usize;
        let mut saw_root = false;
        let mut suite_stack: Vec<String> = Vec::new();
        // The testcase being read, and the failure inside it.
        let mut case: Option<(String, String)> = None;
        let mut failure: Option<Failure> = None;
        let mut counted_cases = JUnit::default();
        let mut declared_duration: Option<u64> = None;
        let mut case_duration = 0u64;
        loop {
            let ev =
                reader.read_event().map_err(|e| format!("malformed XML at byte {}: {e}", reader.buffer_position()))?;
            match ev {
                Event::DocType(_) => return Err("has a DOCTYPE; refused so that no entity is expanded".into()),
                Event::Start(e) | Event::Empty(e) if depth >= MAX_DEPTH => {
                    let _ = e;
                    return Err("nested too deeply".into());
                }
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(ev, Event::Empty(_));
                    let name = e.local_name().as_ref().to_string();
                    match name.as_str() {
                        "testsuites" => {
                            saw_root = true;
                            if let Some(t) = attr(e, "time").and_then(|t| seconds_ms(&t)) {
                                declared_duration = Some(t);
                            }
                        }
                        "testsuite" => {
                            saw_root = true;
                            out.suites += 1;
                            suite_stack.push(attr(e, "name").unwrap_or_default());
                            if suite_stack.len() == 1 && declared_duration.is_none() {
                                if let Some(t) = attr(e, "time").and_then(|t| seconds_ms(&t)) {
                                    case_duration = case_duration.saturating_add(t);
                                }
                            }
                            if empty {
                                suite_stack.pop();
                            }
                        }
                        "testcase" => {
                            counted_cases.tests += 1;
                            let n = attr(e, "name").unwrap_or_default();
                            let class = attr(e, "classname").unwrap_or_default();
                            let full = if class.is_empty() { n } else { format!("{class}::{n}") };
                            if !empty {
                                case = Some((suite_stack.last().cloned().unwrap_or_default(), full));
                            }
                        }
                        "failure" | "error" if case.is_some() => {
                            let kind = name.clone();
                            if kind == "failure" {
                                counted_cases.failures += 1;
                            } else {
                                counted_cases.errors += 1;
                            }
                            let (suite, test) = case.clone().unwrap_or_default();
                            let f =
                                Failure { suite, name: test, kind, message: attr(e, "message").unwrap_or_default() };
                            if empty {
                                if out.failed.len() < MAX_FAILURES_KEPT {
                                    out.failed.push(Failure { message: cut(f.message.clone()), ..f });
                                }
                            } else {
                                failure = Some(f);
                            }
                        }
                        "skipped" if case.is_some() => counted_cases.skipped += 1,
                        _ => {}
                    }
                    if !empty {
                        depth += 1;
                    }
                }
                Event::End(e) => {
                    depth = depth.saturating_sub(1);
                    match e.local_name().as_ref() {
                        "testsuite" => {
                            suite_stack.pop();
                        }
                        "testcase" => case = None,
                        "failure" | "error" => {
                            if let Some(f) = failure.take()
                                && out.failed.len() < MAX_FAILURES_KEPT
                            {
                                out.failed.push(Failure { message: cut(f.message.trim().to_string()), ..f });
                            }
                        }
                        _ => {}
                    }
                }
                Event::Text(t) => {
                    if let Some(f) = failure.as_mut()
                        && f.message.len() < MAX_MESSAGE
                    {
                        let body = t.xml10_content();
                        if f.message.is_empty() {
                            f.message = body.trim().to_string();
                        }
                    }
                }
                Event::CData(c) => {
                    if let Some(f) = failure.as_mut()
                        && f.message.is_empty()
                    {
                        f.message = c.into_inner().trim().to_string();
                    }
                }
                Event::Eof => {
                    if depth != 0 {
                        return Err("the document ends inside an element".into());
                    }
                    break;
                }
                _ => {}
            }
        }
        if !saw_root {
            return Err("no <testsuite> or <testsuites> element".into());
        }
        out.tests = counted_cases.tests;
        out.failures = counted_cases.failures;
        out.errors = counted_cases.errors;
        out.skipped = counted_cases.skipped;
        out.duration_ms = declared_duration.or((case_duration > 0).then_some(case_duration));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surefire_style() {
        let x = br#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.PaymentsTest" tests="3" failures="1" errors="0" skipped="1" time="1.25">
  <testcase name="charges" classname="com.example.PaymentsTest" time="0.5"/>
  <testcase name="refunds" classname="com.example.PaymentsTest" time="0.7">
    <failure message="expected 200 but was 503" type="AssertionError">stack &amp; trace</failure>
  </testcase>
  <testcase name="later" classname="com.example.PaymentsTest"><skipped/></testcase>
</testsuite>"#;
        let j = parse(x).unwrap();
        assert_eq!((j.tests, j.failures, j.errors, j.skipped), (3, 1, 0, 1));
        assert_eq!(j.failed[0].name, "com.example.PaymentsTest::refunds");
        assert_eq!(j.failed[0].message, "expected 200 but was 503");
        assert_eq!(j.duration_ms, Some(1250));
        assert!(j.summary().contains("1 failed"));
    }

    /// A suite's name is copied into every failure kept from it: a name of megabytes is cut as it is read,
    /// so a hostile report cannot make the reader hold one copy per failure; durations saturate.
    #[test]
    fn long_names_are_cut_once_and_durations_saturate() {
        let name = "A".repeat(1_000_000);
        let mut x = format!(r#"<testsuites><testsuite name="{name}" time="1e300">"#);
        for i in 0..600 {
            x.push_str(&format!(r#"<testcase name="t{i}" classname="{name}"><failure message="{name}"/></testcase>"#));
        }
        x.push_str(r#"</testsuite><testsuite time="1e300"/></testsuites>"#);
        let j = parse(x.as_bytes()).unwrap();
        assert_eq!((j.tests, j.failures, j.failed.len()), (600, 600, MAX_FAILURES_KEPT));
        for f in &j.failed {
            assert!(f.suite.chars().count() <= MAX_MESSAGE + 1 && f.suite.ends_with('…'), "{}", f.suite.len());
            assert!(f.name.chars().count() <= 2 * (MAX_MESSAGE + 1) + 10, "{}", f.name.len());
            assert!(f.message.chars().count() <= MAX_MESSAGE + 1);
        }
        assert_eq!(j.duration_ms, Some(u64::MAX), "two huge suite times saturate instead of wrapping");
        assert_eq!(dom::parse_dom(x.as_bytes()).unwrap(), j);
    }

    #[test]
    fn refuses_doctype_and_garbage() {
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><testsuite><testcase name="&lol2;"/></testsuite>"#;
        assert!(parse(bomb).unwrap_err().contains("DOCTYPE"));
        assert!(parse(b"<testsuite><testcase").is_err());
        assert!(parse(b"<html></html>").unwrap_err().contains("no <testsuite>"));
        assert!(parse(&[0xff, 0xfe]).is_err());
        let deep = format!("<testsuites>{}</testsuites>", "<a>".repeat(100));
        assert!(parse(deep.as_bytes()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse(s.as_bytes());
        }
    }
}
