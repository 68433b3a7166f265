//! Messages into the update function and commands out of it. Replies from the workers carry the
//! generation of the request that asked for them, so a stale reply is dropped.

use super::model::*;
use crate::identity::Passphrase;
use crate::ledger::EntryId;
use crate::workflow::browse::{HistoryFilter, Page, QueueFilter, QueueKey};
use ratatui::crossterm::event::{KeyEvent, MouseEvent};

/// Something that changes the state.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// Text pasted into the terminal (bracketed paste), delivered whole.
    Paste(String),
    /// What the editor left (or why it could not run), for the field that asked.
    Edited(Result<String, String>),
    Resize(u16, u16),
    Tick,
    /// The date today (sent at start and when it changes): `update` reads no clock.
    Today(chrono::NaiveDate),
    /// The time, sent when the minute changes: what the queue shows as of a time moves with it (an
    /// emergency that lapses while the console is open).
    Minute(chrono::DateTime<chrono::Utc>),
    /// What the worker found for a file path typed in a form: whether it names a file, and the longest
    /// completion of it among the names in its directory.
    PathChecked {
        input: String,
        is_file: bool,
        completion: Option<String>,
    },
    Queue {
        generation: u64,
        page: Page<QueueKey>,
        rows: Vec<QueueItem>,
    },
    QueueCount {
        generation: u64,
        total: u64,
    },
    /// The observed rollbacks no request cleared (shown on top of the queue).
    Alerts(Vec<Alert>),
    /// An observed deployment the user asked to file a request from.
    FromObserved(Box<Alert>),
    Detail {
        generation: u64,
        detail: Box<Detail>,
    },
    History {
        generation: u64,
        page: Page<u64>,
        rows: Vec<HistoryItem>,
    },
    HistoryCount {
        generation: u64,
        total: u64,
        /// The log shown, and every log held (the own one first).
        log: String,
        logs: Vec<String>,
    },
    Search {
        generation: u64,
        rows: Vec<HistoryItem>,
    },
    Viewer {
        title: String,
        lines: Vec<String>,
        pager: Option<Box<crate::tui::state::Pager>>,
    },
    /// A page of an evidence file, sanitized, line by line.
    EvidencePage {
        id: EntryId,
        page: u64,
        offset: u64,
        len: u64,
        size: u64,
        lines: Vec<String>,
    },
    Metrics(Box<Metrics>),
    Integrity(Box<Integrity>),
    /// The verification has checked this percentage of the ledger.
    Verifying(u8),
    /// Another process appended to the ledger.
    Changed,
    /// An action was signed and appended (`Ok(entry id)`), or refused.
    Acted(Result<Done, Failed>),
    /// A worker could not do what was asked (shown as a toast, and in place of a list that could not
    /// load; the UI goes on).
    Error(Problem),
    /// Something the user should know that is not a failure (shown as a plain toast).
    Notice(String),
}

/// What an action dialog signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Job {
    Decide {
        req: EntryId,
        approve: bool,
        comment: String,
    },
    Emergency {
        req: EntryId,
        reason: String,
    },
    Note {
        req: EntryId,
        text: String,
    },
    Evidence {
        req: EntryId,
        path: String,
        kind: EvidenceKind,
    },
    Execute {
        req: EntryId,
        outcome: crate::audit::bodies::Outcome,
    },
    Validate {
        req: EntryId,
        pass: bool,
    },
    Review {
        req: EntryId,
        post_hoc: bool,
        summary: String,
    },
    Close {
        req: EntryId,
        resolution: crate::audit::bodies::Resolution,
        comment: String,
    },
    /// A new request from the form.
    NewRequest(Box<NewRequest>),
    /// Write the Markdown governance report to a file, recording the read.
    Report {
        path: String,
    },
}

/// The kinds of evidence the attach form offers (the policy's evidence kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvidenceKind {
    Test,
    Scan,
    Compliance,
    Validation,
    Log,
    Other,
}

impl EvidenceKind {
    pub(crate) const ALL: [EvidenceKind; 6] = [
        EvidenceKind::Test,
        EvidenceKind::Scan,
        EvidenceKind::Compliance,
        EvidenceKind::Validation,
        EvidenceKind::Log,
        EvidenceKind::Other,
    ];

    /// The name `workflow` and the policy use.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Test => "test",
            EvidenceKind::Scan => "scan",
            EvidenceKind::Compliance => "compliance",
            EvidenceKind::Validation => "validation",
            EvidenceKind::Log => "log",
            EvidenceKind::Other => "other",
        }
    }
}

