//! The witness state `verify` reports: every stored cosignature checked against its witness's key and
//! the log it covers, and the recorded equivocations split into open and acknowledged.

use crate::ledger::Ledger;
use crate::ledger::mirror::Equivocation;
use crate::text::safe;
use crate::workflow::error::WorkflowError;
use std::collections::BTreeMap;

/// One witness of an origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    pub name: String,
    /// Largest size it cosigned that this ledger's copy agrees with.
    pub size: u64,
    pub time: u64,
}

/// Witnesses per origin, and anything wrong with the cosignatures held.
#[derive(Clone, Debug, Default)]
pub struct WitnessState {
    pub by_origin: BTreeMap<String, Vec<Witness>>,
    /// Cosignatures that do not verify or contradict the logs (integrity failures).
    pub problems: Vec<String>,
    /// Evidence of equivocation kept by earlier imports that nobody has acknowledged yet.
    pub equivocations: Vec<Equivocation>,
    /// Evidence an admin or security approver acknowledged, with who, when and the finding.
    pub acknowledged: Vec<Acknowledged>,
}

/// A recorded equivocation and the entry that acknowledged it.
pub type Acknowledged = (Equivocation, Acknowledgment);

/// A signed `integrity.acknowledged` entry that matches a recorded equivocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acknowledgment {
    pub entry: crate::ledger::EntryId,
    pub by: String,
    pub at: String,
    pub finding: String,
}

/// An open equivocation as one line for people (sanitized).
pub(crate) fn equivocation_line(e: &Equivocation) -> String {
    safe(&format!("SECURITY: {} of origin {} detected {}: {}", e.kind, e.origin, e.detected, e.detail))
}

/// An acknowledged equivocation as one line for people (sanitized).
pub(crate) fn acknowledged_line(e: &Equivocation, a: &Acknowledgment) -> String {
    safe(&format!(
        "acknowledged: {} of origin {} detected {}, by {} at {}: {}",
        e.kind, e.origin, e.detected, a.by, a.at, a.finding
    ))
}

/// Whether `key` may acknowledge an equivocation at `pos`: it holds `admin` or `security-approver`.
pub(crate) fn may_acknowledge(
    roster: &crate::identity::roster::Roster,
    key: &crate::ledger::PublicKey,
    pos: crate::ledger::Pos,
) -> bool {
    roster.has_role(key, pos, &["admin".to_string(), "security-approver".to_string()])
}

/// The recorded equivocations, split into those still open and those acknowledged by a signed entry of a
/// key that held `admin` or `security-approver` when it signed.
pub(crate) fn equivocations(ledger: &Ledger) -> Result<(Vec<Equivocation>, Vec<Acknowledged>), WorkflowError> {
    let rows = ledger.equivocations()?;
    if rows.is_empty() {
        return Ok((rows, Vec::new()));
    }
    split_equivocations(ledger, rows, &crate::identity::roster::Roster::from_ledger(ledger)?)
}

/// Splits the recorded equivocations `rows` as [`equivocations`] does, with the roster already loaded.
pub(crate) fn split_equivocations(
    ledger: &Ledger,
    rows: Vec<Equivocation>,
    roster: &crate::identity::roster::Roster,
) -> Result<(Vec<Equivocation>, Vec<Acknowledged>), WorkflowError> {
    let acks = ledger.entries_of_kinds(&[crate::audit::kinds::ACKNOWLEDGED])?;
    let mut valid: Vec<(String, Acknowledgment)> = Vec::new();
    // An acknowledgment counts only when its row passes the check every decision makes of a row it relies
    // on (a row added behind the ledger's back would close the equivocation it names).
    let mut checker = crate::ledger::inclusion::Checker::new(ledger);
    for row in &acks {
        match checker.check(row) {
            Ok(_) => {}
            Err(crate::ledger::inclusion::Unchecked::Fails(_)) => continue,
            Err(crate::ledger::inclusion::Unchecked::Unreadable(e)) => return Err(e.into()),
        }
        let f = crate::workflow::reads::state::fact_of(row)?;
        let Ok(body) = f.body.read::<crate::audit::bodies::AcknowledgedBody>() else {
            continue;
        };
        if !may_acknowledge(roster, &f.actor, row.pos) {
            continue;
        }
        valid.push((
            body.evidence,
            Acknowledgment {
                entry: row.entry.id,
                by: roster.display(&f.actor),
                at: row.ts.clone(),
                finding: body.finding,
            },
        ));
    }
    let (mut open, mut done) = (Vec::new(), Vec::new());
    for e in rows {
        let digest = e.evidence_digest();
        match valid.iter().find(|(d, _)| *d == digest) {
            Some((_, a)) => done.push((e, a.clone())),
            None => open.push(e),
        }
    }
    Ok((open, done))
}

/// Checks every stored cosignature against the witness's declared key and the log it covers.
pub(crate) fn witness_state(ledger: &Ledger) -> Result<WitnessState, WorkflowError> {
    let (open, acknowledged) = equivocations(ledger)?;
    let mut state = WitnessState { equivocations: open, acknowledged, ..Default::default() };
    let origins = ledger.origins()?;
    for c in ledger.cosignatures(None)? {
        let Some(witness) = origins.iter().find(|o| o.name == c.witness) else {
            continue; // not a known key: ignored
        };
        let Some(origin) = origins.iter().find(|o| o.name == c.origin) else { continue };
        if !c.verify(&witness.key) {
            state
                .problems
                .push(format!("the cosignature of {} at size {} by {} does not verify", c.origin, c.size, c.witness));
            continue;
        }
        let held = ledger.size(origin)?;
        if c.size > held {
            if origin.own {
                state.problems.push(format!(
                    "SECURITY: witness {} cosigned this ledger's own log at size {} but it holds {held} entries: \
                     entries were removed",
                    c.witness, c.size
                ));
            }
            continue;
        }
        if ledger.root_at(origin, c.size)? != c.root {
            state.problems.push(format!(
                "SECURITY: witness {} cosigned {} at size {} with a root this ledger's copy does not have",
                c.witness, c.origin, c.size
            ));
            continue;
        }
        let list = state.by_origin.entry(c.origin.clone()).or_default();
        match list.iter_mut().find(|w| w.name == c.witness) {
            Some(w) if w.size < c.size => {
                w.size = c.size;
                w.time = c.time;
            }
            Some(_) => {}
            None => list.push(Witness { name: c.witness.clone(), size: c.size, time: c.time }),
        }
    }
    Ok(state)
}
