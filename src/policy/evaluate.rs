//! Evaluation: the policy applied to a request's view, the roster and a moment in time. It returns the
//! checklist that the TUI shows and `gate` prints — every requirement met or not, with the reason — the
//! tally of decisions that count (and why the others do not), and the request's status. It also supplies
//! the lifecycle rules (who may do what) that the projection applies to each entry.
//!
//! Over 600 lines with its tests (~600 of code): the checklist, the tally and `PolicyRules` share the
//! helpers that decide who counts; `permission` and `signer_problem` are the parts the console calls.

use super::Policy;
use super::model::RejectionLift;
use crate::audit::bodies::{Decision, DecisionBody};
use crate::audit::projection::{Action, EvidenceRec, Fact, Phase, Rec, Refusal, RequestView, Rules, Status};
use crate::identity::{MemberId, Roster};
use crate::ledger::{EntryId, Hash, POS_MAX, Pos, PublicKey};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Every adopted policy, parsed, with the position it took effect.
#[derive(Clone, Debug)]
pub struct Policies {
    list: Vec<(Pos, EntryId, Policy)>,
    causal: std::sync::Arc<crate::ledger::causal::Causality>,
}

impl Policies {
    /// Parses every policy the roster has seen adopted. A text that no longer parses (written by a
    /// newer rollcall) falls back to the built-in default, which is reported by `policy show`.
    pub(crate) fn from_roster(roster: &Roster) -> Policies {
        let default = Policy::parse(super::DEFAULT_POLICY).expect("the built-in policy parses");
        let list = roster
            .policies()
            .iter()
            .map(|p| (p.pos, p.id, Policy::parse(&p.text.toml).unwrap_or_else(|_| default.clone())))
            .collect::<Vec<_>>();
        let list = if list.is_empty() { vec![(0, Hash([0; 32]), default)] } else { list };
        Policies { list, causal: roster.causal_order() }
    }

    /// The policy in force at `pos`, with its entry id: the latest adopted in its causal past.
    pub fn at(&self, pos: Pos) -> (&EntryId, &Policy) {
        let (_, id, p) = self.list.iter().rev().find(|(p, _, _)| self.causal.before(*p, pos)).unwrap_or(&self.list[0]);
        (id, p)
    }

    /// The policy in force now.
    pub fn current(&self) -> (&EntryId, &Policy) {
        self.at(POS_MAX)
    }
}

/// One requirement of the checklist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Stable id: state, approvals, required-roles, rejections, evidence, window, temporary; and
    /// `component`, added by a gate asked for one (`gate --component`).
    pub id: &'static str,
    pub met: bool,
    /// Met because an emergency waives it.
    pub waived: bool,
    pub detail: String,
}

/// A decision and whether it counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    pub entry: EntryId,
    pub actor: PublicKey,
    pub name: String,
    pub decision: Decision,
    pub ts: DateTime<Utc>,
    /// `None` when it counts; otherwise why not.
    pub excluded: Option<String>,
}

/// The policy's verdict on a request at a moment.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub status: Status,
    pub tier: String,
    pub policy: EntryId,
    pub need: u32,
    /// Distinct keys whose approval counts.
    pub approvals: Vec<PublicKey>,
    pub decisions: Vec<Counted>,
    pub required_missing: Vec<String>,
    pub evidence_missing: Vec<String>,
    pub checklist: Vec<Item>,
    /// Whether the revert may run now.
    pub gate: bool,
    /// For a request in the emergency phase, when its emergency stops (or stopped) waiving under the policy
    /// applied: `emergency.waives_for_hours` after it, or its invocation when that policy does not let its
    /// signer invoke one (`None`: another status, or it never lapses).
    pub waiver_ends: Option<DateTime<Utc>>,
    /// [`Evaluation::waiver_ends`] when it has passed: the status stays *emergency* (the phase), and lists
    /// show it as *emergency (lapsed)*.
    pub lapsed: Option<DateTime<Utc>>,
}

impl Evaluation {
    pub(crate) fn unmet(&self) -> impl Iterator<Item = &Item> {
        self.checklist.iter().filter(|i| !i.met)
    }

    /// Whether a rejection that counts blocks the request (its checklist item is not met).
    pub(crate) fn rejected(&self) -> bool {
        self.unmet().any(|i| i.id == "rejections")
    }

    /// The status as lists show it: *emergency (lapsed)* once the emergency of a request still in that
    /// phase waives nothing (it has lapsed, or the policy applied does not let its signer invoke one).
    pub fn status_shown(&self) -> &'static str {
        self.status.shown(self.lapsed.is_some())
    }
}

/// The risk tier: the declared risk (security analysis may raise it).
pub(crate) fn tier_of(view: &RequestView, flags_tier: Option<&str>) -> String {
    let declared = view.record().risk.as_str();
    let rank = |t: &str| super::model::TIERS.iter().position(|x| *x == t).unwrap_or(3);
    match flags_tier {
        Some(f) if rank(f) > rank(declared) => f.to_string(),
        _ => declared.to_string(),
    }
}

/// Assigns a distinct approver to each required role (small bipartite matching).
fn cover_roles(required: &[String], approvers: &[(PublicKey, Vec<String>)]) -> Vec<String> {
    fn assign(i: usize, required: &[String], approvers: &[(PublicKey, Vec<String>)], used: &mut Vec<bool>) -> bool {
        if i == required.len() {
            return true;
        }
        for (k, (_, roles)) in approvers.iter().enumerate() {
            if !used[k] && roles.contains(&required[i]) {
                used[k] = true;
                if assign(i + 1, required, approvers, used) {
                    return true;
                }
                used[k] = false;
            }
        }
        false
    }
    let mut used = vec![false; approvers.len()];
    if assign(0, required, approvers, &mut used) {
        return Vec::new();
    }
    // Report the roles no approver holds at all, or else all of them (they cannot be covered together).
    let missing: Vec<String> =
        required.iter().filter(|r| !approvers.iter().any(|(_, roles)| roles.contains(r))).cloned().collect();
    if missing.is_empty() { required.to_vec() } else { missing }
}

