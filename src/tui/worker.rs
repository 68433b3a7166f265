//! The workers: the DB worker answers reads (queue and history pages, details, search, metrics,
//! verification, change polling) and the signing worker unlocks keys and records actions — both through
//! `workflow`, both on their own threads, each answering with messages. A worker error becomes a
//! message, never a crash.

use super::model::*;
use super::msg::{Cmd, Done, Failed, Job, Msg};
use crate::identity::passphrase::Given;
use crate::ledger::{Hash, Ledger};
use crate::workflow::query::Shown;
use crate::workflow::{Context, WorkflowError, browse, evidence, query};
use std::path::PathBuf;

/// Who the console acts as.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub signer: Option<String>,
    pub read_only: bool,
}

/// Answers commands against one ledger.
pub struct Worker {
    pub ctx: Context,
    pub identity: Identity,
    ledger: Option<Ledger>,
    data_version: Option<i64>,
    size: Option<u64>,
}

fn ctx_like(ctx: &Context, passphrase: Option<crate::identity::Passphrase>) -> Context {
    Context {
        ledger_path: ctx.ledger_path.clone(),
        keystore: ctx.keystore.clone(),
        passphrases: match passphrase {
            Some(p) => Box::new(Given(p)),
            None => Box::new(crate::identity::passphrase::EnvOrPrompt),
        },
    }
}

impl Worker {
    pub fn new(ctx: Context, identity: Identity) -> Worker {
        Worker { ctx, identity, ledger: None, data_version: None, size: None }
    }

    /// A second worker on the same ledger (the signing worker).
    pub fn sibling(&self) -> Worker {
        Worker::new(ctx_like(&self.ctx, None), self.identity.clone())
    }

    fn ledger(&mut self) -> Result<&Ledger, WorkflowError> {
        if self.ledger.is_none() {
            // Bring the request index up to date first (a read-only file keeps what it has).
            if !self.identity.read_only
                && let Ok(rw) = self.ctx.open()
            {
                let _ = crate::workflow::index::refresh(&rw, crate::workflow::clock::now());
            }
            self.ledger = Some(self.ctx.open_read_only()?);
        }
        Ok(self.ledger.as_ref().expect("just opened"))
    }

    /// Handles one command, returning the messages it produces.
    pub fn handle(&mut self, cmd: Cmd) -> Vec<Msg> {
        match self.try_handle(cmd) {
            Ok(m) => m,
            Err(e) => vec![Msg::Error(crate::text::safe(&e.to_string()))],
        }
    }

