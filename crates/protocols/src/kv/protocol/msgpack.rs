//! The MessagePack pieces the kv wire format is made of: a cursor that
//! reads one frame with every bound checked, and the value writers.

use rmp::Marker;

use super::RequestError;

/// A str field as read: its text, or what stood there instead.
#[derive(Clone, Copy, Debug)]
pub(super) enum MaybeStr<'a> {
    Str(&'a str),
    Wrong(&'static str),
    BadUtf8,
}

/// The name msgspec gives a MessagePack type in its errors.
pub(super) fn type_name(marker: Marker) -> &'static str {
    match marker {
        Marker::Null => "null",
        Marker::True | Marker::False => "bool",
        Marker::FixPos(_)
        | Marker::FixNeg(_)
        | Marker::U8
        | Marker::U16
        | Marker::U32
        | Marker::U64
        | Marker::I8
        | Marker::I16
        | Marker::I32
        | Marker::I64 => "int",
        Marker::F32 | Marker::F64 => "float",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "str",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "bytes",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "object",
        Marker::Reserved => "reserved",
        _ => "ext",
    }
}

/// How deep `skip_value` follows nested arrays and maps in ignored fields.
const MAX_DEPTH: usize = 64;

/// A cursor over one frame. Every read checks the bounds: a lying length
/// gives `Truncated`, never a panic or a large allocation.
pub(super) struct Reader<'a> {
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RequestError> {
        let end = self.pos.checked_add(n).ok_or(RequestError::Truncated)?;
        let bytes = self.buf.get(self.pos..end).ok_or(RequestError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    pub(super) fn marker(&mut self) -> Result<Marker, RequestError> {
        let byte = self.take(1)?[0];
        match Marker::from_u8(byte) {
            Marker::Reserved => Err(RequestError::Reserved),
            marker => Ok(marker),
        }
    }

    pub(super) fn be_u16(&mut self) -> Result<u16, RequestError> {
        let bytes = self.take(2)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    pub(super) fn be_u32(&mut self) -> Result<u32, RequestError> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    pub(super) fn length(&mut self, width: usize) -> Result<usize, RequestError> {
        Ok(match width {
            1 => usize::from(self.take(1)?[0]),
            2 => usize::from(self.be_u16()?),
            _ => self.be_u32()? as usize,
        })
    }

    /// Reads a value that should be a str; anything else is consumed and
    /// reported by its type name, so that the caller decides if it matters.
    pub(super) fn string(&mut self) -> Result<MaybeStr<'a>, RequestError> {
        let len = match self.marker()? {
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 => self.length(1)?,
            Marker::Str16 => self.length(2)?,
            Marker::Str32 => self.length(4)?,
            other => {
                self.skip_after(other)?;
                return Ok(MaybeStr::Wrong(type_name(other)));
            }
        };
        let bytes = self.take(len)?;
        Ok(match as_text(bytes) {
            Some(text) => MaybeStr::Str(text),
            None => MaybeStr::BadUtf8,
        })
    }

    /// Reads a str or a bin (a reply's text): its bytes, or None for
    /// another type (consumed).
    pub(super) fn text(&mut self) -> Result<Option<&'a [u8]>, RequestError> {
        let len = match self.marker()? {
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 | Marker::Bin8 => self.length(1)?,
            Marker::Str16 | Marker::Bin16 => self.length(2)?,
            Marker::Str32 | Marker::Bin32 => self.length(4)?,
            other => {
                self.skip_after(other)?;
                return Ok(None);
            }
        };
        self.take(len).map(Some)
    }

    pub(super) fn skip_value(&mut self) -> Result<(), RequestError> {
        let marker = self.marker()?;
        self.skip_after(marker)
    }

    /// Skips the rest of a value whose marker was read, nested ones included.
    pub(super) fn skip_after(&mut self, first: Marker) -> Result<(), RequestError> {
        // Values still to skip at each open array or map level.
        let mut pending: [usize; MAX_DEPTH] = [0; MAX_DEPTH];
        let mut depth = 0;
        let mut marker = first;
        loop {
            let children = match marker {
                Marker::FixArray(n) => usize::from(n),
                Marker::Array16 => self.length(2)?,
                Marker::Array32 => self.length(4)?,
                Marker::FixMap(n) => 2 * usize::from(n),
                Marker::Map16 => 2 * self.length(2)?,
                Marker::Map32 => 2 * self.length(4)?,
                other => {
                    let len = self.scalar_len(other)?;
                    self.take(len)?;
                    0
                }
            };
            if children > 0 {
                // Each element takes at least a byte: a count past the end
                // of the frame is a lie, refused before it is walked.
                if children > self.buf.len() - self.pos {
                    return Err(RequestError::Truncated);
                }
                if depth == MAX_DEPTH {
                    return Err(RequestError::TooDeep);
                }
                pending[depth] = children;
                depth += 1;
            }
            while depth > 0 && pending[depth - 1] == 0 {
                depth -= 1;
            }
            if depth == 0 {
                return Ok(());
            }
            pending[depth - 1] -= 1;
            marker = self.marker()?;
        }
    }

    /// Bytes that follow a scalar's marker.
    fn scalar_len(&mut self, marker: Marker) -> Result<usize, RequestError> {
        Ok(match marker {
            Marker::FixPos(_) | Marker::FixNeg(_) | Marker::Null | Marker::True | Marker::False => {
                0
            }
            Marker::U8 | Marker::I8 => 1,
            Marker::U16 | Marker::I16 => 2,
            Marker::U32 | Marker::I32 | Marker::F32 => 4,
            Marker::U64 | Marker::I64 | Marker::F64 => 8,
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 | Marker::Bin8 => self.length(1)?,
            Marker::Str16 | Marker::Bin16 => self.length(2)?,
            Marker::Str32 | Marker::Bin32 => self.length(4)?,
            Marker::FixExt1 => 2,
            Marker::FixExt2 => 3,
            Marker::FixExt4 => 5,
            Marker::FixExt8 => 9,
            Marker::FixExt16 => 17,
            Marker::Ext8 => self.length(1)? + 1,
            Marker::Ext16 => self.length(2)? + 1,
            Marker::Ext32 => self.length(4)? + 1,
            _ => return Err(RequestError::Reserved),
        })
    }
}

/// `bytes` as text when they are UTF-8. ASCII, what nearly every key and
/// value is, is checked a word at a time first: std's `from_utf8` goes byte
/// by byte over short input, and was a quarter of an owner shard's time in
/// `cargo bench --bench hop` (results/scaling.md, "kv's decoder on the
/// owner").
pub(super) fn as_text(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).ok()
    }
}

// Writing into a Vec cannot fail, so rmp's results are dropped.

pub fn push_nil(out: &mut Vec<u8>) {
    let _ = rmp::encode::write_nil(out);
}

/// Bytes as a str when they are UTF-8, else as bin: a key or value written
/// over resp may be any bytes, and kv clients get those as bin (docs/PROTOCOLS.md §6.3).
pub fn push_text(out: &mut Vec<u8>, bytes: &[u8]) {
    if as_text(bytes).is_some() {
        push_str(out, bytes);
    } else {
        let _ = rmp::encode::write_bin_len(out, bytes.len() as u32);
        out.extend_from_slice(bytes);
    }
}

pub fn push_str(out: &mut Vec<u8>, text: &[u8]) {
    let _ = rmp::encode::write_str_len(out, text.len() as u32);
    out.extend_from_slice(text);
}

pub fn push_array_len(out: &mut Vec<u8>, len: usize) {
    let _ = rmp::encode::write_array_len(out, len as u32);
}
