//! The console's state: plain data, no I/O. Lists hold a window of rows around the selection (keyset
//! pages from the worker), with the absolute position of the window for the scrollbar.

use super::keymap::Keymap;
use super::model::*;
use super::theme::Theme;
use crate::ledger::EntryId;
use crate::workflow::browse::{HistoryFilter, QueueFilter};
use zeroize::Zeroizing;

/// Rows fetched per page.
pub(crate) const PAGE: usize = 100;
/// Rows kept around the selection.
pub(crate) const WINDOW: usize = 400;
/// How close to the window's edge the selection may come before the next page is fetched.
pub(crate) const MARGIN: usize = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Queue,
    Detail,
    History,
    Dashboard,
    Integrity,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Record,
    Evidence,
    Flags,
    Policy,
    Timeline,
    Lineage,
}

impl Tab {
    pub const ALL: [Tab; 6] = [Tab::Record, Tab::Evidence, Tab::Flags, Tab::Policy, Tab::Timeline, Tab::Lineage];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Record => "Record",
            Tab::Evidence => "Evidence",
            Tab::Flags => "Flags",
            Tab::Policy => "Policy",
            Tab::Timeline => "Timeline",
            Tab::Lineage => "Lineage",
        }
    }

    pub(crate) fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// A window of a long list.
#[derive(Clone, Debug)]
pub struct Paged<T> {
    pub rows: Vec<T>,
    /// Absolute position of `rows[0]`.
    pub offset: usize,
    pub total: Option<u64>,
    /// Absolute position of the selection.
    pub selected: usize,
    pub generation: u64,
    /// A page request is in flight.
    pub loading: bool,
    /// No rows after the window / before it.
    pub at_end: bool,
    pub at_start: bool,
    /// Selection to land on once the rows for `Last` arrive.
    pub pending_select_last: bool,
    /// Why the last page asked for could not be read (a damaged file, a locked database), until a page
    /// arrives: drawn in place of "nothing here" (and of "loading…" while the list is asked for again).
    pub failed: Option<Problem>,
}

impl<T> Default for Paged<T> {
    fn default() -> Self {
        Paged {
            rows: Vec::new(),
            offset: 0,
            total: None,
            selected: 0,
            generation: 0,
            loading: false,
            at_end: false,
            at_start: true,
            pending_select_last: false,
            failed: None,
        }
    }
}

impl<T> Paged<T> {
    pub fn current(&self) -> Option<&T> {
        self.selected.checked_sub(self.offset).and_then(|i| self.rows.get(i))
    }

    /// The last absolute position loaded or known.
    pub(crate) fn last_index(&self) -> usize {
        match self.total {
            Some(t) => (t as usize).saturating_sub(1),
            None => (self.offset + self.rows.len()).saturating_sub(1),
        }
    }

    /// Moves the selection within what is loaded (or known to exist).
    pub(crate) fn move_by(&mut self, delta: isize) {
        let loaded_last = (self.offset + self.rows.len()).saturating_sub(1);
        let max = if self.at_end { loaded_last } else { self.last_index().max(loaded_last) };
        let target = (self.selected as isize + delta).clamp(0, max as isize) as usize;
        // Never leave the loaded window: stop at its edge until the next page arrives.
        let lo = self.offset;
        self.selected = target.clamp(lo, loaded_last.max(lo));
    }

    /// Whether the selection is close to the end of the window with more rows after it.
    pub(crate) fn wants_next(&self) -> bool {
        !self.loading
            && !self.at_end
            && !self.rows.is_empty()
            && self.offset + self.rows.len() - self.selected <= MARGIN
    }

    /// Whether the selection is close to the start of the window with rows before it.
    pub(crate) fn wants_prev(&self) -> bool {
        !self.loading && !self.at_start && !self.rows.is_empty() && self.selected - self.offset <= MARGIN
    }

    /// Replaces the window with the first page.
    pub(crate) fn set_first(&mut self, rows: Vec<T>) {
        self.at_end = rows.len() < PAGE;
        self.rows = rows;
        self.offset = 0;
        self.at_start = true;
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.loading = false;
        self.failed = None;
    }

