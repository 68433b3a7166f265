//! The lists (the queue and the history): loading them in keyset pages around the selection, moving
//! through them by key and mouse, their filters (cycled, or typed into a one-line input) and search results.

use super::super::keymap::Action;
use super::super::model::{HistoryItem, QueueItem};
use super::super::msg::Cmd;
use super::super::state::*;
use super::super::view;
use super::{detail, dialog};
use crate::workflow::browse::{Page, QueueKey, QueueSort};
use ratatui::crossterm::event::{KeyCode, KeyEvent, MouseButton, MouseEventKind};

const STATUS_CYCLE: [Option<&str>; 13] = [
    None,
    Some("pending"),
    Some("approved"),
    Some("rejected"),
    Some("emergency"),
    Some("review-due"),
    Some("executed"),
    Some("failed"),
    Some("validated"),
    Some("reviewed"),
    Some("closed"),
    Some("withdrawn"),
    Some("*all"),
];
const RISK_CYCLE: [Option<&str>; 5] = [None, Some("low"), Some("medium"), Some("high"), Some("critical")];
const KIND_CYCLE: [Option<&str>; 9] = [
    None,
    Some("rollback.requested"),
    Some("approval.granted"),
    Some("approval.rejected"),
    Some("emergency.invoked"),
    Some("rollback.executed"),
    Some("evidence.attached"),
    Some("note"),
    Some("identity.enrolled"),
];

