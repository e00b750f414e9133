//! The cross-shard layer: how a shard reaches state that another shard owns.
//!
//! Ownership is decided by [`owner_of`], a stable hash. Messages travel over
//! glommio's channel mesh as byte buffers of encoded items, one buffer per
//! destination per batch, never one per request. Two shapes are built on one
//! primitive, the one-way [`Lane`]:
//!
//! - [`Mesh`] (kv): request and reply. Replies travel on a lane of their own,
//!   so a shard busy answering can never block the replies it waits for (one
//!   lane for both could deadlock two shards that fill each other's queue).
//! - a bare [`Lane`] (mq): messages that need no answer. Tasks of a shard
//!   queue items for a peer into one shared buffer, and one courier task per
//!   peer sends whatever has gathered as one message, so a busy shard sends
//!   few large messages, and everything queued for a peer arrives in the
//!   order it was queued (the ordering mq's guarantees stand on).
//!
//! Buffers go around: a message's buffer is recycled where it is read, into
//! a [`Pool`] the receiving shard draws its own messages from, so a steady
//! load allocates nothing for the hop.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::mem;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::task::{Poll, Waker};

use futures_lite::FutureExt;
use glommio::channels::channel_mesh::{Full, MeshBuilder, Receivers, Senders};
use thiserror::Error;

/// Messages in flight per pair of shards, in each direction.
const CHANNEL_CAPACITY: usize = 1024;
/// Spare buffers a shard keeps for reuse.
const POOL_MAX: usize = 256;
/// A buffer grown past this by one large batch is not kept.
const POOL_BUFFER_MAX: usize = 1 << 20;
/// Bytes queued for one peer past which producers wait for its courier.
const QUEUED_HIGH_WATER: usize = 1 << 20;

/// The shard that owns `key` among `shards`: 64-bit FNV-1a of the bytes,
/// modulo the shard count. Stable across runs, builds and machines, as SPEC
/// 3.5 asks; documented in README so that clients may route themselves.
pub fn owner_of(key: &[u8], shards: usize) -> usize {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let hash = key
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    (hash % shards.max(1) as u64) as usize
}

#[derive(Debug, Error)]
pub enum MeshError {
    #[error("shard {0} could not join the cross-shard mesh")]
    Join(usize),
    #[error("shard {0} joined the mesh as peer {1}")]
    Misplaced(usize, usize),
    #[error("shard {0} is gone")]
    PeerGone(usize),
}

/// What travels between shards: a buffer of encoded items from one shard.
#[derive(Debug)]
pub struct Envelope {
    pub from: usize,
    /// Which request a reply answers (kv's mesh only).
    ticket: u32,
    pub body: Vec<u8>,
}

/// Spare message buffers of one shard.
#[derive(Default)]
pub struct Pool(RefCell<Vec<Vec<u8>>>);

impl Pool {
    /// An empty buffer, from the pool when it has one.
    pub fn buffer(&self) -> Vec<u8> {
        self.0.borrow_mut().pop().unwrap_or_default()
    }

    /// Gives a buffer back for reuse.
    pub fn recycle(&self, mut buffer: Vec<u8>) {
        let mut pool = self.0.borrow_mut();
        if pool.len() < POOL_MAX && buffer.capacity() <= POOL_BUFFER_MAX {
            buffer.clear();
            pool.push(buffer);
        }
    }
}

/// A panic while handling another shard's message is a bug, not a client's
/// doing: say so, and keep the shard serving.
fn report_panic(shard: usize, from: usize) {
    eprintln!(
        "percore: shard {shard}: a panic while handling a message from shard {from}; that message was dropped"
    );
}

/// Built by the coordinator, cloned into every shard, joined by each.
#[derive(Clone, Debug)]
pub struct LanePlan(MeshBuilder<Envelope, Full>);

impl LanePlan {
    pub fn new(shards: usize) -> LanePlan {
        LanePlan(MeshBuilder::full(shards, CHANNEL_CAPACITY))
    }
}

/// One shard's sending end of a one-way lane to every other shard.
pub struct Lane {
    shard: usize,
    senders: Senders<Envelope>,
    pool: Rc<Pool>,
    /// What is queued for each peer, and its courier.
    queued: RefCell<Vec<Queued>>,
}

/// Items queued for one peer, not yet handed to the channel.
#[derive(Default)]
struct Queued {
    buffer: Vec<u8>,
    courier_started: bool,
    courier: Option<Waker>,
    /// Producers waiting for the buffer to go below the high-water mark.
    blocked: Vec<Waker>,
}

