//! SARIF 2.1.0 (Trivy, Semgrep, CodeQL, clippy and cargo-audit converters): results by level, rule ids,
//! messages and locations, with the tool that produced them.
//!
//! Over 600 lines with its tests: the streaming reader is ~550 lines (SARIF's nesting, read without holding
//! the document); the rest is the DOM parser kept under `cfg(test)` as a differential oracle, and tests.

use super::json::{Arr, Fields, Obj, Scalar, Skip};
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Most findings kept with details (counts still cover all).
pub(crate) const MAX_FINDINGS_KEPT: usize = 1000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub tool: String,
    pub rule: String,
    /// error, warning, note, none.
    pub level: String,
    /// `security-severity` when the rule gives one (CVSS-like, as text).
    pub severity: Option<String>,
    pub message: String,
    pub location: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sarif {
    pub tools: Vec<String>,
    pub errors: u64,
    pub warnings: u64,
    pub notes: u64,
    pub findings: Vec<Finding>,
}

impl Sarif {
    pub(crate) fn total(&self) -> u64 {
        self.errors + self.warnings + self.notes
    }

    pub(crate) fn summary(&self) -> String {
        format!(
            "SARIF ({}): {} findings — {} error, {} warning, {} note",
            if self.tools.is_empty() { "unknown tool".to_string() } else { self.tools.join(", ") },
            self.total(),
            self.errors,
            self.warnings,
            self.notes
        )
    }
}

/// Findings kept per rule (as the results name it); the counts still cover every result.
pub(crate) const MAX_FINDINGS_PER_RULE: usize = 20;
/// Most distinct rules a run may define or name in results that need the rule's default level.
pub(crate) const MAX_RULES: usize = 100_000;
/// Most tool names a log's summary lists (every run's results still count).
const MAX_TOOLS: usize = 100;
/// Longest tool, rule, level or severity name kept, in characters.
const MAX_NAME: usize = 200;
/// Longest message or location kept, in characters.
const MAX_TEXT: usize = 2000;

/// `s` cut to `max` characters, the cut marked with `…`.
fn cut(s: &str, max: usize) -> String {
    crate::text::truncate(s, max).into_owned()
}

/// What the streaming reader keeps of a rule.
#[derive(Clone, Debug, Default)]
struct Rule {
    id: Option<String>,
    default_level: Option<String>,
    severity: Option<String>,
}

#[derive(Default)]
struct Level(Scalar);

impl Fields for Level {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "level" {
            return Ok(false);
        }
        self.0 = map.next_value()?;
        Ok(true)
    }
}

#[derive(Default)]
struct Props(Scalar);

impl Fields for Props {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "security-severity" {
            return Ok(false);
        }
        self.0 = map.next_value()?;
        Ok(true)
    }
}

impl Fields for Rule {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "id" => self.id = map.next_value::<Scalar>()?.string(),
            "defaultConfiguration" => {
                self.default_level = map.next_value::<Obj<Level>>()?.0.and_then(|l| l.0.string());
            }
            "properties" => {
                let v = map.next_value::<Obj<Props>>()?.0.map(|p| p.0).unwrap_or_default();
                self.severity = v.string().or_else(|| v.as_f64().map(|f| format!("{f:.1}")));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A rule element: any JSON value, an object read as a [`Rule`].
struct AnyRule(Rule);

impl<'de> Deserialize<'de> for AnyRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(AnyRule(Obj::<Rule>::deserialize(d)?.0.unwrap_or_default()))
    }
}

#[derive(Default)]
struct Driver {
    name: Option<String>,
    /// `None` unless `rules` is an array.
    rules: Option<Vec<AnyRule>>,
    too_many: bool,
}

impl Fields for Driver {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "name" => self.name = map.next_value::<Scalar>()?.string(),
            "rules" => {
                let a = map.next_value::<Arr<AnyRule, MAX_RULES>>()?;
                self.rules = a.0;
                self.too_many = a.1;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[derive(Default)]
struct Tool(Option<Driver>);

impl Fields for Tool {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "driver" {
            return Ok(false);
        }
        self.0 = map.next_value::<Obj<Driver>>()?.0;
        Ok(true)
    }
}

#[derive(Default)]
struct Text(Option<String>);

impl Fields for Text {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "text" {
            return Ok(false);
        }
        self.0 = map.next_value::<Scalar>()?.string();
        Ok(true)
    }
}

