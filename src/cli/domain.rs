//! The rollback commands: requests, decisions, lifecycle, identity, policy, gate, obligations.

use super::args::{Command, EvidenceCommand, IncidentCommand, PageArg, PolicyCommand, RequestCommand};
use super::commands::on_request;
use super::output::{self, Table};
use super::render;
use crate::audit::bodies::{Check, CheckResult, Decision, Outcome, Resolution, ReviewKind};
use crate::audit::projection::Status;
use crate::audit::record::{RequestBody, split_command};
use crate::demo;
use crate::say;
use crate::text::safe;
use crate::workflow::identity::GovernanceReceipt;
use crate::workflow::lifecycle::Execution;
use crate::workflow::query::Filter;
use crate::workflow::{self, Context, WorkflowError};
use serde_json::json;
use std::process::ExitCode;

fn usage(msg: String) -> WorkflowError {
    WorkflowError::Usage(msg)
}

fn governance(what: &str, g: &GovernanceReceipt, json: bool) {
    for w in &g.receipt.warnings {
        output::warn(w);
    }
    if json {
        output::json(&json!({
            "entry_id": g.receipt.entry_id.to_hex(), "index": g.receipt.index, "proposal": g.proposal.to_hex(),
            "in_effect": g.in_effect, "signatures": {"have": g.signatures.0, "need": g.signatures.1},
        }));
    } else if g.in_effect {
        say!("recorded {what} {} (index {}); in effect", g.receipt.entry_id.short(16), g.receipt.index);
    } else {
        say!(
            "recorded {what} {} (index {}); pending: {} of {} admin signatures — another admin runs `rollcall cosign {}`",
            g.receipt.entry_id.short(16),
            g.receipt.index,
            g.signatures.0,
            g.signatures.1,
            g.proposal.short(12)
        );
    }
}

fn read_record_file(path: &std::path::Path) -> Result<RequestBody, WorkflowError> {
    let meta = std::fs::metadata(path).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))?;
    if meta.len() > 1024 * 1024 {
        return Err(usage(format!("{} is larger than 1 MiB; a request file is a small JSON document", path.display())));
    }
    let bytes = crate::paths::read_capped(path, 1024 * 1024).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))?;
    serde_json::from_slice(&bytes).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// Runs a rollback command.
