//! What a shard's routing state says when asked (PUBSUB, INFO, mq's
//! gauges, a connection's subscriptions): read-only, apart from the
//! decisions in `routing.rs`.

use super::*;

impl Routing {
    /// Topics (channels) owned here that have subscribers somewhere.
    pub fn topics(&self) -> usize {
        self.interest[0].held()
    }

    /// Channel subscriptions held here (mq's and resp's), one per
    /// connection and channel.
    pub fn subscriptions(&self) -> usize {
        self.local[0].len()
    }

    /// Names with subscribers that this shard accounts for in INFO: the
    /// channels and shard channels it owns, the patterns it would own.
    pub fn owned(&self, space: Space) -> usize {
        match space {
            Space::Pattern => self
                .patterns
                .names()
                .filter(|p| owner_of(p, self.shards) == self.shard)
                .count(),
            Space::Channel => self.names(space).count(),
            Space::Shard => self.interest[at(space)].held(),
        }
    }

    /// As owner: `name`'s subscribers over every shard (0 if not the owner).
    pub fn count(&self, space: Space, name: &[u8]) -> u64 {
        match space {
            Space::Pattern => 0,
            _ if !self.accounts_for(space, name) => 0,
            _ => self.interest[at(space)].count(name),
        }
    }

    /// The names with subscribers: the channels or shard channels this shard
    /// owns, or every pattern.
    pub fn names(&self, space: Space) -> Box<dyn Iterator<Item = &[u8]> + '_> {
        match space {
            Space::Pattern => Box::new(self.patterns.names()),
            _ => Box::new(
                self.interest[at(space)]
                    .names()
                    .filter(move |name| self.accounts_for(space, name)),
            ),
        }
    }

    /// What `conn` subscribes to: (channels, patterns, shard channels).
    pub fn conn_counts(&self, conn: ConnId) -> (usize, usize, usize) {
        let count = |space| self.local[at(space)].count_of(conn);
        (
            count(Space::Channel),
            count(Space::Pattern),
            count(Space::Shard),
        )
    }

    /// The names `conn` subscribes to in `space`.
    pub fn conn_names(&self, conn: ConnId, space: Space) -> Vec<Box<[u8]>> {
        self.local[at(space)].of_conn(conn).to_vec()
    }
}
