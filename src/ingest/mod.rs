//! Deployment histories read from the CD tools (issue 17): each tool's output becomes a list of
//! [`Observed`] deployments — what ran where, from which revision to which, when, and whether it brought
//! an earlier revision back (a rollback). Parsers are bounded (input size, number of revisions, nesting)
//! and refuse wrong shapes with one line naming the source and the place. Nothing here signs or writes.

pub mod argocd;
pub mod git;
pub mod github;
pub mod gitlab;
pub mod helm;
pub mod kubernetes;

use serde::{Deserialize, Serialize};

/// The body of a `deployment.observed` entry (docs/FORMAT.md §3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observed {
    /// The tool the history came from (`helm`, …).
    pub source: String,
    pub env: String,
    pub component: String,
    /// The tool's id of this deployment (a Helm revision number).
    pub revision: String,
    /// The revision deployed before it, when the history shows one.
    pub from: Option<String>,
    /// The revision whose content it deployed: itself, or for a rollback the earlier one brought back.
    pub to: String,
    /// Whether it brought an earlier revision back.
    pub rollback: bool,
    /// When the tool says it happened (RFC 3339, UTC).
    pub at: String,
    /// Who the tool says did it, when it says.
    pub by: Option<String>,
    /// What was deployed (chart and app version, image digest), as the tool names it.
    pub artifact: Option<String>,
    /// The tool's own description of the deployment (untrusted text, at most 1,000 characters).
    pub description: Option<String>,
    /// SHA-256 (hex) of the input file this was read from.
    pub input_sha256: String,
}

/// Which deployment an observation is of ([`Observed::identity`]): source, environment, component, revision
/// and time.
pub type Identity = (String, String, String, String, String);

impl Observed {
    /// The key re-ingesting the same history must not record twice.
    pub fn key(&self) -> (String, String, String, String) {
        (self.source.clone(), self.env.clone(), self.component.clone(), self.revision.clone())
    }

    /// Which deployment this is: its tool, environment, component, revision and time. A revision number
    /// used again later (a release installed anew) has another time: another deployment.
    pub fn identity(&self) -> Identity {
        (self.source.clone(), self.env.clone(), self.component.clone(), self.revision.clone(), self.at.clone())
    }

    /// Whether this observation says nothing `earlier` (of the same deployment) did not: every member the
    /// same, or unknown here where `earlier` knew it. A history read again after its window moved (Helm
    /// and Argo CD keep ten revisions) says less of a deployment it showed before: no revision before it
    /// (`from`), a rollback no longer recognised. Such a reading is not recorded again, where it used to
    /// be, and then counted as a second rollback nothing accounted for. One that says more, or otherwise,
    /// is recorded (an earlier observation that says something else never hides it).
    pub fn says_no_more_than(&self, earlier: &Observed) -> bool {
        let known = |new: &Option<String>, old: &Option<String>| new.is_none() || new == old;
        self.identity() == earlier.identity()
            && known(&self.from, &earlier.from)
            && (self.rollback == earlier.rollback && self.to == earlier.to
                || !self.rollback && earlier.rollback && self.to == self.revision)
            && known(&self.by, &earlier.by)
            && known(&self.artifact, &earlier.artifact)
            && known(&self.description, &earlier.description)
    }
}

/// Largest input read, in bytes.
pub const MAX_INPUT: u64 = 256 << 20;
/// Most deployments one input may hold.
pub const MAX_REVISIONS: usize = 1_000_000;
/// Longest description kept, in characters (the rest is cut and marked).
pub const MAX_DESCRIPTION: usize = 1_000;

/// Why an input was refused: the source, where in it, and what.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{source_name} input {place}: {problem}")]
pub struct IngestError {
    pub source_name: &'static str,
    pub place: String,
    pub problem: String,
}

/// `text` cut to [`MAX_DESCRIPTION`] characters.
pub(crate) fn bounded(text: &str) -> String {
    if text.chars().count() <= MAX_DESCRIPTION {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_DESCRIPTION).collect();
    out.push_str(" […]");
    out
}

/// A JSON array read element by element, at most [`MAX_REVISIONS`] elements (no tree of the whole
/// input is built; nesting is bounded by serde_json's recursion limit).
pub(crate) struct Items<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Items<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Seq<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Seq<T> {
            type Value = Items<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Items<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<T>()? {
                    if out.len() == MAX_REVISIONS {
                        return Err(serde::de::Error::custom(format!(
                            "more than {MAX_REVISIONS} entries; at most {MAX_REVISIONS} are read"
                        )));
                    }
                    out.push(item);
                }
                Ok(Items(out))
            }
        }
        d.deserialize_seq(Seq(std::marker::PhantomData))
    }
}

