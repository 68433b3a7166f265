//! The sync commands' output: init --join, export, import, checkpoints, sync --git, verify --bundle,
//! prove and verify-proof.

use crate::cli::background;
use crate::cli::output;
use crate::ledger::note::verifier_key;
use crate::say;
use crate::text::safe;
use crate::workflow::sync::IndexUpkeep;
use crate::workflow::{self, Context, WorkflowError};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

fn import_json(r: &crate::sync::import::ImportReport) -> serde_json::Value {
    json!({
        "exporter": r.exporter, "added": r.added(), "verified_signatures": r.verified, "blobs": r.blobs,
        "cosignatures": r.cosignatures, "compressed": r.compressed, "digest": r.digest.to_hex(), "copies": r.copies,
        "cosigned": r.cosigned.iter().map(|(o, s)| json!({"origin": o, "size": s})).collect::<Vec<_>>(),
        "origins": r.origins.iter().map(|o| json!({"origin": o.name, "new": o.new, "own": o.own, "added": o.added,
            "size": o.size, "bundle_size": o.bundle_size})).collect::<Vec<_>>(),
    })
}

fn print_import(r: &crate::sync::import::ImportReport) {
    for o in &r.origins {
        let what = if o.own {
            format!("this ledger's own log; the bundle's copy (size {}) agrees", o.bundle_size)
        } else if o.added > 0 {
            format!(
                "+{} entr{} (now {}){}",
                o.added,
                if o.added == 1 { "y" } else { "ies" },
                o.size,
                if o.new { ", new mirror" } else { "" }
            )
        } else if o.bundle_size < o.size {
            format!("nothing new (the bundle has {}, this ledger {})", o.bundle_size, o.size)
        } else {
            format!("nothing new (size {})", o.size)
        };
        say!("origin {}: {what}", safe(&o.name));
    }
    say!(
        "added {} entr{}, {} evidence blob{}, {} cosignature{}; {} signatures verified",
        r.added(),
        if r.added() == 1 { "y" } else { "ies" },
        r.blobs,
        if r.blobs == 1 { "" } else { "s" },
        r.cosignatures,
        if r.cosignatures == 1 { "" } else { "s" },
        r.verified
    );
    for (o, s) in &r.cosigned {
        say!("cosigned {} at size {s}", safe(o));
    }
    if let Some(copies) = r.copies_said() {
        say!("SECURITY: {copies}");
    }
}

