//! MEMORY USAGE (issue 27): what a key costs as percore accounts it for
//! `--max-memory` (`kv/store`: its entry, its TTL, each element of a hash,
//! set, sorted set or list), run on the key's owner. README "Aggregate
//! memory" compares the figures with redis-server's.

use super::super::protocol::write::{self, Proto};
use super::strings::{parse_i64, NOT_INTEGER, SYNTAX};
use crate::resp::protocol::Command;
use percore_keyspace::write::ShardKeys;

/// `MEMORY USAGE key [SAMPLES n]`; other subcommands are refused.
pub fn run(args: &Command<'_>, keys: &ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    if !args.at(1).eq_ignore_ascii_case(b"usage") {
        let sub = String::from_utf8_lossy(args.at(1));
        return write::error(
            out,
            &format!("ERR unknown subcommand '{sub}'. Try MEMORY HELP."),
        );
    }
    match args.len() {
        3 => {}
        5 if args.at(3).eq_ignore_ascii_case(b"samples") => {
            if parse_i64(args.at(4)).is_none() {
                return write::error(out, NOT_INTEGER);
            }
        }
        _ => return write::error(out, SYNTAX),
    }
    match keys.store.memory_usage(args.at(2), keys.now) {
        Some(bytes) => write::int(out, bytes as i64),
        None => write::null(out, proto),
    }
}