#[derive(Default)]
struct Region(Option<u64>);

impl Fields for Region {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "startLine" {
            return Ok(false);
        }
        self.0 = map.next_value::<Scalar>()?.as_u64();
        Ok(true)
    }
}

#[derive(Default)]
struct Uri(Option<String>);

impl Fields for Uri {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "uri" {
            return Ok(false);
        }
        self.0 = map.next_value::<Scalar>()?.string();
        Ok(true)
    }
}

#[derive(Default)]
struct Physical {
    uri: Option<Option<String>>,
    line: Option<u64>,
}

impl Fields for Physical {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "artifactLocation" => self.uri = map.next_value::<Obj<Uri>>()?.0.map(|u| u.0),
            "region" => self.line = map.next_value::<Obj<Region>>()?.0.and_then(|r| r.0),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[derive(Default)]
struct Loc(Option<Physical>);

impl Fields for Loc {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "physicalLocation" {
            return Ok(false);
        }
        self.0 = map.next_value::<Obj<Physical>>()?.0;
        Ok(true)
    }
}

/// One result, as much as is kept of it.
#[derive(Default)]
struct Res {
    rule_id: Option<String>,
    rule_index: Option<u64>,
    level: Option<String>,
    message: Option<String>,
    location: Option<String>,
}

impl Fields for Res {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "ruleId" => self.rule_id = map.next_value::<Scalar>()?.string(),
            "ruleIndex" => self.rule_index = map.next_value::<Scalar>()?.as_u64(),
            "level" => self.level = map.next_value::<Scalar>()?.string(),
            "message" => self.message = map.next_value::<Obj<Text>>()?.0.and_then(|t| t.0),
            "locations" => {
                let a = map.next_value::<Arr<Obj<Loc>, 1>>()?;
                self.location = a.0.and_then(|v| v.into_iter().next()).and_then(|l| l.0?.0).and_then(|p| {
                    let uri = p.uri??;
                    Some(match p.line {
                        Some(line) => format!("{uri}:{line}"),
                        None => uri,
                    })
                });
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// How a result names its rule (what the level falls back to).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum RuleRef {
    Index(u64),
    Id(Option<String>),
}

/// A run as it is read: results are counted as they stream by; those whose level comes from their rule,
/// and the findings kept, are resolved when the run ends (the rules may come after the results).
#[derive(Default)]
struct Run {
    tool: Option<Driver>,
    counts: [u64; 3],
    by_rule: HashMap<RuleRef, u64>,
    kept: Vec<Res>,
    kept_per_rule: HashMap<(Option<String>, Option<u64>), usize>,
    budget: usize,
    limit: Option<String>,
}

fn count(counts: &mut [u64; 3], level: &str, n: u64) {
    match level {
        "error" => counts[0] += n,
        "warning" => counts[1] += n,
        "note" => counts[2] += n,
        _ => {}
    }
}

impl Run {
    fn result(&mut self, r: Res) {
        if self.limit.is_some() {
            return;
        }
        match &r.level {
            Some(l) => count(&mut self.counts, l, 1),
            None => {
                let key = match r.rule_index {
                    Some(i) => RuleRef::Index(i),
                    None => RuleRef::Id(r.rule_id.clone()),
                };
                if self.by_rule.len() >= MAX_RULES && !self.by_rule.contains_key(&key) {
                    self.limit = Some(format!("more than {MAX_RULES} distinct rules in one run"));
                    return;
                }
                *self.by_rule.entry(key).or_insert(0) += 1;
            }
        }
        if self.kept.len() < self.budget {
            let n = self.kept_per_rule.entry((r.rule_id.clone(), r.rule_index)).or_insert(0);
            if *n < MAX_FINDINGS_PER_RULE {
                *n += 1;
                self.kept.push(r);
            }
        }
    }

