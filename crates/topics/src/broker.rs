//! One shard's broker: its routing state (`routing.rs`: who subscribes to
//! what, where each record goes) and the two lanes that carry what it posts
//! to other shards. mq and resp share it (docs/PROTOCOLS.md §6.3), as kv and resp share a
//! key space: whichever starts first on a shard builds it (`plan.rs`).
//!
//! Each topic has an owner shard. A shard tells a topic's owner how many
//! subscribers it gains or loses; an mq send goes to the owner, which passes
//! the line once to each shard with subscribers, and each of those writes it
//! to its own subscribers' outboxes. Everything a shard sends one peer
//! travels one FIFO lane, so a sender's lines reach every subscriber in
//! order. resp's PUBLISH and its acknowledged subscription changes reach the
//! owner over the key space's mesh and are run there by resp's forwarded
//! commands, which are handed this shard's broker (resp keeps it in its
//! per-shard state when it starts); the owner's fan-out takes the same lanes, so messages from either protocol
//! reach each subscriber in the order the owner took them.

use std::cell::RefCell;
use std::rc::Rc;

use super::deliver::Format;
use super::record::{Record, Space};
use super::routing::{Post, Published, Routing};
use super::topics::ConnId;
use percore::cross_shard::{Lane, LanePlan, MeshError, Pool};
use percore::server::outbox::Outbox;
use percore::server::StopWatch;
use percore::stats::Counter;

/// The lanes of the brokers, built once for every shard.
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

/// One shard's part of the topics: its routing state, and the lanes that
/// carry what routing posts to other shards.
pub struct Broker {
    shard: usize,
    /// None with a single shard: every topic is local.
    lanes: Option<Lanes>,
    routing: RefCell<Routing>,
    /// mq's topic and subscriber gauges, once mq has started here.
    gauges: RefCell<Option<Gauges>>,
    /// Once the server is stopping, the gauges stay where they were, so the
    /// final report shows the running server, not the one emptied by
    /// shutdown. The server's flag, not this shard's own state: another
    /// shard may close its connections first.
    stop: StopWatch,
}

/// mq's gauges on one shard.
pub struct Gauges {
    /// Topics owned here that have subscribers.
    pub topics: Counter,
    /// Channel subscriptions held here, one per connection and topic.
    pub subscribers: Counter,
}

impl Broker {
    /// Joins the lanes (with more than one shard: a barrier every shard must
    /// reach) and starts handling what other shards send. The plan shares
    /// the broker with the shard's services (`plan.rs`), which hand it on.
    pub(crate) async fn start(
        plan: Option<MqPlan>,
        shard: usize,
        shards: usize,
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
        let (shard, shards) = if lanes.is_some() {
            (shard, shards)
        } else {
            (0, 1)
        };
        let broker = Rc::new(Broker {
            shard,
            lanes,
            routing: RefCell::new(Routing::new(shard, shards)),
            gauges: RefCell::new(None),
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
            delivery_inbox.serve(move |from, message| {
                subscribers.with_post(|routing, post| routing.on_deliveries(from, message, post));
                std::future::ready(())
            });
        }
        Ok(broker)
    }

    /// mq keeps its gauges of topics and subscribers up to date from now on.
    pub fn attach_gauges(&self, gauges: Gauges) {
        *self.gauges.borrow_mut() = Some(gauges);
    }

    /// Runs a routing step with this shard's post.
    fn with_post<R>(&self, step: impl FnOnce(&mut Routing, &dyn Post) -> R) -> R {
        let mut routing = self.routing.borrow_mut();
        match &self.lanes {
            Some(lanes) => step(&mut routing, lanes),
            None => step(&mut routing, &Alone),
        }
    }

    /// Runs a routing step that changes subscriptions, then updates the
    /// gauges.
    fn with_routing<R>(&self, step: impl FnOnce(&mut Routing, &dyn Post) -> R) -> R {
        let result = self.with_post(step);
        let routing = self.routing.borrow();
        if let Some(gauges) = &*self.gauges.borrow() {
            if !self.stop.server_stopping() {
                gauges.topics.set(routing.topics() as u64);
                gauges.subscribers.set(routing.subscriptions() as u64);
            }
        }
        result
    }

    /// This shard's number among the brokers (0 when alone).
    pub fn shard(&self) -> usize {
        self.shard
    }

    /// The other shards (none when alone).
    pub fn peers(&self) -> impl Iterator<Item = usize> + '_ {
        let shards = self
            .lanes
            .as_ref()
            .map_or(1, |lanes| lanes.to_owner.shards());
        (0..shards).filter(move |&s| s != self.shard)
    }

