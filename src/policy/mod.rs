//! The policy: a TOML document adopted into the ledger by a signed entry. This module owns its model,
//! the default in `assets/policy.toml`, and its evaluation.

use thiserror::Error;

/// The policy a new ledger adopts unless `init --policy FILE` names another.
pub const DEFAULT_POLICY: &str = include_str!("../../assets/policy.toml");

/// The policy format this build understands.
pub const POLICY_VERSION: i64 = 1;

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
pub fn check_text(text: &str) -> Result<(), PolicyError> {
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| PolicyError::Toml(e.message().to_string()))?;
    match doc.get("version").and_then(|v| v.as_integer()) {
        Some(POLICY_VERSION) => Ok(()),
        Some(v) => Err(PolicyError::Version(v)),
        None => Err(PolicyError::Invalid("missing `version = 1`".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid() {
        check_text(DEFAULT_POLICY).unwrap();
    }

    #[test]
    fn bad_policies_are_refused() {
        assert!(matches!(check_text("version = ["), Err(PolicyError::Toml(_))));
        assert_eq!(check_text("version = 2"), Err(PolicyError::Version(2)));
        assert!(matches!(check_text("x = 1"), Err(PolicyError::Invalid(_))));
    }
}
