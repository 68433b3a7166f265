//! The view models: workflow results turned into the rows and details `model` defines, every string from
//! the ledger or from evidence sanitized on the way (`model::clean`). Pure functions of their inputs;
//! the worker calls them after it has read.

use crate::tui::model::*;
use crate::tui::msg::Msg;
use crate::workflow::query::Shown;
use crate::workflow::waiting::Stand;
use crate::workflow::{browse, evidence};
use chrono::{DateTime, Utc};

/// A row of the queue.
pub(super) fn queue_item(r: browse::QueueRow, stand: Option<Stand>, now: DateTime<Utc>) -> QueueItem {
    let (title, suspicious) = clean(&r.row.title);
    let created = crate::audit::record::parse_time(&r.row.created).unwrap_or(now);
    QueueItem {
        key: r.key,
        id: r.row.id,
        title,
        suspicious,
        status: if r.row.lapsed { crate::tui::model::LAPSED.into() } else { r.row.status },
        waiver_ends: r.row.waiver_ends,
        env: safe(&r.row.env),
        tier: r.row.tier,
        flags: r.row.flags,
        have: r.row.have,
        need: r.row.need,
        age: age(created, now),
        overdue: r.row.overdue,
        due: r.row.obligation_due,
        stand,
    }
}

/// A row of the history (or of search results).
pub(super) fn history_item(r: browse::HistoryRow) -> HistoryItem {
    let (actor, a) = clean(&r.actor);
    let request = r.request.map(|(id, t)| (id, clean(&t).0));
    HistoryItem { index: r.index, id: r.id, kind: safe(&r.kind), actor, ts: r.ts, request, suspicious: a }
}

/// The viewer of one evidence item: its summary first, then the pages of its stored bytes.
pub(super) fn evidence_viewer(id: crate::ledger::EntryId, ev: &evidence::Evidence) -> Msg {
    let size = ev.size;
    let pages = evidence::pages(size);
    let text = crate::workflow::present::evidence_text_with(ev, &|more| {
        format!("… ({more} more bytes on pages 2 to {pages})")
    });
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Pages only of bytes that are stored, match their digest and were not purged.
    let stored = (ev.present && ev.purge.is_none()).then_some(size);
    let name = ev.body.name.as_deref().or(ev.body.url.as_deref()).unwrap_or("");
    Msg::Viewer {
        title: format!("Evidence {} {}", id.short(12), crate::text::truncate(&safe(name), 40)),
        pager: Some(Box::new(crate::tui::state::Pager::new(id, stored, lines.clone()))),
        lines,
    }
}

/// A page of an evidence file as sanitized lines, with a warning first when anything was escaped.
pub(super) fn page_lines(text: &str) -> Vec<String> {
    let clean = crate::text::multi_line(text);
    let mut lines = Vec::new();
    if clean.suspicious {
        lines.push("⚠ this page contains control or invisible characters, shown as <U+XXXX>".to_string());
    }
    lines.extend(clean.text.lines().map(str::to_string));
    lines
}

