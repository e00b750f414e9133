//! A connection's input buffer: reads land at the end, the connection loop
//! consumes complete frames from the front, and a partial frame waits for the
//! next read. Allocated once per connection and reused for every read.

/// What a connection starts with; enough for any batch of small requests.
const INITIAL_CAPACITY: usize = 16 * 1024;
/// Never offer a read less room than this.
const MIN_READ: usize = 4 * 1024;
/// A buffer grown past this (one huge frame) is given back once it is empty.
const SHRINK_ABOVE: usize = 256 * 1024;

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

    /// Free room for the next read, making some if needed.
    pub fn spare(&mut self) -> &mut [u8] {
        if self.buf.len() - self.end < MIN_READ {
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

    pub fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > SHRINK_ABOVE {
                self.buf = vec![0; INITIAL_CAPACITY];
            }
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
    fn partial_frames_survive_compaction_and_growth() {
        let mut buffer = InputBuffer::new();
        let big: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let mut received = 0;
        while received < big.len() {
            received += receive(&mut buffer, &big[received..]);
        }
        assert_eq!(buffer.data(), &big[..]);
        assert!(buffer.buf.len() > SHRINK_ABOVE);
        buffer.consume(299_999);
        assert_eq!(buffer.data(), [big[299_999]]);
        buffer.consume(1);
        assert_eq!(buffer.buf.len(), INITIAL_CAPACITY);
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
        assert_eq!(buffer.buf.len(), INITIAL_CAPACITY);
    }
}
