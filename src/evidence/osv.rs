//! OSV advisories (the JSON format of osv.dev, GitHub Security Advisories and RustSec exports): the id,
//! aliases, summary and the affected package ranges, used both as evidence and, with `--advisories DIR`,
//! to tell which advisories a dependency downgrade brings back.

use super::json::{Arr, Fields, Obj, Scalar};
use serde::de::MapAccess;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    pub ecosystem: String,
    pub package: String,
    /// (introduced, fixed) version pairs; `fixed` absent when unfixed.
    pub ranges: Vec<(String, Option<String>)>,
    /// Explicitly listed affected versions.
    pub versions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: String,
    pub affected: Vec<Affected>,
}

impl Advisory {
    pub(crate) fn summary_line(&self) -> String {
        let pkgs: Vec<String> = self.affected.iter().map(|a| format!("{}/{}", a.ecosystem, a.package)).collect();
        format!("OSV {}: {} ({})", self.id, self.summary, pkgs.join(", "))
    }

    /// Whether `version` of `package` is affected.
    pub(crate) fn affects(&self, package: &str, version: &str) -> bool {
        self.affected.iter().filter(|a| a.package == package).any(|a| {
            a.versions.iter().any(|v| v == version)
                || a.ranges.iter().any(|(intro, fixed)| {
                    crate::evidence::osv::version_cmp(version, intro) != std::cmp::Ordering::Less
                        && fixed.as_ref().is_none_or(|f| version_cmp(version, f) == std::cmp::Ordering::Less)
                })
        })
    }
}

