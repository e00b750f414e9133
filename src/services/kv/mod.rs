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
//! gathered per owner while the batch is read, sent as one message per owner,
//! and their replies are put back in request order. Each owner runs a
//! message's requests in order, so a connection's pipelined Put then Get of
//! one key always sees its own Put.

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;

pub mod client;
pub mod protocol;
mod store;

pub use client::{ClientError, KvClient};
pub use protocol::{Reply, Request};
pub use store::Store;

use crate::codec::{encode_frame, split_frame, LengthPrefixed};
use crate::config::ServiceKind;
use crate::cross_shard::{owner_of, Mesh, Ticket};
use crate::service::{Batch, Flow, Service};
use protocol::{decode_request, push_error_frame, push_nil_frame, push_str_frame};

/// This shard's store, shared by its connections and the mesh task that
/// serves other shards.
pub type SharedStore = Rc<RefCell<Store>>;

pub struct Kv {
    store: SharedStore,
    /// None with a single shard: every key is local.
    mesh: Option<Rc<Mesh>>,
}

impl Kv {
    pub fn new(store: SharedStore, mesh: Option<Rc<Mesh>>) -> Kv {
        Kv { store, mesh }
    }

    /// Answers the requests another shard forwarded: `frames` holds them as
    /// they came off the wire, `replies` gets one reply frame each.
    pub fn serve_forwarded(store: &RefCell<Store>, frames: &[u8], replies: &mut Vec<u8>) {
        let mut rest = frames;
        while let Some((frame, next)) = split_frame(rest) {
            match decode_request(frame) {
                Ok(request) => apply(&mut store.borrow_mut(), request, replies),
                Err(error) => push_error_frame(replies, &error.to_string()),
            }
            rest = next;
        }
    }
}

/// Runs one request against the store and appends its reply frame.
fn apply(store: &mut Store, request: Request<'_>, out: &mut Vec<u8>) {
    match request {
        Request::Get { key } => match store.get(key.as_bytes()) {
            Some(val) => push_str_frame(out, val),
            None => push_nil_frame(out),
        },
        Request::Put { key, val } => {
            store.put(key.as_bytes(), val.as_bytes());
            push_nil_frame(out);
        }
        Request::Del { key } => {
            store.del(key.as_bytes());
            push_nil_frame(out);
        }
        Request::ListKeys => push_keys_frame(out, store.sorted_keys()),
    }
}

fn push_keys_frame(out: &mut Vec<u8>, keys: Vec<&[u8]>) {
    let start = protocol::begin_frame(out);
    protocol::push_array_len(out, keys.len());
    for key in keys {
        protocol::push_str(out, key);
    }
    protocol::end_frame(out, start);
}

/// Per connection: the batch's plan, reused from batch to batch.
#[derive(Default)]
pub struct KvSession {
    /// Replies made on this shard, in order.
    local: Vec<u8>,
    /// Where each request's reply will come from, in request order.
    slots: Vec<Slot>,
    /// Requests gathered for each other shard.
    outboxes: Vec<Vec<u8>>,
}

enum Slot {
    /// A reply in `local`.
    Local(Range<usize>),
    /// The next reply from this shard.
    Remote(usize),
    /// ListKeys: this shard's keys (an array frame in `local`) merged with
    /// the next reply of every other shard.
    Gather(Range<usize>),
}

impl Service for Kv {
    const KIND: ServiceKind = ServiceKind::Kv;
    type Decoder = LengthPrefixed;
    type Session = KvSession;

    fn open_session(&self) -> KvSession {
        KvSession::default()
    }

