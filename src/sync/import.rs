//! Import of a bundle: every line is checked in order (format, statements, `verify_strict` signatures on
//! all cores, chains, Merkle roots against each origin's signed checkpoint, blob digests, cosignatures,
//! the digest trailer, and that every origin is declared by a signed entry of an enrolled member) while
//! the new leaves are staged in one transaction, which commits only after the last check. A bundle that
//! contradicts what this ledger verified before (a fork, or an origin presenting less than it signed) is
//! refused as a SECURITY error and both signed checkpoints are kept as evidence.

use super::SyncError;
use super::bundle::{Reader, Record, VERSION};
use crate::ledger::cosign::Cosignature;
use crate::ledger::dsse::Domain;
use crate::ledger::mirror::{Equivocation, Import};
use crate::ledger::note::Checkpoint;
use crate::ledger::statement::{CheckedHead, KeyCache, SignedStatement, check_statement_with};
use crate::ledger::writer::Pushed;
use crate::ledger::{Hash, Ledger, Origin};
use ed25519_dalek::SigningKey;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// Leaves handed to a verifying thread at a time, at most.
const BATCH: usize = 512;

/// Statement bytes in one batch, at most: with [`IN_FLIGHT`], what bounds an import's memory whatever the
/// size of the statements (a batch of 512 typical statements holds about 120 KiB).
const BATCH_BYTES: usize = 1 << 20;

/// Batches read ahead of the one being written: enough to keep the verifying threads busy while the
/// writer stalls (a B-tree split, a page-cache spill to the WAL), and at most ~33 MiB of statements.
const IN_FLIGHT: usize = 32;

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
}

impl ImportReport {
    /// Leaves added over every origin.
    pub fn added(&self) -> u64 {
        self.origins.iter().map(|o| o.added).sum()
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
        Err(Stop::Security(message, evidence)) => {
            // The import was rolled back; the evidence is kept on its own.
            ledger.record_equivocation(&evidence)?;
            Err(SyncError::Security(message))
        }
        Err(Stop::Other(e)) => Err(e),
    }
}

/// A leaf line on its way to a verifying thread, and back.
struct Job {
    line: u64,
    index: u64,
    /// The ledger already holds this index: only the id is needed (the signature is compared).
    held: bool,
    signature: [u8; 64],
    statement: Vec<u8>,
}

struct Checked {
    line: u64,
    index: u64,
    entry: SignedStatement,
    head: Option<Result<CheckedHead, String>>,
}

fn check(job: Job, keys: &mut KeyCache, domain: &Domain) -> Checked {
    let head = (!job.held)
        .then(|| check_statement_with(&job.statement, &job.signature, keys, domain).map_err(|e| e.to_string()));
    let id = Hash::of(&[&job.statement]);
    Checked {
        line: job.line,
        index: job.index,
        entry: SignedStatement { bytes: job.statement, id, signature: job.signature },
        head,
    }
}

struct Run<'l> {
    ledger: &'l Ledger,
    tx: Import<'l>,
    reader: Reader,
    exporter: String,
    report: ImportReport,
    seen: BTreeSet<String>,
    work: mpsc::SyncSender<(u64, Vec<Job>)>,
    done: mpsc::Receiver<(u64, Vec<Checked>)>,
    sent: u64,
    received: u64,
    domain: Domain,
    /// Latest statement time accepted (milliseconds): the importer's clock plus the allowed skew.
    max_ms: i64,
    /// Largest blob accepted (bytes): the evidence limit of the policy in force once the bundle's logs are
    /// staged, read at the first blob line.
    max_blob: Option<u64>,
}

