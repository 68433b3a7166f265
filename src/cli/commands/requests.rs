//! The request commands: file, amend and withdraw requests; list, show and gate them; open obligations.

use crate::audit::projection::Status;
use crate::audit::record::RequestBody;
use crate::cli::args::{
    GateArgs, ListArgs, ObligationsArgs, RequestAmendArgs, RequestCommand, RequestNewArgs, RequestWithdrawArgs,
    ShowArgs,
};
use crate::cli::output::{self, Table};
use crate::cli::print::on_request;
use crate::cli::render;
use crate::say;
use crate::text::safe;
use crate::workflow::query::Filter;
use crate::workflow::{self, Context, WorkflowError};
use serde_json::json;
use std::process::ExitCode;

fn read_record_file(path: &std::path::Path) -> Result<RequestBody, WorkflowError> {
    let meta = std::fs::metadata(path).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))?;
    if meta.len() > 1024 * 1024 {
        return Err(WorkflowError::Usage(format!(
            "{} is larger than 1 MiB; a request file is a small JSON document",
            path.display()
        )));
    }
    let bytes = crate::paths::read_capped(path, 1024 * 1024).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))?;
    serde_json::from_slice(&bytes).map_err(|e| WorkflowError::Usage(format!("{}: {e}", path.display())))
}

