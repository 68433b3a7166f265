//! Causal order across logs: which entries a log had seen when it wrote each of its own. A log records what
//! it has verified of other logs in **merge markers**: a `log.merged` entry signed by the log's origin key
//! (written before the first entry a machine signs after it imported something), and the `seen` member of
//! the `origin.joined` entry that opens a joining machine's log. Each names, for every other origin, the
//! size and Merkle root it had verified. An entry happens after everything its log had seen before it,
//! transitively (vector clocks). Nothing here depends on a timestamp a signer chose.
//!
//! The per-leaf frontier is a cache recomputed from the markers on load: each marker's closed frontier is
//! kept, and a leaf's frontier is that of the last marker at or before it in its log, so `before` costs
//! one binary search.

use super::error::LedgerError;
use super::hash::Hash;
use super::pos::{POS_MAX, Pos, index_of, origin_tag, tag_of};
use super::store::Ledger;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The kind of a merge marker.
pub(crate) const MERGED_KIND: &str = "log.merged";

/// The kind of a log's first entry, which may carry what the joining machine had seen.
pub(crate) const JOINED_KIND: &str = "origin.joined";

/// One origin's prefix that a log had verified: `size` as a decimal string, `root` as 64 hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeenPrefix {
    pub size: String,
    pub root: String,
}

/// What a log had verified of the other origins, by origin name.
pub(crate) type Seen = BTreeMap<String, SeenPrefix>;

/// The body of a `log.merged` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergedBody {
    pub seen: Seen,
}

impl SeenPrefix {
    pub(crate) fn new(size: u64, root: &Hash) -> SeenPrefix {
        SeenPrefix { size: size.to_string(), root: root.to_hex() }
    }

    /// The size, when it is a canonical decimal.
    pub(crate) fn size(&self) -> Option<u64> {
        let n: u64 = self.size.parse().ok()?;
        (n.to_string() == self.size).then_some(n)
    }

    pub(crate) fn root(&self) -> Option<Hash> {
        if self.root.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        Hash::from_hex(&self.root)
    }
}

/// A merge marker as read from a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Marker {
    pub origin: String,
    pub index: u64,
    pub pos: Pos,
    /// Effective time of the marker's leaf (milliseconds).
    pub ets: i64,
    pub seen: Vec<(String, u64, Hash)>,
}

/// The `seen` member of a marker's statement bytes (None when absent or malformed).
pub(crate) fn seen_of(statement: &[u8]) -> Option<Vec<(String, u64, Hash)>> {
    #[derive(Deserialize)]
    struct Outer {
        body: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        seen: Option<Seen>,
    }
    let o: Outer = serde_json::from_slice(statement).ok()?;
    let mut out = Vec::new();
    for (name, p) in o.body.seen? {
        out.push((name, p.size()?, p.root()?));
    }
    Some(out)
}

/// Happens-before over the union of logs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Causality {
    names: Vec<String>,
    /// Each origin's tag (see [`super::pos::origin_tag`]) with its index into `names`, sorted by tag: a
    /// search of a few entries, where hashing the tag cost every decision's check of order a hash.
    by_tag: Vec<(u32, usize)>,
    /// Per origin (by index into `names`): (marker index, closed frontier: size seen of every origin).
    markers: Vec<Vec<(u64, Vec<u64>)>>,
    /// The own log and its size: a position past its end is an entry about to be appended, which follows
    /// a marker covering everything this file holds (the append writes one when the mirrors changed).
    own: Option<(usize, u64)>,
}

