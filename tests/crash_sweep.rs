//! Crash sweep (issue 13): three processes append to one ledger while a fourth imports a peer's bundle
//! into it, and all four are killed with SIGKILL at a pseudo-random moment, a hundred times over. After
//! every kill the ledger verifies and the import either landed whole or left nothing (whole whenever it
//! exited 0); after the sweep every append a process acknowledged (printed its index for) is in the log at
//! that index with the text it appended, and a last import brings exactly what the sweep's imports had
//! not.

mod common;
use common::{Env, PASS, example_bin, peer, verify_json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Rounds of the sweep (`ROLLCALL_CRASH_ROUNDS` overrides, for a longer local run).
fn rounds() -> u64 {
    std::env::var("ROLLCALL_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(100)
}

fn append_loop(env: &Env, tag: &str) -> Child {
    Command::new(example_bin("append_loop"))
        .args([env.ledger().to_str().unwrap(), env.home().to_str().unwrap(), "alice", "1000000", tag])
        .env("ROLLCALL_PASSPHRASE", PASS)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn append_loop")
}

/// A small deterministic generator (the sweep is reproducible from its seed).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[test]
fn kill_9_at_random_moments_during_appends_and_an_import() {
    let env = Env::with_ledger();
    // A peer with a log of its own, whose bundle the fourth process imports.
    let bob = peer(&env, "bob", "test.example/bob", &["approver"]);
    for i in 0..40 {
        bob.ok(&["note", &format!("from bob {i}"), "--as", "bob"]);
    }
    let bundle = bob.home().join("bob.rollcall");
    bob.ok(&["export", "--out", bundle.to_str().unwrap(), "--as", "bob"]);
    let bob_len =
        verify_json(&bob).1["origins"].as_array().unwrap().iter().find(|o| o["origin"] == "test.example/bob").unwrap()
            ["size"]
            .clone();
    let mut rng = Lcg(0x5eed_2026_1202);
    // (index, tag, n): the n-th append the loop tagged `tag` acknowledged, at `index`.
    let mut acknowledged: Vec<(u64, String, usize)> = Vec::new();
    let mut imported = false;
    for round in 0..rounds() {
        let tags: Vec<String> = (0..3).map(|p| format!("r{round}p{p}")).collect();
        let mut children: Vec<Child> = tags.iter().map(|t| append_loop(&env, t)).collect();
        let mut import = Command::new(assert_cmd::cargo::cargo_bin("rollcall"))
            .env_clear()
            .env("ROLLCALL_HOME", env.home())
            .env("ROLLCALL_PASSPHRASE", PASS)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["import", bundle.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn import");
        // Readers collect every index a loop acknowledged until it dies, in order: the n-th is its note n.
        let readers: Vec<_> = children
            .iter_mut()
            .zip(&tags)
            .map(|(c, tag)| {
                let out = c.stdout.take().expect("stdout");
                let tag = tag.clone();
                std::thread::spawn(move || {
                    BufReader::new(out)
                        .lines()
                        .map_while(Result::ok)
                        .enumerate()
                        .map(|(n, l)| (l.trim().parse::<u64>().expect("an index per line"), tag.clone(), n))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20 + rng.next(300)));
        for c in children.iter_mut() {
            let _ = c.kill();
        }
        let _ = import.kill();
        for c in children.iter_mut() {
            let _ = c.wait();
        }
        let landed = import.wait().expect("import wait").success();
        imported |= landed;
        for r in readers {
            acknowledged.extend(r.join().expect("reader"));
        }
        let started = Instant::now();
        let (code, v) = verify_json(&env);
        assert_eq!(code, 0, "round {round}: {v}");
        assert!(started.elapsed() < Duration::from_secs(60));
        // A killed import left nothing or everything.
        let bob_size = v["origins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["origin"] == "test.example/bob")
            .map(|o| o["size"].clone());
        if let Some(size) = &bob_size {
            assert_eq!(*size, bob_len, "round {round}: the peer's log is whole: {v}");
        }
        assert!(!landed || bob_size.is_some(), "round {round}: the import exited 0 but its log is not here: {v}");
    }
    // Every acknowledged append is in the own log at the index it was acknowledged at, with its text, and
    // no index was acknowledged twice.
    assert!(!acknowledged.is_empty(), "the loops got some appends in");
    let mut indexes: Vec<u64> = acknowledged.iter().map(|a| a.0).collect();
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(indexes.len(), acknowledged.len(), "an index was acknowledged twice");
    {
        let c =
            rusqlite::Connection::open_with_flags(env.ledger(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut stmt = c
            .prepare(
                "SELECT e.statement FROM leaves l JOIN entries e ON e.id = l.entry_id JOIN origins o ON o.id = l.origin
                  WHERE o.own = 1 AND l.idx = ?1",
            )
            .unwrap();
        for (index, tag, n) in &acknowledged {
            let bytes: Vec<u8> =
                stmt.query_row([*index as i64], |r| r.get(0)).unwrap_or_else(|e| panic!("index {index}: {e}"));
            let st: serde_json::Value = serde_json::from_slice(&bytes).expect("statement json");
            assert_eq!(st["body"]["text"], format!("{tag} {n}"), "index {index} holds {tag}'s note {n}: {st}");
        }
    }
    // The ledger still takes appends and imports, and the last import brings the peer's log exactly when
    // no import of the sweep had landed (one that exited 0 had).
    let had = verify_json(&env).1["origins"].as_array().unwrap().iter().any(|o| o["origin"] == "test.example/bob");
    assert!(had || !imported);
    eprintln!("{} appends acknowledged; the peer's log landed during the sweep: {had}", acknowledged.len());
    env.ok(&["note", "after the sweep", "--as", "alice"]);
    let r = env.import(bundle.to_str().unwrap());
    let bob_added =
        r["origins"].as_array().unwrap().iter().find(|o| o["origin"] == "test.example/bob").unwrap()["added"].clone();
    assert_eq!(bob_added, if had { serde_json::json!(0) } else { bob_len.clone() }, "{r}");
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
}
