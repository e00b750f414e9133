//! One shard's share of the topic tables, as plain data (no I/O, no tasks):
//!
//! - [`Subscriptions`]: which connections of this shard subscribe to which
//!   topics. Every shard keeps its own; nobody else reads it.
//! - [`Interest`]: for the topics this shard owns, which shards have
//!   subscribers. Shards report their first and last subscriber of a topic
//!   to its owner; the owner sends each message once to each of them.
//!
//! Topics are keyed by their decoded text, with std's keyed hash: topics come
//! from the network, and a fixed hash would let a client force collisions.

use std::collections::HashMap;

/// A connection of this shard, as the service numbers them.
pub type ConnId = u32;

/// What a subscription change means for the topic's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing the owner needs to know.
    None,
    /// The shard's first subscriber of the topic: the owner must send here.
    First,
    /// The shard's last subscriber left: the owner may stop sending here.
    Last,
}

/// This shard's subscribers, by topic and by connection.
#[derive(Default)]
pub struct Subscriptions {
    by_topic: HashMap<Box<str>, Vec<ConnId>>,
    by_conn: HashMap<ConnId, Vec<Box<str>>>,
    count: usize,
}

impl Subscriptions {
    /// Subscribing twice is one subscription (SPEC 3.4: delivered once).
    pub fn subscribe(&mut self, conn: ConnId, topic: &str) -> Change {
        let topics = self.by_conn.entry(conn).or_default();
        if topics.iter().any(|t| &**t == topic) {
            return Change::None;
        }
        topics.push(topic.into());
        self.count += 1;
        match self.by_topic.get_mut(topic) {
            Some(conns) => {
                conns.push(conn);
                Change::None
            }
            None => {
                self.by_topic.insert(topic.into(), vec![conn]);
                Change::First
            }
        }
    }

    pub fn unsubscribe(&mut self, conn: ConnId, topic: &str) -> Change {
        let Some(topics) = self.by_conn.get_mut(&conn) else {
            return Change::None;
        };
        let Some(at) = topics.iter().position(|t| &**t == topic) else {
            return Change::None;
        };
        topics.swap_remove(at);
        if topics.is_empty() {
            self.by_conn.remove(&conn);
        }
        self.drop_from_topic(conn, topic)
    }

    /// Unsubscribes a closed connection from everything; `emptied` receives
    /// the topics this shard no longer has subscribers for.
    pub fn remove_conn(&mut self, conn: ConnId, mut emptied: impl FnMut(&str)) {
        for topic in self.by_conn.remove(&conn).unwrap_or_default() {
            if self.drop_from_topic(conn, &topic) == Change::Last {
                emptied(&topic);
            }
        }
    }

    fn drop_from_topic(&mut self, conn: ConnId, topic: &str) -> Change {
        self.count -= 1;
        let Some(conns) = self.by_topic.get_mut(topic) else {
            return Change::None;
        };
        if let Some(at) = conns.iter().position(|&c| c == conn) {
            conns.swap_remove(at);
        }
        if conns.is_empty() {
            self.by_topic.remove(topic);
            Change::Last
        } else {
            Change::None
        }
    }

    /// The connections subscribed to `topic`.
    pub fn subscribers(&self, topic: &str) -> &[ConnId] {
        self.by_topic.get(topic).map_or(&[], Vec::as_slice)
    }

    /// Subscriptions held here: one per connection and topic.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// For the topics this shard owns: the shards that have subscribers.
#[derive(Default)]
pub struct Interest {
    by_topic: HashMap<Box<str>, Vec<u32>>,
}

impl Interest {
    /// Applies a shard's [`Change`] for `topic`.
    pub fn apply(&mut self, topic: &str, shard: usize, change: Change) {
        let shard = shard as u32;
        match change {
            Change::None => {}
            Change::First => match self.by_topic.get_mut(topic) {
                Some(shards) if shards.contains(&shard) => {}
                Some(shards) => shards.push(shard),
                None => {
                    self.by_topic.insert(topic.into(), vec![shard]);
                }
            },
            Change::Last => {
                if let Some(shards) = self.by_topic.get_mut(topic) {
                    shards.retain(|&s| s != shard);
                    if shards.is_empty() {
                        self.by_topic.remove(topic);
                    }
                }
            }
        }
    }

    /// The shards to send a message on `topic` to.
    pub fn shards(&self, topic: &str) -> &[u32] {
        self.by_topic.get(topic).map_or(&[], Vec::as_slice)
    }

    /// Topics owned here that have subscribers somewhere.
    pub fn topics(&self) -> usize {
        self.by_topic.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_and_last_subscribers_are_reported_once() {
        let mut subs = Subscriptions::default();
        assert_eq!(subs.subscribe(1, "foo"), Change::First);
        assert_eq!(subs.subscribe(1, "foo"), Change::None, "twice is once");
        assert_eq!(subs.subscribe(2, "foo"), Change::None);
        assert_eq!(subs.subscribers("foo"), &[1, 2]);
        assert_eq!(subs.len(), 2);
        assert_eq!(subs.unsubscribe(1, "foo"), Change::None);
        assert_eq!(subs.unsubscribe(1, "foo"), Change::None, "not subscribed");
        assert_eq!(subs.unsubscribe(2, "foo"), Change::Last);
        assert!(subs.is_empty());
    }

    #[test]
    fn a_closed_connection_leaves_every_topic() {
        let mut subs = Subscriptions::default();
        subs.subscribe(1, "a");
        subs.subscribe(1, "b");
        subs.subscribe(2, "b");
        let mut emptied = Vec::new();
        subs.remove_conn(1, |topic| emptied.push(topic.to_string()));
        assert_eq!(emptied, ["a"]);
        assert_eq!(subs.subscribers("b"), &[2]);
        assert!(subs.subscribers("a").is_empty());
        assert_eq!(subs.len(), 1);
    }

    #[test]
    fn interest_follows_first_and_last() {
        let mut interest = Interest::default();
        interest.apply("t", 3, Change::First);
        interest.apply("t", 1, Change::First);
        interest.apply("t", 3, Change::First);
        assert_eq!(interest.shards("t"), &[3, 1]);
        interest.apply("t", 3, Change::Last);
        assert_eq!(interest.shards("t"), &[1]);
        interest.apply("t", 1, Change::Last);
        assert_eq!(interest.topics(), 0);
    }
}