/// Whether evidence `e` is of `kind` and says what that kind needs (decided from its signed body; opaque
/// evidence only when the policy accepts it).
fn satisfies_kind(e: &EvidenceRec, kind: &str, accept_opaque: bool) -> bool {
    e.rec.body.kind == kind && super::evidence::satisfies(&e.rec.body, accept_opaque).is_ok()
}

/// Why an approval `d` does not count for the evidence it signed, if it does not: evidence attached while
/// the request was open that it did not sign makes it stale (unless that evidence had been purged before
/// it signed, in causal order: `before`), and every kind in `needed` must be satisfied by evidence it
/// signed. A purge the approver's log had not seen (one signed where the approval was not known, at
/// whatever time) does not excuse what the approval did not see.
fn evidence_problem(
    view: &RequestView,
    d: &Rec<DecisionBody>,
    needed: &[String],
    satisfying: &dyn Fn(&EvidenceRec, &str) -> bool,
    before: &dyn Fn(Pos, Pos) -> bool,
) -> Option<String> {
    let signed: Vec<EntryId> = d.body.evidence.iter().filter_map(|h| Hash::from_hex(h)).collect();
    let unseen = view.evidence.iter().find(|e| {
        e.while_open && !signed.contains(&e.rec.id) && e.purged.as_ref().is_none_or(|p| !before(p.pos, d.pos))
    });
    if let Some(e) = unseen {
        return Some(if e.rec.pos > d.pos {
            format!("stale: evidence {} attached after this approval; re-approve", e.rec.id.short(12))
        } else {
            format!("stale: evidence {} is not among the evidence this approval signed; re-approve", e.rec.id.short(12))
        });
    }
    let seen: Vec<&EvidenceRec> =
        view.evidence.iter().filter(|e| before(e.rec.pos, d.pos) && signed.contains(&e.rec.id)).collect();
    let unmet: Vec<&str> =
        needed.iter().filter(|k| !seen.iter().any(|e| satisfying(e, k))).map(String::as_str).collect();
    if unmet.is_empty() {
        None
    } else {
        Some(format!("signed without the required {} evidence; attach it, then approve again", unmet.join(" and ")))
    }
}

/// A security flag raised on the request now that approval `d` did not sign (it lists the flags shown to
/// its signer): a known-bad artifact learned since, a change set read since. An approval counts for what
/// its signer saw, as with evidence. `GATE_BYPASS` is left out: it says an emergency was invoked or
/// evidence is missing, which the fold and the evidence rule weigh themselves.
fn unseen_flag<'f>(d: &Rec<DecisionBody>, flags: &'f [String]) -> Option<&'f str> {
    flags.iter().map(String::as_str).find(|f| *f != "GATE_BYPASS" && !d.body.flags.iter().any(|s| s == f))
}

/// Why a decision by `actor` at `pos` would not count for who signs it — not active then (enrolment,
/// revocation, causally), none of the roles whose decisions count at `tier`, or (an approval) the
/// requester approving their own request or the author of the current revert operation approving it,
/// unless the policy allows it. The evaluation applies this to every decision; [`permission`] asks it
/// before one is signed.
fn signer_problem(
    view: &RequestView,
    ctx: &Context<'_>,
    policy: &Policy,
    tier: &str,
    actor: &PublicKey,
    pos: Pos,
    approve: bool,
) -> Option<String> {
    let rule = policy.tier(tier);
    if !ctx.roster.is_active(actor, pos) {
        // Causal: not enrolled in its past, or revoked in its past or concurrently with it.
        return Some(ctx.roster.signer_problem(actor, pos));
    }
    let held = ctx.roster.roles_at(actor, pos);
    if !held.iter().any(|r| rule.roles.contains(r)) {
        // A rejection counts from a role that decides at any tier: the tier moves with evidence and flags,
        // which any member changes without amending, and a veto must not fall away (or appear) with it.
        let deciders = deciding_roles(policy);
        if approve {
            return Some(format!(
                "holds none of the roles whose decisions count at {tier} risk ({})",
                rule.roles.join(", ")
            ));
        }
        if !held.iter().any(|r| deciders.contains(r)) {
            return Some(format!(
                "holds none of the roles whose decisions count at any risk tier ({})",
                deciders.join(", ")
            ));
        }
    }
    // Separation counts members: a key that replaced the requester's (or the revert author's) is theirs.
    let authored = || view.versions.iter().find(|v| ctx.roster.same_member(&v.actor, actor));
    if approve && !policy.approvals.self_approval && authored().is_some() {
        return Some(match authored() {
            Some(v) if v.id != view.id => {
                format!("amended this request (version {}); the requester may not approve", v.id.short(12))
            }
            _ => "filed this request; self-approval does not count".into(),
        });
    }
    let revert_author = view.revert_author();
    if approve && !policy.approvals.author_may_approve_revert && ctx.roster.same_member(&revert_author.actor, actor) {
        return Some(format!(
            "authored the current revert operation (version {}); its author may not approve it",
            revert_author.id.short(12)
        ));
    }
    None
}

/// The roles that approve at some tier of `policy`, sorted, each once: whose rejection counts (a veto
/// must not fall away when the tier moves).
fn deciding_roles(policy: &Policy) -> Vec<String> {
    let mut all: Vec<String> = super::model::TIERS.iter().flat_map(|t| policy.tier(t).roles.iter().cloned()).collect();
    all.sort();
    all.dedup();
    all
}

