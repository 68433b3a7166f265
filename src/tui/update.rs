//! The update function: `(state, message) -> commands`. Pure: it changes plain data and says what the
//! runtime should do; it never touches the terminal, the disk, the clock or a key (the date and the file
//! system arrive as messages: `Msg::Today`, `Msg::PathChecked`).

use super::keymap::Action;
use super::msg::{Cmd, Done, Failed, Job, Msg, Retry};
use super::state::*;
use super::view;
use crate::identity::Passphrase;
use crate::workflow::browse::Page;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind};

const STATUS_CYCLE: [Option<&str>; 11] = [
    None,
    Some("pending"),
    Some("approved"),
    Some("rejected"),
    Some("emergency"),
    Some("review-due"),
    Some("executed"),
    Some("validated"),
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

/// The commands to run at start.
pub fn init(s: &mut AppState) -> Vec<Cmd> {
    let mut cmds = reload_queue(s);
    cmds.push(Cmd::Verify);
    cmds.push(Cmd::Poll);
    cmds
}

fn reload_queue(s: &mut AppState) -> Vec<Cmd> {
    let generation = s.generation();
    s.queue.generation = generation;
    s.queue.loading = true;
    s.queue.total = None;
    vec![
        Cmd::Queue { generation, filter: s.queue_filter.clone(), page: Page::First, limit: PAGE },
        Cmd::QueueCount { generation, filter: s.queue_filter.clone() },
    ]
}

fn reload_history(s: &mut AppState) -> Vec<Cmd> {
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

fn open_detail(s: &mut AppState, id: crate::ledger::EntryId) -> Vec<Cmd> {
    let generation = s.generation();
    let keep = s.detail.as_ref().filter(|d| d.id == id).map(|d| (d.tab, d.scroll, d.evidence_selected));
    s.detail = Some(DetailState {
        id,
        generation,
        data: None,
        tab: keep.map_or(Tab::Record, |k| k.0),
        scroll: keep.map_or(0, |k| k.1),
        evidence_selected: keep.map_or(0, |k| k.2),
    });
    if s.screen != Screen::Detail {
        s.previous = s.screen;
    }
    s.screen = Screen::Detail;
    vec![Cmd::Detail { generation, id }]
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

/// Applies one message.
pub fn update(s: &mut AppState, msg: Msg) -> Vec<Cmd> {
    match msg {
        Msg::Key(k) if k.kind == KeyEventKind::Press => key(s, k),
        Msg::Key(_) => vec![],
        Msg::Mouse(m) => mouse(s, m),
        Msg::Resize(w, h) => {
            s.size = (w, h);
            s.viewport = view::list_rows(s);
            vec![]
        }
        Msg::Today(day) => {
            s.today = day;
            vec![]
        }
        Msg::PathChecked { input, is_file, completion } => path_checked(s, &input, is_file, completion),
        Msg::Tick => {
            s.ticks += 1;
            for t in &mut s.toasts {
                t.ttl = t.ttl.saturating_sub(1);
            }
            s.toasts.retain(|t| t.ttl > 0);
            let mut cmds = Vec::new();
            if s.ticks % 4 == 0 {
                cmds.push(Cmd::Poll);
            }
            if s.screen == Screen::Dashboard && s.ticks % 120 == 0 {
                cmds.push(Cmd::Metrics);
            }
            cmds
        }
        Msg::Queue { generation, page, rows } if generation == s.queue.generation => {
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
        Msg::QueueCount { generation, total } if generation == s.queue.generation => {
            s.queue.total = Some(total);
            vec![]
        }
        Msg::History { generation, page, rows } if generation == s.history.list.generation => {
            let h = &mut s.history.list;
            match page {
                Page::First => h.set_first(rows),
                Page::Last => h.set_last(rows),
                Page::After(_) => h.append(rows),
                Page::Before(_) => h.prepend(rows),
            }
            history_paging(s)
        }
        Msg::HistoryCount { generation, total } if generation == s.history.list.generation => {
            s.history.list.total = Some(total);
            vec![]
        }
        Msg::Search { generation, rows } if generation == s.history.search_generation => {
            if let Some((_, r, sel)) = &mut s.history.search {
                *r = rows;
                *sel = 0;
            }
            vec![]
        }
        Msg::Detail { generation, detail } => {
            if let Some(d) = &mut s.detail
                && d.generation == generation
            {
                d.evidence_selected = d.evidence_selected.min(detail.evidence.len().saturating_sub(1));
                d.data = Some(*detail);
            }
            vec![]
        }
        Msg::Viewer { title, lines, pager } => {
            s.modals.push(Modal::Viewer { title, lines, scroll: 0, pager });
            vec![]
        }
        Msg::EvidencePage { id, page, offset, len, size, lines: text } => {
            // Only the page last asked for, in the viewer that asked: a stale reply is dropped.
            if let Some(Modal::Viewer { lines, scroll, pager: Some(p), .. }) = s.modals.last_mut()
                && p.evidence == id
                && p.page == Some(page)
            {
                *lines = text;
                *scroll = 0;
                p.shown = Some(page);
                (p.offset, p.len, p.size) = (offset, len, size);
            }
            vec![]
        }
        Msg::Metrics(m) => {
            s.metrics = Some(*m);
            vec![]
        }
        Msg::Integrity(i) => {
            let was = s.integrity.checked;
            s.integrity = *i;
            if s.tampered() {
                s.toast("INTEGRITY FAILURE: see the integrity screen (4)", true);
            } else if was {
                s.toast("verified: intact", false);
            }
            vec![]
        }
        Msg::Changed => refresh_all(s),
        Msg::Acted(result) => acted(s, result),
        Msg::Error(e) => {
            s.queue.loading = false;
            s.history.list.loading = false;
            // A page that could not be read: the viewer stays on the one it shows.
            if let Some(Modal::Viewer { pager: Some(p), .. }) = s.modals.last_mut() {
                p.page = p.shown;
            }
            if let Some(Modal::Action(d)) = s.modals.last_mut()
                && d.step == Step::Signing
            {
                d.step = Step::Passphrase;
                d.error = Some(e.clone());
            }
            s.toast(e, true);
            vec![]
        }
        _ => vec![],
    }
}

fn refresh_all(s: &mut AppState) -> Vec<Cmd> {
    let mut cmds = reload_queue(s);
    if s.history.loaded && s.history.search.is_none() {
        cmds.extend(reload_history(s));
    }
    if let Some(d) = &s.detail {
        let id = d.id;
        let generation = s.generation();
        if let Some(d) = &mut s.detail {
            d.generation = generation;
        }
        cmds.push(Cmd::Detail { generation, id });
    }
    if s.metrics.is_some() {
        cmds.push(Cmd::Metrics);
    }
    cmds
}

fn acted(s: &mut AppState, result: Result<Done, Failed>) -> Vec<Cmd> {
    match result {
        Ok(done) => {
            if matches!(s.modals.last(), Some(Modal::Action(_))) {
                s.modals.pop();
            }
            match done {
                Done::Signed(id) => s.toast(format!("signed and recorded entry {}", id.short(16)), false),
                Done::Said(text) => s.toast(text, false),
            }
            refresh_all(s)
        }
        Err(e) => {
            if let Some(Modal::Action(d)) = s.modals.last_mut() {
                d.passphrase.clear();
                d.step = match e.retry {
                    Retry::Passphrase => Step::Passphrase,
                    Retry::Review => Step::Review,
                };
                d.error = Some(e.message);
            } else {
                s.toast(e.message, true);
            }
            vec![]
        }
    }
}

fn mouse(s: &mut AppState, m: ratatui::crossterm::event::MouseEvent) -> Vec<Cmd> {
    if !s.modals.is_empty() {
        if let Some(Modal::Viewer { scroll, .. } | Modal::Help { scroll }) = s.modals.last_mut() {
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
            if let Some(tab) = view::tab_at(s, m.column, m.row) {
                if let Some(d) = &mut s.detail {
                    d.tab = tab;
                    d.scroll = 0;
                }
                return vec![];
            }
            if let Some(row) = view::row_at(s, m.row) {
                match s.screen {
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
                cmds.extend(screen_action(s, a));
            }
            cmds
        }
        None => vec![],
    }
}

fn key(s: &mut AppState, k: KeyEvent) -> Vec<Cmd> {
    if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
        s.quit = true;
        return vec![Cmd::Quit];
    }
    if !s.modals.is_empty() {
        return modal_key(s, k);
    }
    if let Some(cmd) = &mut s.command {
        match k.code {
            KeyCode::Esc => s.command = None,
            KeyCode::Backspace if cmd.pop().is_none() => s.command = None,
            KeyCode::Enter => {
                let c = s.command.take().unwrap_or_default();
                return command(s, c.trim());
            }
            KeyCode::Char(c) => cmd.push(c),
            _ => {}
        }
        return vec![];
    }
    if let Some(q) = &mut s.search_input {
        match k.code {
            KeyCode::Esc => s.search_input = None,
            KeyCode::Backspace => {
                q.pop();
            }
            KeyCode::Enter => {
                let q = s.search_input.take().unwrap_or_default();
                if q.trim().is_empty() {
                    s.history.search = None;
                    return vec![];
                }
                let generation = s.generation();
                s.history.search_generation = generation;
                s.history.search = Some((q.clone(), Vec::new(), 0));
                return vec![Cmd::Search { generation, query: q }];
            }
            KeyCode::Char(c) => q.push(c),
            _ => {}
        }
        return vec![];
    }
    match s.keymap.action(&k) {
        Some(a) => global(s, a),
        None => vec![],
    }
}

fn command(s: &mut AppState, c: &str) -> Vec<Cmd> {
    match c {
        "q" | "quit" | "q!" => {
            s.quit = true;
            vec![Cmd::Quit]
        }
        "queue" => global(s, Action::Queue),
        "history" => global(s, Action::History),
        "dashboard" => global(s, Action::Dashboard),
        "integrity" => global(s, Action::Integrity),
        "verify" => {
            s.screen = Screen::Integrity;
            s.toast("verifying…", false);
            vec![Cmd::Verify]
        }
        "help" => global(s, Action::Help),
        "refresh" => refresh_all(s),
        c if c == "report" || c.starts_with("report ") => {
            let path = c.strip_prefix("report").unwrap_or("").trim();
            let path = if path.is_empty() {
                format!("rollcall-report-{}.md", s.today.format("%Y-%m-%d"))
            } else {
                path.to_string()
            };
            start_report(s, path)
        }
        "" => vec![],
        other => {
            s.toast(
                format!(
                    "unknown command :{}; try :queue :history :dashboard :integrity :verify :report :q",
                    crate::text::safe(other)
                ),
                true,
            );
            vec![]
        }
    }
}

fn global(s: &mut AppState, a: Action) -> Vec<Cmd> {
    match a {
        Action::Quit => {
            s.quit = true;
            vec![Cmd::Quit]
        }
        Action::Help => {
            s.modals.push(Modal::Help { scroll: 0 });
            vec![]
        }
        Action::Command => {
            s.command = Some(String::new());
            vec![]
        }
        Action::NewRequest => start_new_request(s),
        Action::Queue => {
            s.screen = Screen::Queue;
            vec![]
        }
        Action::History => {
            s.screen = Screen::History;
            if s.history.loaded { vec![] } else { reload_history(s) }
        }
        Action::Dashboard => {
            s.screen = Screen::Dashboard;
            vec![Cmd::Metrics]
        }
        Action::Integrity => {
            s.screen = Screen::Integrity;
            vec![]
        }
        Action::Search => {
            if s.screen != Screen::History {
                s.screen = Screen::History;
                if !s.history.loaded {
                    let mut cmds = reload_history(s);
                    s.search_input = Some(String::new());
                    cmds.truncate(2);
                    return cmds;
                }
            }
            s.search_input = Some(String::new());
            vec![]
        }
        other => screen_action(s, other),
    }
}

fn screen_action(s: &mut AppState, a: Action) -> Vec<Cmd> {
    match s.screen {
        Screen::Queue => queue_action(s, a),
        Screen::Detail => detail_action(s, a),
        Screen::History => history_action(s, a),
        Screen::Dashboard => match a {
            Action::Refresh => vec![Cmd::Metrics],
            _ => vec![],
        },
        Screen::Integrity => match a {
            Action::Refresh => {
                s.toast("verifying…", false);
                vec![Cmd::Verify]
            }
            _ => vec![],
        },
    }
}

fn cycle<'a>(list: &[Option<&'a str>], current: Option<&str>) -> Option<&'a str> {
    let i = list.iter().position(|x| *x == current).unwrap_or(0);
    list[(i + 1) % list.len()]
}

fn queue_action(s: &mut AppState, a: Action) -> Vec<Cmd> {
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
            Some(id) => open_detail(s, id),
            None => vec![],
        },
        Action::FilterStatus => {
            s.queue.rows.clear();
            let current = if s.queue_filter.all { Some("*all") } else { s.queue_filter.status.as_deref() };
            let next = cycle(&STATUS_CYCLE, current);
            s.queue_filter.all = next == Some("*all");
            s.queue_filter.status = next.filter(|x| *x != "*all").map(str::to_string);
            s.queue.selected = 0;
            reload_queue(s)
        }
        Action::FilterRisk => {
            s.queue.rows.clear();
            s.queue_filter.tier = cycle(&RISK_CYCLE, s.queue_filter.tier.as_deref()).map(str::to_string);
            s.queue.selected = 0;
            reload_queue(s)
        }
        Action::FilterFlagged => {
            s.queue.rows.clear();
            s.queue_filter.flagged = !s.queue_filter.flagged;
            s.queue.selected = 0;
            reload_queue(s)
        }
        Action::Sort => {
            s.queue.rows.clear();
            s.queue_filter.newest = !s.queue_filter.newest;
            s.queue.selected = 0;
            reload_queue(s)
        }
        Action::FilterEnv => {
            s.modals.push(Modal::Input {
                prompt: "environment (empty = all)",
                value: s.queue_filter.env.clone().unwrap_or_default(),
                target: InputTarget::QueueEnv,
            });
            vec![]
        }
        Action::NewRequest => start_new_request(s),
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
                let cmds = open_detail(s, id);
                s.toast("opened the request: review it, then press the key again", false);
                cmds
            }
            None => vec![],
        },
        _ => vec![],
    }
}

