//! Read-only questions: one request in full (`show`), whether it may run now (`gate`), the list of
//! requests, open obligations, the people enrolled, and the policy in force.

use super::index;
use super::state::{Snapshot, evaluate_now, load_view, resolve_request};
use crate::audit::RequestView;
use crate::audit::projection::Obligation;
use crate::identity::roster::{Member, Pending};
use crate::ledger::EntryId;
use crate::policy::evaluate::Evaluation;
use crate::workflow::clock;
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Utc};

/// A request with its evaluation now.
pub struct Shown {
    pub view: RequestView,
    pub eval: Evaluation,
    pub assessment: super::assess::Assessment,
    pub obligations: Vec<Obligation>,
    pub now: DateTime<Utc>,
    /// The roster and policies it was evaluated under (shared by the requests one question weighs).
    pub snap: std::sync::Arc<Snapshot>,
}

impl Shown {
    /// At its first counted run: when, the approvals that counted for it, and the approvals needed
    /// ([`super::facts::approvals_at_run`]). Worked out when asked (`show` asks; the gate, which weighs
    /// every request naming a change, does not).
    pub fn approvals_at_run(&self) -> Option<(DateTime<Utc>, usize, u32)> {
        super::facts::approvals_at_run(&self.view, &self.eval, &self.assessment, &self.snap)
    }
}

/// Everything about request `req`, evaluated now, decided from its signed entries.
pub fn show(ctx: &Context, req: &str) -> Result<Shown, WorkflowError> {
    answer(ctx, req, None)
}

/// [`show`], from the ledger with id `pin` only when given ([`pinned`], checked before the request is
/// looked up).
fn answer(ctx: &Context, req: &str, pin: Option<&crate::ledger::Hash>) -> Result<Shown, WorkflowError> {
    answer_on(&ctx.open_read_only()?, ctx, req, pin)
}

/// [`answer`] from `ledger` (opened read-only from `ctx`).
fn answer_on(
    ledger: &crate::ledger::Ledger,
    ctx: &Context,
    req: &str,
    pin: Option<&crate::ledger::Hash>,
) -> Result<Shown, WorkflowError> {
    let checked = match pin {
        Some(want) => {
            let snap = std::sync::Arc::new(Snapshot::load(ledger)?);
            pinned(ctx, &snap, ledger, want)?;
            Some(snap)
        }
        None => None,
    };
    let id = resolve_request(ledger, req)?;
    let snap = match checked {
        Some(snap) => snap,
        None => std::sync::Arc::new(Snapshot::load(ledger)?),
    };
    // What the gate weighs beyond the policy, so that `show` and the console's detail say what `gate` says.
    let (now, stuck) = decision_time(ledger, &snap)?;
    let mut s = shown(ledger, snap, &id, now)?;
    weigh_copies(ledger, &mut s)?;
    weigh_changeset(&mut s);
    weigh_clock(&mut s, stuck.as_deref());
    Ok(s)
}

/// Request `id` loaded from its checked rows and evaluated at `now`.
fn shown(
    ledger: &crate::ledger::Ledger,
    snap: std::sync::Arc<Snapshot>,
    id: &EntryId,
    now: DateTime<Utc>,
) -> Result<Shown, WorkflowError> {
    let view = load_view(ledger, &snap, id)?;
    let judged = evaluate_now(ledger, &view, &snap, now)?;
    let obligations = view.obligations(now);
    Ok(Shown { view, eval: judged.eval, assessment: judged.assessment, obligations, now, snap })
}

/// A ledger id given on the command line (`--ledger-id`: 64 hex characters, as `rollcall verify` prints it).
pub(crate) fn ledger_id_arg(s: &str) -> Result<crate::ledger::Hash, WorkflowError> {
    crate::ledger::Hash::from_hex(&s.trim().to_ascii_lowercase()).ok_or_else(|| {
        WorkflowError::Usage(format!(
            "--ledger-id {:?} is not a ledger id (64 hex characters, as `rollcall verify` prints it)",
            crate::text::safe(s)
        ))
    })
}

