//! What the workers do with a command: reads (queue and history pages, details, search, metrics, change
//! polling, path checks), verification, and signing (unlock a key, record an action) — all through
//! `workflow`, each answered with messages. A worker error becomes a message, never a crash. Which thread
//! runs which command, and the coalescing of queued reads, is `runtime`'s; turning the results into view
//! models is `present`'s.

mod present;

use super::model::*;
use super::msg::{Cmd, Done, Failed, Job, Msg, NewRequest};
use crate::identity::passphrase::Given;
use crate::ledger::{Hash, Ledger};
use crate::workflow::query::Shown;
use crate::workflow::waiting::Waiting;
use crate::workflow::{Context, WorkflowError, browse, evidence, query};
use std::path::PathBuf;

/// Who the console acts as.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub signer: Option<String>,
    pub read_only: bool,
}

/// What the console says when another process is rebuilding the request index it needs.
pub const INDEX_BUSY: &str =
    "the request index is being brought up to date elsewhere (an import's rebuild); the queue shows once it is done";

/// Answers commands against one ledger.
pub struct Worker {
    pub ctx: Context,
    pub identity: Identity,
    /// Where the verification worker reports how far it has come (the runtime's channel).
    progress: Option<std::sync::mpsc::Sender<Msg>>,
    /// Where a worker says, before it waits, why it waits (the runtime's channel).
    notices: Option<std::sync::mpsc::Sender<Msg>>,
    ledger: Option<Ledger>,
    /// What waits on the signed-in key, for the ledger as `ledger` was opened (recomputed when reopened).
    waiting: Option<std::sync::Arc<Waiting>>,
    /// The observed rollbacks no request cleared, computed once per opening of the ledger.
    alerts: Option<Vec<crate::tui::model::Alert>>,
    data_version: Option<i64>,
    size: Option<u64>,
}

/// What [`Worker::begin`] and [`Worker::resume`] come to.
pub(crate) enum Outcome<P = Parked> {
    /// The command is answered.
    Done(Vec<Msg>),
    /// Work is left (see [`Parked`]).
    Parked(P),
}

/// A history page or count, or the dashboard's figures, part done, read a slice at a time: the console's
/// read worker answers the commands that came meanwhile, then reads on ([`Worker::resume`]); a newer
/// command of the same kind drops it.
pub(crate) enum Parked {
    Page { generation: u64, page: browse::Page<u64>, scan: Box<browse::HistoryPage> },
    Count { generation: u64, count: Box<browse::HistoryCount> },
    Metrics(Box<crate::workflow::metrics::MetricsScan>),
}

/// A worker error as the console shows it, with what was being read.
fn error(e: WorkflowError, reading: Reading) -> Msg {
    Msg::Error(crate::tui::model::Problem::of(&e, reading))
}

