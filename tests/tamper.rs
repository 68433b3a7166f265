//! Tampering with the ledger file behind rollcall's back: every change to a statement, signature, leaf,
//! tree hash or checkpoint, and every deletion or reordering, makes `verify` exit 1 and name the first
//! bad place.

mod common;
use common::{Env, verify_json};
use rusqlite::params;

/// A ledger of genesis + 6 notes.
fn ledger() -> Env {
    let env = Env::with_ledger();
    env.notes(6);
    assert_eq!(verify_json(&env).0, 0);
    env
}

fn entry_id_at(c: &rusqlite::Connection, idx: i64) -> Vec<u8> {
    c.query_row("SELECT entry_id FROM leaves WHERE idx = ?1", [idx], |r| r.get(0)).unwrap()
}

/// Asserts verify fails and returns the failure object.
fn failure(env: &Env) -> serde_json::Value {
    let (code, v) = verify_json(env);
    assert_eq!(code, 1, "verify should fail: {v}");
    assert_eq!(v["intact"], false);
    let f = v["integrity"]["failure"].clone();
    assert!(f.is_object(), "{v}");
    let human = env.run(&["verify"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("integrity: FAILED"), "{text}");
    // One thread (the reader joins the entries in) finds exactly the same failure as several (the workers
    // look the entries up on connections of their own).
    let one = env.cmd().args(["--json", "verify"]).env("ROLLCALL_VERIFY_THREADS", "1").output().unwrap();
    assert_eq!(one.status.code(), Some(1));
    let one: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(one["integrity"]["failure"], f, "one thread: {one}");
    f
}

fn flip(b: &mut [u8], at: usize) {
    b[at] ^= 0x01;
}

#[test]
fn flipped_statement_byte() {
    let env = ledger();
    let c = env.tamper();
    let id = entry_id_at(&c, 3);
    let mut stmt: Vec<u8> = c.query_row("SELECT statement FROM entries WHERE id = ?1", [&id], |r| r.get(0)).unwrap();
    let at = stmt.len() - 20;
    flip(&mut stmt, at);
    c.execute("UPDATE entries SET statement = ?1 WHERE id = ?2", params![stmt, id]).unwrap();
    drop(c);
    let f = failure(&env);
    assert_eq!(f["index"], 3);
    assert_eq!(f["entry_id"], hex::encode(&id));
    // Said for what it is: the bytes changed after signing (the signature's failure is how it shows first).
    let problem = f["problem"].as_str().unwrap();
    assert!(problem.contains("does not hash to its id: its bytes were changed after it was signed"), "{problem}");
    // Its completeness is not known (the walk stopped there): not "entries after the latest checkpoint".
    let (_, v) = verify_json(&env);
    let statement = v["completeness"][0]["statement"].as_str().unwrap();
    assert_eq!(statement, "not known: verification of this log stopped at its failure (index 3)", "{v}");
    // A damaged file says nothing of which ledger it is: --ledger-id is not compared (and it fails).
    let run = env.run(&["--json", "verify", "--ledger-id", &"ab".repeat(32)]);
    assert_eq!(run.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(v["ledger_id_matches"].is_null() && v["ledger_id_expected"] == "ab".repeat(32), "{v}");
    let text = String::from_utf8_lossy(&env.run(&["verify", "--ledger-id", &"ab".repeat(32)]).stdout).into_owned();
    assert!(text.contains("ledger id: not compared with --ledger-id (the file does not verify)"), "{text}");
}

/// A request whose statement was changed behind the ledger's back: `show` and `gate` name it by the id it
/// is stored under (the one `verify` names), and say that its bytes changed after it was signed.
#[test]
fn a_changed_request_is_named_by_its_id_everywhere() {
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    let c = env.tamper();
    let id = hex::decode(&req).unwrap();
    let st: Vec<u8> = c.query_row("SELECT statement FROM entries WHERE id = ?1", [&id], |r| r.get(0)).unwrap();
    let forged = String::from_utf8(st).unwrap().replacen("Revert", "Revort", 1);
    c.execute("UPDATE entries SET statement = ?1 WHERE id = ?2", params![forged.as_bytes(), &id]).unwrap();
    drop(c);
    let f = failure(&env);
    assert_eq!(f["entry_id"], req.as_str(), "{f}");
    for args in [&["show", &req[..12]][..], &["gate", &req[..12]][..]] {
        let err = env.fails(args, 1);
        assert!(
            err.contains(&format!("request {} fails its check: its statement does not hash to its id", &req[..12])),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn flipped_signature_byte() {
    let env = ledger();
    let c = env.tamper();
    let id = entry_id_at(&c, 2);
    let mut sig: Vec<u8> = c.query_row("SELECT signature FROM entries WHERE id = ?1", [&id], |r| r.get(0)).unwrap();
    flip(&mut sig, 10);
    c.execute("UPDATE entries SET signature = ?1 WHERE id = ?2", params![sig, id]).unwrap();
    drop(c);
    let f = failure(&env);
    assert_eq!(f["index"], 2);
    assert!(f["problem"].as_str().unwrap().contains("signature"), "{f}");
}

#[test]
fn flipped_leaf_entry_id_and_prev() {
    let env = ledger();
    let c = env.tamper();
    let mut id = entry_id_at(&c, 4);
    flip(&mut id, 0);
    c.execute("UPDATE leaves SET entry_id = ?1 WHERE idx = 4", [id]).unwrap();
    drop(c);
    assert_eq!(failure(&env)["index"], 4);

    let env = ledger();
    let c = env.tamper();
    let mut prev: Vec<u8> = c.query_row("SELECT prev FROM leaves WHERE idx = 5", [], |r| r.get(0)).unwrap();
    flip(&mut prev, 31);
    c.execute("UPDATE leaves SET prev = ?1 WHERE idx = 5", [prev]).unwrap();
    drop(c);
    let f = failure(&env);
    assert_eq!(f["index"], 5);
    assert!(f["problem"].as_str().unwrap().contains("chain"), "{f}");
}

#[test]
fn flipped_tree_hash() {
    let env = ledger();
    let c = env.tamper();
    let mut h: Vec<u8> = c.query_row("SELECT hash FROM tree_hashes WHERE idx = 4", [], |r| r.get(0)).unwrap();
    flip(&mut h, 7);
    c.execute("UPDATE tree_hashes SET hash = ?1 WHERE idx = 4", [h]).unwrap();
    drop(c);
    let f = failure(&env);
    assert!(f["problem"].as_str().unwrap().contains("tree hash 4"), "{f}");

    // A stored hash of the wrong length is a wrong hash too.
    let env = ledger();
    let c = env.tamper();
    c.execute("UPDATE tree_hashes SET hash = substr(hash, 1, 31) WHERE idx = 4", []).unwrap();
    drop(c);
    let f = failure(&env);
    assert_eq!(f["problem"], "stored tree hash 4 is wrong", "{f}");

    // Appending onto a damaged frontier (stored hash 6 roots the first four leaves of seven) is refused,
    // and nothing is written.
    let env = ledger();
    let c = env.tamper();
    let mut h: Vec<u8> = c.query_row("SELECT hash FROM tree_hashes WHERE idx = 6", [], |r| r.get(0)).unwrap();
    flip(&mut h, 7);
    c.execute("UPDATE tree_hashes SET hash = ?1 WHERE idx = 6", [h]).unwrap();
    drop(c);
    let before = env.fingerprint();
    let err = env.fails(&["note", "more", "--as", "alice"], 1);
    assert!(err.contains("verify"), "{err}");
    assert_eq!(env.fingerprint(), before);
}

#[test]
fn flipped_checkpoint_signature_and_root() {
    for (what, pos_from_end) in [("signature", 10usize), ("root", 0)] {
        let env = ledger();
        let c = env.tamper();
        let note: String = c.query_row("SELECT note FROM checkpoints WHERE size = 4", [], |r| r.get(0)).unwrap();
        let bytes = note.as_bytes().to_vec();
        let mut tampered = bytes.clone();
        let at = if what == "root" {
            // A character of the base64 root (third line).
            note.match_indices('\n').nth(1).unwrap().0 + 3
        } else {
            bytes.len() - pos_from_end
        };
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        c.execute("UPDATE checkpoints SET note = ?1 WHERE size = 4", [String::from_utf8(tampered).unwrap()]).unwrap();
        drop(c);
        let f = failure(&env);
        assert_eq!(f["index"], 3, "{what}: {f}");
        assert!(f["problem"].as_str().unwrap().contains("checkpoint of size 4"), "{what}: {f}");
    }
}

#[test]
fn changed_index_columns() {
    let env = ledger();
    let c = env.tamper();
    let id = entry_id_at(&c, 1);
    c.execute("UPDATE entries SET kind = 'genesis' WHERE id = ?1", [&id]).unwrap();
    drop(c);
    assert_eq!(failure(&env)["index"], 1);
}

#[test]
fn deleted_entry() {
    let env = ledger();
    let c = env.tamper();
    let id = entry_id_at(&c, 3);
    c.execute("DELETE FROM entries WHERE id = ?1", [&id]).unwrap();
    drop(c);
    let f = failure(&env);
    assert_eq!(f["index"], 3);
    assert!(f["problem"].as_str().unwrap().contains("not in the ledger"), "{f}");
}

#[test]
fn deleted_leaf_in_the_middle() {
    let env = ledger();
    let c = env.tamper();
    c.execute("DELETE FROM leaves WHERE idx = 2", []).unwrap();
    drop(c);
    let f = failure(&env);
    assert_eq!(f["index"], 2);
    assert!(f["problem"].as_str().unwrap().contains("missing"), "{f}");
}

#[test]
fn reordered_entries() {
    let env = ledger();
    let c = env.tamper();
    let a = entry_id_at(&c, 2);
    let b = entry_id_at(&c, 3);
    c.execute("UPDATE leaves SET entry_id = ?1 WHERE idx = 2", [&b]).unwrap();
    c.execute("UPDATE leaves SET entry_id = ?1 WHERE idx = 3", [&a]).unwrap();
    drop(c);
    assert_eq!(failure(&env)["index"], 2);
}

#[test]
fn truncated_tail_with_checkpoint_left_behind() {
    let env = ledger();
    let c = env.tamper();
    c.execute("DELETE FROM leaves WHERE idx = 6", []).unwrap();
    drop(c);
    let f = failure(&env);
    assert!(f["problem"].as_str().unwrap().contains("removed from the end"), "{f}");
}

#[test]
fn clean_truncation_is_only_visible_against_an_outside_checkpoint() {
    // Someone with the file removes the last entry together with its leaf, tree hashes and checkpoint.
    // The file is self-consistent again: integrity passes, and the completeness verdict says plainly that
    // only a checkpoint held elsewhere can show the cut.
    let env = ledger();
    let c = env.tamper();
    let id = entry_id_at(&c, 6);
    c.execute("DELETE FROM leaves WHERE idx = 6", []).unwrap();
    c.execute("DELETE FROM entries WHERE id = ?1", [&id]).unwrap();
    c.execute("DELETE FROM tree_hashes WHERE idx >= 10", []).unwrap();
    c.execute("DELETE FROM checkpoints WHERE size = 7", []).unwrap();
    drop(c);
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["origins"][0]["size"], 6);
    assert!(v["completeness"][0]["statement"].as_str().unwrap().contains("cannot show that nothing was cut off"));
    assert_eq!(v["completeness"][0]["witnessed"], false);
}

#[test]
fn inserted_orphan_entry() {
    let env = ledger();
    let c = env.tamper();
    c.execute(
        "INSERT INTO entries (id, statement, signature, kind, actor, ts)
         SELECT zeroblob(32), statement, signature, kind, actor, ts FROM entries LIMIT 1",
        [],
    )
    .unwrap();
    drop(c);
    let f = failure(&env);
    assert!(f["problem"].as_str().unwrap().contains("in no log"), "{f}");
}

#[test]
fn forged_entry_by_unenrolled_key_with_stolen_origin_key() {
    // An attacker appends a well-formed, correctly signed entry with their own key through the library,
    // holding the origin key: the chain and checkpoints are valid, but the signer was never enrolled.
    use ed25519_dalek::SigningKey;
    use rollcall::ledger::{PublicKey, Statement};
    let env = ledger();
    let mallory = SigningKey::from_bytes(&[66u8; 32]);
    let stmt = Statement::new("note", &PublicKey::from_signing(&mallory), serde_json::json!({"text": "forged"}), &[]);
    env.append_raw(&stmt, &mallory);
    // Integrity holds (every byte is as signed), but the entry does not count: a separate verdict.
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    let dnc = v["does_not_count"].as_array().unwrap();
    assert_eq!(dnc.len(), 1, "{v}");
    assert_eq!(dnc[0]["index"], 7);
    assert!(dnc[0]["reason"].as_str().unwrap().contains("not enrolled"), "{v}");
    let text = env.ok(&["verify"]);
    assert!(text.contains("do not count"), "{text}");
}

#[test]
fn raw_byte_flip_in_the_file() {
    let env = ledger();
    env.ok(&["note", "UNIQUE-MARKER-TEXT", "--as", "alice"]);
    let path = env.ledger();
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(18).position(|w| w == b"UNIQUE-MARKER-TEXT").expect("marker in main db file");
    bytes[at + 3] ^= 0x20;
    std::fs::write(&path, bytes).unwrap();
    let f = failure(&env);
    assert_eq!(f["index"], 7);
}

#[test]
fn triggers_refuse_updates_and_deletes() {
    let env = ledger();
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    for sql in [
        "UPDATE entries SET kind = 'x'",
        "DELETE FROM leaves WHERE idx = 3",
        "DELETE FROM checkpoints",
        "UPDATE meta SET value = 'x'",
        "DELETE FROM tree_hashes",
        "UPDATE origins SET name = 'x'",
    ] {
        let err = c.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    drop(c);
    assert_eq!(verify_json(&env).0, 0);
}

/// The refs index (which entries build on which) is checked against the signed statements: a row
/// removed, added or redirected behind the ledger's back is named. (The check walks both in key order, on
/// disk, so it holds however large the ledger is.)
#[test]
fn refs_index_rows_removed_added_or_redirected() {
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    common::tested(&env, &req, "bob");
    env.ok(&["note", "--on", &req, "--as", "carol", "looked at it"]);
    assert_eq!(verify_json(&env).0, 0);
    let req_id = hex::decode(&req).unwrap();
    let before = env.tamper();
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = before
        .prepare("SELECT ref, entry_id FROM refs WHERE ref = ?1 ORDER BY entry_id")
        .unwrap()
        .query_map([&req_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(pairs.len() >= 2, "the evidence and the approval refer to the request");
    drop(before);

    // Removed: the approval no longer shows under its request.
    let c = env.tamper();
    c.execute("DELETE FROM refs WHERE ref = ?1 AND entry_id = ?2", params![pairs[0].0, pairs[0].1]).unwrap();
    drop(c);
    let f = failure(&env);
    assert_eq!(f["problem"], "the refs index lacks 1 of the statements' references", "{f}");
    let c = env.tamper();
    c.execute("INSERT INTO refs (ref, entry_id) VALUES (?1, ?2)", params![pairs[0].0, pairs[0].1]).unwrap();
    drop(c);
    assert_eq!(verify_json(&env).0, 0);

    // Added: an entry made to look as if it built on the request.
    let genesis: Vec<u8> =
        env.tamper().query_row("SELECT entry_id FROM leaves WHERE idx = 0", [], |r| r.get(0)).unwrap();
    let c = env.tamper();
    c.execute("INSERT INTO refs (ref, entry_id) VALUES (?1, ?2)", params![req_id, genesis]).unwrap();
    drop(c);
    let f = failure(&env);
    let problem = f["problem"].as_str().unwrap();
    assert!(
        problem.starts_with(&format!("the refs index says entry {}", &hex::encode(&genesis)[..16]))
            && problem.ends_with("but its statement does not"),
        "{f}"
    );
    let c = env.tamper();
    c.execute("DELETE FROM refs WHERE ref = ?1 AND entry_id = ?2", params![req_id, genesis]).unwrap();
    drop(c);
    assert_eq!(verify_json(&env).0, 0);

    // Redirected: the approval moved to another request id.
    let c = env.tamper();
    let mut other = pairs[1].0.clone();
    other[31] ^= 1;
    c.execute("UPDATE refs SET ref = ?1 WHERE ref = ?2 AND entry_id = ?3", params![other, pairs[1].0, pairs[1].1])
        .unwrap();
    drop(c);
    let f = failure(&env);
    assert!(f["problem"].as_str().unwrap().contains("but its statement does not"), "{f}");
}

/// A change far into a large log (past the first batches the verifying threads take, and a batch boundary
/// away from the start) is found at its index, and one thread finds exactly what several do.
#[test]
fn flipped_statement_byte_in_a_later_batch() {
    let env = Env::with_ledger();
    env.bulk_notes("alice", 2600);
    assert_eq!(verify_json(&env).0, 0);
    let c = env.tamper();
    let idx = 2049;
    let id = entry_id_at(&c, idx);
    let mut stmt: Vec<u8> = c.query_row("SELECT statement FROM entries WHERE id = ?1", [&id], |r| r.get(0)).unwrap();
    let at = stmt.len() - 20;
    flip(&mut stmt, at);
    c.execute("UPDATE entries SET statement = ?1 WHERE id = ?2", params![stmt, id]).unwrap();
    drop(c);
    let f = failure(&env);
    assert_eq!(f["index"], idx);
    assert_eq!(f["entry_id"], hex::encode(&id));
    for threads in ["2", "3"] {
        let out = env.cmd().args(["--json", "verify"]).env("ROLLCALL_VERIFY_THREADS", threads).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["integrity"]["failure"], f, "{threads} threads: {v}");
    }
}

/// The request index is a cache in the same file: anything may be written into it behind rollcall's
/// back. An id that is not hex (multibyte characters where a short id is cut) must not crash the report
/// or reconcile.
#[test]
fn a_tampered_request_index_does_not_crash_the_report() {
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    common::tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    env.ok(&["execute", &req, "--outcome", "failed", "--as", "erin"]);
    env.ok(&["report", "--as", "alice"]);
    let c = env.tamper();
    let changed =
        c.execute("UPDATE request_index SET facts = json_set(facts, '$.id', 'aéééééééééééééééé')", []).unwrap();
    assert_eq!(changed, 1);
    drop(c);
    let md = env.ok(&["report", "--as", "alice"]);
    assert!(md.contains("`aééééééééééé`") && md.contains("execution failed"), "{md}");
    env.ok(&["--json", "reconcile"]);
}
