//! kv's request/reply mesh: a lane for requests and one of its own for
//! replies, so that a shard busy answering can never block the replies it
//! waits for. A reply finds its waiter by its ticket.

use std::cell::RefCell;
use std::future::poll_fn;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use super::hold::Hold;
use super::lane::{report_panic, Lane, LanePlan};
use super::tickets::{Ticket, Tickets};
use super::{MeshError, Pool};

/// How a handler answers one message: a future that yields the reply.
pub enum Answer<F> {
    /// Awaited before the peer's next message is handled: a reply ready at
    /// once, or one that waits for the message's writes to reach the disk.
    InOrder(F),
    /// Awaited apart, while the peer's next messages are handled: a reply
    /// that waits on other shards (resp's reported deliveries), which must
    /// not hold up the requests behind it. Replies find their waiters by
    /// ticket, so they may leave in any order.
    Apart(F),
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

impl Mesh {
    /// Joins the mesh (a barrier every shard must reach), and starts
    /// answering other shards' requests. `handler` answers one message:
    /// given its body and an empty reply buffer, it fills the buffer and
    /// returns a future that yields it ([`Answer`]), which may wait (for the
    /// requests' writes to reach the disk, for other shards) before the
    /// reply is sent. With a `gate`,
    /// no message is handled while the shard is held (`hold.rs`): they wait
    /// for its release.
    pub async fn join<H, F>(
        plan: MeshPlan,
        shard: usize,
        gate: Option<Rc<Hold>>,
        handler: H,
    ) -> Result<Rc<Mesh>, MeshError>
    where
        H: Fn(&[u8], Vec<u8>) -> Answer<F> + 'static,
        F: Future<Output = Vec<u8>> + 'static,
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
            let (mesh, handler, gate) = (answering.clone(), handler.clone(), gate.clone());
            async move {
                // Ready at once while no transaction holds the shard.
                if let Some(gate) = gate.as_ref().filter(|gate| gate.is_held()) {
                    gate.until_free().await;
                }
                let reply = mesh.buffer();
                let answering =
                    std::panic::catch_unwind(AssertUnwindSafe(|| handler(&request.body, reply)));
                let (from, ticket) = (request.from, request.ticket);
                mesh.recycle(request.body);
                let reply = match answering {
                    Ok(Answer::InOrder(answered)) => answered.await,
                    Ok(Answer::Apart(answered)) => {
                        let mesh = mesh.clone();
                        glommio::spawn_local(async move {
                            let reply = answered.await;
                            let _ = mesh.replies.send(from, ticket, reply).await;
                        })
                        .detach();
                        return;
                    }
                    Err(_) => {
                        // No reply for any of the message's requests: the
                        // requester answers each with an error, and goes on.
                        report_panic(shard, from);
                        mesh.buffer()
                    }
                };
                // A peer gone means shutdown: its waiters are gone too.
                let _ = mesh.replies.send(from, ticket, reply).await;
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

    /// Gives up on a sent request's reply (a release that needs no
    /// answer): it is dropped when it comes, leaving no slot behind.
    pub fn forget(&self, ticket: Ticket) {
        self.tickets.borrow_mut().abandon(ticket.id);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use futures_lite::FutureExt;
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
                        let mesh = Mesh::join(plan, shard, None, |request, mut reply: Vec<u8>| {
                            assert_ne!(request, b"boom", "test fault injection");
                            reply.extend_from_slice(request);
                            Answer::InOrder(std::future::ready(reply))
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
}