/// What a key may be asked to sign on a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Permission {
    /// An approval that would count: an active key holding a role that counts at the request's tier, not
    /// the requester's or the revert's author's (unless the policy allows), with the required evidence
    /// attached.
    Approve,
    /// A rejection that would count: an active key holding a role that decides at any tier.
    Reject,
    Emergency,
    Execute,
    /// A post-hoc or post-incident review: once the revert ran, by any active key.
    Review,
    Close,
}

/// The roles whose holders may sign `what` on a request of `tier` under `policy` (the owner of a request
/// may also close it; a rejection counts from a role that decides at any tier).
pub(crate) fn roles_for(what: Permission, policy: &Policy, tier: &str) -> Vec<String> {
    match what {
        Permission::Approve => policy.tier(tier).roles.clone(),
        Permission::Reject => deciding_roles(policy),
        Permission::Emergency => policy.emergency.may_invoke.clone(),
        Permission::Execute => policy.execution.may_execute.clone(),
        Permission::Review => policy.emergency.may_review.clone().unwrap_or_else(|| policy.tier(tier).roles.clone()),
        Permission::Close => {
            let mut roles = policy.requests.may_manage_any.clone();
            roles.extend(policy.execution.may_execute.iter().cloned());
            roles
        }
    }
}

/// Whether `key` may sign `what` on `view` at `now`, as the next entry at `pos` — decided by the rules
/// the evaluation, the lifecycle fold and `gate` apply (never a copy of them) — and, if not, why. The
/// console offers an action only when this allows it.
pub(crate) fn permission(
    view: &RequestView,
    ctx: &Context<'_>,
    key: &PublicKey,
    what: Permission,
    now: DateTime<Utc>,
    pos: Pos,
) -> Result<(), Refusal> {
    let action = match what {
        Permission::Approve | Permission::Reject => Action::Decide,
        Permission::Emergency => Action::Emergency,
        Permission::Execute => Action::Execute,
        Permission::Review => Action::Review,
        Permission::Close => Action::Close,
    };
    view.admits(action)?;
    if what == Permission::Reject {
        let (_, policy) = ctx.policies.at(pos);
        let tier = tier_of(view, ctx.flags_tier);
        return signer_problem(view, ctx, policy, &tier, key, pos, false).map_or(Ok(()), |p| Err(Refusal(p)));
    }
    if what == Permission::Approve {
        // An approval that would not count is still taken when it lifts a rejection of the signer's member
        // that counts (as `approve` takes it): a rejecter whose approval cannot count here (a role of
        // another tier, an amendment of theirs) could otherwise never lift it.
        let own_rejection = decisions(view, ctx, now, pos)
            .iter()
            .any(|d| d.decision == Decision::Reject && d.excluded.is_none() && ctx.roster.same_member(&d.actor, key));
        if own_rejection {
            return Ok(());
        }
        let (_, policy) = ctx.policies.at(pos);
        let tier = tier_of(view, ctx.flags_tier);
        if let Some(p) = signer_problem(view, ctx, policy, &tier, key, pos, true) {
            return Err(Refusal(p));
        }
        // An approval signs the evidence attached now: the kinds the tier and the flags require must be
        // among it, or the approval would not count (said before anything is typed, not after signing).
        let accept_opaque = policy.evidence.accept_opaque;
        let mut missing: Vec<String> = super::evidence::required(policy, &tier, ctx.flags);
        missing.sort();
        missing.dedup();
        missing.retain(|kind| !view.evidence.iter().any(|e| satisfies_kind(e, kind, accept_opaque)));
        return if missing.is_empty() {
            Ok(())
        } else {
            Err(Refusal(format!(
                "the required {} evidence is missing: an approval now would not count; attach it first",
                missing.join(" and ")
            )))
        };
    }
    // The entry the key would sign, judged as the fold judges it.
    let current = view.current();
    let body = match what {
        // As `rollcall execute` writes it: the current version's revert operation.
        Permission::Execute => serde_json::json!({
            "request": view.id.to_hex(),
            "version": current.id.to_hex(),
            "revert_digest": current.revert_digest,
            "env": current.record.env,
            "from": current.record.revert.from,
            "to": current.record.revert.to,
            "command": current.record.revert.argv,
            "outcome": "succeeded",
        }),
        // A review the queue asks for is the post-hoc one an emergency or a fork owes.
        Permission::Review => serde_json::json!({"kind": "post-hoc"}),
        // As `rollcall emergency` writes it: the review due when the policy in force wants it.
        Permission::Emergency => serde_json::json!({
            "review_due": crate::ledger::statement::format_ts(ctx.policies.at(pos).1.emergency.review_due(now)),
        }),
        _ => serde_json::Value::Null,
    };
    let body = crate::audit::fact_body::Body::of(&body);
    let fact = Fact { pos, index: 0, id: Hash([0; 32]), kind: String::new(), actor: *key, ts: now, body };
    let rules = PolicyRules {
        ctx: Context { roster: ctx.roster, policies: ctx.policies, flags: ctx.flags, flags_tier: ctx.flags_tier },
    };
    rules.allow(action, &fact, view)
}

/// Inputs an evaluation needs besides the view.
pub(crate) struct Context<'a> {
    pub roster: &'a Roster,
    pub policies: &'a Policies,
    /// Ids of the security flags raised for the request's current version.
    pub flags: &'a [String],
    /// Tier computed by the security analysis, if any.
    pub flags_tier: Option<&'a str>,
}

/// The decisions on a request, each with whether it counts at `now` under the policy in force at `pos`:
/// the first part of [`evaluate`], for `verify`, which reports the decisions that do not count and needs
/// none of the checklist.
pub(crate) fn decisions(view: &RequestView, ctx: &Context<'_>, now: DateTime<Utc>, pos: Pos) -> Vec<Counted> {
    let (_, policy) = ctx.policies.at(pos);
    let tier = tier_of(view, ctx.flags_tier);
    let needed = super::evidence::required(policy, &tier, ctx.flags);
    count(view, ctx, policy, &tier, &needed, now, pos).decisions
}

