//! What a reader does with input docs/FORMAT.md states only as writer rules (format-gaps items 6 and 11):
//! a stored `leaves.ets` that is not the recomputed one, a stored blob no entry names, a file without its
//! own origin, an origin key that is not a curve point, a second signature line under the origin's own name
//! and key id, non-canonical base64, and the exit codes of a file that is not a bundle and of a newer
//! bundle version, and the unsigned header's part in the rollback rule. Each refusal is shown to leave the
//! ledger as it was.

mod common;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{Env, bundle_lines, join_refused, peer, sealed, verify_json};
use sha2::{Digest, Sha256};

const BOB: &str = "test.example/bob";
const LAPTOP: &str = "test.example/laptop";

/// Writes `bytes` to a new file in `env`'s home and returns its path.
fn write(env: &Env, name: &str, bytes: &[u8]) -> String {
    let p = env.home().join(name);
    std::fs::write(&p, bytes).expect("write");
    p.to_str().expect("utf-8 path").to_string()
}

/// `lines` (the `end` line included) with a fresh `end` line: a well-formed bundle of what they hold.
fn resealed(lines: &[Vec<u8>]) -> Vec<u8> {
    let (end, body) = lines.split_last().expect("lines");
    assert!(end.starts_with(b"end "), "the last line is the end line");
    sealed(body)
}

/// Index of the first line starting with `prefix`.
fn find(lines: &[Vec<u8>], prefix: &str) -> usize {
    lines.iter().position(|l| l.starts_with(prefix.as_bytes())).unwrap_or_else(|| panic!("no line {prefix:?}"))
}

/// Index of the checkpoint line of origin `name`.
fn checkpoint_line(lines: &[Vec<u8>], name: &str) -> usize {
    let o = find(lines, &format!("origin {name}+"));
    o + lines[o..].iter().position(|l| l.starts_with(b"checkpoint ")).expect("checkpoint line")
}

/// The failure `verify --json` reports, asserting exit 1.
fn verify_failure(env: &Env) -> serde_json::Value {
    let (code, v) = verify_json(env);
    assert_eq!(code, 1, "verify should fail: {v}");
    assert_eq!(v["intact"], false, "{v}");
    v["integrity"]["failure"].clone()
}

/// The signature line `— <name> base64(key_id || sig)` of a note.
fn signature_line(name: &str, key_id: &[u8], sig: &[u8]) -> String {
    format!("\u{2014} {name} {}\n", B64.encode([key_id, sig].concat()))
}

/// A ledger of alice's with three notes, verifying.
fn ledger() -> Env {
    let env = Env::with_ledger();
    env.notes(3);
    assert_eq!(verify_json(&env).0, 0);
    env
}

/// 32 bytes that are not an Ed25519 public key: not the encoding of a curve point.
fn not_a_point() -> [u8; 32] {
    (2u8..=255)
        .map(|b| [b; 32])
        .find(|raw| ed25519_dalek::VerifyingKey::from_bytes(raw).is_err())
        .expect("some y is off the curve")
}

/// A point of small order (the identity): a weak key.
fn weak_key() -> [u8; 32] {
    let mut raw = [0u8; 32];
    raw[0] = 1;
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw).expect("a curve point");
    assert!(vk.is_weak());
    raw
}

/// §2.1/§5: `leaves.ets` is a cache, and `verify` fails on a stored value that is not the recomputed one,
/// naming the leaf — larger or smaller, even when the order of the log is kept.
#[test]
fn a_stored_effective_time_that_is_not_recomputed_fails_verify() {
    for delta in [1i64, -1] {
        let env = ledger();
        let c = env.tamper();
        c.execute("UPDATE leaves SET ets = ets + ?1 WHERE idx = 2", [delta]).unwrap();
        drop(c);
        let f = verify_failure(&env);
        assert_eq!(f["index"], 2, "{delta}: {f}");
        assert_eq!(f["origin"], LAPTOP, "{f}");
        assert_eq!(f["problem"], "the leaf's effective time is not its statement's (nor its predecessor's)", "{f}");
    }
}

