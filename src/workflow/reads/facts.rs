//! The facts of one request as the report and the request index keep them: what it is, where, how it
//! was decided, executed and reviewed, derived from its folded view and the policy's judgement.

use super::assess::Assessment;
use super::state::{Judged, Snapshot};
use crate::audit::RequestView;
use crate::audit::projection::Phase;
use crate::policy::evaluate::{Counted, Evaluation};
use crate::report::metrics::RequestFacts;
use chrono::{DateTime, Utc};

/// The facts a report reads about one request.
pub(crate) fn facts_of(view: &RequestView, judged: &Judged, snap: &Snapshot) -> RequestFacts {
    let r = view.record();
    let time = |s: &Option<String>| s.as_deref().and_then(crate::audit::record::parse_time);
    let (approvals, need) = approvals_in_force(view, &judged.eval, &judged.assessment, snap);
    let need = need.max(1) as usize;
    let executed = view.executions.last();
    let validated = view.validations.last();
    let status = judged.eval.status.as_str().to_string();
    RequestFacts {
        id: view.id.to_hex(),
        title: r.title.clone(),
        env: r.env.clone(),
        component: r.components.first().cloned().unwrap_or_default(),
        category: r.category.as_str().to_string(),
        // By the phase: a closed request whose fork's review is owed is review-due, and still closed.
        closed: matches!(view.phase, Phase::Closed | Phase::Withdrawn),
        withdrawn: view.phase == Phase::Withdrawn,
        status,
        requested_at: view.ts,
        deployed_at: time(&r.deployed_at),
        approved_at: approvals.get(need - 1).copied(),
        executed_at: executed.map(|e| e.ts),
        outcome: executed.map(|e| format!("{:?}", e.body.outcome).to_lowercase()),
        validated_at: validated.map(|v| v.ts),
        validation: validated.map(|v| format!("{:?}", v.body.result).to_lowercase()),
        emergency: view.emergency.is_some(),
        review_due: view.emergency.as_ref().and_then(|e| crate::audit::record::parse_time(&e.body.review_due)),
        // An emergency's: settled by a post-hoc review (not a post-incident one, nor its invoker's or executor's).
        reviewed: if view.emergency.is_some() { !view.emergency_review_owed() } else { !view.reviews.is_empty() },
        evidence_complete: judged.eval.evidence_missing.is_empty(),
        flags: judged.assessment.flag_ids(),
        temporary_until: time(&r.temporary_until),
        incident: r.incident.clone().or_else(|| view.incidents.first().map(|i| i.body.incident.clone())),
        components: r.components.clone(),
        from: r.revert.from.clone(),
        to: r.revert.to.clone(),
        emergency_at: view.emergency.as_ref().map(|e| e.ts),
        emergency_until: view.emergency.as_ref().and_then(|e| snap.policies.at(e.pos).1.emergency.waives_until(e.ts)),
        fork_unreviewed: view.fork.as_ref().and_then(|f| f.owed_since()),
        runs_not_counted: view
            .timeline
            .iter()
            .filter(|t| t.kind == crate::audit::kinds::EXECUTED)
            .filter_map(|t| t.ignored.as_ref().map(|why| format!("{}: {why}", super::present::when(&t.ts))))
            .collect(),
    }
}

/// At a request's first counted run: when it ran, how many approvals counted for it, and how many it
/// needed ([`approvals_in_force`]); `None` before a run counted. An auditor reading `show` on an executed
/// request sees today's tally (approvals expired since, flags raised since) beside this one.
pub(crate) fn approvals_at_run(
    view: &RequestView,
    eval: &Evaluation,
    assessment: &Assessment,
    snap: &Snapshot,
) -> Option<(DateTime<Utc>, usize, u32)> {
    let run = view.executions.first()?;
    let (at, need) = approvals_in_force(view, eval, assessment, snap);
    Some((run.ts, at.len(), need))
}

/// When each approval that counts was signed, sorted, and how many the request needed. Once a run counted,
/// the approvals it ran on: the request evaluated as the first counted run was judged, on the decisions
/// its log had seen, at its time, under the policy in force there and with the security flags and tier it
/// had there (a rejection after a failed run, or one signed where the run had not seen it, says nothing of
/// when the request was approved; an approval the run had not seen did not clear it; a flag raised since,
/// or a tier raised by one, asks nothing of a run that is over). Without a run, the approvals that count
/// now, expired ones included, and the count needed now.
fn approvals_in_force(
    view: &RequestView,
    eval: &Evaluation,
    assessment: &Assessment,
    snap: &Snapshot,
) -> (Vec<DateTime<Utc>>, u32) {
    use crate::audit::bodies::Decision;
    let approvals = |decisions: &[Counted], expired_count: bool| {
        let mut at: Vec<DateTime<Utc>> = decisions
            .iter()
            .filter(|d| d.decision == Decision::Approve)
            .filter(|d| d.excluded.as_deref().is_none_or(|why| expired_count && why.starts_with("expired")))
            .map(|d| d.ts)
            .collect();
        at.sort();
        at
    };
    let today = || (approvals(&eval.decisions, true), eval.need);
    let Some(run) = view.executions.first() else { return today() };
    let seen = |pos| snap.roster.happened_before(pos, run.pos);
    let now_flags = assessment.flag_ids();
    // Folded without the policy's rules (none assessed the run): judged with today's flags.
    let (flags, tier) = match &view.first_run {
        Some(j) => (j.flags.clone(), j.tier.clone()),
        None => (now_flags.clone(), assessment.risk.tier.clone()),
    };
    let same_flags = {
        fn set(f: &[String]) -> std::collections::BTreeSet<&str> {
            f.iter().map(String::as_str).collect()
        }
        set(&flags) == set(&now_flags) && tier == assessment.risk.tier
    };
    if same_flags
        && view.decisions.iter().all(|d| seen(d.pos))
        && snap.policies.at(run.pos).0 == snap.policies.current().0
    {
        // Every decision was seen by the run, under the policy and with the flags in force now: today's
        // tally is the run's, expiry aside: an approval that has expired since counts when it had not yet
        // expired at the run (one that expired before it, the run did not have: a break-glass run after
        // the approvals lapsed read as an approved one).
        let hours = snap.policies.current().1.approvals.expiry_hours;
        let valid_at_run = |d: &Counted| hours == 0 || run.ts - d.ts <= chrono::Duration::hours(i64::from(hours));
        let mut at: Vec<DateTime<Utc>> = eval
            .decisions
            .iter()
            .filter(|d| d.decision == Decision::Approve)
            // Valid at the run whatever today says: `now` may be before the run (a what-if time, a peer's
            // clock ahead within the skew), where an approval not yet expired had expired at the run.
            .filter(|d| d.excluded.as_deref().is_none_or(|why| why.starts_with("expired")) && valid_at_run(d))
            .map(|d| d.ts)
            .collect();
        at.sort();
        return (at, eval.need);
    }
    let mut then = view.clone();
    then.decisions.retain(|d| seen(d.pos));
    let eval = crate::policy::evaluate::evaluate(&then, &snap.context(&flags, Some(&tier)), run.ts, run.pos);
    (approvals(&eval.decisions, false), eval.need)
}
