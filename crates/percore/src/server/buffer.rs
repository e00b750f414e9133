//! A connection's input buffer: reads land at the end, the connection loop
//! consumes complete frames from the front, and a partial frame waits for the
//! next read. Allocated when the connection opens and reused for every read;
//! its size follows Redis 7.0's query buffer policy (`clientsCronResizeQueryBuffer`
//! in redis's server.c), applied by the shard's once-a-second sweep
//! (sweep.rs, docs/ARCHITECTURE.md "Input buffers"): a buffer idle for
//! [`IDLE_RELEASE`] with nothing in it is given back (allocation 0) until
//! input comes again, and one that grew for a big frame shrinks back to its
//! recent peak use.

use std::time::Duration;

/// What a connection starts with (redis's `PROTO_IOBUF_LEN`); enough for
/// any batch of small requests.
pub(crate) const INITIAL_CAPACITY: usize = 16 * 1024;
/// Never offer a read less room than this.
const MIN_READ: usize = 4 * 1024;
/// A buffer larger than this shrinks when its peak use since the last sweep
/// is under half its size (redis's `PROTO_RESIZE_THRESHOLD`).
const RESIZE_ABOVE: usize = 32 * 1024;
/// Nothing received for this long, nothing buffered: the buffer is given
/// back (redis: idle for more than 2 s when its cron looks).
pub(crate) const IDLE_RELEASE: Duration = Duration::from_secs(2);

/// What the sweep asks a connection to do with its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resize {
    Keep,
    /// Shrink to this many bytes (at least what is buffered, plus a read).
    Shrink(usize),
    /// Give the buffer back; the connection waits for input without one.
    Release,
}

/// The policy, from what the sweep sees of a connection: its buffer's
/// `capacity`, the bytes `held` in it, the most it `peak`ed at since the
/// last sweep, and how long nothing was received.
pub(crate) fn decide(capacity: usize, held: usize, peak: usize, idle: Duration) -> Resize {
    if capacity == 0 {
        return Resize::Keep;
    }
    if held == 0 && idle >= IDLE_RELEASE {
        return Resize::Release;
    }
    // Redis trims to its recent peak with no floor, but its next read makes
    // room for `PROTO_IOBUF_LEN` again: shrinking to the initial size at
    // least gives the same buffer without a second reallocation.
    let target = shrunk_size(held.max(peak));
    if capacity > RESIZE_ABOVE && capacity / 2 > peak && target < capacity {
        return Resize::Shrink(target);
    }
    Resize::Keep
}

/// The size a buffer shrinks to when it holds (or recently held) `used`.
fn shrunk_size(used: usize) -> usize {
    (used + MIN_READ).max(INITIAL_CAPACITY)
}

/// Bytes received and not yet consumed live in `buf[start..end]`. Its size
/// stays bounded because every decoder refuses a frame longer than
/// `--max-frame`: growth only ever makes room for one frame plus one read.
pub(crate) struct InputBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl InputBuffer {
    pub fn new() -> Self {
        InputBuffer {
            buf: vec![0; INITIAL_CAPACITY],
            start: 0,
            end: 0,
        }
    }

