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

    /// Gives a buffer back for reuse. One that never held anything (an
    /// empty reply) is not kept: drawn again, it would allocate anyway.
    pub fn recycle(&self, mut buffer: Vec<u8>) {
        let mut pool = self.0.borrow_mut();
        if pool.len() < POOL_MAX && (1..=POOL_BUFFER_MAX).contains(&buffer.capacity()) {
            buffer.clear();
            pool.push(buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_buffers_that_save_an_allocation_are_kept() {
        let pool = Pool::default();
        pool.recycle(Vec::new());
        pool.recycle(Vec::with_capacity(POOL_BUFFER_MAX + 1));
        assert_eq!(pool.buffer().capacity(), 0, "nothing kept");
        pool.recycle(b"used".to_vec());
        let buffer = pool.buffer();
        assert!(buffer.is_empty() && buffer.capacity() >= 4, "kept, cleared");
    }
}
