//! `report` and `timeline`: the facts of each request (kept in the request index, derived from its signed
//! entries), a structural verification of every log for the report's header, and the decision timeline
//! of a request or an incident. Recording the read is a write: `writes::audited`.

use super::state::{Snapshot, evaluate_now, fact_of, load_view, resolve_request};
use crate::audit::RequestView;
use crate::ledger::Ledger;
use crate::report::metrics::{Builder, RequestFacts};
use crate::report::render::{Covered, Facts, Format, Header, Report};
use crate::report::timeline::{Event, Timeline, build};
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What a report covers.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub env: Option<String>,
    pub component: Option<String>,
}

impl Scope {
    /// The parameters of [`IN_SCOPE`]: the time range.
    fn params(&self) -> [String; 2] {
        let fmt = crate::ledger::statement::format_ts;
        [self.since.map(fmt).unwrap_or_default(), self.until.map(fmt).unwrap_or_else(|| "9999".into())]
    }

    /// Whether request `f` is in the scope's environment and component, compared as `reconcile` and the
    /// policy compare them (without case or the spaces around them, as Unicode has them): its environment,
    /// and any of the components it lists (not only its first). Asked of its facts: the index keeps only a
    /// request's first component in a column, and SQLite folds only ASCII case and trims only spaces.
    fn covers(&self, f: &RequestFacts) -> bool {
        self.covers_names(&f.env, &f.component, &f.components)
    }

    /// [`Scope::covers`] of a request's environment, first component and list of components.
    fn covers_names<S: AsRef<str>>(&self, env: &str, component: &str, components: &[S]) -> bool {
        use super::reconcile::norm;
        let env_in = self.env.as_deref().is_none_or(|want| norm(env) == norm(want));
        let component_in = self
            .component
            .as_deref()
            .map(norm)
            .is_none_or(|want| norm(component) == want || components.iter().any(|c| norm(c.as_ref()) == want));
        env_in && component_in
    }

    /// Whether [`Scope::covers`] leaves out requests of the time range.
    fn narrowed(&self) -> bool {
        self.env.is_some() || self.component.is_some()
    }

    fn filters(&self) -> Vec<(String, String)> {
        let mut f = Vec::new();
        if let Some(e) = &self.env {
            f.push(("env".into(), e.clone()));
        }
        if let Some(c) = &self.component {
            f.push(("component".into(), c.clone()));
        }
        f
    }

    pub(crate) fn map(&self, format: &str) -> BTreeMap<String, String> {
        let mut m: BTreeMap<String, String> = self.filters().into_iter().collect();
        let fmt = |t: DateTime<Utc>| crate::ledger::statement::format_ts(t);
        if let Some(s) = self.since {
            m.insert("since".into(), fmt(s));
        }
        if let Some(u) = self.until {
            m.insert("until".into(), fmt(u));
        }
        m.insert("format".into(), format.into());
        m
    }
}

/// Checks every log's structure: statement hashes, leaves, chain, tree and checkpoint signatures (entry
/// signatures were checked when each entry was appended or imported; `rollcall verify` re-checks them),
/// the recorded equivocations, and that no entry is held by two leaves.
pub fn structural_verdict(ledger: &Ledger) -> Result<Structural, WorkflowError> {
    let mut covered = Vec::new();
    for origin in ledger.origins()? {
        let r = crate::ledger::verify::verify_origin_with(
            ledger,
            &origin,
            false,
            &crate::ledger::verify::Budget::full(),
            &mut |_| Ok(()),
        );
        if let Some(f) = r.failure {
            let said =
                if f.not_read { "the ledger could not be read to verify it" } else { "the ledger does not verify" };
            let verdict = format!("{said}: {f}; run rollcall verify");
            return Ok(Structural { intact: false, not_read: f.not_read, verdict, covered });
        }
        if let Some((size, root)) = r.latest_checkpoint {
            covered.push(Covered { origin: origin.name.clone(), size, root: root.to_hex() });
        }
    }
    let (mut equivocations, _) = super::witness::equivocations(ledger)?;
    // An entry two leaves hold (a copy someone appended to their log): evidence as a fork is, unless
    // acknowledged (one scan of the leaf index).
    let copies = super::witness::copies(ledger)?;
    if !copies.is_empty() {
        // Acknowledgments judged by the stored governance entries (a log shorter than a marker says is the
        // walk's finding above, not a reason to give no verdict).
        let roster = crate::identity::Roster::from_staged(ledger)?;
        equivocations.extend(super::witness::split_equivocations(ledger, copies, &roster)?.0);
    }
    if let Some(e) = equivocations.first() {
        let how = if e.kind == super::witness::COPY { "found" } else { "recorded" };
        let verdict = format!("SECURITY: {} of origin {} {how}: {}", e.kind, e.origin, e.detail);
        return Ok(Structural { intact: false, not_read: false, verdict, covered });
    }
    Ok(Structural {
        intact: true,
        not_read: false,
        verdict: "every statement hash, leaf, chain link, tree hash and signed checkpoint checks out (entry \
                  signatures: run rollcall verify)"
            .into(),
        covered,
    })
}

