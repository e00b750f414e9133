//! percore's key space (the `percore-keyspace` crate, below the protocols
//! and above the framework alone; docs/ARCHITECTURE.md "Crates"): one per server, split over the shards by key
//! ([`owner_of`](percore::cross_shard::owner_of)), shared by the protocols that
//! serve it (kv's MessagePack, resp's Redis protocol; docs/PROTOCOLS.md §6.3).
//!
//! Each shard holds one [`KeySpace`]: its keys ([`Store`]), its log and
//! compactor with `--data-dir`, and its end of the request/reply mesh over
//! which the other shards reach the keys it owns. The first service to start
//! on a shard builds it (loading the shard's keys from disk); the others find
//! it with [`ShardContext::shared`]. A mesh message starts with the tag of
//! the protocol it speaks ([`Protocol`]), so one mesh carries both and the
//! owner runs each request with that protocol's own handler, in arrival
//! order: the [`OwnerHandler`] the protocol registered on the plan
//! ([`KeySpacePlan::register`]), for the key space names no protocol's code.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::durable::compact::Compactor;
use crate::durable::files::{self, Layout};
use crate::durable::load::{start_shard, Switch};
use crate::durable::log::{LogFigures, Mark, ShardLog};
use crate::durable::{DurableError, DurableOptions, Fsync};
use percore::cross_shard::{Hold, Mesh, MeshPlan};
use percore::server::ShardContext;
use percore::service::StartError;
use percore::stats::{Counter, Metric};

pub mod durable;
mod filled;
mod holds;
mod marks;
mod owner;
pub mod round;
mod shared_store;
mod store;
pub mod touched;
pub mod typed;
pub mod write;

pub use filled::FilledHook;
pub use holds::HOLD_LOST;
pub use marks::Marks;
use owner::{hooks, Handlers, Owner, States};
pub use owner::{
    BeforeReply, EvictedHook, ExpiredHook, MakeState, OwnerHandler, Rewrite, ServeFn, Wait,
};
pub use shared_store::SharedStore;

pub use store::{now_ms, values, EvictionSettings, Policy, Store};

/// The protocol a mesh message speaks: its first byte, the tag under which
/// that protocol registered what it runs on an owner
/// ([`KeySpacePlan::register`]). Each protocol picks its own (kv's and
/// resp's are `percore_protocols::kv::PROTOCOL` and `resp::PROTOCOL`),
/// below [`Protocol::COUNT`]; the key space knows none of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocol(pub u8);

impl Protocol {
    /// One past the largest tag: the size of a table indexed by tag.
    pub const COUNT: usize = 4;

    /// The tag, as a message's first byte.
    pub const fn tag(self) -> u8 {
        self.0
    }
}

/// The key space's plan: made once from the command line, cloned into every
/// service that serves it (kv and resp), and turned into one [`KeySpace`] per
/// shard.
#[derive(Clone, Default)]
pub struct KeySpacePlan {
    inner: Arc<Plan>,
}

#[derive(Default)]
struct Plan {
    durable: Option<(DurableOptions, Layout, Arc<Switch>)>,
    /// `--max-memory`, over all shards.
    max_memory: Option<u64>,
    /// Planned by the first service's `prepare` (the outer `None`: not yet;
    /// the inner: one shard, no mesh): the request mesh, and the hold mesh
    /// (`holds.rs`). A mutex because a plan is `Send` but not `Sync`; it is
    /// only taken while the server starts.
    mesh: Mutex<Option<Option<(MeshPlan, MeshPlan)>>>,
    /// What each protocol runs on an owner ([`KeySpacePlan::register`]),
    /// copied into each shard's owner when it starts.
    handlers: Mutex<Handlers>,
}

impl KeySpacePlan {
    /// A key space on disk under `options.dir` (checked and prepared now,
    /// before any shard starts), and a memory cap if given.
    pub fn new(
        durable: Option<DurableOptions>,
        max_memory: Option<u64>,
    ) -> Result<KeySpacePlan, DurableError> {
        let durable = match durable {
            None => None,
            Some(options) => {
                let layout =
                    files::prepare(&options.dir).map_err(|e| DurableError::io(&options.dir, e))?;
                Some((options, layout, Arc::default()))
            }
        };
        Ok(KeySpacePlan {
            inner: Arc::new(Plan {
                durable,
                max_memory,
                mesh: Mutex::new(None),
                handlers: Mutex::default(),
            }),
        })
    }

    /// Registers what `protocol`'s messages run on the shard that owns their
    /// keys. Each protocol serving this key space registers before the
    /// server starts (as its factory is made), so that every shard's owner
    /// knows every protocol before any message can reach it.
    pub fn register(&self, protocol: Protocol, handler: OwnerHandler) {
        let mut handlers = self
            .inner
            .handlers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        handlers[usize::from(protocol.tag())] = Some(handler);
    }

