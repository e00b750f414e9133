//! Frames of a 4-byte big-endian length followed by that many bytes (kv,
//! docs/PROTOCOLS.md §3.5). A length over `--max-frame` is refused as soon as the header
//! arrives, before any of the body is buffered.

use super::{Decoder, FrameSpan, FrameTooLong};

/// Bytes of the big-endian length before every frame. The one place that
/// knows it: kv's replies, its client and its shards' messages frame with
/// the functions below.
pub const HEADER_LEN: usize = 4;

#[derive(Debug, Default)]
pub struct LengthPrefixed;

impl Decoder for LengthPrefixed {
    fn decode(&mut self, buf: &[u8], max_frame: usize) -> Result<Option<FrameSpan>, FrameTooLong> {
        let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        let len = body_len(*header);
        if len > max_frame {
            return Err(FrameTooLong { max_frame });
        }
        if buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        Ok(Some(FrameSpan {
            start: HEADER_LEN,
            end: HEADER_LEN + len,
            wire_len: HEADER_LEN + len,
        }))
    }
}

/// The first whole frame of `buf`, without any length limit (for frames this
/// process wrote itself): its payload and the bytes after it.
pub fn split_frame(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let (header, rest) = buf.split_first_chunk::<HEADER_LEN>()?;
    let len = body_len(*header);
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// Appends `payload` to `out` as one frame.
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}

/// The body length a frame's header announces.
pub fn body_len(header: [u8; HEADER_LEN]) -> usize {
    u32::from_be_bytes(header) as usize
}

/// The body of a whole frame: what follows its header (nothing when the
/// frame is shorter than a header).
pub fn frame_body(frame: &[u8]) -> &[u8] {
    frame.get(HEADER_LEN..).unwrap_or_default()
}

/// Starts a frame in `out` whose body is written next, in place;
/// [`end_frame`] fills in its length. Returns where the body starts.
pub fn begin_frame(out: &mut Vec<u8>) -> usize {
    out.extend_from_slice(&[0; HEADER_LEN]);
    out.len()
}

/// Writes the length of the frame begun at `start`.
pub fn end_frame(out: &mut [u8], start: usize) {
    let len = (out.len() - start) as u32;
    out[start - HEADER_LEN..start].copy_from_slice(&len.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_wait_for_their_whole_body() {
        let mut frame = Vec::new();
        encode_frame(b"hello", &mut frame);
        let mut decoder = LengthPrefixed;
        for end in 0..frame.len() {
            assert_eq!(decoder.decode(&frame[..end], 16), Ok(None));
        }
        let span = decoder.decode(&frame, 16).unwrap().unwrap();
        assert_eq!(&frame[span.start..span.end], b"hello");
        assert_eq!(span.wire_len, 9);
    }

    #[test]
    fn a_frame_begun_and_ended_in_place_is_one_frame() {
        let mut out = b"before".to_vec();
        let start = begin_frame(&mut out);
        out.extend_from_slice(b"body");
        end_frame(&mut out, start);
        let (body, after) = split_frame(&out[6..]).unwrap();
        assert_eq!((body, after), (&b"body"[..], &b""[..]));
        assert_eq!(frame_body(&out[6..]), b"body");
        assert_eq!(body_len(*out[6..].first_chunk().unwrap()), 4);
    }

    #[test]
    fn an_oversized_length_is_refused_from_the_header_alone() {
        assert_eq!(
            LengthPrefixed.decode(&17u32.to_be_bytes(), 16),
            Err(FrameTooLong { max_frame: 16 })
        );
        let empty = LengthPrefixed
            .decode(&0u32.to_be_bytes(), 16)
            .unwrap()
            .unwrap();
        assert_eq!((empty.start, empty.end), (4, 4));
    }
}
