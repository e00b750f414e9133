//! The one connection loop every service runs on: read a batch, let the
//! service answer every complete request in it into one output buffer, write
//! that buffer in one go, repeat. Nothing is read while a write is pending, so
//! a peer that does not drain our replies cannot make us buffer more.
//!
//! Per batch, whatever its size: one read, one write, one clock read (the
//! write's end; the read's is the executor's pass clock) and one histogram
//! update. Buffers are allocated once per connection; the input
//! buffer is given back while the connection is idle and shrinks after a
//! big frame, when the shard's sweep asks (buffer.rs, sweep.rs, waiting.rs).
//!
//! A service may also push output that no request of this connection asked
//! for (mq's deliveries) into the connection's [`Outbox`]: the loop then
//! waits for input or pushed output, whichever comes first, writes all the
//! pushed output gathered in one go, and closes the connection when the
//! outbox overflows its cap (a slow disconnect).
//!
//! A service may also ask for the next request within a deadline; only then
//! does the wait race a timer, so the common path arms none.
//!
//! Between two batches, a connection of a shard whose core is crowded may
//! leave for another shard (moving.rs); writing and closing are writing.rs.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use super::buffer::InputBuffer;
use super::outbox::Outbox;
use super::shard::Shard;
use super::sweep::Watch;
use super::waiting::{wait, Waiting, Woken};
use super::writing::{
    count_idle_close, linger_close, write_pushed, write_unless_overflowed, write_unprompted,
    OUTPUT_SHRINK_ABOVE,
};
use crate::service::{Batch, Flow, Opening, Service};
use crate::stats::LiveStats;
use crate::transport::Transport;

/// A connection that leaves this shard for shard `to` (crates/percore/src/server/moving.rs):
/// its stream, between two batches, every request read answered.
pub(crate) struct Leaving<T> {
    pub stream: T,
    pub to: usize,
}

/// Serves one connection until the peer closes, the service closes, an error,
/// the idle timeout, or shutdown; or until it leaves for another shard, when
/// it is returned. `unread` is what was received for it before (on the shard
/// it came from): it is served before anything read here.
pub(crate) async fn serve<S: Service, T: Transport>(
    service: &S,
    mut stream: T,
    listener: Option<SocketAddr>,
    shard: &Shard,
    stats: &LiveStats,
    unread: Vec<u8>,
) -> Option<Leaving<T>> {
    let mut greeting = Vec::new();
    let tcp = stream.tcp();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&*tcp);
    let mut opening = Opening::new(shard.id, tcp.peer_addr().ok(), &mut greeting)
        .at(listener)
        .with_fd(fd);
    let mut session = service.open_session(&mut opening);
    let watch = Rc::new(Watch::new(opening.input(), Instant::now()));
    let _watched = shard.buffers.watch(watch.clone());
    let request_due = opening
        .first_request_within()
        .map(|deadline| Instant::now() + deadline);
    let leaving = serve_session(
        service,
        &mut session,
        stream,
        shard,
        stats,
        Opened {
            greeting,
            request_due,
            unread,
            watch,
        },
    )
    .await;
    service.close_session(session);
    leaving
}

/// What the on-connection hook left for the loop.
struct Opened {
    greeting: Vec<u8>,
    request_due: Option<Instant>,
    /// Received on the shard the connection came from, not yet read.
    unread: Vec<u8>,
    /// The input buffer as the shard's sweep and the service see it.
    watch: Rc<Watch>,
}

