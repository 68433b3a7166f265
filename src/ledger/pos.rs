//! Positions in the union of logs. Each leaf carries an *effective time*: the later of its statement's
//! time and the previous leaf's effective time, so it never goes backwards within a log. A position is
//! (effective time, origin, index) packed into a `u128`: a total order that every machine holding the
//! same logs computes identically, and that keeps each log's own order.

use super::hash::Hash;

/// The millisecond a new entry is stamped with: `ms` (the clock), or one after `floor` (the latest time its
/// file holds) when the clock is not later. Strictly later than everything the file holds, so the entry's
/// position comes after every entry it has seen: at the same millisecond the origin tags would order it,
/// and an entry stamped ahead within the skew by a log whose tag sorts higher would sort after an entry
/// that had seen it. Every writer stamps with this.
pub(crate) fn stamp_after(ms: i64, floor: i64) -> i64 {
    if floor > 0 && ms <= floor { floor.saturating_add(1) } else { ms }
}

/// A position in the union of logs.
pub(crate) type Pos = u128;

/// A position after every entry ("now").
pub(crate) const POS_MAX: Pos = u128::MAX;

/// A short, stable number for an origin name (the first four bytes of its SHA-256).
pub(crate) fn origin_tag(name: &str) -> u32 {
    let h = Hash::of(&[name.as_bytes()]);
    u32::from_be_bytes([h.0[0], h.0[1], h.0[2], h.0[3]])
}

/// Two of the origin names `names` that share an [`origin_tag`], if any. Positions need every origin's tag
/// to differ: two logs sharing one would give different entries the same position, ordered by whatever
/// order a file stores them in, and make each log look as if it had seen the other's entries up to its own
/// length (a name with a chosen tag takes minutes to find). An import refuses such an origin, and `verify`
/// fails on a ledger holding two.
pub(crate) fn tag_clash<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<(&'a str, &'a str)> {
    let mut seen: std::collections::HashMap<u32, &str> = std::collections::HashMap::new();
    for name in names {
        match seen.insert(origin_tag(name), name) {
            Some(other) if other != name => return Some((other, name)),
            _ => {}
        }
    }
    None
}

/// The own origin of an audit copy (`verify --bundle`, `tui --bundle`): its log is always empty, its key
/// thrown away, so it orders nothing and clashes with nothing; no log of a ledger may take the name.
pub(crate) const AUDIT_ORIGIN: &str = "rollcall/audit-copy";

/// What is wrong with two origins [`tag_clash`] found.
pub(crate) fn clash_problem(a: &str, b: &str) -> String {
    format!(
        "origins {a} and {b} cannot be held together: the first four bytes of the SHA-256 of their names are \
         equal, and positions (FORMAT.md §2.1) need each origin's to differ"
    )
}

/// The position of leaf `index` of `origin` with effective time `ets_ms` (milliseconds since 1970).
pub(crate) fn pos(ets_ms: i64, origin: &str, index: u64) -> Pos {
    pos_tagged(ets_ms, origin_tag(origin), index)
}

/// As [`pos`], with the origin's [`origin_tag`] computed once by the caller (a walk over one log).
pub(crate) fn pos_tagged(ets_ms: i64, tag: u32, index: u64) -> Pos {
    let ets = (ets_ms.max(0) as u128) & ((1u128 << 48) - 1);
    (ets << 80) | ((tag as u128) << 48) | (index as u128 & ((1u128 << 48) - 1))
}

/// The effective time of a position, in milliseconds.
#[cfg(test)]
pub(crate) fn ets_of(p: Pos) -> i64 {
    (p >> 80) as i64
}

/// The origin tag of a position ([`origin_tag`]): positions of one log share it.
pub(crate) fn tag_of(p: Pos) -> u32 {
    (p >> 48) as u32
}

/// The index in its origin's log of a position.
pub(crate) fn index_of(p: Pos) -> u64 {
    (p & ((1u128 << 48) - 1)) as u64
}

/// A position as fixed-width hex text: sorts like the number (for SQL columns and keyset paging).
pub(crate) fn to_key(p: Pos) -> String {
    format!("{p:032x}")
}

/// Reads [`to_key`] text back.
pub(crate) fn from_key(s: &str) -> Option<Pos> {
    if s.len() != 32 {
        return None;
    }
    Pos::from_str_radix(s, 16).ok()
}

/// Milliseconds of an RFC 3339 statement time (0 if it does not parse).
pub(crate) fn ts_ms(ts: &str) -> i64 {
    super::statement::parse_ts(ts).map(|t| t.timestamp_millis()).unwrap_or(0)
}

/// Milliseconds since 1970 as a statement time (RFC 3339 UTC, milliseconds, `Z`).
pub(crate) fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(super::statement::format_ts).unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_new_entry_is_stamped_strictly_after_what_the_file_holds() {
        assert_eq!(stamp_after(1_000, 0), 1_000, "an empty file: the clock");
        assert_eq!(stamp_after(2_000, 1_000), 2_000, "a clock ahead of the file: the clock");
        assert_eq!(stamp_after(1_000, 1_000), 1_001, "the same millisecond: one after");
        assert_eq!(stamp_after(900, 1_000), 1_001, "a clock behind the file: one after it");
        assert_eq!(stamp_after(5, i64::MAX), i64::MAX, "no overflow");
    }

    use super::*;

    #[test]
    fn order_is_time_then_origin_then_index() {
        assert!(pos(1000, "a", 5) < pos(1001, "a", 0));
        assert!(pos(1000, "a", 1) < pos(1000, "a", 2));
        assert_eq!(ets_of(pos(123_456, "x", 9)), 123_456);
        assert_eq!(index_of(pos(123_456, "x", 9)), 9);
        for (a, b) in [(pos(1000, "a", 1), pos(1001, "a", 0)), (pos(5, "b", 3), pos(5, "b", 300))] {
            assert!(to_key(a) < to_key(b));
            assert_eq!(from_key(&to_key(a)), Some(a));
        }
        assert_eq!(from_key("12"), None);
    }

    /// Two names with one tag clash (the same name twice does not), whatever else is held beside them.
    #[test]
    fn names_sharing_a_tag_clash() {
        let (one, two) = ("test.example/c-7117", "test.example/c-47721");
        assert_eq!(origin_tag(one), origin_tag(two));
        assert_eq!(tag_clash(["x", one, "y", two]), Some((one, two)));
        assert_eq!(tag_clash(["x", one, one, "y"]), None);
        assert_eq!(pos(7, one, 3), pos(7, two, 3), "what a clash would do to positions");
    }
}
