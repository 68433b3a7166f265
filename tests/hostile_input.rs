//! Hostile input (issue 13): a zstd blob bomb, a valid bundle without blobs, and refusals that leave the
//! ledger byte for byte as it was.

mod common;
use common::{Env, file, file_request, peer};
use std::io::Write;
use std::time::{Duration, Instant};

const BOB: &str = "test.example/bob";

/// The ledger's content as `sqlite3 .dump` prints it.
fn dump(env: &Env) -> String {
    let out = std::process::Command::new("sqlite3").arg(env.ledger()).arg(".dump").output().expect("sqlite3");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn lines(path: &str) -> Vec<Vec<u8>> {
    let b = std::fs::read(path).expect("read bundle");
    b[..b.len() - 1].split(|&c| c == b'\n').map(<[u8]>::to_vec).collect()
}

/// Runs `rollcall args` under `/usr/bin/time -v`: (exit code, stderr, peak RSS in KiB, elapsed).
fn measured(env: &Env, args: &[&str]) -> (i32, String, u64, Duration) {
    let bin = assert_cmd::cargo::cargo_bin("rollcall");
    let started = Instant::now();
    let out = std::process::Command::new("/usr/bin/time")
        .arg("-v")
        .arg(bin)
        .args(args)
        .env_clear()
        .env("ROLLCALL_HOME", env.home())
        .env("ROLLCALL_PASSPHRASE", common::PASS)
        .env("ROLLCALL_INSECURE_FAST_KDF", "1")
        .output()
        .expect("time -v");
    let elapsed = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let rss = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|v| v.trim().parse().ok())
        .expect("time -v reports the peak RSS");
    let first = err.lines().next().unwrap_or_default().to_string();
    (out.status.code().unwrap_or(-1), first, rss, elapsed)
}

