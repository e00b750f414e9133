//! One shard's part of the message queue: its subscribers' outboxes, the
//! topics it owns (which shards have subscribers of each), and the lanes to
//! the other shards. Each topic has an owner shard ([`owner_of`]). A shard
//! tells a topic's owner when it gains its first subscriber of the topic and
//! when it loses its last; a send goes to the owner, which passes the line
//! once to each shard with subscribers, and each of those writes it to its
//! own subscribers' outboxes. Everything a shard sends one peer travels one
//! FIFO lane, so a sender's lines reach every subscriber in order.

use std::cell::RefCell;
use std::rc::Rc;

use super::record::{records, Record};
use super::topics::{Change, ConnId, Interest, Subscriptions};
use crate::cross_shard::{owner_of, Lane, LanePlan, MeshError, Pool};
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

/// One shard's part of the message queue.
pub struct Broker {
    shard: usize,
    /// None with a single shard: every topic is local.
    lanes: Option<Lanes>,
    queue_cap: usize,
    subscriptions: RefCell<Subscriptions>,
    interest: RefCell<Interest>,
    /// Every open mq connection's outbox, by connection number.
    outboxes: RefCell<Vec<Option<Rc<Outbox>>>>,
    free_ids: RefCell<Vec<ConnId>>,
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
        let broker = Rc::new(Broker {
            shard,
            lanes,
            queue_cap,
            subscriptions: RefCell::default(),
            interest: RefCell::default(),
            outboxes: RefCell::default(),
            free_ids: RefCell::default(),
            figures,
            stop,
        });
        if let Some((owner_inbox, delivery_inbox)) = inboxes {
            let owner = broker.clone();
            owner_inbox.serve(move |from, message| {
                owner.on_owner_message(from, message);
                let owner = owner.clone();
                async move { owner.delivery_room().await }
            });
            let subscribers = broker.clone();
            delivery_inbox.serve(move |_, message| {
                for record in records(message) {
                    if let Record::Deliver { topic, line } = record {
                        subscribers.deliver_here(topic, line);
                    }
                }
                std::future::ready(())
            });
        }
        Ok(broker)
    }

    pub(super) fn connect(self: &Rc<Self>) -> Session {
        let outbox = Rc::new(Outbox::new(self.queue_cap).counting(
            self.figures.deliveries.clone(),
            self.figures.slow_disconnects.clone(),
        ));
        let mut outboxes = self.outboxes.borrow_mut();
        let conn = match self.free_ids.borrow_mut().pop() {
            Some(id) => {
                outboxes[id as usize] = Some(outbox.clone());
                id
            }
            None => {
                outboxes.push(Some(outbox.clone()));
                (outboxes.len() - 1) as ConnId
            }
        };
        Session {
            broker: self.clone(),
            conn,
            outbox,
            scratch: String::new(),
        }
    }

    pub(super) fn disconnect(&self, conn: ConnId) {
        let mut emptied = Vec::new();
        self.subscriptions
            .borrow_mut()
            .remove_conn(conn, |topic| emptied.push(Box::<str>::from(topic)));
        for topic in &emptied {
            self.tell_owner(topic, Change::Last);
        }
        self.outboxes.borrow_mut()[conn as usize] = None;
        self.free_ids.borrow_mut().push(conn);
        self.update_gauges();
    }

    pub(super) fn subscribe(&self, conn: ConnId, topic: &str) {
        let change = self.subscriptions.borrow_mut().subscribe(conn, topic);
        self.tell_owner(topic, change);
        self.update_gauges();
    }

    pub(super) fn unsubscribe(&self, conn: ConnId, topic: &str) {
        let change = self.subscriptions.borrow_mut().unsubscribe(conn, topic);
        self.tell_owner(topic, change);
        self.update_gauges();
    }

    fn tell_owner(&self, topic: &str, change: Change) {
        if change == Change::None {
            return;
        }
        match self.remote_owner(topic) {
            Some((lanes, owner)) => {
                let record = Record::Interest { topic, change };
                lanes.to_owner.queue(owner, |out| record.encode(out));
            }
            None => self.interest.borrow_mut().apply(topic, self.shard, change),
        }
    }

    /// A sender's line: to the topic's owner, which fans it out.
    pub(super) fn publish(&self, topic: &str, line: &[u8]) {
        match self.remote_owner(topic) {
            Some((lanes, owner)) => {
                let record = Record::Publish { topic, line };
                lanes.to_owner.queue(owner, |out| record.encode(out));
            }
            None => self.fan_out(topic, line),
        }
    }

    /// The lanes and the topic's owner, unless this shard owns it.
    fn remote_owner(&self, topic: &str) -> Option<(&Lanes, usize)> {
        let lanes = self.lanes.as_ref()?;
        let owner = owner_of(topic.as_bytes(), lanes.to_owner.shards());
        (owner != self.shard).then_some((lanes, owner))
    }

    /// As the topic's owner: once to every shard with subscribers.
    fn fan_out(&self, topic: &str, line: &[u8]) {
        for &shard in self.interest.borrow().shards(topic) {
            let shard = shard as usize;
            match &self.lanes {
                Some(lanes) if shard != self.shard => {
                    let record = Record::Deliver { topic, line };
                    lanes.to_subscribers.queue(shard, |out| record.encode(out));
                }
                _ => self.deliver_here(topic, line),
            }
        }
    }

    /// To this shard's subscribers of the topic. An outbox past its cap
    /// refuses the line, and its connection closes as a slow disconnect.
    fn deliver_here(&self, topic: &str, line: &[u8]) {
        let outboxes = self.outboxes.borrow();
        for &conn in self.subscriptions.borrow().subscribers(topic) {
            if let Some(Some(outbox)) = outboxes.get(conn as usize) {
                outbox.push(line);
            }
        }
    }

    fn on_owner_message(&self, from: usize, message: &[u8]) {
        for record in records(message) {
            match record {
                Record::Publish { topic, line } => self.fan_out(topic, line),
                Record::Interest { topic, change } => {
                    self.interest.borrow_mut().apply(topic, from, change)
                }
                Record::Deliver { .. } => {}
            }
        }
        self.update_gauges();
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

    fn update_gauges(&self) {
        if self.stop.server_stopping() {
            return;
        }
        let figures = &self.figures;
        figures.topics.set(self.interest.borrow().topics() as u64);
        figures
            .subscribers
            .set(self.subscriptions.borrow().len() as u64);
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
