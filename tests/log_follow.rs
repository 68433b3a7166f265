//! `rollcall log --follow --json` / `--after SEQ` (issue 17): every entry of every log as it arrives, one
//! JSON line each, resumable, filtered by kind and request; a forged row is streamed as unverified.

mod common;
use common::Env;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

fn lines(out: &str) -> Vec<serde_json::Value> {
    out.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}"))).collect()
}

#[test]
fn after_streams_every_entry_once_in_arrival_order_and_resumes() {
    let env = Env::with_ledger();
    env.notes(3);
    let all = lines(&env.ok(&["--json", "log", "--after", "0"]));
    assert_eq!(all.len() as u64, env.size(), "every entry of the own log (genesis, enrolment, notes)");
    let seqs: Vec<i64> = all.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    for l in &all {
        assert_eq!(l["verified"], true, "{l}");
        assert_eq!(l["origin"], "test.example/laptop");
        assert!(l["position"].as_str().is_some_and(|p| !p.is_empty()));
        assert_eq!(l["entry_id"].as_str().unwrap().len(), 64);
    }
    let notes: Vec<&serde_json::Value> = all.iter().filter(|l| l["kind"] == "note").collect();
    assert_eq!(notes.len(), 3);
    assert_eq!(notes[0]["actor_name"], "alice");
    // Resume after the second-to-last line: only the last comes.
    let resume = seqs[seqs.len() - 2].to_string();
    let rest = lines(&env.ok(&["--json", "log", "--after", &resume]));
    assert_eq!(rest, all[all.len() - 1..].to_vec());
    // A kind filter; the text form names the log and index.
    assert_eq!(lines(&env.ok(&["--json", "log", "--after", "0", "--kind", "note"])).len(), 3);
    let text = env.ok(&["log", "--after", "0", "--kind", "note"]);
    assert_eq!(text.lines().count(), 3);
    assert!(text.contains("test.example/laptop#") && text.contains("alice"), "{text}");
}

#[test]
fn a_request_filter_streams_the_request_and_what_refers_to_it() {
    let env = common::team();
    let id = common::file_request(&env, "bob", "low");
    common::tested(&env, &id, "bob");
    env.ok(&["note", "unrelated", "--as", "alice"]);
    let got = lines(&env.ok(&["--json", "log", "--after", "0", "--request", &id[..12]]));
    assert!(got.len() >= 2, "{got:?}");
    assert_eq!(got[0]["entry_id"], id.as_str());
    assert!(got[1..].iter().all(|l| l["refs"].as_array().unwrap().iter().any(|r| r == id.as_str())), "{got:?}");
    assert!(got.iter().all(|l| l["kind"] != "note"));
    // An unknown request is a one-line refusal.
    assert!(env.fails(&["log", "--after", "0", "--request", "ffffffff"], 2).contains("no request"));
}

#[test]
fn a_row_forged_behind_the_ledgers_back_streams_as_unverified() {
    let env = Env::with_ledger();
    env.notes(1);
    let before = lines(&env.ok(&["--json", "log", "--after", "0"]));
    // Copy the last note's row with a changed statement (its signature no longer matches) and no leaf.
    let c = env.tamper();
    let (statement, signature, kind, actor, ts): (Vec<u8>, Vec<u8>, String, String, String) = c
        .query_row("SELECT statement, signature, kind, actor, ts FROM entries ORDER BY rowid DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap();
    let forged = String::from_utf8(statement).unwrap().replace("note number 0", "note number X");
    let id = rollcall::ledger::Hash::of(&[forged.as_bytes()]);
    c.execute(
        "INSERT INTO entries (id, statement, signature, kind, actor, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![id.0.to_vec(), forged.as_bytes(), signature, kind, actor, ts],
    )
    .unwrap();
    drop(c);
    let after = lines(&env.ok(&["--json", "log", "--after", "0"]));
    assert_eq!(after.len(), before.len() + 1);
    let last = after.last().unwrap();
    assert_eq!(last["verified"], false, "{last}");
    assert!(last["origin"].is_null(), "in no log: {last}");
    assert!(after[..before.len()].iter().all(|l| l["verified"] == true));
}

#[test]
fn follow_streams_new_entries_as_they_arrive_and_stops_when_the_reader_goes() {
    let env = Env::with_ledger();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("rollcall"))
        .env_clear()
        .env("ROLLCALL_HOME", env.home())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["--json", "log", "--follow", "--kind", "note"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    env.ok(&["note", "first while following", "--as", "alice"]);
    let mut line = String::new();
    out.read_line(&mut line).expect("a line");
    let first: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(first["kind"], "note");
    assert_eq!(first["verified"], true);
    env.ok(&["note", "second while following", "--as", "alice"]);
    line.clear();
    out.read_line(&mut line).expect("another line");
    let second: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert!(second["seq"].as_i64() > first["seq"].as_i64());
    // The reader goes away: the next write fails and the stream ends without an error.
    drop(out);
    env.ok(&["note", "third, nobody reads it", "--as", "alice"]);
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.is_empty(), "{err}");
}

#[test]
fn bad_arguments_are_one_line_refusals() {
    let env = Env::with_ledger();
    for (args, says) in
        [(&["log", "--after", "abc"][..], "--after"), (&["log", "--after", "1", "--from", "3"][..], "--from")]
    {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.lines().next().is_some_and(|l| l.starts_with("error:") && l.contains(says)), "{err}");
        assert!(err.lines().count() <= 2, "one line and a hint: {err}");
    }
}
