//! One stored key: a single allocation holding the key's length, its expiry
//! time if it has one, the key and the value. A key without a TTL pays
//! nothing for expiry: the TTL is a flag bit in the length word and 8 more
//! bytes only when set. A hash, set, sorted set or list (`values/`) is an
//! entry whose [`AGGREGATE`] bit is set and whose value is the 4-byte slot
//! of the aggregate in the store's slab.

/// `[header: u32 LE][expiry: u64 LE, only if flagged][key][value]`, the
/// header the key's length with [`HAS_EXPIRY`] set when a TTL follows.
#[derive(Debug)]
pub(super) struct Entry(Box<[u8]>);

const HEADER: usize = size_of::<u32>();
const EXPIRY: usize = size_of::<u64>();
/// The header bit that says an expiry time follows it.
const HAS_EXPIRY: u32 = 1 << 31;
/// The header bit that says the value is an aggregate's slot number.
const AGGREGATE: u32 = 1 << 30;
const FLAGS: u32 = HAS_EXPIRY | AGGREGATE;

/// Longest key an entry holds: the header's other 30 bits. Keys come from
/// frames and records far shorter (`--max-frame`, the log's 1 GiB field
/// limit), so no caller reaches it.
pub(super) const MAX_KEY: usize = (AGGREGATE - 1) as usize;

impl Entry {
    /// `key` set to `val`, expiring at `at` (ms since the epoch) if given.
    pub fn new(key: &[u8], val: &[u8], at: Option<u64>) -> Entry {
        Entry::with_flags(key, val, at, 0)
    }

    /// `key` holding the aggregate in `slot`, expiring at `at` if given.
    pub fn aggregate(key: &[u8], slot: u32, at: Option<u64>) -> Entry {
        Entry::with_flags(key, &slot.to_le_bytes(), at, AGGREGATE)
    }

    fn with_flags(key: &[u8], val: &[u8], at: Option<u64>, flags: u32) -> Entry {
        debug_assert!(key.len() <= MAX_KEY);
        let mut header = (key.len() as u32 & !FLAGS) | flags;
        let expiry = at.map_or(0, |_| EXPIRY);
        let mut bytes = Vec::with_capacity(HEADER + expiry + key.len() + val.len());
        if at.is_some() {
            header |= HAS_EXPIRY;
        }
        bytes.extend_from_slice(&header.to_le_bytes());
        if let Some(at) = at {
            bytes.extend_from_slice(&at.to_le_bytes());
        }
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(val);
        Entry(bytes.into_boxed_slice())
    }

    #[inline]
    fn header(&self) -> u32 {
        let mut header = [0; HEADER];
        header.copy_from_slice(&self.0[..HEADER]);
        u32::from_le_bytes(header)
    }

    /// Where the key starts.
    #[inline]
    fn key_start(&self) -> usize {
        if self.header() & HAS_EXPIRY != 0 {
            HEADER + EXPIRY
        } else {
            HEADER
        }
    }

    #[inline]
    fn key_end(&self) -> usize {
        self.key_start() + (self.header() & !FLAGS) as usize
    }

    /// The slot of the aggregate this entry holds; `None` for a string.
    #[inline]
    pub fn slot(&self) -> Option<u32> {
        if self.header() & AGGREGATE == 0 {
            return None;
        }
        let val: [u8; 4] = self.value().try_into().ok()?;
        Some(u32::from_le_bytes(val))
    }

    #[inline]
    pub fn is_aggregate(&self) -> bool {
        self.header() & AGGREGATE != 0
    }

    #[inline]
    pub fn key(&self) -> &[u8] {
        &self.0[self.key_start()..self.key_end()]
    }

    #[inline]
    pub fn value(&self) -> &[u8] {
        &self.0[self.key_end()..]
    }

    /// When the key expires (ms since the epoch); `None`: never.
    #[inline]
    pub fn expiry(&self) -> Option<u64> {
        if self.header() & HAS_EXPIRY == 0 {
            return None;
        }
        let mut at = [0; EXPIRY];
        at.copy_from_slice(&self.0[HEADER..HEADER + EXPIRY]);
        Some(u64::from_le_bytes(at))
    }

    /// Whether the key is gone at `now`: it expires at or before it.
    #[inline]
    pub fn expired(&self, now: u64) -> bool {
        self.expiry().is_some_and(|at| at <= now)
    }

    /// Overwrites the value in place when the entry is a string with no
    /// TTL whose value has `val`'s length (the layout stays, and so does
    /// its cost); false, and nothing changed, otherwise.
    pub fn overwrite_value(&mut self, val: &[u8]) -> bool {
        if self.header() & FLAGS != 0 || self.value().len() != val.len() {
            return false;
        }
        let start = self.key_end();
        self.0[start..].copy_from_slice(val);
        true
    }

    /// Sets the expiry time: in place when the entry has one already (the
    /// key, and so its hash, is unchanged), else by a new entry with room
    /// for it (a copy of the key and value).
    pub fn set_expiry(&mut self, at: Option<u64>) {
        match (self.expiry(), at) {
            (Some(_), Some(at)) => {
                self.0[HEADER..HEADER + EXPIRY].copy_from_slice(&at.to_le_bytes())
            }
            (None, None) => {}
            _ => {
                let flags = self.header() & AGGREGATE;
                *self = Entry::with_flags(self.key(), self.value(), at, flags)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back_with_and_without_expiry() {
        let plain = Entry::new(b"key", b"value", None);
        assert_eq!(
            (plain.key(), plain.value(), plain.expiry()),
            (&b"key"[..], &b"value"[..], None)
        );
        assert_eq!(plain.0.len(), 4 + 3 + 5, "no TTL, no expiry bytes");
        let mut timed = Entry::new(b"", b"v", Some(u64::MAX));
        assert_eq!(
            (timed.key(), timed.value(), timed.expiry()),
            (&b""[..], &b"v"[..], Some(u64::MAX))
        );
        assert!(timed.expired(u64::MAX) && !timed.expired(u64::MAX - 1));
        timed.set_expiry(Some(7));
        assert_eq!(
            (timed.key(), timed.value(), timed.expiry()),
            (&b""[..], &b"v"[..], Some(7))
        );
        timed.set_expiry(None);
        assert_eq!(
            (timed.key(), timed.value(), timed.expiry()),
            (&b""[..], &b"v"[..], None)
        );
        assert!(!timed.expired(u64::MAX));
        let mut plain = plain;
        plain.set_expiry(Some(1));
        assert_eq!(
            (plain.key(), plain.value(), plain.expiry()),
            (&b"key"[..], &b"value"[..], Some(1))
        );
    }

    #[test]
    fn a_value_is_overwritten_in_place_only_when_the_layout_stays() {
        let mut plain = Entry::new(b"key", b"abc", None);
        assert!(plain.overwrite_value(b"xyz"));
        assert_eq!((plain.key(), plain.value()), (&b"key"[..], &b"xyz"[..]));
        assert!(!plain.overwrite_value(b"long"), "another length");
        assert!(!plain.overwrite_value(b""), "another length");
        assert_eq!(plain.value(), b"xyz");
        let mut timed = Entry::new(b"key", b"abc", Some(9));
        assert!(!timed.overwrite_value(b"xyz"), "a TTL to clear");
        assert_eq!((timed.value(), timed.expiry()), (&b"abc"[..], Some(9)));
        let mut aggregate = Entry::aggregate(b"key", 7, None);
        assert!(!aggregate.overwrite_value(b"abcd"), "a hash, set or list");
        assert_eq!(aggregate.slot(), Some(7));
    }
}
