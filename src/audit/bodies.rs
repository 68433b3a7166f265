//! Bodies of the lifecycle entries. Every one names the request it belongs to (`request`, also the
//! entry's first ref); decisions and executions also name the exact version they concern.

use super::record::RequestBody;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AmendedBody {
    pub request: String,
    /// The version this amendment replaces (the request or an earlier amendment).
    pub previous: String,
    pub reason: String,
    pub record: RequestBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawnBody {
    pub request: String,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approve,
    Reject,
}

/// `approval.granted` / `approval.rejected`: what the approver reviewed, exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub request: String,
    /// The entry id of the request version reviewed.
    pub version: String,
    /// `revert_digest` of that version.
    pub revert_digest: String,
    /// Evidence entry ids the approver had in front of them: every evidence entry of the request, purged
    /// ones included (their signed bodies still say what they were). The approval counts only for these.
    pub evidence: Vec<String>,
    /// Entry id of the policy in force.
    pub policy: String,
    pub decision: Decision,
    pub comment: String,
    /// Ids of the security flags shown to the approver.
    #[serde(default)]
    pub flags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyBody {
    pub request: String,
    pub version: String,
    pub reason: String,
    /// RFC 3339 deadline of the post-hoc review the policy requires.
    pub review_due: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Succeeded,
    Partial,
    Failed,
}

impl Outcome {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutedBody {
    pub request: String,
    pub version: String,
    pub revert_digest: String,
    pub env: String,
    /// The revision or digest rolled away from, and the one returned to (from the revert operation).
    pub from: String,
    pub to: String,
    /// The exact command run.
    pub command: Vec<String>,
    /// SHA-256 (hex) of the captured output, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_sha256: Option<String>,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckResult {
    Pass,
    Fail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub name: String,
    pub result: CheckResult,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatedBody {
    pub request: String,
    pub result: CheckResult,
    #[serde(default)]
    pub checks: Vec<Check>,
    /// Evidence entry id of the validation output, when attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewKind {
    PostHoc,
    PostIncident,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewedBody {
    pub request: String,
    pub kind: ReviewKind,
    pub summary: String,
    #[serde(default)]
    pub lessons: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    RolledForward,
    MadePermanent,
    Superseded,
}

impl Resolution {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Resolution::RolledForward => "rolled-forward",
            Resolution::MadePermanent => "made-permanent",
            Resolution::Superseded => "superseded",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosedBody {
    pub request: String,
    pub resolution: Resolution,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    pub comment: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentLinkedBody {
    pub request: String,
    pub incident: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `evidence.attached`: a file stored content-addressed (or a link), attached to a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    pub request: String,
    /// test, scan, compliance, validation, log, other.
    pub kind: String,
    /// SHA-256 (hex) of the file's bytes; absent for a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size as a decimal string (bodies carry no large numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The file name it was attached from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A link recorded without being fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where it came from (CI job, tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// What the file was recognised as: junit, sarif, osv, json, text, binary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// A one-line summary of what the file says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Counts read from it (tests, failures, errors, skipped; error, warning, note findings).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub counts: std::collections::BTreeMap<String, u64>,
}

/// `evidence.purged`: the bytes of an evidence blob were removed; its digest stays in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgedBody {
    pub request: String,
    pub evidence: String,
    pub reason: String,
}

/// `artifact.marked-bad`: a digest (image, artifact, revision) that must not come back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkedBadBody {
    pub digest: String,
    pub reason: String,
}

/// `integrity.acknowledged`: an admin or security approver investigated a recorded equivocation. The row
/// stays (it is evidence); `verify` reports it as acknowledged instead of failing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcknowledgedBody {
    /// The origin the equivocation is about.
    pub origin: String,
    /// `fork`, `rollback` or `copy`.
    pub kind: String,
    /// SHA-256 hex of the row's `ours`, one LF, and its `theirs` (what identifies the evidence).
    pub evidence: String,
    /// What the investigation found.
    pub finding: String,
}

/// `audit.read`: someone read the ledger out (a report or an export): what, in which form, over which
/// period, and the digest of what was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadBody {
    /// `report` or `export`.
    pub what: String,
    /// md, json, csv (reports) or bundle (exports).
    pub format: String,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scope: std::collections::BTreeMap<String, String>,
    /// How many requests (reports) or entries (exports) it covered, as a decimal string.
    pub count: String,
    /// The size of every log (by origin name, decimal strings) when it was read: what the reader saw.
    pub seen: std::collections::BTreeMap<String, String>,
}
