//! Keyspace events of hashes, sets, sorted sets and lists (issue 27's
//! types) for the commands that write one key on its owner shard: the event
//! Redis 7.0 names (`hset`, `sadd`, `zadd`, `lpush`, ...) when the command
//! changed the key, `new` before it when the key was made, and `del` after
//! it when the key was emptied, as Redis does. Commands over several keys
//! (SMOVE, LMOVE, the `*STORE` commands, the blocking pops) publish none yet
//! (README, "What differs from Redis").

use super::commands::Cmd;
use super::notify::{publish, GENERIC, HASH, LIST, NEW, SET, ZSET};
use super::protocol::Command;
use super::RespShard;
use percore_keyspace::write::ShardKeys;

/// When a command's event is published, read from its reply.
#[derive(Clone, Copy)]
pub(super) enum When {
    Always,
    /// Not a zero count or a nil: something was added, set or removed.
    Changed,
    /// The key was there and the reply is not empty.
    Popped,
    /// The key was there (LTRIM).
    Existed,
}

/// The event class, the event's name and when it is published; `None` for
/// a command this file does not cover.
pub(super) fn event(cmd: Cmd, args: &Command<'_>) -> Option<(u32, &'static str, When)> {
    use When::*;
    Some(match cmd {
        Cmd::HSet | Cmd::HMSet => (HASH, "hset", Always),
        Cmd::HSetNx => (HASH, "hset", Changed),
        Cmd::HDel => (HASH, "hdel", Changed),
        Cmd::HIncrBy => (HASH, "hincrby", Always),
        Cmd::HIncrByFloat => (HASH, "hincrbyfloat", Always),
        Cmd::SAdd => (SET, "sadd", Changed),
        Cmd::SRem => (SET, "srem", Changed),
        Cmd::SPop => (SET, "spop", Popped),
        Cmd::ZAdd => {
            let incr = (2..args.len()).any(|i| args.at(i).eq_ignore_ascii_case(b"incr"));
            (ZSET, if incr { "zincr" } else { "zadd" }, Changed)
        }
        Cmd::ZIncrBy => (ZSET, "zincr", Always),
        // GEOADD is ZADD of geohash scores in Redis too.
        Cmd::GeoAdd => (ZSET, "zadd", Changed),
        Cmd::ZRem => (ZSET, "zrem", Changed),
        Cmd::ZPopMin => (ZSET, "zpopmin", Popped),
        Cmd::ZPopMax => (ZSET, "zpopmax", Popped),
        Cmd::ZRemRangeByRank => (ZSET, "zremrangebyrank", Changed),
        Cmd::ZRemRangeByScore => (ZSET, "zremrangebyscore", Changed),
        Cmd::ZRemRangeByLex => (ZSET, "zremrangebylex", Changed),
        Cmd::LPush => (LIST, "lpush", Always),
        Cmd::RPush => (LIST, "rpush", Always),
        Cmd::LPushX => (LIST, "lpush", Changed),
        Cmd::RPushX => (LIST, "rpush", Changed),
        Cmd::LPop => (LIST, "lpop", Popped),
        Cmd::RPop => (LIST, "rpop", Popped),
        Cmd::LSet => (LIST, "lset", Always),
        Cmd::LTrim => (LIST, "ltrim", Existed),
        Cmd::LRem => (LIST, "lrem", Changed),
        Cmd::LInsert => (LIST, "linsert", Changed),
        _ => return None,
    })
}

/// Whether `reply` (not an error) is a zero, a -1 (LINSERT's pivot not
/// found), a nil or an empty array: nothing was done.
fn nothing(reply: &[u8]) -> bool {
    [
        &b":0\r\n"[..],
        b":-1\r\n",
        b"$-1\r\n",
        b"*-1\r\n",
        b"_\r\n",
        b"*0\r\n",
    ]
    .contains(&reply)
}

/// Publishes the events of `cmd` on `args.at(1)`, which `existed` before
/// it ran and which answered `reply` (not an error).
pub(super) fn after(
    here: &RespShard,
    cmd: Cmd,
    args: &Command<'_>,
    keys: &ShardKeys<'_>,
    reply: &[u8],
    existed: bool,
) {
    let Some((class, name, when)) = event(cmd, args) else {
        return;
    };
    let done = match when {
        When::Always => true,
        When::Changed => !nothing(reply),
        When::Popped => existed && !nothing(reply),
        When::Existed => existed,
    };
    if !done {
        return;
    }
    let key = args.at(1);
    let now = keys.exists(key);
    if !existed && now {
        publish(here, NEW, "new", key);
    }
    publish(here, class, name, key);
    if existed && !now {
        publish(here, GENERIC, "del", key);
    }
}