/// `request …`.
pub(crate) fn request(ctx: &Context, command: RequestCommand, json: bool) -> Result<ExitCode, WorkflowError> {
    match command {
        RequestCommand::New(a) => {
            let RequestNewArgs { record, from_file, from_git, revert, diff, from_observed, advisories, signer } = a;
            let mut record = record;
            let mut changeset = None;
            if let Some(id) = &from_observed {
                let (_, o, deployed_at) = workflow::ingest::observed(ctx, id)?;
                let p = workflow::reconcile::prefill_of(&o).map_err(WorkflowError::Usage)?;
                record.env.get_or_insert(o.env.clone());
                if record.components.is_empty() {
                    record.components = vec![o.component.clone()];
                }
                record.from.get_or_insert(p.from);
                record.to.get_or_insert(p.to.clone());
                record.change.get_or_insert(p.change);
                // The reverted change's deploy time: for a rollback, that of the revision it moved away
                // from; for a deployment, its own.
                match (o.rollback, deployed_at) {
                    (true, Some(at)) => {
                        record.deployed_at.get_or_insert(at);
                    }
                    (false, _) => {
                        record.deployed_at.get_or_insert(o.at.clone());
                    }
                    _ => {}
                }
                match p.revert_command {
                    Some(cmd) => {
                        record.revert_cmd.get_or_insert(cmd);
                    }
                    // A record file may hold the command; without one, nothing else can give it.
                    None if record.revert_cmd.is_none() && from_file.is_none() => {
                        return Err(WorkflowError::Usage(format!(
                            "{}: give the exact command{} with --revert-cmd (approvers sign it as the operation)",
                            workflow::reconcile::no_revert_command(&o.source, &o.env, &o.component, &p.to),
                            if p.post_hoc { " that ran" } else { "" }
                        )));
                    }
                    None => {}
                }
                if let Some(a) = &o.artifact
                    && record.artifacts.is_empty()
                {
                    record.artifacts = vec![a.clone()];
                }
                record.title.get_or_insert(p.title);
            }
            if let (Some(repo), Some(spec)) = (&from_git, &revert) {
                let g = workflow::requests::from_git(repo, spec)?;
                if record.revert_cmd.is_none() {
                    record.revert_cmd = Some(crate::audit::record::join_command(&g.argv));
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
                    record.apply_to(&mut r).map_err(WorkflowError::Usage)?;
                    r
                }
                None => record.to_record().map_err(WorkflowError::Usage)?,
            };
            if let Some(dir) = &advisories {
                let Some(cs) = &changeset else {
                    return Err(WorkflowError::Usage("--advisories needs a change set (--from-git or --diff)".into()));
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
        RequestCommand::Amend(a) => {
            let RequestAmendArgs { req, reason, record, signer } = a;
            let (r, id) =
                workflow::requests::amend(ctx, signer.name.as_deref(), &req, &reason, &|body| record.apply_to(body))?;
            on_request("amendment", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
        RequestCommand::Withdraw(a) => {
            let RequestWithdrawArgs { req, reason, signer } = a;
            let (r, id) = workflow::requests::withdraw(ctx, signer.name.as_deref(), &req, &reason)?;
            on_request("withdrawal", &r, &id, json);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `list`: requests, most recent first (streamed).
pub(crate) fn list(ctx: &Context, a: ListArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let ListArgs { status, env, risk, flagged, limit } = a;
    // `open`: every status of a request still open, as the console's queue lists them.
    let open = status.as_deref().is_some_and(|s| s.trim() == "open");
    let status = match status.filter(|_| !open) {
        Some(s) => Some(Status::parse(&s).ok_or_else(|| {
            WorkflowError::Usage(format!("unknown status {s:?} ({}, or open)", Status::ALL.join(", ")))
        })?),
        None => None,
    };
    let filter = Filter { status, open, env, risk, flagged, limit };
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
        let status = r.status_shown().to_string();
        table.row(pass, &[r.id.short(12), status, r.tier, r.env, appr, title, r.requester, due]);
        Ok(())
    })?;
    if !table.any() {
        say!("no requests");
    }
    Ok(ExitCode::SUCCESS)
}

/// `show REQ`.
pub(crate) fn show(ctx: &Context, a: ShowArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let ShowArgs { req } = a;
    let s = workflow::query::show(ctx, &req)?;
    if json {
        output::json(&render::show_json(&s));
    } else {
        output::emit(&render::show_text(&s));
    }
    Ok(ExitCode::SUCCESS)
}

/// `gate REQ`: exit 0 when the revert may run now, 1 with the reasons.
pub(crate) fn gate(ctx: &Context, a: GateArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let GateArgs { req, change, env, component, to, ledger_id } = a;
    let asked = workflow::query::Asked { component: component.as_deref(), to: to.as_deref() };
    let pin = ledger_id.as_deref();
    let (req, env) = match (req, change, env) {
        (Some(req), None, env) => (req, env),
        (None, Some(change), Some(env)) => return gate_by_change(ctx, &change, &env, pin, asked, json),
        _ => return Err(WorkflowError::Usage("give REQ, or --change ID with --env ENV".into())),
    };
    let s = workflow::query::gate(ctx, &req, pin, asked, env.as_deref())?;
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
            s.eval.status_shown()
        );
        output::emit(&render::checklist_text(&s.eval));
    }
    Ok(if s.eval.gate { ExitCode::SUCCESS } else { ExitCode::from(crate::cli::EXIT_CHECK_FAILED) })
}

/// `gate --change ID --env ENV`: exit 0 when a request to revert that change there lets it run now (the
/// first filed of those that do), 1 otherwise, with every request found and what each lacks.
fn gate_by_change(
    ctx: &Context,
    change: &str,
    env: &str,
    pin: Option<&str>,
    asked: workflow::query::Asked<'_>,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    let found = workflow::query::gate_by_change(ctx, change, env, pin, asked)?;
    let passing = found.matched.iter().filter(|s| s.eval.gate).count();
    let chosen = found.matched.first().filter(|s| s.eval.gate);
    if json {
        let candidates: Vec<serde_json::Value> = found
            .matched
            .iter()
            .map(|s| {
                let mut j = render::eval_json(&s.eval, &s.snap.roster);
                j["request"] = s.view.id.to_hex().into();
                j
            })
            .collect();
        let near: Vec<serde_json::Value> =
            found.near.iter().map(|(id, c)| json!({"request": id.to_hex(), "change": c})).collect();
        let unreadable: Vec<serde_json::Value> =
            found.unreadable.iter().map(|(id, why)| json!({"request": id.to_hex(), "problem": why})).collect();
        output::json(&json!({
            "change": change,
            "env": env,
            "gate": chosen.is_some(),
            "request": chosen.map(|s| s.view.id.to_hex()),
            "evaluated_at": crate::ledger::statement::format_ts(found.now),
            "candidates": candidates,
            "partial_matches": near,
            "unreadable": unreadable,
        }));
    } else {
        let (change_shown, env_shown) = (safe(change), safe(env));
        match chosen {
            Some(s) => say!(
                "gate PASSES for {} ({}): {}, the request to revert {change_shown} in {env_shown}{}",
                s.view.id.short(12),
                safe(&s.view.record().title),
                s.eval.status_shown(),
                match passing {
                    1 => String::new(),
                    n => format!(" ({} more requests for it pass too)", n - 1),
                }
            ),
            None if found.matched.is_empty() => say!("gate BLOCKS: no request to revert {change_shown} in {env_shown}"),
            None => say!(
                "gate BLOCKS: no request to revert {change_shown} in {env_shown} lets it run now ({} found)",
                found.matched.len()
            ),
        }
        match chosen {
            Some(s) => output::emit(&render::checklist_text(&s.eval)),
            None => {
                for s in &found.matched {
                    say!(
                        "request {} ({}): {}",
                        s.view.id.short(12),
                        safe(&s.view.record().title),
                        s.eval.status_shown()
                    );
                    output::emit(&render::checklist_text(&s.eval));
                }
            }
        }
        for (id, why) in &found.unreadable {
            say!("request {} names it but counts for nothing: {why}", id.short(12));
        }
        for (id, held) in &found.near {
            say!(
                "request {} names it in part (change {}): give the id it holds with --change to weigh it",
                id.short(12),
                safe(held)
            );
        }
    }
    Ok(if chosen.is_some() { ExitCode::SUCCESS } else { ExitCode::from(crate::cli::EXIT_CHECK_FAILED) })
}

/// `obligations`: reviews due and temporary reverts expiring.
pub(crate) fn obligations(ctx: &Context, a: ObligationsArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let ObligationsArgs { overdue } = a;
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