/// Opens a picker over `values`, on the one in force.
fn picker(
    s: &mut AppState,
    title: &'static str,
    values: &[Option<&'static str>],
    current: Option<&str>,
    label: impl Fn(&Option<&'static str>) -> String,
    target: PickTarget,
) -> Vec<Cmd> {
    let options: Vec<(String, Option<&'static str>)> = values.iter().map(|v| (label(v), *v)).collect();
    let selected = values.iter().position(|v| *v == current).unwrap_or(0);
    s.modals.push(Modal::Picker { title, options, selected, target });
    vec![]
}

/// A key in a picker: ↑/↓ (j/k) move, a letter jumps to the next choice starting with it, Enter applies,
/// Esc closes.
pub(super) fn picker_key(s: &mut AppState, k: KeyEvent) -> Vec<Cmd> {
    let Some(Modal::Picker { options, selected, target, .. }) = s.modals.last_mut() else { return vec![] };
    let n = options.len().max(1);
    match k.code {
        KeyCode::Esc => {
            s.modals.pop();
        }
        KeyCode::Down | KeyCode::Char('j') => *selected = (*selected + 1) % n,
        KeyCode::Up | KeyCode::Char('k') => *selected = (*selected + n - 1) % n,
        KeyCode::Enter => {
            let (value, target) = (options.get(*selected).and_then(|o| o.1), *target);
            s.modals.pop();
            return apply_pick(s, target, value);
        }
        KeyCode::Char(c) => {
            let from = *selected + 1;
            if let Some(i) = (0..n).map(|i| (from + i) % n).find(|i| options[*i].0.starts_with(c)) {
                *selected = i;
            }
        }
        _ => {}
    }
    vec![]
}

/// Orders the queue by `sort`, from its first row.
fn set_sort(s: &mut AppState, sort: QueueSort) -> Vec<Cmd> {
    s.queue.rows.clear();
    s.queue_filter.sort = sort;
    s.queue.selected = 0;
    reload_queue(s)
}

fn apply_pick(s: &mut AppState, target: PickTarget, value: Option<&'static str>) -> Vec<Cmd> {
    match target {
        PickTarget::QueueStatus => {
            s.queue_filter.all = value == Some("*all");
            s.queue_filter.status = value.filter(|x| *x != "*all").map(str::to_string);
        }
        PickTarget::QueueRisk => s.queue_filter.tier = value.map(str::to_string),
        PickTarget::QueueSort => return set_sort(s, value.and_then(QueueSort::from_name).unwrap_or_default()),
        PickTarget::HistoryKind => {
            s.history.filter.kind = value.map(str::to_string);
            s.history.list.selected = 0;
            return reload_history(s);
        }
    }
    s.queue.rows.clear();
    s.queue.selected = 0;
    reload_queue(s)
}

/// The queue from its first page, its count, then the alerts above it (asked last: see [`Cmd::Alerts`]).
pub(super) fn reload_queue(s: &mut AppState) -> Vec<Cmd> {
    let generation = s.generation();
    s.queue.generation = generation;
    s.queue.loading = true;
    s.queue.total = None;
    vec![
        Cmd::Queue { generation, filter: s.queue_filter.clone(), page: Page::First, limit: PAGE },
        Cmd::QueueCount { generation, filter: s.queue_filter.clone() },
        Cmd::Alerts,
    ]
}

pub(super) fn reload_history(s: &mut AppState) -> Vec<Cmd> {
    let generation = s.generation();
    let h = &mut s.history;
    h.list.generation = generation;
    h.list.loading = true;
    h.list.total = None;
    h.loaded = true;
    vec![
        Cmd::History { generation, filter: h.filter.clone(), page: Page::First, limit: PAGE },
        Cmd::HistoryCount { generation, filter: h.filter.clone() },
    ]
}

/// Page requests a list needs after its selection moved.
fn queue_paging(s: &mut AppState) -> Vec<Cmd> {
    let q = &mut s.queue;
    let filter = s.queue_filter.clone();
    if q.wants_next() {
        q.loading = true;
        let key = q.rows.last().map(|r| r.key).expect("rows");
        return vec![Cmd::Queue { generation: q.generation, filter, page: Page::After(key), limit: PAGE }];
    }
    if q.wants_prev() {
        q.loading = true;
        let key = q.rows.first().map(|r| r.key).expect("rows");
        return vec![Cmd::Queue { generation: q.generation, filter, page: Page::Before(key), limit: PAGE }];
    }
    vec![]
}

fn history_paging(s: &mut AppState) -> Vec<Cmd> {
    let h = &mut s.history.list;
    let filter = s.history.filter.clone();
    if h.wants_next() {
        h.loading = true;
        let key = h.rows.last().map(|r| r.index).expect("rows");
        return vec![Cmd::History { generation: h.generation, filter, page: Page::After(key), limit: PAGE }];
    }
    if h.wants_prev() {
        h.loading = true;
        let key = h.rows.first().map(|r| r.index).expect("rows");
        return vec![Cmd::History { generation: h.generation, filter, page: Page::Before(key), limit: PAGE }];
    }
    vec![]
}

/// Moves a list: by rows, a page, or to either end (`None` = end, `Some(0)` with `to_top`).
fn navigate<T>(list: &mut Paged<T>, action: Action, viewport: usize) -> Option<Page<()>> {
    let page = viewport.max(1) as isize;
    match action {
        Action::Down => list.move_by(1),
        Action::Up => list.move_by(-1),
        Action::PageDown => list.move_by(page),
        Action::PageUp => list.move_by(-page),
        Action::Top => {
            if list.offset == 0 {
                list.selected = 0;
            } else {
                list.selected = 0;
                list.loading = true;
                return Some(Page::First);
            }
        }
        Action::Bottom => {
            if list.at_end {
                list.selected = (list.offset + list.rows.len()).saturating_sub(1);
            } else {
                list.loading = true;
                list.pending_select_last = true;
                return Some(Page::Last);
            }
        }
        _ => {}
    }
    None
}

fn is_nav(a: Action) -> bool {
    matches!(a, Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom)
}

/// At `now`: the queue's emergencies whose waiver has ended by then show as lapsed. Whether anything
/// changed (to redraw).
pub(super) fn lapse(s: &mut AppState, now: chrono::DateTime<chrono::Utc>) -> bool {
    let mut changed = false;
    let emergency = crate::audit::projection::Status::Emergency.as_str();
    for r in s.queue.rows.iter_mut().filter(|r| r.status == emergency && r.waiver_ends.is_some_and(|t| t <= now)) {
        r.status = super::super::model::LAPSED.into();
        changed = true;
    }
    changed
}

/// A page of the queue arrived (for the current generation): the selection stays on the row it was on.
pub(super) fn queue_page(s: &mut AppState, page: Page<QueueKey>, rows: Vec<QueueItem>) -> Vec<Cmd> {
    let keep = s.queue.current().map(|r| r.id);
    match page {
        Page::First => {
            s.queue.set_first(rows);
            if let Some(id) = keep
                && let Some(i) = s.queue.rows.iter().position(|r| r.id == id)
            {
                s.queue.selected = i;
            }
        }
        Page::Last => s.queue.set_last(rows),
        Page::After(_) => s.queue.append(rows),
        Page::Before(_) => s.queue.prepend(rows),
    }
    queue_paging(s)
}

/// A key on an observed rollback drawn on top of the queue: ↑/↓ move (↓ past the last one returns to the
/// requests), `f` files its post-hoc request (one form), Enter shows the observation, or opens the request
/// that did not clear it.
fn alert_action(s: &mut AppState, i: usize, a: Action) -> Vec<Cmd> {
    let Some(alert) = s.alerts.get(i).cloned() else {
        s.alert_selected = None;
        return vec![];
    };
    match a {
        Action::Up => s.alert_selected = Some(i.saturating_sub(1)),
        Action::Down => s.alert_selected = (i + 1 < s.alerts.len()).then_some(i + 1),
        Action::Top => s.alert_selected = Some(0),
        Action::Bottom | Action::PageDown | Action::Back => s.alert_selected = None,
        Action::PageUp => s.alert_selected = Some(0),
        Action::FilterStatus => return dialog::start_from_observed(s, &alert),
        Action::Open => match &alert.request {
            Some((id, _)) => return detail::open_detail(s, *id),
            None => {
                let lines = observation_lines(&alert);
                s.modals.push(Modal::Viewer {
                    title: format!("Unrecorded rollback — {} {}", alert.source, alert.revision),
                    lines,
                    scroll: 0,
                    pager: None,
                    find: Find::default(),
                });
            }
        },
        _ => s.toast(
            "on an observed rollback: f files its post-hoc request, Enter shows it, ↓ returns to the requests",
            false,
        ),
    }
    vec![]
}

/// What the viewer shows of an observed rollback (already sanitized in the view model).
fn observation_lines(a: &super::super::model::Alert) -> Vec<String> {
    let mut lines = vec![
        format!("{} rollback observed by {} at {}", a.finding(), a.source, a.at),
        String::new(),
        format!("environment   {}", a.env),
        format!("component     {}", a.component),
        format!("revision      {} (from {} back to {})", a.revision, a.from.as_deref().unwrap_or("?"), a.to),
        format!("artifact      {}", a.artifact.as_deref().unwrap_or("—")),
        format!("done by       {}", a.by.as_deref().unwrap_or("— (the tool does not say)")),
        format!("description   {}", a.description.as_deref().unwrap_or("—")),
        format!("observation   {}", a.observation.to_hex()),
        String::new(),
    ];
    match &a.request {
        Some((id, why)) => lines.push(format!("request {} did not clear it: {why}", id.short(12))),
        None => lines.push("No request accounts for it. Press Esc, then f to file the post-hoc request.".into()),
    }
    lines
}

/// A page of the history arrived (for the current generation).
pub(super) fn history_page(s: &mut AppState, page: Page<u64>, rows: Vec<HistoryItem>) -> Vec<Cmd> {
    let h = &mut s.history.list;
    match page {
        Page::First => h.set_first(rows),
        Page::Last => h.set_last(rows),
        Page::After(_) => h.append(rows),
        Page::Before(_) => h.prepend(rows),
    }
    history_paging(s)
}

pub(super) fn mouse(s: &mut AppState, m: ratatui::crossterm::event::MouseEvent) -> Vec<Cmd> {
    if !s.modals.is_empty() {
        if let Some(Modal::Viewer { scroll, .. } | Modal::Help { scroll, .. }) = s.modals.last_mut() {
            match m.kind {
                MouseEventKind::ScrollDown => *scroll = scroll.saturating_add(3),
                MouseEventKind::ScrollUp => *scroll = scroll.saturating_sub(3),
                _ => {}
            }
        }
        return vec![];
    }
    let action = match m.kind {
        MouseEventKind::ScrollDown => Some(Action::Down),
        MouseEventKind::ScrollUp => Some(Action::Up),
        MouseEventKind::Down(MouseButton::Left) => {
            if let Some(screen) = view::screen_at(s, m.column, m.row) {
                let a = match screen {
                    Screen::Queue => Action::Queue,
                    Screen::History => Action::History,
                    Screen::Dashboard => Action::Dashboard,
                    _ => Action::Integrity,
                };
                return super::global_action(s, a);
            }
            if let Some(tab) = view::tab_at(s, m.column, m.row) {
                if let Some(d) = &mut s.detail {
                    d.tab = tab;
                    d.scroll = 0;
                }
                return vec![];
            }
            if let Some(row) = view::row_at(s, m.row) {
                match s.screen {
                    // In a split queue the right half is the request, not the list.
                    Screen::Queue if view::split(s) && m.column >= s.size.0 / 2 => {}
                    Screen::Queue => {
                        let target = s.queue.offset + row;
                        if target < s.queue.offset + s.queue.rows.len() {
                            let first = view::first_visible(&s.queue, s.viewport);
                            s.queue.selected = first + row;
                        }
                    }
                    Screen::History => {
                        let first = view::first_visible(&s.history.list, s.viewport);
                        if first + row < s.history.list.offset + s.history.list.rows.len() {
                            s.history.list.selected = first + row;
                        }
                    }
                    _ => {}
                }
            }
            None
        }
        _ => None,
    };
    match action {
        Some(a) => {
            let mut cmds = Vec::new();
            for _ in 0..3 {
                cmds.extend(super::screen_action(s, a));
            }
            cmds
        }
        None => vec![],
    }
}

fn cycle<'a>(list: &[Option<&'a str>], current: Option<&str>) -> Option<&'a str> {
    let i = list.iter().position(|x| *x == current).unwrap_or(0);
    list[(i + 1) % list.len()]
}

