//! Import of a bundle: every line is checked in order (format, statements, `verify_strict` signatures on
//! all cores, chains, Merkle roots against each origin's signed checkpoint, blob digests, cosignatures,
//! the digest trailer, and that every origin is declared by a signed entry of an enrolled member) while
//! the new leaves are staged in one transaction, which commits only after the last check. A bundle that
//! contradicts what this ledger verified before (a fork, or an origin presenting less than it signed) is
//! refused as a SECURITY error and both signed checkpoints are kept as evidence.
//!
//! This file holds the entry point, its options and report, and the state machine over the bundle's
//! records (header, origins, blobs, cosignatures, end) with the checks that need the whole bundle
//! (declarations, merge markers, cosigning). One origin's leaves are in [`leaves`], the fork and
//! cut-back judgement in [`fork`], blob records in [`blobs`].

mod blobs;
mod fork;
mod leaves;

use super::SyncError;
use super::bundle::{Reader, Record, VERSION};
use crate::ledger::cosign::Cosignature;
use crate::ledger::dsse::Domain;
use crate::ledger::mirror::{Equivocation, Import};
use crate::ledger::pipeline::{self, Limits, Ordered, Stopped};
use crate::ledger::statement::KeyCache;
use crate::ledger::{Hash, Ledger};
use ed25519_dalek::SigningKey;
use leaves::{SignatureJob, Verdict};
use std::collections::BTreeSet;
use std::io::Read;

/// Signatures handed to a verifying thread at a time, at most.
const BATCH: usize = 512;

/// Statement bytes in one batch, at most: with [`IN_FLIGHT`], what bounds an import's memory whatever the
/// size of the statements (a batch of 512 typical statements holds about 330 KiB, so batches of them are
/// closed by this bound at about 400).
const BATCH_BYTES: usize = 256 << 10;

/// Batches of staged leaves whose signatures may still be being checked (at most ~40 MiB of statements,
/// about 50,000 typical ones): the writer runs this far ahead of the checks, so that the work at the end
/// of a large import (building the deferred index, writing the page cache, about 2 s on one core for a
/// million entries) overlaps the checks of the last signatures instead of following them.
const IN_FLIGHT: usize = 128;

/// How an import runs.
#[derive(Default)]
pub struct ImportOptions {
    /// This ledger's origin key: when given, every checkpoint verified is cosigned (`cosignature/v1`).
    pub witness_key: Option<SigningKey>,
    /// The cosignature time, in seconds since 1970.
    pub now: u64,
    /// The latest statement time accepted, in milliseconds since 1970: this machine's clock plus the
    /// policy's `max_clock_skew_seconds`.
    pub max_ms: i64,
}

impl std::fmt::Debug for ImportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions").field("witness_key", &self.witness_key.is_some()).finish()
    }
}

/// What happened to one origin of the bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginImported {
    pub name: String,
    /// The origin was not in this ledger before.
    pub new: bool,
    /// It is this ledger's own log (compared, never written).
    pub own: bool,
    pub added: u64,
    /// Size held after the import.
    pub size: u64,
    /// Size of the bundle's checkpoint of it.
    pub bundle_size: u64,
}

/// What an import did.
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    pub exporter: String,
    pub origins: Vec<OriginImported>,
    pub blobs: u64,
    pub cosignatures: u64,
    /// Checkpoints this ledger cosigned: (origin, size).
    pub cosigned: Vec<(String, u64)>,
    pub compressed: bool,
    pub digest: Hash,
    /// Entries whose signatures were checked.
    pub verified: u64,
    /// Leaves added whose entry the ledger already held in another leaf (copies: `verify` fails on them
    /// until acknowledged, FORMAT.md §8.5).
    pub copies: u64,
}

impl ImportReport {
    /// Leaves added over every origin.
    pub fn added(&self) -> u64 {
        self.origins.iter().map(|o| o.added).sum()
    }

    /// What the copies it added mean, in the one sentence `import`, `sync --git` and the notification
    /// give after "SECURITY: " (None without copies).
    pub fn copies_said(&self) -> Option<String> {
        (self.copies > 0).then(|| {
            format!(
                "{} of the leaves added hold{} an entry another leaf already held (a signed statement copied \
                 into a second log): `rollcall verify` names them; it fails until they are investigated and \
                 acknowledged",
                self.copies,
                if self.copies == 1 { "s" } else { "" }
            )
        })
    }
}

