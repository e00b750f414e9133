//! PUBSUB CHANNELS | NUMSUB | NUMPAT | SHARDCHANNELS | SHARDNUMSUB | HELP,
//! with redis 7.0's replies and errors. The owners hold the counts, so
//! CHANNELS and NUMSUB ask every shard for its part; NUMPAT is known on
//! every shard. Counts are of subscriptions of either protocol: an mq
//! subscriber of a topic is a subscriber of the channel (docs/PROTOCOLS.md §6.3).

use super::super::commands::{connection, Cmd, Merge};
use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::super::{integers, route, Resp};
use super::reply;
use super::shard_part::space_code;
use crate::mq::Space;

impl Resp {
    /// Serves one PUBSUB command.
    pub(in super::super) async fn pubsub(
        &self,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let sub = command.at(1);
        let argc = command.len();
        let is = |name: &[u8]| sub.eq_ignore_ascii_case(name);
        if is(b"channels") || is(b"shardchannels") {
            if argc > 3 {
                let shown = String::from_utf8_lossy(sub);
                write::error(reply, &format!("ERR unknown subcommand or wrong number of arguments for '{shown}'. Try PUBSUB HELP."));
                return;
            }
            let space = if is(b"channels") {
                Space::Channel
            } else {
                Space::Shard
            };
            let args: Vec<&[u8]> = std::iter::once(space_code(space))
                .chain(command.iter().skip(2))
                .collect();
            let parts = self
                .on_every_shard(Cmd::PubSubChannels, &args, proto, now)
                .await;
            let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            route::merge_replies(Merge::Concat, &parts, proto, reply);
        } else if is(b"numsub") || is(b"shardnumsub") {
            let space = if is(b"numsub") {
                Space::Channel
            } else {
                Space::Shard
            };
            let names: Vec<&[u8]> = command.iter().skip(2).collect();
            let mut counts = vec![0i64; names.len()];
            if !names.is_empty() {
                let args: Vec<&[u8]> = std::iter::once(space_code(space))
                    .chain(names.iter().copied())
                    .collect();
                for part in self
                    .on_every_shard(Cmd::PubSubNumSub, &args, proto, now)
                    .await
                {
                    for (sum, n) in counts.iter_mut().zip(integers(&part)) {
                        *sum += n;
                    }
                }
            }
            write::array_len(reply, names.len() * 2);
            for (name, count) in names.iter().zip(counts) {
                write::bulk(reply, name);
                write::int(reply, count);
            }
        } else if is(b"numpat") || is(b"help") {
            let name = if is(b"numpat") {
                "pubsub|numpat"
            } else {
                "pubsub|help"
            };
            if argc != 2 {
                connection::wrong_arity(reply, name);
            } else if is(b"help") {
                reply::help(reply);
            } else {
                let mut patterns = 0;
                self.broker.names(Space::Pattern, |_| patterns += 1);
                write::int(reply, patterns);
            }
        } else {
            let shown = String::from_utf8_lossy(sub);
            write::error(
                reply,
                &format!("ERR unknown subcommand '{shown}'. Try PUBSUB HELP."),
            );
        }
    }
}
