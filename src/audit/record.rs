//! The rollback record: every field a request carries, its JSON form (also the `--from-file` schema),
//! its validation, and the digest of its exact revert operation.

use crate::ledger::Hash;
use serde::{Deserialize, Serialize};

/// Longest one-line field (titles, ids, list items).
pub(crate) const MAX_LINE: usize = 300;
/// Longest free-text field.
pub(crate) const MAX_TEXT: usize = 4000;
/// Most items in a list field.
pub(crate) const MAX_ITEMS: usize = 100;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    SecurityPatch,
    CriticalBug,
    PerformanceRegression,
    DataIntegrity,
    Compliance,
    #[default]
    Other,
}

impl Category {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Category::SecurityPatch => "security-patch",
            Category::CriticalBug => "critical-bug",
            Category::PerformanceRegression => "performance-regression",
            Category::DataIntegrity => "data-integrity",
            Category::Compliance => "compliance",
            Category::Other => "other",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Risk {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Risk> {
        match s {
            "low" => Some(Risk::Low),
            "medium" => Some(Risk::Medium),
            "high" => Some(Risk::High),
            "critical" => Some(Risk::Critical),
            _ => None,
        }
    }
}

/// The exact operation that reverts the change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevertOp {
    /// The program run (e.g. `git`, `helm`, `kubectl`).
    pub tool: String,
    /// The full argument vector, program first.
    pub argv: Vec<String>,
    /// The revision or digest deployed now (being reverted).
    pub from: String,
    /// The revision or digest it returns to.
    pub to: String,
}

/// Where the change came from and what it touched.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lineage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iac: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feature_flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub release_notes: Vec<String>,
}

impl Lineage {
    pub(crate) fn is_empty(&self) -> bool {
        self == &Lineage::default()
    }

    /// Each list with its label, for display.
    pub(crate) fn lists(&self) -> [(&'static str, &Vec<String>); 7] {
        [
            ("commits", &self.commits),
            ("artifacts", &self.artifacts),
            ("images", &self.images),
            ("iac", &self.iac),
            ("feature flags", &self.feature_flags),
            ("manifests", &self.manifests),
            ("release notes", &self.release_notes),
        ]
    }
}

/// Steps of the revert with effects beyond the code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideEffects {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migrations: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destructive: Vec<String>,
}

impl SideEffects {
    pub(crate) fn is_empty(&self) -> bool {
        self.migrations.is_empty() && self.destructive.is_empty()
    }
}

/// A rollback request: the body of `rollback.requested` and the `record` of `rollback.amended`.
/// A request record. `Default` gives an empty record (which `validate` refuses): name the fields you
/// set and finish with `..Default::default()`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    pub title: String,
    /// The id of the original change being reverted (commit, deploy id, change request).
    pub change: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    pub category: Category,
    pub rationale: String,
    /// Anticipated user impact of the revert.
    pub impact: String,
    pub components: Vec<String>,
    /// The environment the revert is applied to.
    pub env: String,
    /// Where the problem was found (defaults to `env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_env: Option<String>,
    /// Services the revert may cascade to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cascades: Vec<String>,
    pub revert: RevertOp,
    pub risk: Risk,
    /// Security implications, as the requester sees them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<String>,
    #[serde(default, skip_serializing_if = "Lineage::is_empty")]
    pub lineage: Lineage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roll_forward_plan: Option<String>,
    /// RFC 3339 time until which the revert is meant to stay (a temporary revert).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporary_until: Option<String>,
    #[serde(default, skip_serializing_if = "SideEffects::is_empty")]
    pub side_effects: SideEffects,
    /// When the original change was deployed (RFC 3339), for time-to-detect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<String>,
    /// The change set the revert applies, stored as a blob (`--from-git`, `--diff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changeset: Option<ChangesetRef>,
    /// Advisories a dependency downgrade brings back (`--advisories DIR`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<AdvisoryRef>,
}

/// The change set blob a request signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesetRef {
    /// SHA-256 (hex) of the change set's canonical JSON bytes.
    pub sha256: String,
    /// `git` or `diff`.
    pub source: String,
    pub files: u64,
    /// Ids of the commits reverted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
}

/// An advisory that affects a version the revert returns to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryRef {
    pub id: String,
    pub package: String,
    pub version: String,
}

/// Why a request record is not valid: a field missing, too long or malformed (bad input, not a check).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRecord(pub String);

impl From<String> for InvalidRecord {
    fn from(s: String) -> Self {
        InvalidRecord(s)
    }
}

impl From<&str> for InvalidRecord {
    fn from(s: &str) -> Self {
        InvalidRecord(s.into())
    }
}

