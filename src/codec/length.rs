//! Frames of a 4-byte big-endian length followed by that many bytes (kv,
//! SPEC 3.5). A length over `--max-frame` is refused as soon as the header
//! arrives, before any of the body is buffered.

use super::{Decoder, FrameSpan, FrameTooLong};

const HEADER: usize = 4;

#[derive(Debug, Default)]
pub struct LengthPrefixed;

impl Decoder for LengthPrefixed {
    fn decode(&mut self, buf: &[u8], max_frame: usize) -> Result<Option<FrameSpan>, FrameTooLong> {
        let Some(header) = buf.first_chunk::<HEADER>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*header) as usize;
        if len > max_frame {
            return Err(FrameTooLong { max_frame });
        }
        if buf.len() < HEADER + len {
            return Ok(None);
        }
        Ok(Some(FrameSpan {
            start: HEADER,
            end: HEADER + len,
            wire_len: HEADER + len,
        }))
    }
}

/// The first whole frame of `buf`, without any length limit (for frames this
/// process wrote itself): its payload and the bytes after it.
pub fn split_frame(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let (header, rest) = buf.split_first_chunk::<HEADER>()?;
    let len = u32::from_be_bytes(*header) as usize;
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// Appends `payload` to `out` as one frame.
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
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
