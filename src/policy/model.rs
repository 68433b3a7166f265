//! The policy document: its typed model, parsing (with the built-in default filling in what a file leaves
//! out), and the consistency checks that refuse contradictory settings, naming the line.

use super::PolicyError;
use super::windows::{Span, parse_span, parse_timezone};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The risk tiers, lowest first.
pub(crate) const TIERS: [&str; 4] = ["low", "medium", "high", "critical"];

/// The kinds of evidence a file can be attached as.
pub(crate) const EVIDENCE_KINDS: [&str; 6] = ["test", "scan", "compliance", "validation", "log", "other"];

/// The longest span, in days, a policy may give a temporary revert or an emergency's review (ten years).
const MAX_DAYS: u32 = 3650;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub version: i64,
    pub roles: Roles,
    pub identity: IdentityRules,
    pub requests: RequestRules,
    pub approvals: ApprovalRules,
    pub evidence: EvidenceRules,
    pub execution: ExecutionRules,
    pub emergency: EmergencyRules,
    pub windows: Vec<Window>,
    pub retention: Retention,
    pub audit: AuditRules,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    pub known: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityRules {
    pub admin_signatures: u32,
    /// How far past this machine's clock a statement's time may lie (imports and appends refuse
    /// later ones).
    #[serde(default = "default_clock_skew")]
    pub max_clock_skew_seconds: u32,
}

