//! The ledger's memory of bad artifacts, read once for a walk over many requests (`verify`, the request
//! index): every digest marked bad and every digest an executed revert rolled away from, each with its
//! position, kept only when its signer counted there. Each request's assessment then asks a map instead of
//! the database; on a read-only file the body fields have no index, and each question would scan every
//! such entry. It answers exactly as [`super::assess::known_bad`].

use crate::audit::kinds::{EXECUTED, MARKED_BAD};
use crate::audit::projection::Fact;
use crate::identity::Roster;
use crate::ledger::causal::Causality;
use crate::ledger::{EntryId, Hash, Ledger, Pos};
use crate::workflow::error::WorkflowError;
use std::collections::HashMap;

/// Why an entry makes a digest known bad.
#[derive(Clone, Debug)]
pub(crate) enum Why {
    /// An `artifact.marked-bad`, with its reason.
    Marked(String),
    /// Another request's `rollback.executed` that did not fail: the request its body names (when that is an
    /// entry id) and how a message names it (the start of the body's text).
    RolledAway { request: Option<Hash>, shown: String },
}

impl Why {
    /// Whether it counts for request `except` (its own execution does not).
    pub(crate) fn counts_for(&self, except: &EntryId) -> bool {
        match self {
            Why::Marked(_) => true,
            Why::RolledAway { request, .. } => *request != Some(*except),
        }
    }

    /// A mark comes before any execution; then position order.
    pub(crate) fn rank(&self, pos: Pos) -> (bool, Pos) {
        (matches!(self, Why::RolledAway { .. }), pos)
    }

    /// What the flag's explanation says after the digest.
    pub(crate) fn message(&self) -> String {
        match self {
            Why::Marked(reason) => format!("was marked bad: {reason}"),
            Why::RolledAway { shown, .. } => format!("was rolled away from by request {shown}"),
        }
    }
}

/// What the stored entry `fact` (its row stored under `stored_kind`) says about bad artifacts (FORMAT.md
/// §1.3), whatever the point it is asked at: the digest it names and why, when its statement repeats the
/// stored kind, names the digest once, says why (a mark's reason; an execution that did not fail) and its
/// signer counted where it was signed. The database question and the map read entries only through this.
pub(crate) fn says(fact: &Fact, stored_kind: &str, roster: &Roster) -> Option<(String, Why)> {
    if fact.kind != stored_kind || !roster.is_active(&fact.actor, fact.pos) {
        return None;
    }
    let body = &fact.body;
    match fact.kind.as_str() {
        MARKED_BAD => Some((body.single_str_member("digest")?, Why::Marked(body.str_member("reason")?))),
        EXECUTED if body.str_member("outcome").as_deref() != Some("failed") => {
            let request = body.str_member("request").unwrap_or_default();
            let why = Why::RolledAway {
                request: Hash::from_hex(&request),
                shown: crate::text::prefix(&request, 12).to_string(),
            };
            Some((body.single_str_member("from")?, why))
        }
        _ => None,
    }
}

/// Digests known bad: digest → each entry that says so, with its position.
#[derive(Debug, Default)]
pub(crate) struct Memory(HashMap<String, Vec<(Pos, Why)>>);

impl Memory {
    /// Reads every `artifact.marked-bad` and `rollback.executed` that [`says`] something.
    pub(crate) fn load(ledger: &Ledger, roster: &Roster) -> Result<Memory, WorkflowError> {
        let mut memory = Memory::default();
        ledger.visit_kinds(&[MARKED_BAD, EXECUTED], |row| -> Result<(), WorkflowError> {
            let fact = super::state::fact_of(&row)?;
            if let Some((digest, why)) = says(&fact, &row.kind, roster) {
                memory.0.entry(digest).or_default().push((fact.pos, why));
            }
            Ok(())
        })?;
        Ok(memory)
    }

