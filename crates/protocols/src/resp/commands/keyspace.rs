//! The commands over the whole key space (docs/PROTOCOLS.md §6.2): KEYS, SCAN, DBSIZE,
//! FLUSHDB, FLUSHALL, RANDOMKEY. Each shard runs its part on its own keys;
//! the connection's shard merges the parts (`commands::Merge`). SCAN visits
//! one shard at a time: its cursor says which shard and where in it.

use super::super::protocol::write::{self, Proto};
use super::glob;
use super::strings::{parse_i64, refusal, NOT_INTEGER, SYNTAX};
use super::Cmd;
use crate::kv::values::Kind;
use crate::resp::protocol::Command;
use crate::resp::RespShard;
use percore_keyspace::write::ShardKeys;

/// A SCAN cursor: the shard in its high bits, the place in that shard's
/// keys below (0 there: the shard's start). 0 overall is the start of shard
/// 0 and the end of a full iteration.
const SHARD_SHIFT: u32 = 40;
const INNER_MASK: u64 = (1 << SHARD_SHIFT) - 1;

/// The shard a SCAN cursor points into (possibly past the last one, for a
/// cursor no server gave).
pub fn cursor_shard(cursor: u64) -> usize {
    (cursor >> SHARD_SHIFT) as usize
}

/// The place in its shard a SCAN cursor points to (0: the shard's start).
pub fn inner(cursor: u64) -> u64 {
    cursor & INNER_MASK
}

/// The cursor at `inner` in shard `shard`'s keys.
pub fn shard_cursor(shard: usize, inner: u64) -> u64 {
    (shard as u64) << SHARD_SHIFT | (inner & INNER_MASK)
}

/// A SCAN cursor as Redis reads one, or None (`ERR invalid cursor`).
pub fn parse_cursor(arg: &[u8]) -> Option<u64> {
    if arg.is_empty() || arg.len() > 20 || !arg.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(arg).ok()?.parse().ok()
}

/// Runs this shard's part of a key-space command.
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    shard: &RespShard,
    out: &mut Vec<u8>,
) {
    match cmd {
        Cmd::Keys => {
            let pattern = args.at(1);
            let mut found: Vec<&[u8]> = Vec::new();
            let now = keys.now;
            keys.store.for_each(now, |key, _, _| {
                if glob::matches(pattern, key) {
                    found.push(key);
                }
            });
            write::array_len(out, found.len());
            for key in found {
                write::bulk(out, key);
            }
        }
        Cmd::DbSize => write::int(out, keys.store.len() as i64),
        Cmd::FlushDb | Cmd::FlushAll => {
            let mode_ok = args.len() == 1
                || (args.len() == 2
                    && (args.at(1).eq_ignore_ascii_case(b"async")
                        || args.at(1).eq_ignore_ascii_case(b"sync")));
            if !mode_ok {
                write::error(out, SYNTAX);
            } else {
                match keys.clear() {
                    Ok(()) => write::ok(out),
                    Err(refused) => refusal(out, &refused),
                }
            }
        }
        Cmd::RandomKey => match keys.store.random_key(keys.now, random_seed()) {
            Some(key) => write::bulk(out, key),
            None => write::null(out, proto),
        },
        Cmd::Scan => scan(args, keys, shard, out),
        _ => write::error(out, "ERR internal: not a key space command"),
    }
}

/// One SCAN step on this shard: `SCAN cursor [MATCH p] [COUNT n] [TYPE t]`.
fn scan(args: &Command<'_>, keys: &ShardKeys<'_>, here: &RespShard, out: &mut Vec<u8>) {
    let (shard, shards) = (here.id, here.count);
    let Some(cursor) = parse_cursor(args.at(1)) else {
        write::error(out, "ERR invalid cursor");
        return;
    };
    // TYPE: only keys of that type (none at all for a name of no type, as
    // redis 7.0 answers).
    let (mut pattern, mut count, mut only) = (None, 10usize, None);
    let mut i = 2;
    while i < args.len() {
        let (opt, value) = (args.at(i), (i + 1 < args.len()).then(|| args.at(i + 1)));
        match value {
            Some(value) if opt.eq_ignore_ascii_case(b"match") => pattern = Some(value),
            Some(value) if opt.eq_ignore_ascii_case(b"count") => match parse_i64(value) {
                None => return write::error(out, NOT_INTEGER),
                Some(n) if n < 1 => return write::error(out, SYNTAX),
                Some(n) => count = n as usize,
            },
            Some(value) if opt.eq_ignore_ascii_case(b"type") => only = Some(Kind::from_name(value)),
            _ => return write::error(out, SYNTAX),
        }
        i += 2;
    }
    let mut found: Vec<&[u8]> = Vec::new();
    let now = keys.now;
    let store = &*keys.store;
    let next_inner = store.scan(cursor & INNER_MASK, count, now, |key| {
        let typed = only.is_none_or(|kind| kind.is_some() && store.kind(key, now) == kind);
        if typed && pattern.is_none_or(|p| glob::matches(p, key)) {
            found.push(key);
        }
    });
    let next = if next_inner != 0 {
        (shard as u64) << SHARD_SHIFT | next_inner
    } else if shard + 1 < shards {
        ((shard + 1) as u64) << SHARD_SHIFT
    } else {
        0
    };
    write::array_len(out, 2);
    let mut digits = Vec::with_capacity(20);
    write::push_decimal(&mut digits, next as i64);
    write::bulk(out, &digits);
    write::array_len(out, found.len());
    for key in found {
        write::bulk(out, key);
    }
}

/// A seed for RANDOMKEY: std's randomly keyed hasher over a counter.
fn random_seed() -> u64 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, RandomState};
    thread_local! {
        // A random source, not shared state: any shard's draw is as good.
        static STATE: (RandomState, Cell<u64>) = (RandomState::new(), Cell::new(0));
    }
    STATE.with(|(state, counter)| {
        counter.set(counter.get().wrapping_add(1));
        state.hash_one(counter.get())
    })
}
