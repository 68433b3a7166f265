//! How requests, checklists, lists and the roster are printed: human text (sanitized) and JSON.

use crate::audit::projection::{Obligation, Rec};
use crate::identity::Roster;
use crate::ledger::PublicKey;
use crate::ledger::statement::format_ts;
use crate::policy::evaluate::{Evaluation, Item};
use crate::text::{multi_line, safe};
use crate::workflow::index::Row;
use crate::workflow::present::{field, when};
use crate::workflow::query::Shown;
use serde_json::{Value, json};

fn who(roster: &Roster, k: &PublicKey) -> String {
    safe(&roster.display(k))
}

fn item_json(i: &Item) -> Value {
    json!({"id": i.id, "met": i.met, "waived": i.waived, "detail": i.detail})
}

/// The checklist as JSON.
pub(crate) fn eval_json(e: &Evaluation, roster: &Roster) -> Value {
    json!({
        "status": e.status.as_str(),
        "emergency_lapsed_at": e.lapsed.map(format_ts),
        "tier": e.tier,
        "policy": e.policy.to_hex(),
        "gate": e.gate,
        "approvals": {"have": e.approvals.len(), "need": e.need,
                      "keys": e.approvals.iter().map(|k| json!({"key": k.encode(), "name": roster.name_of(k)})).collect::<Vec<_>>()},
        "required_roles_missing": e.required_missing,
        "evidence_missing": e.evidence_missing,
        "checklist": e.checklist.iter().map(item_json).collect::<Vec<_>>(),
        "decisions": e.decisions.iter().map(|d| json!({
            "entry_id": d.entry.to_hex(), "actor": d.actor.encode(), "name": d.name,
            "decision": d.decision, "ts": format_ts(d.ts), "counts": d.excluded.is_none(), "excluded": d.excluded,
        })).collect::<Vec<_>>(),
    })
}

fn rec_json<T: serde::Serialize>(r: &Rec<T>, roster: &Roster) -> Value {
    json!({"entry_id": r.id.to_hex(), "index": r.index, "ts": format_ts(r.ts), "actor": r.actor.encode(),
           "actor_name": roster.name_of(&r.actor), "body": r.body})
}

fn obligation_json(o: &Obligation) -> Value {
    json!({"request": o.request.to_hex(), "kind": o.kind, "due": format_ts(o.due), "overdue": o.overdue, "detail": o.detail})
}

/// `show` as JSON.
pub(crate) fn show_json(s: &Shown) -> Value {
    let v = &s.view;
    let r = &s.snap.roster;
    json!({
        "id": v.id.to_hex(),
        "index": v.index,
        "requested_at": format_ts(v.ts),
        "requester": v.requester.encode(),
        "requester_name": r.name_of(&v.requester),
        "status": s.eval.status.as_str(),
        "emergency_lapsed_at": s.eval.lapsed.map(format_ts),
        "record": v.record(),
        "revert_digest": v.record().revert_digest(),
        "version": v.current().id.to_hex(),
        "versions": v.versions.iter().map(|x| json!({"entry_id": x.id.to_hex(), "index": x.index, "ts": format_ts(x.ts),
            "actor": x.actor.encode(), "reason": x.reason})).collect::<Vec<_>>(),
        "evaluation": eval_json(&s.eval, r),
        "approvals_at_run": s.approvals_at_run().map(|(ts, have, need)| json!({"ran_at": format_ts(ts), "have": have, "need": need})),
        "assessment": {
            "flags": s.assessment.flags,
            "risk": s.assessment.risk,
            "changeset_problem": s.assessment.changeset_problem,
        },
        "decisions": v.decisions.iter().map(|e| rec_json(e, r)).collect::<Vec<_>>(),
        "emergency": v.emergency.as_ref().map(|e| rec_json(e, r)),
        "executions": v.executions.iter().map(|e| rec_json(e, r)).collect::<Vec<_>>(),
        "validations": v.validations.iter().map(|e| rec_json(e, r)).collect::<Vec<_>>(),
        "reviews": v.reviews.iter().map(|e| rec_json(e, r)).collect::<Vec<_>>(),
        "closure": v.closure.as_ref().map(|e| rec_json(e, r)),
        "withdrawal": v.withdrawal.as_ref().map(|e| rec_json(e, r)),
        "incidents": v.incidents.iter().map(|e| rec_json(e, r)).collect::<Vec<_>>(),
        "notes": v.notes.iter().map(|e| rec_json(e, r)).collect::<Vec<_>>(),
        "evidence": v.evidence.iter().map(|e| {
            let mut j = rec_json(&e.rec, r);
            j["purged"] = e.purged.as_ref().map(|p| rec_json(p, r)).unwrap_or(Value::Null);
            j
        }).collect::<Vec<_>>(),
        "fork": v.fork.as_ref().map(fork_json),
        "obligations": s.obligations.iter().map(obligation_json).collect::<Vec<_>>(),
        "timeline": v.timeline.iter().map(|t| json!({"index": t.index, "entry_id": t.id.to_hex(), "kind": t.kind,
            "actor": t.actor.encode(), "actor_name": r.name_of(&t.actor), "ts": format_ts(t.ts),
            "counts": t.ignored.is_none(), "ignored": t.ignored})).collect::<Vec<_>>(),
        "evaluated_at": format_ts(s.now),
    })
}