/// The request detail, with what the signer `can` do on it.
pub(super) fn detail_of(s: &Shown, can: Can) -> Detail {
    let v = &s.view;
    let r = v.record();
    let roster = &s.snap.roster;
    let (title, mut suspicious) = clean(&r.title);
    let mut record = Vec::new();
    let mut push = |label: &str, value: &str| {
        // The revert is shown whole: it is what an approval signs and what CI runs.
        let (c, sus) = if label == "revert" { crate::tui::model::clean_whole(value) } else { clean(value) };
        suspicious |= sus;
        record.push((label.to_string(), c));
    };
    push("id", &v.id.to_hex());
    push("requested", &format!("{} by {}", v.ts.format("%Y-%m-%d %H:%M UTC"), roster.display(&v.requester)));
    if v.versions.len() > 1 {
        push("version", &format!("{} (amended: {})", v.versions.len(), v.current().reason.as_deref().unwrap_or("")));
    }
    push("change", &r.change);
    if let Some(t) = &r.ticket {
        push("ticket", t);
    }
    if let Some(i) = &r.incident {
        push("incident", i);
    }
    push("category", r.category.as_str());
    push("declared risk", r.risk.as_str());
    push("rationale", &r.rationale);
    push("user impact", &r.impact);
    push("components", &r.components.join(", "));
    push("environment", &format!("{} (found in {})", r.env, r.origin_env.as_deref().unwrap_or(&r.env)));
    if !r.cascades.is_empty() {
        push("cascades to", &r.cascades.join(", "));
    }
    push("revert", &crate::audit::record::join_command(&r.revert.argv));
    push("from -> to", &format!("{} -> {}", r.revert.from, r.revert.to));
    push("op digest", &r.revert_digest());
    if let Some(fork) = &v.fork {
        push("fork", &fork.line());
    }
    if let Some(x) = &r.security {
        push("security", x);
    }
    if let Some(x) = &r.test_plan {
        push("test plan", x);
    }
    if let Some(x) = &r.roll_forward_plan {
        push("roll forward", x);
    }
    if let Some(x) = &r.temporary_until {
        push("temporary until", x);
    }
    if !r.side_effects.migrations.is_empty() {
        push("migrations", &r.side_effects.migrations.join("; "));
    }
    if !r.side_effects.destructive.is_empty() {
        push("DESTRUCTIVE", &r.side_effects.destructive.join("; "));
    }
    let evidence = v
        .evidence
        .iter()
        .map(|e| EvidenceItem {
            id: e.rec.id,
            kind: safe(&e.rec.body.kind),
            name: safe(e.rec.body.name.as_deref().or(e.rec.body.url.as_deref()).unwrap_or("-")),
            summary: safe(e.rec.body.summary.as_deref().unwrap_or("")),
            purged: e.purged.as_ref().map(|p| {
                format!(
                    "purged by {} at {}: {}",
                    safe(&roster.display(&p.actor)),
                    p.ts.format("%Y-%m-%d %H:%M"),
                    safe(&p.body.reason)
                )
            }),
        })
        .collect();
    let flags = s
        .assessment
        .flags
        .iter()
        .map(|f| FlagItem {
            id: f.id.clone(),
            severity: f.severity.as_str().into(),
            explanation: safe(&f.explanation),
            location: safe(&f.location),
        })
        .collect();
    let checklist = s
        .eval
        .checklist
        .iter()
        .map(|i| CheckItem { id: i.id.into(), met: i.met, waived: i.waived, detail: safe(&i.detail) })
        .collect();
    let decisions = s
        .eval
        .decisions
        .iter()
        .map(|d| {
            let comment = v.decisions.iter().find(|x| x.id == d.entry).map(|x| x.body.comment.as_str()).unwrap_or("");
            format!(
                "{:?} by {} at {}: \"{}\" — {}",
                d.decision,
                safe(&d.name),
                d.ts.format("%Y-%m-%d %H:%M"),
                safe(comment),
                match &d.excluded {
                    None => "counts".to_string(),
                    Some(w) => format!("does not count: {}", safe(w)),
                }
            )
        })
        .collect();
    let obligations = s
        .obligations
        .iter()
        .map(|o| ObligationItem {
            text: format!(
                "{} due {}{}",
                o.detail,
                o.due.format("%Y-%m-%d %H:%M UTC"),
                if o.overdue { " — OVERDUE" } else { "" }
            ),
            overdue: o.overdue,
        })
        .collect();
    let timeline = v
        .timeline
        .iter()
        .map(|t| TimelineItem {
            index: t.index,
            ts: t.ts.format("%Y-%m-%d %H:%M").to_string(),
            kind: t.kind.clone(),
            actor: format!("{} [signature ok]", safe(&roster.display(&t.actor))),
            note: t.ignored.as_ref().map(|w| format!("does not count: {}", safe(w))),
        })
        .collect();
    let mut lineage = Vec::new();
    for (label, list) in r.lineage.lists() {
        for item in list {
            lineage.push((label.to_string(), safe(item)));
        }
    }
    if let Some(cs) = &r.changeset {
        lineage.push((
            "change set".into(),
            format!("{} files from {}, sha256 {}", cs.files, safe(&cs.source), crate::text::prefix(&cs.sha256, 16)),
        ));
    }
    let (policy_id, _) = s.snap.policies.current();
    let sign = SignPreview {
        request: v.id.to_hex(),
        version: v.current().id.to_hex(),
        revert_digest: r.revert_digest(),
        revert: crate::tui::model::clean_whole(&crate::audit::record::join_command(&r.revert.argv)).0,
        evidence: v.evidence_ids().iter().map(|e| e.short(12)).collect(),
        policy: policy_id.short(16),
        flags: s.assessment.flag_ids(),
    };
    Detail {
        id: v.id,
        title,
        status: s.eval.status_shown().into(),
        tier: s.eval.tier.clone(),
        score: s.assessment.risk.score,
        gate: s.eval.gate,
        approvals: (s.eval.approvals.len(), s.eval.need),
        suspicious,
        record,
        evidence,
        flags,
        risk_factors: s
            .assessment
            .risk
            .factors
            .iter()
            .map(|f| format!("{} +{} ({})", f.name, f.points, safe(&f.detail)))
            .collect(),
        checklist,
        decisions,
        obligations,
        timeline,
        lineage,
        sign,
        can,
    }
}

