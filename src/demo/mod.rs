//! `rollcall demo`: a realistic ledger to explore. Seven people with roles, forty requests over the last
//! ninety days in every state (pending work for an approver, approved, rejected, withdrawn, executed —
//! one partial, one failed and retried —, validated, closed, an emergency whose review is overdue, a
//! temporary revert about to expire), real JUnit and SARIF evidence, and requests raised from a git
//! repository the demo creates, so security flags appear; the CD tools' histories (Helm, Kubernetes)
//! ingested, one rollback in them unrecorded. `scale` adds synthetic requests in batched
//! transactions for load tests.

mod deployments;
mod machines;
mod repo;
mod scenario;

use crate::audit::bodies::{Decision, Outcome, Resolution, ReviewKind};
use crate::audit::record::{Category, RevertOp, Risk};
use crate::identity::keyfile::KdfCost;
use crate::identity::passphrase::Given;
use crate::identity::{Keystore, Passphrase};
use crate::workflow::clock;
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use chrono::Duration;
use machines::{SYNTHETIC_DAYS, archive, jump_host};
use repo::build_repo;
use scenario::Scenario;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The passphrase of every demo key (printed on screen; the keys are throwaway).
pub const PASSPHRASE: &str = "demo-passphrase";

/// Who the demo's TUI opens as: an approver with work waiting.
pub const DEMO_USER: &str = "carol";

const PEOPLE: [(&str, &[&str]); 7] = [
    ("alice", &["admin", "auditor"]),
    ("bob", &["requester", "on-call"]),
    ("carol", &["approver"]),
    ("dave", &["security-approver"]),
    ("erin", &["executor", "release-manager"]),
    ("frank", &["requester", "approver"]),
    ("grace", &["auditor"]),
];

const FILES: [(&str, &[u8]); 8] = [
    ("junit-surefire.xml", include_bytes!("../../assets/demo/junit-surefire.xml")),
    ("jest-junit.xml", include_bytes!("../../assets/demo/jest-junit.xml")),
    ("junit-nextest.xml", include_bytes!("../../assets/demo/junit-nextest.xml")),
    ("smoke-pass.xml", include_bytes!("../../assets/demo/smoke-pass.xml")),
    ("trivy.sarif", include_bytes!("../../assets/demo/trivy.sarif")),
    ("semgrep.sarif", include_bytes!("../../assets/demo/semgrep.sarif")),
    ("codeql.sarif", include_bytes!("../../assets/demo/codeql.sarif")),
    ("compliance.json", include_bytes!("../../assets/demo/compliance.json")),
];

/// What `demo` built.
#[derive(Clone, Debug)]
pub struct Demo {
    pub dir: PathBuf,
    pub home: PathBuf,
    pub ledger: PathBuf,
    pub requests: usize,
    pub entries: u64,
    pub synthetic: usize,
}

impl Demo {
    /// The demo laid out in `dir` (its home, its ledger) as `build` makes it; the counts are unknown.
    pub fn at(dir: &Path) -> Demo {
        Demo {
            dir: dir.to_path_buf(),
            home: dir.join("home"),
            ledger: dir.join("ledger.db"),
            requests: 0,
            entries: 0,
            synthetic: 0,
        }
    }

    /// A context for `who` in the demo (passphrase given).
    pub fn context(&self) -> Context {
        Context {
            ledger_path: self.ledger.clone(),
            keystore: Keystore::at(&self.home).throwaway(),
            passphrases: Box::new(Given(Passphrase::new(PASSPHRASE.into()))),
        }
    }
}

