//! What a shard's writes note besides the keys themselves: which keys were
//! written (WATCH's versions and the changes since the last snapshot,
//! `touched.rs`) and the keys a write may have filled (the protocols'
//! hooks, `filled.rs`). One [`Marks`] per shard, made as its key space
//! starts and shared by its [`SharedStore`](super::SharedStore); every
//! [`ShardKeys`](super::write::ShardKeys) of the shard is handed it, so the
//! write path reaches it with no thread-local. Its counts are `Cell`s and
//! its hooks fixed once made: nothing in it is ever borrowed.

use std::any::Any;
use std::rc::Rc;

use super::filled::FilledHook;
use super::touched::Touched;

/// One shard's marks of its writes (module docs).
#[derive(Default)]
pub struct Marks {
    /// Writes per slot and since the last snapshot.
    pub touched: Touched,
    /// The protocols' filled hooks, each with its state on the shard.
    filled: Vec<(FilledHook, Rc<dyn Any>)>,
}

impl Marks {
    /// Marks calling `filled` for every key a write may fill.
    pub fn with_filled(filled: Vec<(FilledHook, Rc<dyn Any>)>) -> Marks {
        Marks {
            touched: Touched::default(),
            filled,
        }
    }

    /// A write just put elements under `key`.
    pub fn filled(&self, key: &[u8]) {
        for (hook, state) in &self.filled {
            hook(&**state, key);
        }
    }
}