/// An environment name rollcall signs: see [`RequestBody::validate_to_sign`].
fn env_name(field: &str, v: &str) -> Result<(), String> {
    match v.trim().chars().find(|c| !(c.is_ascii_alphanumeric() || "._-:/".contains(*c))) {
        None => Ok(()),
        Some(c) => Err(format!(
            "{field} {v:?} holds {c:?} (U+{:04X}): environment names are ASCII letters, digits and . _ - : / (a \
             look-alike character would name another environment, outside its window)",
            c as u32
        )),
    }
}

fn line(field: &str, v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        return Err(format!("{field} is required and may not be empty"));
    }
    if v.chars().count() > MAX_LINE {
        return Err(format!("{field} is longer than {MAX_LINE} characters"));
    }
    if v.contains('\n') {
        return Err(format!("{field} must be one line"));
    }
    // No argument, name or path holds one; a revert's argument with one would run as several where it is
    // split on NUL (the CI recipes read the argv so), while approvers saw one.
    if v.contains('\0') {
        return Err(format!("{field} holds a NUL character"));
    }
    Ok(())
}

fn text(field: &str, v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        return Err(format!("{field} is required and may not be empty"));
    }
    if v.chars().count() > MAX_TEXT {
        return Err(format!("{field} is longer than {MAX_TEXT} characters"));
    }
    Ok(())
}

fn list(field: &str, items: &[String], required: bool) -> Result<(), String> {
    if required && items.is_empty() {
        return Err(format!("{field} needs at least one item"));
    }
    if items.len() > MAX_ITEMS {
        return Err(format!("{field} has more than {MAX_ITEMS} items"));
    }
    items.iter().try_for_each(|i| line(field, i))
}

/// Whether two environment names are the same environment: compared without ASCII case and surrounding
/// whitespace (a request for "Production " is judged by the `production` window, and found by
/// `gate --change … --env production`). The index's filters (`list --env`, `report --env`, the console's)
/// compare without ASCII case (`COLLATE NOCASE`).
pub(crate) fn same_env(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// A name (environment, component) as [`same_env`] compares it, as a key: without ASCII case and
/// surrounding whitespace. Only ASCII case: Unicode's would make the Kelvin sign a `k`, so that a name that
/// only looks like another would match it; `reconcile`, the report's tables and its scope use this.
pub(crate) fn name_key(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// Parses an RFC 3339 time (any offset).
pub(crate) fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&chrono::Utc))
}

impl RequestBody {
    /// Checks every field: required ones present, lengths bounded, times well-formed.
    pub(crate) fn validate(&self) -> Result<(), InvalidRecord> {
        line("title", &self.title)?;
        line("change", &self.change)?;
        if let Some(t) = &self.ticket {
            line("ticket", t)?;
        }
        if let Some(i) = &self.incident {
            line("incident", i)?;
        }
        text("rationale", &self.rationale)?;
        text("impact", &self.impact)?;
        list("components", &self.components, true)?;
        line("env", &self.env)?;
        if let Some(e) = &self.origin_env {
            line("origin_env", e)?;
        }
        list("cascades", &self.cascades, false)?;
        line("revert.tool", &self.revert.tool)?;
        list("revert.argv", &self.revert.argv, true)?;
        line("revert.from", &self.revert.from)?;
        line("revert.to", &self.revert.to)?;
        if self.revert.from == self.revert.to {
            return Err(InvalidRecord("revert.from and revert.to are the same revision".into()));
        }
        for (field, v) in [
            ("security", &self.security),
            ("test_plan", &self.test_plan),
            ("roll_forward_plan", &self.roll_forward_plan),
        ] {
            if let Some(v) = v {
                text(field, v)?;
            }
        }
        for (name, l) in self.lineage.lists() {
            list(&format!("lineage.{name}"), l, false)?;
        }
        list("side_effects.migrations", &self.side_effects.migrations, false)?;
        list("side_effects.destructive", &self.side_effects.destructive, false)?;
        if let Some(c) = &self.changeset
            && Hash::from_hex(&c.sha256).is_none()
        {
            return Err(InvalidRecord("changeset.sha256 is not a SHA-256 hex digest".into()));
        }
        if self.advisories.len() > MAX_ITEMS {
            return Err(InvalidRecord(format!("advisories has more than {MAX_ITEMS} items")));
        }
        for (field, v) in [("temporary_until", &self.temporary_until), ("deployed_at", &self.deployed_at)] {
            if let Some(v) = v
                && parse_time(v).is_none()
            {
                return Err(InvalidRecord(format!("{field} {v:?} is not an RFC 3339 time like 2026-12-01T12:00:00Z")));
            }
        }
        Ok(())
    }

