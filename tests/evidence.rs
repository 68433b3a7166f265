//! Evidence end to end: real-shaped reports of each producer, and every bad input issue 4 names — each
//! refusal leaving the ledger unchanged.

mod common;
use common::{Env, file, file_request, team, tested, verify_json};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn attach(env: &Env, req: &str, path: &str, kind: &str) -> serde_json::Value {
    env.json(&["evidence", "add", req, path, "--kind", kind, "--as", "bob"])
}

fn evidence_of(env: &Env, req: &str) -> Vec<serde_json::Value> {
    env.json(&["show", req])["evidence"].as_array().unwrap().clone()
}

#[test]
fn junit_dialects_are_summarised() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    for (f, summary) in [
        ("junit-surefire.xml", "4 tests, 2 passed, 1 failed, 0 errors, 1 skipped"),
        ("junit-pytest.xml", "3 tests, 2 passed, 0 failed, 1 errors"),
        ("junit-nextest.xml", "3 tests, 3 passed, 0 failed"),
        ("jest-junit.xml", "3 tests, 1 passed, 2 failed"),
    ] {
        attach(&env, &req, &fixture(f), "test");
        let ev = evidence_of(&env, &req);
        let last = &ev[ev.len() - 1]["body"];
        assert_eq!(last["format"], "junit", "{f}");
        assert!(last["summary"].as_str().unwrap().contains(summary), "{f}: {last}");
    }
    let ev = evidence_of(&env, &req);
    let surefire = ev[0]["entry_id"].as_str().unwrap();
    let shown = env.ok(&["evidence", "show", &surefire[..10]]);
    assert!(shown.contains("FAILURE com.example.payments.RefundServiceTest::rejectsRefundAfterSettlement: expected: <409> but was: <200>"), "{shown}");
    let pytest = ev[1]["entry_id"].as_str().unwrap();
    assert!(env.ok(&["evidence", "show", pytest]).contains("ConnectionRefusedError"));
    // Failing tests are a gate bypass the approver sees.
    let flags = env.json(&["show", &req])["assessment"]["flags"].clone();
    assert!(
        flags
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "GATE_BYPASS" && f["explanation"].as_str().unwrap().contains("failing tests")),
        "{flags}"
    );
}

#[test]
fn sarif_producers_and_osv() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    for (f, tool, counts) in [
        ("trivy.sarif", "Trivy", (1, 1, 0)),
        ("semgrep.sarif", "Semgrep OSS", (0, 1, 0)),
        ("codeql.sarif", "CodeQL", (1, 0, 0)),
        ("clippy.sarif", "clippy", (0, 1, 0)),
    ] {
        attach(&env, &req, &fixture(f), "scan");
        let ev = evidence_of(&env, &req);
        let b = &ev[ev.len() - 1]["body"];
        assert_eq!(b["format"], "sarif", "{f}");
        assert!(b["summary"].as_str().unwrap().contains(tool), "{f}: {b}");
        assert_eq!(
            (
                b["counts"]["error"].as_u64().unwrap(),
                b["counts"]["warning"].as_u64().unwrap(),
                b["counts"]["note"].as_u64().unwrap()
            ),
            counts,
            "{f}"
        );
    }
    let trivy = evidence_of(&env, &req)[0]["entry_id"].as_str().unwrap().to_string();
    let shown = env.ok(&["evidence", "show", &trivy]);
    assert!(shown.contains("CVE-2024-3094") && shown.contains("10.0"), "{shown}");
    let j = env.json(&["evidence", "show", &trivy]);
    assert_eq!(j["parsed"]["sarif"]["findings"][0]["location"], "registry.example.com/payments-api:4411:1");
    attach(&env, &req, &fixture("RUSTSEC-2023-0044.json"), "scan");
    let ev = evidence_of(&env, &req);
    assert!(ev.last().unwrap()["body"]["summary"].as_str().unwrap().starts_with("OSV RUSTSEC-2023-0044"));
}

