//! The policy: a TOML document adopted into the ledger by a signed entry. This module owns its model, the
//! default in `assets/policy.toml`, windows, and its evaluation into a checklist.

pub(crate) mod evaluate;
pub(crate) mod evidence;
pub(crate) mod model;
pub(crate) mod windows;

pub use model::Policy;
pub(crate) use model::unset_later_settings;
use thiserror::Error;

/// The policy a new ledger adopts unless `init --policy FILE` names another.
pub const DEFAULT_POLICY: &str = include_str!("../../assets/policy.toml");

/// The policy format this build understands.
pub(crate) const POLICY_VERSION: i64 = 1;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("policy is not valid TOML: {0}")]
    Toml(String),
    #[error("policy has format version {0}; this rollcall reads version {POLICY_VERSION}")]
    Version(i64),
    #[error("policy is invalid: {0}")]
    Invalid(String),
}

/// Checks that `text` is a policy this build can adopt.
pub(crate) fn check_text(text: &str) -> Result<(), PolicyError> {
    Policy::parse(text).map(|_| ())
}
