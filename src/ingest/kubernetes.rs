//! `kubectl get replicasets -o json` (a Deployment's history) and `kubectl get controllerrevisions -o json`
//! (a StatefulSet's or DaemonSet's): a `List` (or `ReplicaSetList`, `ControllerRevisionList`) whose
//! `items` may mix both kinds.
//!
//! **ReplicaSets.** The Deployment controller numbers each pod template it rolls out
//! (`deployment.kubernetes.io/revision`); when `kubectl rollout undo` brings an older template back, the
//! ReplicaSet holding it gets the next number and keeps the numbers it held before in
//! `deployment.kubernetes.io/revision-history`. So every number a ReplicaSet holds or held is one
//! deployment: the first it held is a rollout of a new template, each later one a rollback to the number
//! before it. Kubernetes keeps no time for a rollback: its `at` is the latest time of the deployments
//! before it (the earliest moment it can have happened); a rollout's `at` is the ReplicaSet's creation.
//!
//! **ControllerRevisions.** These are renumbered when brought back, and keep no history: a rollback is
//! seen when a ControllerRevision was created before one with a lower number (then `to` is its name: the
//! number it held before is lost), or when its `data` equals that of a lower-numbered one (then `to` is
//! that number). A rollback whose ControllerRevision was since pruned cannot be seen.
//!
//! The component is the owning workload's name (`metadata.ownerReferences`); with `--component`, only the
//! items owned by a workload of that name (and items with no owner) are read. The environment is the
//! namespace unless `--env` is given. A ReplicaSet without a revision annotation is not part of a
//! Deployment's history and is left out.

use super::{IngestError, Items, MAX_REVISIONS, Observed, bounded, name, read_json, utc_seconds};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

const SOURCE: &str = "kubernetes";
const REVISION: &str = "deployment.kubernetes.io/revision";
const HISTORY: &str = "deployment.kubernetes.io/revision-history";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    kind: Option<String>,
    items: Items<Object>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: Option<RsSpec>,
    #[serde(default)]
    revision: Option<i64>,
    #[serde(default)]
    data: Option<super::Tree>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    creation_timestamp: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    owner_references: Vec<OwnerRef>,
}

#[derive(Deserialize)]
struct OwnerRef {
    #[serde(default)]
    kind: Option<String>,
    name: String,
    #[serde(default)]
    controller: Option<bool>,
}

#[derive(Deserialize)]
struct RsSpec {
    #[serde(default)]
    template: Option<Template>,
}

#[derive(Deserialize)]
struct Template {
    #[serde(default)]
    spec: Option<PodSpec>,
}

#[derive(Deserialize)]
struct PodSpec {
    #[serde(default)]
    containers: Vec<Container>,
}

#[derive(Deserialize)]
struct Container {
    #[serde(default)]
    image: Option<String>,
}

fn fail(place: impl Into<String>, problem: impl Into<String>) -> IngestError {
    IngestError { source_name: SOURCE, place: place.into(), problem: problem.into() }
}

/// One deployment seen, before `from` is known.
struct Seen {
    revision: u64,
    to: String,
    rollback: bool,
    /// The time, or `None` for a rollback whose time Kubernetes does not keep.
    at: Option<String>,
    artifact: Option<String>,
    description: Option<String>,
}