#[test]
fn links_logs_binary_and_hostile_text() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    env.ok(&[
        "evidence",
        "add",
        &req,
        "--kind",
        "other",
        "--url",
        "https://ci.example/run/77",
        "--source",
        "ci",
        "--as",
        "bob",
    ]);
    let log = file(&env, "deploy\x1b[31m.log", "step 1 ok\n\x1b]0;owned\x07step 2 \u{202e}kcatta\n");
    attach(&env, &req, &log, "log");
    let bin = env.home().join("core.bin");
    std::fs::write(&bin, [0u8, 159, 146, 150, 255]).unwrap();
    attach(&env, &req, bin.to_str().unwrap(), "other");
    let ev = evidence_of(&env, &req);
    assert_eq!(ev[0]["body"]["url"], "https://ci.example/run/77");
    assert_eq!(ev[1]["body"]["format"], "text");
    assert_eq!(ev[1]["body"]["name"], "deploy\x1b[31m.log", "stored as it is");
    assert_eq!(ev[2]["body"]["format"], "binary");
    let shown = env.ok(&["evidence", "show", ev[1]["entry_id"].as_str().unwrap()]);
    assert!(!shown.contains('\x1b') && !shown.contains('\u{202e}') && !shown.contains('\x07'), "{shown:?}");
    assert!(shown.contains("<U+001B>") && shown.contains("<U+202E>"), "{shown}");
    assert!(shown.contains("control or invisible characters"), "{shown}");
    let text = env.ok(&["show", &req]);
    assert!(!text.contains('\x1b'), "{text:?}");
}

#[test]
fn malformed_and_hostile_reports_are_kept_opaque_with_a_warning() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    let broken = file(&env, "broken.xml", "<testsuite><testcase name=\"a\">");
    let out = env.run(&["evidence", "add", &req, &broken, "--kind", "test", "--as", "bob"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not read as JUnit"));
    let bomb = file(
        &env,
        "bomb.xml",
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><testsuite><testcase name="&lol3;"/></testsuite>"#,
    );
    let out = env.run(&["evidence", "add", &req, &bomb, "--kind", "test", "--as", "bob"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DOCTYPE"));
    let bad_json = file(&env, "scan.sarif", "{\"runs\": [");
    let out = env.run(&["evidence", "add", &req, &bad_json, "--kind", "scan", "--as", "bob"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid JSON"));
    let ev = evidence_of(&env, &req);
    assert_eq!(ev.len(), 3);
    assert!(ev.iter().all(|e| e["body"]["format"] == "text"));
    assert_eq!(verify_json(&env).0, 0);
}

fn refused(env: &Env, args: &[&str], says: &str) {
    let before = env.fingerprint();
    let err = env.fails(args, 2);
    assert!(err.contains(says), "{args:?}: {err}");
    assert_eq!(env.fingerprint(), before);
}

#[test]
fn refusals_change_nothing() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    // A 2 GB (sparse) file is refused from its size, without reading it.
    let huge = env.home().join("huge.log");
    std::fs::File::create(&huge).unwrap().set_len(2 * 1024 * 1024 * 1024).unwrap();
    let t = std::time::Instant::now();
    refused(&env, &["evidence", "add", &req, huge.to_str().unwrap(), "--kind", "log", "--as", "bob"], "larger than");
    assert!(t.elapsed().as_secs() < 20);
    #[cfg(unix)]
    {
        let target = file(&env, "real.log", "x\n");
        let link = env.home().join("link.log");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        refused(
            &env,
            &["evidence", "add", &req, link.to_str().unwrap(), "--kind", "log", "--as", "bob"],
            "symbolic link",
        );
    }
    refused(
        &env,
        &["evidence", "add", &req, env.home().to_str().unwrap(), "--kind", "log", "--as", "bob"],
        "not a regular file",
    );
    refused(&env, &["evidence", "add", &req, "/nonexistent/file", "--kind", "log", "--as", "bob"], "cannot read");
    refused(&env, &["evidence", "add", &req, "--kind", "log", "--as", "bob"], "give a FILE");
    refused(&env, &["evidence", "add", &req, "--kind", "log", "--url", "not a url", "--as", "bob"], "--url");
    // The cap is the policy's.
    let small = file(&env, "small.toml", "version = 1\n[evidence]\nmax_file_mib = 1\n");
    env.ok(&["policy", "adopt", &small, "--as", "alice"]);
    let two_mib = env.home().join("two.log");
    std::fs::write(&two_mib, vec![b'a'; 2 * 1024 * 1024]).unwrap();
    refused(
        &env,
        &["evidence", "add", &req, two_mib.to_str().unwrap(), "--kind", "log", "--as", "bob"],
        "1048576 bytes",
    );
}

#[test]
fn a_file_that_changes_while_read_is_stored_as_read() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    let path = env.home().join("growing.log");
    std::fs::write(&path, vec![b'x'; 4 * 1024 * 1024]).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = f.write_all(&[b'y'; 4096]);
            }
        })
    };
    let out = env.run(&["--json", "evidence", "add", &req, path.to_str().unwrap(), "--kind", "log", "--as", "bob"]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    // Stored exactly as read, or refused: past the cap, or because it changed between the scan and the copy.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() || err.contains("larger than") || err.contains("changed while"), "{err}");
    if out.status.success() {
        let ev = evidence_of(&env, &req);
        let id = ev[0]["entry_id"].as_str().unwrap();
        let exported = env.home().join("exported.log");
        env.ok(&["evidence", "export", id, "--out", exported.to_str().unwrap()]);
        let bytes = std::fs::read(&exported).unwrap();
        use sha2::{Digest, Sha256};
        assert_eq!(hex::encode(Sha256::digest(&bytes)), ev[0]["body"]["sha256"].as_str().unwrap());
        assert_eq!(bytes.len().to_string(), ev[0]["body"]["size"].as_str().unwrap());
        assert_eq!(verify_json(&env).0, 0);
    }
}

