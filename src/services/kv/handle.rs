//! The seed's `handle_request`: one request against one shard's store, its
//! reply frame appended. Whoever owns the key runs it, whether the request
//! came from one of its own connections or from another shard.
//!
//! Reads take the time the caller read once for its batch (`now`): a key
//! expired by then is absent, for Get and ListKeys alike (SPEC 6.2).
//!
//! A write is checked before it is applied: refused while the shard's log
//! cannot take it (`disk: <reason>`) or when it would add data past
//! `--max-memory` (`out of memory`); otherwise it is logged (with
//! `--data-dir`) and applied, in that order.

use super::durable::apply_record;
use super::durable::log::ShardLog;
use super::durable::record::Record;
use super::protocol::{
    begin_frame, end_frame, push_array_len, push_error_frame, push_nil_frame, push_str_frame,
    push_text, Request,
};
use super::store::Store;

/// SPEC 7.3's refusal.
pub(super) const OUT_OF_MEMORY: &str = "out of memory";

/// How a request went, for the batch's counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Served,
    Refused,
}

/// Runs one request against the store at time `now` (ms since the epoch)
/// and appends its reply frame.
pub(super) fn apply(
    store: &mut Store,
    log: Option<&ShardLog>,
    request: Request<'_>,
    now: u64,
    out: &mut Vec<u8>,
) -> Outcome {
    let record = match request {
        Request::Get { key } => {
            match store.get(key.as_bytes(), now) {
                Some(val) => push_str_frame(out, val),
                None => push_nil_frame(out),
            }
            return Outcome::Served;
        }
        Request::ListKeys => {
            push_keys_frame(out, store.sorted_keys(now));
            return Outcome::Served;
        }
        Request::Put { key, val } => Record::Put {
            key: key.as_bytes(),
            val: val.as_bytes(),
        },
        Request::Del { key } => Record::Del {
            key: key.as_bytes(),
        },
    };
    if let Some(reason) = log.and_then(ShardLog::refusal) {
        push_error_frame(out, &format!("disk: {reason}"));
        return Outcome::Refused;
    }
    if let Record::Put { key, val } = record {
        if store.refuses(key, val, false) {
            push_error_frame(out, OUT_OF_MEMORY);
            return Outcome::Refused;
        }
    }
    if let Some(log) = log {
        log.append(&record);
    }
    // A Put clears any TTL the key had (a Redis SET without KEEPTTL).
    apply_record(store, record, now);
    push_nil_frame(out);
    Outcome::Served
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
