//! Codecs: how a byte stream is cut into requests. A decoder looks at the
//! bytes buffered for a connection and finds the next complete frame, or says
//! that more bytes are needed, or that the frame breaks `--max-frame`. It never
//! copies and never allocates: frames are ranges of the connection's buffer.

mod length;
mod line;
mod raw;

pub use length::{
    begin_frame, body_len, encode_frame, end_frame, frame_body, split_frame, LengthPrefixed,
    HEADER_LEN,
};
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

/// Property tests shared by every decoder: however the bytes are split into
/// reads, the frames found (and the point where a frame is refused as too
/// long) are those of one contiguous read, and nothing panics.
#[cfg(test)]
mod split_tests {
    use super::*;
    use proptest::prelude::*;

    use crate::fuzz::decode_in_reads;

    fn contiguous_and_split_agree<D: Decoder>(input: &[u8], cuts: &[usize], max_frame: usize) {
        let whole = decode_in_reads::<D>(input, &[], max_frame);
        let split = decode_in_reads::<D>(input, cuts, max_frame);
        assert_eq!(whole, split);
    }

    /// Bytes rich in the characters framing cares about.
    fn stream() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            4 => any::<u8>(),
            2 => Just(b'\n'),
            1 => Just(b'\r'),
            1 => Just(0u8),
        ];
        proptest::collection::vec(byte, 0..600)
    }

    proptest! {
        #[test]
        fn lines_do_not_depend_on_read_boundaries(
            input in stream(),
            cuts in proptest::collection::vec(any::<usize>(), 0..40),
            max_frame in 1usize..64,
        ) {
            contiguous_and_split_agree::<Lines>(&input, &cuts, max_frame);
        }

        #[test]
        fn length_prefixed_frames_do_not_depend_on_read_boundaries(
            input in stream(),
            cuts in proptest::collection::vec(any::<usize>(), 0..40),
            max_frame in 0usize..300,
        ) {
            contiguous_and_split_agree::<LengthPrefixed>(&input, &cuts, max_frame);
        }

        #[test]
        fn well_formed_frames_survive_any_split(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 0..20),
            cuts in proptest::collection::vec(any::<usize>(), 0..40),
        ) {
            let mut input = Vec::new();
            payloads.iter().for_each(|p| encode_frame(p, &mut input));
            let (frames, too_long) = decode_in_reads::<LengthPrefixed>(&input, &cuts, 64);
            prop_assert!(!too_long);
            prop_assert_eq!(frames, payloads);
        }
    }
}
