//! `rollcall reconcile`: the rollbacks the CD tools observed (`deployment.observed` entries written by
//! `ingest`) matched with the rollback requests of the ledger. A rollback no request accounts for is
//! **unrecorded**; one whose request was not approved when it ran (and that was never taken down the
//! emergency path, before it or post hoc) is **unauthorized**; a request executed per the ledger that no ingested history shows is **unconfirmed**.
//!
//! Matching (docs in README "Reconciling with the deployment history"): same environment (case
//! ignored), the observation's component among the request's components, the request filed or executed
//! within the window of the rollback's time, and revisions that agree where they can be compared (both
//! short numbers, or both hex of 7+ characters: one a prefix of the other; or the request's target named
//! in the observation's artifact between separators). Among candidates, agreeing revisions first, then the
//! nearest in time; each request accounts for at most one rollback. Times are the signers' and the tools':
//! bounded by the ledger's rules (FORMAT.md §7.4), not proven.

use super::index;
use crate::audit::kinds::OBSERVED;
use crate::ingest::Observed;
use crate::ledger::{EntryId, Ledger};
use crate::report::metrics::RequestFacts;
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// How far apart a rollback and its request may be, by default.
pub const DEFAULT_WINDOW_HOURS: i64 = 72;

/// What to reconcile.
#[derive(Clone, Debug)]
pub struct Options {
    /// Only rollbacks (and executions) at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only rollbacks (and executions) before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only this environment.
    pub env: Option<String>,
    /// Only this component.
    pub component: Option<String>,
    /// How far apart a rollback and its request may be.
    pub window: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { since: None, until: None, env: None, component: None, window: Duration::hours(DEFAULT_WINDOW_HOURS) }
    }
}

/// An observed deployment and the id of the entry recording it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub id: EntryId,
    pub observed: Observed,
    /// Its time, parsed.
    pub at: DateTime<Utc>,
}

/// A request as reconcile names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRef {
    pub id: String,
    pub title: String,
    pub status: String,
    pub env: String,
    pub component: String,
    pub from: String,
    pub to: String,
    pub requested_at: DateTime<Utc>,
    pub executed_at: Option<DateTime<Utc>>,
}

impl RequestRef {
    fn of(f: &RequestFacts) -> RequestRef {
        RequestRef {
            id: f.id.clone(),
            title: f.title.clone(),
            status: f.status.clone(),
            env: f.env.clone(),
            component: f.component.clone(),
            from: f.from.clone(),
            to: f.to.clone(),
            requested_at: f.requested_at,
            executed_at: f.executed_at,
        }
    }
}

/// A rollback matched with a request that did not clear it when it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unauthorized {
    pub observation: Observation,
    pub request: RequestRef,
    /// Why it was not cleared at that time.
    pub why: String,
}

/// A rollback matched with the request that accounts for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched {
    pub observation: EntryId,
    pub request: String,
    /// Whether the request was filed before the rollback ran.
    pub recorded_before: bool,
}

/// The outcome of a reconciliation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Observed rollbacks in scope.
    pub rollbacks: usize,
    /// Of those, matched with a request filed before they ran, and after.
    pub recorded_before: usize,
    pub recorded_after: usize,
    pub unrecorded: Vec<Observation>,
    pub unauthorized: Vec<Unauthorized>,
    /// Requests executed per the ledger (in scope), those an ingested history shows, those it should show
    /// and does not, and those no ingested history covers (none of their environment and component spans
    /// their execution, from its first observation to its last: not a finding).
    pub executed: usize,
    pub confirmed: usize,
    pub unconfirmed: Vec<RequestRef>,
    pub not_covered: usize,
    pub matched: Vec<Matched>,
    pub window_hours: i64,
}

impl Reconciled {
    /// The report's figure.
    pub fn figure(&self) -> crate::report::metrics::ObservedRollbacks {
        crate::report::metrics::ObservedRollbacks {
            observed: self.rollbacks,
            recorded_before: self.recorded_before,
            recorded_after: self.recorded_after,
            share_recorded_before: self.share_recorded_before(),
            unrecorded: self.unrecorded.iter().map(|o| o.id.to_hex()).collect(),
            unauthorized: self.unauthorized.iter().map(|u| u.observation.id.to_hex()).collect(),
        }
    }

    /// Whether everything matches (the command's exit status).
    pub fn all_match(&self) -> bool {
        self.unrecorded.is_empty() && self.unauthorized.is_empty() && self.unconfirmed.is_empty()
    }

    /// The share of observed rollbacks whose request was filed before they ran; `None` without rollbacks.
    pub fn share_recorded_before(&self) -> Option<f64> {
        (self.rollbacks > 0).then(|| self.recorded_before as f64 / self.rollbacks as f64)
    }
}

/// Reconciles the ledger's observed rollbacks with its requests.
pub fn reconcile(ctx: &Context, options: &Options) -> Result<Reconciled, WorkflowError> {
    let ledger = ctx.open()?;
    index::refresh(&ledger, crate::workflow::clock::now())?;
    reconcile_in(&ledger, options)
}

/// [`reconcile`] over an open ledger whose request index is current. Only the requests of an
/// environment and component some observation names are held; the executions of the others are counted
/// as not covered as they stream by.
pub(crate) fn reconcile_in(ledger: &Ledger, options: &Options) -> Result<Reconciled, WorkflowError> {
    let observations = observations_in(ledger, options)?;
    let groups: std::collections::HashSet<Group> =
        observations.iter().map(|o| (norm(&o.observed.env), norm(&o.observed.component))).collect();
    let mut requests: Vec<RequestFacts> = Vec::new();
    let mut elsewhere = 0;
    super::report::each_fact(ledger, &mut |f| {
        if options.env.as_deref().is_some_and(|want| norm(want) != norm(&f.env)) || !options.covers_component(f) {
            return;
        }
        if components(f).any(|c| groups.contains(&(norm(&f.env), norm(c)))) {
            requests.push(slim(f));
        } else if options.executed_in_scope(f) {
            elsewhere += 1;
        }
    })?;
    let mut r = reconcile_facts(observations, &requests, options);
    r.executed += elsewhere;
    r.not_covered += elsewhere;
    Ok(r)
}

