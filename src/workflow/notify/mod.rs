//! Escalation: `notify.toml` in the config directory maps events to local commands, each run with the
//! event as one JSON document on its stdin, for at most the configured time. Nothing runs, and nothing is
//! sent anywhere, without that file.
//!
//! Events: `emergency.invoked` (after `emergency` is recorded), `gate.bypassed` (after an execution is
//! recorded whose gate passed only because an emergency waived requirements: `execute` refuses every
//! other gate that did not pass), `security.equivocation` (an import or sync refused as SECURITY: a fork
//! or a rolled-back log, each distinct one once), `review.overdue` (an overdue obligation: the post-hoc
//! review of an emergency, the review a fork owes, or a temporary revert past its date), `rollback.unrecorded` and
//! `rollback.unauthorized` (an observed rollback with no request, or with one that did not clear it; after
//! `ingest` for the rollbacks it recorded, and from `rollcall notify check`).
//!
//! Commands run after the ledger write committed, never inside a transaction. A command that fails, hangs
//! or is missing — or a `notify.toml` that does not parse — never changes the ledger or the exit status
//! of the operation that triggered it: it costs a one-line warning, and each run is logged to
//! `notify.log`. `notify check` remembers what it delivered in `notify.state` (per finding and command,
//! retried until the command succeeds), so a cron job does not repeat itself.
//!
//! Where the files are: the directory holding the keystore's `keys/` — `ROLLCALL_HOME` when set, else the
//! platform config directory (where `keymap.toml` and `theme.toml` are). A demo keystore never notifies.

pub(crate) mod config;
pub(crate) mod run;
pub(crate) mod state;

use crate::ledger::EntryId;
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::state::{Snapshot, load_view};
use config::Config;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What can be escalated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    EmergencyInvoked,
    GateBypassed,
    SecurityEquivocation,
    ReviewOverdue,
    RollbackUnrecorded,
    RollbackUnauthorized,
}

impl Event {
    pub const ALL: [Event; 6] = [
        Event::EmergencyInvoked,
        Event::GateBypassed,
        Event::SecurityEquivocation,
        Event::ReviewOverdue,
        Event::RollbackUnrecorded,
        Event::RollbackUnauthorized,
    ];

    /// The name used in `notify.toml` and in the event's `event` field.
    pub fn name(self) -> &'static str {
        match self {
            Event::EmergencyInvoked => "emergency.invoked",
            Event::GateBypassed => "gate.bypassed",
            Event::SecurityEquivocation => "security.equivocation",
            Event::ReviewOverdue => "review.overdue",
            Event::RollbackUnrecorded => "rollback.unrecorded",
            Event::RollbackUnauthorized => "rollback.unauthorized",
        }
    }

    pub fn parse(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.name() == name)
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The document a command reads on its stdin (docs: README "Escalation: notify.toml"). Text from the
/// ledger or a CD tool is untrusted: it reaches the command only here, JSON-escaped, never in its
/// arguments or environment.
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    /// The document's version.
    pub v: u32,
    pub event: Event,
    /// When rollcall raised it (RFC 3339, UTC).
    pub at: String,
    /// The ledger's id (hex); null only for `notify test` without a ledger.
    pub ledger: Option<String>,
    /// The request's entry id, when the event is about one.
    pub request: Option<String>,
    /// The `deployment.observed` entry id, when the event is about an observed rollback.
    pub observation: Option<String>,
    /// Who did it: the signer's name for what was recorded here, the CD tool's user for an observed
    /// rollback, when known.
    pub actor: Option<String>,
    /// One line for a human.
    pub summary: String,
    /// The event's facts (fields per event in the README).
    pub details: serde_json::Value,
    /// What `notify check` remembers it by: `EVENT LEDGER SUBJECT`.
    #[serde(skip)]
    finding: Option<String>,
}

/// Longest summary, in characters.
const SUMMARY_MAX: usize = 300;
/// Most commands one operation runs at once.
const PARALLEL: usize = 4;
/// Most deliveries one operation attempts; the rest wait for the next `notify check`.
const MAX_DELIVERIES: usize = 200;

impl Notice {
    fn new(event: Event, ledger: Option<String>, summary: &str, details: serde_json::Value) -> Notice {
        Notice {
            v: 1,
            event,
            at: crate::ledger::statement::format_ts(crate::workflow::clock::now()),
            ledger,
            request: None,
            observation: None,
            actor: None,
            summary: crate::text::truncate(&crate::text::safe(summary), SUMMARY_MAX).into_owned(),
            details,
            finding: None,
        }
    }