    /// Replaces the window with the last page.
    pub(crate) fn set_last(&mut self, rows: Vec<T>) {
        let total = self.total.map(|t| t as usize).unwrap_or(rows.len());
        self.offset = total.saturating_sub(rows.len());
        self.at_start = self.offset == 0;
        self.at_end = true;
        self.rows = rows;
        if self.pending_select_last {
            self.selected = (self.offset + self.rows.len()).saturating_sub(1);
            self.pending_select_last = false;
        }
        self.selected =
            self.selected.clamp(self.offset, (self.offset + self.rows.len()).saturating_sub(1).max(self.offset));
        self.loading = false;
        self.failed = None;
    }

    /// Appends the page after the window, dropping rows from the front beyond the window size.
    pub fn append(&mut self, rows: Vec<T>) {
        self.at_end = rows.len() < PAGE;
        self.rows.extend(rows);
        if self.rows.len() > WINDOW {
            let drop = self.rows.len() - WINDOW;
            self.rows.drain(..drop);
            self.offset += drop;
            self.at_start = false;
        }
        self.loading = false;
        self.failed = None;
    }

    /// Prepends the page before the window.
    pub(crate) fn prepend(&mut self, mut rows: Vec<T>) {
        let n = rows.len();
        self.at_start = n < PAGE || self.offset <= n;
        self.offset = self.offset.saturating_sub(n);
        rows.append(&mut self.rows);
        self.rows = rows;
        if self.rows.len() > WINDOW {
            self.rows.truncate(WINDOW);
            self.at_end = false;
        }
        self.loading = false;
        self.failed = None;
    }
}

/// The request detail being shown.
#[derive(Clone, Debug)]
pub struct DetailState {
    pub id: EntryId,
    pub generation: u64,
    pub data: Option<Detail>,
    pub tab: Tab,
    pub scroll: u16,
    /// The selected row among the evidence shown (those matching `evidence_filter`).
    pub evidence_selected: usize,
    /// The evidence tab's live filter (`/`): the text, and whether it is being typed.
    pub evidence_filter: Option<(String, bool)>,
}

impl DetailState {
    /// The evidence rows the tab shows: those whose kind, name, summary or id contains the filter (any
    /// ASCII case), as (index in the request's evidence, row).
    pub fn evidence_shown(&self) -> Vec<(usize, &crate::tui::model::EvidenceItem)> {
        let Some(x) = &self.data else { return Vec::new() };
        let needle = self.evidence_filter.as_ref().map(|(q, _)| q.trim().to_ascii_lowercase()).unwrap_or_default();
        x.evidence
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                needle.is_empty()
                    || [e.kind.as_str(), e.name.as_str(), e.summary.as_str(), e.id.to_hex().as_str()]
                        .iter()
                        .any(|f| f.to_ascii_lowercase().contains(&needle))
            })
            .collect()
    }
}

/// What an action dialog does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    Approve,
    Reject,
    Emergency,
    Note,
    Attach,
    Execute,
    Validate,
    /// A post-hoc (after an emergency) or post-incident review.
    Review,
    Close,
    NewRequest,
    /// Write the governance report (the read is recorded).
    Report,
}

impl ActionKind {
    pub(crate) fn title(self) -> &'static str {
        match self {
            ActionKind::Approve => "Approve",
            ActionKind::Reject => "Reject",
            ActionKind::Emergency => "Invoke the emergency path",
            ActionKind::Note => "Add a note",
            ActionKind::Attach => "Attach evidence",
            ActionKind::Execute => "Record the execution",
            ActionKind::Validate => "Record validation",
            ActionKind::Review => "Record the review",
            ActionKind::Close => "Close the request",
            ActionKind::NewRequest => "New rollback request",
            ActionKind::Report => "Write the governance report",
        }
    }
}

/// One input of a dialog.
#[derive(Clone, Debug)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
    /// When not empty the value cycles through these with ←/→.
    pub choices: Vec<&'static str>,
    pub required: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Read exactly what will be signed.
    Review,
    /// Fill in the fields.
    Fill,
    /// Type the passphrase (masked).
    Passphrase,
    /// Waiting for the signing worker.
    Signing,
}