    /// The shard that owns the channel or shard channel `name`.
    pub fn owner(&self, name: &[u8]) -> usize {
        self.routing.borrow().owner(name)
    }

    /// A new connection that may subscribe; its messages go to `outbox`.
    pub fn connect(&self, outbox: Rc<Outbox>, format: Format) -> ConnId {
        self.routing.borrow_mut().connect(outbox, format)
    }

    /// A resp connection switched protocols.
    pub fn set_format(&self, conn: ConnId, format: Format) {
        self.routing.borrow_mut().set_format(conn, format);
    }

    /// The connection is gone: its subscriptions are dropped, and the owners
    /// told over the lanes.
    pub fn disconnect(&self, conn: ConnId) {
        self.with_routing(|routing, post| routing.disconnect(conn, post));
    }

    /// mq's subscribe: the owner is told over the lane, unacknowledged.
    pub fn subscribe(&self, conn: ConnId, topic: &str) {
        self.with_routing(|routing, post| routing.subscribe(conn, topic.as_bytes(), post));
    }

    pub fn unsubscribe(&self, conn: ConnId, topic: &str) {
        self.with_routing(|routing, post| routing.unsubscribe(conn, topic.as_bytes(), post));
    }

    /// An mq sender's line: to the topic's owner, which fans it out.
    pub fn publish(&self, topic: &str, line: &[u8]) {
        self.with_post(|routing, post| routing.publish(topic.as_bytes(), line, post));
    }

    /// Subscribes or unsubscribes `conn` on this shard only; whether that
    /// changed anything. The caller must then tell the owners: [`Broker::apply`]
    /// on each (the channel's owner, every shard for a pattern).
    pub fn change(&self, conn: ConnId, space: Space, name: &[u8], on: bool) -> bool {
        self.with_routing(|routing, _| routing.change(conn, space, name, on))
    }

    /// As an owner: shard `from` has `delta` more subscriptions to `name`.
    pub fn apply(&self, space: Space, name: &[u8], from: usize, delta: i64) {
        self.with_routing(|routing, _| routing.apply(space, name, from, delta));
    }

    /// As the owner of `topic`: fans a resp message out; the subscriptions
    /// it reaches over every shard, known now or, with `late` (the caller
    /// waits for [`Broker::settled_since`], then takes
    /// [`Broker::close_count`]), once the other shards have reported.
    pub fn publish_message(
        &self,
        space: Space,
        topic: &[u8],
        message: &[u8],
        late: bool,
    ) -> Published {
        self.with_post(|routing, post| routing.publish_message(space, topic, message, post, late))
    }

    /// The count of a [`Published::Late`], once [`Broker::settled_since`].
    pub fn close_count(&self, token: u32) -> u64 {
        self.routing.borrow_mut().close_count(token)
    }

    /// A keyspace notification, fanned out from this shard
    /// (`Routing::notify`), each delivery to another shard reported.
    pub fn notify(&self, topic: &[u8], message: &[u8]) {
        self.with_post(|routing, post| routing.notify(topic, message, post, true));
    }

    /// A MONITOR line: as [`Broker::notify`], unreported (nothing waits
    /// for a monitor).
    pub fn notify_monitors(&self, topic: &[u8], message: &[u8]) {
        self.with_post(|routing, post| routing.notify(topic, message, post, false));
    }