/// Compares dotted versions numerically where both parts are numbers (1.10 > 1.9), else as text.
pub(crate) fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let norm = |s: &str| s.trim_start_matches('v').to_string();
    let (a, b) = (norm(a), norm(b));
    if a == "0" && b != "0" {
        // "0" is OSV's "from the beginning".
        return std::cmp::Ordering::Less;
    }
    let split = |s: &str| -> Vec<String> { s.split(['.', '-', '+']).map(str::to_string).collect() };
    let (pa, pb) = (split(&a), split(&b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            _ => x.cmp(y),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

/// Most affected packages, ranges per package, events per range and aliases kept of one advisory.
pub(crate) const MAX_KEPT: usize = 1000;
/// Most explicitly listed versions kept per affected package.
pub(crate) const MAX_VERSIONS: usize = 10_000;

#[derive(Default)]
struct Event {
    introduced: Option<String>,
    fixed: Option<String>,
}

impl Fields for Event {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "introduced" => self.introduced = map.next_value::<Scalar>()?.string(),
            "fixed" => self.fixed = map.next_value::<Scalar>()?.string(),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[derive(Default)]
struct Range(Vec<Obj<Event>>);

impl Fields for Range {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "events" {
            return Ok(false);
        }
        self.0 = map.next_value::<Arr<Obj<Event>, MAX_KEPT>>()?.0.unwrap_or_default();
        Ok(true)
    }
}

#[derive(Default)]
struct Package {
    ecosystem: Option<String>,
    name: Option<String>,
}

impl Fields for Package {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "ecosystem" => self.ecosystem = map.next_value::<Scalar>()?.string(),
            "name" => self.name = map.next_value::<Scalar>()?.string(),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// One element of `affected`, as read.
#[derive(Default)]
pub(crate) struct AffectedRaw {
    package: Option<Package>,
    ranges: Vec<Obj<Range>>,
    versions: Vec<Scalar>,
}

/// Most range events and listed versions kept over all the packages of one advisory: each array is capped
/// on its own, but 1,000 packages of 1,000 ranges of 1,000 events (`{}`, three bytes each) fit in a 64 MiB
/// file and would take gigabytes to hold.
pub(crate) const MAX_ITEMS: usize = 200_000;

thread_local! {
    /// What is left of [`MAX_ITEMS`] for the advisory being read on this thread ([`read_affected`]).
    static ITEMS_LEFT: std::cell::Cell<usize> = const { std::cell::Cell::new(MAX_ITEMS) };
}

/// Takes `n` items from the advisory's budget, or refuses the document.
fn take_items<E: serde::de::Error>(n: usize) -> Result<(), E> {
    let left = ITEMS_LEFT.with(|c| c.get());
    if n > left {
        return Err(E::custom(format!("more than {MAX_ITEMS} range events and versions in one advisory")));
    }
    ITEMS_LEFT.with(|c| c.set(left - n));
    Ok(())
}

impl Fields for AffectedRaw {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "package" => self.package = map.next_value::<Obj<Package>>()?.0,
            "ranges" => {
                self.ranges = map.next_value::<Arr<Obj<Range>, MAX_KEPT>>()?.0.unwrap_or_default();
                let events: usize = self.ranges.iter().map(|r| r.0.as_ref().map_or(1, |r| r.0.len().max(1))).sum();
                take_items::<A::Error>(events)?;
            }
            "versions" => {
                self.versions = map.next_value::<Arr<Scalar, MAX_VERSIONS>>()?.0.unwrap_or_default();
                take_items::<A::Error>(self.versions.len())?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// The `affected` member as read: `None` when it is not an array.
pub(crate) type AffectedList = Option<Vec<Obj<AffectedRaw>>>;

/// Reads an `affected` value (at most [`MAX_KEPT`] packages kept).
pub(crate) fn read_affected<'de, A: MapAccess<'de>>(map: &mut A) -> Result<AffectedList, A::Error> {
    ITEMS_LEFT.with(|c| c.set(MAX_ITEMS));
    Ok(map.next_value::<Arr<Obj<AffectedRaw>, MAX_KEPT>>()?.0)
}

/// Reads an `aliases` value (strings kept, at most [`MAX_KEPT`]).
pub(crate) fn read_aliases<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Vec<String>, A::Error> {
    Ok(map.next_value::<Arr<Scalar, MAX_KEPT>>()?.0.unwrap_or_default().iter().filter_map(Scalar::string).collect())
}

/// The advisory described by a document's members.
pub(crate) fn from_parts(
    id: Option<&Scalar>,
    affected: Option<AffectedList>,
    aliases: Vec<String>,
    summary: Option<&Scalar>,
    details: Option<&Scalar>,
) -> Result<Advisory, String> {
    let id = id.and_then(Scalar::string).ok_or("no \"id\": not an OSV advisory")?;
    let list = affected.flatten().ok_or("no \"affected\": not an OSV advisory")?;
    let mut affected = Vec::new();
    for a in list {
        let a = a.0.unwrap_or_default();
        let mut ranges = Vec::new();
        for r in a.ranges {
            let mut intro: Option<String> = None;
            for e in r.0.map(|r| r.0).unwrap_or_default() {
                let Some(e) = e.0 else { continue };
                if let Some(i) = e.introduced {
                    intro = Some(i);
                }
                if let Some(f) = e.fixed {
                    ranges.push((intro.take().unwrap_or_else(|| "0".into()), Some(f)));
                }
            }
            if let Some(i) = intro {
                ranges.push((i, None));
            }
        }
        let pkg = a.package.unwrap_or_default();
        affected.push(Affected {
            ecosystem: pkg.ecosystem.unwrap_or_default(),
            package: pkg.name.unwrap_or_default(),
            ranges,
            versions: a.versions.iter().filter_map(Scalar::string).collect(),
        });
    }
    let summary = summary.or(details).and_then(Scalar::str).unwrap_or("").lines().next().unwrap_or("").to_string();
    Ok(Advisory { id, aliases, summary, affected })
}

/// Parses one OSV document held in memory.
#[cfg(test)]
pub(crate) fn parse(bytes: &[u8]) -> Result<Advisory, String> {
    parse_reader(bytes)
}

/// Parses one OSV document as it streams from `r`.
pub(crate) fn parse_reader<R: std::io::Read>(r: R) -> Result<Advisory, String> {
    let mut top = crate::evidence::recognize::TopDoc::default();
    crate::evidence::json::read_doc(r, &mut top).map_err(|e| format!("not JSON: {e}"))?;
    top.osv()
}

/// Reads every `*.json` OSV file in `dir` (others are skipped; unreadable ones reported). Fails only when
/// the directory itself cannot be read.
pub(crate) fn load_dir(dir: &std::path::Path) -> Result<(Vec<Advisory>, Vec<String>), std::io::Error> {
    let entries = std::fs::read_dir(dir)?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        match std::fs::File::open(&p).map_err(|e| e.to_string()).and_then(parse_reader) {
            Ok(a) => out.push(a),
            Err(why) => problems.push(format!("{}: {why}", p.display())),
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((out, problems))
}

/// The parser this module had before it streamed, kept for tests that compare the two on every fixture.
#[cfg(test)]
pub(crate) mod dom {
    use super::{Advisory, Affected};
    use serde_json::Value;

    /// Parses one OSV document.
    pub(crate) fn parse_dom(bytes: &[u8]) -> Result<Advisory, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let id = v.get("id").and_then(|x| x.as_str()).ok_or("no \"id\": not an OSV advisory")?.to_string();
        let affected_v = v.get("affected").and_then(|x| x.as_array()).ok_or("no \"affected\": not an OSV advisory")?;
        let mut affected = Vec::new();
        for a in affected_v {
            let pkg = a.get("package");
            let mut ranges = Vec::new();
            for r in a.get("ranges").and_then(|r| r.as_array()).map(|a| a.as_slice()).unwrap_or(&[]) {
                let mut intro: Option<String> = None;
                for e in r.get("events").and_then(|e| e.as_array()).map(|a| a.as_slice()).unwrap_or(&[]) {
                    if let Some(i) = e.get("introduced").and_then(|x| x.as_str()) {
                        intro = Some(i.to_string());
                    }
                    if let Some(f) = e.get("fixed").and_then(|x| x.as_str()) {
                        ranges.push((intro.take().unwrap_or_else(|| "0".into()), Some(f.to_string())));
                    }
                }
                if let Some(i) = intro {
                    ranges.push((i, None));
                }
            }
            affected.push(Affected {
                ecosystem: pkg.and_then(|p| p.get("ecosystem")).and_then(|x| x.as_str()).unwrap_or("").to_string(),
                package: pkg.and_then(|p| p.get("name")).and_then(|x| x.as_str()).unwrap_or("").to_string(),
                ranges,
                versions: a
                    .get("versions")
                    .and_then(|x| x.as_array())
                    .map(|vs| vs.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
            });
        }
        Ok(Advisory {
            aliases: v
                .get("aliases")
                .and_then(|x| x.as_array())
                .map(|vs| vs.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            summary: v
                .get("summary")
                .or_else(|| v.get("details"))
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
            id,
            affected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    /// Range events and versions are counted over the whole advisory: a document of many packages of
    /// many empty events is refused instead of held (it would take gigabytes); a large real one is read.
    #[test]
    fn an_advisory_is_held_to_its_item_budget() {
        let package = |events: usize| {
            format!(
                r#"{{"package":{{"ecosystem":"npm","name":"x"}},"ranges":[{{"type":"SEMVER","events":[{}]}}],"versions":["1.0.0"]}}"#,
                vec!["{}"; events].join(",")
            )
        };
        let doc = |packages: usize, events: usize| {
            format!(r#"{{"id":"GHSA-x","affected":[{}]}}"#, vec![package(events); packages].join(","))
        };
        let big = parse(doc(MAX_ITEMS / 1000 - 1, 998).as_bytes()).unwrap();
        assert_eq!(big.affected.len(), MAX_ITEMS / 1000 - 1);
        let err = parse(doc(MAX_ITEMS / 1000 + 1, 999).as_bytes()).unwrap_err();
        assert!(err.contains("range events and versions in one advisory"), "{err}");
        // The budget is the document's: the next one starts afresh.
        assert!(parse(doc(2, 10).as_bytes()).is_ok());
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(version_cmp("1.10.0", "1.9.3"), Ordering::Greater);
        assert_eq!(version_cmp("v2.0", "2.0"), Ordering::Equal);
        assert_eq!(version_cmp("0", "0.0.1"), Ordering::Less);
        assert_eq!(version_cmp("1.2", "1.2.1"), Ordering::Less);
    }

    #[test]
    fn ranges() {
        let a = parse(br#"{"id":"RUSTSEC-2023-0001","aliases":["CVE-2023-1"],"summary":"bad","affected":[{"package":{"ecosystem":"crates.io","name":"tokio"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.18.5"}]}]}]}"#).unwrap();
        assert!(a.affects("tokio", "1.18.4"));
        assert!(!a.affects("tokio", "1.18.5"));
        assert!(!a.affects("serde", "1.0.0"));
        assert!(parse(b"{}").is_err());
    }
}
