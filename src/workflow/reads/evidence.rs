//! Evidence after attachment: reading it back (recognised and rendered), exporting the original bytes
//! (digest checked), and checking every stored blob. Purging is a write: `writes::purge`.

use crate::audit::bodies::{EvidenceBody, PurgedBody};
use crate::audit::kinds::{EVIDENCE_ATTACHED, EVIDENCE_PURGED};
use crate::evidence::recognize::{Parsed, recognize_stream};
use crate::evidence::store;
use crate::ledger::{EntryId, Hash, Ledger, PublicKey};
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Utc};
use std::path::Path;

/// An evidence entry and what is known about its bytes.
pub struct Evidence {
    pub entry: EntryId,
    pub index: u64,
    pub actor: PublicKey,
    pub ts: DateTime<Utc>,
    pub request: EntryId,
    pub body: EvidenceBody,
    /// Whether the bytes are stored and match their digest.
    pub present: bool,
    /// Their size in bytes (0 when not present).
    pub size: u64,
    /// The first page ([`PAGE`] bytes at most) of the stored bytes, when present: all a reader shows;
    /// later pages come from [`page`], the whole file from [`export`].
    pub head: Option<Vec<u8>>,
    pub parsed: Option<Parsed>,
    pub purge: Option<Purge>,
}

/// Who purged a blob, when and why.
#[derive(Clone, Debug)]
pub struct Purge {
    pub entry: EntryId,
    pub actor: PublicKey,
    pub ts: DateTime<Utc>,
    pub reason: String,
}

pub(crate) fn find_id(ledger: &Ledger, prefix: &str) -> Result<EntryId, WorkflowError> {
    let p = prefix.trim();
    if p.len() < 4 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WorkflowError::Usage(format!(
            "{:?} is not an evidence id (4+ hex characters; see `rollcall show REQ`)",
            crate::text::safe(p)
        )));
    }
    match ledger.ids_with_prefix(EVIDENCE_ATTACHED, p, 2)?.as_slice() {
        [one] => Ok(*one),
        [] => Err(WorkflowError::NotFound(format!("no evidence has an id starting with {p}"))),
        _ => Err(WorkflowError::Usage(format!("{p} matches more than one evidence entry; give more characters"))),
    }
}

pub(crate) fn purge_of(ledger: &Ledger, id: &EntryId) -> Result<Option<Purge>, WorkflowError> {
    for row in ledger.entries_referencing(id)? {
        if row.kind == EVIDENCE_PURGED {
            let f = super::state::fact_of(&row)?;
            let b: PurgedBody = f.body.read()?;
            return Ok(Some(Purge { entry: f.id, actor: f.actor, ts: f.ts, reason: b.reason }));
        }
    }
    Ok(None)
}

pub fn load(ledger: &Ledger, id: &EntryId) -> Result<Evidence, WorkflowError> {
    load_as(ledger, id, true)
}

/// Loads evidence `id`; with `parse` false the bytes are only checked against their digest.
fn load_as(ledger: &Ledger, id: &EntryId, parse: bool) -> Result<Evidence, WorkflowError> {
    let row = ledger.entry(id)?.ok_or_else(|| WorkflowError::NotFound(format!("no evidence {}", id.short(12))))?;
    let f = super::state::fact_of(&row)?;
    let body: EvidenceBody = f.body.read()?;
    let request =
        Hash::from_hex(&body.request).ok_or_else(|| WorkflowError::Usage("evidence names no request".into()))?;
    let conn = ledger.cache_conn();
    let digest = body.sha256.as_deref().and_then(Hash::from_hex);
    // One streaming pass checks the digest, a second (only for known formats) parses; neither holds the blob.
    let scan = match &digest {
        Some(d) => store::scan_stored(conn, d)?.filter(|s| s.digest == *d),
        None => None,
    };
    let (parsed, head) = match (&scan, &digest) {
        (Some(scan), Some(d)) if parse => {
            let parsed = recognize_stream(body.name.as_deref().unwrap_or(""), scan, || {
                store::open(conn, d)
                    .map_err(std::io::Error::other)?
                    .map(|(blob, _)| blob)
                    .ok_or_else(|| std::io::Error::other("the stored bytes are missing"))
            })
            .0;
            (Some(parsed), Some(read_page(conn, d, 0)?.0))
        }
        _ => (None, None),
    };
    Ok(Evidence {
        entry: f.id,
        index: f.index,
        actor: f.actor,
        ts: f.ts,
        request,
        body,
        present: scan.is_some(),
        size: scan.as_ref().map_or(0, |s| s.len),
        head,
        parsed,
        purge: purge_of(ledger, id)?,
    })
}