    /// Its allocation in bytes: 0 while released.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    pub fn is_released(&self) -> bool {
        self.buf.is_empty()
    }

    /// Applies the sweep's decision. A release waits until nothing is
    /// buffered; a shrink never drops a byte.
    pub fn resize(&mut self, resize: Resize) {
        match resize {
            Resize::Keep => {}
            Resize::Release => {
                if self.start == self.end {
                    self.buf = Vec::new();
                    self.start = 0;
                    self.end = 0;
                }
            }
            Resize::Shrink(size) => {
                let size = size.max(shrunk_size(self.end - self.start));
                if size < self.buf.len() {
                    let mut smaller = vec![0; size];
                    smaller[..self.end - self.start].copy_from_slice(self.data());
                    self.end -= self.start;
                    self.start = 0;
                    self.buf = smaller;
                }
            }
        }
    }

    /// Free room for the next read, making some if needed (allocating the
    /// initial buffer again after a release).
    pub fn spare(&mut self) -> &mut [u8] {
        if self.buf.len() - self.end < MIN_READ {
            if self.buf.is_empty() {
                self.buf = vec![0; INITIAL_CAPACITY];
                return &mut self.buf[..];
            }
            // Move the partial frame to the front; this happens at most once
            // per buffer's worth of input, not once per read.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() - self.end < MIN_READ {
                let grown = (self.buf.len() * 2).max(self.end + MIN_READ);
                self.buf.resize(grown, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Appends `bytes` as if received (a moved connection's unread bytes).
    pub fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let spare = self.spare();
            let n = spare.len().min(bytes.len());
            spare[..n].copy_from_slice(&bytes[..n]);
            self.filled(n);
            bytes = &bytes[n..];
        }
    }

    /// Marks `n` bytes of [`spare`](Self::spare) as received.
    pub fn filled(&mut self, n: usize) {
        self.end += n;
    }

    /// Bytes received and not yet consumed.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Drops `n` consumed bytes. The allocation stays: the sweep decides
    /// when a grown buffer shrinks (redis keeps it for its next peak too).
    pub fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copies in as much of `bytes` as one read would take; returns how much.
    fn receive(buffer: &mut InputBuffer, bytes: &[u8]) -> usize {
        let spare = buffer.spare();
        assert!(spare.len() >= bytes.len().min(MIN_READ));
        let n = bytes.len().min(spare.len());
        spare[..n].copy_from_slice(&bytes[..n]);
        buffer.filled(n);
        n
    }

    #[test]
    fn partial_frames_survive_compaction_growth_and_shrinking() {
        let mut buffer = InputBuffer::new();
        let big: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let mut received = 0;
        while received < big.len() {
            received += receive(&mut buffer, &big[received..]);
        }
        assert_eq!(buffer.data(), &big[..]);
        assert!(buffer.capacity() > 300_000);
        // A shrink asked for too small keeps every buffered byte and a read.
        buffer.consume(299_000);
        buffer.resize(Resize::Shrink(10));
        assert_eq!(buffer.data(), &big[299_000..]);
        assert_eq!(buffer.capacity(), INITIAL_CAPACITY);
        buffer.consume(1_000);
        assert!(buffer.data().is_empty());
        assert_eq!(buffer.capacity(), INITIAL_CAPACITY);
    }

    #[test]
    fn consumed_bytes_are_reused() {
        let mut buffer = InputBuffer::new();
        // Each round leaves 10 bytes of a partial frame behind.
        for _ in 0..100 {
            receive(&mut buffer, &[1; 10_000]);
            buffer.consume(buffer.data().len() - 10);
        }
        assert_eq!(buffer.data().len(), 10);
        assert_eq!(buffer.capacity(), INITIAL_CAPACITY);
    }

    #[test]
    fn a_release_waits_for_an_empty_buffer_and_input_allocates_again() {
        let mut buffer = InputBuffer::new();
        receive(&mut buffer, b"partial");
        buffer.resize(Resize::Release);
        assert_eq!(buffer.capacity(), INITIAL_CAPACITY);
        buffer.consume(7);
        buffer.resize(Resize::Release);
        assert!(buffer.is_released());
        assert_eq!(buffer.capacity(), 0);
        assert!(buffer.data().is_empty());
        receive(&mut buffer, b"more");
        assert_eq!(buffer.data(), b"more");
        assert_eq!(buffer.capacity(), INITIAL_CAPACITY);
    }

    #[test]
    fn the_policy_is_redis_querybuf_cron() {
        let second = Duration::from_secs(1);
        // Idle for 2 s with nothing buffered: released; not before, not
        // with a partial frame, not twice.
        assert_eq!(decide(16_384, 0, 0, 2 * second), Resize::Release);
        assert_eq!(decide(16_384, 0, 0, second), Resize::Keep);
        assert_eq!(decide(16_384, 5, 5, 9 * second), Resize::Keep);
        assert_eq!(decide(0, 0, 0, 9 * second), Resize::Keep);
        // A buffer grown for a 400 kB frame keeps its size while that peak
        // is recent, then shrinks to the next, smaller peak.
        assert_eq!(decide(524_288, 0, 400_000, Duration::ZERO), Resize::Keep);
        assert_eq!(
            decide(524_288, 0, 150, Duration::ZERO),
            Resize::Shrink(INITIAL_CAPACITY)
        );
        assert_eq!(
            decide(524_288, 100_000, 200_000, Duration::ZERO),
            Resize::Shrink(200_000 + MIN_READ)
        );
        // The default size, and anything up to 32 KiB, is left alone.
        assert_eq!(decide(32_768, 0, 0, Duration::ZERO), Resize::Keep);
        assert_eq!(decide(16_384, 0, 0, Duration::ZERO), Resize::Keep);
    }
}
