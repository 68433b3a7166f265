//! docs/FORMAT.md's worked example is recomputed with the library on every run, so the document and the
//! bytes on disk cannot drift apart.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rollcall::ledger::leaf::Leaf;
use rollcall::ledger::merkle::root_of;
use rollcall::ledger::note::Checkpoint;
use rollcall::ledger::statement::check_statement;
use rollcall::ledger::{Hash, PublicKey, Statement};

fn block(doc: &str, name: &str) -> String {
    let marker = format!("<!-- example:{name} -->");
    let start = doc.find(&marker).unwrap_or_else(|| panic!("FORMAT.md has no {marker}"));
    let rest = &doc[start + marker.len()..];
    let open = rest.find("```\n").expect("code fence") + 4;
    let close = rest[open..].find("```").expect("closing fence") + open;
    rest[open..close].to_string()
}

fn hex32(s: &str) -> Hash {
    Hash::from_hex(s.trim()).expect("64 hex")
}

#[test]
fn worked_example_matches_the_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FORMAT.md")).unwrap();
    let statement = block(&doc, "statement");
    let statement = statement.strip_suffix('\n').unwrap().as_bytes();
    let entry_id = hex32(&block(&doc, "entry-id"));
    let signature = hex::decode(block(&doc, "signature").trim()).unwrap();
    let prev = hex32(&block(&doc, "prev"));
    let leaf_hex = block(&doc, "leaf");
    let leaf_hash = hex32(&block(&doc, "leaf-hash"));
    let root = hex32(&block(&doc, "root"));
    let origin_key = PublicKey::parse(block(&doc, "origin-key").trim()).unwrap();
    let checkpoint = block(&doc, "checkpoint");

    // The genesis: its id is the ledger id, and it is signed under the bare payload type.
    let genesis = block(&doc, "genesis");
    let genesis = genesis.strip_suffix('\n').unwrap().as_bytes();
    let genesis_sig = hex::decode(block(&doc, "genesis-signature").trim()).unwrap();
    let ledger_id = hex32(&block(&doc, "ledger-id"));
    assert_eq!(Hash::of(&[genesis]), ledger_id);
    assert!(doc.contains(&format!("application/vnd.rollcall.statement+json {} {{", genesis.len())));
    let domain = rollcall::ledger::dsse::Domain::of(&ledger_id);
    let g = check_statement(genesis, &genesis_sig, &domain).expect("the genesis verifies");
    assert_eq!(g.kind, "genesis");
    let parsed: Statement = serde_json::from_slice(genesis).unwrap();
    assert_eq!(parsed.canonical_bytes().unwrap(), genesis);
    assert_eq!(Leaf { index: 0, entry_id: ledger_id, prev: Hash([0; 32]) }.hash(), prev);

    assert_eq!(statement.len(), 209);
    assert_eq!(Hash::of(&[statement]), entry_id);
    let head = check_statement(statement, &signature, &domain).expect("signature verifies over the PAE");
    // Bound to this ledger: under another ledger id (or none) it does not verify.
    let other = rollcall::ledger::dsse::Domain::of(&Hash([1; 32]));
    assert!(check_statement(statement, &signature, &other).is_err());
    let pae_type = rollcall::ledger::dsse::payload_type(&ledger_id);
    assert!(doc.contains(&format!("DSSEv1 {} {pae_type} 209 {{", pae_type.len())), "the PAE line names the type");
    assert_eq!(head.kind, "note");
    // Canonical JSON reproduces the stored bytes exactly.
    let parsed: Statement = serde_json::from_slice(statement).unwrap();
    assert_eq!(parsed.canonical_bytes().unwrap(), statement);

    let leaf = Leaf { index: 1, entry_id, prev };
    assert_eq!(hex::encode(leaf.bytes()), leaf_hex.trim());
    assert_eq!(leaf.hash(), leaf_hash);
    assert_eq!(root_of(&[prev, leaf_hash]), root);

    let (cp, _) = Checkpoint::verify(&checkpoint, "example.org/rollcall-demo", &origin_key).unwrap();
    assert_eq!(cp.size, 2);
    assert_eq!(cp.root, root);
}