/// §5: a stored blob that no entry names is not read: bytes that do not hash to its key do not fail
/// `verify`.
#[test]
fn a_stored_blob_no_entry_names_is_not_read() {
    let env = ledger();
    let c = env.tamper();
    c.execute_batch("CREATE TABLE IF NOT EXISTS blobs (sha256 BLOB PRIMARY KEY NOT NULL, bytes BLOB NOT NULL)")
        .unwrap();
    c.execute("INSERT INTO blobs (sha256, bytes) VALUES (?1, ?2)", rusqlite::params![[7u8; 32], b"not these bytes"])
        .unwrap();
    drop(c);
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["intact"], true, "{v}");
}

/// §5: a file with no origin marked `own = 1` is damaged: `verify` reports it as its integrity failure
/// (exit 1), every other command refuses it (exit 1) and an import changes nothing.
#[test]
fn a_ledger_without_its_own_origin_is_refused_as_damaged() {
    let env = ledger();
    let bundle = env.export("mine.rollcall");
    let c = env.tamper();
    c.execute("UPDATE origins SET own = 0", []).unwrap();
    drop(c);
    let f = verify_failure(&env);
    assert_eq!(f["problem"], "the ledger has no own origin", "{f}");
    let text = String::from_utf8(env.run(&["verify"]).stdout).unwrap();
    assert!(text.contains("integrity: FAILED"), "{text}");
    let err = env.fails(&["log"], 1);
    assert!(err.contains("ledger is damaged: the ledger has no own origin"), "{err}");
    let err = env.refuses(&["import", &bundle]);
    assert!(err.contains("ledger is damaged: the ledger has no own origin"), "{err}");
    assert_eq!(env.run(&["import", &bundle]).status.code(), Some(1));
}

/// §4/§5: an origin key stored in the file that is not a valid Ed25519 point (or is a weak, small-order
/// one) makes the file damaged: `verify` fails naming the origin, other commands refuse the file.
#[test]
fn a_stored_origin_key_that_is_not_a_curve_point_makes_the_file_damaged() {
    for raw in [not_a_point(), weak_key()] {
        let env = ledger();
        let c = env.tamper();
        c.execute("UPDATE origins SET public_key = ?1", [format!("ed25519:{}", hex::encode(raw))]).unwrap();
        drop(c);
        let f = verify_failure(&env);
        assert_eq!(f["problem"], format!("origin {LAPTOP:?} has an invalid public key"), "{f}");
        let err = env.fails(&["log"], 1);
        assert!(err.contains("has an invalid public key"), "{err}");
    }
}

/// Alice's ledger, bob joined to it with a note of his own, and bob's bundle of it (in bob's home: keep
/// bob alive while it is read).
fn bobs_bundle() -> (Env, Env, String) {
    let alice = ledger();
    let bob = peer(&alice, "bob", BOB, &["requester"]);
    bob.ok(&["note", "from bob", "--as", "bob"]);
    let good = bob.export("bob.rollcall");
    (alice, bob, good)
}

/// §8.1: a bundle whose `origin` line carries a key that is not a valid point (or a weak key) is refused
/// at that line, even with the key id computed over it; nothing is imported and no join is made.
#[test]
fn a_bundle_origin_key_that_is_not_a_curve_point_is_refused() {
    let (alice, _bob, good) = bobs_bundle();
    for (what, raw) in [("off-curve", not_a_point()), ("weak", weak_key())] {
        let mut lines = bundle_lines(&good);
        let o = find(&lines, &format!("origin {BOB}+"));
        let rest: Vec<String> =
            String::from_utf8(lines[o].clone()).unwrap().split(' ').skip(2).map(str::to_string).collect();
        let key_id = &Sha256::digest([BOB.as_bytes(), b"\n", &[0x01], &raw].concat())[..4];
        let vkey = format!("{BOB}+{}+{}", hex::encode(key_id), B64.encode([&[0x01][..], &raw].concat()));
        lines[o] = format!("origin {vkey} {}", rest.join(" ")).into_bytes();
        let bad = write(&alice, &format!("{what}.rollcall"), &resealed(&lines));
        let err = alice.refuses(&["import", &bad]);
        assert!(
            err.contains(&format!("bundle refused at line {}: the origin's verifier key is not valid", o + 1)),
            "{err}"
        );
        assert_eq!(alice.run(&["import", &bad]).status.code(), Some(1));
        let err = join_refused(&alice, "alice", &bad, "test.example/joiner");
        assert!(err.contains("the origin's verifier key is not valid"), "{err}");
    }
    alice.import(&good);
}

