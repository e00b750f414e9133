//! What a service sees of a connection's input: the complete requests of one
//! read, as a [`Batch`], and the output buffer the loop sends in one write.
//!
//! Replies can be far larger than requests (a 20-byte Get of a 1 MiB value,
//! a ListKeys of the whole store), so a batch also has an output budget: once
//! [`OUTPUT_BUDGET`] bytes of answers are waiting, [`Batch::next_request`]
//! stops, the loop writes them, and the requests left in the buffer are served
//! before anything more is read. One batch's output is thus at most the budget
//! plus one reply, whatever a read holds.

use std::os::fd::RawFd;
use std::time::Duration;

use crate::codec::{Decoder, FrameTooLong};

/// Answers gathered for one write, past which a batch stops taking requests.
pub const OUTPUT_BUDGET: usize = 1 << 20;

/// The complete requests of one read, plus the buffer their answers go to.
/// Counting happens here so that every service counts the same way.
pub struct Batch<'a, D> {
    input: &'a [u8],
    consumed: usize,
    decoder: &'a mut D,
    max_frame: usize,
    too_long: bool,
    over_budget: bool,
    out: &'a mut Vec<u8>,
    served: u64,
    errors: u64,
    taken: u64,
    next_request_within: Option<Duration>,
    /// The connection's socket, for [`Batch::peer_closed`].
    peer: Option<RawFd>,
}

impl<'a, D: Decoder> Batch<'a, D> {
    /// A batch over `input`, as the connection loop makes one per read;
    /// public so that a service's own tests can run it on bytes of theirs.
    #[doc(hidden)]
    pub fn new(
        input: &'a [u8],
        decoder: &'a mut D,
        max_frame: usize,
        out: &'a mut Vec<u8>,
    ) -> Self {
        Batch {
            input,
            consumed: 0,
            decoder,
            max_frame,
            too_long: false,
            over_budget: false,
            out,
            served: 0,
            errors: 0,
            taken: 0,
            next_request_within: None,
            peer: None,
        }
    }

    /// The batch of the connection on socket `fd`.
    pub(crate) fn with_peer(mut self, fd: RawFd) -> Self {
        self.peer = Some(fd);
        self
    }

    /// Whether the peer has closed its side (a FIN read, nothing buffered
    /// before it): for a service that waits a long time inside a batch
    /// (resp's blocking commands) and must not wait for a client gone. One
    /// non-blocking `recv(MSG_PEEK)`; false when unknown.
    pub fn peer_closed(&self) -> bool {
        let Some(fd) = self.peer else {
            return false;
        };
        let mut byte = 0u8;
        // SAFETY: a one-byte peek into a local buffer, on the connection's
        // socket, which outlives the batch; it consumes nothing.
        let n = unsafe {
            libc::recv(
                fd,
                (&mut byte as *mut u8).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        n == 0
    }

    /// The next complete request, or `None` when the read holds no more (the
    /// rest stays buffered for the next read), a request is too long, or the
    /// output budget is spent (the rest is served once the output is written).
    pub fn next_request(&mut self) -> Option<&'a [u8]> {
        if self.too_long {
            return None;
        }
        if self.out.len() >= OUTPUT_BUDGET {
            self.over_budget = true;
            return None;
        }
        let rest = &self.input[self.consumed..];
        match self.decoder.decode(rest, self.max_frame) {
            Ok(Some(span)) => {
                self.consumed += span.wire_len;
                self.taken += 1;
                Some(&rest[span.start..span.end])
            }
            Ok(None) => None,
            Err(FrameTooLong { .. }) => {
                self.too_long = true;
                None
            }
        }
    }

    /// The connection's decoder, as it stands after the last request it
    /// found: a decoder may keep what it learned about that request (resp's
    /// keeps its arguments' places) so the service need not read it again.
    pub fn decoder(&self) -> &D {
        self.decoder
    }

    /// Where answers go.
    pub fn out(&mut self) -> &mut Vec<u8> {
        self.out
    }

    /// How many more bytes of answers fit in the output budget; a service
    /// that gathers answers elsewhere first (kv's forwarding) stops taking
    /// requests when they reach it.
    pub fn output_room(&self) -> usize {
        OUTPUT_BUDGET.saturating_sub(self.out.len())
    }

    /// Counts one request served (docs/PROTOCOLS.md §5 `messages`).
    pub fn served(&mut self) {
        self.served += 1;
    }

    /// Counts one request answered with an error reply (docs/PROTOCOLS.md §5 `errors`).
    pub fn failed(&mut self) {
        self.errors += 1;
    }

    /// Counts `n` requests counted as served as answered with an error
    /// instead: their answer came from elsewhere (kv's owner on another
    /// shard refused them).
    pub fn served_as_failed(&mut self, n: u64) {
        let n = n.min(self.served);
        self.served -= n;
        self.errors += n;
    }

    /// Every request of the batch was answered with an error after all (a
    /// commit to the log that failed): counts them all as errors.
    pub fn all_failed(&mut self) {
        self.errors += std::mem::take(&mut self.served);
    }

    /// How many requests [`Batch::next_request`] has handed out so far.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// The bytes of the read not yet taken as requests: what
    /// [`Batch::next_request`] will look at next.
    pub fn remaining(&self) -> &'a [u8] {
        &self.input[self.consumed..]
    }

    /// Asks for the connection's next request within `deadline`, counted from
    /// when this batch's answers are written; when none comes, the loop calls
    /// [`Service::request_overdue`](crate::service::Service::request_overdue).
    /// Without this call, a batch that held requests clears any deadline.
    pub fn expect_request_within(&mut self, deadline: Duration) {
        self.next_request_within = Some(deadline);
    }

    /// Requests counted so far as served, and as answered with an error;
    /// public for a service's own tests, as [`Batch::new`] is.
    #[doc(hidden)]
    pub fn counts(&self) -> (u64, u64) {
        (self.served, self.errors)
    }

    pub(crate) fn outcome(&self) -> BatchOutcome {
        BatchOutcome {
            consumed: self.consumed,
            too_long: self.too_long,
            over_budget: self.over_budget,
            served: self.served,
            errors: self.errors,
            next_request_within: self.next_request_within,
        }
    }
}

/// What the connection loop needs to know once a batch is answered.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BatchOutcome {
    pub consumed: usize,
    pub too_long: bool,
    /// Requests may remain in the buffer, left for after the write.
    pub over_budget: bool,
    pub served: u64,
    pub errors: u64,
    /// The service asked for the next request within this long.
    pub next_request_within: Option<Duration>,
}