    /// Why `digest` is known bad at `at` (§1.3: what happened before it), if it is, for request `except`
    /// (its own execution does not count).
    pub(crate) fn known_bad(&self, digest: &str, except: &EntryId, at: Pos, causal: &Causality) -> Option<String> {
        if digest.trim().is_empty() {
            return None;
        }
        self.0
            .get(digest)?
            .iter()
            .filter(|(p, why)| why.counts_for(except) && causal.before(*p, at))
            .min_by_key(|(p, why)| why.rank(*p))
            .map(|(_, why)| why.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::POS_MAX;
    use crate::workflow::reads::assess::known_bad;

    /// A ledger whose genesis enrols the key every `test_append` signs with (alice, its admin).
    fn member_ledger(dir: &std::path::Path) -> (Ledger, crate::ledger::SignedStatement) {
        use crate::ledger::PublicKey;
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let me = PublicKey::from_signing(&key);
        let body = crate::identity::genesis::GenesisBody::new(
            "test.example/a",
            &me,
            "alice",
            &me,
            crate::policy::DEFAULT_POLICY,
        );
        let genesis = body.statement(&me).sign(&key, &crate::ledger::dsse::Domain::genesis_only()).unwrap();
        let path = dir.join("l.db");
        drop(Ledger::create(&path, "test.example/a", &key, &genesis).unwrap());
        (Ledger::open(&path).unwrap(), genesis)
    }

    /// Why `digest` is known bad at `at` for `except`, asked of the database and of the map read once, which
    /// must answer alike.
    fn asked(l: &Ledger, digest: &str, except: &Hash, at: Pos) -> Option<String> {
        let roster = Roster::from_ledger(l).unwrap();
        let db = known_bad(l, &roster, digest, except, at, true).unwrap();
        let map = Memory::load(l, &roster).unwrap().known_bad(digest, except, at, &roster.causal_order());
        assert_eq!(db, map, "the map answers as the database");
        db
    }

    /// Executions rolled away from a digest that failed, however many came first, do not hide one that did
    /// not; a request's own execution does not make the digest known bad for it; the map read once and the
    /// database question answer alike.
    #[test]
    fn failed_executions_do_not_hide_one_that_rolled_away() {
        let dir = tempfile::tempdir().unwrap();
        let (mut l, genesis) = member_ledger(dir.path());
        let (mine, other) = (Hash([1; 32]), Hash([2; 32]));
        let mut n = 0;
        let mut execute = |l: &mut Ledger, request: &Hash, outcome: &str| {
            n += 1;
            let body = serde_json::json!({"from": "sha256:bad", "request": request.to_hex(), "outcome": outcome});
            crate::ledger::store::test_append(l, &genesis, EXECUTED, body, 1000 * n);
        };
        let ask = |l: &Ledger, except: &Hash| asked(l, "sha256:bad", except, POS_MAX);
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

    /// A digest is known bad at a position only through entries before it: asked where an execution was
    /// signed, a mark signed after it does not count; asked now, it does. A mark by a key that is no member
    /// never counts.
    #[test]
    fn what_was_signed_later_or_by_no_member_does_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let (mut l, genesis) = member_ledger(dir.path());
        let (mine, other) = (Hash([1; 32]), Hash([2; 32]));
        let mark = serde_json::json!({"digest": "sha256:bad", "reason": "ships a backdoor"});
        crate::ledger::store::test_append_by(&mut l, &genesis, [9; 32], MARKED_BAD, mark.clone(), 1000);
        assert_eq!(asked(&l, "sha256:bad", &mine, POS_MAX), None, "marked by a key that is no member");
        let body = serde_json::json!({"from": "sha256:bad", "request": other.to_hex(), "outcome": "succeeded"});
        crate::ledger::store::test_append(&mut l, &genesis, EXECUTED, body, 2000);
        crate::ledger::store::test_append(&mut l, &genesis, MARKED_BAD, mark, 3000);
        let pos = |i: u64| {
            let rows = l.entries_of_kinds(&[MARKED_BAD, EXECUTED]).unwrap();
            rows.iter().find(|r| r.index == i).map(|r| r.pos).unwrap()
        };
        let (executed, marked) = (pos(2), pos(3));
        assert_eq!(asked(&l, "sha256:bad", &mine, executed - 1), None, "before anything counted");
        let at_execution = asked(&l, "sha256:bad", &mine, executed).unwrap();
        assert!(at_execution.contains("rolled away from by request 020202020202"), "{at_execution}");
        assert!(asked(&l, "sha256:bad", &mine, marked).unwrap().contains("marked bad: ships a backdoor"));
        assert!(asked(&l, "sha256:bad", &mine, POS_MAX).unwrap().contains("marked bad"));
        assert_eq!(asked(&l, "sha256:bad", &other, executed), None, "its own execution");
    }

    /// A row whose stored kind its signed statement does not repeat (the file edited behind the ledger's
    /// back) is no mark and no execution: it hides no real mark, in the database question or the map.
    #[test]
    fn a_row_whose_statement_is_another_kind_hides_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut l, genesis) = member_ledger(dir.path());
        let note = serde_json::json!({"digest": "sha256:bad", "text": "not a mark"});
        crate::ledger::store::test_append(&mut l, &genesis, "note", note, 1000);
        let mark = serde_json::json!({"digest": "sha256:bad", "reason": "ships a backdoor"});
        crate::ledger::store::test_append(&mut l, &genesis, MARKED_BAD, mark, 2000);
        crate::workflow::reads::assess::ensure_indexes(&l);
        drop(l);
        rusqlite::Connection::open(dir.path().join("l.db"))
            .unwrap()
            .execute_batch(
                "DROP TRIGGER entries_no_update; UPDATE entries SET kind = 'artifact.marked-bad' WHERE kind = 'note'",
            )
            .unwrap();
        let l = Ledger::open(&dir.path().join("l.db")).unwrap();
        let why = asked(&l, "sha256:bad", &Hash([1; 32]), POS_MAX).unwrap();
        assert!(why.contains("ships a backdoor"), "{why}");
    }
}