    /// Plans the mesh for `shards` shards (once, whoever calls first).
    pub fn prepare(&self, shards: usize) {
        let mut mesh = self
            .inner
            .mesh
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        mesh.get_or_insert_with(|| {
            (shards > 1).then(|| (MeshPlan::new(shards), MeshPlan::new(shards)))
        });
    }

    /// This shard's key space: built (and loaded) by the first service to
    /// ask on this shard, shared with the others.
    pub async fn on_shard(&self, shard: &ShardContext) -> Result<Rc<KeySpace>, StartError> {
        if let Some(keys) = shard.shared::<KeySpace>() {
            return Ok(keys);
        }
        let keys = KeySpace::start(&self.inner, shard).await?;
        shard.share(keys.clone());
        Ok(keys)
    }
}

/// One shard's part of the key space.
pub struct KeySpace {
    pub store: SharedStore,
    /// This shard.
    shard: usize,
    /// None with a single shard: every key is local.
    pub mesh: Option<Rc<Mesh>>,
    /// Whether a transaction across shards holds this shard (`holds.rs`).
    pub hold: Rc<Hold>,
    /// The hold mesh: how transactions hold shards and run on them.
    holds: Option<Rc<Mesh>>,
    /// With `--data-dir`: where this shard's writes are logged, and what
    /// compacts that log.
    pub log: Option<Rc<ShardLog>>,
    compactor: Option<Rc<Compactor>>,
    gauges: Gauges,
    /// Each protocol's state on this shard ([`OwnerHandler::state`]).
    states: States,
    /// This shard's transactions across shards so far, for their tokens
    /// ([`KeySpace::new_token`]).
    transactions: Cell<u64>,
}

/// This shard's keys and their accounted memory (docs/PROTOCOLS.md §8's gauges), set
/// after each batch a connection of the shard ran, each message the shard
/// answered for another, and each sweep of expired keys: per batch, never
/// per request.
#[derive(Clone)]
struct Gauges {
    keys: Counter,
    memory_bytes: Counter,
}

impl Gauges {
    fn update(&self, store: &Store) {
        self.keys.set(store.len() as u64);
        self.memory_bytes.set(store.bytes());
    }
}

impl KeySpace {
    async fn start(plan: &Plan, shard: &ShardContext) -> Result<Rc<KeySpace>, StartError> {
        // Each shard's share, at least a byte: a cap is never "none".
        let cap = plan
            .max_memory
            .map(|bytes| (bytes / shard.shards() as u64).max(1));
        // Made before the store and the mesh: a message may come at once
        // once the mesh is joined, and the store's writes call the hooks.
        let handlers = *plan.handlers.lock().unwrap_or_else(PoisonError::into_inner);
        let states = owner::states(&handlers, (shard.id(), shard.shards()));
        let marks = Marks::with_hooks(
            hooks(&handlers, &states, |h| h.filled),
            hooks(&handlers, &states, |h| h.evicted),
        );
        let store = SharedStore::new(cap, marks);
        let log = match &plan.durable {
            None => None,
            Some((options, layout, switch)) => {
                let figures = LogFigures {
                    bytes_logged: shard.section_counter("persistence", "bytes_logged"),
                    flushes: shard.section_counter("persistence", "flushes"),
                    compactions: shard.section_counter("persistence", "compactions"),
                    last_compaction_ms: shard.section_counter("persistence", "last_compaction_ms"),
                    keys_loaded: shard.section_counter("persistence", "keys_loaded"),
                    load_ms: shard.section_counter("persistence", "load_ms"),
                };
                let compactor = Compactor::new(layout.new_dir.clone(), shard.id(), figures.clone());
                let started = start_shard(
                    options,
                    layout,
                    switch,
                    shard.id(),
                    shard.shards(),
                    &store,
                    figures,
                )
                .await;
                match started {
                    Ok(log) => Some((log, compactor)),
                    Err(error) => {
                        let code = error.exit_code();
                        return Err(StartError::new(error).with_exit_code(code));
                    }
                }
            }
        };
        let (log, compactor) = log.unzip();
        if let Some(log) = &log {
            log.attach(store.clone());
        }
        let gauges = Gauges {
            keys: shard.metric_counter("keys", Metric::ShardGauge("percore_keys")),
            memory_bytes: shard
                .metric_counter("memory_bytes", Metric::ShardGauge("percore_memory_bytes")),
        };
        let planned = plan
            .mesh
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let hold = Rc::new(Hold::default());
        let (mesh, holds) = match planned.flatten() {
            None => (None, None),
            Some((mesh_plan, holds_plan)) => {
                let owner = Rc::new(Owner {
                    handlers,
                    states: states.clone(),
                    shard: (shard.id(), shard.shards()),
                    store: store.clone(),
                    log: log.clone(),
                    compactor: compactor.clone(),
                    gauges: gauges.clone(),
                });
                let serving = owner.clone();
                let serve = move |message: &[u8], replies: Vec<u8>| serving.serve(message, replies);
                let gate = Some(hold.clone());
                let mesh = Mesh::join(mesh_plan, shard.id(), gate, serve).await?;
                let holds = holds::join(holds_plan, shard.id(), hold.clone(), owner).await?;
                (Some(mesh), Some(holds))
            }
        };
        let expired = hooks(&handlers, &states, |h| h.expired);
        shard.spawn(sweep_expired(
            store.clone(),
            gauges.clone(),
            hold.clone(),
            expired,
        ));
        Ok(Rc::new(KeySpace {
            store,
            shard: shard.id(),
            mesh,
            hold,
            holds,
            log,
            compactor,
            gauges,
            states,
            transactions: Cell::new(0),
        }))
    }

