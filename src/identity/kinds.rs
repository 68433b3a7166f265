//! The governance entry kinds the roster folds: enrolment, role changes, revocation, policy adoption, and
//! co-signatures (endorsements) of pending ones; and their bodies.

use serde::{Deserialize, Serialize};

pub const ENROLLED: &str = "identity.enrolled";
pub(crate) const ROLES: &str = "identity.roles";
pub(crate) const REVOKED: &str = "identity.revoked";
pub(crate) const POLICY_ADOPTED: &str = "policy.adopted";
pub(crate) const ENDORSED: &str = "endorsed";
/// A machine joining the ledger with an origin of its own (the first entry of that origin's log).
pub(crate) const ORIGIN_JOINED: &str = "origin.joined";

/// Every kind the roster reads, genesis included.
pub(crate) const GOVERNANCE_KINDS: [&str; 7] =
    [super::genesis::KIND, ENROLLED, ROLES, REVOKED, POLICY_ADOPTED, ENDORSED, ORIGIN_JOINED];

/// Kinds that need the policy's number of admin signatures before they take effect.
pub(crate) const PROPOSAL_KINDS: [&str; 4] = [ENROLLED, ROLES, REVOKED, POLICY_ADOPTED];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnrolledBody {
    pub name: String,
    pub key: String,
    pub roles: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RolesBody {
    pub name: String,
    pub key: String,
    pub roles: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokedBody {
    pub name: String,
    pub key: String,
    pub reason: String,
}

/// A co-signature of a pending governance entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndorsedBody {
    pub entry: String,
}

/// `origin.joined`: the origin name and key of a new machine's log, signed by an enrolled person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OriginJoinedBody {
    pub ledger: String,
    pub origin: String,
    pub key: String,
    /// What the joining machine had verified of every origin (docs/FORMAT.md §2.2).
    pub seen: crate::ledger::causal::Seen,
}
