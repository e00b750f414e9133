//! Which connections of this shard subscribe to what, as plain data (no
//! I/O, no tasks). Every shard keeps its own [`Subscriptions`] per name
//! space (mq topics and resp channels are one space; resp's shard channels
//! and patterns are two more), and nobody else reads them. What the owners
//! know of them, counts per shard, is in `interest.rs`.
//!
//! Names are bytes (resp channels are binary-safe; an mq topic is its UTF-8
//! text), keyed with std's keyed hash: names come from the network, and a
//! fixed hash would let a client force collisions.

use std::collections::HashMap;

/// A connection of this shard, as the broker numbers them.
pub type ConnId = u32;

/// This shard's subscribers in one name space, by name and by connection.
#[derive(Default)]
pub struct Subscriptions {
    by_name: HashMap<Box<[u8]>, Vec<ConnId>>,
    by_conn: HashMap<ConnId, Vec<Box<[u8]>>>,
    count: usize,
}

impl Subscriptions {
    /// Whether the connection was not subscribed yet: subscribing twice is
    /// one subscription (docs/PROTOCOLS.md §3.4: delivered once).
    pub fn subscribe(&mut self, conn: ConnId, name: &[u8]) -> bool {
        let names = self.by_conn.entry(conn).or_default();
        if names.iter().any(|n| &**n == name) {
            return false;
        }
        names.push(name.into());
        self.count += 1;
        match self.by_name.get_mut(name) {
            Some(conns) => conns.push(conn),
            None => {
                self.by_name.insert(name.into(), vec![conn]);
            }
        }
        true
    }

    /// Whether the connection was subscribed.
    pub fn unsubscribe(&mut self, conn: ConnId, name: &[u8]) -> bool {
        let Some(names) = self.by_conn.get_mut(&conn) else {
            return false;
        };
        let Some(at) = names.iter().position(|n| &**n == name) else {
            return false;
        };
        names.swap_remove(at);
        if names.is_empty() {
            self.by_conn.remove(&conn);
        }
        self.drop_from_name(conn, name);
        true
    }

    /// Unsubscribes a closed connection from everything; `left` receives
    /// each name it was subscribed to.
    pub fn remove_conn(&mut self, conn: ConnId, mut left: impl FnMut(&[u8])) {
        for name in self.by_conn.remove(&conn).unwrap_or_default() {
            self.drop_from_name(conn, &name);
            left(&name);
        }
    }

    fn drop_from_name(&mut self, conn: ConnId, name: &[u8]) {
        self.count -= 1;
        let Some(conns) = self.by_name.get_mut(name) else {
            return;
        };
        if let Some(at) = conns.iter().position(|&c| c == conn) {
            conns.swap_remove(at);
        }
        if conns.is_empty() {
            self.by_name.remove(name);
        }
    }

    /// The connections subscribed to `name`.
    pub fn subscribers(&self, name: &[u8]) -> &[ConnId] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// Every name with subscribers here, and them (patterns are matched
    /// against a channel this way).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[ConnId])> {
        self.by_name
            .iter()
            .map(|(name, conns)| (&**name, conns.as_slice()))
    }

    /// The names `conn` is subscribed to, in no particular order.
    pub fn of_conn(&self, conn: ConnId) -> &[Box<[u8]>] {
        self.by_conn.get(&conn).map_or(&[], Vec::as_slice)
    }

    /// How many names `conn` is subscribed to.
    pub fn count_of(&self, conn: ConnId) -> usize {
        self.of_conn(conn).len()
    }

    /// Subscriptions held here: one per connection and name.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribing_twice_is_once() {
        let mut subs = Subscriptions::default();
        assert!(subs.subscribe(1, b"foo"));
        assert!(!subs.subscribe(1, b"foo"), "twice is once");
        assert!(subs.subscribe(2, b"foo"));
        assert_eq!(subs.subscribers(b"foo"), &[1, 2]);
        assert_eq!((subs.len(), subs.count_of(1)), (2, 1));
        assert!(subs.unsubscribe(1, b"foo"));
        assert!(!subs.unsubscribe(1, b"foo"), "not subscribed");
        assert!(subs.unsubscribe(2, b"foo"));
        assert!(subs.is_empty());
        assert_eq!(subs.iter().count(), 0);
    }

    #[test]
    fn a_closed_connection_leaves_every_name() {
        let mut subs = Subscriptions::default();
        subs.subscribe(1, b"a");
        subs.subscribe(1, b"\xff");
        subs.subscribe(2, b"\xff");
        let mut left = Vec::new();
        subs.remove_conn(1, |name| left.push(name.to_vec()));
        left.sort();
        assert_eq!(left, [b"a".to_vec(), b"\xff".to_vec()]);
        assert_eq!(subs.subscribers(b"\xff"), &[2]);
        assert!(subs.subscribers(b"a").is_empty());
        assert_eq!(subs.len(), 1);
        assert!(subs.of_conn(1).is_empty());
    }
}
