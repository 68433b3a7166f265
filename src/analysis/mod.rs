//! Security analysis of a revert: its change set (from git or a unified diff), the security flags it
//! raises, and its risk score and tier.

pub mod changeset;
pub mod diff;
pub mod flags;
pub(crate) mod git;
pub(crate) mod lockfiles;
pub(crate) mod risk;

/// Why a revert's change set could not be read: git failed or refused the range, or a diff is malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AnalysisError(pub String);

impl From<String> for AnalysisError {
    fn from(s: String) -> Self {
        AnalysisError(s)
    }
}