async fn serve_session<S: Service, T: Transport>(
    service: &S,
    session: &mut S::Session,
    mut stream: T,
    shard: &Shard,
    stats: &LiveStats,
    opened: Opened,
) -> Option<Leaving<T>> {
    let limits = shard.limits;
    let outbox = service.outbox(session);
    if let Some(idle) = limits.idle_timeout {
        // Glommio's read timer runs from the first read that waits, however
        // much is written meanwhile; a connection with pushed output (an mq
        // subscriber that only listens) keeps its own idle clock instead.
        if outbox.is_none() {
            let _ = stream.tcp().set_read_timeout(Some(idle));
        }
        let _ = stream.tcp().set_write_timeout(Some(idle));
    }
    // Replies go out once per batch: Nagle would only delay them.
    let _ = stream.tcp().set_nodelay(true);

    let watch = &*opened.watch;
    let mut input = InputBuffer::new();
    input.push(&opened.unread);
    watch.settled(&input);
    let mut decoder = S::Decoder::default();
    let mut output = Vec::new();
    let mut pushed = Vec::new();
    let mut last_activity = Instant::now();
    let mut request_due = opened.request_due;
    if let Err(ended) =
        write_unprompted(&mut stream, &opened.greeting, outbox.as_deref(), stats).await
    {
        ended.count(stats, outbox.as_deref());
        return None;
    }

    // Requests left in the buffer by a batch that spent its output budget,
    // or received on the shard this connection came from.
    let mut buffered_requests = !input.data().is_empty();
    // A connection leaves only after serving a batch here: one that just
    // arrived is not sent on before it has made progress.
    let mut served_here = false;

    loop {
        // On a crowded core, a connection with nothing half-read leaves
        // between two batches (moving.rs); one `Cell` read otherwise.
        if shard.departures.wanted()
            && T::PLAIN
            && served_here
            && !buffered_requests
            && input.data().is_empty()
            && outbox.as_deref().is_none_or(Outbox::is_idle)
            && !shard.is_stopping()
            && service.movable(session)
        {
            if let Some(to) = shard.departures.take_one() {
                return Some(Leaving { stream, to });
            }
        }
        // The sweep asked to shrink or release the buffer (sweep.rs): no
        // read is pending now, so it can change hands.
        if watch.is_asked() {
            input.resize(watch.take_asked());
            watch.settled(&input);
        }
        let woken = if std::mem::take(&mut buffered_requests) {
            Woken::Buffered
        } else {
            wait(
                &mut stream,
                &mut input,
                Waiting {
                    watch,
                    outbox: outbox.as_deref(),
                    idle_timeout: limits.idle_timeout,
                    last_activity,
                    request_due,
                },
            )
            .await
        };
        let received = match woken {
            Woken::Buffered => 0,
            Woken::Input(Ok(0)) => return None,
            Woken::Input(Ok(n)) => {
                input.filled(n);
                n
            }
            Woken::Refilled(n) => n,
            Woken::Input(Err(e)) => {
                count_idle_close(&e, stats);
                return None;
            }
            Woken::Pushed => {
                match write_pushed(&mut stream, outbox.as_deref(), &mut pushed, stats).await {
                    Ok(()) => {
                        last_activity = Instant::now();
                        continue;
                    }
                    Err(ended) => {
                        ended.count(stats, outbox.as_deref());
                        return None;
                    }
                }
            }
            // Resized or released at the top of the loop.
            Woken::Swept => continue,
            Woken::Idle => {
                stats.recorded.borrow_mut().counters.idle_closes += 1;
                return None;
            }
            Woken::Overdue => {
                request_due = None;
                let flow = service.request_overdue(session, &mut output);
                let written =
                    write_unprompted(&mut stream, &output, outbox.as_deref(), stats).await;
                if let Err(ended) = written {
                    ended.count(stats, outbox.as_deref());
                    return None;
                }
                output.clear();
                if flow == Flow::Close {
                    linger_close(stream).await;
                    return None;
                }
                continue;
            }
        };
        // The pass's clock reading, taken just before it reaped this read
        // (glommio's `pass_clock`): when the read completed, within the
        // pass, without a reading of our own.
        let read_at = glommio::executor().pass_clock();
        last_activity = read_at;
        served_here = true;
        watch.received(read_at, &input);

        let peer = std::os::fd::AsRawFd::as_raw_fd(stream.tcp());
        let mut batch =
            Batch::new(input.data(), &mut decoder, limits.max_frame, &mut output).with_peer(peer);
        let flow = service.serve(session, &mut batch).await;
        let outcome = batch.outcome();
        input.consume(outcome.consumed);
        watch.settled(&input);

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
            write_unless_overflowed(&mut stream, &output, outbox.as_deref()).await
        };
        let done = Instant::now();
        {
            let mut recorded = stats.recorded.borrow_mut();
            recorded.counters.bytes_in += received as u64;
            recorded.counters.errors += errors;
            if written.is_ok() {
                recorded.counters.bytes_out += output.len() as u64;
                recorded.record_served(outcome.served, done - read_at, done - shard.start);
            }
        }
        if let Err(ended) = written {
            ended.count(stats, outbox.as_deref());
            return None;
        }
        // A batch that held requests meets the deadline; the service may set
        // the next one.
        if let Some(deadline) = outcome.next_request_within {
            request_due = Some(done + deadline);
        } else if outcome.consumed > 0 {
            request_due = None;
        }
        // Input that keeps coming must not starve pushed output.
        if outbox.as_ref().is_some_and(|outbox| outbox.has_output()) {
            if let Err(ended) =
                write_pushed(&mut stream, outbox.as_deref(), &mut pushed, stats).await
            {
                ended.count(stats, outbox.as_deref());
                return None;
            }
        }

        output.clear();
        if output.capacity() > OUTPUT_SHRINK_ABOVE {
            output = Vec::new();
        }
        // Requests already read are answered, on shutdown too.
        buffered_requests = outcome.over_budget && flow == Flow::Continue;
        if close && !buffered_requests {
            linger_close(stream).await;
            return None;
        }
    }
}
