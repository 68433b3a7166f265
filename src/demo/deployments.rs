//! The deployment histories the demo ingests, as the CD tools print them: `helm history payments-api -o
//! json` in production, whose three rollbacks the demo's requests account for (two emergencies and a
//! temporary revert), and `kubectl get replicasets -o json` of the `search` Deployment in production,
//! where a `kubectl rollout undo` two nights ago brought revision 2 back with no request — the unrecorded
//! rollback `rollcall reconcile` and the console's queue show.

use crate::workflow::clock;
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use std::path::Path;

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Helm's history of payments-api in production, `now` being the demo's present. The revision numbers
/// are the demo's deploy numbers (`Scenario::record`: request i reverts deploy 4100 + 7 i to the one
/// before it; the latest emergency reverts 4271), so the requests for deploys 4254, 4268 and 4271 match
/// the rollbacks to 4253, 4267 and 4270.
pub(super) fn helm_history(now: DateTime<Utc>) -> serde_json::Value {
    let day = |d: i64| now - Duration::days(d);
    let revision = |n: u64, at: DateTime<Utc>, status: &str, description: String| {
        json!({"revision": n, "updated": time(at), "status": status, "chart": format!("payments-api-1.{n}.0"),
               "app_version": format!("1.{n}"), "description": description})
    };
    let upgrade = || "Upgrade complete".to_string();
    let rollback = |to: u64| format!("Rollback to {to}");
    json!([
        revision(4253, day(33), "superseded", "Install complete".into()),
        revision(4254, day(30) - Duration::hours(2), "superseded", upgrade()),
        revision(4255, day(30) + Duration::minutes(6), "superseded", rollback(4253)),
        revision(4267, day(12), "superseded", upgrade()),
        revision(4268, day(10) - Duration::hours(1), "superseded", upgrade()),
        revision(4269, day(10) + Duration::hours(1), "superseded", rollback(4267)),
        revision(4270, day(7), "superseded", upgrade()),
        revision(4271, day(5) - Duration::hours(2), "superseded", upgrade()),
        revision(4272, day(5) + Duration::minutes(6), "deployed", rollback(4270)),
    ])
}

/// The ReplicaSets of the `search` Deployment in production: revisions 1, 2 and 3 rolled out, then
/// `kubectl rollout undo` brought revision 2's template back as revision 4 (`revision-history: 2`).
pub(super) fn replicasets(now: DateTime<Utc>) -> serde_json::Value {
    let night = (now - Duration::days(2)).date_naive().and_hms_opt(1, 10, 0).map(|t| t.and_utc()).unwrap_or(now);
    let rs = |hash: &str, revision: &str, history: Option<&str>, created: DateTime<Utc>, image: &str, cause: &str| {
        let mut annotations = json!({
            "deployment.kubernetes.io/desired-replicas": "3",
            "deployment.kubernetes.io/max-replicas": "4",
            "deployment.kubernetes.io/revision": revision,
            "kubernetes.io/change-cause": cause,
        });
        if let Some(h) = history {
            annotations["deployment.kubernetes.io/revision-history"] = h.into();
        }
        json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "annotations": annotations,
                "creationTimestamp": time(created),
                "labels": {"app": "search", "pod-template-hash": hash},
                "name": format!("search-{hash}"),
                "namespace": "production",
                "ownerReferences": [{"apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true,
                                     "kind": "Deployment", "name": "search",
                                     "uid": "6f1d3c2a-0b9e-4c1f-8a7d-2e5b9c4d1a70"}],
            },
            "spec": {
                "replicas": if history.is_some() { 3 } else { 0 },
                "selector": {"matchLabels": {"app": "search", "pod-template-hash": hash}},
                "template": {"spec": {"containers": [{"name": "search", "image": image}]}},
            },
        })
    };
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            rs("5d8f7c6b9a", "1", None, now - Duration::days(40), "registry.example.com/search:3.8.0",
               "helm upgrade search 3.8.0"),
            rs("7c9d8e5f4b", "4", Some("2"), now - Duration::days(20), "registry.example.com/search:3.9.0",
               "kubectl rollout undo deployment/search --to-revision=2"),
            rs("9a6b5c4d3e", "3", None, night, "registry.example.com/search:3.10.0", "helm upgrade search 3.10.0"),
        ],
        "metadata": {"resourceVersion": ""},
    })
}

/// Writes both histories under `dir/deployments/` and ingests them as `who` at `now`.
pub(super) fn ingest(ctx: &Context, dir: &Path, who: &str, now: DateTime<Utc>) -> Result<(), WorkflowError> {
    let folder = dir.join("deployments");
    crate::paths::create_private_dir(&folder).map_err(|e| WorkflowError::Read(folder.clone(), e))?;
    let write = |name: &str, v: serde_json::Value| -> Result<std::path::PathBuf, WorkflowError> {
        let path = folder.join(name);
        let text = serde_json::to_string_pretty(&v)?;
        std::fs::write(&path, text).map_err(|e| WorkflowError::Io(path.display().to_string(), e))?;
        Ok(path)
    };
    let helm = write("helm-history-payments-api.json", helm_history(now))?;
    let kube = write("replicasets-search.json", replicasets(now))?;
    clock::at(now, || -> Result<(), WorkflowError> {
        crate::workflow::ingest::ingest_named(ctx, Some(who), "helm", &helm, Some("production"), Some("payments-api"))?;
        crate::workflow::ingest::ingest_named(ctx, Some(who), "kubernetes", &kube, None, None)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histories_parse_as_the_tools_print_them_with_one_rollback_in_kubernetes() {
        let now = DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap().with_timezone(&Utc);
        let helm = serde_json::to_vec(&helm_history(now)).unwrap();
        let got = crate::ingest::helm::parse(&helm, "production", "payments-api", "0").unwrap();
        let back: Vec<(&str, &str)> =
            got.iter().filter(|o| o.rollback).map(|o| (o.from.as_deref().unwrap_or(""), o.to.as_str())).collect();
        assert_eq!(back, [("4254", "4253"), ("4268", "4267"), ("4271", "4270")]);
        let kube = serde_json::to_vec(&replicasets(now)).unwrap();
        let got = crate::ingest::kubernetes::parse(&kube, None, None, "0").unwrap();
        let back: Vec<_> = got.iter().filter(|o| o.rollback).collect();
        assert_eq!(back.len(), 1, "{got:?}");
        assert_eq!(
            (back[0].env.as_str(), back[0].component.as_str(), back[0].to.as_str()),
            ("production", "search", "2")
        );
    }
}