/// The deployments in `input` (whose SHA-256 is `digest`), oldest first per workload.
pub fn parse(
    input: &[u8],
    env: Option<&str>,
    component: Option<&str>,
    digest: &str,
) -> Result<Vec<Observed>, IngestError> {
    let list: List = read_json(
        SOURCE,
        input,
        b'{',
        "a List of ReplicaSets or ControllerRevisions (`kubectl get replicasets -o json`)",
    )?;
    if let Some(k) = list.kind.as_deref()
        && !matches!(k, "List" | "ReplicaSetList" | "ControllerRevisionList")
    {
        return Err(fail(
            "at the top",
            format!(
                "expected a List of ReplicaSets or ControllerRevisions (`kubectl get replicasets -o json`), found kind {:?}",
                crate::text::safe(&bounded(k))
            ),
        ));
    }
    // Per (kind of history, environment, component): what each item shows.
    let mut replica_sets: BTreeMap<(String, String), Vec<Seen>> = BTreeMap::new();
    let mut revisions: BTreeMap<(String, String), Vec<(usize, Revision)>> = BTreeMap::new();
    // Revisions named so far, by ReplicaSets (their number and every number their annotations hold) and
    // ControllerRevisions: each is a deployment seen, so together they count against [`MAX_REVISIONS`]
    // (one ReplicaSet's history could otherwise name millions).
    let mut named = 0usize;
    for (i, item) in list.items.0.into_iter().enumerate() {
        let kind = match item.kind.as_deref() {
            Some(k) => k.to_string(),
            None if item.revision.is_some() => "ControllerRevision".into(),
            None => "ReplicaSet".into(),
        };
        let place = format!(
            "items[{i}] ({} {})",
            crate::text::safe(&bounded(&kind)),
            crate::text::safe(&bounded(item.metadata.name.as_deref().unwrap_or("without a name")))
        );
        if kind != "ReplicaSet" && kind != "ControllerRevision" {
            return Err(fail(place, "is neither a ReplicaSet nor a ControllerRevision"));
        }
        let annotations = &item.metadata.annotations;
        if kind == "ReplicaSet" && !annotations.contains_key(REVISION) {
            continue;
        }
        let owner = item
            .metadata
            .owner_references
            .iter()
            .find(|o| o.controller == Some(true))
            .or_else(|| item.metadata.owner_references.first());
        let comp = match (owner, component) {
            (Some(o), Some(c)) if o.name != c => continue,
            (_, Some(c)) => c.to_string(),
            (Some(o), None) => name(SOURCE, &place, &format!("owner {}", o.kind.as_deref().unwrap_or("")), &o.name)?,
            (None, None) => return Err(fail(place, "has no owner to name the component; give --component")),
        };
        let environment = match (env, item.metadata.namespace.as_deref()) {
            (Some(e), _) => e.to_string(),
            (None, Some(ns)) => name(SOURCE, &place, "namespace", ns)?,
            (None, None) => return Err(fail(place, "has no namespace to name the environment; give --env")),
        };
        let created = item
            .metadata
            .creation_timestamp
            .as_deref()
            .ok_or_else(|| fail(&place, "has no metadata.creationTimestamp"))?;
        let created = utc_seconds(created).ok_or_else(|| {
            fail(
                &place,
                format!("metadata.creationTimestamp is not a time: {:?}", crate::text::safe(&bounded(created))),
            )
        })?;
        let description = annotations.get(CHANGE_CAUSE).map(|c| bounded(c));
        if kind == "ReplicaSet" {
            let number = |text: &str| -> Result<u64, IngestError> {
                text.trim().parse::<u64>().map_err(|_| {
                    fail(&place, format!("revision {:?} is not a whole number", crate::text::safe(&bounded(text))))
                })
            };
            let current = number(annotations.get(REVISION).map(String::as_str).unwrap_or_default())?;
            let mut held = Vec::new();
            if let Some(h) = annotations.get(HISTORY).filter(|h| !h.trim().is_empty()) {
                for n in h.split(',') {
                    if named + held.len() + 1 >= MAX_REVISIONS {
                        return Err(fail(
                            place,
                            format!(
                                "names more than {MAX_REVISIONS} revisions in all; at most {MAX_REVISIONS} are read"
                            ),
                        ));
                    }
                    held.push(number(n)?);
                }
            }
            named += held.len() + 1;
            held.sort_unstable();
            held.push(current);
            if held.windows(2).any(|w| w[0] >= w[1]) {
                return Err(fail(place, format!("{HISTORY} holds a number not below its revision {current}")));
            }
            let images = images(item.spec.as_ref().and_then(|s| s.template.as_ref()).and_then(|t| t.spec.as_ref()));
            let seen = replica_sets.entry((environment, comp)).or_default();
            for (k, &n) in held.iter().enumerate() {
                seen.push(Seen {
                    revision: n,
                    to: if k == 0 { n.to_string() } else { held[k - 1].to_string() },
                    rollback: k > 0,
                    at: (k == 0).then(|| created.clone()),
                    artifact: images.clone(),
                    description: if n == current { description.clone() } else { None },
                });
            }
        } else {
            if named >= MAX_REVISIONS {
                return Err(fail(
                    place,
                    format!("names more than {MAX_REVISIONS} revisions in all; at most {MAX_REVISIONS} are read"),
                ));
            }
            named += 1;
            let number = item.revision.ok_or_else(|| fail(&place, "has no revision"))?;
            let number = u64::try_from(number).map_err(|_| fail(&place, format!("revision {number} is negative")))?;
            let artifact = item.data.as_ref().and_then(|d| {
                let containers = d.0.pointer("/spec/template/spec/containers")?.as_array()?;
                let list: Vec<&str> =
                    containers.iter().filter_map(|c| c.get("image").and_then(serde_json::Value::as_str)).collect();
                (!list.is_empty()).then(|| bounded(&list.join(", ")))
            });
            let content = item.data.as_ref().map(|d| d.0.to_string()).unwrap_or_default();
            revisions.entry((environment, comp)).or_default().push((
                i,
                Revision {
                    number,
                    name: item.metadata.name.clone().unwrap_or_default(),
                    created,
                    content,
                    artifact,
                    description,
                },
            ));
        }
    }
    let mut out = Vec::new();
    for ((environment, comp), mut seen) in replica_sets {
        seen.sort_by_key(|s| s.revision);
        push(&mut out, seen, &environment, &comp, digest)?;
    }
    for ((environment, comp), list) in revisions {
        let seen = controller_revisions(list)?;
        push(&mut out, seen, &environment, &comp, digest)?;
    }
    Ok(out)
}