fn run(ledger: &Ledger, mut reader: Reader, opts: &ImportOptions) -> Result<ImportReport, Stop> {
    let first = match reader.next_line() {
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
    let tx = ledger.begin_import()?;
    // The same thread-count policy as `verify` (`ROLLCALL_VERIFY_THREADS`, else one per core).
    let threads = crate::ledger::verify::threads();
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Vec<Job>)>(IN_FLIGHT);
    let (done_tx, done_rx) = mpsc::channel::<(u64, Vec<Checked>)>();
    let work_rx = Arc::new(Mutex::new(work_rx));
    let domain = &ledger.domain();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            s.spawn(move || {
                let mut keys = KeyCache::default();
                loop {
                    let next = work_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((seq, jobs))) = next else { break };
                    let checked = jobs.into_iter().map(|j| check(j, &mut keys, domain)).collect();
                    if done_tx.send((seq, checked)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut run = Run {
            ledger,
            tx,
            reader,
            exporter: exporter.clone(),
            report: ImportReport { compressed, exporter: exporter.clone(), ..Default::default() },
            seen: BTreeSet::new(),
            work: work_tx,
            done: done_rx,
            sent: 0,
            received: 0,
            domain: ledger.domain(),
            max_ms: opts.max_ms,
            max_blob: None,
        };
        let result = run.body(opts);
        // Closing the work channel stops the threads.
        let Run { tx, report, work, .. } = run;
        drop(work);
        let digest = result?;
        tx.commit()?;
        Ok(ImportReport { digest, ..report })
    })
}

impl Run<'_> {
    fn bad(&self, problem: impl Into<String>) -> Stop {
        Stop::Bundle(self.reader.line_no(), problem.into())
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
        while let Record::Cosignature(c) = rec {
            self.cosignature(c)?;
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
        // What each log says it had seen must hold against what this ledger now holds (sizes, roots,
        // and no marker stamped before the entries it records).
        if let Some((origin, index, problem)) = crate::ledger::causal::check_markers(self.ledger)? {
            return Err(self.bad(format!("origin {origin} leaf {index}: {problem}")));
        }
        if let Some(key) = &opts.witness_key {
            self.cosign(key, opts.now)?;
        }
        Ok(digest)
    }

    /// One origin's section: its leaves and its checkpoint. Returns the record after it.
    fn origin(&mut self, name: &str, key: &crate::ledger::PublicKey, from: u64, to: u64) -> Result<Record, Stop> {
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
        let mut pending: BTreeMap<u64, Vec<Checked>> = BTreeMap::new();
        let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
        let mut batch_bytes = 0usize;
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
            batch_bytes += statement.len();
            batch.push(Job { line: self.reader.line_no(), index, held: index < held, signature, statement });
            next += 1;
            if batch.len() == BATCH || batch_bytes >= BATCH_BYTES {
                batch_bytes = 0;
                self.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))?;
                self.drain(&mut pending, false, &mut |this, c| {
                    this.accept(c, &origin, held, &mut writer, &mut diverged, &mut added)
                })?;
            }
        };
        if !batch.is_empty() {
            self.send(batch)?;
        }
        self.drain(&mut pending, true, &mut |this, c| {
            this.accept(c, &origin, held, &mut writer, &mut diverged, &mut added)
        })?;
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

    fn send(&mut self, batch: Vec<Job>) -> Result<(), Stop> {
        self.work
            .send((self.sent, batch))
            .map_err(|_| Stop::Other(SyncError::Usage("a verifying thread stopped".into())))?;
        self.sent += 1;
        Ok(())
    }

    /// Hands checked batches to `accept` in order: what has arrived, or (with `all`) everything sent.
    fn drain(
        &mut self,
        pending: &mut BTreeMap<u64, Vec<Checked>>,
        all: bool,
        accept: &mut dyn FnMut(&mut Self, Checked) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        loop {
            while let Some(batch) = pending.remove(&self.received) {
                self.received += 1;
                for c in batch {
                    accept(self, c)?;
                }
            }
            if self.received == self.sent {
                return Ok(());
            }
            // Keep at most IN_FLIGHT batches in flight; wait when all are wanted.
            let got = if all || self.sent - self.received > IN_FLIGHT as u64 {
                self.done.recv().ok()
            } else {
                match self.done.try_recv() {
                    Ok(v) => Some(v),
                    Err(_) => return Ok(()),
                }
            };
            let Some((seq, checked)) = got else {
                return Err(Stop::Other(SyncError::Usage("a verifying thread stopped".into())));
            };
            pending.insert(seq, checked);
        }
    }

    fn accept(
        &mut self,
        c: Checked,
        origin: &Origin,
        held: u64,
        writer: &mut crate::ledger::writer::LeafWriter<'_>,
        diverged: &mut Option<(u64, Hash, Hash)>,
        added: &mut u64,
    ) -> Result<(), Stop> {
        let at = |p: String| Stop::Bundle(c.line, format!("origin {} leaf {}: {p}", origin.name, c.index));
        let head = match c.head {
            Some(Ok(h)) => {
                self.report.verified += 1;
                Some(h)
            }
            Some(Err(p)) => return Err(at(p)),
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

    /// Whether the bundle's checkpoint of `origin` agrees with everything this ledger verified of it.
    fn compare_with_held(
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
        let evidence = |kind: &str, ours: String, detail: String| {
            Box::new(Equivocation {
                origin: name.clone(),
                detected: crate::ledger::statement::now_ts(),
                kind: kind.into(),
                ours,
                theirs: note.to_string(),
                detail,
            })
        };
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

    /// One blob and its data lines. Returns the record after it. The blob is refused on its own line when
    /// it is larger than the policy allows or no carried entry names it; its data is streamed to the store
    /// and hashed as it comes, never held whole.
    fn blob(&mut self, digest: &Hash, size: u64) -> Result<Record, Stop> {
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
        let existed = store
            && crate::evidence::store::check(self.tx.conn(), digest)
                .map_err(|e| Stop::Other(SyncError::Usage(e.to_string())))?
                .is_some();
        let mut sink = crate::evidence::store::BlobSink::start(self.tx.conn(), digest, size, store)
            .map_err(|e| Stop::Other(SyncError::Usage(e.to_string())))?;
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

    /// Whether an entry names `digest` (None: none does), and whether any naming entry is not purged.
    fn blob_wanted(&self, digest: &Hash) -> Result<Option<bool>, Stop> {
        use crate::audit::kinds::{AMENDED, EVIDENCE_ATTACHED, EVIDENCE_PURGED, REQUESTED};
        let naming = self.ledger.entries_containing(&[EVIDENCE_ATTACHED, REQUESTED, AMENDED], &digest.to_hex())?;
        if naming.is_empty() {
            return Ok(None);
        }
        for (id, kind) in naming {
            if kind != EVIDENCE_ATTACHED || self.ledger.count_referencing(&id, EVIDENCE_PURGED)? == 0 {
                return Ok(Some(true));
            }
        }
        Ok(Some(false))
    }

    fn cosignature(&mut self, c: Cosignature) -> Result<(), Stop> {
        let origins = self.ledger.origins()?;
        let (Some(witness), Some(origin)) =
            (origins.iter().find(|o| o.name == c.witness), origins.iter().find(|o| o.name == c.origin))
        else {
            return Ok(()); // an unknown witness or origin: ignored, as C2SP asks
        };
        if !c.verify(&witness.key) {
            return Err(self
                .bad(format!("the cosignature of {} at size {} by {} does not verify", c.origin, c.size, c.witness)));
        }
        let held = self.ledger.size(origin)?;
        let theirs = c.line();
        let evidence = |this: &Self, kind: &str, detail: String| -> Result<Box<Equivocation>, Stop> {
            let ours = this.ledger.checkpoint_covering(origin, c.size.min(held))?.map(|x| x.1).unwrap_or_default();
            Ok(Box::new(Equivocation {
                origin: origin.name.clone(),
                detected: crate::ledger::statement::now_ts(),
                kind: kind.into(),
                ours,
                theirs: theirs.clone(),
                detail,
            }))
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

    /// Every log must be declared by a signed entry: the genesis for the first, `origin.joined` by an
    /// enrolled member (its first entry) for the others.
    fn check_declarations(&self) -> Result<(), Stop> {
        let roster = crate::identity::Roster::from_staged(self.ledger)?;
        if roster.genesis().map(|g| g.0) != Some(self.ledger.ledger_id()) {
            return Err(self.bad("the bundle does not carry this ledger's genesis"));
        }
        for origin in self.ledger.origins()? {
            let Some(first) = self.ledger.log_page(&origin, 0, 1)?.pop() else { continue };
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