impl Causality {
    /// Reads every merge marker of `ledger`. A `log.merged` counts only when signed by its log's origin
    /// key, an `origin.joined` only at index 0; and either only when its row passes the check every
    /// decision makes of a row it relies on ([`super::inclusion::Checker`]: its signature, its stored
    /// columns and position, its inclusion under its log's latest checkpoint), so a marker changed or
    /// added behind the ledger's back orders nothing. `verify` reports markers that do not hold.
    pub(crate) fn load(ledger: &Ledger) -> Result<Causality, LedgerError> {
        let origins = ledger.origins()?;
        let names: Vec<String> = origins.iter().map(|o| o.name.clone()).collect();
        let keys: HashMap<i64, (String, String)> =
            origins.iter().map(|o| (o.id, (o.name.clone(), o.key.encode()))).collect();
        let mut checker = super::inclusion::Checker::new(ledger);
        let mut markers = Vec::new();
        for kind in [MERGED_KIND, JOINED_KIND] {
            for row in ledger.leaves_of_kind(kind)? {
                let Some((name, key)) = keys.get(&row.origin) else { continue };
                let ok = if kind == MERGED_KIND { row.actor == *key } else { row.index == 0 };
                if !ok {
                    continue;
                }
                match checker.check(&row) {
                    Ok(_) => {}
                    Err(super::inclusion::Unchecked::Fails(_)) => continue,
                    Err(super::inclusion::Unchecked::Unreadable(e)) => return Err(e),
                }
                let Some(seen) = seen_of(&row.entry.bytes) else { continue };
                let ets = super::pos::ts_ms(&row.ts);
                markers.push(Marker { origin: name.clone(), index: row.index, pos: row.pos, ets, seen });
            }
        }
        let mut c = Causality::from_markers(names, markers);
        let own = ledger.own_origin();
        if let Some(i) = origins.iter().position(|o| o.id == own.id) {
            c.own = Some((i, ledger.size(own)?));
        }
        Ok(c)
    }

    /// Builds the frontiers of `markers` over the origins `names`. Markers are closed in position order,
    /// which follows causality wherever the time bounds hold; a marker that names a prefix whose own
    /// frontier is not known yet (a file that breaks them) contributes only what it names directly.
    pub(crate) fn from_markers(names: Vec<String>, mut markers: Vec<Marker>) -> Causality {
        // As a map would hold them: the last origin of a tag wins.
        let by_tag: HashMap<u32, usize> = names.iter().enumerate().map(|(i, n)| (origin_tag(n), i)).collect();
        let mut by_tag: Vec<(u32, usize)> = by_tag.into_iter().collect();
        by_tag.sort_unstable();
        let ix: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
        markers.sort_by_key(|m| m.pos);
        let mut c = Causality { names: names.clone(), by_tag, markers: vec![Vec::new(); names.len()], own: None };
        for m in &markers {
            let Some(&o) = ix.get(m.origin.as_str()) else { continue };
            let mut f = c.frontier_of(o, m.index);
            for (name, size, _) in &m.seen {
                let Some(&p) = ix.get(name.as_str()) else { continue };
                if *size == 0 || p == o {
                    continue;
                }
                let theirs = c.frontier_of(p, size - 1);
                for (a, b) in f.iter_mut().zip(theirs) {
                    *a = (*a).max(b);
                }
                f[p] = f[p].max(*size);
            }
            let list = &mut c.markers[o];
            if list.last().is_none_or(|(i, _)| *i < m.index) {
                list.push((m.index, f));
            }
        }
        c
    }

    /// The frontier of leaf `index` of origin `o`: what it had seen of every origin (its own log up to
    /// and including itself).
    fn frontier_of(&self, o: usize, index: u64) -> Vec<u64> {
        let list = &self.markers[o];
        let at = list.partition_point(|(i, _)| *i <= index);
        let mut f = if at == 0 { vec![0; self.names.len()] } else { list[at - 1].1.clone() };
        f[o] = f[o].max(index + 1);
        f
    }

