//! The one connection loop every service runs on: read a batch, let the
//! service answer every complete request in it into one output buffer, write
//! that buffer in one go, repeat. Nothing is read while a write is pending, so
//! a peer that does not drain our replies cannot make us buffer more.
//!
//! Per batch, whatever its size: one read, one write, two clock reads and one
//! histogram update. Buffers are allocated once per connection.

use std::cell::RefCell;
use std::io;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use super::buffer::InputBuffer;
use super::shard::Shard;
use crate::service::{Batch, Flow, Service};
use crate::stats::ServiceStats;

/// An output buffer grown past this by one huge batch is given back afterwards.
const OUTPUT_SHRINK_ABOVE: usize = 1 << 20;
/// How long a closing connection waits for its peer to stop sending.
const LINGER: Duration = Duration::from_secs(2);
/// How much a closing connection reads and discards while lingering.
const LINGER_MAX_BYTES: usize = 4 << 20;

/// Serves one connection until the peer closes, the service closes, an error,
/// the idle timeout, or shutdown.
pub(crate) async fn serve<S: Service>(
    service: &S,
    stream: TcpStream,
    shard: &Shard,
    stats: &RefCell<ServiceStats>,
) {
    let mut session = service.open_session();
    serve_session(service, &mut session, stream, shard, stats).await;
    service.close_session(session);
}

async fn serve_session<S: Service>(
    service: &S,
    session: &mut S::Session,
    mut stream: TcpStream,
    shard: &Shard,
    stats: &RefCell<ServiceStats>,
) {
    let limits = shard.limits;
    if let Some(idle) = limits.idle_timeout {
        let _ = stream.set_read_timeout(Some(idle));
        let _ = stream.set_write_timeout(Some(idle));
    }
    // Replies go out once per batch: Nagle would only delay them.
    let _ = stream.set_nodelay(true);

    let mut input = InputBuffer::new();
    let mut decoder = S::Decoder::default();
    let mut output = Vec::new();

    loop {
        let received = match stream.read(input.spare()).await {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => return count_idle_close(&e, stats),
        };
        let read_at = Instant::now();
        input.filled(received);
        #[cfg(debug_assertions)]
        if let Some(trigger) = &shard.panic_trigger {
            if memchr::memmem::find(input.data(), trigger).is_some() {
                panic!("test fault injection: a request asked for a panic");
            }
        }

        let mut batch = Batch::new(input.data(), &mut decoder, limits.max_frame, &mut output);
        let flow = service.serve(session, &mut batch).await;
        let outcome = batch.outcome();
        input.consume(outcome.consumed);

        let mut errors = outcome.errors;
        let mut close = flow == Flow::Close || shard.is_stopping();
        if outcome.too_long && flow == Flow::Continue {
            service.frame_too_long(&mut output);
            errors += 1;
            close = true;
        }

        let written = if output.is_empty() {
            Ok(())
        } else {
            stream.write_all(&output).await
        };
        let done = Instant::now();
        {
            let mut stats = stats.borrow_mut();
            stats.counters.bytes_in += received as u64;
            stats.counters.errors += errors;
            stats.counters.forwarded += outcome.forwarded;
            if written.is_ok() {
                stats.counters.bytes_out += output.len() as u64;
                stats.record_served(outcome.served, done - read_at, done - shard.start);
            }
        }
        if let Err(e) = written {
            return count_idle_close(&e, stats);
        }

        output.clear();
        if output.capacity() > OUTPUT_SHRINK_ABOVE {
            output = Vec::new();
        }
        if close {
            return linger_close(stream).await;
        }
    }
}

fn count_idle_close(error: &io::Error, stats: &RefCell<ServiceStats>) {
    if error.kind() == io::ErrorKind::TimedOut {
        stats.borrow_mut().counters.idle_closes += 1;
    }
}

/// Closes a connection the server chose to end without losing the last
/// replies: closing a socket that still has unread input sends a reset, which
/// can make the peer drop replies it has not read yet. So send our FIN, then
/// read and discard until the peer closes too, for a bounded time and size.
async fn linger_close(mut stream: TcpStream) {
    if stream.close().await.is_err() {
        return;
    }
    let _ = stream.set_read_timeout(Some(LINGER));
    let mut scratch = [0u8; 4096];
    let mut discarded = 0;
    while discarded < LINGER_MAX_BYTES {
        match stream.read(&mut scratch).await {
            Ok(0) | Err(_) => return,
            Ok(n) => discarded += n,
        }
    }
}