/// Refuses to answer from a ledger other than the one `want` names (`gate --ledger-id`): a job pinned to
/// its team's ledger never gates from a file swapped in beside it (a ledger of someone's own making, with
/// every role theirs). The id is the genesis entry's, as the roster checked it (its stored statement hashes
/// to its id and its signature holds), and the metadata must say the same: the metadata alone is an
/// unsigned row anyone can set. A file holding the team's genesis holds no one else's governance.
fn pinned(
    ctx: &Context,
    snap: &Snapshot,
    ledger: &crate::ledger::Ledger,
    want: &crate::ledger::Hash,
) -> Result<(), WorkflowError> {
    let path = ctx.ledger_path.display();
    match snap.roster.genesis().map(|(id, _)| *id) {
        Some(genesis) if genesis == *want && ledger.ledger_id() == *want => Ok(()),
        Some(genesis) if genesis == *want => Err(WorkflowError::Refused(format!(
            "{path} holds the genesis of ledger {}, but its metadata names ledger {} (a damaged or altered \
             file); not gating",
            want.to_hex(),
            ledger.ledger_id().to_hex()
        ))),
        Some(genesis) => Err(WorkflowError::Refused(format!(
            "{path} is ledger {}, not ledger {} (--ledger-id); not gating",
            genesis.to_hex(),
            want.to_hex()
        ))),
        None => Err(WorkflowError::Refused(format!(
            "{path} has no genesis entry that checks, so it is not ledger {} (--ledger-id); not gating",
            want.to_hex()
        ))),
    }
}

/// The gate: whether the revert of `req` may run now, with the checklist; with `pin`, only from the ledger
/// with that id ([`pinned`]). With `component` and `env`, a caller that knows what it rolls back and where
/// has the gate block unless the request's current record names them (checklist items `component` and
/// `environment`), read from the checked entries like every other item, never from the request index.
pub fn gate(
    ctx: &Context,
    req: &str,
    pin: Option<&str>,
    asked: Asked<'_>,
    env: Option<&str>,
) -> Result<Shown, WorkflowError> {
    if let Some(why) = clock::gate_refused() {
        return Err(WorkflowError::Usage(why));
    }
    asked.check()?;
    if env.is_some_and(|e| e.trim().is_empty()) {
        return Err(WorkflowError::Usage("--env must not be empty".into()));
    }
    let pin = pin.map(ledger_id_arg).transpose()?;
    let ledger = ctx.open_read_only()?;
    let mut s = answer_on(&ledger, ctx, req, pin.as_ref())?;
    if let Some(e) = env {
        weigh_env(&mut s, e);
    }
    asked.weigh(&mut s);
    Ok(s)
}

/// What a caller of the gate says it rolls back beyond the request (`--component`, `--to`): each given is a
/// checklist item the request must meet.
#[derive(Clone, Copy, Debug, Default)]
pub struct Asked<'a> {
    pub component: Option<&'a str>,
    pub to: Option<&'a str>,
}

impl Asked<'_> {
    /// Refuses a blank value (a template that rendered to nothing is a mistake, not "no check").
    fn check(&self) -> Result<(), WorkflowError> {
        component_arg(self.component)?;
        if self.to.is_some_and(|t| t.trim().is_empty()) {
            return Err(WorkflowError::Usage("--to must not be empty".into()));
        }
        Ok(())
    }

    fn weigh(&self, s: &mut Shown) {
        if let Some(c) = self.component {
            weigh_component(s, c);
        }
        if let Some(t) = self.to {
            weigh_target(s, t);
        }
    }
}