/// Appends `line` to the stored checkpoint note of `size` (triggers dropped).
fn add_signature_line(env: &Env, size: i64, line: &str) {
    let c = env.tamper();
    let note: String = c.query_row("SELECT note FROM checkpoints WHERE size = ?1", [size], |r| r.get(0)).unwrap();
    c.execute("UPDATE checkpoints SET note = ?1 WHERE size = ?2", rusqlite::params![format!("{note}{line}"), size])
        .unwrap();
}

/// The origin's own signature line of a note: (key id, signature).
fn own_signature(note: &str, origin: &str) -> (Vec<u8>, Vec<u8>) {
    let line = note.lines().find(|l| l.starts_with(&format!("\u{2014} {origin} "))).expect("origin's line");
    let raw = B64.decode(line.rsplit(' ').next().unwrap()).unwrap();
    (raw[..4].to_vec(), raw[4..].to_vec())
}

/// §4: every signature line under the origin's name and key id must verify, not only one of them; a line
/// under the origin's name with another key id, or under another name with its key id, is ignored. Shown
/// for a stored checkpoint (`verify`) and for a bundle's (`import`, `init --join`).
#[test]
fn every_signature_line_under_the_origins_name_and_key_id_must_verify() {
    let env = ledger();
    let size: i64 = env.size() as i64;
    let note: String =
        env.tamper().query_row("SELECT note FROM checkpoints WHERE size = ?1", [size], |r| r.get(0)).unwrap();
    let (key_id, sig) = own_signature(&note, LAPTOP);

    // Ignored: the origin's name with another key id; another name with the origin's key id; a second
    // copy of the valid line.
    let mut other_id = key_id.clone();
    other_id[0] ^= 1;
    add_signature_line(&env, size, &signature_line(LAPTOP, &other_id, &[0; 64]));
    add_signature_line(&env, size, &signature_line("test.example/other", &key_id, &[0; 64]));
    add_signature_line(&env, size, &signature_line(LAPTOP, &key_id, &sig));
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");

    // A second line under the origin's name and key id whose signature does not verify fails, although
    // the first one does.
    let mut bad = sig.clone();
    bad[0] ^= 1;
    add_signature_line(&env, size, &signature_line(LAPTOP, &key_id, &bad));
    let f = verify_failure(&env);
    assert_eq!(
        f["problem"],
        format!("checkpoint of size {size}: checkpoint signature by the origin key does not verify"),
        "{f}"
    );

    // The same in a bundle: bob's checkpoint with a bad second line under his name and key id.
    let (alice, _bob, good) = bobs_bundle();
    let lines = bundle_lines(&good);
    let cp = checkpoint_line(&lines, BOB);
    let note = String::from_utf8(B64.decode(&lines[cp][b"checkpoint ".len()..]).unwrap()).unwrap();
    let (key_id, sig) = own_signature(&note, BOB);
    let with = |line: String| {
        let mut l = lines.clone();
        l[cp] = format!("checkpoint {}", B64.encode(format!("{note}{line}"))).into_bytes();
        resealed(&l)
    };
    let mut bad = sig.clone();
    bad[63] ^= 1;
    let forged = write(&alice, "second-line.rollcall", &with(signature_line(BOB, &key_id, &bad)));
    let err = alice.refuses(&["import", &forged]);
    assert!(
        err.contains(&format!(
            "bundle refused at line {}: origin {BOB}: checkpoint: checkpoint signature by the origin key does not verify",
            cp + 1
        )),
        "{err}"
    );
    join_refused(&alice, "alice", &forged, "test.example/joiner");
    // A line under his name with another key id is ignored: the bundle imports.
    let mut other_id = key_id.clone();
    other_id[3] ^= 1;
    let ignored = write(&alice, "other-id.rollcall", &with(signature_line(BOB, &other_id, &[0; 64])));
    alice.import(&ignored);
    assert_eq!(verify_json(&alice).0, 0);
}

