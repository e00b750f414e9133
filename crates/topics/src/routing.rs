//! Where one shard's publish/subscribe traffic goes, as pure state: no
//! executor, no channels, unit-tested as it is (`routing_tests.rs`). mq and
//! resp share it (docs/PROTOCOLS.md §6.3): it knows this shard's subscribers of either
//! protocol and their outboxes, and, as an owner, how many subscribers each
//! shard has of the names it owns and of every pattern.
//!
//! Every decision is here: a subscription change goes to the name's owner
//! (to every shard, for a pattern), an mq sender's line to the topic's
//! owner, the owner's fan-out once to each shard with subscribers (of the
//! channel, or of a pattern that matches it), a delivery into each
//! subscriber's outbox in its own protocol (`deliver.rs`). What must travel
//! to another shard is handed to a [`Post`]; the broker's post is its lanes
//! (`broker.rs`), a test's is a list. resp's changes that must be
//! acknowledged travel the key space's mesh instead, and arrive here through
//! [`Routing::apply`] on the owner.

use std::rc::Rc;

use super::deliver::{Format, Kind, Renderer};
use super::glob;
use super::interest::{Interest, Patterns};
use super::record::{records, Payload, Record, Space};
use super::reports::{Reports, UNCOUNTED};
use super::topics::{ConnId, Subscriptions};
use percore::cross_shard::owner_of;
use percore::server::outbox::Outbox;

/// Where records for other shards go.
pub(crate) trait Post {
    /// To `owner`, the name's owner: mq's sends and subscription changes.
    fn to_owner(&self, owner: usize, record: Record<'_>);
    /// From the owner to `shard`, which has subscribers of the name.
    fn to_subscribers(&self, shard: usize, record: Record<'_>);
}

/// One connection that may subscribe: where its messages go, and how.
struct Subscriber {
    outbox: Rc<Outbox>,
    format: Format,
}

/// One shard's routing state.
pub(crate) struct Routing {
    shard: usize,
    shards: usize,
    /// This shard's subscriptions: channels, shard channels, patterns.
    local: [Subscriptions; 3],
    /// As owner: subscribers per shard of channels and shard channels.
    interest: [Interest; 2],
    /// Every pattern subscription of the server, per shard.
    patterns: Patterns,
    /// Every connection that may subscribe, by number.
    subscribers: Vec<Option<Subscriber>>,
    free_ids: Vec<ConnId>,
    renderer: Renderer,
    /// The shards a fan-out goes to, reused from message to message.
    marks: Vec<bool>,
    /// MONITOR connections over every shard (every shard is told).
    monitors: i64,
    /// This shard's reported deliveries to others, and their counts.
    reports: Reports,
}

/// What a PUBLISH counts (`Routing::publish_message`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Published {
    /// Known now: every subscriber is here, or the caller cannot wait.
    Counted(u64),
    /// The sum of open count `token` once the reports are in
    /// ([`Broker::close_count`](crate::Broker::close_count), after
    /// [`Broker::settled_since`](crate::Broker::settled_since)).
    Late(u32),
}

fn at(space: Space) -> usize {
    match space {
        Space::Channel => 0,
        Space::Shard => 1,
        Space::Pattern => 2,
    }
}

impl Routing {
    pub fn new(shard: usize, shards: usize) -> Routing {
        Routing {
            shard,
            shards: shards.max(1),
            local: Default::default(),
            interest: Default::default(),
            patterns: Patterns::default(),
            subscribers: Vec::new(),
            free_ids: Vec::new(),
            renderer: Renderer::default(),
            marks: Vec::new(),
            monitors: 0,
            reports: Reports::default(),
        }
    }

    /// A new connection, whose deliveries go to `outbox` in `format`.
    pub fn connect(&mut self, outbox: Rc<Outbox>, format: Format) -> ConnId {
        let subscriber = Some(Subscriber { outbox, format });
        match self.free_ids.pop() {
            Some(id) => {
                self.subscribers[id as usize] = subscriber;
                id
            }
            None => {
                self.subscribers.push(subscriber);
                (self.subscribers.len() - 1) as ConnId
            }
        }
    }