/// What `cmd` reads, for its error.
pub(crate) fn reading(cmd: &Cmd) -> Reading {
    match cmd {
        Cmd::Queue { generation, .. } | Cmd::QueueCount { generation, .. } => Reading::Queue(*generation),
        Cmd::History { generation, .. } | Cmd::HistoryCount { generation, .. } => Reading::History(*generation),
        Cmd::Metrics => Reading::Metrics,
        _ => Reading::Other,
    }
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
        Worker {
            ctx,
            identity,
            progress: None,
            notices: None,
            ledger: None,
            waiting: None,
            alerts: None,
            data_version: None,
            size: None,
        }
    }

    /// This worker reports the progress of a verification on `out` as it goes.
    pub(crate) fn reporting_to(mut self, out: std::sync::mpsc::Sender<Msg>) -> Worker {
        self.progress = Some(out);
        self
    }

    /// This worker tells `out` why it waits, before it does (the request index rebuilt by another process).
    pub fn telling(mut self, out: std::sync::mpsc::Sender<Msg>) -> Worker {
        self.notices = Some(out);
        self
    }

    /// A second worker on the same ledger (the verification and the signing workers).
    pub(crate) fn sibling(&self) -> Worker {
        Worker::new(ctx_like(&self.ctx, None), self.identity.clone())
    }

    fn ledger(&mut self) -> Result<&Ledger, WorkflowError> {
        if self.ledger.is_none() {
            self.waiting = None;
            self.alerts = None;
            // Another process rebuilding the index (after a large import) is waited for: say so first, or
            // the queue would only read "loading…" until it is done.
            if crate::workflow::index_lock::busy(&self.ctx.ledger_path)
                && let Some(out) = &self.notices
            {
                let _ = out.send(Msg::Notice(INDEX_BUSY.into()));
            }
            // Bring the request index up to date first (a read-only file keeps what it has).
            if !self.identity.read_only
                && let Ok(rw) = self.ctx.open()
            {
                let _ = crate::workflow::index::refresh(&rw, crate::workflow::clock::now());
            }
            let l = self.ctx.open_read_only()?;
            if self.identity.read_only {
                // An auditor's console writes nothing: an index the file lacks is built in a private temporary
                // database instead.
                crate::workflow::index::refresh_read_only(&l, crate::workflow::clock::now())?;
            }
            self.ledger = Some(l);
        }
        Ok(self.ledger.as_ref().expect("just opened"))
    }

    /// Handles one command to its end, returning the messages it produces.
    pub fn handle(&mut self, cmd: Cmd) -> Vec<Msg> {
        let mut outcome = self.begin(cmd);
        loop {
            match outcome {
                Outcome::Done(msgs) => return msgs,
                Outcome::Parked(p) => outcome = self.resume(p),
            }
        }
    }

    /// Starts on `cmd`: its messages, or (a history count over a large log) the work left, to be taken up
    /// with [`Worker::resume`] once the commands that came meanwhile are answered.
    pub(crate) fn begin(&mut self, cmd: Cmd) -> Outcome {
        let what = reading(&cmd);
        let parked = match cmd {
            Cmd::History { generation, filter, page, limit } => self
                .ledger()
                .and_then(|l| browse::HistoryPage::start(l, &filter, &page, limit))
                .map(|scan| Parked::Page { generation, page, scan: Box::new(scan) }),
            Cmd::HistoryCount { generation, filter } => self
                .ledger()
                .and_then(|l| browse::HistoryCount::start(l, &filter))
                .map(|count| Parked::Count { generation, count: Box::new(count) }),
            Cmd::Metrics => Ok(Parked::Metrics(Box::new(crate::workflow::metrics::MetricsScan::start(
                crate::workflow::clock::now(),
            )))),
            cmd => return Outcome::Done(self.try_handle(cmd).unwrap_or_else(|e| vec![error(e, what)])),
        };
        match parked {
            Ok(p) => self.resume(p),
            Err(e) => Outcome::Done(vec![error(e, what)]),
        }
    }

    /// One more step of work left by [`Worker::begin`].
    pub(crate) fn resume(&mut self, mut p: Parked) -> Outcome {
        let what = match p {
            Parked::Page { generation, .. } | Parked::Count { generation, .. } => Reading::History(generation),
            Parked::Metrics(_) => Reading::Metrics,
        };
        let ledger = match self.ledger() {
            Ok(l) => l,
            Err(e) => return Outcome::Done(vec![error(e, what)]),
        };
        let done = match &mut p {
            Parked::Page { generation, page, scan } => scan.step(ledger, browse::SCAN_STEP).map(|rows| {
                rows.map(|rows| Msg::History {
                    generation: *generation,
                    page: page.clone(),
                    rows: rows.into_iter().map(present::history_item).collect(),
                })
            }),
            Parked::Count { generation, count } => count.step(ledger, browse::SCAN_STEP).map(|done| {
                done.map(|(total, log, logs)| Msg::HistoryCount { generation: *generation, total, log, logs })
            }),
            Parked::Metrics(scan) => scan.step(ledger, browse::SCAN_STEP).map(|m| m.map(|m| Msg::Metrics(Box::new(m)))),
        };
        match done {
            Ok(Some(msg)) => Outcome::Done(vec![msg]),
            Ok(None) => Outcome::Parked(p),
            Err(e) => Outcome::Done(vec![error(e, what)]),
        }
    }

    fn try_handle(&mut self, cmd: Cmd) -> Result<Vec<Msg>, WorkflowError> {
        Ok(match cmd {
            Cmd::Queue { generation, filter, page, limit } => {
                let now = crate::workflow::clock::now();
                let waiting = self.waiting(now)?;
                let rows = browse::queue_page(self.ledger()?, &filter, &waiting.ids, &page, limit)?
                    .into_iter()
                    .map(|r| {
                        let stand = waiting.stands.get(&r.row.id).copied();
                        present::queue_item(r, stand, now)
                    })
                    .collect();
                vec![Msg::Queue { generation, page, rows }]
            }
            Cmd::Alerts => vec![Msg::Alerts(self.alerts()?)],
            Cmd::QueueCount { generation, filter } => {
                vec![Msg::QueueCount { generation, total: browse::queue_count(self.ledger()?, &filter)? }]
            }
            // `begin` takes these a step at a time (`resume` answers them); run to their end here.
            cmd @ (Cmd::History { .. } | Cmd::HistoryCount { .. } | Cmd::Metrics) => self.handle(cmd),
            Cmd::Search { generation, query } => {
                let rows =
                    browse::search(self.ledger()?, &query, 500)?.into_iter().map(present::history_item).collect();
                vec![Msg::Search { generation, rows }]
            }
            Cmd::Detail { generation, id } => {
                let shown = query::show(&self.ctx, &id.to_hex())?;
                let detail = present::detail_of(&shown, self.permissions(&shown));
                vec![Msg::Detail { generation, detail: Box::new(detail) }]
            }
            Cmd::Observation { id } => {
                let (id, observed, _) = crate::workflow::ingest::observed(&self.ctx, &id.to_hex())?;
                let at = crate::audit::record::parse_time(&observed.at).unwrap_or_default();
                let o = crate::workflow::reconcile::Observation { id, observed, at };
                vec![Msg::FromObserved(Box::new(present::alert(&o, None)))]
            }
            Cmd::Evidence { id } => {
                let ev = evidence::show(&self.ctx, &id.to_hex())?;
                vec![present::evidence_viewer(id, &ev)]
            }
            Cmd::EvidencePage { id, page } => {
                let p = evidence::text_page(self.ledger()?, &id, page)?;
                vec![Msg::EvidencePage {
                    id,
                    page,
                    offset: p.offset,
                    len: p.len,
                    size: p.size,
                    lines: present::page_lines(&p.text),
                }]
            }
            Cmd::Entry { id } => {
                // What an auditor checks first (signer, signature, inclusion under a signed checkpoint), then
                // the statement, formatted.
                let ledger = self.ledger()?;
                let mut text = crate::workflow::proofs::inspect(ledger, &id)?.join("\n");
                text.push_str("\n\nformatted:\n");
                text.push_str(&browse::entry_text(ledger, &id)?);
                let lines = crate::text::multi_line(&text).text.lines().map(str::to_string).collect();
                vec![Msg::Viewer { title: format!("Entry {}", id.short(12)), lines, pager: None }]
            }
            Cmd::Governance(view) => {
                use crate::tui::msg::GovernanceView;
                let ledger = self.ledger()?;
                let (title, lines) = match view {
                    GovernanceView::Members => {
                        let (members, next) = crate::workflow::query::members_in(ledger)?;
                        ("Members and roles over time", present::members_lines(&members, next))
                    }
                    GovernanceView::Policy => {
                        let versions = crate::workflow::query::policy_versions(ledger)?;
                        ("Policy versions", present::policy_lines(&versions))
                    }
                    GovernanceView::Obligations => {
                        let now = crate::workflow::clock::now();
                        let list = crate::workflow::query::obligations_in(ledger, now, false)?;
                        ("Obligations", present::obligation_lines(&list))
                    }
                };
                vec![Msg::Viewer { title: title.into(), lines, pager: None }]
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
                .map(|()| Done::Said(format!("report written to {} (the read is not recorded)", p.display())))
                .map_err(|e| Failed::of(&e));
                vec![Msg::Acted(result)]
            }
            Cmd::Verify => {
                // In the background: one thread and small caches, so the screen keeps a core and the
                // console stays small; the bar shows how far it has come.
                let mut last = None;
                let out = self.progress.clone();
                let mut progress = |done: u64, total: u64| {
                    let pct = (done.saturating_mul(100) / total.max(1)).min(99) as u8;
                    if last != Some(pct) {
                        last = Some(pct);
                        release_free_memory();
                        if let Some(o) = &out {
                            let _ = o.send(Msg::Verifying(pct));
                        }
                    }
                };
                lower_priority();
                let r = crate::workflow::verify::verify_with(
                    &self.ctx,
                    crate::workflow::verify::Budget::background(),
                    Some(&mut progress),
                )?;
                release_free_memory();
                vec![Msg::Integrity(Box::new(present::integrity_of(&r)))]
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
            Cmd::Reopen => {
                self.ledger = None;
                vec![Msg::Changed]
            }
            Cmd::Act { job, passphrase } => {
                let ctx = ctx_like(&self.ctx, Some(passphrase));
                let signer = self.identity.signer.as_deref();
                let result = act(&ctx, signer, job);
                self.ledger = None;
                vec![Msg::Acted(result.map_err(|e| Failed::of(&e)))]
            }
            Cmd::Quit | Cmd::Terminal(_) => vec![],
        })
    }

    /// The signed-in key, when this console may sign and the key is in the keystore.
    fn signer_key(&self) -> Option<crate::ledger::PublicKey> {
        if self.identity.read_only {
            return None;
        }
        let name = self.ctx.signer_name(self.identity.signer.as_deref()).ok()?;
        Some(self.ctx.keystore.info(&name).ok()?.public_key)
    }

    /// What waits on the signed-in key (nothing for a read-only console), computed once per opening of
    /// the ledger.
    /// The observed rollbacks no request cleared (see `workflow::reconcile`).
    fn alerts(&mut self) -> Result<Vec<crate::tui::model::Alert>, WorkflowError> {
        if let Some(a) = &self.alerts {
            return Ok(a.clone());
        }
        let options = crate::workflow::reconcile::Options::default();
        let found = present::alerts(&crate::workflow::reconcile::rollbacks(self.ledger()?, &options)?);
        self.alerts = Some(found.clone());
        Ok(found)
    }

    fn waiting(&mut self, now: chrono::DateTime<chrono::Utc>) -> Result<std::sync::Arc<Waiting>, WorkflowError> {
        self.ledger()?;
        if let Some(w) = &self.waiting {
            return Ok(w.clone());
        }
        let w = match self.signer_key() {
            Some(key) => crate::workflow::waiting::waiting_on(self.ledger()?, &key, now)?,
            None => Waiting::default(),
        };
        let w = std::sync::Arc::new(w);
        self.waiting = Some(w.clone());
        Ok(w)
    }

    /// What the signed-in key may do on the shown request, and why not: asked of
    /// `policy::evaluate::permission`, the rules `gate` and the evaluation apply, never decided here. A
    /// refusal for want of a role names who holds one ("ask erin").
    fn permissions(&self, shown: &Shown) -> Can {
        use crate::policy::evaluate::{Permission, permission, roles_for, tier_of};
        if self.identity.read_only {
            return Can::none("read-only: this console signs nothing");
        }
        let Some(key) = self.signer_key() else { return Can::default() };
        let roster = &shown.snap.roster;
        if roster.member(&key).is_none_or(|m| m.revoked.is_some()) {
            return Can::none("your key is not an active member of this ledger");
        }
        let flags = shown.assessment.flag_ids();
        let tier_flags = Some(shown.assessment.risk.tier.as_str());
        let ctx = shown.snap.context(&flags, tier_flags);
        let (_, policy) = shown.snap.policies.at(shown.snap.next);
        let tier = tier_of(&shown.view, tier_flags);
        let may = |what| -> Allowed {
            permission(&shown.view, &ctx, &key, what, shown.now, shown.snap.next).map_err(|r| {
                let roles = roles_for(what, policy, &tier);
                let holds = roster.has_role(&key, shown.snap.next, &roles);
                if holds {
                    return r.0;
                }
                let others: Vec<String> = crate::workflow::waiting::who_holds(roster, &roles, shown.snap.next)
                    .into_iter()
                    .filter(|n| roster.member(&key).is_none_or(|m| m.name != *n))
                    .take(3)
                    .collect();
                if others.is_empty() { r.0 } else { format!("{} — ask {}", r.0, others.join(", ")) }
            })
        };
        // Already decided: a member counts once, so the same decision again is refused before anything is
        // typed (the write path refuses it too).
        let mine =
            shown.eval.decisions.iter().rev().find(|d| roster.same_member(&d.actor, &key) && d.excluded.is_none());
        let again = |want: crate::audit::bodies::Decision, what: &str| -> Option<String> {
            mine.filter(|d| d.decision == want)
                .map(|_| format!("you already {what} this version; a member counts once"))
        };
        let approve =
            match (again(crate::audit::bodies::Decision::Approve, "approved"), &shown.assessment.changeset_problem) {
                (Some(why), _) => Err(why),
                (None, Some(problem)) => Err(crate::workflow::decisions::unseen_changeset(problem)),
                (None, None) => may(Permission::Approve),
            };
        let reject = match again(crate::audit::bodies::Decision::Reject, "rejected") {
            Some(why) => Err(why),
            None => may(Permission::Reject),
        };
        Can {
            approve,
            reject,
            emergency: may(Permission::Emergency),
            execute: may(Permission::Execute),
            annotate: Ok(()),
            // Any active member may record a validation once the revert ran (the lifecycle's rule).
            validate: shown.view.admits(crate::audit::projection::Action::Validate).map_err(|r| r.0),
            review: may(Permission::Review),
            post_hoc: shown
                .view
                .post_hoc_refusal(&|k| roster.same_member(k, &key))
                .map_or(Ok(()), |why| Err(why.into())),
            close: may(Permission::Close),
        }
    }
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
            lifecycle::attach_evidence(ctx, signer, &hex(&req), kind.as_str(), Some(&p), None, None)?.0
        }
        Job::Execute { req, outcome } => {
            lifecycle::execute(ctx, signer, &hex(&req), lifecycle::Execution::plain(outcome))?.0
        }
        Job::Review { req, post_hoc, summary } => {
            use crate::audit::bodies::ReviewKind;
            let kind = if post_hoc { ReviewKind::PostHoc } else { ReviewKind::PostIncident };
            lifecycle::review(ctx, signer, &hex(&req), kind, &summary, vec![])?.0
        }
        Job::Validate { req, pass } => {
            let r = if pass { CheckResult::Pass } else { CheckResult::Fail };
            lifecycle::validate(ctx, signer, &hex(&req), r, vec![], None, None)?.0
        }
        Job::Close { req, resolution, comment } => {
            lifecycle::close(ctx, signer, &hex(&req), resolution, None, &comment)?.0
        }
        Job::NewRequest(form) => {
            let (emergency, reason) = (form.emergency, form.rationale.clone());
            let mut filed = new_request(ctx, signer, *form)?;
            if emergency {
                // Two entries, one passphrase: if the second is refused, the request stays filed and says so.
                let id = filed.entry_id.to_hex();
                match decisions::emergency(ctx, signer, &id, &reason) {
                    Ok((invoked, _)) => filed.warnings.extend(invoked.warnings),
                    Err(e) => {
                        return Ok(Done::Said(format!(
                            "filed as {}, but the emergency was not invoked: {e}",
                            filed.entry_id.short(12)
                        )));
                    }
                }
            }
            filed
        }
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
    Ok(Done::Signed(receipt.entry_id, receipt.warnings.iter().map(String::as_str).map(crate::text::safe).collect()))
}