/// The integrity screen from a verification report.
pub(super) fn integrity_of(r: &crate::workflow::verify::VerifyReport) -> Integrity {
    let mut lines = Vec::new();
    lines.push(format!("ledger {}", r.ledger_id.map(|h| h.to_hex()).unwrap_or_else(|| "?".into())));
    let audit = crate::workflow::sync::AUDIT_ORIGIN;
    for (i, o) in r.origins.iter().enumerate().filter(|(_, o)| !(o.origin == audit && o.size == 0)) {
        let witnesses = r
            .witnesses
            .by_origin
            .get(&o.origin)
            .map(|ws| ws.iter().map(|w| format!("{} at size {}", safe(&w.name), w.size)).collect::<Vec<_>>())
            .unwrap_or_default();
        lines.push(format!(
            "{} {}: {} of {} entries verified, {} signatures; latest checkpoint {}",
            if i == 0 { "own log" } else { "mirror" },
            safe(&o.origin),
            o.verified,
            o.size,
            o.signatures,
            o.latest_checkpoint.map(|(s, h)| format!("size {s} root {}", h.short(16))).unwrap_or_else(|| "none".into())
        ));
        lines.push(if witnesses.is_empty() {
            "  witnesses: none (no peer has cosigned this log yet; sync to collect cosignatures)".to_string()
        } else {
            format!("  witnessed by {}", witnesses.join(", "))
        });
    }
    for c in r.completeness.iter().filter(|c| !(c.origin == audit && c.size == 0)) {
        lines.push(format!("completeness ({}): {}", safe(&c.origin), safe(&c.statement)));
    }
    let not_checked = crate::workflow::verify::NOT_CHECKED;
    lines.push(if r.evidence_checked {
        format!(
            "evidence: {} blobs match their digests, {} purged{}",
            r.blobs.checked,
            r.blobs.purged.len(),
            if r.blobs.not_held > 0 {
                format!(", {} of other origins not held here", r.blobs.not_held)
            } else {
                String::new()
            }
        )
    } else {
        format!("evidence: {not_checked}")
    });
    for p in &r.witnesses.problems {
        lines.push(format!("cosignatures: {}", safe(p)));
    }
    let mut security = Vec::new();
    for e in &r.witnesses.equivocations {
        security.push(crate::workflow::witness::equivocation_line(e));
        if e.kind == crate::workflow::witness::COPY {
            // Its detail names every leaf: there are no signed checkpoints to show.
            continue;
        }
        // Both signed statements, as kept: each note's lines on one line.
        for (who, note) in [("this ledger's", &e.ours), ("the bundle's", &e.theirs)] {
            let shown = note.lines().filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" | ");
            security.push(format!(
                "  {who} signed statement: {}",
                if shown.is_empty() { "(none kept)".to_string() } else { safe(&shown) }
            ));
        }
    }
    // A security failure with no evidence listed above (a log cut back below what its cosigners saw): the
    // title bar says SECURITY for it too.
    if security.is_empty()
        && let Some(f) = r.failure.as_ref().filter(|f| f.is_security())
    {
        security.push(safe(&f.to_string()));
    }
    for (e, a) in &r.witnesses.acknowledged {
        lines.push(crate::workflow::witness::acknowledged_line(e, a));
    }
    if !r.authorization_checked && r.discounted.is_empty() {
        lines.push(format!("authorization: {not_checked}"));
    } else if r.discounted.is_empty() {
        lines.push("authorization: every signer counted".into());
    } else {
        let heading = format!(
            "authorization: {}{} entries intact but do not count",
            if r.authorization_checked { String::new() } else { format!("{not_checked}; found so far, ") },
            r.discounted.len()
        );
        let line = |d: &crate::identity::roster::Discounted| {
            format!("  #{} {}: {}", crate::ledger::pos::index_of(d.pos), d.kind, safe(&d.reason))
        };
        listed(&mut lines, heading, r.discounted.iter().map(line));
    }
    if !r.stale_governance.is_empty() {
        let heading = format!("{}:", crate::identity::roster::StaleGovernance::heading(r.stale_governance.len()));
        listed(&mut lines, heading, r.stale_governance.iter().map(|g| format!("  {}", g.line())));
    }
    if !r.forks.is_empty() {
        let heading = crate::workflow::verify::Forked::heading(r.forks.len());
        listed(&mut lines, heading, r.forks.iter().map(|f| f.line()));
    }
    Integrity {
        checked: true,
        intact: r.intact(),
        failure: r.failure.as_ref().map(|f| safe(&f.to_string())),
        not_read: r.failure.as_ref().is_some_and(|f| f.not_read),
        security,
        lines,
        elapsed_ms: r.elapsed.as_millis() as u64,
    }
}

