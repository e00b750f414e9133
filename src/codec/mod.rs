//! Codecs: how a byte stream is cut into requests. A decoder looks at the
//! bytes buffered for a connection and finds the next complete frame, or says
//! that more bytes are needed, or that the frame breaks `--max-frame`. It never
//! copies and never allocates: frames are ranges of the connection's buffer.

mod length;
mod line;
mod raw;

pub use length::{encode_frame, split_frame, LengthPrefixed};
pub use line::{split_line_ending, Lines};
pub use raw::Raw;

use thiserror::Error;

/// Where the next frame lies in the buffer given to [`Decoder::decode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameSpan {
    /// The frame's content: `buf[start..end]`.
    pub start: usize,
    pub end: usize,
    /// Bytes the frame takes on the wire, framing included.
    pub wire_len: usize,
}

/// The frame at the head of the buffer is longer than `--max-frame`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("frame longer than the limit of {max_frame} bytes")]
pub struct FrameTooLong {
    pub max_frame: usize,
}

/// Cuts one connection's input into frames. A decoder may remember how far it
/// has already looked, so that a long frame arriving in small pieces is
/// scanned once, not once per piece.
pub trait Decoder: Default {
    /// Looks for one frame at the start of `buf`, which always begins where
    /// the previous frame ended.
    fn decode(&mut self, buf: &[u8], max_frame: usize) -> Result<Option<FrameSpan>, FrameTooLong>;
}