/// Bytes per page of raw evidence text.
pub(crate) const PAGE: usize = 64 * 1024;

/// Page `n` (from 0) of the stored bytes of `digest`, and the blob's size.
fn read_page(conn: &rusqlite::Connection, digest: &Hash, n: u64) -> Result<(Vec<u8>, u64), WorkflowError> {
    use std::io::{Read, Seek, SeekFrom};
    let Some((mut blob, len)) = store::open(conn, digest)? else {
        return Ok((Vec::new(), 0));
    };
    let start = n.saturating_mul(PAGE as u64);
    if start >= len {
        return Ok((Vec::new(), len));
    }
    let io = |e: std::io::Error| WorkflowError::Io("read the stored evidence".into(), e);
    blob.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut out = Vec::with_capacity(PAGE.min((len - start) as usize));
    blob.take(PAGE as u64).read_to_end(&mut out).map_err(io)?;
    Ok((out, len))
}

/// The evidence whose entry id starts with `prefix`.
pub fn show(ctx: &Context, prefix: &str) -> Result<Evidence, WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let id = find_id(&ledger, prefix)?;
    load(&ledger, &id)
}

/// Writes the original bytes of evidence `prefix` to `out` (never over an existing file).
pub(crate) fn export(ctx: &Context, prefix: &str, out: &Path) -> Result<(Evidence, u64), WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let id = find_id(&ledger, prefix)?;
    let ev = load_as(&ledger, &id, false)?;
    let digest = ev.body.sha256.as_deref().and_then(Hash::from_hex);
    let blob = match (&digest, ev.present) {
        (Some(d), true) => store::open(ledger.cache_conn(), d)?,
        _ => None,
    };
    let (Some((mut blob, _)), Some(digest)) = (blob, digest) else {
        return Err(no_bytes(ev.purge.as_ref(), ev.body.sha256.as_deref(), "export"));
    };
    let mut f = crate::paths::private_file_options()
        .create_new(true)
        .open(out)
        .map_err(|e| WorkflowError::Read(out.to_path_buf(), e))?;
    // Streamed in chunks, hashed on the way: the file written is exactly the bytes the entry names.
    let mut scanner = crate::evidence::scan::Scanner::new();
    let mut buf = vec![0u8; crate::evidence::scan::CHUNK];
    loop {
        let n = std::io::Read::read(&mut blob, &mut buf).map_err(|e| WorkflowError::Read(out.to_path_buf(), e))?;
        if n == 0 {
            break;
        }
        scanner.update(&buf[..n]);
        std::io::Write::write_all(&mut f, &buf[..n]).map_err(|e| WorkflowError::Read(out.to_path_buf(), e))?;
    }
    let scan = scanner.finish();
    if scan.digest != digest {
        drop(f);
        let _ = std::fs::remove_file(out);
        return Err(WorkflowError::Refused(
            "the stored bytes changed while they were exported; run `rollcall verify`".into(),
        ));
    }
    Ok((ev, scan.len))
}

/// The outcome of checking every evidence blob.
#[derive(Clone, Debug, Default)]
pub struct BlobReport {
    pub checked: u64,
    pub purged: Vec<(EntryId, Purge)>,
    /// The first blob that is missing without a purge, or does not match its digest.
    pub problem: Option<(EntryId, String)>,
    /// Blobs named by entries of other origins that were imported without them (`--no-blobs`).
    pub not_held: u64,
}

