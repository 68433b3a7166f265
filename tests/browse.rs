//! The console's history pages over the ledger's typed history query: every filter (kind, actor by name,
//! time, request status and environment through the request index) selects exactly the entries a plain
//! walk of the log selects, pages seek both ways without gaps or repeats, and counts agree with pages.

use chrono::{DateTime, Utc};
use rollcall::demo;
use rollcall::workflow::browse::{HistoryFilter, HistoryRow, Page, history_count, history_page};
use rollcall::workflow::clock;

fn fixed_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap().with_timezone(&Utc)
}

/// Every row the filter selects, newest first, walked a page of `limit` at a time from the newest.
fn walk_down(ledger: &rollcall::ledger::Ledger, f: &HistoryFilter, limit: usize) -> Vec<HistoryRow> {
    let mut all: Vec<HistoryRow> = Vec::new();
    let mut page = Page::First;
    loop {
        let rows = history_page(ledger, f, &page, limit).unwrap();
        assert!(rows.len() <= limit);
        assert!(rows.windows(2).all(|w| w[0].index > w[1].index), "a page is newest first");
        let Some(last) = rows.last() else { break };
        page = Page::After(last.index);
        let short = rows.len() < limit;
        all.extend(rows);
        if short {
            break;
        }
    }
    all
}

/// The same rows walked from the oldest page up.
fn walk_up(ledger: &rollcall::ledger::Ledger, f: &HistoryFilter, limit: usize) -> Vec<HistoryRow> {
    let mut all: Vec<HistoryRow> = Vec::new();
    let mut page = Page::Last;
    loop {
        let rows = history_page(ledger, f, &page, limit).unwrap();
        let Some(first) = rows.first() else { break };
        page = Page::Before(first.index);
        let short = rows.len() < limit;
        all.splice(0..0, rows);
        if short {
            break;
        }
    }
    all
}

#[test]
fn history_filters_pages_and_counts_agree() {
    let dir = tempfile::tempdir().unwrap();
    let d = clock::at(fixed_now(), || demo::build(&dir.path().join("demo"), 0, &mut |_| {})).unwrap();
    let ctx = d.context();
    let ledger = ctx.open().unwrap();
    rollcall::workflow::index::refresh(&ledger, fixed_now()).unwrap();
    let everything = walk_down(&ledger, &HistoryFilter::default(), 7);
    assert_eq!(everything.len() as u64, ledger.size(ledger.own_origin()).unwrap());
    let indexes: Vec<u64> = everything.iter().map(|r| r.index).collect();
    let expected: Vec<u64> = (0..everything.len() as u64).rev().collect();
    assert_eq!(indexes, expected, "every entry of the own log once, newest first");

    let approvals = HistoryFilter { kind: Some("approval.granted".into()), ..Default::default() };
    let carol = HistoryFilter { actor: Some("carol".into()), ..Default::default() };
    let since = HistoryFilter { since: Some(everything[everything.len() / 2].ts.clone()), ..Default::default() };
    let production = HistoryFilter { env: Some("production".into()), ..Default::default() };
    let pending = HistoryFilter { status: Some("pending".into()), ..Default::default() };
    let both = HistoryFilter {
        status: Some("pending".into()),
        env: Some("production".into()),
        actor: Some("bob".into()),
        ..Default::default()
    };
    type Must<'a> = &'a dyn Fn(&HistoryRow) -> bool;
    let cases: [(&HistoryFilter, Must); 6] = [
        (&approvals, &|r| r.kind == "approval.granted"),
        (&carol, &|r| r.actor.starts_with("carol")),
        (&since, &|r| r.ts >= everything[everything.len() / 2].ts),
        // Entries of production (pending) requests: the requests and what refers to them, as the index
        // has them; checked against the other environments below.
        (&production, &|_| true),
        (&pending, &|_| true),
        (&both, &|r| r.actor.starts_with("bob")),
    ];
    for (f, must) in cases {
        let down = walk_down(&ledger, f, 5);
        assert!(!down.is_empty(), "{f:?} selects something in the demo");
        assert!(down.len() < everything.len(), "{f:?} leaves something out");
        assert!(down.iter().all(must), "{f:?}");
        let up = walk_up(&ledger, f, 5);
        assert_eq!(
            down.iter().map(|r| r.index).collect::<Vec<_>>(),
            up.iter().map(|r| r.index).collect::<Vec<_>>(),
            "{f:?}: the same rows seeking from either end"
        );
        assert_eq!(history_count(&ledger, f).unwrap(), down.len() as u64, "{f:?}");
    }
    // The status and environment filters narrow by the request index: entries of requests in another
    // environment are left out.
    let prod = walk_down(&ledger, &production, 50);
    let staging = walk_down(&ledger, &HistoryFilter { env: Some("staging".into()), ..Default::default() }, 50);
    assert!(!staging.is_empty());
    assert!(prod.iter().all(|p| staging.iter().all(|s| s.index != p.index)), "no entry is of both environments");
    // Hostile filter text is bound as data, never SQL.
    let hostile = HistoryFilter { env: Some("x') OR 1=1 --".into()), ..Default::default() };
    assert_eq!(history_count(&ledger, &hostile).unwrap(), 0);
    assert!(walk_down(&ledger, &hostile, 5).is_empty());
}

/// The actor filter by key id: the first 12 hex digits of carol's key id select exactly her entries (a
/// prefix several members share is refused: the unit test `an_actor_is_named_once_or_refused`).
#[test]
fn an_actor_key_id_prefix_selects_that_member() {
    let dir = tempfile::tempdir().unwrap();
    let d = clock::at(fixed_now(), || demo::build(&dir.path().join("demo"), 0, &mut |_| {})).unwrap();
    let ledger = d.context().open().unwrap();
    let by_name = walk_down(&ledger, &HistoryFilter { actor: Some("carol".into()), ..Default::default() }, 50);
    // Shown as "carol (KEY ID)".
    let id = by_name[0].actor.strip_prefix("carol (").and_then(|r| r.strip_suffix(')')).unwrap().to_string();
    assert_eq!(id.len(), 16, "{}", by_name[0].actor);
    let by_id = walk_down(&ledger, &HistoryFilter { actor: Some(id[..12].into()), ..Default::default() }, 50);
    assert!(!by_id.is_empty());
    assert_eq!(by_id.iter().map(|r| r.index).collect::<Vec<_>>(), by_name.iter().map(|r| r.index).collect::<Vec<_>>());
}
