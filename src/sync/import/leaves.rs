//! One origin's section of a bundle: its leaves, in order — each statement read, its id computed, its time
//! bounded, compared with the leaves this ledger holds and the new ones staged — while the `verify_strict`
//! signatures of the staged leaves are checked on the ledger's ordered parallel pipeline
//! ([`crate::ledger::pipeline`], every core); finally the section's signed checkpoint against the root of
//! what was staged.
//!
//! Staging does not wait for the signatures: what is staged is only ever committed after the last one is
//! checked ([`Run::settle`]), and a signature that fails refuses the import, before any other problem found
//! after it was staged ([`Run::first_bad_signature`]). So the writer runs ahead of the checks by a bounded
//! window, and the work at the end of an import (building the deferred index, writing the page cache) runs
//! on one core while the last signatures are checked on the others.

use super::{OriginImported, Run, Stop, record_name};
use crate::ledger::dsse::Domain;
use crate::ledger::note::Checkpoint;
use crate::ledger::statement::{
    CheckedHead, SignedStatement, StatementError, check_signature, check_statement_with, parse_head_with,
};
use crate::ledger::writer::{LeafWriter, Pushed};
use crate::ledger::{Hash, Origin, PublicKey};
use crate::sync::bundle::Record;

/// The signature of a staged leaf, on its way to a verifying thread.
pub(super) struct SignatureJob {
    line: u64,
    /// Which origin of [`Run::origin_names`] the leaf belongs to, and its index there.
    origin: usize,
    index: u64,
    kind: String,
    actor: PublicKey,
    signature: [u8; 64],
    statement: Vec<u8>,
}

/// A staged leaf's signature, checked.
pub(super) struct Verdict {
    line: u64,
    origin: usize,
    index: u64,
    result: Result<(), StatementError>,
}

/// What a verifying thread does with one staged leaf: `verify_strict` of its actor's signature over DSSE
/// PAE under the ledger's payload type for its kind.
pub(super) fn check(job: SignatureJob, domain: &Domain) -> Verdict {
    let result = check_signature(&job.kind, &job.actor, &job.statement, &job.signature, domain);
    Verdict { line: job.line, origin: job.origin, index: job.index, result }
}

/// A leaf line read from the bundle.
struct Line {
    line: u64,
    index: u64,
    entry: SignedStatement,
}

impl Run<'_, '_> {
    /// One origin's section: its leaves and its checkpoint. Returns the record after it.
    pub(super) fn origin(
        &mut self,
        name: &str,
        key: &crate::ledger::PublicKey,
        from: u64,
        to: u64,
    ) -> Result<Record, Stop> {
        if !self.seen.insert(name.to_string()) {
            return Err(self.bad(format!("origin {name} appears twice")));
        }
        let known = self.tx.find(name)?.is_some();
        if !known && to == 0 {
            // Every log starts with the entry that declares it: a new name with no leaves would claim the
            // name and its key (refused here, before anything else is read for it).
            return Err(self.bad(format!(
                "origin {name} is new here and its section carries no entries: a log starts with the entry \
                 that declares it"
            )));
        }
        let origin = self.tx.origin(name, key).map_err(|e| self.bad(e.to_string()))?;
        let held = self.ledger.size(&origin)?;
        if from > held {
            return Err(self.bad(format!(
                "origin {name}: the bundle starts at leaf {from} but this ledger holds only {held} of its leaves; \
                 import a full export (without --since) first"
            )));
        }
        if !origin.own {
            self.tx.expect_leaves(to.saturating_sub(held))?;
        }
        let mut writer = self.tx.writer(&origin, from)?;
        if origin.own {
            // The own log is only ever compared: past its end, the tree is computed, never stored.
            if held == from {
                writer.shadow();
            }
        }
        let origin_no = self.origin_names.len();
        self.origin_names.push(name.to_string());
        let mut next = from;
        let mut diverged: Option<(u64, Hash, Hash)> = None;
        let mut added = 0u64;
        let rec = loop {
            let rec = self.next()?;
            let Record::Leaf { index, signature, statement } = rec else { break rec };
            if index != next {
                return Err(self.bad(format!(
                    "origin {name}: leaf {index} where leaf {next} was expected (lines reordered, duplicated or dropped)"
                )));
            }
            if index >= to {
                return Err(self.bad(format!("origin {name}: more leaves than the {} announced", to - from)));
            }
            next += 1;
            let entry = SignedStatement { id: Hash::of(&[&statement]), bytes: statement, signature };
            let leaf = Line { line: self.reader.line_no(), index, entry };
            let Some(job) = self.accept(leaf, origin_no, &origin, held, &mut writer, &mut diverged, &mut added)? else {
                continue;
            };
            let bytes = job.statement.len();
            if self.pipe.push(job, bytes)? {
                // Take what the workers have checked while the next lines are read and staged.
                while let Some(v) = self.pipe.ready()? {
                    self.verdict(v)?;
                }
            }
        };
        if next != to {
            return Err(
                self.bad(format!("origin {name}: the bundle announced leaves up to {to} but carries up to {next}"))
            );
        }
        let Record::Checkpoint { note } = rec else {
            return Err(self.bad(format!("origin {name}: expected its checkpoint, found a {} line", record_name(&rec))));
        };
        let (cp, _) =
            Checkpoint::verify(&note, name, key).map_err(|e| self.bad(format!("origin {name}: checkpoint: {e}")))?;
        if cp.size != to {
            return Err(
                self.bad(format!("origin {name}: the checkpoint is of size {} but the leaves end at {to}", cp.size))
            );
        }
        if writer.root() != cp.root {
            return Err(self.bad(format!(
                "origin {name}: the leaves do not hash to its signed checkpoint (size {to}, root {})",
                cp.root.short(16)
            )));
        }
        self.tx.done_with(writer);
        self.compare_with_held(&origin, held, &cp, &note, diverged)?;
        if !origin.own && to > held {
            self.tx.add_checkpoint(&origin, to, &note)?;
        }
        self.report.origins.push(OriginImported {
            name: name.to_string(),
            new: !known,
            own: origin.own,
            added,
            size: held + added,
            bundle_size: to,
        });
        self.next()
    }

