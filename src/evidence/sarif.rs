//! SARIF 2.1.0 (Trivy, Semgrep, CodeQL, clippy and cargo-audit converters): results by level, rule ids,
//! messages and locations, with the tool that produced them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most findings kept with details (counts still cover all).
pub const MAX_FINDINGS_KEPT: usize = 1000;

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
    pub fn total(&self) -> u64 {
        self.errors + self.warnings + self.notes
    }

    pub fn summary(&self) -> String {
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

fn s(v: &Value) -> Option<String> {
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
pub fn parse(bytes: &[u8]) -> Result<Sarif, String> {
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

    #[test]
    fn refuses_non_sarif() {
        assert!(parse(b"{}").is_err());
        assert!(parse(b"{\"version\":\"1.0\",\"runs\":[]}").is_err());
        assert!(parse(b"not json").is_err());
    }
}
