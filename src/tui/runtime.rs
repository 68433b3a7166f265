//! The runtime: one main loop for every backend (`Tui<B>`), and the worker threads it feeds.
//!
//! Everything that happens arrives as a `Msg` on one channel: keys and resizes from the input thread,
//! ticks, the date, and the workers' replies. The loop takes a message and every one already queued behind
//! it, applies them with `update::step`, sends the commands they returned to the workers, and redraws only
//! when a message changed what is shown. `tui::run` runs it on a crossterm terminal; tests run the same
//! loop on a `TestBackend` and put their keys on the channel (`Tui::sender`).
//!
//! Three workers, each a thread with its own ledger connection, each answering with messages:
//! - reads (pages, counts, details, search, metrics, polls, path checks): a queued request that a newer
//!   one of the same kind supersedes is dropped (`coalesce`), so scrolling does not pile up queries;
//! - verification, which reads every entry: on its own, so paging never waits behind it;
//! - signing (unlock a key, append): on its own, so the passphrase KDF does not stall reads.

use super::model::{Problem, Reading};
use super::msg::{Cmd, Failed, Msg, Retry, TermOp};
use super::state::AppState;
use super::worker::{Identity, Outcome, Worker};
use super::{update, view};
use crate::workflow::Context;
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// The worker a command runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    Read,
    Verify,
    Sign,
}

/// Where `cmd` runs; `None` for the commands the loop itself handles (quitting).
pub fn lane(cmd: &Cmd) -> Option<Lane> {
    match cmd {
        Cmd::Quit | Cmd::Terminal(_) => None,
        Cmd::Verify => Some(Lane::Verify),
        Cmd::Act { .. } => Some(Lane::Sign),
        _ => Some(Lane::Read),
    }
}

/// Whether a newer command of the same kind makes a queued `cmd` useless: the state only waits for the
/// reply to the latest request of each kind (older replies are dropped by their generation).
fn supersedable(cmd: &Cmd) -> bool {
    matches!(
        cmd,
        Cmd::Queue { .. }
            | Cmd::QueueCount { .. }
            | Cmd::Alerts
            | Cmd::History { .. }
            | Cmd::HistoryCount { .. }
            | Cmd::Search { .. }
            | Cmd::Detail { .. }
            | Cmd::Metrics
            | Cmd::Poll
            | Cmd::Reopen
            | Cmd::Verify
    )
}

/// Latest wins: of the queued commands `cmds` (oldest first), drops each supersedable one that a later
/// command of the same kind replaces. The others keep their order.
pub(crate) fn coalesce(cmds: Vec<Cmd>) -> Vec<Cmd> {
    let mut out: Vec<Cmd> = Vec::with_capacity(cmds.len());
    for c in cmds {
        if supersedable(&c) {
            let kind = std::mem::discriminant(&c);
            out.retain(|o| std::mem::discriminant(o) != kind);
        }
        out.push(c);
    }
    out
}

/// The worker threads, by lane.
pub(crate) struct Workers {
    read: Sender<Cmd>,
    verify: Sender<Cmd>,
    sign: Sender<Cmd>,
}

impl Workers {
    /// Starts the three workers on `ctx`; their replies go to `out`.
    pub(crate) fn spawn(ctx: Context, identity: Identity, out: &Sender<Msg>) -> Workers {
        let read = Worker::new(ctx, identity);
        let verify = read.sibling().reporting_to(out.clone());
        let sign = read.sibling();
        Workers {
            read: spawn_lane(read.telling(out.clone()), out.clone()),
            verify: spawn_lane(verify.telling(out.clone()), out.clone()),
            sign: spawn_lane(sign.telling(out.clone()), out.clone()),
        }
    }

    /// Sends each command to its worker.
    pub(crate) fn dispatch(&self, cmds: Vec<Cmd>) {
        for c in cmds {
            let to = match lane(&c) {
                None => continue,
                Some(Lane::Read) => &self.read,
                Some(Lane::Verify) => &self.verify,
                Some(Lane::Sign) => &self.sign,
            };
            // A worker that is gone has said why (its panic became a message); the console goes on.
            let _ = to.send(c);
        }
    }
}

