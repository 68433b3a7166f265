//! The ledger's memory of bad artifacts, read once for a walk over many requests (`verify`, the request
//! index): every digest marked bad and every digest an executed revert rolled away from. Each request's
//! assessment then asks a map instead of the database; on a read-only file the body fields have no index,
//! and each question would scan every such entry. It answers exactly as [`super::assess::known_bad`].

use crate::audit::kinds::{EXECUTED, MARKED_BAD};
use crate::ledger::{EntryId, Hash, Ledger};
use crate::workflow::error::WorkflowError;
use std::collections::HashMap;

/// Executions kept per digest: of those that did not fail, the first of each of two requests, which is
/// enough to answer for any request asking (its own execution does not count) in bounded memory.
const EXECUTED_PER_DIGEST: usize = 2;

/// The request an execution's body names (kept only for executions that did not fail).
type Execution = Option<String>;

/// Digests known bad, with what the question needs of each.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    /// Digest → the reason of the first entry that marked it bad.
    marked: HashMap<String, String>,
    /// Digest → the requests of executions that rolled away from it and did not fail.
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
            } else if let Some(from) = text(&fact.body, "from")
                && text(&fact.body, "outcome").as_deref() != Some("failed")
            {
                let rows = memory.executed.entry(from).or_default();
                let request = text(&fact.body, "request");
                let id = |r: &Option<String>| r.as_deref().and_then(Hash::from_hex);
                if rows.len() < EXECUTED_PER_DIGEST && rows.iter().all(|r| id(r).is_none() || id(r) != id(&request)) {
                    rows.push(request);
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
        for req in self.executed.get(digest).into_iter().flatten() {
            if req.as_deref().and_then(Hash::from_hex) != Some(*except) {
                let req = req.as_deref().unwrap_or_default();
                return Some(format!("was rolled away from by request {}", crate::text::prefix(req, 12)));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::reads::assess::known_bad;

    /// Executions rolled away from a digest that failed, however many came first, do not hide one that did
    /// not; a request's own execution does not make the digest known bad for it; the map read once and the
    /// database question answer alike.
    #[test]
    fn failed_executions_do_not_hide_one_that_rolled_away() {
        let dir = tempfile::tempdir().unwrap();
        let (path, genesis) = crate::ledger::store::test_ledger(dir.path());
        let mut l = Ledger::open(&path).unwrap();
        let (mine, other) = (Hash([1; 32]), Hash([2; 32]));
        let mut n = 0;
        let mut execute = |l: &mut Ledger, request: &Hash, outcome: &str| {
            n += 1;
            let body = serde_json::json!({"from": "sha256:bad", "request": request.to_hex(), "outcome": outcome});
            crate::ledger::store::test_append(l, &genesis, EXECUTED, body, 1000 * n);
        };
        let ask = |l: &Ledger, except: &Hash| {
            let db = known_bad(l, "sha256:bad", except).unwrap();
            let map = Memory::load(l).unwrap().known_bad("sha256:bad", except);
            assert_eq!(db, map, "the map answers as the database");
            db
        };
        for _ in 0..25 {
            execute(&mut l, &other, "failed");
        }
        assert_eq!(ask(&l, &mine), None);
        execute(&mut l, &mine, "succeeded");
        assert_eq!(ask(&l, &mine), None, "its own execution");
        let why = ask(&l, &other).expect("rolled away from by another request");
        assert!(why.contains(&mine.to_hex()[..12]), "{why}");
        execute(&mut l, &other, "partial");
        assert!(ask(&l, &mine).is_some_and(|w| w.contains(&other.to_hex()[..12])));
    }
}
