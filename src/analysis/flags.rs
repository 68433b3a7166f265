//! Security flags of a revert: each with an id, a severity, an explanation and the file:line or field
//! that raised it. They come from the change set (what code comes back and what goes away), the record,
//! the ledger's memory (artifacts marked bad or rolled away from), advisories, and the request's own
//! history (emergency, failing or missing tests).

use super::changeset::{ChangeSet, FileChange};
use super::lockfiles::downgrades;
use crate::audit::record::RequestBody;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

pub(crate) const AUTHZ_CONFIG: &str = "AUTHZ_CONFIG";
pub(crate) const EXPOSURE_SURFACE: &str = "EXPOSURE_SURFACE";
pub(crate) const CRYPTO_MATERIAL: &str = "CRYPTO_MATERIAL";
pub(crate) const DEPENDENCY_DOWNGRADE: &str = "DEPENDENCY_DOWNGRADE";
pub(crate) const REVERTS_SECURITY_FIX: &str = "REVERTS_SECURITY_FIX";
pub(crate) const KNOWN_BAD_ARTIFACT: &str = "KNOWN_BAD_ARTIFACT";
pub(crate) const GATE_BYPASS: &str = "GATE_BYPASS";
pub(crate) const MIGRATION_OR_DESTRUCTIVE: &str = "MIGRATION_OR_DESTRUCTIVE";
pub(crate) const SECRET_REINTRODUCED: &str = "SECRET_REINTRODUCED";
pub(crate) const UNINSPECTED_CONTENT: &str = "UNINSPECTED_CONTENT";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub id: String,
    pub severity: Severity,
    pub explanation: String,
    /// `file:line`, a commit id, or a record field.
    pub location: String,
}

/// Test evidence on the request.
#[derive(Clone, Debug, Default)]
pub struct Tests {
    pub attached: bool,
    pub failing: u64,
}

/// The emergency a request holds, as the flags describe it.
pub struct Emergency {
    /// Who invoked it, when ("by … at …").
    pub who: String,
    /// Whether it waives anything under the policy applied (its signer may invoke one there).
    pub waives: bool,
    /// Until when it waives ("2026-12-08 03:00 UTC"), when that policy lets it lapse.
    pub until: Option<String>,
}

/// Everything the flags are computed from.
pub struct Input<'a> {
    pub record: &'a RequestBody,
    pub changeset: Option<&'a ChangeSet>,
    /// Why a digest is known bad (marked, or rolled away from in an earlier record), if it is.
    pub known_bad: &'a dyn Fn(&str) -> Option<String>,
    /// The emergency the request holds, if any.
    pub emergency: Option<Emergency>,
    pub tests: Tests,
    pub tests_required: bool,
}

fn re(cell: &'static OnceLock<Regex>, pat: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pat).expect("static regex"))
}

fn flag(out: &mut Vec<Flag>, id: &str, severity: Severity, explanation: String, location: String) {
    if !out.iter().any(|f| f.id == id && f.location == location) {
        out.push(Flag { id: id.into(), severity, explanation, location });
    }
}

fn loc(f: &FileChange, line: u64) -> String {
    format!("{}:{line}", f.path)
}

/// The first changed line (added, else removed) matching `re`.
fn first_match<'a>(f: &'a FileChange, re: &Regex) -> Option<(u64, &'a str)> {
    f.added_lines().find(|(_, l)| re.is_match(l)).or_else(|| f.removed_lines().find(|(_, l)| re.is_match(l)))
}

