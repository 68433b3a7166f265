//! Shared helpers for the end-to-end tests: an isolated rollcall home, the binary with a clean
//! environment, and direct SQLite access for tampering.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub const PASS: &str = "correct horse battery";

/// A temporary ROLLCALL_HOME with its default ledger path.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env { dir: tempfile::tempdir().expect("tempdir") }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn ledger(&self) -> PathBuf {
        self.dir.path().join("ledger.db")
    }

    /// The rollcall binary with this home, the test passphrase and a fast KDF; nothing inherited that
    /// could point it elsewhere.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("rollcall").expect("binary");
        c.env_clear()
            .env("ROLLCALL_HOME", self.home())
            .env("ROLLCALL_PASSPHRASE", PASS)
            .env("ROLLCALL_INSECURE_FAST_KDF", "1")
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        c
    }

    /// [`Env::cmd`] as a `std::process::Command`, for a child the test talks to while it runs.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin!("rollcall"));
        c.env_clear()
            .env("ROLLCALL_HOME", self.home())
            .env("ROLLCALL_PASSPHRASE", PASS)
            .env("ROLLCALL_INSECURE_FAST_KDF", "1")
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        c
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.cmd().args(args).output().expect("run rollcall")
    }

    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "rollcall {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs and asserts the exit code, returning stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "rollcall {args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8(out.stderr).expect("utf-8 stderr");
        assert_eq!(err.trim_end().lines().count(), 1, "error must be one line: {err:?}");
        err
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ok(&a)).expect("json")
    }

    /// A key `alice` and a ledger she founded.
    pub fn with_ledger() -> Env {
        let env = Env::new();
        env.ok(&["key", "new", "alice"]);
        env.ok(&["init", "--admin", "alice", "--origin", "test.example/laptop"]);
        env
    }

    pub fn notes(&self, n: usize) {
        for i in 0..n {
            self.ok(&["note", &format!("note number {i}"), "--as", "alice"]);
        }
    }

    pub fn size(&self) -> u64 {
        self.json(&["log"])["size"].as_u64().expect("size")
    }

    /// A connection with the append-only triggers dropped, as an attacker with file access would.
    pub fn tamper(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(self.ledger()).expect("open");
        for t in [
            "meta",
            "origins",
            "entries",
            "refs",
            "leaves",
            "tree_hashes",
            "checkpoints",
            "cosignatures",
            "equivocations",
        ] {
            c.execute_batch(&format!("DROP TRIGGER IF EXISTS {t}_no_update; DROP TRIGGER IF EXISTS {t}_no_delete;"))
                .expect("drop triggers");
        }
        c
    }

    /// The unlocked key `name` of this home's keystore (`origins/*.key` for the origin key: name "origin").
    pub fn signing_key(&self, name: &str) -> ed25519_dalek::SigningKey {
        let path = if name == "origin" {
            std::fs::read_dir(self.home().join("origins")).expect("origins").next().expect("one").expect("entry").path()
        } else {
            self.home().join("keys").join(format!("{name}.key"))
        };
        let kf: rollcall::identity::keyfile::KeyFile =
            serde_json::from_slice(&std::fs::read(path).expect("key file")).expect("key json");
        kf.open(PASS).expect("unlock")
    }

    /// Writes `statement` into the file with plain INSERTs (no trigger touched), as someone with access to
    /// the file could: its entry with 64 bytes of 7 as signature, a `refs` row for each of its refs, and a
    /// leaf after the own log's last with a zero `prev` and effective time `ets`, which no checkpoint
    /// covers. Returns the entry id.
    pub fn forge_row(&self, statement: &rollcall::ledger::Statement, ets: i64) -> rollcall::ledger::Hash {
        let bytes = statement.canonical_bytes().expect("canonical");
        let id = rollcall::ledger::Hash::of(&[&bytes]);
        let c = rusqlite::Connection::open(self.ledger()).expect("open");
        let size: i64 =
            c.query_row("SELECT MAX(idx) + 1 FROM leaves WHERE origin = 1", [], |r| r.get(0)).expect("size");
        c.execute(
            "INSERT INTO entries (id, statement, signature, kind, actor, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![id.0, bytes, vec![7u8; 64], statement.kind, statement.actor, statement.ts],
        )
        .expect("entry");
        for r in &statement.refs {
            let r = rollcall::ledger::Hash::from_hex(r).expect("a ref");
            c.execute("INSERT INTO refs (ref, entry_id) VALUES (?1, ?2)", rusqlite::params![r.0, id.0]).expect("ref");
        }
        c.execute(
            "INSERT INTO leaves (origin, idx, entry_id, prev, ets) VALUES (1, ?1, ?2, ?3, ?4)",
            rusqlite::params![size, id.0, vec![0u8; 32], ets],
        )
        .expect("leaf");
        id
    }

    /// Appends `statement`, signed by `key` for this ledger, through the library with the origin key, as a
    /// rogue peer holding that key could (no workflow checks). Returns the entry id.
    pub fn append_raw(&self, statement: &rollcall::ledger::Statement, key: &ed25519_dalek::SigningKey) -> String {
        let mut l = rollcall::ledger::Ledger::open(&self.ledger()).expect("open");
        let signed = statement.sign(key, &l.domain()).expect("sign");
        l.append(std::slice::from_ref(&signed), None, &self.signing_key("origin"), i64::MAX).expect("append");
        signed.id.to_hex()
    }

    /// Appends `n` notes signed by `who` to the own log in one library call (fast: no process per note),
    /// enough to span many batches of the verification pipeline.
    pub fn bulk_notes(&self, who: &str, n: usize) {
        let key = self.signing_key(who);
        let mut l = rollcall::ledger::Ledger::open(&self.ledger()).expect("open");
        let actor = rollcall::ledger::PublicKey::from_signing(&key);
        let entries: Vec<_> = (0..n)
            .map(|i| {
                let body = serde_json::json!({ "text": format!("bulk {i}") });
                rollcall::ledger::Statement::new("note", &actor, body, &[]).sign(&key, &l.domain()).expect("sign")
            })
            .collect();
        l.append(&entries, None, &self.signing_key("origin"), i64::MAX).expect("append");
    }

    /// Pushes `entry` (with its `head`, unchecked) onto the own log behind the ledger's back, as a modified
    /// client could, and, with `checkpoint`, re-signs a checkpoint over it with the origin key (a leaf
    /// nothing vouches for otherwise). Returns its index.
    pub fn push_leaf(
        &self,
        entry: &rollcall::ledger::SignedStatement,
        head: &rollcall::ledger::statement::CheckedHead,
        checkpoint: bool,
    ) -> u64 {
        let l = rollcall::ledger::Ledger::open(&self.ledger()).expect("open");
        let own = l.own_origin().clone();
        let size = l.size(&own).expect("size");
        let mut tx = l.begin_import().expect("transaction");
        let mut w = tx.writer(&own, size).expect("writer");
        w.push(entry, Some(head)).expect("push");
        let root = w.root();
        drop(w);
        if checkpoint {
            let cp = rollcall::ledger::note::Checkpoint { origin: own.name.clone(), size: size + 1, root };
            tx.add_checkpoint(&own, size + 1, &cp.sign(&self.signing_key("origin")).serialize()).expect("checkpoint");
        }
        tx.commit().expect("commit");
        size
    }

    /// Pushes, as [`Env::push_leaf`] does, a note signed by alice whose statement no reader can parse (its
    /// text nested 200 levels deep), with a checkpoint over it. Returns its index.
    pub fn push_unreadable(&self) -> u64 {
        use ed25519_dalek::Signer;
        use rollcall::ledger::statement::CheckedHead;
        use rollcall::ledger::{Hash, Ledger, PublicKey, SignedStatement};
        let alice = self.signing_key("alice");
        let l = Ledger::open(&self.ledger()).expect("open");
        let actor = PublicKey::from_signing(&alice);
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let ts = rollcall::ledger::statement::now_ts();
        let bytes = format!(
            r#"{{"actor":"{}","body":{{"text":{deep}}},"kind":"note","refs":[],"ts":"{ts}","v":2}}"#,
            actor.encode()
        )
        .into_bytes();
        let pae = rollcall::ledger::dsse::pae(&rollcall::ledger::dsse::payload_type(&l.ledger_id()), &bytes);
        let signature = alice.sign(&pae).to_bytes();
        let entry = SignedStatement { id: Hash::of(&[&bytes]), bytes, signature };
        let head = CheckedHead { kind: "note".into(), actor, ts, refs: vec![] };
        drop(l);
        self.push_leaf(&entry, &head, true)
    }

    /// SHA-256 of the ledger file and of its WAL, to show a refusal changed nothing.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for suffix in ["", "-wal"] {
            let mut p = self.ledger().into_os_string();
            p.push(suffix);
            if let Ok(b) = std::fs::read(&p) {
                h.update(&b);
            }
        }
        hex::encode(h.finalize())
    }
}

