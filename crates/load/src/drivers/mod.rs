//! The protocol drivers: what one load-generating connection does.
//!
//! - `request_reply`: yell, echo, chat and kv, closed loop or open loop
//!   over an `Exchange`, which writes each request and checks each reply:
//!   `lines` for the line services, `kv` for kv.
//! - `mq`: publishers and subscribers, which check deliveries instead.
//!
//! Every driver reads into a [`ReplyBuffer`] and records into
//! [`LoadStats`](crate::LoadStats).

mod kv;
mod lines;
pub mod mq;
mod request_reply;

pub use request_reply::{closed_loop, open_loop};

/// Replies as they arrive: complete ones are checked and consumed from the
/// front, a partial one waits for the next read. Grows only for a reply
/// larger than itself.
pub(super) struct ReplyBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReplyBuffer {
    pub(super) fn new(capacity: usize) -> ReplyBuffer {
        ReplyBuffer {
            buf: vec![0; capacity.max(64 * 1024)],
            start: 0,
            end: 0,
        }
    }

    pub(super) fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub(super) fn consume(&mut self, n: usize) {
        self.start += n;
    }

    /// Room for the next read, moving what is left to the front first.
    pub(super) fn spare(&mut self) -> &mut [u8] {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        &mut self.buf[self.end..]
    }

    pub(super) fn filled(&mut self, n: usize) {
        self.end += n;
    }
}