/// A request's fork (FORMAT.md §1.2, *Forks*) as JSON: each run, and the review that settled it.
pub(crate) fn fork_json(f: &crate::audit::projection::Fork) -> Value {
    json!({
        "runs": f.runs.iter().map(|x| json!({"execution": x.execution.to_hex(), "ts": format_ts(x.ts),
            "version": x.version.map(|id| id.to_hex()), "shown": x.shown,
            "same_operation": x.same_operation, "outcome": x.outcome.as_str()})).collect::<Vec<_>>(),
        "reviewed": f.reviewed.map(|id| id.to_hex()),
    })
}

fn mark(i: &Item) -> &'static str {
    match (i.met, i.waived) {
        (true, false) => "[x]",
        (true, true) => "[~]",
        (false, _) => "[ ]",
    }
}

/// The checklist as text lines.
pub(crate) fn checklist_text(e: &Evaluation) -> String {
    e.checklist.iter().map(|i| format!("  {} {:<15} {}\n", mark(i), i.id, safe(&i.detail))).collect()
}

/// `show` as text.
pub(crate) fn show_text(s: &Shown) -> String {
    let v = &s.view;
    let r = &s.snap.roster;
    let rec = v.record();
    let e = &s.eval;
    let mut out = String::new();
    out.push_str(&format!("REQUEST {}  {}\n", v.id.short(12), safe(&rec.title)));
    // After a run, the tally it ran on beside today's (approvals expire, flags are raised later): an
    // executed request showing "0 of 1" read as one run without approval.
    let at_run = s
        .approvals_at_run()
        .map(|(ts, have, need)| {
            let under = v.emergency.as_ref().is_some_and(|e| e.ts <= ts);
            let emergency = if have < need as usize && under { " under its emergency" } else { "" };
            format!(" now ({have} of {need} when it ran{emergency}, {})", when(&ts))
        })
        .unwrap_or_default();
    out.push_str(&format!(
        "status: {}   risk tier: {}   approvals: {} of {}{at_run}   env: {}\n\n",
        e.status_shown(),
        e.tier,
        e.approvals.len(),
        e.need,
        safe(&rec.env)
    ));
    field(&mut out, "id", &v.id.to_hex());
    field(&mut out, "requested", &format!("{} by {}", when(&v.ts), who(r, &v.requester)));
    if v.versions.len() > 1 {
        let c = v.current();
        field(
            &mut out,
            "version",
            &format!(
                "{} of {} (amended {} by {}: {})",
                v.versions.len(),
                v.versions.len(),
                when(&c.ts),
                who(r, &c.actor),
                c.reason.as_deref().unwrap_or("")
            ),
        );
    }
    field(&mut out, "change", &rec.change);
    if let Some(t) = &rec.ticket {
        field(&mut out, "ticket", t);
    }
    if let Some(i) = &rec.incident {
        field(&mut out, "incident", i);
    }
    field(&mut out, "category", rec.category.as_str());
    field(&mut out, "declared risk", rec.risk.as_str());
    field(&mut out, "rationale", &rec.rationale);
    field(&mut out, "user impact", &rec.impact);
    field(&mut out, "components", &rec.components.join(", "));
    field(
        &mut out,
        "environment",
        &format!("{} (found in {})", rec.env, rec.origin_env.as_deref().unwrap_or(&rec.env)),
    );
    if !rec.cascades.is_empty() {
        field(&mut out, "may cascade to", &rec.cascades.join(", "));
    }
    field(&mut out, "revert", &crate::audit::record::join_command(&rec.revert.argv));
    field(&mut out, "  from -> to", &format!("{} -> {}", rec.revert.from, rec.revert.to));
    field(&mut out, "  digest", &rec.revert_digest());
    if let Some(x) = &rec.security {
        field(&mut out, "security", x);
    }
    for (label, list) in rec.lineage.lists() {
        if !list.is_empty() {
            field(&mut out, label, &list.join(", "));
        }
    }
    if let Some(x) = &rec.test_plan {
        field(&mut out, "test plan", x);
    }
    if let Some(x) = &rec.roll_forward_plan {
        field(&mut out, "roll-forward plan", x);
    }
    if let Some(x) = &rec.temporary_until {
        field(&mut out, "temporary until", x);
    }
    if !rec.side_effects.migrations.is_empty() {
        field(&mut out, "migrations", &rec.side_effects.migrations.join("; "));
    }
    if !rec.side_effects.destructive.is_empty() {
        field(&mut out, "DESTRUCTIVE", &rec.side_effects.destructive.join("; "));
    }
    if let Some(x) = &rec.deployed_at {
        field(&mut out, "deployed at", x);
    }
    if let Some(cs) = &rec.changeset {
        field(
            &mut out,
            "change set",
            &format!(
                "{} files from {}, {} commits, sha256 {}",
                cs.files,
                cs.source,
                cs.commits.len(),
                &cs.sha256[..16]
            ),
        );
    }
    for a in &rec.advisories {
        field(&mut out, "advisory", &format!("{} ({} {})", a.id, a.package, a.version));
    }
    let a = &s.assessment;
    out.push_str(&format!("\nRISK {} of 100 ({}): ", a.risk.score, a.risk.tier));
    out.push_str(
        &a.risk
            .factors
            .iter()
            .map(|f| format!("{} +{} ({})", f.name, f.points, safe(&f.detail)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    out.push('\n');
    if let Some(p) = &a.changeset_problem {
        out.push_str(&format!("  (change set not analysed: {})\n", safe(p)));
    }
    if a.flags.is_empty() {
        out.push_str("SECURITY FLAGS: none\n");
    } else {
        out.push_str(&format!("SECURITY FLAGS ({})\n", a.flags.len()));
        for f in &a.flags {
            out.push_str(&format!(
                "  {:<9} {:<24} {}  at {}\n",
                f.severity.as_str().to_uppercase(),
                f.id,
                safe(&f.explanation),
                safe(&f.location)
            ));
        }
    }
    out.push_str(&format!("\nCHECKLIST (gate {})\n", if e.gate { "passes" } else { "does not pass" }));
    out.push_str(&checklist_text(e));
    if !e.decisions.is_empty() {
        out.push_str("\nDECISIONS\n");
        for d in &e.decisions {
            let comment = v.decisions.iter().find(|x| x.id == d.entry).map(|x| x.body.comment.as_str()).unwrap_or("");
            out.push_str(&format!(
                "  {:<8} {} {}  {:?}  {}\n",
                format!("{:?}", d.decision).to_lowercase(),
                crate::text::pad(&safe(&d.name), 28),
                when(&d.ts),
                safe(comment),
                match &d.excluded {
                    None => "counts".to_string(),
                    Some(why) => format!("does not count: {}", safe(why)),
                }
            ));
        }
    }
    if !v.evidence.is_empty() {
        out.push_str("\nEVIDENCE\n");
        for ev in &v.evidence {
            let b = &ev.rec.body;
            out.push_str(&format!(
                "  {}  {:<10} {}{}{}\n",
                ev.rec.id.short(12),
                safe(&b.kind),
                safe(b.name.as_deref().or(b.url.as_deref()).unwrap_or("-")),
                b.summary.as_deref().map(|s| format!("  {}", safe(s))).unwrap_or_default(),
                ev.purged
                    .as_ref()
                    .map(|p| format!("  (purged by {} at {})", who(r, &p.actor), when(&p.ts)))
                    .unwrap_or_default()
            ));
        }
    }
    if let Some(em) = &v.emergency {
        out.push_str(&format!(
            "\nEMERGENCY by {} at {}: {} (review due {})\n",
            who(r, &em.actor),
            when(&em.ts),
            safe(&em.body.reason),
            safe(&em.body.review_due)
        ));
    }
    for x in &v.executions {
        out.push_str(&format!(
            "\nEXECUTED by {} at {} in {}: {} — {}{}\n",
            who(r, &x.actor),
            when(&x.ts),
            safe(&x.body.env),
            x.body.outcome.as_str(),
            safe(&crate::audit::record::join_command(&x.body.command)),
            x.body
                .output_sha256
                .as_deref()
                .map(|d| format!(" (output sha256 {})", crate::text::safe(crate::text::prefix(d, 16))))
                .unwrap_or_default()
        ));
    }
    if let Some(fork) = &v.fork {
        out.push_str(&format!("{}\n", fork.line()));
    }
    for x in &v.validations {
        let checks: Vec<String> =
            x.body.checks.iter().map(|c| format!("{}={:?}", safe(&c.name), c.result).to_lowercase()).collect();
        out.push_str(&format!(
            "VALIDATED by {} at {}: {:?} {}\n",
            who(r, &x.actor),
            when(&x.ts),
            x.body.result,
            checks.join(" ")
        ));
    }
    for x in &v.reviews {
        // A post-hoc review by whoever broke the glass or ran the revert is recorded and settles nothing.
        let own = x.body.kind == crate::audit::bodies::ReviewKind::PostHoc
            && v.post_hoc_refusal(&|k| r.same_member(k, &x.actor)).is_some();
        out.push_str(&format!(
            "REVIEWED ({:?}) by {} at {}: {}{}\n",
            x.body.kind,
            who(r, &x.actor),
            when(&x.ts),
            safe(&x.body.summary),
            if own { " [does not settle the emergency: its signer invoked it or ran the revert]" } else { "" }
        ));
        for l in &x.body.lessons {
            out.push_str(&format!("  lesson: {}\n", safe(l)));
        }
    }
    if let Some(c) = &v.closure {
        out.push_str(&format!(
            "CLOSED by {} at {}: {} — {}\n",
            who(r, &c.actor),
            when(&c.ts),
            c.body.resolution.as_str(),
            safe(&c.body.comment)
        ));
    }
    if let Some(w) = &v.withdrawal {
        out.push_str(&format!("WITHDRAWN by {} at {}: {}\n", who(r, &w.actor), when(&w.ts), safe(&w.body.reason)));
    }
    for i in &v.incidents {
        out.push_str(&format!("incident {} linked by {}\n", safe(&i.body.incident), who(r, &i.actor)));
    }
    for n in &v.notes {
        out.push_str(&format!("note by {} at {}: {}\n", who(r, &n.actor), when(&n.ts), safe(&n.body.text)));
    }
    if !s.obligations.is_empty() {
        out.push_str("\nOBLIGATIONS\n");
        for o in &s.obligations {
            out.push_str(&format!(
                "  {} {} due {}{}\n",
                o.kind,
                safe(&o.detail),
                when(&o.due),
                if o.overdue { "  OVERDUE" } else { "" }
            ));
        }
    }
    out.push_str("\nTIMELINE\n");
    for t in &v.timeline {
        out.push_str(&format!(
            "  #{:<6} {}  {} {}{}\n",
            t.index,
            when(&t.ts),
            crate::text::pad(&safe(&t.kind), 20),
            who(r, &t.actor),
            t.ignored.as_ref().map(|w| format!("  [does not count: {}]", safe(w))).unwrap_or_default()
        ));
    }
    out
}

/// A `list` row as JSON.
pub(crate) fn row_json(r: &Row) -> Value {
    json!({"id": r.id.to_hex(), "index": crate::ledger::pos::index_of(r.pos), "title": r.title, "status": r.status, "env": r.env, "risk": r.risk,
           "tier": r.tier, "approvals": {"have": r.have, "need": r.need}, "flags": r.flags, "requester": r.requester,
           "created": r.created, "obligation_due": r.obligation_due.map(format_ts), "overdue": r.overdue,
           "emergency_lapsed": r.lapsed})
}

/// `obligations` as JSON.
pub(crate) fn obligations_json(list: &[crate::workflow::query::OpenObligation]) -> Value {
    Value::Array(
        list.iter()
            .map(|o| {
                let mut j = obligation_json(&o.obligation);
                j["title"] = o.title.clone().into();
                j
            })
            .collect(),
    )
}

/// `evidence show` as JSON.
pub(crate) fn evidence_json(ev: &crate::workflow::evidence::Evidence) -> Value {
    use crate::evidence::recognize::Parsed;
    let detail = match &ev.parsed {
        Some(Parsed::JUnit(j)) => json!({"junit": j}),
        Some(Parsed::Sarif(s)) => json!({"sarif": s}),
        Some(Parsed::Osv(a)) => json!({"osv": a}),
        Some(p) => json!({"format": p.format()}),
        None => Value::Null,
    };
    json!({
        "entry_id": ev.entry.to_hex(), "index": ev.index, "request": ev.request.to_hex(), "ts": format_ts(ev.ts),
        "actor": ev.actor.encode(), "body": ev.body, "present": ev.present, "parsed": detail,
        "purged": ev.purge.as_ref().map(|p| json!({"by": p.actor.encode(), "at": format_ts(p.ts), "reason": p.reason})),
    })
}

/// `evidence show` as text: the header, then the parsed rendering or the (sanitized) text.
pub(crate) fn evidence_text(ev: &crate::workflow::evidence::Evidence) -> String {
    let id = ev.entry.short(12);
    crate::workflow::present::evidence_text_with(ev, &|more| {
        format!("… ({more} more bytes: `rollcall evidence show {id} --page 2` reads on, `--raw` prints all of it)")
    })
}

/// `evidence show --page N --json`: the page's position and its sanitized text.
pub(crate) fn evidence_page_json(
    ev: &crate::workflow::evidence::Evidence,
    p: &crate::workflow::evidence::TextPage,
) -> Value {
    let clean = multi_line(&p.text);
    json!({
        "entry_id": ev.entry.to_hex(), "request": ev.request.to_hex(), "name": ev.body.name,
        "page": p.page + 1, "pages": p.pages, "offset": p.offset, "bytes": p.len, "size": p.size,
        "text": clean.text, "suspicious": clean.suspicious,
    })
}

/// Where a page of `evidence show --page` lies in its file, on one line: "page 2 of 57, bytes 65536-131071
/// of 3735552", then how to go on.
pub(crate) fn page_position(
    ev: &crate::workflow::evidence::Evidence,
    p: &crate::workflow::evidence::TextPage,
) -> String {
    let id = ev.entry.short(12);
    let bytes = if p.len == 0 {
        "no bytes (the file is empty)".to_string()
    } else {
        format!("bytes {}-{} of {}", p.offset, p.offset + p.len - 1, p.size)
    };
    let next = if p.page + 1 < p.pages {
        format!("next: `rollcall evidence show {id} --page {}`", p.page + 2)
    } else {
        "the last page".to_string()
    };
    format!(
        "evidence {id} ({}): page {} of {}, {bytes}; {next}",
        safe(ev.body.name.as_deref().unwrap_or("-")),
        p.page + 1,
        p.pages
    )
}
