//! Pub/sub over resp (docs/PROTOCOLS.md §6.2, §6.3), on mq's topics: one broker per shard
//! serves both protocols (`crate::mq`), so an mq send reaches resp
//! subscribers and a PUBLISH reaches mq subscribers, each in its own bytes.
//!
//! - PUBLISH and SPUBLISH run on the channel's owner like a key's command
//!   (routed by `route.rs`, forwarded over the key space's mesh); the owner
//!   fans the message out over the brokers' lanes and replies the
//!   subscriptions it reached, over every shard (`shard_part.rs`).
//! - The (un)subscribe commands change this shard's subscriptions at once,
//!   then tell the owners (a channel's owner; every shard, for a pattern)
//!   over the mesh, and reply only once every owner has acknowledged: a
//!   PUBLISH from any shard after the reply reaches the subscription. A
//!   connection's close cannot wait: its broker membership ([`Member`])
//!   tells the owners one way, over the brokers' lanes. The owners count
//!   deltas, so the two paths need no order between them.
//! - PUBSUB asks every shard for its part (`command.rs`); NUMPAT is known
//!   here, as every shard holds every pattern.

mod command;
mod reply;
pub mod shard_part;

use std::rc::Rc;

use super::commands::Cmd;
use super::protocol::write::Proto;
use super::protocol::{encode_command, Command};
use super::session::Session;
use super::{exchange, tagged_buffer, Resp};
use crate::mq::topics::ConnId;
use crate::mq::{Broker, Format, Space};
use percore::codec::{begin_frame, end_frame};

/// A resp connection's place in its shard's broker, taken at its first
/// (un)subscribe command. Dropping it (the connection ended, however) drops
/// its subscriptions, and the owners are told over the lanes.
pub struct Member {
    broker: Rc<Broker>,
    conn: ConnId,
}

impl Drop for Member {
    fn drop(&mut self) {
        self.broker.disconnect(self.conn);
    }
}

/// The form of the messages a connection speaking `proto` gets.
fn format_of(proto: Proto) -> Format {
    match proto {
        Proto::Resp2 => Format::Resp2,
        Proto::Resp3 => Format::Resp3,
    }
}

/// One of the six (un)subscribe commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    space: Space,
    subscribe: bool,
}

impl Change {
    /// The change `cmd` makes, if it is one of the six.
    pub fn of(cmd: Cmd) -> Option<Change> {
        let (space, subscribe) = match cmd {
            Cmd::Subscribe => (Space::Channel, true),
            Cmd::Unsubscribe => (Space::Channel, false),
            Cmd::PSubscribe => (Space::Pattern, true),
            Cmd::PUnsubscribe => (Space::Pattern, false),
            Cmd::SSubscribe => (Space::Shard, true),
            Cmd::SUnsubscribe => (Space::Shard, false),
            _ => return None,
        };
        Some(Change { space, subscribe })
    }

    /// The kind its confirmations name.
    fn kind(self) -> &'static [u8] {
        match (self.space, self.subscribe) {
            (Space::Channel, true) => b"subscribe",
            (Space::Channel, false) => b"unsubscribe",
            (Space::Pattern, true) => b"psubscribe",
            (Space::Pattern, false) => b"punsubscribe",
            (Space::Shard, true) => b"ssubscribe",
            (Space::Shard, false) => b"sunsubscribe",
        }
    }
}

impl Resp {
    /// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE,
    /// SUNSUBSCRIBE: one confirmation per name (every name the connection
    /// holds, for an unsubscribe without names), sent once the owners have
    /// acknowledged the changes.
    pub(super) async fn change_subscriptions(
        &self,
        session: &mut Session,
        change: Change,
        command: &Command<'_>,
        reply: &mut Vec<u8>,
    ) {
        let conn = self.member(session);
        let proto = session.proto();
        let held;
        let names: Vec<&[u8]> = if change.subscribe || command.len() > 1 {
            command.iter().skip(1).collect()
        } else {
            held = self.broker.conn_names(conn, change.space);
            held.iter().map(|name| &**name).collect()
        };
        let mut changed = Vec::with_capacity(names.len());
        for &name in &names {
            if self
                .broker
                .change(conn, change.space, name, change.subscribe)
            {
                changed.push(name);
            }
            let count = self.held(conn, change.space);
            reply::confirmation(reply, proto, change.kind(), Some(name), count);
        }
        if names.is_empty() {
            let count = self.held(conn, change.space);
            reply::confirmation(reply, proto, change.kind(), None, count);
        }
        let delta = if change.subscribe { 1 } else { -1 };
        self.tell_owners(change.space, delta, &changed).await;
        session
            .client
            .subscriptions
            .set(self.broker.conn_counts(conn));
    }

