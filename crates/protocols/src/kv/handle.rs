//! The Python original's `handle_request`: one request against one shard's store, its
//! reply frame appended. Whoever owns the key runs it, whether the request
//! came from one of its own connections or from another shard.
//!
//! Reads take the time the caller read once for its batch (`now`): a key
//! expired by then is absent, for Get and ListKeys alike (docs/PROTOCOLS.md §6.2).
//!
//! Writes go the one way every protocol's writes go ([`ShardKeys`]): refused
//! while the shard's log cannot take them (`disk: <reason>`) or when they
//! would add data past `--max-memory` (`out of memory`); otherwise logged
//! (with `--data-dir`) and applied, in that order.

use super::protocol::{
    begin_frame, end_frame, push_array_len, push_error_frame, push_nil_frame, push_str_frame,
    push_text, Request,
};
use percore_keyspace::write::{Refused, ShardKeys, Ttl};

/// docs/PROTOCOLS.md §7.3's refusal.
pub(super) const OUT_OF_MEMORY: &str = "out of memory";

/// A request as the store runs it: its key and value as bytes. A client's
/// request checked its text as it was decoded ([`Request`]); one forwarded
/// by another shard was checked there, and travels as bytes
/// (`forwarded.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op<'a> {
    Get { key: &'a [u8] },
    Put { key: &'a [u8], val: &'a [u8] },
    Del { key: &'a [u8] },
    ListKeys,
}

impl<'a> Op<'a> {
    /// The key whose entry the op reads or writes; `ListKeys` reads them all.
    pub(super) fn key(&self) -> Option<&'a [u8]> {
        match *self {
            Op::Get { key } | Op::Put { key, .. } | Op::Del { key } => Some(key),
            Op::ListKeys => None,
        }
    }
}

impl<'a> From<Request<'a>> for Op<'a> {
    fn from(request: Request<'a>) -> Op<'a> {
        match request {
            Request::Get { key } => Op::Get {
                key: key.as_bytes(),
            },
            Request::Put { key, val } => Op::Put {
                key: key.as_bytes(),
                val: val.as_bytes(),
            },
            Request::Del { key } => Op::Del {
                key: key.as_bytes(),
            },
            Request::ListKeys => Op::ListKeys,
        }
    }
}

/// How a request went, for the batch's counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Served,
    Refused,
}

/// Runs one request against the shard's keys (at the time `keys` was made
/// for) and appends its reply frame.
pub(super) fn apply(keys: &mut ShardKeys<'_>, op: Op<'_>, out: &mut Vec<u8>) -> Outcome {
    let done = match op {
        Op::Get { key } => {
            match keys.get(key) {
                Some(val) => push_str_frame(out, val),
                None => match keys.kind(key) {
                    // A hash, set, sorted set or list (written over resp):
                    // kv has no reply for it but an error naming its type.
                    Some(kind) => {
                        let reason =
                            format!("WRONGTYPE the key holds a {}, not a string", kind.name());
                        push_error_frame(out, &reason);
                        return Outcome::Refused;
                    }
                    None => push_nil_frame(out),
                },
            }
            return Outcome::Served;
        }
        Op::ListKeys => {
            push_keys_frame(out, keys.store.sorted_keys(keys.now));
            return Outcome::Served;
        }
        // A Put clears any TTL the key had (a Redis SET without KEEPTTL).
        Op::Put { key, val } => keys.set(key, val, Ttl::Clear),
        Op::Del { key } => keys.del(key).map(|_| ()),
    };
    match done {
        Ok(()) => {
            push_nil_frame(out);
            Outcome::Served
        }
        Err(Refused::OutOfMemory) => {
            push_error_frame(out, OUT_OF_MEMORY);
            Outcome::Refused
        }
        Err(Refused::Disk(reason)) => {
            super::push_disk_error(out, &reason);
            Outcome::Refused
        }
    }
}

/// A ListKeys reply: the keys as one array frame.
pub(super) fn push_keys_frame(out: &mut Vec<u8>, keys: Vec<&[u8]>) {
    let start = begin_frame(out);
    push_array_len(out, keys.len());
    for key in keys {
        push_text(out, key);
    }
    end_frame(out, start);
}
