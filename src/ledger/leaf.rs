//! A log leaf: `{index, entry id, previous leaf hash}` as 72 fixed bytes, hashed as an RFC 6962 leaf.

use super::hash::{EntryId, Hash};
use super::merkle::leaf_hash;

/// Size of a leaf's byte encoding.
pub(crate) const LEAF_LEN: usize = 72;

/// The previous-leaf hash of the first leaf of every log.
pub(crate) const ZERO_PREV: Hash = Hash([0u8; 32]);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    pub index: u64,
    pub entry_id: EntryId,
    pub prev: Hash,
}

impl Leaf {
    /// `index` as a big-endian u64, then the 32-byte entry id, then the 32-byte previous leaf hash.
    pub fn bytes(&self) -> [u8; LEAF_LEN] {
        let mut b = [0u8; LEAF_LEN];
        b[..8].copy_from_slice(&self.index.to_be_bytes());
        b[8..40].copy_from_slice(&self.entry_id.0);
        b[40..].copy_from_slice(&self.prev.0);
        b
    }

    /// `SHA-256(0x00 || bytes)`.
    pub fn hash(&self) -> Hash {
        leaf_hash(&self.bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_fixed() {
        let l = Leaf { index: 0x0102, entry_id: Hash([0xaa; 32]), prev: ZERO_PREV };
        let b = l.bytes();
        assert_eq!(&b[..8], &[0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(&b[8..40], &[0xaa; 32]);
        assert_eq!(&b[40..], &[0; 32]);
        assert_eq!(l.hash(), Hash::of(&[&[0], &b]));
    }
}