    /// Adds the finished run to `out`.
    fn finish(self, out: &mut Sarif) -> Result<(), String> {
        if let Some(why) = self.limit {
            return Err(why);
        }
        let driver = self.tool.unwrap_or_default();
        if driver.too_many {
            return Err(format!("more than {MAX_RULES} rules in one run"));
        }
        // Names and texts are cut as they are kept: the tool's name is copied into every finding, and a
        // hostile log read on an approver's machine may make it tens of megabytes.
        let tool = cut(driver.name.as_deref().unwrap_or("unknown"), MAX_NAME);
        if out.tools.len() < MAX_TOOLS && !out.tools.contains(&tool) {
            out.tools.push(tool.clone());
        }
        let rules = driver.rules.unwrap_or_default();
        // Rules by id, the first of an id as a search from the start finds it: built once per run (a search
        // per result was quadratic in rules × results).
        let mut by_id: HashMap<Option<&str>, &Rule> = HashMap::new();
        for r in &rules {
            by_id.entry(r.0.id.as_deref()).or_insert(&r.0);
        }
        let rule_of = |index: Option<u64>, id: Option<&str>| -> Option<&Rule> {
            if let Some(i) = index {
                return usize::try_from(i).ok().and_then(|i| rules.get(i)).map(|r| &r.0);
            }
            by_id.get(&id).copied()
        };
        let mut counts = self.counts;
        for (key, n) in self.by_rule {
            let rule = match &key {
                RuleRef::Index(i) => rule_of(Some(*i), None),
                RuleRef::Id(id) => rule_of(None, id.as_deref()),
            };
            count(&mut counts, rule.and_then(|r| r.default_level.as_deref()).unwrap_or("warning"), n);
        }
        out.errors += counts[0];
        out.warnings += counts[1];
        out.notes += counts[2];
        for r in self.kept {
            let rule = rule_of(r.rule_index, r.rule_id.as_deref());
            out.findings.push(Finding {
                tool: tool.clone(),
                rule: cut(r.rule_id.as_deref().or_else(|| rule.and_then(|x| x.id.as_deref())).unwrap_or(""), MAX_NAME),
                level: cut(
                    r.level.as_deref().or_else(|| rule.and_then(|x| x.default_level.as_deref())).unwrap_or("warning"),
                    MAX_NAME,
                ),
                severity: rule.and_then(|x| x.severity.as_deref()).map(|s| cut(s, MAX_NAME)),
                message: cut(r.message.as_deref().unwrap_or(""), MAX_TEXT),
                location: r.location.as_deref().map(|l| cut(l, MAX_TEXT)),
            });
        }
        Ok(())
    }
}

struct ResultsSeed<'a>(&'a mut Run);

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(ResultsSeq(self.0))
    }
}

struct ResultsSeq<'a>(&'a mut Run);

impl<'de> Visitor<'de> for ResultsSeq<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(r) = seq.next_element::<Obj<Res>>()? {
            self.0.result(r.0.unwrap_or_default());
        }
        Ok(())
    }
}

/// The `runs` member of a SARIF log, read as it streams by.
pub struct Runs {
    out: Sarif,
    budget: usize,
    run: Run,
    pub(crate) error: Option<String>,
}

impl Default for Runs {
    fn default() -> Self {
        Runs { out: Sarif::default(), budget: MAX_FINDINGS_KEPT, run: Run::default(), error: None }
    }
}

impl Fields for Run {
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "tool" => self.tool = map.next_value::<Obj<Tool>>()?.0.and_then(|t| t.0),
            "results" => {
                // A repeated key: the last one wins, as in a parsed document.
                let (tool, budget) = (self.tool.take(), self.budget);
                *self = Run { tool, budget, ..Run::default() };
                map.next_value_seed(ResultsSeed(self))?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de> Visitor<'de> for &mut Runs {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        loop {
            self.run = Run { budget: self.budget.saturating_sub(self.out.findings.len()), ..Run::default() };
            if seq.next_element_seed(RunSeed(&mut self.run))?.is_none() {
                break;
            }
            let run = std::mem::take(&mut self.run);
            if self.error.is_none()
                && let Err(why) = run.finish(&mut self.out)
            {
                self.error = Some(why);
            }
        }
        Ok(true)
    }
}

