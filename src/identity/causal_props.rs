//! Property test of the causal roster: random interleavings of enrolments, revocations, approvals and
//! imports across three machines, each log built as rollcall builds it (merge markers naming what the
//! machine held). Every approval's verdict must match an oracle computed from vector clocks kept by the
//! simulation itself (an independent implementation of happens-before), and the verdicts must not depend
//! on the order in which the machines finally exchange their logs.

use super::genesis::GenesisBody;
use super::kinds::{ENROLLED, ORIGIN_JOINED, REVOKED};
use super::roster::Roster;
use crate::ledger::causal::{Causality, Marker};
use crate::ledger::pos::pos;
use crate::ledger::statement::{CheckedHead, format_ts};
use crate::ledger::{EntryId, Hash, Pos, PublicKey, Statement};
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use std::sync::Arc;

const NAMES: [&str; 3] = ["m0.example/a", "m1.example/b", "m2.example/c"];
const PEOPLE: [&str; 3] = ["k1", "k2", "k3"];

#[derive(Clone, Debug)]
enum Op {
    Enroll(usize, usize),
    Revoke(usize, usize),
    Approve(usize, usize),
    Import(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    (0..4u8, 0..3usize, 0..3usize).prop_map(|(k, m, x)| match k {
        0 => Op::Enroll(m, x),
        1 => Op::Revoke(m, x),
        2 => Op::Approve(m, x),
        _ => Op::Import(m, x),
    })
}

fn key(i: u8) -> PublicKey {
    PublicKey::from_signing(&SigningKey::from_bytes(&[i + 1; 32]))
}

/// One entry of a simulated log.
#[derive(Clone, Debug)]
struct Ev {
    origin: usize,
    index: u64,
    ets: i64,
    /// What the log had seen when it wrote this entry (sizes per machine, itself included).
    vc: [u64; 3],
    kind: String,
    actor: PublicKey,
    body: serde_json::Value,
    /// For markers: the sizes named.
    seen: Vec<(usize, u64)>,
    /// For approvals: the approver.
    person: Option<usize>,
}

impl Ev {
    fn pos(&self) -> Pos {
        pos(self.ets, NAMES[self.origin], self.index)
    }

    /// Happened before `other` (or is it), by the simulation's own vector clocks.
    fn before(&self, other: &Ev) -> bool {
        other.vc[self.origin] > self.index
    }
}

struct Sim {
    logs: [Vec<Ev>; 3],
    vc: [[u64; 3]; 3],
    t: i64,
    enrolled: [Option<(usize, u64)>; 3],
    revoked: [bool; 3],
}

impl Sim {
    fn new() -> Sim {
        let mut s = Sim {
            logs: [vec![], vec![], vec![]],
            vc: [[0; 3]; 3],
            t: 1_790_000_000_000,
            enrolled: [None; 3],
            revoked: [false; 3],
        };
        let g = GenesisBody::new(NAMES[0], &key(100), "alice", &key(0), "version = 1\n");
        s.push(0, "genesis", key(0), serde_json::to_value(&g).unwrap(), vec![], None);
        // The other machines join from machine 0's log as it stands.
        for (m, name) in NAMES.iter().enumerate().skip(1) {
            s.vc[m][0] = s.vc[0][0];
            let body =
                serde_json::json!({"ledger": "x", "origin": name, "key": key(100 + m as u8).encode(), "seen": {}});
            s.push(m, ORIGIN_JOINED, key(0), body, vec![(0, s.vc[0][0])], None);
        }
        s
    }

    fn push(
        &mut self,
        m: usize,
        kind: &str,
        actor: PublicKey,
        body: serde_json::Value,
        seen: Vec<(usize, u64)>,
        person: Option<usize>,
    ) {
        self.t += 1;
        let index = self.logs[m].len() as u64;
        self.vc[m][m] = index + 1;
        self.logs[m].push(Ev {
            origin: m,
            index,
            ets: self.t,
            vc: self.vc[m],
            kind: kind.into(),
            actor,
            body,
            seen,
            person,
        });
    }

    fn import(&mut self, m: usize, j: usize) {
        if m == j {
            return;
        }
        let theirs = self.vc[j];
        for (mine, t) in self.vc[m].iter_mut().zip(theirs) {
            *mine = (*mine).max(t);
        }
        let seen: Vec<(usize, u64)> =
            (0..3).filter(|p| *p != m && self.vc[m][*p] > 0).map(|p| (p, self.vc[m][p])).collect();
        self.push(m, "log.merged", key(100 + m as u8), serde_json::json!({}), seen, None);
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Enroll(m, k) if self.enrolled[k].is_none() => {
                let body =
                    serde_json::json!({"name": PEOPLE[k], "key": key(k as u8 + 1).encode(), "roles": ["approver"]});
                self.push(m, ENROLLED, key(0), body, vec![], None);
                self.enrolled[k] = Some((m, self.logs[m].len() as u64 - 1));
            }
            Op::Revoke(m, k) => {
                // Only where the enrolment has been seen, and once.
                if let Some((o, i)) = self.enrolled[k]
                    && !self.revoked[k]
                    && self.vc[m][o] > i
                {
                    let body = serde_json::json!({"name": PEOPLE[k], "key": key(k as u8 + 1).encode(), "reason": "r"});
                    self.push(m, REVOKED, key(0), body, vec![], None);
                    self.revoked[k] = true;
                }
            }
            Op::Approve(m, k) => {
                self.push(m, "approval.granted", key(k as u8 + 1), serde_json::json!({}), vec![], Some(k))
            }
            Op::Import(m, j) => self.import(m, j),
            _ => {}
        }
    }

