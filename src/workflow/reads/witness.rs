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
    let mut valid: std::collections::HashMap<String, Acknowledgment> = std::collections::HashMap::new();
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
        // The first counting acknowledgment of each evidence digest (in union order) is the one shown.
        valid.entry(body.evidence).or_insert(Acknowledgment {
            entry: row.entry.id,
            by: roster.display(&f.actor),
            at: row.ts.clone(),
            finding: body.finding,
        });
    }
    let (mut open, mut done) = (Vec::new(), Vec::new());
    for e in rows {
        let digest = e.evidence_digest();
        match valid.get(&digest) {
            Some(a) => done.push((e, a.clone())),
            None => open.push(e),
        }
    }
    Ok((open, done))
}

/// The kind of the evidence of an entry several leaves hold ([`copies`]).
pub(crate) const COPY: &str = "copy";

/// Every entry several leaves hold, each as evidence of kind `copy`: found in the file, never stored. A log
/// appends only what its own machine signs, so a second leaf is a copy its log's owner appended, which can
/// move the entry in position order (FORMAT.md §2.1); nothing in the file says which leaf is the original.
/// Its evidence is the same on every machine that holds the same logs, whichever arrived first: `ours` is
/// the entry id and its first leaf, `theirs` the others (`LOG INDEX` lines, in name order), its origin the
/// log of the last; an `integrity.acknowledged` naming its digest closes it as it closes a fork.
/// At most [`COPIES_SHOWN`] at once, the first by entry id (a member who copies a million entries must not
/// make every verification hold them all): the next come as those are acknowledged.
pub(crate) fn copies(ledger: &Ledger) -> Result<Vec<Equivocation>, WorkflowError> {
    let found = ledger.entries_in_several_leaves(COPIES_SHOWN)?;
    Ok(found.iter().map(|(id, leaves)| copy_evidence(*id, leaves)).collect())
}

/// The most copies [`copies`] gives at once.
pub(crate) const COPIES_SHOWN: usize = 1_000;

/// The evidence of entry `id` held by `leaves` (log name and index, in name order; two or more).
pub(crate) fn copy_evidence(id: crate::ledger::EntryId, leaves: &[crate::ledger::store::LeafPlace]) -> Equivocation {
    let place = |(o, i): &crate::ledger::store::LeafPlace| format!("{o} {i}");
    let all: Vec<String> = leaves.iter().map(|(o, i)| format!("leaf {i} of {o}")).collect();
    Equivocation {
        origin: leaves.last().map_or_else(|| "-".to_string(), |(o, _)| o.clone()),
        detected: "in this file".into(),
        kind: COPY.into(),
        ours: leaves.first().map_or_else(|| id.to_hex(), |l| format!("{}\n{}", id.to_hex(), place(l))),
        theirs: leaves.iter().skip(1).map(place).collect::<Vec<_>>().join("\n"),
        detail: format!(
            "entry {} is held by {} leaves ({}): a log appends only what its machine signs, and a copy can move \
             an entry in the ledger's order",
            id.to_hex(),
            leaves.len(),
            all.join(", ")
        ),
    }
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
            // A log only grows: the own log held less than a witness saw, or a mirror held less than this
            // machine's own witness cosigned (it verified that much), was cut. Another witness's
            // cosignature of a mirror beyond what is held here is not: that machine may hold more.
            if origin.own {
                state.problems.push(format!(
                    "SECURITY: witness {} cosigned this ledger's own log at size {} but it holds {held} entries: \
                     entries were removed",
                    c.witness, c.size
                ));
            } else if witness.own {
                state.problems.push(format!(
                    "SECURITY: this machine's witness {} cosigned {} at size {} but this ledger holds {held} of its \
                     entries: entries were removed",
                    c.witness, c.origin, c.size
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The evidence of a copy as docs/FORMAT.md §8.5 defines it, byte for byte: `ours` the entry id and
    /// its first leaf, `theirs` the others, LF-joined, leaves in name order; the digest SHA-256 of
    /// `ours LF theirs`; the origin the last leaf's log.
    #[test]
    fn a_copys_evidence_is_what_format_md_says() {
        let id = crate::ledger::Hash([0xab; 32]);
        let e = copy_evidence(id, &[("a.example/x".into(), 3), ("b.example/y".into(), 0), ("b.example/y".into(), 7)]);
        assert_eq!(e.kind, "copy");
        assert_eq!(e.origin, "b.example/y");
        assert_eq!(e.ours, format!("{}\na.example/x 3", "ab".repeat(32)));
        assert_eq!(e.theirs, "b.example/y 0\nb.example/y 7");
        let text = format!("{}\na.example/x 3\nb.example/y 0\nb.example/y 7", "ab".repeat(32));
        assert_eq!(e.evidence_digest(), crate::ledger::Hash::of(&[text.as_bytes()]).to_hex());
        assert!(e.detail.starts_with(&format!(
            "entry {} is held by 3 leaves (leaf 3 of a.example/x, leaf 0 of b.example/y, leaf 7 of b.example/y): ",
            "ab".repeat(32)
        )));
    }
}
