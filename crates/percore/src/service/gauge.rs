//! A connection's input buffer as its service may show it (resp's CLIENT
//! LIST `qbuf=` and `qbuf-free=`): the connection loop writes it once per
//! batch and whenever the buffer is resized or released
//! (crates/percore/src/server/buffer.rs), the service reads it.

use std::cell::Cell;

/// The bytes held in a connection's input buffer and the rest of its
/// allocation. Given to the service by [`Opening::input`](super::Opening::input).
#[derive(Debug, Default)]
pub struct InputGauge {
    queued: Cell<usize>,
    free: Cell<usize>,
}

impl InputGauge {
    /// Bytes received and not yet consumed: while a batch is served, every
    /// byte of the batch (redis's `qbuf=` while it runs a command); between
    /// batches, a partial frame.
    pub fn queued(&self) -> usize {
        self.queued.get()
    }

    /// The rest of the buffer's allocation (`qbuf-free=`); `queued() +
    /// free()` is the allocation, 0 while an idle connection holds none.
    pub fn free(&self) -> usize {
        self.free.get()
    }

    pub(crate) fn set(&self, queued: usize, capacity: usize) {
        self.queued.set(queued);
        self.free.set(capacity.saturating_sub(queued));
    }
}
