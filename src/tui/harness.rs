//! A test harness that drives the real console without a terminal: messages go through `update`, the
//! commands it returns run synchronously on a real worker, and frames are drawn on a `TestBackend`.
//! Tests and the performance benchmark use it.

use super::msg::{Cmd, Msg};
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

impl Harness {
    /// A console on `ctx` drawn at `w`×`h`, with its start-up commands already run.
    pub fn new(ctx: Context, opts: Options, w: u16, h: u16) -> Harness {
        let mut state = initial_state(&ctx, &opts);
        state.theme = super::theme::Theme::new(true);
        state.keymap = super::keymap::Keymap::default();
        state.size = (w, h);
        state.viewport = view::list_rows(&state);
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
        let buf = self.terminal.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    /// Commands queued and not yet run.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}
