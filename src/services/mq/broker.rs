//! One shard's part of the message queue: its routing state (`routing.rs`:
//! who subscribes to what, where each record goes) and the two lanes that
//! carry what it posts to other shards. Each topic has an owner shard. A
//! shard tells a topic's owner when it gains its first subscriber of the
//! topic and when it loses its last; a send goes to the owner, which passes
//! the line once to each shard with subscribers, and each of those writes it
//! to its own subscribers' outboxes. Everything a shard sends one peer
//! travels one FIFO lane, so a sender's lines reach every subscriber in order.

use std::cell::RefCell;
use std::rc::Rc;

use super::record::Record;
use super::routing::{Post, Routing};
use super::topics::ConnId;
use crate::cross_shard::{Lane, LanePlan, MeshError, Pool};
use crate::server::outbox::Outbox;
use crate::server::StopWatch;
use crate::stats::Counter;

/// The lanes of the message queue, built by the coordinator for every shard.
#[derive(Clone, Debug)]
pub struct MqPlan {
    /// Publishes and subscription changes, to the topic's owner.
    to_owner: LanePlan,
    /// Lines from the owner to the shards with subscribers. A lane of its
    /// own: a shard handling deliveries never waits on another shard, so the
    /// two lanes cannot block each other in a cycle.
    to_subscribers: LanePlan,
}

impl MqPlan {
    pub fn new(shards: usize) -> MqPlan {
        MqPlan {
            to_owner: LanePlan::new(shards),
            to_subscribers: LanePlan::new(shards),
        }
    }
}

struct Lanes {
    to_owner: Rc<Lane>,
    to_subscribers: Rc<Lane>,
}

impl Post for Lanes {
    fn to_owner(&self, owner: usize, record: Record<'_>) {
        self.to_owner.queue(owner, |out| record.encode(out));
    }

    fn to_subscribers(&self, shard: usize, record: Record<'_>) {
        self.to_subscribers.queue(shard, |out| record.encode(out));
    }
}

/// With one shard every topic is local: nothing is ever posted.
struct Alone;