    fn about(mut self, subject: &str) -> Notice {
        self.finding = Some(format!("{} {} {subject}", self.event.name(), self.ledger.as_deref().unwrap_or("-")));
        self
    }
}

/// Where `notify.toml`, `notify.log` and `notify.state` are for `ctx`: the directory holding its keystore
/// (`ROLLCALL_HOME`, or the platform config directory). `None` for a demo keystore.
pub(crate) fn dir_of(ctx: &Context) -> Option<PathBuf> {
    let dir = ctx.keystore.keys_dir().parent()?.to_path_buf();
    if dir.join(crate::identity::keystore::DEMO_MARKER).exists() {
        return None;
    }
    Some(dir)
}

/// The configuration when some command answers one of `events`; a warning when the file is refused.
fn configured(ctx: &Context, events: &[Event]) -> Result<Option<(PathBuf, Config)>, String> {
    let Some(dir) = dir_of(ctx) else { return Ok(None) };
    match config::load(&dir) {
        Ok(Some(c)) if events.iter().any(|e| c.wants(*e)) => Ok(Some((dir, c))),
        Ok(_) => Ok(None),
        Err(e) => Err(format!("notify: {e}; nothing was notified")),
    }
}

/// What a round of deliveries did.
#[derive(Debug, Default)]
pub struct Delivered {
    /// Commands run that succeeded, and those that did not.
    pub sent: usize,
    pub failed: usize,
    /// Deliveries made before (skipped), and those left for the next `notify check`.
    pub already: usize,
    pub waiting: usize,
    /// One line per command that did not succeed, and per file that could not be written.
    pub warnings: Vec<String>,
    /// Each command run: its program, and the problem when it did not succeed.
    pub runs: Vec<(Vec<String>, Option<String>)>,
}

/// Runs the commands `cfg` maps each notice's event to, skipping what `state` says was delivered, and
/// records successful deliveries of findings in it.
fn deliver(dir: &Path, cfg: &Config, notices: &[Notice], mut state: Option<&mut state::State>) -> Delivered {
    let mut out = Delivered::default();
    let mut jobs: Vec<(&Notice, &Vec<String>, Option<String>)> = Vec::new();
    for n in notices {
        for argv in cfg.commands(n.event) {
            let key = n.finding.as_deref().map(|f| state::key(f, argv));
            if let (Some(k), Some(s)) = (&key, state.as_deref())
                && s.delivered(k)
            {
                out.already += 1;
                continue;
            }
            if jobs.len() == MAX_DELIVERIES {
                out.waiting += 1;
                continue;
            }
            jobs.push((n, argv, key));
        }
    }
    if out.waiting > 0 {
        out.warnings
            .push(format!("notify: {} more notifications wait for the next `rollcall notify check`", out.waiting));
    }
    let log = run::log_path(dir);
    let mut log_failed = None;
    for batch in jobs.chunks(PARALLEL) {
        let results: Vec<run::Ran> = std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .iter()
                .map(|(n, argv, _)| {
                    let input = serde_json::to_vec(n).unwrap_or_default();
                    s.spawn(move || run::run(argv, &input, cfg.timeout))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| run::Ran {
                        ended: run::Ended::NotStarted("the runner stopped".into()),
                        stdout: Vec::new(),
                        stderr: Vec::new(),
                        truncated: false,
                        elapsed: std::time::Duration::ZERO,
                    })
                })
                .collect()
        });
        for ((n, argv, key), ran) in batch.iter().zip(results) {
            if let Err(e) = run::log(dir, n.event.name(), &n.at, argv, &ran) {
                log_failed = Some(e);
            }
            let problem = ran.problem(cfg.timeout);
            match &problem {
                None => {
                    out.sent += 1;
                    if let (Some(k), Some(s)) = (key, state.as_deref_mut()) {
                        s.mark(k.clone(), &n.at);
                    }
                }
                Some(p) => {
                    out.failed += 1;
                    out.warnings.push(format!(
                        "notify: {}: {} failed ({p}); see {}",
                        n.event.name(),
                        crate::text::safe(&argv[0]),
                        log.display()
                    ));
                }
            }
            out.runs.push((argv.to_vec(), problem));
        }
    }
    if let Some(e) = log_failed {
        out.warnings.push(format!("notify: {e}"));
    }
    out
}

