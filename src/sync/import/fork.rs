//! Fork, equivocation and cut-back judgement: whether what a bundle signs about an origin (its checkpoint,
//! a witness's cosignature) agrees with everything this ledger verified of that origin. A contradiction
//! stops the import as a SECURITY refusal carrying both signed statements, which [`super::import`] keeps
//! as the `equivocations` evidence row after the import's transaction has been rolled back.

use super::{Run, Stop};
use crate::ledger::cosign::Cosignature;
use crate::ledger::mirror::Equivocation;
use crate::ledger::note::Checkpoint;
use crate::ledger::{Hash, Origin};

/// The evidence row of a SECURITY refusal: both signed statements (`ours`: this ledger's checkpoint note,
/// `theirs`: the bundle's checkpoint note or cosignature line), what was found, and when.
fn equivocation(origin: &str, kind: &str, ours: String, theirs: String, detail: String) -> Box<Equivocation> {
    Box::new(Equivocation {
        origin: origin.to_string(),
        detected: crate::ledger::statement::now_ts(),
        kind: kind.into(),
        ours,
        theirs,
        detail,
    })
}

impl Run<'_, '_> {
    /// Whether the bundle's checkpoint of `origin` agrees with everything this ledger verified of it.
    pub(super) fn compare_with_held(
        &mut self,
        origin: &Origin,
        held: u64,
        cp: &Checkpoint,
        note: &str,
        diverged: Option<(u64, Hash, Hash)>,
    ) -> Result<(), Stop> {
        let name = &origin.name;
        let ours = |this: &Self, size: u64| -> Result<(u64, String), Stop> {
            Ok(this.ledger.checkpoint_covering(origin, size)?.unwrap_or((held, String::new())))
        };
        let evidence =
            |kind: &str, ours: String, detail: String| equivocation(name, kind, ours, note.to_string(), detail);
        if let Some((index, a, b)) = diverged {
            let (size, our_note) = ours(self, index + 1)?;
            let detail = format!(
                "leaf {index}: this ledger holds leaf hash {} (checkpoint of size {size}), {}'s bundle has {} \
                 (checkpoint of size {}, root {})",
                a.short(16),
                self.exporter,
                b.short(16),
                cp.size,
                cp.root.short(16)
            );
            return Err(Stop::Security(
                format!(
                    "origin {name} forked at leaf {index}: {detail}; nothing was imported, both signed checkpoints are kept"
                ),
                evidence("fork", our_note, detail),
            ));
        }
        if cp.size < held {
            let our_root = self.ledger.root_at(origin, cp.size)?;
            if our_root != cp.root {
                let (size, our_note) = ours(self, cp.size)?;
                let detail = format!(
                    "at size {} this ledger's tree has root {} but {}'s bundle signs root {}",
                    cp.size,
                    our_root.short(16),
                    self.exporter,
                    cp.root.short(16)
                );
                return Err(Stop::Security(
                    format!("origin {name} forked: {detail} (this ledger verified size {size}); nothing was imported"),
                    evidence("fork", our_note, detail),
                ));
            }
        }
        if origin.own && cp.size > held {
            let (size, our_note) = ours(self, 0)?;
            let detail = format!(
                "this ledger's own log has {held} entries but {} holds {} entries of it, signed by this origin's key \
                 (latest checkpoint here: size {size})",
                self.exporter, cp.size
            );
            return Err(Stop::Security(
                format!("origin {name} (this ledger) lost entries: {detail}; was the file restored from an old copy?"),
                evidence("rollback", our_note, detail),
            ));
        }
        if *name == self.exporter && !origin.own {
            let witnessed =
                self.ledger.cosignatures(Some(origin))?.into_iter().map(|c| c.size).max().unwrap_or(0).max(held);
            if cp.size < witnessed {
                let (size, our_note) = ours(self, witnessed.min(held))?;
                let detail = format!(
                    "{name} presents its own log at size {} but this ledger verified (or holds a cosignature of) size \
                     {witnessed} (checkpoint here: size {size})",
                    cp.size
                );
                return Err(Stop::Security(
                    format!(
                        "origin {name} rolled back: {detail}; an old bundle, or its ledger lost entries; nothing was imported"
                    ),
                    evidence("rollback", our_note, detail),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn cosignature(&mut self, c: Cosignature) -> Result<(), Stop> {
        let (Some(witness), Some(origin)) = (self.tx.find(&c.witness)?, self.tx.find(&c.origin)?) else {
            return Ok(()); // an unknown witness or origin: ignored, as C2SP asks
        };
        let (witness, origin) = (&witness, &origin);
        if !c.verify(&witness.key) {
            return Err(self
                .bad(format!("the cosignature of {} at size {} by {} does not verify", c.origin, c.size, c.witness)));
        }
        let held = self.ledger.size(origin)?;
        let theirs = c.line();
        let evidence = |this: &Self, kind: &str, detail: String| -> Result<Box<Equivocation>, Stop> {
            let ours = this.ledger.checkpoint_covering(origin, c.size.min(held))?.map(|x| x.1).unwrap_or_default();
            Ok(equivocation(&origin.name, kind, ours, theirs.clone(), detail))
        };
        if c.size <= held {
            let root = self.ledger.root_at(origin, c.size)?;
            if root != c.root {
                let detail = format!(
                    "witness {} cosigned size {} with root {}, this ledger's tree has root {}",
                    c.witness,
                    c.size,
                    c.root.short(16),
                    root.short(16)
                );
                return Err(Stop::Security(
                    format!("origin {} forked: {detail}; nothing was imported", c.origin),
                    evidence(self, "fork", detail.clone())?,
                ));
            }
        } else if origin.own || c.origin == self.exporter {
            let detail = format!(
                "witness {} cosigned {} at size {}, but {} {held} of its entries",
                c.witness,
                c.origin,
                c.size,
                if origin.own { "this ledger's own log has" } else { "its own bundle carries" }
            );
            return Err(Stop::Security(
                format!("origin {} lost entries a witness had seen: {detail}; nothing was imported", c.origin),
                evidence(self, "rollback", detail.clone())?,
            ));
        } else {
            // A machine that holds a cosignature of an origin holds that origin's log at least as far
            // (it imported it with the cosignature), so an honest bundle carries it: keeping the claim
            // would make this ledger look cut back.
            return Err(self.bad(format!(
                "witness {} cosigned {} at size {}, but after this bundle this ledger holds only {held} of its \
                 entries: the bundle does not carry what its cosignature covers",
                c.witness, c.origin, c.size
            )));
        }
        if self.tx.add_cosignature(origin, &c)? {
            self.report.cosignatures += 1;
        }
        Ok(())
    }
}
