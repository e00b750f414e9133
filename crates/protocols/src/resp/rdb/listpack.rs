//! Redis 7.0's listpack (`listpack.c`): its total size (4 bytes) and count
//! (2 bytes), little-endian, then each element (an encoding byte, its
//! data, and its own length again for walking backwards), then 0xFF.

use super::read::PayloadError::{self, BadFormat};
use super::{signed_le, walk, Packed};

/// Hands each element of `blob` to `element`, in order.
pub(super) fn each<'a>(
    blob: &'a [u8],
    mut element: impl FnMut(Packed<'a>) -> Result<(), PayloadError>,
) -> Result<(), PayloadError> {
    // The total size (4 bytes) and the count (2).
    walk(blob, 6, |bytes| {
        let (packed, size) = decode(bytes)?;
        element(packed)?;
        Ok(size + backlen_size(size))
    })
}

/// The element at the start of `bytes`, and how many bytes its encoding
/// and data take (its back-length not counted).
fn decode(bytes: &[u8]) -> Result<(Packed<'_>, usize), PayloadError> {
    let first = bytes[0];
    let at = |i: usize| bytes.get(i).copied().ok_or(BadFormat);
    let int = |width: usize| bytes.get(1..1 + width).map(signed_le).ok_or(BadFormat);
    let text = |start: usize, len: usize| -> Result<(Packed<'_>, usize), PayloadError> {
        let end = start.checked_add(len).ok_or(BadFormat)?;
        let data = bytes.get(start..end).ok_or(BadFormat)?;
        Ok((Packed::Bytes(data), end))
    };
    match first {
        // 0xxxxxxx: a 7-bit unsigned integer.
        0x00..=0x7f => Ok((Packed::Int(i64::from(first)), 1)),
        // 10xxxxxx: a string of up to 63 bytes.
        0x80..=0xbf => text(1, usize::from(first & 0x3f)),
        // 110xxxxx yyyyyyyy: a 13-bit signed integer.
        0xc0..=0xdf => {
            let n = i64::from(first & 0x1f) << 8 | i64::from(at(1)?);
            Ok((Packed::Int(if n >= 1 << 12 { n - (1 << 13) } else { n }), 2))
        }
        // 1110xxxx yyyyyyyy: a string of up to 4095 bytes.
        0xe0..=0xef => text(2, usize::from(first & 0x0f) << 8 | usize::from(at(1)?)),
        // A string with a 32-bit length.
        0xf0 => {
            let len = u32::from_le_bytes([at(1)?, at(2)?, at(3)?, at(4)?]) as usize;
            text(5, len)
        }
        0xf1 => Ok((Packed::Int(int(2)?), 3)),
        0xf2 => Ok((Packed::Int(int(3)?), 4)),
        0xf3 => Ok((Packed::Int(int(4)?), 5)),
        0xf4 => Ok((Packed::Int(int(8)?), 9)),
        _ => Err(BadFormat),
    }
}

/// How many bytes the back-length of an element of `size` bytes takes
/// (`lpEncodeBacklen`).
fn backlen_size(size: usize) -> usize {
    match size {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}
