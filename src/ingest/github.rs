//! GitHub's deployments, the JSON array of `GET /repos/{owner}/{repo}/deployments` (newest first), each
//! `{"id", "sha", "ref", "task", "environment", "description", "creator": {"login"}, "created_at",
//! "repository_url"}`.
//!
//! Per environment, in order of creation: a deployment of a commit that an earlier deployment in that
//! environment deployed, but not the one just before it, brings it back: a rollback, to the id of the latest
//! earlier deployment of that commit. Deploying the commit already deployed again is not one. The list
//! does not carry the deployments' statuses, so every listed deployment counts. The environment is each
//! deployment's `environment` (`--env` keeps only that environment's); the component is the repository's
//! name (from `repository_url`) unless `--component` is given.

use super::{IngestError, Items, Observed, Redeploys, bounded, name, read_json, utc_seconds};
use serde::Deserialize;
use std::collections::BTreeMap;

const SOURCE: &str = "github";

#[derive(Deserialize)]
struct Deployment {
    id: u64,
    sha: String,
    #[serde(default, rename = "ref")]
    reference: Option<String>,
    environment: String,
    created_at: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    creator: Option<Creator>,
    #[serde(default)]
    repository_url: Option<String>,
}

#[derive(Deserialize)]
struct Creator {
    #[serde(default)]
    login: Option<String>,
}

/// A deployment with its time (UTC) and id, grouped per (environment, component).
type Dated = (String, u64, Deployment);

fn fail(place: impl Into<String>, problem: impl Into<String>) -> IngestError {
    IngestError { source_name: SOURCE, place: place.into(), problem: problem.into() }
}

