//! RESTORE's side: the footer checked, then the value read in any encoding
//! Redis 6 or 7.0 writes for a string, list, set, sorted set or hash.

use std::borrow::Cow;

use super::{
    crc64, listpack, signed_le, ziplist, Packed, RDB_VERSION, TYPE_HASH, TYPE_HASH_LISTPACK,
    TYPE_HASH_ZIPLIST, TYPE_LIST, TYPE_LIST_QUICKLIST, TYPE_LIST_QUICKLIST_2, TYPE_LIST_ZIPLIST,
    TYPE_SET, TYPE_SET_INTSET, TYPE_STRING, TYPE_ZSET, TYPE_ZSET_2, TYPE_ZSET_LISTPACK,
    TYPE_ZSET_ZIPLIST,
};
use crate::kv::values::{Aggregate, Hash, List, OwnedValue, Set, ZSet};

/// Why a payload was refused; the texts are Redis's replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Shorter than its footer, a newer RDB version, or a checksum that
    /// does not match.
    #[error("DUMP payload version or checksum are wrong")]
    VersionOrChecksum,
    /// The value cannot be read: a type or encoding not known here, a
    /// length past the end, an empty aggregate, a score that is not one.
    #[error("Bad data format")]
    BadFormat,
}

use PayloadError::BadFormat;

/// Largest string a payload may decompress to: Redis's default
/// `proto-max-bulk-len`.
const MAX_STRING: usize = 512 << 20;

/// The value a DUMP payload holds.
pub fn read_payload(payload: &[u8]) -> Result<OwnedValue, PayloadError> {
    let Some(body_len) = payload.len().checked_sub(10) else {
        return Err(PayloadError::VersionOrChecksum);
    };
    let (body, footer) = payload.split_at(body_len);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let mut crc = [0; 8];
    crc.copy_from_slice(&footer[2..]);
    if version > RDB_VERSION || crc64(&payload[..body_len + 2]) != u64::from_le_bytes(crc) {
        return Err(PayloadError::VersionOrChecksum);
    }
    let mut reader = Reader { rest: body };
    let value = match reader.byte()? {
        TYPE_STRING => OwnedValue::Str(reader.string()?.into_owned().into_boxed_slice()),
        kind => OwnedValue::Agg(reader.aggregate(kind)?),
    };
    // Bytes after the value are not read, as Redis does not read them.
    Ok(value)
}

/// The payload's bytes not read yet. Nothing is allocated ahead of what
/// was read: a forged count of elements ends at the end of the bytes, as
/// every element takes at least one.
struct Reader<'a> {
    rest: &'a [u8],
}