/// Checks the stored bytes of every evidence entry against the digest in its signed entry (the change sets
/// requests name are checked request by request, [`check_changeset`]).
pub(crate) fn check_blobs(ledger: &Ledger) -> Result<BlobReport, WorkflowError> {
    let mut report = BlobReport::default();
    let own = ledger.own_origin().id;
    ledger.visit_kinds(&[EVIDENCE_ATTACHED], |row| -> Result<(), WorkflowError> {
        let f = super::state::fact_of(&row)?;
        let Some(digest) = f.body.str_member("sha256").and_then(|s| Hash::from_hex(&s)) else {
            return Ok(());
        };
        let purge = purge_of(ledger, &f.id)?;
        match (store::check(ledger.cache_conn(), &digest)?, purge) {
            (_, Some(p)) => report.purged.push((f.id, p)),
            (Some(true), None) => report.checked += 1,
            (Some(false), None) => {
                report.problem.get_or_insert((
                    f.id,
                    "the stored evidence bytes do not match the digest in the signed entry".into(),
                ));
            }
            (None, None) if row.origin != own => report.not_held += 1,
            (None, None) => {
                report
                    .problem
                    .get_or_insert((f.id, "the evidence bytes are missing and no signed entry purged them".into()));
            }
        }
        Ok(())
    })?;
    Ok(report)
}

/// Checks the change set a request's record names by digest (entry `id`, of log `origin`), if it names
/// one, into `report`.
pub(crate) fn check_changeset(
    ledger: &Ledger,
    digest: Hash,
    id: EntryId,
    foreign: bool,
    report: &mut BlobReport,
) -> Result<(), WorkflowError> {
    match store::check(ledger.cache_conn(), &digest)? {
        Some(true) => report.checked += 1,
        Some(false) => {
            report
                .problem
                .get_or_insert((id, "the stored change set does not match the digest in the signed record".into()));
        }
        None if foreign => report.not_held += 1,
        None => {
            report.problem.get_or_insert((id, "the change set the record names is missing".into()));
        }
    }
    Ok(())
}

// ---- The stored text a page at a time: `evidence show --page N / --raw` and the console's viewer ----

/// How many pages of [`PAGE`] bytes a stored file of `size` bytes makes (an empty file is one empty page).
pub(crate) fn pages(size: u64) -> u64 {
    size.div_ceil(PAGE as u64).max(1)
}

/// One page of an evidence file's stored bytes, decoded as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TextPage {
    /// Which page (from 0), of how many.
    pub page: u64,
    pub pages: u64,
    /// Where the page starts and how many bytes it holds, in a file of `size` bytes.
    pub offset: u64,
    pub len: u64,
    pub size: u64,
    /// The characters that start in the page ([`crate::text::decode_window`]: a character cut by the page's
    /// edge is shown whole on the page where it starts). Untrusted: sanitize it before display.
    pub text: String,
}

/// Why there are no stored bytes to read: purged (by whom, why), a link, or missing or altered.
fn no_bytes(purge: Option<&Purge>, digest: Option<&str>, what: &str) -> WorkflowError {
    match (purge, digest) {
        (Some(p), _) => WorkflowError::NotFound(format!(
            "the bytes were purged at {} ({})",
            p.ts.format("%Y-%m-%d %H:%M UTC"),
            crate::text::safe(&p.reason)
        )),
        (None, None) => WorkflowError::NotFound(format!("this evidence is a link; there are no bytes to {what}")),
        (None, Some(_)) => WorkflowError::Refused(
            "the stored bytes are missing or do not match their digest; run `rollcall verify`".into(),
        ),
    }
}