/// The deployments in `input` (whose SHA-256 is `digest`), oldest first per environment.
pub fn parse(
    input: &[u8],
    env: Option<&str>,
    component: Option<&str>,
    digest: &str,
) -> Result<Vec<Observed>, IngestError> {
    let Items(list): Items<Deployment> =
        read_json(SOURCE, input, b'[', "an array of deployments (`GET /repos/{owner}/{repo}/deployments`)")?;
    let mut groups: BTreeMap<(String, String), Vec<Dated>> = BTreeMap::new();
    // Deployment ids are the repository's, whatever the environment or the time: one seen twice is refused
    // wherever the two copies stand (sorted by time, copies at different times were not side by side).
    let mut ids = std::collections::HashSet::new();
    for d in list {
        let place = format!("deployment {}", d.id);
        if !ids.insert(d.id) {
            return Err(fail(place, "appears twice"));
        }
        if env.is_some_and(|e| e != d.environment) {
            continue;
        }
        let environment = name(SOURCE, &place, "environment", &d.environment)?;
        let comp = match (component, d.repository_url.as_deref()) {
            (Some(c), _) => c.to_string(),
            (None, Some(url)) => {
                name(SOURCE, &place, "repository", url.trim_end_matches('/').rsplit('/').next().unwrap_or(""))?
            }
            (None, None) => return Err(fail(place, "has no repository_url to name the component; give --component")),
        };
        let at = utc_seconds(&d.created_at).ok_or_else(|| {
            fail(&place, format!("\"created_at\" is not a time: {:?}", crate::text::safe(&bounded(&d.created_at))))
        })?;
        groups.entry((environment, comp)).or_default().push((at, d.id, d));
    }
    let mut out = Vec::new();
    for ((environment, comp), mut list) in groups {
        list.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let mut redeploys = Redeploys::new();
        for (at, id, d) in &list {
            let (previous, back_to) = redeploys.next(*id, d.sha.as_str());
            let description = match (d.description.as_deref().filter(|t| !t.is_empty()), d.reference.as_deref()) {
                (Some(t), _) => Some(bounded(t)),
                (None, Some(r)) => Some(bounded(&format!("ref {r}"))),
                (None, None) => None,
            };
            out.push(Observed {
                source: SOURCE.into(),
                env: environment.clone(),
                component: comp.clone(),
                revision: id.to_string(),
                from: previous.map(|p| p.to_string()),
                to: back_to.unwrap_or(*id).to_string(),
                rollback: back_to.is_some(),
                at: at.clone(),
                by: d.creator.as_ref().and_then(|c| c.login.as_deref()).map(bounded),
                artifact: Some(bounded(&d.sha)),
                description,
                input_sha256: digest.into(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &[u8] = include_bytes!("../../tests/fixtures/ingest/github-deployments.json");
    const ROLLBACK: &[u8] = include_bytes!("../../tests/fixtures/ingest/github-deployments-rollback.json");

    #[test]
    fn githubs_own_example_parses() {
        let got = parse(EXAMPLE, None, None, "d").unwrap();
        assert_eq!(got.len(), 1);
        let o = &got[0];
        assert_eq!((o.env.as_str(), o.component.as_str(), o.revision.as_str()), ("production", "example", "1"));
        assert_eq!((o.from.as_deref(), o.to.as_str(), o.rollback), (None, "1", false));
        assert_eq!(o.at, "2012-07-20T01:19:13Z");
        assert_eq!(o.by.as_deref(), Some("octocat"));
        assert_eq!(o.artifact.as_deref(), Some("a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d"));
        assert_eq!(o.description.as_deref(), Some("Deploy request from hubot"));
    }

    #[test]
    fn a_commit_deployed_again_after_another_is_a_rollback_per_environment() {
        let got = parse(ROLLBACK, None, None, "d").unwrap();
        let rows: Vec<_> = got
            .iter()
            .map(|o| (o.env.as_str(), o.revision.as_str(), o.from.as_deref(), o.to.as_str(), o.rollback))
            .collect();
        assert_eq!(
            rows,
            [
                ("production", "101", None, "101", false),
                ("production", "103", Some("101"), "103", false),
                ("production", "104", Some("103"), "101", true),
                ("staging", "100", None, "100", false),
                ("staging", "102", Some("100"), "102", false),
                ("staging", "105", Some("102"), "105", false),
            ]
        );
        let production = parse(ROLLBACK, Some("production"), Some("shop"), "d").unwrap();
        assert_eq!(production.len(), 3);
        assert!(production.iter().all(|o| o.component == "shop" && o.env == "production"));
    }

    #[test]
    fn wrong_shapes_are_refused_with_the_place() {
        let err = |input: &[u8]| parse(input, None, None, "d").unwrap_err().to_string();
        assert!(err(b"{}").contains("expected an array of deployments"));
        assert!(err(br#"[{"id":1}]"#).contains("missing field"), "{}", err(br#"[{"id":1}]"#));
        let no_repo = br#"[{"id":1,"sha":"a","environment":"p","created_at":"2026-01-01T00:00:00Z"}]"#;
        assert!(err(no_repo).contains("deployment 1: has no repository_url"), "{}", err(no_repo));
        let bad_time = br#"[{"id":1,"sha":"a","environment":"p","created_at":"today","repository_url":"x/y"}]"#;
        assert!(err(bad_time).contains("not a time"));
        assert!(err(&EXAMPLE[..EXAMPLE.len() / 2]).starts_with("github input line"));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(err(deep.as_bytes()).starts_with("github input"), "nesting is bounded");
        // An id seen twice, at different times (before: not side by side once sorted by time, so recorded
        // twice) or in another environment.
        let d = |id: u32, env: &str, at: &str| {
            format!(r#"{{"id":{id},"sha":"a{id}","environment":"{env}","created_at":"{at}","repository_url":"x/y"}}"#)
        };
        let later = format!(
            "[{},{},{}]",
            d(5, "p", "2026-01-01T00:00:00Z"),
            d(6, "p", "2026-01-01T01:00:00Z"),
            d(5, "p", "2026-01-01T02:00:00Z")
        );
        assert!(err(later.as_bytes()).contains("deployment 5: appears twice"), "{}", err(later.as_bytes()));
        let elsewhere = format!("[{},{}]", d(5, "p", "2026-01-01T00:00:00Z"), d(5, "q", "2026-01-01T00:00:00Z"));
        assert!(err(elsewhere.as_bytes()).contains("deployment 5: appears twice"));
    }

    #[test]
    fn control_characters_in_descriptions_are_kept_as_data() {
        let input = br#"[{"id":1,"sha":"a","environment":"p","created_at":"2026-01-01T00:00:00Z",
            "repository_url":"https://api.github.com/repos/o/r","description":"\u001b[2Jx"}]"#;
        assert_eq!(parse(input, None, None, "d").unwrap()[0].description.as_deref(), Some("\u{1b}[2Jx"));
    }
}
