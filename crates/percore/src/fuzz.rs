//! The framework's fuzz targets (its two framings) and what every decoder's
//! target stands on: the fuzzer's bytes taken apart into a frame limit, read
//! cuts and a stream ([`Case`]), and a stream fed to a decoder in reads cut
//! anywhere ([`decode_in_reads`]). The protocols' targets are
//! `percore_protocols::fuzz`; the fuzzer is `fuzz/` (`cargo fuzz`). Test
//! scaffolding, not product: compiled only for tests and with the `fuzzing`
//! feature.

use crate::codec::{Decoder, FrameTooLong, LengthPrefixed, Lines};

/// Cut points read from the header, at most.
const MAX_CUTS: usize = 16;

/// The fuzzer's bytes, taken apart.
pub struct Case<'a> {
    pub max_frame: usize,
    pub cuts: Vec<usize>,
    pub stream: &'a [u8],
}

impl<'a> Case<'a> {
    /// Byte 0: the frame limit, 1 to 256 bytes; byte 1: how many cuts;
    /// then two bytes per cut; the rest is the stream.
    pub fn new(data: &'a [u8]) -> Case<'a> {
        let max_frame = usize::from(data.first().copied().unwrap_or(0)) + 1;
        let count = usize::from(data.get(1).copied().unwrap_or(0)) % (MAX_CUTS + 1);
        let rest = data.get(2..).unwrap_or_default();
        let header = (count * 2).min(rest.len());
        let cuts = rest[..header]
            .chunks(2)
            .map(|pair| pair.iter().fold(0usize, |n, &b| n << 8 | usize::from(b)))
            .collect();
        Case {
            max_frame,
            cuts,
            stream: &rest[header..],
        }
    }
}

/// What the connection loop sees: the frames in order, and whether the
/// stream ended on a frame longer than the limit.
pub type Frames = (Vec<Vec<u8>>, bool);

/// Feeds `input` to a decoder in reads cut at `cuts` (taken modulo the
/// length), consuming frames as the connection loop does: the buffer always
/// starts at the next frame, and the decoder keeps its state between reads.
pub fn decode_in_reads<D: Decoder>(input: &[u8], cuts: &[usize], max_frame: usize) -> Frames {
    let mut decoder = D::default();
    let mut buffer = Vec::new();
    let mut frames = Vec::new();
    let mut ends: Vec<usize> = cuts.iter().map(|&c| c % (input.len() + 1)).collect();
    ends.push(input.len());
    ends.sort_unstable();
    let mut fed = 0;
    for end in ends {
        buffer.extend_from_slice(&input[fed..end]);
        fed = end;
        loop {
            match decoder.decode(&buffer, max_frame) {
                Ok(Some(span)) => {
                    frames.push(buffer[span.start..span.end].to_vec());
                    buffer.drain(..span.wire_len);
                }
                Ok(None) => break,
                Err(FrameTooLong { .. }) => return (frames, true),
            }
        }
    }
    (frames, false)
}

/// The frames of a stream read whole, after checking that reads cut
/// anywhere find the same ones.
pub fn frames_of<D: Decoder>(data: &[u8]) -> Frames {
    let case = Case::new(data);
    let whole = decode_in_reads::<D>(case.stream, &[], case.max_frame);
    let split = decode_in_reads::<D>(case.stream, &case.cuts, case.max_frame);
    assert_eq!(whole, split, "frames depend on read boundaries");
    for frame in &whole.0 {
        assert!(
            frame.len() <= case.max_frame + 2,
            "a frame passed the limit"
        );
    }
    whole
}

/// yell, echo, chat and mq's framing.
pub fn lines(data: &[u8]) {
    frames_of::<Lines>(data);
}

/// kv's framing: a 4-byte big-endian length, then the body.
pub fn length_prefixed(data: &[u8]) {
    frames_of::<LengthPrefixed>(data);
}