/// Adds the checklist item `target` for a caller that rolls back to `asked`: met when it is the revision
/// the request's current record returns to (`revert.to`): equal; or, for commit ids, one an abbreviation of
/// the other of at least 16 hex digits (7 are ground out in seconds, 12 in GPU-hours: a commit made to share
/// a request's short target would meet it); or, for numbers, equal without leading zeros. A branch or tag
/// name matches only itself, wherever it points now. Else the gate blocks.
fn weigh_target(s: &mut Shown, asked: &str) {
    let held = s.view.record().revert.to.trim().to_string();
    let met = same_target(&held, asked.trim());
    let detail = if met {
        format!("the request returns to {}", crate::text::safe(&held))
    } else {
        format!(
            "the request returns to {}, not {} (an approval covers the revision it names)",
            crate::text::safe(&held),
            crate::text::safe(asked.trim())
        )
    };
    weigh(s, "target", met, detail);
}

/// Adds the checklist item `copies` when an entry the verdict rests on (the request's own entries and every
/// governance entry) is held by several logs and no acknowledgment closes that: the gate then blocks. A log
/// appends only what its machine signs, and a copy can move an entry in the ledger's order (an execution
/// copied into a log that had not seen the approvals is judged there and stops counting, and the approved
/// request would open the gate again); nothing in the file says which leaf is the original, so no verdict
/// that could pass is given until the copy is investigated and acknowledged (`rollcall verify` names it).
fn weigh_copies(ledger: &crate::ledger::Ledger, s: &mut Shown) -> Result<(), WorkflowError> {
    // The request's entries as the fold met them (every row it read, the request first: not read again).
    let mut ids: Vec<EntryId> = s.view.timeline.iter().map(|t| t.id).collect();
    ids.extend(ledger.entries_of_kinds(&crate::identity::kinds::GOVERNANCE_KINDS)?.iter().map(|r| r.entry.id));
    ids.sort();
    ids.dedup();
    let copies = ledger.several_leaves_of(&ids)?;
    if copies.is_empty() {
        return Ok(());
    }
    let evidence = copies.iter().map(|(id, leaves)| super::witness::copy_evidence(*id, leaves)).collect();
    let (open, _) = super::witness::split_equivocations(ledger, evidence, &s.snap.roster)?;
    let Some(first) = open.first() else { return Ok(()) };
    let detail = format!(
        "{} entr{} this verdict rests on {} held by several logs (first {}): a copy can move an entry in the \
         ledger's order; `rollcall verify` names {}, an admin or security approver acknowledges once investigated",
        open.len(),
        if open.len() == 1 { "y" } else { "ies" },
        if open.len() == 1 { "is" } else { "are" },
        crate::text::prefix(first.ours.lines().next().unwrap_or(""), 12),
        if open.len() == 1 { "it" } else { "them" },
    );
    weigh(s, "copies", false, detail);
    Ok(())
}

/// Adds checklist item `id` to what the gate weighed beyond the policy: met, or the gate blocks.
fn weigh(s: &mut Shown, id: &'static str, met: bool, detail: String) {
    if !met {
        s.eval.gate = false;
    }
    s.eval.checklist.push(crate::policy::evaluate::Item { id, met, waived: false, detail });
}

/// Adds the checklist item `changeset` when the request names a change set whose bytes this ledger cannot
/// read (not here, not matching their digest, not a change set): its flags, and the risk tier they raise,
/// cannot be assessed, so the gate blocks. A machine given a bundle without blobs (`export --no-blobs`)
/// would otherwise ask fewer approvals than the machines that hold the bytes: a flag left out asks less.
fn weigh_changeset(s: &mut Shown) {
    let Some(problem) = &s.assessment.changeset_problem else { return };
    let detail = format!(
        "{}: its security flags and risk cannot be assessed here (sync or import a bundle that carries it)",
        crate::text::safe(problem)
    );
    weigh(s, "changeset", false, detail);
}

/// When the gate decides ([`clock::decision_now`]), and why this machine cannot record a run now, if it
/// cannot ([`clock::cannot_record`]; [`weigh_clock`] says it).
fn decision_time(
    ledger: &crate::ledger::Ledger,
    snap: &Snapshot,
) -> Result<(DateTime<Utc>, Option<String>), WorkflowError> {
    let skew = snap.roster.max_clock_skew_seconds();
    Ok((clock::decision_now(ledger, skew)?, clock::cannot_record(ledger, skew)?))
}

