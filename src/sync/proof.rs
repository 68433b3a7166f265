//! Proof files an auditor checks with nothing else: a C2SP `tlog-proof@v1` that one entry is in an
//! origin's log under a signed (and cosigned) checkpoint, and a consistency proof between two signed
//! checkpoints of one log.

use crate::ledger::cosign::{Cosignature, SIGTYPE_COSIGNATURE};
use crate::ledger::key::PublicKey;
use crate::ledger::note::NoteError;
use crate::ledger::note::{Checkpoint, SignedNote, canonical_u64, note_key_id, parse_verifier_key, verifier_key};
use crate::ledger::statement::{KeyCache, StatementError, check_statement_with};
use crate::ledger::writer::leaf_hash_of;
use crate::ledger::{Hash, Ledger, LedgerError, Origin};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// First line of an inclusion proof.
pub(crate) const TLOG_PROOF: &str = "c2sp.org/tlog-proof@v1";
/// First line of a consistency proof.
pub(crate) const CONSISTENCY_PROOF: &str = "rollcall-consistency/v1";

/// The extra data of a rollcall tlog-proof: what turns the entry's bytes into its leaf, and the keys
/// that signed the checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Extra {
    pub prev: Hash,
    pub signature: [u8; 64],
    pub origin_key: PublicKey,
    /// The ledger the entry's signature is bound to.
    pub ledger: Hash,
    pub witnesses: Vec<(String, PublicKey)>,
}

impl Extra {
    /// `prev (32) || signature (64) || origin key (32) || ledger id (32) || (name length (1) || name || key (32))*`
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&self.prev.0);
        b.extend_from_slice(&self.signature);
        b.extend_from_slice(self.origin_key.as_bytes());
        b.extend_from_slice(&self.ledger.0);
        for (name, key) in &self.witnesses {
            b.push(name.len() as u8);
            b.extend_from_slice(name.as_bytes());
            b.extend_from_slice(key.as_bytes());
        }
        b
    }

    pub(crate) fn decode(b: &[u8]) -> Option<Extra> {
        if b.len() < 160 {
            return None;
        }
        let prev = Hash::from_slice(&b[..32])?;
        let signature: [u8; 64] = b[32..96].try_into().ok()?;
        let origin_key = PublicKey::from_bytes(b[96..128].try_into().ok()?)?;
        let ledger = Hash::from_slice(&b[128..160])?;
        let mut witnesses = Vec::new();
        let mut rest = &b[160..];
        while let Some((&n, tail)) = rest.split_first() {
            let n = n as usize;
            if tail.len() < n + 32 {
                return None;
            }
            let name = std::str::from_utf8(&tail[..n]).ok()?.to_string();
            let key = PublicKey::from_bytes(tail[n..n + 32].try_into().ok()?)?;
            witnesses.push((name, key));
            rest = &tail[n + 32..];
        }
        Some(Extra { prev, signature, origin_key, ledger, witnesses })
    }
}

/// An inclusion proof of one entry, ready to write.
#[derive(Clone, Debug)]
pub(crate) struct EntryProof {
    pub text: String,
    pub statement: Vec<u8>,
    pub origin: String,
    pub index: u64,
    pub size: u64,
    pub witnesses: Vec<String>,
}

/// Builds the tlog-proof of `entry`: its leaf in the log that holds it, under the checkpoint of that log
/// with the most cosignatures held (the latest on a tie).
pub(crate) fn prove_entry(ledger: &Ledger, entry: &crate::ledger::EntryId) -> Result<EntryProof, LedgerError> {
    let row = ledger.entry(entry)?.ok_or_else(|| LedgerError::Damaged(format!("no entry {}", entry.short(16))))?;
    let origin = ledger
        .origins()?
        .into_iter()
        .find(|o| o.id == row.origin)
        .ok_or_else(|| LedgerError::Damaged("origin missing".into()))?;
    let origins = ledger.origins()?;
    let (latest, latest_note) = ledger
        .latest_checkpoint(&origin)?
        .filter(|(size, _)| *size > row.index)
        .ok_or_else(|| LedgerError::Damaged("no signed checkpoint covers this entry yet".into()))?;
    // Candidate sizes: every size cosigned by a known witness, covering the entry, whose note is held.
    let mut by_size: std::collections::BTreeMap<u64, Vec<Cosignature>> = Default::default();
    for c in ledger.cosignatures(Some(&origin))? {
        if c.size > row.index
            && let Some(w) = origins.iter().find(|o| o.name == c.witness)
            && c.verify(&w.key)
        {
            by_size.entry(c.size).or_default().push(c);
        }
    }
    let mut chosen = (latest, latest_note, Vec::new());
    for (size, cos) in by_size.into_iter().rev() {
        if cos.len() > chosen.2.len()
            && let Some(note) = ledger.checkpoint_at(&origin, size)?
        {
            chosen = (size, note, cos);
        }
    }
    let (size, note, cos) = chosen;
    let mut signed = SignedNote::parse(&note)?;
    let mut witnesses = Vec::new();
    for c in &cos {
        if let Some(w) = origins.iter().find(|o| o.name == c.witness) {
            signed.signatures.push(c.note_signature(&w.key));
            witnesses.push((w.name.clone(), w.key));
        }
    }
    let prev = if row.index == 0 { Hash([0; 32]) } else { ledger.leaf_hash(&origin, row.index - 1)? };
    let extra = Extra {
        prev,
        signature: row.entry.signature,
        origin_key: origin.key,
        ledger: ledger.ledger_id(),
        witnesses: witnesses.clone(),
    };
    let path = ledger.inclusion_proof(&origin, row.index, size)?;
    let mut text = format!("{TLOG_PROOF}\nextra {}\nindex {}\n", B64.encode(extra.encode()), row.index);
    for h in &path {
        text.push_str(&B64.encode(h.0));
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&signed.serialize());
    Ok(EntryProof {
        text,
        statement: row.entry.bytes.clone(),
        origin: origin.name.clone(),
        index: row.index,
        size,
        witnesses: witnesses.into_iter().map(|w| w.0).collect(),
    })
}

