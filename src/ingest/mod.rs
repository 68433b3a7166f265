//! Deployment histories read from the CD tools (issue 17): each tool's output becomes a list of
//! [`Observed`] deployments — what ran where, from which revision to which, when, and whether it brought
//! an earlier revision back (a rollback). Parsers are bounded (input size, number of revisions, nesting)
//! and refuse wrong shapes with one line naming the source and the place. Nothing here signs or writes.

pub mod helm;

use serde::{Deserialize, Serialize};

/// The body of a `deployment.observed` entry (docs/FORMAT.md §3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observed {
    /// The tool the history came from (`helm`, …).
    pub source: String,
    pub env: String,
    pub component: String,
    /// The tool's id of this deployment (a Helm revision number).
    pub revision: String,
    /// The revision deployed before it, when the history shows one.
    pub from: Option<String>,
    /// The revision whose content it deployed: itself, or for a rollback the earlier one brought back.
    pub to: String,
    /// Whether it brought an earlier revision back.
    pub rollback: bool,
    /// When the tool says it happened (RFC 3339, UTC).
    pub at: String,
    /// Who the tool says did it, when it says.
    pub by: Option<String>,
    /// What was deployed (chart and app version, image digest), as the tool names it.
    pub artifact: Option<String>,
    /// The tool's own description of the deployment (untrusted text, at most 1,000 characters).
    pub description: Option<String>,
    /// SHA-256 (hex) of the input file this was read from.
    pub input_sha256: String,
}

impl Observed {
    /// The key re-ingesting the same history must not record twice.
    pub fn key(&self) -> (String, String, String, String) {
        (self.source.clone(), self.env.clone(), self.component.clone(), self.revision.clone())
    }
}

/// Largest input read, in bytes.
pub const MAX_INPUT: u64 = 256 << 20;
/// Most deployments one input may hold.
pub const MAX_REVISIONS: usize = 1_000_000;
/// Longest description kept, in characters (the rest is cut and marked).
pub const MAX_DESCRIPTION: usize = 1_000;

/// Why an input was refused: the source, where in it, and what.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{source_name} input {place}: {problem}")]
pub struct IngestError {
    pub source_name: &'static str,
    pub place: String,
    pub problem: String,
}

/// `text` cut to [`MAX_DESCRIPTION`] characters.
pub(crate) fn bounded(text: &str) -> String {
    if text.chars().count() <= MAX_DESCRIPTION {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_DESCRIPTION).collect();
    out.push_str(" […]");
    out
}
