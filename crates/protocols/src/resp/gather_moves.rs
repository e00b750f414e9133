//! The gathered commands that move an element between keys on different
//! shards (SMOVE, LMOVE, RPOPLPUSH) or pop from the first non-empty of keys
//! on several (LMPOP, ZMPOP): the values are fetched from their owners and
//! the results stored back there, as `gather.rs` says for them all.

use super::move_keys::bulk_value;
use super::*;
use crate::kv::values::{Kind, OwnedValue};
use commands::collections::wrong_type;
use commands::zset_multi;

impl Resp {
    pub(super) async fn smove(&self, command: &Command<'_>, now: u64, reply: &mut Vec<u8>) {
        let (src, dst, member) = (command.at(1), command.at(2), command.at(3));
        let from = self.fetch(src, now).await;
        let to = self.fetch(dst, now).await;
        let is_set =
            |v: &Option<OwnedValue>| v.as_ref().is_none_or(|v| v.as_ref().kind() == Kind::Set);
        if !is_set(&from) || !is_set(&to) {
            return wrong_type(reply);
        }
        let removed = self
            .on_shard(
                owner_of(src, self.shards),
                Cmd::SRem,
                &[src, member],
                Proto::Resp2,
                now,
            )
            .await;
        if removed != b":1\r\n" {
            reply.extend_from_slice(if removed.first() == Some(&b'-') {
                &removed
            } else {
                b":0\r\n"
            });
            return;
        }
        let added = self
            .on_shard(
                owner_of(dst, self.shards),
                Cmd::SAdd,
                &[dst, member],
                Proto::Resp2,
                now,
            )
            .await;
        if added.first() == Some(&b'-') {
            reply.extend_from_slice(&added);
        } else {
            write::int(reply, 1);
        }
    }

    /// A key's type on its owner (TYPE's reply).
    pub(super) async fn type_of(&self, key: &[u8], now: u64) -> Vec<u8> {
        let shard = owner_of(key, self.shards);
        self.on_shard(shard, Cmd::Type, &[key], Proto::Resp2, now)
            .await
    }

    /// LMOVE and RPOPLPUSH over two shards: popped on the source's owner,
    /// pushed on the destination's.
    pub(super) async fn lmove(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let (src, dst) = (command.at(1), command.at(2));
        let (from_tail, to_tail) = match cmd {
            Cmd::RPopLPush => (true, false),
            _ => match (
                commands::list_move::side(command.at(3)),
                commands::list_move::side(command.at(4)),
            ) {
                (Some(from), Some(to)) => (from, to),
                _ => return write::error(reply, commands::strings::SYNTAX),
            },
        };
        // As Redis: the source first (absent: null, whatever the
        // destination), then the destination.
        let from = self.type_of(src, now).await;
        if from == b"+none\r\n" {
            return write::null(reply, proto);
        }
        let to = self.type_of(dst, now).await;
        let list_or_none = |t: &[u8]| t == b"+list\r\n" || t == b"+none\r\n";
        if !list_or_none(&from) || !list_or_none(&to) {
            return wrong_type(reply);
        }
        let pop = if from_tail { Cmd::RPop } else { Cmd::LPop };
        let popped = self
            .on_shard(owner_of(src, self.shards), pop, &[src], Proto::Resp2, now)
            .await;
        let Some(item) = bulk_value(&popped) else {
            if popped.first() == Some(&b'-') {
                reply.extend_from_slice(&popped);
            } else {
                write::null(reply, proto);
            }
            return;
        };
        let push = if to_tail { Cmd::RPush } else { Cmd::LPush };
        let pushed = self
            .on_shard(
                owner_of(dst, self.shards),
                push,
                &[dst, item],
                Proto::Resp2,
                now,
            )
            .await;
        if pushed.first() == Some(&b'-') {
            reply.extend_from_slice(&pushed);
        } else {
            write::bulk(reply, item);
        }
    }

    /// LMPOP over several shards: each key in turn on its owner, as a
    /// one-key LMPOP, until one pops.
    pub(super) async fn lmpop(
        &self,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let (keys, tail, count) = match commands::list_move::lmpop_args(command) {
            Ok(read) => read,
            Err(error) => return write::error(reply, error),
        };
        let side: &[u8] = if tail { b"RIGHT" } else { b"LEFT" };
        let count = count.to_string();
        for key in keys {
            let shard = owner_of(key, self.shards);
            let args: [&[u8]; 5] = [b"1", key, side, b"COUNT", count.as_bytes()];
            let popped = self.on_shard(shard, Cmd::LMPop, &args, proto, now).await;
            if popped != b"*-1\r\n" && popped != b"_\r\n" {
                reply.extend_from_slice(&popped);
                return;
            }
        }
        write::null_array(reply, proto);
    }

    /// ZMPOP over several shards: each key in turn on its owner, as a
    /// one-key ZMPOP, until one pops.
    pub(super) async fn zmpop(
        &self,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let (keys, max, count) = match zset_multi::zmpop_args(command) {
            Ok(read) => read,
            Err(error) => return write::error(reply, error),
        };
        let side: &[u8] = if max { b"MAX" } else { b"MIN" };
        let count = count.to_string();
        for key in keys {
            let shard = owner_of(key, self.shards);
            let args: [&[u8]; 5] = [b"1", key, side, b"COUNT", count.as_bytes()];
            let popped = self.on_shard(shard, Cmd::ZMPop, &args, proto, now).await;
            if popped != b"*-1\r\n" && popped != b"_\r\n" {
                reply.extend_from_slice(&popped);
                return;
            }
        }
        write::null_array(reply, proto);
    }
}