/// `init --join BUNDLE --as NAME [--ledger-id ID]`.
pub(crate) fn join(
    ctx: &Context,
    bundle: &Path,
    member: &str,
    origin: Option<&str>,
    ledger_id: Option<&str>,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    let j = workflow::sync::join(ctx, bundle, member, origin, ledger_id, IndexUpkeep::MayDefer)?;
    let index = background::catch_up(ctx, j.index)?;
    let vkey = verifier_key(&j.origin, &j.origin_key);
    if json {
        output::json(&json!({
            "ledger": ctx.ledger_path, "ledger_id": j.ledger_id.to_hex(), "origin": j.origin, "origin_vkey": vkey,
            "member": j.member, "imported": import_json(&j.imported), "index": index.json(),
        }));
    } else {
        say!("joined ledger {} at {}", j.ledger_id, ctx.ledger_path.display());
        say!("origin:     {} (declared by {})", safe(&j.origin), safe(&j.member));
        say!("origin key: {vkey}");
        print_import(&j.imported);
        index.say();
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn export(
    ctx: &Context,
    out: &Path,
    since: Option<&Path>,
    no_blobs: bool,
    zstd: bool,
    signer: Option<&str>,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    let e = workflow::sync::export_recorded(ctx, signer, out, since, no_blobs, zstd)?;
    for w in &e.warnings {
        output::warn(w);
    }
    let r = &e.report;
    if json {
        output::json(&json!({
            "out": e.path, "compressed": e.compressed, "entries": r.entries, "bytes": r.bytes,
            "payload_bytes": r.payload_bytes, "blobs": r.blobs, "cosignatures": r.cosignatures,
            "digest": r.digest.to_hex(), "unchecked_tail": r.unchecked_tail, "warnings": e.warnings,
            "origins": r.origins.iter().map(|o| json!({"origin": o.name, "from": o.from, "to": o.to, "own": o.own})).collect::<Vec<_>>(),
        }));
    } else {
        for o in &r.origins {
            say!("origin {}{}: leaves {}..{}", safe(&o.name), if o.own { " (own)" } else { "" }, o.from, o.to);
        }
        say!(
            "wrote {} ({} entries, {} evidence blobs, {} cosignatures, {} bytes{})",
            e.path.display(),
            r.entries,
            r.blobs,
            r.cosignatures,
            r.bytes,
            if e.compressed { " before zstd" } else { "" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn import(ctx: &Context, file: &Path, json: bool) -> Result<ExitCode, WorkflowError> {
    let i = workflow::sync::import(ctx, file, IndexUpkeep::MayDefer)?;
    let index = background::catch_up(ctx, i.index)?;
    for w in &i.warnings {
        output::warn(w);
    }
    if json {
        let mut j = import_json(&i.report);
        j["warnings"] = json!(i.warnings);
        j["index"] = index.json();
        output::json(&j);
    } else {
        print_import(&i.report);
        index.say();
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn checkpoints(ctx: &Context, out: &Path, json: bool) -> Result<ExitCode, WorkflowError> {
    let n = workflow::sync::checkpoints(ctx, out)?;
    if json {
        output::json(&json!({"out": out, "origins": n}));
    } else {
        say!("wrote the latest checkpoint of {n} origin{} to {}", if n == 1 { "" } else { "s" }, out.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn sync_git(
    ctx: &Context,
    dir: &Path,
    offline: bool,
    pull_only: bool,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    let s = workflow::gitsync::sync_git(ctx, dir, offline, pull_only)?;
    for w in s.exported.iter().flat_map(|e| &e.warnings) {
        output::warn(w);
    }
    if json {
        output::json(&json!({
            "peers": s.peers.iter().map(|p| match &p.result {
                Ok(i) => json!({"file": p.file, "ok": true, "unchanged": p.unchanged, "import": import_json(&i.report)}),
                Err(e) => json!({"file": p.file, "ok": false, "error": e}),
            }).collect::<Vec<_>>(),
            "exported": s.exported.as_ref().map(|e| json!({"out": e.path, "entries": e.report.entries, "digest": e.report.digest.to_hex()})),
            "committed": s.committed, "pushed": s.pushed, "push_attempts": s.push_attempts, "refused": s.refused(),
        }));
    } else {
        for p in &s.peers {
            let name = p.file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            match &p.result {
                Ok(_) if p.unchanged => say!("{}: unchanged since the last import", safe(&name)),
                Ok(i) => say!(
                    "{}: added {}{}",
                    safe(&name),
                    output::count(i.report.added(), "entry", "entries"),
                    i.report.copies_said().map(|c| format!("; SECURITY: {c}")).unwrap_or_default()
                ),
                Err(e) => say!("{}: REFUSED: {}", safe(&name), safe(e)),
            }
        }
        match &s.exported {
            Some(e) => say!(
                "wrote {} ({} entries){}{}",
                e.path.display(),
                e.report.entries,
                if s.committed { ", committed" } else { ", unchanged" },
                if s.pushed {
                    format!(", pushed ({} attempt{})", s.push_attempts, if s.push_attempts == 1 { "" } else { "s" })
                } else {
                    String::new()
                }
            ),
            None => say!("wrote nothing to {} (--pull-only)", dir.display()),
        }
    }
    if s.refused() > 0 {
        return Err(WorkflowError::Refused(format!("{} peer bundle(s) were refused; see above", s.refused())));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn verify_bundle(
    bundle: &Path,
    pin: Option<crate::ledger::Hash>,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    let copy = match workflow::sync::open_bundle(bundle) {
        Ok(c) => c,
        Err(WorkflowError::Sync(e)) => {
            // The bundle's file (or the audit copy's) not read is not a bundle found wrong.
            let not_read = match &e {
                crate::sync::SyncError::Io(..) | crate::sync::SyncError::AuditCopy(..) => true,
                crate::sync::SyncError::Ledger(l) => crate::ledger::not_read(l),
                _ => false,
            };
            if json {
                output::json(
                    &json!({"bundle": bundle, "intact": false, "integrity": {"ok": false, "failure": {"problem": e.to_string(), "not_read": not_read}},
                        "ledger_id_expected": pin.map(|h| h.to_hex()), "ledger_id_matches": null}),
                );
            } else {
                say!("bundle {}", safe(&bundle.display().to_string()));
                match (not_read, &e) {
                    (true, crate::sync::SyncError::AuditCopy(..)) => {
                        say!("integrity: NOT VERIFIED, {}", safe(&e.to_string()))
                    }
                    (true, _) => {
                        say!("integrity: NOT VERIFIED, the bundle could not be read: {}", safe(&e.to_string()))
                    }
                    (false, _) => say!("integrity: FAILED: {}", safe(&e.to_string())),
                }
            }
            return Ok(ExitCode::from(crate::cli::EXIT_CHECK_FAILED));
        }
        Err(e) => return Err(e),
    };
    let ledger = crate::ledger::Ledger::open_read_only(&copy.path)?;
    let r = workflow::verify::verify_open(&ledger);
    crate::cli::print::print_verify(&r, &format!("bundle {}", bundle.display()), pin, json)
}

pub(crate) fn prove(
    ctx: &Context,
    entry: Option<&str>,
    out: &Path,
    entry_out: Option<&Path>,
    consistency: Option<u64>,
    origin: Option<&str>,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    let write = |p: &Path, bytes: &[u8]| std::fs::write(p, bytes).map_err(|e| WorkflowError::Read(p.to_path_buf(), e));
    if let Some(old) = consistency {
        let (text, new) = workflow::proofs::consistency(ctx, origin, old)?;
        write(out, text.as_bytes())?;
        if json {
            output::json(&json!({"out": out, "old": old, "new": new}));
        } else {
            say!("wrote a consistency proof from size {old} to {new} to {}", out.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let p = workflow::proofs::entry(ctx, entry.unwrap_or_default())?;
    let entry_path = entry_out.map(Path::to_path_buf).unwrap_or_else(|| {
        let mut s = out.as_os_str().to_owned();
        s.push(".entry");
        s.into()
    });
    write(out, p.text.as_bytes())?;
    write(&entry_path, &p.statement)?;
    if json {
        output::json(
            &json!({"out": out, "entry_file": entry_path, "origin": p.origin, "index": p.index, "size": p.size, "witnesses": p.witnesses}),
        );
    } else {
        say!(
            "wrote the proof of entry {} of {} (checkpoint size {}{}) to {}",
            p.index,
            safe(&p.origin),
            p.size,
            if p.witnesses.is_empty() {
                String::new()
            } else {
                format!(", cosigned by {}", safe(&p.witnesses.join(", ")))
            },
            out.display()
        );
        say!("wrote the entry's bytes to {}", entry_path.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn verify_proof(
    file: &Path,
    entry_file: Option<&Path>,
    keys: &[String],
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    let v = workflow::proofs::verify(file, entry_file, keys)?;
    match v {
        Ok(v) => {
            if json {
                output::json(&json!({
                    "valid": true, "origin": v.origin, "origin_vkey": v.origin_vkey, "key_trusted": v.key_trusted,
                    "size": v.size, "old": v.old, "witnesses": v.witnesses,
                    "entry": v.entry.as_ref().map(|(i, id, kind, actor)| json!({"index": i, "entry_id": id.to_hex(), "kind": kind, "actor": actor})),
                }));
            } else {
                match &v.entry {
                    Some((i, id, kind, actor)) => say!(
                        "valid: entry {} ({}, signed by {}) is leaf {i} of {} under its checkpoint of size {}",
                        id.short(16),
                        safe(kind),
                        safe(actor),
                        safe(&v.origin),
                        v.size
                    ),
                    None => say!(
                        "valid: {} at size {} extends its checkpoint of size {}",
                        safe(&v.origin),
                        v.size,
                        v.old.unwrap_or(0)
                    ),
                }
                if !v.witnesses.is_empty() {
                    say!("cosigned by {}", safe(&v.witnesses.join(", ")));
                }
                if v.key_trusted {
                    say!("origin key {} matches the trusted key given", safe(&v.origin_vkey));
                } else {
                    say!(
                        "origin key {} was read from the proof: compare it with the ledger's published key (or pass --key)",
                        safe(&v.origin_vkey)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            if json {
                output::json(&json!({"valid": false, "problem": why}));
            } else {
                say!("INVALID: {}", safe(&why));
            }
            Ok(ExitCode::from(crate::cli::EXIT_CHECK_FAILED))
        }
    }
}