    fn try_handle(&mut self, cmd: Cmd) -> Result<Vec<Msg>, WorkflowError> {
        Ok(match cmd {
            Cmd::Queue { generation, filter, page, limit } => {
                let now = crate::workflow::clock::now();
                let rows = browse::queue_page(self.ledger()?, &filter, &page, limit)?
                    .into_iter()
                    .map(|r| {
                        let (title, suspicious) = clean(&r.row.title);
                        let created = crate::audit::record::parse_time(&r.row.created).unwrap_or(now);
                        QueueItem {
                            key: r.key,
                            id: r.row.id,
                            title,
                            suspicious,
                            status: r.row.status,
                            env: safe(&r.row.env),
                            tier: r.row.tier,
                            flags: r.row.flags,
                            have: r.row.have,
                            need: r.row.need,
                            age: age(created, now),
                            overdue: r.row.overdue,
                            due: r.row.obligation_due,
                        }
                    })
                    .collect();
                vec![Msg::Queue { generation, page, rows }]
            }
            Cmd::QueueCount { generation, filter } => {
                vec![Msg::QueueCount { generation, total: browse::queue_count(self.ledger()?, &filter)? }]
            }
            Cmd::History { generation, filter, page, limit } => {
                let rows = browse::history_page(self.ledger()?, &filter, &page, limit)?
                    .into_iter()
                    .map(history_item)
                    .collect();
                vec![Msg::History { generation, page, rows }]
            }
            Cmd::HistoryCount { generation, filter } => {
                vec![Msg::HistoryCount { generation, total: browse::history_count(self.ledger()?, &filter)? }]
            }
            Cmd::Search { generation, query } => {
                let rows = browse::search(self.ledger()?, &query, 500)?.into_iter().map(history_item).collect();
                vec![Msg::Search { generation, rows }]
            }
            Cmd::Detail { generation, id } => {
                let shown = query::show(&self.ctx, &id.to_hex())?;
                let detail = detail_of(&shown, self.permissions(&shown));
                vec![Msg::Detail { generation, detail: Box::new(detail) }]
            }
            Cmd::Evidence { id } => {
                let ev = evidence::show(&self.ctx, &id.to_hex())?;
                let size = ev.size;
                let pages = evidence::pages(size);
                let text = crate::workflow::present::evidence_text_with(&ev, &|more| {
                    format!("… ({more} more bytes on pages 2 to {pages})")
                });
                let lines: Vec<String> = text.lines().map(str::to_string).collect();
                // Pages only of bytes that are stored, match their digest and were not purged.
                let stored = (ev.present && ev.purge.is_none()).then_some(size);
                let name = ev.body.name.as_deref().or(ev.body.url.as_deref()).unwrap_or("");
                vec![Msg::Viewer {
                    title: format!("Evidence {} {}", id.short(12), crate::text::truncate(&safe(name), 40)),
                    pager: Some(Box::new(crate::tui::state::Pager::new(id, stored, lines.clone()))),
                    lines,
                }]
            }
            Cmd::EvidencePage { id, page } => {
                let p = evidence::text_page(self.ledger()?, &id, page)?;
                let clean = crate::text::multi_line(&p.text);
                let mut lines = Vec::new();
                if clean.suspicious {
                    lines.push("⚠ this page contains control or invisible characters, shown as <U+XXXX>".to_string());
                }
                lines.extend(clean.text.lines().map(str::to_string));
                vec![Msg::EvidencePage { id, page, offset: p.offset, len: p.len, size: p.size, lines }]
            }
            Cmd::Entry { id } => {
                let text = browse::entry_text(self.ledger()?, &id)?;
                let lines = crate::text::multi_line(&text).text.lines().map(str::to_string).collect();
                vec![Msg::Viewer { title: format!("Entry {}", id.short(12)), lines, pager: None }]
            }
            Cmd::Metrics => {
                let m = crate::workflow::metrics::compute(self.ledger()?, crate::workflow::clock::now())?;
                vec![Msg::Metrics(Box::new(m))]
            }
            Cmd::Report { path } => {
                let p = PathBuf::from(path.trim());
                let result = report_file(&p, |sink| {
                    crate::workflow::report::report_read_only(
                        self.ledger()?,
                        &crate::workflow::report::Scope::default(),
                        crate::report::render::Format::Markdown,
                        sink,
                    )
                    .map(|_| ())
                })
                .map(|()| {
                    Done::Said(format!("report written to {} (read-only: the read is not recorded)", p.display()))
                })
                .map_err(|e| Failed::of(&e));
                vec![Msg::Acted(result)]
            }
            Cmd::Verify => {
                let r = crate::workflow::verify::verify(&self.ctx)?;
                vec![Msg::Integrity(Box::new(integrity_of(&r)))]
            }
            Cmd::CheckPath { input } => {
                let path = input.trim();
                let is_file = std::path::Path::new(path).is_file();
                let completion = if is_file { None } else { complete_path(path) };
                vec![Msg::PathChecked { input, is_file, completion }]
            }
            Cmd::Poll => {
                let l = self.ledger()?;
                let v = l.data_version()?;
                let size = l.size(l.own_origin())?;
                let changed = (self.data_version.is_some_and(|d| d != v)) || self.size.is_some_and(|s| s != size);
                self.data_version = Some(v);
                self.size = Some(size);
                if changed {
                    // Re-open so the index is caught up with what the other process appended.
                    self.ledger = None;
                    vec![Msg::Changed]
                } else {
                    vec![]
                }
            }
            Cmd::Act { job, passphrase } => {
                let ctx = ctx_like(&self.ctx, Some(passphrase));
                let signer = self.identity.signer.as_deref();
                let result = act(&ctx, signer, job);
                self.ledger = None;
                vec![Msg::Acted(result.map_err(|e| Failed::of(&e)))]
            }
            Cmd::Quit => vec![],
        })
    }