/// Adds the checklist item `clock`, unmet, when this machine cannot record a run now
/// ([`clock::cannot_record`]): a gate that passed would let a revert run that `execute` then refuses to
/// record, and the run recorded later would be judged later.
fn weigh_clock(s: &mut Shown, stuck: Option<&str>) {
    if let Some(why) = stuck {
        weigh(s, "clock", false, why.to_string());
    }
}

/// Adds the checklist item `environment` for a caller that rolls back in `asked`: met when the request's
/// current record is for it (compared as the policy compares environments); else the gate blocks.
fn weigh_env(s: &mut Shown, asked: &str) {
    let held = &s.view.record().env;
    let met = crate::audit::record::same_env(held, asked);
    let detail = if met {
        format!("the request is for {}", crate::text::safe(held.trim()))
    } else {
        format!("the request is for {}, not {}", crate::text::safe(held.trim()), crate::text::safe(asked.trim()))
    };
    weigh(s, "environment", met, detail);
}

/// Why a request listing `components` does not roll back `asked`, or `None` when it lists it. Names are
/// compared as `reconcile` compares them: without case and surrounding whitespace.
pub(crate) fn other_component(components: &[String], asked: &str) -> Option<String> {
    use super::reconcile::norm;
    let asked_norm = norm(asked);
    if components.iter().any(|c| norm(c) == asked_norm) {
        return None;
    }
    let listed = if components.is_empty() {
        "no component".to_string()
    } else {
        components.iter().map(|c| crate::text::safe(c)).collect::<Vec<_>>().join(", ")
    };
    Some(format!("the request reverts {listed}, not {}", crate::text::safe(asked.trim())))
}

/// A component named by a caller: refused blank (it would name none, and block or refuse everything).
pub(crate) fn component_arg(component: Option<&str>) -> Result<(), WorkflowError> {
    match component {
        Some(c) if c.trim().is_empty() => Err(WorkflowError::Usage("--component must not be empty".into())),
        _ => Ok(()),
    }
}

/// Adds the checklist item `component` to what the gate weighed for a caller that rolls back `asked`: met
/// when the request lists it; else the gate blocks.
fn weigh_component(s: &mut Shown, asked: &str) {
    let why = other_component(&s.view.record().components, asked);
    let met = why.is_none();
    weigh(
        s,
        "component",
        met,
        why.unwrap_or_else(|| format!("the request reverts {}", crate::text::safe(asked.trim()))),
    );
}

/// Whether `asked` is the revision `held` names ([`weigh_target`]).
fn same_target(held: &str, asked: &str) -> bool {
    let hex = |s: &str| s.len() >= 7 && s.bytes().all(|c| c.is_ascii_hexdigit());
    if hex(held) && hex(asked) {
        let (h, a) = (held.to_ascii_lowercase(), asked.to_ascii_lowercase());
        return h == a || (h.len().min(a.len()) >= 16 && (h.starts_with(&a) || a.starts_with(&h)));
    }
    super::reconcile::same_revision(held, asked) == Some(true)
}

/// What `gate --change C --env E` weighed: every request whose current record reverts change C in
/// environment E, evaluated now, those the policy lets run first (then in the order they were filed); and
/// requests whose change only names C in part (a short commit id of it, or C a short id of theirs), which
/// the gate does not count but names, so that the caller can give the id the request holds.
pub struct ByChange {
    pub matched: Vec<Shown>,
    pub near: Vec<(EntryId, String)>,
    /// Requests naming the change whose rows fail their check or cannot be folded, with why (sanitized):
    /// they count for nothing.
    pub unreadable: Vec<(EntryId, String)>,
    /// When they were evaluated.
    pub now: DateTime<Utc>,
}

