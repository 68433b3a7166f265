//! `rollcall demo`: a realistic ledger to explore. Seven people with roles, forty requests over the last
//! ninety days in every state (pending work for an approver, approved, rejected, withdrawn, executed —
//! one partial, one failed and retried —, validated, closed, an emergency whose review is overdue, a
//! temporary revert about to expire), real JUnit and SARIF evidence, and requests raised from a git
//! repository the demo creates, so security flags appear. `scale` adds synthetic requests in batched
//! transactions for load tests.

use crate::audit::bodies::{CheckResult, Decision, Outcome, Resolution, ReviewKind};
use crate::audit::record::{Category, RequestBody, RevertOp, Risk};
use crate::identity::keyfile::KdfCost;
use crate::identity::passphrase::Given;
use crate::identity::{Keystore, Passphrase};
use crate::workflow::bulk::Planned;
use crate::workflow::clock;
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Duration, Utc};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

/// The passphrase of every demo key (printed on screen; the keys are throwaway).
pub const PASSPHRASE: &str = "demo-passphrase";

/// Who the demo's TUI opens as: an approver with work waiting.
pub const DEMO_USER: &str = "carol";

const PEOPLE: [(&str, &[&str]); 7] = [
    ("alice", &["admin", "auditor"]),
    ("bob", &["requester"]),
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
    /// A context for `who` in the demo (passphrase given).
    pub fn context(&self) -> Context {
        Context {
            ledger_path: self.ledger.clone(),
            keystore: Keystore::at(&self.home).throwaway(),
            passphrases: Box::new(Given(Passphrase::new(PASSPHRASE.into()))),
        }
    }
}