/// The observed rollbacks in scope matched with requests, without the executions (`executed`,
/// `confirmed`, `unconfirmed` and `not_covered` stay empty): the report's figure, holding only the
/// requests near an observed rollback of their environment and component.
pub fn rollbacks(ledger: &Ledger, options: &Options) -> Result<Reconciled, WorkflowError> {
    let mut picked = RollbackCandidates::new(ledger, options)?;
    // Every request's facts, their names read first: an environment is compared as `reconcile` compares
    // it (ASCII case and spaces), which a filter in SQL would not do (it keeps the spaces).
    if !picked.observations.is_empty() {
        super::report::each_fact_text(ledger, &mut |text| picked.offer_text(text))?;
    }
    Ok(picked.finish(options))
}

/// The requests that may match an observed rollback, picked from requests as they stream by: only a
/// request of the environment and component of an observed rollback, filed or executed within the window
/// of it, is a candidate to match it ([`best_candidate`]). The others are passed over, not held (a busy
/// component has hundreds of thousands). Fed either each request's stored facts text (its names read
/// first: [`rollbacks`]) or facts already parsed by a walk over every request (`report`).
pub(crate) struct RollbackCandidates {
    observations: Vec<Observation>,
    /// The times of the observed rollbacks of each environment and component, sorted.
    near: HashMap<Group, Vec<DateTime<Utc>>>,
    window: Duration,
    requests: Vec<RequestFacts>,
}

impl RollbackCandidates {
    /// Reads the observed rollbacks of `options`.
    pub(crate) fn new(ledger: &Ledger, options: &Options) -> Result<RollbackCandidates, WorkflowError> {
        let observations: Vec<Observation> =
            observations_in(ledger, options)?.into_iter().filter(|o| o.observed.rollback).collect();
        let mut near: HashMap<Group, Vec<DateTime<Utc>>> = HashMap::new();
        for o in &observations {
            near.entry((norm(&o.observed.env), norm(&o.observed.component))).or_default().push(o.at);
        }
        near.values_mut().for_each(|times| times.sort_unstable());
        Ok(RollbackCandidates { observations, near, window: options.window, requests: Vec::new() })
    }

    /// Whether a request of `env`, touching `components` (or `first` when the list is empty), filed at
    /// `requested_at` and executed at `executed_at`, is near an observed rollback of its group.
    fn wants<S: AsRef<str>>(
        &self,
        env: &str,
        components: &[S],
        first: &S,
        requested_at: DateTime<Utc>,
        executed_at: Option<DateTime<Utc>>,
    ) -> bool {
        let env = norm(env);
        let w = self.window;
        touched(components, first).any(|c| {
            self.near.get(&(env.clone(), norm(c.as_ref()))).is_some_and(|times| {
                [Some(requested_at), executed_at].into_iter().flatten().any(|t| {
                    let first = times.partition_point(|&at| at < t - w);
                    times.get(first).is_some_and(|&at| at <= t + w)
                })
            })
        })
    }

    /// Takes a request's stored facts (JSON): a few fields decide, the rest is decoded only for a
    /// candidate.
    fn offer_text(&mut self, text: &str) -> Result<(), WorkflowError> {
        let p: Probe<'_> = serde_json::from_str(text).map_err(|e| super::report::stale(&e))?;
        if self.wants(&p.env, &p.components, &p.component, p.requested_at, p.executed_at) {
            self.requests.push(slim(&super::report::parse_facts(text)?));
        }
        Ok(())
    }

    /// Takes a request's facts, already parsed.
    pub(crate) fn offer(&mut self, f: &RequestFacts) {
        if self.wants(&f.env, &f.components, &f.component, f.requested_at, f.executed_at) {
            self.requests.push(slim(f));
        }
    }

    /// The rollbacks matched with the candidates (the executions left out, as [`rollbacks`] says).
    pub(crate) fn finish(self, options: &Options) -> Reconciled {
        let mut r = reconcile_facts(self.observations, &self.requests, options);
        (r.executed, r.confirmed, r.not_covered) = (0, 0, 0);
        r.unconfirmed.clear();
        r
    }
}

impl Options {
    fn in_time(&self, t: DateTime<Utc>) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    fn covers_component(&self, f: &RequestFacts) -> bool {
        self.component.as_deref().is_none_or(|want| components(f).any(|c| norm(c) == norm(want)))
    }

    /// Whether `f` is an execution reconcile checks: in the time scope and not failed.
    fn executed_in_scope(&self, f: &RequestFacts) -> bool {
        f.executed_at.is_some_and(|t| self.in_time(t)) && f.outcome.as_deref() != Some("failed")
    }
}

/// The observations of the options' environment and component (every time: histories before the scope
/// still say what was covered).
fn observations_in(ledger: &Ledger, options: &Options) -> Result<Vec<Observation>, WorkflowError> {
    let mut out = Vec::new();
    each_observation(ledger, |o| {
        if options.env.as_deref().is_none_or(|want| norm(want) == norm(&o.observed.env))
            && options.component.as_deref().is_none_or(|want| norm(want) == norm(&o.observed.component))
        {
            out.push(o);
        }
    })?;
    Ok(out)
}

