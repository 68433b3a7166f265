//! The review console: an Elm-style TUI on ratatui and crossterm. Plain state (`state`), a pure
//! `update` (messages in, commands out), drawing as a pure function of the state (`view`), and std
//! threads — input, a ticker, a DB worker and a signing worker — feeding one channel. The console calls
//! `workflow` for everything; it never writes ledger tables itself.

pub mod harness;
pub mod keymap;
pub mod model;
pub mod msg;
pub mod state;
pub mod theme;
pub mod update;
pub mod view;
pub mod worker;

use crate::workflow::{Context, WorkflowError};
use msg::{Cmd, Msg};
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use state::AppState;
use std::sync::mpsc;
use std::time::Duration;

/// How the console opens.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub read_only: bool,
    /// The key that signs (else ROLLCALL_KEY or the only key).
    pub signer: Option<String>,
    /// A line shown under the title (the demo prints its passphrase there).
    pub banner: Option<String>,
}

/// Restores the terminal: leaves the alternate screen, mouse capture and raw mode.
fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(std::io::stdout(), LeaveAlternateScreen, DisableMouseCapture, ratatui::crossterm::cursor::Show);
}

struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// The state a console starts with for `ctx`.
pub fn initial_state(ctx: &Context, opts: &Options) -> AppState {
    let (keymap, keymap_error) = keymap::Keymap::load();
    let user = ctx.signer_name(opts.signer.as_deref()).unwrap_or_else(|_| "(no key)".into());
    let ledger_name = ctx.ledger_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut s = AppState::new(user, ledger_name, opts.read_only, opts.banner.clone(), keymap, theme::Theme::load());
    // What `update` must not look up itself.
    s.today = crate::workflow::clock::now().date_naive();
    s.in_git = std::path::Path::new(".git").exists();
    if let Some(e) = keymap_error {
        s.toast(e, true);
    }
    s
}

/// Opens the console on a terminal and runs it until the user quits.
pub fn run(ctx: Context, opts: Options) -> Result<(), WorkflowError> {
    // Fail early, before the terminal changes, if the ledger cannot be opened.
    ctx.open_read_only()?;
    let mut state = initial_state(&ctx, &opts);
    let identity = worker::Identity { signer: opts.signer.clone(), read_only: opts.read_only };
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    enable_raw_mode().map_err(|e| WorkflowError::Usage(format!("cannot use this terminal: {e}")))?;
    let _guard = Guard;
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)
        .map_err(|e| WorkflowError::Usage(e.to_string()))?;
    let backend = ratatui::backend::CrosstermBackend::new(std::io::stdout());
    let mut terminal = ratatui::Terminal::new(backend).map_err(|e| WorkflowError::Usage(e.to_string()))?;
    let size = terminal.size().map_err(|e| WorkflowError::Usage(e.to_string()))?;
    state.size = (size.width, size.height);
    state.viewport = view::list_rows(&state);

    let (tx, rx) = mpsc::channel::<Msg>();
    // Input.
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            loop {
                let msg = match event::read() {
                    Ok(Event::Key(k)) => Msg::Key(k),
                    Ok(Event::Mouse(m)) => Msg::Mouse(m),
                    Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                    Ok(_) => continue,
                    Err(_) => break,
                };
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
    }
    // Ticker, and the date when it changes.
    {
        let tx = tx.clone();
        let mut today = state.today;
        std::thread::spawn(move || {
            while tx.send(Msg::Tick).is_ok() {
                std::thread::sleep(Duration::from_millis(250));
                let now = crate::workflow::clock::now().date_naive();
                if now != today {
                    today = now;
                    if tx.send(Msg::Today(now)).is_err() {
                        break;
                    }
                }
            }
        });
    }
    // Workers.
    let db = worker::Worker::new(ctx, identity);
    let signer = db.sibling();
    let db_tx = spawn_worker(db, tx.clone());
    let sign_tx = spawn_worker(signer, tx.clone());
    let dispatch = |cmds: Vec<Cmd>| {
        for c in cmds {
            let _ = match c {
                Cmd::Act { .. } => sign_tx.send(c),
                Cmd::Quit => Ok(()),
                other => db_tx.send(other),
            };
        }
    };
    dispatch(update::init(&mut state));
    let mut first = true;
    loop {
        terminal.draw(|f| view::draw(f, &state)).map_err(|e| WorkflowError::Usage(e.to_string()))?;
        if first {
            first = false;
            // For the launch benchmark: how long from process start to the first frame.
            if let (Some(path), Some(started)) = (std::env::var_os("ROLLCALL_FIRST_FRAME_LOG"), crate::STARTED.get()) {
                let _ = std::fs::write(path, format!("{}\n", started.elapsed().as_micros()));
            }
        }
        let Ok(first) = rx.recv() else { break };
        let mut cmds = update::update(&mut state, first);
        while let Ok(m) = rx.try_recv() {
            cmds.extend(update::update(&mut state, m));
        }
        dispatch(cmds);
        if state.quit {
            break;
        }
    }
    Ok(())
}

fn spawn_worker(mut w: worker::Worker, out: mpsc::Sender<Msg>) -> mpsc::Sender<Cmd> {
    let (tx, rx) = mpsc::channel::<Cmd>();
    std::thread::spawn(move || {
        while let Ok(cmd) = rx.recv() {
            // Coalesce: drop queued polls behind this one.
            let msgs = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.handle(cmd)))
                .unwrap_or_else(|_| vec![Msg::Error("internal error in the worker; the console goes on".into())]);
            for m in msgs {
                if out.send(m).is_err() {
                    return;
                }
            }
        }
    });
    tx
}