/// Whether a request's `change` names exactly `asked`: equal, or equal ignoring case when both are hex (a
/// commit id). `Some(false)`: one only starts the other (hex of 7+ characters, a short commit id).
fn names_change(held: &str, asked: &str) -> Option<bool> {
    let hex = |s: &str| s.len() >= 7 && s.bytes().all(|c| c.is_ascii_hexdigit());
    let (held, asked) = (held.trim(), asked.trim());
    if held == asked || (hex(held) && hex(asked) && held.eq_ignore_ascii_case(asked)) {
        return Some(true);
    }
    if hex(held) && hex(asked) {
        let (h, a) = (held.to_ascii_lowercase(), asked.to_ascii_lowercase());
        if h.starts_with(&a) || a.starts_with(&h) {
            return Some(false);
        }
    }
    None
}

/// The gate for a CD tool that knows what it reverts and where, not the request: the requests to revert
/// `change` in `env`. They are found by reading every signed request and amendment (not the request
/// index, a cache), then each is loaded from its checked rows, like `gate REQ`, and kept only when its
/// current record (an amendment may have changed it) still names that change and environment.
pub fn gate_by_change(
    ctx: &Context,
    change: &str,
    env: &str,
    pin: Option<&str>,
    asked: Asked<'_>,
) -> Result<ByChange, WorkflowError> {
    use crate::audit::kinds::{AMENDED, REQUESTED};
    if let Some(why) = clock::gate_refused() {
        return Err(WorkflowError::Usage(why));
    }
    let pin = pin.map(ledger_id_arg).transpose()?;
    #[derive(serde::Deserialize)]
    struct Target {
        change: String,
        env: String,
    }
    #[derive(serde::Deserialize)]
    struct Amended {
        request: String,
        record: Target,
    }
    if change.trim().is_empty() || env.trim().is_empty() {
        return Err(WorkflowError::Usage("--change and --env must not be empty".into()));
    }
    asked.check()?;
    let ledger = ctx.open_read_only()?;
    // Every request any of whose versions names the change, in environment `env`; a row that cannot be
    // read is no candidate (the gate then blocks, as for a request it does not find).
    // A statement that does not hold the change (its first seven characters, for a commit id, in any case)
    // cannot name it: passed over unread, which saves parsing nearly every request.
    let hex = change.trim().len() >= 7 && change.trim().bytes().all(|c| c.is_ascii_hexdigit());
    let needle: Vec<u8> = if hex {
        change.trim().as_bytes()[..7].to_ascii_lowercase()
    } else {
        serde_json::to_string(change.trim())?.trim_matches('"').as_bytes().to_vec()
    };
    let may_name = |bytes: &[u8]| {
        if hex {
            bytes.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(&needle))
        } else {
            memchr::memmem::find(bytes, &needle).is_some()
        }
    };
    let mut found: Vec<EntryId> = Vec::new();
    ledger.visit_kinds(&[REQUESTED, AMENDED], |row| -> Result<(), WorkflowError> {
        // A statement with an escape may spell the change in it (JSON need not be canonical): read it.
        if memchr::memchr(b'\\', &row.entry.bytes).is_none() && !may_name(&row.entry.bytes) {
            return Ok(());
        }
        let Ok(fact) = super::state::fact_of(&row) else { return Ok(()) };
        let (request, target) = if fact.kind == REQUESTED {
            let Ok(t) = fact.body.read::<Target>() else { return Ok(()) };
            (Some(fact.id), t)
        } else {
            let Ok(a) = fact.body.read::<Amended>() else { return Ok(()) };
            (crate::ledger::Hash::from_hex(&a.request), a.record)
        };
        if let Some(id) = request
            && crate::audit::record::same_env(&target.env, env)
            && names_change(&target.change, change).is_some()
        {
            found.push(id);
        }
        Ok(())
    })?;
    found.sort();
    found.dedup();
    let snap = std::sync::Arc::new(Snapshot::load(&ledger)?);
    let (now, stuck) = decision_time(&ledger, &snap)?;
    if let Some(want) = &pin {
        pinned(ctx, &snap, &ledger, want)?;
    }
    let (mut matched, mut near, mut unreadable) = (Vec::new(), Vec::new(), Vec::new());
    for id in &found {
        // An amendment may name anything (a member signs what they like): only a request is weighed.
        if ledger.entry(id)?.is_none_or(|row| row.kind != REQUESTED) {
            continue;
        }
        let mut s = match shown(&ledger, snap.clone(), id, now) {
            Ok(s) => s,
            // The file or the disk failing decides nothing: said as such.
            Err(e @ WorkflowError::Ledger(_)) => return Err(e),
            // A request whose rows fail their check or cannot be folded (a member signs what they like)
            // counts for nothing, and does not keep the others from being weighed: named, with why.
            Err(e) => {
                unreadable.push((*id, crate::text::safe(&e.to_string())));
                continue;
            }
        };
        weigh_copies(&ledger, &mut s)?;
        weigh_changeset(&mut s);
        weigh_clock(&mut s, stuck.as_deref());
        asked.weigh(&mut s);
        let record = s.view.record();
        match names_change(&record.change, change) {
            Some(true) if crate::audit::record::same_env(&record.env, env) => matched.push(s),
            Some(false) if crate::audit::record::same_env(&record.env, env) => near.push((*id, record.change.clone())),
            _ => {}
        }
    }
    matched.sort_by_key(|s| (!s.eval.gate, s.view.pos));
    Ok(ByChange { matched, near, unreadable, now })
}

