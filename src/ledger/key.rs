//! Ed25519 public keys as the ledger writes them (`ed25519:<64 hex>`), their short key ids, and strict
//! signature checking.

use super::hash::Hash;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use std::fmt;

/// The prefix of every actor and key string.
pub(crate) const KEY_PREFIX: &str = "ed25519:";

/// An Ed25519 public key: its 32 bytes, which were checked to be a valid curve point and not a weak key
/// (every way to make one checks). Kept compact because every fact, head and decision carries its actor's
/// key and moves it around: the decompressed point a signature check needs (160 bytes more) is cached
/// per thread instead (see [`PublicKey::verify`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

/// Keys already checked on this thread, by their bytes, with their decompressed point (`None`: not a
/// valid key). Decompressing a point costs about a fifth of a signature check, and a walk over a ledger
/// meets few signers many times.
type Points = std::collections::HashMap<[u8; 32], Option<VerifyingKey>, foldhash::quality::RandomState>;

thread_local! {
    static POINTS: std::cell::RefCell<Points> = std::cell::RefCell::new(Points::default());
}

/// The checked point of `raw` (a valid curve point, not a weak key), from this thread's cache.
fn point(raw: &[u8; 32]) -> Option<VerifyingKey> {
    if let Some(k) = POINTS.with_borrow(|c| c.get(raw).copied()) {
        return k;
    }
    let k = VerifyingKey::from_bytes(raw).ok().filter(|vk| !vk.is_weak());
    POINTS.with_borrow_mut(|c| {
        if c.len() >= 1024 {
            c.clear();
        }
        c.insert(*raw, k);
    });
    k
}

impl PublicKey {
    pub fn from_signing(sk: &SigningKey) -> PublicKey {
        PublicKey(sk.verifying_key().to_bytes())
    }

    /// Parses `ed25519:<64 lowercase hex>`; rejects keys that are not valid curve points and weak keys.
    pub fn parse(s: &str) -> Option<PublicKey> {
        let hex_part = s.strip_prefix(KEY_PREFIX)?;
        if hex_part.len() != 64 || hex_part.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut raw = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut raw).ok()?;
        Self::from_bytes(&raw)
    }

    /// The key of these 32 bytes, when they are a valid curve point and not a weak key.
    pub fn from_bytes(raw: &[u8; 32]) -> Option<PublicKey> {
        point(raw).map(|_| PublicKey(*raw))
    }

    pub fn bytes(&self) -> [u8; 32] {
        self.0
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `ed25519:<64 lowercase hex>`.
    pub fn encode(&self) -> String {
        format!("{KEY_PREFIX}{}", hex::encode(self.0))
    }

    /// The key id people see: the first 16 hex characters of SHA-256 of the 32 key bytes.
    pub fn key_id(&self) -> String {
        Hash::of(&[&self.0]).short(16)
    }

    /// `verify_strict` of a 64-byte signature over `msg`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        // Every key was checked when it was made, so its point is there (from the cache, or again).
        point(&self.0).is_some_and(|vk| vk.verify_strict(msg, &sig).is_ok())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer;

    #[test]
    fn encode_parse_round_trip_and_strictness() {
        let sk = SigningKey::from_bytes(&[7u8; 32]);
        let pk = PublicKey::from_signing(&sk);
        let s = pk.encode();
        assert!(s.starts_with("ed25519:"));
        assert_eq!(PublicKey::parse(&s), Some(pk));
        assert_eq!(PublicKey::parse(&s.to_uppercase()), None);
        assert_eq!(PublicKey::parse(&s[8..]), None);
        assert_eq!(PublicKey::parse("ed25519:00"), None);
        // The identity point is a weak key.
        let mut ident = [0u8; 32];
        ident[0] = 1;
        assert_eq!(PublicKey::from_bytes(&ident), None);
        let sig = sk.sign(b"msg");
        assert!(pk.verify(b"msg", &sig.to_bytes()));
        assert!(!pk.verify(b"msh", &sig.to_bytes()));
        assert!(!pk.verify(b"msg", &sig.to_bytes()[..63]));
        assert_eq!(pk.key_id().len(), 16);
        assert_eq!(pk.bytes(), sk.verifying_key().to_bytes());
    }

    #[test]
    fn a_key_verifies_on_any_thread_and_stays_small() {
        let sk = SigningKey::from_bytes(&[9u8; 32]);
        let pk = PublicKey::from_signing(&sk);
        let sig = sk.sign(b"msg").to_bytes();
        // Made on this thread, checked on another, whose cache of points is empty.
        assert!(std::thread::spawn(move || pk.verify(b"msg", &sig)).join().unwrap());
        assert!(std::thread::spawn(move || !pk.verify(b"other", &sig)).join().unwrap());
        assert_eq!(std::mem::size_of::<PublicKey>(), 32);
    }
}