struct RunSeed<'a>(&'a mut Run);

impl<'de> DeserializeSeed<'de> for RunSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RunSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        super::json::read_fields(self.0, map)
    }
}

/// Reads a `runs` value; `Ok(None)` when it is not an array.
pub(crate) fn read_runs<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<Runs>, A::Error> {
    let mut runs = Runs::default();
    let is_array = map.next_value_seed(RunsSeed(&mut runs))?;
    Ok(is_array.then_some(runs))
}

struct RunsSeed<'a>(&'a mut Runs);

impl<'de> DeserializeSeed<'de> for RunsSeed<'_> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self.0)
    }
}

/// The SARIF log described by a document's `version` and `runs` members.
pub(crate) fn from_parts(version: Option<&str>, runs: Option<Runs>) -> Result<Sarif, String> {
    let runs = runs.ok_or("no \"runs\" array: not SARIF")?;
    let version = version.unwrap_or("");
    if !version.starts_with("2.") {
        return Err(format!("SARIF version {version:?} is not 2.x"));
    }
    if let Some(why) = runs.error {
        return Err(why);
    }
    Ok(runs.out)
}

/// Parses a SARIF log held in memory (streaming; see [`crate::evidence::recognize::recognize_stream`]).
#[cfg(test)]
pub(crate) fn parse(bytes: &[u8]) -> Result<Sarif, String> {
    let mut top = crate::evidence::recognize::TopDoc::default();
    crate::evidence::json::read_doc(bytes, &mut top).map_err(|e| format!("not JSON: {e}"))?;
    from_parts(top.version.str(), top.runs)
}

/// The parser this module had before it streamed (it built a `serde_json::Value` of the whole document),
/// kept for tests that compare the two on every fixture.
#[cfg(test)]
pub(crate) mod dom {
    use super::{Finding, MAX_FINDINGS_KEPT, Sarif};
    use serde_json::Value;

    pub(crate) fn s(v: &Value) -> Option<String> {
        v.as_str().map(str::to_string)
    }

    fn location(r: &Value) -> Option<String> {
        let pl = r.get("locations")?.get(0)?.get("physicalLocation")?;
        let uri = pl.get("artifactLocation")?.get("uri").and_then(s)?;
        match pl.get("region").and_then(|r| r.get("startLine")).and_then(|l| l.as_u64()) {
            Some(line) => Some(format!("{uri}:{line}")),
            None => Some(uri),
        }
    }

