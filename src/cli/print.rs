//! Printing what a command did: receipts of recorded entries, governance receipts, verification reports.
//! Shared by the command handlers; pure formatting lives in `render`.

use crate::cli::output;
use crate::say;
use crate::text::safe;
use crate::workflow::identity::GovernanceReceipt;
use crate::workflow::{self, Receipt, WorkflowError};
use serde_json::json;
use std::process::ExitCode;

/// Prints what an entry on a request got.
pub(crate) fn on_request(what: &str, r: &Receipt, request: &crate::ledger::EntryId, json: bool) {
    for w in &r.warnings {
        output::warn(w);
    }
    if json {
        output::json(&json!({
            "entry_id": r.entry_id.to_hex(), "request": request.to_hex(), "index": r.index, "size": r.size,
            "checkpointed": r.checkpointed, "warnings": r.warnings,
        }));
    } else {
        say!("recorded {what} {} on request {} (index {})", r.entry_id.short(16), request.short(12), r.index);
    }
}

/// Prints what a recorded entry got.
pub(crate) fn receipt(what: &str, r: &Receipt, json: bool) {
    for w in &r.warnings {
        output::warn(w);
    }
    if json {
        output::json(&json!({
            "entry_id": r.entry_id.to_hex(), "index": r.index, "size": r.size,
            "checkpointed": r.checkpointed, "warnings": r.warnings,
        }));
    } else {
        say!("recorded {what} {} at index {}", r.entry_id, r.index);
    }
}

/// Prints what a governance entry got: in effect, or how many admin signatures it still needs.
pub(crate) fn governance(what: &str, g: &GovernanceReceipt, json: bool) {
    for w in &g.receipt.warnings {
        output::warn(w);
    }
    if json {
        output::json(&json!({
            "entry_id": g.receipt.entry_id.to_hex(), "index": g.receipt.index, "proposal": g.proposal.to_hex(),
            "in_effect": g.in_effect, "signatures": {"have": g.signatures.0, "need": g.signatures.1},
        }));
    } else if g.in_effect {
        say!("recorded {what} {} (index {}); in effect", g.receipt.entry_id.short(16), g.receipt.index);
    } else {
        say!(
            "recorded {what} {} (index {}); pending: {} of {} admin signatures — another admin runs `rollcall cosign {}`",
            g.receipt.entry_id.short(16),
            g.receipt.index,
            g.signatures.0,
            g.signatures.1,
            g.proposal.short(12)
        );
    }
}

/// The verdict line of a verification report: OK, FAILED at the first thing found wrong, or NOT VERIFIED
/// when the file could not be read (its disk, a permission, another process): a verification that stopped
/// there found nothing wrong with the record, and does not say it did.
fn integrity_line(failure: Option<&crate::ledger::verify::Failure>) -> String {
    match failure {
        None => "integrity: OK (every entry, signature, leaf, tree hash and checkpoint checks out)".into(),
        Some(f) if f.not_read => {
            format!("integrity: NOT VERIFIED, the ledger could not be read at {}", safe(&f.to_string()))
        }
        Some(f) => format!("integrity: FAILED at {}", safe(&f.to_string())),
    }
}

