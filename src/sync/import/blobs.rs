//! Blob records of a bundle: each evidence blob is admitted only when an entry names its digest and it fits
//! the evidence limit of the policy in force once the bundle's logs are staged; its data lines are
//! streamed into the store and hashed as they come, never held whole. A blob a signed entry purged here is
//! read and checked but not stored again.

use super::{Run, Stop};
use crate::ledger::Hash;
use crate::sync::bundle::Record;

impl Run<'_, '_> {
    /// One blob and its data lines. Returns the record after it. The blob is refused on its own line when
    /// it is larger than the policy allows or no carried entry names it; its data is streamed to the store
    /// and hashed as it comes, never held whole.
    pub(super) fn blob(&mut self, digest: &Hash, size: u64) -> Result<Record, Stop> {
        let max_blob = match self.max_blob {
            Some(m) => m,
            None => {
                let roster = crate::identity::Roster::from_staged(self.ledger)?;
                let policies = crate::policy::evaluate::Policies::from_roster(&roster);
                let m = crate::evidence::store::cap(policies.current().1.evidence.max_file_mib);
                *self.max_blob.insert(m)
            }
        };
        if size > max_blob {
            return Err(self.bad(format!(
                "blob {} declares {size} bytes: larger than the {max_blob} allowed for evidence ([evidence] \
                 max_file_mib in the policy, and at most 1,000,000,000 bytes per file)",
                digest.short(16),
            )));
        }
        let store = match self.blob_wanted(digest)? {
            None => return Err(self.bad(format!("blob {} is named by no entry", digest.short(16)))),
            Some(store) => store, // false: purged here by a signed entry, not stored again
        };
        let other = |e: crate::evidence::store::BlobError| Stop::Other(e.into());
        let held = if store { crate::evidence::store::check(self.tx.conn(), digest).map_err(other)? } else { None };
        // Bytes held that no longer hash to the digest (damaged, or the row of zeros an attach interrupted by
        // an older version left) are replaced by these, which are checked as they come.
        if held == Some(false) {
            crate::evidence::store::remove(self.tx.conn(), digest).map_err(other)?;
        }
        let existed = held == Some(true);
        let mut sink = crate::evidence::store::BlobSink::start(self.tx.conn(), digest, size, store)
            .map_err(|e| Stop::Other(e.into()))?;
        let rec = loop {
            let rec = self.next()?;
            let Record::Data { bytes: chunk } = rec else { break rec };
            if let Err(problem) = sink.write(&chunk) {
                return Err(self.bad(format!("blob {} has {problem}", digest.short(16))));
            }
        };
        if sink.written() != size {
            return Err(self.bad(format!("blob {} has {} of its {size} bytes", digest.short(16), sink.written())));
        }
        if sink.finish() != *digest {
            return Err(self.bad(format!("blob {} does not match its digest", digest.short(16))));
        }
        if store && !existed {
            self.report.blobs += 1;
        }
        Ok(rec)
    }

    /// Whether an entry names `digest` (None: none does), and whether any naming entry is not purged
    /// ([`crate::evidence::store::wanted`]). Each look-up is indexed (`ensure_blob_indexes`): a bundle may
    /// carry thousands of blobs.
    fn blob_wanted(&self, digest: &Hash) -> Result<Option<bool>, Stop> {
        Ok(crate::evidence::store::wanted(self.ledger, digest)?)
    }
}

/// The partial index that finds the entries of `kind` naming a blob (see `BLOB_FIELDS`).
fn blob_index(kind: &str) -> String {
    format!("blob_named_by_{}", kind.replace(['.', '-'], "_"))
}

/// Creates the blob look-up indexes before an import stages its rows, so that each row is indexed as it
/// is written (beside the signature checks) instead of every entry being read again to build them once
/// the first blob line arrives, after the last leaf (a full scan of the entries per index: about 3 s on a
/// million-entry join, on one core, after the checks were done).
pub(super) fn ensure_blob_indexes(ledger: &crate::ledger::Ledger) -> Result<(), crate::ledger::LedgerError> {
    for (kind, field) in crate::audit::kinds::BLOB_FIELDS {
        ledger.index_body_field(&blob_index(kind), kind, field)?;
    }
    Ok(())
}