/// The facts of the requests in a scope, walked from the request index (which must be current), oldest
/// first, one at a time: a report's source, read as often as its format needs.
pub(crate) struct IndexFacts<'l> {
    ledger: &'l Ledger,
    scope: Scope,
}

impl<'l> IndexFacts<'l> {
    pub(crate) fn new(ledger: &'l Ledger, scope: &Scope) -> IndexFacts<'l> {
        IndexFacts { ledger, scope: scope.clone() }
    }

    fn walk(&self, visit: &mut dyn FnMut(&RequestFacts) -> std::io::Result<()>) -> Result<(), WorkflowError> {
        // In `created` order through its index (id breaks ties), so nothing goes through a sorter.
        let mut stmt = self
            .ledger
            .cache_conn()
            .prepare_cached(&format!("SELECT facts FROM request_index {IN_SCOPE} ORDER BY created, id"))?;
        let mut rows = stmt.query(self.scope.params())?;
        while let Some(row) = rows.next()? {
            let text: String = row.get(0)?;
            let f = parse_facts(&text)?;
            if self.scope.covers(&f) {
                visit(&f).map_err(|e| WorkflowError::Io("write the report".into(), e))?;
            }
        }
        Ok(())
    }
}

impl Facts for IndexFacts<'_> {
    fn each(&self, visit: &mut dyn FnMut(&RequestFacts) -> std::io::Result<()>) -> std::io::Result<()> {
        self.walk(visit).map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// The facts of every request (the index must be current), one at a time.
pub(crate) fn each_fact(ledger: &Ledger, visit: &mut dyn FnMut(&RequestFacts)) -> Result<(), WorkflowError> {
    IndexFacts::new(ledger, &Scope::default()).walk(&mut |f| {
        visit(f);
        Ok(())
    })
}

/// The facts of up to `at_most` requests after `after` (a `(created, id)` key; `None`: from the first), in
/// the order [`each_fact`] gives them; the key of the last one visited, `None` once none is left.
pub(crate) fn each_fact_after(
    ledger: &Ledger,
    after: Option<&(String, Vec<u8>)>,
    at_most: u64,
    visit: &mut dyn FnMut(&RequestFacts),
) -> Result<Option<(String, Vec<u8>)>, WorkflowError> {
    let (created, id) = after.map(|(c, i)| (c.as_str(), i.as_slice())).unwrap_or(("", &[]));
    let mut stmt = ledger.cache_conn().prepare_cached(
        "SELECT created, id, facts FROM request_index WHERE (created, id) > (?1, ?2) ORDER BY created, id LIMIT ?3",
    )?;
    let limit = at_most.clamp(1, i64::MAX as u64) as i64;
    let mut rows = stmt.query(rusqlite::params![created, id, limit])?;
    let mut last = None;
    while let Some(row) = rows.next()? {
        let text: String = row.get(2)?;
        visit(&parse_facts(&text)?);
        last = Some((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?));
    }
    Ok(last)
}

/// A request's facts as the request index stores them (JSON); an index that does not parse is stale.
pub(crate) fn parse_facts(text: &str) -> Result<RequestFacts, WorkflowError> {
    serde_json::from_str(text).map_err(|e| stale(&e))
}

/// The error for a request index row that does not parse.
pub(crate) fn stale(e: &serde_json::Error) -> WorkflowError {
    WorkflowError::Usage(format!("the request index is stale ({e}); run `rollcall rebuild`"))
}

/// The stored facts (JSON, see [`parse_facts`]) of every request (the index must be current): the caller
/// parses what it needs of each.
pub(crate) fn each_fact_text(
    ledger: &Ledger,
    visit: &mut dyn FnMut(&str) -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    let mut stmt = ledger.cache_conn().prepare_cached("SELECT facts FROM request_index")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let text: String = row.get(0)?;
        visit(&text)?;
    }
    Ok(())
}

/// How many requests `scope` covers (the index must be current).
pub(crate) fn count_in(ledger: &Ledger, scope: &Scope) -> Result<u64, WorkflowError> {
    if scope.narrowed() {
        // Only the names are read of each request's facts (the rest is skipped, not built).
        let mut stmt = ledger.cache_conn().prepare_cached(&format!("SELECT facts FROM request_index {IN_SCOPE}"))?;
        let mut rows = stmt.query(scope.params())?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            let text = row.get_ref(0)?.as_str().map_err(|e| {
                WorkflowError::Usage(format!("the request index is stale ({e}); run `rollcall rebuild`"))
            })?;
            let names: super::reconcile::Probe<'_> = serde_json::from_str(text).map_err(|e| stale(&e))?;
            if scope.covers_names(&names.env, &names.component, &names.components) {
                n += 1;
            }
        }
        return Ok(n);
    }
    let sql = format!("SELECT COUNT(*) FROM request_index {IN_SCOPE}");
    let n: i64 = ledger.cache_conn().query_row(&sql, scope.params(), |r| r.get(0))?;
    Ok(n as u64)
}