/// Files the request the form describes: the typed record, completed from git when a commit is given.
fn new_request(
    ctx: &Context,
    signer: Option<&str>,
    form: NewRequest,
) -> Result<crate::workflow::Receipt, WorkflowError> {
    use crate::audit::record::{RequestBody, RevertOp};
    let mut changeset = None;
    let (mut argv, mut from, mut to, mut components) = (None, form.from, form.to, form.component.map(|c| vec![c]));
    if let Some(commit) = &form.git_commit {
        let g = crate::workflow::requests::from_git(std::path::Path::new("."), commit)?;
        argv = Some(g.argv.clone());
        from = from.or(Some(g.from.clone()));
        to = to.or(Some(g.to.clone()));
        components = components.or(Some(g.components.clone()));
        changeset = Some(g.changeset);
    }
    let argv = match (form.revert_command, argv) {
        (Some(cmd), _) => crate::audit::record::split_command(&cmd)?,
        (None, Some(a)) => a,
        (None, None) => return Err(WorkflowError::Usage("the revert command is required".into())),
    };
    let tool = std::path::Path::new(&argv[0]).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let record = RequestBody {
        title: form.title,
        change: form.change.or(form.git_commit).unwrap_or_default(),
        category: form.category,
        rationale: form.rationale,
        impact: form.impact,
        components: components.unwrap_or_default(),
        env: form.env,
        revert: RevertOp { tool, argv, from: from.unwrap_or_default(), to: to.unwrap_or_default() },
        risk: form.risk,
        ..Default::default()
    };
    record.validate_to_sign()?;
    crate::workflow::requests::new_request(ctx, signer, record, changeset)
}