/// What [`count`] found: every decision, and of those that count, the approvers (with their roles) and the
/// names of the rejecters; why each key's latest approval that does not count does not.
struct Tally {
    decisions: Vec<Counted>,
    approvers: Vec<(PublicKey, Vec<String>)>,
    blocking: Vec<String>,
    /// Whether a rejection that counts is a veto (only its signer lifts it, [`RejectionLift::Rejecter`]).
    vetoed: bool,
    not_counted: Vec<String>,
}

/// Counts the decisions on `view` at `now` under `policy`, at risk `tier`, with the evidence kinds `needed`:
/// the latest one per member, each with the reason it does or does not count.
fn count(
    view: &RequestView,
    ctx: &Context<'_>,
    policy: &Policy,
    tier: &str,
    needed: &[String],
    now: DateTime<Utc>,
    pos: Pos,
) -> Tally {
    let current = view.current();
    let digest = &current.revert_digest;
    let accept_opaque = policy.evidence.accept_opaque;
    let satisfying = |e: &EvidenceRec, kind: &str| satisfies_kind(e, kind, accept_opaque);
    // Each key's latest decision, and its latest on a version whose record is the current one's: an
    // amendment that goes back to content a key rejected answers nothing, so that rejection stands for the
    // content until the key decides on it again (approvals still need the current version itself).
    let same_content = |version: &str| {
        Hash::from_hex(version).is_some_and(|id| {
            id == current.id || view.versions.iter().find(|v| v.id == id).is_some_and(|v| v.record == current.record)
        })
    };
    // Per member, not per key: a key that replaced a revoked one under the same name is the same person,
    // whose decisions count once (the old key's approval, which the revocation had seen, still counts).
    let member = |k: &PublicKey| ctx.roster.member_id(k);
    // Whether a rejection is a veto is the policy's where it was signed: adopting a veto policy later does
    // not revive rejections an amendment had answered. A veto stands when its signer is revoked: replacing
    // a lost key revokes the old one before the new one is enrolled, and a veto that lapsed in between (or
    // where a run was concurrent with the revocation) would let a run count that no member had cleared.
    let vetoes =
        |d: &Rec<DecisionBody>| ctx.policies.at(d.pos).1.approvals.rejection_lifted_by == RejectionLift::Rejecter;
    let mut latest: BTreeMap<MemberId<'_>, usize> = BTreeMap::new();
    let mut latest_on_content: BTreeMap<MemberId<'_>, usize> = BTreeMap::new();
    for (i, d) in view.decisions.iter().enumerate() {
        latest.insert(member(&d.actor), i);
        if same_content(&d.body.version) {
            latest_on_content.insert(member(&d.actor), i);
        }
    }
    let mut decisions = Vec::new();
    let mut approvers: Vec<(PublicKey, Vec<String>)> = Vec::new();
    let mut blocking = Vec::new();
    let mut vetoed = false;
    let mut not_counted = Vec::new();
    for (i, d) in view.decisions.iter().enumerate() {
        let name = ctx.roster.display(&d.actor);
        let roles = ctx.roster.roles_at(&d.actor, d.pos).to_vec();
        let approve = d.body.decision == Decision::Approve;
        let on_current = Hash::from_hex(&d.body.version) == Some(current.id);
        let is_latest = latest.get(&member(&d.actor)) == Some(&i);
        // A rejection on an earlier version that still counts: by its content, or (when the policy lets only
        // the rejecter lift it) as its member's latest decision, whatever was amended since.
        let carried = !approve
            && !on_current
            && (latest_on_content.get(&member(&d.actor)) == Some(&i) || (vetoes(d) && is_latest));
        let excluded = if !is_latest && !carried {
            let by = latest.get(&member(&d.actor)).map(|&j| view.decisions[j].actor);
            Some(match by {
                Some(k) if k != d.actor => {
                    format!("superseded by a later decision of {}, the same member", ctx.roster.display(&k))
                }
                _ => "superseded by a later decision of the same key".to_string(),
            })
        } else if !on_current && !carried {
            Some("decided on an earlier version (the request was amended since)".into())
        } else if !carried && d.body.revert_digest != *digest {
            Some("signed a different revert operation".into())
        } else if let Some(why) = signer_problem(view, ctx, policy, tier, &d.actor, d.pos, approve) {
            Some(why)
        } else if let Some(why) = approve
            .then(|| evidence_problem(view, d, needed, &satisfying, &|a, b| ctx.roster.happened_before(a, b)))
            .flatten()
        {
            Some(why)
        } else if let Some(flag) = approve.then(|| unseen_flag(d, ctx.flags)).flatten() {
            Some(format!("stale: the {flag} flag was raised after this approval was signed; re-approve"))
        } else if approve
            && policy.approvals.expiry_hours > 0
            && now - d.ts > Duration::hours(policy.approvals.expiry_hours as i64)
        {
            Some(format!("expired (approvals count for {} hours)", policy.approvals.expiry_hours))
        } else {
            None
        };
        vetoed |= excluded.is_none() && !approve && vetoes(d);
        // A veto whose signer has no key left says what lifts it now (only a key under their name can).
        match (&excluded, d.body.decision) {
            (None, Decision::Approve) => approvers.push((d.actor, roles)),
            (None, Decision::Reject) => {
                // What the rejection stands on, when not the version shown, and what lifts a veto whose
                // signer has no key left (only a key under their name can).
                let mut said = Vec::new();
                if carried {
                    let version = short_version(&d.body.version);
                    said.push(if same_content(&d.body.version) {
                        format!("on version {version}, which had this content")
                    } else {
                        format!("on version {version}; amending does not lift it under this policy")
                    });
                }
                if vetoes(d) && !ctx.roster.member_active_at(&d.actor, pos) {
                    said.push(
                        "no longer a member: withdraw the request and file it again, or enroll a replacement key \
                         under their name"
                            .to_string(),
                    );
                }
                blocking.push(if said.is_empty() { name.clone() } else { format!("{name} ({})", said.join("; ")) })
            }
            (Some(why), Decision::Approve) if is_latest => {
                not_counted.push(format!("{name}'s approval does not count: {why}"))
            }
            _ => {}
        }
        decisions.push(Counted { entry: d.id, actor: d.actor, name, decision: d.body.decision, ts: d.ts, excluded });
    }
    Tally { decisions, approvers, blocking, vetoed, not_counted }
}

