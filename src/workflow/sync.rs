//! Witness state kept in the ledger file: cosignatures of each origin's checkpoints.

use super::error::WorkflowError;
use crate::ledger::{Ledger, Origin};

/// The witnesses that cosigned `origin`, with the largest size each cosigned.
pub fn witnesses_of(_ledger: &Ledger, _origin: &Origin) -> Result<Vec<(String, u64)>, WorkflowError> {
    Ok(Vec::new())
}
