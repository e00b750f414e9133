//! The pub/sub commands a channel's owner runs, for a connection of its own
//! shard or forwarded by another over the key space's mesh (through
//! [`execute`](super::super::execute), as a key's command): PUBLISH and
//! SPUBLISH, the acknowledged subscription changes, and each shard's part
//! of PUBSUB and INFO. They reach this shard's broker through the
//! shard's `RespShard`, which every handler is handed (the broker is set
//! there when resp starts on the shard).

use super::super::commands::info::ServerFigures;
use super::super::commands::strings::parse_i64;
use super::super::commands::{glob, Cmd};
use super::super::protocol::write;
use super::super::protocol::Command;
use super::super::RespShard;
use crate::mq::{Published, Space};

/// How a name space travels in an internal command.
pub fn space_code(space: Space) -> &'static [u8] {
    match space {
        Space::Channel => b"c",
        Space::Shard => b"s",
        Space::Pattern => b"p",
    }
}

fn space_of(code: &[u8]) -> Option<Space> {
    match code {
        b"c" => Some(Space::Channel),
        b"s" => Some(Space::Shard),
        b"p" => Some(Space::Pattern),
        _ => None,
    }
}

const NO_BROKER: &str = "ERR internal: pub/sub is not running on this shard";
const UNREADABLE: &str = "ERR internal: a pub/sub command could not be read";

/// Runs one of the owner's pub/sub commands.
pub fn run(here: &RespShard, cmd: Cmd, command: &Command<'_>, out: &mut Vec<u8>) {
    let Some(broker) = here.broker() else {
        write::error(out, NO_BROKER);
        return;
    };
    match cmd {
        // PUBLISH channel message: the deliveries it makes, over every
        // shard, mq's subscribers of the topic included (docs/PROTOCOLS.md §6.2).
        Cmd::Publish | Cmd::SPublish => {
            let space = if cmd == Cmd::SPublish {
                Space::Shard
            } else {
                Space::Channel
            };
            // Counted where the subscribers are: late when some are on
            // other shards and the caller can wait (`late_counts.rs`).
            let late = here.late.allowed(here);
            match broker.publish_message(space, command.at(1), command.at(2), late) {
                Published::Counted(reached) => write::int(out, reached as i64),
                Published::Late(token) => here.late.leave(token),
            }
        }
        // INTERNAL-INTEREST from space delta name...: shard `from` has
        // `delta` more subscriptions to each name. Applied before the reply
        // leaves, so once it is in, every later publish sees them.
        Cmd::PubSubInterest => {
            let from = parse_i64(command.at(1)).and_then(|n| usize::try_from(n).ok());
            let (Some(from), Some(space), Some(delta)) =
                (from, space_of(command.at(2)), parse_i64(command.at(3)))
            else {
                write::error(out, UNREADABLE);
                return;
            };
            for name in command.iter().skip(4) {
                broker.apply(space, name, from, delta);
            }
            write::ok(out);
        }
        // INTERNAL-NUMSUB space name...: the subscribers of each name this
        // shard owns (0 for the others), in order.
        Cmd::PubSubNumSub => {
            let Some(space) = space_of(command.at(1)) else {
                write::error(out, UNREADABLE);
                return;
            };
            write::array_len(out, command.len() - 2);
            for name in command.iter().skip(2) {
                write::int(out, broker.count(space, name) as i64);
            }
        }
        // INTERNAL-CHANNELS space [pattern]: the names with subscribers
        // this shard owns, that match the pattern if one is given.
        Cmd::PubSubChannels => {
            let Some(space) = space_of(command.at(1)) else {
                write::error(out, UNREADABLE);
                return;
            };
            let pattern = command.arg(2);
            let mut names = Vec::new();
            broker.names(space, |name| {
                if pattern.is_none_or(|p| glob::matches(p, name)) {
                    names.push(name.to_vec());
                }
            });
            write::array_len(out, names.len());
            names.iter().for_each(|name| write::bulk(out, name));
        }
        _ => write::error(out, "ERR internal: not a pub/sub command"),
    }
}

/// This shard's share of INFO's pub/sub figures: the channels and shard
/// channels it owns that have subscribers, and the patterns it would own
/// (every shard knows every pattern; each is counted once).
pub fn add_figures(here: &RespShard, figures: &mut ServerFigures) {
    if let Some(broker) = here.broker() {
        figures.pubsub_channels += broker.owned(Space::Channel) as u64;
        figures.pubsub_patterns += broker.owned(Space::Pattern) as u64;
        figures.pubsubshard_channels += broker.owned(Space::Shard) as u64;
    }
}
