//! kv (SPEC 3.5): the seed's msgspec key-value server, with its dict split
//! over the shards by key.
//!
//! ```python
//! def handle_request(self, req):
//!     match req:
//!         case Get(key): return self.kv.get(key)
//!         case Put(key, val): self.kv[key] = val; return None
//!         case Del(key): self.kv.pop(key, None); return None
//!         case ListKeys(): return sorted(self.kv)
//! ```
//!
//! A request for a key this shard owns is answered at once. The others are
//! gathered per owner while the batch is read (`route.rs`), sent as one
//! message per owner, and their replies are put back in request order. Each
//! owner runs a message's requests in order (`handle.rs`), so a connection's
//! pipelined Put then Get of one key always sees its own Put.

pub mod client;
pub mod durable;
mod handle;
pub mod protocol;
mod route;
mod store;

pub use client::{ClientError, KvClient};
pub use durable::{DurableError, DurableOptions, Fsync};
pub use protocol::{Reply, Request};
pub use store::{now_ms, Store};

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::codec::{split_frame, LengthPrefixed};
use crate::cross_shard::{Mesh, MeshPlan, Ticket};
use crate::server::ShardContext;
use crate::service::{Batch, Flow, Opening, Service, ServiceFactory, StartError};
use crate::stats::{Counter, Metric};
use durable::compact::Compactor;
use durable::files::{self, Layout};
use durable::load::{start_shard, Switch};
use durable::log::{LogFigures, ShardLog};
use handle::{apply, Outcome};
use protocol::{decode_request, push_error_frame, FRAME_TOO_LONG};
use route::{Here, OwnerReplies, Round, RoundPlan};

/// This shard's store, shared by its connections and the mesh task that
/// serves other shards.
pub type SharedStore = Rc<RefCell<Store>>;

/// Makes the kv service on every shard: with more than one shard, each joins
/// the request/reply mesh planned here, over which it serves the keys it owns
/// to the other shards. With `--data-dir`, each loads its keys first
/// ([`durable`]).
#[derive(Clone, Default)]
pub struct KvFactory {
    mesh: Option<MeshPlan>,
    durable: Option<(DurableOptions, Layout, Arc<Switch>)>,
    /// `--max-memory`, over all shards.
    max_memory: Option<u64>,
}

impl KvFactory {
    /// A key space on disk under `options.dir` (checked and prepared now,
    /// before any shard starts), and a memory cap if given.
    pub fn new(
        durable: Option<DurableOptions>,
        max_memory: Option<u64>,
    ) -> Result<KvFactory, DurableError> {
        let durable = match durable {
            None => None,
            Some(options) => {
                let layout =
                    files::prepare(&options.dir).map_err(|e| DurableError::io(&options.dir, e))?;
                Some((options, layout, Arc::default()))
            }
        };
        Ok(KvFactory {
            mesh: None,
            durable,
            max_memory,
        })
    }
}

impl ServiceFactory for KvFactory {
    type Service = Kv;

    fn prepare(&mut self, shards: usize) {
        self.mesh = (shards > 1).then(|| MeshPlan::new(shards));
    }

    async fn start(&self, shard: &ShardContext) -> Result<Kv, StartError> {
        let cap = self.max_memory.map(|bytes| bytes / shard.shards() as u64);
        let store: SharedStore = Rc::new(RefCell::new(Store::with_cap(cap)));
        let log = match &self.durable {
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
        let mesh = match self.mesh.clone() {
            None => None,
            Some(plan) => {
                let (owned, owned_log) = (store.clone(), log.clone());
                let owned_compactor = compactor.clone();
                let serve = move |frames: &[u8], mut replies: Vec<u8>| {
                    let requests =
                        serve_forwarded(&owned, owned_log.as_deref(), frames, &mut replies);
                    if let (Some(log), Some(compactor)) = (&owned_log, &owned_compactor) {
                        compactor.maybe_start(log, &owned);
                    }
                    let log = owned_log.clone();
                    async move {
                        if let Some(log) = log.filter(|log| log.policy() == Fsync::Always) {
                            if let Err(reason) = log.commit(log.position()).await {
                                replies.clear();
                                for _ in 0..requests {
                                    push_error_frame(&mut replies, &format!("disk: {reason}"));
                                }
                            }
                        }
                        replies
                    }
                };
                Some(Mesh::join(plan, shard.id(), serve).await?)
            }
        };
        Ok(Kv {
            store,
            mesh,
            log,
            compactor,
            forwarded: shard
                .metric_counter("forwarded", Metric::Counter("percore_forwarded_total")),
            keys: shard.metric_counter("keys", Metric::ShardGauge("percore_keys")),
            memory_bytes: shard
                .metric_counter("memory_bytes", Metric::ShardGauge("percore_memory_bytes")),
        })
    }
}

/// The kv service on one shard.
pub struct Kv {
    store: SharedStore,
    /// None with a single shard: every key is local.
    mesh: Option<Rc<Mesh>>,
    /// With `--data-dir`: where this shard's writes are logged, and what
    /// compacts that log.
    log: Option<Rc<ShardLog>>,
    compactor: Option<Rc<Compactor>>,
    /// Requests sent to their key's owner on another shard.
    forwarded: Counter,
    /// This shard's keys and their accounted memory (gauges).
    keys: Counter,
    memory_bytes: Counter,
}

/// Answers the requests another shard forwarded: `frames` holds them as they
/// came off the wire, `replies` gets one reply frame each. Returns how many.
/// The clock is read once for the whole message.
fn serve_forwarded(
    store: &RefCell<Store>,
    log: Option<&ShardLog>,
    frames: &[u8],
    replies: &mut Vec<u8>,
) -> usize {
    let mut rest = frames;
    let mut requests = 0;
    let now = now_ms();
    while let Some((frame, next)) = split_frame(rest) {
        match decode_request(frame) {
            Ok(request) => {
                apply(&mut store.borrow_mut(), log, request, now, replies);
            }
            Err(error) => push_error_frame(replies, &error.to_string()),
        }
        requests += 1;
        rest = next;
    }
    requests
}

impl Service for Kv {
    type Decoder = LengthPrefixed;
    type Session = RoundPlan;

