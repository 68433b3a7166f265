//! Writes: the one door by which a signed statement reaches the ledger. Every operation here opens a
//! `Session` (signer unlocked, enrollment checked), builds its body from what `reads` says about the
//! ledger now, and appends through [`append`]: `Session::append` checks the candidate again against the
//! log exactly as it will be extended, then the request index is brought up to date.

pub mod act;
pub mod audited;
pub mod bulk;
pub mod decisions;
pub mod gitsync;
pub mod identity;
pub mod ingest;
pub mod init;
pub mod keys;
pub mod lifecycle;
pub mod note;
pub mod purge;
pub mod requests;
pub mod salvage;
pub mod sync;

use crate::ledger::{Ledger, Statement};
use crate::workflow::context::{Receipt, Session};
use crate::workflow::error::WorkflowError;

/// Appends `statement` through [`Session::append`] (checked by `validate` against the log as it will be
/// extended), then brings the request index up to date at once (the entry's text, the rows it changes): a
/// reader that may not write the file, such as an auditor's read-only console, would otherwise build a
/// whole index of its own for one entry. The entry is in either way; a failed refresh is left to the next
/// reader that may write.
pub(crate) fn append(
    session: &mut Session,
    statement: Statement,
    validate: &dyn Fn(&Ledger, &crate::identity::Roster, &Statement) -> Result<(), WorkflowError>,
) -> Result<Receipt, WorkflowError> {
    append_naming(session, statement, validate, &[])
}

/// [`append`] of a statement naming the stored bytes `held` (see [`Session::append`]).
pub(crate) fn append_naming(
    session: &mut Session,
    statement: Statement,
    validate: &dyn Fn(&Ledger, &crate::identity::Roster, &Statement) -> Result<(), WorkflowError>,
    held: &[crate::ledger::Hash],
) -> Result<Receipt, WorkflowError> {
    let receipt = session.append(statement, validate, held)?;
    let _ = crate::workflow::reads::index::refresh_if_free(&session.ledger, crate::workflow::clock::now());
    Ok(receipt)
}

/// Removes the bytes a command stored under `digest` for an entry that was then refused (`None`: it
/// stored none, they were held already). A refusal leaves the ledger as it was: before, the bytes stayed,
/// named by no entry, in the file and every copy of it. A removal that fails (the disk, a lock) leaves
/// them so: they are never exported, since a bundle carries only the bytes its entries name.
pub(crate) fn forget_blob(ledger: &Ledger, digest: Option<&crate::ledger::Hash>) {
    if let Some(d) = digest {
        // A failure keeps them (what cannot be asked is not removed).
        let _ = remove_unwanted(ledger, d);
    }
}

/// Removes the bytes of `d` unless an entry wants them (a request or amendment naming them as its change
/// set, an evidence entry not purged: `evidence::store::wanted`), in one write transaction, so that no
/// entry naming them can be written between the look-up and the removal (an append checks its bytes inside
/// its own). Bytes only purged entries name go: they were purged, and would otherwise travel in bundles
/// again. Returns whether they were removed.
pub(crate) fn remove_unwanted(ledger: &Ledger, d: &crate::ledger::Hash) -> Result<bool, WorkflowError> {
    let conn = ledger.cache_conn();
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let done = (|| -> Result<bool, WorkflowError> {
        if !matches!(crate::evidence::store::wanted(ledger, d)?, None | Some(false)) {
            return Ok(false);
        }
        let removed = crate::evidence::store::remove(conn, d)?;
        crate::evidence::store::drop_if_empty(conn)?;
        Ok(removed)
    })();
    match done.and_then(|removed| Ok(conn.execute_batch("COMMIT").map(|()| removed)?)) {
        Ok(removed) => Ok(removed),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes stored for an entry then refused go again unless an entry wants them: here bytes no entry
    /// names are removed, and the bytes of the demo's first evidence entry (which another process could
    /// have attached meanwhile) are kept.
    #[test]
    fn bytes_are_forgotten_only_when_no_entry_wants_them() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap().context();
        let ledger = Ledger::open(&ctx.ledger_path).unwrap();
        let conn = ledger.cache_conn();
        let stray = crate::ledger::Hash::of(&[b"bytes of an entry that was refused"]);
        assert!(crate::evidence::store::put(conn, &stray, b"bytes of an entry that was refused").unwrap());
        forget_blob(&ledger, Some(&stray));
        assert_eq!(crate::evidence::store::check(conn, &stray).unwrap(), None);
        let named: String = conn
            .query_row(
                "SELECT json_extract(statement, '$.body.sha256') FROM entries WHERE kind = 'evidence.attached' \
                 AND json_extract(statement, '$.body.sha256') IS NOT NULL LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let named = crate::ledger::Hash::from_hex(&named).unwrap();
        assert_eq!(crate::evidence::store::check(conn, &named).unwrap(), Some(true));
        forget_blob(&ledger, Some(&named));
        assert_eq!(crate::evidence::store::check(conn, &named).unwrap(), Some(true), "an entry wants them");
    }

    /// Process A stores bytes, this process finds them stored (so stores none), A's entry is refused and A
    /// removes them, then this process writes its entry naming them: the append is refused inside the
    /// write transaction, nothing written. Before, the entry named bytes the file no longer held (damage
    /// `verify` reports, and no bundle could carry it).
    #[test]
    fn an_entry_whose_bytes_another_process_removed_meanwhile_is_not_written() {
        use crate::evidence::store;
        let dir = tempfile::tempdir().unwrap();
        let ctx = crate::demo::build(&dir.path().join("d"), 0, &mut |_| {}).unwrap().context();
        let mut session = ctx.session(Some("alice")).unwrap();
        let bytes: &[u8] = b"a file two processes attach at once";
        let digest = crate::ledger::Hash::of(&[bytes]);
        assert!(store::put(session.ledger.cache_conn(), &digest, bytes).unwrap(), "A stores them");
        assert!(!store::put(session.ledger.cache_conn(), &digest, bytes).unwrap(), "this process finds them held");
        let body = serde_json::to_value(crate::audit::note::NoteBody::new(&digest.to_hex(), None).unwrap()).unwrap();
        let statement = || {
            Statement::new_at(
                crate::audit::note::KIND,
                &session.signer.public(),
                body.clone(),
                &[],
                crate::workflow::clock::now(),
            )
        };
        let (first, second) = (statement(), statement());
        forget_blob(&session.ledger, Some(&digest));
        assert!(!store::holds(session.ledger.cache_conn(), &digest).unwrap(), "A removed them");
        let own = session.ledger.own_origin().clone();
        let size = session.ledger.size(&own).unwrap();
        let refused = append_naming(&mut session, first, &|_, _, _| Ok(()), &[digest]).unwrap_err().to_string();
        assert!(refused.contains("removed by another rollcall process"), "{refused}");
        assert_eq!(session.ledger.size(&own).unwrap(), size, "nothing was written");
        // Held again, the same append goes through.
        assert!(store::put(session.ledger.cache_conn(), &digest, bytes).unwrap());
        append_naming(&mut session, second, &|_, _, _| Ok(()), &[digest]).unwrap();
        assert_eq!(session.ledger.size(&own).unwrap(), size + 1);
    }
}