pub use super::index::Filter;

/// Requests matching `filter`, most recent first.
pub fn list(ctx: &Context, filter: &Filter) -> Result<Vec<index::Row>, WorkflowError> {
    let ledger = ctx.open()?;
    index::refresh(&ledger, clock::now())?;
    index::query(&ledger, filter)
}

/// [`list`] one row at a time, in bounded memory; `passes` walks over the same rows (a table's column
/// widths are measured in the first).
pub(crate) fn list_each(
    ctx: &Context,
    filter: &Filter,
    passes: usize,
    mut visit: impl FnMut(usize, index::Row) -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    let ledger = ctx.open()?;
    index::refresh(&ledger, clock::now())?;
    // One read transaction: every pass sees the same rows.
    let tx = ledger.cache_conn().unchecked_transaction()?;
    for pass in 0..passes {
        index::query_each(&ledger, filter, |r| visit(pass, r))?;
    }
    tx.finish()?;
    Ok(())
}

/// An obligation with its request's title.
pub(crate) struct OpenObligation {
    pub obligation: Obligation,
    pub title: String,
}

/// Open obligations (only overdue ones with `overdue_only`), soonest due first.
pub(crate) fn obligations(ctx: &Context, overdue_only: bool) -> Result<Vec<OpenObligation>, WorkflowError> {
    let ledger = ctx.open()?;
    let now = clock::now();
    index::refresh(&ledger, now)?;
    obligations_in(&ledger, now, overdue_only)
}

/// [`obligations`] on an open ledger whose request index is current (the console's, which may be
/// read-only).
pub(crate) fn obligations_in(
    ledger: &crate::ledger::Ledger,
    now: DateTime<Utc>,
    overdue_only: bool,
) -> Result<Vec<OpenObligation>, WorkflowError> {
    let snap = Snapshot::load(ledger)?;
    let mut out = Vec::new();
    for id in index::with_obligations(ledger)? {
        let view = load_view(ledger, &snap, &id)?;
        for o in view.obligations(now) {
            if !overdue_only || o.overdue {
                out.push(OpenObligation { obligation: o, title: view.record().title.clone() });
            }
        }
    }
    out.sort_by_key(|o| o.obligation.due);
    Ok(out)
}

/// The roster: members and pending governance changes.
pub(crate) fn members(ctx: &Context) -> Result<(Vec<Member>, Vec<Pending>, crate::ledger::Pos), WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let snap = Snapshot::load(&ledger)?;
    let mut members: Vec<Member> = snap.roster.members().cloned().collect();
    members.sort_by(|a, b| a.name.cmp(&b.name).then(a.since.cmp(&b.since)));
    Ok((members, snap.roster.pending().cloned().collect(), snap.next))
}

