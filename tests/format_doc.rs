//! docs/FORMAT.md's worked example is recomputed with the library on every run, so the document and the
//! bytes on disk cannot drift apart.

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
