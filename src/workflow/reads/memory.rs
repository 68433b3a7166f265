//! The ledger's memory of bad artifacts, read once for a walk over many requests (`verify`, the request
//! index): every digest marked bad and every digest an executed revert rolled away from. Each request's
//! assessment then asks a map instead of the database; on a read-only file the body fields have no index,
//! and each question would scan every such entry. It answers exactly as [`super::assess::known_bad`].

use crate::audit::kinds::{EXECUTED, MARKED_BAD};
use crate::ledger::{EntryId, Hash, Ledger};
use crate::workflow::error::WorkflowError;
use std::collections::HashMap;

/// Rolled-away-from rows kept per digest, as the database question reads at most that many.
const EXECUTED_PER_DIGEST: usize = 20;

/// The request and outcome an execution's body names.
type Execution = (Option<String>, Option<String>);

/// Digests known bad, with what the question needs of each.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    /// Digest → the reason of the first entry that marked it bad.
    marked: HashMap<String, String>,
    /// Digest → (request, outcome) of executions that rolled away from it.
    executed: HashMap<String, Vec<Execution>>,
}

fn text(body: &crate::audit::fact_body::Body, field: &str) -> Option<String> {
    body.str_member(field)
}

impl Memory {
    pub(crate) fn load(ledger: &Ledger) -> Result<Memory, WorkflowError> {
        let mut memory = Memory::default();
        ledger.visit_kinds(&[MARKED_BAD, EXECUTED], |row| -> Result<(), WorkflowError> {
            let fact = super::state::fact_of(&row)?;
            if fact.kind == MARKED_BAD {
                if let (Some(digest), Some(reason)) = (text(&fact.body, "digest"), text(&fact.body, "reason")) {
                    memory.marked.entry(digest).or_insert(reason);
                }
            } else if let Some(from) = text(&fact.body, "from") {
                let rows = memory.executed.entry(from).or_default();
                if rows.len() < EXECUTED_PER_DIGEST {
                    rows.push((text(&fact.body, "request"), text(&fact.body, "outcome")));
                }
            }
            Ok(())
        })?;
        Ok(memory)
    }

    /// Why `digest` is known bad, if it is, for request `except` (its own execution does not count).
    pub(crate) fn known_bad(&self, digest: &str, except: &EntryId) -> Option<String> {
        if digest.trim().is_empty() {
            return None;
        }
        if let Some(reason) = self.marked.get(digest) {
            return Some(format!("was marked bad: {reason}"));
        }
        for (req, outcome) in self.executed.get(digest).into_iter().flatten() {
            if outcome.as_deref() != Some("failed") && req.as_deref().and_then(Hash::from_hex) != Some(*except) {
                let req = req.as_deref().unwrap_or_default();
                return Some(format!("was rolled away from by request {}", crate::text::prefix(req, 12)));
            }
        }
        None
    }
}
