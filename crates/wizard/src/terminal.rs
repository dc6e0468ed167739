//! The real terminal: raw mode and the alternate screen (restored on exit,
//! on error and on panic) and the event loop.

use crate::app::{Effect, Wizard};
use crate::ui;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::crossterm::{cursor, execute};
use ratatui::Terminal;
use std::io::{self, Stdout};
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long the loop waits for a key before it looks at the job again.
const TICK: Duration = Duration::from_millis(100);

type Hook = Arc<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Whether the terminal is in wizard mode (raw, alternate screen).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back: leaves the alternate screen, shows the cursor
/// and disables raw mode. Only the first call after setup acts (leaving the
/// alternate screen twice would move the cursor back over what was printed
/// since, such as a panic message).
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = execute!(io::stdout(), LeaveAlternateScreen, cursor::Show);
        let _ = disable_raw_mode();
    }
}

/// Holds the terminal in wizard mode; dropping it restores the terminal
/// and the previous panic hook.
struct Session {
    previous_hook: Hook,
}

impl Session {
    fn enter() -> io::Result<Session> {
        let previous_hook: Hook = Arc::from(std::panic::take_hook());
        let chained = Arc::clone(&previous_hook);
        let ui_thread = std::thread::current().id();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == ui_thread {
                restore();
                chained(info);
            } else {
                // The job thread (and the engine's workers under it) catch
                // their panics and report them on the Status page; printing
                // here would scribble over the screen.
                tracing::error!("wizard job panicked: {info}");
            }
        }));
        // From here on, dropping the session (also on an error below)
        // restores the terminal and the hook.
        let session = Session { previous_hook };
        ACTIVE.store(true, Ordering::SeqCst);
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
        Ok(session)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        restore();
        // `set_hook` panics on a panicking thread; the wizard's hook then
        // stays, which is harmless (it restores an already restored
        // terminal and calls the previous hook).
        if !std::thread::panicking() {
            let previous = Arc::clone(&self.previous_hook);
            std::panic::set_hook(Box::new(move |info| previous(info)));
        }
    }
}

fn is_quit_key(key: &KeyEvent) -> bool {
    key.code == KeyCode::Char('q')
        || key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)
}

/// The fault-injection hook of the end-to-end test: with
/// `TRANSIT_WIZARD_PANIC=F12` in the environment, F12 panics the UI
/// thread, to show that the panic hook restores the terminal.
fn panic_point(key: &KeyEvent) {
    if key.code == KeyCode::F(12) && std::env::var("TRANSIT_WIZARD_PANIC").is_ok_and(|v| v == "F12")
    {
        panic!("TRANSIT_WIZARD_PANIC: injected panic");
    }
}

/// How the event loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The user finished or quit.
    Quit,
    /// SIGTERM or SIGHUP: the running job (if any) was stopped first.
    Signal,
    /// The terminal went away (hung up, or input at an error): the running
    /// job (if any) was stopped first.
    TerminalLost,
}

/// The controlling terminal, watched with poll(2) before crossterm reads
/// it: on a hung-up terminal crossterm's `poll` never returns (its read
/// loop stops only on "would block", and a hung-up terminal reads EOF or
/// EIO forever), so the wizard would spin and miss every signal.
pub(crate) struct TerminalWatch {
    tty: Option<std::fs::File>,
}

impl TerminalWatch {
    /// Watches `/dev/tty` (a process without one is "gone" at once).
    pub(crate) fn open() -> TerminalWatch {
        TerminalWatch {
            tty: std::fs::File::open("/dev/tty").ok(),
        }
    }

    /// Waits up to `timeout` for input (`true` when some came). `Err` when
    /// the terminal is gone.
    pub(crate) fn wait(&self, timeout: Duration) -> Result<bool, ()> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        use std::os::fd::AsFd;
        let Some(tty) = &self.tty else {
            return Err(());
        };
        let mut fds = [PollFd::new(tty.as_fd(), PollFlags::POLLIN)];
        let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        match poll(&mut fds, PollTimeout::from(millis)) {
            Ok(0) => Ok(false),
            Ok(_) => {
                let events = fds[0].revents().unwrap_or(PollFlags::empty());
                if events.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL)
                {
                    Err(())
                } else {
                    Ok(events.contains(PollFlags::POLLIN))
                }
            }
            Err(nix::errno::Errno::EINTR) => Ok(false),
            Err(_) => Err(()),
        }
    }
}

/// Runs `wizard` on the process's terminal until it quits, a signal ends
/// it, or its terminal goes away; in the last two cases a running job is
/// stopped (an import rolls back) and waited for before it returns.
pub fn run(wizard: &mut Wizard) -> io::Result<Ending> {
    // SIGTERM or SIGHUP (a closed terminal) quits like `q`: a running job
    // is stopped (an import rolls back) before the wizard exits.
    let terminated = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, terminated.clone())?;
    }
    let watch = TerminalWatch::open();
    let _session = Session::enter()?;
    let mut terminal: Terminal<CrosstermBackend<Stdout>> =
        Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    loop {
        let mut small = false;
        let drawn = terminal.draw(|frame| {
            small = ui::too_small(frame.area());
            ui::draw(frame, wizard);
        });
        if drawn.is_err() || watch.wait(TICK).is_err() {
            return Ok(finish_without_terminal(wizard));
        }
        // Every event crossterm has (a paste brings many at once); the
        // terminal was just seen alive, so this does not block.
        while event::poll(Duration::ZERO)? {
            if let Event::Key(key) = event::read()? {
                if key.kind == KeyEventKind::Release {
                    continue;
                }
                panic_point(&key);
                // While the terminal is too small nothing is visible:
                // only quitting is allowed.
                let effect = if small {
                    if is_quit_key(&key) {
                        wizard.quit()
                    } else {
                        Effect::None
                    }
                } else {
                    wizard.handle(key)
                };
                if effect == Effect::Quit {
                    return Ok(Ending::Quit);
                }
            }
        }
        if terminated.load(std::sync::atomic::Ordering::Relaxed) {
            if wizard.quit() == Effect::Quit {
                return Ok(Ending::Signal);
            }
            // A job is stopping: keep showing its progress until it ends.
            if wizard.poll() == Effect::Quit {
                return Ok(Ending::Signal);
            }
            continue;
        }
        if wizard.poll() == Effect::Quit {
            return Ok(Ending::Quit);
        }
    }
}

/// The terminal is gone: stops the running job, if any, and waits for it
/// (an import rolls back), drawing nothing.
fn finish_without_terminal(wizard: &mut Wizard) -> Ending {
    tracing::warn!("the terminal went away: stopping the wizard");
    if wizard.quit() != Effect::Quit {
        while wizard.wait(TICK) != Effect::Quit {}
    }
    Ending::TerminalLost
}
