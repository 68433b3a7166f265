//! Export: the own log and every mirror up to each one's latest signed checkpoint (or only what a peer
//! lacks, given the checkpoints it holds), the evidence blobs those entries name, the cosignatures held,
//! and the digest trailer.

use super::SyncError;
use super::bundle::{DATA_CHUNK, Record, VERSION, Writer};
use crate::ledger::note::Checkpoint;
use crate::ledger::{Hash, Ledger, LedgerError, Origin};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// What to leave out.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// Checkpoints the receiver holds (origin name -> signed note): only leaves after them are written.
    pub since: BTreeMap<String, String>,
    /// Leave out evidence blobs.
    pub no_blobs: bool,
}

/// One origin's part of a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedOrigin {
    pub name: String,
    pub from: u64,
    pub to: u64,
    pub own: bool,
}

/// What an export wrote.
#[derive(Clone, Debug, Default)]
pub struct ExportReport {
    pub origins: Vec<ExportedOrigin>,
    pub entries: u64,
    /// Statement and signature bytes carried.
    pub payload_bytes: u64,
    pub blobs: u64,
    pub cosignatures: u64,
    /// Uncompressed size of the bundle.
    pub bytes: u64,
    pub digest: Hash,
    /// Own entries left out because no checkpoint covers them yet.
    pub unchecked_tail: u64,
}

fn io(e: std::io::Error) -> SyncError {
    SyncError::Io("the bundle".into(), e)
}

/// Checks every `--since` checkpoint of `opts` against `ledger` without writing anything: what
/// [`export`] would refuse is refused here first. The own log is taken whole, as the export will
/// checkpoint its tail before it writes.
pub(crate) fn check_since(ledger: &Ledger, opts: &ExportOptions) -> Result<(), SyncError> {
    for origin in ledger.origins()? {
        let to = if origin.own { Some(ledger.size(&origin)?) } else { ledger.latest_checkpoint(&origin)?.map(|c| c.0) };
        if let Some(to) = to {
            start_for(ledger, &origin, to, opts.since.get(&origin.name))?;
        }
    }
    Ok(())
}

/// Where the export of `origin` (checkpointed up to `to`) starts for a peer holding the checkpoint `since`
/// of it; `None` when there is nothing to send (the peer holds more of this mirror than this ledger).
fn start_for(ledger: &Ledger, origin: &Origin, to: u64, since: Option<&String>) -> Result<Option<u64>, SyncError> {
    let Some(theirs) = since else { return Ok(Some(0)) };
    let (cp, _) = Checkpoint::verify(theirs, &origin.name, &origin.key)
        .map_err(|source| SyncError::Since { origin: origin.name.clone(), source })?;
    if cp.size > to && !origin.own {
        return Ok(None);
    }
    if cp.size > to {
        return Err(SyncError::Diverged(format!(
            "the --since checkpoint of origin {} (this ledger's own log) has size {} but this ledger holds only \
             {to} entries of it: was this file restored from an old copy, or is another machine signing as this \
             origin?",
            origin.name, cp.size
        )));
    }
    if ledger.root_at(origin, cp.size)? != cp.root {
        return Err(SyncError::Diverged(format!(
            "the --since checkpoint of origin {} (size {}, root {}) is not a prefix of this ledger's copy (size \
             {to}): the peer holds another history",
            origin.name,
            cp.size,
            cp.root.short(16)
        )));
    }
    Ok(Some(cp.size))
}