    /// Checks one leaf line, stages it if it is new, and returns the check of its signature still to do.
    #[allow(clippy::too_many_arguments)] // one leaf, and the state of its section
    fn accept(
        &mut self,
        leaf: Line,
        origin_no: usize,
        origin: &Origin,
        held: u64,
        writer: &mut LeafWriter<'_>,
        diverged: &mut Option<(u64, Hash, Hash)>,
        added: &mut u64,
    ) -> Result<Option<SignatureJob>, Stop> {
        let Line { line, index, entry } = leaf;
        let at = |p: String| Stop::Bundle(line, format!("origin {} leaf {index}: {p}", origin.name));
        let head = if index < held {
            // A leaf this ledger holds: its signature is the stored one, or it is checked here.
            if diverged.is_none() && !self.same_signature(&entry)? {
                check_statement_with(&entry.bytes, &entry.signature, &mut self.keys, &self.domain)
                    .map_err(|e| at(e.to_string()))?;
                self.report.verified += 1;
            }
            None
        } else {
            // A new leaf: read here, its signature checked on the pipeline (see `Run::settle`).
            Some(parse_head_with(&entry.bytes, &mut self.keys).map_err(|e| at(e.to_string()))?)
        };
        if diverged.is_some() && head.is_none() {
            // Past a divergence the statements still have to be well formed to count as evidence.
            check_statement_with(&entry.bytes, &entry.signature, &mut self.keys, &self.domain)
                .map_err(|e| at(e.to_string()))?;
        }
        if let Some(h) = &head
            && diverged.is_none()
        {
            // Time is bounded, not trusted: never before the log's previous entry, never past this
            // machine's clock plus the policy's skew.
            let ms = crate::ledger::pos::ts_ms(&h.ts);
            if ms < writer.last_ms() {
                return Err(at(format!(
                    "stamped {}, earlier than the entry before it in its log ({}): backdated entries are refused",
                    h.ts,
                    crate::ledger::pos::format_ms(writer.last_ms())
                )));
            }
            if ms > self.max_ms {
                return Err(at(format!(
                    "stamped {}, later than this machine's clock plus the allowed skew ({}): forward-dated \
                     entries are refused",
                    h.ts,
                    crate::ledger::pos::format_ms(self.max_ms)
                )));
            }
        }
        match writer.push(&entry, head.as_ref())? {
            Pushed::Added => *added += 1,
            Pushed::Copied => {
                *added += 1;
                self.report.copies += 1;
            }
            Pushed::Held | Pushed::Shadow => {}
            Pushed::Differs(ours, theirs) => {
                *diverged = Some((index, ours, theirs));
                writer.shadow();
                writer.push(&entry, head.as_ref())?;
            }
        }
        if origin.own && writer.next_index() == held {
            writer.shadow();
        }
        Ok(head.map(|CheckedHead { kind, actor, .. }| SignatureJob {
            line,
            origin: origin_no,
            index,
            kind,
            actor,
            signature: entry.signature,
            statement: entry.bytes,
        }))
    }

    /// Counts a checked signature, or refuses the import at its line.
    fn verdict(&mut self, v: Verdict) -> Result<(), Stop> {
        match v.result {
            Ok(()) => {
                self.report.verified += 1;
                Ok(())
            }
            Err(p) => {
                Err(Stop::Bundle(v.line, format!("origin {} leaf {}: {p}", self.origin_names[v.origin], v.index)))
            }
        }
    }

    /// Waits for every signature still being checked: `Ok` once all of them hold. Nothing is cosigned or
    /// committed before this.
    pub(super) fn settle(&mut self) -> Result<(), Stop> {
        while let Some(v) = self.pipe.wait()? {
            self.verdict(v)?;
        }
        Ok(())
    }

    /// What to report once the import stopped with `stop`: the first staged leaf whose signature fails
    /// among those still being checked, when it comes before `stop` (those leaves were all read before the
    /// problem was found, so a forged signature is what the import names, not what it made the rest of the
    /// bundle look like); else `stop`.
    pub(super) fn first_problem(&mut self, stop: Stop) -> Stop {
        match (self.settle(), &stop) {
            (Err(Stop::Bundle(line, _)), Stop::Bundle(at, _)) if *at <= line => stop,
            (Err(bad @ Stop::Bundle(..)), _) => bad,
            _ => stop,
        }
    }

    fn same_signature(&self, e: &SignedStatement) -> Result<bool, Stop> {
        Ok(self.ledger.stored_signature(&e.id)?.as_deref() == Some(&e.signature[..]))
    }
}
