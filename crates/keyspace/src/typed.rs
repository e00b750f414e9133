//! The key space's hashes, sets, sorted sets and lists as a request sees
//! them (issue 27): reads by type, with Redis's WRONGTYPE for a key of
//! another, and writes that go the way every write goes (`write.rs`):
//! refused while the log cannot take them or past `--max-memory`, else
//! logged as an operation (`kv/durable/ops.rs`) and applied by the same code
//! a replay runs.

use std::cell::RefCell;

use super::write::{Refused, ShardKeys};
use crate::durable::ops::{self, apply_op, push_elem, Op};
use crate::durable::record::Record;
use crate::values::{Aggregate, Kind, OwnedValue, ValueRef};

/// A command met a key holding another type of value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrongType;

/// Redis's reply to it.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

thread_local! {
    /// An op's encoded elements, reused from write to write: a scratch
    /// buffer, emptied before each use, that holds no shared state.
    static BODY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl ShardKeys<'_> {
    /// `key`'s type, if it is live.
    pub fn kind(&self, key: &[u8]) -> Option<Kind> {
        self.store.kind(key, self.now)
    }

    /// Whether `key` is live, whatever its type.
    pub fn exists(&self, key: &[u8]) -> bool {
        self.store.value(key, self.now).is_some()
    }

    /// `key`'s value, whatever its type.
    pub fn value(&self, key: &[u8]) -> Option<ValueRef<'_>> {
        self.store.value(key, self.now)
    }

    /// `key`'s aggregate of `kind`: `Ok(None)` if absent, `Err` if it holds
    /// another type.
    pub fn typed(&self, key: &[u8], kind: Kind) -> Result<Option<&Aggregate>, WrongType> {
        match self.store.value(key, self.now) {
            None => Ok(None),
            Some(ValueRef::Agg(agg)) if agg.kind() == kind => Ok(Some(agg)),
            Some(_) => Err(WrongType),
        }
    }

    /// Whether `key` holds a live value of a type other than `kind`.
    pub fn wrong_type(&self, key: &[u8], kind: Kind) -> bool {
        // A string workload pays no look-up for it (resp GET -P 16: ~5 %).
        if kind == Kind::String && !self.store.holds_aggregates() {
            return false;
        }
        self.kind(key).is_some_and(|k| k != kind)
    }

    /// Does `op` with `elems` to `key` (the caller checked its type):
    /// refused while the log cannot take it, or, when it adds about `added`
    /// accounted bytes, past the memory cap; else logged, then applied.
    /// Returns the op's count (`ops::apply_op`).
    pub fn apply(
        &mut self,
        key: &[u8],
        op: Op,
        elems: &[&[u8]],
        added: u64,
    ) -> Result<i64, Refused> {
        self.writable()?;
        if added > 0
            && self.store.refuses_growth(key, added)
            && !self.make_room(|store| store.refuses_growth(key, added))
        {
            return Err(Refused::OutOfMemory);
        }
        BODY.with(|body| {
            let mut body = body.borrow_mut();
            body.clear();
            for elem in elems {
                push_elem(&mut body, elem);
            }
            self.log_write(&Record::Agg {
                key,
                op: op as u8,
                body: &body,
            });
            let count = apply_op(self.store, key, op as u8, &body, self.now);
            if matches!(op, Op::LPush | Op::RPush | Op::ZAdd) {
                self.marks.filled(key);
            }
            Ok(count)
        })
    }

    /// Stores `value` as `key`'s (its expiry `at`), replacing what it held:
    /// RENAME, COPY and the STORE forms. Logged as a snapshot logs the key.
    pub fn put_value(
        &mut self,
        key: &[u8],
        value: OwnedValue,
        at: Option<u64>,
    ) -> Result<(), Refused> {
        self.writable()?;
        let added = match &value {
            OwnedValue::Str(val) => val.len() as u64,
            OwnedValue::Agg(agg) => agg.bytes(),
        };
        if self.store.refuses_growth(key, added)
            && !self.make_room(|store| store.refuses_growth(key, added))
        {
            return Err(Refused::OutOfMemory);
        }
        if matches!(value, OwnedValue::Agg(_)) {
            let mut records = Vec::new();
            ops::snapshot_records(key, value.as_ref(), at, &mut records);
            // The snapshot's records, each logged as written.
            let mut rest = &records[..];
            while let crate::durable::record::Decoded::Record(record, used) =
                crate::durable::record::decode(rest)
            {
                self.log_write(&record);
                rest = &rest[used..];
            }
        } else if let OwnedValue::Str(val) = &value {
            self.log_write(&match at {
                None => Record::Put { key, val },
                Some(at) => Record::PutExpiring { key, val, at },
            });
        }
        self.store.load_value(key, value, at);
        self.marks.filled(key);
        Ok(())
    }
}
