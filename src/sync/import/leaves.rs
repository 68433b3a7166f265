//! One origin's section of a bundle: its leaves, in order, checked on the ledger's ordered parallel
//! pipeline ([`crate::ledger::pipeline`]: statement, id and `verify_strict` signature on every core), then
//! taken back in log order to bound their time, compare them with the leaves this ledger holds, and stage
//! the new ones; finally the section's signed checkpoint against the root of what was staged.

use super::{OriginImported, Run, Stop, record_name};
use crate::ledger::dsse::Domain;
use crate::ledger::note::Checkpoint;
use crate::ledger::pipeline::check_entry;
use crate::ledger::statement::{CheckedHead, KeyCache, SignedStatement, StatementError, check_statement_with};
use crate::ledger::writer::{LeafWriter, Pushed};
use crate::ledger::{Hash, Origin};
use crate::sync::bundle::Record;

/// A leaf line on its way to a verifying thread.
pub(super) struct Job {
    line: u64,
    index: u64,
    /// The ledger already holds this index: only the id is needed (the signature is compared).
    held: bool,
    signature: [u8; 64],
    statement: Vec<u8>,
}

/// A leaf line back from a verifying thread.
pub(super) struct Checked {
    line: u64,
    index: u64,
    entry: SignedStatement,
    /// The checked head of a leaf this ledger does not hold yet.
    head: Option<Result<CheckedHead, StatementError>>,
}

/// What a verifying thread does with one leaf line.
pub(super) fn check(job: Job, keys: &mut KeyCache, domain: &Domain) -> Checked {
    let (id, head) = if job.held {
        (Hash::of(&[&job.statement]), None)
    } else {
        let (id, head) = check_entry(&job.statement, &job.signature, keys, domain, true);
        (id, Some(head))
    };
    Checked {
        line: job.line,
        index: job.index,
        entry: SignedStatement { bytes: job.statement, id, signature: job.signature },
        head,
    }
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
        let known = self.ledger.origins()?.iter().any(|o| o.name == name);
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
            let bytes = statement.len();
            let job = Job { line: self.reader.line_no(), index, held: index < held, signature, statement };
            next += 1;
            if self.pipe.push(job, bytes)? {
                // Take what the workers have done, in log order, while the next lines are read.
                while let Some(c) = self.pipe.ready()? {
                    self.accept(c, &origin, held, &mut writer, &mut diverged, &mut added)?;
                }
            }
        };
        while let Some(c) = self.pipe.wait()? {
            self.accept(c, &origin, held, &mut writer, &mut diverged, &mut added)?;
        }
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
        drop(writer);
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

    fn accept(
        &mut self,
        c: Checked,
        origin: &Origin,
        held: u64,
        writer: &mut LeafWriter<'_>,
        diverged: &mut Option<(u64, Hash, Hash)>,
        added: &mut u64,
    ) -> Result<(), Stop> {
        let at = |p: String| Stop::Bundle(c.line, format!("origin {} leaf {}: {p}", origin.name, c.index));
        let head = match c.head {
            Some(Ok(h)) => {
                self.report.verified += 1;
                Some(h)
            }
            Some(Err(p)) => return Err(at(p.to_string())),
            None => {
                // A leaf this ledger holds: its signature is the stored one, or it is checked here.
                if diverged.is_none() && !self.same_signature(&c.entry)? {
                    let mut keys = KeyCache::default();
                    check_statement_with(&c.entry.bytes, &c.entry.signature, &mut keys, &self.domain)
                        .map_err(|e| at(e.to_string()))?;
                    self.report.verified += 1;
                }
                None
            }
        };
        if diverged.is_some() && head.is_none() {
            // Past a divergence the statements still have to be well formed to count as evidence.
            let mut keys = KeyCache::default();
            check_statement_with(&c.entry.bytes, &c.entry.signature, &mut keys, &self.domain)
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
        match writer.push(&c.entry, head.as_ref())? {
            Pushed::Added => *added += 1,
            Pushed::Held | Pushed::Shadow => {}
            Pushed::Differs(ours, theirs) => {
                *diverged = Some((c.index, ours, theirs));
                writer.shadow();
                writer.push(&c.entry, head.as_ref())?;
            }
        }
        if origin.own && writer.next_index() == held {
            writer.shadow();
        }
        Ok(())
    }

    fn same_signature(&self, e: &SignedStatement) -> Result<bool, Stop> {
        Ok(self.ledger.stored_signature(&e.id)?.as_deref() == Some(&e.signature[..]))
    }
}
