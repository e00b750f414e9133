//! The on-connection hook's view of a new connection: where it came from,
//! which shard serves it, and what the service may do before any request
//! arrives (send a greeting, ask for the first request within a deadline).

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use super::InputGauge;

/// A connection as [`Service::open_session`](super::Service::open_session)
/// sees it.
pub struct Opening<'a> {
    shard: usize,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    fd: Option<i32>,
    greeting: &'a mut Vec<u8>,
    first_request_within: Option<Duration>,
    input: Rc<InputGauge>,
}

impl<'a> Opening<'a> {
    pub(crate) fn new(shard: usize, peer: Option<SocketAddr>, greeting: &'a mut Vec<u8>) -> Self {
        Opening {
            shard,
            peer,
            local: None,
            fd: None,
            greeting,
            first_request_within: None,
            input: Rc::default(),
        }
    }

    /// The shard serving this connection, 0 to shards − 1.
    pub fn shard(&self) -> usize {
        self.shard
    }

    /// The peer's address, when the kernel still knows it.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The address of the listener the connection was accepted on (which
    /// of the service's listeners: a wildcard address stays a wildcard).
    pub fn local(&self) -> Option<SocketAddr> {
        self.local
    }

    pub(crate) fn at(mut self, local: Option<SocketAddr>) -> Self {
        self.local = local;
        self
    }

    /// The connection's socket descriptor (what redis's CLIENT LIST shows).
    pub fn fd(&self) -> Option<i32> {
        self.fd
    }

    pub(crate) fn with_fd(mut self, fd: i32) -> Self {
        self.fd = Some(fd);
        self
    }

    /// The connection's input buffer, as the connection loop keeps it up
    /// to date: hold on to it to show the buffer (CLIENT LIST's `qbuf=`).
    pub fn input(&self) -> Rc<InputGauge> {
        self.input.clone()
    }

    /// Bytes to send before any request (a greeting, a banner).
    pub fn greeting(&mut self) -> &mut Vec<u8> {
        self.greeting
    }

    /// Asks for the first request within `deadline`; when none comes, the
    /// loop calls [`Service::request_overdue`](super::Service::request_overdue).
    pub fn expect_request_within(&mut self, deadline: Duration) {
        self.first_request_within = Some(deadline);
    }

    pub(crate) fn first_request_within(&self) -> Option<Duration> {
        self.first_request_within
    }
}
