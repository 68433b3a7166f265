//! RFC 6962 Merkle tree hashing over leaf hashes, an incremental frontier for appends and verification,
//! and the dense "stored hash" numbering (Crosby–Wallach post-order, as Go's `sumdb/tlog`) under which the
//! ledger keeps every complete subtree hash.

use super::hash::Hash;

/// `SHA-256(0x00 || leaf bytes)`.
pub(crate) fn leaf_hash(leaf_bytes: &[u8]) -> Hash {
    Hash::of(&[&[0x00], leaf_bytes])
}

/// `SHA-256(0x01 || left || right)`.
pub(crate) fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::of(&[&[0x01], &left.0, &right.0])
}

/// The root of the empty tree: `SHA-256("")`.
pub(crate) fn empty_root() -> Hash {
    Hash::of(&[])
}

/// The RFC 6962 root of a list of leaf hashes, computed by the RFC's recursive definition.
/// Used by tests and small trees; the frontier computes the same value incrementally.
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n as u64) as usize;
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// The largest power of two strictly less than `n` (n >= 2).
fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Index of the hash of the complete subtree at `level` whose leftmost leaf is `n << level`, in the
/// dense numbering where the hashes added by leaf `i` follow those added by leaf `i - 1`.
pub(crate) fn stored_hash_index(level: u32, n: u64) -> u64 {
    let mut n = n;
    for _ in 0..level {
        n = 2 * n + 1;
    }
    let mut i = 0u64;
    let mut m = n;
    while m > 0 {
        i += m;
        m >>= 1;
    }
    i + level as u64
}

/// The compact range `[0, size)`: the roots of the complete subtrees that make up a tree of `size`
/// leaves, left to right, each with its level. At most 64 entries.
#[derive(Clone, Debug, Default)]
pub(crate) struct Frontier {
    size: u64,
    nodes: Vec<(u32, Hash)>,
    /// What the last push completed (reused: a push allocates nothing once it has grown).
    completed: Vec<Hash>,
}

/// The `(level, index at that level)` of each subtree in the frontier of a tree of `size` leaves, left to
/// right. Reading these stored hashes rebuilds the frontier.
pub(crate) fn frontier_positions(size: u64) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    let mut lo = 0u64;
    for level in (0..64u32).rev() {
        let width = 1u64 << level;
        if size - lo >= width {
            out.push((level, lo >> level));
            lo += width;
        }
    }
    out
}

/// Two frontiers are equal when they describe the same tree (whatever their last pushes completed).
impl PartialEq for Frontier {
    fn eq(&self, other: &Frontier) -> bool {
        self.size == other.size && self.nodes == other.nodes
    }
}

impl Eq for Frontier {}

impl Frontier {
    pub(crate) fn new() -> Frontier {
        Frontier::default()
    }

    /// Rebuilds a frontier from the subtree hashes at [`frontier_positions`]`(size)`.
    pub(crate) fn from_parts(size: u64, hashes: Vec<Hash>) -> Option<Frontier> {
        let pos = frontier_positions(size);
        if pos.len() != hashes.len() {
            return None;
        }
        let nodes = pos.iter().map(|p| p.0).zip(hashes).collect();
        Some(Frontier { size, nodes, completed: Vec::new() })
    }

    /// Appends a leaf hash. Returns the hashes this leaf completes, in stored-hash order: the leaf hash
    /// itself, then each newly completed parent; they belong at consecutive stored-hash indices
    /// starting at `stored_hash_index(0, old size)`.
    pub(crate) fn push(&mut self, leaf: Hash) -> &[Hash] {
        self.completed.clear();
        self.completed.push(leaf);
        let mut level = 0u32;
        let mut h = leaf;
        while let Some(&(l, left)) = self.nodes.last() {
            if l != level {
                break;
            }
            self.nodes.pop();
            h = node_hash(&left, &h);
            level += 1;
            self.completed.push(h);
        }
        self.nodes.push((level, h));
        self.size += 1;
        &self.completed
    }

    /// The hashes the last [`Frontier::push`] completed (none before the first).
    pub(crate) fn completed(&self) -> &[Hash] {
        &self.completed
    }

    /// The RFC 6962 root of the leaves pushed so far.
    pub(crate) fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        let Some(&(_, mut h)) = iter.next() else {
            return empty_root();
        };
        for (_, left) in iter {
            h = node_hash(left, &h);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight RFC 6962 test leaves and the roots of each prefix (transparency-dev/merkle, recomputed
    /// in the research notes).
    fn rfc6962_leaves() -> Vec<Vec<u8>> {
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
            .iter()
            .map(|h| hex::decode(h).unwrap())
            .collect()
    }

    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn rfc6962_known_answers_recursive_and_frontier() {
        let leaves: Vec<Hash> = rfc6962_leaves().iter().map(|l| leaf_hash(l)).collect();
        let mut f = Frontier::new();
        assert_eq!(f.root().to_hex(), ROOTS[0]);
        for n in 1..=8 {
            assert_eq!(root_of(&leaves[..n]).to_hex(), ROOTS[n], "recursive root at {n}");
            f.push(leaves[n - 1]);
            assert_eq!(f.root().to_hex(), ROOTS[n], "frontier root at {n}");
        }
    }

    #[test]
    fn stored_hash_indices_match_go_tlog() {
        // Values from golang.org/x/mod/sumdb/tlog's StoredHashIndex.
        assert_eq!(stored_hash_index(0, 0), 0);
        assert_eq!(stored_hash_index(0, 1), 1);
        assert_eq!(stored_hash_index(1, 0), 2);
        assert_eq!(stored_hash_index(0, 2), 3);
        assert_eq!(stored_hash_index(0, 3), 4);
        assert_eq!(stored_hash_index(1, 1), 5);
        assert_eq!(stored_hash_index(2, 0), 6);
        assert_eq!(stored_hash_index(0, 4), 7);
    }

    #[test]
    fn push_returns_consecutive_stored_hashes_and_frontier_rebuilds() {
        let mut f = Frontier::new();
        let mut stored: Vec<Hash> = Vec::new();
        for i in 0..300u64 {
            let h = leaf_hash(&i.to_be_bytes());
            let first = stored_hash_index(0, i);
            assert_eq!(first, stored.len() as u64, "leaf {i} starts where the last ended");
            stored.extend_from_slice(f.push(h));
            // Rebuild from stored hashes at the frontier positions.
            let parts =
                frontier_positions(i + 1).iter().map(|&(l, n)| stored[stored_hash_index(l, n) as usize]).collect();
            let rebuilt = Frontier::from_parts(i + 1, parts).unwrap();
            assert_eq!(rebuilt, f);
        }
    }

    proptest::proptest! {
        #[test]
        fn frontier_root_equals_recursive_root(n in 0usize..200) {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&(i as u64).to_le_bytes())).collect();
            let mut f = Frontier::new();
            for l in &leaves { f.push(*l); }
            proptest::prop_assert_eq!(f.root(), root_of(&leaves));
        }
    }
}
