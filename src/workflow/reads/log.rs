//! `log`: the raw entries of a log in log order, with signer names from the roster.

use crate::identity::Roster;
use crate::ledger::{EntryId, PublicKey};
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;

/// One line of `rollcall log`. Text fields are untrusted; the caller sanitizes before display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LogLine {
    pub index: u64,
    pub entry_id: EntryId,
    pub kind: String,
    pub actor: String,
    pub actor_key_id: Option<String>,
    pub actor_name: Option<String>,
    pub ts: String,
}

/// The key id and (when the roster knows it) the enrolled name of the key `actor` names.
fn signer(roster: &Roster, actor: &str) -> (Option<String>, Option<String>) {
    let key = PublicKey::parse(actor);
    (key.map(|k| k.key_id()), key.and_then(|k| roster.name_of(&k).map(str::to_string)))
}

/// [`signer`] for each actor once: a log has few signers, and a key id is a hash.
#[derive(Default)]
struct Signers(std::collections::HashMap<String, (Option<String>, Option<String>)>);

impl Signers {
    fn of(&mut self, roster: &Roster, actor: &str) -> (Option<String>, Option<String>) {
        if let Some(s) = self.0.get(actor) {
            return s.clone();
        }
        let s = signer(roster, actor);
        // Bounded: a file of many distinct actors (written behind the ledger's back) is not held whole.
        if self.0.len() < 4096 {
            self.0.insert(actor.to_string(), s.clone());
        }
        s
    }
}

/// The log a listing walks.
#[derive(Clone, Debug)]
pub(crate) struct LogHead {
    pub origin: String,
    pub size: u64,
}

/// Entries read from the ledger at a time.
const PAGE: u64 = 1_000;

/// Kinds a listing's [`LogShape`] lists at most (a file with more was written behind the ledger's back).
const SHAPE_KINDS: usize = 1_024;

/// What a listing's cells can hold, known before any of its rows is read: for a table printed as its rows
/// are read, its columns sized in advance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LogShape {
    /// How many entries the listing shows.
    pub rows: u64,
    /// The index of its last entry.
    pub last_index: Option<u64>,
    /// Every kind stored in the file (of any log), and [`super::state::UNREADABLE`]; `None` when there
    /// are more than a listing sizes its columns by.
    pub kinds: Option<Vec<String>>,
    /// The roster's signers: (name, key id).
    pub signers: Vec<(String, String)>,
}

/// Up to `limit` entries of one log from index `from`, with signer names from the roster.
pub(crate) struct LogListing {
    ledger: crate::ledger::Ledger,
    origin: crate::ledger::Origin,
    roster: Roster,
    from: u64,
    /// One past the last index shown: the log's first entries never change, so every pass walks exactly
    /// these.
    end: u64,
    size: u64,
}

impl LogListing {
    /// The listing of `origin`'s log (default: this machine's own).
    pub(crate) fn open(
        ctx: &Context,
        origin: Option<&str>,
        from: u64,
        limit: u64,
    ) -> Result<LogListing, WorkflowError> {
        let ledger = ctx.open_read_only()?;
        let origin = match origin {
            Some(name) => ledger.origin_by_name(name)?,
            None => ledger.own_origin().clone(),
        };
        let roster = Roster::from_ledger(&ledger)?;
        let size = ledger.size(&origin)?;
        let end = from.saturating_add(limit).min(size);
        Ok(LogListing { ledger, origin, roster, from, end, size })
    }

    /// What its cells can hold (one seek per kind stored, and the roster).
    pub(crate) fn shape(&self) -> Result<LogShape, WorkflowError> {
        let rows = self.end.saturating_sub(self.from);
        let kinds = self.ledger.kinds_up_to(SHAPE_KINDS)?.map(|mut k| {
            k.push(super::state::UNREADABLE.to_string());
            k
        });
        let signers = self.roster.members().map(|m| (m.name.clone(), m.key.key_id())).collect();
        Ok(LogShape { rows, last_index: (rows > 0).then(|| self.end - 1), kinds, signers })
    }