    async fn serve(&self, session: &mut KvSession, batch: &mut Batch<'_, LengthPrefixed>) -> Flow {
        match &self.mesh {
            None => self.serve_alone(batch),
            Some(mesh) => self.serve_sharded(mesh, session, batch).await,
        }
        Flow::Continue
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        push_error_frame(out, protocol::FRAME_TOO_LONG);
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

    /// Serves the batch in rounds: plan (answer local keys now, gather the
    /// rest per owner), send, put the replies back in order. A round ends
    /// early when its replies could pass the output budget: local replies are
    /// measured, and forwarded replies of unknown size (Get, ListKeys) are
    /// counted, so one batch never holds more than about the budget plus
    /// [`UNSIZED_REPLIES_PER_ROUND`] values.
    async fn serve_sharded(
        &self,
        mesh: &Mesh,
        session: &mut KvSession,
        batch: &mut Batch<'_, LengthPrefixed>,
    ) {
        while self.serve_round(mesh, session, batch).await == Round::Cut {}
    }

    async fn serve_round(
        &self,
        mesh: &Mesh,
        session: &mut KvSession,
        batch: &mut Batch<'_, LengthPrefixed>,
    ) -> Round {
        let (here, shards) = (mesh.shard(), mesh.shards());
        let KvSession {
            local,
            slots,
            outboxes,
        } = session;
        local.clear();
        slots.clear();
        outboxes.resize_with(shards, Vec::new);

        let mut round = Round::Whole;
        let mut forwarded = 0;
        let mut unsized_replies = 0;
        loop {
            // A round takes at least one request; past the batch's budget,
            // next_request itself stops.
            let full =
                local.len() >= batch.output_room() || unsized_replies >= UNSIZED_REPLIES_PER_ROUND;
            if full && !slots.is_empty() {
                round = Round::Cut;
                break;
            }
            let Some(frame) = batch.next_request() else {
                break;
            };
            let start = local.len();
            let request = match decode_request(frame) {
                Ok(request) => request,
                Err(error) => {
                    push_error_frame(local, &error.to_string());
                    slots.push(Slot::Local(start..local.len()));
                    batch.failed();
                    continue;
                }
            };
            batch.served();
            match request.key().map(|key| owner_of(key.as_bytes(), shards)) {
                Some(owner) if owner == here => {
                    apply(&mut self.store.borrow_mut(), request, local);
                    slots.push(Slot::Local(start..local.len()));
                }
                Some(owner) => {
                    if matches!(request, Request::Get { .. }) {
                        unsized_replies += 1;
                    }
                    forward(mesh, &mut outboxes[owner], frame);
                    slots.push(Slot::Remote(owner));
                    forwarded += 1;
                }
                None => {
                    for (shard, outbox) in outboxes.iter_mut().enumerate() {
                        if shard != here {
                            forward(mesh, outbox, frame);
                        }
                    }
                    apply(&mut self.store.borrow_mut(), request, local);
                    slots.push(Slot::Gather(start..local.len()));
                    forwarded += 1;
                    // The whole store may come back: one per round.
                    unsized_replies = UNSIZED_REPLIES_PER_ROUND;
                }
            }
        }
        batch.forwarded(forwarded);
        if forwarded == 0 {
            batch.out().extend_from_slice(local);
            return round;
        }

        // One message per owner, all in flight before any reply is awaited.
        let mut tickets: Vec<Option<Ticket>> = Vec::with_capacity(shards);
        for (shard, outbox) in outboxes.iter_mut().enumerate() {
            tickets.push(if outbox.is_empty() {
                None
            } else {
                mesh.send(shard, std::mem::take(outbox)).await.ok()
            });
        }
        let mut replies: Vec<Replies> = Vec::with_capacity(shards);
        for ticket in tickets {
            replies.push(match ticket {
                Some(ticket) => Replies::new(mesh.reply(ticket).await),
                None => Replies::new(Vec::new()),
            });
        }

        let out = batch.out();
        for slot in slots.iter() {
            match slot {
                Slot::Local(range) => out.extend_from_slice(&local[range.clone()]),
                Slot::Remote(owner) => replies[*owner].copy_next(out),
                Slot::Gather(range) => {
                    let mut keys = keys_of(&local[range.clone()]);
                    for (shard, from) in replies.iter_mut().enumerate() {
                        if shard != here {
                            keys.extend(from.next().map(keys_of).unwrap_or_default());
                        }
                    }
                    keys.sort_unstable();
                    push_keys_frame(out, keys);
                }
            }
        }
        for reply in replies {
            mesh.recycle(reply.buffer);
        }
        round
    }
}

/// Forwarded Gets (or one ListKeys) per round: their replies' size is only
/// known once they come back, and a Get may return a value as long as
/// `--max-frame`.
const UNSIZED_REPLIES_PER_ROUND: usize = 32;

/// How a round of a sharded batch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Round {
    /// Every request left (or the batch's output budget) was reached.
    Whole,
    /// Cut short so its replies stay bounded: requests may remain.
    Cut,
}

/// Appends a request frame to an owner's outbox (length prefix included, as
/// it came off the wire).
fn forward(mesh: &Mesh, outbox: &mut Vec<u8>, frame: &[u8]) {
    if outbox.capacity() == 0 {
        *outbox = mesh.buffer();
    }
    encode_frame(frame, outbox);
}

/// The reply frames one owner sent back, read in order.
struct Replies {
    buffer: Vec<u8>,
    read: usize,
}

impl Replies {
    fn new(buffer: Vec<u8>) -> Replies {
        Replies { buffer, read: 0 }
    }

    /// The next whole frame, length prefix included.
    fn next(&mut self) -> Option<&[u8]> {
        let rest = &self.buffer[self.read..];
        let (_, after) = split_frame(rest)?;
        let frame = &rest[..rest.len() - after.len()];
        self.read += frame.len();
        Some(frame)
    }

    /// Copies the next reply to `out`; a shard that did not answer (it is
    /// gone) gets an error reply in its place.
    fn copy_next(&mut self, out: &mut Vec<u8>) {
        match self.next() {
            Some(frame) => out.extend_from_slice(frame),
            None => push_error_frame(out, "the key's shard is unavailable"),
        }
    }
}

/// The keys of a ListKeys reply frame.
fn keys_of(frame: &[u8]) -> Vec<&[u8]> {
    protocol::str_array(crate::codec::frame_body(frame)).unwrap_or_default()
}