/// A new rollback request as filled in the form, each text trimmed (`None`: left empty). The worker
/// completes it from git when a commit is given and builds the typed record from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRequest {
    pub title: String,
    pub change: Option<String>,
    pub rationale: String,
    pub impact: String,
    pub component: Option<String>,
    pub env: String,
    pub revert_command: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub category: crate::audit::record::Category,
    pub risk: crate::audit::record::Risk,
    /// A commit (or A..B) of the git repository the console was started in: fills the revert operation,
    /// the revisions and the components that were left empty.
    pub git_commit: Option<String>,
    /// Invoke the emergency path on it as soon as it is filed (its rationale is the reason).
    pub emergency: bool,
}

/// What a finished action did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    /// Signed and appended this entry, with what went wrong after it was recorded (a notify command that
    /// failed: one line each).
    Signed(EntryId, Vec<String>),
    /// Something else, said in a sentence (a report written).
    Said(String),
}

/// Why an action failed (sanitized), and which step of its dialog can fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    pub message: String,
    pub retry: Retry,
}

/// The dialog step an action goes back to after it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// The passphrase was wrong or missing: type it again.
    Passphrase,
    /// Anything else: read what will be signed again.
    Review,
}

impl Failed {
    pub(crate) fn of(e: &crate::workflow::WorkflowError) -> Failed {
        use crate::identity::IdentityError;
        use crate::workflow::WorkflowError;
        let retry = match e {
            WorkflowError::Identity(IdentityError::WrongPassphrase(_) | IdentityError::NoPassphrase) => {
                Retry::Passphrase
            }
            _ => Retry::Review,
        };
        Failed { message: crate::text::safe(&e.to_string()), retry }
    }
}

/// A side effect for the runtime to perform.
#[derive(Debug)]
pub enum Cmd {
    Queue {
        generation: u64,
        filter: QueueFilter,
        page: Page<QueueKey>,
        limit: usize,
    },
    QueueCount {
        generation: u64,
        filter: QueueFilter,
    },
    /// The rollbacks the CD tools' histories show without a request (`Msg::Alerts`), asked after the
    /// queue's first page so that its rows never wait for them (a reconcile over every request).
    Alerts,
    Detail {
        generation: u64,
        id: EntryId,
    },
    History {
        generation: u64,
        filter: HistoryFilter,
        page: Page<u64>,
        limit: usize,
    },
    HistoryCount {
        generation: u64,
        filter: HistoryFilter,
    },
    Search {
        generation: u64,
        query: String,
    },
    Evidence {
        id: EntryId,
    },
    /// An observed deployment, to file a request from (`Msg::FromObserved`).
    Observation {
        id: EntryId,
    },
    /// Page `page` (from 0) of an evidence file's stored bytes, as text.
    EvidencePage {
        id: EntryId,
        page: u64,
    },
    Entry {
        id: EntryId,
    },
    Metrics,
    /// Write the report without recording anything (read-only consoles, and a ledger found wrong).
    Report {
        path: String,
    },
    Verify,
    /// Check whether another process appended.
    Poll,
    /// Open the ledger again and reread what is shown, though nothing was appended: a time what is shown
    /// depends on has passed (an emergency lapsed), so the index's rows and what waits on the signed-in
    /// key are computed anew.
    Reopen,
    /// Look at a file path typed in a form (is it a file; how does it complete).
    CheckPath {
        input: String,
    },
    /// Sign and append (on the signing worker).
    Act {
        job: Job,
        passphrase: Passphrase,
    },
    Quit,
    /// An auditor's views, each shown in a viewer: members and roles over time, policy versions with
    /// what changed, open obligations.
    Governance(GovernanceView),
    /// Something the loop does to the terminal itself (not a worker).
    Terminal(TermOp),
}

/// Which governance view to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GovernanceView {
    Members,
    Policy,
    Obligations,
}

/// What the console asks of the terminal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TermOp {
    /// Put this text on the clipboard with OSC 52, which terminals honour over ssh too.
    Copy(String),
    /// Capture the mouse (clicks and wheel go to the console) or leave it to the terminal (selection).
    Mouse(bool),
    /// Edit this text in `$VISUAL` / `$EDITOR` (the console steps aside meanwhile); the result comes back
    /// as [`Msg::Edited`].
    Edit(String),
}
