//! `rollcall ingest SOURCE INPUT`: a CD tool's deployment history recorded as signed
//! `deployment.observed` entries, one per deployment, those already recorded (same source, environment,
//! component and revision) left out, in batches of one transaction and one checkpoint each. Nothing is
//! written when the input is refused.

use crate::audit::kinds::OBSERVED;
use crate::ingest::{IngestError, MAX_INPUT, Observed};
use crate::ledger::{EntryId, Statement};
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Deployments signed per transaction.
const BATCH: usize = 1_000;

/// What an ingest recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Deployments in the input.
    pub seen: usize,
    /// Newly recorded, and how many of those are rollbacks.
    pub recorded: usize,
    pub rollbacks: usize,
    /// Left out: recorded before.
    pub already: usize,
    pub input_sha256: String,
    /// The environments and components the deployments are of (sorted, distinct).
    pub envs: Vec<String>,
    pub components: Vec<String>,
}

/// The CD tools `ingest` reads.
pub const SOURCES: [&str; 6] = ["helm", "kubernetes", "argocd", "github", "gitlab", "git"];

/// Reads `input` (the output of `source`) and records its deployments, signed by `signer`: in `env` for
/// `component` when given, else as the input names them (helm and git need both; gitlab the component).
pub fn ingest_named(
    ctx: &Context,
    signer: Option<&str>,
    source: &str,
    input: &Path,
    env: Option<&str>,
    component: Option<&str>,
) -> Result<Ingested, WorkflowError> {
    if !SOURCES.contains(&source) {
        return Err(WorkflowError::Usage(format!(
            "unknown source {:?} (one of: {})",
            crate::text::safe(source),
            SOURCES.join(", ")
        )));
    }
    for (what, v) in [("--env", env), ("--component", component)] {
        if let Some(v) = v
            && (v.trim().is_empty() || v.len() > 200 || v.chars().any(char::is_control))
        {
            return Err(WorkflowError::Usage(format!("{what} must be a short name without control characters")));
        }
    }
    let required = |what: &str, v: Option<&str>| -> Result<String, WorkflowError> {
        v.map(str::to_string).ok_or_else(|| {
            WorkflowError::Usage(format!("ingest {source}: {what} is required (the input does not name it)"))
        })
    };
    let refused = |e: IngestError| WorkflowError::Usage(e.to_string());
    let (observed, digest) = if source == "git" {
        let (e, c) = (required("--env", env)?, required("--component", component)?);
        crate::ingest::git::read(input, &e, &c).map_err(refused)?
    } else {
        let io = |e: std::io::Error| WorkflowError::Read(input.to_path_buf(), e);
        let file = std::fs::File::open(input).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(MAX_INPUT + 1).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() as u64 > MAX_INPUT {
            return Err(WorkflowError::Usage(format!(
                "{}: larger than {} MiB; split the history",
                input.display(),
                MAX_INPUT >> 20
            )));
        }
        let digest = crate::ledger::Hash::of(&[&bytes]).to_hex();
        let observed = match source {
            "helm" => {
                let (e, c) = (required("--env", env)?, required("--component", component)?);
                crate::ingest::helm::parse(&bytes, &e, &c, &digest)
            }
            "kubernetes" => crate::ingest::kubernetes::parse(&bytes, env, component, &digest),
            "argocd" => crate::ingest::argocd::parse(&bytes, env, component, &digest),
            "github" => crate::ingest::github::parse(&bytes, env, component, &digest),
            _ => {
                let c = required("--component", component)?;
                crate::ingest::gitlab::parse(&bytes, env, &c, &digest)
            }
        }
        .map_err(refused)?;
        (observed, digest)
    };
    let mut envs: Vec<String> = observed.iter().map(|o| o.env.clone()).collect();
    let mut components: Vec<String> = observed.iter().map(|o| o.component.clone()).collect();
    for list in [&mut envs, &mut components] {
        list.sort();
        list.dedup();
    }
    let mut session = ctx.session(signer)?;
    let known = recorded_keys(&session.ledger)?;
    let by = session.signer.public();
    let domain = session.ledger.domain();
    let mut report = Ingested { seen: observed.len(), input_sha256: digest, envs, components, ..Default::default() };
    let fresh: Vec<Observed> = observed
        .into_iter()
        .filter(|o| !known.get(&o.identity()).is_some_and(|seen| seen.iter().any(|e| o.says_no_more_than(e))))
        .collect();
    report.already = report.seen - fresh.len();
    // Every entry is checked to fit before the first batch is committed: a refusal in a later batch would
    // leave the earlier ones recorded (a field of the input too long for an entry, say). The statement of
    // an observation is its JSON and a head of fixed fields (under 1 KiB), so only one whose JSON comes
    // near the limit is made in full to be measured.
    for o in &fresh {
        if serde_json::to_vec(o)?.len() + 1024 > crate::ledger::statement::MAX_STATEMENT_LEN {
            let st = Statement::new_at(OBSERVED, &by, serde_json::to_value(o)?, &[], crate::workflow::clock::now());
            if let Err(e) = st.canonical_bytes() {
                return Err(WorkflowError::Usage(format!(
                    "ingest {source}: the deployment {} of {} in {} cannot be recorded ({e}); nothing was recorded",
                    crate::text::safe(&crate::ingest::bounded(&o.revision)),
                    crate::text::safe(&crate::ingest::bounded(&o.component)),
                    crate::text::safe(&crate::ingest::bounded(&o.env)),
                )));
            }
        }
    }
    let mut new_rollbacks = Vec::new();
    for chunk in fresh.chunks(BATCH) {
        let size = session.ledger.size(&session.ledger.own_origin().clone())?;
        let mut floor = session.ledger.time_floor_ms()?;
        let mut statements: Vec<Statement> = Vec::with_capacity(chunk.len());
        for o in chunk {
            let now = crate::ledger::pos::stamp_after(crate::workflow::clock::now().timestamp_millis(), floor);
            floor = now;
            let at = chrono::DateTime::from_timestamp_millis(now).unwrap_or_else(crate::workflow::clock::now);
            statements.push(Statement::new_at(OBSERVED, &by, serde_json::to_value(o)?, &[], at));
        }
        let signed = crate::ledger::statement::sign_all(&statements, session.signer.signing_key(), &domain)?;
        session.append_checked(&signed, size)?;
        report.recorded += chunk.len();
        report.rollbacks += chunk.iter().filter(|o| o.rollback).count();
        new_rollbacks.extend(signed.iter().zip(chunk).filter(|(_, o)| o.rollback).map(|(s, _)| s.id));
    }
    drop(session);
    // Committed: escalate the new rollbacks no request accounts for, or that none cleared.
    crate::workflow::notify::ingested(ctx, &new_rollbacks);
    Ok(report)
}