pub(super) fn queue_action(s: &mut AppState, a: Action) -> Vec<Cmd> {
    if let Some(i) = s.alert_selected {
        return alert_action(s, i, a);
    }
    if matches!(a, Action::Up) && s.queue.selected == 0 && !s.alerts.is_empty() {
        // Up from the first request steps into the observed rollbacks drawn above it.
        s.alert_selected = Some(s.alerts.len() - 1);
        return vec![];
    }
    if is_nav(a) {
        if let Some(page) = navigate(&mut s.queue, a, s.viewport) {
            let page = match page {
                Page::First => Page::First,
                _ => Page::Last,
            };
            return vec![Cmd::Queue {
                generation: s.queue.generation,
                filter: s.queue_filter.clone(),
                page,
                limit: PAGE,
            }];
        }
        return queue_paging(s);
    }
    match a {
        Action::Open => match s.queue.current().map(|r| r.id) {
            Some(id) => detail::open_detail(s, id),
            None => vec![],
        },
        Action::FilterStatus => {
            let current = if s.queue_filter.all { Some("*all".to_string()) } else { s.queue_filter.status.clone() };
            let label = |v: &Option<&'static str>| match v {
                None => "open (pending, approved, emergency, review due)".to_string(),
                Some("*all") => "all, whatever their status".to_string(),
                Some(x) => x.to_string(),
            };
            picker(s, "status", &STATUS_CYCLE, current.as_deref(), label, PickTarget::QueueStatus)
        }
        Action::FilterRisk => {
            let label = |v: &Option<&'static str>| v.map_or("any risk".to_string(), str::to_string);
            let current = s.queue_filter.tier.clone();
            picker(s, "risk", &RISK_CYCLE, current.as_deref(), label, PickTarget::QueueRisk)
        }
        Action::FilterFlagged => {
            s.queue.rows.clear();
            s.queue_filter.flagged = !s.queue_filter.flagged;
            s.queue.selected = 0;
            reload_queue(s)
        }
        Action::Sort => {
            let names: Vec<Option<&'static str>> = QueueSort::ALL.iter().map(|o| Some(o.name())).collect();
            let label = |v: &Option<&'static str>| {
                let o = v.and_then(QueueSort::from_name).unwrap_or_default();
                format!("{} ({})", o.name(), o.describe())
            };
            let current = Some(s.queue_filter.sort.name());
            picker(s, "order", &names, current, label, PickTarget::QueueSort)
        }
        Action::SortNext | Action::SortPrev => {
            let sort = s.queue_filter.sort.step(a == Action::SortNext);
            set_sort(s, sort)
        }
        Action::FilterEnv => {
            s.modals.push(Modal::Input {
                prompt: "environment (empty = all)",
                value: s.queue_filter.env.clone().unwrap_or_default(),
                target: InputTarget::QueueEnv,
            });
            vec![]
        }
        Action::NewRequest => dialog::start_new_request(s),
        Action::Refresh => reload_queue(s),
        Action::Approve
        | Action::Reject
        | Action::Emergency
        | Action::Note
        | Action::Attach
        | Action::Execute
        | Action::Validate
        | Action::Close => match s.queue.current().map(|r| r.id) {
            Some(id) => {
                let cmds = detail::open_detail(s, id);
                s.toast("opened the request: review it, then press the key again", false);
                cmds
            }
            None => vec![],
        },
        _ => vec![],
    }
}