/// A ControllerRevision as read.
struct Revision {
    number: u64,
    name: String,
    created: String,
    content: String,
    artifact: Option<String>,
    description: Option<String>,
}

/// The deployments one workload's ControllerRevisions show, oldest first.
fn controller_revisions(mut list: Vec<(usize, Revision)>) -> Result<Vec<Seen>, IngestError> {
    list.sort_by_key(|(_, r)| r.number);
    let mut seen = Vec::with_capacity(list.len());
    // The content of each number so far, and the latest creation time among the lower numbers.
    let mut by_content: HashMap<&str, u64> = HashMap::new();
    let mut latest_created: Option<&str> = None;
    for (k, (i, r)) in list.iter().enumerate() {
        if k > 0 && list[k - 1].1.number == r.number {
            return Err(fail(format!("items[{i}]"), format!("revision {} appears twice", r.number)));
        }
        // Created before a ControllerRevision with a lower number: renumbered when brought back.
        let renumbered = latest_created.is_some_and(|l| r.created.as_str() < l);
        let equal = (!r.content.is_empty()).then(|| by_content.get(r.content.as_str()).copied()).flatten();
        let (to, rollback, at) = match (equal, renumbered) {
            (Some(n), _) => (n.to_string(), true, Some(r.created.clone())),
            (None, true) => (r.name.clone(), true, None),
            (None, false) => (r.number.to_string(), false, Some(r.created.clone())),
        };
        seen.push(Seen {
            revision: r.number,
            to,
            rollback,
            at,
            artifact: r.artifact.clone(),
            description: r.description.clone(),
        });
        if !r.content.is_empty() {
            by_content.insert(r.content.as_str(), r.number);
        }
        latest_created =
            Some(latest_created.map_or(r.created.as_str(), |l| if r.created.as_str() > l { &r.created } else { l }));
    }
    Ok(seen)
}

/// `seen` (sorted by revision) as observations, `from` the revision before each.
fn push(out: &mut Vec<Observed>, seen: Vec<Seen>, env: &str, component: &str, digest: &str) -> Result<(), IngestError> {
    let mut previous: Option<u64> = None;
    let mut latest: Option<String> = None;
    for s in seen {
        if previous == Some(s.revision) {
            return Err(fail(
                format!("{} {}", crate::text::safe(env), crate::text::safe(component)),
                format!("revision {} appears twice", s.revision),
            ));
        }
        let at = match (s.at, &latest) {
            (Some(a), _) => a,
            (None, Some(l)) => l.clone(),
            (None, None) => {
                return Err(fail(
                    format!("{} {} revision {}", crate::text::safe(env), crate::text::safe(component), s.revision),
                    "a rollback with no earlier deployment to date it by",
                ));
            }
        };
        if latest.as_ref().is_none_or(|l| at > *l) {
            latest = Some(at.clone());
        }
        out.push(Observed {
            source: SOURCE.into(),
            env: env.into(),
            component: component.into(),
            revision: s.revision.to_string(),
            from: previous.map(|p| p.to_string()),
            to: s.to,
            rollback: s.rollback,
            at,
            by: None,
            artifact: s.artifact,
            description: s.description,
            input_sha256: digest.into(),
        });
        previous = Some(s.revision);
    }
    Ok(())
}

