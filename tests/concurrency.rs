//! Appends from several processes at once and a process killed mid-append: the log stays one linear,
//! verifiable chain with no partial entry.

mod common;
use common::{Env, PASS, example_bin, verify_json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn append_loop(env: &Env, count: u64, tag: &str) -> Command {
    let mut c = Command::new(example_bin("append_loop"));
    c.args([env.ledger().to_str().unwrap(), env.home().to_str().unwrap(), "alice", &count.to_string(), tag])
        .env("ROLLCALL_PASSPHRASE", PASS);
    c
}

#[test]
fn two_processes_append_200_notes_each() {
    let env = Env::with_ledger();
    let a = append_loop(&env, 200, "A").stdout(Stdio::piped()).spawn().unwrap();
    let b = append_loop(&env, 200, "B").stdout(Stdio::piped()).spawn().unwrap();
    let oa = a.wait_with_output().unwrap();
    let ob = b.wait_with_output().unwrap();
    assert!(oa.status.success() && ob.status.success());
    let text = format!("{}{}", String::from_utf8(oa.stdout).unwrap(), String::from_utf8(ob.stdout).unwrap());
    let mut indices: Vec<u64> = text.lines().map(|l| l.parse().unwrap()).collect();
    indices.sort();
    assert_eq!(indices, (1..=400).collect::<Vec<u64>>(), "every append got its own index");
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["origins"][0]["size"], 401);
    assert_eq!(v["origins"][0]["signatures"], 401);
}

#[test]
fn two_cli_processes_append_concurrently() {
    let env = Env::with_ledger();
    std::thread::scope(|s| {
        for t in 0..2 {
            let env = &env;
            s.spawn(move || {
                for i in 0..25 {
                    env.ok(&["note", &format!("cli {t} {i}"), "--as", "alice"]);
                }
            });
        }
    });
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["origins"][0]["size"], 51);
}

#[test]
fn kill_9_mid_loop_leaves_a_verifiable_ledger() {
    let env = Env::with_ledger();
    let mut expected_min = 1u64;
    for round in 0..5u64 {
        let mut child = append_loop(&env, 100_000, &format!("crash{round}")).stdout(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Let it get well into the loop, then kill it at an arbitrary point between or inside appends.
        let mut last = 0;
        for _ in 0..(20 + round * 7) {
            last = lines.next().unwrap().unwrap().parse::<u64>().unwrap();
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(last >= expected_min);
        expected_min = last + 1;
        let (code, v) = verify_json(&env);
        assert_eq!(code, 0, "round {round}: {v}");
        let size = v["origins"][0]["size"].as_u64().unwrap();
        assert!(size > last, "every acknowledged append survived: {size} vs {last}");
        assert_eq!(v["origins"][0]["verified"], size, "no partial entry");
    }
    // And the ledger still takes appends.
    env.ok(&["note", "after the crashes", "--as", "alice"]);
    assert_eq!(verify_json(&env).0, 0);
}

#[test]
fn verify_while_another_process_appends_sees_a_consistent_snapshot() {
    // verify's workers read entries on connections of their own, opened after the reader's snapshot:
    // entries appended meanwhile must never make a leaf look like it points nowhere.
    let env = Env::with_ledger();
    env.notes(20);
    let mut writer = append_loop(&env, 600, "W").stdout(Stdio::null()).spawn().unwrap();
    let mut runs = 0;
    while writer.try_wait().unwrap().is_none() && runs < 40 {
        let (code, v) = verify_json(&env);
        assert_eq!(code, 0, "verify during appends: {v}");
        runs += 1;
    }
    assert!(writer.wait().unwrap().success());
    assert!(runs >= 2, "verify ran while the appends were going on ({runs} runs)");
    assert_eq!(verify_json(&env).0, 0);
}