pub(super) fn history_action(s: &mut AppState, a: Action) -> Vec<Cmd> {
    if let Some((_, rows, sel)) = &mut s.history.search {
        match a {
            Action::Down => *sel = (*sel + 1).min(rows.len().saturating_sub(1)),
            Action::Up => *sel = sel.saturating_sub(1),
            Action::PageDown => *sel = (*sel + s.viewport).min(rows.len().saturating_sub(1)),
            Action::PageUp => *sel = sel.saturating_sub(s.viewport),
            Action::Top => *sel = 0,
            Action::Bottom => *sel = rows.len().saturating_sub(1),
            Action::Open | Action::OpenRequest => {
                if let Some(r) = rows.get(*sel).cloned() {
                    return open_history_row(s, &r, a == Action::OpenRequest);
                }
            }
            _ => {}
        }
        return vec![];
    }
    if is_nav(a) {
        if let Some(page) = navigate(&mut s.history.list, a, s.viewport) {
            let page = match page {
                Page::First => Page::First,
                _ => Page::Last,
            };
            return vec![Cmd::History {
                generation: s.history.list.generation,
                filter: s.history.filter.clone(),
                page,
                limit: PAGE,
            }];
        }
        return history_paging(s);
    }
    match a {
        Action::Open | Action::OpenRequest => match s.history.list.current().cloned() {
            Some(r) => open_history_row(s, &r, a == Action::OpenRequest),
            None => vec![],
        },
        Action::NextLog => {
            let logs = &s.history.logs;
            if logs.len() < 2 {
                s.toast("this ledger holds one log", false);
                return vec![];
            }
            let at = logs.iter().position(|l| *l == s.history.log).unwrap_or(0);
            s.history.filter.origin = Some(logs[(at + 1) % logs.len()].clone());
            s.history.list.selected = 0;
            reload_history(s)
        }
        Action::FilterStatus => {
            let label = |v: &Option<&'static str>| v.map_or("every kind".to_string(), str::to_string);
            let current = s.history.filter.kind.clone();
            picker(s, "kind", &KIND_CYCLE, current.as_deref(), label, PickTarget::HistoryKind)
        }
        Action::FilterState => {
            // Every status, without the queue's "*all" (the history has no open-only default).
            let next = cycle(&STATUS_CYCLE[..STATUS_CYCLE.len() - 1], s.history.filter.status.as_deref());
            s.history.filter.status = next.map(str::to_string);
            s.history.list.selected = 0;
            s.history.list.rows.clear();
            reload_history(s)
        }
        Action::FilterEnv | Action::FilterActor | Action::FilterSince | Action::FilterUntil => {
            let (prompt, value, target) = match a {
                Action::FilterEnv => {
                    ("environment (empty = all)", s.history.filter.env.clone(), InputTarget::HistoryEnv)
                }
                Action::FilterActor => {
                    ("actor: a name or key id (empty = all)", s.history.filter.actor.clone(), InputTarget::HistoryActor)
                }
                Action::FilterUntil => (
                    "until a date, YYYY-MM-DD, that day included (empty = all)",
                    s.history.filter.until.as_ref().map(|d| crate::text::prefix(d, 10).to_string()),
                    InputTarget::HistoryUntil,
                ),
                _ => (
                    "since a date, YYYY-MM-DD (empty = all)",
                    s.history.filter.since.as_ref().map(|d| crate::text::prefix(d, 10).to_string()),
                    InputTarget::HistorySince,
                ),
            };
            s.modals.push(Modal::Input { prompt, value: value.unwrap_or_default(), target });
            vec![]
        }
        Action::Refresh => reload_history(s),
        _ => vec![],
    }
}

