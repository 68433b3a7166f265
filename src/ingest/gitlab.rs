//! GitLab's deployments, the JSON array of `GET /projects/:id/deployments`, each `{"id", "iid", "sha",
//! "ref", "status", "created_at", "updated_at", "user": {"username"}, "environment": {"name"},
//! "deployable": {"commit": {"title"}, …}}`.
//!
//! Only deployments whose `status` is `success` deployed anything; the others (`created`, `running`,
//! `failed`, `canceled`, `blocked`, `skipped`) are left out. Per environment, in order of `iid`: a
//! deployment of a commit that an earlier successful deployment in that environment deployed, but not the
//! one just before it, brings it back (GitLab's "Rollback environment" re-runs that job): a rollback, to the
//! `iid` of the latest earlier deployment of that commit. The revision is the deployment's `iid` (the
//! number GitLab shows); `at` is its `created_at`. The environment is each deployment's (`--env` keeps
//! only that environment's); the list does not name the project, so `--component` is required.

use super::{IngestError, Items, Observed, Redeploys, bounded, name, read_json, utc_seconds};
use serde::Deserialize;
use std::collections::BTreeMap;

const SOURCE: &str = "gitlab";

#[derive(Deserialize)]
struct Deployment {
    iid: u64,
    sha: String,
    #[serde(default, rename = "ref")]
    reference: Option<String>,
    status: String,
    created_at: String,
    #[serde(default)]
    user: Option<User>,
    environment: Environment,
    #[serde(default)]
    deployable: Option<Deployable>,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    username: Option<String>,
}

#[derive(Deserialize)]
struct Environment {
    name: String,
}

#[derive(Deserialize)]
struct Deployable {
    #[serde(default)]
    commit: Option<Commit>,
}

#[derive(Deserialize)]
struct Commit {
    #[serde(default)]
    title: Option<String>,
}

fn fail(place: impl Into<String>, problem: impl Into<String>) -> IngestError {
    IngestError { source_name: SOURCE, place: place.into(), problem: problem.into() }
}

/// The successful deployments in `input` (whose SHA-256 is `digest`) for `component`, oldest first per
/// environment.
pub fn parse(input: &[u8], env: Option<&str>, component: &str, digest: &str) -> Result<Vec<Observed>, IngestError> {
    let Items(list): Items<Deployment> =
        read_json(SOURCE, input, b'[', "an array of deployments (`GET /projects/:id/deployments`)")?;
    let mut groups: BTreeMap<String, Vec<(String, Deployment)>> = BTreeMap::new();
    // A deployment's iid is the project's, whatever its environment: one seen twice anywhere is refused.
    let mut iids = std::collections::HashSet::new();
    for d in list {
        let place = format!("deployment iid {}", d.iid);
        if !iids.insert(d.iid) {
            return Err(fail(place, "appears twice"));
        }
        let at = utc_seconds(&d.created_at).ok_or_else(|| {
            fail(&place, format!("\"created_at\" is not a time: {:?}", crate::text::safe(&bounded(&d.created_at))))
        })?;
        if d.status != "success" || env.is_some_and(|e| e != d.environment.name) {
            continue;
        }
        let environment = name(SOURCE, &place, "environment", &d.environment.name)?;
        groups.entry(environment).or_default().push((at, d));
    }
    let mut out = Vec::new();
    for (environment, mut list) in groups {
        list.sort_by_key(|(_, d)| d.iid);
        let mut redeploys = Redeploys::new();
        for (at, d) in &list {
            let (previous, back_to) = redeploys.next(d.iid, d.sha.as_str());
            let title = d.deployable.as_ref().and_then(|j| j.commit.as_ref()).and_then(|c| c.title.as_deref());
            let description = match (title, d.reference.as_deref()) {
                (Some(t), _) => Some(bounded(t)),
                (None, Some(r)) => Some(bounded(&format!("ref {r}"))),
                (None, None) => None,
            };
            out.push(Observed {
                source: SOURCE.into(),
                env: environment.clone(),
                component: component.into(),
                revision: d.iid.to_string(),
                from: previous.map(|p| p.to_string()),
                to: back_to.unwrap_or(d.iid).to_string(),
                rollback: back_to.is_some(),
                at: at.clone(),
                by: d.user.as_ref().and_then(|u| u.username.as_deref()).map(bounded),
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

    const EXAMPLE: &[u8] = include_bytes!("../../tests/fixtures/ingest/gitlab-deployments.json");
    const ROLLBACK: &[u8] = include_bytes!("../../tests/fixtures/ingest/gitlab-deployments-rollback.json");

    #[test]
    fn gitlabs_own_example_parses_and_its_unfinished_deployments_count_for_nothing() {
        // Both deployments of GitLab's documented example are still `created`.
        assert!(parse(EXAMPLE, None, "project", "d").unwrap().is_empty());
    }

    #[test]
    fn a_commit_deployed_again_after_another_is_a_rollback() {
        let got = parse(ROLLBACK, None, "project", "d").unwrap();
        let rows: Vec<_> = got
            .iter()
            .map(|o| (o.env.as_str(), o.revision.as_str(), o.from.as_deref(), o.to.as_str(), o.rollback))
            .collect();
        assert_eq!(
            rows,
            [
                ("production", "1", None, "1", false),
                ("production", "2", Some("1"), "2", false),
                ("production", "4", Some("2"), "1", true),
            ],
            "the failed deployment 3 is left out"
        );
        let back = &got[2];
        assert_eq!(back.at, "2016-08-11T13:02:10Z");
        assert_eq!(back.by.as_deref(), Some("root"));
        assert_eq!(back.artifact.as_deref(), Some("99d03678b90d914dbb1b109132516d71a4a03ea8"));
        assert_eq!(back.description.as_deref(), Some("Merge branch 'new-title' into 'main'\r"));
        assert!(parse(ROLLBACK, Some("staging"), "project", "d").unwrap().is_empty());
    }

    #[test]
    fn wrong_shapes_are_refused_with_the_place() {
        let err = |input: &[u8]| parse(input, None, "c", "d").unwrap_err().to_string();
        assert!(err(b"{}").contains("expected an array of deployments"));
        assert!(err(br#"[{"iid":1}]"#).contains("missing field"));
        let bad_time = br#"[{"iid":1,"sha":"a","status":"success","created_at":"x","environment":{"name":"p"}}]"#;
        assert!(err(bad_time).contains("deployment iid 1: \"created_at\" is not a time"), "{}", err(bad_time));
        assert!(err(&EXAMPLE[..EXAMPLE.len() / 2]).starts_with("gitlab input line"));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(err(deep.as_bytes()).starts_with("gitlab input"), "nesting is bounded");
        // An iid is the project's: seen under two environments, it is refused (before, recorded twice).
        let d = |env: &str| {
            format!(
                r#"{{"iid":7,"sha":"a","status":"success","created_at":"2026-01-01T00:00:00Z","environment":{{"name":"{env}"}}}}"#
            )
        };
        let twice = format!("[{},{}]", d("p"), d("q"));
        assert!(err(twice.as_bytes()).contains("deployment iid 7: appears twice"), "{}", err(twice.as_bytes()));
    }

    #[test]
    fn control_characters_in_descriptions_are_kept_as_data() {
        let input = br#"[{"iid":1,"sha":"a","status":"success","created_at":"2026-01-01T00:00:00Z",
            "environment":{"name":"p"},"deployable":{"commit":{"title":"\u001b[2Jx"}}}]"#;
        assert_eq!(parse(input, None, "c", "d").unwrap()[0].description.as_deref(), Some("\u{1b}[2Jx"));
    }
}