impl Env {
    /// The ledger's content as `sqlite3 .dump` prints it: what issue 13 says a refusal leaves as it was.
    pub fn dump(&self) -> String {
        let out = std::process::Command::new("sqlite3").arg(self.ledger()).arg(".dump").output().expect("sqlite3");
        assert!(out.status.success(), "sqlite3 .dump: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `args`, which must be refused: a non-zero exit, one line on stderr, and the ledger's `.dump` as
    /// it was. Returns the error line.
    pub fn refuses(&self, args: &[&str]) -> String {
        self.refused_run(args).1
    }

    /// [`Env::refuses`], returning stdout and stderr.
    pub fn refused_run(&self, args: &[&str]) -> (String, String) {
        let before = self.dump();
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "rollcall {args:?} was not refused: {stdout}{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "rollcall {args:?}: the error must be one line: {err:?}");
        let after = self.dump();
        if after != before {
            let added: Vec<&str> = after.lines().filter(|l| !before.lines().any(|b| b == *l)).take(5).collect();
            let removed: Vec<&str> = before.lines().filter(|l| !after.lines().any(|a| a == *l)).take(5).collect();
            panic!(
                "rollcall {args:?} was refused ({}) but changed the ledger: +{added:#?} -{removed:#?}",
                err.trim_end()
            );
        }
        (stdout, err)
    }
}

impl Env {
    /// The public key (`ed25519:…`) of key `name` in this home's keystore.
    pub fn public_key(&self, name: &str) -> String {
        let keys = self.json(&["key", "list"]);
        keys["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["name"] == name)
            .and_then(|k| k["public_key"].as_str())
            .expect("key listed")
            .to_string()
    }

    /// Exports this ledger to `name` in this home and returns the path.
    pub fn export(&self, name: &str) -> String {
        self.export_as(name, None)
    }

    /// [`Env::export`] signed by `who` (a home with several keys needs one named).
    pub fn export_as(&self, name: &str, who: Option<&str>) -> String {
        let p = self.home().join(name);
        let mut args = vec!["export", "--out", p.to_str().expect("utf-8 path")];
        if let Some(who) = who {
            args.extend(["--as", who]);
        }
        self.ok(&args);
        p.to_string_lossy().into_owned()
    }

    /// Imports a bundle, asserting success; returns the JSON report.
    pub fn import(&self, bundle: &str) -> serde_json::Value {
        self.json(&["import", bundle])
    }

    /// The ledger's entries as (origin, index, entry id) over every origin, sorted: what two converged
    /// ledgers share.
    pub fn entry_set(&self) -> Vec<String> {
        let c = rusqlite::Connection::open_with_flags(self.ledger(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open");
        let mut stmt = c
            .prepare("SELECT o.name, l.idx, hex(l.entry_id) FROM leaves l JOIN origins o ON o.id = l.origin")
            .expect("prepare");
        let mut out: Vec<String> = stmt
            .query_map([], |r| {
                Ok(format!("{} {} {}", r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
            })
            .expect("query")
            .map(|r| r.expect("row"))
            .collect();
        out.sort();
        out
    }
}

/// A second machine joining `founder`'s ledger: key `name` is created in a new home, enrolled by alice
/// with `roles`, and the new home joins from a bundle of the founder's ledger as origin `origin`.
pub fn peer(founder: &Env, name: &str, origin: &str, roles: &[&str]) -> Env {
    peer_exported_by(founder, None, name, origin, roles)
}

/// [`peer`], the founder's bundle signed by `exporter` (a founder home with several keys, as [`team`]'s).
pub fn peer_exported_by(founder: &Env, exporter: Option<&str>, name: &str, origin: &str, roles: &[&str]) -> Env {
    let env = Env::new();
    env.ok(&["key", "new", name]);
    let key = env.public_key(name);
    let mut args = vec!["enroll", name, "--pubkey", &key, "--as", "alice"];
    for r in roles {
        args.extend(["--role", r]);
    }
    founder.ok(&args);
    let bundle = founder.export_as(&format!("for-{name}.rollcall"), exporter);
    env.ok(&["init", "--join", &bundle, "--as", name, "--origin", origin]);
    env
}

/// The checklist item `id` of an evaluation (`gate --json`, `show`'s `evaluation`), or null without one.
pub fn checklist_item(eval: &serde_json::Value, id: &str) -> serde_json::Value {
    eval["checklist"].as_array().and_then(|l| l.iter().find(|i| i["id"] == id).cloned()).unwrap_or_default()
}

/// The ids of the checklist items an evaluation leaves unmet, in its order.
pub fn unmet(eval: &serde_json::Value) -> Vec<&str> {
    eval["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["met"] == false)
        .map(|i| i["id"].as_str().unwrap())
        .collect()
}

/// Every file under `dir`, as paths relative to it, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("read_dir") {
            let p = e.expect("entry").path();
            out.push(p.strip_prefix(root).expect("under root").display().to_string());
            if p.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `init --join bundle --as member --origin origin` in a new home holding only `member`'s key (copied from
/// `keys_from`), which must be refused: a non-zero exit, one line on stderr, and the home left holding
/// exactly what it held before (no ledger, no temporary file, no origin key). Returns the error line.
pub fn join_refused(keys_from: &Env, member: &str, bundle: &str, origin: &str) -> String {
    let env = Env::new();
    std::fs::create_dir_all(env.home().join("keys")).expect("keys dir");
    let key = format!("keys/{member}.key");
    std::fs::copy(keys_from.home().join(&key), env.home().join(&key)).expect("copy key");
    let before = files_under(env.home());
    let args = ["init", "--join", bundle, "--as", member, "--origin", origin];
    let out = env.run(&args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "the join from {bundle} was not refused: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(err.trim_end().lines().count(), 1, "the error must be one line: {err:?}");
    assert_eq!(files_under(env.home()), before, "a refused join left files behind ({})", err.trim_end());
    err
}

/// A bundle file's lines, without their newlines.
pub fn bundle_lines(path: &str) -> Vec<Vec<u8>> {
    let b = std::fs::read(path).expect("read bundle");
    assert_eq!(b.last(), Some(&b'\n'), "a bundle ends with a newline");
    b[..b.len() - 1].split(|&c| c == b'\n').map(<[u8]>::to_vec).collect()
}

/// `lines` (without an end line) followed by the `end` line of their digest: a well-formed bundle of
/// whatever they hold.
pub fn sealed(lines: &[Vec<u8>]) -> Vec<u8> {
    use sha2::Digest;
    let mut body = Vec::new();
    for l in lines {
        body.extend_from_slice(l);
        body.push(b'\n');
    }
    let digest = hex::encode(sha2::Sha256::digest(&body));
    body.extend_from_slice(format!("end {digest}\n").as_bytes());
    body
}

/// Runs git in `dir` with a fixed identity, asserting success; returns its trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A copy of `env`'s whole home (keys, origin key, ledger): the same machine twice.
pub fn clone_home(env: &Env) -> Env {
    let copy = Env::new();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", env.home().display()))
        .arg(copy.home())
        .status()
        .expect("cp");
    assert!(status.success());
    copy
}

/// Verifies and returns (exit code, stdout JSON).
pub fn verify_json(env: &Env) -> (i32, serde_json::Value) {
    let out = env.run(&["--json", "verify"]);
    let v = serde_json::from_slice(&out.stdout).expect("verify json");
    (out.status.code().unwrap_or(-1), v)
}

/// Path of an example binary. `cargo test` builds examples; when only one test target was built, build
/// the example now.
pub fn example_bin(name: &str) -> PathBuf {
    let mut p = std::env::current_exe().expect("exe");
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    let bin = p.join("examples").join(name);
    if !bin.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--example", name])
            .status()
            .expect("cargo build --example");
        assert!(status.success());
    }
    bin
}

/// A ledger founded by alice (admin) with bob (requester), carol (approver), dave (security-approver),
/// erin (executor, release-manager) and frank (requester, approver) enrolled, all keys in one keystore.
pub fn team() -> Env {
    team_at(None)
}

/// [`team`], founded and enrolled at `now` (`ROLLCALL_NOW`) when given: a history built in the past must
/// start in the past, since no entry may be stamped before what its log already holds.
pub fn team_at(now: Option<&str>) -> Env {
    let env = Env::new();
    let run = |args: &[&str]| {
        let mut c = env.cmd();
        if let Some(t) = now {
            c.env("ROLLCALL_NOW", t);
        }
        let out = c.args(args).output().expect("run");
        assert!(out.status.success(), "rollcall {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    run(&["key", "new", "alice"]);
    run(&["init", "--admin", "alice", "--origin", "test.example/laptop"]);
    for (name, roles) in [
        ("bob", vec!["requester"]),
        ("carol", vec!["approver"]),
        ("dave", vec!["security-approver"]),
        ("erin", vec!["executor", "release-manager"]),
        ("frank", vec!["requester", "approver"]),
    ] {
        let k: serde_json::Value = serde_json::from_str(&run(&["--json", "key", "new", name])).expect("json");
        let mut args = vec!["enroll", name, "--pubkey", k["public_key"].as_str().unwrap(), "--as", "alice"];
        for r in &roles {
            args.push("--role");
            args.push(r);
        }
        run(&args);
    }
    env
}

/// The arguments of `request new` for a production revert of payments-api titled `title`, filed by `who`
/// with declared `risk`.
pub fn request_args<'a>(who: &'a str, title: &'a str, risk: &'a str) -> Vec<&'a str> {
    vec![
        "request",
        "new",
        "--as",
        who,
        "--title",
        title,
        "--change",
        "deploy-4411",
        "--category",
        "performance-regression",
        "--rationale",
        "p99 latency doubled after 4411",
        "--impact",
        "checkout slower for five minutes",
        "--component",
        "payments-api",
        "--env",
        "production",
        "--revert-cmd",
        "helm rollback payments 41",
        "--from",
        "42",
        "--to",
        "41",
        "--risk",
        risk,
    ]
}

/// Files a request as `who` with `risk`, returning its id.
pub fn file_request(env: &Env, who: &str, risk: &str) -> String {
    let v = env.json(&request_args(who, "Revert payments deploy 4411", risk));
    v["request"].as_str().unwrap().to_string()
}

/// Writes a small file in the env's home and returns its path.
pub fn file(env: &Env, name: &str, content: &str) -> String {
    let p = env.home().join(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_string()
}

/// Attaches a passing JUnit report (two tests) to `req` as `who`: what satisfies a `test` requirement.
pub fn tested(env: &Env, req: &str, who: &str) {
    let f = file(
        env,
        "junit.xml",
        r#"<testsuite name="smoke" tests="2"><testcase name="a"/><testcase name="b"/></testsuite>"#,
    );
    env.ok(&["evidence", "add", req, &f, "--kind", "test", "--as", who]);
}

/// Garbles the root page of table or index `name` of the ledger at `path` after its type byte and cell
/// count (as disk damage or a hand edit would), and returns the file's bytes as left.
pub fn garble_root_page(path: &Path, name: &str) -> Vec<u8> {
    let (page_size, root): (i64, i64) = {
        let c = rusqlite::Connection::open(path).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        (
            c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap(),
            c.query_row("SELECT rootpage FROM sqlite_master WHERE name = ?1", [name], |r| r.get(0)).unwrap(),
        )
    };
    let mut bytes = std::fs::read(path).unwrap();
    let start = ((root - 1) * page_size) as usize;
    bytes[start + 8..start + page_size as usize].fill(0xA5);
    std::fs::write(path, &bytes).unwrap();
    bytes
}

/// The console on `env`'s ledger as `signer`, `w` × `h`, without a terminal.
pub fn console(env: &Env, signer: &str, w: u16, h: u16) -> rollcall::tui::harness::Harness {
    use rollcall::identity::passphrase::Given;
    let ctx = rollcall::workflow::Context {
        ledger_path: env.ledger(),
        keystore: rollcall::identity::Keystore::at(env.home()).throwaway(),
        passphrases: Box::new(Given(rollcall::identity::Passphrase::new(PASS.into()))),
    };
    let opts = rollcall::tui::Options { read_only: false, signer: Some(signer.into()), banner: None };
    rollcall::tui::harness::Harness::new(ctx, opts, w, h)
}

/// What `signer`'s console offers on request `req` (its row opened from the queue listing every status:
/// `f`, the last choice, Enter).
pub fn console_can(env: &Env, signer: &str, req: &str) -> rollcall::tui::model::Can {
    use ratatui::crossterm::event::KeyCode;
    let mut h = console(env, signer, 120, 30);
    for key in [KeyCode::Char('f'), KeyCode::Char('k'), KeyCode::Enter] {
        h.press(key);
    }
    let row = h.state.queue.rows.iter().position(|r| r.id.to_hex() == req).expect("listed");
    for _ in 0..row {
        h.press(KeyCode::Char('j'));
    }
    h.press(KeyCode::Enter);
    h.state.detail.as_ref().and_then(|d| d.data.as_ref()).expect("detail").can.clone()
}