    /// What the signed-in key may do on the shown request: asked of `policy::evaluate::permission`, the
    /// rules `gate` and the evaluation apply, never decided here.
    fn permissions(&self, shown: &Shown) -> Can {
        use crate::policy::evaluate::{Permission, permission};
        if self.identity.read_only {
            return Can::default();
        }
        let Ok(name) = self.ctx.signer_name(self.identity.signer.as_deref()) else { return Can::default() };
        let Ok(info) = self.ctx.keystore.info(&name) else { return Can::default() };
        let key = info.public_key;
        if shown.snap.roster.member(&key).is_none_or(|m| m.revoked.is_some()) {
            return Can::default();
        }
        let flags = shown.assessment.flag_ids();
        let ctx = shown.snap.context(&flags, Some(&shown.assessment.risk.tier));
        let may = |what| permission(&shown.view, &ctx, &key, what, shown.now, shown.snap.next).is_ok();
        Can {
            decide: may(Permission::Approve),
            emergency: may(Permission::Emergency),
            execute: may(Permission::Execute),
            annotate: true,
            close: may(Permission::Close),
        }
    }
}

fn history_item(r: browse::HistoryRow) -> HistoryItem {
    let (actor, a) = clean(&r.actor);
    let request = r.request.map(|(id, t)| (id, clean(&t).0));
    HistoryItem { index: r.index, id: r.id, kind: safe(&r.kind), actor, ts: r.ts, request, suspicious: a }
}

fn act(ctx: &Context, signer: Option<&str>, job: Job) -> Result<Done, WorkflowError> {
    use crate::audit::bodies::{CheckResult, Decision};
    use crate::workflow::{decisions, lifecycle};
    let hex = |id: &Hash| id.to_hex();
    let receipt = match job {
        Job::Decide { req, approve, comment } => {
            decisions::decide(
                ctx,
                signer,
                &hex(&req),
                if approve { Decision::Approve } else { Decision::Reject },
                &comment,
            )?
            .0
        }
        Job::Emergency { req, reason } => decisions::emergency(ctx, signer, &hex(&req), &reason)?.0,
        Job::Note { req, text } => lifecycle::note_on(ctx, signer, &hex(&req), &text)?.0,
        Job::Evidence { req, path, kind } => {
            let p = PathBuf::from(path.trim());
            lifecycle::attach_evidence(ctx, signer, &hex(&req), &kind, Some(&p), None, None)?.0
        }
        Job::Execute { req, outcome } => {
            let x = lifecycle::Execution { outcome, output_file: None, command: None, env: None, notes: None };
            lifecycle::execute(ctx, signer, &hex(&req), x)?.0
        }
        Job::Validate { req, pass } => {
            let r = if pass { CheckResult::Pass } else { CheckResult::Fail };
            lifecycle::validate(ctx, signer, &hex(&req), r, vec![], None, None)?.0
        }
        Job::Close { req, resolution, comment } => {
            lifecycle::close(ctx, signer, &hex(&req), resolution, None, &comment)?.0
        }
        Job::NewRequest { fields, git_commit } => new_request(ctx, signer, &fields, git_commit.as_deref())?,
        Job::Report { path } => {
            let scope = crate::workflow::report::Scope::default();
            let p = PathBuf::from(path.trim());
            let mut receipt = None;
            report_file(&p, |sink| {
                receipt = crate::workflow::audited::report(ctx, &scope, "md", signer, sink)?.1;
                Ok(())
            })?;
            return Ok(Done::Said(match receipt {
                Some(r) => {
                    format!("report written to {}; the read is recorded as entry {}", p.display(), r.entry_id.short(16))
                }
                None => format!("report written to {} (this policy does not record reads)", p.display()),
            }));
        }
    };
    Ok(Done::Signed(receipt.entry_id))
}

