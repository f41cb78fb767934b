//! The runners of `cgtree top`: JSON lines, text blocks, or the full-screen view.
//!
//! The full-screen view puts the terminal in raw mode on the alternate screen and hides
//! the cursor; [`TerminalGuard`] undoes that when the view ends, whether by a key, an
//! error or a panic (a panic hook restores the terminal before the message is printed).

use super::view::{Action, Key, View};
use super::{batch, ui, Frame, Source};
use crate::config::{Config, Top};
use crate::term::{self, Diag};
use crate::{finish, FATAL, OK, PARTIAL};
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use std::io::{self, Write};
use std::time::Instant;

/// The longest wait between the priming sample and the first frame.
pub const PRIME_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs `cgtree top` on `source`: JSON lines with `--json`, text blocks with `-b` or
/// when stdout is not a terminal, the full-screen view otherwise. `prime`: take one
/// frame first and wait one interval (see [`super::Sampler::needs_prime`]). Returns the
/// exit status.
///
/// # Errors
/// When the first frame cannot be read, or the terminal cannot be set up.
pub fn top(
    cfg: &Config,
    t: &Top,
    source: &mut dyn Source,
    prime: bool,
    diag: &mut Diag,
) -> anyhow::Result<u8> {
    if prime {
        // Rates need two samples: the first one, a short while before the first frame
        // (the delay, but at most a second: a long `-d` does not leave the screen blank
        // and deaf to keys for its whole length).
        source.next_frame()?;
        std::thread::sleep(t.delay.min(PRIME_WAIT));
    }
    if cfg.json || t.batch || !term::stdout_is_terminal() {
        return stream(cfg, t, source, diag);
    }
    interactive(cfg, t, source)
}

/// JSON lines or text blocks, one per frame, `t.iterations` times (default: until the
/// reader goes away).
fn stream(cfg: &Config, t: &Top, source: &mut dyn Source, diag: &mut Diag) -> anyhow::Result<u8> {
    let mut out = term::stdout(cfg.color);
    let mut n: u64 = 0;
    let mut last: Option<Frame> = None;
    let written = loop {
        if t.iterations.is_some_and(|max| n >= max) {
            break Ok(());
        }
        if n > 0 {
            std::thread::sleep(t.delay);
        }
        let frame = source.next_frame()?;
        let r = if cfg.json {
            batch::write_json_line(&frame, &mut out)
        } else {
            batch::write_block(&frame, t.order, cfg.width, &mut out)
        }
        .and_then(|()| out.flush());
        last = Some(frame);
        n += 1;
        if r.is_err() {
            break r;
        }
    };
    drop(out);
    let code = match &last {
        Some(f) if report_errors(f, diag) => PARTIAL,
        _ => OK,
    };
    Ok(finish(written, code, diag))
}

/// Reports each row's errors on stderr (`cgtree: PATH: error`); whether there was one.
fn report_errors(frame: &Frame, diag: &mut Diag) -> bool {
    let mut any = false;
    for r in &frame.rows {
        for e in &r.errors {
            any = true;
            diag.error(format_args!(
                "{}: {}",
                crate::sanitize::sanitize(&r.path),
                e
            ));
        }
    }
    any
}

/// Restores the terminal (raw mode off, main screen, cursor shown) when dropped.
pub struct TerminalGuard;

/// Whether the terminal is in the view's modes (restored once only: leaving the
/// alternate screen a second time would move the cursor back over what was printed
/// since, such as a panic's message).
static ACTIVE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn restore() {
    if !ACTIVE.swap(false, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        term::screen(),
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

impl TerminalGuard {
    /// Raw mode, alternate screen, cursor hidden; and a panic hook that restores the
    /// terminal before the previous hook prints the message.
    ///
    /// # Errors
    /// When the terminal cannot be set up (it is restored first).
    pub fn enter() -> io::Result<TerminalGuard> {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            prev(info);
        }));
        let guard = TerminalGuard;
        ACTIVE.store(true, std::sync::atomic::Ordering::SeqCst);
        crossterm::terminal::enable_raw_mode()?;
        crossterm::execute!(
            term::screen(),
            crossterm::terminal::EnterAlternateScreen,
            crossterm::cursor::Hide
        )?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// What the terminal's input has after a wait.
enum Input {
    /// Bytes to read (or not a terminal on stdin: crossterm's own source is asked).
    Ready,
    /// Nothing within the wait.
    Quiet,
    /// Hung up or closed: the view ends.
    Gone,
}

/// Waits up to `wait` for input on standard input when it is the terminal.
fn terminal_input(wait: std::time::Duration) -> Input {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::io::IsTerminal;
    use std::os::fd::AsFd;
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        // crossterm reads /dev/tty then: let it wait.
        std::thread::sleep(wait.min(std::time::Duration::from_millis(10)));
        return Input::Ready;
    }
    let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::from(ms)) {
        Ok(0) => Input::Quiet,
        Ok(_) => {
            let r = fds[0].revents().unwrap_or(PollFlags::empty());
            if r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL) {
                Input::Gone
            } else {
                Input::Ready
            }
        }
        // EINTR (a signal: the loop looks at the flag) and the like.
        Err(_) => Input::Quiet,
    }
}

