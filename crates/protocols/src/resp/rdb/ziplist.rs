//! Redis 6's ziplist (`ziplist.c`), still what RESTORE meets in a payload
//! an older Redis dumped: its total size and the offset of its last entry
//! (4 bytes each), its count (2 bytes), little-endian, then each entry (the
//! previous entry's length, an encoding, the data), then 0xFF.

use super::read::PayloadError::{self, BadFormat};
use super::{signed_le, walk, Packed};

/// Hands each entry of `blob` to `entry`, in order.
pub(super) fn each<'a>(
    blob: &'a [u8],
    mut entry: impl FnMut(Packed<'a>) -> Result<(), PayloadError>,
) -> Result<(), PayloadError> {
    // The total size, the last entry's offset (4 bytes each), the count (2).
    walk(blob, 10, |bytes| {
        // The previous entry's length: one byte, or 0xFE and four more.
        let prevlen = if bytes[0] == 0xfe { 5 } else { 1 };
        let body = bytes.get(prevlen..).ok_or(BadFormat)?;
        let (packed, size) = decode(body)?;
        entry(packed)?;
        Ok(prevlen + size)
    })
}

/// The entry whose encoding starts `bytes`, and how many bytes its
/// encoding and data take.
fn decode(bytes: &[u8]) -> Result<(Packed<'_>, usize), PayloadError> {
    let first = *bytes.first().ok_or(BadFormat)?;
    let at = |i: usize| bytes.get(i).copied().ok_or(BadFormat);
    let int = |width: usize| -> Result<(Packed<'_>, usize), PayloadError> {
        let data = bytes.get(1..1 + width).ok_or(BadFormat)?;
        Ok((Packed::Int(signed_le(data)), 1 + width))
    };
    let text = |start: usize, len: usize| -> Result<(Packed<'_>, usize), PayloadError> {
        let end = start.checked_add(len).ok_or(BadFormat)?;
        let data = bytes.get(start..end).ok_or(BadFormat)?;
        Ok((Packed::Bytes(data), end))
    };
    match first >> 6 {
        // 00pppppp: a string of up to 63 bytes.
        0 => text(1, usize::from(first & 0x3f)),
        // 01pppppp qqqqqqqq: up to 16383 bytes, the length big-endian.
        1 => text(2, usize::from(first & 0x3f) << 8 | usize::from(at(1)?)),
        // 10000000 and 4 bytes of length, big-endian.
        2 if first == 0x80 => {
            let len = u32::from_be_bytes([at(1)?, at(2)?, at(3)?, at(4)?]) as usize;
            text(5, len)
        }
        2 => Err(BadFormat),
        _ => match first {
            0xc0 => int(2),
            0xd0 => int(4),
            0xe0 => int(8),
            0xf0 => int(3),
            0xfe => int(1),
            // 1111xxxx: an integer 0 to 12 in the encoding itself.
            0xf1..=0xfd => Ok((Packed::Int(i64::from(first & 0x0f) - 1), 1)),
            _ => Err(BadFormat),
        },
    }
}