/// §8.1: base64 is read canonical only. A leaf signature re-encoded with nonzero trailing bits (the same
/// 64 bytes to a lenient decoder) or without its padding is refused at its line.
#[test]
fn non_canonical_base64_in_a_bundle_is_refused() {
    let (alice, _bob, good) = bobs_bundle();
    let lines = bundle_lines(&good);
    let l = find(&lines, "leaf 1 ");
    let text = String::from_utf8(lines[l].clone()).unwrap();
    let mut parts = text.splitn(4, ' ');
    let (tag, index, sig, statement) =
        (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    assert!(sig.ends_with("=="), "64 bytes encode to 86 characters and two '='");
    // The last character before the padding carries 4 unused bits: set one.
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let last = alphabet.find(sig.as_bytes()[85] as char).unwrap();
    let trailing = format!("{}{}==", &sig[..85], &alphabet[(last | 1)..(last | 1) + 1]);
    assert_ne!(trailing, sig);
    let unpadded = sig.trim_end_matches('=').to_string();
    for (what, s) in [("trailing-bits", trailing), ("unpadded", unpadded)] {
        let mut v = lines.clone();
        v[l] = format!("{tag} {index} {s} {statement}").into_bytes();
        let bad = write(&alice, &format!("{what}.rollcall"), &resealed(&v));
        let err = alice.refuses(&["import", &bad]);
        assert!(
            err.contains(&format!("bundle refused at line {}: leaf signature is not 64 bytes of base64", l + 1)),
            "{what}: {err}"
        );
    }
    alice.import(&good);
}

/// §8.1: exit codes. A file that is not a bundle: `import` refuses it as a bundle (exit 1, "bundle refused
/// at line 1"), `verify --bundle` and `init --join` as input that is not a bundle (exit 2, "is not a
/// rollcall bundle"). A newer format version: exit 1 from all three.
#[test]
fn exit_codes_for_a_file_that_is_not_a_bundle_and_for_a_newer_version() {
    let alice = ledger();
    let not_bundle = write(&alice, "notes.txt", b"hello world\n");
    let err = alice.fails(&["import", &not_bundle], 1);
    assert!(err.contains("bundle refused at line 1: the file does not start with a rollcall-bundle header"), "{err}");
    let err = alice.fails(&["verify", "--bundle", &not_bundle], 2);
    assert!(err.contains("is not a rollcall bundle"), "{err}");
    let joiner = Env::new();
    joiner.ok(&["key", "new", "carol"]);
    let err = joiner.fails(&["init", "--join", &not_bundle, "--as", "carol", "--origin", "test.example/carol"], 2);
    assert!(err.contains("is not a rollcall bundle"), "{err}");
    assert!(!joiner.ledger().exists());

    let mut lines = bundle_lines(&alice.export("mine.rollcall"));
    lines[0] = String::from_utf8(lines[0].clone())
        .unwrap()
        .replacen("rollcall-bundle/2 ", "rollcall-bundle/3 ", 1)
        .into_bytes();
    let v3 = write(&alice, "v3.rollcall", &resealed(&lines));
    let newer =
        "bundle refused at line 1: bundle format version 3 is newer than this rollcall reads (2); upgrade rollcall";
    let before = alice.dump();
    assert!(alice.fails(&["import", &v3], 1).contains(newer));
    assert_eq!(alice.dump(), before);
    // `verify --bundle` reports the refusal as its integrity verdict, on stdout.
    let out = alice.run(&["verify", "--bundle", &v3]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("integrity: FAILED: {newer}")), "{text}");
    let err = joiner.fails(&["init", "--join", &v3, "--as", "carol", "--origin", "test.example/carol"], 1);
    assert!(err.contains(newer), "{err}");
    assert!(!joiner.ledger().exists());
}

