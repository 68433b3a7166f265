//! Paged, read-only browsing for the console: the request queue (most urgent first) and the history of
//! entries (newest first), both by keyset so a million rows page as fast as a hundred; full-text search;
//! and one entry in full. Rows come from the request index and the log; nothing here writes.

use super::index::{ROW_COLUMNS, Row};
use crate::ledger::history::{HistoryQuery, Scope, Seek};
use crate::ledger::{EntryId, Hash, Ledger, PublicKey};
use crate::workflow::error::WorkflowError;
use rusqlite::params_from_iter;

/// Where a page starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page<K> {
    First,
    Last,
    After(K),
    Before(K),
}

/// Which requests the queue shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueFilter {
    /// Only this status; `None` = the open ones (pending, approved, emergency, review due, failed: its last
    /// run did not succeed, and it is open again): a rejected or withdrawn request waits on nobody.
    pub status: Option<String>,
    pub all: bool,
    pub env: Option<String>,
    pub tier: Option<String>,
    pub flagged: bool,
    /// The order: most urgent first unless another is picked.
    pub sort: QueueSort,
    /// Only requests whose title, environment, component or status contains this text, or whose id starts
    /// with it (any case).
    pub text: Option<String>,
}

/// How the queue is ordered. Every order ends on the request's position (newest first), so pages are
/// stable; only the default one puts the requests waiting on the signed-in key first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueueSort {
    #[default]
    Urgency,
    Newest,
    Oldest,
    Title,
    Environment,
    Status,
    Risk,
    Requester,
}

impl QueueSort {
    /// Every order, as `<` and `>` step through them.
    pub const ALL: [QueueSort; 8] = [
        QueueSort::Urgency,
        QueueSort::Newest,
        QueueSort::Oldest,
        QueueSort::Title,
        QueueSort::Environment,
        QueueSort::Status,
        QueueSort::Risk,
        QueueSort::Requester,
    ];

    pub fn name(self) -> &'static str {
        match self {
            QueueSort::Urgency => "urgency",
            QueueSort::Newest => "newest",
            QueueSort::Oldest => "oldest",
            QueueSort::Title => "title",
            QueueSort::Environment => "environment",
            QueueSort::Status => "status",
            QueueSort::Risk => "risk",
            QueueSort::Requester => "requester",
        }
    }

    /// How the queue's title bar says it.
    pub fn describe(self) -> &'static str {
        match self {
            QueueSort::Urgency => "most urgent first",
            QueueSort::Newest => "newest first",
            QueueSort::Oldest => "oldest first",
            QueueSort::Title => "by title",
            QueueSort::Environment => "by environment",
            QueueSort::Status => "by status",
            QueueSort::Risk => "highest risk first",
            QueueSort::Requester => "by requester",
        }
    }

    pub fn from_name(name: &str) -> Option<QueueSort> {
        QueueSort::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The next order (`forward`) or the previous one, round.
    pub fn step(self, forward: bool) -> QueueSort {
        let n = QueueSort::ALL.len();
        let i = QueueSort::ALL.iter().position(|s| *s == self).unwrap_or(0);
        QueueSort::ALL[if forward { (i + 1) % n } else { (i + n - 1) % n }]
    }

    /// The SQL expression sorted on and whether it goes ascending; `None` for the log order alone (then
    /// `Oldest` ascends). Constant text only: nothing here comes from the user.
    fn column(self) -> Option<(&'static str, bool)> {
        match self {
            QueueSort::Urgency => Some(("urgency", true)),
            QueueSort::Newest | QueueSort::Oldest => None,
            QueueSort::Title => Some(("title", true)),
            QueueSort::Environment => Some(("env", true)),
            QueueSort::Status => Some(("status", true)),
            QueueSort::Risk => Some((super::index::RISK_RANK, true)),
            QueueSort::Requester => Some(("requester", true)),
        }
    }
}

/// The queue's sort key of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueKey {
    pub urgency: i64,
    pub pos: crate::ledger::Pos,
    /// Its rank among the requests waiting on the signed-in key, which come first.
    pub waiting: Option<u32>,
}

/// A queue row with its key.
#[derive(Clone, Debug)]
pub(crate) struct QueueRow {
    pub key: QueueKey,
    pub row: Row,
}

fn where_clause(f: &QueueFilter, args: &mut Vec<String>) -> String {
    let mut w = String::from("1 = 1");
    match &f.status {
        Some(s) => {
            args.push(s.clone());
            w.push_str(&format!(" AND +status = ?{}", args.len()));
        }
        // The unary `+` keeps SQLite on the sort index (urgency, pos): a LIMITed scan in order beats
        // sorting every matching row.
        None if !f.all => {
            let open = crate::audit::projection::Status::sql_list(&crate::audit::projection::Status::OPEN);
            w.push_str(&format!(" AND +status IN ({open})"))
        }
        None => {}
    }
    if let Some(e) = &f.env {
        args.push(e.trim().to_string());
        w.push_str(&format!(" AND +env = ?{} COLLATE NOCASE", args.len()));
    }
    if let Some(t) = &f.tier {
        args.push(t.clone());
        w.push_str(&format!(" AND +tier = ?{}", args.len()));
    }
    if f.flagged {
        // Without `+`: the flagged requests have an index of their own (`request_index_flagged`, most urgent
        // first), and are few, so reading them beats scanning every request in order for them.
        w.push_str(" AND flags > 0");
    }
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        // A bound pattern, its wildcards escaped: the text is matched, never interpreted.
        let escaped = t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        args.push(format!("%{escaped}%"));
        let n = args.len();
        w.push_str(&format!(
            " AND (title LIKE ?{n} ESCAPE '\\' OR env LIKE ?{n} ESCAPE '\\' OR component LIKE ?{n} ESCAPE '\\' \
             OR status LIKE ?{n} ESCAPE '\\'"
        ));
        // An id is matched by its start, as ids are shown and typed: a range of the blob, compared in place
        // (writing every id out in hex to match it anywhere was half of a filter's time on 660,000 requests).
        if let Some((lo, hi)) = id_start_range(t) {
            args.push(lo);
            w.push_str(&format!(" OR (id >= unhex(?{})", args.len()));
            if let Some(hi) = hi {
                args.push(hi);
                w.push_str(&format!(" AND id < unhex(?{})", args.len()));
            }
            w.push(')');
        }
        w.push(')');
    }
    w
}

