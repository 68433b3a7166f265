//! The scenario runner: steps written request by request, each scheduled at its time, run in time order
//! with the clock set to it (every log is appended in time order), and the helpers that file, decide and
//! attach evidence as the demo's people.

use super::Demo;
use crate::audit::bodies::{CheckResult, Decision, Outcome};
use crate::audit::record::{Category, RequestBody, RevertOp, Risk};
use crate::workflow::clock;
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Duration, Utc};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

/// A request id that is known once its filing step has run.
pub(super) type Req = Rc<RefCell<String>>;

/// One scheduled step of the scenario.
pub(super) type Step<'a> = Box<dyn FnOnce() -> Result<(), WorkflowError> + 'a>;

/// The scenario is written request by request, but every log must be appended in time order (an entry is
/// never stamped before what its log has already seen), so each step is scheduled at its time and the
/// plan runs sorted by time.
pub(super) struct Scenario<'a> {
    pub(super) demo: &'a Demo,
    pub(super) evidence_dir: PathBuf,
    pub(super) plan: RefCell<Vec<(DateTime<Utc>, usize, Step<'a>)>>,
}

impl<'a> Scenario<'a> {
    /// Schedules `f` to run with the clock at `t`.
    pub(super) fn at(&self, t: DateTime<Utc>, f: impl FnOnce() -> Result<(), WorkflowError> + 'a) {
        let mut plan = self.plan.borrow_mut();
        let n = plan.len();
        plan.push((t, n, Box::new(f)));
    }

    /// Runs every scheduled step in time order (steps at the same time in the order they were planned).
    pub(super) fn run(&self) -> Result<(), WorkflowError> {
        let mut plan = std::mem::take(&mut *self.plan.borrow_mut());
        plan.sort_by_key(|(t, n, _)| (*t, *n));
        for (t, _, f) in plan {
            clock::at(t, f)?;
        }
        Ok(())
    }

    pub(super) fn record(
        &self,
        i: usize,
        title: &str,
        category: Category,
        env: &str,
        component: &str,
        risk: Risk,
    ) -> RequestBody {
        let deploy = 4100 + i * 7;
        RequestBody {
            title: title.to_string(),
            change: format!("deploy-{deploy}"),
            ticket: Some(format!("OPS-{}", 2200 + i)),
            incident: (i % 3 == 0).then(|| format!("INC-{}", 800 + i)),
            category,
            rationale: format!(
                "{title}: error budget burn after deploy {deploy}; the previous release was healthy for two weeks."
            ),
            impact: "Requests in flight during the rollout may see one retry; no data migration.".into(),
            components: vec![component.to_string()],
            env: env.to_string(),
            origin_env: Some(if env == "production" { "canary".into() } else { env.to_string() }),
            cascades: if component == "checkout" { vec!["payments-api".into()] } else { vec![] },
            revert: RevertOp {
                tool: "helm".into(),
                argv: vec![
                    "helm".into(),
                    "rollback".into(),
                    component.to_string(),
                    format!("{}", deploy - 1),
                    "--namespace".into(),
                    env.to_string(),
                ],
                from: format!("{deploy}"),
                to: format!("{}", deploy - 1),
            },
            risk,
            security: None,
            lineage: crate::audit::record::Lineage {
                images: vec![format!("registry.example.com/{component}@sha256:{:064x}", deploy)],
                ..Default::default()
            },
            test_plan: Some("Run the post-rollback smoke suite; watch p99 and the error rate for 15 minutes.".into()),
            roll_forward_plan: Some(format!("Fix forward in deploy {} once the root cause is understood.", deploy + 1)),
            temporary_until: None,
            side_effects: Default::default(),
            deployed_at: None,
            changeset: None,
            advisories: Vec::new(),
        }
    }

    pub(super) fn file(&self, name: &str) -> PathBuf {
        self.evidence_dir.join(name)
    }

    pub(super) fn file_request(&self, who: &str, at: DateTime<Utc>, mut record: RequestBody) -> Req {
        // Most requests know when the reverted change was deployed (40 minutes to a day and a half
        // before); some do not, as in real life, so the report shows what it had to exclude.
        let n = record.title.len() as i64;
        if record.deployed_at.is_none() && n % 5 != 0 {
            let deployed = at - chrono::Duration::minutes(40 + (n * 37) % 2100);
            record.deployed_at = Some(deployed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        self.file_with(who, at, record, None)
    }

    pub(super) fn file_with(
        &self,
        who: &str,
        at: DateTime<Utc>,
        record: RequestBody,
        changeset: Option<crate::analysis::changeset::ChangeSet>,
    ) -> Req {
        let req: Req = Rc::default();
        let (demo, who, out) = (self.demo, who.to_string(), Rc::clone(&req));
        self.at(at, move || {
            let r = crate::workflow::requests::new_request(&demo.context(), Some(&who), record, changeset)?;
            *out.borrow_mut() = r.entry_id.to_hex();
            Ok(())
        });
        req
    }

    pub(super) fn evidence(&self, req: &Req, who: &str, at: DateTime<Utc>, name: &str, kind: &str) {
        let (demo, req, who, kind, file) =
            (self.demo, Rc::clone(req), who.to_string(), kind.to_string(), self.file(name));
        self.at(at, move || {
            crate::workflow::lifecycle::attach_evidence(
                &demo.context(),
                Some(&who),
                &req.borrow(),
                &kind,
                Some(&file),
                None,
                Some("ci"),
            )?;
            Ok(())
        });
    }

    pub(super) fn decide(&self, req: &Req, who: &str, at: DateTime<Utc>, d: Decision, comment: &str) {
        let (demo, req, who, comment) = (self.demo, Rc::clone(req), who.to_string(), comment.to_string());
        self.at(at, move || {
            crate::workflow::decisions::decide(&demo.context(), Some(&who), &req.borrow(), d, &comment)?;
            Ok(())
        });
    }

    pub(super) fn execute(&self, req: &Req, at: DateTime<Utc>, outcome: Outcome) {
        let (demo, req) = (self.demo, Rc::clone(req));
        self.at(at, move || {
            let x = crate::workflow::lifecycle::Execution::plain(outcome);
            crate::workflow::lifecycle::execute(&demo.context(), Some("erin"), &req.borrow(), x)?;
            Ok(())
        });
    }

    pub(super) fn validate(&self, req: &Req, at: DateTime<Utc>) {
        let (demo, req, ev) = (self.demo, Rc::clone(req), self.file("smoke-pass.xml"));
        self.at(at, move || {
            let checks = vec![
                crate::audit::bodies::Check { name: "smoke".into(), result: CheckResult::Pass },
                crate::audit::bodies::Check { name: "p99 < 300 ms".into(), result: CheckResult::Pass },
            ];
            crate::workflow::lifecycle::validate(
                &demo.context(),
                Some("erin"),
                &req.borrow(),
                CheckResult::Pass,
                checks,
                Some(&ev),
                None,
            )?;
            Ok(())
        });
    }

    /// Tests and a scan, then the two approvals a high tier needs.
    pub(super) fn ready(&self, req: &Req, at: DateTime<Utc>) {
        self.evidence(req, "bob", at, "junit-nextest.xml", "test");
        self.evidence(req, "bob", at + Duration::minutes(2), "trivy.sarif", "scan");
        self.decide(
            req,
            "carol",
            at + Duration::minutes(20),
            Decision::Approve,
            "Error graphs match the deploy; rollback target is the last healthy release.",
        );
        self.decide(
            req,
            "dave",
            at + Duration::minutes(35),
            Decision::Approve,
            "No security regression in the target release; scan reviewed.",
        );
    }
}