/// A signing dialog: review → fields → passphrase → sign.
#[derive(Clone, Debug)]
pub struct ActionDialog {
    pub kind: ActionKind,
    /// The request acted on; none for the ledger-wide actions (a new request, the report).
    pub req: Option<EntryId>,
    pub title: String,
    /// What will be signed, line by line (sanitized).
    pub preview: Vec<String>,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub step: Step,
    pub error: Option<String>,
    pub passphrase: PassphraseField,
    /// The first line of what will be signed shown while reviewing (when it is taller than the screen).
    pub scroll: u16,
    /// Where the cursor is in the focused text field: characters from its end (0: at the end).
    pub cursor_back: usize,
}

/// Where an evidence viewer is in the file: its summary, or one page of the stored bytes as text. Only the
/// page shown is held, so memory stays bounded whatever the file's size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pager {
    pub evidence: EntryId,
    /// The page asked for (from 0), `None` for the summary.
    pub page: Option<u64>,
    /// The page whose lines are shown; differs from `page` while that one loads.
    pub shown: Option<u64>,
    /// Pages of [`crate::workflow::evidence::PAGE`] bytes in the stored file (0 when no bytes are stored).
    pub pages: u64,
    pub size: u64,
    /// The shown page's first byte and length.
    pub offset: u64,
    pub len: u64,
    /// The summary's lines, to go back to without reading the file again.
    pub summary: Vec<String>,
}

impl Pager {
    /// A pager on the summary of evidence `id` whose stored file has `size` bytes (`None`: no bytes).
    pub fn new(evidence: EntryId, size: Option<u64>, summary: Vec<String>) -> Pager {
        Pager {
            evidence,
            page: None,
            shown: None,
            pages: size.map_or(0, crate::workflow::evidence::pages),
            size: size.unwrap_or(0),
            offset: 0,
            len: 0,
            summary,
        }
    }
}

/// Which filter a picker sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickTarget {
    QueueSort,
    QueueStatus,
    QueueRisk,
    HistoryKind,
}

/// A search in a viewer (`/`, as in `less`): lines containing the text (any ASCII case) are highlighted,
/// the view scrolls to the first one as it is typed, `n`/`N` move to the next and the previous match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Find {
    pub query: String,
    /// While it is being typed.
    pub typing: bool,
    /// The line of the match shown.
    pub line: Option<usize>,
}

impl Find {
    /// The lines of `lines` that contain the query.
    pub fn matches(&self, lines: &[String]) -> Vec<usize> {
        let q = self.query.trim().to_ascii_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        lines.iter().enumerate().filter(|(_, l)| l.to_ascii_lowercase().contains(&q)).map(|(i, _)| i).collect()
    }
}

#[derive(Clone, Debug)]
pub enum Modal {
    Help {
        /// The selected line (`j`/`k` move it, `Enter` runs it); the view scrolls to keep it shown.
        scroll: u16,
        /// The help's search (`/` in the help): only the lines containing it are shown; `typing` while it
        /// is being typed.
        query: String,
        typing: bool,
    },
    Viewer {
        title: String,
        lines: Vec<String>,
        scroll: u16,
        /// Set for evidence: its pages.
        pager: Option<Box<Pager>>,
        /// Its search (`/`).
        find: Find,
    },
    Action(Box<ActionDialog>),
    /// A small list to pick a filter's value from (`f` status, `R` risk, the history's `f` kind).
    Picker {
        title: &'static str,
        /// The choices, as shown, with the value each sets (`None`: no filter).
        options: Vec<(String, Option<&'static str>)>,
        selected: usize,
        target: PickTarget,
    },
    /// A one-line input (a filter).
    Input {
        prompt: &'static str,
        value: String,
        target: InputTarget,
    },
}

/// What a one-line input sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputTarget {
    QueueEnv,
    HistoryEnv,
    HistoryActor,
    HistorySince,
    HistoryUntil,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    /// Ticks left.
    pub ttl: u32,
}

/// The history screen.
#[derive(Clone, Debug, Default)]
pub struct HistoryState {
    pub list: Paged<HistoryItem>,
    pub filter: HistoryFilter,
    /// A search and its results (replace the list while set).
    pub search: Option<(String, Vec<HistoryItem>, usize)>,
    pub search_generation: u64,
    pub loaded: bool,
    /// The log shown (one machine's), and every log held, the own one first.
    pub log: String,
    pub logs: Vec<String>,
}

