//! The contract between the framework and a service, built-in or written by
//! a user of the crate. The connection loop owns the socket, the buffers, the
//! limits, the statistics and shutdown; a service says how its byte stream is
//! cut into requests (a [`Decoder`]), what it keeps per connection (its
//! session), and answers each read's requests as one [`Batch`]. The Python originals'
//! hooks (docs/PROTOCOLS.md §0) are here too: a greeting on connection ([`Opening`]), a deadline for
//! the next request ([`Service::request_overdue`]), the end of a connection
//! ([`Service::close_session`]), and a per-shard start ([`ServiceFactory`]).
//! A simple service answers one request at a time instead: a [`Handler`].

mod batch;
mod factory;
mod gauge;
mod handler;
mod opening;

pub use batch::{Batch, OUTPUT_BUDGET};
pub use factory::{ServiceFactory, StartError};
pub use gauge::InputGauge;
pub use handler::{Handler, PerRequest, Reply};
pub use opening::Opening;

use std::future::Future;
use std::rc::Rc;

use crate::codec::Decoder;
use crate::server::outbox::Outbox;

/// What the connection does once the batch is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// Send what was answered, then close (chat's `.`, mq's `quit`).
    Close,
}

/// A network service on one shard, on top of the shared connection loop.
/// Each shard has its own instance (made by its [`ServiceFactory`]), used by
/// that shard's connections only: no `Send`, no locks.
pub trait Service: 'static {
    /// How the service's byte stream is cut into requests.
    type Decoder: Decoder;

    /// State the service keeps for one connection.
    type Session;

    /// A connection was accepted: make its session. `opening` may hold a
    /// greeting to send and a deadline for the first request.
    fn open_session(&self, opening: &mut Opening<'_>) -> Self::Session;

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

    /// The request asked for with [`Batch::expect_request_within`] or
    /// [`Opening::expect_request_within`] did not come in time. Whatever is
    /// appended to `out` is sent; then the connection closes, or with
    /// [`Flow::Continue`] goes on without a deadline.
    fn request_overdue(&self, _session: &mut Self::Session, _out: &mut Vec<u8>) -> Flow {
        Flow::Close
    }

    /// Where other tasks push output to this connection that none of its
    /// requests asked for (mq's deliveries); the loop writes it as it comes.
    fn outbox(&self, _session: &Self::Session) -> Option<Rc<Outbox>> {
        None
    }

    /// Called once the connection has ended, however it ended (but a panic:
    /// then the session is only dropped).
    fn close_session(&self, _session: Self::Session) {}

    /// Whether this connection may now continue on another shard, between
    /// two batches (crates/percore/src/server/moving.rs: a shard on a crowded core hands
    /// connections to one with CPU to spare). Say `true` only when closing
    /// the session here and opening a new one there loses nothing the
    /// client could see: no greeting, no state kept between batches, no
    /// pushed output. Never, by default.
    fn movable(&self, _session: &Self::Session) -> bool {
        false
    }

    /// Called once on each shard at a clean stop, after its connections are
    /// closed and every shard has drained: the moment to flush what the
    /// service keeps (kv's log).
    fn stop(&self) -> impl Future<Output = ()> {
        std::future::ready(())
    }
}