    fn open_session(&self, _: &mut Opening<'_>) -> RoundPlan {
        RoundPlan::default()
    }

    async fn serve(&self, plan: &mut RoundPlan, batch: &mut Batch<'_, LengthPrefixed>) -> Flow {
        let logged_from = self.log.as_ref().map(|log| log.position());
        match &self.mesh {
            None => self.serve_alone(batch),
            Some(mesh) => while self.serve_round(mesh, plan, batch).await == Round::Cut {},
        }
        {
            let store = self.store.borrow();
            self.keys.set(store.len() as u64);
            self.memory_bytes.set(store.bytes());
        }
        if let (Some(log), Some(compactor)) = (&self.log, &self.compactor) {
            compactor.maybe_start(log, &self.store);
        }
        // `--fsync always`: the batch's replies leave once its writes are on
        // disk, one flush shared with every batch waiting.
        if let (Some(log), Some(from)) = (&self.log, logged_from) {
            if log.policy() == Fsync::Always && log.position() > from {
                if let Err(reason) = log.commit(log.position()).await {
                    let requests = batch.taken();
                    let out = batch.out();
                    out.clear();
                    for _ in 0..requests {
                        push_error_frame(out, &format!("disk: {reason}"));
                    }
                }
            }
        }
        Flow::Continue
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        push_error_frame(out, FRAME_TOO_LONG);
    }

    async fn stop(&self) {
        if let Some(log) = &self.log {
            log.close().await;
        }
    }
}

impl Kv {
    /// A batch on the only shard: the clock is read once for all of it.
    fn serve_alone(&self, batch: &mut Batch<'_, LengthPrefixed>) {
        let mut store = self.store.borrow_mut();
        let now = now_ms();
        while let Some(frame) = batch.next_request() {
            match decode_request(frame) {
                Ok(request) => {
                    match apply(&mut store, self.log.as_deref(), request, now, batch.out()) {
                        Outcome::Served => batch.served(),
                        Outcome::Refused => batch.failed(),
                    }
                }
                Err(error) => {
                    push_error_frame(batch.out(), &error.to_string());
                    batch.failed();
                }
            }
        }
    }

    /// One round of a sharded batch: plan it (local keys answered now, the
    /// rest gathered per owner), send one message per owner, and put the
    /// replies back in request order. The clock is read once a round.
    async fn serve_round(
        &self,
        mesh: &Mesh,
        plan: &mut RoundPlan,
        batch: &mut Batch<'_, LengthPrefixed>,
    ) -> Round {
        let (here, shards) = (mesh.shard(), mesh.shards());
        let log = self.log.as_deref();
        let shard = Here {
            store: &self.store,
            log,
            now: now_ms(),
            here,
            shards,
        };
        let planned = plan.plan(batch, shard, || mesh.buffer());
        if planned.forwarded == 0 {
            batch.out().extend_from_slice(plan.local());
            return planned.round;
        }
        self.forwarded.add(planned.forwarded);

        // One message per owner, all in flight before any reply is awaited.
        let mut tickets: Vec<Option<Ticket>> = Vec::with_capacity(shards);
        for (shard, outbox) in plan.outboxes.iter_mut().enumerate() {
            tickets.push(if outbox.is_empty() {
                None
            } else {
                mesh.send(shard, std::mem::take(outbox)).await.ok()
            });
        }
        let mut replies: Vec<OwnerReplies> = Vec::with_capacity(shards);
        for ticket in tickets {
            replies.push(OwnerReplies::new(match ticket {
                Some(ticket) => mesh.reply(ticket).await,
                None => Vec::new(),
            }));
        }
        plan.assemble(&mut replies, here, batch.out());
        for reply in replies {
            mesh.recycle(reply.buffer);
        }
        planned.round
    }
}