/// Writes a report to `path` (created 0600 at its first byte) through `write`, buffered.
fn report_file(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    use std::io::Write;
    crate::workflow::audited::check_destination(path, false)?;
    let mut sink = crate::paths::LazyFile::new(path);
    write(&mut sink)?;
    sink.flush().map_err(|e| WorkflowError::Read(path.to_path_buf(), e))
}

/// Completes a file path typed in a field: the longest common extension of the matching names.
pub(crate) fn complete_path(input: &str) -> Option<String> {
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

/// Gives the memory the threads have freed back to the system. glibc gives each thread that allocates a
/// heap of its own and keeps (resident) the most it ever held: the background verification's and the
/// worker's short-lived allocations while they read a million entries left the console at 46–51 MB
/// resident while its live heap never exceeded 18 MB (valgrind massif). Called at each percent of the
/// verification (about a hundred times) and at its end. (One heap shared by every thread would also do it,
/// but the low-priority verification thread could then hold its lock while the screen waits.)
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's heaps to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Lowers the calling thread's scheduling priority (and that of the threads it starts), so the background
/// verification gives way to the screen and the reads. Linux only (elsewhere the priority is per process).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take no pointers; setpriority on a thread id changes only that thread.
    unsafe {
        let tid = libc::gettid();
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
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