/// The facts of a request that decide whether it may match an observed rollback (see [`rollbacks`]), read
/// from the index's JSON without decoding the rest. Field names are [`RequestFacts`]'s.
#[derive(serde::Deserialize)]
pub(crate) struct Probe<'a> {
    #[serde(borrow)]
    pub(crate) env: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) component: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    pub(crate) components: Vec<std::borrow::Cow<'a, str>>,
    requested_at: DateTime<Utc>,
    executed_at: Option<DateTime<Utc>>,
}

/// What matching reads of a request's facts (the rest left empty: 100,000 requests are held at once).
fn slim(f: &RequestFacts) -> RequestFacts {
    RequestFacts {
        id: f.id.clone(),
        title: f.title.clone(),
        env: f.env.clone(),
        component: f.component.clone(),
        components: f.components.clone(),
        status: f.status.clone(),
        withdrawn: f.withdrawn,
        requested_at: f.requested_at,
        approved_at: f.approved_at,
        executed_at: f.executed_at,
        outcome: f.outcome.clone(),
        emergency_at: f.emergency_at,
        emergency_until: f.emergency_until,
        from: f.from.clone(),
        to: f.to.clone(),
        ..Default::default()
    }
}

/// The components a request touches (its first one when the facts predate the list).
fn components(f: &RequestFacts) -> impl Iterator<Item = &String> {
    touched(&f.components, &f.component)
}

/// A request's list of components, or its first component when the list is empty.
fn touched<'a, T>(list: &'a [T], first: &'a T) -> impl Iterator<Item = &'a T> {
    list.iter().chain(list.is_empty().then_some(first))
}

type Group = (String, String);

/// A name as matching compares it (environments, components): [`crate::audit::record::name_key`], as the
/// gate, the policy's windows and `list --env` compare an environment.
pub(crate) fn norm(s: &str) -> String {
    crate::audit::record::name_key(s)
}

/// The matching itself, over observations and request facts already read.
pub(crate) fn reconcile_facts(
    mut observations: Vec<Observation>,
    requests: &[RequestFacts],
    options: &Options,
) -> Reconciled {
    let w = options.window;
    observations.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
    // Requests by (environment, component): sorted by when they were filed, and the executed ones by when
    // they were executed, so the candidates of a rollback are two ranges.
    let mut by_group: HashMap<Group, Placed> = HashMap::new();
    for (i, r) in requests.iter().enumerate() {
        let env = norm(&r.env);
        for c in components(r) {
            let placed = by_group.entry((env.clone(), norm(c))).or_default();
            placed.filed.push(i);
            if r.executed_at.is_some() {
                placed.executed.push(i);
            }
        }
    }
    for placed in by_group.values_mut() {
        placed.filed.sort_by_key(|&i| requests[i].requested_at);
        placed.filed.dedup();
        placed.executed.sort_by_key(|&i| requests[i].executed_at);
        placed.executed.dedup();
    }
    // Observations by (environment, component), in time order: the span each history covers, and what
    // it shows near an execution.
    let mut histories: HashMap<Group, Vec<usize>> = HashMap::new();
    for (k, o) in observations.iter().enumerate() {
        histories.entry((norm(&o.observed.env), norm(&o.observed.component))).or_default().push(k);
    }
    let mut used = vec![false; requests.len()];
    let mut out = Reconciled { window_hours: w.num_hours(), ..Default::default() };
    for o in observations.iter().filter(|o| o.observed.rollback && options.in_time(o.at)) {
        out.rollbacks += 1;
        let g = (norm(&o.observed.env), norm(&o.observed.component));
        let best = by_group.get(&g).and_then(|placed| best_candidate(o, placed, requests, &used, w));
        let Some(i) = best else {
            out.unrecorded.push(o.clone());
            continue;
        };
        used[i] = true;
        let r = &requests[i];
        let recorded_before = r.requested_at <= o.at;
        out.matched.push(Matched { observation: o.id, request: r.id.clone(), recorded_before });
        match not_cleared(r, o.at) {
            Some(why) => {
                out.unauthorized.push(Unauthorized { observation: o.clone(), request: RequestRef::of(r), why })
            }
            None if recorded_before => out.recorded_before += 1,
            None => out.recorded_after += 1,
        }
    }
    // Executions the history should show.
    for (i, r) in requests.iter().enumerate() {
        let Some(executed_at) = r.executed_at.filter(|_| options.executed_in_scope(r)) else { continue };
        out.executed += 1;
        if used[i] {
            out.confirmed += 1;
            continue;
        }
        let env = norm(&r.env);
        let groups: Vec<&Vec<usize>> = components(r).filter_map(|c| histories.get(&(env.clone(), norm(c)))).collect();
        let covered = groups.iter().any(|h| {
            let (first, last) = (observations[h[0]].at, observations[h[h.len() - 1]].at);
            (first..=last).contains(&executed_at)
        });
        if !covered {
            out.not_covered += 1;
            continue;
        }
        // An observation of its revision near the execution, and not before the request was filed.
        let from = r.requested_at.max(executed_at - w);
        let seen = groups.iter().any(|h| {
            let start = h.partition_point(|&k| observations[k].at < from);
            h[start..]
                .iter()
                .take_while(|&&k| observations[k].at <= executed_at + w)
                .any(|&k| revisions(r, &observations[k].observed) == Agreement::Agree)
        });
        if seen {
            out.confirmed += 1;
        } else {
            out.unconfirmed.push(RequestRef::of(r));
        }
    }
    out
}

/// The requests of one environment and component: by filing time, and those executed by execution time.
#[derive(Default)]
struct Placed {
    filed: Vec<usize>,
    executed: Vec<usize>,
}

/// Whether a request's revisions and an observation's can be compared, and agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Agreement {
    Agree,
    Incomparable,
    Differ,
}

