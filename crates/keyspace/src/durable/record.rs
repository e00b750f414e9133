//! The records a shard's log and snapshots are made of, and their checksum.
//!
//! `[body length: u32 LE][CRC-32 of the body: u32 LE][body]`, the body
//! `[kind: u8][key length: u32 LE][key]` and then what the kind carries:
//!
//! | kind | record | after the key |
//! |---|---|---|
//! | 1 | Put | the value |
//! | 2 | Del | nothing |
//! | 3 | PutExpiring | the expiry time (u64 LE, ms since the epoch), the value |
//! | 4 | Expire | the expiry time |
//! | 5 | Persist | nothing |
//! | 6 | Clear | nothing (and an empty key) |
//! | 7 | Agg | an op on a hash, set, sorted set or list (`ops.rs`) |
//!
//! Kinds 1 and 2 are the first format's, unchanged, so a data dir written
//! before TTLs existed loads as it did. Reading tells three things apart: a
//! whole valid record, too few bytes for one (a torn tail, or more to read),
//! and bytes that are no record (a bad checksum, kind or lengths), so that
//! loading can tell a torn tail from corruption (docs/PROTOCOLS.md §7.1). Every valid
//! record has one encoding: decoding then encoding gives the same bytes.

/// Longest key or value a record may carry: kv's frame limit is far below.
pub const MAX_FIELD: usize = 1 << 30;
const HEADER: usize = 8;
/// The body's fixed part: kind and key length.
const FIXED: usize = 5;
const TIME: usize = size_of::<u64>();
const PUT: u8 = 1;
const DEL: u8 = 2;
const PUT_EXPIRING: u8 = 3;
const EXPIRE: u8 = 4;
const PERSIST: u8 = 5;
const CLEAR: u8 = 6;
const AGG: u8 = 7;

/// One logged write. Times are ms since the Unix epoch, absolute, so that a
/// record means the same whenever it is replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// Set `key` to `val`, with no TTL.
    Put { key: &'a [u8], val: &'a [u8] },
    /// Remove `key`.
    Del { key: &'a [u8] },
    /// Set `key` to `val`, expiring at `at`.
    PutExpiring {
        key: &'a [u8],
        val: &'a [u8],
        at: u64,
    },
    /// Give `key`, if it is there, the expiry time `at`.
    Expire { key: &'a [u8], at: u64 },
    /// Remove `key`'s TTL, if it is there.
    Persist { key: &'a [u8] },
    /// Remove every key of the shard that logged it (FLUSHDB, FLUSHALL).
    Clear,
    /// Do `op` (`ops::Op`, maybe with `ops::REPLACE`) with the elements
    /// encoded in `body` to `key`'s aggregate.
    Agg {
        key: &'a [u8],
        op: u8,
        body: &'a [u8],
    },
}

impl Record<'_> {
    /// The key the record writes; `None` for a Clear, which writes them all.
    pub fn key(&self) -> Option<&[u8]> {
        match self {
            Record::Put { key, .. }
            | Record::Del { key }
            | Record::PutExpiring { key, .. }
            | Record::Expire { key, .. }
            | Record::Persist { key }
            | Record::Agg { key, .. } => Some(key),
            Record::Clear => None,
        }
    }

    /// Appends the record, header and checksum included.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; HEADER]);
        let (kind, key) = match *self {
            Record::Put { key, .. } => (PUT, key),
            Record::Del { key } => (DEL, key),
            Record::PutExpiring { key, .. } => (PUT_EXPIRING, key),
            Record::Expire { key, .. } => (EXPIRE, key),
            Record::Persist { key } => (PERSIST, key),
            Record::Clear => (CLEAR, &[][..]),
            Record::Agg { key, .. } => (AGG, key),
        };
        out.push(kind);
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(key);
        match *self {
            Record::Put { val, .. } => out.extend_from_slice(val),
            Record::PutExpiring { val, at, .. } => {
                out.extend_from_slice(&at.to_le_bytes());
                out.extend_from_slice(val);
            }
            Record::Expire { at, .. } => out.extend_from_slice(&at.to_le_bytes()),
            Record::Agg { op, body, .. } => {
                out.push(op);
                out.extend_from_slice(body);
            }
            Record::Del { .. } | Record::Persist { .. } | Record::Clear => {}
        }
        let body = &out[start + HEADER..];
        let (len, crc) = (body.len() as u32, crc32fast::hash(body));
        out[start..start + 4].copy_from_slice(&len.to_le_bytes());
        out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    }
}

