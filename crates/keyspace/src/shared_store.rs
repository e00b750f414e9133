//! One shard's [`Store`], shared by the tasks of that shard that reach its
//! keys: its connections, the mesh task that serves other shards, the
//! active expiry and the compactor.
//!
//! The guarantee this type keeps: **no borrow of the store can be held across
//! an `.await`**. A `RefCell` guard kept alive over an await lets another
//! task of the shard run and borrow the store again, which panics at run
//! time; nothing in the type system stops it. Here the store is reached only
//! through [`SharedStore::with`] and [`SharedStore::with_mut`], which lend it
//! to a synchronous closure: a closure cannot await, so the borrow ends
//! before the task can yield. (A closure that reaches the same store again
//! from inside would still panic: each caller takes the store once and works
//! on the reference it was lent.)

use std::cell::RefCell;
use std::rc::Rc;

use crate::{Marks, Store};

/// A shard's store, lent to closures one at a time (module docs), and the
/// marks its writes leave (`marks.rs`), which are never borrowed.
#[derive(Clone)]
pub struct SharedStore {
    store: Rc<RefCell<Store>>,
    marks: Rc<Marks>,
}

impl SharedStore {
    /// A store under `cap` bytes of accounted memory, if any.
    pub fn with_cap(cap: Option<u64>) -> SharedStore {
        SharedStore::new(cap, Marks::default())
    }

    /// A store under `cap` bytes, if any, whose writes leave `marks`.
    pub fn new(cap: Option<u64>, marks: Marks) -> SharedStore {
        SharedStore {
            store: Rc::new(RefCell::new(Store::with_cap(cap))),
            marks: Rc::new(marks),
        }
    }

    /// The marks this shard's writes leave: hand them to each
    /// [`ShardKeys`](crate::write::ShardKeys) made over the store.
    pub fn marks(&self) -> &Marks {
        &self.marks
    }

    /// Lends the store, to read, for as long as `read` runs.
    pub fn with<R>(&self, read: impl FnOnce(&Store) -> R) -> R {
        read(&self.store.borrow())
    }

    /// Lends the store, to change, for as long as `change` runs.
    pub fn with_mut<R>(&self, change: impl FnOnce(&mut Store) -> R) -> R {
        change(&mut self.store.borrow_mut())
    }
}

impl Default for SharedStore {
    fn default() -> SharedStore {
        SharedStore::with_cap(None)
    }
}