fn revisions(r: &RequestFacts, o: &Observed) -> Agreement {
    let to = r.to.trim();
    if let Some(artifact) = &o.artifact
        && to.len() >= 7
        && named_in(to, artifact)
    {
        return Agreement::Agree;
    }
    match same_revision(to, o.to.trim()) {
        Some(true) => Agreement::Agree,
        Some(false) => Agreement::Differ,
        None => Agreement::Incomparable,
    }
}

/// Whether the artifact an observation names (`"CHART (app VERSION)"`, images joined by `", "`, commit
/// ids) names the revision `to`: `to` occurs in it (case ignored) between two separators (spaces, commas,
/// parentheses, `:`, `@`, `/`, `=`, or either end), so a whole image reference or `sha256:…` digest
/// matches; or one of its words (split at those separators) is the same revision by [`same_revision`] (a
/// commit id and its abbreviation). Not any substring: a chart `payments-1.2.31` does not name
/// `payments-1.2.3`, nor does a commit id name the 7 hex digits in its middle.
fn named_in(to: &str, artifact: &str) -> bool {
    let separator = |c: u8| c.is_ascii_whitespace() || matches!(c, b',' | b'(' | b')' | b':' | b'@' | b'/' | b'=');
    let (hay, needle) = (artifact.to_ascii_lowercase(), to.to_ascii_lowercase());
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    let bounded = (0..hay.len().saturating_sub(needle.len()) + 1).filter(|&i| hay[i..].starts_with(needle)).any(|i| {
        let before = i.checked_sub(1).map(|j| hay[j]);
        let after = hay.get(i + needle.len()).copied();
        before.is_none_or(separator) && after.is_none_or(separator)
    });
    bounded
        || !needle.is_empty()
            && artifact
                .split(|c: char| c.is_ascii() && separator(c as u8))
                .any(|word| same_revision(to, word) == Some(true))
}

/// Whether `a` and `b` name the same revision, when they are of one kind: both short decimal numbers
/// (equal), or both hex of 7+ characters (one a prefix of the other, case ignored); `None` otherwise.
pub(crate) fn same_revision(a: &str, b: &str) -> Option<bool> {
    let number = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|c| c.is_ascii_digit());
    let hex = |s: &str| s.len() >= 7 && s.bytes().all(|c| c.is_ascii_hexdigit());
    if !a.is_empty() && a == b {
        return Some(true);
    }
    if number(a) && number(b) {
        return Some(a.trim_start_matches('0') == b.trim_start_matches('0'));
    }
    if hex(a) && hex(b) {
        let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
        return Some(a.starts_with(&b) || b.starts_with(&a));
    }
    None
}

/// The unused request of one environment and component (`placed`) that best accounts for rollback `o`:
/// among those filed or executed within the window of it.
fn best_candidate(
    o: &Observation,
    placed: &Placed,
    requests: &[RequestFacts],
    used: &[bool],
    w: Duration,
) -> Option<usize> {
    let (lo, hi) = (o.at - w, o.at + w);
    let filed = &placed.filed;
    let a = filed.partition_point(|&i| requests[i].requested_at < lo);
    let b = filed.partition_point(|&i| requests[i].requested_at <= hi);
    let executed = &placed.executed;
    let c = executed.partition_point(|&i| requests[i].executed_at.is_some_and(|t| t < lo));
    let d = executed.partition_point(|&i| requests[i].executed_at.is_some_and(|t| t <= hi));
    filed[a..b]
        .iter()
        .chain(&executed[c..d])
        .copied()
        // A withdrawn request clears nothing, whatever its status says (`review-due` while its emergency's
        // review is owed: the verdict must not change when the review is taken).
        .filter(|&i| !used[i] && !requests[i].withdrawn && requests[i].status != "withdrawn")
        .filter_map(|i| {
            let r = &requests[i];
            let agreement = revisions(r, &o.observed);
            if agreement == Agreement::Differ {
                return None;
            }
            let distance =
                [Some(r.requested_at), r.executed_at].into_iter().flatten().map(|t| (t - o.at).abs()).min()?;
            Some(((agreement, distance, &r.id), i))
        })
        .min_by(|x, y| x.0.cmp(&y.0))
        .map(|(_, i)| i)
}

/// Why request `r` did not clear a rollback at `at`, or `None` when it did: approved by then (its
/// approvals that count met the threshold) and not rejected, or taken down the emergency path — before
/// the rollback (break-glass) or after it (a post-hoc request): either way a review is owed and tracked
/// as an obligation. An emergency that had lapsed when the rollback ran clears nothing: the request is
/// then judged as one without it.
fn not_cleared(r: &RequestFacts, at: DateTime<Utc>) -> Option<String> {
    match (r.emergency_at, r.emergency_until) {
        (Some(_), Some(until)) if at >= until => {
            return not_approved(r, at).map(|why| format!("{why}; its emergency had lapsed at {}", when(until)));
        }
        (Some(_), _) => return None,
        (None, _) => {}
    }
    not_approved(r, at)
}

/// A time as the reasons a rollback was not cleared give it (to the second: rollbacks and approvals can be
/// minutes apart).
fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Why request `r`, judged without an emergency, did not clear a rollback at `at`.
fn not_approved(r: &RequestFacts, at: DateTime<Utc>) -> Option<String> {
    if r.status == "rejected" {
        return Some("the request was rejected".into());
    }
    if r.requested_at > at {
        return Some(format!(
            "the request was filed after it ran ({}) and never cleared before it",
            when(r.requested_at)
        ));
    }
    match r.approved_at {
        Some(t) if t <= at => None,
        Some(t) => Some(format!("approved only at {} (after it ran)", when(t))),
        None => Some(format!("not approved (status {})", r.status)),
    }
}