#[test]
fn export_purge_and_tampered_blobs() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    attach(&env, &req, &fixture("trivy.sarif"), "scan");
    let leaked = file(&env, "app.log", "connecting with password=SuperSecret123!\n");
    attach(&env, &req, &leaked, "log");
    let ev = evidence_of(&env, &req);
    let (scan, log) =
        (ev[0]["entry_id"].as_str().unwrap().to_string(), ev[1]["entry_id"].as_str().unwrap().to_string());
    let out = env.home().join("out.sarif");
    env.ok(&["evidence", "export", &scan, "--out", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(fixture("trivy.sarif")).unwrap());
    assert!(env.fails(&["evidence", "export", &scan, "--out", out.to_str().unwrap()], 2).contains("exists"));

    // Only managers may purge; then the bytes are gone and verify says who purged them and why.
    let before = env.fingerprint();
    assert!(env.fails(&["evidence", "purge", &log, "--reason", "secret", "--as", "bob"], 1).contains("may not purge"));
    assert_eq!(env.fingerprint(), before);
    env.ok(&["evidence", "purge", &log, "--reason", "contains a database password", "--as", "erin"]);
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["evidence"]["checked"], 1);
    assert_eq!(v["evidence"]["purged"][0]["reason"], "contains a database password");
    let text = env.ok(&["verify"]);
    assert!(text.contains("purged by"), "{text}");
    let db = std::fs::read(env.ledger()).unwrap();
    assert!(!db.windows(11).any(|w| w == b"SuperSecret"), "the purged bytes are gone from the file");
    assert!(
        env.fails(&["evidence", "export", &log, "--out", env.home().join("x").to_str().unwrap()], 2).contains("purged")
    );
    assert!(env.ok(&["evidence", "show", &log]).contains("PURGED"));

    // Someone rewrites the stored scan bytes: verify names the evidence.
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    c.execute("UPDATE blobs SET bytes = X'00'", []).unwrap();
    drop(c);
    let (code, v) = verify_json(&env);
    assert_eq!(code, 1);
    assert_eq!(v["integrity"]["failure"]["entry_id"], scan.as_str());
    assert!(v["integrity"]["failure"]["problem"].as_str().unwrap().contains("do not match"));
    // And deleting it without a purge entry is caught too.
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    c.execute("DELETE FROM blobs", []).unwrap();
    drop(c);
    let (_, v) = verify_json(&env);
    assert!(v["integrity"]["failure"]["problem"].as_str().unwrap().contains("missing"));
}

#[test]
fn evidence_requirements_show_in_the_checklist() {
    let env = team();
    let req = file_request(&env, "bob", "high");
    let g: serde_json::Value = serde_json::from_slice(&env.run(&["--json", "gate", &req]).stdout).unwrap();
    assert_eq!(g["evidence_missing"], serde_json::json!(["scan", "test"]));
    attach(&env, &req, &fixture("junit-nextest.xml"), "test");
    let g: serde_json::Value = serde_json::from_slice(&env.run(&["--json", "gate", &req]).stdout).unwrap();
    assert_eq!(g["evidence_missing"], serde_json::json!(["scan"]));
    let item = g["checklist"].as_array().unwrap().iter().find(|i| i["id"] == "evidence").unwrap().clone();
    assert_eq!(item["met"], false);
    assert!(item["detail"].as_str().unwrap().contains("missing evidence: scan"));
}

