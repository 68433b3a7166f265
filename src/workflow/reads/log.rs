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
                let key = PublicKey::parse(&r.actor);
                // A statement no reader can parse shows as such (see `state::fact_of`), not as the kind it claims.
                let kind = if r.entry.statement().is_ok() { r.kind } else { super::state::UNREADABLE.to_string() };
                visit(
                    pass,
                    LogLine {
                        index: r.index,
                        entry_id: r.entry.id,
                        kind,
                        actor_key_id: key.map(|k| k.key_id()),
                        actor_name: key.and_then(|k| roster.name_of(&k).map(str::to_string)),
                        actor: r.actor,
                        ts: r.ts,
                    },
                )?;
            }
        }
    }
    Ok(LogHead { origin: origin.name, size })
}