/// The command that performs a rollback like the one observed, as its tool spells it (what a post-hoc
/// request records as its revert operation).
/// The names come from an ingested history, so each is one argument however it is spelled: a component
/// named `web --post-renderer ./x` stays one (odd) argument instead of adding a flag to the command.
///
/// A name or revision starting with `-` gets no command: the tool would read it as an option (an Argo CD
/// application named `--server=evil.example:443` would send the rollback, and the token beside it, to
/// another server). The filer gives the command ([`no_revert_command`] says why).
fn revert_command(source: &str, env: &str, component: &str, to: &str) -> Option<String> {
    use crate::audit::record::join_command;
    if [env, component, to].iter().any(|v| option_like(v)) {
        return None;
    }
    Some(match source {
        "helm" => join_command(&["helm", "rollback", component, to]),
        // A number: the revision of a Deployment's ReplicaSets (or a ControllerRevision's equal content).
        // A ControllerRevision renumbered when brought back keeps only its name, which `--to-revision`
        // does not take: the filer gives that command.
        "kubernetes" if !to.bytes().all(|b| b.is_ascii_digit()) => return None,
        "kubernetes" => join_command(&[
            "kubectl",
            "rollout",
            "undo",
            &format!("deployment/{component}"),
            &format!("--to-revision={to}"),
            "--namespace",
            env,
        ]),
        "argocd" => join_command(&["argocd", "app", "rollback", component, to]),
        // A git ref, a GitHub or GitLab deployment: how the team deploys a revision is not in the history,
        // and a sentence is no command (approvers sign the argv; CI runs it). The filer gives it.
        _ => return None,
    })
}

/// Whether rollcall knows the command that rolls `source`'s deployments back to revision `to` (else the
/// filer gives it).
pub fn knows_revert_command(source: &str, to: &str) -> bool {
    revert_command(source, "", "", to).is_some()
}

/// Whether a tool would read `v`, given as an argument, as one of its options.
fn option_like(v: &str) -> bool {
    v.trim_start().starts_with('-')
}

/// Why a request filed from an observation of `source` (back to revision `to`) needs its revert command
/// given: rollcall knows none for that source, or (Kubernetes) for a revision known only by its name. The
/// caller says how to give it.
pub fn no_revert_command(source: &str, env: &str, component: &str, to: &str) -> String {
    if let Some(v) = [env, component, to].into_iter().find(|v| option_like(v)) {
        format!(
            "rollcall writes no command with {:?} as an argument ({} would read it as an option)",
            crate::text::safe(v),
            crate::text::safe(source)
        )
    } else if knows_revert_command(source, "1") {
        format!(
            "rollcall knows no rollback command to {} revision {} (a revision known only by its name)",
            crate::text::safe(source),
            crate::text::safe(to)
        )
    } else {
        format!("rollcall knows no rollback command for {} deployments", crate::text::safe(source))
    }
}

/// What a request filed from an observed deployment says (`request new --from-observed`, and the console's
/// `f` on an observed rollback or `o` on an observation in the history).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefill {
    pub from: String,
    pub to: String,
    pub title: String,
    pub change: String,
    /// The command that rolls it back (for a rollback, the one that ran), when the source has one
    /// rollcall knows (Helm, Kubernetes, Argo CD); else the filer gives it ([`no_revert_command`]).
    pub revert_command: Option<String>,
    /// The rollback already ran: the request records it after the fact (under the emergency path).
    pub post_hoc: bool,
}

/// [`prefill`] from the members of observation `o` as recorded (the CLI's `--from-observed` and the
/// console's form both fill from it, never from display text).
pub fn prefill_of(o: &Observed) -> Result<Prefill, String> {
    prefill(&o.source, &o.env, &o.component, &o.revision, o.from.as_deref(), &o.to, o.rollback, &o.at)
}

/// The fields of a request for an observed deployment, from its members. For a
/// rollback, the request records it as it ran (from the revision it moved away from to the one it
/// brought back), after the fact. For any other deployment, the request is to roll it back: from the
/// revision it deployed to the one deployed before it (refused when the history shows none).
#[allow(clippy::too_many_arguments)]
pub fn prefill(
    source: &str,
    env: &str,
    component: &str,
    revision: &str,
    from: Option<&str>,
    to: &str,
    rollback: bool,
    at: &str,
) -> Result<Prefill, String> {
    if rollback {
        let from = from.unwrap_or(revision).to_string();
        return Ok(Prefill {
            title: format!("Rollback of {component} in {env}: revision {from} to {to} ({source} at {at})"),
            change: format!("{source} {component} revision {from}"),
            revert_command: revert_command(source, env, component, to),
            from,
            to: to.to_string(),
            post_hoc: true,
        });
    }
    let Some(before) = from else {
        return Err(format!(
            "{source} revision {revision} of {component} in {env} is the first deployment its history shows: there is nothing to roll back to"
        ));
    };
    Ok(Prefill {
        title: format!("Roll back {component} in {env}: revision {to} to {before} ({source} deployment at {at})"),
        change: format!("{source} {component} revision {to}"),
        revert_command: revert_command(source, env, component, before),
        from: to.to_string(),
        to: before.to_string(),
        post_hoc: false,
    })
}

