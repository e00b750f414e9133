//! The records a shard's log and snapshots are made of, and their checksum.
//!
//! `[body length: u32 LE][CRC-32 of the body: u32 LE][body]`, the body
//! `[kind: u8][key length: u32 LE][key][value]` (no value for a delete).
//! Reading tells three things apart: a whole valid record, too few bytes for
//! one (a torn tail, or more to read), and bytes that are no record (a bad
//! checksum or impossible lengths), so that loading can tell a torn tail
//! from corruption (SPEC 7.1).

/// Longest key or value a record may carry: kv's frame limit is far below.
pub const MAX_FIELD: usize = 1 << 30;
const HEADER: usize = 8;
const PUT: u8 = 1;
const DEL: u8 = 2;

/// One logged write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record<'a> {
    Put { key: &'a [u8], val: &'a [u8] },
    Del { key: &'a [u8] },
}

impl Record<'_> {
    pub fn key(&self) -> &[u8] {
        match self {
            Record::Put { key, .. } | Record::Del { key } => key,
        }
    }

    /// Appends the record, header and checksum included.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; HEADER]);
        match *self {
            Record::Put { key, val } => {
                out.push(PUT);
                out.extend_from_slice(&(key.len() as u32).to_le_bytes());
                out.extend_from_slice(key);
                out.extend_from_slice(val);
            }
            Record::Del { key } => {
                out.push(DEL);
                out.extend_from_slice(&(key.len() as u32).to_le_bytes());
                out.extend_from_slice(key);
            }
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

/// Reads the record at the head of `bytes`.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    let Some(len) = u32_at(bytes, 0) else {
        return Decoded::Short;
    };
    if !(5..=2 * MAX_FIELD + 5).contains(&len) {
        return Decoded::Bad;
    }
    let Some(body) = bytes.get(HEADER..HEADER + len) else {
        return Decoded::Short;
    };
    if u32_at(bytes, 4) != Some(crc32fast::hash(body) as usize) {
        return Decoded::Bad;
    }
    let Some(key_len) = u32_at(body, 1).filter(|&n| n <= len - 5) else {
        return Decoded::Bad;
    };
    let key = &body[5..5 + key_len];
    let record = match body[0] {
        PUT => Record::Put {
            key,
            val: &body[5 + key_len..],
        },
        DEL if len == 5 + key_len => Record::Del { key },
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

    fn records() -> impl Strategy<Value = Vec<(bool, Vec<u8>, Vec<u8>)>> {
        prop::collection::vec(
            (
                any::<bool>(),
                prop::collection::vec(any::<u8>(), 0..40),
                prop::collection::vec(any::<u8>(), 0..80),
            ),
            1..20,
        )
    }

    fn encode_all(list: &[(bool, Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (put, key, val) in list {
            let record = if *put {
                Record::Put { key, val }
            } else {
                Record::Del { key }
            };
            record.encode(&mut out);
        }
        out
    }

    proptest! {
        #[test]
        fn any_records_round_trip(list in records()) {
            let bytes = encode_all(&list);
            let mut seen = Vec::new();
            prop_assert_eq!(scan(&bytes, |r| seen.push(format!("{r:?}"))), Scan::Clean);
            let expected: Vec<String> = list
                .iter()
                .map(|(put, key, val)| {
                    let r = if *put { Record::Put { key, val } } else { Record::Del { key } };
                    format!("{r:?}")
                })
                .collect();
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
            let first_len = {
                let mut one = Vec::new();
                let (put, key, val) = &list[0];
                let r = if *put { Record::Put { key, val } } else { Record::Del { key } };
                r.encode(&mut one);
                one.len()
            };
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
}
