//! The ledger's own commands: `init` (found or join), `note`, `log`, `verify` (this ledger or a bundle)
//! and `rebuild` (the request index).

use crate::cli::args::{InitArgs, LogArgs, NoteArgs, VerifyArgs};
use crate::cli::output;
use crate::cli::print::{on_request, print_verify, receipt};
use crate::ledger::note::verifier_key;
use crate::say;
use crate::text::safe;
use crate::workflow::{self, Context, WorkflowError};
use serde_json::json;
use std::process::ExitCode;

/// `init --admin NAME` founds a ledger; `init --join BUNDLE --as NAME` joins one.
pub(crate) fn init_or_join(ctx: &Context, a: InitArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    match a {
        InitArgs { admin: Some(admin), origin, policy, join: None, .. } => {
            init(ctx, &admin, origin.as_deref(), policy.as_deref(), json)
        }
        InitArgs { join: Some(bundle), member, origin, ledger_id, .. } => {
            let member = member.as_deref().unwrap_or_default();
            super::sync::join(ctx, &bundle, member, origin.as_deref(), ledger_id.as_deref(), json)
        }
        InitArgs { .. } => Err(WorkflowError::Usage("init needs --admin NAME, or --join BUNDLE --as NAME".into())),
    }
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
    for w in &i.warnings {
        output::warn(w);
    }
    if json {
        output::json(&json!({
            "ledger": ctx.ledger_path, "ledger_id": i.ledger_id.to_hex(), "origin": i.origin,
            "origin_key": i.origin_key.encode(), "origin_vkey": vkey, "admin": i.admin,
            "admin_key": i.admin_key.encode(), "checkpoint": i.checkpoint, "warnings": i.warnings,
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

/// `note TEXT [--on REQ]`.
pub(crate) fn note(ctx: &Context, a: NoteArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let NoteArgs { text, on, signer } = a;
    match on {
        None => {
            let r = workflow::note::note(ctx, signer.name.as_deref(), &text, None)?;
            receipt("note", &r, json);
        }
        Some(req) => {
            let (r, id) = workflow::lifecycle::note_on(ctx, signer.name.as_deref(), &req, &text)?;
            on_request("note", &r, &id, json);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `log`: the raw entries of a log, streamed.
pub(crate) fn log(ctx: &Context, a: LogArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    if a.follow || a.after.is_some() || !a.kind.is_empty() || a.request.is_some() {
        return log_stream(ctx, a, json);
    }
    log_of(ctx, a.origin.as_deref(), a.from, a.limit, json)
}

/// "name (key id)", "? (key id)" for a key the roster does not name, else the actor as stored; sanitized.
fn actor_label(name: &Option<String>, key_id: &Option<String>, actor: &str) -> String {
    match (name, key_id) {
        (Some(n), Some(k)) => format!("{} ({k})", crate::text::safe(n)),
        (None, Some(k)) => format!("? ({k})"),
        _ => crate::text::safe(actor),
    }
}

/// How often `log --follow` looks for new entries.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// `log --follow` / `--after`: every entry of every log in the order it arrived in this file, one line
/// each, flushed as written; a closed output (the shipper went away) ends it quietly.
fn log_stream(ctx: &Context, a: LogArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    use std::io::Write;
    let filter = workflow::log::StreamFilter {
        after: a.after.unwrap_or(0).min(i64::MAX as u64) as i64,
        kinds: a.kind,
        request: a.request,
    };
    let stdout = std::io::stdout();
    let follow = a.follow.then_some(FOLLOW_EVERY);
    workflow::log::stream(ctx, &filter, follow, |l| {
        let safe = crate::text::safe;
        let text = if json {
            let (origin, index, position) = match &l.origin {
                Some((o, i, p)) => (json!(o), json!(i), json!(p)),
                None => (serde_json::Value::Null, serde_json::Value::Null, serde_json::Value::Null),
            };
            // Escaped as every other JSON output is: a member name from a peer's roster entry may hold C1
            // controls or bidi overrides, which plain serde_json writes raw.
            crate::text::json_line(&json!({
                "seq": l.seq, "entry_id": l.entry_id.to_hex(), "kind": l.kind, "actor": l.actor,
                "actor_key_id": l.actor_key_id, "actor_name": l.actor_name, "ts": l.ts, "origin": origin,
                "index": index, "position": position, "verified": l.verified,
                "refs": l.refs.iter().map(|r| r.to_hex()).collect::<Vec<_>>(),
            }))?
        } else {
            let actor = actor_label(&l.actor_name, &l.actor_key_id, &l.actor);
            let at =
                l.origin.as_ref().map(|(o, i, _)| format!("{}#{i}", safe(o))).unwrap_or_else(|| "(in no log)".into());
            let mark = if l.verified { "" } else { "  UNVERIFIED" };
            format!("{:>8}  {}  {at}  {}  {actor}  {}{mark}", l.seq, l.entry_id.short(16), safe(&l.kind), safe(&l.ts))
        };
        let mut out = stdout.lock();
        // A closed pipe: whoever read the stream has gone; stop without an error.
        Ok(writeln!(out, "{text}").and_then(|()| out.flush()).is_ok())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Listings up to this long are measured before they are printed (two passes, each column exactly as wide
/// as its widest cell); a longer one is printed as it is read, its columns sized from what they can hold.
/// `ROLLCALL_LOG_MEASURED_UP_TO` sets another length.
const MEASURED_UP_TO: u64 = 10_000;

fn measured_up_to() -> u64 {
    std::env::var("ROLLCALL_LOG_MEASURED_UP_TO").ok().and_then(|s| s.parse().ok()).unwrap_or(MEASURED_UP_TO)
}

fn log_of(
    ctx: &Context,
    origin: Option<&str>,
    from: u64,
    limit: Option<u64>,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    // Streamed a page at a time: a log of any length in bounded memory.
    let listing = workflow::log::LogListing::open(ctx, origin, from, limit.unwrap_or(u64::MAX))?;
    let mut out = output::Blocks::new();
    if json {
        let mut entries = output::JsonArray::open(&mut out, "entries");
        let head = listing.each(1, |_, l| {
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
    let shape = listing.shape()?;
    let passes = match (&shape.kinds, shape.last_index) {
        (Some(kinds), Some(last)) if shape.rows > measured_up_to() => {
            // What every row's first four cells can be: its index, a short id, a kind stored in the file,
            // a signer the roster names or one it does not (the time is the last column: never padded).
            let id = "0".repeat(16);
            table.measure(&[last.to_string(), id.clone(), String::new(), actor_label(&None, &Some(id), "")]);
            for kind in kinds {
                table.measure(&[String::new(), String::new(), kind.clone(), String::new()]);
            }
            for (name, key_id) in &shape.signers {
                let label = actor_label(&Some(name.clone()), &Some(key_id.clone()), "");
                table.measure(&[String::new(), String::new(), String::new(), label]);
            }
            1
        }
        _ => 2,
    };
    listing.each(passes, |pass, l| {
        let actor = actor_label(&l.actor_name, &l.actor_key_id, &l.actor);
        // The last pass writes.
        table.row(pass + 2 - passes, &[l.index.to_string(), l.entry_id.short(16), l.kind, actor, l.ts]);
        Ok(())
    })?;
    // An empty log still prints its header line, as before.
    table.header_only();
    Ok(ExitCode::SUCCESS)
}

/// `verify`: this ledger, or a bundle on its own (`--bundle`).
pub(crate) fn verify(ctx: &Context, a: VerifyArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let pin = a.ledger_id.as_deref().map(workflow::query::ledger_id_arg).transpose()?;
    match a.bundle {
        None => {
            let r = workflow::verify::verify(ctx)?;
            print_verify(&r, &ctx.ledger_path.display().to_string(), pin, json)
        }
        Some(b) => super::sync::verify_bundle(&b, pin, json),
    }
}

/// `rebuild`: the request index from the entries; with `--if-behind`, only brought up to date.
pub(crate) fn rebuild(ctx: &Context, if_behind: bool, json: bool) -> Result<ExitCode, WorkflowError> {
    let ledger = ctx.open()?;
    if if_behind {
        workflow::index::catch_up(&ledger, workflow::clock::now())?;
        if json {
            output::json(&json!({"index": "current"}));
        } else {
            say!("the request index is up to date");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let n = workflow::index::rebuild(&ledger, workflow::clock::now())?;
    if json {
        output::json(&json!({"requests": n}));
    } else {
        say!("rebuilt the request index: {n} requests");
    }
    Ok(ExitCode::SUCCESS)
}

/// `rebuild --into PATH`: the record copied into a new file, its caches built, the copy verified.
pub(crate) fn salvage(ctx: &Context, into: &std::path::Path, json: bool) -> Result<ExitCode, WorkflowError> {
    let s = workflow::salvage::salvage(ctx, into)?;
    let rows: serde_json::Map<String, serde_json::Value> = s.rows.iter().map(|(t, n)| (t.clone(), json!(n))).collect();
    let from = ctx.ledger_path.display().to_string();
    let to = s.into.display().to_string();
    if json {
        output::json(&json!({
            "from": from, "into": to, "rows": rows, "requests": s.requests, "intact": s.verified.intact(),
            "entries": s.verified.origins.iter().map(|o| o.verified).sum::<u64>(),
        }));
    } else {
        let count = |t: &str| s.rows.iter().find(|(n, _)| n == t).map_or(0, |(_, n)| *n);
        let (from, to) = (crate::text::safe(&from), crate::text::safe(&to));
        say!(
            "copied the record of {from} into {to}: {}, {}, {}, {}",
            output::count(count("entries"), "entry", "entries"),
            output::count(count("leaves"), "leaf", "leaves"),
            output::count(count("checkpoints"), "checkpoint", "checkpoints"),
            output::count(count("blobs"), "evidence blob", "evidence blobs"),
        );
        say!("built its request index anew ({} requests); verified: intact", s.requests);
        say!(
            "{from} is unchanged. To use the copy, with no rollcall process holding the ledger: move {from} away \
             with its -wal and -shm files if any (for example to {from}.damaged), then move {to} to {from}"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `ingest SOURCE INPUT --env E --component C`: a deployment history recorded, rollbacks counted.
pub(crate) fn ingest(ctx: &Context, a: crate::cli::args::IngestArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let r = workflow::ingest::ingest_named(
        ctx,
        a.signer.name.as_deref(),
        &a.source,
        &a.input,
        a.env.as_deref(),
        a.component.as_deref(),
    )?;
    if json {
        println!(
            "{}",
            json!({"seen": r.seen, "recorded": r.recorded, "rollbacks": r.rollbacks, "already": r.already,
                   "input_sha256": r.input_sha256})
        );
    } else {
        // The names given, or those the input named (a few, then how many more).
        let names = |given: Option<&str>, found: &[String]| -> String {
            match given {
                Some(g) => crate::text::safe(g),
                None if found.is_empty() => "-".to_string(),
                None if found.len() <= 3 => found.iter().map(|f| crate::text::safe(f)).collect::<Vec<_>>().join(", "),
                None => format!(
                    "{} and {} more",
                    found[..3].iter().map(|f| crate::text::safe(f)).collect::<Vec<_>>().join(", "),
                    found.len() - 3
                ),
            }
        };
        println!(
            "observed {} deployment{} of {} in {}: {} recorded ({} rollback{}), {} recorded before",
            r.seen,
            if r.seen == 1 { "" } else { "s" },
            names(a.component.as_deref(), &r.components),
            names(a.env.as_deref(), &r.envs),
            r.recorded,
            r.rollbacks,
            if r.rollbacks == 1 { "" } else { "s" },
            r.already
        );
    }
    Ok(ExitCode::SUCCESS)
}