/// Builds the demo in `dir` (created; must not exist or be empty). `scale` adds synthetic requests.
pub fn build(dir: &Path, scale: usize, progress: &mut dyn FnMut(&str)) -> Result<Demo, WorkflowError> {
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(WorkflowError::Usage(format!("{} exists and is not empty; give another --dir", dir.display())));
    }
    crate::paths::create_private_dir(dir).map_err(|e| WorkflowError::Read(dir.to_path_buf(), e))?;
    let demo = Demo::at(dir);
    let ctx = demo.context();
    let pass = Passphrase::new(PASSPHRASE.into());
    let now = clock::now();
    let start = now - Duration::days(91);
    // Synthetic history (with --scale) spans the year before the scenario, so the ledger starts earlier.
    let founded = if scale > 0 { now - Duration::days(SYNTHETIC_DAYS + 1) } else { start };
    progress("people and keys");
    for (name, _) in PEOPLE {
        ctx.keystore.create_with(name, &pass, KdfCost::Throwaway)?;
    }
    // Mark the keystore as the demo's, so its throwaway keys also open in later commands of a release build
    // (`key list` shows them as weak).
    let marker = demo.home.join(crate::identity::keystore::DEMO_MARKER);
    crate::paths::write_private(&marker, b"keys made by `rollcall demo`: throwaway, their passphrase is public\n")
        .map_err(|e| WorkflowError::Read(marker.clone(), e))?;
    clock::at(founded, || {
        crate::workflow::init::init_with(
            &ctx,
            "alice",
            Some("demo.rollcall.example/laptop-1"),
            None,
            KdfCost::Throwaway,
        )
    })?;
    for (i, (name, roles)) in PEOPLE.iter().enumerate().skip(1) {
        let key = ctx.keystore.info(name)?.public_key.encode();
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        clock::at(founded + Duration::minutes(i as i64), || {
            crate::workflow::identity::enroll(&ctx, Some("alice"), name, &key, &roles)
        })?;
    }
    let evidence_dir = dir.join("evidence");
    crate::paths::create_private_dir(&evidence_dir).map_err(|e| WorkflowError::Read(evidence_dir.clone(), e))?;
    for (name, bytes) in FILES {
        std::fs::write(evidence_dir.join(name), bytes).map_err(|e| WorkflowError::Read(evidence_dir.join(name), e))?;
    }
    progress("a git repository with the changes to revert");
    let repo = dir.join("repo");
    let commits = build_repo(&repo, start)?;
    // The ledger as it stood once everyone was enrolled: the archive machine of `--scale` joins from it.
    let enrolled = dir.join("enrolled.rollcall");
    if scale > 0 {
        clock::at(founded + Duration::minutes(9), || {
            crate::workflow::sync::export(&ctx, &enrolled, None, false, false)
        })?;
    }
    let built = demo;
    let demo = &built;
    let s = Scenario { demo, evidence_dir, plan: RefCell::new(Vec::new()) };
    let components = ["payments-api", "checkout", "auth", "search", "ledger-sync", "edge", "notifications"];
    let envs = ["production", "production", "staging", "canary"];
    let titles = [
        "Roll back checkout deploy: p99 latency doubled",
        "Revert search indexer: stale results after schema change",
        "Roll back auth session refactor: logins failing for SSO users",
        "Revert notifications batching: duplicate emails",
        "Roll back ledger-sync: reconciliation lag over 10 minutes",
        "Revert payments retry policy: double charges reported",
        "Roll back edge cache rules: 502s on product pages",
    ];
    progress("forty requests over ninety days");
    let mut n = 0usize;
    let day = |d: i64| now - Duration::days(d);
    // 1. Closed, validated and executed histories (older).
    for i in 0..16 {
        let at = day(88 - i as i64 * 4);
        let env = envs[i % envs.len()];
        let comp = components[i % components.len()];
        let r = s.record(
            i,
            titles[i % titles.len()],
            [Category::CriticalBug, Category::PerformanceRegression, Category::DataIntegrity][i % 3],
            env,
            comp,
            Risk::Medium,
        );
        let req = s.file_request(if i % 2 == 0 { "bob" } else { "frank" }, at, r);
        n += 1;
        s.ready(&req, at + Duration::minutes(10));
        let outcome = match i {
            5 => Outcome::Partial,
            9 => Outcome::Failed,
            _ => Outcome::Succeeded,
        };
        s.execute(&req, at + Duration::hours(2), outcome);
        if i == 9 {
            s.execute(&req, at + Duration::hours(3), Outcome::Succeeded);
        }
        if i % 4 != 3 {
            s.validate(&req, at + Duration::hours(4));
        }
        if i < 10 {
            let res = if i % 3 == 0 { Resolution::RolledForward } else { Resolution::MadePermanent };
            let req = Rc::clone(&req);
            s.at(at + Duration::days(2), move || {
                let why = "Root cause fixed in the next release.";
                crate::workflow::lifecycle::close(&demo.context(), Some("erin"), &req.borrow(), res, None, why)?;
                Ok(())
            });
        }
        if i % 5 == 0 {
            s.at(at + Duration::days(3), move || {
                crate::workflow::lifecycle::review(
                    &demo.context(),
                    Some("alice"),
                    &req.borrow(),
                    ReviewKind::PostIncident,
                    "Rollback was the right call; detection took too long.",
                    vec!["Alert on p99 per endpoint".into()],
                )?;
                Ok(())
            });
        }
    }
    // 2. Rejected and withdrawn.
    for i in 16..22 {
        let at = day(60 - (i as i64 - 16) * 6);
        let r = s.record(
            i,
            titles[i % titles.len()],
            Category::PerformanceRegression,
            envs[i % 4],
            components[i % 7],
            Risk::Low,
        );
        let req = s.file_request("bob", at, r);
        n += 1;
        if i < 19 {
            s.evidence(&req, "bob", at + Duration::minutes(5), "jest-junit.xml", "test");
            s.decide(
                &req,
                "dave",
                at + Duration::hours(1),
                Decision::Reject,
                "Two failing tests in the target release; fix forward instead.",
            );
        } else {
            s.at(at + Duration::hours(2), move || {
                let why = "The issue was a dashboard bug, not the deploy.";
                crate::workflow::requests::withdraw(&demo.context(), Some("bob"), &req.borrow(), why)?;
                Ok(())
            });
        }
    }
    // 3. Emergencies: one reviewed, one with its review overdue.
    for (i, days_ago, reviewed) in [(22usize, 30i64, true), (23, 5, false)] {
        let at = day(days_ago);
        let mut r = s.record(
            i,
            "Emergency: roll back payments gateway — checkout down",
            Category::CriticalBug,
            "production",
            "payments-api",
            Risk::High,
        );
        if i == 23 {
            // The latest deploy of payments-api, as the demo's Helm history numbers it.
            r.revert.argv[3] = "4270".into();
            (r.revert.from, r.revert.to) = ("4271".into(), "4270".into());
        }
        let req = s.file_request("bob", at, r);
        n += 1;
        let r2 = Rc::clone(&req);
        s.at(at + Duration::minutes(3), move || {
            crate::workflow::decisions::emergency(
                &demo.context(),
                Some("erin"),
                &r2.borrow(),
                "Checkout is failing for every customer; no approver reachable at 03:10.",
            )?;
            Ok(())
        });
        s.execute(&req, at + Duration::minutes(6), Outcome::Succeeded);
        if reviewed {
            s.at(at + Duration::days(1), move || {
                crate::workflow::lifecycle::review(
                    &demo.context(),
                    Some("alice"),
                    &req.borrow(),
                    ReviewKind::PostHoc,
                    "Break-glass was justified; paging escalation fixed.",
                    vec!["Second on-call approver".into()],
                )?;
                Ok(())
            });
        }
    }
    // 4. A temporary revert about to expire.
    {
        let at = day(10);
        let mut r = s.record(
            24,
            "Temporarily disable the new fraud model (false positives)",
            Category::CriticalBug,
            "production",
            "payments-api",
            Risk::Medium,
        );
        r.temporary_until = Some(crate::ledger::statement::format_ts(now + Duration::days(1)));
        let req = s.file_request("frank", at, r);
        n += 1;
        s.ready(&req, at + Duration::minutes(10));
        s.execute(&req, at + Duration::hours(1), Outcome::Succeeded);
    }
    // 5. Approved and ready (recent).
    for i in 25..29 {
        let at = now - Duration::hours(30 - (i as i64 - 25) * 5);
        let r = s.record(
            i,
            titles[i % titles.len()],
            Category::PerformanceRegression,
            envs[i % 4],
            components[i % 7],
            Risk::Medium,
        );
        let req = s.file_request("bob", at, r);
        n += 1;
        s.ready(&req, at + Duration::minutes(10));
    }
    // 6. Pending work for the approver: plain ones and ones raised from git (flags).
    for i in 29..33 {
        let at = now - Duration::hours(20 - (i as i64 - 29) * 4);
        let r = s.record(
            i,
            titles[i % titles.len()],
            [Category::CriticalBug, Category::Compliance][i % 2],
            envs[i % 4],
            components[i % 7],
            Risk::Medium,
        );
        let req = s.file_request(if i % 2 == 0 { "bob" } else { "frank" }, at, r);
        n += 1;
        s.evidence(
            &req,
            "bob",
            at + Duration::minutes(5),
            if i % 2 == 0 { "junit-surefire.xml" } else { "junit-nextest.xml" },
            "test",
        );
        if i == 30 {
            s.evidence(&req, "bob", at + Duration::minutes(6), "compliance.json", "compliance");
        }
    }
    for (k, (message, sha)) in commits.iter().enumerate() {
        let at = now - Duration::hours(12 - k as i64);
        let g = crate::workflow::requests::from_git(&repo, sha)?;
        let mut r = s.record(
            33 + k,
            &format!("Revert \"{message}\""),
            Category::SecurityPatch,
            "production",
            "payments-api",
            Risk::Medium,
        );
        r.revert = RevertOp { tool: "git".into(), argv: g.argv.clone(), from: g.from.clone(), to: g.to.clone() };
        r.change = sha[..12].to_string();
        r.components = g.components.clone();
        r.lineage.commits = g.changeset.commits.iter().map(|c| c.id.clone()).collect();
        r.security = Some("Reverting a hardening change; see the flags.".into());
        let req = s.file_with("bob", at, r, Some(g.changeset));
        n += 1;
        if k % 2 == 0 {
            s.evidence(
                &req,
                "bob",
                at + Duration::minutes(5),
                ["semgrep.sarif", "codeql.sarif", "trivy.sarif"][k % 3],
                "scan",
            );
        }
    }
    // A digest that must not come back.
    s.at(day(40), move || {
        crate::workflow::lifecycle::mark_bad(
            &demo.context(),
            Some("dave"),
            "registry.example.com/checkout@sha256:0000000000000000000000000000000000000000000000000000000000001015",
            "ships a known-vulnerable libxml2",
        )?;
        Ok(())
    });
    n += jump_host(&s, now);
    progress("a second machine (the jump host) joined and synced");
    s.run()?;
    drop(s);
    progress("deployment histories: Helm (payments-api) and Kubernetes (search, one unrecorded rollback)");
    deployments::ingest(&ctx, dir, "erin", now)?;
    let mut demo = built;
    demo.requests = n;
    if scale > 0 {
        progress(&format!("{scale} synthetic requests on an archive machine"));
        demo.synthetic = archive(&demo, &enrolled, scale, founded + Duration::minutes(10), progress)?;
    }
    // Every append and import kept the request index current; bring it to `now` (a no-op when it is).
    let ledger = ctx.open()?;
    crate::workflow::index::refresh(&ledger, now)?;
    demo.entries = ledger.origins()?.iter().map(|o| ledger.size(o)).sum::<Result<u64, _>>()?;
    Ok(demo)
}

pub use machines::{ARCHIVE, JUMP_HOST};