#[test]
fn a_zstd_blob_bomb_is_refused_at_its_line_in_bounded_memory() {
    let alice = Env::with_ledger();
    let bob = peer(&alice, "bob", BOB, &["approver", "requester"]);
    let req = file_request(&bob, "bob", "low");
    let log = file(&bob, "revert.log", "rolled back payments to 41\n");
    bob.ok(&["evidence", "add", &req, &log, "--kind", "log", "--as", "bob"]);
    let good = bob.export("bob.rollcall");
    let ls = lines(&good);
    let bl = ls.iter().position(|l| l.starts_with(b"blob ")).expect("a blob line");
    let sha = String::from_utf8(ls[bl].clone()).unwrap().split(' ').nth(1).unwrap().to_string();

    // The bundle's lines up to the blob, then the blob declared as 4 GiB of zeros with 256 MiB of its
    // data lines (about 350 MB of base64), zstd-compressed to a small file.
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    for l in &ls[..bl] {
        enc.write_all(l).unwrap();
        enc.write_all(b"\n").unwrap();
    }
    writeln!(enc, "blob {sha} {}", 4u64 << 30).unwrap();
    let data = format!("data {}\n", "A".repeat(65_536));
    for _ in 0..(256 << 20) / 49_152 {
        enc.write_all(data.as_bytes()).unwrap();
    }
    let z = enc.finish().unwrap();
    assert!(z.len() < 2 << 20, "the bomb is small: {} bytes", z.len());
    let bomb = alice.home().join("bomb.rollcall.zst");
    std::fs::write(&bomb, &z).unwrap();

    let before = dump(&alice);
    let (code, err, rss_kib, elapsed) = measured(&alice, &["import", bomb.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("line {}", bl + 1)) && err.contains(&sha[..16]), "{err}");
    assert!(err.contains("max_file_mib"), "{err}");
    assert!(rss_kib < 256 * 1024, "peak RSS {rss_kib} KiB");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    assert_eq!(dump(&alice), before, "a refused import changed the ledger");

    // The same bomb through verify --bundle and init --join: refused, bounded, nothing left behind.
    let (code, _, rss_kib, _) = measured(&alice, &["verify", "--bundle", bomb.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(rss_kib < 256 * 1024, "verify --bundle peak RSS {rss_kib} KiB");
    let carol = Env::new();
    carol.ok(&["key", "new", "carol"]);
    let (code, _, rss_kib, _) =
        measured(&carol, &["init", "--join", bomb.to_str().unwrap(), "--as", "carol", "--origin", "test.example/c"]);
    assert_ne!(code, 0);
    assert!(rss_kib < 256 * 1024, "init --join peak RSS {rss_kib} KiB");
    assert!(!carol.ledger().exists(), "a refused join leaves no ledger");

    // The genuine bundle still brings the blob (streamed to the store) and it verifies.
    assert_eq!(alice.import(&good)["blobs"], 1);
    let v = alice.json(&["verify"]);
    assert_eq!(v["evidence"]["checked"], 1, "{v}");
}

#[test]
fn a_bundle_without_blobs_verifies_and_can_be_joined() {
    let alice = Env::with_ledger();
    alice.notes(2);
    let p = alice.home().join("plain.rollcall");
    alice.ok(&["export", "--no-blobs", "--out", p.to_str().unwrap()]);
    let out = alice.ok(&["verify", "--bundle", p.to_str().unwrap()]);
    assert!(!out.contains("readonly"), "{out}");
    let bob = Env::new();
    bob.ok(&["key", "new", "bob"]);
    let key = bob.public_key("bob");
    alice.ok(&["enroll", "bob", "--pubkey", &key, "--as", "alice", "--role", "approver"]);
    alice.ok(&["export", "--no-blobs", "--out", p.to_str().unwrap()]);
    bob.ok(&["init", "--join", p.to_str().unwrap(), "--as", "bob", "--origin", BOB]);
    bob.ok(&["verify"]);
    let copy = bob.home().join("bob.rollcall");
    bob.ok(&["export", "--out", copy.to_str().unwrap()]);
    bob.ok(&["verify", "--bundle", copy.to_str().unwrap()]);
}

#[test]
fn a_statement_nested_too_deep_is_refused_at_its_line_before_anything_is_written() {
    let alice = Env::with_ledger();
    let bob = peer(&alice, "bob", BOB, &["approver"]);
    bob.ok(&["note", "x", "--as", "bob"]);
    let good = bob.export("bob.rollcall");
    let mut ls = lines(&good);
    let i = ls.iter().position(|l| l.starts_with(b"leaf ") && l.windows(10).any(|w| w == br#""text":"x""#)).unwrap();
    let line = String::from_utf8(ls[i].clone()).unwrap();
    let deep = format!(r#""text":{}"x"{}"#, "[".repeat(10_000), "]".repeat(10_000));
    ls[i] = line.replace(r#""text":"x""#, &deep).into_bytes();
    let mut body = Vec::new();
    for l in &ls[..ls.len() - 1] {
        body.extend_from_slice(l);
        body.push(b'\n');
    }
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&body))
    };
    body.extend_from_slice(format!("end {digest}\n").as_bytes());
    let bad = alice.home().join("deep.rollcall");
    std::fs::write(&bad, &body).unwrap();
    let before = dump(&alice);
    let err = alice.fails(&["import", bad.to_str().unwrap()], 1);
    assert!(err.contains(&format!("line {}", i + 1)) && err.contains("deeper than 64"), "{err}");
    assert_eq!(dump(&alice), before);
    alice.ok(&["verify"]);
    alice.ok(&["list"]);
}

fn sealed(ls: &[Vec<u8>]) -> Vec<u8> {
    use sha2::Digest;
    let mut body = Vec::new();
    for l in ls {
        body.extend_from_slice(l);
        body.push(b'\n');
    }
    let digest = hex::encode(sha2::Sha256::digest(&body));
    body.extend_from_slice(format!("end {digest}\n").as_bytes());
    body
}

#[test]
fn every_refused_import_or_join_leaves_the_ledger_byte_identical() {
    let alice = Env::with_ledger();
    let bob = peer(&alice, "bob", BOB, &["approver"]);
    bob.ok(&["note", "x", "--as", "bob"]);
    let ls = lines(&bob.export("bob.rollcall"));
    let n = ls.len();
    let body = &ls[..n - 1];
    let leaf = ls.iter().position(|l| l.windows(10).any(|w| w == br#""text":"x""#)).unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut forged = body.to_vec();
    forged[leaf] = String::from_utf8(forged[leaf].clone()).unwrap().replace(r#""text":"x""#, r#""text":"z""#).into();
    cases.push(("forged signature", sealed(&forged)));
    let mut wrong_end = sealed(body);
    let k = wrong_end.len() - 3;
    wrong_end[k] = if wrong_end[k] == b'0' { b'1' } else { b'0' };
    cases.push(("bad digest", wrong_end));
    cases.push(("truncated", sealed(body)[..sealed(body).len() / 2].to_vec()));
    let mut long = body.to_vec();
    long.insert(1, vec![b'x'; 200_000]);
    cases.push(("oversized line", sealed(&long)));
    let mut v3 = body.to_vec();
    v3[0] = String::from_utf8(v3[0].clone()).unwrap().replacen("/2 ", "/3 ", 1).into_bytes();
    cases.push(("unknown version", sealed(&v3)));
    for (what, bytes) in cases {
        let p = alice.home().join("bad.rollcall");
        std::fs::write(&p, &bytes).unwrap();
        let before = dump(&alice);
        let out = alice.run(&["import", p.to_str().unwrap()]);
        assert_ne!(out.status.code(), Some(0), "{what} was imported");
        assert_eq!(dump(&alice), before, "{what}: a refused import changed the ledger");
        let carol = Env::new();
        carol.ok(&["key", "new", "carol"]);
        let out = carol.run(&["init", "--join", p.to_str().unwrap(), "--as", "carol", "--origin", "test.example/c"]);
        assert_ne!(out.status.code(), Some(0), "{what} was joined");
        assert!(!carol.ledger().exists(), "{what}: a refused join left a ledger");
    }
}

/// A ledger that already holds an entry no reader could parse (written before these limits, or by a
/// modified client with the origin key): `verify` names it, and every other command goes on.
#[test]
fn a_ledger_holding_an_unreadable_entry_still_works() {
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    let size = env.push_unreadable();
    // verify names it.
    let (code, v) = common::verify_json(&env);
    assert_eq!(code, 1, "{v}");
    let f = &v["integrity"]["failure"];
    assert_eq!(f["index"], size, "{v}");
    assert!(f["problem"].as_str().unwrap().contains("deeper"), "{v}");
    // Everything else goes on.
    assert!(env.ok(&["list"]).contains(&req[..12]));
    env.ok(&["rebuild"]);
    env.ok(&["show", &req]);
    // The log shows it as unreadable, not as the kind its unchecked head claims.
    let log = env.json(&["log"]);
    let last = log["entries"].as_array().and_then(|e| e.last()).cloned().unwrap_or_default();
    assert_eq!((last["index"].as_u64(), last["kind"].as_str()), (Some(size), Some("(unreadable)")), "{log}");
    env.ok(&["log"]);
    env.ok(&["obligations"]);
    // The report is still written, and its header says the ledger does not verify, naming the entry.
    let out = env.run(&["report", "--as", "alice"]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("**FAILED**") && md.contains(&format!("index {size}")), "{md}");
}
