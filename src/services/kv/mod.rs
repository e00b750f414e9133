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
mod handle;
pub mod protocol;
mod route;
mod store;

pub use client::{ClientError, KvClient};
pub use protocol::{Reply, Request};
pub use store::Store;

use std::cell::RefCell;
use std::rc::Rc;

use crate::codec::{split_frame, LengthPrefixed};
use crate::cross_shard::{Mesh, MeshPlan, Ticket};
use crate::server::ShardContext;
use crate::service::{Batch, Flow, Opening, Service, ServiceFactory, StartError};
use crate::stats::Counter;
use handle::apply;
use protocol::{decode_request, push_error_frame, FRAME_TOO_LONG};
use route::{OwnerReplies, Round, RoundPlan};

/// This shard's store, shared by its connections and the mesh task that
/// serves other shards.
pub type SharedStore = Rc<RefCell<Store>>;

/// Makes the kv service on every shard: with more than one shard, each joins
/// the request/reply mesh planned here, over which it serves the keys it owns
/// to the other shards.
#[derive(Clone, Default)]
pub struct KvFactory {
    mesh: Option<MeshPlan>,
}

impl ServiceFactory for KvFactory {
    type Service = Kv;

    fn prepare(&mut self, shards: usize) {
        self.mesh = (shards > 1).then(|| MeshPlan::new(shards));
    }

    async fn start(&self, shard: &ShardContext) -> Result<Kv, StartError> {
        let store = SharedStore::default();
        let mesh = match self.mesh.clone() {
            None => None,
            Some(plan) => {
                let owned = store.clone();
                let serve = move |frames: &[u8], replies: &mut Vec<u8>| {
                    serve_forwarded(&owned, frames, replies)
                };
                Some(Mesh::join(plan, shard.id(), serve).await?)
            }
        };
        Ok(Kv {
            store,
            mesh,
            forwarded: shard.counter("forwarded"),
        })
    }
}

/// The kv service on one shard.
pub struct Kv {
    store: SharedStore,
    /// None with a single shard: every key is local.
    mesh: Option<Rc<Mesh>>,
    /// Requests sent to their key's owner on another shard.
    forwarded: Counter,
}

/// Answers the requests another shard forwarded: `frames` holds them as they
/// came off the wire, `replies` gets one reply frame each.
fn serve_forwarded(store: &RefCell<Store>, frames: &[u8], replies: &mut Vec<u8>) {
    let mut rest = frames;
    while let Some((frame, next)) = split_frame(rest) {
        match decode_request(frame) {
            Ok(request) => apply(&mut store.borrow_mut(), request, replies),
            Err(error) => push_error_frame(replies, &error.to_string()),
        }
        rest = next;
    }
}

impl Service for Kv {
    type Decoder = LengthPrefixed;
    type Session = RoundPlan;

    fn open_session(&self, _: &mut Opening<'_>) -> RoundPlan {
        RoundPlan::default()
    }

    async fn serve(&self, plan: &mut RoundPlan, batch: &mut Batch<'_, LengthPrefixed>) -> Flow {
        match &self.mesh {
            None => self.serve_alone(batch),
            Some(mesh) => while self.serve_round(mesh, plan, batch).await == Round::Cut {},
        }
        Flow::Continue
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        push_error_frame(out, FRAME_TOO_LONG);
    }
}

impl Kv {
    fn serve_alone(&self, batch: &mut Batch<'_, LengthPrefixed>) {
        let mut store = self.store.borrow_mut();
        while let Some(frame) = batch.next_request() {
            match decode_request(frame) {
                Ok(request) => {
                    apply(&mut store, request, batch.out());
                    batch.served();
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
    /// replies back in request order.
    async fn serve_round(
        &self,
        mesh: &Mesh,
        plan: &mut RoundPlan,
        batch: &mut Batch<'_, LengthPrefixed>,
    ) -> Round {
        let (here, shards) = (mesh.shard(), mesh.shards());
        let planned = plan.plan(batch, &self.store, here, shards, || mesh.buffer());
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
