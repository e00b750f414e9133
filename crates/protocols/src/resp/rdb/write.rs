//! DUMP's side: a value in the RDB's plain encodings, then the footer.

use super::{crc64, RDB_VERSION, TYPE_HASH, TYPE_LIST, TYPE_SET, TYPE_STRING, TYPE_ZSET_2};
use crate::kv::values::{Aggregate, ValueRef};

/// Appends `value`'s DUMP payload to `out`.
pub fn write_payload(value: ValueRef<'_>, out: &mut Vec<u8>) {
    let start = out.len();
    match value {
        ValueRef::Str(bytes) => {
            out.push(TYPE_STRING);
            string(out, bytes);
        }
        ValueRef::Agg(Aggregate::List(list)) => {
            out.push(TYPE_LIST);
            length(out, list.len());
            list.iter().for_each(|item| string(out, item));
        }
        ValueRef::Agg(Aggregate::Set(set)) => {
            out.push(TYPE_SET);
            length(out, set.len());
            set.iter().for_each(|member| string(out, member));
        }
        ValueRef::Agg(Aggregate::ZSet(zset)) => {
            out.push(TYPE_ZSET_2);
            length(out, zset.len());
            for (member, score) in zset.iter() {
                string(out, member);
                out.extend_from_slice(&score.to_le_bytes());
            }
        }
        ValueRef::Agg(Aggregate::Hash(hash)) => {
            out.push(TYPE_HASH);
            length(out, hash.len());
            for (field, value) in hash.iter() {
                string(out, field);
                string(out, value);
            }
        }
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// A length as the RDB writes it: 6 bits, 14 bits (big-endian), or a
/// marker byte and 32 or 64 bits (big-endian).
pub(super) fn length(out: &mut Vec<u8>, n: usize) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else if let Ok(n) = u32::try_from(n) {
        out.push(0x80);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
}

/// A string: its length, then its bytes (never compressed or re-encoded).
pub(super) fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    length(out, bytes.len());
    out.extend_from_slice(bytes);
}
