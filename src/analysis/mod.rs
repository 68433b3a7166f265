//! Security analysis of a revert: its change set (from git or a unified diff), the security flags it
//! raises, and its risk score and tier.

pub mod changeset;
pub mod diff;
pub mod flags;
pub mod git;
pub mod lockfiles;
pub mod risk;
