//! What a connection waits for between two batches (connection.rs): input,
//! and with an outbox pushed output or the idle timeout, a request deadline,
//! and the shard's buffer sweep asking to resize its input buffer (sweep.rs).
//!
//! Only what a connection has is raced: the common path (no outbox, no
//! deadline) is its read and the sweep's flag, and arms no timer.
//!
//! A sweep that wins the race drops the pending read. That loses nothing:
//! glommio's stream keeps what its receive took until a read takes it
//! (vendor/glommio/src/net/stream.rs `poll_read_multishot`, and without
//! multishot receives `poll_read` reads only when polled), and a TLS read's
//! only wait is that TCP read (crates/percore/src/tls/stream.rs `read`).
//! A connection whose buffer was released waits with a read into a few
//! bytes on the stack instead, holding no buffer, and allocates one when
//! input comes.

use std::io;
use std::time::{Duration, Instant};

use futures_lite::FutureExt;

use super::buffer::InputBuffer;
use super::outbox::Outbox;
use super::sweep::Watch;
use crate::transport::Transport;

/// What a connection without a buffer reads into first: most requests
/// after a pause fit (a partial frame just waits for the next read), and
/// every connection's task carries this much more.
const FIRST_READ: usize = 64;

/// What the connection's state asks the wait to race.
pub(crate) struct Waiting<'a> {
    pub watch: &'a Watch,
    pub outbox: Option<&'a Outbox>,
    pub idle_timeout: Option<Duration>,
    pub last_activity: Instant,
    pub request_due: Option<Instant>,
}

/// What ended the wait at the top of the loop.
pub(crate) enum Woken {
    /// Requests are already buffered: the last batch spent its output budget.
    Buffered,
    Input(io::Result<usize>),
    /// Output was pushed, or the outbox overflowed.
    Pushed,
    /// Nothing received or sent for `--idle-timeout`.
    Idle,
    /// The request the service asked for did not come in time.
    Overdue,
    /// The sweep asked to resize the input buffer.
    Swept,
    /// Input came while the buffer was released: these bytes are already
    /// in a newly allocated buffer.
    Refilled(usize),
}

/// Waits for input, or (with an outbox) for pushed output or the idle
/// timeout, or for a request deadline to pass, or for the sweep.
pub(crate) async fn wait(
    stream: &mut impl Transport,
    input: &mut InputBuffer,
    waiting: Waiting<'_>,
) -> Woken {
    let Waiting {
        watch,
        outbox,
        idle_timeout,
        last_activity,
        request_due,
    } = waiting;
    if input.is_released() {
        let more = waiting_for_more(outbox, idle_timeout, last_activity, request_due);
        return wait_released(stream, input, more).await;
    }
    let read = async { Woken::Input(stream.read(input.spare()).await) };
    let swept = async {
        watch.asked().await;
        Woken::Swept
    };
    if outbox.is_none() && request_due.is_none() {
        return read.or(swept).await;
    }
    read.or(swept)
        .or(waiting_for_more(
            outbox,
            idle_timeout,
            last_activity,
            request_due,
        ))
        .await
}

/// Waits without a buffer: a read into a few bytes on the stack says when
/// input comes; they go into a newly allocated buffer (then the loop reads
/// the rest as usual). A read, not a peek: the socket's read timeout (the
/// idle timeout) and end of stream work as for any read, and glommio keeps
/// no waiter per wait.
async fn wait_released(
    stream: &mut impl Transport,
    input: &mut InputBuffer,
    more: impl std::future::Future<Output = Woken>,
) -> Woken {
    let first = async {
        let mut first = [0u8; FIRST_READ];
        match stream.read(&mut first).await {
            Ok(n) if n > 0 => {
                input.push(&first[..n]);
                Woken::Refilled(n)
            }
            other => Woken::Input(other),
        }
    };
    first.or(more).await
}

/// Pushed output, the idle timeout and the request deadline.
fn waiting_for_more<'a>(
    outbox: Option<&'a Outbox>,
    idle_timeout: Option<Duration>,
    last_activity: Instant,
    request_due: Option<Instant>,
) -> impl std::future::Future<Output = Woken> + 'a {
    let pushed = async move {
        match outbox {
            Some(outbox) => outbox.ready().await,
            None => std::future::pending().await,
        }
        Woken::Pushed
    };
    // Without an outbox, the socket's own read timeout keeps the idle clock.
    let idle = async move {
        match idle_timeout {
            Some(idle) if outbox.is_some() => {
                glommio::timer::sleep(idle.saturating_sub(last_activity.elapsed())).await
            }
            _ => std::future::pending().await,
        }
        Woken::Idle
    };
    let overdue = async move {
        match request_due {
            Some(due) => glommio::timer::sleep(due.saturating_duration_since(Instant::now())).await,
            None => std::future::pending().await,
        }
        Woken::Overdue
    };
    pushed.or(idle).or(overdue)
}
