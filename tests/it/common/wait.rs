//! Waiting with a deadline: for a condition, a line, a process's exit.
//! Nothing here sleeps to synchronise; a poll only spaces its checks.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ExitStatus};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use super::DEADLINE;

/// `child`'s exit status, within `deadline`; `None`, the child killed, when it
/// has not exited by then.
pub fn wait_with_deadline(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let mut status = None;
    let exited = poll_until(deadline, || {
        status = child.try_wait().expect("wait for percore");
        status.is_some()
    });
    if !exited {
        let _ = child.kill();
    }
    status
}

/// Polls `done` every millisecond until it holds (true) or `deadline`
/// has passed (false).
pub fn poll_until(deadline: Duration, mut done: impl FnMut() -> bool) -> bool {
    let give_up = Instant::now() + deadline;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= give_up {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until `done` holds; panics saying what never happened (`what`)
/// after [`DEADLINE`].
pub fn wait_until(what: &str, done: impl FnMut() -> bool) {
    assert!(poll_until(DEADLINE, done), "{what} within {DEADLINE:?}");
}

/// The first line from `lines` (see [`lines_of`]) for which `wanted`
/// holds, within [`DEADLINE`]; the lines before it are dropped. `what`
/// names the line in the panic when none comes.
pub fn wait_for_line(
    lines: &Receiver<String>,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let give_up = Instant::now() + DEADLINE;
    loop {
        let line = lines
            .recv_timeout(give_up.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("no {what} within {DEADLINE:?}"));
        if wanted(&line) {
            return line;
        }
    }
}

/// Forwards a pipe's lines over a channel, so reads can have deadlines.
pub fn lines_of(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
