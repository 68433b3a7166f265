//! The machine's own limit for checking this ledger's signatures, measured in the benchmark's run: the
//! single-core `verify_strict` rate on a sample of the ledger's own statements, and the raw rate of the
//! same checks on every core at once.

use ed25519_dalek::{Signature, VerifyingKey};
use rollcall::ledger::dsse::{pae, payload_type};
use std::time::Instant;

const SAMPLE: i64 = 20_000;

/// (message, signature, key) of up to `SAMPLE` entries of the ledger, as `verify` checks them.
pub fn sample(db: &std::path::Path, ledger_id: &rollcall::ledger::Hash) -> Vec<(Vec<u8>, Signature, VerifyingKey)> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let mut stmt = conn.prepare("SELECT statement, signature, actor FROM entries LIMIT ?1").expect("prepare");
    let rows = stmt
        .query_map([SAMPLE], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?)))
        .expect("query");
    let mut keys = std::collections::HashMap::new();
    let pt = payload_type(ledger_id);
    rows.map(|r| {
        let (statement, signature, actor) = r.expect("row");
        let vk = *keys.entry(actor.clone()).or_insert_with(|| {
            let raw: [u8; 32] = hex::decode(actor.trim_start_matches("ed25519:")).unwrap().try_into().unwrap();
            VerifyingKey::from_bytes(&raw).unwrap()
        });
        (pae(&pt, &statement), Signature::from_slice(&signature).expect("signature"), vk)
    })
    // The genesis entry is signed before the ledger has an id (docs/FORMAT.md): leave it out.
    .filter(|(m, sig, vk)| vk.verify_strict(m, sig).is_ok())
    .collect()
}

pub fn strict_rate(msgs: &[(Vec<u8>, Signature, VerifyingKey)]) -> f64 {
    let t = Instant::now();
    for (m, sig, vk) in msgs {
        vk.verify_strict(m, sig).expect("valid");
    }
    msgs.len() as f64 / t.elapsed().as_secs_f64()
}

pub fn parallel_rate(msgs: &[(Vec<u8>, Signature, VerifyingKey)], cores: usize) -> f64 {
    let t = Instant::now();
    std::thread::scope(|s| {
        for part in msgs.chunks(msgs.len().div_ceil(cores)) {
            s.spawn(move || {
                for (m, sig, vk) in part {
                    vk.verify_strict(m, sig).expect("valid");
                }
            });
        }
    });
    msgs.len() as f64 / t.elapsed().as_secs_f64()
}
