//! Output that other tasks push to a connection without it having asked:
//! mq's deliveries. Producers append to `pending`; the connection loop wakes,
//! takes everything gathered, and writes it in one go, so a burst of
//! deliveries costs one write, not one per line.
//!
//! The queue is capped: a subscriber that does not read would otherwise make
//! the server hold every message for it. Past the cap the outbox overflows:
//! what it holds is dropped at once, later pushes are refused, and the
//! connection loop closes the connection (a slow disconnect, docs/PROTOCOLS.md §3.4).
//!
//! The service that made the outbox may have it count the items written and
//! the connections closed for overflowing, as figures of its own.

use std::cell::RefCell;
use std::future::poll_fn;
use std::mem;
use std::task::{Poll, Waker};

use crate::stats::Counter;

/// One connection's queue of pushed output.
pub struct Outbox {
    state: RefCell<State>,
    /// Items written to the peer, and connections closed for overflowing.
    counters: Option<(Counter, Counter)>,
}

struct State {
    pending: Vec<u8>,
    /// Items (delivered lines) in `pending`.
    items: u64,
    /// Items taken by the connection loop and not yet written.
    items_in_flight: u64,
    /// Bytes taken by the connection loop and not yet written.
    in_flight: usize,
    cap: usize,
    overflowed: bool,
    /// Closed by [`Outbox::close`] rather than by overflowing.
    closed: bool,
    waiter: Option<Waker>,
    /// Whether the waiter wants new output, or only an overflow: a loop busy
    /// writing is not woken for every line pushed meanwhile.
    waiter_wants_output: bool,
}

impl Outbox {
    /// An outbox that holds at most `cap` bytes, pending and in flight.
    pub fn new(cap: usize) -> Outbox {
        Outbox {
            state: RefCell::new(State {
                pending: Vec::new(),
                items: 0,
                items_in_flight: 0,
                in_flight: 0,
                cap,
                overflowed: false,
                closed: false,
                waiter: None,
                waiter_wants_output: false,
            }),
            counters: None,
        }
    }

    /// Counts every item written into `written`, and the connection's close
    /// for overflowing into `overflow_closes`.
    pub fn counting(mut self, written: Counter, overflow_closes: Counter) -> Outbox {
        self.counters = Some((written, overflow_closes));
        self
    }

    /// Queues one item. Returns false when the outbox has overflowed, now
    /// or before: the caller should stop pushing to it.
    pub fn push(&self, item: &[u8]) -> bool {
        let mut state = self.state.borrow_mut();
        if state.overflowed {
            return false;
        }
        if state.in_flight + state.pending.len() + item.len() > state.cap {
            state.overflowed = true;
            state.pending = Vec::new();
            state.items = 0;
        } else {
            state.pending.extend_from_slice(item);
            state.items += 1;
        }
        if state.overflowed || state.waiter_wants_output {
            if let Some(waiter) = state.waiter.take() {
                waiter.wake();
            }
        }
        !state.overflowed
    }

    /// Ends the connection from elsewhere (resp's CLIENT KILL): the loop
    /// closes it as it closes an overflowed one, without counting an
    /// overflow, and drops what was queued.
    pub fn close(&self) {
        let mut state = self.state.borrow_mut();
        state.overflowed = true;
        state.closed = true;
        state.pending = Vec::new();
        state.items = 0;
        if let Some(waiter) = state.waiter.take() {
            waiter.wake();
        }
    }

    /// Whether the connection must close: the outbox overflowed, or was
    /// closed.
    pub fn has_overflowed(&self) -> bool {
        self.state.borrow().overflowed
    }

    /// Resolves once there is output to take, or the outbox has overflowed.
    pub async fn ready(&self) {
        self.wait(true).await
    }

    /// Resolves once the outbox has overflowed.
    pub async fn overflowed(&self) {
        self.wait(false).await;
    }

    async fn wait(&self, wants_output: bool) {
        poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if state.overflowed || (wants_output && !state.pending.is_empty()) {
                Poll::Ready(())
            } else {
                if !state
                    .waiter
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    state.waiter = Some(cx.waker().clone());
                }
                state.waiter_wants_output = wants_output;
                Poll::Pending
            }
        })
        .await
    }

    /// Nothing waits to be written or is being written, and it was not
    /// closed: the connection may leave with nothing lost (moving.rs; the
    /// service says that nothing will push to it).
    pub fn is_idle(&self) -> bool {
        let state = self.state.borrow();
        state.pending.is_empty() && state.in_flight == 0 && !state.overflowed && !state.closed
    }

    /// Whether output is waiting to be taken.
    pub fn has_output(&self) -> bool {
        !self.state.borrow().pending.is_empty()
    }

    /// Swaps the pending output into `into` (which must be empty) and returns
    /// how many items it holds. The bytes count against the cap until
    /// [`Outbox::written`].
    pub fn take(&self, into: &mut Vec<u8>) -> u64 {
        let mut state = self.state.borrow_mut();
        debug_assert!(into.is_empty());
        mem::swap(&mut state.pending, into);
        state.in_flight = into.len();
        state.items_in_flight = mem::take(&mut state.items);
        state.items_in_flight
    }

    /// The output last taken has been written.
    pub fn written(&self) {
        let mut state = self.state.borrow_mut();
        state.in_flight = 0;
        let items = mem::take(&mut state.items_in_flight);
        if let Some((written, _)) = &self.counters {
            written.add(items);
        }
    }

    /// The connection was closed because this outbox overflowed.
    pub fn count_overflow_close(&self) {
        if self.state.borrow().closed {
            return;
        }
        if let Some((_, overflow_closes)) = &self.counters {
            overflow_closes.add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_pending_and_in_flight_bytes() {
        let outbox = Outbox::new(10);
        assert!(outbox.push(b"abcd"));
        let mut writing = Vec::new();
        assert_eq!(outbox.take(&mut writing), 1);
        assert!(outbox.push(b"efgh"));
        // 4 in flight + 4 pending + 4 > 10.
        assert!(!outbox.push(b"ijkl"));
        assert!(outbox.has_overflowed());
        assert!(!outbox.push(b"m"), "an overflowed outbox stays closed");
    }

    #[test]
    fn written_output_frees_its_room() {
        let outbox = Outbox::new(8);
        assert!(outbox.push(b"abcdefgh"));
        let mut writing = Vec::new();
        outbox.take(&mut writing);
        outbox.written();
        writing.clear();
        assert!(outbox.push(b"ijklmnop"));
        assert!(!outbox.has_overflowed());
    }
}
