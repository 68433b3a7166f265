//! RFC 9162 (RFC 6962bis) Merkle proofs: building inclusion and consistency proofs from the stored
//! subtree hashes of a log, and verifying them with nothing but the hashes, sizes and roots.

use super::hash::Hash;
use super::merkle::node_hash;

/// Where a proof builder gets the hash of the complete subtree at `level` whose leftmost leaf is
/// `n << level` (a stored hash).
pub(crate) type SubtreeHash<'a, E> = dyn FnMut(u32, u64) -> Result<Hash, E> + 'a;

/// The largest power of two strictly less than `n` (n >= 2).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[lo:hi])` for a range that RFC 9162's recursion produces (lo aligned to the range's split).
fn range_hash<E>(get: &mut SubtreeHash<'_, E>, lo: u64, hi: u64) -> Result<Hash, E> {
    let width = hi - lo;
    if width.is_power_of_two() && lo % width == 0 {
        let level = width.trailing_zeros();
        return get(level, lo >> level);
    }
    let k = split(width);
    let left = range_hash(get, lo, lo + k)?;
    let right = range_hash(get, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The root of the first `size` leaves of a log (the empty root for 0).
pub(crate) fn root_at<E>(get: &mut SubtreeHash<'_, E>, size: u64) -> Result<Hash, E> {
    if size == 0 {
        return Ok(super::merkle::empty_root());
    }
    range_hash(get, 0, size)
}

/// `PATH(index, D[0:size])`: the inclusion proof of leaf `index` in the tree of `size` leaves, leaf
/// sibling first. `index < size` is the caller's to check.
pub(crate) fn inclusion_proof<E>(get: &mut SubtreeHash<'_, E>, index: u64, size: u64) -> Result<Vec<Hash>, E> {
    let mut out = Vec::new();
    path(get, index, 0, size, &mut out)?;
    Ok(out)
}

fn path<E>(get: &mut SubtreeHash<'_, E>, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) -> Result<(), E> {
    let n = hi - lo;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(get, m, lo, lo + k, out)?;
        out.push(range_hash(get, lo + k, hi)?);
    } else {
        path(get, m - k, lo + k, hi, out)?;
        out.push(range_hash(get, lo, lo + k)?);
    }
    Ok(())
}

/// `PROOF(old, D[0:new])`: the consistency proof between the trees of `old` and `new` leaves
/// (`0 < old <= new`; empty when they are equal).
pub(crate) fn consistency_proof<E>(get: &mut SubtreeHash<'_, E>, old: u64, new: u64) -> Result<Vec<Hash>, E> {
    let mut out = Vec::new();
    if old == 0 || old >= new {
        return Ok(out);
    }
    subproof(get, old, 0, new, true, &mut out)?;
    Ok(out)
}

fn subproof<E>(
    get: &mut SubtreeHash<'_, E>,
    m: u64,
    lo: u64,
    hi: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), E> {
    let n = hi - lo;
    if m == n {
        if !whole {
            out.push(range_hash(get, lo, hi)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(get, m, lo, lo + k, whole, out)?;
        out.push(range_hash(get, lo + k, hi)?);
    } else {
        subproof(get, m - k, lo + k, hi, false, out)?;
        out.push(range_hash(get, lo, lo + k)?);
    }
    Ok(())
}

/// Checks an inclusion proof (RFC 9162 §2.1.3.2): that `leaf` is leaf `index` of the tree of `size`
/// leaves whose root is `root`.
pub(crate) fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// Checks a consistency proof (RFC 9162 §2.1.4.2): that the tree of `old` leaves with root `old_root`
/// is a prefix of the tree of `new` leaves with root `new_root`.
pub(crate) fn verify_consistency(old: u64, new: u64, proof: &[Hash], old_root: &Hash, new_root: &Hash) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *old_root && sr == *new_root && sn == 0
}

#[cfg(test)]
mod tests {
    use super::super::merkle::{Frontier, leaf_hash, root_of, stored_hash_index};
    use super::*;

    fn stored(n: u64) -> (Vec<Hash>, Vec<Hash>) {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut f = Frontier::new();
        let mut hashes = Vec::new();
        for l in &leaves {
            hashes.extend(f.push(*l));
        }
        (leaves, hashes)
    }

    fn getter(hashes: &[Hash]) -> impl FnMut(u32, u64) -> Result<Hash, ()> + '_ {
        move |level, n| hashes.get(stored_hash_index(level, n) as usize).copied().ok_or(())
    }

    #[test]
    fn inclusion_proofs_verify_for_every_leaf_and_fail_when_altered() {
        let (leaves, hashes) = stored(40);
        for size in 1..=40u64 {
            let root = root_of(&leaves[..size as usize]);
            assert_eq!(root_at(&mut getter(&hashes), size).unwrap(), root);
            for i in 0..size {
                let proof = inclusion_proof(&mut getter(&hashes), i, size).unwrap();
                assert!(verify_inclusion(&leaves[i as usize], i, size, &proof, &root), "leaf {i} of {size}");
                let other = (i + 1) % size;
                if other != i {
                    assert!(!verify_inclusion(&leaves[i as usize], other, size, &proof, &root));
                }
                if let Some(first) = proof.first() {
                    let mut bad = proof.clone();
                    bad[0] = Hash([first.0[0] ^ 1; 32]);
                    assert!(!verify_inclusion(&leaves[i as usize], i, size, &bad, &root));
                }
            }
        }
    }

    #[test]
    fn consistency_proofs_verify_for_every_pair_and_fail_for_a_fork() {
        let (leaves, hashes) = stored(33);
        for new in 1..=33u64 {
            let new_root = root_of(&leaves[..new as usize]);
            for old in 1..=new {
                let old_root = root_of(&leaves[..old as usize]);
                let proof = consistency_proof(&mut getter(&hashes), old, new).unwrap();
                assert!(verify_consistency(old, new, &proof, &old_root, &new_root), "{old} -> {new}");
                if old < new {
                    let forked = Hash([7; 32]);
                    assert!(!verify_consistency(old, new, &proof, &forked, &new_root), "{old} -> {new} forked");
                    assert!(!verify_consistency(old, new, &proof, &old_root, &forked));
                }
            }
        }
    }

    #[test]
    fn rfc6962_reference_consistency_vector() {
        // transparency-dev/merkle: the 8-leaf tree, consistency 1 -> 8 has three hashes.
        let leaves: Vec<Hash> =
            ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
                .iter()
                .map(|h| leaf_hash(&hex::decode(h).unwrap()))
                .collect();
        let mut f = Frontier::new();
        let mut hashes = Vec::new();
        for l in &leaves {
            hashes.extend(f.push(*l));
        }
        let proof = consistency_proof(&mut getter(&hashes), 1, 8).unwrap();
        assert_eq!(proof.len(), 3);
        assert_eq!(proof[0].to_hex(), "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
        let proof = consistency_proof(&mut getter(&hashes), 6, 8).unwrap();
        assert_eq!(proof.len(), 3);
        assert_eq!(proof[0].to_hex(), "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a");
    }
}
