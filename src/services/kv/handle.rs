//! The seed's `handle_request`: one request against one shard's store, its
//! reply frame appended. Whoever owns the key runs it, whether the request
//! came from one of its own connections or from another shard.

use super::protocol::{
    begin_frame, end_frame, push_array_len, push_nil_frame, push_str, push_str_frame, Request,
};
use super::store::Store;

/// Runs one request against the store and appends its reply frame.
pub(super) fn apply(store: &mut Store, request: Request<'_>, out: &mut Vec<u8>) {
    match request {
        Request::Get { key } => match store.get(key.as_bytes()) {
            Some(val) => push_str_frame(out, val),
            None => push_nil_frame(out),
        },
        Request::Put { key, val } => {
            store.put(key.as_bytes(), val.as_bytes());
            push_nil_frame(out);
        }
        Request::Del { key } => {
            store.del(key.as_bytes());
            push_nil_frame(out);
        }
        Request::ListKeys => push_keys_frame(out, store.sorted_keys()),
    }
}

/// A ListKeys reply: the keys as one array frame.
pub(super) fn push_keys_frame(out: &mut Vec<u8>, keys: Vec<&[u8]>) {
    let start = begin_frame(out);
    push_array_len(out, keys.len());
    for key in keys {
        push_str(out, key);
    }
    end_frame(out, start);
}