impl Post for Alone {
    fn to_owner(&self, _: usize, _: Record<'_>) {}
    fn to_subscribers(&self, _: usize, _: Record<'_>) {}
}

/// One shard's part of the message queue: its routing state, and the lanes
/// that carry what routing posts to other shards.
pub struct Broker {
    shard: usize,
    /// None with a single shard: every topic is local.
    lanes: Option<Lanes>,
    queue_cap: usize,
    routing: RefCell<Routing>,
    figures: Figures,
    /// Once the server is stopping, the topic and subscriber gauges stay
    /// where they were, so the final report shows the running server, not
    /// the one emptied by shutdown. The server's flag, not this shard's own
    /// state: another shard may close its connections first.
    stop: StopWatch,
}

/// mq's own figures on one shard.
pub(super) struct Figures {
    /// Lines written to subscribers.
    pub deliveries: Counter,
    /// Subscribers disconnected for not reading.
    pub slow_disconnects: Counter,
    /// Topics owned here that have subscribers (a gauge).
    pub topics: Counter,
    /// Subscriptions held here, one per connection and topic (a gauge).
    pub subscribers: Counter,
}

impl Broker {
    /// Joins the lanes (with more than one shard: a barrier every shard must
    /// reach) and starts handling what other shards send.
    pub(super) async fn start(
        plan: Option<MqPlan>,
        shard: usize,
        shards: usize,
        queue_cap: usize,
        figures: Figures,
        stop: StopWatch,
    ) -> Result<Rc<Broker>, MeshError> {
        let mut inboxes = None;
        let lanes = match plan {
            None => None,
            Some(plan) => {
                let pool = Rc::new(Pool::default());
                let (to_owner, owner_inbox) =
                    Lane::join(plan.to_owner, shard, pool.clone()).await?;
                let (to_subscribers, delivery_inbox) =
                    Lane::join(plan.to_subscribers, shard, pool).await?;
                inboxes = Some((owner_inbox, delivery_inbox));
                Some(Lanes {
                    to_owner: Rc::new(to_owner),
                    to_subscribers: Rc::new(to_subscribers),
                })
            }
        };
        let shards = if lanes.is_some() { shards } else { 1 };
        let broker = Rc::new(Broker {
            shard,
            lanes,
            queue_cap,
            routing: RefCell::new(Routing::new(if shards == 1 { 0 } else { shard }, shards)),
            figures,
            stop,
        });
        if let Some((owner_inbox, delivery_inbox)) = inboxes {
            let owner = broker.clone();
            owner_inbox.serve(move |from, message| {
                owner.with_routing(|routing, post| routing.on_owner_message(from, message, post));
                let owner = owner.clone();
                async move { owner.delivery_room().await }
            });
            let subscribers = broker.clone();
            delivery_inbox.serve(move |_, message| {
                subscribers.routing.borrow().on_deliveries(message);
                std::future::ready(())
            });
        }
        Ok(broker)
    }

    /// Runs a routing step with this shard's post, then updates the gauges.
    fn with_routing(&self, step: impl FnOnce(&mut Routing, &dyn Post)) {
        let mut routing = self.routing.borrow_mut();
        match &self.lanes {
            Some(lanes) => step(&mut routing, lanes),
            None => step(&mut routing, &Alone),
        }
        if !self.stop.server_stopping() {
            self.figures.topics.set(routing.topics() as u64);
            self.figures.subscribers.set(routing.subscriptions() as u64);
        }
    }

    pub(super) fn connect(self: &Rc<Self>) -> Session {
        let outbox = Rc::new(Outbox::new(self.queue_cap).counting(
            self.figures.deliveries.clone(),
            self.figures.slow_disconnects.clone(),
        ));
        let conn = self.routing.borrow_mut().connect(outbox.clone());
        Session {
            broker: self.clone(),
            conn,
            outbox,
            scratch: String::new(),
        }
    }

    pub(super) fn disconnect(&self, conn: ConnId) {
        self.with_routing(|routing, post| routing.disconnect(conn, post));
    }

    pub(super) fn subscribe(&self, conn: ConnId, topic: &str) {
        self.with_routing(|routing, post| routing.subscribe(conn, topic, post));
    }

    pub(super) fn unsubscribe(&self, conn: ConnId, topic: &str) {
        self.with_routing(|routing, post| routing.unsubscribe(conn, topic, post));
    }

    /// A sender's line: to the topic's owner, which fans it out.
    pub(super) fn publish(&self, topic: &str, line: &[u8]) {
        let mut routing = self.routing.borrow_mut();
        match &self.lanes {
            Some(lanes) => routing.publish(topic, line, lanes),
            None => routing.publish(topic, line, &Alone),
        }
    }

    /// Waits while another shard is behind with what this one sends it: how
    /// a connection's sends slow down instead of growing memory.
    pub(super) async fn room(&self) {
        let Some(lanes) = &self.lanes else {
            return;
        };
        for shard in (0..lanes.to_owner.shards()).filter(|&s| s != self.shard) {
            lanes.to_owner.room(shard).await;
            lanes.to_subscribers.room(shard).await;
        }
    }

    /// [`Broker::room`] for the owner's fan-out only. An owner handling a
    /// message must never wait on `to_owner`: two owners waiting on each
    /// other's inbox would deadlock. Deliveries drain without waiting on
    /// anything, so waiting on them is safe.
    async fn delivery_room(&self) {
        let Some(lanes) = &self.lanes else {
            return;
        };
        for shard in (0..lanes.to_subscribers.shards()).filter(|&s| s != self.shard) {
            lanes.to_subscribers.room(shard).await;
        }
    }
}

/// One mq connection. Dropping it unsubscribes the connection everywhere,
/// however the connection ended, a panic included.
pub struct Session {
    pub(super) broker: Rc<Broker>,
    pub(super) conn: ConnId,
    pub(super) outbox: Rc<Outbox>,
    /// Where a topic written with escapes is decoded, reused line to line.
    pub(super) scratch: String,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.broker.disconnect(self.conn);
    }
}