    /// A resp connection switched protocols (HELLO, RESET).
    pub fn set_format(&mut self, conn: ConnId, format: Format) {
        if let Some(Some(subscriber)) = self.subscribers.get_mut(conn as usize) {
            subscriber.format = format;
        }
    }

    /// The connection is gone: its subscriptions with it, the owners told
    /// one way (nobody waits for a closed connection).
    pub fn disconnect(&mut self, conn: ConnId, post: &dyn Post) {
        for space in [Space::Channel, Space::Shard, Space::Pattern] {
            let mut left = Vec::new();
            self.local[at(space)].remove_conn(conn, |name| left.push(Box::<[u8]>::from(name)));
            for name in &left {
                self.tell(space, name, -1, post);
            }
        }
        if let Some(slot) = self.subscribers.get_mut(conn as usize) {
            if slot.take().is_some() {
                self.free_ids.push(conn);
            }
        }
    }

    /// mq's subscribe: the owner is told one way.
    pub fn subscribe(&mut self, conn: ConnId, topic: &[u8], post: &dyn Post) {
        if self.change(conn, Space::Channel, topic, true) {
            self.tell(Space::Channel, topic, 1, post);
        }
    }

    /// mq's unsubscribe: the owner is told one way.
    pub fn unsubscribe(&mut self, conn: ConnId, topic: &[u8], post: &dyn Post) {
        if self.change(conn, Space::Channel, topic, false) {
            self.tell(Space::Channel, topic, -1, post);
        }
    }

    /// Subscribes or unsubscribes `conn` on this shard only; whether that
    /// changed anything. The caller tells the owners (resp: over the mesh,
    /// waiting for their acknowledgement).
    pub fn change(&mut self, conn: ConnId, space: Space, name: &[u8], on: bool) -> bool {
        let local = &mut self.local[at(space)];
        if on {
            local.subscribe(conn, name)
        } else {
            local.unsubscribe(conn, name)
        }
    }

    /// Tells `name`'s owners, one way, that this shard has `delta` more
    /// subscriptions: applied at once where this shard is the owner.
    pub fn tell(&mut self, space: Space, name: &[u8], delta: i32, post: &dyn Post) {
        if told_everywhere(space, name) {
            for shard in (0..self.shards).filter(|&s| s != self.shard) {
                post.to_owner(shard, Record::Interest { space, name, delta });
            }
        } else if let Some(owner) = self.remote_owner(name) {
            post.to_owner(owner, Record::Interest { space, name, delta });
            return;
        }
        self.apply(space, name, self.shard, i64::from(delta));
    }

    /// As an owner: shard `from` has `delta` more subscriptions to `name`.
    pub fn apply(&mut self, space: Space, name: &[u8], from: usize, delta: i64) {
        if space == Space::Channel && name == MONITOR_CHANNEL {
            self.monitors = (self.monitors + delta).max(0);
        }
        match space {
            Space::Pattern => self.patterns.apply(name, from, delta),
            _ => self.interest[at(space)].apply(name, from, delta),
        }
    }

    /// An mq sender's line: to the topic's owner, which fans it out.
    pub fn publish(&mut self, topic: &[u8], line: &[u8], post: &dyn Post) {
        match self.remote_owner(topic) {
            Some(owner) => post.to_owner(owner, Record::Publish { topic, line }),
            None => {
                self.fan_out(Space::Channel, topic, Payload::Line(line), post, None);
            }
        }
    }

    /// As the owner of `topic` (resp routes PUBLISH and SPUBLISH there): a
    /// resp message, fanned out; the subscriptions it reaches, over every
    /// shard (what PUBLISH replies). Every delivery to another shard is
    /// reported. With `late`, the caller can wait for the reports: the
    /// count is theirs, the live subscriptions each shard delivered to
    /// (`reports.rs`); without, it is the owner's count of them.
    pub fn publish_message(
        &mut self,
        space: Space,
        topic: &[u8],
        message: &[u8],
        post: &dyn Post,
        late: bool,
    ) -> Published {
        let payload = Payload::Message(message);
        if !late {
            let fanned = self.fan_out(space, topic, payload, post, Some(UNCOUNTED));
            return Published::Counted(fanned.here + fanned.elsewhere);
        }
        let token = self.reports.open();
        let fanned = self.fan_out(space, topic, payload, post, Some(token));
        if fanned.posted == 0 {
            self.reports.close(token);
            return Published::Counted(fanned.here);
        }
        self.reports.add(token, fanned.here);
        Published::Late(token)
    }

