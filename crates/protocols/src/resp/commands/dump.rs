//! Moving a key's value, whatever its type, between shards (RENAME and COPY
//! over two shards, `resp/move_keys.rs`; the cross-shard STORE forms):
//! `internal-dump key` answers the key's value and expiry as the records a
//! snapshot holds (`kv/durable/ops.rs`), or null; `internal-restore key
//! payload` stores that value under `key`, replacing what it held.

use super::super::protocol::write::{self, Proto};
use super::strings::refusal;
use crate::kv::durable::apply_record;
use crate::kv::durable::ops::snapshot_records;
use crate::kv::durable::record::{decode, Decoded};
use crate::kv::Store;
use crate::resp::protocol::Command;
use percore_keyspace::write::ShardKeys;

/// `internal-dump key`.
pub fn dump(args: &Command<'_>, keys: &ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    let key = args.at(1);
    match keys.store.value_with_expiry(key, keys.now) {
        None => write::null(out, proto),
        Some((value, at)) => {
            let mut payload = Vec::new();
            snapshot_records(key, value, at, &mut payload);
            write::bulk(out, &payload);
        }
    }
}

/// The value a dump's payload holds, and its expiry time.
pub fn read_payload(payload: &[u8]) -> Option<(crate::kv::values::OwnedValue, Option<u64>)> {
    let mut store = Store::default();
    let mut rest = payload;
    let mut named: Option<Vec<u8>> = None;
    while let Decoded::Record(record, used) = decode(rest) {
        if named.is_none() {
            named = record.key().map(<[u8]>::to_vec);
        }
        apply_record(&mut store, record, 0);
        rest = &rest[used..];
    }
    let named = named?;
    store
        .value_with_expiry(&named, 0)
        .map(|(value, at)| (value.to_owned(), at))
}

/// `internal-restore key payload`: `+OK`, or the write's refusal.
pub fn restore(args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let Some((value, at)) = read_payload(args.at(2)) else {
        return write::error(out, "ERR internal: a dump could not be read");
    };
    if at.is_some_and(|at| at <= keys.now) {
        // Expired on the way: as a SET with a past time, the key goes.
        return match keys.del(args.at(1)) {
            Ok(_) => write::ok(out),
            Err(refused) => refusal(out, &refused),
        };
    }
    match keys.put_value(args.at(1), value, at) {
        Ok(()) => write::ok(out),
        Err(refused) => refusal(out, &refused),
    }
}