/// What a lane's thread answers commands with: the [`Worker`] (a stand-in in the tests).
pub(crate) trait Handler: Send + 'static {
    /// Work a command left for later.
    type Parked: Send;
    fn begin(&mut self, cmd: Cmd) -> Outcome<Self::Parked>;
    fn resume(&mut self, parked: Self::Parked) -> Outcome<Self::Parked>;
}

impl Handler for Worker {
    type Parked = super::worker::Parked;

    fn begin(&mut self, cmd: Cmd) -> Outcome<Self::Parked> {
        Worker::begin(self, cmd)
    }

    fn resume(&mut self, parked: Self::Parked) -> Outcome<Self::Parked> {
        Worker::resume(self, parked)
    }
}

/// A worker thread: takes the commands queued so far, drops the superseded ones, runs the rest in order.
/// Work a command leaves for later (a history page or count over a large log, a slice at a time) is taken
/// up again a step at a time whenever nothing else waits, so what is asked meanwhile waits one step, not
/// the whole scan; a newer command of the same kind drops it. Parked pages go before parked counts (the
/// rows are what the user is looking at), otherwise the oldest first, each to its end.
fn spawn_lane<H: Handler>(mut w: H, out: Sender<Msg>) -> Sender<Cmd> {
    use std::mem::{Discriminant, discriminant};
    let (tx, rx) = mpsc::channel::<Cmd>();
    std::thread::spawn(move || {
        // (kind, whether it is a page, the work left)
        let mut parked: Vec<(Discriminant<Cmd>, bool, Reading, H::Parked)> = Vec::new();
        loop {
            let mut batch = Vec::new();
            if parked.is_empty() {
                match rx.recv() {
                    Ok(first) => batch.push(first),
                    Err(_) => return,
                }
            }
            batch.extend(rx.try_iter());
            parked.retain(|(kind, ..)| !batch.iter().any(|c| supersedable(c) && discriminant(c) == *kind));
            let idle = batch.is_empty();
            for cmd in coalesce(batch) {
                let (kind, signing) = (discriminant(&cmd), matches!(cmd, Cmd::Act { .. }));
                let page = matches!(cmd, Cmd::History { .. });
                let what = super::worker::reading(&cmd);
                match guarded(signing, what, || w.begin(cmd)) {
                    Outcome::Done(msgs) => {
                        if !send_all(&out, msgs) {
                            return;
                        }
                    }
                    Outcome::Parked(p) => parked.push((kind, page, what, p)),
                }
            }
            if idle && !parked.is_empty() {
                let at = parked.iter().position(|(_, page, ..)| *page).unwrap_or(0);
                let (kind, page, what, p) = parked.remove(at);
                match guarded(false, what, || w.resume(p)) {
                    Outcome::Done(msgs) => {
                        if !send_all(&out, msgs) {
                            return;
                        }
                    }
                    Outcome::Parked(p) => parked.insert(at, (kind, page, what, p)),
                }
            }
        }
    });
    tx
}

/// `step`, with a panic in it turned into the message that says so (for the screen that waits for `what`).
fn guarded<P>(signing: bool, what: Reading, step: impl FnOnce() -> Outcome<P>) -> Outcome<P> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).unwrap_or_else(|_| {
        Outcome::Done(vec![if signing {
            // The dialog waits for this answer: it goes back to review.
            Msg::Acted(Err(Failed {
                message: "internal error while signing; check the history before trying again".into(),
                retry: Retry::Review,
            }))
        } else {
            Msg::Error(Problem { reading: what, ..Problem::from("internal error in the worker; the console goes on") })
        }])
    })
}

/// Sends `msgs` to the loop; `false` once it has gone.
fn send_all(out: &Sender<Msg>, msgs: Vec<Msg>) -> bool {
    msgs.into_iter().all(|m| out.send(m).is_ok())
}