/// The first 8 hex characters of a version id as its decision names it.
fn short_version(v: &str) -> &str {
    v.get(..8).unwrap_or(v)
}

/// Evaluates the request at `now` under the policy in force at `pos` (use `POS_MAX` for "now").
pub(crate) fn evaluate(view: &RequestView, ctx: &Context<'_>, now: DateTime<Utc>, pos: Pos) -> Evaluation {
    let (policy_id, policy) = ctx.policies.at(pos);
    let tier = tier_of(view, ctx.flags_tier);
    let rule = policy.tier(&tier);
    let current = view.current();
    let mut checklist = Vec::new();

    // Evidence: what the tier and the flags require, and which attached entries satisfy it (decided from
    // their signed bodies; purged entries still say what they were).
    let needed = super::evidence::required(policy, &tier, ctx.flags);
    let accept_opaque = policy.evidence.accept_opaque;
    let satisfying = |e: &EvidenceRec, kind: &str| satisfies_kind(e, kind, accept_opaque);

    // Decisions: the latest one per key, each with the reason it does or does not count.
    let Tally { decisions, approvers, blocking, vetoed, not_counted } =
        count(view, ctx, policy, &tier, &needed, now, pos);
    let have = approvers.len() as u32;
    let required_missing = cover_roles(&rule.required_roles, &approvers);
    // An emergency waives only when the policy this evaluation applies lets its signer invoke one (with the
    // roles held at the emergency): one invoked where a stricter policy had not been seen (a copy of the
    // ledger older than it) lets nothing run under that policy (FORMAT.md §5).
    let not_allowed =
        view.emergency.as_ref().filter(|e| !ctx.roster.has_role(&e.actor, e.pos, &policy.emergency.may_invoke));
    // Nor once it has lapsed (`emergency.waives_for_hours` of that policy after it was invoked).
    let until = view.emergency.as_ref().and_then(|e| policy.emergency.waives_until(e.ts));
    let lapsed = until.filter(|u| now >= *u && not_allowed.is_none());
    let emergency = view.emergency.as_ref().filter(|_| not_allowed.is_none() && lapsed.is_none()).map(|e| {
        format!(
            "waived: emergency invoked by {} at {}{}",
            ctx.roster.display(&e.actor),
            e.ts.format("%Y-%m-%d %H:%M UTC"),
            until.map(|u| format!(", until {}", u.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default()
        )
    });
    let waive = |met: bool, detail: String| -> (bool, bool, String) {
        match (&emergency, met) {
            (_, true) => (true, false, detail),
            (Some(w), false) => (true, true, format!("{w} ({detail})")),
            (None, false) => (false, false, detail),
        }
    };

    // State.
    let state = match view.admits(Action::Execute) {
        Ok(()) if !view.request_counted() => {
            Err("the request itself does not count (its signer was not authorized)".to_string())
        }
        other => other.map_err(|r| r.0),
    };
    checklist.push(Item {
        id: "state",
        met: state.is_ok(),
        waived: false,
        detail: match (&state, not_allowed, lapsed) {
            (Ok(()), None, None) => "the request can be executed".into(),
            (Ok(()), Some(e), _) => format!(
                "the request can be executed; its emergency waives nothing: {} may not invoke the emergency path \
                 under the policy in force (roles allowed: {})",
                ctx.roster.display(&e.actor),
                policy.emergency.may_invoke.join(", ")
            ),
            (Ok(()), None, Some(at)) => format!(
                "the request can be executed; its emergency lapsed at {} (the policy in force lets one waive \
                 for {} hours): approvals, evidence, rejections and the window count again",
                at.format("%Y-%m-%d %H:%M UTC"),
                policy.emergency.waives_for_hours.unwrap_or_default()
            ),
            (Err(e), None, Some(at)) => {
                format!("cannot execute: {e}; its emergency lapsed at {}", at.format("%Y-%m-%d %H:%M UTC"))
            }
            (Err(e), _, _) => format!("cannot execute: {e}"),
        },
    });

    // Approvals.
    let names: Vec<String> = approvers.iter().map(|(k, _)| ctx.roster.display(k)).collect();
    let (met, waived, detail) = waive(
        have >= rule.count,
        format!(
            "{} at {tier} risk{}{}",
            approvals_count(have.into(), rule.count.into()),
            if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) },
            not_counted.iter().map(|n| format!("; {n}")).collect::<String>()
        ),
    );
    checklist.push(Item { id: "approvals", met, waived, detail });
    if !rule.required_roles.is_empty() {
        let (met, waived, detail) = waive(
            required_missing.is_empty(),
            if required_missing.is_empty() {
                format!("required roles covered ({})", rule.required_roles.join(", "))
            } else {
                format!("needs an approval from a distinct {}", required_missing.join(" and a "))
            },
        );
        checklist.push(Item { id: "required-roles", met, waived, detail });
    }
    let rejected = policy.approvals.any_rejection_blocks && !blocking.is_empty();
    if policy.approvals.any_rejection_blocks {
        let (met, waived, detail) = waive(
            !rejected,
            if rejected {
                match view.phase {
                    crate::audit::projection::Phase::Open if !vetoed => {
                        format!("rejected by {}; amend the request to re-open it", blocking.join(", "))
                    }
                    // After a run (an amendment is no longer taken): the rejecter may approve again.
                    _ => format!("rejected by {}; only their approval lifts it now", blocking.join(", ")),
                }
            } else {
                "no rejection".into()
            },
        );
        checklist.push(Item { id: "rejections", met, waived, detail });
    }

    // Evidence: per tier and per flag, each kind satisfied by an entry that says it is what the kind needs.
    let evidence_missing: Vec<String> =
        needed.iter().filter(|k| !view.evidence.iter().any(|e| satisfying(e, k))).cloned().collect();
    let unusable: Vec<String> = view
        .evidence
        .iter()
        .filter(|e| evidence_missing.contains(&e.rec.body.kind))
        .filter_map(|e| {
            super::evidence::satisfies(&e.rec.body, accept_opaque)
                .err()
                .map(|why| format!("{}: {why}", e.rec.id.short(12)))
        })
        .collect();
    let (met, waived, detail) = waive(
        evidence_missing.is_empty(),
        if needed.is_empty() {
            "no evidence required".into()
        } else if evidence_missing.is_empty() {
            format!("required evidence attached ({})", needed.join(", "))
        } else if unusable.is_empty() {
            format!("missing evidence: {}", evidence_missing.join(", "))
        } else {
            format!(
                "missing evidence: {} (attached but not counted: {})",
                evidence_missing.join(", "),
                unusable.join("; ")
            )
        },
    );
    checklist.push(Item { id: "evidence", met, waived, detail });

    // Window.
    let env = &current.record.env;
    let window = match policy.window(env) {
        Some(w) => w.permits(now),
        None => Ok(super::model::unrestricted(env)),
    };
    let (met, waived, detail) = match window {
        Ok(d) => waive(true, d),
        Err(d) => waive(false, d),
    };
    checklist.push(Item { id: "window", met, waived, detail });

    // Temporary reverts.
    if let Some(until) = current.record.temporary_until_time() {
        let max = Duration::days(policy.requests.max_temporary_days as i64);
        let ok = until <= current.ts + max;
        checklist.push(Item {
            id: "temporary",
            met: ok,
            waived: false,
            detail: if ok {
                format!("temporary until {}", until.format("%Y-%m-%d %H:%M UTC"))
            } else {
                format!("temporary_until is more than {} days after the request", policy.requests.max_temporary_days)
            },
        });
    }

    let gate = checklist.iter().all(|i| i.met);
    let approved = have >= rule.count && required_missing.is_empty() && !rejected;
    let status = match view.phase {
        Phase::Open if rejected => Status::Rejected,
        Phase::Open if approved => Status::Approved,
        Phase::Open => Status::Pending,
        Phase::Emergency => Status::Emergency,
        Phase::Executed | Phase::Validated if view.review_owed() => Status::ReviewDue,
        // A fork is found once the whole request is folded, so a review or a close may come before it; a
        // post-hoc review by the emergency's invoker or executor makes the phase reviewed, and settles nothing.
        Phase::Reviewed | Phase::Closed if view.review_owed() => Status::ReviewDue,
        // Open to decisions and to another run again (FORMAT.md §1.2).
        Phase::Executed if view.retry_possible() => Status::Failed,
        Phase::Executed => Status::Executed,
        Phase::Validated => Status::Validated,
        Phase::Reviewed => Status::Reviewed,
        Phase::Closed => Status::Closed,
        // Withdrawing ends every obligation but an emergency's review (the glass was broken): until it is
        // taken, the request is listed and ranked with those whose review is due.
        Phase::Withdrawn if view.emergency_review_owed() => Status::ReviewDue,
        Phase::Withdrawn => Status::Withdrawn,
    };
    // One that waives nothing has ended at once (its time, or now for one stamped ahead of this clock).
    let waiver_ends = view
        .emergency
        .as_ref()
        .and_then(|e| if not_allowed.is_some() { Some(e.ts.min(now)) } else { until })
        .filter(|_| status == Status::Emergency);
    Evaluation {
        status,
        tier,
        policy: *policy_id,
        need: rule.count,
        approvals: approvers.into_iter().map(|(k, _)| k).collect(),
        decisions,
        required_missing,
        evidence_missing,
        checklist,
        gate,
        waiver_ends,
        lapsed: waiver_ends.filter(|t| now >= *t),
    }
}