/// Values (objects, arrays, strings, numbers, …) an input may hold in the objects kept whole from it
/// ([`Tree`]), all together: a tree takes tens of bytes per value, so an input of 256 MiB of `[0,0,…]`
/// would otherwise take several gigabytes. Real histories hold a few hundred per object.
pub(crate) const MAX_TREE_VALUES: usize = 2_000_000;

thread_local! {
    /// What is left of [`MAX_TREE_VALUES`] for the input [`read_json`] is reading.
    static TREE_LEFT: std::cell::Cell<usize> = const { std::cell::Cell::new(MAX_TREE_VALUES) };
}

/// A JSON value kept whole from an ingested input (a ControllerRevision's `data`, an Argo CD source), its
/// values counted against [`MAX_TREE_VALUES`] across the input as they are read.
#[derive(Debug)]
pub(crate) struct Tree(pub serde_json::Value);

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tree, D::Error> {
        d.deserialize_any(TreeVisitor).map(Tree)
    }
}

/// Builds a `serde_json::Value` as its own visitor does, spending one of [`TREE_LEFT`] per value.
struct TreeVisitor;

fn spend<E: serde::de::Error>() -> Result<(), E> {
    TREE_LEFT.with(|left| match left.get() {
        0 => Err(E::custom(format!(
            "more than {MAX_TREE_VALUES} values in the objects read whole; at most {MAX_TREE_VALUES} are read"
        ))),
        n => {
            left.set(n - 1);
            Ok(())
        }
    })
}