    fn roster(&self) -> Roster {
        let names: Vec<String> = NAMES.iter().map(|n| n.to_string()).collect();
        let mut markers = Vec::new();
        let mut rows: Vec<(Pos, EntryId, CheckedHead, Vec<u8>)> = Vec::new();
        for ev in self.logs.iter().flatten() {
            if ev.kind == "log.merged" || ev.kind == ORIGIN_JOINED {
                markers.push(Marker {
                    origin: NAMES[ev.origin].into(),
                    index: ev.index,
                    pos: ev.pos(),
                    ets: ev.ets,
                    seen: ev.seen.iter().map(|(p, s)| (NAMES[*p].to_string(), *s, Hash([0; 32]))).collect(),
                });
            }
            if ["genesis", ENROLLED, REVOKED, ORIGIN_JOINED].contains(&ev.kind.as_str()) {
                let at = chrono::DateTime::from_timestamp_millis(ev.ets).unwrap();
                let st = Statement::new_at(&ev.kind, &ev.actor, ev.body.clone(), &[], at);
                let bytes = serde_json::to_vec(&st).unwrap();
                let head = CheckedHead { kind: ev.kind.clone(), actor: ev.actor, ts: format_ts(at), refs: vec![] };
                rows.push((ev.pos(), Hash::of(&[&bytes]), head, bytes));
            }
        }
        rows.sort_by_key(|r| r.0);
        Roster::build(Arc::new(Causality::from_markers(names, markers)), &rows).expect("roster")
    }

    /// The oracle: an approval by k counts iff k's enrolment happened before it and every revocation of k
    /// happened after it (the revoking log had seen it).
    fn expected(&self, a: &Ev) -> bool {
        let k = a.person.expect("an approval");
        let all: Vec<&Ev> = self.logs.iter().flatten().collect();
        let target = key(k as u8 + 1).encode();
        let enrolled = all.iter().any(|e| e.kind == ENROLLED && e.body["key"] == target && e.before(a));
        let revoked_first = all.iter().any(|r| r.kind == REVOKED && r.body["key"] == target && !a.before(r));
        enrolled && !revoked_first
    }

    fn verdicts(&self) -> Vec<(Pos, bool)> {
        let roster = self.roster();
        self.logs
            .iter()
            .flatten()
            .filter(|e| e.person.is_some())
            .map(|a| (a.pos(), roster.is_active(&a.actor, a.pos())))
            .collect()
    }
}

/// A member's own log naming another machine's origin, stamped before that machine's real declaration,
/// declares nothing: a declaration is the first entry of the log it names.
#[test]
fn an_origin_joined_outside_the_log_it_names_declares_nothing() {
    let mut sim = Sim::new();
    // The genesis's id, as `Sim::roster` makes its row, so that the declarations join this ledger.
    let g = &sim.logs[0][0];
    let at = chrono::DateTime::from_timestamp_millis(g.ets).unwrap();
    let bytes = serde_json::to_vec(&Statement::new_at(&g.kind, &g.actor, g.body.clone(), &[], at)).unwrap();
    let ledger = Hash::of(&[&bytes]).to_hex();
    let body = serde_json::json!({"ledger": ledger, "origin": NAMES[1], "key": key(99).encode(), "seen": {}});
    sim.push(2, ORIGIN_JOINED, key(0), body, vec![], None);
    // machine 1's real declaration, stamped after the other log's.
    sim.logs[1][0].body["ledger"] = ledger.into();
    sim.logs[1][0].ets = sim.t + 10;
    assert!(sim.logs[2].last().unwrap().pos() < sim.logs[1][0].pos());
    let roster = sim.roster();
    assert_eq!(roster.origin_key(NAMES[1]), Some(&key(101)));
    assert!(roster.discounted().iter().any(|d| d.reason.contains("not the first entry of that origin's log")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn counted_approvals_follow_causality_in_any_exchange_order(
        ops in proptest::collection::vec(op(), 1..40),
        order_a in Just([0usize, 1, 2]).prop_shuffle(),
        order_b in Just([0usize, 1, 2]).prop_shuffle(),
    ) {
        let mut sim = Sim::new();
        for o in &ops {
            sim.apply(o);
        }
        let roster = sim.roster();
        for a in sim.logs.iter().flatten().filter(|e| e.person.is_some()) {
            let got = roster.is_active(&a.actor, a.pos());
            prop_assert_eq!(got, sim.expected(a), "approval at {} #{}: {}", NAMES[a.origin], a.index, roster.signer_problem(&a.actor, a.pos()));
        }
        // Two different complete exchanges (every machine imports every other, in two orders): the
        // verdicts on the approvals made before them are the same, and the same as before the exchange.
        let before = sim.verdicts();
        let exchange = |order: [usize; 3]| {
            let mut s = Sim { logs: sim.logs.clone(), vc: sim.vc, t: sim.t, enrolled: sim.enrolled, revoked: sim.revoked };
            for round in 0..2 {
                for &m in &order {
                    for &j in &order {
                        if m != j && (round == 0 || j != order[0]) {
                            s.import(m, j);
                        }
                    }
                }
            }
            s.verdicts().into_iter().filter(|(p, _)| before.iter().any(|(q, _)| q == p)).collect::<Vec<_>>()
        };
        prop_assert_eq!(exchange(order_a), before.clone());
        prop_assert_eq!(exchange(order_b), before);
    }
}