/// The view's key for a crossterm key event.
pub fn key_of(k: &event::KeyEvent) -> Option<Key> {
    if k.modifiers.contains(KeyModifiers::CONTROL) {
        return (k.code == KeyCode::Char('c')).then_some(Key::CtrlC);
    }
    Some(match k.code {
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        _ => return None,
    })
}

fn interactive(cfg: &Config, t: &Top, source: &mut dyn Source) -> anyhow::Result<u8> {
    // The first frame before the screen changes: an unreadable start cgroup is an
    // error on a normal terminal.
    let mut frame = source.next_frame()?;
    let guard = TerminalGuard::enter()?;
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(term::screen()))?;
    terminal.clear()?;
    let styles = ui::Styles::new(cfg.color);
    // crossterm leaves colours out when NO_COLOR is set; `--color always` overrides that
    // (cgtree decided already: Config::color).
    if cfg.color {
        crossterm::style::force_color_output(true);
    }
    // SIGTERM, SIGHUP (the terminal went away) and a SIGINT sent from elsewhere (the
    // terminal's Ctrl-C is a key in raw mode) end the view like `q`: the terminal is
    // restored by the guard, not left in raw mode on the alternate screen.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ] {
        signal_hook::flag::register(sig, std::sync::Arc::clone(&stop))?;
    }
    let mut view = View::new(t.order);
    let mut frames: u64 = 1;
    let mut next = Instant::now() + t.delay;
    let mut dirty = true;
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        if dirty {
            terminal.draw(|f| ui::draw(f, &frame, &mut view, styles))?;
            dirty = false;
        }
        // Waits in slices of at most 100 ms, so that a signal is seen soon.
        let wait = next
            .saturating_duration_since(Instant::now())
            .min(std::time::Duration::from_millis(100));
        // The terminal itself is watched first: once it hangs up (its window closed,
        // the tmux session killed), crossterm's reader would spin on end-of-file inside
        // `event::poll` and never return.
        match terminal_input(wait) {
            Input::Gone => break,
            Input::Quiet => {}
            Input::Ready => {}
        }
        if event::poll(std::time::Duration::ZERO)? {
            dirty = true;
            match event::read()? {
                Event::Key(k) if k.kind != KeyEventKind::Release => {
                    // Debug builds only: a key panics, for the test that the panic hook
                    // restores the terminal (cgroup-cli/tests/top.rs).
                    #[cfg(debug_assertions)]
                    if std::env::var_os("CGTREE_TEST_TOP_PANIC").is_some() {
                        panic!("cgtree top: test panic");
                    }
                    if let Some(key) = key_of(&k) {
                        if view.key(&frame, key) == Action::Quit {
                            break;
                        }
                    }
                }
                _ => {}
            }
            continue;
        }
        if Instant::now() < next {
            continue;
        }
        next = Instant::now() + t.delay;
        if view.paused {
            continue;
        }
        if t.iterations.is_some_and(|max| frames >= max) {
            break;
        }
        match source.next_frame() {
            Ok(f) => {
                frame = f;
                frames += 1;
                dirty = true;
            }
            Err(e) => {
                drop(terminal);
                drop(guard);
                let mut diag = Diag::default();
                diag.error(format_args!("{e:#}"));
                return Ok(FATAL);
            }
        }
    }
    drop(terminal);
    drop(guard);
    Ok(OK)
}