    /// MONITOR: from now on the connection gets every command served, once
    /// every shard knows it monitors (`monitor.rs`).
    pub(super) async fn monitor(&self, session: &mut Session, reply: &mut Vec<u8>) {
        let conn = self.member(session);
        self.broker.set_format(conn, Format::Monitor);
        let channel = super::monitor::CHANNEL;
        if self.broker.change(conn, Space::Channel, channel, true) {
            self.tell_owners(Space::Channel, 1, &[channel]).await;
        }
        session.client.monitoring.set(true);
        super::protocol::write::ok(reply);
    }

    /// RESET: drops every subscription, without confirmations, once the
    /// owners have acknowledged.
    pub(super) async fn drop_subscriptions(&self, session: &mut Session) {
        let Some(conn) = session.pubsub.as_ref().map(|member| member.conn) else {
            return;
        };
        for space in [Space::Channel, Space::Pattern, Space::Shard] {
            let held = self.broker.conn_names(conn, space);
            let names: Vec<&[u8]> = held.iter().map(|name| &**name).collect();
            for &name in &names {
                self.broker.change(conn, space, name, false);
            }
            self.tell_owners(space, -1, &names).await;
        }
        session.client.subscriptions.set((0, 0, 0));
    }

    /// After HELLO or RESET: messages come in the connection's protocol.
    pub(super) fn follow_protocol(&self, session: &Session) {
        if let Some(member) = &session.pubsub {
            self.broker
                .set_format(member.conn, format_of(session.proto()));
        }
    }

    /// The connection's number in the broker, taken at its first use.
    fn member(&self, session: &mut Session) -> ConnId {
        if let Some(member) = &session.pubsub {
            return member.conn;
        }
        let outbox = session.client.outbox.clone();
        let conn = self.broker.connect(outbox, format_of(session.proto()));
        session.pubsub = Some(Member {
            broker: self.broker.clone(),
            conn,
        });
        conn
    }

    /// The count a confirmation shows: channels and patterns together, or
    /// shard channels alone (as redis 7.0).
    fn held(&self, conn: ConnId, space: Space) -> usize {
        let (channels, patterns, shard_channels) = self.broker.conn_counts(conn);
        match space {
            Space::Shard => shard_channels,
            _ => channels + patterns,
        }
    }

    /// Tells the owners of `names` (a channel's owner; every shard, for a
    /// pattern) that this shard has `delta` more subscriptions to each, and
    /// waits until all have applied it: on this shard at once, on the others
    /// over the mesh, one message per shard.
    async fn tell_owners(&self, space: Space, delta: i64, names: &[&[u8]]) {
        let me = self.broker.shard();
        let mut remote: Vec<Vec<&[u8]>> = vec![Vec::new(); self.shards];
        for &name in names {
            if crate::mq::told_everywhere(space, name) {
                self.broker.apply(space, name, me, delta);
                for peer in self.broker.peers() {
                    remote[peer].push(name);
                }
            } else {
                match self.broker.owner(name) {
                    owner if owner == me => self.broker.apply(space, name, me, delta),
                    owner => remote[owner].push(name),
                }
            }
        }
        let Some(mesh) = &self.keys.mesh else {
            return;
        };
        if remote.iter().all(Vec::is_empty) {
            return;
        }
        let (from, delta) = (me.to_string(), delta.to_string());
        let head: [&[u8]; 4] = [
            b"internal-interest",
            from.as_bytes(),
            shard_part::space_code(space),
            delta.as_bytes(),
        ];
        let mut messages: Vec<Vec<u8>> = remote
            .iter()
            .map(|names| {
                if names.is_empty() {
                    return Vec::new();
                }
                let mut body = tagged_buffer(mesh);
                let start = begin_frame(&mut body);
                body.push(Proto::Resp2 as u8);
                body.push(Cmd::PubSubInterest as u8);
                let words: Vec<&[u8]> = head.iter().chain(names).copied().collect();
                encode_command(words.iter().copied(), &mut body);
                end_frame(&mut body, start);
                body
            })
            .collect();
        self.forwarded
            .add(messages.iter().filter(|m| !m.is_empty()).count() as u64);
        for acknowledged in exchange(mesh, &mut messages).await {
            if acknowledged.capacity() > 0 {
                mesh.recycle(acknowledged);
            }
        }
    }
}
