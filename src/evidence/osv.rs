//! OSV advisories (the JSON format of osv.dev, GitHub Security Advisories and RustSec exports): the id,
//! aliases, summary and the affected package ranges, used both as evidence and, with `--advisories DIR`,
//! to tell which advisories a dependency downgrade brings back.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    pub fn summary_line(&self) -> String {
        let pkgs: Vec<String> = self.affected.iter().map(|a| format!("{}/{}", a.ecosystem, a.package)).collect();
        format!("OSV {}: {} ({})", self.id, self.summary, pkgs.join(", "))
    }

    /// Whether `version` of `package` is affected.
    pub fn affects(&self, package: &str, version: &str) -> bool {
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
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
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

/// Parses one OSV document.
pub fn parse(bytes: &[u8]) -> Result<Advisory, String> {
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

/// Reads every `*.json` OSV file in `dir` (others are skipped; unreadable ones reported).
pub fn load_dir(dir: &std::path::Path) -> Result<(Vec<Advisory>, Vec<String>), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read advisories in {}: {e}", dir.display()))?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        match std::fs::read(&p).map_err(|e| e.to_string()).and_then(|b| parse(&b)) {
            Ok(a) => out.push(a),
            Err(why) => problems.push(format!("{}: {why}", p.display())),
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((out, problems))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

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