/// The ids that start with the hex digits `t` (any case), as the bounds `[lo, hi)` of a range of blobs, each
/// in hex of even length (`hi` none when `t` is all `f`: nothing is above). `None` when `t` is not an id's
/// start (not hex digits, or longer than an id).
fn id_start_range(t: &str) -> Option<(String, Option<String>)> {
    if t.is_empty() || t.len() > 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let even = |mut s: String| {
        if s.len() % 2 == 1 {
            s.push('0');
        }
        s
    };
    let lo = t.to_ascii_lowercase();
    // The start one above `t`: its last digit that is not `f` raised by one, the `f`s after it zeroed.
    let mut digits = lo.clone().into_bytes();
    let hi = digits.iter().rposition(|d| *d != b'f').map(|i| {
        digits[i] = if digits[i] == b'9' { b'a' } else { digits[i] + 1 };
        digits[i + 1..].fill(b'0');
        even(String::from_utf8_lossy(&digits).into_owned())
    });
    Some((even(lo), hi))
}

/// A queue row selected as `{ROW_COLUMNS}, urgency`.
fn read_row(r: &rusqlite::Row<'_>, now: chrono::DateTime<chrono::Utc>) -> rusqlite::Result<QueueRow> {
    let row = Row::read(r, now)?;
    // `urgency` follows the 14 columns of ROW_COLUMNS.
    Ok(QueueRow { key: QueueKey { urgency: r.get(14)?, pos: row.pos, waiting: None }, row })
}

/// A page of the queue: first the requests in `waiting` (those waiting on the signed-in key, in that
/// order) that pass the filter, then the others, most urgent first. Under another [`QueueSort`] the order
/// is that sort's alone: a sort the user picked is not reordered.
pub(crate) fn queue_page(
    ledger: &Ledger,
    f: &QueueFilter,
    waiting: &[EntryId],
    page: &Page<QueueKey>,
    limit: usize,
) -> Result<Vec<QueueRow>, WorkflowError> {
    if waiting.is_empty() || f.sort != QueueSort::Urgency {
        return rest_page(ledger, f, &[], page, limit);
    }
    let first = waiting_rows(ledger, f, waiting)?;
    let tail = |rows: &[QueueRow], n: usize| rows[rows.len() - n.min(rows.len())..].to_vec();
    Ok(match page {
        Page::First => {
            let mut rows: Vec<QueueRow> = first.into_iter().take(limit).collect();
            if rows.len() < limit {
                rows.extend(rest_page(ledger, f, waiting, &Page::First, limit - rows.len())?);
            }
            rows
        }
        Page::After(QueueKey { waiting: Some(r), .. }) => {
            let mut rows: Vec<QueueRow> = first.into_iter().filter(|q| q.key.waiting > Some(*r)).take(limit).collect();
            if rows.len() < limit {
                rows.extend(rest_page(ledger, f, waiting, &Page::First, limit - rows.len())?);
            }
            rows
        }
        Page::Before(QueueKey { waiting: Some(r), .. }) => {
            let before: Vec<QueueRow> = first.into_iter().filter(|q| q.key.waiting < Some(*r)).collect();
            tail(&before, limit)
        }
        Page::Last | Page::Before(_) | Page::After(_) => {
            let mut rows = rest_page(ledger, f, waiting, page, limit)?;
            if rows.len() < limit && !matches!(page, Page::After(_)) {
                let mut head = tail(&first, limit - rows.len());
                head.append(&mut rows);
                rows = head;
            }
            rows
        }
    })
}

