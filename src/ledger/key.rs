//! Ed25519 public keys as the ledger writes them (`ed25519:<64 hex>`), their short key ids, and strict
//! signature checking.

use super::hash::Hash;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use std::fmt;

/// The prefix of every actor and key string.
pub(crate) const KEY_PREFIX: &str = "ed25519:";

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(pub VerifyingKey);

impl PublicKey {
    pub fn from_signing(sk: &SigningKey) -> PublicKey {
        PublicKey(sk.verifying_key())
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

    pub fn from_bytes(raw: &[u8; 32]) -> Option<PublicKey> {
        thread_local! {
            /// Keys this thread has already checked: decompressing the curve point costs about a fifth of a
            /// signature check, and a walk over a ledger meets few signers many times.
            static CHECKED: std::cell::RefCell<std::collections::HashMap<[u8; 32], Option<PublicKey>>> =
                Default::default();
        }
        if let Some(k) = CHECKED.with(|c| c.borrow().get(raw).copied()) {
            return k;
        }
        let k = VerifyingKey::from_bytes(raw).ok().filter(|vk| !vk.is_weak()).map(PublicKey);
        CHECKED.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= 1024 {
                c.clear();
            }
            c.insert(*raw, k);
        });
        k
    }

    pub fn bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// `ed25519:<64 lowercase hex>`.
    pub fn encode(&self) -> String {
        format!("{KEY_PREFIX}{}", hex::encode(self.0.as_bytes()))
    }

    /// The key id people see: the first 16 hex characters of SHA-256 of the 32 key bytes.
    pub fn key_id(&self) -> String {
        Hash::of(&[self.0.as_bytes()]).short(16)
    }

    /// `verify_strict` of a 64-byte signature over `msg`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        self.0.verify_strict(msg, &sig).is_ok()
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
    }
}