/// Why an import stopped, before it is reported.
enum Stop {
    Bundle(u64, String),
    Security(String, Box<Equivocation>),
    Other(SyncError),
}

impl From<crate::ledger::LedgerError> for Stop {
    fn from(e: crate::ledger::LedgerError) -> Self {
        Stop::Other(e.into())
    }
}

impl From<Stopped> for Stop {
    fn from(e: Stopped) -> Self {
        Stop::Other(e.into())
    }
}

/// Imports the bundle read from `source` into `ledger`.
pub fn import(
    ledger: &Ledger,
    source: impl Read + Send + 'static,
    opts: &ImportOptions,
) -> Result<ImportReport, SyncError> {
    let reader = Reader::new(source).map_err(|e| SyncError::Io("the bundle".into(), e))?;
    match run(ledger, reader, opts) {
        Ok(r) => Ok(r),
        Err(Stop::Bundle(line, problem)) => Err(SyncError::Bundle { line, problem }),
        Err(Stop::Security(message, evidence)) => match ledger.record_equivocation(&evidence) {
            // The import was rolled back; the evidence is kept on its own.
            Ok(()) => Err(SyncError::Security(message)),
            // The alarm is the news, not the write that failed after it.
            Err(e) => {
                Err(SyncError::SecurityUnrecorded(format!("{message}; this ledger could not record the evidence: {e}")))
            }
        },
        Err(Stop::Other(e)) => Err(e),
    }
}

/// The import under way: the state machine over the bundle's records.
struct Run<'l, 'p> {
    ledger: &'l Ledger,
    tx: Import<'l>,
    reader: Reader,
    exporter: String,
    report: ImportReport,
    seen: BTreeSet<String>,
    /// Signatures of staged leaves out to the verifying threads, taken back in order.
    pipe: &'p mut Ordered<SignatureJob, Verdict>,
    /// The origins whose sections were read, in order (verdicts name their leaf's origin by position).
    origin_names: Vec<String>,
    /// Actor keys already parsed by the reading thread.
    keys: KeyCache,
    domain: Domain,
    /// Latest statement time accepted (milliseconds): the importer's clock plus the allowed skew.
    max_ms: i64,
    /// Largest blob accepted (bytes): the evidence limit of the policy in force once the bundle's logs are
    /// staged, read at the first blob line.
    max_blob: Option<u64>,
    /// The origins this ledger held before the bundle: a cosignature by a witness, or of an origin, the
    /// bundle itself brings is checked only once the logs are known to be declared (with its line number).
    held_before: BTreeSet<String>,
    deferred: Vec<(u64, Cosignature)>,
    /// The line a deferred cosignature's problem names.
    at_line: Option<u64>,
}