fn history_action(s: &mut AppState, a: Action) -> Vec<Cmd> {
    if let Some((_, rows, sel)) = &mut s.history.search {
        match a {
            Action::Down => *sel = (*sel + 1).min(rows.len().saturating_sub(1)),
            Action::Up => *sel = sel.saturating_sub(1),
            Action::PageDown => *sel = (*sel + s.viewport).min(rows.len().saturating_sub(1)),
            Action::PageUp => *sel = sel.saturating_sub(s.viewport),
            Action::Top => *sel = 0,
            Action::Bottom => *sel = rows.len().saturating_sub(1),
            Action::Open => {
                if let Some(r) = rows.get(*sel).cloned() {
                    return open_history_row(s, &r);
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
        Action::Open => match s.history.list.current().cloned() {
            Some(r) => open_history_row(s, &r),
            None => vec![],
        },
        Action::FilterStatus => {
            s.history.filter.kind = cycle(&KIND_CYCLE, s.history.filter.kind.as_deref()).map(str::to_string);
            s.history.list.selected = 0;
            s.history.list.rows.clear();
            reload_history(s)
        }
        Action::FilterState => {
            let next = cycle(&STATUS_CYCLE[..10], s.history.filter.status.as_deref());
            s.history.filter.status = next.map(str::to_string);
            s.history.list.selected = 0;
            s.history.list.rows.clear();
            reload_history(s)
        }
        Action::FilterEnv | Action::FilterActor | Action::FilterSince => {
            let (prompt, value, target) = match a {
                Action::FilterEnv => {
                    ("environment (empty = all)", s.history.filter.env.clone(), InputTarget::HistoryEnv)
                }
                Action::FilterActor => {
                    ("actor: a name or key id (empty = all)", s.history.filter.actor.clone(), InputTarget::HistoryActor)
                }
                _ => (
                    "since a date, YYYY-MM-DD (empty = all)",
                    s.history.filter.since.as_ref().map(|d| d[..10.min(d.len())].to_string()),
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

fn open_history_row(s: &mut AppState, r: &super::model::HistoryItem) -> Vec<Cmd> {
    match &r.request {
        Some((id, _)) => open_detail(s, *id),
        None => vec![Cmd::Entry { id: r.id }],
    }
}

fn detail_action(s: &mut AppState, a: Action) -> Vec<Cmd> {
    let Some(d) = &mut s.detail else { return vec![] };
    let tabs = Tab::ALL;
    match a {
        Action::Back => {
            s.screen = s.previous;
            return vec![];
        }
        Action::NextTab => {
            d.tab = tabs[(d.tab.index() + 1) % tabs.len()];
            d.scroll = 0;
        }
        Action::PrevTab => {
            d.tab = tabs[(d.tab.index() + tabs.len() - 1) % tabs.len()];
            d.scroll = 0;
        }
        Action::Down if d.tab == Tab::Evidence => {
            let n = d.data.as_ref().map_or(0, |x| x.evidence.len());
            d.evidence_selected = (d.evidence_selected + 1).min(n.saturating_sub(1));
        }
        Action::Up if d.tab == Tab::Evidence => d.evidence_selected = d.evidence_selected.saturating_sub(1),
        Action::Down => d.scroll = d.scroll.saturating_add(1),
        Action::Up => d.scroll = d.scroll.saturating_sub(1),
        Action::PageDown => d.scroll = d.scroll.saturating_add(10),
        Action::PageUp => d.scroll = d.scroll.saturating_sub(10),
        Action::Top => d.scroll = 0,
        Action::Open if d.tab == Tab::Evidence => {
            if let Some(e) = d.data.as_ref().and_then(|x| x.evidence.get(d.evidence_selected)) {
                return vec![Cmd::Evidence { id: e.id }];
            }
        }
        Action::Refresh => {
            let id = d.id;
            return open_detail(s, id);
        }
        Action::Approve => return start_action(s, ActionKind::Approve),
        Action::Reject => return start_action(s, ActionKind::Reject),
        Action::Emergency => return start_action(s, ActionKind::Emergency),
        Action::Note => return start_action(s, ActionKind::Note),
        Action::Attach => return start_action(s, ActionKind::Attach),
        Action::Execute => return start_action(s, ActionKind::Execute),
        Action::Validate => return start_action(s, ActionKind::Validate),
        Action::Close => return start_action(s, ActionKind::Close),
        _ => {}
    }
    vec![]
}

fn field(label: &'static str, required: bool) -> Field {
    Field { label, value: String::new(), choices: vec![], required }
}

fn choice(label: &'static str, choices: Vec<&'static str>) -> Field {
    Field { label, value: choices[0].to_string(), choices, required: true }
}

/// Opens the signing dialog for `kind` on the request shown, if the signer may.
pub fn start_action(s: &mut AppState, kind: ActionKind) -> Vec<Cmd> {
    if s.read_only {
        s.toast("read-only: actions are hidden", true);
        return vec![];
    }
    let Some(d) = s.detail.as_ref().and_then(|d| d.data.as_ref()) else {
        s.toast("the request is still loading", true);
        return vec![];
    };
    let allowed = match kind {
        ActionKind::Approve | ActionKind::Reject => d.can.decide,
        ActionKind::Emergency => d.can.emergency,
        ActionKind::Execute => d.can.execute,
        ActionKind::Close => d.can.close,
        ActionKind::Note | ActionKind::Attach | ActionKind::Validate => d.can.annotate,
        ActionKind::NewRequest | ActionKind::Report => true,
    };
    if !allowed {
        s.toast(format!("{} is not available to {} on this request", kind.title(), s.user), true);
        return vec![];
    }
    let p = &d.sign;
    let mut preview = vec![format!("request   {}", p.request), format!("title     {}", d.title)];
    if matches!(kind, ActionKind::Approve | ActionKind::Reject | ActionKind::Emergency) {
        preview.push(format!("version   {}", p.version));
        preview.push(format!("revert    {}", p.revert));
        preview.push(format!("op digest {}", p.revert_digest));
        preview.push(format!(
            "evidence  {}",
            if p.evidence.is_empty() { "(none)".to_string() } else { p.evidence.join(", ") }
        ));
        preview.push(format!("policy    {}", p.policy));
        preview
            .push(format!("flags     {}", if p.flags.is_empty() { "(none)".to_string() } else { p.flags.join(", ") }));
        preview.push(format!(
            "risk      {} ({} of 100); approvals {} of {}",
            d.tier, d.score, d.approvals.0, d.approvals.1
        ));
    }
    let fields = match kind {
        ActionKind::Approve | ActionKind::Reject => vec![field("comment", true)],
        ActionKind::Emergency => vec![field("reason", true)],
        ActionKind::Note => vec![field("note", true)],
        ActionKind::Attach => vec![
            field("file path", true),
            choice("kind", vec!["test", "scan", "compliance", "validation", "log", "other"]),
        ],
        ActionKind::Execute => vec![choice("outcome", vec!["succeeded", "partial", "failed"])],
        ActionKind::Validate => vec![choice("result", vec!["pass", "fail"])],
        ActionKind::Close => {
            vec![choice("resolution", vec!["made-permanent", "rolled-forward"]), field("comment", true)]
        }
        ActionKind::NewRequest => return start_new_request(s),
        ActionKind::Report => return start_report(s, "rollcall-report.md".into()),
    };
    let dialog = ActionDialog {
        kind,
        req: Some(d.id),
        title: format!("{} — {}", kind.title(), d.title),
        preview,
        fields,
        focus: 0,
        step: Step::Review,
        error: None,
        passphrase: Default::default(),
    };
    s.modals.push(Modal::Action(Box::new(dialog)));
    vec![]
}

/// The job a filled dialog asks for; none when a request-bound action has no request (never built so).
/// Choice fields hold only the values the form offers (see `choice`), so the fallback arms below are never
/// taken with user input.
fn job_of(d: &ActionDialog) -> Option<Job> {
    use crate::audit::bodies::{Outcome, Resolution};
    let v = |i: usize| d.fields.get(i).map(|f| f.value.trim().to_string()).unwrap_or_default();
    let req = d.req;
    Some(match d.kind {
        ActionKind::Approve => Job::Decide { req: req?, approve: true, comment: v(0) },
        ActionKind::Reject => Job::Decide { req: req?, approve: false, comment: v(0) },
        ActionKind::Emergency => Job::Emergency { req: req?, reason: v(0) },
        ActionKind::Note => Job::Note { req: req?, text: v(0) },
        ActionKind::Attach => Job::Evidence { req: req?, path: v(0), kind: v(1) },
        ActionKind::Execute => Job::Execute {
            req: req?,
            outcome: match v(0).as_str() {
                "succeeded" => Outcome::Succeeded,
                "partial" => Outcome::Partial,
                _ => Outcome::Failed,
            },
        },
        ActionKind::Validate => Job::Validate { req: req?, pass: v(0) == "pass" },
        ActionKind::Close => Job::Close {
            req: req?,
            resolution: match v(0).as_str() {
                "rolled-forward" => Resolution::RolledForward,
                "superseded" => Resolution::Superseded,
                _ => Resolution::MadePermanent,
            },
            comment: v(1),
        },
        ActionKind::Report => Job::Report { path: v(0) },
        ActionKind::NewRequest => {
            let git = d
                .fields
                .iter()
                .find(|f| f.label == "git commit")
                .map(|f| f.value.trim().to_string())
                .filter(|v| !v.is_empty());
            Job::NewRequest {
                fields: d
                    .fields
                    .iter()
                    .filter(|f| f.label != "git commit")
                    .map(|f| (f.label.to_string(), f.value.trim().to_string()))
                    .collect(),
                git_commit: git,
            }
        }
    })
}

/// The labels of the new-request form, in order.
pub const NEW_REQUEST_FIELDS: [&str; 11] = [
    "title",
    "change",
    "rationale",
    "user impact",
    "component",
    "environment",
    "revert command",
    "from",
    "to",
    "category",
    "risk",
];

/// Opens the new-request form. Started inside a git repository, it offers a commit to revert, which
/// fills the revert operation, the revisions and the components from git.
pub fn start_new_request(s: &mut AppState) -> Vec<Cmd> {
    if s.read_only {
        s.toast("read-only: actions are hidden", true);
        return vec![];
    }
    let in_git = s.in_git;
    let mut fields: Vec<Field> = Vec::new();
    if in_git {
        fields.push(Field { label: "git commit", value: String::new(), choices: vec![], required: false });
    }
    for label in NEW_REQUEST_FIELDS {
        fields.push(match label {
            "category" => choice(
                "category",
                vec![
                    "critical-bug",
                    "performance-regression",
                    "security-patch",
                    "data-integrity",
                    "compliance",
                    "other",
                ],
            ),
            "risk" => choice("risk", vec!["medium", "low", "high", "critical"]),
            "revert command" | "from" | "to" | "component" | "change" => field(label, !in_git),
            other => field(other, true),
        });
    }
    let mut preview = vec![format!("filed by  {}", s.user)];
    if in_git {
        preview.push("a commit (or A..B) of this git repository fills the revert, revisions and components".into());
    }
    let dialog = ActionDialog {
        kind: ActionKind::NewRequest,
        req: None,
        title: "New rollback request".into(),
        preview,
        fields,
        focus: 0,
        step: Step::Fill,
        error: None,
        passphrase: Default::default(),
    };
    s.modals.push(Modal::Action(Box::new(dialog)));
    vec![]
}

/// `:report [FILE]`: writes the Markdown governance report. A console that may sign records the read
/// (the policy's audit.record_reads) through the signing dialog; a read-only one writes it directly.
pub fn start_report(s: &mut AppState, path: String) -> Vec<Cmd> {
    if s.read_only {
        s.toast(
            format!("writing the report to {} (read-only: the read is not recorded)…", crate::text::safe(&path)),
            false,
        );
        return vec![Cmd::Report { path }];
    }
    let dialog = ActionDialog {
        kind: ActionKind::Report,
        req: None,
        title: "Write the governance report".into(),
        preview: vec![
            format!("reader    {}", s.user),
            "signs an audit.read entry (who read what) before the report is written".into(),
        ],
        fields: vec![Field { label: "file", value: path, choices: vec![], required: true }],
        focus: 0,
        step: Step::Fill,
        error: None,
        passphrase: Default::default(),
    };
    s.modals.push(Modal::Action(Box::new(dialog)));
    vec![]
}

/// What a page key does in an evidence viewer.
#[derive(Debug, PartialEq, Eq)]
enum Turn {
    /// Nothing to do (already there).
    Stay,
    /// Back to the summary.
    Summary,
    /// Read this page (from 0).
    Load(u64),
}

/// Moves `p` through [summary, page 1, …, page N] for a page key; `Err` says why it cannot.
fn turn_page(p: &mut Pager, a: Action) -> Result<Turn, &'static str> {
    if p.pages == 0 {
        return Err("no stored bytes to page through (a link, purged, or missing)");
    }
    let last = p.pages - 1;
    let target = match (a, p.page) {
        (Action::NextPage, None) => Some(0),
        (Action::NextPage, Some(n)) if n < last => Some(n + 1),
        (Action::NextPage, Some(_)) => return Err("this is the last page"),
        (Action::PrevPage, None) => return Err("this is the summary; the file's pages follow it"),
        (Action::PrevPage, Some(n)) => n.checked_sub(1),
        (Action::LastPage, _) => Some(last),
        _ => None,
    };
    if target == p.page {
        return Ok(Turn::Stay);
    }
    p.page = target;
    Ok(match target {
        None => {
            p.shown = None;
            Turn::Summary
        }
        Some(n) => Turn::Load(n),
    })
}

fn modal_key(s: &mut AppState, k: KeyEvent) -> Vec<Cmd> {
    let action = s.keymap.action(&k);
    let Some(top) = s.modals.last_mut() else { return vec![] };
    match top {
        Modal::Viewer { lines, scroll, pager, .. }
            if matches!(action, Some(Action::NextPage | Action::PrevPage | Action::FirstPage | Action::LastPage)) =>
        {
            let Some(p) = pager else { return vec![] };
            match turn_page(p, action.expect("matched")) {
                Ok(Turn::Stay) => vec![],
                Ok(Turn::Summary) => {
                    *lines = p.summary.clone();
                    *scroll = 0;
                    vec![]
                }
                Ok(Turn::Load(page)) => vec![Cmd::EvidencePage { id: p.evidence, page }],
                Err(why) => {
                    s.toast(why, false);
                    vec![]
                }
            }
        }
        Modal::Help { scroll } | Modal::Viewer { scroll, .. } => {
            match action {
                Some(Action::Back | Action::Quit | Action::Help) => {
                    s.modals.pop();
                }
                Some(Action::Down) => *scroll = scroll.saturating_add(1),
                Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                Some(Action::PageDown) => *scroll = scroll.saturating_add(10),
                Some(Action::PageUp) => *scroll = scroll.saturating_sub(10),
                Some(Action::Top) => *scroll = 0,
                _ => {}
            }
            vec![]
        }
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
                        InputTarget::HistorySince => match v {
                            None => s.history.filter.since = None,
                            Some(d) => match chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
                                Ok(day) => s.history.filter.since = Some(format!("{day}T00:00:00.000Z")),
                                Err(_) => {
                                    s.toast(format!("{} is not a date like 2026-11-01", crate::text::safe(&d)), true);
                                    return vec![];
                                }
                            },
                        },
                    }
                    s.history.list.selected = 0;
                    s.history.list.rows.clear();
                    return reload_history(s);
                }
                _ => {}
            }
            vec![]
        }
        Modal::Action(d) => {
            d.error = match d.step {
                Step::Signing => d.error.take(),
                _ => None,
            };
            match d.step {
                Step::Review => match k.code {
                    KeyCode::Esc => {
                        s.modals.pop();
                    }
                    KeyCode::Enter => d.step = if d.fields.is_empty() { Step::Passphrase } else { Step::Fill },
                    _ => {}
                },
                Step::Fill => {
                    let f = &mut d.fields[d.focus];
                    match k.code {
                        KeyCode::Esc => d.step = Step::Review,
                        KeyCode::Tab | KeyCode::Down => d.focus = (d.focus + 1) % d.fields.len(),
                        KeyCode::BackTab | KeyCode::Up => d.focus = (d.focus + d.fields.len() - 1) % d.fields.len(),
                        KeyCode::Left | KeyCode::Right if !f.choices.is_empty() => {
                            let i = f.choices.iter().position(|c| *c == f.value).unwrap_or(0);
                            let n = f.choices.len();
                            let j = if k.code == KeyCode::Right { (i + 1) % n } else { (i + n - 1) % n };
                            f.value = f.choices[j].to_string();
                        }
                        KeyCode::Backspace if f.choices.is_empty() => {
                            f.value.pop();
                        }
                        KeyCode::Char('\t') => {}
                        KeyCode::Char(c)
                            if f.choices.is_empty() && !c.is_control() && f.value.chars().count() < 4000 =>
                        {
                            f.value.push(c);
                        }
                        KeyCode::Char(' ') if !f.choices.is_empty() => {}
                        KeyCode::Enter => {
                            if f.label == "file path" && d.focus == 0 && !f.value.is_empty() {
                                // The worker looks at the disk; `path_checked` completes the path or moves on.
                                return vec![Cmd::CheckPath { input: f.value.clone() }];
                            }
                            next_field(d);
                        }
                        _ => {}
                    }
                }
                Step::Passphrase => match k.code {
                    KeyCode::Esc => {
                        d.passphrase.clear();
                        d.step = if d.fields.is_empty() { Step::Review } else { Step::Fill };
                    }
                    KeyCode::Backspace => {
                        d.passphrase.pop();
                    }
                    KeyCode::Char(c) if !c.is_control() => d.passphrase.push(c),
                    KeyCode::Enter => {
                        if d.passphrase.is_empty() {
                            d.error = Some("type the passphrase of your key".into());
                            return vec![];
                        }
                        d.step = Step::Signing;
                        let passphrase = Passphrase::new(std::mem::take(&mut *d.passphrase));
                        let Some(job) = job_of(d) else {
                            d.step = Step::Review;
                            d.error = Some("this action has no request to act on".into());
                            return vec![];
                        };
                        return vec![Cmd::Act { job, passphrase }];
                    }
                    _ => {}
                },
                Step::Signing => {}
            }
            vec![]
        }
    }
}

/// Enter in a form: the next field, or the passphrase step once every required field is filled.
fn next_field(d: &mut ActionDialog) {
    if d.focus + 1 < d.fields.len() {
        d.focus += 1;
    } else if let Some(missing) = d.fields.iter().find(|f| f.required && f.value.trim().is_empty()) {
        d.error = Some(format!("{} is required", missing.label));
    } else {
        d.step = Step::Passphrase;
    }
}

/// The worker's answer about a path typed in a form's first field: a partial path is completed (as far as
/// the names in its directory agree); a file, or a path that does not complete further, moves on as Enter
/// does. An answer about text that has since changed is dropped.
fn path_checked(s: &mut AppState, input: &str, is_file: bool, completion: Option<String>) -> Vec<Cmd> {
    let Some(Modal::Action(d)) = s.modals.last_mut() else { return vec![] };
    if d.step != Step::Fill || d.focus != 0 || d.fields.first().is_none_or(|f| f.value != input) {
        return vec![];
    }
    match completion {
        Some(c) if !is_file && c != input => d.fields[0].value = c,
        _ => next_field(d),
    }
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attach_dialog(value: &str) -> AppState {
        let mut s = AppState::new(
            "bob".into(),
            "ledger.db".into(),
            false,
            None,
            super::super::keymap::Keymap::default(),
            super::super::theme::Theme::new(true),
        );
        let fields = vec![
            Field { label: "file path", value: value.into(), choices: vec![], required: true },
            Field { label: "kind", value: "test".into(), choices: vec!["test", "scan"], required: true },
        ];
        s.modals.push(Modal::Action(Box::new(ActionDialog {
            kind: ActionKind::Attach,
            req: Some(crate::ledger::Hash([1; 32])),
            title: "Attach".into(),
            preview: vec![],
            fields,
            focus: 0,
            step: Step::Fill,
            error: None,
            passphrase: Default::default(),
        })));
        s
    }

    fn dialog(s: &AppState) -> &ActionDialog {
        match s.modals.last() {
            Some(Modal::Action(d)) => d,
            _ => panic!("no dialog"),
        }
    }

    fn enter(s: &mut AppState) -> Vec<Cmd> {
        update(s, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)))
    }

    /// Enter on a typed path asks the worker (update reads no disk); its answer completes the path, or
    /// moves on once it names a file; an answer about text that changed since is dropped.
    #[test]
    fn a_typed_path_is_checked_by_the_worker_then_completed_or_accepted() {
        let mut s = attach_dialog("src/li");
        let cmds = enter(&mut s);
        assert!(matches!(cmds.as_slice(), [Cmd::CheckPath { input }] if input == "src/li"), "{cmds:?}");
        let answer = |input: &str, is_file, completion: Option<&str>| Msg::PathChecked {
            input: input.into(),
            is_file,
            completion: completion.map(str::to_string),
        };
        update(&mut s, answer("src/li", false, Some("src/lib.rs")));
        assert_eq!((dialog(&s).fields[0].value.as_str(), dialog(&s).focus), ("src/lib.rs", 0));
        // A late answer about the old text changes nothing.
        update(&mut s, answer("src/li", false, Some("src/lint/")));
        assert_eq!(dialog(&s).fields[0].value, "src/lib.rs");
        enter(&mut s);
        update(&mut s, answer("src/lib.rs", true, None));
        assert_eq!(dialog(&s).focus, 1, "a file moves on to the next field");
        // A path that completes no further also moves on (the job then names what is wrong).
        let mut s = attach_dialog("nowhere/x");
        enter(&mut s);
        update(&mut s, answer("nowhere/x", false, None));
        assert_eq!(dialog(&s).focus, 1);
    }

    /// A failed action goes back to the step that can fix it, chosen by the kind of error, not its words.
    #[test]
    fn a_failed_action_returns_to_the_step_that_can_fix_it() {
        for (retry, step) in [(Retry::Passphrase, Step::Passphrase), (Retry::Review, Step::Review)] {
            let mut s = attach_dialog("x");
            if let Some(Modal::Action(d)) = s.modals.last_mut() {
                d.step = Step::Signing;
            }
            update(&mut s, Msg::Acted(Err(Failed { message: "passphrase? no: refused".into(), retry })));
            assert_eq!((dialog(&s).step, dialog(&s).error.as_deref()), (step, Some("passphrase? no: refused")));
        }
        let e = crate::workflow::WorkflowError::Identity(crate::identity::IdentityError::WrongPassphrase("bob".into()));
        assert_eq!(Failed::of(&e).retry, Retry::Passphrase);
        let e = crate::workflow::WorkflowError::Refused("the passphrase policy says no".into());
        assert_eq!(Failed::of(&e).retry, Retry::Review, "the words do not decide");
    }

    /// The default report file is named from the date the runtime sent, not from a clock read here.
    #[test]
    fn the_report_file_is_named_from_the_date_sent() {
        let mut s = attach_dialog("");
        s.modals.clear();
        update(&mut s, Msg::Today(chrono::NaiveDate::from_ymd_opt(2031, 4, 5).unwrap()));
        s.command = Some("report".into());
        update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        let named = s.modals.iter().any(|m| match m {
            Modal::Action(d) => d.fields.iter().any(|f| f.value == "rollcall-report-2031-04-05.md"),
            _ => false,
        });
        assert!(named, "{:?}", s.modals.len());
    }
}
