//! What a shard's writes note besides the keys themselves: which keys were
//! written (WATCH's versions and the changes since the last snapshot,
//! `touched.rs`), the keys a write may have filled (the protocols'
//! hooks, `filled.rs`) and the keys evicted to make room (their hooks,
//! `write.rs`). One [`Marks`] per shard, made as its key space
//! starts and shared by its [`SharedStore`](super::SharedStore); every
//! [`ShardKeys`](super::write::ShardKeys) of the shard is handed it, so the
//! write path reaches it with no thread-local. Its counts are `Cell`s and
//! its hooks fixed once made: nothing in it is ever borrowed.

use std::any::Any;
use std::rc::Rc;

use super::filled::FilledHook;
use super::owner::EvictedHook;
use super::touched::Touched;

/// One shard's marks of its writes (module docs).
#[derive(Default)]
pub struct Marks {
    /// Writes per slot and since the last snapshot.
    pub touched: Touched,
    /// The protocols' filled hooks, each with its state on the shard.
    filled: Vec<(FilledHook, Rc<dyn Any>)>,
    /// The protocols' evicted hooks, each with its state on the shard.
    evicted: Vec<(EvictedHook, Rc<dyn Any>)>,
}

impl Marks {
    /// Marks calling `filled` for every key a write may fill, and
    /// `evicted` for every key evicted.
    pub fn with_hooks(
        filled: Vec<(FilledHook, Rc<dyn Any>)>,
        evicted: Vec<(EvictedHook, Rc<dyn Any>)>,
    ) -> Marks {
        Marks {
            touched: Touched::default(),
            filled,
            evicted,
        }
    }

    /// A write just put elements under `key`.
    pub fn filled(&self, key: &[u8]) {
        for (hook, state) in &self.filled {
            hook(&**state, key);
        }
    }

    /// `key` was evicted (`maxmemory-policy`).
    pub fn evicted(&self, key: &[u8]) {
        for (hook, state) in &self.evicted {
            hook(&**state, key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A protocol's filled hook, counting its calls in its state.
    fn count(state: &dyn Any, _key: &[u8]) {
        if let Some(calls) = state.downcast_ref::<Cell<u32>>() {
            calls.set(calls.get() + 1);
        }
    }

    #[test]
    fn each_shard_s_marks_call_its_own_protocols_states() {
        let (one, two) = (Rc::new(Cell::new(0u32)), Rc::new(Cell::new(0u32)));
        let first = Marks::with_hooks(
            vec![(count as FilledHook, one.clone() as Rc<dyn Any>)],
            vec![],
        );
        let second = Marks::with_hooks(
            vec![(count as FilledHook, two.clone() as Rc<dyn Any>)],
            vec![],
        );
        first.filled(b"k");
        first.filled(b"k");
        second.filled(b"k");
        assert_eq!((one.get(), two.get()), (2, 1));
        // Their write counts are apart too.
        first.touched.touch(Some(b"k"));
        assert_eq!((first.touched.changes(), second.touched.changes()), (1, 0));
        Marks::default().filled(b"k");
    }
}