/// One shard's receiving end of a lane, until it is served.
pub struct Inbox {
    receivers: Receivers<Envelope>,
    pool: Rc<Pool>,
}

impl Lane {
    /// Joins the lane: a barrier, every shard must join. Buffers of arriving
    /// messages go back to `pool`.
    pub async fn join(
        plan: LanePlan,
        shard: usize,
        pool: Rc<Pool>,
    ) -> Result<(Lane, Inbox), MeshError> {
        let (senders, receivers) = plan.0.join().await.map_err(|_| MeshError::Join(shard))?;
        // Glommio numbers peers by executor creation order, which is ours.
        if senders.peer_id() != shard {
            return Err(MeshError::Misplaced(shard, senders.peer_id()));
        }
        let peers = senders.nr_consumers();
        let lane = Lane {
            shard,
            senders,
            pool: pool.clone(),
            queued: RefCell::new((0..peers).map(|_| Queued::default()).collect()),
        };
        Ok((lane, Inbox { receivers, pool }))
    }

    pub fn shard(&self) -> usize {
        self.shard
    }

    pub fn shards(&self) -> usize {
        self.senders.nr_consumers()
    }

    /// Appends items for shard `to` with `write`. They leave with the next
    /// message of the courier for `to`, after everything queued before them.
    pub fn queue(self: &Rc<Self>, to: usize, write: impl FnOnce(&mut Vec<u8>)) {
        let start_courier = {
            let mut queued = self.queued.borrow_mut();
            let peer = &mut queued[to];
            if peer.buffer.capacity() == 0 {
                peer.buffer = self.pool.buffer();
            }
            write(&mut peer.buffer);
            if let Some(courier) = peer.courier.take() {
                courier.wake();
            }
            !mem::replace(&mut peer.courier_started, true)
        };
        // Glommio may run a new task right away: nothing may be borrowed.
        if start_courier {
            glommio::spawn_local(Rc::clone(self).courier(to)).detach();
        }
    }

