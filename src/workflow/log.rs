//! `log`: the raw entries of a log in log order, with signer names from the roster.

use super::context::Context;
use super::error::WorkflowError;
use crate::identity::Roster;
use crate::ledger::{EntryId, PublicKey};

/// One line of `rollcall log`. Text fields are untrusted; the caller sanitizes before display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub index: u64,
    pub entry_id: EntryId,
    pub kind: String,
    pub actor: String,
    pub actor_key_id: Option<String>,
    pub actor_name: Option<String>,
    pub ts: String,
}

/// A page of a log.
#[derive(Clone, Debug)]
pub struct LogPage {
    pub origin: String,
    pub size: u64,
    pub lines: Vec<LogLine>,
}

/// Up to `limit` entries of `origin` (default: this machine's own log) starting at index `from`.
pub fn log(ctx: &Context, origin: Option<&str>, from: u64, limit: u64) -> Result<LogPage, WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let origin = match origin {
        Some(name) => ledger.origin_by_name(name)?,
        None => ledger.own_origin().clone(),
    };
    let roster = Roster::from_ledger(&ledger)?;
    let size = ledger.size(&origin)?;
    let lines = ledger
        .log_page(&origin, from, limit)?
        .into_iter()
        .map(|r| {
            let key = PublicKey::parse(&r.actor);
            // A statement no reader can parse shows as such (see `state::fact_of`), not as the kind it claims.
            let kind = if r.entry.statement().is_ok() { r.kind } else { super::state::UNREADABLE.to_string() };
            LogLine {
                index: r.index,
                entry_id: r.entry.id,
                kind,
                actor_key_id: key.map(|k| k.key_id()),
                actor_name: key.and_then(|k| roster.name_of(&k).map(str::to_string)),
                actor: r.actor,
                ts: r.ts,
            }
        })
        .collect();
    Ok(LogPage { origin: origin.name, size, lines })
}