pub fn run(ctx: &Context, command: Command, json: bool) -> Result<ExitCode, WorkflowError> {
    match command {
        Command::Request { command } => request(ctx, *command, json),
        Command::List { status, env, risk, flagged, limit } => {
            let status = match status {
                Some(s) => Some(
                    Status::parse(&s)
                        .ok_or_else(|| usage(format!("unknown status {s:?} ({})", Status::ALL.join(", "))))?,
                ),
                None => None,
            };
            let filter = Filter { status, env, risk, flagged, limit };
            // Streamed: a listing of any length in bounded memory (a table is measured, then printed).
            let mut out = output::Blocks::new();
            if json {
                let mut requests = output::JsonArray::open(&mut out, "requests");
                workflow::query::list_each(ctx, &filter, 1, |_, r| {
                    requests.push(&render::row_json(&r));
                    Ok(())
                })?;
                requests.close(&[]);
                return Ok(ExitCode::SUCCESS);
            }
            let mut table =
                output::TwoPass::new(&["ID", "STATUS", "RISK", "ENV", "APPR", "TITLE", "REQUESTER", "DUE"], &mut out);
            workflow::query::list_each(ctx, &filter, 2, |pass, r| {
                let due = match (r.obligation_due, r.overdue) {
                    (Some(d), true) => format!("OVERDUE {}", d.format("%Y-%m-%d %H:%M")),
                    (Some(d), false) => d.format("%Y-%m-%d %H:%M").to_string(),
                    (None, _) => String::new(),
                };
                let title = crate::text::truncate(&r.title, 50).into_owned();
                let appr = format!("{}/{}", r.have, r.need);
                table.row(pass, &[r.id.short(12), r.status, r.tier, r.env, appr, title, r.requester, due]);
                Ok(())
            })?;
            if !table.any() {
                say!("no requests");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { req } => {
            let s = workflow::query::show(ctx, &req)?;
            if json {
                output::json(&render::show_json(&s));
            } else {
                output::emit(&render::show_text(&s));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Gate { req } => {
            let s = workflow::query::gate(ctx, &req)?;
            if json {
                let mut j = render::eval_json(&s.eval, &s.snap.roster);
                j["request"] = s.view.id.to_hex().into();
                j["evaluated_at"] = crate::ledger::statement::format_ts(s.now).into();
                output::json(&j);
            } else {
                say!(
                    "gate {} for {} ({}): {}",
                    if s.eval.gate { "PASSES" } else { "BLOCKS" },
                    s.view.id.short(12),
                    safe(&s.view.record().title),
                    s.eval.status.as_str()
                );
                output::emit(&render::checklist_text(&s.eval));
            }
            Ok(if s.eval.gate { ExitCode::SUCCESS } else { ExitCode::from(super::EXIT_CHECK_FAILED) })
        }
        Command::Approve { req, comment, signer } => {
            let (r, id) = workflow::decisions::decide(ctx, signer.name.as_deref(), &req, Decision::Approve, &comment)?;
            on_request("approval", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Reject { req, comment, signer } => {
            let (r, id) = workflow::decisions::decide(ctx, signer.name.as_deref(), &req, Decision::Reject, &comment)?;
            on_request("rejection", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Emergency { req, reason, signer } => {
            let (r, id) = workflow::decisions::emergency(ctx, signer.name.as_deref(), &req, &reason)?;
            on_request("emergency", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Execute { req, outcome, output_file, command, env, notes, signer } => {
            let outcome = match outcome.as_str() {
                "succeeded" => Outcome::Succeeded,
                "partial" => Outcome::Partial,
                _ => Outcome::Failed,
            };
            let command = command.as_deref().map(split_command).transpose().map_err(usage)?;
            let x = Execution { outcome, output_file: output_file.as_deref(), command, env, notes };
            let (r, id) = workflow::lifecycle::execute(ctx, signer.name.as_deref(), &req, x)?;
            on_request("execution", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { req, result, checks, evidence, notes, signer } => {
            let result = if result == "pass" { CheckResult::Pass } else { CheckResult::Fail };
            let checks = checks
                .iter()
                .map(|c| match c.rsplit_once('=') {
                    Some((name, "pass")) if !name.trim().is_empty() => {
                        Ok(Check { name: name.into(), result: CheckResult::Pass })
                    }
                    Some((name, "fail")) if !name.trim().is_empty() => {
                        Ok(Check { name: name.into(), result: CheckResult::Fail })
                    }
                    _ => Err(usage(format!("--check {c:?} is not NAME=pass or NAME=fail"))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (r, id) = workflow::lifecycle::validate(
                ctx,
                signer.name.as_deref(),
                &req,
                result,
                checks,
                evidence.as_deref(),
                notes,
            )?;
            on_request("validation", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Review { req, summary, lessons, kind, signer } => {
            let kind = if kind == "post-incident" { ReviewKind::PostIncident } else { ReviewKind::PostHoc };
            let (r, id) = workflow::lifecycle::review(ctx, signer.name.as_deref(), &req, kind, &summary, lessons)?;
            on_request("review", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Close { req, resolution, superseded_by, comment, signer } => {
            let resolution = match resolution.as_str() {
                "rolled-forward" => Resolution::RolledForward,
                "made-permanent" => Resolution::MadePermanent,
                _ => Resolution::Superseded,
            };
            let (r, id) = workflow::lifecycle::close(
                ctx,
                signer.name.as_deref(),
                &req,
                resolution,
                superseded_by.as_deref(),
                &comment,
            )?;
            on_request("closure", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Incident { command: IncidentCommand::Link { req, incident, url, signer } } => {
            let (r, id) =
                workflow::lifecycle::link_incident(ctx, signer.name.as_deref(), &req, &incident, url.as_deref())?;
            on_request("incident link", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Evidence { command: EvidenceCommand::Add { req, file, kind, url, source, signer } } => {
            let (r, id) = workflow::lifecycle::attach_evidence(
                ctx,
                signer.name.as_deref(),
                &req,
                &kind,
                file.as_deref(),
                url.as_deref(),
                source.as_deref(),
            )?;
            on_request("evidence", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Evidence { command: EvidenceCommand::Show { id, page: Some(which), .. } } => {
            let n = match which {
                PageArg::Number(0) => {
                    return Err(WorkflowError::Usage("pages count from 1: --page 1 is the first 64 KiB".into()));
                }
                PageArg::Number(n) => Some(n - 1),
                PageArg::Last => None,
            };
            let (ev, page) = workflow::evidence::show_page(ctx, &id, n)?;
            if json {
                output::json(&render::evidence_page_json(&ev, &page));
                return Ok(ExitCode::SUCCESS);
            }
            // The text alone on stdout (for scripts); where it lies in the file on stderr, after it.
            let clean = crate::text::multi_line(&page.text);
            output::emit(&clean.text);
            if !clean.text.ends_with('\n') && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                eprintln!();
            }
            if clean.suspicious {
                output::warn("this page contains control or invisible characters; they are printed as <U+XXXX>");
            }
            eprintln!("{}", render::page_position(&ev, &page));
            Ok(ExitCode::SUCCESS)
        }
        Command::Evidence { command: EvidenceCommand::Show { id, raw: true, .. } } => {
            if json {
                return Err(WorkflowError::Usage(
                    "--raw prints text, not JSON: use --page N with --json, or `rollcall evidence export` for the bytes"
                        .into(),
                ));
            }
            // A page at a time: decoded (a character cut between pages kept whole), sanitized, printed.
            let mut text = crate::text::Utf8Stream::default();
            let mut suspicious = false;
            let mut print = |s: &str| {
                let clean = crate::text::multi_line(s);
                suspicious |= clean.suspicious;
                output::emit(&clean.text);
            };
            workflow::evidence::read_pages(ctx, &id, &mut |bytes| {
                print(&text.push(bytes));
                Ok(())
            })?;
            print(&text.finish());
            if suspicious {
                output::warn("the text contains control or invisible characters; they are printed as <U+XXXX>");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Evidence { command: EvidenceCommand::Show { id, .. } } => {
            let ev = workflow::evidence::show(ctx, &id)?;
            if json {
                output::json(&render::evidence_json(&ev));
            } else {
                output::emit(&render::evidence_text(&ev));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Evidence { command: EvidenceCommand::Export { id, out } } => {
            let (ev, n) = workflow::evidence::export(ctx, &id, &out)?;
            if json {
                output::json(&json!({"evidence": ev.entry.to_hex(), "out": out, "bytes": n, "sha256": ev.body.sha256}));
            } else {
                say!(
                    "wrote {n} bytes to {} (sha256 {} checked)",
                    out.display(),
                    ev.body.sha256.as_deref().unwrap_or("-")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Evidence { command: EvidenceCommand::Purge { id, reason, signer } } => {
            let (r, ev) = workflow::purge::purge(ctx, signer.name.as_deref(), &id, &reason)?;
            on_request("purge", &r, &ev, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Enroll { name, pubkey, roles, signer } => {
            let g = workflow::identity::enroll(ctx, signer.name.as_deref(), &name, &pubkey, &roles)?;
            governance("enrolment", &g, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Roles { name, roles, signer } => {
            let g = workflow::identity::set_roles(ctx, signer.name.as_deref(), &name, &roles)?;
            governance("role change", &g, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Revoke { name, reason, signer } => {
            let g = workflow::identity::revoke(ctx, signer.name.as_deref(), &name, &reason)?;
            governance("revocation", &g, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Cosign { entry, signer } => {
            let g = workflow::identity::cosign(ctx, signer.name.as_deref(), &entry)?;
            governance("co-signature", &g, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Members => {
            let (members, pending, size) = workflow::query::members(ctx)?;
            if json {
                output::json(&json!({
                    "members": members.iter().map(|m| json!({"name": m.name, "key": m.key.encode(), "key_id": m.key.key_id(),
                        "roles": m.current_roles(), "since": crate::ledger::pos::index_of(m.since), "revoked": m.revoked.map(crate::ledger::pos::index_of), "active": m.active_at(size)})).collect::<Vec<_>>(),
                    "pending": pending.iter().map(|p| json!({"entry_id": p.id.to_hex(), "kind": p.kind, "index": crate::ledger::pos::index_of(p.pos),
                        "signatures": p.signers.len(), "need": p.threshold, "body": p.body})).collect::<Vec<_>>(),
                }));
            } else {
                let mut t = Table::new(&["NAME", "KEY ID", "ROLES", "SINCE", "STATE"]);
                for m in &members {
                    t.row(vec![
                        m.name.clone(),
                        m.key.key_id(),
                        m.current_roles().join(","),
                        format!("#{}", crate::ledger::pos::index_of(m.since)),
                        match m.revoked {
                            Some(r) => format!("revoked at #{}", crate::ledger::pos::index_of(r)),
                            None => "active".into(),
                        },
                    ]);
                }
                output::emit(&t.render());
                for p in &pending {
                    say!(
                        "pending {} {} ({} of {} admin signatures)",
                        p.id.short(12),
                        p.kind,
                        p.signers.len(),
                        p.threshold
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Policy { command: PolicyCommand::Adopt { file, signer } } => {
            let g = workflow::identity::adopt_policy(ctx, signer.name.as_deref(), &file)?;
            governance("policy adoption", &g, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Policy { command: PolicyCommand::Show } => {
            let (id, pos, text) = workflow::query::policy_in_force(ctx)?;
            if json {
                output::json(
                    &json!({"entry_id": id.to_hex(), "since": crate::ledger::pos::index_of(pos), "toml": text}),
                );
            } else {
                say!("# policy in force: entry {} (since index {})", id.short(16), crate::ledger::pos::index_of(pos));
                output::emit(&crate::text::multi_line(&text).text);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Obligations { overdue } => {
            let list = workflow::query::obligations(ctx, overdue)?;
            if json {
                output::json(&json!({"obligations": render::obligations_json(&list)}));
            } else if list.is_empty() {
                say!("no open obligations");
            } else {
                let mut t = Table::new(&["REQUEST", "KIND", "DUE", "STATE", "TITLE"]);
                for o in &list {
                    t.row(vec![
                        o.obligation.request.short(12),
                        o.obligation.kind.into(),
                        o.obligation.due.format("%Y-%m-%d %H:%M UTC").to_string(),
                        if o.obligation.overdue { "OVERDUE".into() } else { "open".into() },
                        o.title.clone(),
                    ]);
                }
                output::emit(&t.render());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Acknowledge { evidence, finding, signer } => {
            let r = workflow::sync::acknowledge(ctx, signer.name.as_deref(), &evidence, &finding)?;
            super::commands::receipt("acknowledgment", &r, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::MarkBad { digest, reason, signer } => {
            let r = workflow::lifecycle::mark_bad(ctx, signer.name.as_deref(), &digest, &reason)?;
            super::commands::receipt("bad-artifact mark", &r, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { dir, scale, no_tui } => {
            let dir = dir.unwrap_or_else(|| {
                let mut r = [0u8; 4];
                let _ = getrandom::fill(&mut r);
                std::env::temp_dir().join(format!("rollcall-demo-{}", hex::encode(r)))
            });
            let started = std::time::Instant::now();
            let quiet = json;
            let demo = demo::build(&dir, scale, &mut |step| {
                if !quiet {
                    eprintln!("demo: {step}");
                }
            })?;
            let how = format!(
                "ROLLCALL_HOME={} rollcall --ledger {} tui --as {}",
                demo.home.display(),
                demo.ledger.display(),
                demo::DEMO_USER
            );
            if json {
                output::json(
                    &json!({"dir": demo.dir, "ledger": demo.ledger, "home": demo.home, "requests": demo.requests,
                    "synthetic": demo.synthetic, "entries": demo.entries, "passphrase": demo::PASSPHRASE,
                    "user": demo::DEMO_USER, "open": how}),
                );
            } else {
                say!(
                    "demo ledger: {} ({} requests{}, {} entries, built in {:.1} s)",
                    demo.ledger.display(),
                    demo.requests,
                    if demo.synthetic > 0 { format!(" + {} synthetic", demo.synthetic) } else { String::new() },
                    demo.entries,
                    started.elapsed().as_secs_f64()
                );
                say!(
                    "people: alice (admin), bob (requester), carol (approver), dave (security-approver), erin (executor, release-manager), frank (requester, approver), grace (auditor)"
                );
                say!(
                    "a second machine, {} (frank's), joined from a bundle and synced both ways: {}",
                    demo::JUMP_HOST,
                    demo.dir.join("jump-host.db").display()
                );
                say!("passphrase of every demo key: {}", demo::PASSPHRASE);
                say!("open it again with: {how}");
                say!(
                    "a governance report: ROLLCALL_HOME={} rollcall --ledger {} report --as grace",
                    demo.home.display(),
                    demo.ledger.display()
                );
                say!(
                    "a post-mortem timeline: ROLLCALL_HOME={} rollcall --ledger {} timeline --incident INC-800",
                    demo.home.display(),
                    demo.ledger.display()
                );
                say!(
                    "an auditor's check of the laptop's bundle: rollcall verify --bundle {}",
                    demo.dir.join("laptop-1.rollcall").display()
                );
            }
            if no_tui || json {
                return Ok(ExitCode::SUCCESS);
            }
            crate::tui::run(
                demo.context(),
                crate::tui::Options {
                    read_only: false,
                    signer: Some(demo::DEMO_USER.into()),
                    banner: Some(format!("demo passphrase: {}", demo::PASSPHRASE)),
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Tui { read_only, signer, bundle: None } => {
            let ctx = Context::from_env(Some(ctx.ledger_path.clone()))?;
            crate::tui::run(ctx, crate::tui::Options { read_only, signer, banner: None })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Tui { bundle: Some(b), .. } => {
            let copy = workflow::sync::open_bundle(&b)?;
            let ctx = Context::from_env(Some(copy.path.clone()))?;
            let banner = Some(format!("bundle {} (read-only audit copy)", crate::text::safe(&b.display().to_string())));
            crate::tui::run(ctx, crate::tui::Options { read_only: true, signer: None, banner })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { out, since, no_blobs, zstd, signer } => {
            super::sync::export(ctx, &out, since.as_deref(), no_blobs, zstd, signer.name.as_deref(), json)
        }
        Command::Report { format, since, until, env, component, out, bundle, signer } => {
            let scope = workflow::report::Scope {
                since: since.as_deref().map(super::report::parse_day).transpose()?,
                until: until.as_deref().map(super::report::parse_day).transpose()?,
                env,
                component,
            };
            super::report::report(ctx, &scope, &format, out.as_deref(), bundle.as_deref(), signer.name.as_deref(), json)
        }
        Command::Timeline { req, incident, format, bundle } => {
            super::report::timeline(ctx, req.as_deref(), incident.as_deref(), &format, bundle.as_deref(), json)
        }
        Command::Import { file } => super::sync::import(ctx, &file, json),
        Command::Checkpoints { out } => super::sync::checkpoints(ctx, &out, json),
        Command::Sync { git, offline } => super::sync::sync_git(ctx, &git, offline, json),
        Command::Prove { entry, out, entry_out, consistency, origin } => {
            super::sync::prove(ctx, entry.as_deref(), &out, entry_out.as_deref(), consistency, origin.as_deref(), json)
        }
        Command::VerifyProof { file, entry_file, keys } => {
            super::sync::verify_proof(&file, entry_file.as_deref(), &keys, json)
        }
        Command::Rebuild => {
            let ledger = ctx.open()?;
            let n = workflow::index::rebuild(&ledger, workflow::clock::now())?;
            if json {
                output::json(&json!({"requests": n}));
            } else {
                say!("rebuilt the request index: {n} requests");
            }
            Ok(ExitCode::SUCCESS)
        }
        other => Err(usage(format!("unexpected command {other:?}"))),
    }
}

fn request(ctx: &Context, command: RequestCommand, json: bool) -> Result<ExitCode, WorkflowError> {
    match command {
        RequestCommand::New { record, from_file, from_git, revert, diff, advisories, signer } => {
            let mut record = record;
            let mut changeset = None;
            if let (Some(repo), Some(spec)) = (&from_git, &revert) {
                let g = workflow::requests::from_git(repo, spec)?;
                if record.revert_cmd.is_none() {
                    record.revert_cmd = Some(g.argv.join(" "));
                    record.from.get_or_insert(g.from.clone());
                    record.to.get_or_insert(g.to.clone());
                }
                if record.components.is_empty() {
                    record.components = g.components.clone();
                }
                if record.commits.is_empty() {
                    record.commits = g.changeset.commits.iter().map(|c| c.id.clone()).collect();
                }
                record.change.get_or_insert(spec.clone());
                if record.title.is_none() {
                    record.title = Some(match g.changeset.commits.as_slice() {
                        [one] => format!("Revert \"{}\"", crate::text::truncate(&one.subject, 200)),
                        many => format!("Revert {} commits ({spec})", many.len()),
                    });
                }
                changeset = Some(g.changeset);
            }
            if let Some(path) = &diff {
                changeset = Some(workflow::requests::from_diff(path)?);
            }
            let mut body = match from_file {
                Some(path) => {
                    let mut r = read_record_file(&path)?;
                    record.apply_to(&mut r).map_err(usage)?;
                    r
                }
                None => record.to_record().map_err(usage)?,
            };
            if let Some(dir) = &advisories {
                let Some(cs) = &changeset else {
                    return Err(usage("--advisories needs a change set (--from-git or --diff)".into()));
                };
                let (hits, problems) = workflow::requests::advisory_hits(cs, dir)?;
                for p in problems {
                    output::warn(&format!("advisory skipped: {p}"));
                }
                body.advisories = hits;
            }
            let r = workflow::requests::new_request(ctx, signer.name.as_deref(), body, changeset)?;
            for w in &r.warnings {
                output::warn(w);
            }
            if json {
                output::json(
                    &json!({"request": r.entry_id.to_hex(), "entry_id": r.entry_id.to_hex(), "index": r.index, "checkpointed": r.checkpointed}),
                );
            } else {
                say!("filed request {} (index {})", r.entry_id.short(12), r.index);
                say!("id: {}", r.entry_id);
            }
            Ok(ExitCode::SUCCESS)
        }
        RequestCommand::Amend { req, reason, record, signer } => {
            let (r, id) =
                workflow::requests::amend(ctx, signer.name.as_deref(), &req, &reason, &|body| record.apply_to(body))?;
            on_request("amendment", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        RequestCommand::Withdraw { req, reason, signer } => {
            let (r, id) = workflow::requests::withdraw(ctx, signer.name.as_deref(), &req, &reason)?;
            on_request("withdrawal", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
    }
}