/// What the bytes at the head of a buffer are.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A valid record, and the bytes it takes.
    Record(Record<'a>, usize),
    /// Fewer bytes than the record they start claims.
    Short,
    /// Not a record: a bad checksum, kind or length.
    Bad,
}

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let field: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(field) as usize)
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let field: [u8; TIME] = bytes.get(at..at + TIME)?.try_into().ok()?;
    Some(u64::from_le_bytes(field))
}

/// Reads the record at the head of `bytes`.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    let Some(len) = u32_at(bytes, 0) else {
        return Decoded::Short;
    };
    if !(FIXED..=2 * MAX_FIELD + FIXED + TIME).contains(&len) {
        return Decoded::Bad;
    }
    let Some(body) = bytes.get(HEADER..HEADER + len) else {
        return Decoded::Short;
    };
    if u32_at(bytes, 4) != Some(crc32fast::hash(body) as usize) {
        return Decoded::Bad;
    }
    let Some(key_len) = u32_at(body, 1).filter(|&n| n <= len - FIXED) else {
        return Decoded::Bad;
    };
    let key = &body[FIXED..FIXED + key_len];
    // What follows the key.
    let rest = &body[FIXED + key_len..];
    let time = u64_at(rest, 0);
    let record = match (body[0], time) {
        (PUT, _) => Record::Put { key, val: rest },
        (DEL, _) if rest.is_empty() => Record::Del { key },
        (PUT_EXPIRING, Some(at)) => Record::PutExpiring {
            key,
            val: &rest[TIME..],
            at,
        },
        (EXPIRE, Some(at)) if rest.len() == TIME => Record::Expire { key, at },
        (PERSIST, _) if rest.is_empty() => Record::Persist { key },
        (CLEAR, _) if key.is_empty() && rest.is_empty() => Record::Clear,
        (AGG, _) if super::ops::valid(rest) => Record::Agg {
            key,
            op: rest[0],
            body: &rest[1..],
        },
        _ => return Decoded::Bad,
    };
    Decoded::Record(record, HEADER + len)
}

/// Where the valid records of `bytes` end, and whether what follows is a
/// torn tail (no valid record after it) or corruption (a valid record
/// further on: the offset of the first bad byte).
#[derive(Debug, PartialEq, Eq)]
pub enum Scan {
    /// Every byte is a valid record.
    Clean,
    /// The bytes from `valid_up_to` hold no valid record: drop them.
    TornTail { valid_up_to: usize },
    /// A bad record at `at`, followed by a valid one.
    Corrupt { at: usize },
}