/// Delivers `notices` for one of `events`, or the warning that the configuration was refused. `make` is
/// called only when some command answers them, to read what the notices need from the ledger.
fn fire(
    ctx: &Context,
    events: &[Event],
    remember: bool,
    make: impl FnOnce() -> Result<Vec<Notice>, WorkflowError>,
) -> Vec<String> {
    let (dir, cfg) = match configured(ctx, events) {
        Ok(Some(c)) => c,
        Ok(None) => return Vec::new(),
        Err(w) => return vec![w],
    };
    let notices = match make() {
        Ok(n) => n,
        Err(e) => return vec![format!("notify: cannot describe the event: {e}; nothing was notified")],
    };
    if notices.is_empty() {
        return Vec::new();
    }
    let mut st = remember.then(|| state::State::load(&dir));
    let mut d = deliver(&dir, &cfg, &notices, st.as_mut());
    if let Some(s) = st
        && let Err(e) = s.save()
    {
        d.warnings.push(format!("notify: {e}"));
    }
    d.warnings
}

/// Prints warnings of operations that have no other channel for them (ingest, a refused import).
fn to_stderr(warnings: &[String]) {
    for w in warnings {
        crate::text::eprint_line(&format!("warning: {}", crate::text::safe(w)));
    }
}

fn ledger_hex(ledger: &crate::ledger::Ledger) -> Option<String> {
    Some(ledger.ledger_id().to_hex())
}

fn name_of(snap: &Snapshot, key: &crate::ledger::PublicKey) -> String {
    snap.roster.display(key)
}

/// After `emergency` recorded entry `entry` on `request`: `emergency.invoked`. Returns the warnings.
pub(crate) fn emergency_invoked(ctx: &Context, request: &EntryId, entry: &EntryId) -> Vec<String> {
    fire(ctx, &[Event::EmergencyInvoked], false, || {
        let ledger = ctx.open_read_only()?;
        let snap = Snapshot::load(&ledger)?;
        let view = load_view(&ledger, &snap, request)?;
        let record = view.record();
        let Some(e) = view.emergency.as_ref() else { return Ok(Vec::new()) };
        let by = name_of(&snap, &e.actor);
        let mut n = Notice::new(
            Event::EmergencyInvoked,
            ledger_hex(&ledger),
            &format!("{by} invoked the emergency path on {:?} ({})", record.title, record.env),
            serde_json::json!({
                "entry": entry.to_hex(),
                "title": record.title,
                "env": record.env,
                "components": record.components,
                "reason": e.body.reason,
                "review_due": e.body.review_due,
            }),
        );
        n.request = Some(request.to_hex());
        n.actor = Some(by);
        Ok(vec![n])
    })
}

/// After `execute` recorded entry `entry` on `request`: `gate.bypassed` when requirements of the gate
/// were not met and passed only because an emergency waived them. Returns the warnings.
pub(crate) fn executed(ctx: &Context, request: &EntryId, entry: &EntryId) -> Vec<String> {
    fire(ctx, &[Event::GateBypassed], false, || {
        let ledger = ctx.open_read_only()?;
        let snap = Snapshot::load(&ledger)?;
        let view = load_view(&ledger, &snap, request)?;
        let Some(e) = view.emergency.as_ref() else { return Ok(Vec::new()) };
        let Some(x) = view.executions.iter().find(|x| x.id == *entry) else { return Ok(Vec::new()) };
        // At the run's own time: what its gate waived then (an emergency lapsing since does not hide it).
        let eval = crate::workflow::reads::state::evaluate_now(&ledger, &view, &snap, x.ts)?.eval;
        let waived: Vec<serde_json::Value> = eval
            .checklist
            .iter()
            .filter(|i| i.waived)
            .map(|i| serde_json::json!({"id": i.id, "detail": i.detail}))
            .collect();
        if waived.is_empty() {
            return Ok(Vec::new());
        }
        let record = view.record();
        let by = name_of(&snap, &x.actor);
        let mut n = Notice::new(
            Event::GateBypassed,
            ledger_hex(&ledger),
            &format!(
                "{by} executed {:?} ({}) with {} requirement{} waived by the emergency",
                record.title,
                record.env,
                waived.len(),
                if waived.len() == 1 { "" } else { "s" }
            ),
            serde_json::json!({
                "entry": entry.to_hex(),
                "title": record.title,
                "env": x.body.env,
                "command": x.body.command,
                "outcome": x.body.outcome,
                "waived": waived,
                "emergency": {"entry": e.id.to_hex(), "by": name_of(&snap, &e.actor), "reason": e.body.reason},
            }),
        );
        n.request = Some(request.to_hex());
        n.actor = Some(by);
        Ok(vec![n])
    })
}