/// Calls `visit` with every recorded observation that reads as one and counts: signed by a member active
/// at its position (an entry by a key never enrolled, or revoked by then, says nothing, as `verify` lists
/// it under "does not count"), with its entry id and time.
pub(crate) fn each_observation(ledger: &Ledger, mut visit: impl FnMut(Observation)) -> Result<(), WorkflowError> {
    // Each rollback once: readings of the same history (`Observed::identity`, the same `to`) that show it
    // again saying less of it (a window that moved) or more (one that grew) would count it twice, the
    // second time as one no request accounts for. Of the rollback observations of one deployment, those
    // another says everything of (and more, or as much and earlier) are left out, whatever the order they
    // were recorded in; the others are each an account of their own (another artifact, say), read too: a
    // crafted reading, first or bare, hides no other. Rollbacks come after the other observations.
    let mut groups: HashMap<(crate::ingest::Identity, String), Vec<Observation>> = HashMap::new();
    let mut order = Vec::new();
    each_recorded(ledger, |o| {
        if !o.observed.rollback {
            return visit(o);
        }
        let key = (o.observed.identity(), o.observed.to.clone());
        let group = groups.entry(key.clone()).or_default();
        if group.is_empty() {
            order.push(key);
        }
        group.push(o);
    })?;
    for key in order {
        accounts(groups.remove(&key).unwrap_or_default()).into_iter().for_each(&mut visit);
    }
    Ok(())
}

/// The accounts among `group`, rollback observations of one deployment in the order recorded: each one
/// that no other says everything of and more (or as much, and earlier).
fn accounts(group: Vec<Observation>) -> Vec<Observation> {
    let covered = |i: usize| {
        let o = &group[i].observed;
        group
            .iter()
            .enumerate()
            .any(|(j, p)| j != i && o.says_no_more_than(&p.observed) && (j < i || !p.observed.says_no_more_than(o)))
    };
    let kept: Vec<bool> = (0..group.len()).map(|i| !covered(i)).collect();
    group.into_iter().zip(kept).filter(|(_, k)| *k).map(|(o, _)| o).collect()
}