    /// [`validate`](Self::validate), and what rollcall itself signs beyond it: environment names (`env`,
    /// `origin_env`) of ASCII letters, digits and `. _ - : /` only. A look-alike (a Cyrillic `о` in
    /// `prоduction`) is another environment to the policy's windows, to `gate --change --env` and to the CI
    /// script's environment check, while an approver reads it as the real one. A record signed elsewhere with
    /// one folds as written (this is not a rule of the format).
    pub(crate) fn validate_to_sign(&self) -> Result<(), InvalidRecord> {
        self.validate()?;
        env_name("env", &self.env)?;
        if let Some(e) = &self.origin_env {
            env_name("origin_env", e)?;
        }
        Ok(())
    }

    /// Parses a `--from-file` JSON document (unknown fields are refused) and validates it.
    pub fn from_json(bytes: &[u8]) -> Result<RequestBody, InvalidRecord> {
        let r: RequestBody = serde_json::from_slice(bytes).map_err(|e| format!("request file: {e}"))?;
        r.validate()?;
        Ok(r)
    }

    /// SHA-256 (hex) of the canonical JSON of the revert operation and its target environment: what an
    /// approval signs as "the exact operation".
    pub fn revert_digest(&self) -> String {
        Hash::of(&[&canonical_op(&self.env, &self.revert)]).to_hex()
    }

    pub(crate) fn temporary_until_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.temporary_until.as_deref().and_then(parse_time)
    }
}

