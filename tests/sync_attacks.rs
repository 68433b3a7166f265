//! Hostile bundles against `rollcall import` (docs/FORMAT.md §8): edited, reordered, truncated, forged,
//! foreign, future, oversized, forked and rolled-back bundles are refused with one line naming the
//! problem, leaving the importing ledger byte for byte as it was; equivocation is kept as SECURITY
//! evidence; a good bundle imports once, a killed import leaves the old state or the new one, and a
//! killed join leaves no ledger or a whole one.

mod common;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{Env, PASS, file, file_request, peer, request_args, verify_json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

const BOB: &str = "test.example/bob";

/// Alice's ledger with three notes, and bob's machine (joined as `test.example/bob`) with notes `x`
/// and `y`. Bob's log: origin.joined, x, y, and the audit.read of each export.
fn setup_with(roles: &[&str]) -> (Env, Env) {
    let alice = Env::with_ledger();
    alice.notes(3);
    let bob = peer(&alice, "bob", BOB, roles);
    bob.ok(&["note", "x", "--as", "bob"]);
    bob.ok(&["note", "y", "--as", "bob"]);
    (alice, bob)
}

fn setup() -> (Env, Env) {
    setup_with(&["approver"])
}

/// A bundle as its lines (without their newlines).
#[derive(Clone)]
struct Bundle {
    lines: Vec<Vec<u8>>,
}

impl Bundle {
    fn parse(bytes: &[u8]) -> Bundle {
        assert_eq!(bytes.last(), Some(&b'\n'), "a bundle ends with a newline");
        Bundle { lines: bytes[..bytes.len() - 1].split(|&b| b == b'\n').map(<[u8]>::to_vec).collect() }
    }

    fn read(path: &str) -> Bundle {
        Bundle::parse(&std::fs::read(path).expect("read bundle"))
    }

    /// Index of the first line starting with `prefix`.
    fn find(&self, prefix: &str) -> usize {
        self.lines
            .iter()
            .position(|l| l.starts_with(prefix.as_bytes()))
            .unwrap_or_else(|| panic!("no line starts with {prefix:?}"))
    }

    /// Index of the `origin` line of `name`.
    fn origin(&self, name: &str) -> usize {
        self.find(&format!("origin {name}+"))
    }

    /// Index of leaf `k` of `name`'s section.
    fn leaf(&self, name: &str, k: usize) -> usize {
        let i = self.origin(name) + 1 + k;
        assert!(self.lines[i].starts_with(format!("leaf {k} ").as_bytes()), "line {} is not leaf {k}", i + 1);
        i
    }

    /// Index of `name`'s checkpoint line.
    fn checkpoint(&self, name: &str) -> usize {
        let o = self.origin(name);
        o + self.lines[o..].iter().position(|l| l.starts_with(b"checkpoint ")).expect("checkpoint")
    }

    fn text(&self, i: usize) -> String {
        String::from_utf8(self.lines[i].clone()).expect("utf-8 line")
    }

    /// The lines as they are, `end` line included.
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for l in &self.lines {
            out.extend_from_slice(l);
            out.push(b'\n');
        }
        out
    }

    /// The lines with the `end` line replaced by a correct digest of everything before it.
    fn resealed(&self) -> Vec<u8> {
        let (end, body) = self.lines.split_last().expect("lines");
        assert!(end.starts_with(b"end "), "the last line is the end line");
        let mut out = Bundle { lines: body.to_vec() }.bytes();
        let digest = hex::encode(Sha256::digest(&out));
        out.extend_from_slice(format!("end {digest}\n").as_bytes());
        out
    }
}

/// Writes `bytes` to a new file in `env`'s home.
fn write(env: &Env, name: &str, bytes: &[u8]) -> String {
    let p = env.home().join(name);
    std::fs::write(&p, bytes).expect("write bundle");
    p.to_str().expect("utf-8 path").to_string()
}

/// Imports `bundle` into `env` and asserts the refusal: exit 1, one line containing every `says`, the
/// ledger file unchanged (its bytes and its `sqlite3 .dump`) and still verifying; and a join from the
/// same bundle (as alice, on a new machine) refused too, leaving nothing behind. Returns the error line.
fn refused(env: &Env, bundle: &str, says: &[&str]) -> String {
    let before = env.fingerprint();
    let dump = env.dump();
    let entries = env.entry_set();
    let err = env.fails(&["import", bundle], 1);
    for s in says {
        assert!(err.contains(s), "expected {s:?} in the error: {err}");
    }
    assert_eq!(env.fingerprint(), before, "a refused import changed the ledger: {err}");
    assert!(env.dump() == dump, "a refused import changed the ledger's dump: {err}");
    assert_eq!(env.entry_set(), entries);
    common::join_refused(env, "alice", bundle, "test.example/joiner");
    let (code, v) = verify_json(env);
    assert_eq!(code, 0, "verify after a refused import: {v}");
    err
}