    /// `protocol`'s state on this shard ([`OwnerHandler::state`]), if it
    /// registered one of type `T`.
    pub fn state<T: Any>(&self, protocol: Protocol) -> Option<Rc<T>> {
        let state = self.states.get(usize::from(protocol.tag()))?.clone()?;
        state.downcast().ok()
    }

    /// Where this shard's log stands: give it to [`KeySpace::after_batch`]
    /// once a batch is answered (it counts the batch open until then).
    pub fn log_position(&self) -> Option<Mark> {
        self.log.as_ref().map(ShardLog::mark)
    }

    /// Once a batch is answered: updates the gauges, starts a compaction if
    /// the log has grown enough, and under `--fsync always` waits until the
    /// writes logged since `from` are on disk (one flush shared with every
    /// batch waiting). An error is why they are not: then none of them was
    /// kept (the caller answers every request of the batch with it).
    pub async fn after_batch(&self, from: Option<Mark>) -> Result<(), String> {
        self.store.with(|store| self.gauges.update(store));
        if let (Some(log), Some(compactor)) = (&self.log, &self.compactor) {
            compactor.maybe_start(log, &self.store);
        }
        self.commit(from).await
    }

    /// Under `--fsync always`: the returned future is ready once the writes
    /// logged from `from` up to now (read at this call) are on disk; an error
    /// is why they are not, and then none of them was kept. Exact for writes
    /// made with no await between `from` and this call, as every caller
    /// makes them; a span with awaits could hold other batches' writes too,
    /// and fail with them.
    pub fn commit(&self, from: Option<Mark>) -> impl Future<Output = Result<(), String>> + '_ {
        let to = self.log.as_ref().map_or(0, |log| log.position());
        async move {
            let (Some(log), Some(from)) = (&self.log, &from) else {
                return Ok(());
            };
            if log.policy() != Fsync::Always || !log.appended_since(from) {
                return Ok(());
            }
            let result = log.commit(from, to).await;
            if result.is_err() {
                // A failed commit took writes back.
                self.store.with(|store| self.gauges.update(store));
            }
            result
        }
    }

    /// When this shard last finished a snapshot, in Unix seconds (LASTSAVE);
    /// 0 if it has not.
    pub fn last_save(&self) -> u64 {
        self.compactor.as_ref().map_or(0, |c| c.finished_at())
    }

    /// At a clean stop: the log's last writes reach the disk.
    pub async fn close(&self) {
        if let Some(log) = &self.log {
            log.close().await;
        }
    }
}

/// How often a shard frees the keys whose time has passed.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
/// Keys freed before the sweep lets the shard's connections run again.
const SWEEP_BUDGET: usize = 10_000;

/// The active expiry (docs/PROTOCOLS.md §6.2): a shard's expired keys are freed within
/// about [`SWEEP_EVERY`] of their time even if nobody reads them, in rounds
/// of [`SWEEP_BUDGET`] that yield to the connections in between, so a
/// million keys expiring at once never stall the shard. Readers never see
/// an expired key meanwhile: every read checks the time.
///
/// While a transaction across shards holds the shard, it sweeps nothing:
/// the transaction reads its keys at one time, start to end. Each key freed
/// is told to the protocols' `hooks` ([`OwnerHandler::expired`]).
async fn sweep_expired(
    store: SharedStore,
    gauges: Gauges,
    hold: Rc<Hold>,
    hooks: Vec<(ExpiredHook, Rc<dyn Any>)>,
) {
    loop {
        glommio::timer::sleep(SWEEP_EVERY).await;
        while !hold.is_held()
            && store.with_mut(|store| {
                store.sweep_with(now_ms(), SWEEP_BUDGET, |key| {
                    for (hook, state) in &hooks {
                        hook(&**state, key);
                    }
                })
            }) == SWEEP_BUDGET
        {
            glommio::yield_if_needed().await;
        }
        store.with(|store| gauges.update(store));
    }
}
