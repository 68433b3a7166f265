//! Evidence that would eat memory (issue 13, attack 5): a ~60 MiB SARIF with a million results and a
//! JUnit report with 200,000 test cases are attached and shown with the peak resident memory of each
//! command measured from outside (`/usr/bin/time -v`), and the signed counts checked.

mod common;
use common::{Env, PASS, file_request, team};
use std::io::Write;

/// The most any command may hold resident (issue 13: 256 MB).
const MAX_RSS_KB: u64 = 256 * 1000;

/// Runs rollcall under `/usr/bin/time -v` and returns its stdout and peak RSS in kB.
fn measured(env: &Env, args: &[&str]) -> (String, u64) {
    let out = std::process::Command::new("/usr/bin/time")
        .arg("-v")
        .arg(assert_cmd::cargo::cargo_bin!("rollcall"))
        .args(args)
        .env_clear()
        .env("ROLLCALL_HOME", env.home())
        .env("ROLLCALL_PASSPHRASE", PASS)
        .env("ROLLCALL_INSECURE_FAST_KDF", "1")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("/usr/bin/time runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "rollcall {args:?} failed: {err}");
    let kb = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in {err}"));
    let wall = err.lines().find_map(|l| l.trim().strip_prefix("Elapsed (wall clock) time (h:mm:ss or m:ss):"));
    eprintln!("rollcall {}: {kb} kB peak, {} wall", args[..2].join(" "), wall.unwrap_or("?").trim());
    (String::from_utf8_lossy(&out.stdout).into_owned(), kb)
}

fn evidence_body(env: &Env, req: &str) -> serde_json::Value {
    let ev = env.json(&["show", req])["evidence"].as_array().unwrap().clone();
    ev[ev.len() - 1].clone()
}

#[test]
fn a_million_sarif_results_attach_and_show_in_bounded_memory() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    let path = env.home().join("huge.sarif");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    write!(
        w,
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"Flood","rules":[{{"id":"R0","defaultConfiguration":{{"level":"error"}}}},{{"id":"R1"}}]}}}},"results":["#
    )
    .unwrap();
    let n = 1_000_000u64;
    let (mut errors, mut warnings, mut notes) = (0u64, 0u64, 0u64);
    for i in 0..n {
        if i > 0 {
            w.write_all(b",").unwrap();
        }
        // Explicit levels, and results whose level comes from their rule (R0: error, R1: the default warning).
        let level = match i % 4 {
            0 => {
                errors += 1;
                r#""level":"error","#
            }
            1 => {
                notes += 1;
                r#""level":"note","#
            }
            2 => {
                errors += 1;
                ""
            }
            _ => {
                warnings += 1;
                ""
            }
        };
        write!(w, r#"{{"ruleId":"R{}",{level}"message":{{"text":"finding {i}"}}}}"#, (i % 4 == 3) as u8).unwrap();
    }
    w.write_all(b"]}]}").unwrap();
    w.flush().unwrap();
    drop(w);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 50 << 20 && size < 64 << 20, "{size} bytes");

    let p = path.to_str().unwrap();
    let (_, attach_kb) = measured(&env, &["evidence", "add", &req, p, "--kind", "scan", "--as", "bob"]);
    let ev = evidence_body(&env, &req);
    let body = &ev["body"];
    assert_eq!(body["format"], "sarif");
    assert_eq!(body["size"], size.to_string());
    assert_eq!(body["counts"], serde_json::json!({"error": errors, "warning": warnings, "note": notes}));
    let id = ev["entry_id"].as_str().unwrap();
    let (shown, show_kb) = measured(&env, &["evidence", "show", id]);
    assert!(shown.contains(&format!("SARIF (Flood): {n} findings")), "{}", &shown[..shown.len().min(2000)]);
    // The first findings of each rule, not a million rows.
    assert!(shown.lines().count() < 200, "{} lines", shown.lines().count());
    let (json, json_kb) = measured(&env, &["--json", "evidence", "show", id]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["parsed"]["sarif"]["findings"].as_array().unwrap().len(), 40);
    let out = env.home().join("back.sarif");
    let (_, export_kb) = measured(&env, &["evidence", "export", id, "--out", out.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), size);
    // The whole text, a page at a time, and the last page alone.
    let (raw, raw_kb) = measured(&env, &["evidence", "show", id, "--raw"]);
    assert_eq!(raw.len() as u64, size);
    assert!(raw.ends_with(r#""finding 999999"}}]}]}"#), "{}", &raw[raw.len() - 100..]);
    drop(raw);
    let pages = size.div_ceil(64 * 1024);
    let (last, page_kb) = measured(&env, &["evidence", "show", id, "--page", &pages.to_string()]);
    assert_eq!(last.len() as u64, size - (pages - 1) * 64 * 1024);
    eprintln!(
        "peak RSS: attach {attach_kb} kB, show {show_kb} kB, show --json {json_kb} kB, export {export_kb} kB, \
         show --raw {raw_kb} kB, show --page {pages} {page_kb} kB"
    );
    for (what, kb) in [
        ("attach", attach_kb),
        ("show", show_kb),
        ("show --json", json_kb),
        ("export", export_kb),
        ("show --raw", raw_kb),
        ("show --page", page_kb),
    ] {
        assert!(kb <= MAX_RSS_KB, "evidence {what} peaked at {kb} kB");
    }
    // Reading the text never holds the file: far less than its size.
    assert!(raw_kb < size / 1000 / 2 && page_kb < size / 1000 / 2, "--raw {raw_kb} kB, --page {page_kb} kB");
}

#[test]
fn two_hundred_thousand_test_cases_attach_and_show_in_bounded_memory() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    let path = env.home().join("huge-junit.xml");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    w.write_all(b"<?xml version=\"1.0\"?>\n<testsuites>\n<testsuite name=\"flood\">\n").unwrap();
    let n = 200_000u64;
    let (mut failures, mut skipped) = (0u64, 0u64);
    for i in 0..n {
        match i % 100 {
            0 => {
                failures += 1;
                writeln!(
                    w,
                    r#"<testcase name="t{i}" classname="c"><failure message="boom {i}">trace</failure></testcase>"#
                )
            }
            1 => {
                skipped += 1;
                writeln!(w, r#"<testcase name="t{i}" classname="c"><skipped/></testcase>"#)
            }
            _ => writeln!(w, r#"<testcase name="t{i}" classname="c" time="0.001"/>"#),
        }
        .unwrap();
    }
    w.write_all(b"</testsuite>\n</testsuites>\n").unwrap();
    w.flush().unwrap();
    drop(w);
    let p = path.to_str().unwrap();
    let (_, attach_kb) = measured(&env, &["evidence", "add", &req, p, "--kind", "test", "--as", "bob"]);
    let ev = evidence_body(&env, &req);
    assert_eq!(ev["body"]["format"], "junit");
    assert_eq!(
        ev["body"]["counts"],
        serde_json::json!({"tests": n, "failures": failures, "errors": 0, "skipped": skipped})
    );
    let (shown, show_kb) = measured(&env, &["evidence", "show", ev["entry_id"].as_str().unwrap()]);
    assert!(shown.contains(&format!("JUnit: {n} tests")), "{}", &shown[..shown.len().min(2000)]);
    eprintln!("peak RSS: attach {attach_kb} kB, show {show_kb} kB");
    assert!(attach_kb <= MAX_RSS_KB && show_kb <= MAX_RSS_KB, "attach {attach_kb} kB, show {show_kb} kB");
}