/// Appends `ids` to the bound `values` and returns their placeholders ("?4, ?5, ?6") for an `IN` list.
fn bind_ids(values: &mut Vec<rusqlite::types::Value>, ids: &[EntryId]) -> String {
    let from = values.len();
    values.extend(ids.iter().map(|id| rusqlite::types::Value::Blob(id.0.to_vec())));
    (from + 1..=values.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

/// The rows of `waiting` that pass the filter, in that order, keyed by their rank.
fn waiting_rows(ledger: &Ledger, f: &QueueFilter, waiting: &[EntryId]) -> Result<Vec<QueueRow>, WorkflowError> {
    use rusqlite::types::Value;
    let mut args = Vec::new();
    let w = where_clause(f, &mut args);
    let mut values: Vec<Value> = args.into_iter().map(Value::Text).collect();
    let marks = bind_ids(&mut values, waiting);
    let sql = format!("SELECT {ROW_COLUMNS}, urgency FROM request_index WHERE {w} AND id IN ({marks})");
    let now = crate::workflow::clock::now();
    let mut stmt = ledger.cache_conn().prepare(&sql)?;
    let mut rows =
        stmt.query_map(params_from_iter(values.iter()), |r| read_row(r, now))?.collect::<Result<Vec<_>, _>>()?;
    for q in &mut rows {
        q.key.waiting = waiting.iter().position(|id| *id == q.row.id).map(|r| r as u32);
    }
    rows.sort_by_key(|q| q.key.waiting);
    Ok(rows)
}

/// A page of the queue's requests other than `exclude`, in the filter's order.
fn rest_page(
    ledger: &Ledger,
    f: &QueueFilter,
    exclude: &[EntryId],
    page: &Page<QueueKey>,
    limit: usize,
) -> Result<Vec<QueueRow>, WorkflowError> {
    let (sql, values, reverse) = rest_query(f, exclude, page, limit);
    let now = crate::workflow::clock::now();
    let mut stmt = ledger.cache_conn().prepare_cached(&sql)?;
    let mut rows =
        stmt.query_map(params_from_iter(values.iter()), |r| read_row(r, now))?.collect::<Result<Vec<_>, _>>()?;
    if reverse {
        rows.reverse();
    }
    Ok(rows)
}

/// [`rest_page`]'s query, its arguments, and whether its rows come in reverse.
fn rest_query(
    f: &QueueFilter,
    exclude: &[EntryId],
    page: &Page<QueueKey>,
    limit: usize,
) -> (String, Vec<rusqlite::types::Value>, bool) {
    use rusqlite::types::Value;
    let mut args = Vec::new();
    let mut w = where_clause(f, &mut args);
    // Sort order: the sort's column, then the position (newest first); keyset pages compare against the
    // column's value at the key row's position (positions are unique).
    // Only the flagged (few): read through their own index and sorted, not found by scanning every request
    // in the order's index (`+` keeps SQLite off the order's index, here and in the keyset conditions).
    let p = if f.flagged { "+" } else { "" };
    let (forward, backward) = match f.sort.column() {
        None if f.sort == QueueSort::Oldest => (format!("{p}pos ASC"), format!("{p}pos DESC")),
        None => (format!("{p}pos DESC"), format!("{p}pos ASC")),
        Some((c, asc)) => {
            let (d, r) = if asc { ("ASC", "DESC") } else { ("DESC", "ASC") };
            (format!("{p}{c} {d}, {p}pos DESC"), format!("{p}{c} {r}, {p}pos ASC"))
        }
    };
    // Whether a row comes after (`later`) or before the key row at `?{b}`, in the forward order.
    let beyond = |b: usize, later: bool| -> String {
        match f.sort.column() {
            None => {
                let newer_first = f.sort != QueueSort::Oldest;
                let op = if later == newer_first { "<" } else { ">" };
                format!(" AND {p}pos {op} ?{b}")
            }
            Some((c, asc)) => {
                let v = format!("(SELECT {c} FROM request_index WHERE pos = ?{b})");
                let (op, tie) = match (later, asc) {
                    (true, true) => (">", "<"),
                    (true, false) => ("<", "<"),
                    (false, true) => ("<", ">"),
                    (false, false) => (">", ">"),
                };
                format!(" AND ({p}{c} {op} {v} OR ({p}{c} = {v} AND {p}pos {tie} ?{b}))")
            }
        }
    };
    let (order, reverse) = match page {
        Page::First => (forward, false),
        Page::Last => (backward, true),
        Page::After(k) => {
            args.push(crate::ledger::pos::to_key(k.pos));
            w.push_str(&beyond(args.len(), true));
            (forward, false)
        }
        Page::Before(k) => {
            args.push(crate::ledger::pos::to_key(k.pos));
            w.push_str(&beyond(args.len(), false));
            (backward, true)
        }
    };
    let mut values: Vec<Value> = args.into_iter().map(Value::Text).collect();
    if !exclude.is_empty() {
        let marks = bind_ids(&mut values, exclude);
        w.push_str(&format!(" AND id NOT IN ({marks})"));
    }
    (
        format!("SELECT {ROW_COLUMNS}, urgency FROM request_index WHERE {w} ORDER BY {order} LIMIT {limit}"),
        values,
        reverse,
    )
}

/// How many requests match the queue filter.
pub fn queue_count(ledger: &Ledger, f: &QueueFilter) -> Result<u64, WorkflowError> {
    let mut args = Vec::new();
    let w = where_clause(f, &mut args);
    let n: i64 = ledger.cache_conn().query_row(
        &format!("SELECT COUNT(*) FROM request_index WHERE {w}"),
        params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// Which entries the history shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    pub kind: Option<String>,
    /// An actor's enrolled name or key id.
    pub actor: Option<String>,
    /// RFC 3339 bounds on the entry time.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Only entries of requests with this status / environment.
    pub status: Option<String>,
    pub env: Option<String>,
    /// Whose log: an origin's name. `None`: this ledger's own log, or, when it holds no entries (a bundle's
    /// audit copy, a machine that only imported), the largest log held (see [`history_origin`]).
    pub origin: Option<String>,
}

/// One history line (text is untrusted; the console sanitizes it).
#[derive(Clone, Debug)]
pub struct HistoryRow {
    pub index: u64,
    pub id: EntryId,
    pub kind: String,
    pub actor: String,
    pub ts: String,
    /// The request it belongs to (its title), when it belongs to one.
    pub request: Option<(EntryId, String)>,
}

/// The ledger's history query for `f`: the actor by name or key id, the status and environment as the
/// requests the request index holds with them.
fn history_query(f: &HistoryFilter, ledger: &Ledger) -> Result<HistoryQuery, WorkflowError> {
    let actor = match &f.actor {
        Some(a) => {
            let roster = crate::identity::Roster::from_ledger(ledger)?;
            let members: Vec<(&str, &PublicKey)> = roster.members().map(|m| (m.name.as_str(), &m.key)).collect();
            Some(actor_key(&members, a)?)
        }
        None => None,
    };
    let scope =
        if f.status.is_some() || f.env.is_some() { Some(history_scope(f, ledger, SCOPE_LIST_MAX)?) } else { None };
    Ok(HistoryQuery { kind: f.kind.clone(), actor, since: f.since.clone(), until: f.until.clone(), scope })
}

/// The key the actor filter `a` names among `members` (name and key): the member of that name, else the
/// member whose key id starts with it, else `a` as given (an encoded key). A name or a prefix that several
/// members share is refused, naming them: picking one would show one member's history as another's.
fn actor_key(members: &[(&str, &PublicKey)], a: &str) -> Result<String, WorkflowError> {
    let named: Vec<_> = members.iter().filter(|(n, _)| *n == a).collect();
    let found = if named.is_empty() {
        members.iter().filter(|(_, k)| !a.is_empty() && k.key_id().starts_with(a)).collect()
    } else {
        named
    };
    match found.as_slice() {
        [] => Ok(a.to_string()),
        [(_, k)] => Ok(k.encode()),
        several => Err(WorkflowError::Usage(format!(
            "\"{}\" names {} members ({}): give more of a key id",
            crate::text::safe(a),
            several.len(),
            several
                .iter()
                .map(|(n, k)| format!("{} {}", crate::text::safe(n), k.key_id()))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Up to this many requests in scope are handed to the history query as a list; more, as a test.
const SCOPE_LIST_MAX: usize = 256;

/// The requests of the filter's status and environment, as the request index has them: as a list when
/// they are few (they then match sparsely, and each entry is probed against the list), else as a test of
/// each entry by the index's primary key (`+` keeps SQLite off the status and environment indexes).
fn history_scope(f: &HistoryFilter, ledger: &Ledger, list_max: usize) -> Result<Scope, WorkflowError> {
    let (mut conds, mut args) = (String::new(), Vec::new());
    for (value, column) in [(&f.status, "status"), (&f.env, "env")] {
        if let Some(v) = value {
            args.push(v.trim().to_string());
            // An environment is one without ASCII case (`same_env`).
            let nocase = if column == "env" { " COLLATE NOCASE" } else { "" };
            conds.push_str(&format!(" AND {column} = ?{nocase}"));
        }
    }
    let sql =
        format!("SELECT id FROM request_index WHERE 1 = 1{conds} LIMIT {}", list_max.min(i64::MAX as usize - 1) + 1);
    let mut stmt = ledger.cache_conn().prepare(&sql)?;
    let ids = stmt
        .query_map(params_from_iter(args.iter()), |r| r.get::<_, Vec<u8>>(0))?
        .map(|b| b.map(|b| Hash::from_slice(&b).unwrap_or(Hash([0; 32]))))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.len() <= list_max {
        return Ok(Scope::Ids(ids));
    }
    let test = format!("SELECT 1 FROM request_index WHERE id = {{id}}{}", conds.replace(" AND ", " AND +"));
    Ok(Scope::Matching(test, args))
}

fn request_title(ledger: &Ledger, id: &EntryId) -> Option<String> {
    ledger.cache_conn().query_row("SELECT title FROM request_index WHERE id = ?1", [id.0], |r| r.get(0)).ok()
}

/// A page of the history, newest first (keyed by log index).
pub fn history_page(
    ledger: &Ledger,
    f: &HistoryFilter,
    page: &Page<u64>,
    limit: usize,
) -> Result<Vec<HistoryRow>, WorkflowError> {
    let mut scan = HistoryPage::start(ledger, f, page, limit)?;
    loop {
        if let Some(rows) = scan.step(ledger, u64::MAX)? {
            return Ok(rows);
        }
    }
}

/// A history page taken a slice of the log at a time ([`HistoryPage::step`]): a filter that few entries
/// match reads the whole log to fill a page (seconds on a million entries), and the console's read worker
/// answers other requests between the slices. A page whose rows are dense is found in the first slice, as
/// fast as at once; a short list of requests in scope is one step (it probes the list, not the log).
pub struct HistoryPage {
    origin: crate::ledger::Origin,
    query: HistoryQuery,
    /// Newest first (`Seek::Below`) or oldest first (`Seek::Above`), and the log's indexes not yet read on
    /// that side: below `next` going down, from `next` up to `end` going up.
    down: bool,
    next: u64,
    end: u64,
    limit: usize,
    /// Found so far, in the order read.
    items: Vec<crate::ledger::history::HistoryItem>,
}

impl HistoryPage {
    /// The page `page` of at most `limit` rows of what `f` shows, nothing read yet.
    pub fn start(
        ledger: &Ledger,
        f: &HistoryFilter,
        page: &Page<u64>,
        limit: usize,
    ) -> Result<HistoryPage, WorkflowError> {
        let origin = history_origin(ledger, f)?;
        let size = ledger.size(&origin)?;
        let (down, next) = match page {
            Page::First => (true, size),
            Page::After(i) => (true, (*i).min(size)),
            Page::Last => (false, 0),
            Page::Before(i) => (false, i.saturating_add(1)),
        };
        let query = history_query(f, ledger)?;
        Ok(HistoryPage { origin, query, down, next, end: size, limit, items: Vec::new() })
    }

    /// Reads up to `at_most` more of the log's entries; once the page is full or the log read to its end,
    /// its rows, newest first.
    pub fn step(&mut self, ledger: &Ledger, at_most: u64) -> Result<Option<Vec<HistoryRow>>, WorkflowError> {
        let (origin, q, want) = (&self.origin, &self.query, self.limit - self.items.len());
        let mut found = if matches!(q.scope, Some(Scope::Ids(_))) {
            // A short list is probed, not the log: all that is left at once.
            let seek = match (self.down, self.next) {
                (true, next) => Seek::Below(next),
                (false, 0) => Seek::Oldest,
                (false, next) => Seek::Above(next - 1),
            };
            self.next = if self.down { 0 } else { self.end };
            ledger.history_page_in(origin, q, seek, want, 0..u64::MAX)?
        } else if self.down {
            let lo = self.next.saturating_sub(at_most.max(1));
            let found = ledger.history_page_in(origin, q, Seek::Newest, want, lo..self.next)?;
            self.next = lo;
            found
        } else {
            let hi = self.next.saturating_add(at_most.max(1)).min(self.end);
            let found = ledger.history_page_in(origin, q, Seek::Oldest, want, self.next..hi)?;
            self.next = hi;
            found
        };
        // The ledger gives each slice newest first; the page is gathered in the order read.
        if !self.down {
            found.reverse();
        }
        self.items.extend(found);
        let read_out = if self.down { self.next == 0 } else { self.next >= self.end };
        if self.items.len() < self.limit && !read_out {
            return Ok(None);
        }
        let mut items = std::mem::take(&mut self.items);
        if !self.down {
            items.reverse();
        }
        rows_of(ledger, items).map(Some)
    }
}

/// History rows from the ledger's items: the actor by name, the request with its title, a statement no
/// reader can parse shown as such.
fn rows_of(ledger: &Ledger, items: Vec<crate::ledger::history::HistoryItem>) -> Result<Vec<HistoryRow>, WorkflowError> {
    let roster = crate::identity::Roster::from_ledger(ledger)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let id = item.id;
        // The stored kind comes from the statement's head; a statement no reader can parse is shown as
        // what every view makes of it (`fact_of`), not as the kind it claims.
        let kind =
            if super::state::readable(id, item.statement) { item.kind } else { super::state::UNREADABLE.to_string() };
        let actor = PublicKey::parse(&item.actor).map(|k| roster.display(&k)).unwrap_or(item.actor);
        let req = if kind == crate::audit::kinds::REQUESTED { Some(id) } else { item.first_ref };
        let request = req.and_then(|r| request_title(ledger, &r).map(|t| (r, t)));
        out.push(HistoryRow { index: item.index, id, kind, actor, ts: item.ts, request });
    }
    Ok(out)
}

/// How many entries match the history filter.
pub fn history_count(ledger: &Ledger, f: &HistoryFilter) -> Result<u64, WorkflowError> {
    count_in(ledger, f, &history_origin(ledger, f)?)
}

/// Entries a [`HistoryCount`] or [`HistoryPage`] step reads at most: about a tenth of a second of this
/// machine's time where every statement is read (a status filter over a large log), so whoever takes
/// them a step at a time can answer something else within that.
pub const SCAN_STEP: u64 = 16_384;

/// A history count taken a slice of the log at a time, newest first ([`HistoryCount::step`]): a filter
/// that must read every entry takes seconds on a million of them, and the console's read worker answers
/// pages and details between the steps instead of after the whole count. A count the log's size answers,
/// or that probes a short list of requests, is one step.
pub struct HistoryCount {
    origin: crate::ledger::Origin,
    /// `None`: every entry counts (the log's size is the answer).
    query: Option<HistoryQuery>,
    /// Entries below this index are still to be counted.
    below: u64,
    total: u64,
}

impl HistoryCount {
    /// A count of the entries `f` shows, nothing counted yet.
    pub fn start(ledger: &Ledger, f: &HistoryFilter) -> Result<HistoryCount, WorkflowError> {
        let origin = history_origin(ledger, f)?;
        let below = ledger.size(&origin)?;
        let unfiltered = f == &(HistoryFilter { origin: f.origin.clone(), ..HistoryFilter::default() });
        let query = if unfiltered { None } else { Some(history_query(f, ledger)?) };
        Ok(HistoryCount { origin, query, below, total: 0 })
    }

    /// Counts up to `at_most` more entries (a list scope all at once: it probes the list, not the log);
    /// once every entry is counted, the count, the log it is of and every log held (the own one first).
    pub fn step(&mut self, ledger: &Ledger, at_most: u64) -> Result<Option<(u64, String, Vec<String>)>, WorkflowError> {
        match &self.query {
            None => {
                self.total = self.below;
                self.below = 0;
            }
            Some(q) if matches!(q.scope, Some(Scope::Ids(_))) => {
                self.total = ledger.history_count(&self.origin, q)?;
                self.below = 0;
            }
            Some(q) => {
                let from = self.below.saturating_sub(at_most.max(1));
                self.total += ledger.history_count_in(&self.origin, q, from..self.below)?;
                self.below = from;
            }
        }
        if self.below > 0 {
            return Ok(None);
        }
        Ok(Some((self.total, self.origin.name.clone(), log_names(ledger)?)))
    }
}

fn count_in(ledger: &Ledger, f: &HistoryFilter, origin: &crate::ledger::Origin) -> Result<u64, WorkflowError> {
    if f == &(HistoryFilter { origin: f.origin.clone(), ..HistoryFilter::default() }) {
        return Ok(ledger.size(origin)?);
    }
    Ok(ledger.history_count(origin, &history_query(f, ledger)?)?)
}

/// The log the history shows: the one `f` names; else the own log, unless it is empty while another
/// holds entries (a bundle's audit copy, a machine that only imported), then the largest.
pub fn history_origin(ledger: &Ledger, f: &HistoryFilter) -> Result<crate::ledger::Origin, WorkflowError> {
    if let Some(name) = &f.origin {
        return Ok(ledger.origin_by_name(name)?);
    }
    let own = ledger.own_origin().clone();
    if ledger.size(&own)? > 0 {
        return Ok(own);
    }
    let mut best = (0, own);
    for o in ledger.origins()? {
        let n = ledger.size(&o)?;
        if n > best.0 {
            best = (n, o);
        }
    }
    Ok(best.1)
}

/// The names of the logs held, the own one first: what the history can show.
fn log_names(ledger: &Ledger) -> Result<Vec<String>, WorkflowError> {
    let own = ledger.own_origin().name.clone();
    let mut names: Vec<String> = ledger.origins()?.into_iter().map(|o| o.name).filter(|n| *n != own).collect();
    names.insert(0, own);
    Ok(names)
}

/// Entries whose text matches `query` (SQLite FTS5 syntax; plain words are ANDed), best first.
pub fn search(ledger: &Ledger, query: &str, limit: usize) -> Result<Vec<HistoryRow>, WorkflowError> {
    // Quote every word so user input is never FTS syntax; the last one is a prefix, so a word being typed
    // already matches ("fra" finds "fraud").
    let words: Vec<&str> = query.split_whitespace().collect();
    let q: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let quoted = format!("\"{}\"", w.replace('"', "\"\""));
            if i + 1 == words.len() { format!("{quoted}*") } else { quoted }
        })
        .collect();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = ledger
        .cache_conn()
        .prepare_cached("SELECT entry_id FROM search_fts WHERE search_fts MATCH ?1 ORDER BY rank LIMIT ?2")?;
    let ids: Vec<String> =
        stmt.query_map(rusqlite::params![q.join(" "), limit as i64], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let roster = crate::identity::Roster::from_ledger(ledger)?;
    let mut out = Vec::new();
    for id in ids.iter().filter_map(|s| Hash::from_hex(s)) {
        if let Some(row) = ledger.entry(&id)? {
            let f = super::state::fact_of(&row)?;
            let req =
                if f.kind == crate::audit::kinds::REQUESTED { Some(id) } else { super::state::request_named(&f.body) };
            out.push(HistoryRow {
                index: row.index,
                id,
                kind: f.kind,
                actor: roster.display(&f.actor),
                ts: row.ts,
                request: req.and_then(|r| request_title(ledger, &r).map(|t| (r, t))),
            });
        }
    }
    Ok(out)
}

/// Stored bytes shown of an entry no reader can parse.
const UNREADABLE_SHOWN: usize = 4096;

/// One entry in full: its statement as pretty JSON, or, for a statement no reader can parse, why, what its
/// unchecked head claims and the start of its stored bytes (untrusted text: the caller sanitizes it).
pub(crate) fn entry_text(ledger: &Ledger, id: &EntryId) -> Result<String, WorkflowError> {
    let row = ledger.entry(id)?.ok_or_else(|| WorkflowError::NotFound(format!("no entry {}", id.short(12))))?;
    if let Err(e) = row.entry.statement() {
        let bytes = &row.entry.bytes;
        let shown = &bytes[..bytes.len().min(UNREADABLE_SHOWN)];
        return Ok(format!(
            "UNREADABLE ENTRY #{} {}\nits statement cannot be read: {e}\n\
             no view counts it, and `rollcall verify` reports it as an integrity failure\n\n\
             kind   {} (as stored, unchecked)\nactor  {}\ntime   {}\n\n\
             stored statement ({} bytes{}):\n{}",
            row.index,
            row.entry.id.to_hex(),
            row.kind,
            row.actor,
            row.ts,
            bytes.len(),
            if shown.len() < bytes.len() { format!(", the first {UNREADABLE_SHOWN} shown") } else { String::new() },
            String::from_utf8_lossy(shown)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&row.entry.bytes)?;
    Ok(serde_json::to_string_pretty(&v).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The actor filter: a name, else a key-id prefix one member's key id starts with; a name or a prefix
    /// several members share is refused naming each; nothing known passes as given.
    #[test]
    fn an_actor_is_named_once_or_refused() {
        let keys: Vec<PublicKey> =
            (1..=40u8).map(|i| PublicKey::from_signing(&ed25519_dalek::SigningKey::from_bytes(&[i; 32]))).collect();
        let names: Vec<String> = (0..keys.len()).map(|i| format!("m{i}")).collect();
        let mut members: Vec<(&str, &PublicKey)> = names.iter().map(String::as_str).zip(&keys).collect();
        // 40 key ids over 16 first digits: some digit starts two of them.
        let digit = (0..16u32)
            .map(|c| char::from_digit(c, 16).unwrap().to_string())
            .find(|d| keys.iter().filter(|k| k.key_id().starts_with(d.as_str())).count() > 1)
            .unwrap();
        let err = actor_key(&members, &digit).unwrap_err().to_string();
        let sharing: Vec<usize> = (0..keys.len()).filter(|&i| keys[i].key_id().starts_with(&digit)).collect();
        assert!(err.starts_with(&format!("\"{digit}\" names {} members (", sharing.len())), "{err}");
        for i in &sharing {
            assert!(err.contains(&format!("m{i} {}", keys[*i].key_id())), "{err}");
        }
        let id = keys[sharing[0]].key_id();
        assert_eq!(actor_key(&members, &id[..12]).unwrap(), keys[sharing[0]].encode());
        assert_eq!(actor_key(&members, "m3").unwrap(), keys[3].encode());
        assert_eq!(actor_key(&members, "ed25519:00").unwrap(), "ed25519:00");
        // A name two members share is refused too (a name wins over a key id, so "m3" is not a prefix).
        members.push(("m3", &keys[7]));
        assert!(actor_key(&members, "m3").unwrap_err().to_string().starts_with("\"m3\" names 2 members"));
        let hostile = actor_key(&[("\u{1b}[2J", &keys[0]), ("\u{1b}[2J", &keys[1])], "\u{1b}[2J").unwrap_err();
        assert!(!hostile.to_string().contains('\u{1b}'), "{hostile}");
    }

    /// The demo ledger, built at a fixed time, with its request index (and the directory holding it).
    fn demo() -> (tempfile::TempDir, crate::demo::Demo, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let d =
            crate::workflow::clock::at(now, || crate::demo::build(&dir.path().join("demo"), 0, &mut |_| {})).unwrap();
        let ledger = d.context().open().unwrap();
        crate::workflow::index::refresh(&ledger, now).unwrap();
        (dir, d, ledger)
    }

    /// A history filter set by `set`.
    fn filter(set: fn(&mut HistoryFilter)) -> HistoryFilter {
        let mut f = HistoryFilter::default();
        set(&mut f);
        f
    }

    /// Every order of the queue is a scan of an index in that order, for its first and last pages and the
    /// pages after and before a row, with or without a status filter: SQLite sorts no rows (it would sort
    /// every request to show a page of them).
    #[test]
    fn every_queue_order_reads_an_index_in_order() {
        let (_dir, _, ledger) = demo();
        let key = QueueKey { urgency: 0, pos: crate::ledger::pos::pos(1_000, "o", 3), waiting: None };
        for sort in QueueSort::ALL {
            for status in [None, Some("pending".to_string())] {
                for page in [Page::First, Page::Last, Page::After(key), Page::Before(key)] {
                    let f = QueueFilter { sort, status: status.clone(), ..Default::default() };
                    let (sql, values, _) = rest_query(&f, &[], &page, 100);
                    let mut stmt = ledger.cache_conn().prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                    let plan: Vec<String> = stmt
                        .query_map(params_from_iter(values.iter()), |r| r.get::<_, String>(3))
                        .unwrap()
                        .collect::<Result<_, _>>()
                        .unwrap();
                    assert!(
                        plan.iter().all(|p| !p.contains("TEMP B-TREE")),
                        "{sort:?} {status:?} {page:?} sorts its rows: {plan:?}"
                    );
                }
            }
        }
        // Only the flagged, in every order: their own index (then a sort of the few), not a scan of every
        // request for them.
        for sort in QueueSort::ALL {
            for page in [Page::First, Page::Last, Page::After(key), Page::Before(key)] {
                let f = QueueFilter { sort, flagged: true, ..Default::default() };
                let (sql, values, _) = rest_query(&f, &[], &page, 100);
                let mut stmt = ledger.cache_conn().prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                let plan: Vec<String> = stmt
                    .query_map(params_from_iter(values.iter()), |r| r.get(3))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                assert!(plan.iter().any(|p| p.contains("request_index_flagged")), "{sort:?} {page:?}: {plan:?}");
            }
        }
    }

    /// A count taken a slice at a time comes to the whole count, for every filter and slice; a filter
    /// that reads the log takes a step per slice, the log's size and a short list of requests one step.
    #[test]
    fn a_history_count_in_steps_is_the_whole_count() {
        let (_dir, _, ledger) = demo();
        let size = ledger.size(ledger.own_origin()).unwrap();
        let f = filter;
        let filters = [
            (f(|_| {}), false),
            (f(|f| f.kind = Some("approval.granted".into())), true),
            (f(|f| f.actor = Some("carol".into())), true),
            (f(|f| f.since = Some("2026-11-19".into())), true),
            (f(|f| f.status = Some("pending".into())), false),
        ];
        for (filter, scans) in filters {
            let whole = history_count(&ledger, &filter).unwrap();
            assert!(whole > 0 && (whole < size || !scans), "{filter:?} selects some entries: {whole} of {size}");
            for slice in [1, 3, 7, size, u64::MAX] {
                let mut count = HistoryCount::start(&ledger, &filter).unwrap();
                let mut steps = 1;
                let done = loop {
                    match count.step(&ledger, slice).unwrap() {
                        Some(done) => break done,
                        None => steps += 1,
                    }
                };
                assert_eq!(done.0, whole, "{filter:?}, slices of {slice}");
                assert_eq!(done.1, ledger.own_origin().name);
                let expected = if scans { size.div_ceil(slice.min(size)) } else { 1 };
                assert_eq!(steps, expected, "{filter:?}, slices of {slice}");
            }
        }
        // The per-entry form of a status scope (many requests), in steps too.
        let pending = f(|f| f.status = Some("pending".into()));
        let q = HistoryQuery { scope: Some(history_scope(&pending, &ledger, 0).unwrap()), ..Default::default() };
        assert!(matches!(q.scope, Some(Scope::Matching(..))));
        let whole = ledger.history_count(ledger.own_origin(), &q).unwrap();
        assert!(whole > 0, "the demo has pending requests");
        let origin = ledger.own_origin().clone();
        let mut count = HistoryCount { origin, query: Some(q), below: size, total: 0 };
        let mut steps = 1;
        while count.step(&ledger, 5).unwrap().is_none() {
            steps += 1;
        }
        assert_eq!((count.total, steps), (whole, size.div_ceil(5)));
    }

    /// A page taken a slice at a time has the rows the one query for it finds, whatever the filter, the
    /// page, its length and the slice; a page of rows that are dense takes one step.
    #[test]
    fn a_history_page_in_steps_is_the_page_at_once() {
        let (_dir, _, ledger) = demo();
        let own = ledger.own_origin().clone();
        let size = ledger.size(&own).unwrap();
        let mid = size / 2;
        let f = filter;
        let pending = f(|f| f.status = Some("pending".into()));
        let matching = HistoryQuery { scope: Some(history_scope(&pending, &ledger, 0).unwrap()), ..Default::default() };
        let queries = [
            f(|_| {}),
            f(|f| f.kind = Some("approval.granted".into())),
            f(|f| f.actor = Some("carol".into())),
            f(|f| f.until = Some("2026-11-19".into())),
            pending,
        ]
        .map(|filter| history_query(&filter, &ledger).unwrap())
        .into_iter()
        .chain([matching]);
        let mut compared = 0;
        for q in queries {
            for page in [Page::First, Page::Last, Page::After(mid), Page::Before(mid)] {
                let seek = match page {
                    Page::First => Seek::Newest,
                    Page::Last => Seek::Oldest,
                    Page::After(i) => Seek::Below(i),
                    Page::Before(i) => Seek::Above(i),
                };
                for limit in [1, 5, 1000] {
                    let at_once: Vec<u64> =
                        ledger.history_page(&own, &q, seek, limit).unwrap().iter().map(|i| i.index).collect();
                    for slice in [1, 3, 7, u64::MAX] {
                        let mut scan = HistoryPage {
                            origin: own.clone(),
                            query: q.clone(),
                            down: matches!(page, Page::First | Page::After(_)),
                            next: match page {
                                Page::First => size,
                                Page::After(i) => i,
                                Page::Last => 0,
                                Page::Before(i) => i + 1,
                            },
                            end: size,
                            limit,
                            items: Vec::new(),
                        };
                        let mut steps = 1;
                        let rows = loop {
                            match scan.step(&ledger, slice).unwrap() {
                                Some(rows) => break rows,
                                None => steps += 1,
                            }
                        };
                        let in_steps: Vec<u64> = rows.iter().map(|r| r.index).collect();
                        assert_eq!(in_steps, at_once, "{q:?} {page:?} limit {limit}, slices of {slice}");
                        // The entries on the page's side of the log.
                        let side = match page {
                            Page::First | Page::Last => size,
                            Page::After(i) => i,
                            Page::Before(i) => size - i - 1,
                        };
                        if q.kind.is_none() && q.actor.is_none() && q.until.is_none() && q.scope.is_none() {
                            // Every entry shows: the page is read as far as it is long, a slice a step.
                            let read = (limit as u64).min(side);
                            assert_eq!(steps, read.div_ceil(slice).max(1), "{page:?} limit {limit}, slices of {slice}");
                        }
                        if in_steps.len() < limit && !matches!(q.scope, Some(Scope::Ids(_))) {
                            // Not filled: its side of the log was read to the end, a slice a step.
                            assert_eq!(steps, side.div_ceil(slice).max(1), "{q:?} {page:?}, slices of {slice}");
                        }
                        compared += in_steps.len();
                    }
                }
            }
        }
        assert!(compared > 1000, "the pages compared hold rows: {compared}");
        // `start` turns the console's pages into the same scans.
        let all = f(|_| {});
        let first = history_page(&ledger, &all, &Page::First, 3).unwrap();
        assert_eq!(first.iter().map(|r| r.index).collect::<Vec<_>>(), [size - 1, size - 2, size - 3]);
        let last = history_page(&ledger, &all, &Page::Last, 3).unwrap();
        assert_eq!(last.iter().map(|r| r.index).collect::<Vec<_>>(), [2, 1, 0]);
        let before = history_page(&ledger, &all, &Page::Before(4), 2).unwrap();
        assert_eq!(before.iter().map(|r| r.index).collect::<Vec<_>>(), [6, 5]);
        let after = history_page(&ledger, &all, &Page::After(4), 10).unwrap();
        assert_eq!(after.iter().map(|r| r.index).collect::<Vec<_>>(), [3, 2, 1, 0]);
    }

    /// The two forms of a history scope select the same entries: the list of a few requests (probed
    /// against the refs table) and the test of each entry (its refs read from its statement).
    #[test]
    fn a_scope_as_a_list_and_as_a_test_select_the_same_entries() {
        let (_dir, d, ledger) = demo();
        let own = ledger.own_origin().clone();
        let filter = |status: Option<&str>, env: Option<&str>| HistoryFilter {
            status: status.map(str::to_string),
            env: env.map(str::to_string),
            ..Default::default()
        };
        let mut selected = 0;
        for f in [
            filter(Some("pending"), None),
            filter(Some("approved"), None),
            filter(None, Some("production")),
            filter(Some("pending"), Some("production")),
            filter(Some("no such status"), None),
        ] {
            let pages = [usize::MAX, 0].map(|list_max| {
                let scope = history_scope(&f, &ledger, list_max).unwrap();
                // (No request in scope is an empty list whatever the bound.)
                let none = f.status.as_deref() == Some("no such status");
                assert_eq!(matches!(scope, Scope::Ids(_)), list_max > 0 || none, "{f:?}");
                let q = HistoryQuery { scope: Some(scope), ..Default::default() };
                let page = ledger.history_page(&own, &q, Seek::Newest, 10_000).unwrap();
                assert_eq!(ledger.history_count(&own, &q).unwrap(), page.len() as u64, "{f:?}");
                page.into_iter().map(|i| (i.index, i.id)).collect::<Vec<_>>()
            });
            assert_eq!(pages[0], pages[1], "{f:?}");
            selected += pages[0].len();
        }
        assert!(selected > 0, "the filters select entries of the demo");

        // A row written behind the ledger's back whose statement is not JSON (naming a request in scope, if
        // anything read it as text): neither form counts it, and the per-entry test, which reads refs from
        // statements, does not fail the page over it. The unfiltered history still shows it.
        let size = ledger.size(&own).unwrap();
        let stray = Hash([9; 32]);
        let raw = rusqlite::Connection::open(&d.ledger).unwrap();
        let pending = history_scope(&filter(Some("pending"), None), &ledger, usize::MAX).unwrap();
        let Scope::Ids(ids) = &pending else { panic!("the demo's pending requests are few") };
        let text = format!("{{\"refs\":[\"{}\"", ids[0].to_hex());
        raw.execute(
            "INSERT INTO entries (id, statement, signature, kind, actor, ts) VALUES (?1, ?2, ?3, 'note', 'x', '')",
            rusqlite::params![stray.0.to_vec(), text.into_bytes(), vec![0u8; 64]],
        )
        .unwrap();
        raw.execute(
            "INSERT INTO leaves (origin, idx, entry_id, prev, ets) VALUES (?1, ?2, ?3, ?4, 0)",
            rusqlite::params![own.id, size as i64, stray.0.to_vec(), vec![0u8; 32]],
        )
        .unwrap();
        let all = ledger.history_page(&own, &HistoryQuery::default(), Seek::Newest, 1).unwrap();
        assert_eq!(all[0].id, stray, "the stray row is in the log");
        for list_max in [usize::MAX, 0] {
            let q = HistoryQuery {
                scope: Some(history_scope(&filter(Some("pending"), None), &ledger, list_max).unwrap()),
                ..Default::default()
            };
            let page = ledger.history_page(&own, &q, Seek::Newest, 10_000).unwrap();
            assert!(!page.is_empty() && page.iter().all(|i| i.id != stray), "list_max {list_max}");
            assert_eq!(ledger.history_count(&own, &q).unwrap(), page.len() as u64);
        }
    }

    /// The ids a start of hex digits covers, by hand: odd and even lengths, any case, a carry, nothing
    /// above an all-`f` start; text that cannot start an id covers none.
    #[test]
    fn an_id_start_is_a_range_of_ids() {
        let r = |lo: &str, hi: Option<&str>| Some((lo.to_string(), hi.map(str::to_string)));
        assert_eq!(id_start_range("abc"), r("abc0", Some("abd0")));
        assert_eq!(id_start_range("AbF"), r("abf0", Some("ac00")));
        assert_eq!(id_start_range("a9"), r("a9", Some("aa")));
        assert_eq!(id_start_range("9ff"), r("9ff0", Some("a000")));
        assert_eq!(id_start_range("fff"), r("fff0", None));
        assert_eq!(id_start_range(&"f".repeat(64)), r(&"f".repeat(64), None));
        for not in ["", "abg", "ab c", "-1", "é", &"a".repeat(65)] {
            assert_eq!(id_start_range(not), None, "{not:?}");
        }
    }

    /// The queue's text filter against a model of it, on the demo ledger: a request matches when its title,
    /// environment, component or status contains the text (ASCII case aside; `%`, `_` and `\` are text),
    /// or its id starts with it; the count agrees with the pages, in every order.
    #[test]
    fn the_queue_text_filter_matches_words_anywhere_and_ids_by_their_start() {
        let (_dir, _, ledger) = demo();
        let all: Vec<(EntryId, String)> = ledger
            .cache_conn()
            .prepare(
                "SELECT id, title || char(10) || env || char(10) || component || char(10) || status FROM request_index",
            )
            .unwrap()
            .query_map([], |r| Ok((Hash::from_slice(&r.get::<_, Vec<u8>>(0)?).unwrap(), r.get::<_, String>(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(all.len() > 10, "the demo has requests");
        let id = all[3].0.to_hex();
        let word = all[3].1.split_whitespace().nth(1).unwrap().to_string();
        let texts = [
            id[..1].to_string(),
            id[..5].to_uppercase(),
            id[..12].to_string(),
            id.clone(),
            id[20..28].to_string(),
            word.to_uppercase(),
            "pend".into(),
            "staging".into(),
            "%".into(),
            "_".into(),
            "\\".into(),
            "no such text".into(),
        ];
        // The model: the requests of `rows` whose text contains `text`, or whose id starts with it, any case.
        let model = |rows: &[(EntryId, String)], text: &str| -> Vec<EntryId> {
            let lower = text.to_ascii_lowercase();
            let mut want: Vec<EntryId> = rows
                .iter()
                .filter(|(id, t)| t.to_ascii_lowercase().contains(&lower) || id.to_hex().starts_with(&lower))
                .map(|(id, _)| *id)
                .collect();
            want.sort();
            want
        };
        for text in texts {
            let want = model(&all, &text);
            for sort in QueueSort::ALL {
                let f = QueueFilter { sort, all: true, text: Some(text.clone()), ..Default::default() };
                let mut got: Vec<EntryId> = queue_page(&ledger, &f, &[], &Page::First, 100_000)
                    .unwrap()
                    .into_iter()
                    .map(|q| q.row.id)
                    .collect();
                got.sort();
                assert_eq!(got, want, "{text:?} {sort:?}");
                assert_eq!(queue_count(&ledger, &f).unwrap(), want.len() as u64, "{text:?} {sort:?}");
            }
        }
        // With the other filters, the requests waiting on a key first, and pages of three after one another:
        // the bound parameters keep their places, and the pages make up exactly the filter's requests.
        let pending: Vec<(EntryId, String)> = all.iter().filter(|(_, t)| t.ends_with("\npending")).cloned().collect();
        let waiting: Vec<EntryId> = pending.iter().take(4).map(|(id, _)| *id).collect();
        for text in [id[..3].to_string(), "a".to_string(), word.clone()] {
            let want = model(&pending, &text);
            assert!(text != "a" || want.len() > 6, "several pages, waiting requests among them: {want:?}");
            for sort in QueueSort::ALL {
                let f = QueueFilter {
                    sort,
                    status: Some("pending".into()),
                    text: Some(text.clone()),
                    ..Default::default()
                };
                let mut got = Vec::new();
                let mut page = Page::First;
                loop {
                    let rows = queue_page(&ledger, &f, &waiting, &page, 3).unwrap();
                    got.extend(rows.iter().map(|q| q.row.id));
                    match rows.last() {
                        Some(last) if rows.len() == 3 => page = Page::After(last.key),
                        _ => break,
                    }
                }
                let n = got.len();
                got.sort();
                got.dedup();
                assert_eq!((got.len(), &got), (n, &want), "{text:?} {sort:?}: no request twice, none missing");
            }
        }
    }

    /// A text filter is checked in the queue's own index: its count reads that index alone, and the
    /// default order's pages scan it in order without reading every request's row.
    #[test]
    fn the_queue_text_filter_reads_the_queue_index() {
        let (_dir, _, ledger) = demo();
        let plan = |sql: &str, values: &[rusqlite::types::Value]| -> Vec<String> {
            let mut stmt = ledger.cache_conn().prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            stmt.query_map(params_from_iter(values.iter()), |r| r.get(3)).unwrap().collect::<Result<_, _>>().unwrap()
        };
        for text in ["checkout", "ab12"] {
            let f = QueueFilter { text: Some(text.into()), ..Default::default() };
            let mut args = Vec::new();
            let w = where_clause(&f, &mut args);
            let values: Vec<rusqlite::types::Value> = args.into_iter().map(rusqlite::types::Value::Text).collect();
            let count = plan(&format!("SELECT COUNT(*) FROM request_index WHERE {w}"), &values);
            assert!(count.iter().any(|p| p.contains("COVERING INDEX request_index_queue")), "{text}: {count:?}");
            let (sql, values, _) = rest_query(&f, &[], &Page::First, 100);
            let page = plan(&sql, &values);
            assert!(
                page.iter().any(|p| p.contains("request_index_queue"))
                    && page.iter().all(|p| !p.contains("TEMP B-TREE")),
                "{text}: {page:?}"
            );
        }
    }

    proptest::proptest! {
        /// An id is in the range of a start exactly when its hex starts with it (any case), as SQLite
        /// compares blobs (bytes in order, a longer blob above its own start) and slices compare alike.
        #[test]
        fn an_id_is_in_a_starts_range_exactly_when_it_starts_so(
            start in "[0-9a-fA-F]{1,16}[fF]{0,3}",
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 32),
            how in 0u8..3,
            at in proptest::prelude::any::<proptest::sample::Index>(),
            up in proptest::prelude::any::<bool>(),
        ) {
            // An id that shares no start with the text (most random ids), one that starts with it, and one
            // that shares its start up to a digit, then goes its own way (the ids next to the range, on
            // either side).
            let tail_hex: String = tail.iter().map(|b| format!("{b:02x}")).collect();
            let lower = start.to_ascii_lowercase();
            let hex = match how {
                0 => tail_hex,
                1 => (lower.clone() + &tail_hex)[..64].to_string(),
                _ => {
                    // The digit next to the text's own there, above or below (a carry's edge when it is
                    // the last digit before trailing `f`s).
                    let k = at.index(start.len());
                    let own = lower.as_bytes()[k] as char;
                    let own = own.to_digit(16).unwrap();
                    let d = char::from_digit(if up { (own + 1) % 16 } else { (own + 15) % 16 }, 16).unwrap();
                    (format!("{}{d}", &lower[..k]) + &tail_hex)[..64].to_string()
                }
            };
            let id = hex_bytes(&hex);
            let (lo, hi) = id_start_range(&start).unwrap();
            let inside = id.as_slice() >= hex_bytes(&lo).as_slice()
                && hi.is_none_or(|hi| id.as_slice() < hex_bytes(&hi).as_slice());
            proptest::prop_assert_eq!(inside, hex.starts_with(&start.to_ascii_lowercase()));
        }
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }
}
