//! Entry kinds of the rollback lifecycle.

pub const REQUESTED: &str = "rollback.requested";
pub(crate) const AMENDED: &str = "rollback.amended";
pub(crate) const WITHDRAWN: &str = "rollback.withdrawn";
pub const APPROVED: &str = "approval.granted";
pub(crate) const REJECTED: &str = "approval.rejected";
pub(crate) const EMERGENCY: &str = "emergency.invoked";
pub(crate) const EXECUTED: &str = "rollback.executed";
pub(crate) const VALIDATED: &str = "rollback.validated";
pub(crate) const REVIEWED: &str = "rollback.reviewed";
pub(crate) const CLOSED: &str = "rollback.closed";
pub(crate) const INCIDENT_LINKED: &str = "incident.linked";
pub(crate) const EVIDENCE_ATTACHED: &str = "evidence.attached";
pub(crate) const EVIDENCE_PURGED: &str = "evidence.purged";
pub(crate) const NOTE: &str = super::note::KIND;
pub(crate) const MARKED_BAD: &str = "artifact.marked-bad";
pub(crate) const AUDIT_READ: &str = "audit.read";
pub(crate) const ACKNOWLEDGED: &str = "integrity.acknowledged";
/// A deployment or rollback a CD tool's history shows (`rollcall ingest`).
pub(crate) const OBSERVED: &str = "deployment.observed";

/// Kinds that belong to a request (their first ref is the request's entry id).
pub(crate) const REQUEST_KINDS: [&str; 13] = [
    AMENDED,
    WITHDRAWN,
    APPROVED,
    REJECTED,
    EMERGENCY,
    EXECUTED,
    VALIDATED,
    REVIEWED,
    CLOSED,
    INCIDENT_LINKED,
    EVIDENCE_ATTACHED,
    EVIDENCE_PURGED,
    NOTE,
];

/// Where an entry names a blob by digest (docs/FORMAT.md): the kind, and the dotted path of the field in
/// its body — an evidence file's `sha256`, or the change set of a request's record.
pub(crate) const BLOB_FIELDS: [(&str, &str); 3] =
    [(EVIDENCE_ATTACHED, "sha256"), (REQUESTED, "changeset.sha256"), (AMENDED, "record.changeset.sha256")];

/// The blob an entry names by digest (see [`BLOB_FIELDS`]).
pub(crate) fn blob_named(kind: &str, body: &serde_json::Value) -> Option<crate::ledger::Hash> {
    let (_, path) = BLOB_FIELDS.iter().find(|(k, _)| *k == kind)?;
    path.split('.').try_fold(body, |v, key| v.get(key))?.as_str().and_then(crate::ledger::Hash::from_hex)
}