/// Walks `bytes` record by record, handing each valid one to `apply`, up to
/// the first bad or short one; then tells what the rest is.
pub fn scan<'a>(bytes: &'a [u8], mut apply: impl FnMut(Record<'a>)) -> Scan {
    let mut at = 0;
    while at < bytes.len() {
        match decode(&bytes[at..]) {
            Decoded::Record(record, used) => {
                apply(record);
                at += used;
            }
            Decoded::Short | Decoded::Bad => {
                let later_valid = (at + 1..bytes.len())
                    .any(|from| matches!(decode(&bytes[from..]), Decoded::Record(..)));
                return if later_valid {
                    Scan::Corrupt { at }
                } else {
                    Scan::TornTail { valid_up_to: at }
                };
            }
        }
    }
    Scan::Clean
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A record that owns its fields, for strategies.
    #[derive(Clone, Debug)]
    struct Owned {
        kind: u8,
        key: Vec<u8>,
        val: Vec<u8>,
        at: u64,
    }

    impl Owned {
        fn record(&self) -> Record<'_> {
            let (key, val, at) = (&self.key[..], &self.val[..], self.at);
            match self.kind {
                PUT => Record::Put { key, val },
                DEL => Record::Del { key },
                PUT_EXPIRING => Record::PutExpiring { key, val, at },
                EXPIRE => Record::Expire { key, at },
                PERSIST => Record::Persist { key },
                _ => Record::Clear,
            }
        }
    }

    fn records() -> impl Strategy<Value = Vec<Owned>> {
        prop::collection::vec(
            (
                PUT..=CLEAR,
                prop::collection::vec(any::<u8>(), 0..40),
                prop::collection::vec(any::<u8>(), 0..80),
                any::<u64>(),
            )
                .prop_map(|(kind, key, val, at)| Owned { kind, key, val, at }),
            1..20,
        )
    }

    fn encode_all(list: &[Owned]) -> Vec<u8> {
        let mut out = Vec::new();
        for owned in list {
            owned.record().encode(&mut out);
        }
        out
    }

    proptest! {
        #[test]
        fn any_records_round_trip(list in records()) {
            let bytes = encode_all(&list);
            let mut seen = Vec::new();
            prop_assert_eq!(scan(&bytes, |r| seen.push(format!("{r:?}"))), Scan::Clean);
            let expected: Vec<String> = list.iter().map(|o| format!("{:?}", o.record())).collect();
            prop_assert_eq!(seen, expected);
        }

        #[test]
        fn any_truncation_is_a_torn_tail_of_whole_records(list in records(), cut in any::<prop::sample::Index>()) {
            let bytes = encode_all(&list);
            let cut = cut.index(bytes.len());
            let mut applied = 0;
            let scanned = scan(&bytes[..cut], |_| applied += 1);
            match scanned {
                Scan::Clean => prop_assert!(cut == 0 || applied > 0),
                Scan::TornTail { valid_up_to } => prop_assert!(valid_up_to <= cut),
                Scan::Corrupt { .. } => prop_assert!(false, "a truncation is never corruption"),
            }
            prop_assert!(applied <= list.len());
        }

        #[test]
        fn a_flipped_byte_before_a_valid_record_is_corruption(list in records(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
            prop_assume!(list.len() >= 2);
            let mut bytes = encode_all(&list);
            let first_len = encode_all(&list[..1]).len();
            let at = at.index(first_len);
            bytes[at] ^= 1 << bit;
            let scanned = scan(&bytes, |_| {});
            prop_assert!(matches!(scanned, Scan::Corrupt { at: 0 }), "{:?}", scanned);
        }
    }

    #[test]
    fn zeros_after_records_are_a_torn_tail() {
        let mut bytes = Vec::new();
        Record::Put {
            key: b"k",
            val: b"v",
        }
        .encode(&mut bytes);
        let valid = bytes.len();
        bytes.extend_from_slice(&[0; 100]);
        assert_eq!(scan(&bytes, |_| {}), Scan::TornTail { valid_up_to: valid });
    }

    /// The first format's bytes, written out by hand: they still read.
    #[test]
    fn put_and_del_keep_their_first_encoding() {
        let mut bytes = Vec::new();
        Record::Put {
            key: b"k",
            val: b"v",
        }
        .encode(&mut bytes);
        let body = [1, 1, 0, 0, 0, b'k', b'v'];
        assert_eq!(bytes[..4], 7u32.to_le_bytes());
        assert_eq!(bytes[4..8], crc32fast::hash(&body).to_le_bytes());
        assert_eq!(bytes[8..], body);
        let mut del = Vec::new();
        Record::Del { key: b"k" }.encode(&mut del);
        assert_eq!(del[8..], [2, 1, 0, 0, 0, b'k']);
    }

    /// A body of a known kind whose length does not fit it is no record.
    #[test]
    fn wrong_lengths_for_a_kind_are_bad() {
        let framed = |body: &[u8]| {
            let mut bytes = (body.len() as u32).to_le_bytes().to_vec();
            bytes.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
            bytes.extend_from_slice(body);
            bytes
        };
        for body in [
            &[PUT_EXPIRING, 1, 0, 0, 0, b'k', 1, 2, 3][..], // a time cut short
            &[EXPIRE, 1, 0, 0, 0, b'k', 1, 2, 3, 4, 5, 6, 7, 8, 9], // a byte after it
            &[PERSIST, 1, 0, 0, 0, b'k', b'v'],
            &[CLEAR, 1, 0, 0, 0, b'k'],
            &[7, 0, 0, 0, 0],
            &[7, 0, 0, 0, 0, 99],                  // an unknown op
            &[7, 0, 0, 0, 0, 1, 5, 0, 0, 0, b'f'], // an element cut short
            &[8, 0, 0, 0, 0],
        ] {
            assert_eq!(decode(&framed(body)), Decoded::Bad, "{body:?}");
        }
        let clear = framed(&[CLEAR, 0, 0, 0, 0]);
        assert_eq!(decode(&clear), Decoded::Record(Record::Clear, clear.len()));
    }
}