/// A temporary revert must end in the future and within the policy's longest allowed time.
/// `until` is the record's `temporary_until` when it is a string (nothing to check otherwise).
fn check_temporary(until: Option<&str>, at: DateTime<Utc>, policy: &Policy) -> Result<(), String> {
    let Some(until) = until else { return Ok(()) };
    let until = crate::audit::record::parse_time(until).ok_or("temporary_until is not an RFC 3339 time")?;
    if until <= at {
        return Err("temporary_until is in the past".into());
    }
    let max = Duration::days(policy.requests.max_temporary_days as i64);
    if until > at + max {
        return Err(format!(
            "temporary_until is more than the {} days the policy allows a temporary revert to live",
            policy.requests.max_temporary_days
        ));
    }
    Ok(())
}

/// The lifecycle rules of the policy in force at each entry, over the roster.
pub(crate) struct PolicyRules<'a> {
    pub ctx: Context<'a>,
}

impl PolicyRules<'_> {
    fn has(&self, key: &PublicKey, pos: Pos, roles: &[String]) -> bool {
        self.ctx.roster.has_role(key, pos, roles)
    }

    fn owner_or(&self, f: &Fact, view: &RequestView, roles: &[String], what: &str) -> Result<(), String> {
        if self.ctx.roster.same_member(&f.actor, &view.requester) || self.has(&f.actor, f.pos, roles) {
            Ok(())
        } else {
            Err(format!(
                "{} is neither the requester nor holds a role that may {what} ({})",
                self.ctx.roster.display(&f.actor),
                roles.join(", ")
            ))
        }
    }
}