/// The log of §6.1, built through the library from fixed seeds and times: a genesis and four notes on
/// origin `example.org/five`, in `dir/five.db`.
fn five_leaf_log(dir: &std::path::Path) -> rollcall::ledger::Ledger {
    use chrono::TimeZone;
    use ed25519_dalek::SigningKey;
    use rollcall::identity::genesis::GenesisBody;
    use rollcall::ledger::dsse::Domain;
    let admin = SigningKey::from_bytes(&[1; 32]);
    let origin = SigningKey::from_bytes(&[2; 32]);
    let admin_pk = PublicKey::from_signing(&admin);
    let at = |s: u32| chrono::Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, s).unwrap();
    let genesis = GenesisBody::new(FIVE, &PublicKey::from_signing(&origin), "alice", &admin_pk, "version = 1\n")
        .statement_at(&admin_pk, at(0))
        .sign(&admin, &Domain::genesis_only())
        .unwrap();
    let mut l = rollcall::ledger::Ledger::create(&dir.join("five.db"), FIVE, &origin, &genesis).unwrap();
    let notes: Vec<_> = (1..=4)
        .map(|i| {
            let body = serde_json::json!({ "text": format!("note {i}") });
            Statement::new_at("note", &admin_pk, body, &[], at(i)).sign(&admin, &l.domain()).unwrap()
        })
        .collect();
    l.append(&notes, Some(1), &origin, i64::MAX).unwrap();
    l
}

const FIVE: &str = "example.org/five";

const WITNESS: &str = "example.org/witness";

/// `StoredHashIndex(level, n)` as §3 states it: `level + Σ ⌊m / 2^k⌋` with `m = (n + 1) · 2^level − 1`.
fn stored_hash_index(level: u32, n: u64) -> u64 {
    let m = ((n + 1) << level) - 1;
    (0..64).map(|k| m >> k).sum::<u64>() + level as u64
}