    /// Parses a SARIF log.
    pub(crate) fn parse_dom(bytes: &[u8]) -> Result<Sarif, String> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let version = doc.get("version").and_then(|v| v.as_str()).unwrap_or("");
        let runs = doc.get("runs").and_then(|r| r.as_array()).ok_or("no \"runs\" array: not SARIF")?;
        if !version.starts_with("2.") {
            return Err(format!("SARIF version {version:?} is not 2.x"));
        }
        let mut out = Sarif::default();
        for run in runs {
            let driver = run.get("tool").and_then(|t| t.get("driver"));
            let tool = driver.and_then(|d| d.get("name")).and_then(s).unwrap_or_else(|| "unknown".into());
            if !out.tools.contains(&tool) {
                out.tools.push(tool.clone());
            }
            let rules: Vec<&Value> = driver
                .and_then(|d| d.get("rules"))
                .and_then(|r| r.as_array())
                .map(|r| r.iter().collect())
                .unwrap_or_default();
            let rule_of = |r: &Value| -> Option<&Value> {
                let id = r.get("ruleId").and_then(|v| v.as_str());
                if let Some(i) = r.get("ruleIndex").and_then(|v| v.as_u64()) {
                    return rules.get(i as usize).copied();
                }
                rules.iter().copied().find(|rule| rule.get("id").and_then(|v| v.as_str()) == id)
            };
            for r in run.get("results").and_then(|r| r.as_array()).map(|a| a.as_slice()).unwrap_or(&[]) {
                let rule = rule_of(r);
                let level = r
                    .get("level")
                    .and_then(s)
                    .or_else(|| rule.and_then(|x| x.get("defaultConfiguration")?.get("level")).and_then(s))
                    .unwrap_or_else(|| "warning".into());
                match level.as_str() {
                    "error" => out.errors += 1,
                    "warning" => out.warnings += 1,
                    "note" => out.notes += 1,
                    _ => {}
                }
                if out.findings.len() < MAX_FINDINGS_KEPT {
                    let severity = rule
                        .and_then(|x| x.get("properties")?.get("security-severity"))
                        .and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_f64().map(|f| format!("{f:.1}"))));
                    out.findings.push(Finding {
                        tool: tool.clone(),
                        rule: r
                            .get("ruleId")
                            .and_then(s)
                            .or_else(|| rule.and_then(|x| x.get("id")).and_then(s))
                            .unwrap_or_default(),
                        level,
                        severity,
                        message: r.get("message").and_then(|m| m.get("text")).and_then(s).unwrap_or_default(),
                        location: location(r),
                    });
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivy_like() {
        let doc = br#"{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[{"tool":{"driver":{"name":"Trivy","rules":[{"id":"CVE-2024-3094","defaultConfiguration":{"level":"error"},"properties":{"security-severity":"10.0"}}]}},"results":[{"ruleId":"CVE-2024-3094","ruleIndex":0,"message":{"text":"xz backdoor"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"Dockerfile"},"region":{"startLine":3}}}]},{"ruleId":"X","level":"note","message":{"text":"n"}}]}]}"#;
        let s = parse(doc).unwrap();
        assert_eq!((s.errors, s.warnings, s.notes), (1, 0, 1));
        assert_eq!(s.findings[0].severity.as_deref(), Some("10.0"));
        assert_eq!(s.findings[0].location.as_deref(), Some("Dockerfile:3"));
        assert!(s.summary().contains("Trivy"));
    }

    /// A tool name of megabytes is cut once per run, not copied whole into every finding; a log of many
    /// runs lists at most [`MAX_TOOLS`] tools (every run still counts); a result's rule found by id is the
    /// first rule of that id, as before the lookup was built per run.
    #[test]
    fn hostile_sizes_are_cut_and_rules_found_by_id() {
        let tool = "T".repeat(1_000_000);
        let mut runs = vec![format!(
            r#"{{"tool":{{"driver":{{"name":"{tool}","rules":[{{"id":"r1","defaultConfiguration":{{"level":"error"}}}},{{"id":"r1","defaultConfiguration":{{"level":"note"}}}},{{"id":"r2","defaultConfiguration":{{"level":"note"}}}}]}}}},"results":[{{"ruleId":"r1","message":{{"text":"{tool}"}}}},{{"ruleId":"r2"}},{{"ruleId":"r3"}}]}}"#
        )];
        for i in 0..150 {
            runs.push(format!(r#"{{"tool":{{"driver":{{"name":"tool{i}"}}}},"results":[{{"level":"warning"}}]}}"#));
        }
        let doc = format!(r#"{{"version":"2.1.0","runs":[{}]}}"#, runs.join(","));
        let s = parse(doc.as_bytes()).unwrap();
        assert_eq!((s.errors, s.warnings, s.notes), (1, 151, 1), "every run counts");
        assert_eq!(s.tools.len(), MAX_TOOLS);
        assert!(s.tools[0].chars().count() <= MAX_NAME && s.tools[0].ends_with('…'));
        let first = &s.findings[0];
        assert_eq!((first.rule.as_str(), first.level.as_str()), ("r1", "error"), "the first rule of the id");
        assert!(first.tool.chars().count() <= MAX_NAME && first.message.chars().count() <= MAX_TEXT);
        assert_eq!(s.findings[1].level, "note");
        assert_eq!(s.findings[2].level, "warning", "a rule nobody declared: a warning");
    }

    #[test]
    fn refuses_non_sarif() {
        assert!(parse(b"{}").is_err());
        assert!(parse(b"{\"version\":\"1.0\",\"runs\":[]}").is_err());
        assert!(parse(b"not json").is_err());
    }
}