impl Rules for PolicyRules<'_> {
    fn allow(&self, action: Action, f: &Fact, view: &RequestView) -> Result<(), Refusal> {
        self.reason_against(action, f, view).map_err(Refusal)
    }

    fn before(&self, earlier: &Fact, later: Pos) -> bool {
        self.ctx.roster.happened_before(earlier.pos, later)
    }

    /// A role in `emergency.may_review` of the policy in force at the review, when it names any.
    fn may_settle(&self, review: &Fact) -> bool {
        let (_, policy) = self.ctx.policies.at(review.pos);
        policy.emergency.may_review.as_ref().is_none_or(|roles| self.has(&review.actor, review.pos, roles))
    }

    fn same_member(&self, a: &PublicKey, b: &PublicKey) -> bool {
        self.ctx.roster.same_member(a, b)
    }
}

impl PolicyRules<'_> {
    /// Why `f` may not do `action` on `view` under the roster and the policy in force, if it may not.
    fn reason_against(&self, action: Action, f: &Fact, view: &RequestView) -> Result<(), String> {
        let roster = self.ctx.roster;
        if !roster.is_active(&f.actor, f.pos) {
            return Err(roster.signer_problem(&f.actor, f.pos));
        }
        let (_, policy) = self.ctx.policies.at(f.pos);
        // Named only in a refusal (most actions are allowed: `verify` asks a million times).
        let who = || roster.display(&f.actor);
        match action {
            // Reads no flag or tier (a fold assesses the request only for an execution).
            Action::Request => {
                if !self.has(&f.actor, f.pos, &policy.requests.may_request) {
                    return Err(format!(
                        "{} holds no role that may file requests ({})",
                        who(),
                        policy.requests.may_request.join(", ")
                    ));
                }
                // The request's own record is in the view already (its first version).
                let until = match view.versions.first() {
                    Some(v) if v.id == f.id => v.record.temporary_until.clone(),
                    _ => f.body.str_member("temporary_until"),
                };
                check_temporary(until.as_deref(), f.ts, policy)?;
            }
            Action::Amend | Action::Withdraw => {
                self.owner_or(f, view, &policy.requests.may_manage_any, "change others' requests")?;
                if let Some(record) = f.body.member("record") {
                    check_temporary(record.get("temporary_until").and_then(|u| u.as_str()), f.ts, policy)?;
                }
            }
            Action::Emergency => {
                if !self.has(&f.actor, f.pos, &policy.emergency.may_invoke) {
                    return Err(format!(
                        "{} may not invoke the emergency path (roles allowed: {})",
                        who(),
                        policy.emergency.may_invoke.join(", ")
                    ));
                }
                // The review deadline is the policy's, not the signer's: one later than the policy allows
                // (or none that reads as a time) would keep an unreviewed emergency from ever being overdue.
                let hours = policy.emergency.review_within_hours;
                let latest = policy.emergency.review_due(f.ts);
                let due = f.body.str_member("review_due");
                if due.as_deref().and_then(crate::audit::record::parse_time).is_none_or(|d| d > latest) {
                    return Err(format!(
                        "its post-hoc review is due {}: the policy wants it within {hours} hours of the emergency",
                        crate::text::safe(due.as_deref().unwrap_or("never"))
                    ));
                }
            }
            Action::Execute => {
                if !self.has(&f.actor, f.pos, &policy.execution.may_execute) {
                    return Err(format!(
                        "{} holds no role that may execute ({})",
                        who(),
                        policy.execution.may_execute.join(", ")
                    ));
                }
                let digest = &view.current().revert_digest;
                let run: crate::audit::bodies::ExecutedBody =
                    f.body.read().map_err(|e| format!("malformed {} body: {e}", f.kind))?;
                if run.revert_digest != *digest || run.version != view.current().id.to_hex() {
                    return Err("executes something other than the current version's revert operation".into());
                }
                // What the run says it did is what was approved: the revisions (a known-bad artifact is
                // remembered from `from`), the environment and the command (as `rollcall execute` writes them).
                let record = &view.current().record;
                if run.from != record.revert.from
                    || run.to != record.revert.to
                    || !crate::audit::record::same_env(&run.env, &record.env)
                    || run.command != record.revert.argv
                {
                    return Err("records a run whose revisions, environment or command differ from the current \
                                version's revert operation"
                        .into());
                }
                let eval = evaluate(view, &self.ctx, f.ts, f.pos);
                if !policy.execution.approver_may_execute
                    && eval.approvals.iter().any(|k| roster.same_member(k, &f.actor))
                {
                    return Err(format!(
                        "{} approved this request and may not also execute it (separation of duties)",
                        who()
                    ));
                }
                if !eval.gate {
                    let unmet: Vec<String> = eval.unmet().map(|i| i.detail.clone()).collect();
                    return Err(format!("the policy did not allow the revert to run: {}", unmet.join("; ")));
                }
            }
            Action::Close => {
                let mut roles = policy.requests.may_manage_any.clone();
                roles.extend(policy.execution.may_execute.iter().cloned());
                self.owner_or(f, view, &roles, "close requests")?;
            }
            Action::Purge => {
                if !self.has(&f.actor, f.pos, &policy.requests.may_manage_any) {
                    return Err(format!(
                        "{} may not purge evidence (roles allowed: {})",
                        who(),
                        policy.requests.may_manage_any.join(", ")
                    ));
                }
            }
            Action::Review => {
                let post_hoc = f.body.str_member("kind").as_deref() == Some("post-hoc");
                if post_hoc && !self.may_settle(f) {
                    return Err(format!(
                        "{} holds none of the roles whose post-hoc review counts ({})",
                        who(),
                        policy.emergency.may_review.as_deref().unwrap_or_default().join(", ")
                    ));
                }
                // The view compares keys; another key of a member who invoked the emergency, ran its revert or
                // filed or amended the request would settle it.
                if post_hoc
                    && view.settles_emergency(&f.actor)
                    && !view.settles_emergency_by(&|k| roster.same_member(k, &f.actor))
                {
                    return Err(format!(
                        "{} is the same member as a key that invoked this emergency, ran its revert or filed or \
                         amended the request; its post-hoc review must come from someone else",
                        who()
                    ));
                }
            }
            Action::Decide | Action::Validate | Action::Link | Action::Note | Action::Evidence => {}
        }
        Ok(())
    }
}