fn new_request(
    ctx: &Context,
    signer: Option<&str>,
    fields: &[(String, String)],
    git: Option<&str>,
) -> Result<crate::workflow::Receipt, WorkflowError> {
    let get = |k: &str| fields.iter().find(|(l, _)| l == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let mut changeset = None;
    let (mut argv, mut from, mut to, mut components) =
        (None, get("from"), get("to"), get("component").map(|c| vec![c]));
    if let Some(commit) = git {
        let g = crate::workflow::requests::from_git(std::path::Path::new("."), commit)?;
        argv = Some(g.argv.clone());
        from = from.or(Some(g.from.clone()));
        to = to.or(Some(g.to.clone()));
        components = components.or(Some(g.components.clone()));
        changeset = Some(g.changeset);
    }
    let argv = match (get("revert command"), argv) {
        (Some(cmd), _) => crate::audit::record::split_command(&cmd)?,
        (None, Some(a)) => a,
        (None, None) => return Err(WorkflowError::Usage("the revert command is required".into())),
    };
    let body = serde_json::json!({
        "title": get("title").unwrap_or_default(),
        "change": get("change").or(git.map(str::to_string)).unwrap_or_default(),
        "category": get("category").unwrap_or_else(|| "other".into()),
        "rationale": get("rationale").unwrap_or_default(),
        "impact": get("user impact").unwrap_or_default(),
        "components": components.unwrap_or_default(),
        "env": get("environment").unwrap_or_default(),
        "revert": {"tool": std::path::Path::new(&argv[0]).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                   "argv": argv, "from": from.unwrap_or_default(), "to": to.unwrap_or_default()},
        "risk": get("risk").unwrap_or_else(|| "medium".into()),
    });
    let record: crate::audit::RequestBody =
        serde_json::from_value(body).map_err(|e| WorkflowError::Usage(e.to_string()))?;
    record.validate()?;
    crate::workflow::requests::new_request(ctx, signer, record, changeset)
}

fn detail_of(s: &Shown, can: Can) -> Detail {
    let v = &s.view;
    let r = v.record();
    let roster = &s.snap.roster;
    let (title, mut suspicious) = clean(&r.title);
    let mut record = Vec::new();
    let mut push = |label: &str, value: &str| {
        let (c, sus) = clean(value);
        suspicious |= sus;
        record.push((label.to_string(), c));
    };
    push("id", &v.id.to_hex());
    push("requested", &format!("{} by {}", v.ts.format("%Y-%m-%d %H:%M UTC"), roster.display(&v.requester)));
    if v.versions.len() > 1 {
        push("version", &format!("{} (amended: {})", v.versions.len(), v.current().reason.as_deref().unwrap_or("")));
    }
    push("change", &r.change);
    if let Some(t) = &r.ticket {
        push("ticket", t);
    }
    if let Some(i) = &r.incident {
        push("incident", i);
    }
    push("category", r.category.as_str());
    push("declared risk", r.risk.as_str());
    push("rationale", &r.rationale);
    push("user impact", &r.impact);
    push("components", &r.components.join(", "));
    push("environment", &format!("{} (found in {})", r.env, r.origin_env.as_deref().unwrap_or(&r.env)));
    if !r.cascades.is_empty() {
        push("cascades to", &r.cascades.join(", "));
    }
    push("revert", &r.revert.argv.join(" "));
    push("from -> to", &format!("{} -> {}", r.revert.from, r.revert.to));
    push("op digest", &r.revert_digest());
    if let Some(x) = &r.security {
        push("security", x);
    }
    if let Some(x) = &r.test_plan {
        push("test plan", x);
    }
    if let Some(x) = &r.roll_forward_plan {
        push("roll forward", x);
    }
    if let Some(x) = &r.temporary_until {
        push("temporary until", x);
    }
    if !r.side_effects.migrations.is_empty() {
        push("migrations", &r.side_effects.migrations.join("; "));
    }
    if !r.side_effects.destructive.is_empty() {
        push("DESTRUCTIVE", &r.side_effects.destructive.join("; "));
    }
    let evidence = v
        .evidence
        .iter()
        .map(|e| EvidenceItem {
            id: e.rec.id,
            kind: e.rec.body.kind.clone(),
            name: safe(e.rec.body.name.as_deref().or(e.rec.body.url.as_deref()).unwrap_or("-")),
            summary: safe(e.rec.body.summary.as_deref().unwrap_or("")),
            purged: e.purged.as_ref().map(|p| {
                format!(
                    "purged by {} at {}: {}",
                    roster.display(&p.actor),
                    p.ts.format("%Y-%m-%d %H:%M"),
                    safe(&p.body.reason)
                )
            }),
        })
        .collect();
    let flags = s
        .assessment
        .flags
        .iter()
        .map(|f| FlagItem {
            id: f.id.clone(),
            severity: f.severity.as_str().into(),
            explanation: safe(&f.explanation),
            location: safe(&f.location),
        })
        .collect();
    let checklist = s
        .eval
        .checklist
        .iter()
        .map(|i| CheckItem { id: i.id.into(), met: i.met, waived: i.waived, detail: safe(&i.detail) })
        .collect();
    let decisions = s
        .eval
        .decisions
        .iter()
        .map(|d| {
            let comment = v.decisions.iter().find(|x| x.id == d.entry).map(|x| x.body.comment.as_str()).unwrap_or("");
            format!(
                "{:?} by {} at {}: \"{}\" — {}",
                d.decision,
                safe(&d.name),
                d.ts.format("%Y-%m-%d %H:%M"),
                safe(comment),
                match &d.excluded {
                    None => "counts".to_string(),
                    Some(w) => format!("does not count: {}", safe(w)),
                }
            )
        })
        .collect();
    let obligations = s
        .obligations
        .iter()
        .map(|o| {
            format!(
                "{} due {}{}",
                o.detail,
                o.due.format("%Y-%m-%d %H:%M UTC"),
                if o.overdue { " — OVERDUE" } else { "" }
            )
        })
        .collect();
    let timeline = v
        .timeline
        .iter()
        .map(|t| TimelineItem {
            index: t.index,
            ts: t.ts.format("%Y-%m-%d %H:%M").to_string(),
            kind: t.kind.clone(),
            actor: format!("{} [signature ok]", safe(&roster.display(&t.actor))),
            note: t.ignored.as_ref().map(|w| format!("does not count: {}", safe(w))),
        })
        .collect();
    let mut lineage = Vec::new();
    for (label, list) in r.lineage.lists() {
        for item in list {
            lineage.push((label.to_string(), safe(item)));
        }
    }
    if let Some(cs) = &r.changeset {
        lineage
            .push(("change set".into(), format!("{} files from {}, sha256 {}", cs.files, cs.source, &cs.sha256[..16])));
    }
    let (policy_id, _) = s.snap.policies.current();
    let sign = SignPreview {
        request: v.id.to_hex(),
        version: v.current().id.to_hex(),
        revert_digest: r.revert_digest(),
        revert: safe(&r.revert.argv.join(" ")),
        evidence: v.evidence_ids().iter().map(|e| e.short(12)).collect(),
        policy: policy_id.short(16),
        flags: s.assessment.flag_ids(),
    };
    Detail {
        id: v.id,
        title,
        status: s.eval.status.as_str().into(),
        tier: s.eval.tier.clone(),
        score: s.assessment.risk.score,
        gate: s.eval.gate,
        approvals: (s.eval.approvals.len(), s.eval.need),
        suspicious,
        record,
        evidence,
        flags,
        risk_factors: s
            .assessment
            .risk
            .factors
            .iter()
            .map(|f| format!("{} +{} ({})", f.name, f.points, safe(&f.detail)))
            .collect(),
        checklist,
        decisions,
        obligations,
        timeline,
        lineage,
        sign,
        can,
    }
}

fn integrity_of(r: &crate::workflow::verify::VerifyReport) -> Integrity {
    let mut lines = Vec::new();
    lines.push(format!("ledger {}", r.ledger_id.map(|h| h.to_hex()).unwrap_or_else(|| "?".into())));
    let audit = crate::workflow::sync::AUDIT_ORIGIN;
    for (i, o) in r.origins.iter().enumerate().filter(|(_, o)| !(o.origin == audit && o.size == 0)) {
        let witnesses = r
            .witnesses
            .by_origin
            .get(&o.origin)
            .map(|ws| ws.iter().map(|w| format!("{} at size {}", safe(&w.name), w.size)).collect::<Vec<_>>())
            .unwrap_or_default();
        lines.push(format!(
            "{} {}: {} of {} entries verified, {} signatures; latest checkpoint {}",
            if i == 0 { "own log" } else { "mirror" },
            safe(&o.origin),
            o.verified,
            o.size,
            o.signatures,
            o.latest_checkpoint.map(|(s, h)| format!("size {s} root {}", h.short(16))).unwrap_or_else(|| "none".into())
        ));
        lines.push(if witnesses.is_empty() {
            "  witnesses: none (no peer has cosigned this log yet; sync to collect cosignatures)".to_string()
        } else {
            format!("  witnessed by {}", witnesses.join(", "))
        });
    }
    for c in r.completeness.iter().filter(|c| !(c.origin == audit && c.size == 0)) {
        lines.push(format!("completeness ({}): {}", safe(&c.origin), safe(&c.statement)));
    }
    lines.push(format!(
        "evidence: {} blobs match their digests, {} purged{}",
        r.blobs.checked,
        r.blobs.purged.len(),
        if r.blobs.not_held > 0 {
            format!(", {} of other origins not held here", r.blobs.not_held)
        } else {
            String::new()
        }
    ));
    for p in &r.witnesses.problems {
        lines.push(format!("cosignatures: {}", safe(p)));
    }
    let mut security = Vec::new();
    for e in &r.witnesses.equivocations {
        security.push(crate::workflow::sync::equivocation_line(e));
        // Both signed statements, as kept: each note's lines on one line.
        for (who, note) in [("this ledger's", &e.ours), ("the bundle's", &e.theirs)] {
            let shown = note.lines().filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" | ");
            security.push(format!(
                "  {who} signed statement: {}",
                if shown.is_empty() { "(none kept)".to_string() } else { safe(&shown) }
            ));
        }
    }
    for (e, a) in &r.witnesses.acknowledged {
        lines.push(crate::workflow::sync::acknowledged_line(e, a));
    }
    if r.discounted.is_empty() {
        lines.push("authorization: every signer counted".into());
    } else {
        lines.push(format!("authorization: {} entries intact but do not count", r.discounted.len()));
        for d in r.discounted.iter().take(20) {
            lines.push(format!("  #{} {}: {}", crate::ledger::pos::index_of(d.pos), d.kind, safe(&d.reason)));
        }
    }
    Integrity {
        checked: true,
        intact: r.intact(),
        failure: r.failure.as_ref().map(|f| safe(&f.to_string())),
        security,
        lines,
        elapsed_ms: r.elapsed.as_millis() as u64,
    }
}

