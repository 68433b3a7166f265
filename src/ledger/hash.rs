//! The 32-byte SHA-256 digests the ledger is built from: entry ids, leaf hashes, Merkle nodes.

use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 digest. Displayed and serialized as 64 lowercase hex characters.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// SHA-256 of the concatenation of `parts`.
    pub fn of(parts: &[&[u8]]) -> Hash {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        Hash(h.finalize().into())
    }

    pub fn to_hex(&self) -> String {
        // Into a fixed buffer first: `hex::encode` collects a String character by character, and every
        // request's fold writes its revert digest.
        let mut out = [0u8; 64];
        // 64 bytes hold the 32 bytes' hex exactly, so this cannot fail; hex digits are ASCII.
        let _ = hex::encode_to_slice(self.0, &mut out);
        String::from_utf8(out.to_vec()).unwrap_or_default()
    }

    /// Parses exactly 64 hex characters (either case).
    pub fn from_hex(s: &str) -> Option<Hash> {
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Hash(out))
    }

    pub fn from_slice(b: &[u8]) -> Option<Hash> {
        Some(Hash(b.try_into().ok()?))
    }

    /// The first `n` hex characters, for display.
    pub fn short(&self, n: usize) -> String {
        let mut s = self.to_hex();
        s.truncate(n.min(64));
        s
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.short(16))
    }
}

/// An entry id: SHA-256 of a statement's canonical bytes.
pub type EntryId = Hash;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_sha256_known_answer() {
        assert_eq!(Hash::of(&[]).to_hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn hex_round_trip_and_rejects_bad_input() {
        let h = Hash::of(&[b"abc"]);
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()), Some(h));
        assert_eq!(Hash::from_hex("00"), None);
        assert_eq!(Hash::from_hex(&"g".repeat(64)), None);
        assert_eq!(h.short(12).len(), 12);
    }
}