/// The images of a pod template, joined.
fn images(spec: Option<&PodSpec>) -> Option<String> {
    let list: Vec<&str> = spec?.containers.iter().filter_map(|c| c.image.as_deref()).collect();
    (!list.is_empty()).then(|| bounded(&list.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLICA_SETS: &[u8] = include_bytes!("../../tests/fixtures/ingest/kubernetes-replicasets-rollback.json");
    const CONTROLLER_REVISIONS: &[u8] =
        include_bytes!("../../tests/fixtures/ingest/kubernetes-controllerrevisions-rollback.json");

    #[test]
    fn a_replica_set_brought_back_is_a_rollback_to_the_number_it_held() {
        let got = parse(REPLICA_SETS, None, None, "d").unwrap();
        let rows: Vec<_> = got
            .iter()
            .map(|o| (o.revision.as_str(), o.from.as_deref(), o.to.as_str(), o.rollback, o.at.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("1", None, "1", false, "2026-03-02T09:00:00Z"),
                ("2", Some("1"), "2", false, "2026-03-03T14:12:40Z"),
                ("3", Some("2"), "1", true, "2026-03-03T14:12:40Z"),
            ]
        );
        assert!(got.iter().all(|o| o.env == "shop" && o.component == "checkout"));
        assert_eq!(got[1].artifact.as_deref(), Some("registry.example.com/checkout:2.4.0"));
        assert_eq!(got[2].artifact.as_deref(), Some("registry.example.com/checkout:2.3.1"));
        assert_eq!(got[2].description.as_deref(), Some("kubectl rollout undo deployment/checkout"));
        // --env renames; --component keeps only that workload's ReplicaSets.
        let named = parse(REPLICA_SETS, Some("production"), Some("checkout"), "d").unwrap();
        assert_eq!(named.len(), 3);
        assert!(named.iter().all(|o| o.env == "production"));
        assert!(parse(REPLICA_SETS, None, Some("other"), "d").unwrap().is_empty());
    }

    #[test]
    fn controller_revisions_show_a_rollback_when_renumbered_or_equal() {
        let got = parse(CONTROLLER_REVISIONS, None, None, "d").unwrap();
        let rows: Vec<_> =
            got.iter().map(|o| (o.component.as_str(), o.revision.as_str(), o.to.as_str(), o.rollback)).collect();
        assert_eq!(
            rows,
            [
                ("db", "1", "1", false),
                ("db", "3", "3", false),
                ("db", "4", "db-7c9d5b8f6d", true),
                ("log-agent", "1", "1", false),
                ("log-agent", "2", "2", false),
                ("log-agent", "3", "1", true),
            ]
        );
        assert_eq!(got[2].at, "2026-03-04T08:00:00Z", "dated by the latest deployment before it");
        assert_eq!(got[2].artifact.as_deref(), Some("postgres:16.2"));
    }

    #[test]
    fn wrong_shapes_are_refused_with_the_place() {
        let err = |input: &[u8]| parse(input, None, None, "d").unwrap_err().to_string();
        assert!(err(b"[]").contains("expected a List"), "{}", err(b"[]"));
        assert!(err(br#"{"kind":"Deployment","items":[]}"#).contains("kind \"Deployment\""));
        assert!(err(br#"{"kind":"List"}"#).contains("missing field `items`"));
        let pod = br#"{"kind":"List","items":[{"kind":"Pod","metadata":{"name":"p"}}]}"#;
        assert!(err(pod).contains("items[0] (Pod p)"), "{}", err(pod));
        let orphan = br#"{"kind":"List","items":[{"kind":"ReplicaSet","metadata":{"name":"r","namespace":"n",
            "creationTimestamp":"2026-01-01T00:00:00Z","annotations":{"deployment.kubernetes.io/revision":"1"}}}]}"#;
        assert!(err(orphan).contains("give --component"), "{}", err(orphan));
        assert_eq!(parse(orphan, None, Some("api"), "d").unwrap()[0].component, "api");
        let bad = br#"{"kind":"List","items":[{"kind":"ReplicaSet","metadata":{"name":"r","namespace":"n",
            "creationTimestamp":"2026-01-01T00:00:00Z","annotations":{"deployment.kubernetes.io/revision":"x"},
            "ownerReferences":[{"kind":"Deployment","name":"api"}]}}]}"#;
        assert!(err(bad).contains("not a whole number"), "{}", err(bad));
        assert!(err(&REPLICA_SETS[..REPLICA_SETS.len() / 2]).starts_with("kubernetes input line"));
        let deep = format!("{{\"items\":[{{\"data\":{}{}}}]}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(err(deep.as_bytes()).contains("recursion limit"), "nesting is bounded: {}", err(deep.as_bytes()));
        let ns = br#"{"kind":"List","items":[{"kind":"ReplicaSet","metadata":{"name":"r","namespace":"a\u0007",
            "creationTimestamp":"2026-01-01T00:00:00Z","annotations":{"deployment.kubernetes.io/revision":"1"},
            "ownerReferences":[{"kind":"Deployment","name":"api"}]}}]}"#;
        assert!(err(ns).contains("not a short name"), "{}", err(ns));
    }

    /// The numbers in ReplicaSets' revision-history annotations count against the limit on revisions as
    /// items do: two ReplicaSets naming half a million each (before: two million observations from 16 MB
    /// of annotations, each with its own copy of the image list) are refused; the same below it are read.
    #[test]
    fn revision_histories_count_against_the_limit_on_revisions() {
        let rs = |name: &str, first: usize, count: usize| {
            let history: Vec<String> = (first..first + count - 1).map(|n| n.to_string()).collect();
            format!(
                r#"{{"kind":"ReplicaSet","metadata":{{"name":"{name}","namespace":"n",
                "creationTimestamp":"2026-01-01T00:00:00Z","annotations":{{"deployment.kubernetes.io/revision":"{}",
                "deployment.kubernetes.io/revision-history":"{}"}},"ownerReferences":[{{"kind":"Deployment","name":"{name}"}}]}}}}"#,
                first + count - 1,
                history.join(",")
            )
        };
        let half = MAX_REVISIONS / 2;
        let over = format!(r#"{{"kind":"List","items":[{},{}]}}"#, rs("a", 1, half), rs("b", 1, half + 1));
        let err = parse(over.as_bytes(), None, None, "d").unwrap_err().to_string();
        assert!(err.contains("items[1] (ReplicaSet b)") && err.contains("more than 1000000 revisions in all"), "{err}");
        let under = format!(r#"{{"kind":"List","items":[{},{}]}}"#, rs("a", 1, 10), rs("b", 1, 10));
        assert_eq!(parse(under.as_bytes(), None, None, "d").unwrap().len(), 20);
        // ControllerRevisions count too: a history naming all but one of the revisions allowed, then two.
        let cr = |n: usize| {
            format!(
                r#"{{"kind":"ControllerRevision","revision":{n},"metadata":{{"name":"db-{n}","namespace":"n",
                "creationTimestamp":"2026-01-01T00:00:00Z","ownerReferences":[{{"kind":"StatefulSet","name":"db"}}]}}}}"#
            )
        };
        let mixed = format!(r#"{{"kind":"List","items":[{},{},{}]}}"#, rs("a", 1, MAX_REVISIONS - 1), cr(1), cr(2));
        let err = parse(mixed.as_bytes(), None, None, "d").unwrap_err().to_string();
        assert!(err.contains("items[2] (ControllerRevision db-2)") && err.contains("more than 1000000"), "{err}");
    }

    #[test]
    fn control_characters_in_the_change_cause_are_kept_as_data() {
        let input = br#"{"kind":"List","items":[{"kind":"ReplicaSet","metadata":{"name":"r","namespace":"n",
            "creationTimestamp":"2026-01-01T00:00:00Z","annotations":{"deployment.kubernetes.io/revision":"1",
            "kubernetes.io/change-cause":"\u001b[2Jx"},"ownerReferences":[{"kind":"Deployment","name":"api"}]}}]}"#;
        assert_eq!(parse(input, None, None, "d").unwrap()[0].description.as_deref(), Some("\u{1b}[2Jx"));
    }
}
