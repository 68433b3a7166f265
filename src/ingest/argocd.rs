//! `argocd app get APP -o json`: an Application whose `.status.history` lists the syncs that deployed,
//! each `{"id", "revision" | "revisions", "deployedAt", "deployStartedAt", "source" | "sources",
//! "initiatedBy": {"username", "automated"}}`.
//!
//! The deployed content of an entry is its git revision(s) with its source(s) (repository, path or chart,
//! parameters): an entry deploying what an earlier entry deployed, but not what the entry just before it
//! deployed, brought that earlier content back: a rollback (`argocd app rollback`, or a sync to an old
//! revision), to the id of the latest earlier entry that deployed it. Re-syncing what is already deployed
//! is not a rollback. The revision is the history id; the component is `.metadata.name` and the environment
//! `.spec.destination.namespace` unless `--component` / `--env` are given.

use super::{IngestError, Items, Observed, Redeploys, bounded, name, read_json, utc_seconds};
use serde::Deserialize;

const SOURCE: &str = "argocd";

#[derive(Deserialize)]
struct Application {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Meta>,
    #[serde(default)]
    spec: Option<Spec>,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Spec {
    #[serde(default)]
    destination: Option<Destination>,
}

#[derive(Deserialize)]
struct Destination {
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    history: Option<Items<Entry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    id: i64,
    #[serde(default)]
    revision: Option<String>,
    #[serde(default)]
    revisions: Option<Vec<String>>,
    deployed_at: String,
    #[serde(default)]
    source: Option<super::Tree>,
    #[serde(default)]
    sources: Option<super::Tree>,
    #[serde(default)]
    initiated_by: Option<InitiatedBy>,
}

#[derive(Deserialize)]
struct InitiatedBy {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    automated: Option<bool>,
}

fn fail(place: impl Into<String>, problem: impl Into<String>) -> IngestError {
    IngestError { source_name: SOURCE, place: place.into(), problem: problem.into() }
}

/// The deployments of the Application in `input` (whose SHA-256 is `digest`), oldest first.
pub fn parse(
    input: &[u8],
    env: Option<&str>,
    component: Option<&str>,
    digest: &str,
) -> Result<Vec<Observed>, IngestError> {
    let app: Application = read_json(SOURCE, input, b'{', "an Application (`argocd app get APP -o json`)")?;
    if let Some(k) = app.kind.as_deref()
        && k != "Application"
    {
        return Err(fail(
            "at the top",
            format!(
                "expected an Application (`argocd app get APP -o json`), found kind {:?}",
                crate::text::safe(&bounded(k))
            ),
        ));
    }
    let component = match (component, app.metadata.as_ref().and_then(|m| m.name.as_deref())) {
        (Some(c), _) => c.to_string(),
        (None, Some(n)) => name(SOURCE, "metadata.name", "the Application name", n)?,
        (None, None) => return Err(fail("metadata.name", "is absent; give --component")),
    };
    let namespace = app.spec.as_ref().and_then(|s| s.destination.as_ref()).and_then(|d| d.namespace.as_deref());
    let env = match (env, namespace) {
        (Some(e), _) => e.to_string(),
        (None, Some(ns)) => name(SOURCE, "spec.destination.namespace", "the namespace", ns)?,
        (None, None) => return Err(fail("spec.destination.namespace", "is absent; give --env")),
    };
    let mut history = app.status.and_then(|s| s.history).map(|h| h.0).unwrap_or_default();
    history.sort_by_key(|e| e.id);
    if let Some(w) = history.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(fail(format!("status.history id {}", w[0].id), "appears twice"));
    }
    let mut out = Vec::with_capacity(history.len());
    // The id of the latest entry that deployed each content, and the content just deployed.
    let mut redeploys = Redeploys::new();
    for e in &history {
        let place = format!("status.history id {}", e.id);
        let at = utc_seconds(&e.deployed_at).ok_or_else(|| {
            fail(&place, format!("\"deployedAt\" is not a time: {:?}", crate::text::safe(&bounded(&e.deployed_at))))
        })?;
        let revisions: Vec<&str> = match (&e.revision, &e.revisions) {
            (Some(r), _) => vec![r.as_str()],
            (None, Some(rs)) => rs.iter().map(String::as_str).collect(),
            (None, None) => Vec::new(),
        };
        let source = e.source.as_ref().or(e.sources.as_ref()).map(|t| &t.0);
        let content = format!("{}\u{0}{}", revisions.join(","), source.map(|s| s.to_string()).unwrap_or_default());
        let (previous, back_to) = redeploys.next(e.id, content);
        let by = e.initiated_by.as_ref().and_then(|i| match (&i.username, i.automated) {
            (Some(u), _) if !u.trim().is_empty() => Some(bounded(u)),
            (_, Some(true)) => Some("automated sync".to_string()),
            _ => None,
        });
        let description = source.map(|s| {
            let field = |k: &str| s.get(k).and_then(serde_json::Value::as_str).unwrap_or("");
            let what = [field("path"), field("chart")].into_iter().find(|v| !v.is_empty()).unwrap_or("");
            bounded(
                &format!("{} {} {}", field("repoURL"), what, field("targetRevision"))
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        });
        out.push(Observed {
            source: SOURCE.into(),
            env: env.clone(),
            component: component.clone(),
            revision: e.id.to_string(),
            from: previous.map(|id| id.to_string()),
            to: back_to.unwrap_or(e.id).to_string(),
            rollback: back_to.is_some(),
            at,
            by,
            artifact: (!revisions.is_empty()).then(|| bounded(&revisions.join(", "))),
            description: description.filter(|d| !d.is_empty()),
            input_sha256: digest.into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &[u8] = include_bytes!("../../tests/fixtures/ingest/argocd-app.json");
    const ROLLBACK: &[u8] = include_bytes!("../../tests/fixtures/ingest/argocd-app-rollback.json");

    #[test]
    fn argo_cds_own_application_parses_and_resyncs_are_not_rollbacks() {
        let got = parse(APP, None, None, "d").unwrap();
        assert_eq!(got.len(), 10);
        assert!(got.iter().all(|o| !o.rollback && o.env == "test-lla" && o.component == "velero-test"));
        assert_eq!((got[0].revision.as_str(), got[0].from.as_deref()), ("14", None));
        assert_eq!((got[9].revision.as_str(), got[9].from.as_deref()), ("23", Some("22")));
        assert_eq!(got[9].at, "2024-03-05T07:33:04Z");
        assert_eq!(got[9].artifact.as_deref(), Some("ea8759964626a583667a2bfd08f334ec2070040a"));
        assert_eq!(
            got[9].description.as_deref(),
            Some("https://github.com/foo/manifests-velero.git instances/test test-lla")
        );
    }

    #[test]
    fn redeploying_an_earlier_revision_is_a_rollback_to_its_entry() {
        let got = parse(ROLLBACK, Some("production"), Some("guestbook"), "d").unwrap();
        let rows: Vec<_> = got
            .iter()
            .map(|o| (o.revision.as_str(), o.from.as_deref(), o.to.as_str(), o.rollback, o.by.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                ("0", None, "0", false, Some("admin")),
                ("1", Some("0"), "1", false, Some("automated sync")),
                ("2", Some("1"), "0", true, Some("alice")),
            ]
        );
        assert!(got.iter().all(|o| o.env == "production" && o.component == "guestbook"));
    }

    #[test]
    fn wrong_shapes_are_refused_with_the_place() {
        let err = |input: &[u8]| parse(input, None, None, "d").unwrap_err().to_string();
        assert!(err(b"[]").contains("expected an Application"));
        assert!(err(br#"{"kind":"AppProject"}"#).contains("found kind \"AppProject\""));
        assert!(err(br#"{"metadata":{}}"#).contains("give --component"));
        assert!(err(br#"{"metadata":{"name":"a"}}"#).contains("give --env"));
        let no_time = br#"{"metadata":{"name":"a"},"spec":{"destination":{"namespace":"n"}},
            "status":{"history":[{"id":1,"revision":"r","deployedAt":"soon"}]}}"#;
        assert!(err(no_time).contains("status.history id 1: \"deployedAt\" is not a time"), "{}", err(no_time));
        let twice = br#"{"metadata":{"name":"a"},"spec":{"destination":{"namespace":"n"}},
            "status":{"history":[{"id":1,"deployedAt":"2026-01-01T00:00:00Z"},{"id":1,"deployedAt":"2026-01-01T00:00:00Z"}]}}"#;
        assert!(err(twice).contains("appears twice"));
        assert!(err(&APP[..APP.len() / 2]).starts_with("argocd input line"));
        let deep = format!(
            "{{\"status\":{{\"history\":[{{\"id\":1,\"deployedAt\":\"\",\"source\":{}{}}}]}}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(err(deep.as_bytes()).contains("recursion limit"), "nesting is bounded: {}", err(deep.as_bytes()));
    }

    #[test]
    fn control_characters_are_kept_as_data() {
        let input = br#"{"metadata":{"name":"a"},"spec":{"destination":{"namespace":"n"}},
            "status":{"history":[{"id":1,"revision":"r","deployedAt":"2026-01-01T00:00:00Z",
            "source":{"repoURL":"\u001b[2Jrepo"},"initiatedBy":{"username":"\u001b]0;x\u0007"}}]}}"#;
        let got = parse(input, None, None, "d").unwrap();
        assert_eq!(got[0].description.as_deref(), Some("\u{1b}[2Jrepo"));
        assert_eq!(got[0].by.as_deref(), Some("\u{1b}]0;x\u{7}"));
    }
}