/// Writes a bundle of `ledger` to `out`.
pub fn export(ledger: &Ledger, out: impl Write, opts: &ExportOptions) -> Result<ExportReport, SyncError> {
    let mut w = Writer::new(out);
    let mut report = ExportReport::default();
    let own = ledger.own_origin().clone();
    w.write(&Record::Header { version: VERSION, ledger: ledger.ledger_id(), exporter: own.name.clone() })
        .map_err(io)?;
    let mut named: BTreeSet<Hash> = BTreeSet::new();
    let mut keys = crate::ledger::statement::KeyCache::default();
    for origin in ledger.origins()? {
        let Some((to, note)) = ledger.latest_checkpoint(&origin)? else { continue };
        if origin.own {
            report.unchecked_tail = ledger.size(&origin)?.saturating_sub(to);
        }
        let Some(from) = start_for(ledger, &origin, to, opts.since.get(&origin.name))? else { continue };
        w.write(&Record::Origin { name: origin.name.clone(), key: origin.key, from, to }).map_err(io)?;
        // A write to the bundle that fails is the bundle's (`SyncError::Io`), not the ledger's: kept aside
        // through the walk, whose callback can only fail with a ledger error.
        let mut write_failed: Option<std::io::Error> = None;
        let walked = ledger.for_each_leaf(&origin, from, to, &mut |index, statement, sig| {
            if statement.contains(&b'\n') {
                return Err(LedgerError::Damaged(format!(
                    "origin {} entry {index} contains a raw newline and cannot be exported",
                    origin.name
                )));
            }
            let signature: [u8; 64] =
                sig.try_into().map_err(|_| LedgerError::Damaged(format!("entry {index} has a malformed signature")))?;
            if !opts.no_blobs && memchr_sha(statement) {
                let head = crate::ledger::statement::parse_head_with(statement, &mut keys)?;
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(statement)
                    && let Some(d) = crate::audit::kinds::blob_named(&head.kind, v.get("body").unwrap_or(&v))
                {
                    named.insert(d);
                }
            }
            report.entries += 1;
            report.payload_bytes += (statement.len() + 64) as u64;
            w.write(&Record::Leaf { index, signature, statement: statement.to_vec() }).map_err(|e| {
                let stop = LedgerError::Io("the bundle".into(), std::io::Error::new(e.kind(), e.to_string()));
                write_failed = Some(e);
                stop
            })
        });
        if let Some(e) = write_failed {
            return Err(io(e));
        }
        walked?;
        w.write(&Record::Checkpoint { note }).map_err(io)?;
        report.origins.push(ExportedOrigin { name: origin.name.clone(), from, to, own: origin.own });
    }
    for digest in named {
        // Checked first (one streaming pass), then copied in chunks: never held whole.
        let blob_err =
            |source: crate::evidence::store::BlobError| SyncError::EvidenceRead { digest: digest.short(16), source };
        match crate::evidence::store::check(ledger.cache_conn(), &digest).map_err(blob_err)? {
            None => continue, // purged, or never held here
            Some(false) => {
                return Err(SyncError::Ledger(LedgerError::Damaged(format!(
                    "the stored evidence {} does not match its digest; run `rollcall verify`",
                    digest.short(16)
                ))));
            }
            Some(true) => {}
        }
        let Some((mut blob, size)) = crate::evidence::store::open(ledger.cache_conn(), &digest).map_err(blob_err)?
        else {
            continue;
        };
        w.write(&Record::Blob { sha256: digest, size }).map_err(io)?;
        let mut buf = vec![0u8; DATA_CHUNK];
        let mut copied = 0u64;
        while copied < size {
            let n = std::io::Read::read(&mut blob, &mut buf).map_err(|e| LedgerError::Io("the evidence".into(), e))?;
            if n == 0 {
                break;
            }
            w.write(&Record::Data { bytes: buf[..n].to_vec() }).map_err(io)?;
            copied += n as u64;
        }
        report.blobs += 1;
    }
    // The latest cosignature of each origin by each witness is what catches a truncated log.
    let mut latest: BTreeMap<(String, String), crate::ledger::cosign::Cosignature> = BTreeMap::new();
    for c in ledger.cosignatures(None)? {
        let k = (c.origin.clone(), c.witness.clone());
        if latest.get(&k).is_none_or(|l| l.size < c.size) {
            latest.insert(k, c);
        }
    }
    for c in latest.into_values() {
        w.write(&Record::Cosignature(c)).map_err(io)?;
        report.cosignatures += 1;
    }
    let (_, bytes, digest) = w.finish().map_err(io)?;
    report.bytes = bytes;
    report.digest = digest;
    Ok(report)
}

/// Whether a statement may name a blob (cheap pre-filter before parsing it).
fn memchr_sha(statement: &[u8]) -> bool {
    statement.windows(9).any(|w| w == b"\"sha256\":")
}
