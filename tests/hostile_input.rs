//! Hostile input (issue 13): a zstd blob bomb, a valid bundle without blobs, and refusals that leave the
//! ledger byte for byte as it was: every way `import` and `init --join` refuse a bundle, each with the
//! ledger's `sqlite3 .dump` compared before and after, and a join leaving nothing behind.

mod common;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{Env, bundle_lines as lines, clone_home, file, file_request, join_refused, peer, sealed};
use std::io::Write;
use std::time::{Duration, Instant};

const BOB: &str = "test.example/bob";
const CAROL: &str = "test.example/carol";
/// The origin a refused join would have created.
const JOINER: &str = "test.example/joiner";

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

/// `ls` (a bundle's lines) up to its blob line `bl`, then that blob declared as 4 GiB with `mib` MiB of
/// its data lines (base64 of zeros), zstd-compressed to a small file.
fn blob_bomb(ls: &[Vec<u8>], bl: usize, mib: usize) -> Vec<u8> {
    let sha = text(&ls[bl]).split(' ').nth(1).unwrap().to_string();
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    for l in &ls[..bl] {
        enc.write_all(l).unwrap();
        enc.write_all(b"\n").unwrap();
    }
    writeln!(enc, "blob {sha} {}", 4u64 << 30).unwrap();
    let data = format!("data {}\n", "A".repeat(65_536));
    for _ in 0..(mib << 20) / 49_152 {
        enc.write_all(data.as_bytes()).unwrap();
    }
    enc.finish().unwrap()
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
    let bl = find(&ls, "blob ");
    let sha = text(&ls[bl]).split(' ').nth(1).unwrap().to_string();

    // 256 MiB of the blob's data lines: about 350 MB of base64.
    let z = blob_bomb(&ls, bl, 256);
    assert!(z.len() < 2 << 20, "the bomb is small: {} bytes", z.len());
    let bomb = alice.home().join("bomb.rollcall.zst");
    std::fs::write(&bomb, &z).unwrap();

    let before = alice.dump();
    let (code, err, rss_kib, elapsed) = measured(&alice, &["import", bomb.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("line {}", bl + 1)) && err.contains(&sha[..16]), "{err}");
    assert!(err.contains("max_file_mib"), "{err}");
    assert!(rss_kib < 256 * 1024, "peak RSS {rss_kib} KiB");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    assert_eq!(alice.dump(), before, "a refused import changed the ledger");

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

/// A bundle whose signed part is genuine, followed by cosignature lines no exporter writes: millions naming
/// a witness and an origin nobody holds (ignored, as C2SP asks, and before, kept in memory until the end
/// line: about 1.2 bytes per byte of the file), then a repeat of one origin and witness the bundle carries.
/// Refused at the repeat's line, in bounded memory, the ledger unchanged.
#[test]
fn a_flood_of_cosignature_lines_is_refused_in_bounded_memory() {
    let alice = Env::with_ledger();
    let bob = peer(&alice, "bob", BOB, &["approver", "requester"]);
    bob.ok(&["note", "one of bob's", "--as", "bob"]);
    let ls = lines(&bob.export("bob.rollcall"));
    let end = find(&ls, "end ");
    // The origins the bundle carries, by the name in each verifier key (`name+id+key`).
    let names: Vec<String> = ls
        .iter()
        .filter(|l| l.starts_with(b"origin "))
        .map(|l| text(l).split(' ').nth(1).unwrap().split('+').next().unwrap().to_string())
        .collect();
    assert!(names.len() >= 2, "{names:?}");
    let root = B64.encode([7u8; 32]);
    let sig = B64.encode([9u8; 64]);
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    for l in &ls[..end] {
        enc.write_all(l).unwrap();
        enc.write_all(b"\n").unwrap();
    }
    // A skippable zstd frame of padding keeps the file under the decompression-bomb ratio (1,024 times
    // the compressed bytes read, plus 64 MiB): what is left is about 1,000 times smaller than it expands.
    let mut file = enc.finish().unwrap();
    file.extend_from_slice(&0x184D_2A50u32.to_le_bytes());
    file.extend_from_slice(&(512u32 << 10).to_le_bytes());
    file.resize(file.len() + (512 << 10), 0);
    let mut enc = zstd::stream::write::Encoder::new(file, 3).unwrap();
    let flood = 1_500_000;
    for i in 0..flood {
        writeln!(enc, "cosignature x.example/o{} 1 {root} y.example/w 1795514400 {sig}", i % 1000).unwrap();
    }
    // bob's log as cosigned by the founder's: a pair the bundle does not carry already.
    let (bobs, founders) = (names.iter().find(|n| *n == BOB).unwrap(), names.iter().find(|n| *n != BOB).unwrap());
    let pair = format!("cosignature {bobs} 1 {root} {founders} 1795514400 {sig}");
    writeln!(enc, "{pair}").unwrap();
    writeln!(enc, "{pair}").unwrap();
    writeln!(enc, "end {}", "0".repeat(64)).unwrap();
    let z = enc.finish().unwrap();
    assert!(z.len() < 2 << 20, "the file is small: {} bytes", z.len());
    let path = alice.home().join("flood.rollcall.zst");
    std::fs::write(&path, &z).unwrap();
    let before = alice.dump();
    let (code, err, rss_kib, _) = measured(&alice, &["import", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let repeat_line = end + flood + 2;
    assert!(err.contains(&format!("line {repeat_line}")) && err.contains("a second cosignature of"), "{err}");
    assert!(rss_kib < 128 * 1024, "peak RSS {rss_kib} KiB");
    assert_eq!(alice.dump(), before, "a refused import changed the ledger");
    // An auditor's verify --bundle (nothing held, so every cosignature would wait): refused, bounded.
    let (code, _, rss_kib, _) = measured(&Env::new(), &["verify", "--bundle", path.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(rss_kib < 128 * 1024, "verify --bundle peak RSS {rss_kib} KiB");
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
    let ls = lines(&bob.export("bob.rollcall"));
    let i = leaf_with(&ls, "x");
    let deep = format!("{}\"x\"{}", "[".repeat(10_000), "]".repeat(10_000));
    let bad = write(&alice, "deep.rollcall", &sealed(&text_of(&body(&ls), i, &deep)));
    let err = alice.refuses(&["import", &bad]);
    assert!(err.contains(&format!("line {}", i + 1)) && err.contains("deeper than 64"), "{err}");
    alice.ok(&["verify"]);
    alice.ok(&["list"]);
}

/// A bundle line as text.
fn text(l: &[u8]) -> String {
    String::from_utf8(l.to_vec()).expect("utf-8 line")
}

/// Index of the first line starting with `prefix`.
fn find(ls: &[Vec<u8>], prefix: &str) -> usize {
    ls.iter().position(|l| l.starts_with(prefix.as_bytes())).unwrap_or_else(|| panic!("no line starts with {prefix:?}"))
}

/// Index of the leaf line of the note whose text is `note`.
fn leaf_with(ls: &[Vec<u8>], note: &str) -> usize {
    let needle = format!(r#""text":"{note}""#);
    ls.iter()
        .position(|l| l.starts_with(b"leaf ") && l.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .unwrap_or_else(|| panic!("no leaf holds the note {note:?}"))
}

/// The lines of `name`'s section: its origin line through its checkpoint line.
fn section(ls: &[Vec<u8>], name: &str) -> std::ops::Range<usize> {
    let o = find(ls, &format!("origin {name}+"));
    let c = o + ls[o..].iter().position(|l| l.starts_with(b"checkpoint ")).expect("a checkpoint line");
    o..c + 1
}

/// A bundle's lines without its end line.
fn body(ls: &[Vec<u8>]) -> Vec<Vec<u8>> {
    assert!(ls.last().is_some_and(|l| l.starts_with(b"end ")));
    ls[..ls.len() - 1].to_vec()
}

/// `ls` with the note text of line `i` replaced by the JSON value `value`.
fn text_of(ls: &[Vec<u8>], i: usize, value: &str) -> Vec<Vec<u8>> {
    let mut out = ls.to_vec();
    let line = text(&ls[i]);
    let (start, rest) = line.split_once(r#""text":"#).expect("a note");
    let end = rest.find(r#""}"#).expect("end of the text") + 1;
    out[i] = format!(r#"{start}"text":{value}{}"#, &rest[end..]).into_bytes();
    out
}

/// Writes `bytes` to `name` in `env`'s home; returns the path.
fn write(env: &Env, name: &str, bytes: &[u8]) -> String {
    let p = env.home().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

/// The signed note of a `checkpoint` line with one byte of its signature flipped.
fn forged_checkpoint(line: &[u8]) -> Vec<u8> {
    let note = String::from_utf8(B64.decode(&line[b"checkpoint ".len()..]).unwrap()).unwrap();
    let mut ls: Vec<String> = note.split('\n').map(str::to_string).collect();
    let s = ls.iter().position(|l| l.starts_with("\u{2014} ")).expect("a signature line");
    let (prefix, sig) = ls[s].rsplit_once(' ').unwrap();
    let mut raw = B64.decode(sig).unwrap();
    raw[20] ^= 0x40;
    ls[s] = format!("{prefix} {}", B64.encode(&raw));
    format!("checkpoint {}", B64.encode(ls.join("\n"))).into_bytes()
}

/// `env`'s own log extended with one `note` stamped `ts` and signed by `member`'s key under `domain` (this
/// ledger's when None), pushed and checkpointed with its origin key behind the workflow's back, as a
/// modified client holding those keys could.
fn rogue_note(env: &Env, member: &str, ts: &str, domain: Option<rollcall::ledger::dsse::Domain>) {
    use rollcall::ledger::{Ledger, PublicKey, Statement};
    let key = env.signing_key(member);
    let l = Ledger::open(&env.ledger()).unwrap();
    let mut st = Statement::new("note", &PublicKey::from_signing(&key), serde_json::json!({"text": "rogue"}), &[]);
    st.ts = ts.to_string();
    let domain = domain.unwrap_or_else(|| l.domain());
    let entry = st.sign(&key, &domain).unwrap();
    let head = rollcall::ledger::statement::CheckedHead {
        kind: "note".into(),
        actor: PublicKey::from_signing(&key),
        ts: ts.to_string(),
        refs: vec![],
    };
    drop(l);
    env.push_leaf(&entry, &head, true);
}

/// A bundle of one log, `test.example/rogue`, in `alice`'s ledger: its first entry signed by the enrolled
/// member `bob`, either a plain note or an `origin.joined` declaring another key than the log's.
fn rogue_log(alice: &Env, bob: &Env, declared: bool) -> String {
    use rollcall::ledger::{Ledger, LedgerError, PublicKey, Statement};
    let id = Ledger::open_read_only(&alice.ledger()).unwrap().ledger_id();
    let origin = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let other = PublicKey::from_signing(&ed25519_dalek::SigningKey::from_bytes(&[8; 32]));
    let member = bob.signing_key("bob");
    let actor = PublicKey::from_signing(&member);
    let dir = tempfile::tempdir().unwrap();
    let name = "test.example/rogue";
    let l = Ledger::create_with(&dir.path().join("rogue.db"), name, &PublicKey::from_signing(&origin), &id, |l| {
        let st = if declared {
            let body = serde_json::json!({"ledger": id.to_hex(), "origin": name, "key": other.encode(), "seen": {}});
            Statement::new("origin.joined", &actor, body, &[])
        } else {
            Statement::new("note", &actor, serde_json::json!({"text": "undeclared"}), &[])
        };
        l.append(&[st.sign(&member, &l.domain()).unwrap()], Some(0), &origin, i64::MAX)?;
        Ok::<(), LedgerError>(())
    })
    .unwrap();
    let p = alice.home().join(if declared { "rogue-declared.rollcall" } else { "rogue.rollcall" });
    let f = std::fs::File::create(&p).unwrap();
    rollcall::sync::export::export(&l, f, &Default::default()).unwrap();
    p.to_str().unwrap().to_string()
}

/// A bundle that `import` must refuse, and what the refusal says.
struct Refused {
    what: &'static str,
    path: String,
    /// A fragment of the import's error line.
    says: String,
    /// `init --join` from it is refused too, saying this ("": for whatever reason); None for refusals
    /// that depend on what the importing ledger already holds.
    join: Option<&'static str>,
}

/// Every way the test suite knows to make `import` or `init --join` refuse a bundle, each checked to
/// change nothing: the importer's `sqlite3 .dump` is the same before and after (`Env::refuses`), and a
/// refused join leaves its home as it was (`join_refused`). The genuine bundles import and join at the end.
#[test]
fn every_refused_import_or_join_leaves_the_ledger_byte_identical() {
    // alice founds; carol and bob join; bob writes x, a request with a blob, and y; carol imports bob's
    // log and writes after it (a merge marker recording bob's size, and her cosignature of it).
    let alice = Env::with_ledger();
    let carol = peer(&alice, "carol", CAROL, &["approver"]);
    let bob = peer(&alice, "bob", BOB, &["approver", "requester"]);
    bob.ok(&["note", "x", "--as", "bob"]);
    let req = file_request(&bob, "bob", "low");
    let log = file(&bob, "revert.log", "rolled back payments to 41\n");
    bob.ok(&["evidence", "add", &req, &log, "--kind", "log", "--as", "bob"]);
    let old = bob.export("old.rollcall");
    bob.ok(&["note", "y", "--as", "bob"]);
    let good = bob.export("bob.rollcall");
    carol.import(&good);
    // Her ledger as the library exports it before she writes again (no merge marker yet), then as her
    // next export carries it.
    let unmarked = carol.home().join("unmarked.rollcall");
    let l = rollcall::ledger::Ledger::open_read_only(&carol.ledger()).unwrap();
    rollcall::sync::export::export(&l, std::fs::File::create(&unmarked).unwrap(), &Default::default()).unwrap();
    drop(l);
    carol.ok(&["note", "seen bob's log", "--as", "carol"]);
    let from_carol = carol.export("carol.rollcall");

    let ls = lines(&good);
    let b = body(&ls);
    let mut cases: Vec<Refused> = Vec::new();
    let mut case = |what: &'static str, bytes: Vec<u8>, says: &str, join: Option<&'static str>| {
        let path = write(&alice, &format!("case-{}.rollcall", cases.len()), &bytes);
        cases.push(Refused { what, path, says: says.to_string(), join });
    };

    // The file.
    case("empty file", Vec::new(), "empty", Some("empty"));
    // Said as not a bundle, not by the grammar of a record ("unknown record type").
    let not_a_bundle = "line 1: the file does not start with a rollcall-bundle header";
    case("not a bundle", b"hello world\n".to_vec(), not_a_bundle, Some("does not start with a rollcall-bundle header"));
    let mut v = b.clone();
    v[0] = text(&v[0]).replacen("rollcall-bundle/2 ", "rollcall-bundle/3 ", 1).into_bytes();
    case("newer format version", sealed(&v), "upgrade rollcall", Some("upgrade rollcall"));
    v[0] = text(&v[0]).replacen("rollcall-bundle/3 ", "rollcall-bundle/1 ", 1).into_bytes();
    case("format version 1", sealed(&v), "not supported", Some("not supported"));
    let mut v = b.clone();
    v.insert(1, b"frobnicate 1".to_vec());
    case("unknown record type", sealed(&v), "line 2: unknown record type", Some("unknown record type"));
    let mut v = b.clone();
    v.insert(1, vec![b'x'; 200_000]);
    case("oversized line", sealed(&v), "line 2 is longer than 131072 bytes", Some("longer than"));
    let whole = sealed(&b);
    let mut cut = whole[..whole.len() / 2].to_vec();
    if cut.last() == Some(&b'\n') {
        cut.pop();
    }
    case("cut in a line", cut, "cut off", Some("cut off"));
    let mut t = Vec::new();
    for l in &b[..leaf_with(&b, "y")] {
        t.extend_from_slice(l);
        t.push(b'\n');
    }
    case("cut at a line", t, "truncated", Some("truncated"));
    let mut wrong = sealed(&b);
    let k = wrong.len() - 3;
    wrong[k] = if wrong[k] == b'0' { b'1' } else { b'0' };
    case("wrong end digest", wrong, "end digest does not match", Some("end digest does not match"));
    case("data after the end line", [&sealed(&b)[..], b"junk\n"].concat(), "after the end line", Some("after the end"));

    // The statements.
    let x = leaf_with(&b, "x");
    case("forged signature", sealed(&text_of(&b, x, "\"z\"")), "signature does not verify", Some("signature does not"));
    let deep = format!("{}\"x\"{}", "[".repeat(100), "]".repeat(100));
    case("nested too deep", sealed(&text_of(&b, x, &deep)), "deeper than 64", Some("deeper than 64"));
    let many = format!("[{}0]", "0,".repeat(20_000));
    case("too many values", sealed(&text_of(&b, x, &many)), "more than 16384 values", Some("16384 values"));
    let large = format!("\"{}\"", "a".repeat(70_000));
    case("statement too large", sealed(&text_of(&b, x, &large)), "more than the 65535 allowed", Some("65535"));

    // A log's section.
    let s = section(&b, BOB);
    let (l1, l2) = (s.start + 2, s.start + 3);
    let mut v = b.clone();
    v.swap(l1, l2);
    case("leaf lines reordered", sealed(&v), "where leaf 1 was expected", Some("where leaf 1 was expected"));
    let header = text(&b[s.start]);
    let (rest, to) = header.rsplit_once(' ').unwrap();
    let to: u64 = to.parse().unwrap();
    let mut v = b.clone();
    v[s.start] = format!("{rest} {}", to - 1).into_bytes();
    case("more leaves than announced", sealed(&v), "more leaves than the", Some("more leaves than the"));
    v[s.start] = format!("{rest} {}", to + 1).into_bytes();
    case("fewer leaves than announced", sealed(&v), "announced leaves up to", Some("announced leaves up to"));
    let mut v = b.clone();
    v[s.start] = header.replacen(" 0 ", " 1 ", 1).into_bytes();
    v.remove(s.start + 1);
    case("starts past what is held", sealed(&v), "import a full export", Some("import a full export"));
    let mut v = b.clone();
    v.remove(s.end - 1);
    case("checkpoint missing", sealed(&v), "expected its checkpoint", Some("expected its checkpoint"));
    let mut v = b.clone();
    v[s.end - 1] = forged_checkpoint(&b[s.end - 1]);
    case("checkpoint signature forged", sealed(&v), "checkpoint", Some("checkpoint"));
    let old_lines = lines(&old);
    let mut v = b.clone();
    v[s.end - 1] = old_lines[section(&old_lines, BOB).end - 1].clone();
    case("an older checkpoint", sealed(&v), "but the leaves end at", Some("but the leaves end at"));
    let mut v = b.clone();
    v.splice(s.end..s.end, b[s.clone()].to_vec());
    case("a log twice", sealed(&v), "appears twice", Some("appears twice"));
    let mut v = b.clone();
    v.drain(s.clone());
    case("the exporter's log missing", sealed(&v), "the log of its own origin", Some("the log of its own origin"));

    // Blobs.
    let bl = find(&b, "blob ");
    let sha = text(&b[bl]).split(' ').nth(1).unwrap().to_string();
    let mut v = b.clone();
    v[bl] = format!("blob {sha} {}", (64 << 20) + 1).into_bytes();
    case("a blob over max_file_mib", sealed(&v), "max_file_mib", Some("max_file_mib"));
    case("a zstd blob bomb", blob_bomb(&ls, bl, 16), "max_file_mib", Some("max_file_mib"));
    let mut v = b.clone();
    v.insert(bl + 2, b[bl + 1].clone());
    case("blob data beyond its size", sealed(&v), "more data than its size", Some("more data than its size"));
    let mut v = b.clone();
    let mut data = B64.decode(&b[bl + 1][5..]).unwrap();
    data[3] ^= 0x20;
    v[bl + 1] = format!("data {}", B64.encode(&data)).into_bytes();
    case("blob data altered", sealed(&v), "does not match its digest", Some("does not match its digest"));
    let extra = b"not evidence of anything\n";
    let mut v = b.clone();
    v.insert(bl, format!("data {}", B64.encode(extra)).into_bytes());
    v.insert(
        bl,
        format!("blob {} {}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(extra)), extra.len()).into_bytes(),
    );
    case("a blob no entry names", sealed(&v), "named by no entry", Some("named by no entry"));

    // Cosignatures.
    let cs = find(&b, "cosignature ");
    let (prefix, sig) = text(&b[cs]).rsplit_once(' ').map(|(p, s)| (p.to_string(), s.to_string())).unwrap();
    let mut raw = B64.decode(sig).unwrap();
    raw[5] ^= 1;
    let mut v = b.clone();
    v[cs] = format!("{prefix} {}", B64.encode(&raw)).into_bytes();
    case("cosignature forged", sealed(&v), "does not verify", Some("does not verify"));

    // Entries a member's modified client signed: backdated, forward-dated, for another ledger.
    let future = clone_home(&bob);
    let at = |env: &Env, args: &[&str]| {
        let out = env.cmd().env("ROLLCALL_NOW", "2999-01-01T00:00:00Z").args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    at(&future, &["note", "from the future", "--as", "bob"]);
    let p = future.home().join("future.rollcall");
    at(&future, &["export", "--out", p.to_str().unwrap()]);
    case("forward-dated entry", std::fs::read(&p).unwrap(), "forward-dated", Some("forward-dated"));
    let past = clone_home(&bob);
    rogue_note(&past, "bob", "2001-01-01T00:00:00.000Z", None);
    case("backdated entry", std::fs::read(past.export("past.rollcall")).unwrap(), "backdated", Some("backdated"));
    let foreign = clone_home(&bob);
    let elsewhere = rollcall::ledger::dsse::Domain::of(&rollcall::ledger::Hash([7; 32]));
    rogue_note(&foreign, "bob", &rollcall::ledger::statement::now_ts(), Some(elsewhere));
    let p = foreign.export("foreign.rollcall");
    case("signed for another ledger", std::fs::read(p).unwrap(), "in this ledger", Some("in this ledger"));

    // Logs: undeclared, declared with another key, of another ledger, relabelled into this one.
    case(
        "a log no origin.joined opens",
        std::fs::read(rogue_log(&alice, &bob, false)).unwrap(),
        "does not start with an origin.joined entry",
        Some(""),
    );
    case(
        "a log declared with another key",
        std::fs::read(rogue_log(&alice, &bob, true)).unwrap(),
        "not declared with this key",
        Some(""),
    );
    let other = Env::with_ledger();
    let theirs = lines(&other.export("other.rollcall"));
    case("another ledger's bundle", sealed(&body(&theirs)), "belongs to ledger", Some(""));
    let mut v = body(&theirs);
    let their_id = text(&v[0]).split(' ').nth(1).unwrap().to_string();
    let our_id = text(&b[0]).split(' ').nth(1).unwrap().to_string();
    v[0] = text(&v[0]).replace(&their_id, &our_id).into_bytes();
    case("another ledger's log relabelled", sealed(&v), "the bundle gives", Some(""));

    // What a log says it had seen, against the older log of bob's a bundle carries instead: carol's
    // cosignature of bob's newer log (a third party's cosignature beyond what the bundle carries), and,
    // with her cosignatures of bob left out, her merge marker recording it.
    let bob_old = old_lines[section(&old_lines, BOB)].to_vec();
    let mut v = body(&lines(unmarked.to_str().unwrap()));
    v.splice(section(&v, BOB), bob_old.clone());
    case(
        "a cosignature beyond the log carried",
        sealed(&v),
        "does not carry what its cosignature covers",
        Some("does not carry what its cosignature covers"),
    );
    let mut v = body(&lines(&from_carol));
    v.splice(section(&v, BOB), bob_old);
    v.retain(|l| !l.starts_with(format!("cosignature {BOB} ").as_bytes()));
    case("a merge marker beyond the log carried", sealed(&v), "entries were removed", Some("entries were removed"));

    for c in &cases {
        let err = alice.refuses(&["import", &c.path]);
        assert!(err.contains(&c.says), "{}: expected {:?} in {err}", c.what, c.says);
        // The bundle is at fault, never the importing ledger.
        assert!(!err.contains("ledger is damaged"), "{}: {err}", c.what);
        if let Some(says) = c.join {
            let err = join_refused(&carol, "carol", &c.path, JOINER);
            assert!(err.contains(says) && !err.contains("ledger is damaged"), "{}: the join: {says:?}? {err}", c.what);
        }
    }
    // Files that are not bundles at all.
    for path in ["/dev/zero", alice.home().to_str().unwrap()] {
        let err = alice.refuses(&["import", path]);
        assert!(err.contains("not a regular file"), "{err}");
        let err = join_refused(&carol, "carol", path, JOINER);
        assert!(err.contains("not a regular file"), "{err}");
    }
    // Joins refused for what is not the bundle's fault: a home that already has a ledger (which stays as
    // it was), a key nobody enrolled, an origin name that is not one.
    let err = alice.refuses(&["init", "--join", &good, "--as", "alice", "--origin", "test.example/again"]);
    assert!(err.contains("exists"), "{err}");
    let stranger = Env::new();
    stranger.ok(&["key", "new", "mallory"]);
    let err = join_refused(&stranger, "mallory", &good, JOINER);
    assert!(err.contains("not enrolled"), "{err}");
    let err = join_refused(&carol, "carol", &good, "not an origin");
    assert!(err.contains("is not valid"), "{err}");

    // The genuine bundles join and import.
    let joined = Env::new();
    std::fs::create_dir_all(joined.home().join("keys")).unwrap();
    std::fs::copy(carol.home().join("keys/carol.key"), joined.home().join("keys/carol.key")).unwrap();
    joined.ok(&["init", "--join", &good, "--as", "carol", "--origin", JOINER]);
    joined.ok(&["verify"]);
    alice.import(&good);
    alice.import(&from_carol);
    alice.ok(&["verify"]);
}

/// Imports `bundle` into `env`, which refuses it as SECURITY: exit 1, one line naming `says`, and the only
/// change to the `.dump` is the one `equivocations` row that keeps both signed statements as evidence
/// (docs/FORMAT.md §8.5). The same bundle again is refused again and changes nothing.
fn refused_with_evidence(env: &Env, what: &str, bundle: &str, says: &str) {
    let before = env.dump();
    let err = env.fails(&["import", bundle], 1);
    assert!(err.contains("SECURITY") && err.contains(says), "{what}: expected {says:?}: {err}");
    let after = env.dump();
    let removed: Vec<&str> = before.lines().filter(|l| !after.lines().any(|a| a == *l)).collect();
    let added: Vec<&str> = after.lines().filter(|l| !before.lines().any(|b| b == *l)).collect();
    assert!(removed.is_empty(), "{what}: the refusal removed {removed:?}");
    assert_eq!(added.len(), 1, "{what}: the refusal added {added:#?}");
    assert!(added[0].starts_with("INSERT INTO equivocations VALUES("), "{what}: {added:?}");
    let again = env.fails(&["import", bundle], 1);
    assert!(again.contains("SECURITY"), "{what}: {again}");
    assert_eq!(env.dump(), after, "{what}: the evidence was recorded twice");
}

/// `lines`' bundle with `extra` cosignature lines before its end line.
fn with_cosignatures(lines: &[Vec<u8>], extra: &[rollcall::ledger::cosign::Cosignature]) -> Vec<u8> {
    let mut v = body(lines);
    v.extend(extra.iter().map(|c| c.line().into_bytes()));
    sealed(&v)
}

/// The SECURITY refusals (a fork, a rollback, this ledger's own log longer elsewhere, a witness's
/// cosignature contradicting the logs) keep their evidence row, as documented, and change nothing else.
#[test]
fn a_security_refusal_adds_its_evidence_row_and_nothing_else() {
    use rollcall::ledger::Hash;
    use rollcall::ledger::cosign::Cosignature;
    let alice = Env::with_ledger();
    let carol = peer(&alice, "carol", CAROL, &["approver"]);
    let bob = peer(&alice, "bob", BOB, &["approver"]);
    bob.ok(&["note", "x", "--as", "bob"]);
    let twin = clone_home(&bob);
    let old = bob.export("old.rollcall");
    bob.ok(&["note", "y", "--as", "bob"]);
    let good = bob.export("bob.rollcall");
    twin.ok(&["note", "not y", "--as", "bob"]);
    let forked = twin.export("twin.rollcall");
    // The twin's log grown to the size carol witnesses of bob's.
    twin.ok(&["note", "z", "--as", "bob"]);
    let forked_longer = lines(&twin.export("twin-longer.rollcall"));
    let fresh = clone_home(&alice);
    carol.import(&good);
    let from_carol = lines(&carol.export("carol.rollcall"));
    alice.import(&good);
    alice.import(&carol.export("carol-again.rollcall"));
    let size = |env: &Env, origin: &str| -> u64 {
        let v = common::verify_json(env).1;
        v["origins"].as_array().unwrap().iter().find(|o| o["origin"] == origin).unwrap()["size"].as_u64().unwrap()
    };
    let (bob_size, own_size) = (size(&alice, BOB), size(&alice, "test.example/laptop"));

    // Cosignatures carol's origin key signs (she is a witness alice knows), added to bob's bundle.
    let witness = carol.signing_key("origin");
    let now = 1_790_000_000;
    let cosigned = |origin: &str, size: u64| Cosignature::sign(origin, size, &Hash([1; 32]), CAROL, &witness, now);
    let ls = lines(&good);
    let cases = [
        ("a fork", forked.clone(), "forked"),
        ("an older bundle after a newer one", old.clone(), "rolled back"),
        (
            "a witness's root that is not this ledger's",
            write(&alice, "cs-root", &with_cosignatures(&ls, &[cosigned(BOB, bob_size)])),
            "forked",
        ),
        (
            "a witness saw more of this ledger's own log",
            write(&alice, "cs-own", &with_cosignatures(&ls, &[cosigned("test.example/laptop", own_size + 3)])),
            "lost entries a witness had seen",
        ),
        (
            "a witness saw more of the exporter's log",
            write(&alice, "cs-exporter", &with_cosignatures(&ls, &[cosigned(BOB, bob_size + 3)])),
            "lost entries a witness had seen",
        ),
    ];
    for (what, bundle, says) in cases {
        refused_with_evidence(&clone_home(&alice), what, &bundle, says);
    }
    // A ledger that holds none of bob's log, given carol's bundle carrying the twin's log of bob in place of
    // the one she witnessed (her cosignature and her merge marker name its root): the contradiction
    // between two signed statements is kept as a fork, not just refused.
    let mut v = body(&from_carol);
    v.splice(section(&v, BOB), forked_longer[section(&forked_longer, BOB)].to_vec());
    let p = write(&fresh, "carol-forked.rollcall", &sealed(&v));
    refused_with_evidence(&fresh, "a witnessed log swapped for its fork", &p, "forked");

    // A copy of alice's ledger from before her last entry, shown her longer log by bob.
    let restored = clone_home(&alice);
    alice.notes(1);
    bob.import(&alice.export("alice.rollcall"));
    refused_with_evidence(&restored, "a restored copy", &bob.export("bob-later.rollcall"), "lost entries");
    // The ledger that was not restored takes it.
    alice.import(&bob.export("bob-later2.rollcall"));
    alice.ok(&["verify"]);
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

/// Small input files (a request record, a policy, a proof, an execution's output) are read only when they
/// are regular files, and never past their cap: a device such as `/dev/zero` reports size 0 and would
/// otherwise be read (or hashed) without end. Each is refused at once, on one line, the ledger unchanged.
#[test]
fn devices_given_as_input_files_are_refused_at_once() {
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    let zero = "/dev/zero";
    for (args, says) in [
        (vec!["request", "new", "--from-file", zero, "--as", "bob"], "not a regular file"),
        (vec!["policy", "adopt", zero, "--as", "alice"], "not a regular file"),
        (vec!["verify-proof", zero], "not a regular file"),
        (vec!["execute", &req, "--outcome", "succeeded", "--output-file", zero, "--as", "erin"], "not a regular file"),
    ] {
        let err = env.refuses(&args);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// A member's signed execution may carry anything in `output_sha256` (it is the executor's claim): control
/// characters and multibyte text reach `show` escaped and cut at a character boundary, never raw.
#[test]
fn a_hostile_output_digest_in_a_signed_execution_is_shown_escaped() {
    use rollcall::ledger::{Hash, PublicKey, Statement};
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    common::tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    env.ok(&["execute", &req, "--outcome", "partial", "--as", "erin"]);
    // erin's execution, again, with a hostile digest, signed by erin (as a rogue member could).
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    let text: String = c
        .query_row("SELECT CAST(statement AS TEXT) FROM entries WHERE kind = 'rollback.executed'", [], |r| r.get(0))
        .unwrap();
    drop(c);
    let st: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut body = st["body"].clone();
    body["output_sha256"] = "a\u{1b}[2Jééééééééééééééé".into();
    let erin = env.signing_key("erin");
    let refs: Vec<Hash> = st["refs"].as_array().unwrap().iter().filter_map(|r| Hash::from_hex(r.as_str()?)).collect();
    env.append_raw(&Statement::new("rollback.executed", &PublicKey::from_signing(&erin), body, &refs), &erin);
    let out = env.run(&["show", &req[..12]]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!shown.contains('\u{1b}'), "{shown}");
    assert!(shown.contains("output sha256 a<U+001B>[2Jééééééééééé)"), "{shown}");
}

/// [`common::garble_root_page`] of `env`'s ledger.
fn garble_root_page(env: &Env, name: &str) -> Vec<u8> {
    common::garble_root_page(&env.ledger(), name)
}

/// rollcall with `args` in `env`, unable to write any file past `blocks` (`ulimit -f`: 512- or 1024-byte
/// blocks) and with SIGXFSZ ignored: a write past the limit fails with EFBIG, as one on a full disk fails
/// with ENOSPC.
fn with_file_limit(env: &Env, blocks: u64, args: &[&str]) -> std::process::Output {
    let base = env.std_cmd();
    std::process::Command::new("sh")
        .env_clear()
        .envs(base.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .args(["-c", &format!("trap '' XFSZ; ulimit -f {blocks} && exec \"$@\""), "sh"])
        .arg(assert_cmd::cargo::cargo_bin!("rollcall"))
        .args(args)
        .output()
        .unwrap()
}

/// A damaged page of an index (disk damage, or a hand edit of the file): `verify` fails in one line naming
/// the damage, says that the evidence and authorization checks it did not reach were not checked (instead
/// of "every entry's signer counted"), and leaves the file byte for byte as it was; `--json` says the same.
#[test]
fn a_damaged_index_page_fails_verify_and_what_it_stopped_is_not_reported_as_checked() {
    let env = Env::with_ledger();
    env.notes(3);
    let bytes = garble_root_page(&env, "leaves_entry");

    let out = env.run(&["verify"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("integrity: ")).collect();
    assert!(matches!(failed[..], [l] if l.starts_with("integrity: FAILED") && l.contains("malformed")), "{text}");
    let not = rollcall::workflow::verify::NOT_CHECKED;
    assert!(text.contains(&format!("evidence: {not}")) && text.contains(&format!("authorization: {not}")), "{text}");
    assert!(!text.contains("signer counted") && !text.contains("match their digests"), "{text}");
    let (code, json) = common::verify_json(&env);
    assert_eq!(code, 1);
    assert_eq!(
        (&json["intact"], &json["evidence_checked"], &json["authorization_checked"]),
        (&serde_json::json!(false), &serde_json::json!(false), &serde_json::json!(false))
    );
    assert_eq!(std::fs::read(env.ledger()).unwrap(), bytes);
}

/// A damaged page of what the check of each governance row reads (the stored tree hashes, the signed
/// checkpoints): a command that needs the roster says the ledger is damaged, in one line, instead of
/// deciding without those rows ("key alice is not enrolled" for the ledger's own admin), and a write
/// changes nothing.
#[test]
fn a_damaged_page_under_the_roster_is_reported_as_damage_not_as_an_unenrolled_key() {
    for table in ["tree_hashes", "checkpoints"] {
        let env = Env::with_ledger();
        env.notes(2);
        let bytes = garble_root_page(&env, table);
        for args in [&["note", "one more", "--as", "alice"][..], &["report", "--as", "alice"]] {
            let err = env.fails(args, 1);
            assert!(
                err.starts_with("error: ledger is damaged: database disk image is malformed"),
                "{table} {args:?}: {err}"
            );
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
            assert!(!err.contains("not enrolled"), "{err}");
        }
        assert_eq!(std::fs::read(env.ledger()).unwrap(), bytes, "{table}");
    }
}

/// Every table and index of a small ledger with a request, an approval and a note, each in turn with its
/// root page damaged: `verify`, `log`, `list`, `show` and `gate` either answer exactly as on the intact
/// file or say that the ledger is damaged (exit 1 or 2). None crashes, hangs, or gives another answer
/// without saying so (the time `verify` took aside).
#[test]
fn a_damaged_page_anywhere_gives_the_same_answer_or_says_the_ledger_is_damaged() {
    let env = common::team();
    let req = file_request(&env, "bob", "low");
    common::tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    env.ok(&["note", "after the approval", "--as", "alice"]);
    let commands: [&[&str]; 5] = [&["verify"], &["log"], &["list"], &["show", &req], &["gate", &req]];
    let answer = |out: std::process::Output| {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let kept: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("verified in ")).collect();
        (out.status.code(), kept.join("\n"), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    {
        let c = rusqlite::Connection::open(env.ledger()).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    }
    let intact = std::fs::read(env.ledger()).unwrap();
    let baseline: Vec<_> = commands.iter().map(|args| answer(env.run(args))).collect();
    assert_eq!(baseline[0].0, Some(0), "{:?}", baseline[0]);
    let names: Vec<String> = {
        let c = rusqlite::Connection::open(env.ledger()).unwrap();
        let mut s = c.prepare("SELECT name FROM sqlite_master WHERE rootpage > 1 ORDER BY name").unwrap();
        s.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
    };
    assert!(names.len() > 20, "{names:?}");
    let mut damage_said = 0;
    for name in &names {
        std::fs::write(env.ledger(), &intact).unwrap();
        garble_root_page(&env, name);
        for (args, base) in commands.iter().zip(&baseline) {
            let got = answer(env.run(args));
            let said_damaged = [&got.1, &got.2].iter().any(|t| t.contains("damaged") || t.contains("malformed"));
            assert!(matches!(got.0, Some(0..=2)), "{name} {args:?}: {got:?}");
            assert!(got == *base || (said_damaged && got.0 != Some(0)), "{name} {args:?}:\n{got:?}\nintact: {base:?}");
            damage_said += usize::from(got != *base);
        }
    }
    // The damage was met: most tables' root pages are read by one of the commands.
    assert!(damage_said > names.len(), "{damage_said}");
}

/// A damaged page of the request index (a cache of the entries): every reader says the ledger is damaged,
/// `verify` finds the record intact, and `rebuild` cannot clear the index in place. `rebuild --into NEW`
/// copies the record into a new file, builds its index and verifies it, without writing to the damaged
/// file: the copy lists, logs and verifies as the intact file did, and takes new entries.
#[test]
fn a_damaged_request_index_is_salvaged_into_a_new_file_that_answers_as_the_intact_one() {
    let env = common::team();
    let req = file_request(&env, "bob", "low");
    common::tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    let (listed, logged) = (env.json(&["list"]), env.json(&["log"]));
    let blobs = common::verify_json(&env).1["evidence"]["checked"].clone();
    assert!(blobs.as_u64() > Some(0), "{blobs}");
    let damaged = garble_root_page(&env, "request_index");
    let err = env.fails(&["list"], 1);
    assert!(err.contains("ledger is damaged") && err.contains("rebuild --into"), "{err}");
    assert_eq!(env.run(&["verify"]).status.code(), Some(0));
    assert!(env.fails(&["rebuild"], 1).contains("ledger is damaged"));

    let copy = env.home().join("salvaged.db");
    let copy_arg = copy.to_str().unwrap();
    let said = env.ok(&["rebuild", "--into", copy_arg]);
    assert!(said.contains("verified: intact") && said.contains("is unchanged"), "{said}");
    let beside = |suffix: &str| env.home().join(format!("salvaged.db{suffix}")).exists();
    assert!(!beside("-wal") && !beside("-shm"), "the copy is closed whole: moving the file moves it all");
    assert_eq!(std::fs::read(env.ledger()).unwrap(), damaged, "the damaged file is only read");
    assert_eq!(env.json(&["--ledger", copy_arg, "list"]), listed);
    assert_eq!(env.json(&["--ledger", copy_arg, "log"]), logged);
    let verified: serde_json::Value =
        serde_json::from_slice(&env.run(&["--json", "--ledger", copy_arg, "verify"]).stdout).unwrap();
    assert_eq!((&verified["intact"], &verified["evidence"]["checked"]), (&serde_json::json!(true), &blobs));
    env.ok(&["--ledger", copy_arg, "note", "written to the copy", "--as", "alice"]);
    assert_eq!(env.run(&["--ledger", copy_arg, "verify"]).status.code(), Some(0));
    // Never over an existing file.
    let err = env.fails(&["rebuild", "--into", copy_arg], 2);
    assert!(err.contains("already exists"), "{err}");
}

/// A damaged page of the record itself (the entries): `rebuild --into` refuses, naming the table, and
/// leaves nothing behind; the damaged file is unchanged.
#[test]
fn a_damaged_record_is_not_salvaged_and_nothing_is_left_behind() {
    let env = Env::with_ledger();
    env.notes(3);
    let damaged = garble_root_page(&env, "entries");
    let before = common::files_under(env.home());
    // What a salvage killed before it ended left (its process gone): removed by the next one.
    let abandoned = env.home().join(".salvaged.db.salvage-4194303-wal");
    std::fs::write(&abandoned, b"half a copy").unwrap();
    let copy = env.home().join("salvaged.db");
    let err = env.fails(&["rebuild", "--into", copy.to_str().unwrap()], 1);
    assert!(err.contains("the record itself cannot be read (table entries)"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!copy.exists());
    assert!(!abandoned.exists());
    // Nothing of the copy (SQLite's own -wal and -shm files of the ledger that was read aside).
    let ours = |files: Vec<String>| files.into_iter().filter(|f| !f.starts_with("ledger.db-")).collect::<Vec<_>>();
    assert_eq!(ours(common::files_under(env.home())), ours(before));
    assert_eq!(std::fs::read(env.ledger()).unwrap(), damaged);
}

/// `rebuild --into` keeps the order entries arrived in (the entries table's rowids, which `log --follow`
/// reads): a peer's entry stamped between two of this machine's arrives after both, and the copy holds the
/// same (arrival, entry) pairs as the original, and answers `log` the same.
#[test]
fn a_salvaged_copy_keeps_the_order_entries_arrived_in() {
    let alice = Env::with_ledger();
    alice.notes(1);
    let bob = peer(&alice, "bob", BOB, &["requester"]);
    bob.ok(&["note", "stamped between alice's two notes", "--as", "bob"]);
    alice.ok(&["note", "alice's second note", "--as", "alice"]);
    alice.import(&bob.export("bob.rollcall"));
    let arrived = |db: &std::path::Path| -> Vec<(i64, Vec<u8>)> {
        let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut s = c.prepare("SELECT rowid, id FROM entries ORDER BY rowid").unwrap();
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect()
    };
    let positions = |db: &std::path::Path| -> Vec<Vec<u8>> {
        let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut s = c.prepare("SELECT entry_id FROM leaves ORDER BY ets, origin, idx").unwrap();
        s.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
    };
    let original = arrived(&alice.ledger());
    // The case that tells them apart: arrival order is not position order.
    assert_ne!(original.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>(), positions(&alice.ledger()));
    let copy = alice.home().join("copy.db");
    alice.ok(&["rebuild", "--into", copy.to_str().unwrap()]);
    assert_eq!(arrived(&copy), original);
    assert_eq!(alice.json(&["--ledger", copy.to_str().unwrap(), "log"]), alice.json(&["log"]));
}

/// A record that SQLite reads whole but that does not verify (a row forged behind the ledger's back):
/// `rebuild --into` copies it, finds that the copy does not verify, says why, and leaves nothing behind.
#[test]
fn a_record_that_does_not_verify_is_not_salvaged() {
    let env = Env::with_ledger();
    env.notes(2);
    let key = rollcall::ledger::PublicKey::from_signing(&env.signing_key("alice"));
    let mut st = rollcall::ledger::Statement::new("note", &key, serde_json::json!({"text": "forged"}), &[]);
    st.ts = "2030-01-01T00:00:00.000Z".into();
    env.forge_row(&st, 1_893_456_000_000);
    let forged = std::fs::read(env.ledger()).unwrap();
    let copy = env.home().join("salvaged.db");
    let err = env.fails(&["rebuild", "--into", copy.to_str().unwrap()], 1);
    assert!(err.contains("does not verify"), "{err}");
    assert!(!copy.exists());
    assert!(!common::files_under(env.home()).iter().any(|f| f.contains("salvage")), "nothing of the copy is left");
    assert_eq!(std::fs::read(env.ledger()).unwrap(), forged);
}

/// A salvage whose copy runs out of room (a limit on the size of the files it writes: its writes then fail
/// as on a full disk), at every step from creating the copy to folding its write-ahead log into it before
/// it appears: each failure is the copy's, named by its path in one line (exit 1), not reported as damage
/// of the record; nothing is left of the copy and the source is unchanged. With room enough the copy
/// appears and verifies. (Before, a copy whose last fold ran out of room appeared cut short, with
/// "verified: intact" and exit 0.)
#[test]
fn a_salvage_that_runs_out_of_room_says_so_and_leaves_nothing() {
    let env = Env::with_ledger();
    for i in 0..120 {
        env.ok(&["note", &format!("note {i} {}", "x".repeat(2_000)), "--as", "alice"]);
    }
    garble_root_page(&env, "request_index");
    let before = std::fs::read(env.ledger()).unwrap();
    let files = common::files_under(env.home());
    let ours = |files: Vec<String>| files.into_iter().filter(|f| !f.starts_with("ledger.db-")).collect::<Vec<_>>();
    let copy = env.home().join("salvaged.db");
    let mut steps = std::collections::BTreeSet::new();
    // The limit in `ulimit -f` blocks (512 or 1024 bytes), raised until the copy fits.
    let mut blocks = 16u64;
    loop {
        assert!(blocks < 1 << 20, "the copy never fit");
        let out = with_file_limit(&env, blocks, &["rebuild", "--into", copy.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.success() {
            break;
        }
        assert_eq!(out.status.code(), Some(1), "{blocks} blocks: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        let step = err
            .strip_prefix(&format!("error: cannot write {}: ", copy.display()))
            .and_then(|rest| rest.split(':').next())
            .unwrap_or_else(|| panic!("{blocks} blocks: not the copy's failure: {err}"));
        steps.insert(step.to_string());
        assert!(!copy.exists(), "{blocks} blocks: {err}");
        assert_eq!(ours(common::files_under(env.home())), ours(files.clone()), "{blocks} blocks: {err}");
        assert_eq!(std::fs::read(env.ledger()).unwrap(), before);
        blocks += blocks / 4;
    }
    for step in ["creating the copy", "closing the copy"] {
        assert!(steps.contains(step), "{step} not reached: {steps:?}");
    }
    let verified = env.run(&["--ledger", copy.to_str().unwrap(), "verify"]);
    assert_eq!(verified.status.code(), Some(0), "{}", String::from_utf8_lossy(&verified.stdout));
    assert_eq!(std::fs::read(env.ledger()).unwrap(), before);
}

/// A write that runs out of room (a file-size limit; as on a full disk): one line saying the disk failed
/// and what to check, exit 1 (a failure of the system under the ledger, not bad input), and the ledger
/// as it was: the entry is not half-written.
#[test]
fn a_write_on_a_full_disk_fails_in_one_line_and_the_ledger_is_unchanged() {
    let env = common::team();
    let req = file_request(&env, "bob", "low");
    let logged = env.json(&["log"]);
    let evidence = env.home().join("test-output.log");
    std::fs::write(&evidence, "y".repeat(8_000)).unwrap();
    for args in [
        vec!["note", "a note", "--as", "alice"],
        vec!["approve", &req, "--comment", "ok", "--as", "carol"],
        vec!["evidence", "add", &req, evidence.to_str().unwrap(), "--kind", "test", "--as", "bob"],
    ] {
        let out = with_file_limit(&env, 1, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("disk failed") && err.contains("check the free space"), "{args:?}: {err}");
        assert!(!err.contains("damaged"), "{args:?}: {err}");
        assert_eq!(env.json(&["log"]), logged);
    }
    assert_eq!(env.run(&["verify"]).status.code(), Some(0));
}

/// A ledger in a directory its user may not write (SQLite keeps its -wal and -shm files beside the file):
/// a write and a read each refuse in one line that gives SQLite's reason and says to check the file and its
/// directory, not "ledger is damaged" with advice to rebuild a file that is whole, and nothing in the
/// directory changes. Root may write anywhere, so as root (CI) the commands run as `nobody` through
/// `setpriv`, the files given to it; any other user is refused by the directory's mode itself.
#[test]
fn a_ledger_in_a_directory_it_may_not_write_is_not_called_damaged() {
    let root = std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let env = Env::with_ledger();
    env.notes(1);
    let before = (std::fs::read(env.ledger()).unwrap(), common::files_under(env.home()));
    if root {
        let chown = std::process::Command::new("chown").args(["-R", "65534:65534"]).arg(env.home()).status().unwrap();
        assert!(chown.success());
    }
    /// Gives the directory its mode back however the test ends (else its removal fails for a non-root user).
    struct Mode<'a>(&'a std::path::Path);
    impl Drop for Mode<'_> {
        fn drop(&mut self) {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(self.0, std::fs::Permissions::from_mode(0o700));
        }
    }
    let guard = Mode(env.home());
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(env.home(), std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    for args in [vec!["note", "a note", "--as", "alice"], vec!["verify"]] {
        let base = env.std_cmd();
        let mut cmd = std::process::Command::new(if root { "setpriv" } else { base.get_program().to_str().unwrap() });
        if root {
            cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(base.get_program());
        }
        let out =
            cmd.args(&args).env_clear().envs(base.get_envs().filter_map(|(k, v)| Some((k, v?)))).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("readonly") && err.contains("the ledger file and its directory"), "{args:?}: {err}");
        assert!(!err.contains("damaged") && !err.contains("rebuild"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    drop(guard);
    assert_eq!((std::fs::read(env.ledger()).unwrap(), common::files_under(env.home())), before);
}

/// An export whose bundle runs out of room (a file-size limit, as a full disk): one line naming the file,
/// exit 1 (the system failed, not the input), and no bundle, whole or partial, at the path or beside it.
#[test]
fn an_export_that_runs_out_of_room_leaves_no_bundle() {
    let env = Env::with_ledger();
    // More than the writer's 1 MiB buffer of leaves: the write that fails is a leaf's, not the last flush.
    for i in 0..120 {
        env.ok(&["note", &format!("note {i} {}", "x".repeat(9_500)), "--as", "alice"]);
    }
    // An export first: the checkpoint an export signs of the own log is in; then the write-ahead log folded
    // in, so what the limited export writes to the ledger has room (the limit is on every file it writes).
    env.ok(&["export", "--out", env.home().join("first.rollcall").to_str().unwrap()]);
    rusqlite::Connection::open(env.ledger())
        .unwrap()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let out_dir = env.home().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let bundle = out_dir.join("b.rollcall");
    // 512 KB (sh's 512-byte blocks) or 1 MiB: below the 1.2 MB of leaves either way.
    let out = with_file_limit(&env, 1024, &["export", "--out", bundle.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("cannot write {}", bundle.display())), "{err}");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0, "nothing of the bundle is left");
    env.ok(&["export", "--out", bundle.to_str().unwrap()]);
}

/// Text a member controls in evidence reaches the terminal escaped: a SARIF scan's tool name (in the
/// summary line of `evidence show`) and an evidence entry's `kind` (in `show`, signed behind the
/// workflow's back as a rogue member could). A NUL inside a revert argument is refused at filing (the CI
/// recipes split the argv on NUL: one argument shown, several run), with nothing written. A title that
/// Markdown would read as a link or an HTML tag is escaped in the Markdown report.
#[test]
fn member_text_reaches_terminals_and_reports_escaped() {
    use rollcall::ledger::{Hash, PublicKey, Statement};
    let env = common::team();
    let title = "Revert [Approved by security](https://evil.example) <img src=x>";
    let req = env.json(&common::request_args("bob", title, "low"))["request"].as_str().unwrap().to_string();
    let sarif = std::fs::read_to_string(format!("{}/tests/fixtures/semgrep.sarif", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .replace("\"Semgrep OSS\"", "\"x\\u001b[2K\\rSARIF (x): 0 findings\\u001b[8m\"");
    let scan = file(&env, "scan.sarif", &sarif);
    let added = env.json(&["evidence", "add", &req, &scan, "--kind", "scan", "--as", "bob"]);
    let shown = env.ok(&["evidence", "show", added["entry_id"].as_str().unwrap()]);
    assert!(!shown.contains('\u{1b}') && shown.contains("SARIF (x<U+001B>[2K"), "{shown}");

    let bob = env.signing_key("bob");
    let body = serde_json::json!({"request": req, "kind": "log\u{1b}]0;pwned\u{7}", "name": "x.log", "summary": "s"});
    let refs = [Hash::from_hex(&req).unwrap()];
    env.append_raw(&Statement::new("evidence.attached", &PublicKey::from_signing(&bob), body, &refs), &bob);
    let out = env.run(&["show", &req]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && !shown.contains('\u{1b}') && !shown.contains('\u{7}'), "{shown}");

    let before = env.fingerprint();
    let record = file(
        &env,
        "nul.json",
        r#"{"title":"t","change":"c","category":"other","rationale":"r","impact":"i","components":["a"],"env":"production","revert":{"tool":"helm","argv":["helm","rollback","payments\u0000--post-renderer\u0000/tmp/x","41"],"from":"42","to":"41"},"risk":"low"}"#,
    );
    let err = env.fails(&["request", "new", "--from-file", &record, "--as", "bob"], 2);
    assert!(err.contains("holds a NUL character"), "{err}");
    assert_eq!(env.fingerprint(), before);

    let md = env.ok(&["timeline", &req, "--format", "md"]);
    assert!(md.contains("Revert \\[Approved by security\\](https\\://evil.example) &lt;img src=x&gt;"), "{md}");
    assert!(!md.contains("<img"), "{md}");
}

/// A member name from an admin-signed roster entry (a peer's, unchecked by this machine's enrolment
/// rules) holding a C1 control (CSI) and a bidi override is escaped in `log --after --json`, the JSON
/// Lines stream, as in every other JSON output (before, serde_json wrote it raw); and a bundle whose file
/// name holds an OSC 52 sequence (a peer names the files of a shared directory) is named escaped by
/// `verify --bundle`.
#[test]
fn a_hostile_member_name_and_bundle_path_are_printed_escaped() {
    use rollcall::ledger::{PublicKey, Statement};
    let env = common::team();
    let alice = env.signing_key("alice");
    let mallory = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let name = "ops\u{9b}2J\u{202e}";
    let body =
        serde_json::json!({"name": name, "key": PublicKey::from_signing(&mallory).encode(), "roles": ["requester"]});
    env.append_raw(&Statement::new("identity.enrolled", &PublicKey::from_signing(&alice), body, &[]), &alice);
    let note = serde_json::json!({"text": "hello"});
    env.append_raw(&Statement::new("note", &PublicKey::from_signing(&mallory), note, &[]), &mallory);
    let out = env.run(&["--json", "log", "--after", "0"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(r#""actor_name":"ops\u009b2J\u202e""#), "{text}");
    assert!(!text.contains('\u{9b}') && !text.contains('\u{202e}'), "{text}");
    let names: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["actor_name"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(names.iter().any(|n| n == name), "the stream reads back the same name: {names:?}");

    // A bundle that verifies (its path on the "ledger" line), and one cut short (on the "bundle" line).
    let path = env.dir.path().join("x\u{1b}]52;c;cm0gLXJmIH4K\u{7}.rollcall");
    env.ok(&["export", "--out", path.to_str().unwrap(), "--as", "alice"]);
    let whole = std::fs::read(&path).unwrap();
    let before = env.fingerprint();
    for (bytes, verifies) in [(whole.clone(), true), (whole[..whole.len() / 2].to_vec(), false)] {
        std::fs::write(&path, &bytes).unwrap();
        let out = env.run(&["verify", "--bundle", path.to_str().unwrap()]);
        let shown = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.success(), verifies, "{shown}");
        assert!(!shown.contains('\u{1b}') && !shown.contains('\u{7}'), "{shown}");
        assert!(shown.contains("x<U+001B>]52;c;cm0gLXJmIH4K<U+0007>.rollcall"), "{shown}");
    }
    assert_eq!(env.fingerprint(), before);
}

/// The console shows a revert operation whole, however long (what an approval signs and CI runs): an
/// argument hidden past 400 characters (before, the Record tab and the signing preview cut there) is on
/// the screen, in the detail and in the approval dialog.
#[test]
fn the_console_shows_a_long_revert_operation_whole() {
    let env = common::team();
    let (filler, more) = ("x".repeat(250), "y".repeat(250));
    let record = serde_json::json!({"title": "Revert with a long description", "change": "c", "category": "other",
        "rationale": "r", "impact": "i", "components": ["a"], "env": "staging",
        "revert": {"tool": "helm", "argv": ["helm", "rollback", "payments", "41", "--description", filler, "--labels", more, "--post-renderer", "/tmp/evil.sh"],
            "from": "42", "to": "41"}, "risk": "low"});
    let path = file(&env, "long.json", &record.to_string());
    env.ok(&["request", "new", "--from-file", &path, "--as", "bob"]);
    let mut h = common::console(&env, "carol", 200, 60);
    h.press(crossterm::event::KeyCode::Enter);
    let screen = h.render();
    assert!(screen.contains("/tmp/evil.sh"), "{screen}");
    h.press(crossterm::event::KeyCode::Char('a'));
    let screen = h.render();
    assert!(screen.contains("/tmp/evil.sh"), "the approval dialog: {screen}");
}

/// A key file others may read (copied with the wrong mode, restored from a backup) is refused before any
/// passphrase is asked, naming the fix, and signs nothing; made private again, it signs.
#[cfg(unix)]
#[test]
fn a_key_file_others_may_read_signs_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let env = common::team();
    let req = file_request(&env, "bob", "low");
    common::tested(&env, &req, "bob");
    let key = env.home().join("keys").join("carol.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let approve = ["approve", &req, "--comment", "looks right", "--as", "carol"];
    let (_, err) = env.refused_run(&approve);
    assert!(err.contains("may be read or changed by other users (mode 0644)") && err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    // The origin key (every append signs a checkpoint with it) likewise, with the fix and not a passphrase.
    let origins = env.home().join("origins");
    let origin =
        std::fs::read_dir(&origins).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension() == Some("key".as_ref()));
    let origin = origin.expect("the founder's keystore holds the origin key");
    std::fs::set_permissions(&origin, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (_, err) = env.refused_run(&approve);
    assert!(err.contains("(mode 0640)") && err.contains("chmod 600") && !err.contains("ORIGIN_PASSPHRASE"), "{err}");
    std::fs::set_permissions(&origin, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.ok(&approve);
    // `key list` still lists a loose key (it is not hidden, nor another key chosen in its place), and says
    // what the signing would refuse, with the fix.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.run(&["key", "list"]);
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("carol"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: key file") && err.contains("carol.key") && err.contains("(mode 0644)"), "{err}");
    let v = env.json(&["key", "list"]);
    assert!(v["problems"].to_string().contains("mode 0644"), "{v}");
}

/// A request for a look-alike of an environment (a Cyrillic `о` in `prоduction`: another environment to
/// the policy's windows and to the gate's `--env`, while an approver reads "production") is refused with
/// one line naming the character, on filing and on amending, and the ledger is unchanged.
#[test]
fn a_look_alike_environment_name_is_refused_and_nothing_is_written() {
    let env = common::team();
    let before = env.fingerprint();
    let mut args = common::request_args("bob", "Revert payments deploy 4411", "low");
    let at = args.iter().position(|a| *a == "production").unwrap();
    args[at] = "pr\u{43e}duction";
    let err = env.fails(&args, 2);
    assert!(err.contains("holds 'о' (U+043E)") && err.contains("look-alike"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(env.fingerprint(), before, "nothing written");
    let req = file_request(&env, "bob", "low");
    let before = env.fingerprint();
    let err =
        env.fails(&["request", "amend", &req, "--env", "st\u{430}ging", "--reason", "wrong env", "--as", "bob"], 2);
    assert!(err.contains("U+0430"), "{err}");
    assert_eq!(env.fingerprint(), before, "nothing written");
}
