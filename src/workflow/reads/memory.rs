//! The ledger's memory of bad artifacts, read once for a walk over many requests (`verify`, the request
//! index): every digest marked bad and every digest an executed revert rolled away from, each with its
//! position, kept only when its signer counted there. Each request's assessment then asks a map instead of
//! the database; on a read-only file the body fields have no index, and each question would scan every
//! such entry. It answers exactly as [`super::assess::known_bad`].
//!
//! It keeps only the entries some question can still need: an entry is left out when earlier entries of
//! its own log answer first every question it would answer (see [`Entries::keep`]), so a digest holds at
//! most three entries per log however many marks and executions of it the log holds.

use crate::audit::kinds::{EXECUTED, MARKED_BAD};
use crate::audit::projection::Fact;
use crate::identity::Roster;
use crate::ledger::causal::Causality;
use crate::ledger::pos::{index_of, tag_of};
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

/// Digests known bad: digest → the entries that say so which some question can still need.
#[derive(Debug, Default)]
pub(crate) struct Memory(HashMap<String, Entries>);

/// The entries kept for one digest, each with its position.
#[derive(Debug, Default)]
pub(crate) struct Entries(Vec<(Pos, Why)>);

impl Why {
    /// The one request it does not count for (its own execution), if any.
    fn except(&self) -> Option<Hash> {
        match self {
            Why::Marked(_) => None,
            Why::RolledAway { request, .. } => *request,
        }
    }
}

impl Entries {
    /// Adds the entry at `pos`, leaving out what is never the answer. An entry `e` can be left out when,
    /// for every request it counts for, an entry kept *earlier in its own log* with a lower rank counts too:
    /// any question `e` is before is then also after that entry (within a log, and from any other log that
    /// had seen `e`, whatever the merge markers say of other logs), and that entry ranks first, so [`Memory::
    /// known_bad`] never picks `e`. A mark counts for every request, an execution for every request but its
    /// own: earlier entries of the log cover `e` when one of them counts for all, when two exclude different
    /// requests, or when all exclude the one request `e` excludes too. Entries are read in each log's order
    /// (the order they were stored), so a log keeps at most its first mark and, before it, the first
    /// executions of two different requests. A kept entry is never dropped later (what it covers stays
    /// covered), and past [`KEPT_CHECKED`] entries of a digest (a file stored out of order, or a digest
    /// marked on that many logs) an entry is kept unchecked: exact still, and never a quadratic cost.
    pub(crate) fn keep(&mut self, pos: Pos, why: Why) {
        if self.0.len() < KEPT_CHECKED && covered(&self.0, (pos, &why)) {
            return;
        }
        self.0.push((pos, why));
    }

