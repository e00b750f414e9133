//! Where one shard's mq traffic goes, as pure state: no executor, no
//! channels, unit-tested as it is. It knows this shard's subscribers and
//! their outboxes, and, for the topics this shard owns, which shards have
//! subscribers. Every decision is here: a subscription change goes to the
//! topic's owner, a sender's line to the owner, the owner's fan-out once to
//! each shard with subscribers, a delivery into each subscriber's outbox.
//! What must travel to another shard is handed to a [`Post`]; the broker's
//! post is its lanes (`broker.rs`), a test's is a list.

use std::rc::Rc;

use super::record::{records, Record};
use super::topics::{Change, ConnId, Interest, Subscriptions};
use crate::cross_shard::owner_of;
use crate::server::outbox::Outbox;

/// Where records for other shards go.
pub(super) trait Post {
    /// To `owner`, the topic's owner: publishes and subscription changes.
    fn to_owner(&self, owner: usize, record: Record<'_>);
    /// From the owner to `shard`, which has subscribers of the topic.
    fn to_subscribers(&self, shard: usize, record: Record<'_>);
}

/// One shard's routing state.
pub(super) struct Routing {
    shard: usize,
    shards: usize,
    subscriptions: Subscriptions,
    interest: Interest,
    /// Every open mq connection's outbox, by connection number.
    outboxes: Vec<Option<Rc<Outbox>>>,
    free_ids: Vec<ConnId>,
}

impl Routing {
    pub fn new(shard: usize, shards: usize) -> Routing {
        Routing {
            shard,
            shards: shards.max(1),
            subscriptions: Subscriptions::default(),
            interest: Interest::default(),
            outboxes: Vec::new(),
            free_ids: Vec::new(),
        }
    }

    /// A new connection, whose deliveries go to `outbox`.
    pub fn connect(&mut self, outbox: Rc<Outbox>) -> ConnId {
        match self.free_ids.pop() {
            Some(id) => {
                self.outboxes[id as usize] = Some(outbox);
                id
            }
            None => {
                self.outboxes.push(Some(outbox));
                (self.outboxes.len() - 1) as ConnId
            }
        }
    }

    /// The connection is gone: its subscriptions with it.
    pub fn disconnect(&mut self, conn: ConnId, post: &dyn Post) {
        let mut emptied = Vec::new();
        self.subscriptions
            .remove_conn(conn, |topic| emptied.push(Box::<str>::from(topic)));
        for topic in &emptied {
            self.tell_owner(topic, Change::Last, post);
        }
        if let Some(slot) = self.outboxes.get_mut(conn as usize) {
            *slot = None;
            self.free_ids.push(conn);
        }
    }

    pub fn subscribe(&mut self, conn: ConnId, topic: &str, post: &dyn Post) {
        let change = self.subscriptions.subscribe(conn, topic);
        self.tell_owner(topic, change, post);
    }

    pub fn unsubscribe(&mut self, conn: ConnId, topic: &str, post: &dyn Post) {
        let change = self.subscriptions.unsubscribe(conn, topic);
        self.tell_owner(topic, change, post);
    }

    /// A sender's line: to the topic's owner, which fans it out.
    pub fn publish(&mut self, topic: &str, line: &[u8], post: &dyn Post) {
        match self.remote_owner(topic) {
            Some(owner) => post.to_owner(owner, Record::Publish { topic, line }),
            None => self.fan_out(topic, line, post),
        }
    }

    /// As owner: a message of publishes and subscription changes from `from`.
    pub fn on_owner_message(&mut self, from: usize, message: &[u8], post: &dyn Post) {
        for record in records(message) {
            match record {
                Record::Publish { topic, line } => self.fan_out(topic, line, post),
                Record::Interest { topic, change } => self.interest.apply(topic, from, change),
                Record::Deliver { .. } => {}
            }
        }
    }

    /// A message of lines from owners, for this shard's subscribers.
    pub fn on_deliveries(&self, message: &[u8]) {
        for record in records(message) {
            if let Record::Deliver { topic, line } = record {
                self.deliver_here(topic, line);
            }
        }
    }

    /// Topics owned here that have subscribers somewhere.
    pub fn topics(&self) -> usize {
        self.interest.topics()
    }

    /// Subscriptions held here, one per connection and topic.
    pub fn subscriptions(&self) -> usize {
        self.subscriptions.len()
    }

    fn tell_owner(&mut self, topic: &str, change: Change, post: &dyn Post) {
        if change == Change::None {
            return;
        }
        match self.remote_owner(topic) {
            Some(owner) => post.to_owner(owner, Record::Interest { topic, change }),
            None => self.interest.apply(topic, self.shard, change),
        }
    }

    /// The topic's owner, unless it is this shard.
    fn remote_owner(&self, topic: &str) -> Option<usize> {
        let owner = owner_of(topic.as_bytes(), self.shards);
        (owner != self.shard).then_some(owner)
    }

    /// As the topic's owner: once to every shard with subscribers.
    fn fan_out(&self, topic: &str, line: &[u8], post: &dyn Post) {
        for &shard in self.interest.shards(topic) {
            let shard = shard as usize;
            if shard == self.shard {
                self.deliver_here(topic, line);
            } else {
                post.to_subscribers(shard, Record::Deliver { topic, line });
            }
        }
    }

    /// To this shard's subscribers of the topic. An outbox past its cap
    /// refuses the line, and its connection closes as a slow disconnect.
    fn deliver_here(&self, topic: &str, line: &[u8]) {
        for &conn in self.subscriptions.subscribers(topic) {
            if let Some(Some(outbox)) = self.outboxes.get(conn as usize) {
                outbox.push(line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// Records what would travel, encoded as the lanes would carry it.
    #[derive(Default)]
    struct Posted {
        to_owner: RefCell<Vec<(usize, Vec<u8>)>>,
        to_subscribers: RefCell<Vec<(usize, Vec<u8>)>>,
    }

    impl Post for Posted {
        fn to_owner(&self, owner: usize, record: Record<'_>) {
            let mut encoded = Vec::new();
            record.encode(&mut encoded);
            self.to_owner.borrow_mut().push((owner, encoded));
        }

        fn to_subscribers(&self, shard: usize, record: Record<'_>) {
            let mut encoded = Vec::new();
            record.encode(&mut encoded);
            self.to_subscribers.borrow_mut().push((shard, encoded));
        }
    }

    fn topic_owned_by(shard: usize, shards: usize) -> String {
        (0..)
            .map(|i| format!("t{i}"))
            .find(|topic| owner_of(topic.as_bytes(), shards) == shard)
            .unwrap()
    }

    fn taken(outbox: &Outbox) -> Vec<u8> {
        let mut out = Vec::new();
        outbox.take(&mut out);
        outbox.written();
        out
    }

    #[test]
    fn one_shard_delivers_to_every_subscriber_once() {
        let mut routing = Routing::new(0, 1);
        let post = Posted::default();
        let (a, b) = (Rc::new(Outbox::new(1 << 10)), Rc::new(Outbox::new(1 << 10)));
        let (ca, cb) = (routing.connect(a.clone()), routing.connect(b.clone()));
        routing.subscribe(ca, "news", &post);
        routing.subscribe(ca, "news", &post);
        routing.subscribe(cb, "news", &post);
        routing.publish("news", b"hello\n", &post);
        assert_eq!(taken(&a), b"hello\n");
        assert_eq!(taken(&b), b"hello\n");
        assert!(post.to_owner.borrow().is_empty());
        assert_eq!((routing.topics(), routing.subscriptions()), (1, 2));
        routing.disconnect(cb, &post);
        routing.publish("news", b"again\n", &post);
        assert_eq!(taken(&a), b"again\n");
        assert_eq!(routing.subscriptions(), 1);
    }

    #[test]
    fn a_remote_topic_goes_through_its_owner_and_back() {
        // Shard 1 has the subscriber; shard 0 owns the topic.
        let topic = topic_owned_by(0, 2);
        let (mut owner, mut subscriber_side) = (Routing::new(0, 2), Routing::new(1, 2));
        let (at_owner, at_subscriber) = (Posted::default(), Posted::default());
        let outbox = Rc::new(Outbox::new(1 << 10));
        let conn = subscriber_side.connect(outbox.clone());
        subscriber_side.subscribe(conn, &topic, &at_subscriber);
        // The first subscriber is announced to the owner, and only the first.
        let announced = at_subscriber.to_owner.take();
        assert_eq!(announced.len(), 1);
        assert_eq!(announced[0].0, 0);
        owner.on_owner_message(1, &announced[0].1, &at_owner);
        assert_eq!(owner.topics(), 1);

        // A line sent on shard 1 goes to the owner, which sends it once to shard 1.
        subscriber_side.publish(&topic, b"line\n", &at_subscriber);
        let published = at_subscriber.to_owner.take();
        owner.on_owner_message(1, &published[0].1, &at_owner);
        let delivered = at_owner.to_subscribers.take();
        assert_eq!(delivered.len(), 1);
        assert_eq!(delivered[0].0, 1);
        subscriber_side.on_deliveries(&delivered[0].1);
        assert_eq!(taken(&outbox), b"line\n");

        // The last subscriber leaving is announced too; the owner forgets the shard.
        subscriber_side.disconnect(conn, &at_subscriber);
        let left = at_subscriber.to_owner.take();
        owner.on_owner_message(1, &left[0].1, &at_owner);
        owner.publish(&topic, b"nobody\n", &at_owner);
        assert!(at_owner.to_subscribers.borrow().is_empty());
        assert_eq!(owner.topics(), 0);
    }
}
