//! resp's state on one shard: the registries its tasks there share (the
//! connections, the mesh task that runs other shards' commands, the
//! blocked clients' waits), handed to them rather than found through
//! thread-locals (issue 24).
//!
//! It is made as the shard's key space starts ([`RespShard::make`], the
//! `state` of resp's [`OwnerHandler`](percore_keyspace::OwnerHandler)),
//! before the key space's mesh can bring a command from a shard that
//! started first; the service takes it from the key space
//! ([`KeySpace::state`](percore_keyspace::KeySpace::state)) and holds it as
//! an `Rc`, as its sessions do. The owner's handlers are lent it with each
//! command ([`OwnerFn`](super::commands::OwnerFn)'s `shard`).
//!
//! Its registries keep one rule: **no borrow of their contents can be held
//! across an `.await`**. Each is a `Cell`, or a `RefCell` private to its
//! registry, reached only through that registry's synchronous methods,
//! which return owned values and never a guard; as with the key space's
//! `SharedStore`, a borrow ends before the calling task can yield.

use std::any::Any;
use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use super::blocked_keys::BlockedKeys;
use super::client::Clients;
use super::command_stats::CommandStats;
use super::late_counts::LateCounts;
use super::notify::Notify;
use super::tracking_table::TrackingTable;
use crate::mq::Broker;
use percore::cross_shard::Mesh;
use percore::server::Listeners;

/// resp's registries on one shard (module docs).
pub struct RespShard {
    /// This shard.
    pub id: usize,
    /// How many shards the server has.
    pub count: usize,
    /// This shard's part of the topics, shared with mq: set once resp has
    /// started here (a command forwarded before then finds none, and
    /// reaches no subscriber, as none can have subscribed yet).
    broker: OnceCell<Rc<Broker>>,
    /// This shard's end of the key space's mesh, with more than one shard
    /// (tracking's invalidations go over it): set with the broker.
    mesh: OnceCell<Rc<Mesh>>,
    /// resp's listeners on this shard, which CONFIG SET port moves
    /// (`port_change.rs`): set with the broker.
    listeners: OnceCell<Rc<Listeners>>,
    /// This shard's connections (CLIENT LIST, KILL, INFO).
    pub clients: Clients,
    /// INFO's commandstats, errorstats and latencystats here
    /// (`command_stats.rs`).
    pub stats: CommandStats,
    /// `notify-keyspace-events` here (`notify.rs`).
    pub notify: Notify,
    /// Where a PUBLISH may leave its count late (`late_counts.rs`).
    pub late: LateCounts,
    /// The clients blocked on this shard's keys (`blocked_keys.rs`).
    pub blocked_keys: BlockedKeys,
    /// Connections of this shard blocked now (INFO's `blocked_clients`,
    /// `blocking.rs`).
    pub blocked: Cell<u64>,
    /// The token of the transaction across shards whose task is being
    /// polled now, 0 if none (`holding.rs`).
    pub holder: Cell<u64>,
    /// The chain of blocked moves an `INTERNAL-MOVE-PUSH` running here
    /// continues: the moves it wakes join it (`moves_in_flight.rs`).
    pub continuing: Cell<Option<u64>>,
    /// CLIENT TRACKING's tables on this shard (`tracking_table.rs`).
    pub tracking: TrackingTable,
    /// Itself, for a task it spawns (BCAST's deferred invalidations).
    me: std::rc::Weak<RespShard>,
}

impl RespShard {
    /// The state of `shard` (this shard, how many), as the key space makes
    /// it for resp.
    pub(super) fn make(shard: (usize, usize)) -> Rc<dyn Any> {
        RespShard::new(shard)
    }

    /// Empty registries for `shard` (this shard, how many).
    pub fn new((id, count): (usize, usize)) -> Rc<RespShard> {
        Rc::new_cyclic(|me| RespShard {
            id,
            count,
            broker: OnceCell::new(),
            mesh: OnceCell::new(),
            listeners: OnceCell::new(),
            clients: Clients::default(),
            stats: CommandStats::default(),
            notify: Notify::default(),
            late: LateCounts::default(),
            blocked_keys: BlockedKeys::default(),
            blocked: Cell::new(0),
            holder: Cell::new(0),
            continuing: Cell::new(None),
            tracking: TrackingTable::default(),
            me: me.clone(),
        })
    }

    /// A handle on this state, for a task of the shard to keep. Always
    /// there: a `RespShard` lives only in the `Rc` that [`RespShard::new`]
    /// made, so while `self` is borrowed that `Rc` is alive.
    pub fn handle(&self) -> Option<Rc<RespShard>> {
        self.me.upgrade()
    }

    /// This shard's broker, once resp has started here.
    pub fn broker(&self) -> Option<&Rc<Broker>> {
        self.broker.get()
    }

    /// This shard's end of the key space's mesh (`None`: one shard, or
    /// resp has not started here yet).
    pub fn mesh(&self) -> Option<&Rc<Mesh>> {
        self.mesh.get()
    }

    /// resp's listeners on this shard, once resp has started here.
    pub fn listeners(&self) -> Option<&Rc<Listeners>> {
        self.listeners.get()
    }

    /// resp started here over `broker` and `mesh` (the shard's own: a
    /// second resp service on the shard hands the same ones), accepting on
    /// `listeners` (the first resp service's).
    pub(super) fn attach(
        &self,
        broker: Rc<Broker>,
        mesh: Option<Rc<Mesh>>,
        listeners: Rc<Listeners>,
    ) {
        let _ = self.listeners.set(listeners);
        let _ = self.broker.set(broker);
        if let Some(mesh) = mesh {
            let _ = self.mesh.set(mesh);
        }
    }
}
