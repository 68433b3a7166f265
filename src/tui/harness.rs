//! Test support (built for tests, and with the `test-support` feature for the integration tests): the
//! console without a terminal, on a `TestBackend`.
//!
//! - [`tui`] gives the real main loop (`runtime::Tui`) with its worker threads: a test sends keys on its
//!   channel and waits on conditions of the state (`Tui::serve_until`), never on time.
//! - [`Harness`] is a synchronous convenience over the same `update`, workers and views: each message goes
//!   through `update`, the commands it returns run one by one on one real worker in the test's thread (no
//!   threads, no coalescing), so a test steps deterministically and can look at every state in between.

use super::msg::{Cmd, Msg};
use super::runtime::Tui;
use super::state::AppState;
use super::{Options, initial_state, update, view, worker};
use crate::workflow::Context;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub struct Harness {
    pub state: AppState,
    pub worker: worker::Worker,
    pub terminal: Terminal<TestBackend>,
    queue: Vec<Cmd>,
}

/// The state a test console starts with on `ctx`: colours on, the default keys (whatever the user's
/// files say), sized `w`×`h`.
pub fn test_state(ctx: &Context, opts: &Options, w: u16, h: u16) -> AppState {
    let mut state = initial_state(ctx, opts);
    state.theme = super::theme::Theme::new(true);
    state.keymap = super::keymap::Keymap::default();
    state.size = (w, h);
    state.viewport = view::list_rows(&state);
    state
}

/// The real console loop on a `TestBackend` of `w`×`h`, its workers started (call `start` to send the
/// start-up commands and draw the first frame).
pub fn tui(ctx: Context, opts: Options, w: u16, h: u16) -> Tui<TestBackend> {
    let state = test_state(&ctx, &opts, w, h);
    let identity = worker::Identity { signer: opts.signer.clone(), read_only: opts.read_only };
    let terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    Tui::new(terminal, state, ctx, identity).expect("test backend")
}

/// The screen last drawn on a test terminal, as text, a line per row.
pub fn screen(terminal: &Terminal<TestBackend>) -> String {
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

impl Harness {
    /// A console on `ctx` drawn at `w`×`h`, with its start-up commands already run.
    pub fn new(ctx: Context, opts: Options, w: u16, h: u16) -> Harness {
        let state = test_state(&ctx, &opts, w, h);
        let worker =
            worker::Worker::new(ctx, worker::Identity { signer: opts.signer.clone(), read_only: opts.read_only });
        let mut h = Harness {
            state,
            worker,
            terminal: Terminal::new(TestBackend::new(w, h)).expect("test backend"),
            queue: Vec::new(),
        };
        let cmds = update::init(&mut h.state);
        h.queue.extend(cmds);
        h.settle();
        h
    }

    /// Sends one message (without running the commands it produced).
    pub fn send(&mut self, m: Msg) {
        let cmds = update::update(&mut self.state, m);
        self.queue.extend(cmds);
    }

    /// Runs queued commands until none are left.
    pub fn settle(&mut self) {
        let mut guard = 0;
        while !self.queue.is_empty() && guard < 1000 {
            guard += 1;
            let cmds: Vec<Cmd> = self.queue.drain(..).collect();
            for c in cmds {
                if matches!(c, Cmd::Quit) {
                    continue;
                }
                for m in self.worker.handle(c) {
                    let more = update::update(&mut self.state, m);
                    self.queue.extend(more);
                }
            }
        }
    }

    /// Presses a key and settles.
    pub fn press(&mut self, code: KeyCode) {
        self.press_mod(code, KeyModifiers::NONE);
    }

    pub fn press_mod(&mut self, code: KeyCode, m: KeyModifiers) {
        self.send(Msg::Key(KeyEvent::new(code, m)));
        self.settle();
    }

    /// Types text, one key per character.
    pub fn type_str(&mut self, s: &str) {
        for c in s.chars() {
            self.send(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        }
        self.settle();
    }

    /// Draws a frame and returns the screen as text.
    pub fn render(&mut self) -> String {
        self.terminal.draw(|f| view::draw(f, &self.state)).expect("draw");
        screen(&self.terminal)
    }

    /// Commands queued and not yet run.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}
