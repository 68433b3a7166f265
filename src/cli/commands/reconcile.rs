//! `reconcile` output: the observed rollbacks with no request, with a request that did not clear them,
//! and executed requests no ingested history shows, as tables or JSON; the exit status says whether all
//! match.

use crate::cli::args::ReconcileArgs;
use crate::cli::output;
use crate::say;
use crate::table::Table;
use crate::text::safe;
use crate::workflow::reconcile::{Observation, Options, Reconciled, RequestRef};
use crate::workflow::{self, Context, WorkflowError};
use serde_json::{Value, json};
use std::process::ExitCode;

/// `reconcile [--since DATE] [--env ENV] [--component NAME] [--window HOURS]`.
pub(crate) fn reconcile(ctx: &Context, a: ReconcileArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let ReconcileArgs { since, env, component, window } = a;
    let options = Options {
        since: since.as_deref().map(super::report::parse_day).transpose()?,
        env,
        component,
        window: chrono::Duration::hours(window),
        ..Options::default()
    };
    let r = workflow::reconcile::reconcile(ctx, &options)?;
    if json {
        output::json(&to_json(&r));
    } else {
        print_text(&r);
    }
    Ok(if r.all_match() { ExitCode::SUCCESS } else { ExitCode::from(crate::cli::EXIT_CHECK_FAILED) })
}

fn observation_json(o: &Observation) -> Value {
    let mut v = serde_json::to_value(&o.observed).unwrap_or(Value::Null);
    v["observation"] = o.id.to_hex().into();
    v
}

fn request_json(r: &RequestRef) -> Value {
    json!({"request": r.id, "title": r.title, "status": r.status, "env": r.env, "component": r.component,
           "from": r.from, "to": r.to, "requested_at": crate::ledger::statement::format_ts(r.requested_at),
           "executed_at": r.executed_at.map(crate::ledger::statement::format_ts)})
}

/// The JSON document (docs: README "Reconciling with the deployment history").
pub(crate) fn to_json(r: &Reconciled) -> Value {
    json!({
        "all_match": r.all_match(),
        "window_hours": r.window_hours,
        "rollbacks": r.rollbacks,
        "recorded_before": r.recorded_before,
        "recorded_after": r.recorded_after,
        "share_recorded_before": r.share_recorded_before(),
        "unrecorded": r.unrecorded.iter().map(observation_json).collect::<Vec<_>>(),
        "unauthorized": r.unauthorized.iter().map(|u| json!({
            "observation": observation_json(&u.observation), "request": request_json(&u.request), "why": u.why,
        })).collect::<Vec<_>>(),
        "executed": r.executed,
        "confirmed": r.confirmed,
        "not_covered": r.not_covered,
        "unconfirmed": r.unconfirmed.iter().map(request_json).collect::<Vec<_>>(),
        "matched": r.matched.iter().map(|m| json!({
            "observation": m.observation.to_hex(), "request": m.request, "recorded_before": m.recorded_before,
        })).collect::<Vec<_>>(),
    })
}

fn revisions(o: &Observation) -> String {
    format!("{} → {}", o.observed.from.as_deref().unwrap_or("?"), o.observed.to)
}

fn print_text(r: &Reconciled) {
    let share = r.share_recorded_before().map(|s| format!("{:.0} %", s * 100.0)).unwrap_or_else(|| "—".into());
    say!(
        "{} rollback{} observed: {} recorded before {} ran, {} recorded after, {} unrecorded, {} unauthorized \
         (recorded before they ran: {share}); {} executed request{}: {} confirmed, {} unconfirmed, {} not covered \
         by an ingested history (window {} h)",
        r.rollbacks,
        if r.rollbacks == 1 { "" } else { "s" },
        r.recorded_before,
        if r.recorded_before == 1 { "it" } else { "they" },
        r.recorded_after,
        r.unrecorded.len(),
        r.unauthorized.len(),
        r.executed,
        if r.executed == 1 { "" } else { "s" },
        r.confirmed,
        r.unconfirmed.len(),
        r.not_covered,
        r.window_hours
    );
    if r.all_match() {
        return;
    }
    let mut t = Table::new(&["FINDING", "WHEN", "ENV", "COMPONENT", "REVISIONS", "ID", "DETAIL"]);
    for o in &r.unrecorded {
        t.row(vec![
            "UNRECORDED".into(),
            o.observed.at.clone(),
            safe(&o.observed.env),
            safe(&o.observed.component),
            safe(&revisions(o)),
            o.id.short(12),
            format!(
                "{} {} with no request; file one: rollcall request new --from-observed {}",
                safe(&o.observed.source),
                safe(&o.observed.revision),
                o.id.short(12)
            ),
        ]);
    }
    for u in &r.unauthorized {
        let o = &u.observation;
        t.row(vec![
            "UNAUTHORIZED".into(),
            o.observed.at.clone(),
            safe(&o.observed.env),
            safe(&o.observed.component),
            safe(&revisions(o)),
            o.id.short(12),
            format!(
                "request {} ({}): {}",
                &u.request.id[..u.request.id.len().min(12)],
                safe(&u.request.title),
                safe(&u.why)
            ),
        ]);
    }
    for q in &r.unconfirmed {
        t.row(vec![
            "UNCONFIRMED".into(),
            q.executed_at.map(crate::ledger::statement::format_ts).unwrap_or_default(),
            safe(&q.env),
            safe(&q.component),
            safe(&format!("{} → {}", q.from, q.to)),
            q.id[..q.id.len().min(12)].to_string(),
            format!("executed per the ledger, not in the ingested history: {}", safe(&q.title)),
        ]);
    }
    output::emit(&t.render());
}