/// Enter inspects the entry (an auditor's first question: who signed it, does it verify, is it in the
/// signed log); `o` opens the request it belongs to.
fn open_history_row(s: &mut AppState, r: &HistoryItem, request: bool) -> Vec<Cmd> {
    match &r.request {
        Some((id, _)) if request => detail::open_detail(s, *id),
        // An observed deployment belongs to no request: `o` files one from it (as `--from-observed`).
        None if request && r.kind == crate::audit::kinds::OBSERVED => {
            if s.read_only {
                s.toast("read-only: actions are hidden", true);
                return vec![];
            }
            vec![Cmd::Observation { id: r.id }]
        }
        _ => vec![Cmd::Entry { id: r.id }],
    }
}

/// A key in a one-line filter input; Enter sets the filter and reloads its list.
pub(super) fn input_key(s: &mut AppState, k: KeyEvent) -> Vec<Cmd> {
    let Some(top) = s.modals.last_mut() else { return vec![] };
    match top {
        Modal::Input { value, target, .. } => {
            let target = *target;
            match k.code {
                KeyCode::Esc => {
                    s.modals.pop();
                }
                KeyCode::Backspace => {
                    value.pop();
                }
                KeyCode::Char(c) if !c.is_control() && value.len() < 200 => value.push(c),
                KeyCode::Enter => {
                    let v = value.trim().to_string();
                    let v = (!v.is_empty()).then_some(v);
                    s.modals.pop();
                    match target {
                        InputTarget::QueueEnv => {
                            s.queue_filter.env = v;
                            s.queue.selected = 0;
                            s.queue.rows.clear();
                            return reload_queue(s);
                        }
                        InputTarget::HistoryEnv => s.history.filter.env = v,
                        InputTarget::HistoryActor => s.history.filter.actor = v,
                        InputTarget::HistorySince | InputTarget::HistoryUntil => {
                            let until = matches!(target, InputTarget::HistoryUntil);
                            let bound = match v
                                .as_deref()
                                .map(|d| (d, chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")))
                            {
                                None => None,
                                // Since the day's first moment; until its last, so the day is included.
                                Some((_, Ok(day))) if until => Some(format!("{day}T23:59:59.999Z")),
                                Some((_, Ok(day))) => Some(format!("{day}T00:00:00.000Z")),
                                Some((d, Err(_))) => {
                                    s.toast(format!("{} is not a date like 2026-11-01", crate::text::safe(d)), true);
                                    return vec![];
                                }
                            };
                            if until {
                                s.history.filter.until = bound;
                            } else {
                                s.history.filter.since = bound;
                            }
                        }
                    }
                    s.history.list.selected = 0;
                    s.history.list.rows.clear();
                    return reload_history(s);
                }
                _ => {}
            }
            vec![]
        }
        _ => vec![],
    }
}