/// After an import of `bundle` was refused as SECURITY with `message` (the evidence kept), or took a leaf
/// copied from another log: `security.equivocation`, once per distinct message. Warnings go to stderr.
pub(crate) fn equivocation(ctx: &Context, bundle: &Path, message: &str, recorded: bool) {
    let w = fire(ctx, &[Event::SecurityEquivocation], true, || {
        let ledger = ctx.open_read_only().ok();
        let id = ledger.as_ref().and_then(ledger_hex);
        let digest = crate::ledger::Hash::of(&[message.as_bytes()]).to_hex();
        let n = Notice::new(
            Event::SecurityEquivocation,
            id,
            &format!("SECURITY: {message}"),
            serde_json::json!({
                "message": message,
                "bundle": bundle.display().to_string(),
                "what_to_do": if recorded {
                    "the evidence is kept in the ledger: see `rollcall verify`; `rollcall acknowledge` records the investigation"
                } else {
                    "the evidence could not be recorded in the ledger (the message says why): once that is fixed, import the bundle again to record it"
                },
            }),
        )
        .about(&digest[..32]);
        Ok(vec![n])
    });
    to_stderr(&w);
}

/// `rollback.unrecorded` for an observation.
fn unrecorded_notice(ledger: Option<String>, o: &crate::workflow::reconcile::Observation) -> Notice {
    let d = &o.observed;
    let mut n = Notice::new(
        Event::RollbackUnrecorded,
        ledger,
        &format!(
            "unrecorded rollback of {} in {}: {} -> {} at {} ({}), no request accounts for it",
            d.component,
            d.env,
            d.from.as_deref().unwrap_or("?"),
            d.to,
            d.at,
            d.source
        ),
        observed_details(o),
    )
    .about(&o.id.to_hex());
    n.observation = Some(o.id.to_hex());
    n.actor = d.by.clone();
    n
}

/// `rollback.unauthorized` for an observation matched with a request that did not clear it.
fn unauthorized_notice(ledger: Option<String>, u: &crate::workflow::reconcile::Unauthorized) -> Notice {
    let d = &u.observation.observed;
    let mut details = observed_details(&u.observation);
    details["why"] = u.why.clone().into();
    details["request_title"] = u.request.title.clone().into();
    details["request_status"] = u.request.status.clone().into();
    let mut n = Notice::new(
        Event::RollbackUnauthorized,
        ledger,
        &format!(
            "unauthorized rollback of {} in {}: {} -> {} at {}: {}",
            d.component,
            d.env,
            d.from.as_deref().unwrap_or("?"),
            d.to,
            d.at,
            u.why
        ),
        details,
    )
    .about(&u.observation.id.to_hex());
    n.request = Some(u.request.id.clone());
    n.observation = Some(u.observation.id.to_hex());
    n.actor = d.by.clone();
    n
}

fn observed_details(o: &crate::workflow::reconcile::Observation) -> serde_json::Value {
    let d = &o.observed;
    serde_json::json!({
        "source": d.source,
        "env": d.env,
        "component": d.component,
        "revision": d.revision,
        "from": d.from,
        "to": d.to,
        "rolled_back_at": d.at,
        "by": d.by,
        "artifact": d.artifact,
        "description": d.description,
    })
}

/// After `ingest` recorded the rollbacks `observations`: `rollback.unrecorded` and `rollback.unauthorized`
/// for those reconcile finds, remembered so `notify check` does not repeat them. Warnings go to stderr.
pub(crate) fn ingested(ctx: &Context, observations: &[EntryId]) {
    if observations.is_empty() {
        return;
    }
    let events = [Event::RollbackUnrecorded, Event::RollbackUnauthorized];
    let w = fire(ctx, &events, true, || {
        let fresh: HashSet<&EntryId> = observations.iter().collect();
        let r = crate::workflow::reconcile::reconcile(ctx, &crate::workflow::reconcile::Options::default())?;
        let id = ledger_hex(&ctx.open_read_only()?);
        let mut out: Vec<Notice> =
            r.unrecorded.iter().filter(|o| fresh.contains(&o.id)).map(|o| unrecorded_notice(id.clone(), o)).collect();
        out.extend(
            r.unauthorized
                .iter()
                .filter(|u| fresh.contains(&u.observation.id))
                .map(|u| unauthorized_notice(id.clone(), u)),
        );
        Ok(out)
    });
    to_stderr(&w);
}