fn run(ledger: &Ledger, mut reader: Reader, opts: &ImportOptions) -> Result<ImportReport, Stop> {
    let first = match reader.next_line() {
        // A first line that is not a header at all (a file that is not a bundle) is said as such, not by
        // the record grammar's complaint.
        Ok(Some(l)) if !l.starts_with(crate::sync::bundle::MAGIC.as_bytes()) => {
            return Err(Stop::Bundle(1, "the file does not start with a rollcall-bundle header".into()));
        }
        Ok(Some(l)) => Record::parse(l).map_err(|p| Stop::Bundle(1, p))?,
        Ok(None) => return Err(Stop::Bundle(1, "the file is empty".into())),
        Err(p) => return Err(Stop::Bundle(1, p)),
    };
    let Record::Header { version, ledger: id, exporter } = first else {
        return Err(Stop::Bundle(1, "the file does not start with a rollcall-bundle header".into()));
    };
    if version > VERSION {
        return Err(Stop::Bundle(
            1,
            format!("bundle format version {version} is newer than this rollcall reads ({VERSION}); upgrade rollcall"),
        ));
    }
    if version != VERSION {
        return Err(Stop::Bundle(1, format!("bundle format version {version} is not supported")));
    }
    if id != ledger.ledger_id() {
        return Err(Stop::Bundle(
            1,
            format!(
                "this bundle belongs to ledger {}, not to this ledger ({})",
                id.short(16),
                ledger.ledger_id().short(16)
            ),
        ));
    }
    let compressed = reader.compressed();
    // A log this ledger holds shorter than a merge marker or cosignature it holds says is damage to this
    // ledger, named as such before anything is staged. Once logs are staged, the same shortfall is the
    // bundle's doing: the roster is then built without that check, and the markers and cosignatures the
    // bundle brings are checked against the staged logs below, naming its line.
    crate::ledger::causal::check_lengths(ledger, &crate::ledger::causal::Causality::load(ledger)?)?;
    let held_before = ledger.origins()?.into_iter().map(|o| o.name).collect();
    let tx = ledger.begin_import()?;
    blobs::ensure_blob_indexes(ledger)?;
    // The pipeline and thread-count policy of `verify` (`ROLLCALL_VERIFY_THREADS`, else one per core).
    let limits = Limits { batch: BATCH, batch_bytes: BATCH_BYTES, in_flight: IN_FLIGHT };
    let workers = vec![(); pipeline::threads()];
    let domain = &ledger.domain();
    pipeline::run(
        limits,
        workers,
        |_, _, job| leaves::check(job, domain),
        |pipe| {
            let mut run = Run {
                ledger,
                tx,
                reader,
                exporter: exporter.clone(),
                report: ImportReport { compressed, exporter: exporter.clone(), ..Default::default() },
                seen: BTreeSet::new(),
                pipe,
                origin_names: Vec::new(),
                keys: KeyCache::default(),
                domain: ledger.domain(),
                max_ms: opts.max_ms,
                max_blob: None,
                held_before,
                deferred: Vec::new(),
                at_line: None,
            };
            let result = match run.body(opts) {
                Ok(digest) => Ok(digest),
                Err(stop) => Err(run.first_problem(stop)),
            };
            let Run { tx, report, .. } = run;
            let digest = result?;
            tx.commit()?;
            Ok(ImportReport { digest, ..report })
        },
    )
}

impl Run<'_, '_> {
    fn bad(&self, problem: impl Into<String>) -> Stop {
        Stop::Bundle(self.at_line.unwrap_or(self.reader.line_no()), problem.into())
    }

    fn next(&mut self) -> Result<Record, Stop> {
        match self.reader.next_line() {
            Ok(Some(line)) => {
                let r = Record::parse(line);
                r.map_err(|p| self.bad(p))
            }
            Ok(None) => Err(Stop::Bundle(
                self.reader.line_no(),
                format!("the bundle is truncated: it ends after line {} without its end line", self.reader.line_no()),
            )),
            Err(p) => Err(Stop::Bundle(self.reader.line_no() + 1, p)),
        }
    }

    /// Reads every record after the header; returns the bundle digest.
    fn body(&mut self, opts: &ImportOptions) -> Result<Hash, Stop> {
        let mut rec = self.next()?;
        while let Record::Origin { name, key, from, to } = rec {
            rec = self.origin(&name, &key, from, to)?;
        }
        if !self.seen.contains(&self.exporter) {
            return Err(self.bad(format!("the bundle does not carry the log of its own origin {}", self.exporter)));
        }
        // Lookups by entry id (blobs, declarations, the roster) need the index a bulk load deferred.
        self.tx.finish_bulk()?;
        while let Record::Blob { sha256, size } = rec {
            rec = self.blob(&sha256, size)?;
        }
        // One line per origin and witness (the exporter writes the latest of each): a repeat is refused at
        // its line, so neither the lines kept for later nor the checks made grow past origins² however
        // long the file.
        let mut pairs: BTreeSet<(String, String)> = BTreeSet::new();
        while let Record::Cosignature(c) = rec {
            let known = |name: &str| self.held_before.contains(name) || self.seen.contains(name);
            if !known(&c.witness) || !known(&c.origin) {
                // A witness or an origin neither held here nor carried: ignored, as C2SP asks.
                rec = self.next()?;
                continue;
            }
            if !pairs.insert((c.origin.clone(), c.witness.clone())) {
                return Err(self.bad(format!(
                    "a second cosignature of {} by {} (a bundle carries the latest of each origin and witness)",
                    c.origin, c.witness
                )));
            }
            if self.held_before.contains(&c.witness) && self.held_before.contains(&c.origin) {
                self.cosignature(c)?;
            } else {
                // A witness or an origin the bundle brings: its key, and the log the cosignature is
                // compared with, are trusted only once the logs are known to be declared (below).
                self.deferred.push((self.reader.line_no(), c));
            }
            rec = self.next()?;
        }
        let Record::End { digest } = rec else {
            return Err(self.bad(format!("unexpected {} line here", record_name(&rec))));
        };
        if self.reader.digest_before() != digest {
            return Err(self.bad("the end digest does not match the bundle's content (the file was altered)"));
        }
        match self.reader.next_line() {
            Ok(None) => {}
            Ok(Some(_)) => return Err(self.bad("there is data after the end line")),
            Err(_) => return Err(Stop::Bundle(self.reader.line_no() + 1, "there is data after the end line".into())),
        }
        self.check_declarations()?;
        for (line, c) in std::mem::take(&mut self.deferred) {
            self.at_line = Some(line);
            self.cosignature(c)?;
        }
        self.at_line = None;
        // What each log says it had seen must hold against what this ledger now holds (sizes, roots,
        // and no marker stamped before the entries it records).
        if let Some((origin, index, problem)) = crate::ledger::causal::check_markers(self.ledger)? {
            return Err(self.bad(format!("origin {origin} leaf {index}: {problem}")));
        }
        // A bulk load's staged pages are written out while the last signatures are checked (the commit
        // then writes little), and nothing is cosigned before every signature holds.
        self.tx.write_out()?;
        self.settle()?;
        if let Some(key) = &opts.witness_key {
            self.cosign(key, opts.now)?;
        }
        Ok(digest)
    }