/// A length, or the marker of a string kept in another encoding.
enum Length {
    Plain(usize),
    Encoded(u8),
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, PayloadError> {
        let (&first, rest) = self.rest.split_first().ok_or(BadFormat)?;
        self.rest = rest;
        Ok(first)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PayloadError> {
        if n > self.rest.len() {
            return Err(BadFormat);
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    fn length_or_encoding(&mut self) -> Result<Length, PayloadError> {
        let first = self.byte()?;
        let n = match first >> 6 {
            0 => u64::from(first & 0x3f),
            1 => u64::from(first & 0x3f) << 8 | u64::from(self.byte()?),
            3 => return Ok(Length::Encoded(first & 0x3f)),
            _ if first == 0x80 => {
                let mut be = [0; 4];
                be.copy_from_slice(self.take(4)?);
                u64::from(u32::from_be_bytes(be))
            }
            _ if first == 0x81 => {
                let mut be = [0; 8];
                be.copy_from_slice(self.take(8)?);
                u64::from_be_bytes(be)
            }
            _ => return Err(BadFormat),
        };
        usize::try_from(n).map(Length::Plain).map_err(|_| BadFormat)
    }

    fn length(&mut self) -> Result<usize, PayloadError> {
        match self.length_or_encoding()? {
            Length::Plain(n) => Ok(n),
            Length::Encoded(_) => Err(BadFormat),
        }
    }

    /// A string: plain, an integer kept in 1, 2 or 4 bytes, or LZF.
    fn string(&mut self) -> Result<Cow<'a, [u8]>, PayloadError> {
        let encoding = match self.length_or_encoding()? {
            Length::Plain(n) => return self.take(n).map(Cow::Borrowed),
            Length::Encoded(encoding) => encoding,
        };
        let text = |n: i64| Cow::Owned(n.to_string().into_bytes());
        match encoding {
            0 => Ok(text(signed_le(self.take(1)?))),
            1 => Ok(text(signed_le(self.take(2)?))),
            2 => Ok(text(signed_le(self.take(4)?))),
            3 => {
                let compressed_len = self.length()?;
                let len = self.length()?;
                let compressed = self.take(compressed_len)?;
                // LZF expands at most ~132 times: a longer claim is forged.
                if len == 0 || len > MAX_STRING || len / 132 > compressed.len() {
                    return Err(BadFormat);
                }
                match lzf::decompress(compressed, len) {
                    Ok(bytes) if bytes.len() == len => Ok(Cow::Owned(bytes)),
                    _ => Err(BadFormat),
                }
            }
            _ => Err(BadFormat),
        }
    }

    /// A score of the older sorted-set encoding: its text behind a length
    /// byte, or 253, 254, 255 for NaN, +inf and -inf.
    fn text_score(&mut self) -> Result<f64, PayloadError> {
        match self.byte()? {
            253 => Err(BadFormat),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            len => score(self.take(usize::from(len))?),
        }
    }

    fn binary_score(&mut self) -> Result<f64, PayloadError> {
        let mut le = [0; 8];
        le.copy_from_slice(self.take(8)?);
        let score = f64::from_le_bytes(le);
        if score.is_nan() {
            return Err(BadFormat);
        }
        Ok(score)
    }

    fn aggregate(&mut self, kind: u8) -> Result<Aggregate, PayloadError> {
        let aggregate = match kind {
            TYPE_LIST => {
                let mut list = List::default();
                for _ in 0..self.length()? {
                    list.push_back(&self.string()?);
                }
                Aggregate::List(list)
            }
            TYPE_SET => {
                let mut set = Set::default();
                for _ in 0..self.length()? {
                    set.add(&self.string()?);
                }
                Aggregate::Set(set)
            }
            TYPE_ZSET | TYPE_ZSET_2 => {
                let mut zset = ZSet::default();
                for _ in 0..self.length()? {
                    let member = self.string()?;
                    let score = match kind {
                        TYPE_ZSET => self.text_score()?,
                        _ => self.binary_score()?,
                    };
                    zset.insert(&member, score);
                }
                Aggregate::ZSet(zset)
            }
            TYPE_HASH => {
                let mut hash = Hash::default();
                for _ in 0..self.length()? {
                    let field = self.string()?;
                    hash.set(&field, &self.string()?);
                }
                Aggregate::Hash(hash)
            }
            TYPE_SET_INTSET => Aggregate::Set(intset(&self.string()?)?),
            TYPE_HASH_LISTPACK | TYPE_HASH_ZIPLIST => {
                let blob = self.string()?;
                let mut hash = Hash::default();
                pairs(kind == TYPE_HASH_LISTPACK, &blob, |field, value| {
                    hash.set(&field.to_vec(), &value.to_vec());
                    Ok(())
                })?;
                Aggregate::Hash(hash)
            }
            TYPE_ZSET_LISTPACK | TYPE_ZSET_ZIPLIST => {
                let blob = self.string()?;
                let mut zset = ZSet::default();
                pairs(kind == TYPE_ZSET_LISTPACK, &blob, |member, score| {
                    let score = match score {
                        Packed::Int(n) => n as f64,
                        Packed::Bytes(text) => self::score(text)?,
                    };
                    zset.insert(&member.to_vec(), score);
                    Ok(())
                })?;
                Aggregate::ZSet(zset)
            }
            TYPE_LIST_ZIPLIST => {
                let mut list = List::default();
                ziplist::each(&self.string()?, |item| {
                    list.push_back(&item.to_vec());
                    Ok(())
                })?;
                Aggregate::List(list)
            }
            TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
                let mut list = List::default();
                for _ in 0..self.length()? {
                    self.quicklist_node(kind, &mut list)?;
                }
                Aggregate::List(list)
            }
            _ => return Err(BadFormat),
        };
        // An empty value is no value: Redis refuses it too.
        if aggregate.is_empty() {
            return Err(BadFormat);
        }
        Ok(aggregate)
    }

    /// One node of a quicklist: a ziplist (Redis 6), or a listpack or a
    /// single plain item behind its container kind (Redis 7.0).
    fn quicklist_node(&mut self, kind: u8, list: &mut List) -> Result<(), PayloadError> {
        const PLAIN: usize = 1;
        const PACKED: usize = 2;
        let container = match kind {
            TYPE_LIST_QUICKLIST_2 => self.length()?,
            _ => PACKED,
        };
        let blob = self.string()?;
        let mut items = 0;
        let mut push = |item: Packed<'_>| {
            list.push_back(&item.to_vec());
            items += 1;
            Ok(())
        };
        match (kind, container) {
            (TYPE_LIST_QUICKLIST_2, PLAIN) => push(Packed::Bytes(&blob))?,
            (TYPE_LIST_QUICKLIST_2, PACKED) => listpack::each(&blob, push)?,
            (_, PACKED) => ziplist::each(&blob, push)?,
            _ => return Err(BadFormat),
        }
        // Redis never writes an empty node.
        if items == 0 {
            return Err(BadFormat);
        }
        Ok(())
    }
}

/// A score written as text.
fn score(text: &[u8]) -> Result<f64, PayloadError> {
    let score = std::str::from_utf8(text)
        .ok()
        .and_then(|text| match text {
            "inf" | "+inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            text => text.parse::<f64>().ok(),
        })
        .ok_or(BadFormat)?;
    if score.is_nan() {
        return Err(BadFormat);
    }
    Ok(score)
}

/// The elements of a listpack or ziplist taken two by two.
fn pairs(
    is_listpack: bool,
    blob: &[u8],
    mut pair: impl FnMut(Packed<'_>, Packed<'_>) -> Result<(), PayloadError>,
) -> Result<(), PayloadError> {
    let mut elements = Vec::new();
    if is_listpack {
        listpack::each(blob, |element| {
            elements.push(element);
            Ok(())
        })?;
    } else {
        ziplist::each(blob, |element| {
            elements.push(element);
            Ok(())
        })?;
    }
    if elements.len() % 2 != 0 {
        return Err(BadFormat);
    }
    elements
        .chunks_exact(2)
        .try_for_each(|two| pair(two[0], two[1]))
}

/// An intset: the width of its integers (2, 4 or 8 bytes), their count,
/// then the integers, little-endian.
fn intset(blob: &[u8]) -> Result<Set, PayloadError> {
    let header = blob.get(..8).ok_or(BadFormat)?;
    let width = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let count = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let ints = &blob[8..];
    if !matches!(width, 2 | 4 | 8) || count.checked_mul(width) != Some(ints.len()) {
        return Err(BadFormat);
    }
    let mut set = Set::default();
    for bytes in ints.chunks_exact(width) {
        set.add(signed_le(bytes).to_string().as_bytes());
    }
    Ok(set)
}
