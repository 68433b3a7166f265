//! `helm history RELEASE -o json`: an array of revisions, oldest first, each
//! `{"revision", "updated", "status", "chart", "app_version", "description"}` and, for a rollback,
//! `"rollback_revision"` (Helm 3.13+) or a description "Rollback to N" (older Helm).

use super::{IngestError, MAX_REVISIONS, Observed, bounded, utc_seconds};

use serde::Deserialize;

#[derive(Deserialize)]
struct Revision {
    revision: u64,
    updated: String,
    #[serde(default)]
    chart: Option<String>,
    #[serde(default)]
    app_version: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    rollback_revision: Option<u64>,
}

fn fail(place: impl Into<String>, problem: impl Into<String>) -> IngestError {
    IngestError { source_name: "helm", place: place.into(), problem: problem.into() }
}

/// At most [`MAX_REVISIONS`] revisions, read one by one (no tree of the whole input is built).
struct Bounded(Vec<Revision>);

impl<'de> Deserialize<'de> for Bounded {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Seq;
        impl<'de> serde::de::Visitor<'de> for Seq {
            type Value = Bounded;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of revisions (`helm history RELEASE -o json`)")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Bounded, A::Error> {
                let mut out = Vec::new();
                while let Some(r) = seq.next_element::<Revision>()? {
                    if out.len() == MAX_REVISIONS {
                        return Err(serde::de::Error::custom(format!(
                            "more than {MAX_REVISIONS} revisions; at most {MAX_REVISIONS} are read"
                        )));
                    }
                    out.push(r);
                }
                Ok(Bounded(out))
            }
        }
        d.deserialize_seq(Seq)
    }
}

/// The deployments of one release's history (`input`, whose SHA-256 is `digest`), for `env` and
/// `component`, oldest first.
pub fn parse(input: &[u8], env: &str, component: &str, digest: &str) -> Result<Vec<Observed>, IngestError> {
    if input.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'[') {
        return Err(fail("at the top", "expected an array of revisions (`helm history RELEASE -o json`)"));
    }
    let Bounded(mut revisions) = serde_json::from_slice(input)
        .map_err(|e| fail(format!("line {} column {}", e.line(), e.column()), bounded(&e.to_string())))?;
    for r in &revisions {
        if utc_seconds(&r.updated).is_none() {
            return Err(fail(
                format!("revision {}", r.revision),
                format!("\"updated\" is not a time: {:?}", crate::text::safe(&bounded(&r.updated))),
            ));
        }
    }
    revisions.sort_by_key(|r| r.revision);
    if let Some(w) = revisions.windows(2).find(|w| w[0].revision == w[1].revision) {
        return Err(fail(format!("revision {}", w[0].revision), "appears twice"));
    }
    let mut out = Vec::with_capacity(revisions.len());
    let mut previous: Option<u64> = None;
    for r in &revisions {
        let back_to = r.rollback_revision.or_else(|| rollback_target(r.description.as_deref()?));
        let at = utc_seconds(&r.updated).unwrap_or_default();
        let artifact = match (&r.chart, &r.app_version) {
            (Some(c), Some(a)) if !a.is_empty() => Some(bounded(&format!("{c} (app {a})"))),
            (Some(c), _) => Some(bounded(c)),
            (None, Some(a)) => Some(bounded(&format!("app {a}"))),
            (None, None) => None,
        };
        out.push(Observed {
            source: "helm".into(),
            env: env.into(),
            component: component.into(),
            revision: r.revision.to_string(),
            from: previous.map(|p| p.to_string()),
            to: back_to.unwrap_or(r.revision).to_string(),
            rollback: back_to.is_some_and(|b| b < r.revision),
            at,
            by: None,
            artifact,
            description: r.description.as_deref().map(bounded),
            input_sha256: digest.into(),
        });
        previous = Some(r.revision);
    }
    Ok(out)
}

/// N of a Helm description "Rollback to N".
fn rollback_target(description: &str) -> Option<u64> {
    description.trim().strip_prefix("Rollback to ")?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HISTORY_WITH_ROLLBACK: &[u8] = include_bytes!("../../tests/fixtures/ingest/helm-history-with-rollback.json");
    const HISTORY: &[u8] = include_bytes!("../../tests/fixtures/ingest/helm-history.json");

    #[test]
    fn helms_own_history_outputs_parse_with_the_rollback_found() {
        let got = parse(HISTORY_WITH_ROLLBACK, "production", "foo", "d1").unwrap();
        assert_eq!(got.len(), 3);
        assert!(!got[0].rollback && !got[1].rollback);
        let back = &got[2];
        assert!(back.rollback);
        assert_eq!((back.revision.as_str(), back.from.as_deref(), back.to.as_str()), ("3", Some("2"), "1"));
        assert_eq!(back.at, "1977-09-02T22:04:05Z");
        assert_eq!(back.artifact.as_deref(), Some("foo-0.1.0-beta.1 (app 1.0)"));
        assert_eq!(back.description.as_deref(), Some("Rollback to 1"));
        let plain = parse(HISTORY, "staging", "foo", "d2").unwrap();
        assert_eq!(
            plain.iter().map(|o| (o.revision.as_str(), o.rollback)).collect::<Vec<_>>(),
            [("3", false), ("4", false)]
        );
        // An older Helm says it only in the description.
        let old = br#"[{"revision":1,"updated":"2026-01-01T00:00:00Z","description":"Install complete"},
                       {"revision":2,"updated":"2026-01-02T00:00:00Z","description":"Rollback to 1"}]"#;
        assert!(parse(old, "e", "c", "d").unwrap()[1].rollback);
    }

    #[test]
    fn wrong_shapes_are_refused_with_the_place() {
        let err = |input: &[u8]| parse(input, "e", "c", "d").unwrap_err().to_string();
        assert!(err(b"{\"revision\":1}").contains("expected an array"), "{}", err(b"{}"));
        let second = err(b"[{\"revision\":1,\"updated\":\"2026-01-01T00:00:00Z\"},{\"updated\":\"x\"}]");
        assert!(second.contains("line 1 column") && second.contains("missing field `revision`"), "{second}");
        assert!(err(b"[{\"revision\":1,\"updated\":\"yesterday\"}]").contains("not a time"));
        assert!(err(b"[{\"revision\":1,\"updated\":\"2026-01-01T00:00:00Z\"}").contains("line 1"));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(err(deep.as_bytes()).starts_with("helm input"), "nesting is bounded");
        let twice = b"[{\"revision\":1,\"updated\":\"2026-01-01T00:00:00Z\"},{\"revision\":1,\"updated\":\"2026-01-01T00:00:00Z\"}]";
        assert!(err(twice).contains("appears twice"));
    }

    #[test]
    fn control_characters_and_long_descriptions_are_kept_bounded_as_data() {
        let long = "x".repeat(5_000);
        let input = format!(r#"[{{"revision":1,"updated":"2026-01-01T00:00:00Z","description":"\u001b[2J{long}"}}]"#);
        let got = parse(input.as_bytes(), "e", "c", "d").unwrap();
        let d = got[0].description.as_deref().unwrap();
        assert!(d.chars().count() <= super::super::MAX_DESCRIPTION + 4);
        assert!(d.starts_with('\u{1b}'), "kept as data; sanitized where it is shown");
    }
}
