//! kv (docs/PROTOCOLS.md §3.5): the Python original msgspec key-value server (§0), with its dict split
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
//! gathered per owner while the batch is read (`route.rs`), decoded already
//! (`forwarded.rs`), sent as one message per owner, and their replies are
//! put back in request order. Each owner runs a message's requests in order
//! (`handle.rs`), so a connection's pipelined Put then Get of one key always
//! sees its own Put.

mod ahead;
pub mod client;
pub(crate) mod forwarded;
mod handle;
pub mod protocol;
mod route;

pub use client::{ClientError, KvClient};
pub use durable::{DurableError, DurableOptions, Fsync};
/// How `benches/hop.rs` writes requests as a shard forwards them.
#[doc(hidden)]
pub use forwarded::push_forwarded;
/// The store and its durability are the key space's (`percore_keyspace`).
pub use percore_keyspace::{durable, now_ms, values, Store};
pub use protocol::{Reply, Request};

use std::rc::Rc;

use ahead::Ahead;
use durable::log::ShardLog;
use handle::{apply, Op, Outcome};
use percore::codec::LengthPrefixed;
use percore::cross_shard::Mesh;
use percore::server::ShardContext;
use percore::service::{Batch, Flow, Opening, Service, ServiceFactory, StartError};
use percore::stats::{Counter, Metric};
use percore_keyspace::write::ShardKeys;
use percore_keyspace::{KeySpace, KeySpacePlan, Marks, OwnerHandler, Protocol, SharedStore};
use protocol::{decode_request, push_error_frame, FRAME_TOO_LONG};
use route::{plan_round, RoundEnd, RoundPlan, ThisShard};

/// kv's tag on the key space's mesh: its messages are requests in the
/// owner's form (`forwarded.rs`), decoded once, where they came off the wire.
pub const PROTOCOL: Protocol = Protocol(1);

/// What kv runs on the shard that owns a forwarded message's keys,
/// registered on the key space's plan ([`KeySpacePlan::register`]).
const OWNER_HANDLER: OwnerHandler = OwnerHandler {
    serve: |store, log, _shard, _state, body, replies| serve_forwarded(store, log, body, replies),
    push_error: push_error_frame,
    push_disk_error,
    before_reply: None,
    state: None,
    expired: None,
    filled: None,
    evicted: None,
};

/// Makes the kv service on every shard, over the shard's part of the key
/// space ([`KeySpace`]): with more than one shard, requests for keys another
/// shard owns go over the key space's mesh.
#[derive(Clone)]
pub struct KvFactory {
    keys: KeySpacePlan,
}

impl KvFactory {
    /// kv over the key space `keys` (which resp may serve too).
    pub fn new(keys: KeySpacePlan) -> KvFactory {
        keys.register(PROTOCOL, OWNER_HANDLER);
        KvFactory { keys }
    }
}

impl Default for KvFactory {
    /// kv over a key space of its own (or the shard's, if resp made it first).
    fn default() -> Self {
        KvFactory::new(KeySpacePlan::default())
    }
}

impl ServiceFactory for KvFactory {
    type Service = Kv;

    fn prepare(&mut self, shards: usize) {
        self.keys.prepare(shards);
    }

    async fn start(&self, shard: &ShardContext) -> Result<Kv, StartError> {
        Ok(Kv {
            keys: self.keys.on_shard(shard).await?,
            forwarded: shard
                .metric_counter("forwarded", Metric::Counter("percore_forwarded_total")),
        })
    }
}

/// The kv service on one shard.
pub struct Kv {
    keys: Rc<KeySpace>,
    /// Requests sent to their key's owner on another shard.
    forwarded: Counter,
}

/// Answers the requests another shard forwarded: `body` holds them as the
/// round engine frames them, each in the owner's form (`forwarded.rs`);
/// `replies` gets one reply frame each. Returns how many. The clock is read once for the whole message. Public
/// for `benches/hop.rs`, which forwards through it as the key space's owner
/// does.
#[doc(hidden)]
pub fn serve_forwarded(
    store: &SharedStore,
    log: Option<&ShardLog>,
    body: &[u8],
    replies: &mut Vec<u8>,
) -> usize {
    let marks = store.marks();
    store.with_mut(|store| serve_forwarded_on(store, marks, log, body, replies))
}

/// [`serve_forwarded`] on the store it was lent.
fn serve_forwarded_on(
    store: &mut Store,
    marks: &Marks,
    log: Option<&ShardLog>,
    body: &[u8],
    replies: &mut Vec<u8>,
) -> usize {
    let mut rest = body;
    let mut requests = 0;
    let mut keys = ShardKeys::new(store, marks, log, now_ms());
    // A window at a time, its entries prefetched together (`Ahead`): an
    // owner's store is often cold, its core shared with others' work.
    let mut ahead = Ahead::new();
    while !rest.is_empty() {
        ahead.decode_forwarded(rest);
        if ahead.is_empty() {
            break;
        }
        keys.prefetch(ahead.keys());
        for &(_, op) in ahead.requests() {
            if let Some(op) = op {
                apply(&mut keys, op, replies);
            }
            requests += 1;
        }
        rest = ahead.rest();
    }
    requests
}

