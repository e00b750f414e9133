//! No framing at all (echo, docs/PROTOCOLS.md §3.2): whatever one read brought is one frame.

use super::{Decoder, FrameSpan, FrameTooLong};

#[derive(Debug, Default)]
pub struct Raw;

impl Decoder for Raw {
    fn decode(&mut self, buf: &[u8], _max_frame: usize) -> Result<Option<FrameSpan>, FrameTooLong> {
        Ok((!buf.is_empty()).then_some(FrameSpan {
            start: 0,
            end: buf.len(),
            wire_len: buf.len(),
        }))
    }
}