/// The console on a terminal: its state, the channel everything arrives on, and the workers.
pub struct Tui<B: Backend> {
    pub terminal: Terminal<B>,
    pub state: AppState,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    workers: Workers,
    /// Whether terminal operations reach the real terminal (`tui` on a terminal), or are only recorded
    /// (tests on a `TestBackend`).
    perform: bool,
    /// The terminal operations asked for, latest last (kept for tests; at most 16).
    pub ops: Vec<TermOp>,
    /// Set while an editor runs, so the input thread leaves the terminal's keys to it.
    pub(crate) input_paused: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<B: Backend> Tui<B> {
    /// A console drawn on `terminal` (its size is read now), with workers started on `ctx`.
    pub fn new(
        terminal: Terminal<B>,
        mut state: AppState,
        ctx: Context,
        identity: Identity,
    ) -> Result<Tui<B>, B::Error> {
        let size = terminal.size()?;
        state.size = (size.width, size.height);
        state.viewport = view::list_rows(&state);
        let (tx, rx) = mpsc::channel();
        let workers = Workers::spawn(ctx, identity, &tx);
        Ok(Tui { terminal, state, tx, rx, workers, perform: false, ops: Vec::new(), input_paused: Default::default() })
    }

    /// Terminal operations (the clipboard, mouse capture) go to this process's terminal.
    pub(crate) fn on_the_terminal(mut self) -> Self {
        self.perform = true;
        self
    }

    /// Where to send messages into the loop (input, ticks; tests send their keys here).
    pub fn sender(&self) -> Sender<Msg> {
        self.tx.clone()
    }

    /// Sends the start-up commands and draws the first frame.
    pub fn start(&mut self) -> Result<(), B::Error> {
        let cmds = update::init(&mut self.state);
        self.workers.dispatch(cmds);
        self.draw()
    }

    /// The main loop, after `start`: until the user quits.
    pub fn serve(&mut self) -> Result<(), B::Error> {
        while !self.state.quit {
            let Ok(m) = self.rx.recv() else { break };
            self.turn(m)?;
        }
        Ok(())
    }

    /// The main loop until `done` holds of the state after a turn (`true`), or the user quits, or no
    /// message came for `patience` (`false`). For tests, which wait on conditions rather than on time.
    pub fn serve_until(&mut self, patience: Duration, done: impl Fn(&AppState) -> bool) -> Result<bool, B::Error> {
        while !self.state.quit {
            match self.rx.recv_timeout(patience) {
                Ok(m) => self.turn(m)?,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return Ok(false),
            }
            if done(&self.state) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// One turn: `m` and every message already queued behind it, their commands to the workers, and a
    /// frame when something shown changed.
    fn turn(&mut self, m: Msg) -> Result<(), B::Error> {
        let first = update::step(&mut self.state, m);
        let (mut cmds, mut redraw) = (first.cmds, first.redraw);
        while let Ok(m) = self.rx.try_recv() {
            let u = update::step(&mut self.state, m);
            cmds.extend(u.cmds);
            redraw |= u.redraw;
        }
        for c in &cmds {
            if let Cmd::Terminal(op) = c {
                self.terminal_op(op);
            }
        }
        self.workers.dispatch(cmds);
        if redraw && !self.state.quit { self.draw() } else { Ok(()) }
    }

    fn terminal_op(&mut self, op: &TermOp) {
        if self.ops.len() == 16 {
            self.ops.remove(0);
        }
        self.ops.push(op.clone());
        if !self.perform {
            return;
        }
        use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
        use std::io::Write;
        let mut out = std::io::stdout();
        // A terminal that cannot take these loses nothing but the convenience.
        let _ = match op {
            TermOp::Copy(text) => {
                use base64::Engine;
                let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                write!(out, "\x1b]52;c;{b64}\x07").and_then(|_| out.flush())
            }
            TermOp::Mouse(true) => ratatui::crossterm::execute!(out, EnableMouseCapture),
            TermOp::Mouse(false) => ratatui::crossterm::execute!(out, DisableMouseCapture),
            TermOp::Edit(text) => {
                let edited = self.edit_outside(text);
                let _ = self.terminal.clear();
                let _ = self.tx.send(Msg::Edited(edited));
                Ok(())
            }
        };
    }

    /// Runs the editor on `text` with the terminal handed over to it: the input thread paused, the
    /// alternate screen and raw mode left, then all restored.
    fn edit_outside(&mut self, text: &str) -> Result<String, String> {
        use std::sync::atomic::Ordering;
        self.input_paused.store(true, Ordering::SeqCst);
        // The input thread polls in 50 ms steps: let it see the pause before the editor reads keys.
        std::thread::sleep(Duration::from_millis(120));
        super::step_aside();
        let result = super::editor::edit(text);
        super::step_back();
        self.input_paused.store(false, Ordering::SeqCst);
        result
    }

    fn draw(&mut self) -> Result<(), B::Error> {
        let state = &self.state;
        self.terminal.draw(|f| view::draw(f, state)).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Hash;
    use crate::workflow::browse::{HistoryFilter, Page, QueueFilter};

    fn queue(generation: u64, page: Page<crate::workflow::browse::QueueKey>) -> Cmd {
        Cmd::Queue { generation, filter: QueueFilter::default(), page, limit: 100 }
    }

    /// A panic while a list's page was read is said to that list (which then says why it has no rows,
    /// instead of "nothing here"); one while signing goes back to the dialog.
    #[test]
    fn a_panic_in_the_worker_is_said_to_what_waited_for_it() {
        let what = super::super::worker::reading(&queue(7, Page::First));
        assert_eq!(what, Reading::Queue(7));
        let said = guarded::<()>(false, what, || panic!("a bug"));
        match said {
            Outcome::Done(msgs) => match msgs.as_slice() {
                [Msg::Error(p)] => assert!(p.reading == Reading::Queue(7) && p.text.contains("internal error")),
                other => panic!("{other:?}"),
            },
            Outcome::Parked(_) => panic!("parked"),
        }
        let signing = guarded::<()>(true, Reading::Other, || panic!("a bug"));
        assert!(matches!(signing, Outcome::Done(m) if matches!(m.as_slice(), [Msg::Acted(Err(_))])));
    }

    /// Of the queued page requests only the latest of each kind runs; the others keep their order, and
    /// commands that are not superseded (evidence, entries, path checks) all run.
    #[test]
    fn queued_requests_are_coalesced_latest_wins() {
        let d = |generation, b| Cmd::Detail { generation, id: Hash([b; 32]) };
        let cmds = vec![
            queue(2, Page::First),
            Cmd::QueueCount { generation: 2, filter: QueueFilter::default() },
            d(3, 1),
            Cmd::Poll,
            Cmd::Entry { id: Hash([7; 32]) },
            queue(4, Page::First),
            Cmd::History { generation: 5, filter: HistoryFilter::default(), page: Page::First, limit: 100 },
            Cmd::Entry { id: Hash([8; 32]) },
            d(6, 2),
            Cmd::Poll,
            Cmd::QueueCount { generation: 4, filter: QueueFilter::default() },
            Cmd::CheckPath { input: "a".into() },
            Cmd::CheckPath { input: "ab".into() },
        ];
        let kept: Vec<String> = coalesce(cmds)
            .iter()
            .map(|c| match c {
                Cmd::Queue { generation, .. } => format!("queue {generation}"),
                Cmd::QueueCount { generation, .. } => format!("count {generation}"),
                Cmd::Detail { generation, .. } => format!("detail {generation}"),
                Cmd::History { generation, .. } => format!("history {generation}"),
                Cmd::Entry { id } => format!("entry {}", id.0[0]),
                Cmd::Poll => "poll".into(),
                Cmd::CheckPath { input } => format!("path {input}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kept,
            ["entry 7", "queue 4", "history 5", "entry 8", "detail 6", "poll", "count 4", "path a", "path ab"]
        );
        assert!(coalesce(vec![]).is_empty());
    }

    /// A stand-in worker: a history count parks until `open` is set (one step per turn of the lane), a
    /// detail is answered at once; each answer names the command's generation.
    struct Gated {
        open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    }

    impl Handler for Gated {
        type Parked = u64;

        fn begin(&mut self, cmd: Cmd) -> Outcome<u64> {
            match cmd {
                Cmd::HistoryCount { generation, .. } | Cmd::History { generation, .. } => self.resume(generation),
                Cmd::Detail { generation, .. } => Outcome::Done(vec![Msg::Notice(format!("detail {generation}"))]),
                other => Outcome::Done(vec![Msg::Error(format!("{other:?}").into())]),
            }
        }

        fn resume(&mut self, generation: u64) -> Outcome<u64> {
            if self.open.load(std::sync::atomic::Ordering::SeqCst) {
                // (Generations: even for pages, odd for counts, in these tests.)
                let what = if generation % 2 == 0 { "page" } else { "count" };
                Outcome::Done(vec![Msg::Notice(format!("{what} {generation}"))])
            } else {
                std::thread::yield_now();
                Outcome::Parked(generation)
            }
        }
    }

    /// A count left part done does not hold up what is asked meanwhile: the detail asked after it is
    /// answered while the count cannot finish; a newer count drops the older one, whose answer never
    /// comes; the count ends once it can.
    #[test]
    fn a_parked_count_waits_for_what_came_after_it_and_a_newer_count_drops_it() {
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (out, answers) = mpsc::channel();
        let lane = spawn_lane(Gated { open: open.clone() }, out);
        let count = |generation| Cmd::HistoryCount { generation, filter: HistoryFilter::default() };
        let next = || match answers.recv_timeout(Duration::from_secs(60)) {
            Ok(Msg::Notice(n)) => n,
            other => panic!("no answer: {other:?}"),
        };
        lane.send(count(1)).unwrap();
        lane.send(Cmd::Detail { generation: 2, id: Hash([1; 32]) }).unwrap();
        assert_eq!(next(), "detail 2", "the detail is answered while the count is parked");
        lane.send(count(3)).unwrap();
        lane.send(Cmd::Detail { generation: 4, id: Hash([1; 32]) }).unwrap();
        assert_eq!(next(), "detail 4");
        open.store(true, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(next(), "count 3", "the newer count ends; the older one was dropped");
        lane.send(Cmd::Detail { generation: 5, id: Hash([1; 32]) }).unwrap();
        assert_eq!(next(), "detail 5", "nothing else was left to answer");
    }

    /// Of a count and a page both parked, the page is finished first, though the count came first.
    #[test]
    fn a_parked_page_goes_before_a_parked_count() {
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (out, answers) = mpsc::channel();
        let lane = spawn_lane(Gated { open: open.clone() }, out);
        let next = || match answers.recv_timeout(Duration::from_secs(60)) {
            Ok(Msg::Notice(n)) => n,
            other => panic!("no answer: {other:?}"),
        };
        lane.send(Cmd::HistoryCount { generation: 1, filter: HistoryFilter::default() }).unwrap();
        lane.send(Cmd::History { generation: 2, filter: HistoryFilter::default(), page: Page::First, limit: 100 })
            .unwrap();
        // Both have begun (and parked) once the detail sent after them is answered.
        lane.send(Cmd::Detail { generation: 3, id: Hash([1; 32]) }).unwrap();
        assert_eq!(next(), "detail 3");
        open.store(true, std::sync::atomic::Ordering::SeqCst);
        assert_eq!([next(), next()], ["page 2", "count 1"]);
    }

    /// Verification and signing have workers of their own; everything else reads.
    #[test]
    fn verification_and_signing_run_on_their_own_workers() {
        assert_eq!(lane(&Cmd::Verify), Some(Lane::Verify));
        let act = Cmd::Act {
            job: crate::tui::msg::Job::Report { path: "r.md".into() },
            passphrase: crate::identity::Passphrase::new(String::new()),
        };
        assert_eq!(lane(&act), Some(Lane::Sign));
        assert_eq!(lane(&queue(1, Page::First)), Some(Lane::Read));
        assert_eq!(lane(&Cmd::Quit), None);
    }
}