/// Prints a verification report of the ledger (or bundle) named `what`.
pub(crate) fn print_verify(
    r: &workflow::verify::VerifyReport,
    what: &str,
    pin: Option<crate::ledger::Hash>,
    json: bool,
) -> Result<ExitCode, WorkflowError> {
    // `--ledger-id`: the id an intact file holds is its genesis entry's (verify fails a file whose metadata
    // says otherwise), so an intact file of another id is another ledger. A file that does not verify says
    // nothing of which ledger it is (its id is the metadata's, unsigned): not compared.
    let pinned_ok = pin.filter(|_| r.intact()).map(|want| r.ledger_id == Some(want));
    let audit = workflow::sync::AUDIT_ORIGIN;
    let witnesses: Vec<_> = r
        .witnesses
        .by_origin
        .iter()
        .map(|(o, ws)| json!({"origin": o, "witnesses": ws.iter().map(|w| json!({"witness": w.name, "size": w.size, "time": w.time})).collect::<Vec<_>>()}))
        .collect();
    let equivocations: Vec<_> = r
        .witnesses
        .equivocations
        .iter()
        .map(|e| {
            json!({"origin": e.origin, "kind": e.kind, "detected": e.detected, "detail": e.detail, "ours": e.ours,
            "theirs": e.theirs, "evidence": e.evidence_digest()})
        })
        .collect();
    let acknowledged: Vec<_> = r
        .witnesses
        .acknowledged
        .iter()
        .map(|(e, a)| json!({"origin": e.origin, "kind": e.kind, "detected": e.detected, "detail": e.detail,
            "evidence": e.evidence_digest(), "entry_id": a.entry.to_hex(), "by": a.by, "at": a.at, "finding": a.finding}))
        .collect();
    if json {
        let origins: Vec<_> = r
            .origins
            .iter()
            .map(|o| {
                json!({
                    "origin": o.origin, "vkey": o.vkey, "size": o.size, "verified": o.verified, "signatures": o.signatures,
                    "own": r.origins.first().map(|f| f.origin == o.origin).unwrap_or(false),
                    "checkpoints": o.checkpoints, "root": o.root.map(|h| h.to_hex()),
                    "latest_checkpoint": o.latest_checkpoint.map(|(s, h)| json!({"size": s, "root": h.to_hex()})),
                })
            })
            .collect();
        let completeness: Vec<_> = r
            .completeness
            .iter()
            .map(|c| {
                json!({
                    "origin": c.origin, "size": c.size, "checkpointed": c.checkpointed,
                    "unchecked_tail": c.unchecked_tail, "witnessed": c.witnessed, "statement": c.statement,
                })
            })
            .collect();
        let failure = r.failure.as_ref().map(|f| {
            json!({"origin": f.origin, "index": f.index, "entry_id": f.entry_id.map(|h| h.to_hex()), "problem": f.problem,
                "not_read": f.not_read})
        });
        let discounted: Vec<_> = r
            .discounted
            .iter()
            .map(|d| json!({"index": crate::ledger::pos::index_of(d.pos), "entry_id": d.id.to_hex(), "kind": d.kind, "reason": d.reason}))
            .collect();
        let purged: Vec<_> = r
            .blobs
            .purged
            .iter()
            .map(|(id, p)| json!({"evidence": id.to_hex(), "purged_by": p.actor.encode(), "at": crate::ledger::statement::format_ts(p.ts), "reason": p.reason, "entry_id": p.entry.to_hex()}))
            .collect();
        output::json(&json!({
            "witnesses": witnesses, "equivocations": equivocations, "acknowledged": acknowledged,
            "evidence": {"checked": r.blobs.checked, "purged": purged, "not_held": r.blobs.not_held},
            "evidence_checked": r.evidence_checked, "authorization_checked": r.authorization_checked,
            "does_not_count": discounted,
            "stale_governance": r.stale_governance.iter().map(|g| json!({
                "entry_id": g.id.to_hex(), "kind": g.kind, "index": crate::ledger::pos::index_of(g.pos), "at": g.at,
                "signatures": g.signatures, "policy": g.policy.to_hex(), "policy_at": g.policy_at, "needs": g.needs,
            })).collect::<Vec<_>>(),
            // Null when the requests' verdict was not reached (an integrity failure stopped it first).
            "forks": r.authorization_checked.then(|| r.forks.iter().map(|f| {
                let mut j = crate::cli::render::fork_json(&f.fork);
                j["request"] = json!(f.request.to_hex());
                j["index"] = json!(crate::ledger::pos::index_of(f.pos));
                j
            }).collect::<Vec<_>>()),
            "ledger": what, "ledger_id": r.ledger_id.map(|h| h.to_hex()), "intact": r.intact(),
            "ledger_id_expected": pin.map(|h| h.to_hex()), "ledger_id_matches": pinned_ok,
            "integrity": {"ok": r.intact(), "failure": failure},
            "completeness": completeness, "origins": origins, "elapsed_ms": r.elapsed.as_millis() as u64,
        }));
    } else {
        say!("ledger {} ({})", r.ledger_id.map(|h| h.to_hex()).unwrap_or_else(|| "?".into()), safe(what));
        match (pin, pinned_ok) {
            (Some(_), Some(true)) => say!("ledger id: the one --ledger-id names"),
            (Some(want), Some(false)) => {
                say!("ledger id: NOT ledger {} (--ledger-id): another ledger", want.to_hex())
            }
            (Some(_), None) => say!("ledger id: not compared with --ledger-id (the file does not verify)"),
            _ => {}
        }
        for o in r.origins.iter().filter(|o| o.origin != audit) {
            say!(
                "origin {}: {} of {} verified, {}, {}",
                safe(&o.origin),
                o.verified,
                output::count(o.size, "entry", "entries"),
                output::count(o.signatures, "signature", "signatures"),
                output::count(o.checkpoints, "checkpoint", "checkpoints")
            );
        }
        say!("{}", integrity_line(r.failure.as_ref()));
        for c in r.completeness.iter().filter(|c| c.origin != audit) {
            say!("completeness ({}): {}", safe(&c.origin), safe(&c.statement));
        }
        for e in &r.witnesses.equivocations {
            say!("{}", workflow::witness::equivocation_line(e));
            say!(
                "  evidence {}: once investigated, `rollcall acknowledge {} --finding ..` (admin or security approver)",
                e.evidence_digest(),
                &e.evidence_digest()[..16]
            );
        }
        for (e, a) in &r.witnesses.acknowledged {
            say!("{}", workflow::witness::acknowledged_line(e, a));
        }
        if r.evidence_checked {
            say!(
                "evidence: {} blob{} match their digests{}",
                r.blobs.checked,
                if r.blobs.checked == 1 { "" } else { "s" },
                if r.blobs.purged.is_empty() { String::new() } else { format!("; {} purged", r.blobs.purged.len()) }
            );
        } else {
            say!("evidence: {}", workflow::verify::NOT_CHECKED);
        }
        if r.blobs.not_held > 0 {
            say!(
                "  {} blob{} of other origins not held here (imported without evidence)",
                r.blobs.not_held,
                if r.blobs.not_held == 1 { "" } else { "s" }
            );
        }
        for (id, p) in &r.blobs.purged {
            say!(
                "  evidence {} purged by {} at {}: {}",
                id.short(12),
                p.actor.key_id(),
                p.ts.format("%Y-%m-%d %H:%M UTC"),
                safe(&p.reason)
            );
        }
        if !r.authorization_checked && r.discounted.is_empty() {
            say!("authorization: {}", workflow::verify::NOT_CHECKED);
        } else if r.discounted.is_empty() {
            say!("authorization: every entry's signer counted");
        } else {
            say!(
                "authorization: {}{} entr{} intact but do not count:",
                if r.authorization_checked {
                    String::new()
                } else {
                    format!("{}; found so far, ", workflow::verify::NOT_CHECKED)
                },
                r.discounted.len(),
                if r.discounted.len() == 1 { "y is" } else { "ies are" }
            );
            for d in &r.discounted {
                say!("  #{} {} {}: {}", crate::ledger::pos::index_of(d.pos), d.id.short(16), d.kind, safe(&d.reason));
            }
        }
        if !r.stale_governance.is_empty() {
            say!("{}:", crate::identity::roster::StaleGovernance::heading(r.stale_governance.len()));
            for g in &r.stale_governance {
                say!("  {}", g.line());
            }
        }
        if !r.authorization_checked {
            say!("forks: {}", workflow::verify::NOT_CHECKED);
        } else if !r.forks.is_empty() {
            say!("{}:", workflow::verify::Forked::heading(r.forks.len()));
            for f in &r.forks {
                say!("{}", f.line());
            }
        }
        say!("verified in {:.2} s", r.elapsed.as_secs_f64());
    }
    let ok = r.intact() && pinned_ok != Some(false);
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(crate::cli::EXIT_CHECK_FAILED) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::verify::Failure;

    /// A failure of the record is FAILED; a read the file refused is NOT VERIFIED, never FAILED; both
    /// name where, with untrusted text made safe.
    #[test]
    fn a_read_the_file_refused_is_not_called_a_failed_integrity() {
        assert!(integrity_line(None).starts_with("integrity: OK"));
        let wrong = Failure::new("laptop-1", Some(3), None, "signature does not verify\u{1b}[2J");
        assert_eq!(
            integrity_line(Some(&wrong)),
            "integrity: FAILED at origin laptop-1 index 3: signature does not verify<U+001B>[2J"
        );
        let unread = Failure {
            not_read: true,
            ..Failure::new("laptop-1", Some(3), None, "the ledger's disk failed: disk I/O error")
        };
        assert_eq!(
            integrity_line(Some(&unread)),
            "integrity: NOT VERIFIED, the ledger could not be read at origin laptop-1 index 3: the ledger's disk failed: disk I/O error"
        );
    }
}