fn default_clock_skew() -> u32 {
    crate::identity::roster::DEFAULT_CLOCK_SKEW_SECONDS
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestRules {
    pub may_request: Vec<String>,
    pub may_manage_any: Vec<String>,
    pub max_temporary_days: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierRule {
    pub count: u32,
    pub roles: Vec<String>,
    pub required_roles: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tiers<T> {
    pub low: T,
    pub medium: T,
    pub high: T,
    pub critical: T,
}

impl<T> Tiers<T> {
    pub(crate) fn get(&self, tier: &str) -> Option<&T> {
        match tier {
            "low" => Some(&self.low),
            "medium" => Some(&self.medium),
            "high" => Some(&self.high),
            "critical" => Some(&self.critical),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRules {
    pub any_rejection_blocks: bool,
    pub self_approval: bool,
    /// Whether an approval counts from the key that authored the current revert operation (the version
    /// that last changed `{env, revert}`), even where `self_approval` allows a requester to approve.
    pub author_may_approve_revert: bool,
    pub expiry_hours: u32,
    pub tiers: Tiers<TierRule>,
    /// What lifts a rejection that counts; absent: an amendment, as before this setting.
    #[serde(default, skip_serializing_if = "RejectionLift::is_amendment")]
    pub rejection_lifted_by: RejectionLift,
}

/// What lifts a rejection that counts (`approvals.rejection_lifted_by`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RejectionLift {
    /// A new version with another record: the requester answers the rejection by changing what was
    /// rejected (going back to rejected content answers nothing).
    #[default]
    Amendment,
    /// Only a later decision of the rejecter (the same member) on the request, whatever was amended: a
    /// veto stands until the one who cast it withdraws it.
    Rejecter,
}

impl RejectionLift {
    fn is_amendment(&self) -> bool {
        *self == RejectionLift::Amendment
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRules {
    /// Largest evidence file accepted, in MiB.
    pub max_file_mib: u32,
    /// Whether evidence rollcall could not read (binary, unparsed text, links) satisfies a `test` or `scan`
    /// requirement.
    pub accept_opaque: bool,
    pub tiers: Tiers<Vec<String>>,
    pub flags: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionRules {
    pub may_execute: Vec<String>,
    pub approver_may_execute: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyRules {
    pub may_invoke: Vec<String>,
    pub review_within_hours: u32,
    /// Roles whose post-hoc review counts (signed by neither the emergency's invoker nor an executor, as
    /// always); absent: any member's, as before this setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub may_review: Option<Vec<String>>,
    /// How long, in hours after it is invoked, an emergency waives approvals, evidence, rejections and the
    /// window; absent: for as long as the request is open to a run, as before this setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waives_for_hours: Option<u32>,
}

impl EmergencyRules {
    /// When the post-hoc review of an emergency invoked at `invoked` is due (validation bounds the hours,
    /// so this is always a date).
    pub(crate) fn review_due(&self, invoked: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        invoked + chrono::Duration::hours(i64::from(self.review_within_hours))
    }

    /// When an emergency invoked at `invoked` stops waiving anything (`None`: never); validation bounds the
    /// hours, so this is always a date.
    pub(crate) fn waives_until(&self, invoked: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
        self.waives_for_hours.map(|h| invoked + chrono::Duration::hours(i64::from(h)))
    }
}

/// Settings added after ledgers were in use, read only from a policy's own text, never from the built-in
/// default under it: a policy adopted before one existed (whose text cannot name it) keeps meaning what it
/// meant when it was adopted, whatever this release's default says. `rollcall init` writes the whole
/// default, so a new ledger has them; a partial policy file leaves them unset unless it names them.
/// Each as (section, key, what a policy without it means).
pub(crate) const NOT_INHERITED: [(&str, &str, &str); 2] = [
    ("emergency", "may_review", "any member's post-hoc review settles an emergency"),
    ("emergency", "waives_for_hours", "an emergency never lapses"),
];

/// What a policy text that leaves out a [`NOT_INHERITED`] setting means for it (the built-in policy's
/// value does not apply): one warning each, for `policy adopt` to print.
pub(crate) fn unset_later_settings(text: &str) -> Vec<String> {
    let Ok(table) = text.parse::<toml::Table>() else { return Vec::new() };
    NOT_INHERITED
        .iter()
        .filter(|(section, key, _)| table.get(*section).and_then(|t| t.get(*key)).is_none())
        .map(|(section, key, means)| {
            format!(
                "this policy does not set {section}.{key}, so {means}: a policy file is read over the built-in one, \
                 but not for this setting (the built-in assets/policy.toml, which `rollcall init` writes, has the line)"
            )
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub env: String,
    pub timezone: String,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub freeze: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    pub evidence_min_days: u32,
}

/// Reads are audited: `report` and `export` append an entry saying who read what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRules {
    pub record_reads: bool,
}

/// Deep-merges `over` onto `base`: tables merge key by key, everything else (arrays included) replaces.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// 1-based line of `key` inside `[section]` (dotted path) of `text`, for error messages.
pub(crate) fn locate(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut in_section = section.is_empty();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            let name = t.trim_matches(|c| c == '[' || c == ']').trim();
            in_section = name == section;
            continue;
        }
        if in_section {
            let k = t.split('=').next().unwrap_or("").trim().trim_matches('"');
            if k == key && t.contains('=') {
                return Some(i + 1);
            }
        }
    }
    None
}

fn invalid(text: &str, section: &str, key: &str, msg: String) -> PolicyError {
    match locate(text, section, key) {
        Some(line) => PolicyError::Invalid(format!("line {line} ({section}.{key}): {msg}")),
        None => PolicyError::Invalid(format!("{section}.{key}: {msg}")),
    }
}

/// The built-in policy as a TOML table, parsed once.
fn default_table() -> Result<&'static toml::Table, PolicyError> {
    static DEFAULT: std::sync::OnceLock<Result<toml::Table, String>> = std::sync::OnceLock::new();
    DEFAULT
        .get_or_init(|| super::DEFAULT_POLICY.parse::<toml::Table>().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| PolicyError::Toml(e.clone()))
}

impl Policy {
    /// Parses a policy file: TOML syntax (errors name the line), the built-in default under it, unknown
    /// keys refused, then the consistency checks.
    pub(crate) fn parse(text: &str) -> Result<Policy, PolicyError> {
        let user: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            match line {
                Some(l) => PolicyError::Toml(format!("line {l}: {}", e.message())),
                None => PolicyError::Toml(e.message().to_string()),
            }
        })?;
        match user.get("version").and_then(|v| v.as_integer()) {
            Some(super::POLICY_VERSION) => {}
            Some(v) => return Err(PolicyError::Version(v)),
            None => return Err(PolicyError::Invalid("missing `version = 1`".into())),
        }
        let mut merged = default_table()?.clone();
        for (section, key, _) in NOT_INHERITED {
            if let Some(toml::Value::Table(t)) = merged.get_mut(section) {
                t.remove(key);
            }
        }
        merge(&mut merged, user);
        // The setting a bad value is in, named by its path (the merged table has no spans to point at).
        let policy: Policy = serde_path_to_error::deserialize(toml::Value::Table(merged)).map_err(
            |e: serde_path_to_error::Error<toml::de::Error>| {
                let message = e.inner().message().lines().next().unwrap_or("invalid").to_string();
                match e.path().to_string().as_str() {
                    "." | "" => PolicyError::Invalid(message),
                    path => PolicyError::Invalid(format!("{path}: {message}")),
                }
            },
        )?;
        policy.check(text)?;
        Ok(policy)
    }

    fn check(&self, text: &str) -> Result<(), PolicyError> {
        let known = |r: &String| self.roles.known.contains(r);
        let unset = Vec::new();
        let role_lists: Vec<(&str, &str, &Vec<String>)> = vec![
            ("requests", "may_request", &self.requests.may_request),
            ("requests", "may_manage_any", &self.requests.may_manage_any),
            ("execution", "may_execute", &self.execution.may_execute),
            ("emergency", "may_invoke", &self.emergency.may_invoke),
            ("emergency", "may_review", self.emergency.may_review.as_ref().unwrap_or(&unset)),
        ];
        for (section, key, list) in role_lists {
            if let Some(r) = list.iter().find(|r| !known(r)) {
                return Err(invalid(text, section, key, format!("role {r:?} is not in roles.known")));
            }
        }
        if self.identity.admin_signatures == 0 {
            return Err(invalid(text, "identity", "admin_signatures", "must be at least 1".into()));
        }
        if !self.roles.known.iter().any(|r| r == "admin") {
            return Err(invalid(text, "roles", "known", "must include \"admin\"".into()));
        }
        if self.requests.max_temporary_days == 0 {
            return Err(invalid(text, "requests", "max_temporary_days", "must be at least 1".into()));
        }
        // Added to an entry's time wherever a request or an emergency is judged: bounded so that sum is
        // always a date (a larger value would stop every reader of the ledger).
        if self.requests.max_temporary_days > MAX_DAYS {
            return Err(invalid(text, "requests", "max_temporary_days", format!("must be at most {MAX_DAYS}")));
        }
        for tier in TIERS {
            let rule = self.approvals.tiers.get(tier).expect("tier");
            let section = format!("approvals.tiers.{tier}");
            if rule.count == 0 {
                return Err(invalid(text, &section, "count", "must be at least 1".into()));
            }
            if let Some(r) = rule.roles.iter().chain(&rule.required_roles).find(|r| !known(r)) {
                return Err(invalid(text, &section, "roles", format!("role {r:?} is not in roles.known")));
            }
            if rule.roles.is_empty() {
                return Err(invalid(text, &section, "roles", "no role can approve".into()));
            }
            if let Some(r) = rule.required_roles.iter().find(|r| !rule.roles.contains(r)) {
                return Err(invalid(
                    text,
                    &section,
                    "required_roles",
                    format!("{r:?} is required but is not among the roles whose approvals count"),
                ));
            }
            if (rule.count as usize) < rule.required_roles.len() {
                return Err(invalid(
                    text,
                    &section,
                    "count",
                    format!(
                        "{} approvals cannot include a distinct key for each of the {} required roles",
                        rule.count,
                        rule.required_roles.len()
                    ),
                ));
            }
            let kinds = self.evidence.tiers.get(tier).expect("tier");
            if let Some(k) = kinds.iter().find(|k| !EVIDENCE_KINDS.contains(&k.as_str())) {
                return Err(invalid(text, "evidence.tiers", tier, format!("unknown evidence kind {k:?}")));
            }
        }
        if self.evidence.max_file_mib == 0 || self.evidence.max_file_mib > 4096 {
            return Err(invalid(text, "evidence", "max_file_mib", "must be between 1 and 4096".into()));
        }
        for (flag, kinds) in &self.evidence.flags {
            if let Some(k) = kinds.iter().find(|k| !EVIDENCE_KINDS.contains(&k.as_str())) {
                return Err(invalid(text, "evidence.flags", flag, format!("unknown evidence kind {k:?}")));
            }
        }
        if !self.emergency.may_invoke.is_empty() && self.emergency.review_within_hours == 0 {
            return Err(invalid(text, "emergency", "review_within_hours", "must be at least 1".into()));
        }
        if self.emergency.review_within_hours > MAX_DAYS * 24 {
            let most = MAX_DAYS * 24;
            return Err(invalid(text, "emergency", "review_within_hours", format!("must be at most {most}")));
        }
        if let Some(h) = self.emergency.waives_for_hours {
            let most = MAX_DAYS * 24;
            if h == 0 || h > most {
                return Err(invalid(text, "emergency", "waives_for_hours", format!("must be between 1 and {most}")));
            }
        }
        let mut envs = std::collections::BTreeSet::new();
        for w in &self.windows {
            // Names are one environment without case and surrounding space (`same_env`).
            if !envs.insert(w.env.trim().to_ascii_lowercase()) {
                return Err(invalid(text, "windows", "env", format!("environment {:?} has two windows", w.env)));
            }
            parse_timezone(&w.timezone).map_err(|e| invalid(text, "windows", "timezone", e))?;
            for s in &w.allow {
                parse_span(s).map_err(|e| invalid(text, "windows", "allow", e))?;
            }
            for s in &w.freeze {
                parse_span(s).map_err(|e| invalid(text, "windows", "freeze", e))?;
            }
        }
        Ok(())
    }

    /// The approval rule of `tier` (unknown tiers are treated as critical).
    pub(crate) fn tier(&self, tier: &str) -> &TierRule {
        self.approvals.tiers.get(tier).unwrap_or(&self.approvals.tiers.critical)
    }

    /// The window rules for `env`: its own entry (names compared as [`same_env`] does), else the `*` entry.
    pub(crate) fn window(&self, env: &str) -> Option<&Window> {
        use crate::audit::record::same_env;
        self.windows
            .iter()
            .find(|w| w.env != "*" && same_env(&w.env, env))
            .or_else(|| self.windows.iter().find(|w| w.env == "*"))
    }
}

impl Window {
    /// Whether a revert may run at `at`: `Ok(reason)` when allowed, `Err(reason)` otherwise.
    pub(crate) fn permits(&self, at: chrono::DateTime<chrono::Utc>) -> Result<String, String> {
        let tz = parse_timezone(&self.timezone).map_err(|e| e.to_string())?;
        let spans = |list: &[String]| -> Vec<(String, Span)> {
            list.iter().filter_map(|s| parse_span(s).ok().map(|p| (s.clone(), p))).collect()
        };
        if let Some((text, _)) = spans(&self.freeze).into_iter().find(|(_, s)| s.contains(at, &tz)) {
            return Err(format!("{} is frozen ({text}, {})", self.env, self.timezone));
        }
        if self.allow.is_empty() {
            return Ok(unrestricted(&self.env));
        }
        match spans(&self.allow).into_iter().find(|(_, s)| s.contains(at, &tz)) {
            Some((text, _)) => Ok(format!("inside the {} window {text} ({})", self.env, self.timezone)),
            None => Err(format!(
                "outside every {} rollback window ({}; {})",
                self.env,
                self.allow.join(", "),
                self.timezone
            )),
        }
    }
}

/// What the gate says of an environment no rollback window restricts: the wildcard window (`env = "*"`)
/// is said as every environment's, not as an environment named `*`.
pub(crate) fn unrestricted(env: &str) -> String {
    if env == "*" {
        "no rollback window restriction (the policy's `env = \"*\"` window allows any time)".to_string()
    } else {
        format!("{env} has no rollback window restriction")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_parses_and_partial_files_inherit() {
        let p = Policy::parse(super::super::DEFAULT_POLICY).unwrap();
        assert_eq!(p.tier("high").count, 2);
        let partial = Policy::parse("version = 1\n[approvals.tiers.low]\ncount = 2\n").unwrap();
        assert_eq!(partial.tier("low").count, 2);
        assert_eq!(partial.tier("low").roles, p.tier("low").roles);
        assert_eq!(
            (&partial.emergency.may_invoke, partial.emergency.review_within_hours),
            (&p.emergency.may_invoke, 48)
        );
    }

    /// A policy adopted before `emergency.may_review` and `emergency.waives_for_hours` existed (here the
    /// built-in policy as it was then) means what it meant: any member's post-hoc review settles, and an
    /// emergency waives for as long as the request is open to a run. The built-in policy of this release,
    /// which `init` writes whole, sets both.
    #[test]
    fn settings_added_later_are_read_from_the_policys_own_text_only() {
        let before = super::super::DEFAULT_POLICY
            .lines()
            .filter(|l| !l.starts_with("may_review") && !l.starts_with("waives_for_hours"))
            .collect::<Vec<_>>()
            .join("\n");
        let (old, now) = (Policy::parse(&before).unwrap(), Policy::parse(super::super::DEFAULT_POLICY).unwrap());
        assert_eq!((old.emergency.may_review, old.emergency.waives_for_hours), (None, None));
        assert!(now.emergency.may_review.is_some_and(|r| r.contains(&"auditor".to_string())));
        assert_eq!(now.emergency.waives_for_hours, Some(24));
        let named =
            Policy::parse("version = 1\n[emergency]\nwaives_for_hours = 4\nmay_review = [\"admin\"]\n").unwrap();
        assert_eq!(
            (named.emergency.waives_for_hours, named.emergency.may_review),
            (Some(4), Some(vec!["admin".into()]))
        );
        for bad in ["0", "87601"] {
            let err = Policy::parse(&format!("version = 1\n[emergency]\nwaives_for_hours = {bad}\n")).unwrap_err();
            assert!(err.to_string().contains("line 3") && err.to_string().contains("between 1 and 87600"), "{err}");
        }
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = Policy::parse("version = 1\n\n[approvals\ncount = 1\n").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Policy::parse("version = 1\n[approvals]\nself_aproval = true\n").unwrap_err();
        assert!(err.to_string().contains("self_aproval"), "{err}");
    }

    #[test]
    fn contradictions_name_the_line() {
        let text = "version = 1\n[approvals.tiers.high]\ncount = 1\nrequired_roles = [\"security-approver\", \"release-manager\"]\n";
        let err = Policy::parse(text).unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("required roles"), "{err}");
        let text = "version = 1\n[emergency]\nmay_invoke = [\"wizard\"]\n";
        let err = Policy::parse(text).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("wizard"), "{err}");
        let text = "version = 1\n[emergency]\nmay_review = [\"wizard\"]\n";
        let err = Policy::parse(text).unwrap_err().to_string();
        assert!(err.contains("may_review") && err.contains("wizard"), "{err}");
        let text = "version = 1\n[[windows]]\nenv = \"prod\"\ntimezone = \"Mars/Olympus\"\n";
        assert!(Policy::parse(text).unwrap_err().to_string().contains("line 4"));
        let text = "version = 1\n[approvals.tiers.low]\nrequired_roles = [\"admin\"]\n";
        assert!(Policy::parse(text).unwrap_err().to_string().contains("not among the roles"));
        // Spans added to an entry's time are bounded (4294967295 hours overflowed the date and stopped every
        // reader of the ledger).
        let text = "version = 1\n[emergency]\nreview_within_hours = 4294967295\n";
        assert!(Policy::parse(text).unwrap_err().to_string().contains("at most 87600"));
        let text = "version = 1\n[requests]\nmax_temporary_days = 100000\n";
        assert!(Policy::parse(text).unwrap_err().to_string().contains("at most 3650"));
    }

    #[test]
    fn windows_permit_and_freeze() {
        let text = "version = 1\n[[windows]]\nenv = \"production\"\ntimezone = \"UTC\"\nallow = [\"Mon-Fri 09:00-17:00\"]\nfreeze = [\"2026-12-20T00:00:00Z/2027-01-03T00:00:00Z\"]\n";
        let p = Policy::parse(text).unwrap();
        let w = p.window("production").unwrap();
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
        assert!(w.permits(t("2026-11-23T10:00:00Z")).is_ok());
        assert!(w.permits(t("2026-11-23T18:00:00Z")).unwrap_err().contains("outside"));
        assert!(w.permits(t("2026-12-22T10:00:00Z")).unwrap_err().contains("frozen"));
        // The user's windows replace the default list entirely: staging has no rule.
        assert!(p.window("staging").is_none());
        // Another spelling of the same environment is judged by its window, not by `*`'s.
        for spelled in ["Production", "PRODUCTION", " production ", "production\t"] {
            assert!(p.window(spelled).is_some_and(|w| w.env == "production"), "{spelled:?}");
        }
        let twice = format!("{text}[[windows]]\nenv = \"Production\"\ntimezone = \"UTC\"\n");
        assert!(Policy::parse(&twice).unwrap_err().to_string().contains("has two windows"));
        // The wildcard window without `allow` is said as every other environment's, not as one named `*`.
        let any = Policy::parse(&format!("{text}[[windows]]\nenv = \"*\"\ntimezone = \"UTC\"\n")).unwrap();
        let said = any.window("staging").unwrap().permits(t("2026-11-23T18:00:00Z")).unwrap();
        assert!(said.starts_with("no rollback window restriction") && said.contains("env = \"*\""), "{said}");
    }

    #[test]
    fn environment_names_compare_without_case_and_surrounding_space() {
        use crate::audit::record::same_env;
        assert!(same_env("Production ", "production") && !same_env("\u{3a1}roduction", "production"));
    }
}
