//! Which evidence satisfies a requirement. Decided from the signed `evidence.attached` body alone (its
//! `kind`, `format` and `counts`), never from re-reading a blob that may have been purged: `test`
//! needs a JUnit report with at least one test, `scan` a SARIF or OSV document; the kinds rollcall has no
//! reader for (compliance, validation, log, other) are satisfied by any file or link. Opaque evidence
//! (binary, unreadable text, JSON that is no known report, links) satisfies `test` and `scan` only where
//! the policy says `accept_opaque`.

use super::Policy;
use crate::audit::bodies::EvidenceBody;

/// Whether `body` satisfies a requirement for its own kind; otherwise why not.
pub(crate) fn satisfies(body: &EvidenceBody, accept_opaque: bool) -> Result<(), String> {
    let format = body.format.as_deref();
    let opaque = |what: &str| -> Result<(), String> {
        if accept_opaque {
            return Ok(());
        }
        let found = match (format, &body.url) {
            (None, Some(_)) => "a link".to_string(),
            (None, None) => "no file".to_string(),
            (Some(f), _) => f.to_string(),
        };
        Err(format!("not {what} rollcall could read ({found})"))
    };
    match body.kind.as_str() {
        "test" => match format {
            Some("junit") if body.counts.get("tests").copied().unwrap_or(0) >= 1 => Ok(()),
            Some("junit") => Err("a JUnit report with no tests".into()),
            _ => opaque("a test report"),
        },
        "scan" => match format {
            Some("sarif") | Some("osv") => Ok(()),
            _ => opaque("a SARIF or OSV scan"),
        },
        _ => Ok(()),
    }
}

/// The evidence kinds the policy requires for `tier` and the raised `flags`, sorted, without repeats.
pub(crate) fn required(policy: &Policy, tier: &str, flags: &[String]) -> Vec<String> {
    let mut needed: Vec<String> = policy.evidence.tiers.get(tier).cloned().unwrap_or_default();
    for f in flags {
        if let Some(kinds) = policy.evidence.flags.get(f) {
            needed.extend(kinds.iter().cloned());
        }
    }
    needed.sort();
    needed.dedup();
    needed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(kind: &str, format: Option<&str>, tests: Option<u64>) -> EvidenceBody {
        EvidenceBody {
            request: "r".into(),
            kind: kind.into(),
            sha256: format.map(|_| "00".repeat(32)),
            size: None,
            media_type: None,
            name: None,
            url: format.is_none().then(|| "https://ci.example/run/1".to_string()),
            source: None,
            format: format.map(str::to_string),
            summary: None,
            counts: tests.map(|n| [("tests".to_string(), n)].into_iter().collect()).unwrap_or_default(),
        }
    }

    #[test]
    fn tests_need_a_junit_report_that_ran_something() {
        assert!(satisfies(&body("test", Some("junit"), Some(3)), false).is_ok());
        let none = satisfies(&body("test", Some("junit"), Some(0)), false).unwrap_err();
        assert!(none.contains("no tests"), "{none}");
        assert!(satisfies(&body("test", Some("junit"), Some(0)), true).is_err(), "an empty run is not opaque");
        assert!(satisfies(&body("test", Some("binary"), None), false).unwrap_err().contains("(binary)"));
        assert!(satisfies(&body("test", Some("sarif"), None), false).is_err());
        assert!(satisfies(&body("test", None, None), false).unwrap_err().contains("a link"));
        assert!(satisfies(&body("test", Some("binary"), None), true).is_ok());
        assert!(satisfies(&body("test", None, None), true).is_ok());
    }

    #[test]
    fn scans_need_sarif_or_osv_and_other_kinds_anything() {
        assert!(satisfies(&body("scan", Some("sarif"), None), false).is_ok());
        assert!(satisfies(&body("scan", Some("osv"), None), false).is_ok());
        assert!(satisfies(&body("scan", Some("text"), None), false).is_err());
        assert!(satisfies(&body("scan", Some("json"), None), false).is_err());
        assert!(satisfies(&body("scan", Some("text"), None), true).is_ok());
        assert!(satisfies(&body("compliance", Some("binary"), None), false).is_ok());
        assert!(satisfies(&body("log", None, None), false).is_ok());
    }

    #[test]
    fn required_joins_tier_and_flags() {
        let p = Policy::parse(super::super::DEFAULT_POLICY).unwrap();
        assert_eq!(required(&p, "low", &[]), Vec::<String>::new());
        assert_eq!(required(&p, "medium", &["AUTHZ_CONFIG".into(), "GATE_BYPASS".into()]), ["scan", "test"]);
        assert_eq!(required(&p, "high", &["REVERTS_SECURITY_FIX".into()]), ["scan", "test"]);
    }
}
