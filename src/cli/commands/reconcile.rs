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
use serde::Serialize;
use serde_json::{Value, json};
use std::io::Write;
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
        // Streamed item by item: a reconciliation of 100,000 observations never becomes one JSON tree.
        let mut out = output::Stdout::new();
        crate::text::json_pretty_to(&mut out, &Doc(&r))
            .and_then(|()| out.write_all(b"\n").and_then(|()| out.flush()).map_err(serde_json::Error::io))
            .map_err(|e| WorkflowError::Io("write the reconciliation".into(), e.into()))?;
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

/// The JSON document (docs: README "Reconciling with the deployment history"), keys in sorted order.
struct Doc<'a>(&'a Reconciled);

/// A list serialized one item at a time, each item built as it is written.
struct Each<'a, T, F: Fn(&T) -> Value>(&'a [T], F);

impl<T, F: Fn(&T) -> Value> Serialize for Each<'_, T, F> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(&self.1))
    }
}

impl Serialize for Doc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.0;
        let mut m = s.serialize_map(Some(13))?;
        m.serialize_entry("all_match", &r.all_match())?;
        m.serialize_entry("confirmed", &r.confirmed)?;
        m.serialize_entry("executed", &r.executed)?;
        m.serialize_entry(
            "matched",
            &Each(&r.matched, |x| {
                json!({"observation": x.observation.to_hex(), "recorded_before": x.recorded_before, "request": x.request})
            }),
        )?;
        m.serialize_entry("not_covered", &r.not_covered)?;
        m.serialize_entry("recorded_after", &r.recorded_after)?;
        m.serialize_entry("recorded_before", &r.recorded_before)?;
        m.serialize_entry("rollbacks", &r.rollbacks)?;
        m.serialize_entry("share_recorded_before", &r.share_recorded_before())?;
        m.serialize_entry(
            "unauthorized",
            &Each(&r.unauthorized, |u| {
                json!({"observation": observation_json(&u.observation), "request": request_json(&u.request), "why": u.why})
            }),
        )?;
        m.serialize_entry("unconfirmed", &Each(&r.unconfirmed, request_json))?;
        m.serialize_entry("unrecorded", &Each(&r.unrecorded, observation_json))?;
        m.serialize_entry("window_hours", &r.window_hours)?;
        m.end()
    }
}

fn revisions(o: &Observation) -> String {
    format!("{} → {}", o.observed.from.as_deref().unwrap_or("?"), o.observed.to)
}

fn print_text(r: &Reconciled) {
    let share = r
        .share_recorded_before()
        .map(|s| format!("{} %", crate::report::render::percent(s)))
        .unwrap_or_else(|| "—".into());
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
    // A finding about an observed rollback: what the history says, then why it is one.
    let observed = |finding: &str, o: &Observation, detail: String| {
        vec![
            finding.to_string(),
            safe(&o.observed.at),
            safe(&o.observed.env),
            safe(&o.observed.component),
            safe(&revisions(o)),
            o.id.short(12),
            detail,
        ]
    };
    for o in &r.unrecorded {
        // A source without a rollback command rollcall knows: the one that ran is given too.
        let known = workflow::reconcile::knows_revert_command(&o.observed.source, &o.observed.to);
        let detail = format!(
            "{} {} with no request; file one: rollcall request new --from-observed {}{} (below)",
            safe(&o.observed.source),
            safe(&o.observed.revision),
            o.id.short(12),
            if known { "" } else { " --revert-cmd 'THE COMMAND THAT RAN'" }
        );
        t.row(observed("UNRECORDED", o, detail));
    }
    for u in &r.unauthorized {
        let request = crate::text::prefix(&u.request.id, 12);
        let detail = format!("request {request} ({}): {}", safe(&u.request.title), safe(&u.why));
        t.row(observed("UNAUTHORIZED", &u.observation, detail));
    }
    for q in &r.unconfirmed {
        t.row(vec![
            "UNCONFIRMED".into(),
            q.executed_at.map(crate::ledger::statement::format_ts).unwrap_or_default(),
            safe(&q.env),
            safe(&q.component),
            safe(&format!("{} → {}", q.from, q.to)),
            crate::text::prefix(&q.id, 12).to_string(),
            format!("executed per the ledger, not in the ingested history: {}", safe(&q.title)),
        ]);
    }
    output::emit(&t.render());
    if !r.unrecorded.is_empty() {
        // The whole path, runnable as printed once the words in capitals are filled: the record's fields an
        // observation does not say, then the emergency that makes the post-hoc review due.
        output::emit(
            "an unrecorded rollback is accounted for by a post-hoc request on the emergency path:\n  \
             rollcall request new --from-observed ID --category CATEGORY --rationale 'WHY' --impact 'WHAT IT DID' \
             --risk RISK --as REQUESTER\n  rollcall emergency REQ --reason 'WHY IT COULD NOT WAIT' --as ON-CALL\n",
        );
    }
}