fn file_rules(f: &FileChange, out: &mut Vec<Flag>) {
    static AUTHZ_PATH: OnceLock<Regex> = OnceLock::new();
    static AUTHZ_TEXT: OnceLock<Regex> = OnceLock::new();
    static EXPOSE_TEXT: OnceLock<Regex> = OnceLock::new();
    static CRYPTO_PATH: OnceLock<Regex> = OnceLock::new();
    static CRYPTO_TEXT: OnceLock<Regex> = OnceLock::new();
    static WEAK_TLS: OnceLock<Regex> = OnceLock::new();
    static MIGRATION_PATH: OnceLock<Regex> = OnceLock::new();
    static DESTRUCTIVE: OnceLock<Regex> = OnceLock::new();
    static SECRETS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let path = f.path.to_ascii_lowercase();

    let authz_path = re(
        &AUTHZ_PATH,
        r"(^|/)(rbac|iam|authz|roles?|permissions?|policies)(/|\.|-|_)|\.rego$|(^|/)sudoers(\.d/|$)|clusterrole|rolebinding|(^|/)codeowners$",
    );
    let authz_text = re(
        &AUTHZ_TEXT,
        r#"^\s*kind:\s*(Role|ClusterRole|RoleBinding|ClusterRoleBinding)\b|"Effect"\s*:\s*"(Allow|Deny)"|"Action"\s*:|^\s*(allow|deny)\s*(\[|\{|if\b)|ALL\s*=\s*\(ALL|^\s*(verbs|apiGroups):"#,
    );
    if let Some((n, l)) = first_match(f, authz_text) {
        flag(
            out,
            AUTHZ_CONFIG,
            Severity::High,
            format!("changes authorization config ({})", l.trim().chars().take(60).collect::<String>()),
            loc(f, n),
        );
    } else if authz_path.is_match(&path) {
        flag(
            out,
            AUTHZ_CONFIG,
            Severity::High,
            "touches an authorization or policy file".into(),
            loc(f, f.first_line()),
        );
    }

    let expose = re(
        &EXPOSE_TEXT,
        r#"^\s*kind:\s*Ingress\b|type:\s*(LoadBalancer|NodePort)\b|hostPort:|0\.0\.0\.0/0|::/0|Access-Control-Allow-Origin|allowed_origins|cors|aws_security_group|security_group_rule|ingress\s*\{|firewall|iptables|ufw allow|^\s*-?\s*(containerPort|port|nodePort):\s*\d+|listen\s+\d+"#,
    );
    if let Some((n, l)) = f.added_lines().find(|(_, l)| expose.is_match(&l.to_ascii_lowercase()) || expose.is_match(l))
    {
        flag(
            out,
            EXPOSURE_SURFACE,
            Severity::High,
            format!("changes what is exposed ({})", l.trim().chars().take(60).collect::<String>()),
            loc(f, n),
        );
    }

    let weak = re(
        &WEAK_TLS,
        r"(?i)\b(SSLv2|SSLv3|TLSv1(\.0)?|TLSv1\.1|TLS1_0|TLS1_1|VersionTLS10|VersionTLS11|RC4|3DES|DES-CBC|MD5|NULL-SHA|EXPORT)\b",
    );
    let crypto_path = re(&CRYPTO_PATH, r"\.(pem|crt|cer|key|p12|pfx|jks|keystore)$|(^|/)(tls|ssl|certs?)/");
    let crypto_text = re(
        &CRYPTO_TEXT,
        r"(?i)BEGIN CERTIFICATE|ssl_protocols|ssl_ciphers|min_version|minversion|tls_version|cipher_?suites?|ciphers\s*[:=]",
    );
    if let Some((n, l)) = f
        .added_lines()
        .find(|(_, l)| weak.is_match(l) && crypto_text.is_match(l) || weak.is_match(l) && path.contains("tls"))
    {
        flag(
            out,
            CRYPTO_MATERIAL,
            Severity::Critical,
            format!("brings back weak TLS or ciphers ({})", l.trim().chars().take(60).collect::<String>()),
            loc(f, n),
        );
    } else if let Some((n, _)) = first_match(f, crypto_text) {
        flag(out, CRYPTO_MATERIAL, Severity::High, "changes certificates or TLS settings".into(), loc(f, n));
    } else if crypto_path.is_match(&path) {
        flag(
            out,
            CRYPTO_MATERIAL,
            Severity::High,
            "replaces key or certificate material".into(),
            loc(f, f.first_line()),
        );
    }

    let migration_path =
        re(&MIGRATION_PATH, r"(^|/)(migrations?|migrate|db/changelog|flyway|liquibase|alembic/versions)/|\.sql$");
    let destructive = re(
        &DESTRUCTIVE,
        r"(?i)\b(DROP\s+(TABLE|COLUMN|DATABASE|SCHEMA|INDEX)|TRUNCATE\s+|DELETE\s+FROM|ALTER\s+TABLE\s+\S+\s+DROP)\b",
    );
    if let Some((n, l)) = f.added_lines().find(|(_, l)| destructive.is_match(l)) {
        flag(
            out,
            MIGRATION_OR_DESTRUCTIVE,
            Severity::Critical,
            format!("runs a destructive statement ({})", l.trim().chars().take(60).collect::<String>()),
            loc(f, n),
        );
    } else if migration_path.is_match(&path) {
        let what = if f.status == "deleted" { "removes a schema migration" } else { "changes a schema migration" };
        flag(out, MIGRATION_OR_DESTRUCTIVE, Severity::High, what.into(), loc(f, f.first_line()));
    }

    // A file whose change the diff gives no lines for (binary by its bytes) passes every rule above that
    // reads lines. Nothing here can say what it changes, so the request says so: low for images, fonts,
    // audio, video and PDF documents; high for anything else, which a tool may still read as code or
    // configuration (a UTF-16 `web.config`, a script with a NUL in a comment, a lock file, an archive).
    static MEDIA_PATH: OnceLock<Regex> = OnceLock::new();
    if f.binary {
        let media = re(
            &MEDIA_PATH,
            r"\.(png|jpe?g|gif|bmp|ico|webp|tiff?|psd|heic|avif|mp3|mp4|m4a|wav|ogg|flac|webm|mov|avi|mkv|woff2?|ttf|otf|eot|pdf)$",
        );
        let (severity, what) = if media.is_match(&path) {
            (Severity::Low, "a binary image, font, audio, video or PDF file: its change was not inspected")
        } else {
            (
                Severity::High,
                "a binary file whose change the diff does not show (a tool may read it as code or configuration)",
            )
        };
        flag(out, UNINSPECTED_CONTENT, severity, what.into(), loc(f, f.first_line()));
    }
    // A submodule moved to another commit: the diff says which, not what that commit changes.
    static SUBMODULE: OnceLock<Regex> = OnceLock::new();
    let submodule = re(&SUBMODULE, r"^Subproject commit [0-9a-f]{40,64}$");
    if let Some((n, _)) = f.added_lines().find(|(_, l)| submodule.is_match(l)) {
        flag(
            out,
            UNINSPECTED_CONTENT,
            Severity::High,
            "moves a submodule to another commit: what that changes is not in this change set".into(),
            loc(f, n),
        );
    }

    let secrets = SECRETS.get_or_init(|| {
        [
            (r"AKIA[0-9A-Z]{16}", "an AWS access key id"),
            (r"-----BEGIN (RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----", "a private key"),
            (r"\bgh[pousr]_[A-Za-z0-9]{36,}", "a GitHub token"),
            (r"\bxox[abprs]-[A-Za-z0-9-]{10,}", "a Slack token"),
            (r"\bsk_live_[A-Za-z0-9]{16,}", "a Stripe live key"),
            (r#"(?i)\b(password|passwd|secret|api[_-]?key|access[_-]?token|client[_-]?secret)\b\s*[:=]\s*["']?[^\s"'$\{]{8,}"#, "a credential assignment"),
        ]
        .into_iter()
        .map(|(p, what)| (Regex::new(p).expect("static regex"), what))
        .collect()
    });
    for (n, l) in f.added_lines() {
        if let Some((_, what)) = secrets.iter().find(|(r, _)| r.is_match(l)) {
            flag(
                out,
                SECRET_REINTRODUCED,
                Severity::Critical,
                format!("adds back what looks like {what} (value not shown)"),
                loc(f, n),
            );
            break;
        }
    }
}

/// What a revert brings back, each with its field's name: the target revision and the images and artifacts
/// of its lineage. `KNOWN_BAD_ARTIFACT` asks the ledger about each; the request index keeps them, so that a
/// mark or an execution naming one recomputes the requests that bring it back.
pub(crate) fn brought_back(r: &RequestBody) -> Vec<(&str, String)> {
    let mut out: Vec<(&str, String)> = vec![(r.revert.to.as_str(), "revert.to".into())];
    for (field, list) in [("lineage.images", &r.lineage.images), ("lineage.artifacts", &r.lineage.artifacts)] {
        for (i, d) in list.iter().enumerate() {
            out.push((d.as_str(), format!("{field}[{i}]")));
        }
    }
    out
}
/// Computes the flags of a revert.
pub fn flags(input: &Input<'_>) -> Vec<Flag> {
    static SECURITY_WORDS: OnceLock<Regex> = OnceLock::new();
    static ADVISORY_ID: OnceLock<Regex> = OnceLock::new();
    static SKIP_CI: OnceLock<Regex> = OnceLock::new();
    let mut out = Vec::new();
    let r = input.record;
    if let Some(cs) = input.changeset {
        for f in &cs.files {
            file_rules(f, &mut out);
        }
        for d in downgrades(&cs.files) {
            let hits: Vec<&str> = r
                .advisories
                .iter()
                .filter(|a| a.package == d.package && a.version == d.to)
                .map(|a| a.id.as_str())
                .collect();
            let (sev, why) = if hits.is_empty() {
                (Severity::Medium, format!("{} goes back from {} to {}", d.package, d.from, d.to))
            } else {
                (
                    Severity::Critical,
                    format!(
                        "{} goes back from {} to {}, which {} affect{}",
                        d.package,
                        d.from,
                        d.to,
                        hits.join(", "),
                        if hits.len() == 1 { "s" } else { "" }
                    ),
                )
            };
            flag(&mut out, DEPENDENCY_DOWNGRADE, sev, why, format!("{}:{}", d.file, d.line));
        }
        let ids = re(
            &ADVISORY_ID,
            r"(?i)\b(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|RUSTSEC-\d{4}-\d{4}|OSV-\d{4}-\d+)\b",
        );
        let words = re(
            &SECURITY_WORDS,
            r"(?i)\b(security|vulnerab\w*|exploit\w*|xss|csrf|ssrf|sql injection|injection|rce|privilege escalation|auth bypass|sanitiz\w*|cve)\b",
        );
        for c in &cs.commits {
            let text = format!("{}\n{}", c.subject, c.body);
            let found: Vec<String> = ids.find_iter(&text).map(|m| m.as_str().to_uppercase()).collect();
            if !found.is_empty() {
                flag(
                    &mut out,
                    REVERTS_SECURITY_FIX,
                    Severity::Critical,
                    format!("reverts a commit that fixes {}: {}", found.join(", "), c.subject),
                    format!("commit {}", crate::text::prefix(&c.id, 12)),
                );
            } else if let Some(m) = words.find(&text) {
                flag(
                    &mut out,
                    REVERTS_SECURITY_FIX,
                    Severity::High,
                    format!("reverts a commit that mentions {:?}: {}", m.as_str(), c.subject),
                    format!("commit {}", crate::text::prefix(&c.id, 12)),
                );
            }
            if re(&SKIP_CI, r"(?i)\[(skip ci|ci skip|no ci)\]|\*\*\*NO_CI\*\*\*").is_match(&text) {
                flag(
                    &mut out,
                    GATE_BYPASS,
                    Severity::High,
                    format!("reverts a commit that skipped CI: {}", c.subject),
                    format!("commit {}", crate::text::prefix(&c.id, 12)),
                );
            }
        }
    }
    for (digest, field) in brought_back(r) {
        if let Some(why) = (input.known_bad)(digest) {
            flag(&mut out, KNOWN_BAD_ARTIFACT, Severity::Critical, format!("{digest} {why}"), field);
        }
    }
    if let Some(e) = &input.emergency {
        let effect = match (e.waives, &e.until) {
            (true, None) => "approvals and evidence were waived".to_string(),
            (true, Some(until)) => format!("approvals and evidence were waived until {until}"),
            (false, _) => {
                "it waives nothing: its signer may not invoke the emergency path under the policy in force".into()
            }
        };
        flag(
            &mut out,
            GATE_BYPASS,
            Severity::High,
            format!("the emergency path was invoked ({}); {effect}", e.who),
            "emergency".into(),
        );
    }
    if input.tests.failing > 0 {
        flag(
            &mut out,
            GATE_BYPASS,
            Severity::High,
            format!("attached test evidence reports {} failing tests", input.tests.failing),
            "evidence".into(),
        );
    } else if input.tests_required && !input.tests.attached {
        flag(
            &mut out,
            GATE_BYPASS,
            Severity::Medium,
            "the policy requires test evidence and none is attached".into(),
            "evidence".into(),
        );
    }
    if !r.side_effects.destructive.is_empty() {
        flag(
            &mut out,
            MIGRATION_OR_DESTRUCTIVE,
            Severity::Critical,
            format!("declares destructive steps: {}", r.side_effects.destructive.join("; ")),
            "side_effects.destructive".into(),
        );
    } else if !r.side_effects.migrations.is_empty() {
        flag(
            &mut out,
            MIGRATION_OR_DESTRUCTIVE,
            Severity::High,
            format!("declares migrations: {}", r.side_effects.migrations.join("; ")),
            "side_effects.migrations".into(),
        );
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)).then(a.location.cmp(&b.location)));
    out
}