    /// Waits until what is queued for `to` is below the high-water mark:
    /// how a slow peer slows down the producers instead of growing memory.
    pub async fn room(&self, to: usize) {
        poll_fn(|cx| {
            let mut queued = self.queued.borrow_mut();
            let peer = &mut queued[to];
            if peer.buffer.len() < QUEUED_HIGH_WATER {
                Poll::Ready(())
            } else {
                peer.blocked.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    /// Sends whatever has gathered for `to`, one message at a time, until the
    /// peer is gone (shutdown).
    async fn courier(self: Rc<Self>, to: usize) {
        loop {
            let body = poll_fn(|cx| {
                let mut queued = self.queued.borrow_mut();
                let peer = &mut queued[to];
                if peer.buffer.is_empty() {
                    peer.courier = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                peer.blocked.drain(..).for_each(Waker::wake);
                Poll::Ready(mem::take(&mut peer.buffer))
            })
            .await;
            if self.send(to, 0, body).await.is_err() {
                return;
            }
        }
    }

    async fn send(&self, to: usize, ticket: u32, body: Vec<u8>) -> Result<(), MeshError> {
        let envelope = Envelope {
            from: self.shard,
            ticket,
            body,
        };
        self.senders
            .send_to(to, envelope)
            .await
            .map_err(|_| MeshError::PeerGone(to))
    }
}

impl Inbox {
    /// Hands every arriving message to `handler`, one task per peer, so each
    /// peer's messages are handled in the order they were sent. The buffer
    /// goes back to the pool once the handler is done with it.
    ///
    /// A panic in the handler loses that message only: it is reported on
    /// stderr, and the peer's later messages are still handled.
    pub fn serve<H, F>(mut self, handler: H)
    where
        H: Fn(usize, &[u8]) -> F + 'static,
        F: Future<Output = ()>,
    {
        let handler = Rc::new(handler);
        let shard = self.receivers.peer_id();
        for (_, stream) in self.receivers.streams() {
            let (handler, pool) = (handler.clone(), self.pool.clone());
            glommio::spawn_local(async move {
                while let Some(envelope) = stream.recv().await {
                    let handled = AssertUnwindSafe(handler(envelope.from, &envelope.body))
                        .catch_unwind()
                        .await;
                    if handled.is_err() {
                        report_panic(shard, envelope.from);
                    }
                    pool.recycle(envelope.body);
                }
            })
            .detach();
        }
    }

    /// Like [`Inbox::serve`], for the mesh, which needs whole envelopes.
    fn serve_envelopes<H, F>(mut self, handler: H)
    where
        H: Fn(Envelope) -> F + 'static,
        F: Future<Output = ()>,
    {
        let handler = Rc::new(handler);
        for (_, stream) in self.receivers.streams() {
            let handler = handler.clone();
            glommio::spawn_local(async move {
                while let Some(envelope) = stream.recv().await {
                    handler(envelope).await;
                }
            })
            .detach();
        }
    }
}

/// Built by the coordinator, cloned into every shard, joined by each.
#[derive(Clone, Debug)]
pub struct MeshPlan {
    requests: LanePlan,
    replies: LanePlan,
}

impl MeshPlan {
    pub fn new(shards: usize) -> MeshPlan {
        MeshPlan {
            requests: LanePlan::new(shards),
            replies: LanePlan::new(shards),
        }
    }
}

/// One shard's end of a request/reply mesh.
pub struct Mesh {
    requests: Lane,
    replies: Lane,
    tickets: RefCell<Tickets>,
}

/// A request sent and not yet answered.
#[must_use = "a sent request's reply must be awaited"]
pub struct Ticket {
    id: u32,
}

impl Mesh {
    /// Joins the mesh (a barrier: every shard must join), and starts
    /// answering other shards' requests with `handler(request, reply)`.
    pub async fn join<H>(plan: MeshPlan, shard: usize, handler: H) -> Result<Rc<Mesh>, MeshError>
    where
        H: Fn(&[u8], &mut Vec<u8>) + 'static,
    {
        let pool = Rc::new(Pool::default());
        let (requests, request_inbox) = Lane::join(plan.requests, shard, pool.clone()).await?;
        let (replies, reply_inbox) = Lane::join(plan.replies, shard, pool.clone()).await?;
        let mesh = Rc::new(Mesh {
            requests,
            replies,
            tickets: RefCell::default(),
        });

        let answering = mesh.clone();
        let handler = Rc::new(handler);
        request_inbox.serve_envelopes(move |request| {
            let (mesh, handler) = (answering.clone(), handler.clone());
            async move {
                let mut reply = mesh.buffer();
                let answered = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    handler(&request.body, &mut reply)
                }));
                if answered.is_err() {
                    // No reply for any of the message's requests: the
                    // requester answers each with an error, and goes on.
                    reply.clear();
                    report_panic(shard, request.from);
                }
                mesh.recycle(request.body);
                // A peer gone means shutdown: its waiters are gone too.
                let _ = mesh.replies.send(request.from, request.ticket, reply).await;
            }
        });
        let completing = mesh.clone();
        reply_inbox.serve_envelopes(move |reply| {
            completing
                .tickets
                .borrow_mut()
                .complete(reply.ticket, reply.body);
            std::future::ready(())
        });
        Ok(mesh)
    }

    pub fn shard(&self) -> usize {
        self.requests.shard()
    }

    pub fn shards(&self) -> usize {
        self.requests.shards()
    }

    /// An empty buffer for a request, from the pool when it has one.
    pub fn buffer(&self) -> Vec<u8> {
        self.requests.pool.buffer()
    }

    /// Gives a buffer back for reuse.
    pub fn recycle(&self, buffer: Vec<u8>) {
        self.requests.pool.recycle(buffer);
    }

    /// Sends one request buffer to shard `to`, waiting while its queue is full.
    pub async fn send(&self, to: usize, body: Vec<u8>) -> Result<Ticket, MeshError> {
        let id = self.tickets.borrow_mut().open();
        match self.requests.send(to, id, body).await {
            Ok(()) => Ok(Ticket { id }),
            Err(error) => {
                self.tickets.borrow_mut().abandon(id);
                Err(error)
            }
        }
    }

    /// Waits for the reply to a sent request. Dropping the future before the
    /// reply comes (a connection ended mid-batch) leaves no slot behind.
    pub async fn reply(&self, ticket: Ticket) -> Vec<u8> {
        struct Abandon<'a>(&'a Mesh, Option<u32>);
        impl Drop for Abandon<'_> {
            fn drop(&mut self) {
                if let Some(id) = self.1 {
                    self.0.tickets.borrow_mut().abandon(id);
                }
            }
        }
        let mut guard = Abandon(self, Some(ticket.id));
        let body = poll_fn(|cx| self.tickets.borrow_mut().poll(ticket.id, cx.waker())).await;
        guard.1 = None;
        body
    }
}

