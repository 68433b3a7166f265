//! The review console: an Elm-style TUI on ratatui and crossterm. Plain state (`state`), a pure
//! `update` (messages in, commands out), drawing as a pure function of the state (`view`), and std
//! threads — input, a ticker, and the read, verification and signing workers (`worker`) — feeding one
//! channel that one loop, generic over the terminal backend, drains (`runtime`). The console calls
//! `workflow` for everything; it never writes ledger tables itself.

pub(crate) mod editor;
#[cfg(any(test, feature = "test-support"))]
pub mod harness;
pub mod help;
pub mod keymap;
pub mod model;
pub mod msg;
pub mod runtime;
pub mod state;
pub mod theme;
pub mod update;
pub mod view;
pub mod worker;

use crate::workflow::{Context, WorkflowError};
use msg::Msg;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use state::AppState;
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
    let _ = execute!(
        std::io::stdout(),
        LeaveAlternateScreen,
        DisableMouseCapture,
        ratatui::crossterm::event::DisableBracketedPaste,
        ratatui::crossterm::cursor::Show
    );
}

/// Hands the terminal to another program (an editor): raw mode, the alternate screen, mouse capture and
/// bracketed paste off.
pub(crate) fn step_aside() {
    restore();
}

/// Takes the terminal back after [`step_aside`].
pub(crate) fn step_back() {
    let _ = enable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        ratatui::crossterm::event::EnableBracketedPaste,
        ratatui::crossterm::cursor::Hide
    );
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
    if !opts.read_only {
        (s.may_file, s.emergency) = crate::workflow::waiting::may_file_and_invoke(ctx, opts.signer.as_deref());
    }
    if let Some(e) = keymap_error {
        s.toast(e, true);
    }
    s
}

/// Opens the console on a terminal and runs it until the user quits. A terminal that cannot be used is
/// a failure of the system (`WorkflowError::Io`, exit 1), not bad input.
pub(crate) fn run(ctx: Context, opts: Options) -> Result<(), WorkflowError> {
    let io = |what: &str| {
        let what = what.to_string();
        move |e: std::io::Error| WorkflowError::Io(what, e)
    };
    // Fail early, before the terminal changes, if the ledger cannot be opened.
    ctx.open_read_only()?;
    let state = initial_state(&ctx, &opts);
    let identity = worker::Identity { signer: opts.signer.clone(), read_only: opts.read_only };
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    enable_raw_mode().map_err(io("use this terminal"))?;
    let _guard = Guard;
    execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        ratatui::crossterm::event::EnableBracketedPaste
    )
    .map_err(io("use this terminal"))?;
    let backend = ratatui::backend::CrosstermBackend::new(std::io::stdout());
    let terminal = ratatui::Terminal::new(backend).map_err(io("use this terminal"))?;
    let today = state.today;
    let mut tui =
        runtime::Tui::new(terminal, state, ctx, identity).map_err(io("read the terminal's size"))?.on_the_terminal();
    // Input, paused while an editor has the terminal.
    {
        let tx = tui.sender();
        let paused = tui.input_paused.clone();
        std::thread::spawn(move || {
            loop {
                if paused.load(std::sync::atomic::Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                match event::poll(Duration::from_millis(50)) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(_) => break,
                }
                let msg = match event::read() {
                    Ok(Event::Key(k)) => Msg::Key(k),
                    Ok(Event::Mouse(m)) => Msg::Mouse(m),
                    Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                    Ok(Event::Paste(text)) => Msg::Paste(text),
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
        let tx = tui.sender();
        let mut today = today;
        let mut minute = crate::workflow::clock::now().timestamp() / 60;
        std::thread::spawn(move || {
            while tx.send(Msg::Tick).is_ok() {
                std::thread::sleep(Duration::from_millis(250));
                let now = crate::workflow::clock::now();
                if now.timestamp() / 60 != minute {
                    minute = now.timestamp() / 60;
                    if tx.send(Msg::Minute(now)).is_err() {
                        break;
                    }
                }
                if now.date_naive() != today {
                    today = now.date_naive();
                    if tx.send(Msg::Today(today)).is_err() {
                        break;
                    }
                }
            }
        });
    }
    tui.start().map_err(io("draw on this terminal"))?;
    // For the launch benchmark: how long from process start to the first frame.
    if let (Some(path), Some(started)) = (std::env::var_os("ROLLCALL_FIRST_FRAME_LOG"), crate::STARTED.get()) {
        let _ = std::fs::write(path, format!("{}\n", started.elapsed().as_micros()));
    }
    tui.serve().map_err(io("draw on this terminal"))
}