#[test]
fn tree_hashes_and_cosignature_example_match_the_code() {
    use ed25519_dalek::SigningKey;
    use rollcall::ledger::cosign::Cosignature;
    use sha2::{Digest, Sha256};
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FORMAT.md")).unwrap();

    // The keys the seeds give.
    let keys = block(&doc, "five-keys");
    let keys: Vec<Vec<&str>> = keys.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(keys.len(), 3);
    for (seed, (row, name)) in keys.iter().zip(["alice", FIVE, WITNESS]).enumerate() {
        assert_eq!(row[0], name);
        let pk = PublicKey::from_signing(&SigningKey::from_bytes(&[seed as u8 + 1; 32]));
        assert_eq!(row[1], pk.encode(), "{name}");
    }

    // The log as the library writes it, and its rows as stored.
    let dir = tempfile::tempdir().unwrap();
    drop(five_leaf_log(dir.path()));
    let c = rusqlite::Connection::open(dir.path().join("five.db")).unwrap();
    let leaf4: Vec<u8> = c
        .query_row("SELECT e.statement FROM entries e JOIN leaves l ON l.entry_id = e.id WHERE l.idx = 4", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(block(&doc, "five-leaf-4").strip_suffix('\n').unwrap().as_bytes(), &leaf4[..]);
    let mut st = c.prepare("SELECT idx, entry_id, prev FROM leaves ORDER BY idx").unwrap();
    let leaves: Vec<Hash> = st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Vec<u8>>(2)?)))
        .unwrap()
        .map(|r| {
            let (i, id, prev) = r.unwrap();
            let leaf = Leaf {
                index: i as u64,
                entry_id: Hash::from_slice(&id).unwrap(),
                prev: Hash::from_slice(&prev).unwrap(),
            };
            leaf.hash()
        })
        .collect();
    assert_eq!(leaves.len(), 5);
    let mut st = c.prepare("SELECT idx, hash FROM tree_hashes ORDER BY idx").unwrap();
    let stored: Vec<(u64, Hash)> = st
        .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, Hash::from_slice(&r.get::<_, Vec<u8>>(1)?).unwrap())))
        .unwrap()
        .map(Result::unwrap)
        .collect();

    // The table: every stored row, numbered as §3 says, each hash what its subtree hashes to.
    let table = block(&doc, "tree-hashes");
    let mut rows = Vec::new();
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (idx, level, n): (u64, u32, u64) = (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap());
        let hash = hex32(f[f.len() - 1]);
        assert_eq!(stored_hash_index(level, n), idx, "{line}");
        let first = n << level;
        let last = first + (1 << level) - 1;
        let subtree = if level == 0 { format!("leaf {first}") } else { format!("leaves {first}-{last}") };
        assert_eq!(f[3..f.len() - 1].join(" "), subtree, "{line}");
        let want = if level == 0 {
            leaves[n as usize]
        } else {
            let child = |m: u64| rows.iter().find(|r: &&(u32, u64, Hash)| r.0 == level - 1 && r.1 == m).unwrap().2;
            Hash(Sha256::digest([&[1u8][..], &child(2 * n).0, &child(2 * n + 1).0].concat()).into())
        };
        assert_eq!(hash, want, "{line}");
        rows.push((level, n, hash));
    }
    let doc_rows: Vec<(u64, Hash)> = rows.iter().map(|(level, n, h)| (stored_hash_index(*level, *n), *h)).collect();
    assert_eq!(doc_rows, stored, "the table is exactly the stored rows");
    assert_eq!(stored_hash_index(0, 5), stored.len() as u64);

    // The checkpoint: the root of rows 6 and 7, signed by the origin key, as stored.
    let root = Hash(Sha256::digest([&[1u8][..], &rows[6].2.0, &rows[7].2.0].concat()).into());
    assert_eq!(root_of(&leaves), root);
    let note: String = c.query_row("SELECT note FROM checkpoints WHERE size = 5", [], |r| r.get(0)).unwrap();
    assert_eq!(block(&doc, "five-checkpoint"), note);
    let origin_key = PublicKey::parse(keys[1][1]).unwrap();
    let (cp, _) = Checkpoint::verify(&note, FIVE, &origin_key).unwrap();
    assert_eq!((cp.size, cp.root), (5, root));

    // The cosignature, as the importer's code makes it, and its three forms in the document.
    let witness = SigningKey::from_bytes(&[3; 32]);
    let witness_key = PublicKey::from_signing(&witness);
    let time = 1_795_514_400u64;
    let cs = Cosignature::sign(FIVE, 5, &root, WITNESS, &witness, time);
    assert!(cs.verify(&witness_key));
    let message = block(&doc, "cosignature-message");
    assert_eq!(message, format!("cosignature/v1\ntime {time}\n{FIVE}\n5\n{}\n", B64.encode(root.0)));
    assert!(witness_key.verify(message.as_bytes(), &cs.signature), "the key signs the message as written");
    let line = block(&doc, "cosignature-line");
    assert_eq!(line.trim_end(), cs.line());
    assert_eq!(Cosignature::parse_fields(line.trim_end().strip_prefix("cosignature ").unwrap()).unwrap(), cs);
    let cosigned = block(&doc, "cosigned-note");
    assert_eq!(cosigned, format!("{note}{}", cs.note_signature(&witness_key).line()));
    assert!(Checkpoint::verify(&cosigned, FIVE, &origin_key).is_ok(), "the origin's check ignores the witness line");
    let raw = B64.decode(cosigned.lines().last().unwrap().rsplit(' ').next().unwrap()).unwrap();
    let key_id = Sha256::digest([WITNESS.as_bytes(), b"\n", &[0x04], witness_key.as_bytes()].concat());
    assert_eq!(&raw[..4], &key_id[..4]);
    assert_eq!(hex::encode(&raw[..4]), "5ec60926");
    assert_eq!(&raw[4..12], &time.to_be_bytes());
    assert!(doc.contains(&format!("`{}` the time", hex::encode(time.to_be_bytes()))));
    assert_eq!(&raw[12..], &cs.signature);
}