    /// The count of a [`Published::Late`], once its reports are in.
    pub fn close_count(&mut self, token: u32) -> u64 {
        self.reports.close(token)
    }

    /// This shard's reported deliveries.
    pub fn reports(&mut self) -> &mut Reports {
        &mut self.reports
    }

    /// As owner: a message of mq sends and subscription changes from `from`.
    pub fn on_owner_message(&mut self, from: usize, message: &[u8], post: &dyn Post) {
        for record in records(message) {
            match record {
                Record::Publish { topic, line } => {
                    self.fan_out(Space::Channel, topic, Payload::Line(line), post, None);
                }
                Record::Interest { space, name, delta } => {
                    self.apply(space, name, from, i64::from(delta))
                }
                Record::Deliver { .. } | Record::Report { .. } => {}
            }
        }
    }

    /// A message of deliveries from owners (for this shard's subscribers;
    /// a reported one is answered with its count, on the same lane) and
    /// of reports of this shard's deliveries.
    pub fn on_deliveries(&mut self, from: usize, message: &[u8], post: &dyn Post) {
        for record in records(message) {
            match record {
                Record::Deliver {
                    space,
                    topic,
                    payload,
                    report,
                } => {
                    let count = self.deliver_here(space, topic, payload);
                    if let Some(token) = report {
                        post.to_subscribers(from, Record::Report { token, count });
                    }
                }
                Record::Report { token, count } => self.reports.received(from, token, count),
                Record::Publish { .. } | Record::Interest { .. } => {}
            }
        }
    }

    /// A keyspace notification (`resp/notify.rs`), published by the key's
    /// shard itself: every shard knows the subscriptions of these channels
    /// ([`told_everywhere`]), so no hop to the channel's owner is needed.
    /// With `reported`, each delivery to another shard is reported, so that
    /// the command's reply can wait until they are placed.
    pub fn notify(&mut self, topic: &[u8], message: &[u8], post: &dyn Post, reported: bool) {
        let report = reported.then_some(UNCOUNTED);
        self.fan_out(
            Space::Channel,
            topic,
            Payload::Message(message),
            post,
            report,
        );
    }

    /// Whether a MONITOR connection exists on any shard.
    pub fn monitored(&self) -> bool {
        self.monitors > 0
    }

    /// Whether this shard accounts for `name` in PUBSUB and INFO: the
    /// names it owns (a name every shard holds is counted by its owner).
    fn accounts_for(&self, space: Space, name: &[u8]) -> bool {
        name != MONITOR_CHANNEL
            && (!told_everywhere(space, name) || owner_of(name, self.shards) == self.shard)
    }

    /// The shard that owns `name` (a channel or shard channel).
    pub fn owner(&self, name: &[u8]) -> usize {
        owner_of(name, self.shards)
    }

    /// The topic's owner, unless it is this shard.
    fn remote_owner(&self, name: &[u8]) -> Option<usize> {
        let owner = self.owner(name);
        (owner != self.shard).then_some(owner)
    }
}

/// Whether every shard is told of subscriptions to `name`, not only its
/// owner: patterns, and the keyspace notification channels, which the
/// key's shard publishes to itself (`resp/notify.rs`).
pub fn told_everywhere(space: Space, name: &[u8]) -> bool {
    space == Space::Pattern
        || (space == Space::Channel
            && (name.starts_with(b"__keyspace@")
                || name.starts_with(b"__keyevent@")
                || name == MONITOR_CHANNEL))
}

/// The channel MONITOR connections subscribe to (`resp/monitor.rs`): no
/// pattern matches it, and PUBSUB does not list it.
pub const MONITOR_CHANNEL: &[u8] = b"\0percore:monitor";

#[path = "routing_fan.rs"]
mod fan;
#[path = "routing_view.rs"]
mod view;

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;