/// Requests awaiting replies, by ticket number; numbers are reused.
#[derive(Default)]
struct Tickets {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

enum Slot {
    Free,
    Waiting(Option<Waker>),
    Ready(Vec<u8>),
    /// Its waiter is gone: the reply is dropped when it comes.
    Abandoned,
}

impl Tickets {
    fn open(&mut self) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Slot::Waiting(None);
                id
            }
            None => {
                self.slots.push(Slot::Waiting(None));
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, id: u32) {
        self.slots[id as usize] = Slot::Free;
        self.free.push(id);
    }

    fn complete(&mut self, id: u32, body: Vec<u8>) {
        let Some(slot) = self.slots.get_mut(id as usize) else {
            return;
        };
        match std::mem::replace(slot, Slot::Ready(body)) {
            Slot::Waiting(waker) => {
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            Slot::Abandoned => self.release(id),
            // A reply for a ticket not waiting: keep the slot as it was.
            other => *slot = other,
        }
    }

    fn abandon(&mut self, id: u32) {
        match self.slots.get(id as usize) {
            Some(Slot::Waiting(_)) => self.slots[id as usize] = Slot::Abandoned,
            Some(Slot::Ready(_)) => self.release(id),
            _ => {}
        }
    }

    fn poll(&mut self, id: u32, waker: &Waker) -> Poll<Vec<u8>> {
        match self.slots.get_mut(id as usize) {
            Some(slot @ Slot::Ready(_)) => match std::mem::replace(slot, Slot::Free) {
                Slot::Ready(body) => {
                    self.free.push(id);
                    Poll::Ready(body)
                }
                _ => Poll::Pending,
            },
            Some(Slot::Waiting(stored)) => {
                if !stored.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    *stored = Some(waker.clone());
                }
                Poll::Pending
            }
            _ => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use glommio::LocalExecutorBuilder;

    /// Two shards on a mesh whose handler echoes requests but panics on
    /// `boom`: the request that panicked gets an empty reply, and the
    /// owner goes on answering.
    #[test]
    fn a_panic_in_the_owners_handler_loses_only_that_message() {
        let plan = MeshPlan::new(2);
        let done = Arc::new(AtomicBool::new(false));
        let shards: Vec<_> = (0..2)
            .map(|shard| {
                let (plan, done) = (plan.clone(), done.clone());
                LocalExecutorBuilder::default()
                    .spawn(move || async move {
                        let mesh = Mesh::join(plan, shard, |request, reply| {
                            assert_ne!(request, b"boom", "test fault injection");
                            reply.extend_from_slice(request);
                        })
                        .await
                        .expect("join the mesh");
                        let mut replies = Vec::new();
                        if shard == 0 {
                            for request in [&b"before"[..], b"boom", b"after"] {
                                let ticket = mesh.send(1, request.to_vec()).await.unwrap();
                                let timeout = async {
                                    glommio::timer::sleep(Duration::from_secs(10)).await;
                                    b"no reply".to_vec()
                                };
                                replies.push(mesh.reply(ticket).or(timeout).await);
                            }
                            done.store(true, Ordering::Release);
                        } else {
                            // Serve until the other shard is done.
                            let deadline = Instant::now() + Duration::from_secs(20);
                            while !done.load(Ordering::Acquire) && Instant::now() < deadline {
                                glommio::timer::sleep(Duration::from_millis(1)).await;
                            }
                        }
                        replies
                    })
                    .expect("start an executor")
            })
            .collect();
        let replies: Vec<Vec<Vec<u8>>> = shards
            .into_iter()
            .map(|shard| shard.join().expect("a shard ends cleanly"))
            .collect();
        assert_eq!(
            replies[0],
            [b"before".to_vec(), Vec::new(), b"after".to_vec()]
        );
    }

    #[test]
    fn owners_are_stable_and_spread() {
        // Fixed values: the hash is part of the contract.
        assert_eq!(owner_of(b"", 4), (0xcbf2_9ce4_8422_2325u64 % 4) as usize);
        assert_eq!(owner_of(b"foo", 1), 0);
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            counts[owner_of(format!("key:{i:012}").as_bytes(), 4)] += 1;
        }
        assert!(counts.iter().all(|&n| n > 800), "{counts:?}");
    }
}
