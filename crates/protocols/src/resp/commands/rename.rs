//! RENAME, RENAMENX and COPY with both keys on one shard, run there in one
//! step (atomic, as in redis-server 7.0), with redis's replies and errors.
//! With the keys on two shards, `resp/move_keys.rs` reads on one and writes
//! on the other, with the same checks and replies.

use super::super::protocol::write;
use super::strings::{parse_i64, refusal, SYNTAX};
use super::Cmd;
use crate::kv::values::{OwnedValue, ValueRef};
use crate::resp::protocol::Command;
use percore_keyspace::write::{Refused, ShardKeys, Ttl};

pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
const BAD_DB: &str = "ERR DB index is out of range";

/// COPY's options: whether REPLACE was given; Err: the error to answer.
/// percore has one database, 0: `DB 0` is accepted, any other refused.
pub fn copy_options(args: &Command<'_>) -> Result<bool, &'static str> {
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        let opt = args.at(i);
        if opt.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if opt.eq_ignore_ascii_case(b"db") && i + 1 < args.len() {
            match parse_i64(args.at(i + 1)) {
                Some(0) => {}
                Some(n) if i32::try_from(n).is_ok() => return Err(BAD_DB),
                _ => return Err(super::strings::NOT_INTEGER),
            }
            i += 1;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    Ok(replace)
}

/// Runs RENAME, RENAMENX or COPY with both keys on this shard.
pub fn run(cmd: Cmd, args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let (src, dst) = (args.at(1), args.at(2));
    let replace = match cmd {
        Cmd::Copy => match copy_options(args) {
            Ok(replace) => replace,
            Err(error) => return write::error(out, error),
        },
        Cmd::Rename => true,
        _ => false,
    };
    if cmd == Cmd::Copy && src == dst {
        return write::error(out, SAME_OBJECT);
    }
    let Some(value) = keys.value(src).map(ValueRef::to_owned) else {
        return match cmd {
            Cmd::Copy => write::int(out, 0),
            _ => write::error(out, NO_SUCH_KEY),
        };
    };
    if src == dst {
        // RENAME and RENAMENX of a key onto itself: nothing changes.
        return match cmd {
            Cmd::Rename => write::ok(out),
            _ => write::int(out, 0),
        };
    }
    if !replace && keys.exists(dst) {
        return write::int(out, 0);
    }
    let ttl = match keys.expiry(src) {
        Some(Some(at)) => Ttl::At(at),
        _ => Ttl::Clear,
    };
    let put = match value {
        OwnedValue::Str(val) => keys.set(dst, &val, ttl),
        value => keys.put_value(dst, value, keys.expiry(src).flatten()),
    };
    let done: Result<(), Refused> = put.and_then(|()| {
        if cmd == Cmd::Copy {
            Ok(())
        } else {
            keys.del(src).map(|_| ())
        }
    });
    match done {
        Err(refused) => refusal(out, &refused),
        Ok(()) if cmd == Cmd::Rename => write::ok(out),
        Ok(()) => write::int(out, 1),
    }
}