/// Every deployment recorded so far by a member whose entries count, as observed, by identity
/// (`Observed::identity`).
type Recorded = HashMap<crate::ingest::Identity, Vec<Observed>>;

fn recorded_keys(ledger: &crate::ledger::Ledger) -> Result<Recorded, WorkflowError> {
    let mut keys = Recorded::new();
    crate::workflow::reconcile::each_recorded(ledger, |o| {
        keys.entry(o.observed.identity()).or_default().push(o.observed);
    })?;
    Ok(keys)
}

/// The observed deployment whose entry id starts with `prefix` (at least 4 hex characters, unique), and
/// the time the revision it moved away from was deployed, when that deployment was observed too: what
/// `request new --from-observed` fills a record from.
pub fn observed(ctx: &Context, prefix: &str) -> Result<(EntryId, Observed, Option<String>), WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let p = prefix.trim();
    if p.len() < 4 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WorkflowError::Usage(format!(
            "{:?} is not an observation id: give at least 4 hex characters of it (see `rollcall log --kind {OBSERVED} --after 0`)",
            crate::text::safe(p)
        )));
    }
    let id = match ledger.ids_with_prefix(OBSERVED, p, 2)?.as_slice() {
        [one] => *one,
        [] => return Err(WorkflowError::NotFound(format!("no observed deployment has an id starting with {p}"))),
        _ => return Err(WorkflowError::Usage(format!("{p} matches more than one observation; give more characters"))),
    };
    let row = ledger.entry(&id)?.ok_or_else(|| WorkflowError::NotFound(format!("observation {p} is not stored")))?;
    let st = row.entry.statement().map_err(|e| WorkflowError::Usage(format!("observation {p}: {e}")))?;
    let roster = crate::identity::roster::Roster::from_ledger(&ledger)?;
    if !crate::ledger::PublicKey::parse(&st.actor).is_some_and(|k| roster.is_active(&k, row.pos)) {
        return Err(WorkflowError::Refused(format!(
            "observation {p} does not count: {} (see `rollcall verify`)",
            crate::ledger::PublicKey::parse(&st.actor)
                .map(|k| roster.signer_problem(&k, row.pos))
                .unwrap_or_else(|| "its signer is not a key".into())
        )));
    }
    let o: Observed =
        serde_json::from_value(st.body).map_err(|e| WorkflowError::Usage(format!("observation {p}: {e}")))?;
    // When the revision it moved away from was deployed, if that deployment was observed too.
    let mut deployed_at = None;
    if let Some(from) = &o.from {
        let wanted = (o.source.clone(), o.env.clone(), o.component.clone(), from.clone());
        crate::workflow::reconcile::each_observation(&ledger, |prev| {
            if prev.observed.key() == wanted {
                deployed_at = Some(prev.observed.at);
            }
        })?;
    }
    Ok((id, o, deployed_at))
}