    /// Whether the entry at `a` happened before (or is) the entry at `b`: `b`'s log had seen it. Every
    /// entry happened before [`POS_MAX`] ("now").
    pub(crate) fn before(&self, a: Pos, b: Pos) -> bool {
        if b == POS_MAX {
            return true;
        }
        if a == POS_MAX {
            return false;
        }
        let (ta, tb) = (tag_of(a), tag_of(b));
        let (ia, ib) = (index_of(a), index_of(b));
        if ta == tb {
            return ia <= ib;
        }
        let (Some(oa), Some(ob)) = (self.origin_index(ta), self.origin_index(tb)) else { return false };
        if self.own.is_some_and(|(o, size)| o == ob && ib >= size) {
            return true;
        }
        let list = &self.markers[ob];
        let at = list.partition_point(|(i, _)| *i <= ib);
        at > 0 && list[at - 1].1[oa] > ia
    }

    /// Neither saw the other.
    pub(crate) fn concurrent(&self, a: Pos, b: Pos) -> bool {
        !self.before(a, b) && !self.before(b, a)
    }

    /// The origin name of a position, when known.
    pub(crate) fn origin_of(&self, p: Pos) -> Option<&str> {
        self.origin_index(tag_of(p)).map(|i| self.names[i].as_str())
    }

    /// The index into `names` of the origin tagged `tag`.
    fn origin_index(&self, tag: u32) -> Option<usize> {
        self.by_tag.binary_search_by_key(&tag, |(t, _)| *t).ok().map(|at| self.by_tag[at].1)
    }

    /// `origin #index` of a position, for messages.
    pub(crate) fn describe(&self, p: Pos) -> String {
        match self.origin_of(p) {
            Some(o) => format!("{o} #{}", index_of(p)),
            None => format!("#{}", index_of(p)),
        }
    }
}

/// A cheap check every decision makes before trusting the roster: no log is shorter than a merge marker
/// or a cosignature this file holds says it was (a mirror cut back behind the ledger's back). Only sizes
/// are compared; `verify` checks the roots and signatures too.
pub(crate) fn check_lengths(ledger: &Ledger, c: &Causality) -> Result<(), LedgerError> {
    let origins = ledger.origins()?;
    let held: HashMap<&str, u64> =
        origins.iter().map(|o| Ok((o.name.as_str(), ledger.size(o)?))).collect::<Result<_, LedgerError>>()?;
    let short = |name: &str, size: u64, by: String| -> Result<(), LedgerError> {
        let have = held.get(name).copied().unwrap_or(0);
        if have < size {
            return Err(LedgerError::Damaged(format!(
                "SECURITY: {by} shows {name} at size {size} but this file holds only {have} of its entries \
                 (entries were removed); run `rollcall verify`"
            )));
        }
        Ok(())
    };
    for c in ledger.cosignatures(None)? {
        short(&c.origin, c.size, format!("a cosignature by {}", c.witness))?;
    }
    for (o, list) in c.markers.iter().enumerate() {
        if let Some((idx, f)) = list.last() {
            for (p, size) in f.iter().enumerate() {
                if p != o {
                    short(&c.names[p], *size, format!("the merge marker {} #{idx}", c.names[o]))?;
                }
            }
        }
    }
    Ok(())
}