impl<'de> serde::de::Visitor<'de> for TreeVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<serde_json::Value, E> {
        spend()?;
        Ok(serde_json::Value::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<serde_json::Value, E> {
        spend()?;
        Ok(v.into())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<serde_json::Value, E> {
        spend()?;
        Ok(v.into())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<serde_json::Value, E> {
        spend()?;
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<serde_json::Value, E> {
        spend()?;
        Ok(serde_json::Value::String(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<serde_json::Value, E> {
        spend()?;
        Ok(serde_json::Value::String(v))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<serde_json::Value, E> {
        spend()?;
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<serde_json::Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<serde_json::Value, D::Error> {
        Tree::deserialize(d).map(|t| t.0)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<serde_json::Value, A::Error> {
        spend()?;
        let mut out = Vec::new();
        while let Some(Tree(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(serde_json::Value::Array(out))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<serde_json::Value, A::Error> {
        spend()?;
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Tree(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(serde_json::Value::Object(out))
    }
}

/// Reads `input` as a `T`, the first non-blank byte being `open` (`[` or `{`), or refuses it in one line
/// naming `source` and the line and column.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    source: &'static str,
    input: &[u8],
    open: u8,
    expected: &str,
) -> Result<T, IngestError> {
    if input.iter().find(|b| !b.is_ascii_whitespace()) != Some(&open) {
        return Err(IngestError {
            source_name: source,
            place: "at the top".into(),
            problem: format!("expected {expected}"),
        });
    }
    TREE_LEFT.with(|left| left.set(MAX_TREE_VALUES));
    serde_json::from_slice(input).map_err(|e| IngestError {
        source_name: source,
        place: format!("line {} column {}", e.line(), e.column()),
        // serde's message may quote the whole value it could not take: one line of bounded length.
        problem: crate::text::safe(&bounded(&e.to_string())),
    })
}

/// An RFC 3339 time as UTC whole seconds (`2026-01-02T03:04:05Z`), or `None` when it is not one, or not
/// one in the years 0000 to 9999 once in UTC (`9999-12-31T23:30:00-01:00` is in the year 10000, which
/// RFC 3339 cannot write: recorded so, no reader could read it back, and every later ingest would record
/// it again).
pub(crate) fn utc_seconds(time: &str) -> Option<String> {
    use chrono::Datelike;
    chrono::DateTime::parse_from_rfc3339(time.trim())
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
        .filter(|t| (0..=9999).contains(&t.year()))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// `value` as an environment or component name: not blank, at most 200 bytes, no control characters;
/// otherwise the one-line refusal naming `source`, `place` and `what`.
pub(crate) fn name(source: &'static str, place: &str, what: &str, value: &str) -> Result<String, IngestError> {
    let v = value.trim();
    if v.is_empty() || v.len() > 200 || v.chars().any(char::is_control) {
        return Err(IngestError {
            source_name: source,
            place: place.to_string(),
            problem: format!(
                "{what} {:?} is not a short name without control characters",
                crate::text::safe(&bounded(v))
            ),
        });
    }
    Ok(v.to_string())
}

/// Deployments of one history in order, each with what it deployed (a commit, a set of revisions): which
/// earlier deployment a new one brought back. Deploying what the one just before deployed is a re-sync,
/// not a rollback; deploying what an earlier one deployed is.
pub(crate) struct Redeploys<K, I> {
    latest: std::collections::HashMap<K, I>,
    previous: Option<(I, K)>,
}

impl<K: Eq + std::hash::Hash + Clone, I: Copy> Redeploys<K, I> {
    pub(crate) fn new() -> Self {
        Redeploys { latest: std::collections::HashMap::new(), previous: None }
    }

    /// Records deployment `id` of `content`: the deployment before it, and the earlier one whose content
    /// it brought back (a rollback), if it did.
    pub(crate) fn next(&mut self, id: I, content: K) -> (Option<I>, Option<I>) {
        let back_to = match (&self.previous, self.latest.get(&content)) {
            (Some((_, prev)), _) if *prev == content => None,
            (_, Some(&earlier)) => Some(earlier),
            _ => None,
        };
        let before = self.previous.as_ref().map(|(p, _)| *p);
        self.latest.insert(content.clone(), id);
        self.previous = Some((id, content));
        (before, back_to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Times are recorded only in the years an RFC 3339 time can write once in UTC: one an offset carries
    /// into the year 10000 is refused (before, it was recorded as `+10000-…`, which no reader reads back,
    /// so every later ingest recorded it again).
    #[test]
    fn times_past_the_year_9999_in_utc_are_not_times() {
        assert_eq!(utc_seconds("9999-12-31T23:30:00-01:00"), None);
        assert_eq!(utc_seconds("9999-12-31T23:59:59Z").as_deref(), Some("9999-12-31T23:59:59Z"));
        assert_eq!(utc_seconds(" 2026-03-01T10:00:00+01:00 ").as_deref(), Some("2026-03-01T09:00:00Z"));
        let err = helm::parse(
            br#"[{"revision":1,"updated":"9999-12-31T23:30:00-01:00","status":"deployed"}]"#,
            "e",
            "c",
            "d",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("is not a time"), "{err}");
    }

    /// The objects kept whole from an input (a ControllerRevision's `data`) hold at most
    /// [`MAX_TREE_VALUES`] values all together, counted as they are read: two ControllerRevisions of a
    /// million and one values between them are refused; the limit starts afresh for the next input.
    #[test]
    fn objects_read_whole_are_bounded_across_the_input() {
        let cr = |n: usize, values: usize| {
            format!(
                r#"{{"kind":"ControllerRevision","revision":{n},"metadata":{{"name":"db-{n}","namespace":"data",
                "creationTimestamp":"2026-01-0{n}T00:00:00Z","ownerReferences":[{{"kind":"StatefulSet","name":"db"}}]}},
                "data":[{}]}}"#,
                vec!["0"; values].join(",")
            )
        };
        let half = MAX_TREE_VALUES / 2;
        let over = format!(r#"{{"kind":"List","items":[{},{}]}}"#, cr(1, half), cr(2, half));
        let err = kubernetes::parse(over.as_bytes(), None, None, "d").unwrap_err().to_string();
        assert!(err.contains("more than 2000000 values in the objects read whole"), "{err}");
        let under = format!(r#"{{"kind":"List","items":[{},{}]}}"#, cr(1, 10), cr(2, 10));
        assert_eq!(kubernetes::parse(under.as_bytes(), None, None, "d").unwrap().len(), 2);
    }

    /// A refusal is one line of bounded length however long the value serde quotes in it.
    #[test]
    fn a_refusal_quoting_a_huge_value_stays_short() {
        let huge = format!(r#"[{{"revision":"{}","updated":"2026-01-01T00:00:00Z"}}]"#, "7".repeat(200_000));
        let err = helm::parse(huge.as_bytes(), "e", "c", "d").unwrap_err().to_string();
        assert!(err.len() < 1_500 && !err.contains('\n'), "{} bytes", err.len());
        let list = format!(r#"{{"kind":"List","items":[{{"kind":{}}}]}}"#, "7".repeat(200_000));
        let err = kubernetes::parse(list.as_bytes(), None, None, "d").unwrap_err().to_string();
        assert!(err.len() < 1_500, "{} bytes", err.len());
    }
}