/// "1 of 2 approvals"; once there are more than needed, "3 approvals (2 needed)" rather than "3 of 2".
pub(crate) fn approvals_count(have: u64, need: u64) -> String {
    if have > need { format!("{have} approvals ({need} needed)") } else { format!("{have} of {need} approvals") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::kinds::{APPROVED, EVIDENCE_ATTACHED, EVIDENCE_PURGED, REQUESTED};
    use crate::audit::projection::NoRules;
    use crate::audit::record::tests_support::sample;
    use serde_json::json;

    /// Whom the console names for a rejection ("— ask …") is whom a rejection counts from: a role that
    /// decides at any tier, not only at the request's current one.
    #[test]
    fn a_rejection_is_asked_of_every_deciding_role() {
        let p = Policy::parse(
            "version = 1\n[approvals.tiers.low]\nroles = [\"approver\"]\n\
             [approvals.tiers.high]\nroles = [\"security-approver\"]\n",
        )
        .unwrap();
        assert_eq!(roles_for(Permission::Approve, &p, "low"), ["approver"]);
        let reject = roles_for(Permission::Reject, &p, "low");
        assert!(reject.contains(&"approver".to_string()) && reject.contains(&"security-approver".to_string()));
    }

    #[test]
    fn more_approvals_than_needed_are_not_said_as_2_of_1() {
        assert_eq!(approvals_count(0, 2), "0 of 2 approvals");
        assert_eq!(approvals_count(2, 2), "2 of 2 approvals");
        assert_eq!(approvals_count(2, 1), "2 approvals (1 needed)");
    }

    use crate::audit::projection::tests_support::fact;

    fn rid() -> String {
        Hash::of(&[&1u64.to_be_bytes()]).to_hex()
    }

    fn junit(pos: u64) -> Fact {
        fact(
            pos,
            EVIDENCE_ATTACHED,
            1,
            json!({"request": rid(), "kind": "test", "sha256": "00".repeat(32), "format": "junit", "counts": {"tests": 2}}),
        )
    }

    fn log(pos: u64) -> Fact {
        fact(pos, EVIDENCE_ATTACHED, 1, json!({"request": rid(), "kind": "log", "url": "https://ci.example/1"}))
    }

    fn approval(pos: u64, evidence: &[&Fact]) -> Fact {
        let ids: Vec<String> = evidence.iter().map(|e| e.id.to_hex()).collect();
        fact(
            pos,
            APPROVED,
            2,
            json!({"request": rid(), "version": rid(), "revert_digest": sample().revert_digest(), "evidence": ids, "policy": rid(), "decision": "approve", "comment": "ok"}),
        )
    }

    /// The evidence verdict on the last decision of a view folded from `related`.
    fn verdict(related: &[Fact], needed: &[&str]) -> Option<String> {
        let request = fact(1, REQUESTED, 1, serde_json::to_value(sample()).unwrap());
        let view = RequestView::fold(&request, related, &NoRules).unwrap();
        let needed: Vec<String> = needed.iter().map(|s| s.to_string()).collect();
        let satisfying = |e: &EvidenceRec, kind: &str| satisfies_kind(e, kind, false);
        // One log: causal order is position order.
        evidence_problem(&view, view.decisions.last().unwrap(), &needed, &satisfying, &|a, b| a < b)
    }

    #[test]
    fn an_approval_binds_the_evidence_it_signed() {
        let ev = junit(2);
        assert_eq!(verdict(&[ev.clone(), approval(3, &[&ev])], &["test"]), None);
        // Evidence it did not sign, attached later, makes it stale.
        let late = log(4);
        let why = verdict(&[ev.clone(), approval(3, &[&ev]), late.clone()], &["test"]).unwrap();
        assert_eq!(why, format!("stale: evidence {} attached after this approval; re-approve", late.id.short(12)));
        // Signed before the required kind existed.
        let why = verdict(&[approval(2, &[]), junit(3)], &["test"]).unwrap();
        assert!(why.starts_with("stale: evidence"), "{why}");
        let why = verdict(&[log(2), approval(3, &[&log(2)])], &["test"]).unwrap();
        assert!(why.contains("required test evidence"), "{why}");
        // An id signed that only appears after the approval is not evidence it saw.
        let early = junit(4);
        let why = verdict(&[approval(3, &[&early]), early.clone()], &["test"]).unwrap();
        assert!(why.contains("required test evidence"), "{why}");
    }

    #[test]
    fn purges_neither_stale_nor_unsee() {
        let ev = junit(2);
        let purge = |pos, target: &Fact| {
            fact(pos, EVIDENCE_PURGED, 3, json!({"request": rid(), "evidence": target.id.to_hex(), "reason": "r"}))
        };
        // Purged after the approval: it still satisfies what it was.
        assert_eq!(verdict(&[ev.clone(), approval(3, &[&ev]), purge(4, &ev)], &["test"]), None);
        // Purged before an approval that (like older versions) did not sign it: not stale.
        let gone = log(3);
        assert_eq!(verdict(&[ev.clone(), gone.clone(), purge(4, &gone), approval(5, &[&ev])], &["test"]), None);
        // Attached after the approval and purged later: the approver still never saw it.
        let late = log(4);
        assert!(verdict(&[ev.clone(), approval(3, &[&ev]), late.clone(), purge(5, &late)], &["test"]).is_some());
    }
}