    /// How many reported deliveries this shard has sent so far: give it to
    /// [`Broker::settled_since`] at the start of a span of work.
    pub fn reports_made(&self) -> u64 {
        self.routing.borrow_mut().reports().made()
    }

    /// Ready once every reported delivery this shard has sent so far (read
    /// now, at the call) is in its subscribers' outboxes, if any was sent
    /// since `made` ([`Broker::reports_made`]): how a command's reply waits
    /// for its PUBLISH counts and keyspace events (`reports.rs`), and not
    /// for other connections'. Ready at once, allocating nothing, when this
    /// span sent none or none is pending.
    pub fn settled_since(
        self: &Rc<Self>,
        made: u64,
    ) -> impl std::future::Future<Output = ()> + 'static {
        let mut routing = self.routing.borrow_mut();
        let reports = routing.reports();
        let waiting = (reports.made() != made)
            .then(|| reports.mark())
            .flatten()
            .map(|mark| (mark, self.clone()));
        drop(routing);
        async move {
            let Some((mark, broker)) = waiting else {
                return;
            };
            std::future::poll_fn(|cx| broker.routing.borrow_mut().reports().settled(&mark, cx))
                .await
        }
    }

    /// Whether a MONITOR connection exists on any shard.
    pub fn monitored(&self) -> bool {
        self.routing.borrow().monitored()
    }

    /// As owner: `name`'s subscribers over every shard.
    pub fn count(&self, space: Space, name: &[u8]) -> u64 {
        self.routing.borrow().count(space, name)
    }

    /// Calls `each` with every name with subscribers in `space` that this
    /// shard owns (every pattern, for patterns).
    pub fn names(&self, space: Space, mut each: impl FnMut(&[u8])) {
        self.routing.borrow().names(space).for_each(&mut each);
    }

    /// Names with subscribers that this shard accounts for in INFO: the
    /// channels and shard channels it owns, the patterns it would own (every
    /// shard knows every pattern; each is counted once over the shards).
    pub fn owned(&self, space: Space) -> usize {
        self.routing.borrow().owned(space)
    }

    /// What `conn` subscribes to: (channels, patterns, shard channels).
    pub fn conn_counts(&self, conn: ConnId) -> (usize, usize, usize) {
        self.routing.borrow().conn_counts(conn)
    }

    /// The names `conn` subscribes to in `space`.
    pub fn conn_names(&self, conn: ConnId, space: Space) -> Vec<Box<[u8]>> {
        self.routing.borrow().conn_names(conn, space)
    }

    /// Waits while another shard is behind with what this one sends it: how
    /// a connection's sends slow down instead of growing memory.
    pub async fn room(&self) {
        let Some(lanes) = &self.lanes else {
            return;
        };
        for shard in (0..lanes.to_owner.shards()).filter(|&s| s != self.shard) {
            lanes.to_owner.room(shard).await;
            lanes.to_subscribers.room(shard).await;
        }
    }

    /// Whether [`Broker::delivery_room`] would be ready at once: every
    /// other shard's delivery lane below its high-water mark now.
    pub fn delivery_has_room(&self) -> bool {
        let Some(lanes) = &self.lanes else {
            return true;
        };
        (0..lanes.to_subscribers.shards())
            .filter(|&s| s != self.shard)
            .all(|shard| lanes.to_subscribers.has_room(shard))
    }

    /// [`Broker::room`] for the owner's fan-out only: what an owner may wait
    /// on while handling another shard's message (mq's lane, resp's mesh).
    /// An owner handling a message must never wait on `to_owner`: two owners
    /// waiting on each other's inbox would deadlock. Deliveries drain
    /// without waiting on anything, so waiting on them is safe.
    pub async fn delivery_room(&self) {
        let Some(lanes) = &self.lanes else {
            return;
        };
        for shard in (0..lanes.to_subscribers.shards()).filter(|&s| s != self.shard) {
            lanes.to_subscribers.room(shard).await;
        }
    }
}