/// How the command line shows untrusted text: escapes as `<U+XXXX>`, tabs as four spaces, no `\r`.
fn sanitized(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str("    "),
            '\r' => {}
            c if c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}') => {
                out.push_str(&format!("<U+{:04X}>", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Issue 13: the text past the first 64 KiB. `evidence show --page N` prints one page (the text on stdout,
/// its position on stderr), `--raw` all of it a page at a time; both sanitized, a character cut by a
/// page's edge shown whole on the page where it starts, and a page past the end a one-line error.
#[test]
fn evidence_text_by_page_and_raw() {
    const PAGE: usize = 64 * 1024;
    let env = team();
    let req = file_request(&env, "bob", "low");
    // Three pages of numbered log lines; page 2 holds terminal escapes, a bidi override and a tab, and a
    // euro sign (3 bytes) starts on its last byte.
    let mut log = String::new();
    let mut n = 0;
    while log.len() < PAGE + 1000 {
        log.push_str(&format!("line {n:06} ok\n"));
        n += 1;
    }
    log.push_str("step 7 \x1b]0;owned\x07 \x1b[2J\u{202e}kcatta\tdone\r\n");
    while log.len() < 2 * PAGE - 1 {
        log.push_str(&format!("line {n:06} ok\n"));
        n += 1;
    }
    log.truncate(2 * PAGE - 1);
    log.push('€');
    while log.len() < 2 * PAGE + 5000 {
        log.push_str(&format!("line {n:06} ok\n"));
        n += 1;
    }
    let path = env.home().join("deploy.log");
    std::fs::write(&path, &log).unwrap();
    attach(&env, &req, path.to_str().unwrap(), "log");
    let id = evidence_of(&env, &req)[0]["entry_id"].as_str().unwrap().to_string();
    let short = &id[..12];
    let size = log.len();

    // The summary says how to read on.
    let summary = env.ok(&["evidence", "show", &id]);
    assert!(summary.contains(&format!("`rollcall evidence show {short} --page 2` reads on")), "{summary}");

    // Page 2: exactly its bytes (the euro sign whole at its end), sanitized; its position on stderr.
    let page2 = &log[PAGE..2 * PAGE + 2];
    let out = env.run(&["evidence", "show", &id[..8], "--page", "2"]);
    assert!(out.status.success());
    let (text, err) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
    assert_eq!(text, sanitized(page2));
    assert!(text.ends_with('€') && text.contains("<U+001B>]0;owned<U+0007> <U+001B>[2J<U+202E>kcatta    done\n"));
    assert!(!text.contains(['\x1b', '\x07', '\u{202e}', '\r', '\u{fffd}']), "{text:?}");
    assert!(
        err.contains(&format!(
            "page 2 of 3, bytes {PAGE}-{} of {size}; next: `rollcall evidence show {short} --page 3`",
            2 * PAGE - 1
        )),
        "{err}"
    );
    assert!(err.contains("control or invisible characters"), "{err}");
    // Page 3 goes on after the euro sign, and is the last.
    let out = env.run(&["evidence", "show", &id, "--page", "3"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), log[2 * PAGE + 2..]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("page 3 of 3, bytes"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the last page"));
    let out = env.run(&["evidence", "show", &id, "--page", "last"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), log[2 * PAGE + 2..]);

    // Past the end, page 0, and conflicting options: one-line usage errors.
    let err = env.fails(&["evidence", "show", &id, "--page", "4"], 2);
    assert!(
        err.contains(&format!("page 4 is past the end: evidence {short} has 3 pages of 64 KiB ({size} bytes)")),
        "{err}"
    );
    assert!(env.fails(&["evidence", "show", &id, "--page", "0"], 2).contains("pages count from 1"));
    assert_eq!(env.run(&["evidence", "show", &id, "--page", "two"]).status.code(), Some(2));
    assert!(env.fails(&["--json", "evidence", "show", &id, "--raw"], 2).contains("--raw prints text"));
    assert_eq!(env.run(&["evidence", "show", &id, "--raw", "--page", "2"]).status.code(), Some(2));

    // --json: the page and where it lies.
    let j = env.json(&["evidence", "show", &id, "--page", "2"]);
    assert_eq!((j["page"].as_u64(), j["pages"].as_u64()), (Some(2), Some(3)));
    assert_eq!(
        (j["offset"].as_u64(), j["bytes"].as_u64(), j["size"].as_u64()),
        (Some(PAGE as u64), Some(PAGE as u64), Some(size as u64))
    );
    assert_eq!(j["text"], sanitized(page2));
    assert_eq!(j["suspicious"], true);

    // --raw: all of it, sanitized, nothing else on stdout; the pages joined are the same text.
    let out = env.run(&["evidence", "show", &id, "--raw"]);
    assert!(out.status.success());
    let raw = String::from_utf8(out.stdout).unwrap();
    assert_eq!(raw, sanitized(&log));
    let pages: String = (1..=3)
        .map(|p| String::from_utf8(env.run(&["evidence", "show", &id, "--page", &p.to_string()]).stdout).unwrap())
        .collect();
    assert_eq!(pages, raw);
    assert!(String::from_utf8_lossy(&out.stderr).contains("control or invisible characters"));

    // Nothing to page through: a link, purged bytes.
    env.ok(&["evidence", "add", &req, "--kind", "other", "--url", "https://ci.example/run/8", "--as", "bob"]);
    let link = evidence_of(&env, &req)[1]["entry_id"].as_str().unwrap().to_string();
    assert!(env.fails(&["evidence", "show", &link, "--page", "1"], 2).contains("is a link"));
    env.ok(&["evidence", "purge", &id, "--reason", "holds a token", "--as", "erin"]);
    assert!(env.fails(&["evidence", "show", &id, "--raw"], 2).contains("purged"));
    assert!(env.fails(&["evidence", "show", &id, "--page", "2"], 2).contains("holds a token"));
}

/// Purging evidence keeps its bytes while another entry wants them: here a request whose change set is the
/// same file (before, the purge looked only at other evidence and removed the change set's bytes, and that
/// request's gate then could not assess it). Bytes nothing else wants go.
#[test]
fn a_purge_keeps_bytes_a_change_set_names() {
    let env = team();
    let diff_text = "diff --git a/app.txt b/app.txt\n--- a/app.txt\n+++ b/app.txt\n@@ -1 +1 @@\n-v2\n+v1\n";
    let diff = file(&env, "revert.diff", diff_text);
    let mut args = common::request_args("bob", "revert the pool size", "low");
    args.extend(["--diff", &diff]);
    let req = env.json(&args)["request"].as_str().unwrap().to_string();
    let other = file_request(&env, "bob", "low");
    // The change set as stored (its JSON form, not the diff file), attached as evidence to another request.
    let digest = env.json(&["show", &req])["record"]["changeset"]["sha256"].as_str().unwrap().to_string();
    let bytes: Vec<u8> = rusqlite::Connection::open(env.ledger())
        .unwrap()
        .query_row("SELECT bytes FROM blobs WHERE sha256 = ?1", [hex::decode(&digest).unwrap()], |r| r.get(0))
        .unwrap();
    let same = env.home().join("changeset.json");
    std::fs::write(&same, &bytes).unwrap();
    let same = same.to_str().unwrap().to_string();
    let added = env.json(&["evidence", "add", &other, &same, "--kind", "other", "--as", "bob"]);
    let id = added["entry_id"].as_str().unwrap().to_string();
    env.ok(&["evidence", "purge", &id, "--reason", "attached to the wrong request", "--as", "erin"]);
    let g: serde_json::Value = serde_json::from_slice(&env.run(&["--json", "gate", &req]).stdout).unwrap();
    assert!(common::checklist_item(&g, "changeset").is_null(), "the change set's bytes are kept: {g}");
    assert_eq!(verify_json(&env).0, 0);
    // Bytes only the purged evidence named go.
    let alone = file(&env, "alone.log", "nothing else names these bytes\n");
    let id = env.json(&["evidence", "add", &other, &alone, "--kind", "other", "--as", "bob"])["entry_id"]
        .as_str()
        .unwrap()
        .to_string();
    env.ok(&["evidence", "purge", &id, "--reason", "holds a token", "--as", "erin"]);
    assert!(env.fails(&["evidence", "show", &id, "--raw"], 2).contains("purged"));
}

/// The bytes stored under a digest are taken for a file's only when they still hash to it. A row of zeros
/// under the digest (what an attach killed during its copy left, before the row and its bytes were one
/// transaction) is written afresh when the file is attached: before, the attach took the row as the file
/// and signed an entry whose bytes did not match, which verify then failed and export refused. A bundle
/// carrying the bytes repairs a copy holding such a row, which the import used to keep.
#[test]
fn a_row_that_does_not_hash_to_its_digest_is_written_again() {
    use sha2::{Digest, Sha256};
    let env = team();
    let req = file_request(&env, "bob", "low");
    let path = file(&env, "app.log", "line one\nline two\n");
    let bytes = std::fs::read(&path).unwrap();
    let digest = Sha256::digest(&bytes).to_vec();
    let zeros = |env: &Env| {
        let c = rusqlite::Connection::open(env.ledger()).unwrap();
        c.execute_batch("CREATE TABLE IF NOT EXISTS blobs (sha256 BLOB PRIMARY KEY NOT NULL, bytes BLOB NOT NULL)")
            .unwrap();
        c.execute(
            "INSERT OR REPLACE INTO blobs (sha256, bytes) VALUES (?1, zeroblob(?2))",
            rusqlite::params![digest, bytes.len() as i64],
        )
        .unwrap();
    };
    zeros(&env);
    attach(&env, &req, &path, "log");
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    let id = evidence_of(&env, &req)[0]["entry_id"].as_str().unwrap().to_string();
    let out = env.home().join("out.log");
    env.ok(&["evidence", "export", &id, "--out", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), bytes);

    // A peer whose copy of the bytes became zeros takes the founder's again from a bundle.
    let gina = Env::new();
    gina.ok(&["key", "new", "gina"]);
    env.ok(&["enroll", "gina", "--pubkey", &gina.public_key("gina"), "--role", "approver", "--as", "alice"]);
    let bundle = |name: &str| {
        let p = env.home().join(name);
        env.ok(&["export", "--out", p.to_str().unwrap(), "--as", "alice"]);
        p.to_str().unwrap().to_string()
    };
    gina.ok(&["init", "--join", &bundle("join.rollcall"), "--as", "gina", "--origin", "gina-laptop"]);
    zeros(&gina);
    assert_eq!(verify_json(&gina).0, 1, "the damaged copy fails verify");
    gina.ok(&["import", &bundle("again.rollcall")]);
    let (code, v) = verify_json(&gina);
    assert_eq!(code, 0, "{v}");
}

/// A command refused after it stored bytes leaves the ledger as it was: `validate --evidence` on a request
/// not executed yet (before, its evidence entry was signed and committed, then the validation refused),
/// and a request with a change set filed by a member who may not file requests (before, the change set's
/// bytes stayed, named by no entry).
#[test]
fn a_refused_command_keeps_none_of_the_bytes_or_entries_it_would_have_added() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    let report = file(&env, "smoke.log", "all green\n");
    // bob may attach evidence to his request in any state; the validation is what is refused.
    let err = env.refuses(&["validate", &req, "--result", "pass", "--evidence", &report, "--as", "bob"]);
    assert!(err.contains("refused") && err.contains("not been executed yet"), "{err}");
    let diff = file(
        &env,
        "revert.diff",
        "diff --git a/app.txt b/app.txt\n--- a/app.txt\n+++ b/app.txt\n@@ -1 +1 @@\n-v2\n+v1\n",
    );
    let mut args = common::request_args("carol", "revert the pool size", "low");
    args.extend(["--diff", &diff]);
    let err = env.refuses(&args);
    assert!(err.contains("may file requests"), "{err}");
    // Once the rollback ran, the validation records its evidence and names it.
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    env.ok(&["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    let r = env.json(&["validate", &req, "--result", "pass", "--evidence", &report, "--as", "erin"]);
    assert!(r["entry_id"].is_string(), "{r}");
    let ev = evidence_of(&env, &req);
    assert_eq!(ev.last().unwrap()["body"]["kind"], "validation");
}