/// Checks every merge marker of `ledger` against the logs it names: a `log.merged` is signed by its
/// log's origin key; every origin it names is in the file with at least that many leaves (a mirror cut
/// back below what a marker recorded is a rollback); the root at that size is the one named; and the
/// marker is not stamped before the latest entry of any prefix it names. Returns the first problem as
/// (origin, index, problem).
pub(crate) fn check_markers(ledger: &Ledger) -> Result<Option<(String, u64, String)>, LedgerError> {
    let origins = ledger.origins()?;
    let by_id: HashMap<i64, &super::store::Origin> = origins.iter().map(|o| (o.id, o)).collect();
    let by_name: HashMap<&str, &super::store::Origin> = origins.iter().map(|o| (o.name.as_str(), o)).collect();
    let mut stmt = ledger.conn().prepare_cached(
        "SELECT l.origin, l.idx, l.ets, e.statement, e.actor FROM entries e
           CROSS JOIN leaves l ON l.entry_id = e.id WHERE e.kind = ?1 ORDER BY l.origin, l.idx",
    )?;
    for kind in [MERGED_KIND, JOINED_KIND] {
        let mut rows = stmt.query(params![kind])?;
        while let Some(r) = rows.next()? {
            let Some(origin) = by_id.get(&r.get::<_, i64>(0)?) else { continue };
            let index = r.get::<_, i64>(1)? as u64;
            let ets: i64 = r.get(2)?;
            let fail = |p: String| Ok(Some((origin.name.clone(), index, p)));
            if kind == MERGED_KIND && r.get::<_, String>(4)? != origin.key.encode() {
                return fail("a log.merged entry not signed by its log's origin key".into());
            }
            if kind == JOINED_KIND && index != 0 {
                continue;
            }
            let Some(seen) = seen_of(&r.get::<_, Vec<u8>>(3)?) else {
                return fail(format!("the {kind} entry does not say what its log had seen"));
            };
            for (name, size, root) in seen {
                let Some(o) = by_name.get(name.as_str()) else {
                    return fail(format!("it records {name}, which this file does not hold"));
                };
                if o.id == origin.id {
                    return fail("it records its own log".into());
                }
                let held = ledger.size(o)?;
                if held < size {
                    return fail(format!(
                        "SECURITY: it records {name} at size {size} but this file holds only {held} of its \
                         entries: entries were removed"
                    ));
                }
                if size > 0 && ledger.root_at(o, size)? != root {
                    return fail(format!("it records {name} at size {size} with a root that differs from the log's"));
                }
                let last: Option<i64> = if size == 0 {
                    None
                } else {
                    ledger
                        .conn()
                        .query_row(
                            "SELECT ets FROM leaves WHERE origin = ?1 AND idx = ?2",
                            params![o.id, (size - 1) as i64],
                            |r| r.get(0),
                        )
                        .ok()
                };
                if last.is_some_and(|l| l > ets) {
                    return fail(format!(
                        "stamped {}, before the latest entry of {name} it records ({}): time never goes \
                         backwards along causal order",
                        super::pos::format_ms(ets),
                        super::pos::format_ms(last.unwrap_or_default())
                    ));
                }
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::pos::pos;

    fn marker(origin: &str, index: u64, ets: i64, seen: &[(&str, u64)]) -> Marker {
        Marker {
            origin: origin.into(),
            index,
            pos: pos(ets, origin, index),
            ets,
            seen: seen.iter().map(|(n, s)| (n.to_string(), *s, Hash([0; 32]))).collect(),
        }
    }

    #[test]
    fn before_follows_markers_transitively() {
        let names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        // b saw a's first 3 leaves at b#2; c saw b's first 4 leaves at c#0.
        let c =
            Causality::from_markers(names, vec![marker("b", 2, 100, &[("a", 3)]), marker("c", 0, 200, &[("b", 4)])]);
        assert!(c.before(pos(1, "a", 2), pos(101, "b", 2)));
        assert!(!c.before(pos(1, "a", 3), pos(101, "b", 5)));
        assert!(!c.before(pos(1, "a", 0), pos(101, "b", 1)), "b#1 is before the marker");
        assert!(c.before(pos(1, "a", 1), pos(201, "c", 0)), "transitively through b");
        assert!(c.before(pos(1, "b", 3), pos(201, "c", 7)));
        assert!(!c.before(pos(1, "b", 4), pos(201, "c", 7)));
        assert!(c.concurrent(pos(1, "a", 5), pos(201, "c", 7)));
        assert!(c.before(pos(1, "a", 5), pos(1, "a", 6)));
        assert!(c.before(pos(1, "a", 5), POS_MAX));
        assert_eq!(c.describe(pos(1, "b", 9)), "b #9");
    }
}
