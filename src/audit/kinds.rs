//! Entry kinds of the rollback lifecycle.

pub const REQUESTED: &str = "rollback.requested";
pub const AMENDED: &str = "rollback.amended";
pub const WITHDRAWN: &str = "rollback.withdrawn";
pub const APPROVED: &str = "approval.granted";
pub const REJECTED: &str = "approval.rejected";
pub const EMERGENCY: &str = "emergency.invoked";
pub const EXECUTED: &str = "rollback.executed";
pub const VALIDATED: &str = "rollback.validated";
pub const REVIEWED: &str = "rollback.reviewed";
pub const CLOSED: &str = "rollback.closed";
pub const INCIDENT_LINKED: &str = "incident.linked";
pub const EVIDENCE_ATTACHED: &str = "evidence.attached";
pub const EVIDENCE_PURGED: &str = "evidence.purged";
pub const NOTE: &str = super::note::KIND;
pub const MARKED_BAD: &str = "artifact.marked-bad";

/// Kinds that belong to a request (their first ref is the request's entry id).
pub const REQUEST_KINDS: [&str; 13] = [
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
