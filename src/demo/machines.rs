//! The demo's other machines: the jump host that joins from a bundle and syncs both ways, and the archive
//! that holds `--scale`'s synthetic history, filed through the bulk write path and imported by the laptop.

use super::Demo;
use super::scenario::Scenario;
use crate::audit::record::{Category, RequestBody, RevertOp, Risk};
use crate::workflow::bulk::Planned;
use crate::workflow::clock;
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use crate::workflow::sync::IndexUpkeep;
use chrono::{DateTime, Duration, Utc};
use std::path::Path;

/// The origin name of the demo's second machine.
pub const JUMP_HOST: &str = "demo.rollcall.example/jump-host";

/// A second machine joins the ledger from a bundle (frank declares it), files a request and a note there,
/// and the two machines exchange bundles both ways, so each holds the other's log as a mirror and has
/// cosigned it. Returns the number of requests filed there.
pub(super) fn jump_host<'a>(s: &Scenario<'a>, now: DateTime<Utc>) -> usize {
    let demo: &'a Demo = s.demo;
    let jump = move || Context { ledger_path: demo.dir.join("jump-host.db"), ..demo.context() };
    let to_jump = demo.dir.join("laptop-1.rollcall");
    let to_laptop = demo.dir.join("jump-host.rollcall");
    let at = now - Duration::hours(20);
    let file = to_jump.clone();
    s.at(at, move || {
        crate::workflow::sync::export(&demo.context(), &file, None, false, false)?;
        crate::workflow::sync::join(&jump(), &file, "frank", Some(JUMP_HOST), None, IndexUpkeep::Now)?;
        Ok(())
    });
    let mut r = s.record(
        97,
        "Revert edge rate-limit change from the jump host",
        Category::PerformanceRegression,
        "production",
        "edge",
        Risk::Medium,
    );
    r.incident = Some("INC-997".into());
    s.at(at + Duration::minutes(10), move || {
        crate::workflow::requests::new_request(&jump(), Some("frank"), r, None)?;
        Ok(())
    });
    s.at(at + Duration::minutes(12), move || {
        let text = "Bastion access used for the edge rollback; session recorded.";
        crate::workflow::note::note(&jump(), Some("frank"), text, None)?;
        Ok(())
    });
    s.at(at + Duration::minutes(20), move || {
        let laptop = demo.context();
        for (from, to, file) in
            [(&jump(), &laptop, &to_laptop), (&laptop, &jump(), &to_jump), (&jump(), &laptop, &to_laptop)]
        {
            clock::at(at + Duration::minutes(20), || crate::workflow::sync::export(from, file, None, false, false))?;
            clock::at(at + Duration::minutes(21), || crate::workflow::sync::import(to, file, IndexUpkeep::Now))?;
        }
        Ok(())
    });
    1
}

/// Days of history the synthetic requests of `--scale` span, ending where the scenario begins.
pub(super) const SYNTHETIC_DAYS: i64 = 400;

/// The origin name of the archive machine that holds the synthetic history of `--scale`.
pub const ARCHIVE: &str = "demo.rollcall.example/archive";

/// `--scale`: an archive machine joins from the ledger as it stood once everyone was enrolled, its log
/// receives `n` synthetic requests spread over the year before the scenario (every log is written in time
/// order, so last year's history cannot be appended to the laptop's log after this quarter's), and the
/// laptop imports it: one verified import of the whole history, like a machine that joins a busy ledger.
pub(super) fn archive(
    demo: &Demo,
    enrolled: &Path,
    n: usize,
    begin: DateTime<Utc>,
    progress: &mut dyn FnMut(&str),
) -> Result<usize, WorkflowError> {
    let archive = Context { ledger_path: demo.dir.join("archive.db"), ..demo.context() };
    clock::at(begin, || {
        crate::workflow::sync::join(&archive, enrolled, "alice", Some(ARCHIVE), None, IndexUpkeep::Now)
    })?;
    synthetic(&archive, n, begin + Duration::minutes(1), progress)?;
    let bundle = demo.dir.join("archive.rollcall");
    crate::workflow::sync::export(&archive, &bundle, None, false, false)?;
    progress("  the laptop imports the archive (every signature checked)");
    crate::workflow::sync::import(&demo.context(), &bundle, IndexUpkeep::Now)?;
    Ok(n)
}