/// A consistency proof between the checkpoints of `origin` at `old` and its latest.
pub(crate) fn prove_consistency(ledger: &Ledger, origin: &Origin, old: u64) -> Result<(String, u64), LedgerError> {
    let old_note = ledger.checkpoint_at(origin, old)?.ok_or_else(|| {
        LedgerError::Damaged(format!("this ledger holds no signed checkpoint of {} at size {old}", origin.name))
    })?;
    let (new, new_note) =
        ledger.latest_checkpoint(origin)?.ok_or_else(|| LedgerError::Damaged("no checkpoint".into()))?;
    let path = ledger.consistency_proof(origin, old, new)?;
    let mut text = format!(
        "{CONSISTENCY_PROOF}\norigin {}\nold {}\nnew {}\n",
        verifier_key(&origin.name, &origin.key),
        B64.encode(old_note),
        B64.encode(new_note)
    );
    for h in &path {
        text.push_str(&B64.encode(h.0));
        text.push('\n');
    }
    Ok((text, new))
}

/// What checking a proof established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProofVerdict {
    pub origin: String,
    /// The origin key the checkpoint was checked with, as a verifier key.
    pub origin_vkey: String,
    /// Whether that key was given by the caller (trusted), not only read from the proof.
    pub key_trusted: bool,
    pub size: u64,
    /// Inclusion: the entry's index, id, kind and signer.
    pub entry: Option<(u64, Hash, String, String)>,
    /// Consistency: the old size.
    pub old: Option<u64>,
    pub witnesses: Vec<String>,
}

/// Why a proof file does not prove what it claims.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProofError {
    /// The file is not laid out as a proof (which part is missing or malformed).
    #[error("{0}")]
    Malformed(&'static str),
    /// A consistency proof lacks its `old ` or `new ` checkpoint line.
    #[error("no {0}line")]
    MissingLine(&'static str),
    #[error("an inclusion proof needs the entry's bytes (--entry-file)")]
    NoEntry,
    /// The entry's bytes are not a valid statement signed as the proof says.
    #[error("the entry: {0}")]
    Entry(StatementError),
    /// A signed checkpoint in the proof does not parse or verify.
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("--key {0:?} is not a verifier key")]
    BadTrustedKey(String),
    #[error("the proof's key for {0} is not the trusted key given")]
    NotTrustedKey(String),
    #[error("the inclusion proof does not lead from leaf {0} to the checkpoint's root")]
    NotIncluded(u64),
    #[error("the log at size {old} is not a prefix of the log at size {new}")]
    NotConsistent { old: u64, new: u64 },
    #[error("no cosignature by {0}")]
    NoCosignature(String),
    #[error("the cosignature by {0} is malformed")]
    MalformedCosignature(String),
    #[error("the cosignature by {0} does not verify")]
    BadCosignature(String),
}

impl From<&'static str> for ProofError {
    fn from(what: &'static str) -> Self {
        ProofError::Malformed(what)
    }
}

fn trusted_key(name: &str, key: &PublicKey, trusted: &[String]) -> Result<bool, ProofError> {
    let mut pinned = false;
    for t in trusted {
        let (n, k) = parse_verifier_key(t).ok_or_else(|| ProofError::BadTrustedKey(t.clone()))?;
        if n == name {
            if k != *key {
                return Err(ProofError::NotTrustedKey(name.to_string()));
            }
            pinned = true;
        }
    }
    Ok(pinned)
}

