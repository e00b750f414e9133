//! Connections that leave a crowded core (docs/ARCHITECTURE.md, "Crowded
//! cores"). A pinned shard whose core another busy thread shares pays a sleep
//! and a wake-up for every little it gets to run, and its clients wait for
//! it. When the control task finds its shard crowded (`super::crowding`) and
//! another with CPU to spare, it gives that shard a few connections per
//! control period: each such connection, between two batches (every reply
//! written, nothing of a next request read), ends its I/O here
//! (`glommio::net::TcpStream::detach`) and continues on the taker, which
//! first reads what this shard had received and not read. The client sees
//! nothing: the same socket, replies in order.
//!
//! Only services that say a session can end here and begin there with
//! nothing lost move ([`Service::movable`](crate::service::Service::movable));
//! TLS connections never do. The hand-off is a control-path message over a
//! channel per (shard, service), a few per control period at most.

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;

use super::crowding::CoreLoads;

/// How many connections a crowded shard gives away per control period.
const GIVE_PER_PERIOD: u32 = 8;

/// A connection on its way to another shard.
pub(crate) struct Arrival {
    /// The socket, open, detached from the giving shard's ring.
    pub socket: std::net::TcpStream,
    /// Bytes the giving shard received and no request of it read yet.
    pub unread: Vec<u8>,
    /// The listener the connection came in on.
    pub listener: Option<SocketAddr>,
}

/// Every shard's inbox of arriving connections, one per service, made
/// before the shards start.
pub(crate) struct Exchange {
    /// `senders[shard][service]`.
    senders: Vec<Vec<flume::Sender<Arrival>>>,
    pub loads: CoreLoads,
}

/// What one shard gets: the exchange and its own receivers, one per service.
pub(crate) struct ExchangeEnd {
    pub exchange: Arc<Exchange>,
    pub inboxes: Vec<flume::Receiver<Arrival>>,
}

impl Exchange {
    /// An exchange for `shards` shards running `services` services each;
    /// returns every shard's end.
    pub fn ends(shards: usize, services: usize) -> Vec<ExchangeEnd> {
        let mut senders = Vec::with_capacity(shards);
        let mut receivers = Vec::with_capacity(shards);
        for _ in 0..shards {
            let (tx, rx): (Vec<_>, Vec<_>) = (0..services).map(|_| flume::unbounded()).unzip();
            senders.push(tx);
            receivers.push(rx);
        }
        let exchange = Arc::new(Exchange {
            senders,
            loads: CoreLoads::new(shards),
        });
        receivers
            .into_iter()
            .map(|inboxes| ExchangeEnd {
                exchange: Arc::clone(&exchange),
                inboxes,
            })
            .collect()
    }

    /// Sends `arrival` to `shard`'s inbox for `service`; gives it back when
    /// that shard has stopped taking connections.
    pub fn send(&self, shard: usize, service: usize, arrival: Arrival) -> Result<(), Arrival> {
        self.senders[shard][service]
            .send(arrival)
            .map_err(|flume::SendError(arrival)| arrival)
    }
}

/// One shard's side of moving: where its connections may go now, and how
/// many more may go this control period.
#[derive(Default)]
pub(crate) struct Departures {
    to: Cell<Option<usize>>,
    left: Cell<u32>,
}

impl Departures {
    /// Whether connections should leave now: one `Cell` read, which the
    /// connection loop makes at every batch.
    #[inline]
    pub fn wanted(&self) -> bool {
        self.to.get().is_some()
    }

    /// Where a movable connection between two batches should go, if
    /// anywhere; it counts against this period's allowance.
    pub fn take_one(&self) -> Option<usize> {
        let to = self.to.get()?;
        let left = self.left.get().saturating_sub(1);
        self.left.set(left);
        if left == 0 {
            self.to.set(None);
        }
        Some(to)
    }

    /// The control task's decision for the next period.
    pub fn plan(&self, to: Option<usize>) {
        self.to.set(to);
        self.left
            .set(if to.is_some() { GIVE_PER_PERIOD } else { 0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_lets_its_allowance_go_and_no_more() {
        let departures = Departures::default();
        assert!(!departures.wanted());
        assert_eq!(departures.take_one(), None);
        departures.plan(Some(2));
        let gone = std::iter::from_fn(|| departures.take_one()).count();
        assert_eq!(gone as u32, GIVE_PER_PERIOD);
        assert!(!departures.wanted());
        departures.plan(None);
        assert_eq!(departures.take_one(), None);
    }
}
