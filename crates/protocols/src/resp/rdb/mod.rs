//! Redis's DUMP payload (README "DUMP and RESTORE"): one value in the RDB
//! format of Redis 7.0, then the RDB version (2 bytes, little-endian) and a
//! CRC-64 (Jones, as Redis's `crc64.c`) of everything before it.
//!
//! DUMP (`write.rs`) writes strings, lists, sets, sorted sets and hashes in
//! the RDB's plain encodings, which every Redis since 2.x reads back.
//! RESTORE (`read.rs`) reads those and what Redis writes for small values
//! (Redis 7.0's listpacks and quicklists of listpacks, Redis 6's ziplists,
//! intsets, LZF-compressed and integer-encoded strings), so that keys move
//! from a Redis server to percore with DUMP and RESTORE. Every length read
//! is checked against the bytes left before anything is allocated for it.

mod listpack;
mod read;
mod write;
mod ziplist;

#[cfg(test)]
mod tests;

pub use read::{read_payload, PayloadError};
pub use write::write_payload;

/// The RDB version percore writes, Redis 7.0's; RESTORE reads this one and
/// older.
const RDB_VERSION: u16 = 10;

/// The value types of the RDB format this module knows (Redis's `rdb.h`).
const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_SET: u8 = 2;
const TYPE_ZSET: u8 = 3;
const TYPE_HASH: u8 = 4;
const TYPE_ZSET_2: u8 = 5;
const TYPE_LIST_ZIPLIST: u8 = 10;
const TYPE_SET_INTSET: u8 = 11;
const TYPE_ZSET_ZIPLIST: u8 = 12;
const TYPE_HASH_ZIPLIST: u8 = 13;
const TYPE_LIST_QUICKLIST: u8 = 14;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_ZSET_LISTPACK: u8 = 17;
const TYPE_LIST_QUICKLIST_2: u8 = 18;

/// The CRC-64 of a payload's bytes before its checksum.
fn crc64(bytes: &[u8]) -> u64 {
    const CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);
    CRC.checksum(bytes)
}

/// `body` with a sound footer: for tests and the fuzz target, which reach
/// the value's decoding past the checksum this way.
#[cfg(any(test, feature = "fuzzing"))]
pub fn sealed(body: &[u8]) -> Vec<u8> {
    let mut payload = body.to_vec();
    payload.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    payload
}

/// A little-endian signed integer of 1 to 8 bytes, sign-extended: how
/// listpacks, ziplists, intsets and integer-encoded strings keep them.
fn signed_le(bytes: &[u8]) -> i64 {
    let mut le = [0; 8];
    le[..bytes.len()].copy_from_slice(bytes);
    let shift = 64 - 8 * bytes.len() as u32;
    (i64::from_le_bytes(le) << shift) >> shift
}

/// The elements of a listpack or ziplist: `blob` past its `header` bytes,
/// once its first four (the total size, little-endian) match its length.
/// `element` takes the bytes from an element on and says how many the
/// element took; the walk ends at the end marker, 0xFF, the last byte.
fn walk<'a>(
    blob: &'a [u8],
    header: usize,
    mut element: impl FnMut(&'a [u8]) -> Result<usize, read::PayloadError>,
) -> Result<(), read::PayloadError> {
    use read::PayloadError::BadFormat;
    let total = blob.get(..4).ok_or(BadFormat)?;
    let total = u32::from_le_bytes([total[0], total[1], total[2], total[3]]) as usize;
    if total != blob.len() || blob.len() < header {
        return Err(BadFormat);
    }
    let mut rest = &blob[header..];
    loop {
        let (&first, after) = rest.split_first().ok_or(BadFormat)?;
        if first == 0xff {
            return if after.is_empty() {
                Ok(())
            } else {
                Err(BadFormat)
            };
        }
        let used = element(rest)?;
        rest = rest.get(used..).ok_or(BadFormat)?;
    }
}

/// An element of a listpack or a ziplist: bytes, or an integer the
/// encoding kept as one (read back as its decimal text, as Redis does).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Packed<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

impl Packed<'_> {
    fn to_vec(self) -> Vec<u8> {
        match self {
            Packed::Bytes(bytes) => bytes.to_vec(),
            Packed::Int(n) => n.to_string().into_bytes(),
        }
    }
}
