//! One shard's shared state, on the shard's own thread: its number, the
//! limits its connections keep, the open connections, and whether it is
//! stopping. Every task of the shard (accept loops, connections, the control
//! task) holds it; none of it is shared with other shards.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use glommio::sync::Semaphore;

use super::moving::{Departures, Exchange};
use super::registry::Registry;
use super::sweep::Sweep;
use crate::config::Limits;

pub(crate) struct Shard {
    pub id: usize,
    pub shards: usize,
    pub limits: Limits,
    /// The server's start: statistics count seconds from it.
    pub start: Instant,
    pub connections: Rc<Registry>,
    /// The connections' input buffers, swept once a second (sweep.rs).
    pub buffers: Rc<Sweep>,
    stopping: Cell<bool>,
    /// Closed when the shard stops: accept loops and services wait on it.
    stop_signal: Semaphore,
    /// State services of this shard share, one value per type
    /// ([`ShardContext::shared`](super::ShardContext::shared)).
    pub shared: RefCell<Vec<Rc<dyn Any>>>,
    /// Where connections go when this shard's core is crowded, and the
    /// other shards' inboxes (moving.rs); `None` with one shard.
    pub exchange: Option<Arc<Exchange>>,
    pub departures: Departures,
}

impl Shard {
    pub fn new(
        id: usize,
        shards: usize,
        limits: Limits,
        start: Instant,
        exchange: Option<Arc<Exchange>>,
    ) -> Shard {
        Shard {
            id,
            shards,
            limits,
            start,
            connections: Rc::default(),
            buffers: Rc::default(),
            stopping: Cell::new(false),
            stop_signal: Semaphore::new(0),
            shared: RefCell::default(),
            exchange,
            departures: Departures::default(),
        }
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.get()
    }

    pub fn begin_stop(&self) {
        self.stopping.set(true);
        self.stop_signal.close();
    }

    /// Resolves once the shard starts stopping.
    pub async fn stopped(&self) {
        // A closed semaphore fails every acquire: that failure is the signal.
        let _ = self.stop_signal.acquire(1).await;
    }
}