/// `heading` and the first 20 of `items` under it, then how many more `rollcall verify` lists.
fn listed(lines: &mut Vec<String>, heading: String, items: impl ExactSizeIterator<Item = String>) {
    let n = items.len();
    lines.push(heading);
    lines.extend(items.take(20));
    if n > 20 {
        lines.push(format!("  … and {} more (`rollcall verify`)", n - 20));
    }
}

/// The members and their roles over time, for an auditor (`:members`).
pub(super) fn members_lines(members: &[crate::identity::roster::Member], next: crate::ledger::Pos) -> Vec<String> {
    use crate::ledger::pos::index_of;
    let mut out = vec![format!("{} members; roles as they changed, by log index", members.len()), String::new()];
    for m in members {
        let state = match m.revoked_at() {
            Some(at) => format!("revoked at {}", safe(at)),
            None if m.active_at(next) => "active".into(),
            None => "not active yet".into(),
        };
        out.push(format!("{}  {}  enrolled at #{}  {state}", safe(&m.name), m.key.key_id(), index_of(m.since)));
        for (pos, roles) in &m.roles {
            out.push(format!("    from #{:<6} {}", index_of(*pos), safe(&roles.join(", "))));
        }
    }
    out
}

/// Every policy version with what changed from the one before (`:policy`).
pub(super) fn policy_lines(versions: &[(crate::ledger::EntryId, u64, String)]) -> Vec<String> {
    let mut out = vec![format!("{} policy version(s), oldest first", versions.len())];
    for (i, (id, from, text)) in versions.iter().enumerate() {
        out.push(String::new());
        out.push(format!("version {} — entry {} — in force from #{from}", i + 1, id.short(12)));
        match i.checked_sub(1).map(|p| &versions[p].2) {
            None => out.push(format!(
                "    (the first: {} lines; `rollcall policy show` prints the one in force)",
                text.lines().count()
            )),
            Some(before) => {
                let changed = line_diff(before, text);
                if changed.is_empty() {
                    out.push("    (same text as the version before)".into());
                }
                out.extend(changed.into_iter().map(|l| format!("    {}", safe(&l))));
            }
        }
    }
    out
}