#[cfg(test)]
mod tests {
    /// The patterns docs/FORMAT.md §1.3 gives for the security flags are exactly the ones this file
    /// compiles, character for character.
    #[test]
    fn format_md_gives_the_flags_patterns_this_file_uses() {
        super::super::assert_patterns_documented("AUTHZ_PATH", include_str!("flags.rs"));
    }

    /// A submodule moved back is a change nothing here inspected: high, at the added commit line. A file
    /// the diff calls binary is flagged by its path (high for a lock file or configuration, low else).
    #[test]
    fn submodules_and_binary_files_are_said_uninspected() {
        let diff = "diff --git a/vendor/openssl b/vendor/openssl\nindex 1111111..2222222 160000\n--- a/vendor/openssl\n+++ b/vendor/openssl\n@@ -1 +1 @@\n-Subproject commit 2222222222222222222222222222222222222222\n+Subproject commit 1111111111111111111111111111111111111111\ndiff --git a/Cargo.lock b/Cargo.lock\nBinary files a/Cargo.lock and b/Cargo.lock differ\ndiff --git a/logo.png b/logo.png\nBinary files a/logo.png and b/logo.png differ\ndiff --git a/web.config b/web.config\nBinary files a/web.config and b/web.config differ\n";
        let files = crate::analysis::diff::parse(diff).unwrap();
        let mut out = Vec::new();
        for f in &files {
            super::file_rules(f, &mut out);
        }
        let got: Vec<_> = out.iter().map(|f| (f.id.as_str(), f.severity.as_str(), f.location.as_str())).collect();
        assert_eq!(
            got,
            [
                (super::UNINSPECTED_CONTENT, "high", "vendor/openssl:1"),
                (super::UNINSPECTED_CONTENT, "high", "Cargo.lock:1"),
                (super::UNINSPECTED_CONTENT, "low", "logo.png:1"),
                (super::UNINSPECTED_CONTENT, "high", "web.config:1"),
            ]
        );
    }
}
