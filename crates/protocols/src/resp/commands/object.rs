//! OBJECT ENCODING, REFCOUNT, IDLETIME, FREQ and HELP, with redis-server
//! 7.0's replies. Percore keeps every value as bytes;
//! what these report is what redis would for the same value:
//! - ENCODING: `int` for a value that is a canonical 64-bit integer,
//!   `embstr` up to 44 bytes, `raw` past that (redis's rule on a SET);
//! - REFCOUNT: 2147483647 for an integer 0..9999 (redis shares those
//!   objects), else 1;
//! - IDLETIME: seconds since the key's last access (the key space keeps
//!   Redis's LRU clock per key: `store/eviction.rs`); refused under an LFU
//!   policy, as redis refuses it;
//! - FREQ: the key's LFU counter under an LFU policy; refused otherwise, as
//!   redis refuses it.
//!
//! A hash, set, sorted set or list (one representation each in percore)
//! reports the encoding redis 7.0 gives the same contents under its default
//! thresholds (`aggregate_encoding`); redis never converts back, so after
//! deletes it may still say `hashtable` where this says `listpack`.
//!
//! The key (argument 2) is read on its owner ([`run`]); HELP and the
//! errors of a wrong subcommand are answered where the command was read
//! ([`without_key`]).

use super::super::command_table;
use super::super::protocol::write::{self, Proto};
use super::strings::parse_i64;
use crate::kv::values::{Aggregate, ValueRef};
use crate::resp::protocol::Command;
use percore_keyspace::write::ShardKeys;

const HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];
const LFU: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const NO_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
/// Redis's `OBJ_SHARED_REFCOUNT`: the count of a shared object.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Redis shares the integers below this (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: i64 = 10_000;
/// The longest string redis keeps as `embstr`.
const EMBSTR_MAX: usize = 44;
/// Redis 7.0's defaults: `hash-max-listpack-entries`/`-value`,
/// `zset-max-listpack-entries`/`-value`, `set-max-intset-entries`.
const LISTPACK_ENTRIES: usize = 128;
const LISTPACK_VALUE: usize = 64;
const INTSET_ENTRIES: usize = 512;

/// Whether `OBJECT sub key` is to be run on the key's owner: a known
/// subcommand over a key, with its count of arguments.
pub fn over_key(args: &Command<'_>) -> bool {
    args.len() == 3
        && [&b"encoding"[..], b"refcount", b"idletime", b"freq"]
            .iter()
            .any(|sub| args.at(1).eq_ignore_ascii_case(sub))
}

/// OBJECT HELP, or the error for a subcommand that is unknown or given the
/// wrong count of arguments.
pub fn without_key(args: &Command<'_>, out: &mut Vec<u8>) {
    let known = command_table::lookup(b"object")
        .and_then(|parent| command_table::lookup_subcommand(parent, args.at(1)));
    match known {
        None => {
            let shown = String::from_utf8_lossy(args.at(1));
            write::error(
                out,
                &format!("ERR unknown subcommand '{shown}'. Try OBJECT HELP."),
            );
        }
        Some(sub) if !command_table::arity_ok(sub, args.len()) => {
            super::connection::wrong_arity(out, sub.name)
        }
        Some(_) => {
            write::array_len(out, HELP.len());
            for line in HELP {
                write::simple(out, line.as_bytes());
            }
        }
    }
}

/// `OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key` on the key's owner: null
/// for a missing key, as redis answers before anything else.
pub fn run(args: &Command<'_>, keys: &ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    let Some(value) = keys.value(args.at(2)) else {
        return write::null(out, proto);
    };
    let sub = args.at(1);
    if sub.eq_ignore_ascii_case(b"encoding") {
        let name = match value {
            ValueRef::Str(val) => encoding(val),
            ValueRef::Agg(agg) => aggregate_encoding(agg),
        };
        write::bulk(out, name.as_bytes());
    } else if sub.eq_ignore_ascii_case(b"refcount") {
        let shared = match value {
            ValueRef::Str(val) => integer(val).is_some_and(|n| (0..SHARED_INTEGERS).contains(&n)),
            ValueRef::Agg(_) => false,
        };
        write::int(out, if shared { SHARED_REFCOUNT } else { 1 });
    } else if sub.eq_ignore_ascii_case(b"idletime") {
        match keys.store.idle_seconds(args.at(2), keys.now) {
            _ if keys.store.policy().is_lfu() => write::error(out, LFU),
            Some(idle) => write::int(out, idle as i64),
            None => write::null(out, proto),
        }
    } else {
        match keys.store.frequency(args.at(2), keys.now) {
            _ if !keys.store.policy().is_lfu() => write::error(out, NO_LFU),
            Some(freq) => write::int(out, i64::from(freq)),
            None => write::null(out, proto),
        }
    }
}

/// The value as an integer, when redis would store it as one: at most 20
/// bytes that read back the same (no sign of `+`, no leading zero).
fn integer(val: &[u8]) -> Option<i64> {
    if val.len() > 20 {
        return None;
    }
    let n = parse_i64(val)?;
    (n.to_string().as_bytes() == val).then_some(n)
}

/// The encoding redis gives a string set to `val`.
fn encoding(val: &[u8]) -> &'static str {
    if integer(val).is_some() {
        "int"
    } else if val.len() <= EMBSTR_MAX {
        "embstr"
    } else {
        "raw"
    }
}

/// The encoding redis 7.0 gives a hash, set, sorted set or list holding
/// what `agg` holds, under its default thresholds.
fn aggregate_encoding(agg: &Aggregate) -> &'static str {
    // A listpack holds at most so many entries, none longer than so much.
    let listpack = |len: usize, longest: Option<usize>| {
        len <= LISTPACK_ENTRIES && longest.unwrap_or(0) <= LISTPACK_VALUE
    };
    match agg {
        Aggregate::Hash(hash) => {
            let longest = hash.iter().map(|(f, v)| f.len().max(v.len())).max();
            if listpack(hash.len(), longest) {
                "listpack"
            } else {
                "hashtable"
            }
        }
        Aggregate::Set(set) => {
            if set.len() <= INTSET_ENTRIES && set.iter().all(|m| integer(m).is_some()) {
                "intset"
            } else {
                "hashtable"
            }
        }
        Aggregate::ZSet(zset) => {
            if listpack(zset.len(), zset.iter().map(|(m, _)| m.len()).max()) {
                "listpack"
            } else {
                "skiplist"
            }
        }
        Aggregate::List(_) => "quicklist",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(encoding(b"12345"), "int");
        assert_eq!(encoding(b"-7"), "int");
        assert_eq!(encoding(b"007"), "embstr");
        assert_eq!(encoding(b"+7"), "embstr");
        assert_eq!(encoding(&[b'x'; 44]), "embstr");
        assert_eq!(encoding(&[b'x'; 45]), "raw");
        assert_eq!(integer(b"9999"), Some(9999));
    }
}