/// The lines removed (`-`) and added (`+`) from `a` to `b`, in order (a longest-common-subsequence diff;
/// policies are a few hundred lines).
pub(crate) fn line_diff(a: &str, b: &str) -> Vec<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let (n, m) = (a.len(), b.len());
    if n * m > 4_000_000 {
        return vec!["(too long to compare line by line)".into()];
    }
    // lcs[i][j]: the common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // A removal first, then what replaced it.
            out.push(format!("- {}", a[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", b[j]));
            j += 1;
        }
    }
    out
}

/// Open obligations, soonest due first (`:obligations`).
pub(super) fn obligation_lines(list: &[crate::workflow::query::OpenObligation]) -> Vec<String> {
    if list.is_empty() {
        return vec!["no open obligations".into()];
    }
    let mut out = vec![format!("{} open obligation(s), soonest due first", list.len()), String::new()];
    for o in list {
        let ob = &o.obligation;
        out.push(format!(
            "{}  {:<16} due {}  {}  {}",
            ob.request.short(12),
            ob.kind,
            ob.due.format("%Y-%m-%d %H:%M UTC"),
            if ob.overdue { "OVERDUE" } else { "open" },
            safe(&o.title)
        ));
    }
    out
}

/// The observed rollbacks no request cleared, newest first (at most [`MAX_ALERTS`]), as the queue draws them.
pub(super) fn alerts(r: &crate::workflow::reconcile::Reconciled) -> Vec<Alert> {
    let mut out: Vec<(chrono::DateTime<chrono::Utc>, Alert)> = r
        .unrecorded
        .iter()
        .map(|o| (o.at, alert(o, None)))
        .chain(r.unauthorized.iter().filter_map(|u| {
            let id = crate::ledger::Hash::from_hex(&u.request.id)?;
            Some((u.observation.at, alert(&u.observation, Some((id, safe(&u.why))))))
        }))
        .collect();
    out.sort_by_key(|a| std::cmp::Reverse(a.0));
    out.into_iter().take(MAX_ALERTS).map(|(_, a)| a).collect()
}

/// An observed deployment as the console shows it (and fills a request from), with the request that
/// did not clear it when there is one.
pub(super) fn alert(
    o: &crate::workflow::reconcile::Observation,
    request: Option<(crate::ledger::EntryId, String)>,
) -> Alert {
    let b = &o.observed;
    Alert {
        observation: o.id,
        rollback: b.rollback,
        request,
        source: safe(&b.source),
        env: safe(&b.env),
        component: safe(&b.component),
        revision: safe(&b.revision),
        from: b.from.as_deref().map(safe),
        to: safe(&b.to),
        at: safe(&b.at),
        artifact: b.artifact.as_deref().map(safe),
        by: b.by.as_deref().map(safe),
        description: b.description.as_deref().map(safe),
        recorded: Box::new(o.clone()),
    }
}

/// Most observed rollbacks the queue lists on top (`rollcall reconcile` lists them all).
pub(crate) const MAX_ALERTS: usize = 50;

#[cfg(test)]
mod tests {
    use super::*;