fn equivocations(env: &Env) -> Vec<(String, String, String, String)> {
    let c =
        rusqlite::Connection::open_with_flags(env.ledger(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let mut stmt = c.prepare("SELECT origin, kind, ours, theirs FROM equivocations ORDER BY id").expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// Decodes a `checkpoint` line's note.
fn note_of(line: &str) -> String {
    let b64 = line.strip_prefix("checkpoint ").expect("checkpoint line");
    String::from_utf8(B64.decode(b64).expect("base64")).expect("utf-8 note")
}

fn checkpoint_line(note: &str) -> Vec<u8> {
    format!("checkpoint {}", B64.encode(note)).into_bytes()
}

#[test]
fn edited_statement_is_refused_by_its_signature() {
    let (alice, bob) = setup();
    let good = bob.export("bob.rollcall");
    let mut b = Bundle::read(&good);
    let i = b.leaf(BOB, 1);
    let line = b.text(i);
    assert!(line.contains(r#""text":"x""#), "{line}");
    b.lines[i] = line.replace(r#""text":"x""#, r#""text":"z""#).into_bytes();
    let bad = write(&alice, "edited.rollcall", &b.resealed());
    refused(&alice, &bad, &[&format!("line {}", i + 1), BOB, "leaf 1", "signature does not verify"]);
    // The untouched bundle still imports.
    assert!(alice.import(&good)["added"].as_u64().unwrap() > 0);
}

#[test]
fn edited_statement_in_a_zstd_bundle_is_refused() {
    let (alice, bob) = setup();
    let p = bob.home().join("bob.rollcall.zst");
    bob.ok(&["export", "--zstd", "--out", p.to_str().unwrap()]);
    let z = std::fs::read(&p).unwrap();
    assert_eq!(&z[..4], &[0x28, 0xb5, 0x2f, 0xfd], "a zstd frame");
    let plain = zstd::decode_all(&z[..]).unwrap();
    let b = Bundle::parse(&plain);

    // One statement byte, digest recomputed over the uncompressed lines.
    let mut edited = b.clone();
    let i = edited.leaf(BOB, 2);
    edited.lines[i] = edited.text(i).replace(r#""text":"y""#, r#""text":"w""#).into_bytes();
    let bad = write(&alice, "edited.zst", &zstd::encode_all(&edited.resealed()[..], 3).unwrap());
    refused(&alice, &bad, &[&format!("line {}", i + 1), "signature does not verify"]);

    // One hex digit of the end digest, nothing else.
    let mut wrong = b.clone();
    let last = wrong.lines.len() - 1;
    let end = wrong.lines[last].clone();
    wrong.lines[last][4] = if end[4] == b'0' { b'1' } else { b'0' };
    let bad = write(&alice, "wrong-end.zst", &zstd::encode_all(&wrong.bytes()[..], 3).unwrap());
    refused(&alice, &bad, &[&format!("line {}", last + 1), "end digest does not match"]);

    // A damaged zstd frame.
    let mut broken = z.clone();
    let mid = broken.len() / 2;
    broken.truncate(mid);
    let bad = write(&alice, "cut.zst", &broken);
    refused(&alice, &bad, &["cannot read the bundle"]);

    // The compressed original is fine.
    let r = alice.import(p.to_str().unwrap());
    assert_eq!(r["compressed"], true);
    assert!(r["added"].as_u64().unwrap() > 0);
}

/// An edited statement far into a bundle (past the first batches the verifying threads take) is refused
/// naming its line, with the same one-line error whatever the thread count, and leaves the ledger as it
/// was.
#[test]
fn edited_statement_in_a_later_batch_is_refused_on_any_thread_count() {
    let (alice, bob) = setup();
    bob.bulk_notes("bob", 1500);
    let good = bob.export("bob.rollcall");
    let mut b = Bundle::read(&good);
    // Bob's log: origin.joined, x, y, then the bulk notes from leaf 3.
    let k = 1300;
    let i = b.leaf(BOB, k);
    let line = b.text(i);
    let was = format!(r#""text":"bulk {}""#, k - 3);
    assert!(line.contains(&was), "{line}");
    b.lines[i] = line.replace(&was, r#""text":"bulk edited""#).into_bytes();
    let bad = write(&alice, "edited-late.rollcall", &b.resealed());
    let says = [format!("line {}", i + 1), BOB.to_string(), format!("leaf {k}"), "signature does not verify".into()];
    let err = refused(&alice, &bad, &says.iter().map(String::as_str).collect::<Vec<_>>());
    let before = alice.fingerprint();
    for threads in ["1", "2", "5"] {
        let out = alice.cmd().args(["import", &bad]).env("ROLLCALL_VERIFY_THREADS", threads).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{threads} threads");
        assert_eq!(String::from_utf8_lossy(&out.stderr), err, "{threads} threads");
        assert_eq!(alice.fingerprint(), before, "{threads} threads changed the ledger");
    }
    // The untouched bundle imports every leaf, on one thread as on several.
    let one = common::clone_home(&alice);
    let out = one.cmd().args(["--json", "import", &good]).env("ROLLCALL_VERIFY_THREADS", "1").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(alice.import(&good)["added"].as_u64().unwrap() >= 1500);
    assert_eq!(one.entry_set(), alice.entry_set());
}

#[test]
fn swapped_signatures_are_refused() {
    let (alice, bob) = setup();
    let mut b = Bundle::read(&bob.export("bob.rollcall"));
    let (i, j) = (b.leaf(BOB, 1), b.leaf(BOB, 2));
    let split = |l: &[u8]| -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let parts: Vec<Vec<u8>> = l.splitn(4, |&c| c == b' ').map(<[u8]>::to_vec).collect();
        (parts[1].clone(), parts[2].clone(), parts[3].clone())
    };
    let (ia, sa, sta) = split(&b.lines[i]);
    let (ib, sb, stb) = split(&b.lines[j]);
    assert_ne!(sa, sb);
    b.lines[i] = [&b"leaf "[..], &ia, b" ", &sb, b" ", &sta].concat();
    b.lines[j] = [&b"leaf "[..], &ib, b" ", &sa, b" ", &stb].concat();
    let bad = write(&alice, "swapped.rollcall", &b.resealed());
    refused(&alice, &bad, &[&format!("line {}", i + 1), "leaf 1", "signature does not verify"]);
}

#[test]
fn reordered_duplicated_and_dropped_leaves_are_refused() {
    let (alice, bob) = setup();
    let b = Bundle::read(&bob.export("bob.rollcall"));
    let (l1, l2) = (b.leaf(BOB, 1), b.leaf(BOB, 2));

    // Two leaf lines reordered.
    let mut r = b.clone();
    r.lines.swap(l1, l2);
    let bad = write(&alice, "reordered.rollcall", &r.resealed());
    refused(&alice, &bad, &[&format!("line {}", l1 + 1), "leaf 2 where leaf 1 was expected"]);

    // Reordered and renumbered, so the indexes run in order: every signature holds, the tree does not.
    let mut r = b.clone();
    let (s1, s2) = (r.text(l1), r.text(l2));
    r.lines[l1] = s2.replacen("leaf 2 ", "leaf 1 ", 1).into_bytes();
    r.lines[l2] = s1.replacen("leaf 1 ", "leaf 2 ", 1).into_bytes();
    let bad = write(&alice, "renumbered.rollcall", &r.resealed());
    // The second leaf now carries the earlier statement: refused as backdated before the tree is compared.
    refused(&alice, &bad, &[&format!("line {}", l2 + 1), BOB, "earlier than the entry before it"]);

    // A leaf line duplicated.
    let mut d = b.clone();
    d.lines.insert(l1, b.lines[l1].clone());
    let bad = write(&alice, "duplicated.rollcall", &d.resealed());
    refused(&alice, &bad, &[&format!("line {}", l1 + 2), "leaf 1 where leaf 2 was expected"]);

    // A leaf line dropped, in the middle and at the end.
    let mut d = b.clone();
    d.lines.remove(l1);
    let bad = write(&alice, "dropped.rollcall", &d.resealed());
    refused(&alice, &bad, &[&format!("line {}", l1 + 1), "leaf 2 where leaf 1 was expected"]);

    let last = b.checkpoint(BOB) - 1;
    let mut d = b.clone();
    d.lines.remove(last);
    let bad = write(&alice, "dropped-last.rollcall", &d.resealed());
    refused(&alice, &bad, &["announced leaves up to"]);

    // The last leaf dropped and the origin line shortened to match: the checkpoint no longer fits.
    let o = b.origin(BOB);
    let header = b.text(o);
    let (rest, to) = header.rsplit_once(' ').unwrap();
    let to: u64 = to.parse().unwrap();
    d.lines[o] = format!("{rest} {}", to - 1).into_bytes();
    let bad = write(&alice, "shortened.rollcall", &d.resealed());
    refused(&alice, &bad, &[&format!("checkpoint is of size {to} but the leaves end at {}", to - 1)]);
}

/// Whether `env`'s ledger has the `leaves_entry` index (which a bulk import drops and rebuilds).
/// The import stages leaves while their signatures are still being checked: a forged signature is named
/// even when the bundle has other problems after it (a malformed leaf read before the forged one's batch
/// even went to a verifying thread, an end digest that does not match), on one thread as on several, and
/// the ledger is left as it was.
#[test]
fn a_forged_signature_is_named_before_the_problems_after_it() {
    let (alice, bob) = setup();
    bob.bulk_notes("bob", 1500);
    let mut b = Bundle::read(&bob.export("bob.rollcall"));
    let k = 600;
    let i = b.leaf(BOB, k);
    let was = format!(r#""text":"bulk {}""#, k - 3);
    assert!(b.text(i).contains(&was));
    b.lines[i] = b.text(i).replace(&was, r#""text":"bulk forged""#).into_bytes();
    let forged = [format!("line {}", i + 1), format!("leaf {k}"), "signature does not verify".to_string()];
    let says: Vec<&str> = forged.iter().map(String::as_str).collect();

    // A leaf after it, in the same batch of 512, whose signature is not base64 (refused as it is read).
    let mut later = b.clone();
    let j = later.leaf(BOB, 700);
    let parts: Vec<String> = later.text(j).splitn(4, ' ').map(str::to_string).collect();
    later.lines[j] = format!("{} {} !!not-base64!! {}", parts[0], parts[1], parts[3]).into_bytes();
    let bad = write(&alice, "forged-then-malformed.rollcall", &later.resealed());
    let err = refused(&alice, &bad, &says);
    for threads in ["1", "3"] {
        let out = alice.cmd().args(["import", &bad]).env("ROLLCALL_VERIFY_THREADS", threads).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{threads} threads");
        assert_eq!(String::from_utf8_lossy(&out.stderr), err, "{threads} threads");
    }
    // The malformed leaf alone is named by its own line.
    let mut only = Bundle::read(&bob.export("bob2.rollcall"));
    only.lines[j] = later.lines[j].clone();
    let alone = write(&alice, "malformed.rollcall", &only.resealed());
    refused(&alice, &alone, &[&format!("line {}", j + 1), "signature is not 64 bytes of base64"]);

    // The forged leaf in a bundle whose end digest was not recomputed.
    let bad = write(&alice, "forged-unsealed.rollcall", &b.bytes());
    refused(&alice, &bad, &says);
}

fn has_leaves_entry_index(env: &Env) -> bool {
    let c =
        rusqlite::Connection::open_with_flags(env.ledger(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'leaves_entry'", [], |r| {
        r.get::<_, i64>(0)
    })
    .expect("query")
        == 1
}

#[test]
fn a_bulk_load_the_bundle_does_not_carry_is_refused_and_the_index_is_kept() {
    // An origin line announcing 60,000 new leaves makes the import load in bulk (the leaves_entry index
    // is dropped to be rebuilt at the end); the leaves stop long before that.
    let (alice, bob) = setup();
    let b = Bundle::read(&bob.export("bob.rollcall"));
    let o = b.origin(BOB);
    let (rest, _) = b.text(o).rsplit_once(' ').map(|(r, t)| (r.to_string(), t.to_string())).unwrap();
    let mut big = b.clone();
    big.lines[o] = format!("{rest} 60000").into_bytes();
    let bad = write(&alice, "announces-60000.rollcall", &big.resealed());
    assert!(has_leaves_entry_index(&alice));
    refused(&alice, &bad, &["announced leaves up to 60000 but carries up to"]);
    assert!(has_leaves_entry_index(&alice), "a refused bulk import left the ledger without its index");
    // The genuine bundle still imports.
    let ok = write(&alice, "genuine.rollcall", &b.bytes());
    alice.ok(&["import", &ok]);
    assert!(has_leaves_entry_index(&alice));
}

#[test]
fn truncated_bundles_are_refused() {
    let (alice, bob) = setup();
    let good = bob.export("bob.rollcall");
    let bytes = std::fs::read(&good).unwrap();
    let b = Bundle::parse(&bytes);

    // Cut in the middle of a line.
    let mut cut = bytes[..bytes.len() / 2].to_vec();
    if cut.last() == Some(&b'\n') {
        cut.pop();
    }
    let bad = write(&alice, "half.rollcall", &cut);
    refused(&alice, &bad, &["cut off"]);

    // Cut at a line boundary in the middle, and just before the end line.
    for keep in [b.leaf(BOB, 2), b.lines.len() - 1] {
        let t = Bundle { lines: b.lines[..keep].to_vec() };
        let bad = write(&alice, &format!("cut-{keep}.rollcall"), &t.bytes());
        refused(&alice, &bad, &["truncated", &format!("after line {keep}")]);
    }

    // The end line without its newline; an empty file.
    let bad = write(&alice, "no-newline.rollcall", &bytes[..bytes.len() - 1]);
    refused(&alice, &bad, &[&format!("line {} is cut off", b.lines.len())]);
    let bad = write(&alice, "empty.rollcall", b"");
    refused(&alice, &bad, &["empty"]);
}

#[test]
fn wrong_end_digest_is_refused() {
    let (alice, bob) = setup();
    let mut b = Bundle::read(&bob.export("bob.rollcall"));
    let last = b.lines.len() - 1;
    let c = b.lines[last][10];
    b.lines[last][10] = if c == b'f' {
        b'e'
    } else if c.is_ascii_digit() {
        b'a'
    } else {
        c + 1
    };
    let bad = write(&alice, "wrong-end.rollcall", &b.bytes());
    refused(&alice, &bad, &[&format!("line {}", last + 1), "end digest does not match"]);

    // Not 64 lowercase hex digits at all.
    let mut b2 = b.clone();
    b2.lines[last] = b2.text(last).to_uppercase().replace("END", "end").into_bytes();
    let bad = write(&alice, "upper-end.rollcall", &b2.bytes());
    refused(&alice, &bad, &[&format!("line {}", last + 1), "end digest"]);
}

#[test]
fn bundle_of_another_ledger_is_refused() {
    let (alice, _bob) = setup();
    let other = Env::with_ledger();
    other.notes(1);
    let theirs = other.export("other.rollcall");
    let b = Bundle::read(&theirs);
    let their_id = b.text(0).split(' ').nth(1).unwrap().to_string();
    let alice_id = verify_json(&alice).1["ledger_id"].as_str().unwrap().to_string();
    assert_ne!(alice_id, their_id);
    refused(&alice, &theirs, &["line 1", "belongs to ledger", &their_id[..16], &alice_id[..16]]);

    // Relabelled with this ledger's id (digest recomputed): its log claims this ledger's origin name
    // under another key.
    let bad = write(&alice, "relabelled.rollcall", &relabelled(&b, &alice_id).resealed());
    refused(&alice, &bad, &["line 2", "origin test.example/laptop", "the bundle gives"]);
}

/// `b` with its header claiming ledger `id`.
fn relabelled(b: &Bundle, id: &str) -> Bundle {
    let mut r = b.clone();
    let header = b.text(0);
    let their_id = header.split(' ').nth(1).unwrap();
    r.lines[0] = header.replace(their_id, id).into_bytes();
    r
}

#[test]
fn wrong_origin_key_in_a_bundle_does_not_blame_the_ledger() {
    let (alice, _bob) = setup();
    let other = Env::with_ledger();
    let b = Bundle::read(&other.export("other.rollcall"));
    let alice_id = verify_json(&alice).1["ledger_id"].as_str().unwrap().to_string();
    let bad = write(&alice, "relabelled.rollcall", &relabelled(&b, &alice_id).resealed());
    let err = refused(&alice, &bad, &["line 2", "the bundle gives"]);
    assert!(!err.contains("ledger is damaged"), "{err}");
}

#[test]
fn forged_checkpoints_are_refused() {
    let (alice, bob) = setup();
    let older = Bundle::read(&bob.export("older.rollcall"));
    bob.ok(&["note", "z", "--as", "bob"]);
    let b = Bundle::read(&bob.export("bob.rollcall"));
    let c = b.checkpoint(BOB);
    let note = note_of(&b.text(c));
    let lines: Vec<&str> = note.split('\n').collect();
    assert_eq!(lines[0], BOB, "{note}");

    // The signature forged: one byte of the Ed25519 signature flipped (after the 4-byte key id).
    let sig_line = lines.iter().position(|l| l.starts_with("\u{2014} ")).expect("signature line");
    let (prefix, sig) = lines[sig_line].rsplit_once(' ').unwrap();
    let mut raw = B64.decode(sig).unwrap();
    raw[20] ^= 0x40;
    let mut forged: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    forged[sig_line] = format!("{prefix} {}", B64.encode(&raw));
    let mut f = b.clone();
    f.lines[c] = checkpoint_line(&forged.join("\n"));
    let bad = write(&alice, "forged-sig.rollcall", &f.resealed());
    refused(&alice, &bad, &[&format!("line {}", c + 1), BOB, "checkpoint", "signature"]);

    // A wrong size, and a wrong root, in the signed body: the signature no longer holds.
    let size: u64 = lines[1].parse().unwrap();
    for (what, edit) in [("size", 1usize), ("root", 2)] {
        let mut body: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        body[edit] = if what == "size" {
            (size + 1).to_string()
        } else {
            let mut root = B64.decode(lines[2]).unwrap();
            root[0] ^= 1;
            B64.encode(root)
        };
        let mut f = b.clone();
        f.lines[c] = checkpoint_line(&body.join("\n"));
        let bad = write(&alice, &format!("wrong-{what}.rollcall"), &f.resealed());
        refused(&alice, &bad, &[&format!("line {}", c + 1), "checkpoint"]);
    }

    // A genuine, validly signed checkpoint of bob's, but of an older size than the leaves carried.
    let old_note = older.text(older.checkpoint(BOB));
    let old_size: u64 = note_of(&old_note).split('\n').nth(1).unwrap().parse().unwrap();
    assert!(old_size < size);
    let mut f = b.clone();
    f.lines[c] = old_note.into_bytes();
    let bad = write(&alice, "old-checkpoint.rollcall", &f.resealed());
    refused(&alice, &bad, &[&format!("checkpoint is of size {old_size} but the leaves end at {size}")]);

    // A cosignature (bob witnessing alice's log) whose signature is forged.
    let cs = b.find("cosignature ");
    let line = b.text(cs);
    let (prefix, sig) = line.rsplit_once(' ').unwrap();
    let mut raw = B64.decode(sig).unwrap();
    raw[5] ^= 0x01;
    let mut f = b.clone();
    f.lines[cs] = format!("{prefix} {}", B64.encode(&raw)).into_bytes();
    let bad = write(&alice, "forged-cosignature.rollcall", &f.resealed());
    refused(&alice, &bad, &[&format!("line {}", cs + 1), "cosignature", BOB, "does not verify"]);
}

#[test]
fn blob_not_matching_its_digest_is_refused() {
    let (alice, bob) = setup_with(&["approver", "requester"]);
    let req = file_request(&bob, "bob", "low");
    let log = file(&bob, "revert.log", &"rolled back payments to 41\n".repeat(50));
    bob.ok(&["evidence", "add", &req, &log, "--kind", "log", "--as", "bob"]);
    let good = bob.export("bob.rollcall");
    let b = Bundle::read(&good);
    let bl = b.find("blob ");
    let sha = b.text(bl).split(' ').nth(1).unwrap().to_string();
    assert!(b.lines[bl + 1].starts_with(b"data "));

    // One byte of the data changed (still base64, still the announced size).
    let mut f = b.clone();
    let mut data = B64.decode(&b.lines[bl + 1][5..]).unwrap();
    data[7] ^= 0x20;
    f.lines[bl + 1] = format!("data {}", B64.encode(&data)).into_bytes();
    let bad = write(&alice, "bad-blob.rollcall", &f.resealed());
    refused(&alice, &bad, &[&format!("line {}", bl + 3), &sha[..16], "does not match its digest"]);

    // Data shorter than the size announced.
    let mut f = b.clone();
    f.lines[bl + 1] = format!("data {}", B64.encode(&data[..data.len() - 1])).into_bytes();
    let bad = write(&alice, "short-blob.rollcall", &f.resealed());
    refused(&alice, &bad, &[&sha[..16]]);

    // A blob no entry names (a valid digest of its data).
    let extra = b"not evidence of anything\n";
    let extra_sha = hex::encode(Sha256::digest(extra));
    let mut f = b.clone();
    f.lines.insert(bl, format!("data {}", B64.encode(extra)).into_bytes());
    f.lines.insert(bl, format!("blob {extra_sha} {}", extra.len()).into_bytes());
    let bad = write(&alice, "stray-blob.rollcall", &f.resealed());
    refused(&alice, &bad, &[&extra_sha[..16], "named by no entry"]);

    // A blob announced larger than any import accepts is refused before its data is read.
    let mut f = b.clone();
    f.lines[bl] = format!("blob {sha} {}", 5u64 << 30).into_bytes();
    let bad = write(&alice, "giant-blob.rollcall", &f.resealed());
    refused(&alice, &bad, &[&format!("line {}", bl + 1), &sha[..16], "larger than"]);

    // A blob whose digest a request only mentions (in its title), where no attachment's `sha256` and no
    // record's `changeset.sha256` names it (docs/FORMAT.md), is not named either.
    let mentioned = b"mentioned, never attached\n";
    let mentioned_sha = hex::encode(Sha256::digest(mentioned));
    let title = format!("Revert deploy {mentioned_sha}");
    bob.json(&request_args("bob", &title, "low"));
    let b2 = Bundle::read(&bob.export("bob-mention.rollcall"));
    let bl2 = b2.find("blob ");
    let mut f = b2.clone();
    f.lines.insert(bl2, format!("data {}", B64.encode(mentioned)).into_bytes());
    f.lines.insert(bl2, format!("blob {mentioned_sha} {}", mentioned.len()).into_bytes());
    let bad = write(&alice, "mentioned-blob.rollcall", &f.resealed());
    refused(&alice, &bad, &[&mentioned_sha[..16], "named by no entry"]);

    // The genuine bundle brings the blob.
    assert_eq!(alice.import(&good)["blobs"], 1);
    assert_eq!(verify_json(&alice).0, 0);
}

#[test]
fn future_format_version_asks_for_an_upgrade() {
    let (alice, bob) = setup();
    let mut b = Bundle::read(&bob.export("bob.rollcall"));
    b.lines[0] = b.text(0).replacen("rollcall-bundle/2 ", "rollcall-bundle/3 ", 1).into_bytes();
    let bad = write(&alice, "v3.rollcall", &b.resealed());
    refused(&alice, &bad, &["line 1", "version 3", "upgrade rollcall"]);
    // Version 1 bundles (signatures not bound to the ledger) are not read: there is no migration.
    b.lines[0] = b.text(0).replacen("rollcall-bundle/3 ", "rollcall-bundle/1 ", 1).into_bytes();
    let bad = write(&alice, "v1.rollcall", &b.resealed());
    refused(&alice, &bad, &["line 1", "not supported"]);
}

#[test]
fn anything_after_the_end_line_is_refused() {
    let (alice, bob) = setup();
    let bytes = std::fs::read(bob.export("bob.rollcall")).unwrap();
    let n = Bundle::parse(&bytes).lines.len();
    for (name, tail) in [
        ("junk", &b"junk\n"[..]),
        ("blank", b"\n"),
        ("second-end", b"end 0000000000000000000000000000000000000000000000000000000000000000\n"),
    ] {
        let bad = write(&alice, &format!("after-{name}.rollcall"), &[&bytes[..], tail].concat());
        refused(&alice, &bad, &[&format!("line {}", n + 1), "after the end line"]);
    }
    // Unterminated or oversized data after the end line is refused too (its line number: see below).
    for (name, tail) in [("no-newline", b"x".to_vec()), ("long", vec![0u8; 200_000])] {
        let bad = write(&alice, &format!("after-{name}.rollcall"), &[&bytes[..], &tail[..]].concat());
        refused(&alice, &bad, &["after the end line"]);
    }
    // A whole second bundle appended.
    let bad = write(&alice, "twice.rollcall", &[&bytes[..], &bytes[..]].concat());
    refused(&alice, &bad, &["after the end line"]);
}

#[test]
fn unterminated_data_after_the_end_line_is_named_by_its_line() {
    let (alice, bob) = setup();
    let bytes = std::fs::read(bob.export("bob.rollcall")).unwrap();
    let n = Bundle::parse(&bytes).lines.len();
    for (name, tail) in [("no-newline", b"x".to_vec()), ("long", vec![0u8; 200_000])] {
        let bad = write(&alice, &format!("after-{name}.rollcall"), &[&bytes[..], &tail[..]].concat());
        refused(&alice, &bad, &[&format!("line {}", n + 1), "after the end line"]);
    }
}

#[test]
fn huge_inputs_are_refused_quickly() {
    let (alice, bob) = setup();
    let b = Bundle::read(&bob.export("bob.rollcall"));

    // 2 GiB (sparse): a valid header line, then NUL bytes without a newline.
    let p = alice.home().join("huge.rollcall");
    std::fs::write(&p, [&b.lines[0][..], b"\n"].concat()).unwrap();
    std::fs::OpenOptions::new().write(true).open(&p).unwrap().set_len(2 << 30).unwrap();
    let t = Instant::now();
    refused(&alice, p.to_str().unwrap(), &["line 2 is longer than 131072 bytes"]);
    assert!(t.elapsed() < Duration::from_secs(10), "took {:?}", t.elapsed());

    // 2 GiB of garbage from the first byte.
    let p = alice.home().join("garbage.rollcall");
    std::fs::write(&p, b"rollcall-bundle/2 garbage").unwrap();
    std::fs::OpenOptions::new().write(true).open(&p).unwrap().set_len(2 << 30).unwrap();
    let t = Instant::now();
    refused(&alice, p.to_str().unwrap(), &["line 1 is longer than 131072 bytes"]);
    assert!(t.elapsed() < Duration::from_secs(10), "took {:?}", t.elapsed());

    // One leaf line longer than 128 KiB, with a correct end digest.
    let i = b.leaf(BOB, 1);
    let mut long = b.clone();
    long.lines[i].extend(std::iter::repeat_n(b' ', 200_000));
    let bad = write(&alice, "long-line.rollcall", &long.resealed());
    refused(&alice, &bad, &[&format!("line {} is longer than 131072 bytes", i + 1)]);

    // At the limit: a line of exactly 131,072 bytes is read (and refused for what it holds), one more
    // byte is refused by the reader.
    let mut at = b.clone();
    at.lines[i].resize(131_072, b' ');
    let bad = write(&alice, "at-limit.rollcall", &at.resealed());
    let err = refused(&alice, &bad, &[&format!("line {}", i + 1)]);
    assert!(!err.contains("longer than"), "{err}");
    at.lines[i].push(b' ');
    let bad = write(&alice, "over-limit.rollcall", &at.resealed());
    refused(&alice, &bad, &[&format!("line {} is longer than 131072 bytes", i + 1)]);
}

#[test]
fn fork_is_a_security_error_with_evidence() {
    let (alice, bob) = setup();
    // The same machine twice: same member key, same origin key.
    let twin = common::clone_home(&bob);
    bob.ok(&["note", "A", "--as", "bob"]);
    twin.ok(&["note", "B", "--as", "bob"]);
    let ours = bob.export("bob.rollcall");
    let theirs = twin.export("twin.rollcall");
    let (bo, tw) = (Bundle::read(&ours), Bundle::read(&theirs));

    // Bob's leaves under the twin's (validly signed) checkpoint of the same size: not the same tree.
    let mut franken = bo.clone();
    let c = bo.checkpoint(BOB);
    franken.lines[c] = tw.lines[tw.checkpoint(BOB)].clone();
    assert_ne!(franken.lines[c], bo.lines[c]);
    let bad = write(&alice, "franken.rollcall", &franken.resealed());
    refused(&alice, &bad, &[&format!("line {}", c + 1), "do not hash to its signed checkpoint"]);

    alice.import(&ours);
    let held = alice.entry_set();
    let err = alice.fails(&["import", &theirs], 1);
    assert!(err.contains("SECURITY"), "{err}");
    assert!(err.contains("forked"), "{err}");
    assert!(err.contains(BOB), "{err}");
    assert_eq!(alice.entry_set(), held, "nothing of the forked bundle is imported");

    let (code, v) = verify_json(&alice);
    assert_eq!(code, 1, "{v}");
    assert!(v["integrity"]["failure"]["problem"].as_str().unwrap().contains("SECURITY"), "{v}");
    assert!(v["integrity"]["failure"]["problem"].as_str().unwrap().contains("1 equivocation recorded (fork"), "{v}");
    let eq = v["equivocations"].as_array().expect("equivocations");
    assert_eq!(eq.len(), 1, "{v}");
    assert_eq!(eq[0]["origin"], BOB);
    assert_eq!(eq[0]["kind"], "fork");

    let rows = equivocations(&alice);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (origin, kind, our_note, their_note) = &rows[0];
    assert_eq!((origin.as_str(), kind.as_str()), (BOB, "fork"));
    assert_eq!(our_note, &note_of(&bo.text(bo.checkpoint(BOB))));
    assert_eq!(their_note, &note_of(&tw.text(tw.checkpoint(BOB))));
    assert_ne!(our_note, their_note);

    // The same fork again: refused again, the evidence is not duplicated.
    let err = alice.fails(&["import", &theirs], 1);
    assert!(err.contains("SECURITY"), "{err}");
    assert_eq!(equivocations(&alice).len(), 1);
    assert_eq!(alice.entry_set(), held);
}

/// An equivocation found while the ledger cannot record its evidence (here a trigger refuses the row, as
/// a full disk would) is still reported as SECURITY, saying the evidence was not recorded; nothing is
/// imported.
#[test]
fn an_equivocation_the_ledger_cannot_record_is_still_the_alarm() {
    let (alice, bob) = setup();
    let old = bob.export("old.rollcall");
    bob.ok(&["note", "z", "--as", "bob"]);
    alice.import(&bob.export("new.rollcall"));
    let held = alice.entry_set();
    rusqlite::Connection::open(alice.ledger())
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER no_evidence BEFORE INSERT ON equivocations BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    let err = alice.fails(&["import", &old], 1);
    assert!(err.contains("SECURITY") && err.contains("rolled back") && err.contains(BOB), "{err}");
    assert!(err.contains("could not record the evidence") && err.contains("disk full"), "{err}");
    assert!(err.contains("the evidence is not kept") && !err.contains("is kept in this ledger"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(alice.entry_set(), held);
    assert!(equivocations(&alice).is_empty());
}

#[test]
fn older_bundle_after_a_newer_one_is_a_rollback() {
    let (alice, bob) = setup();
    let old = bob.export("old.rollcall");
    bob.ok(&["note", "z", "--as", "bob"]);
    let new = bob.export("new.rollcall");
    let r = alice.import(&new);
    assert!(r["added"].as_u64().unwrap() > 0);
    let held = alice.entry_set();
    let err = alice.fails(&["import", &old], 1);
    assert!(err.contains("SECURITY"), "{err}");
    assert!(err.contains("rolled back"), "{err}");
    assert!(err.contains(BOB), "{err}");
    assert_eq!(alice.entry_set(), held);
    let rows = equivocations(&alice);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), (BOB, "rollback"));
    let (code, v) = verify_json(&alice);
    assert_eq!(code, 1, "{v}");
    assert!(v["integrity"]["failure"]["problem"].as_str().unwrap().contains("SECURITY"), "{v}");
    assert_eq!(v["equivocations"][0]["kind"], "rollback", "{v}");
    assert_eq!(v["equivocations"][0]["origin"], BOB, "{v}");
}

#[test]
fn ledger_restored_from_an_old_copy_learns_it_lost_entries() {
    let (alice, bob) = setup();
    let backup = common::clone_home(&alice);
    alice.notes(2);
    bob.import(&alice.export("alice.rollcall"));
    let from_bob = bob.export("bob.rollcall");
    // The restored copy sees its own log, signed by its own origin key, longer in bob's bundle.
    let held = backup.entry_set();
    let err = backup.fails(&["import", &from_bob], 1);
    assert!(err.contains("SECURITY"), "{err}");
    assert!(err.contains("test.example/laptop (this ledger) lost entries"), "{err}");
    assert_eq!(backup.entry_set(), held);
    let rows = equivocations(&backup);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("test.example/laptop", "rollback"));
    assert_eq!(verify_json(&backup).0, 1);
    // The ledger that was not restored takes the same bundle.
    alice.import(&from_bob);
    assert_eq!(verify_json(&alice).0, 0);
}

#[test]
fn importing_twice_adds_nothing() {
    let (alice, bob) = setup();
    let b = bob.export("bob.rollcall");
    let first = alice.import(&b);
    assert!(first["added"].as_u64().unwrap() > 0);
    let entries = alice.entry_set();
    let fp = alice.fingerprint();
    let second = alice.import(&b);
    assert_eq!(second["added"], 0, "{second}");
    assert_eq!(second["verified_signatures"], 0, "{second}");
    assert_eq!(alice.entry_set(), entries);
    assert_eq!(alice.fingerprint(), fp);
    assert_eq!(verify_json(&alice).0, 0);
}

/// `rollcall ARGS` in `env`'s home, running in the background with its output discarded (to be killed).
fn spawn_quiet(env: &Env, args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .env_clear()
        .env("ROLLCALL_HOME", env.home())
        .env("ROLLCALL_PASSPHRASE", PASS)
        .env("ROLLCALL_INSECURE_FAST_KDF", "1")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn rollcall")
}

#[test]
fn kill_9_mid_import_leaves_the_old_or_the_new_state() {
    let (alice, bob) = setup();
    for i in 0..200 {
        bob.ok(&["note", &format!("bulk note {i}"), "--as", "bob"]);
    }
    let bundle = bob.export("big.rollcall");
    let old = alice.entry_set();
    killed_at_twelve_points(&alice, &["import", &bundle], |env, full, at| {
        let new = full.entry_set();
        assert!(new.len() > old.len() + 200);
        let (code, v) = verify_json(env);
        assert_eq!(code, 0, "after a kill at {at:?}: {v}");
        let now = env.entry_set();
        assert!(now == old || now == new, "a partial import: {} entries", now.len());
        let r = env.import(&bundle);
        if now == old {
            assert_eq!(r["added"].as_u64().unwrap() as usize, new.len() - old.len());
        }
        assert_eq!(env.entry_set(), new);
        assert_eq!(verify_json(env).0, 0);
    });
}

#[test]
fn kill_9_mid_join_leaves_no_ledger_or_a_whole_one() {
    let alice = Env::with_ledger();
    alice.notes(200);
    let carol = Env::new();
    carol.ok(&["key", "new", "carol"]);
    let key = carol.public_key("carol");
    alice.ok(&["enroll", "carol", "--pubkey", &key, "--as", "alice", "--role", "approver"]);
    let bundle = alice.export("for-carol.rollcall");
    let join = ["init", "--join", &bundle, "--as", "carol", "--origin", "test.example/carol"];
    killed_at_twelve_points(&carol, &join, |env, full, at| {
        let joined = full.entry_set().len();
        assert!(joined > 200);
        if env.ledger().exists() {
            // It appeared only once complete and synced.
            assert_eq!(verify_json(env).0, 0, "a ledger left by a join killed at {at:?}");
            assert_eq!(env.entry_set().len(), joined);
        } else {
            // Nothing appeared; joining again works, and clears what the killed join left.
            env.ok(&join);
            assert_eq!(verify_json(env).0, 0);
            assert_eq!(env.entry_set().len(), joined);
            let dir = env.ledger().parent().unwrap().to_path_buf();
            let left: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".init-"))
                .collect();
            assert!(left.is_empty(), "left behind by the killed join: {left:?}");
        }
    });
}

/// Runs `rollcall ARGS` in a copy of `base`'s home to the end, then in twelve more copies killed with
/// SIGKILL after 0 %, 10 %, … 110 % of the time that took, handing each (with the finished copy and the
/// moment of the kill) to `check`. At least one must have been killed while it ran.
fn killed_at_twelve_points(base: &Env, args: &[&str], mut check: impl FnMut(&Env, &Env, Duration)) {
    let full = common::clone_home(base);
    let t = Instant::now();
    assert!(spawn_quiet(&full, args).wait().unwrap().success());
    let took = t.elapsed();
    let mut interrupted = 0;
    for step in 0..12u32 {
        let env = common::clone_home(base);
        let mut child = spawn_quiet(&env, args);
        let at = took * step / 10;
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_none() {
            interrupted += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        check(&env, &full, at);
    }
    assert!(interrupted > 0, "nothing was killed while it ran (a full run takes {took:?})");
}

/// Two origins whose names share a position tag (the first four bytes of the SHA-256 of the name; a name
/// with a chosen tag takes minutes to find, these two were found by trying names) cannot be held together:
/// their entries would take each other's positions, and each log would look as if it had seen the other's
/// entries up to its own length. The second is refused on import and on a join, naming both, and nothing
/// changes; `verify` fails on a ledger that holds both.
#[test]
fn an_origin_whose_position_tag_another_holds_is_refused() {
    let (one, two) = ("test.example/c-7117", "test.example/c-47721");
    let hash = |n: &str| Sha256::digest(n.as_bytes())[..4].to_vec();
    assert_eq!(hash(one), hash(two));
    let alice = Env::with_ledger();
    // Both join from bundles that do not carry the other.
    let grace = peer(&alice, "grace", one, &["approver"]);
    let heidi = peer(&alice, "heidi", two, &["requester"]);
    alice.ok(&["import", &grace.export("grace.rollcall")]);
    let (before, dump, entries) = (alice.fingerprint(), alice.dump(), alice.entry_set());
    let err = alice.fails(&["import", &heidi.export("heidi.rollcall")], 1);
    assert!(err.contains("cannot be held together") && err.contains(one) && err.contains(two), "{err}");
    assert_eq!((alice.fingerprint(), alice.entry_set()), (before, entries));
    assert!(alice.dump() == dump);
    assert_eq!(verify_json(&alice).0, 0);
    // A machine joining under the second name from a bundle that carries the first: refused, nothing kept.
    let ivan = Env::new();
    ivan.ok(&["key", "new", "ivan"]);
    alice.ok(&["enroll", "ivan", "--pubkey", &ivan.public_key("ivan"), "--as", "alice", "--role", "approver"]);
    let out = ivan
        .cmd()
        .args(["init", "--join", &alice.export("ivan.rollcall"), "--as", "ivan", "--origin", two])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("cannot be held together"), "{err}");
    assert!(!ivan.ledger().exists());
    // A ledger holding both (written behind its back) fails `verify`, naming them.
    let key: String = rusqlite::Connection::open(alice.ledger())
        .unwrap()
        .query_row("SELECT public_key FROM origins WHERE own = 1", [], |r| r.get(0))
        .unwrap();
    let c = rusqlite::Connection::open(alice.ledger()).unwrap();
    c.execute("INSERT INTO origins (name, public_key, own) VALUES (?1, ?2, 0)", [two, &key]).unwrap();
    drop(c);
    let (code, v) = verify_json(&alice);
    assert_eq!(code, 1, "{v}");
    assert!(v.to_string().contains("cannot be held together"), "{v}");
}

/// An auditor's copy of a bundle (`verify --bundle`) holds an empty origin of its own,
/// `rollcall/audit-copy`: a log whose name shares its tag (`test.example/a-7683283183`, found by trying
/// names) is audited like any other, not refused as a clash (else one member could make every bundle
/// carrying their log unauditable); and no ledger's log may take that name.
#[test]
fn a_log_sharing_the_audit_copys_tag_is_audited_and_the_name_is_reserved() {
    let name = "test.example/a-7683283183";
    let hash = |n: &str| Sha256::digest(n.as_bytes())[..4].to_vec();
    assert_eq!(hash(name), hash("rollcall/audit-copy"));
    let alice = Env::with_ledger();
    let grace = peer(&alice, "grace", name, &["approver"]);
    alice.ok(&["import", &grace.export("grace.rollcall")]);
    let bundle = alice.export("all.rollcall");
    let out = Env::new().ok(&["verify", "--bundle", &bundle]);
    assert!(out.contains("integrity: OK") && out.contains(name), "{out}");
    let ivan = Env::new();
    ivan.ok(&["key", "new", "ivan"]);
    alice.ok(&["enroll", "ivan", "--pubkey", &ivan.public_key("ivan"), "--as", "alice", "--role", "approver"]);
    let out = ivan
        .cmd()
        .args(["init", "--join", &alice.export("ivan.rollcall"), "--as", "ivan", "--origin", "rollcall/audit-copy"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("reserved"), "{err}");
    assert!(!ivan.ledger().exists());
}

/// A bundle whose log is named `rollcall/audit-copy` (bob's section renamed, its verifier key's hash made
/// right for the new name) is refused by an import as by a join: the name is reserved for the empty own
/// origin of an auditor's copy, which is exempt from the tag check.
#[test]
fn an_import_refuses_a_log_named_as_the_audit_copy() {
    let (alice, bob) = setup();
    let mut b = Bundle::read(&bob.export("bob.rollcall"));
    let i = b.origin(BOB);
    let line = b.text(i);
    let vkey = line.split(' ').nth(1).expect("the origin line's verifier key");
    let key = B64.decode(vkey.splitn(3, '+').nth(2).unwrap()).unwrap();
    let name = "rollcall/audit-copy";
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(&key);
    let renamed = format!("{name}+{}+{}", hex::encode(&h.finalize()[..4]), B64.encode(&key));
    b.lines[i] = line.replace(vkey, &renamed).into_bytes();
    let bad = write(&alice, "renamed.rollcall", &b.resealed());
    refused(&alice, &bad, &["origin name rollcall/audit-copy is reserved for audit copies"]);
}

/// Someone who holds no key but can put a file where machines import from adds to an honest bundle a
/// section for an origin nothing declares (no entries, a key of their own, a checkpoint of size 0 it
/// signs) and a cosignature by it claiming alice's own log was longer: evidence of a rollback that never
/// happened, kept for good if the cosignature were checked against a witness the bundle itself brings.
/// The bundle is refused for the undeclared origin and nothing is recorded.
#[test]
fn an_undeclared_witness_the_bundle_brings_plants_no_evidence() {
    use rollcall::ledger::{Hash, PublicKey, cosign::Cosignature, merkle::root_of, note::Checkpoint};
    let (alice, bob) = setup();
    // alice holds bob's log (and so bob as a witness) before the bundles below.
    alice.import(&bob.export("bob-first.rollcall"));
    let b = Bundle::read(&bob.export("bob.rollcall"));
    let evil = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let pk = PublicKey::from_signing(&evil);
    let name = "evil.example/w";
    let mut id = Sha256::new();
    id.update(name.as_bytes());
    id.update([b'\n', 0x01]);
    id.update(pk.as_bytes());
    let key_id = hex::encode(&id.finalize()[..4]);
    let mut raw = vec![0x01];
    raw.extend_from_slice(pk.as_bytes());
    let origin_line = format!("origin {name}+{key_id}+{} 0 0", B64.encode(raw));
    let note = Checkpoint { origin: name.into(), size: 0, root: root_of(&[]) }.sign(&evil).serialize();
    let mine = "test.example/laptop";
    let claim = Cosignature::sign(mine, 1000, &Hash([7; 32]), name, &evil, 1_790_000_000).line();
    let mut f = b.clone();
    let at = f.find("cosignature ");
    f.lines.insert(at, claim.into_bytes());
    let blob_or_cosig = f.lines.iter().position(|l| l.starts_with(b"blob ") || l.starts_with(b"cosignature ")).unwrap();
    f.lines.insert(blob_or_cosig, checkpoint_line(&note));
    f.lines.insert(blob_or_cosig, origin_line.into_bytes());
    let bad = write(&alice, "undeclared-witness.rollcall", &f.resealed());
    refused(&alice, &bad, &[name, "carries no entries"]);
    assert!(equivocations(&alice).is_empty(), "{:?}", equivocations(&alice));

    // The same witness with a log of one entry of its own (a note it signs: any key can sign a statement),
    // whose checkpoint it signs: the section is well formed, but nothing declares the log. Its cosignature
    // is checked only once the declarations hold, and they do not.
    let domain = rollcall::ledger::Ledger::open_read_only(&alice.ledger()).unwrap().domain();
    let note = rollcall::ledger::Statement::new("note", &pk, serde_json::json!({"text": "hi"}), &[]);
    let signed = note.sign(&evil, &domain).unwrap();
    let leaf = rollcall::ledger::leaf::Leaf { index: 0, entry_id: signed.id, prev: Hash([0; 32]) };
    let note1 = Checkpoint { origin: name.into(), size: 1, root: root_of(&[leaf.hash()]) }.sign(&evil).serialize();
    let mut leaf_line = format!("leaf 0 {} ", B64.encode(signed.signature)).into_bytes();
    leaf_line.extend_from_slice(&signed.bytes);
    let mut g = f.clone();
    let o = g.lines.iter().position(|l| l.starts_with(format!("origin {name}+").as_bytes())).unwrap();
    g.lines[o] = String::from_utf8(g.lines[o].clone()).unwrap().replace(" 0 0", " 0 1").into_bytes();
    g.lines[o + 1] = checkpoint_line(&note1);
    g.lines.insert(o + 1, leaf_line);
    let bad = write(&alice, "undeclared-log.rollcall", &g.resealed());
    refused(&alice, &bad, &[name, "does not start with an origin.joined entry"]);
    assert!(equivocations(&alice).is_empty(), "{:?}", equivocations(&alice));

    // A witness alice holds (bob) cosigning that undeclared log at another root: a genuine cosignature
    // would say the log forked. It is checked only once the logs are declared, and they are not.
    let before = equivocations(&alice);
    let forked = Cosignature::sign(name, 1, &Hash([9; 32]), BOB, &bob.signing_key("origin"), 1_790_000_000).line();
    let mut h = g.clone();
    let at = h.find("cosignature ");
    h.lines.insert(at, forked.into_bytes());
    let bad = write(&alice, "held-witness.rollcall", &h.resealed());
    refused(&alice, &bad, &[name, "does not start with an origin.joined entry"]);
    assert_eq!(equivocations(&alice), before);
}

/// `init --join B --ledger-id ID` joins only the ledger named: a bundle of another ledger (a look-alike
/// someone put in the exchange) is refused with nothing written; the right id (in any case) joins.
#[test]
fn a_join_pinned_to_a_ledger_id_joins_no_other() {
    let (alice, bob) = setup();
    let bundle = alice.export("alice.rollcall");
    let id = alice.json(&["verify"])["ledger_id"].as_str().unwrap().to_string();
    let other = Env::with_ledger();
    let other_bundle = other.export("other.rollcall");
    let joiner = Env::new();
    std::fs::create_dir_all(joiner.home().join("keys")).unwrap();
    std::fs::copy(bob.home().join("keys/bob.key"), joiner.home().join("keys/bob.key")).unwrap();
    let before = common::files_under(joiner.home());
    let join = |b: &str, id: &str| {
        joiner.run(&["init", "--join", b, "--as", "bob", "--origin", "ci.example/x", "--ledger-id", id])
    };
    let out = join(&other_bundle, &id);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("not to ledger {id} (--ledger-id); nothing was written")), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(common::files_under(joiner.home()), before, "a refused join left files behind");
    let out = join(&bundle, "not-an-id");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(common::files_under(joiner.home()), before);
    let out = join(&bundle, &id.to_uppercase());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A file holding a log with no entries (an empty section an earlier release imported, or a row written
/// behind the ledger's back) claims a name and a key nothing declares: `verify` fails naming it.
#[test]
fn verify_names_an_empty_log_nothing_declares() {
    let (alice, _bob) = setup();
    assert_eq!(verify_json(&alice).0, 0);
    let evil = rollcall::ledger::PublicKey::from_signing(&ed25519_dalek::SigningKey::from_bytes(&[42; 32]));
    let c = alice.tamper();
    c.execute(
        "INSERT INTO origins (name, public_key, own) VALUES ('evil.example/w', ?1, 0)",
        rusqlite::params![evil.encode()],
    )
    .unwrap();
    drop(c);
    let (code, v) = verify_json(&alice);
    assert_eq!(code, 1, "{v}");
    let f = &v["integrity"]["failure"];
    assert_eq!(f["origin"], "evil.example/w", "{v}");
    assert!(f["problem"].as_str().unwrap().contains("holds no entries: nothing declares this origin"), "{v}");
}
