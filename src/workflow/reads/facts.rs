//! The facts of one request as the report and the request index keep them: what it is, where, how it
//! was decided, executed and reviewed, derived from its folded view and the policy's judgement.

use super::state::Judged;
use crate::audit::RequestView;
use crate::audit::projection::Phase;
use crate::report::metrics::RequestFacts;
use chrono::{DateTime, Utc};

/// The facts a report reads about one request.
pub(crate) fn facts_of(view: &RequestView, judged: &Judged) -> RequestFacts {
    let r = view.record();
    let time = |s: &Option<String>| s.as_deref().and_then(crate::audit::record::parse_time);
    let approvals = approvals_in_force(view, judged);
    let need = judged.eval.need.max(1) as usize;
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
        fork_unreviewed: view.fork.as_ref().and_then(|f| f.owed_since()),
        runs_not_counted: view
            .timeline
            .iter()
            .filter(|t| t.kind == crate::audit::kinds::EXECUTED)
            .filter_map(|t| t.ignored.as_ref().map(|why| format!("{}: {why}", t.ts.format("%Y-%m-%d %H:%M UTC"))))
            .collect(),
    }
}

/// When each approval that counts was signed, sorted. Once a run counted, the approvals it ran on: those
/// taken before it, each counting unless it was excluded for a reason of its own (a later decision of the
/// same key taken after the run does not undo it, nor does its expiry): a rejection after a failed run
/// says nothing of when the request was approved. Otherwise the approvals that count now, expired ones
/// included.
fn approvals_in_force(view: &RequestView, judged: &Judged) -> Vec<DateTime<Utc>> {
    use crate::audit::bodies::Decision;
    let first_run = view.executions.first().map(|e| e.pos);
    let pos_of: std::collections::HashMap<_, _> = view.decisions.iter().map(|d| (d.id, d.pos)).collect();
    let before_run = |id| first_run.is_none_or(|run| pos_of.get(id).is_some_and(|p| *p < run));
    // The position of each key's latest decision before the run (the one that counted for it there).
    let mut latest_before: std::collections::HashMap<_, _> = std::collections::HashMap::new();
    for d in judged.eval.decisions.iter().filter(|d| before_run(&d.entry)) {
        latest_before.insert(d.actor.bytes(), d.entry);
    }
    let mut approvals: Vec<DateTime<Utc>> = judged
        .eval
        .decisions
        .iter()
        .filter(|d| d.decision == Decision::Approve && before_run(&d.entry))
        .filter(|d| match d.excluded.as_deref() {
            None => true,
            Some(why) if why.starts_with("expired") => true,
            // Superseded only by a decision taken after the run: it was the key's decision there.
            Some(_) if first_run.is_some() => {
                latest_before.get(&d.actor.bytes()) == Some(&d.entry)
                    && d.excluded.as_deref().is_some_and(|why| why.starts_with("superseded"))
            }
            Some(_) => false,
        })
        .map(|d| d.ts)
        .collect();
    approvals.sort();
    approvals
}