/// What `notify check` found and did.
#[derive(Debug)]
pub struct Checked {
    /// The `notify.toml` read, or where it would be.
    pub config: PathBuf,
    /// Whether there is one.
    pub configured: bool,
    /// Findings per event (only the events some command answers are looked for).
    pub findings: Vec<(Event, usize)>,
    pub delivered: Delivered,
}

/// `rollcall notify check`: evaluates the time-based events (overdue obligations, unrecorded and
/// unauthorized rollbacks) and notifies each finding each command has not been told of yet. A
/// `notify.toml` that does not parse is an error here.
pub fn check(ctx: &Context) -> Result<Checked, WorkflowError> {
    let dir = dir_of(ctx).ok_or_else(|| WorkflowError::Usage("the demo keystore does not notify".into()))?;
    let config = dir.join(config::FILE);
    let Some(cfg) = config::load(&dir).map_err(WorkflowError::Usage)? else {
        return Ok(Checked { config, configured: false, findings: Vec::new(), delivered: Delivered::default() });
    };
    let ledger = ctx.open_read_only()?;
    let lid = ledger.ledger_id().to_hex();
    drop(ledger);
    let mut notices = Vec::new();
    let mut findings = Vec::new();
    if cfg.wants(Event::ReviewOverdue) {
        let overdue = crate::workflow::query::obligations(ctx, true)?;
        let ledger = ctx.open_read_only()?;
        let snap = Snapshot::load(&ledger)?;
        for o in &overdue {
            let ob = &o.obligation;
            let due = crate::ledger::statement::format_ts(ob.due);
            let mut details = serde_json::json!({
                "obligation": ob.kind,
                "due": due,
                "title": o.title,
                "detail": ob.detail,
            });
            let mut actor = None;
            if ob.kind == "post-hoc-review"
                && let Ok(view) = load_view(&ledger, &snap, &ob.request)
                && let Some(e) = &view.emergency
            {
                details["emergency"] = serde_json::json!({"entry": e.id.to_hex(), "by": name_of(&snap, &e.actor), "reason": e.body.reason});
                actor = Some(name_of(&snap, &e.actor));
            }
            let mut n = Notice::new(
                Event::ReviewOverdue,
                Some(lid.clone()),
                &format!("overdue since {due}: {} of {:?}", ob.detail, o.title),
                details,
            )
            .about(&format!("{} {} {due}", ob.request.to_hex(), ob.kind));
            n.request = Some(ob.request.to_hex());
            n.actor = actor;
            notices.push(n);
        }
        findings.push((Event::ReviewOverdue, overdue.len()));
    }
    if cfg.wants(Event::RollbackUnrecorded) || cfg.wants(Event::RollbackUnauthorized) {
        let r = crate::workflow::reconcile::reconcile(ctx, &crate::workflow::reconcile::Options::default())?;
        if cfg.wants(Event::RollbackUnrecorded) {
            notices.extend(r.unrecorded.iter().map(|o| unrecorded_notice(Some(lid.clone()), o)));
            findings.push((Event::RollbackUnrecorded, r.unrecorded.len()));
        }
        if cfg.wants(Event::RollbackUnauthorized) {
            notices.extend(r.unauthorized.iter().map(|u| unauthorized_notice(Some(lid.clone()), u)));
            findings.push((Event::RollbackUnauthorized, r.unauthorized.len()));
        }
    }
    let mut st = state::State::load(&dir);
    // What is no longer a finding needs no memory (an obligation met, a rollback accounted for).
    for (event, _) in &findings {
        let current: HashSet<String> =
            notices.iter().filter(|n| n.event == *event).filter_map(|n| n.finding.clone()).collect();
        st.retain_current(&format!("{} {lid} ", event.name()), &current);
    }
    let mut delivered = deliver(&dir, &cfg, &notices, Some(&mut st));
    if let Err(e) = st.save() {
        delivered.warnings.push(format!("notify: {e}"));
    }
    Ok(Checked { config, configured: true, findings, delivered })
}

