//! The one-way lane between shards: a glommio channel mesh joined at start,
//! carrying byte buffers of encoded items. Tasks of a shard queue items for
//! a peer into one buffer per peer, and one courier task per peer sends
//! whatever has gathered as one message; the receiving end hands each
//! peer's messages, in order, to a handler.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::mem;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::task::{Poll, Waker};

use futures_lite::FutureExt;
use glommio::channels::channel_mesh::{Full, MeshBuilder, Receivers, Senders};

use super::{MeshError, Pool};

/// Messages in flight per pair of shards, in each direction.
const CHANNEL_CAPACITY: usize = 1024;
/// Bytes queued for one peer past which producers wait for its courier.
const QUEUED_HIGH_WATER: usize = 1 << 20;

/// What travels between shards: a buffer of encoded items from one shard.
#[derive(Debug)]
pub struct Envelope {
    pub from: usize,
    /// Which request a reply answers (kv's mesh only).
    pub(super) ticket: u32,
    pub body: Vec<u8>,
}

/// A panic while handling another shard's message is a bug, not a client's
/// doing: say so, and keep the shard serving.
pub(super) fn report_panic(shard: usize, from: usize) {
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
    pub(super) pool: Rc<Pool>,
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
pub struct LaneInbox {
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
    ) -> Result<(Lane, LaneInbox), MeshError> {
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
        Ok((lane, LaneInbox { receivers, pool }))
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

    /// Whether [`Lane::room`] for `to` would be ready at once, asked
    /// without a future (so without an allocation where one would be boxed).
    pub fn has_room(&self, to: usize) -> bool {
        self.queued.borrow()[to].buffer.len() < QUEUED_HIGH_WATER
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

    pub(super) async fn send(
        &self,
        to: usize,
        ticket: u32,
        body: Vec<u8>,
    ) -> Result<(), MeshError> {
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

impl LaneInbox {
    /// Hands every arriving message to `handler`, one task per peer, so each
    /// peer's messages are handled in the order they were sent. The buffer
    /// goes back to the pool once the handler is done with it.
    ///
    /// A panic in the handler loses that message only: it is reported on
    /// stderr, and the peer's later messages are still handled.
    pub fn serve<H, F>(self, handler: H)
    where
        H: Fn(usize, &[u8]) -> F + 'static,
        F: Future<Output = ()>,
    {
        let handler = Rc::new(handler);
        let shard = self.receivers.peer_id();
        let pool = self.pool.clone();
        self.serve_envelopes(move |envelope| {
            let (handler, pool) = (handler.clone(), pool.clone());
            async move {
                let handled = AssertUnwindSafe(handler(envelope.from, &envelope.body))
                    .catch_unwind()
                    .await;
                if handled.is_err() {
                    report_panic(shard, envelope.from);
                }
                pool.recycle(envelope.body);
            }
        });
    }

    /// Hands every arriving envelope to `handler`, one task per peer, so each
    /// peer's messages are handled in the order they were sent: the next one
    /// is received once the handler is done with the one before. The mesh
    /// uses it directly, as it needs whole envelopes; the handler brings its
    /// own panic isolation and gives the buffer back itself.
    pub(super) fn serve_envelopes<H, F>(mut self, handler: H)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    use glommio::LocalExecutorBuilder;

    /// Three messages from shard 0, the second making shard 1's handler
    /// panic: the other two are handled, in the order they were sent.
    #[test]
    fn a_panic_in_a_handler_loses_only_that_message() {
        let plan = LanePlan::new(2);
        let shards: Vec<_> = (0..2)
            .map(|shard| {
                let plan = plan.clone();
                LocalExecutorBuilder::default()
                    .spawn(move || async move {
                        let pool = Rc::new(Pool::default());
                        let (lane, inbox) = Lane::join(plan, shard, pool).await.expect("join");
                        let seen = Rc::new(RefCell::new(Vec::new()));
                        let handled = seen.clone();
                        inbox.serve(move |from, body| {
                            let (handled, body) = (handled.clone(), body.to_vec());
                            async move {
                                assert_ne!(body, b"boom", "test fault injection");
                                handled.borrow_mut().push((from, body));
                            }
                        });
                        if shard == 0 {
                            for body in [&b"before"[..], b"boom", b"after"] {
                                lane.send(1, 0, body.to_vec()).await.expect("send");
                            }
                        }
                        // Serve until shard 1 has seen what it can.
                        let deadline = Instant::now() + Duration::from_secs(10);
                        while shard == 1 && seen.borrow().len() < 2 && Instant::now() < deadline {
                            glommio::timer::sleep(Duration::from_millis(1)).await;
                        }
                        let seen = seen.borrow().clone();
                        seen
                    })
                    .expect("start an executor")
            })
            .collect();
        let seen: Vec<_> = shards
            .into_iter()
            .map(|shard| shard.join().expect("a shard ends cleanly"))
            .collect();
        assert_eq!(seen[0], []);
        assert_eq!(seen[1], [(0, b"before".to_vec()), (0, b"after".to_vec())]);
    }
}