/// Every policy adopted, oldest first: its entry, the log index from which it was in force, its text.
pub(crate) fn policy_versions(ledger: &crate::ledger::Ledger) -> Result<Vec<(EntryId, u64, String)>, WorkflowError> {
    let snap = Snapshot::load(ledger)?;
    Ok(snap
        .roster
        .policies()
        .iter()
        .map(|p| (p.id, crate::ledger::pos::index_of(p.pos), p.text.toml.clone()))
        .collect())
}

/// The members on an open ledger, by name, with the log's next position (what "active" is judged at).
pub(crate) fn members_in(ledger: &crate::ledger::Ledger) -> Result<(Vec<Member>, crate::ledger::Pos), WorkflowError> {
    let snap = Snapshot::load(ledger)?;
    let mut members: Vec<Member> = snap.roster.members().cloned().collect();
    members.sort_by(|a, b| a.name.cmp(&b.name).then(a.since.cmp(&b.since)));
    Ok((members, snap.next))
}

/// The policy in force: its entry id, the position it took effect, and its text.
pub(crate) fn policy_in_force(ctx: &Context) -> Result<(EntryId, crate::ledger::Pos, String), WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let snap = Snapshot::load(&ledger)?;
    let p = snap
        .roster
        .policy_at(crate::ledger::POS_MAX)
        .ok_or_else(|| WorkflowError::NotFound("the ledger has no policy".into()))?;
    Ok((p.id, p.pos, p.text.toml.clone()))
}

#[cfg(test)]
mod tests {
    use super::{component_arg, names_change, other_component, same_target};

    #[test]
    fn a_target_matches_exactly_or_by_a_long_abbreviation() {
        let full = "0123456789abcdef0123456789abcdef01234567";
        assert!(same_target(full, &full.to_uppercase()));
        assert!(same_target(full, &full[..16]) && same_target(&full[..16], full));
        assert!(!same_target(full, &full[..15]), "7 to 15 hex digits can be ground out");
        assert!(!same_target(&full[..7], full));
        assert!(same_target("41", "041") && !same_target("41", "40"));
        assert!(same_target("v1.2.3", "v1.2.3") && !same_target("v1.2.3", "v1.2"));
    }

    #[test]
    fn a_change_is_named_exactly_hex_without_case_and_a_short_commit_only_in_part() {
        let full = "c0c767c533d5f2c4d9829bbb9aa76305217f8fdf";
        assert_eq!(names_change("deploy-4411", "deploy-4411"), Some(true));
        assert_eq!(names_change(" deploy-4411", "deploy-4411 "), Some(true));
        assert_eq!(names_change("Deploy-4411", "deploy-4411"), None, "only hex ignores case");
        assert_eq!(names_change(full, &full.to_ascii_uppercase()), Some(true));
        assert_eq!(names_change(&full[..12], full), Some(false));
        assert_eq!(names_change(full, &full[..7]), Some(false));
        assert_eq!(names_change(full, &full[..6]), None, "six characters name no commit");
        assert_eq!(names_change("deploy-441", "deploy-4411"), None, "a prefix that is not hex is another change");
        assert_eq!(names_change("", ""), Some(true));
    }

    #[test]
    fn a_component_is_named_without_case_and_the_refusal_shows_what_is_listed() {
        let listed = vec!["payments-api".to_string(), " Edge ".to_string()];
        assert_eq!(other_component(&listed, " PAYMENTS-api"), None);
        assert_eq!(other_component(&listed, "edge"), None);
        // ASCII case only: a name that only looks like another (the Kelvin sign) is another.
        assert!(other_component(&["\u{212A}afka".to_string()], "kafka").is_some());
        assert_eq!(other_component(&["Kafka".to_string()], "kafka"), None);
        assert_eq!(
            other_component(&listed, "billing\u{1b}[2J").as_deref(),
            Some("the request reverts payments-api,  Edge , not billing<U+001B>[2J")
        );
        assert_eq!(other_component(&[], "api").as_deref(), Some("the request reverts no component, not api"));
        assert!(component_arg(Some(" ")).is_err() && component_arg(Some("api")).is_ok() && component_arg(None).is_ok());
    }
}