/// RFC 8785 canonical JSON of `{"env": env, "revert": op}`, written directly: every key is ASCII, so
/// code-unit order is the order below, and serde_json writes strings with exactly the escapes RFC 8785
/// prescribes (tested against a general canonicalizer). Every request's fold computes it, and going
/// through a general canonicalizer was a twentieth of `verify`'s CPU time.
fn canonical_op(env: &str, op: &RevertOp) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
    let mut out = Vec::with_capacity(
        64 + env.len()
            + op.tool.len()
            + op.from.len()
            + op.to.len()
            + op.argv.iter().map(|a| a.len() + 3).sum::<usize>(),
    );
    out.extend_from_slice(br#"{"env":"#);
    string(&mut out, env);
    out.extend_from_slice(br#","revert":{"argv":["#);
    for (i, a) in op.argv.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(&mut out, a);
    }
    out.extend_from_slice(br#"],"from":"#);
    string(&mut out, &op.from);
    out.extend_from_slice(br#","to":"#);
    string(&mut out, &op.to);
    out.extend_from_slice(br#","tool":"#);
    string(&mut out, &op.tool);
    out.extend_from_slice(b"}}");
    out
}

/// The command line [`split_command`] splits back into exactly `argv`: an argument holding whitespace,
/// a quote, a backslash or nothing at all is single-quoted (a single quote in it as `'\''`). Text from
/// elsewhere (an ingested history's component names) goes into a command this way, never pasted in.
pub(crate) fn join_command<S: AsRef<str>>(argv: &[S]) -> String {
    let quoted: Vec<String> = argv
        .iter()
        .map(|a| {
            let a = a.as_ref();
            if !a.is_empty() && !a.chars().any(|c| c.is_whitespace() || matches!(c, '\'' | '"' | '\\')) {
                a.to_string()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect();
    quoted.join(" ")
}

/// Splits a command line into an argument vector: whitespace separates, single quotes are literal,
/// double quotes allow `\"` and `\\`, a backslash outside quotes escapes the next character.
pub(crate) fn split_command(s: &str) -> Result<Vec<String>, InvalidRecord> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unterminated single quote in the command".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err("unterminated double quote in the command".into()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("unterminated double quote in the command".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next().ok_or("the command ends with a backslash")?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    if out.is_empty() {
        return Err("the revert command is empty".into());
    }
    Ok(out)
}

/// A complete, valid record for tests.
#[cfg(test)]
pub mod tests_support {
    use super::*;

    pub fn sample() -> RequestBody {
        RequestBody {
            title: "Revert payments deploy 4411".into(),
            change: "deploy-4411".into(),
            ticket: Some("OPS-1".into()),
            incident: None,
            category: Category::PerformanceRegression,
            rationale: "p99 latency doubled".into(),
            impact: "checkout slower for 5 minutes".into(),
            components: vec!["payments-api".into()],
            env: "production".into(),
            revert: RevertOp {
                tool: "helm".into(),
                argv: vec!["helm".into(), "rollback".into(), "payments".into(), "41".into()],
                from: "42".into(),
                to: "41".into(),
            },
            risk: Risk::Medium,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::sample;
    use super::*;

    /// rollcall signs environment names in ASCII only (a look-alike is another environment to the windows
    /// and the gate), while a record signed elsewhere with one still folds (`validate`).
    #[test]
    fn look_alike_environment_names_are_not_signed() {
        for ok in ["production", "prod-eu-1", "k8s/prod.eu_1:blue", " staging "] {
            let r = RequestBody { env: ok.into(), ..sample() };
            assert!(r.validate_to_sign().is_ok(), "{ok:?}");
        }
        for (env, origin_env, says) in [
            ("pr\u{43e}duction", None, "env \"pr\u{43e}duction\" holds '\u{43e}' (U+043E)"),
            ("production", Some("st\u{430}ging"), "origin_env"),
            ("prod\u{200b}", None, "U+200B"),
            ("prod uction", None, "U+0020"),
            ("prod\u{1b}[2J", None, "U+001B"),
        ] {
            let r = RequestBody { env: env.into(), origin_env: origin_env.map(Into::into), ..sample() };
            let err = r.validate_to_sign().unwrap_err().0;
            assert!(err.contains(says) && err.contains("look-alike"), "{err}");
            assert!(!err.contains('\u{1b}'), "the name is shown escaped: {err}");
            assert!(r.validate().is_ok(), "a record signed elsewhere folds as written");
        }
    }

    #[test]
    fn validation() {
        assert!(sample().validate().is_ok());
        let mut r = sample();
        r.title = " ".into();
        assert!(r.validate().unwrap_err().0.contains("title"));
        let mut r = sample();
        r.components.clear();
        assert!(r.validate().unwrap_err().0.contains("components"));
        let mut r = sample();
        r.revert.to = "42".into();
        assert!(r.validate().is_err());
        let mut r = sample();
        r.temporary_until = Some("next week".into());
        assert!(r.validate().unwrap_err().0.contains("temporary_until"));
    }

    #[test]
    fn from_json_refuses_unknown_fields_and_round_trips() {
        let json = serde_json::to_vec(&sample()).unwrap();
        assert_eq!(RequestBody::from_json(&json).unwrap(), sample());
        let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        v["approver"] = "me".into();
        let err = RequestBody::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(err.0.contains("unknown field"), "{err}");
        assert!(RequestBody::from_json(b"{").is_err());
    }

    #[test]
    fn revert_digest_covers_the_operation_and_env() {
        let a = sample();
        let mut b = sample();
        b.revert.argv.push("--force".into());
        assert_ne!(a.revert_digest(), b.revert_digest());
        let mut c = sample();
        c.env = "staging".into();
        assert_ne!(a.revert_digest(), c.revert_digest());
        let mut d = sample();
        d.title = "other title".into();
        assert_eq!(a.revert_digest(), d.revert_digest());
    }

    #[test]
    fn split_command_handles_quotes() {
        assert_eq!(split_command("git revert --no-edit abc123").unwrap(), ["git", "revert", "--no-edit", "abc123"]);
        assert_eq!(
            split_command(r#"kubectl annotate x "a b" 'c "d"' e\ f"#).unwrap(),
            ["kubectl", "annotate", "x", "a b", "c \"d\"", "e f"]
        );
        assert!(split_command("  ").is_err());
        assert!(split_command("a 'b").is_err());
        assert_eq!(
            join_command(&["helm", "rollback", "web --post-renderer x", "it's", ""]),
            r#"helm rollback 'web --post-renderer x' 'it'\''s' ''"#
        );
    }

    proptest::proptest! {
        #[test]
        fn split_never_panics(s in "\\PC{0,80}") {
            let _ = split_command(&s);
        }

        /// Any arguments (spaces, quotes, backslashes, empty ones, any character) survive the round trip.
        #[test]
        fn a_joined_command_splits_into_its_arguments(argv in proptest::collection::vec("(\\PC|[ '\"\\\\\t])*", 1..6)) {
            proptest::prop_assert_eq!(split_command(&join_command(&argv)).unwrap(), argv);
        }

        /// The direct writer gives the bytes a general RFC 8785 canonicalizer gives (control characters,
        /// quotes, backslashes, non-ASCII and astral characters included).
        #[test]
        fn canonical_op_is_rfc8785(
            env in "(\\PC|[\\x00-\\x1f\"\\\\\\x7f\u{2028}])*",
            tool in "\\PC{0,12}",
            argv in proptest::collection::vec("(\\PC|[\\x00-\\x1f\"\\\\])*", 0..5),
            from in "[\\x00-\\x7f]{0,12}",
            to in "\\PC{0,12}",
        ) {
            #[derive(Serialize)]
            struct Op<'a> {
                env: &'a str,
                revert: &'a RevertOp,
            }
            let op = RevertOp { tool, argv, from, to };
            let general = serde_json_canonicalizer::to_vec(&Op { env: &env, revert: &op }).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(canonical_op(&env, &op)).unwrap(), String::from_utf8(general).unwrap());
        }
    }
}
