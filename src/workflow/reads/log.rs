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

/// The log a listing walks.
#[derive(Clone, Debug)]
pub(crate) struct LogHead {
    pub origin: String,
    pub size: u64,
}

/// Entries read from the ledger at a time.
const PAGE: u64 = 1_000;

/// Calls `visit` with up to `limit` entries of `origin` (default: this machine's own log) from index
/// `from`, a page at a time, `passes` times over the same entries (a table's widths are measured in the
/// first): a log of any length in bounded memory.
pub(crate) fn log_each(
    ctx: &Context,
    origin: Option<&str>,
    from: u64,
    limit: u64,
    passes: usize,
    mut visit: impl FnMut(usize, LogLine) -> Result<(), WorkflowError>,
) -> Result<LogHead, WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let origin = match origin {
        Some(name) => ledger.origin_by_name(name)?,
        None => ledger.own_origin().clone(),
    };
    let roster = Roster::from_ledger(&ledger)?;
    let size = ledger.size(&origin)?;
    // The first `size` entries never change: every pass walks exactly these.
    let end = from.saturating_add(limit).min(size);
    for pass in 0..passes {
        let mut at = from;
        while at < end {
            let page = ledger.log_page(&origin, at, PAGE.min(end - at))?;
            if page.is_empty() {
                break;
            }
            for r in page {
                at = r.index + 1;
                let (actor_key_id, actor_name) = signer(&roster, &r.actor);
                // A statement no reader can parse shows as such (see `state::fact_of`), not as the kind it claims.
                let kind = if r.entry.statement().is_ok() { r.kind } else { super::state::UNREADABLE.to_string() };
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
    Ok(LogHead { origin: origin.name, size })
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
            let (actor_key_id, actor_name) = signer(&roster, &row.actor);
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