/// The whole console.
pub struct AppState {
    pub screen: Screen,
    pub previous: Screen,
    pub queue: Paged<QueueItem>,
    pub queue_filter: QueueFilter,
    /// Observed rollbacks no request cleared, drawn on top of the queue, and the one selected (the queue's
    /// selection steps up into them from its first row).
    pub alerts: Vec<super::model::Alert>,
    pub alert_selected: Option<usize>,
    /// Whether the console captures the mouse (`M` toggles; off leaves selection to the terminal).
    pub mouse: bool,
    /// The queue's live text filter being typed (`/` on the queue): each key narrows the list.
    pub filter_input: Option<String>,
    pub detail: Option<DetailState>,
    pub history: HistoryState,
    pub metrics: Option<Metrics>,
    /// The tick at which the dashboard's figures were asked for, until they come: showing the dashboard
    /// again meanwhile does not start them over.
    pub metrics_asked: Option<u64>,
    /// Why the dashboard's figures could not be computed, until they are.
    pub metrics_failed: Option<Problem>,
    pub integrity: Integrity,
    /// A verification of this session found the record wrong, and none has found it intact since (one
    /// stopped by an unreadable file does not clear it): signing stays off.
    pub found_wrong: bool,
    /// How far the background verification has come, in percent, while it runs.
    pub verifying: Option<u8>,
    pub modals: Vec<Modal>,
    pub command: Option<String>,
    /// Search being typed (`/`).
    pub search_input: Option<String>,
    pub toasts: Vec<Toast>,
    pub read_only: bool,
    pub user: String,
    pub ledger_name: String,
    pub banner: Option<String>,
    pub keymap: Keymap,
    pub theme: Theme,
    /// Rows the list area showed at the last draw.
    pub viewport: usize,
    pub size: (u16, u16),
    pub ticks: u64,
    pub quit: bool,
    pub next_generation: u64,
    /// Today's date, from the runtime (`Msg::Today`): names the default report file.
    pub today: chrono::NaiveDate,
    /// Whether the console was started inside a git working copy (the runtime looks, once): the
    /// new-request form then offers a commit to revert.
    pub in_git: bool,
    /// Whether the signed-in key may invoke the emergency path (the new-request form then offers to file
    /// as an emergency), or why not and who may.
    pub emergency: Result<(), String>,
    /// Whether the signed-in key may file requests (the new-request and post-hoc forms open only then),
    /// or why not and who may.
    pub may_file: Result<(), String>,
}

impl AppState {
    pub fn new(
        user: String,
        ledger_name: String,
        read_only: bool,
        banner: Option<String>,
        keymap: Keymap,
        theme: Theme,
    ) -> AppState {
        AppState {
            screen: Screen::Queue,
            previous: Screen::Queue,
            queue: Paged::default(),
            queue_filter: QueueFilter::default(),
            alerts: Vec::new(),
            alert_selected: None,
            filter_input: None,
            mouse: true,
            detail: None,
            history: HistoryState::default(),
            metrics: None,
            metrics_asked: None,
            metrics_failed: None,
            integrity: Integrity::default(),
            found_wrong: false,
            verifying: None,
            modals: Vec::new(),
            command: None,
            search_input: None,
            toasts: Vec::new(),
            read_only,
            user,
            ledger_name,
            banner,
            keymap,
            theme,
            viewport: 20,
            size: (80, 24),
            ticks: 0,
            quit: false,
            next_generation: 1,
            today: chrono::NaiveDate::default(),
            in_git: false,
            emergency: Err("this console may not sign".into()),
            may_file: Err("this console may not sign".into()),
        }
    }

    pub(crate) fn generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    /// Shows `text` for a while; the same text already shown stays once and is shown for longer (several
    /// reads failing for one cause, a damaged file, say it once).
    pub(crate) fn toast(&mut self, text: impl Into<String>, error: bool) {
        // Sanitized here, once for every toast: many quote what a worker said, which may quote a member's
        // name or a peer's text (escaping is idempotent for text escaped already).
        let text = crate::text::one_line(&text.into()).text.into_owned();
        let ttl = if error { 40 } else { 20 };
        if let Some(t) = self.toasts.iter_mut().find(|t| t.text == text && t.error == error) {
            t.ttl = ttl;
            return;
        }
        self.toasts.push(Toast { text, error, ttl });
        if self.toasts.len() > 3 {
            self.toasts.remove(0);
        }
    }