/// `rollcall notify test EVENT`: a sample event (marked `"sample": true` in its details) delivered to the
/// commands `notify.toml` maps it to.
pub fn test(ctx: &Context, event: Event) -> Result<(PathBuf, Delivered), WorkflowError> {
    let dir = dir_of(ctx).ok_or_else(|| WorkflowError::Usage("the demo keystore does not notify".into()))?;
    let path = dir.join(config::FILE);
    let cfg = config::load(&dir).map_err(WorkflowError::Usage)?.ok_or_else(|| {
        WorkflowError::Usage(format!("there is no {}: nothing to test (see README \"Escalation\")", path.display()))
    })?;
    if !cfg.wants(event) {
        return Err(WorkflowError::Usage(format!("{} maps no command to {}", path.display(), event.name())));
    }
    let ledger = ctx.open_read_only().ok().as_ref().and_then(ledger_hex);
    let mut n = Notice::new(
        event,
        ledger,
        &format!("test of {} from `rollcall notify test`: nothing happened", event.name()),
        serde_json::json!({"sample": true}),
    );
    match event {
        Event::EmergencyInvoked | Event::GateBypassed | Event::ReviewOverdue => {
            n.request = Some("0".repeat(64));
            n.actor = Some("sample".into());
        }
        Event::RollbackUnrecorded | Event::RollbackUnauthorized => n.observation = Some("0".repeat(64)),
        Event::SecurityEquivocation => {}
    }
    Ok((path, deliver(&dir, &cfg, std::slice::from_ref(&n), None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.name()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.name());
        }
        assert_eq!(Event::parse("emergency"), None);
    }

    #[test]
    fn the_document_has_the_documented_fields_and_one_line_summaries() {
        let mut n = Notice::new(
            Event::RollbackUnrecorded,
            Some("ab".repeat(32)),
            "line one\nline two \u{202E}",
            serde_json::json!({"x": 1}),
        )
        .about("obs");
        n.observation = Some("cd".repeat(32));
        let v = serde_json::to_value(&n).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec!["v", "event", "at", "ledger", "request", "observation", "actor", "summary", "details"];
        want.sort();
        let mut got = keys.clone();
        got.sort();
        assert_eq!(got, want);
        assert_eq!(v["event"], "rollback.unrecorded");
        assert!(v["request"].is_null() && v["actor"].is_null());
        let s = v["summary"].as_str().unwrap();
        assert!(!s.contains('\n') && !s.contains('\u{202E}'), "{s}");
        assert_eq!(n.finding.as_deref(), Some(format!("rollback.unrecorded {} obs", "ab".repeat(32)).as_str()));
    }

    #[cfg(unix)]
    #[test]
    fn deliveries_run_each_command_once_per_finding_and_report_failures() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("got");
        let script = dir.path().join("hook.sh");
        std::fs::write(&script, format!("#!/bin/sh\ncat >> {}\necho >> {}\n", out.display(), out.display())).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let text = format!(
            "timeout_seconds = 5\n[[on]]\nevents = [\"security.equivocation\"]\ncommand = [{:?}]\n[[on]]\nevents = [\"security.equivocation\"]\ncommand = [\"/nonexistent/hook\"]\n",
            script.display().to_string()
        );
        let cfg = config::parse(&dir.path().join("notify.toml"), &text).unwrap();
        let n = Notice::new(Event::SecurityEquivocation, None, "fork", serde_json::json!({})).about("fork-1");
        let mut st = state::State::load(dir.path());
        let d = deliver(dir.path(), &cfg, std::slice::from_ref(&n), Some(&mut st));
        assert_eq!((d.sent, d.failed, d.already), (1, 1, 0));
        assert_eq!(d.warnings.len(), 1);
        assert!(
            d.warnings[0].starts_with("notify: security.equivocation: /nonexistent/hook failed (could not be started")
        );
        // Again: the working command is not repeated, the failing one is retried.
        let d = deliver(dir.path(), &cfg, std::slice::from_ref(&n), Some(&mut st));
        assert_eq!((d.sent, d.failed, d.already), (0, 1, 1));
        let got = std::fs::read_to_string(&out).unwrap();
        assert_eq!(got.lines().count(), 1);
        let v: serde_json::Value = serde_json::from_str(got.lines().next().unwrap()).unwrap();
        assert_eq!(v["event"], "security.equivocation");
        let log = std::fs::read_to_string(run::log_path(dir.path())).unwrap();
        assert_eq!(log.lines().count(), 3);
    }
}
