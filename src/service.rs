//! The contract between the connection loop and a service. The loop owns the
//! socket, the buffers, the limits and the statistics; a service only sees the
//! requests of one read, as a [`Batch`], and writes its answers into the
//! batch's output buffer, which the loop sends in one write.
//!
//! Replies can be far larger than requests (a 20-byte Get of a 1 MiB value,
//! a ListKeys of the whole store), so a batch also has an output budget: once
//! [`OUTPUT_BUDGET`] bytes of answers are waiting, [`Batch::next_request`]
//! stops, the loop writes them, and the requests left in the buffer are served
//! before anything more is read. One batch's output is thus at most the budget
//! plus one reply, whatever a read holds.

use std::future::Future;
use std::rc::Rc;

use crate::codec::{Decoder, FrameTooLong};
use crate::config::ServiceKind;
use crate::server::outbox::Outbox;

/// Answers gathered for one write, past which a batch stops taking requests.
pub const OUTPUT_BUDGET: usize = 1 << 20;

/// What the connection does once the batch is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// Send what was answered, then close (chat's `.`, mq's `quit`).
    Close,
}

/// A network service on top of the shared connection loop.
pub trait Service: 'static {
    const KIND: ServiceKind;

    /// How the service's byte stream is cut into requests.
    type Decoder: Decoder;

    /// State the service keeps for one connection.
    type Session;

    fn open_session(&self) -> Self::Session;

    /// Answers every request of `batch`, in order, into `batch.out()`, unless
    /// it returns [`Flow::Close`]. Async so that a service may wait on other
    /// shards; the simple services never await.
    fn serve(
        &self,
        session: &mut Self::Session,
        batch: &mut Batch<'_, Self::Decoder>,
    ) -> impl Future<Output = Flow>;

    /// Appends the reply to a request longer than `--max-frame`; the loop
    /// then closes the connection.
    fn frame_too_long(&self, out: &mut Vec<u8>);

    /// Where other tasks push output to this connection that none of its
    /// requests asked for (mq's deliveries); the loop writes it as it comes.
    fn outbox(&self, _session: &Self::Session) -> Option<Rc<Outbox>> {
        None
    }

    /// Called once the connection has ended, however it ended (but a panic:
    /// then the session is only dropped).
    fn close_session(&self, _session: Self::Session) {}
}

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
    forwarded: u64,
}

impl<'a, D: Decoder> Batch<'a, D> {
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
            forwarded: 0,
        }
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
                Some(&rest[span.start..span.end])
            }
            Ok(None) => None,
            Err(FrameTooLong { .. }) => {
                self.too_long = true;
                None
            }
        }
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

    /// Counts one request served (SPEC 5 `messages`).
    pub fn served(&mut self) {
        self.served += 1;
    }

    /// Counts one request answered with an error reply (SPEC 5 `errors`).
    pub fn failed(&mut self) {
        self.errors += 1;
    }

    /// Counts requests sent to another shard to be served there.
    pub fn forwarded(&mut self, requests: u64) {
        self.forwarded += requests;
    }

    pub(crate) fn outcome(&self) -> BatchOutcome {
        BatchOutcome {
            consumed: self.consumed,
            too_long: self.too_long,
            over_budget: self.over_budget,
            served: self.served,
            errors: self.errors,
            forwarded: self.forwarded,
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
    pub forwarded: u64,
}
