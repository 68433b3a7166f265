//! One function per command: call `workflow`, print the result.

use super::args::{Cli, Command, KeyCommand};
use super::output::{self, Table};
use crate::ledger::note::verifier_key;
use crate::say;
use crate::text::safe;
use crate::workflow::{self, Context, Receipt, WorkflowError};
use serde_json::json;
use std::process::ExitCode;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, WorkflowError> {
    let json = cli.json;
    let ctx = Context::from_env(cli.ledger)?;
    let Some(command) = cli.command else {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            crate::tui::run(ctx, crate::tui::Options::default())?;
            return Ok(ExitCode::SUCCESS);
        }
        return Err(WorkflowError::Usage("no command given; see `rollcall --help`".into()));
    };
    match command {
        Command::Key { command: KeyCommand::New { name } } => key_new(&ctx, &name, json),
        Command::Key { command: KeyCommand::List } => key_list(&ctx, json),
        Command::Init { admin: Some(admin), origin, policy, join: None, .. } => {
            init(&ctx, &admin, origin.as_deref(), policy.as_deref(), json)
        }
        Command::Init { join: Some(bundle), member, origin, .. } => {
            super::sync::join(&ctx, &bundle, member.as_deref().unwrap_or_default(), origin.as_deref(), json)
        }
        Command::Init { .. } => Err(WorkflowError::Usage("init needs --admin NAME, or --join BUNDLE --as NAME".into())),
        Command::Note { text, on: None, signer } => {
            let r = workflow::note::note(&ctx, signer.name.as_deref(), &text, None)?;
            receipt("note", &r, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Note { text, on: Some(req), signer } => {
            let (r, id) = workflow::lifecycle::note_on(&ctx, signer.name.as_deref(), &req, &text)?;
            on_request("note", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Log { origin, from, limit } => log(&ctx, origin.as_deref(), from, limit, json),
        Command::Verify { bundle: None } => {
            let r = workflow::verify::verify(&ctx)?;
            print_verify(&r, &ctx.ledger_path.display().to_string(), json)
        }
        Command::Verify { bundle: Some(b) } => super::sync::verify_bundle(&b, json),
        other => super::domain::run(&ctx, other, json),
    }
}

fn key_new(ctx: &Context, name: &str, json: bool) -> Result<ExitCode, WorkflowError> {
    let k = workflow::keys::new_key(ctx, name)?;
    if json {
        output::json(&json!({
            "name": k.name, "key_id": k.public_key.key_id(), "public_key": k.public_key.encode(),
            "path": k.path, "created": k.created,
        }));
    } else {
        say!("created key {} ({})", k.name, k.public_key.key_id());
        say!("public key: {}", k.public_key.encode());
        say!("stored encrypted at {}", k.path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn key_list(ctx: &Context, json: bool) -> Result<ExitCode, WorkflowError> {
    let (keys, problems) = workflow::keys::list_keys(ctx)?;
    for p in &problems {
        output::warn(p);
    }
    if json {
        let list: Vec<_> = keys
            .iter()
            .map(|k| json!({"name": k.name, "key_id": k.public_key.key_id(), "public_key": k.public_key.encode(), "created": k.created,
                "kdf": {"alg": k.kdf.alg, "version": k.kdf.version, "m_kib": k.kdf.m_kib, "t": k.kdf.t, "p": k.kdf.p, "weak": k.kdf.is_weak()}}))
            .collect();
        output::json(&json!({"keys": list, "problems": problems}));
    } else if keys.is_empty() {
        say!("no keys in {} (create one with `rollcall key new NAME`)", ctx.keystore.keys_dir().display());
    } else {
        let mut t = Table::new(&["NAME", "KEY ID", "PUBLIC KEY", "KDF"]);
        for k in &keys {
            let weak = if k.kdf.is_weak() { " WEAK" } else { "" };
            t.row(vec![
                k.name.clone(),
                k.public_key.key_id(),
                k.public_key.encode(),
                format!("{}{weak}", k.kdf.describe()),
            ]);
        }
        output::emit(&t.render());
    }
    Ok(ExitCode::SUCCESS)
}

fn init(
    ctx: &Context,
    admin: &str,
    origin: Option<&str>,
    policy: Option<&std::path::Path>,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    let i = workflow::init::init(ctx, admin, origin, policy)?;
    let vkey = verifier_key(&i.origin, &i.origin_key);
    if json {
        output::json(&json!({
            "ledger": ctx.ledger_path, "ledger_id": i.ledger_id.to_hex(), "origin": i.origin,
            "origin_key": i.origin_key.encode(), "origin_vkey": vkey, "admin": i.admin,
            "admin_key": i.admin_key.encode(), "checkpoint": i.checkpoint,
        }));
    } else {
        say!("created ledger {}", ctx.ledger_path.display());
        say!("ledger id:  {}", i.ledger_id);
        say!("origin:     {}", safe(&i.origin));
        say!("origin key: {vkey}");
        say!("admin:      {} ({})", safe(&i.admin), i.admin_key.key_id());
        output::emit(&format!("checkpoint:\n{}", i.checkpoint));
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints what an entry on a request got.
pub fn on_request(what: &str, r: &Receipt, request: &crate::ledger::EntryId, json: bool) {
    for w in &r.warnings {
        output::warn(w);
    }
    if json {
        output::json(&json!({
            "entry_id": r.entry_id.to_hex(), "request": request.to_hex(), "index": r.index, "size": r.size,
            "checkpointed": r.checkpointed, "warnings": r.warnings,
        }));
    } else {
        say!("recorded {what} {} on request {} (index {})", r.entry_id.short(16), request.short(12), r.index);
    }
}

/// Prints what a recorded entry got.
pub fn receipt(what: &str, r: &Receipt, json: bool) {
    for w in &r.warnings {
        output::warn(w);
    }
    if json {
        output::json(&json!({
            "entry_id": r.entry_id.to_hex(), "index": r.index, "size": r.size,
            "checkpointed": r.checkpointed, "warnings": r.warnings,
        }));
    } else {
        say!("recorded {what} {} at index {}", r.entry_id, r.index);
    }
}

fn log(
    ctx: &Context,
    origin: Option<&str>,
    from: u64,
    limit: Option<u64>,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    // Streamed a page at a time: a log of any length in bounded memory.
    let limit = limit.unwrap_or(u64::MAX);
    let mut out = output::Blocks::new();
    if json {
        let mut entries = output::JsonArray::open(&mut out, "entries");
        let head = workflow::log::log_each(ctx, origin, from, limit, 1, |_, l| {
            entries.push(&json!({
                "index": l.index, "entry_id": l.entry_id.to_hex(), "kind": l.kind, "actor": l.actor,
                "actor_key_id": l.actor_key_id, "actor_name": l.actor_name, "ts": l.ts,
            }));
            Ok(())
        })?;
        entries.close(&[("origin", head.origin.into()), ("size", head.size.into())]);
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = output::TwoPass::new(&["INDEX", "ENTRY", "KIND", "ACTOR", "TIME"], &mut out);
    workflow::log::log_each(ctx, origin, from, limit, 2, |pass, l| {
        let actor = match (&l.actor_name, &l.actor_key_id) {
            (Some(n), Some(k)) => format!("{n} ({k})"),
            (None, Some(k)) => format!("? ({k})"),
            _ => l.actor.clone(),
        };
        table.row(pass, &[l.index.to_string(), l.entry_id.short(16), l.kind, actor, l.ts]);
        Ok(())
    })?;
    // An empty log still prints its header line, as before.
    table.header_only();
    Ok(ExitCode::SUCCESS)
}

/// Prints a verification report of the ledger (or bundle) named `what`.
pub fn print_verify(r: &workflow::verify::VerifyReport, what: &str, json: bool) -> Result<ExitCode, WorkflowError> {
    let audit = workflow::sync::AUDIT_ORIGIN;
    let witnesses: Vec<_> = r
        .witnesses
        .by_origin
        .iter()
        .map(|(o, ws)| json!({"origin": o, "witnesses": ws.iter().map(|w| json!({"witness": w.name, "size": w.size, "time": w.time})).collect::<Vec<_>>()}))
        .collect();
    let equivocations: Vec<_> = r
        .witnesses
        .equivocations
        .iter()
        .map(|e| {
            json!({"origin": e.origin, "kind": e.kind, "detected": e.detected, "detail": e.detail, "ours": e.ours,
            "theirs": e.theirs, "evidence": e.evidence_digest()})
        })
        .collect();
    let acknowledged: Vec<_> = r
        .witnesses
        .acknowledged
        .iter()
        .map(|(e, a)| json!({"origin": e.origin, "kind": e.kind, "detected": e.detected, "detail": e.detail,
            "evidence": e.evidence_digest(), "entry_id": a.entry.to_hex(), "by": a.by, "at": a.at, "finding": a.finding}))
        .collect();
    if json {
        let origins: Vec<_> = r
            .origins
            .iter()
            .map(|o| {
                json!({
                    "origin": o.origin, "vkey": o.vkey, "size": o.size, "verified": o.verified, "signatures": o.signatures,
                    "own": r.origins.first().map(|f| f.origin == o.origin).unwrap_or(false),
                    "checkpoints": o.checkpoints, "root": o.root.map(|h| h.to_hex()),
                    "latest_checkpoint": o.latest_checkpoint.map(|(s, h)| json!({"size": s, "root": h.to_hex()})),
                })
            })
            .collect();
        let completeness: Vec<_> = r
            .completeness
            .iter()
            .map(|c| {
                json!({
                    "origin": c.origin, "size": c.size, "checkpointed": c.checkpointed,
                    "unchecked_tail": c.unchecked_tail, "witnessed": c.witnessed, "statement": c.statement,
                })
            })
            .collect();
        let failure = r.failure.as_ref().map(|f| {
            json!({"origin": f.origin, "index": f.index, "entry_id": f.entry_id.map(|h| h.to_hex()), "problem": f.problem})
        });
        let discounted: Vec<_> = r
            .discounted
            .iter()
            .map(|d| json!({"index": crate::ledger::pos::index_of(d.pos), "entry_id": d.id.to_hex(), "kind": d.kind, "reason": d.reason}))
            .collect();
        let purged: Vec<_> = r
            .blobs
            .purged
            .iter()
            .map(|(id, p)| json!({"evidence": id.to_hex(), "purged_by": p.actor.encode(), "at": crate::ledger::statement::format_ts(p.ts), "reason": p.reason, "entry_id": p.entry.to_hex()}))
            .collect();
        output::json(&json!({
            "witnesses": witnesses, "equivocations": equivocations, "acknowledged": acknowledged,
            "evidence": {"checked": r.blobs.checked, "purged": purged, "not_held": r.blobs.not_held},
            "does_not_count": discounted,
            "ledger": what, "ledger_id": r.ledger_id.map(|h| h.to_hex()), "intact": r.intact(),
            "integrity": {"ok": r.intact(), "failure": failure},
            "completeness": completeness, "origins": origins, "elapsed_ms": r.elapsed.as_millis() as u64,
        }));
    } else {
        say!("ledger {} ({})", r.ledger_id.map(|h| h.to_hex()).unwrap_or_else(|| "?".into()), what);
        for o in r.origins.iter().filter(|o| o.origin != audit) {
            say!(
                "origin {}: {} of {} verified, {}, {}",
                safe(&o.origin),
                o.verified,
                output::count(o.size, "entry", "entries"),
                output::count(o.signatures, "signature", "signatures"),
                output::count(o.checkpoints, "checkpoint", "checkpoints")
            );
        }
        match &r.failure {
            None => say!("integrity: OK (every entry, signature, leaf, tree hash and checkpoint checks out)"),
            Some(f) => say!("integrity: FAILED at {}", safe(&f.to_string())),
        }
        for c in r.completeness.iter().filter(|c| c.origin != audit) {
            say!("completeness ({}): {}", safe(&c.origin), c.statement);
        }
        for e in &r.witnesses.equivocations {
            say!("{}", workflow::sync::equivocation_line(e));
            say!(
                "  evidence {}: once investigated, `rollcall acknowledge {} --finding ..` (admin or security approver)",
                e.evidence_digest(),
                &e.evidence_digest()[..16]
            );
        }
        for (e, a) in &r.witnesses.acknowledged {
            say!("{}", workflow::sync::acknowledged_line(e, a));
        }
        say!(
            "evidence: {} blob{} match their digests{}",
            r.blobs.checked,
            if r.blobs.checked == 1 { "" } else { "s" },
            if r.blobs.purged.is_empty() { String::new() } else { format!("; {} purged", r.blobs.purged.len()) }
        );
        if r.blobs.not_held > 0 {
            say!(
                "  {} blob{} of other origins not held here (imported without evidence)",
                r.blobs.not_held,
                if r.blobs.not_held == 1 { "" } else { "s" }
            );
        }
        for (id, p) in &r.blobs.purged {
            say!(
                "  evidence {} purged by {} at {}: {}",
                id.short(12),
                p.actor.key_id(),
                p.ts.format("%Y-%m-%d %H:%M UTC"),
                safe(&p.reason)
            );
        }
        if r.discounted.is_empty() {
            say!("authorization: every entry's signer counted");
        } else {
            say!(
                "authorization: {} entr{} intact but do not count:",
                r.discounted.len(),
                if r.discounted.len() == 1 { "y is" } else { "ies are" }
            );
            for d in &r.discounted {
                say!("  #{} {} {}: {}", crate::ledger::pos::index_of(d.pos), d.id.short(16), d.kind, safe(&d.reason));
            }
        }
        say!("verified in {:.2} s", r.elapsed.as_secs_f64());
    }
    Ok(if r.intact() { ExitCode::SUCCESS } else { ExitCode::from(super::EXIT_CHECK_FAILED) })
}
