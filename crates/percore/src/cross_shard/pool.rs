//! Spare message buffers of one shard: a message's buffer is recycled where
//! it is read, and the shard draws its own messages from the same pool, so a
//! steady load allocates nothing for the hop.

use std::cell::RefCell;

/// Spare buffers a shard keeps for reuse.
const POOL_MAX: usize = 256;
/// A buffer grown past this by one large batch is not kept.
const POOL_BUFFER_MAX: usize = 1 << 20;

/// Spare message buffers of one shard.
#[derive(Default)]
pub struct Pool(RefCell<Vec<Vec<u8>>>);

impl Pool {
    /// An empty buffer, from the pool when it has one.
    pub fn buffer(&self) -> Vec<u8> {
        self.0.borrow_mut().pop().unwrap_or_default()
    }

    /// Gives a buffer back for reuse.
    pub fn recycle(&self, mut buffer: Vec<u8>) {
        let mut pool = self.0.borrow_mut();
        if pool.len() < POOL_MAX && buffer.capacity() <= POOL_BUFFER_MAX {
            buffer.clear();
            pool.push(buffer);
        }
    }
}