/// §4: a genesis whose `origin.key` is not a valid point fails `verify`, though the file's own origin key
/// (which signs the checkpoints) is valid.
#[test]
fn a_genesis_naming_an_origin_key_that_is_not_a_curve_point_fails_verify() {
    use chrono::TimeZone;
    use ed25519_dalek::SigningKey;
    use rollcall::ledger::{PublicKey, Statement};
    let env = Env::new();
    let admin = SigningKey::from_bytes(&[1; 32]);
    let origin = SigningKey::from_bytes(&[2; 32]);
    let admin_pk = PublicKey::from_signing(&admin);
    let toml = "version = 1\n";
    let body = serde_json::json!({
        "ledger": "rollcall",
        "origin": {"name": "test.example/bad", "key": format!("ed25519:{}", hex::encode(not_a_point()))},
        "admin": {"name": "alice", "key": admin_pk.encode()},
        "policy": {"sha256": hex::encode(Sha256::digest(toml)), "toml": toml},
    });
    let at = chrono::Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    let genesis = Statement::new_at("genesis", &admin_pk, body, &[], at)
        .sign(&admin, &rollcall::ledger::dsse::Domain::genesis_only())
        .unwrap();
    drop(rollcall::ledger::Ledger::create(&env.ledger(), "test.example/bad", &origin, &genesis).unwrap());
    let f = verify_failure(&env);
    assert_eq!(f["problem"], "genesis names an invalid key", "{f}");
    assert_eq!(f["entry_id"], genesis.id.to_hex(), "{f}");
}

/// §8.1/§8.5: the header's exporter is not signed. A stale bundle of bob's is a SECURITY refusal
/// (`rollback`) under his name; the same bundle with a header naming another origin it carries imports
/// nothing and is not refused.
#[test]
fn the_rollback_rule_on_the_exporters_log_follows_the_unsigned_header() {
    let alice = ledger();
    let bob = peer(&alice, "bob", BOB, &["requester"]);
    bob.ok(&["note", "one", "--as", "bob"]);
    let old = bob.export("old.rollcall");
    bob.ok(&["note", "two", "--as", "bob"]);
    alice.import(&bob.export("new.rollcall"));
    let mut lines = bundle_lines(&old);
    let header = String::from_utf8(lines[0].clone()).unwrap();
    assert!(header.ends_with(&format!(" {BOB}")), "{header}");
    lines[0] = header.replacen(&format!(" {BOB}"), &format!(" {LAPTOP}"), 1).into_bytes();
    let relabeled = write(&alice, "relabeled.rollcall", &resealed(&lines));
    let before = alice.dump();
    let report = alice.import(&relabeled);
    assert_eq!(report["added"], 0, "{report}");
    assert_eq!(alice.dump(), before, "nothing imported");
    let err = alice.fails(&["import", &old], 1);
    assert!(err.contains(&format!("SECURITY: origin {BOB} rolled back")), "{err}");
}

/// §3: a stored tree hash past the last one the log's leaves make (what is left when entries are cut from
/// the end without their tree hashes) fails `verify`, naming it.
#[test]
fn a_stored_tree_hash_past_the_log_fails_verify() {
    let env = ledger();
    let c = env.tamper();
    let next: i64 = c.query_row("SELECT MAX(idx) + 1 FROM tree_hashes WHERE origin = 1", [], |r| r.get(0)).unwrap();
    c.execute("INSERT INTO tree_hashes (origin, idx, hash) VALUES (1, ?1, zeroblob(32))", [next]).unwrap();
    drop(c);
    let f = verify_failure(&env);
    assert_eq!(f["origin"], LAPTOP, "{f}");
    assert_eq!(f["problem"], format!("tree hash {next} belongs to no leaf (entries were removed from the end)"), "{f}");
}