    /// How many entries are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// How many entries of one digest [`Entries::keep`] compares a new one with.
const KEPT_CHECKED: usize = 64;

/// Whether the entries of `kept` earlier in the log of `e` with a lower rank count for every request `e`
/// counts for (see [`Entries::keep`]).
fn covered(kept: &[(Pos, Why)], e: (Pos, &Why)) -> bool {
    let (pos, why) = e;
    let mut excluded: Option<Hash> = None;
    let earlier = kept
        .iter()
        .filter(|(p, w)| tag_of(*p) == tag_of(pos) && index_of(*p) < index_of(pos) && w.rank(*p) < why.rank(pos));
    for (_, w) in earlier {
        match (w.except(), excluded) {
            (None, _) => return true,
            (Some(r), Some(x)) if r != x => return true,
            (Some(r), _) => excluded = Some(r),
        }
    }
    excluded.is_some() && excluded == why.except()
}

impl Memory {
    /// Reads every `artifact.marked-bad` and `rollback.executed` that [`says`] something.
    pub(crate) fn load(ledger: &Ledger, roster: &Roster) -> Result<Memory, WorkflowError> {
        let mut memory = Memory::default();
        ledger.visit_kinds(&[MARKED_BAD, EXECUTED], |row| -> Result<(), WorkflowError> {
            let fact = super::state::fact_of(&row)?;
            if let Some((digest, why)) = says(&fact, &row.kind, roster) {
                memory.0.entry(digest).or_default().keep(fact.pos, why);
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
        first_counting(&self.0.get(digest)?.0, except, at, causal).map(Why::message)
    }
}

/// Of `entries`, the one that answers for `except` at `at`: the first by rank of those before `at` that
/// count for it.
fn first_counting<'a>(entries: &'a [(Pos, Why)], except: &EntryId, at: Pos, causal: &Causality) -> Option<&'a Why> {
    entries
        .iter()
        .filter(|(p, why)| why.counts_for(except) && causal.before(*p, at))
        .min_by_key(|(p, why)| why.rank(*p))
        .map(|(_, why)| why)
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

    const LOGS: [&str; 3] = ["m0.example/a", "m1.example/b", "m2.example/c"];

    /// An entry of a log: (log, index, what it says: 0 a mark, 1–3 an execution of request 1–3, 4 one
    /// whose request is no entry id), its effective time `late` ms after its index's second (out of the
    /// log's order when `late` is a second or more: a file edited so).
    fn entry(log: usize, index: u64, what: u8, late: i64) -> (Pos, Why) {
        let pos = crate::ledger::pos::pos(index as i64 * 1000 + late, LOGS[log], index);
        let why = match what {
            0 => Why::Marked(format!("mark {log}/{index}")),
            r => {
                let request = (r < 4).then_some(Hash([r; 32]));
                Why::RolledAway { request, shown: format!("{log}/{index}") }
            }
        };
        (pos, why)
    }

    proptest::proptest! {
        /// Whatever the entries, the order they are read in and the merge markers (closed or not), the
        /// entries kept answer every question (each request, at each position of each log and now) exactly
        /// as all of them do, and a log read in its order keeps at most three.
        #[test]
        fn what_is_left_out_never_answers(
            entries in proptest::collection::vec((0usize..3, 0u64..10, 0u8..5, proptest::prop_oneof![proptest::strategy::Just(0i64), 0i64..3000]), 0..40),
            markers in proptest::collection::vec((0usize..3, 0u64..10, 0usize..3, 1u64..11), 0..8),
        ) {
            let mut all: Vec<(Pos, Why)> = Vec::new();
            for (log, index, what, late) in entries {
                let (pos, why) = entry(log, index, what, late);
                // One entry per place in a log.
                if !all.iter().any(|(p, _)| tag_of(*p) == tag_of(pos) && index_of(*p) == index) {
                    all.push((pos, why));
                }
            }
            // Read in any order, and in each log's order (as stored).
            let mut in_order = all.clone();
            in_order.sort_by_key(|(p, _)| crate::ledger::pos::index_of(*p));
            let kept_of = |entries: &[(Pos, Why)]| {
                let mut kept = Entries::default();
                for (pos, why) in entries {
                    kept.keep(*pos, why.clone());
                }
                kept
            };
            let (any_order, kept) = (kept_of(&all), kept_of(&in_order));
            let markers = markers
                .into_iter()
                .filter(|(o, _, p, _)| o != p)
                .map(|(o, index, p, size)| crate::ledger::causal::Marker {
                    origin: LOGS[o].to_string(),
                    index,
                    pos: crate::ledger::pos::pos(index as i64 * 1000, LOGS[o], index),
                    ets: index as i64 * 1000,
                    seen: vec![(LOGS[p].to_string(), size, Hash::default())],
                })
                .collect();
            let causal = Causality::from_markers(LOGS.iter().map(|n| n.to_string()).collect(), markers);
            let asked_at = (0..3).flat_map(|log| (0..11).map(move |i| entry(log, i, 0, 0).0));
            for at in asked_at.chain([POS_MAX]) {
                for except in [1u8, 2, 3, 9].map(|r| Hash([r; 32])) {
                    let full = first_counting(&all, &except, at, &causal).map(Why::message);
                    let left = first_counting(&kept.0, &except, at, &causal).map(Why::message);
                    let unordered = first_counting(&any_order.0, &except, at, &causal).map(Why::message);
                    proptest::prop_assert_eq!(&full, &left, "at {:x} for {}", at, except.short(4));
                    proptest::prop_assert_eq!(&full, &unordered, "at {:x} for {} (read in any order)", at, except.short(4));
                }
            }
            // Effective times in each log's order (as every file `verify` passes has them): the bound.
            let in_time = all.iter().all(|(a, _)| {
                all.iter().all(|(b, _)| tag_of(*a) != tag_of(*b) || (index_of(*a) < index_of(*b)) == (a < b))
            });
            for log in LOGS.into_iter().filter(|_| in_time) {
                let tag = crate::ledger::pos::origin_tag(log);
                proptest::prop_assert!(kept.0.iter().filter(|(p, _)| tag_of(*p) == tag).count() <= 3);
            }
        }
    }

    /// Executions and marks of one digest signed on one log, however many, keep at most three entries; read
    /// out of the log's order (a file stored so), each is compared with at most [`KEPT_CHECKED`] entries.
    #[test]
    fn marks_and_executions_repeated_keep_three_entries() {
        let mut kept = Entries::default();
        for i in 0..30_000u64 {
            let (pos, why) = entry(0, i, [1, 1, 2, 3, 0, 4][(i % 6) as usize], 0);
            kept.keep(pos, why);
        }
        assert_eq!(kept.len(), 3, "{kept:?}");
        let mut backwards = Entries::default();
        for i in (0..30_000u64).rev() {
            let (pos, why) = entry(0, i, 0, 0);
            backwards.keep(pos, why);
        }
        assert_eq!(backwards.len(), 30_000, "each mark read before the one that covers it is kept");
    }
}
