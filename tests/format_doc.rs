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

    assert_eq!(statement.len(), 209);
    assert_eq!(Hash::of(&[statement]), entry_id);
    let ledger_id = hex32(&block(&doc, "ledger-id"));
    let domain = rollcall::ledger::dsse::Domain::of(&ledger_id);
    let head = check_statement(statement, &signature, &domain).expect("signature verifies over the PAE");
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