/// Checks a proof file's text. `entry` holds the statement bytes for an inclusion proof.
pub(crate) fn verify_proof(text: &str, entry: Option<&[u8]>, trusted: &[String]) -> Result<ProofVerdict, ProofError> {
    if text.starts_with(&format!("{CONSISTENCY_PROOF}\n")) {
        return verify_consistency_text(text, trusted);
    }
    let body = text.strip_prefix(&format!("{TLOG_PROOF}\n")).ok_or("not a tlog-proof or consistency proof")?;
    let (head, note) = body.split_once("\n\n").ok_or("no blank line before the checkpoint")?;
    let mut lines = head.lines();
    let mut line = lines.next().ok_or("the proof is empty")?;
    let mut extra = None;
    if let Some(e) = line.strip_prefix("extra ") {
        extra = Some(B64.decode(e).map_err(|_| "extra is not base64")?);
        line = lines.next().ok_or("no index line")?;
    }
    let index = line.strip_prefix("index ").and_then(canonical_u64).ok_or("bad index line")?;
    let path: Vec<Hash> = lines
        .map(|l| B64.decode(l).ok().and_then(|b| Hash::from_slice(&b)).ok_or("bad proof hash line"))
        .collect::<Result<_, _>>()?;
    let extra =
        Extra::decode(&extra.ok_or("the proof has no rollcall extra data")?).ok_or("the extra data is malformed")?;
    let entry = entry.ok_or(ProofError::NoEntry)?;
    let mut keys = KeyCache::default();
    let head =
        check_statement_with(entry, &extra.signature, &mut keys, &crate::ledger::dsse::Domain::of(&extra.ledger))
            .map_err(ProofError::Entry)?;
    let id = Hash::of(&[entry]);
    let leaf = leaf_hash_of(index, &id, &extra.prev);
    let signed = SignedNote::parse(note)?;
    let cp = Checkpoint::parse_body(&signed.text)?;
    let key_trusted = trusted_key(&cp.origin, &extra.origin_key, trusted)?;
    signed.verify_by(&cp.origin, &extra.origin_key)?;
    if !crate::ledger::proof::verify_inclusion(&leaf, index, cp.size, &path, &cp.root) {
        return Err(ProofError::NotIncluded(index));
    }
    let mut witnesses = Vec::new();
    for (name, key) in &extra.witnesses {
        trusted_key(name, key, trusted)?;
        let id = note_key_id(name, SIGTYPE_COSIGNATURE, key);
        let line = signed
            .signatures
            .iter()
            .find(|s| s.name == *name && s.key_id == id)
            .ok_or_else(|| ProofError::NoCosignature(name.clone()))?;
        let c = Cosignature::from_note_signature(line, &cp.origin, cp.size, &cp.root, key)
            .ok_or_else(|| ProofError::MalformedCosignature(name.clone()))?;
        if !c.verify(key) {
            return Err(ProofError::BadCosignature(name.clone()));
        }
        witnesses.push(name.clone());
    }
    Ok(ProofVerdict {
        origin: cp.origin.clone(),
        origin_vkey: verifier_key(&cp.origin, &extra.origin_key),
        key_trusted,
        size: cp.size,
        entry: Some((index, id, head.kind, head.actor.encode())),
        old: None,
        witnesses,
    })
}

fn verify_consistency_text(text: &str, trusted: &[String]) -> Result<ProofVerdict, ProofError> {
    let mut lines = text.lines().skip(1);
    let vkey = lines.next().and_then(|l| l.strip_prefix("origin ")).ok_or("no origin line")?;
    let (name, key) = parse_verifier_key(vkey).ok_or("the origin's verifier key is not valid")?;
    let key_trusted = trusted_key(&name, &key, trusted)?;
    let mut note = |tag: &'static str| -> Result<Checkpoint, ProofError> {
        let b64 = lines.next().and_then(|l| l.strip_prefix(tag)).ok_or(ProofError::MissingLine(tag))?;
        let note = String::from_utf8(B64.decode(b64).map_err(|_| "a checkpoint is not base64")?)
            .map_err(|_| "a checkpoint is not UTF-8")?;
        Ok(Checkpoint::verify(&note, &name, &key).map(|(c, _)| c)?)
    };
    let old = note("old ")?;
    let new = note("new ")?;
    let path: Vec<Hash> = lines
        .map(|l| B64.decode(l).ok().and_then(|b| Hash::from_slice(&b)).ok_or("bad proof hash line"))
        .collect::<Result<_, _>>()?;
    if !crate::ledger::proof::verify_consistency(old.size, new.size, &path, &old.root, &new.root) {
        return Err(ProofError::NotConsistent { old: old.size, new: new.size });
    }
    Ok(ProofVerdict {
        origin: name.clone(),
        origin_vkey: verifier_key(&name, &key),
        key_trusted,
        size: new.size,
        entry: None,
        old: Some(old.size),
        witnesses: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_round_trips_and_refuses_short_input() {
        let k = PublicKey::from_signing(&ed25519_dalek::SigningKey::from_bytes(&[3; 32]));
        let e = Extra {
            prev: Hash([1; 32]),
            signature: [2; 64],
            origin_key: k,
            ledger: Hash([3; 32]),
            witnesses: vec![("w/x".into(), k)],
        };
        assert_eq!(Extra::decode(&e.encode()), Some(e.clone()));
        assert_eq!(Extra::decode(&e.encode()[..100]), None);
        let mut cut = e.encode();
        cut.pop();
        assert_eq!(Extra::decode(&cut), None);
    }
}