fn git(repo: &Path, args: &[&str], at: DateTime<Utc>) -> Result<String, WorkflowError> {
    let date = at.to_rfc3339();
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Priya Raman")
        .env("GIT_AUTHOR_EMAIL", "priya@payments.example")
        .env("GIT_COMMITTER_NAME", "Priya Raman")
        .env("GIT_COMMITTER_EMAIL", "priya@payments.example")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .map_err(|e| WorkflowError::Usage(format!("the demo needs git: {e}")))?;
    if !out.status.success() {
        return Err(WorkflowError::Usage(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn write(repo: &Path, path: &str, content: &str) -> Result<(), WorkflowError> {
    let p = repo.join(path);
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).map_err(|e| WorkflowError::Read(d.to_path_buf(), e))?;
    }
    std::fs::write(&p, content).map_err(|e| WorkflowError::Read(p.clone(), e))
}

/// Builds the demo's git repository; returns (commit message, sha) of the commits requests revert.
fn build_repo(repo: &Path, start: DateTime<Utc>) -> Result<Vec<(&'static str, String)>, WorkflowError> {
    std::fs::create_dir_all(repo).map_err(|e| WorkflowError::Read(repo.to_path_buf(), e))?;
    git(repo, &["init", "-q", "-b", "main"], start)?;
    write(
        repo,
        ".rollcall.toml",
        "[components]\n\"services/payments/\" = \"payments-api\"\n\"services/auth/\" = \"auth\"\n\"k8s/\" = \"cluster\"\n\"edge/\" = \"edge\"\n\"db/\" = \"ledger-db\"\n",
    )?;
    write(repo, "README.md", "# payments platform\n")?;
    write(
        repo,
        "Cargo.lock",
        "[[package]]\nname = \"openssl\"\nversion = \"0.10.50\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n",
    )?;
    write(repo, "edge/tls.conf", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\nssl_ciphers HIGH:!aNULL;\n")?;
    write(repo, "k8s/service.yaml", "kind: Service\nmetadata:\n  name: payments\nspec:\n  type: LoadBalancer\n")?;
    write(repo, "services/payments/config.py", "API_KEY = \"sk_live_51HxQ2eKq0xYz9AbCdEfGhIj\"\nTIMEOUT = 30\n")?;
    write(repo, "services/payments/parse.c", "int parse(char *s) { return strlen(s); }\n")?;
    git(repo, &["add", "-A"], start)?;
    git(repo, &["commit", "-q", "-m", "payments platform baseline"], start)?;
    let changes: [(&'static str, &str, &str); 7] = [
        (
            "Tighten the payments service account role",
            "k8s/role.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: payments\nrules:\n  - apiGroups: [\"\"]\n    resources: [\"configmaps\"]\n    verbs: [\"get\"]\n",
        ),
        (
            "Make the payments service cluster-internal",
            "k8s/service.yaml",
            "kind: Service\nmetadata:\n  name: payments\nspec:\n  type: ClusterIP\n",
        ),
        ("Require TLS 1.3 at the edge", "edge/tls.conf", "ssl_protocols TLSv1.3;\nssl_ciphers HIGH:!aNULL;\n"),
        (
            "Bump openssl to 0.10.66",
            "Cargo.lock",
            "[[package]]\nname = \"openssl\"\nversion = \"0.10.66\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n",
        ),
        (
            "Fix CVE-2024-3094-style overflow in the payment parser",
            "services/payments/parse.c",
            "int parse(char *s) { if (!s) return 0; return strnlen(s, 64); }\n",
        ),
        (
            "Add the currency column migration",
            "db/migrations/002_currency.sql",
            "ALTER TABLE payments ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR';\n",
        ),
        (
            "Read the payments API key from the vault",
            "services/payments/config.py",
            "API_KEY = os.environ[\"PAYMENTS_API_KEY\"]\nTIMEOUT = 30\n",
        ),
    ];
    let mut out = Vec::new();
    for (i, (message, path, content)) in changes.into_iter().enumerate() {
        let t = start + Duration::hours(6 * (i as i64 + 1));
        write(repo, path, content)?;
        git(repo, &["add", "-A"], t)?;
        git(repo, &["commit", "-q", "-m", message], t)?;
        out.push((message, git(repo, &["rev-parse", "HEAD"], t)?));
    }
    Ok(out)
}

/// A request id that is known once its filing step has run.
type Req = Rc<RefCell<String>>;

/// One scheduled step of the scenario.
type Step<'a> = Box<dyn FnOnce() -> Result<(), WorkflowError> + 'a>;

/// The scenario is written request by request, but every log must be appended in time order (an entry is
/// never stamped before what its log has already seen), so each step is scheduled at its time and the
/// plan runs sorted by time.
struct Scenario<'a> {
    demo: &'a Demo,
    evidence_dir: PathBuf,
    plan: RefCell<Vec<(DateTime<Utc>, usize, Step<'a>)>>,
}

impl<'a> Scenario<'a> {
    /// Schedules `f` to run with the clock at `t`.
    fn at(&self, t: DateTime<Utc>, f: impl FnOnce() -> Result<(), WorkflowError> + 'a) {
        let mut plan = self.plan.borrow_mut();
        let n = plan.len();
        plan.push((t, n, Box::new(f)));
    }

    /// Runs every scheduled step in time order (steps at the same time in the order they were planned).
    fn run(&self) -> Result<(), WorkflowError> {
        let mut plan = std::mem::take(&mut *self.plan.borrow_mut());
        plan.sort_by_key(|(t, n, _)| (*t, *n));
        for (t, _, f) in plan {
            clock::at(t, f)?;
        }
        Ok(())
    }

    fn record(&self, i: usize, title: &str, category: Category, env: &str, component: &str, risk: Risk) -> RequestBody {
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

    fn file(&self, name: &str) -> PathBuf {
        self.evidence_dir.join(name)
    }

    fn file_request(&self, who: &str, at: DateTime<Utc>, mut record: RequestBody) -> Req {
        // Most requests know when the reverted change was deployed (40 minutes to a day and a half
        // before); some do not, as in real life, so the report shows what it had to exclude.
        let n = record.title.len() as i64;
        if record.deployed_at.is_none() && n % 5 != 0 {
            let deployed = at - chrono::Duration::minutes(40 + (n * 37) % 2100);
            record.deployed_at = Some(deployed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        self.file_with(who, at, record, None)
    }

    fn file_with(
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

    fn evidence(&self, req: &Req, who: &str, at: DateTime<Utc>, name: &str, kind: &str) {
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

    fn decide(&self, req: &Req, who: &str, at: DateTime<Utc>, d: Decision, comment: &str) {
        let (demo, req, who, comment) = (self.demo, Rc::clone(req), who.to_string(), comment.to_string());
        self.at(at, move || {
            crate::workflow::decisions::decide(&demo.context(), Some(&who), &req.borrow(), d, &comment)?;
            Ok(())
        });
    }

    fn execute(&self, req: &Req, at: DateTime<Utc>, outcome: Outcome) {
        let (demo, req) = (self.demo, Rc::clone(req));
        self.at(at, move || {
            let x = crate::workflow::lifecycle::Execution {
                outcome,
                output_file: None,
                command: None,
                env: None,
                notes: None,
            };
            crate::workflow::lifecycle::execute(&demo.context(), Some("erin"), &req.borrow(), x)?;
            Ok(())
        });
    }

    fn validate(&self, req: &Req, at: DateTime<Utc>) {
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
    fn ready(&self, req: &Req, at: DateTime<Utc>) {
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

/// Builds the demo in `dir` (created; must not exist or be empty). `scale` adds synthetic requests.
pub fn build(dir: &Path, scale: usize, progress: &mut dyn FnMut(&str)) -> Result<Demo, WorkflowError> {
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(WorkflowError::Usage(format!("{} exists and is not empty; give another --dir", dir.display())));
    }
    crate::paths::create_private_dir(dir).map_err(|e| WorkflowError::Read(dir.to_path_buf(), e))?;
    let demo = Demo {
        dir: dir.to_path_buf(),
        home: dir.join("home"),
        ledger: dir.join("ledger.db"),
        requests: 0,
        entries: 0,
        synthetic: 0,
    };
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
        let r = s.record(
            i,
            "Emergency: roll back payments gateway — checkout down",
            Category::CriticalBug,
            "production",
            "payments-api",
            Risk::High,
        );
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

/// The origin name of the demo's second machine.
pub const JUMP_HOST: &str = "demo.rollcall.example/jump-host";

/// A second machine joins the ledger from a bundle (frank declares it), files a request and a note there,
/// and the two machines exchange bundles both ways, so each holds the other's log as a mirror and has
/// cosigned it. Returns the number of requests filed there.
fn jump_host<'a>(s: &Scenario<'a>, now: DateTime<Utc>) -> usize {
    let demo: &'a Demo = s.demo;
    let jump = move || Context { ledger_path: demo.dir.join("jump-host.db"), ..demo.context() };
    let to_jump = demo.dir.join("laptop-1.rollcall");
    let to_laptop = demo.dir.join("jump-host.rollcall");
    let at = now - Duration::hours(20);
    let file = to_jump.clone();
    s.at(at, move || {
        crate::workflow::sync::export(&demo.context(), &file, None, false, false)?;
        crate::workflow::sync::join(&jump(), &file, "frank", Some(JUMP_HOST))?;
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
            clock::at(at + Duration::minutes(21), || crate::workflow::sync::import(to, file))?;
        }
        Ok(())
    });
    1
}

/// Days of history the synthetic requests of `--scale` span, ending where the scenario begins.
const SYNTHETIC_DAYS: i64 = 400;

/// The origin name of the archive machine that holds the synthetic history of `--scale`.
pub const ARCHIVE: &str = "demo.rollcall.example/archive";

/// `--scale`: an archive machine joins from the ledger as it stood once everyone was enrolled, its log
/// receives `n` synthetic requests spread over the year before the scenario (every log is written in time
/// order, so last year's history cannot be appended to the laptop's log after this quarter's), and the
/// laptop imports it: one verified import of the whole history, like a machine that joins a busy ledger.
fn archive(
    demo: &Demo,
    enrolled: &Path,
    n: usize,
    begin: DateTime<Utc>,
    progress: &mut dyn FnMut(&str),
) -> Result<usize, WorkflowError> {
    let archive = Context { ledger_path: demo.dir.join("archive.db"), ..demo.context() };
    clock::at(begin, || crate::workflow::sync::join(&archive, enrolled, "alice", Some(ARCHIVE)))?;
    synthetic(&archive, n, begin + Duration::minutes(1), progress)?;
    let bundle = demo.dir.join("archive.rollcall");
    crate::workflow::sync::export(&archive, &bundle, None, false, false)?;
    progress("  the laptop imports the archive (every signature checked)");
    crate::workflow::sync::import(&demo.context(), &bundle)?;
    Ok(n)
}

/// Files `n` synthetic requests (half of them approved, none in production) on `ctx`'s own log through the bulk write path
/// (every request and approval checked by the rules a single one is), in batches of 2,000.
fn synthetic(
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
            ticket: None,
            incident: None,
            origin_env: None,
            cascades: vec![],
            security: None,
            lineage: Default::default(),
            test_plan: None,
            roll_forward_plan: None,
            temporary_until: None,
            side_effects: Default::default(),
            deployed_at: None,
            changeset: None,
            advisories: vec![],
        };
        // Production's tier asks for test evidence the synthetic requests do not carry: an approval there
        // would not count, and the write path refuses it. Half of all requests are approved: three in
        // four of those in staging and canary.
        let approved = env != "production" && i % 4 != 3;
        let approval = approved.then(|| (at + Duration::milliseconds(step_ms / 2), "synthetic approval".into()));
        Planned { record, at, approval }
    });
    crate::workflow::bulk::file_planned(ctx, "bob", "carol", &mut plan, 1000, &mut |done| {
        if done % 50_000 < 1000 || done == n {
            progress(&format!("  {done} of {n} synthetic requests"));
        }
    })
}
