//! Entry points for fuzzing: one function per parser of outside input, each taking arbitrary bytes and
//! returning nothing. The coverage-guided targets under `fuzz/` call them, and `tests/fuzz_corpus.rs` replays
//! every committed corpus file through them on the stable toolchain, so a crash once found stays fixed.
//! None may panic, loop or allocate without bound on any input.

use crate::ledger::dsse::Domain;
use crate::ledger::{Hash, note, statement};

/// A fuzz target: arbitrary bytes in, nothing out.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory.
pub const TARGETS: [(&str, Target); 10] = [
    ("statement", statement),
    ("bundle", bundle),
    ("signed_note", signed_note),
    ("cosignature", cosignature),
    ("tlog_proof", tlog_proof),
    ("key_file", key_file),
    ("policy", policy),
    ("evidence", evidence),
    ("diff", diff),
    ("record", record),
];

/// Statement bytes: the head parser and the full check (signature under a fixed ledger's domain).
pub fn statement(data: &[u8]) {
    let _ = statement::parse_head(data);
    let _ = statement::check_statement(data, &[0u8; 64], &Domain::of(&Hash([1; 32])));
    if let Some(s) = crate::ledger::SignedStatement::from_parts(data.to_vec(), &[0u8; 64]) {
        let _ = s.statement();
    }
}

/// A bundle file (plain or zstd), read line by line as an import reads it.
pub fn bundle(data: &[u8]) {
    let Ok(mut r) = crate::sync::bundle::Reader::new(std::io::Cursor::new(data.to_vec())) else { return };
    for _ in 0..10_000 {
        match r.next_line() {
            Ok(Some(line)) => {
                let _ = crate::sync::bundle::Record::parse(line);
            }
            _ => break,
        }
    }
}

/// A C2SP signed note and the checkpoint body inside it.
pub fn signed_note(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(n) = note::SignedNote::parse(text) {
        let _ = note::Checkpoint::parse_body(&n.text);
    }
    let _ = note::Checkpoint::parse_body(text);
}

/// A bundle's cosignature fields.
pub fn cosignature(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::ledger::cosign::Cosignature::parse_fields(text);
    }
}

/// A `tlog-proof` or consistency proof file, with the input as the entry too.
pub fn tlog_proof(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::sync::proof::verify_proof(text, Some(data), &[]);
    }
}

/// A key file (parsed only: opening runs the KDF).
pub fn key_file(data: &[u8]) {
    let _ = serde_json::from_slice::<crate::identity::keyfile::KeyFile>(data);
}

/// A policy file.
pub fn policy(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::policy::Policy::parse(text);
    }
}

/// An evidence file, recognized as `evidence.xml`, `.sarif` and `.json` in turn (JUnit, SARIF, OSV, …).
pub fn evidence(data: &[u8]) {
    for name in ["evidence.xml", "evidence.sarif", "evidence.json"] {
        let _ = crate::evidence::recognize::recognize(name, data);
    }
}

/// A unified diff, and the lock-file downgrades found in it.
pub fn diff(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(files) = crate::analysis::diff::parse(text)
    {
        let _ = crate::analysis::lockfiles::downgrades(&files);
    }
}

/// A `request new --from-file` record.
pub fn record(data: &[u8]) {
    if let Ok(r) = crate::audit::record::RequestBody::from_json(data) {
        let _ = r.validate();
    }
}