/// Page `n` (from 0) of the stored bytes of evidence `id` as text: one read of that page and of the 3 bytes
/// on either side, whatever the file's size. The bytes are neither parsed nor checked against the digest
/// here (opening the evidence did, and `verify` does). A page past the end is a usage error naming the
/// last page.
pub(crate) fn text_page(ledger: &Ledger, id: &EntryId, n: u64) -> Result<TextPage, WorkflowError> {
    use std::io::{Read, Seek, SeekFrom};
    let row = ledger.entry(id)?.ok_or_else(|| WorkflowError::NotFound(format!("no evidence {}", id.short(12))))?;
    let f = super::state::fact_of(&row)?;
    if f.kind != EVIDENCE_ATTACHED {
        return Err(WorkflowError::NotFound(format!("entry {} is not evidence", id.short(12))));
    }
    let body: EvidenceBody = f.body.read()?;
    let purge = purge_of(ledger, id)?;
    let digest = body.sha256.as_deref().and_then(Hash::from_hex);
    let stored = match (&purge, &digest) {
        (None, Some(d)) => store::open(ledger.cache_conn(), d)?,
        _ => None,
    };
    let Some((mut blob, size)) = stored else { return Err(no_bytes(purge.as_ref(), body.sha256.as_deref(), "read")) };
    let pages = pages(size);
    if n >= pages {
        return Err(WorkflowError::Usage(format!(
            "page {} is past the end: evidence {} has {pages} page{} of {} KiB ({size} bytes)",
            n.saturating_add(1),
            id.short(12),
            if pages == 1 { "" } else { "s" },
            PAGE / 1024
        )));
    }
    let offset = n * PAGE as u64;
    let end = (offset + PAGE as u64).min(size);
    let from = offset.saturating_sub(3);
    let to = (end + 3).min(size);
    let io = |e: std::io::Error| WorkflowError::Io("read the stored evidence".into(), e);
    blob.seek(SeekFrom::Start(from)).map_err(io)?;
    let mut buf = Vec::with_capacity((to - from) as usize);
    blob.take(to - from).read_to_end(&mut buf).map_err(io)?;
    let (before, rest) = buf.split_at(((offset - from) as usize).min(buf.len()));
    let (page, after) = rest.split_at(((end - offset) as usize).min(rest.len()));
    Ok(TextPage {
        page: n,
        pages,
        offset,
        len: end - offset,
        size,
        text: crate::text::decode_window(before, page, after),
    })
}

/// Evidence `prefix` (its bytes checked against the digest in one streaming pass, not parsed) and page `n`
/// (from 0; `None` for the last page) of its stored text: `evidence show --page`.
pub(crate) fn show_page(ctx: &Context, prefix: &str, n: Option<u64>) -> Result<(Evidence, TextPage), WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let id = find_id(&ledger, prefix)?;
    let ev = load_as(&ledger, &id, false)?;
    if !ev.present || ev.purge.is_some() {
        return Err(no_bytes(ev.purge.as_ref(), ev.body.sha256.as_deref(), "read"));
    }
    let page = text_page(&ledger, &id, n.unwrap_or_else(|| pages(ev.size) - 1))?;
    Ok((ev, page))
}

/// Hands the stored bytes of evidence `prefix` to `each`, [`PAGE`] bytes at a time, after checking them
/// against the digest (one streaming pass, no parse): memory stays bounded whatever the size. Returns the
/// evidence and the bytes read. `evidence show --raw`.
pub(crate) fn read_pages(
    ctx: &Context,
    prefix: &str,
    each: &mut dyn FnMut(&[u8]) -> Result<(), WorkflowError>,
) -> Result<(Evidence, u64), WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let id = find_id(&ledger, prefix)?;
    let ev = load_as(&ledger, &id, false)?;
    let digest = ev.body.sha256.as_deref().and_then(Hash::from_hex);
    // Purged bytes are not shown, even when other evidence still holds the same bytes.
    let stored = match (&digest, ev.present, &ev.purge) {
        (Some(d), true, None) => store::open(ledger.cache_conn(), d)?,
        _ => None,
    };
    let Some((mut blob, _)) = stored else {
        return Err(no_bytes(ev.purge.as_ref(), ev.body.sha256.as_deref(), "read"));
    };
    let mut buf = vec![0u8; PAGE];
    let mut total = 0u64;
    loop {
        let mut n = 0;
        // Fill a whole page (a read may return less) so every call but the last gets PAGE bytes.
        while n < PAGE {
            let got = std::io::Read::read(&mut blob, &mut buf[n..])
                .map_err(|e| WorkflowError::Io("read the stored evidence".into(), e))?;
            if got == 0 {
                break;
            }
            n += got;
        }
        if n == 0 {
            break;
        }
        total += n as u64;
        each(&buf[..n])?;
        if n < PAGE {
            break;
        }
    }
    Ok((ev, total))
}