/// Files `n` synthetic requests (half of them approved, none in production) on `ctx`'s own log through the bulk write path
/// (every request and approval checked by the rules a single one is), in batches of 1,000.
pub(super) fn synthetic(
    ctx: &Context,
    n: usize,
    begin: DateTime<Utc>,
    progress: &mut dyn FnMut(&str),
) -> Result<usize, WorkflowError> {
    // Spread evenly and in order over SYNTHETIC_DAYS - 90 days before the scenario begins; each approval
    // half a step after its request.
    let step_ms = ((SYNTHETIC_DAYS - 91) * 86_400_000 / n.max(1) as i64).max(2);
    let mut plan = (0..n).map(|i| {
        let at = begin + Duration::milliseconds(i as i64 * step_ms);
        let comp = ["payments-api", "checkout", "auth", "search", "ledger-sync", "edge"][i % 6];
        let env = ["production", "staging", "canary"][i % 3];
        let record = RequestBody {
            title: format!("Synthetic rollback {i} of {comp}"),
            change: format!("deploy-s{i}"),
            category: Category::CriticalBug,
            rationale: "synthetic load-test request".into(),
            impact: "none".into(),
            components: vec![comp.into()],
            env: env.into(),
            revert: RevertOp {
                tool: "helm".into(),
                argv: vec!["helm".into(), "rollback".into(), comp.into(), i.to_string()],
                from: format!("s{i}b"),
                to: format!("s{i}a"),
            },
            risk: Risk::Low,
            ..Default::default()
        };
        // Production's tier asks for test evidence the synthetic requests do not carry: an approval there
        // would not count, and the write path refuses it. Half of all requests are approved: three in
        // four of those in staging and canary.
        let approved = env != "production" && i % 4 != 3;
        let approval = approved.then(|| (at + Duration::milliseconds(step_ms / 2), "synthetic approval".into()));
        Planned { record, at, approval }
    });
    // Each batch is signed with the clock set to its last planned time (as the scenario's entries are):
    // last year's history, which a release build otherwise refuses to sign (it signs at the real time
    // only), and never ahead of the clock it is checked against.
    let mut filer = crate::workflow::bulk::Filer::new(ctx, "bob", "carol")?;
    let mut filed = 0usize;
    loop {
        let batch: Vec<Planned> = (&mut plan).take(BATCH).collect();
        let Some(last) = batch.last().map(|p| p.approval.as_ref().map_or(p.at, |(when, _)| *when)) else {
            return Ok(filed);
        };
        filed += clock::at(last, || filer.file(batch))?;
        if filed % 50_000 < BATCH || filed == n {
            progress(&format!("  {filed} of {n} synthetic requests"));
        }
    }
}

/// Synthetic requests appended in one transaction, with one checkpoint.
const BATCH: usize = 1000;

#[cfg(test)]
mod tests {
    /// `demo --scale` signs last year's synthetic history with the clock set to it, so a release build
    /// (which signs at the real time only) builds it: it refused the first batch, and every benchmark
    /// that builds the million-entry ledger with the release binary failed. (`as_release` switches the
    /// clock's rules only; the keystore's acceptance of the demo's throwaway keys is tested apart.)
    #[test]
    fn the_release_clock_files_the_synthetic_history() {
        let dir = tempfile::tempdir().unwrap();
        let built =
            crate::workflow::clock::as_release(|| super::super::build(&dir.path().join("demo"), 1500, &mut |_| {}));
        assert_eq!(built.map(|d| d.synthetic).map_err(|e| e.to_string()), Ok(1500));
    }
}