/// Every observation recorded by a member whose entries count, in the log's order (repeats included:
/// what `ingest` compares a new reading with).
pub(crate) fn each_recorded(ledger: &Ledger, mut visit: impl FnMut(Observation)) -> Result<(), WorkflowError> {
    let roster = crate::identity::roster::Roster::from_ledger(ledger)?;
    ledger.visit_kinds(&[OBSERVED], |row| -> Result<(), WorkflowError> {
        if let Ok(st) = row.entry.statement()
            && crate::ledger::PublicKey::parse(&st.actor).is_some_and(|k| roster.is_active(&k, row.pos))
            && let Ok(observed) = serde_json::from_value::<Observed>(st.body)
            && let Some(at) = crate::audit::record::parse_time(&observed.at)
        {
            visit(Observation { id: row.entry.id, observed, at });
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn obs(n: u8, h: i64, component: &str, from: &str, to: &str, rollback: bool) -> Observation {
        Observation {
            id: crate::ledger::Hash([n; 32]),
            observed: Observed {
                source: "helm".into(),
                env: "production".into(),
                component: component.into(),
                revision: format!("{n}"),
                from: Some(from.into()),
                to: to.into(),
                rollback,
                at: crate::ledger::statement::format_ts(t(h)),
                by: None,
                artifact: None,
                description: None,
                input_sha256: "0".repeat(64),
            },
            at: t(h),
        }
    }

    fn req(id: &str, h: i64, component: &str, to: &str) -> RequestFacts {
        RequestFacts {
            id: id.into(),
            env: "Production".into(),
            component: component.into(),
            components: vec![component.into()],
            status: "pending".into(),
            requested_at: t(h),
            from: "9".into(),
            to: to.into(),
            ..Default::default()
        }
    }

    /// The report's figure holds only the requests near an observed rollback, and finds what reconcile,
    /// which holds every request of the observed components, finds.
    #[test]
    fn the_reports_figure_holds_only_candidates_and_agrees_with_reconcile() {
        let dir = tempfile::tempdir().unwrap();
        let demo = crate::demo::build(&dir.path().join("d"), 60, &mut |_| {}).unwrap();
        let ledger = demo.context().open().unwrap();
        index::refresh(&ledger, crate::workflow::clock::now()).unwrap();
        let options = Options::default();
        let figure = rollbacks(&ledger, &options).unwrap();
        let full = reconcile_in(&ledger, &options).unwrap();
        assert!(figure.rollbacks >= 4 && !figure.unrecorded.is_empty(), "{figure:?}");
        assert_eq!(figure.figure(), full.figure());
        assert_eq!(figure.matched, full.matched);
        // Picked from a walk over every request's parsed facts, as `report` does: the same.
        let mut picked = RollbackCandidates::new(&ledger, &options).unwrap();
        let mut seen = 0;
        super::super::report::each_fact(&ledger, &mut |f| {
            seen += 1;
            picked.offer(f);
        })
        .unwrap();
        assert!(picked.requests.len() < seen, "{} of {seen} held", picked.requests.len());
        let walked = picked.finish(&options);
        assert_eq!(walked.figure(), full.figure());
        assert_eq!(walked.matched, full.matched);
    }

    /// A request withdrawn under an emergency clears no rollback, whether its status reads `review-due`
    /// (its review owed) or `withdrawn` (taken): the verdict does not change when the review is taken.
    #[test]
    fn a_withdrawn_request_clears_nothing_whatever_its_status() {
        for status in ["review-due", "withdrawn"] {
            let mut w = req("w", 1, "api", "1");
            w.emergency_at = Some(t(1));
            (w.status, w.withdrawn, w.closed) = (status.into(), true, true);
            let r = reconcile_facts(vec![obs(1, 2, "api", "2", "1", true)], &[w], &Options::default());
            assert_eq!(r.unrecorded.len(), 1, "{status}: {r:?}");
        }
    }

    #[test]
    fn each_rollback_is_recorded_unrecorded_or_unauthorized() {
        let observations = vec![
            obs(1, 0, "api", "0", "1", false),
            obs(2, 10, "api", "1", "1", true), // approved before: recorded
            obs(3, 20, "api", "2", "1", true), // no request: unrecorded
            obs(4, 30, "web", "4", "3", true), // request approved after it ran
            obs(5, 40, "web", "5", "2", true), // post-hoc request under an emergency: recorded after
            obs(6, 50, "db", "6", "5", true),  // the only request names another revision: unrecorded
        ];
        let mut a = req("a", 8, "api", "1");
        a.approved_at = Some(t(9));
        let mut b = req("b", 29, "web", "3");
        b.approved_at = Some(t(31));
        let mut c = req("c", 41, "web", "2");
        c.emergency_at = Some(t(41)); // filed post hoc under an emergency: a review is owed, not a finding
        let d = req("d", 49, "db", "4");
        let r = reconcile_facts(observations, &[a, b, c, d], &Options::default());
        assert_eq!(r.rollbacks, 5);
        assert_eq!(r.unrecorded.iter().map(|o| o.id.0[0]).collect::<Vec<_>>(), [3, 6]);
        assert_eq!(r.unauthorized.len(), 1);
        assert_eq!(r.unauthorized[0].request.id, "b");
        assert!(
            r.unauthorized[0].why.contains("approved only at 2026-03-02 07:00:00 UTC"),
            "{}",
            r.unauthorized[0].why
        );
        assert_eq!((r.recorded_before, r.recorded_after), (1, 1));
        assert_eq!(r.share_recorded_before(), Some(0.2));
        assert!(!r.all_match());
    }

    /// The rollback observations of one deployment count as the accounts none of the others says
    /// everything of: whatever the order they were recorded in, a fuller reading covers a narrower one
    /// (before, the first kept hid one that said more and the count depended on the order), and readings
    /// that say different things are each counted (a bare first reading hides neither).
    #[test]
    fn the_accounts_of_a_rollback_do_not_depend_on_the_order_recorded() {
        let with = |n: u8, artifact: Option<&str>, by: Option<&str>| {
            let mut o = obs(n, 5, "web", "5", "2", true);
            o.observed.revision = "9".into();
            o.observed.artifact = artifact.map(str::to_string);
            o.observed.by = by.map(str::to_string);
            o
        };
        let count = |group: Vec<Observation>| accounts(group).len();
        // A (artifact x), B (x, by b), C (by b): B says everything both others do.
        for order in [[0, 1, 2], [1, 0, 2], [2, 0, 1], [2, 1, 0]] {
            let all = [with(1, Some("x"), None), with(2, Some("x"), Some("b")), with(3, None, Some("b"))];
            let group: Vec<Observation> = order.iter().map(|&i| all[i].clone()).collect();
            let kept = accounts(group);
            assert_eq!(kept.len(), 1, "{order:?}");
            assert_eq!(kept[0].id, crate::ledger::Hash([2; 32]), "{order:?}");
        }
        // A bare reading, then two that disagree: two accounts.
        assert_eq!(count(vec![with(1, None, None), with(2, Some("x"), None), with(3, Some("y"), None)]), 2);
        // The same reading twice: the first.
        assert_eq!(
            accounts(vec![with(1, Some("x"), None), with(2, Some("x"), None)])[0].id,
            crate::ledger::Hash([1; 32])
        );
    }

    /// A Kubernetes rollback is filled with `kubectl rollout undo … --to-revision=N` only when the revision
    /// it went back to is a number: a ControllerRevision brought back is known by its name, which the
    /// command does not take (before, `--to-revision=db-7c9d5b8f6d` was signed as the operation). The
    /// filer then gives the command, and is told why.
    #[test]
    fn a_kubernetes_revision_known_only_by_its_name_gets_no_command() {
        let at = "2026-03-01T00:00:00Z";
        let named = prefill("kubernetes", "data", "db", "4", Some("3"), "db-7c9d5b8f6d", true, at).unwrap();
        assert_eq!(named.revert_command, None);
        assert!(!knows_revert_command("kubernetes", "db-7c9d5b8f6d"));
        assert_eq!(
            no_revert_command("kubernetes", "data", "db", "db-7c9d5b8f6d"),
            "rollcall knows no rollback command to kubernetes revision db-7c9d5b8f6d (a revision known only by its name)"
        );
        let numbered = prefill("kubernetes", "shop", "checkout", "3", Some("2"), "1", true, at).unwrap();
        assert_eq!(
            numbered.revert_command.as_deref(),
            Some("kubectl rollout undo deployment/checkout --to-revision=1 --namespace shop")
        );
        assert!(knows_revert_command("kubernetes", "1") && knows_revert_command("helm", "x"));
        assert_eq!(
            no_revert_command("github", "prod", "api", "abc"),
            "rollcall knows no rollback command for github deployments"
        );
    }

    /// A name or revision from an ingested history that a tool would read as an option gets no command:
    /// an Argo CD application named `--server=…` would have sent the rollback (and the job's token) to
    /// another server. The filer is told why and gives the command.
    #[test]
    fn names_a_tool_would_read_as_options_get_no_command() {
        let at = "2026-03-01T00:00:00Z";
        for (source, env, component, to) in [
            ("argocd", "prod", "--server=evil.example:443", "7"),
            ("argocd", "prod", "shop", "-1"),
            ("helm", "prod", "-n", "3"),
            ("kubernetes", "--kubeconfig=/tmp/x", "checkout", "1"),
        ] {
            let p = prefill(source, env, component, "9", Some("8"), to, true, at).unwrap();
            assert_eq!(p.revert_command, None, "{source} {env} {component} {to}");
            let why = no_revert_command(source, env, component, to);
            assert!(why.contains("would read it as an option"), "{why}");
        }
        let fine = prefill("argocd", "prod", "shop", "9", Some("8"), "7", true, at).unwrap();
        assert_eq!(fine.revert_command.as_deref(), Some("argocd app rollback shop 7"));
    }

    /// A rollback outside rollcall after the request's emergency lapsed is not cleared by it: a day and a
    /// half after break-glass, with no approval, it is unauthorized, saying so; one inside the waiver is not.
    #[test]
    fn a_lapsed_emergency_clears_no_rollback() {
        let observations = vec![obs(1, 10, "api", "2", "1", true), obs(2, 70, "web", "4", "3", true)];
        let mut a = req("a", 9, "api", "1");
        (a.emergency_at, a.emergency_until) = (Some(t(9)), Some(t(33)));
        let mut b = req("b", 40, "web", "3");
        (b.emergency_at, b.emergency_until) = (Some(t(40)), Some(t(64)));
        let r = reconcile_facts(observations, &[a, b], &Options::default());
        assert_eq!(r.unauthorized.len(), 1, "{:?}", r.unauthorized);
        assert_eq!(r.unauthorized[0].request.id, "b");
        let why = &r.unauthorized[0].why;
        assert!(
            why.contains("not approved") && why.contains("its emergency had lapsed at 2026-03-03 16:00:00 UTC"),
            "{why}"
        );
    }

    #[test]
    fn a_request_accounts_for_one_rollback_the_nearest_agreeing_one() {
        let observations = vec![obs(1, 10, "api", "2", "1", true), obs(2, 12, "api", "3", "1", true)];
        let mut a = req("a", 11, "api", "1");
        a.approved_at = Some(t(11));
        let r = reconcile_facts(observations, &[a], &Options::default());
        assert_eq!(r.matched.len(), 1);
        assert_eq!(r.matched[0].observation.0[0], 1, "the first rollback in time takes the request");
        assert_eq!(r.unrecorded.len(), 1);
        assert_eq!(
            r.unauthorized[0].why,
            "the request was filed after it ran (2026-03-01 11:00:00 UTC) and never cleared before it"
        );
    }

    #[test]
    fn outside_the_window_or_another_environment_nothing_matches() {
        let observations = vec![obs(1, 100, "api", "2", "1", true)];
        let mut far = req("far", 0, "api", "1");
        far.approved_at = Some(t(1));
        let mut other = req("other", 99, "api", "1");
        other.env = "staging".into();
        let r = reconcile_facts(observations.clone(), &[far.clone(), other], &Options::default());
        assert_eq!(r.unrecorded.len(), 1);
        let wide = Options { window: Duration::hours(200), ..Default::default() };
        assert!(reconcile_facts(observations.clone(), &[far], &wide).all_match());
        let later = Options { since: Some(t(101)), ..Default::default() };
        assert_eq!(reconcile_facts(observations, &[], &later).rollbacks, 0);
    }

    #[test]
    fn executed_requests_are_confirmed_unconfirmed_or_not_covered() {
        let observations = vec![obs(1, 10, "api", "2", "1", true), obs(2, 50, "api", "1", "3", false)];
        let mut seen = req("seen", 9, "api", "1");
        seen.approved_at = Some(t(9));
        seen.executed_at = Some(t(10));
        let mut missing = req("missing", 20, "api", "7");
        missing.approved_at = Some(t(20));
        missing.executed_at = Some(t(21));
        let mut elsewhere = req("elsewhere", 20, "queue", "7");
        elsewhere.executed_at = Some(t(21));
        let mut failed = req("failed", 22, "api", "8");
        failed.executed_at = Some(t(23));
        failed.outcome = Some("failed".into());
        let mut before = req("before", 1, "api", "7");
        before.executed_at = Some(t(2)); // before the history's first observation: not covered
        let r = reconcile_facts(observations, &[seen, missing, elsewhere, failed, before], &Options::default());
        assert_eq!((r.executed, r.confirmed, r.not_covered), (4, 1, 2));
        assert_eq!(r.unconfirmed.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["missing"]);
    }

    #[test]
    fn revisions_compare_only_when_of_one_kind() {
        assert_eq!(same_revision("3", "003"), Some(true));
        assert_eq!(same_revision("3", "4"), Some(false));
        assert_eq!(same_revision("abcdef1", "ABCDEF1234"), Some(true));
        assert_eq!(same_revision("abcdef1", "abcdef2"), Some(false));
        assert_eq!(same_revision("3", "abcdef1"), None);
        assert_eq!(same_revision("v1.2", "v1.2"), Some(true));
        assert_eq!(same_revision("v1.2", "v1.3"), None);
    }

    #[test]
    fn an_artifact_names_a_revision_as_a_word_not_a_substring() {
        assert!(named_in("payments-1.2.3", "payments-1.2.3 (app 2.0)"));
        assert!(!named_in("payments-1.2.3", "payments-1.2.31 (app 2.0)"));
        assert!(named_in("abcdef1", "registry.example/app:abcdef1234, sidecar:1.0"));
        assert!(named_in("ABCDEF1234", "abcdef1"));
        assert!(!named_in("abcdef1", "0123abcdef1999"));
        assert!(!named_in("1.2.3-rc", "1.2.3-rc2"));
        // A whole image reference or digest, separators inside it.
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert!(named_in(&digest, &format!("registry.example.com/checkout@{digest}")));
        assert!(named_in("registry.example.com/checkout:2.3.1", "registry.example.com/checkout:2.3.1, envoy:1.29"));
        assert!(named_in("checkout:2.3.1", "registry.example.com/checkout:2.3.1"));
        assert!(!named_in("checkout:2.3.1", "registry.example.com/checkout:2.3.10"));
        assert!(!named_in("registry.example.com/checkout:2.3", "registry.example.com/checkout:2.3.1"));
    }
}