    /// Every log must be declared by a signed entry: the genesis for the first, `origin.joined` by an
    /// enrolled member (its first entry) for the others.
    fn check_declarations(&self) -> Result<(), Stop> {
        let roster = crate::identity::Roster::from_staged(self.ledger)?;
        if roster.genesis().map(|g| g.0) != Some(self.ledger.ledger_id()) {
            return Err(self.bad("the bundle does not carry this ledger's genesis"));
        }
        for origin in self.ledger.origins()? {
            let Some(first) = self.ledger.log_page(&origin, 0, 1)?.pop() else {
                // Every log starts with its declaration, so only this machine's own may be empty (an audit
                // copy's): an empty section of a name nothing declares would claim the name and its key.
                if origin.own {
                    continue;
                }
                return Err(self.bad(format!(
                    "origin {} carries no entries: a log starts with the entry that declares it",
                    origin.name
                )));
            };
            let genesis_log = first.entry.id == self.ledger.ledger_id();
            if !genesis_log && first.kind != crate::identity::kinds::ORIGIN_JOINED {
                return Err(
                    self.bad(format!("origin {}: its log does not start with an origin.joined entry", origin.name))
                );
            }
            if roster.origin_key(&origin.name) != Some(&origin.key) {
                return Err(self.bad(format!(
                    "origin {} is not declared with this key by a signed entry of an enrolled member",
                    origin.name
                )));
            }
        }
        Ok(())
    }

    /// Cosigns the latest checkpoint of every other origin this ledger now holds, once.
    fn cosign(&mut self, key: &SigningKey, now: u64) -> Result<(), Stop> {
        let own = self.ledger.own_origin().clone();
        if crate::ledger::PublicKey::from_signing(key) != own.key {
            return Err(Stop::Other(crate::ledger::LedgerError::OriginKeyMismatch.into()));
        }
        for origin in self.ledger.origins()?.into_iter().filter(|o| !o.own) {
            let Some((size, _)) = self.ledger.latest_checkpoint(&origin)? else { continue };
            let mine = self.ledger.cosignatures(Some(&origin))?;
            if mine.iter().any(|c| c.witness == own.name && c.size == size) {
                continue;
            }
            let root = self.ledger.root_at(&origin, size)?;
            let c = Cosignature::sign(&origin.name, size, &root, &own.name, key, now);
            self.tx.add_cosignature(&origin, &c)?;
            self.report.cosigned.push((origin.name.clone(), size));
        }
        Ok(())
    }
}

fn record_name(r: &Record) -> &'static str {
    match r {
        Record::Header { .. } => "header",
        Record::Origin { .. } => "origin",
        Record::Leaf { .. } => "leaf",
        Record::Checkpoint { .. } => "checkpoint",
        Record::Blob { .. } => "blob",
        Record::Data { .. } => "data",
        Record::Cosignature(_) => "cosignature",
        Record::End { .. } => "end",
    }
}