/// The rows of the request index a scope's time covers; bound with [`Scope::params`]. Its environment and
/// component are asked of each row's facts ([`Scope::covers`]).
const IN_SCOPE: &str = "WHERE created >= ?1 AND created < ?2";

/// What one walk of the request index found, with the structural verdict read beside it.
struct Pass {
    metrics: crate::report::metrics::Metrics,
    /// The findings, while there are few enough to hold.
    held: Option<Vec<crate::report::render::Breach>>,
    verdict: Structural,
}

/// The structural verdict ([`structural_verdict`]).
#[derive(Clone, Debug)]
pub struct Structural {
    pub intact: bool,
    /// Not intact because the file could not be read (its disk, a permission, another process), not
    /// because anything was found wrong.
    pub not_read: bool,
    pub verdict: String,
    /// The checkpoints the verdict covers, per origin.
    pub covered: Vec<Covered>,
}

/// Walks the request index (`facts`) for the figures over `scope`, while the structural verdict is read on
/// a connection of its own (which sees at least what the walk's snapshot sees); so is the observed-rollback
/// figure of a report narrowed by time, environment or component (a report over every request picks that
/// figure's candidates in its own walk).
fn figures(
    ledger: &Ledger,
    facts: &IndexFacts<'_>,
    scope: &Scope,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Pass, WorkflowError> {
    let path = ledger.path().to_path_buf();
    let mut held: Option<Vec<crate::report::render::Breach>> = Some(Vec::new());
    let observed = super::reconcile::Options {
        since: scope.since,
        until: scope.until,
        env: scope.env.clone(),
        component: scope.component.clone(),
        ..Default::default()
    };
    let whole = scope.since.is_none() && scope.until.is_none() && scope.env.is_none() && scope.component.is_none();
    let mut picked = match whole {
        true => Some(super::reconcile::RollbackCandidates::new(ledger, &observed)?),
        false => None,
    };
    let (metrics, verdict, rollbacks) = std::thread::scope(|s| {
        let verdict = s.spawn(|| -> Result<_, WorkflowError> { structural_verdict(&Ledger::open_read_only(&path)?) });
        let rollbacks = (!whole).then(|| {
            s.spawn(|| -> Result<_, WorkflowError> {
                Ok(super::reconcile::rollbacks(&Ledger::open_read_only(&path)?, &observed)?.figure())
            })
        });
        let mut b = Builder::new(now);
        let metrics = facts.walk(&mut |f| {
            b.add(f);
            if let Some(p) = &mut picked {
                p.offer(f);
            }
            if let Some(list) = &mut held {
                list.extend(crate::report::render::breaches_of(f, until));
                if list.len() > crate::report::render::HELD_BREACHES {
                    held = None;
                }
            }
            Ok(())
        });
        (metrics.map(|()| b.finish()), verdict.join(), rollbacks.map(|r| r.join()))
    });
    let mut metrics = metrics?;
    metrics.rollbacks = match rollbacks {
        Some(Ok(r)) => r?,
        Some(Err(_)) => return Err(WorkflowError::Usage("the reconciling thread failed".into())),
        // No thread: the walk picked the candidates.
        None => picked.map(|p| p.finish(&observed).figure()).unwrap_or_default(),
    };
    let verdict = match verdict {
        Ok(v) => v?,
        Err(_) => return Err(WorkflowError::Usage("the verification thread failed".into())),
    };
    Ok(Pass { metrics, held, verdict })
}

/// Builds the report over `scope` and writes it in `format` to `sink`, walking the request index (in one
/// read snapshot) for the figures first ([`figures`]) and then for the requests the format lists.
/// `generated_by` names who asked. Returns the report's header and figures.
///
/// The figures come from the request index, a cache this machine derived from the entries, maybe before
/// they were damaged: when the verdict fails, the index is derived again (leaving out every entry that no
/// longer matches its id, as the header says) and walked again; a file this process may not write keeps the
/// index it has.
pub fn write_report(
    ledger: &Ledger,
    scope: &Scope,
    generated_by: Option<String>,
    format: Format,
    sink: &mut dyn std::io::Write,
) -> Result<Report, WorkflowError> {
    let now = crate::workflow::clock::now();
    super::index::refresh(ledger, now)?;
    let until = scope.until.map(|u| u.min(now)).unwrap_or(now);
    let mut rebuilt = false;
    loop {
        let snapshot = ledger.cache_conn().unchecked_transaction()?;
        let facts = IndexFacts::new(ledger, scope);
        let pass = figures(ledger, &facts, scope, now, until)?;
        // Not intact: the request index is rebuilt once and the figures read again (unless the file could
        // not be read: a rebuild would only write to a failing disk).
        if !pass.verdict.intact && !pass.verdict.not_read && !rebuilt {
            drop(facts);
            snapshot.finish()?;
            rebuilt = true;
            super::index::rebuild_unless_read_only(ledger, now)?;
            continue;
        }
        let report = Report {
            header: Header {
                ledger_id: ledger.ledger_id().to_hex(),
                generated_at: now,
                generated_by,
                since: scope.since,
                until: Some(until),
                filters: scope.filters(),
                checkpoints: pass.verdict.covered,
                intact: pass.verdict.intact,
                not_read: pass.verdict.not_read,
                verdict: pass.verdict.verdict,
                // A roster the file cannot give (a damaged ledger, which the verdict says) lists nothing.
                governance: crate::identity::Roster::from_ledger(ledger)
                    .map(|r| r.stale_governance().iter().map(|g| g.line()).collect())
                    .unwrap_or_default(),
            },
            metrics: pass.metrics,
            now: until,
            breaches: pass.held,
        };
        crate::report::render::write(&report, &facts, format, sink)
            .map_err(|e| WorkflowError::Io("write the report".into(), e))?;
        snapshot.finish()?;
        return Ok(report);
    }
}

/// A report over an open ledger that records nothing (audit copies of bundles, the console), written to
/// `sink`.
pub(crate) fn report_read_only(
    ledger: &Ledger,
    scope: &Scope,
    format: Format,
    sink: &mut dyn std::io::Write,
) -> Result<Report, WorkflowError> {
    write_report(ledger, scope, None, format, sink)
}

fn summary(view: &RequestView, f: &crate::audit::projection::TimelineItem) -> String {
    let id = f.id;
    let find = |v: &dyn Fn() -> Option<String>| v().unwrap_or_default();
    match f.kind.as_str() {
        "rollback.requested" => {
            format!("{} ({}, {})", view.record().title, view.record().env, view.record().risk.as_str())
        }
        "approval.granted" | "approval.rejected" => find(&|| {
            view.decisions.iter().find(|d| d.id == id).map(|d| format!("{:?}: {}", d.body.decision, d.body.comment))
        }),
        "emergency.invoked" => {
            find(&|| view.emergency.as_ref().map(|e| format!("{} (review due {})", e.body.reason, e.body.review_due)))
        }
        "rollback.executed" => find(&|| {
            view.executions.iter().find(|e| e.id == id).map(|e| {
                let outcome = format!("{:?}", e.body.outcome).to_lowercase();
                format!("{outcome}: {}", crate::audit::record::join_command(&e.body.command))
            })
        }),
        "rollback.validated" => find(&|| {
            view.validations.iter().find(|v| v.id == id).map(|v| format!("{:?}", v.body.result).to_lowercase())
        }),
        "rollback.reviewed" => find(&|| view.reviews.iter().find(|r| r.id == id).map(|r| r.body.summary.clone())),
        "evidence.attached" => find(&|| {
            view.evidence.iter().find(|e| e.rec.id == id).map(|e| {
                let b = &e.rec.body;
                format!("{} {}", b.kind, b.name.clone().or_else(|| b.url.clone()).unwrap_or_default())
            })
        }),
        "incident.linked" => find(&|| view.incidents.iter().find(|i| i.id == id).map(|i| i.body.incident.clone())),
        "rollback.closed" => find(&|| view.closure.as_ref().map(|c| c.body.comment.clone())),
        "note" => find(&|| view.notes.iter().find(|n| n.id == id).map(|n| n.body.text.clone())),
        _ => String::new(),
    }
}

fn events_of(ledger: &Ledger, snap: &Snapshot, view: &RequestView) -> Result<Vec<Event>, WorkflowError> {
    let short = view.id.to_hex()[..12].to_string();
    let judged = evaluate_now(ledger, view, snap, crate::workflow::clock::now())?;
    let mut out = Vec::new();
    for t in &view.timeline {
        let mut summary = summary(view, t);
        if t.kind == "rollback.requested" && !judged.assessment.flags.is_empty() {
            summary.push_str(&format!("; security flags: {}", judged.assessment.flag_ids().join(", ")));
        }
        out.push(Event {
            at: t.ts,
            kind: t.kind.clone(),
            actor: snap.roster.display(&t.actor),
            request: short.clone(),
            entry_id: t.id.to_hex(),
            summary,
            ignored: t.ignored.clone(),
            since_previous_min: 0.0,
            since_start_min: 0.0,
        });
    }
    Ok(out)
}

/// The timeline of one request.
pub(crate) fn request_timeline(ledger: &Ledger, prefix: &str) -> Result<Timeline, WorkflowError> {
    let id = resolve_request(ledger, prefix)?;
    let snap = Snapshot::load(ledger)?;
    let view = load_view(ledger, &snap, &id)?;
    let title = format!("request {} — {}", &id.to_hex()[..12], view.record().title);
    Ok(build(&title, events_of(ledger, &snap, &view)?))
}

/// The timeline of every request of an incident (named in its record or linked by `incident.linked`).
pub(crate) fn incident_timeline(ledger: &Ledger, incident: &str) -> Result<Timeline, WorkflowError> {
    let snap = Snapshot::load(ledger)?;
    let mut ids = Vec::new();
    let kinds = [crate::audit::kinds::REQUESTED, crate::audit::kinds::AMENDED, crate::audit::kinds::INCIDENT_LINKED];
    let mut found = Vec::new();
    ledger.visit_kinds(&kinds, |row| -> Result<(), WorkflowError> {
        let f = fact_of(&row)?;
        let named = match f.kind.as_str() {
            crate::audit::kinds::AMENDED => f.body.member("record").and_then(|r| r.get("incident").cloned()),
            _ => f.body.member("incident"),
        };
        if named.as_ref().and_then(|v| v.as_str()) == Some(incident) {
            let req = match f.kind.as_str() {
                crate::audit::kinds::REQUESTED => Some(f.id),
                _ => f.body.str_member("request").and_then(|r| crate::ledger::Hash::from_hex(&r)),
            };
            if let Some(r) = req {
                found.push((row.pos, r));
            }
        }
        Ok(())
    })?;
    // In log order, each request once.
    found.sort_by_key(|f| f.0);
    for (_, r) in found {
        if !ids.contains(&r) {
            ids.push(r);
        }
    }
    if ids.is_empty() {
        return Err(WorkflowError::NotFound(format!("no request names incident {:?}", crate::text::safe(incident))));
    }
    let mut events = Vec::new();
    for id in &ids {
        let view = load_view(ledger, &snap, id)?;
        events.extend(events_of(ledger, &snap, &view)?);
    }
    Ok(build(&format!("incident {incident} ({} request{})", ids.len(), if ids.len() == 1 { "" } else { "s" }), events))
}