    /// Calls `visit` with each entry, a page at a time, `passes` times over the same entries (a table's
    /// widths are measured in the first): a log of any length in bounded memory.
    pub(crate) fn each(
        &self,
        passes: usize,
        mut visit: impl FnMut(usize, LogLine) -> Result<(), WorkflowError>,
    ) -> Result<LogHead, WorkflowError> {
        let mut signers = Signers::default();
        for pass in 0..passes {
            let mut at = self.from;
            while at < self.end {
                let page = self.ledger.log_page(&self.origin, at, PAGE.min(self.end - at))?;
                if page.is_empty() {
                    break;
                }
                for r in page {
                    at = r.index + 1;
                    let (actor_key_id, actor_name) = signers.of(&self.roster, &r.actor);
                    // A statement no reader can parse shows as such (see `state::fact_of`), not as the kind
                    // it claims.
                    let kind = if r.entry.readable() { r.kind } else { super::state::UNREADABLE.to_string() };
                    visit(
                        pass,
                        LogLine {
                            index: r.index,
                            entry_id: r.entry.id,
                            kind,
                            actor_key_id,
                            actor_name,
                            actor: r.actor,
                            ts: r.ts,
                        },
                    )?;
                }
            }
        }
        Ok(LogHead { origin: self.origin.name.clone(), size: self.size })
    }
}

/// One entry of `rollcall log --follow`: what a log shipper forwards. Text fields are untrusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StreamLine {
    /// Its arrival order in this ledger file (resume with `--after SEQ`); local to this file.
    pub seq: i64,
    pub entry_id: EntryId,
    pub kind: String,
    pub actor: String,
    pub actor_key_id: Option<String>,
    pub actor_name: Option<String>,
    pub ts: String,
    /// The log holding it and its index there (the first, when several logs hold it), and its position
    /// in the union of logs; `None` for a row in no log (written behind the ledger's back).
    pub origin: Option<(String, u64, String)>,
    /// Its statement hashes to its id and its actor's signature checks (`verify_strict`).
    pub verified: bool,
    /// The requests (and other entries) it refers to.
    pub refs: Vec<EntryId>,
}

/// What `log --follow` streams.
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamFilter {
    /// Only entries after this arrival number.
    pub after: i64,
    /// Only these kinds (any when empty).
    pub kinds: Vec<String>,
    /// Only the request with this id and the entries that refer to it.
    pub request: Option<String>,
}

/// Calls `visit` with every entry of the ledger that arrived after `f.after` and passes the filter, in
/// arrival order; with `follow`, then waits for new ones (polling every `every`) until `visit` says stop
/// (returns false) or fails. Each poll reads a page at a time: bounded memory however long it runs.
pub(crate) fn stream(
    ctx: &Context,
    f: &StreamFilter,
    follow: Option<std::time::Duration>,
    mut visit: impl FnMut(StreamLine) -> Result<bool, WorkflowError>,
) -> Result<(), WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let request = match &f.request {
        Some(p) => Some(super::state::resolve_request(&ledger, p)?),
        None => None,
    };
    let domain = ledger.domain();
    let mut roster = Roster::from_ledger(&ledger)?;
    let mut signers = Signers::default();
    let mut after = f.after;
    loop {
        let page = ledger.entries_after(after, PAGE)?;
        let full = page.len() as u64 == PAGE;
        for row in page {
            after = row.seq;
            let head = crate::ledger::statement::parse_head(&row.entry.bytes).ok();
            let kind = match &head {
                Some(h) => h.kind.clone(),
                None => super::state::UNREADABLE.to_string(),
            };
            let refs = head.as_ref().map(|h| h.refs.clone()).unwrap_or_default();
            if crate::identity::kinds::GOVERNANCE_KINDS.contains(&kind.as_str()) {
                roster = Roster::from_ledger(&ledger)?;
                signers = Signers::default();
            }
            if !f.kinds.is_empty() && !f.kinds.contains(&kind) {
                continue;
            }
            if let Some(r) = &request
                && row.entry.id != *r
                && !refs.contains(r)
            {
                continue;
            }
            let (actor_key_id, actor_name) = signers.of(&roster, &row.actor);
            let line = StreamLine {
                seq: row.seq,
                entry_id: row.entry.id,
                kind,
                actor_key_id,
                actor_name,
                actor: row.actor,
                ts: row.ts,
                origin: row.leaf.map(|(name, index, pos)| (name, index, crate::ledger::pos::to_key(pos))),
                verified: row.intact && row.entry.check(&domain).is_ok(),
                refs,
            };
            if !visit(line)? {
                return Ok(());
            }
        }
        if full {
            continue;
        }
        match follow {
            Some(every) => std::thread::sleep(every),
            None => return Ok(()),
        }
    }
}