/// Writes a report to `path` (created 0600 at its first byte) through `write`, buffered.
fn report_file(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    use std::io::Write;
    let mut sink = crate::paths::LazyFile::new(path);
    write(&mut sink)?;
    sink.flush().map_err(|e| WorkflowError::Read(path.to_path_buf(), e))
}

/// Completes a file path typed in a field: the longest common extension of the matching names.
pub fn complete_path(input: &str) -> Option<String> {
    let path = std::path::Path::new(input);
    let (dir, prefix) = if input.ends_with('/') {
        (path.to_path_buf(), String::new())
    } else {
        (
            path.parent()
                .map(|p| if p.as_os_str().is_empty() { std::path::PathBuf::from(".") } else { p.to_path_buf() })?,
            path.file_name()?.to_string_lossy().into_owned(),
        )
    };
    let names: Vec<String> = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .map(|e| {
            let mut n = e.file_name().to_string_lossy().into_owned();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                n.push('/');
            }
            n
        })
        .filter(|n| n.starts_with(&prefix))
        .collect();
    let first = names.first()?;
    let mut common = first.clone();
    for n in &names[1..] {
        while !n.starts_with(&common) {
            common.pop();
        }
    }
    let base = if input.ends_with('/') || !input.contains('/') && path.parent().is_none_or(|p| p.as_os_str().is_empty())
    {
        if input.ends_with('/') { input.to_string() } else { String::new() }
    } else {
        let p = path.parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        if p.is_empty() { String::new() } else { format!("{p}/") }
    };
    Some(format!("{base}{common}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_complete_to_the_longest_common_name() {
        let tmp = tempfile::tempdir().unwrap();
        for f in ["report-a.md", "report-b.md", "other.txt"] {
            std::fs::write(tmp.path().join(f), "x").unwrap();
        }
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        let d = tmp.path().to_str().unwrap();
        assert_eq!(super::complete_path(&format!("{d}/rep")), Some(format!("{d}/report-")));
        assert_eq!(super::complete_path(&format!("{d}/ot")), Some(format!("{d}/other.txt")));
        assert_eq!(super::complete_path(&format!("{d}/su")), Some(format!("{d}/sub/")));
        assert_eq!(super::complete_path(&format!("{d}/zz")), None);
    }
}