    /// True when verification found the ledger tampered.
    pub(crate) fn tampered(&self) -> bool {
        self.integrity.checked && !self.integrity.intact
    }

    /// Whether the verdict shown found the record wrong (tampering, or a recorded equivocation), not only
    /// a file it could not read.
    pub(crate) fn verdict_found_wrong(&self) -> bool {
        self.tampered() && (!self.integrity.not_read || !self.integrity.security.is_empty())
    }

    /// Why the console will not sign now: a verification of this session found the record wrong
    /// (tampering, or a recorded equivocation) and none has found it intact since, so what a dialog would
    /// show for review may not be what was signed. A verification still running, or one that stopped
    /// because the file could not be read (`r` runs it again), does not stop signing by itself, nor turn
    /// it back on; the banner says so.
    pub(crate) fn signing_refused(&self) -> Option<&'static str> {
        self.found_wrong.then_some(
            "signing is off: a verification in this session found this ledger TAMPERED, so what you would review \
             may not be what was recorded — run it again on the integrity screen (4, r); `rollcall verify` says \
             where",
        )
    }
}

/// The most bytes a passphrase typed or pasted into the console may hold.
pub(crate) const PASSPHRASE_ROOM: usize = 1024;

/// The passphrase being typed in a signing dialog. Its buffer is allocated once with room for the longest
/// passphrase and never grows (a `String` that grows moves its text and frees the old block unwiped),
/// and it is wiped when cleared, when taken and when dropped: no copy is left in freed memory.
pub struct PassphraseField(Zeroizing<String>);

impl Default for PassphraseField {
    fn default() -> Self {
        PassphraseField(Zeroizing::new(String::with_capacity(PASSPHRASE_ROOM)))
    }
}

impl Clone for PassphraseField {
    /// A copy in a buffer of its own room (never one grown to fit).
    fn clone(&self) -> Self {
        let mut copy = PassphraseField::default();
        copy.push_str(&self.0);
        copy
    }
}

impl std::fmt::Debug for PassphraseField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PassphraseField({} characters)", self.0.chars().count())
    }
}

impl PassphraseField {
    /// Adds `c` if there is room (false when the passphrase is full).
    pub fn push(&mut self, c: char) -> bool {
        let room = self.0.len() + c.len_utf8() <= PASSPHRASE_ROOM;
        if room {
            self.0.push(c);
        }
        room
    }

    /// Adds as much of `text` as there is room for; false when some did not fit.
    pub fn push_str(&mut self, text: &str) -> bool {
        for c in text.chars() {
            if !self.push(c) {
                return false;
            }
        }
        true
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    /// Wipes what was typed.
    pub fn clear(&mut self) {
        use zeroize::Zeroize;
        self.0.zeroize();
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many characters were typed (the dialog shows as many dots).
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }

    /// The passphrase, moved out whole (no copy made); the field starts again empty, with its room.
    pub fn take(&mut self) -> String {
        let mut taken = std::mem::replace(&mut self.0, Zeroizing::new(String::with_capacity(PASSPHRASE_ROOM)));
        std::mem::take(&mut *taken)
    }
}

#[cfg(test)]
mod passphrase_field_tests {
    use super::*;

    #[test]
    fn the_passphrase_buffer_never_grows_and_is_taken_whole() {
        let mut f = PassphraseField::default();
        let start = f.0.as_ptr();
        f.push_str(&"é".repeat(PASSPHRASE_ROOM));
        // Full at its room: never moved to a bigger buffer (which would leave the old one unwiped).
        assert_eq!((f.0.len(), f.0.as_ptr()), (PASSPHRASE_ROOM, start));
        assert!(!f.push('x'));
        f.clear();
        assert!(f.is_empty() && f.0.capacity() >= PASSPHRASE_ROOM);
        f.push_str("correct horse");
        assert_eq!((f.take(), f.is_empty(), f.0.capacity() >= PASSPHRASE_ROOM), ("correct horse".into(), true, true));
        assert_eq!(format!("{:?}", f.clone()), "PassphraseField(0 characters)");
    }
}