/// kv's reply to a request whose write could not reach the disk.
pub(super) fn push_disk_error(replies: &mut Vec<u8>, reason: &str) {
    push_error_frame(replies, &format!("disk: {reason}"));
}

impl Service for Kv {
    type Decoder = LengthPrefixed;
    type Session = RoundPlan;

    fn open_session(&self, _: &mut Opening<'_>) -> RoundPlan {
        RoundPlan::default()
    }

    /// A session is only the scratch space of one batch: between two, a
    /// connection may move to another shard (crates/percore/src/server/moving.rs).
    fn movable(&self, _: &RoundPlan) -> bool {
        true
    }

    async fn serve(&self, plan: &mut RoundPlan, batch: &mut Batch<'_, LengthPrefixed>) -> Flow {
        let logged_from = match &self.keys.mesh {
            None => {
                let from = self.keys.log_position();
                self.serve_alone(batch);
                from
            }
            Some(mesh) => {
                // Each round commits its own writes.
                while self.serve_round(mesh, plan, batch).await == RoundEnd::Cut {}
                None
            }
        };
        // `--fsync always`: the batch's replies leave once its writes are on
        // disk, one flush shared with every batch waiting.
        if let Err(reason) = self.keys.after_batch(logged_from).await {
            let requests = batch.taken();
            let out = batch.out();
            out.clear();
            for _ in 0..requests {
                push_disk_error(out, &reason);
            }
            batch.all_failed();
        }
        Flow::Continue
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        push_error_frame(out, FRAME_TOO_LONG);
    }

    async fn stop(&self) {
        self.keys.close().await;
    }
}

impl Kv {
    /// A batch on the only shard: the clock is read once for all of it.
    fn serve_alone(&self, batch: &mut Batch<'_, LengthPrefixed>) {
        let marks = self.keys.store.marks();
        self.keys.store.with_mut(|store| {
            let mut keys = ShardKeys::new(store, marks, self.keys.log.as_deref(), now_ms());
            let mut ahead = Ahead::new();
            loop {
                // The next requests are decoded once, here, and their
                // entries prefetched together before any is served
                // (`Ahead`).
                ahead.decode(batch.remaining());
                keys.prefetch(ahead.keys());
                for &(body, decoded) in ahead.requests() {
                    // Taken from the batch as always: the output budget
                    // may stop the batch before the window's end.
                    let Some(frame) = batch.next_request() else {
                        return;
                    };
                    let request = match decoded {
                        Some(op) if std::ptr::eq(frame, body) => Ok(op),
                        _ => decode_request(frame).map(Op::from),
                    };
                    match request {
                        Ok(request) => match apply(&mut keys, request, batch.out()) {
                            Outcome::Served => batch.served(),
                            Outcome::Refused => batch.failed(),
                        },
                        Err(error) => {
                            push_error_frame(batch.out(), &error.to_string());
                            batch.failed();
                        }
                    }
                }
                if ahead.is_empty() {
                    return;
                }
            }
        })
    }

    /// One round of a sharded batch: plan it (local keys answered now, the
    /// rest gathered per owner), send one message per owner, and put the
    /// replies back in request order (the key space's round engine). The
    /// clock is read once a round.
    async fn serve_round(
        &self,
        mesh: &Mesh,
        plan: &mut RoundPlan,
        batch: &mut Batch<'_, LengthPrefixed>,
    ) -> RoundEnd {
        // While a transaction across shards (resp's) holds this shard,
        // nothing else runs on it: ready at once when none does.
        self.keys.until_unheld().await;
        // This round's writes on this shard, made with no await in between:
        // their commit is exact, and its failure concerns their replies
        // only (the owners of the others answer for theirs).
        let logged_from = self.keys.log_position();
        let answered = batch.out().len();
        let shard = ThisShard {
            store: &self.keys.store,
            log: self.keys.log.as_deref(),
            now: now_ms(),
            here: mesh.shard(),
            shards: mesh.shards(),
        };
        let end = plan_round(plan, batch, shard, || {
            let mut buffer = mesh.buffer();
            buffer.push(PROTOCOL.tag());
            buffer
        });
        if plan.forwarded() > 0 {
            self.forwarded.add(plan.forwarded());
        }
        // The end of this round's writes here is read now, before any await.
        let committed = self.keys.commit(logged_from);
        plan.finish(
            Some(mesh),
            committed,
            std::future::ready(()),
            |_, _| {},
            batch,
            answered,
        )
        .await;
        end
    }
}