    /// A long list shows its first 20 and says how many more `rollcall verify` lists; 20 or fewer, all.
    #[test]
    fn a_long_list_is_cut_at_twenty_and_says_how_many_more() {
        let mut lines = Vec::new();
        listed(&mut lines, "heading".into(), (0..23).map(|i| format!("  item {i}")));
        assert_eq!(lines.len(), 22, "{lines:?}");
        assert_eq!((lines[0].as_str(), lines[20].as_str()), ("heading", "  item 19"));
        assert_eq!(lines[21], "  … and 3 more (`rollcall verify`)");
        let mut lines = Vec::new();
        listed(&mut lines, "heading".into(), (0..20).map(|i| format!("  item {i}")));
        assert_eq!((lines.len(), lines[20].as_str()), (21, "  item 19"));
    }

    #[test]
    fn the_policy_diff_names_the_lines_removed_and_added() {
        let a = "version = 1\n[approvals]\ncount = 1\nexpiry_hours = 24\n";
        let b = "version = 1\n[approvals]\ncount = 2\nexpiry_hours = 24\nself_approval = false\n";
        assert_eq!(line_diff(a, b), vec!["- count = 1", "+ count = 2", "+ self_approval = false"]);
        assert!(line_diff(a, a).is_empty());
        assert_eq!(line_diff("", "x"), vec!["+ x"]);
    }

    /// An entry two leaves hold is shown as its evidence line, without the signed checkpoints a fork has;
    /// a security failure with no evidence row behind it (a log cut back below what a witness saw) still
    /// raises the alarm (the title bar's SECURITY); any other failure does not.
    #[test]
    fn security_failures_raise_the_alarm() {
        let id = crate::ledger::Hash([7; 32]);
        let copy = crate::workflow::witness::copy_evidence(id, &[("a".into(), 3), ("b".into(), 9)]);
        let failure = crate::ledger::verify::Failure::new("b", None, None, "SECURITY: 1 equivocation recorded");
        let mut report = crate::workflow::verify::VerifyReport::nothing_checked(None, Some(failure));
        report.witnesses.equivocations.push(copy);
        let security = integrity_of(&report).security;
        assert_eq!(security.len(), 1, "{security:?}");
        assert!(
            security[0].starts_with("SECURITY: copy of origin b detected in this file: entry 0707"),
            "{security:?}"
        );
        assert!(security[0].contains("is held by 2 leaves (leaf 3 of a, leaf 9 of b)"), "{security:?}");
        let cut =
            crate::ledger::verify::Failure::new("a", None, None, "SECURITY: the log is shorter than a witness saw");
        let report = crate::workflow::verify::VerifyReport::nothing_checked(None, Some(cut));
        assert_eq!(integrity_of(&report).security.len(), 1);
        let other = crate::ledger::verify::Failure::new("a", Some(3), Some(id), "the statement does not hash to id");
        let report = crate::workflow::verify::VerifyReport::nothing_checked(None, Some(other));
        assert!(integrity_of(&report).security.is_empty());
    }

    /// After an integrity failure that stopped verification early, the integrity screen does not say that
    /// every signer counted or that no blob was checked: it says they were not checked.
    #[test]
    fn what_a_failure_stopped_is_shown_as_not_checked() {
        let failure = crate::ledger::verify::Failure::new(
            "-",
            None,
            None,
            "database is damaged: database disk image is malformed",
        );
        let mut report = crate::workflow::verify::VerifyReport::nothing_checked(None, Some(failure));
        let lines = integrity_of(&report).lines;
        let not = crate::workflow::verify::NOT_CHECKED;
        assert!(lines.contains(&format!("evidence: {not}")), "{lines:?}");
        assert!(lines.contains(&format!("authorization: {not}")), "{lines:?}");
        assert!(!lines.iter().any(|l| l.contains("every signer counted") || l.contains("match their digests")));
        (report.failure, report.evidence_checked, report.authorization_checked) = (None, true, true);
        let lines = integrity_of(&report).lines;
        assert!(lines.contains(&"authorization: every signer counted".to_string()), "{lines:?}");
        assert!(lines.contains(&"evidence: 0 blobs match their digests, 0 purged".to_string()), "{lines:?}");
    }
}
