//! One stored key: a single allocation holding the key's length, its access
//! clock (Redis's 24-bit `lru` field, `eviction.rs`), its expiry time if it
//! has one, the key and the value. A key without a TTL pays
//! nothing for expiry: the TTL is a flag bit in the length word and 8 more
//! bytes only when set. A hash, set, sorted set or list (`values/`) is an
//! entry whose [`AGGREGATE`] bit is set and whose value is the 4-byte slot
//! of the aggregate in the store's slab.

/// `[header: u32 LE][clock: 24 bits LE][expiry: u64 LE, only if
/// flagged][key][value]`, the header the key's length with [`HAS_EXPIRY`]
/// set when a TTL follows. The clock's 3 bytes are what Redis keeps per
/// object for eviction; on 16-byte keys with 32-byte values they fit in
/// the allocator's rounding (README "kv memory": 52 and 55 bytes take the
/// same 64-byte chunk).
#[derive(Debug)]
pub(super) struct Entry(Box<[u8]>);

const HEADER: usize = size_of::<u32>();
/// The access clock: Redis's 24 bits (`LRU_BITS`), after the header.
const CLOCK: usize = 3;
/// Where the expiry time, or the key when there is none, starts.
const FIXED: usize = HEADER + CLOCK;
/// The largest clock value (Redis's `LRU_CLOCK_MAX`).
pub(super) const CLOCK_MAX: u32 = (1 << 24) - 1;
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
    /// The entry's one allocation, for [`super::table::Table::prefetch`].
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// `key` set to `val`, expiring at `at` (ms since the epoch) if given,
    /// its access clock `clock`.
    pub fn new(key: &[u8], val: &[u8], at: Option<u64>, clock: u32) -> Entry {
        Entry::with_flags(key, val, at, 0, clock)
    }

    /// `key` holding the aggregate in `slot`, expiring at `at` if given.
    pub fn aggregate(key: &[u8], slot: u32, at: Option<u64>, clock: u32) -> Entry {
        Entry::with_flags(key, &slot.to_le_bytes(), at, AGGREGATE, clock)
    }

    fn with_flags(key: &[u8], val: &[u8], at: Option<u64>, flags: u32, clock: u32) -> Entry {
        debug_assert!(key.len() <= MAX_KEY);
        let mut header = (key.len() as u32 & !FLAGS) | flags;
        let expiry = at.map_or(0, |_| EXPIRY);
        let mut bytes = Vec::with_capacity(FIXED + expiry + key.len() + val.len());
        if at.is_some() {
            header |= HAS_EXPIRY;
        }
        bytes.extend_from_slice(&header.to_le_bytes());
        bytes.extend_from_slice(&clock.to_le_bytes()[..CLOCK]);
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
            FIXED + EXPIRY
        } else {
            FIXED
        }
    }

    /// The access clock: the LRU clock of the last access, or under an
    /// LFU policy the minutes and counter (`eviction.rs`).
    #[inline]
    pub fn clock(&self) -> u32 {
        let mut clock = [0; 4];
        clock[..CLOCK].copy_from_slice(&self.0[HEADER..FIXED]);
        u32::from_le_bytes(clock)
    }

    /// Sets the access clock, writing only when it changes: a key read
    /// again within its clock's tick leaves its memory clean.
    #[inline]
    pub fn set_clock(&mut self, clock: u32) {
        if self.clock() != clock & CLOCK_MAX {
            self.0[HEADER..FIXED].copy_from_slice(&clock.to_le_bytes()[..CLOCK]);
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
        at.copy_from_slice(&self.0[FIXED..FIXED + EXPIRY]);
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
            (Some(_), Some(at)) => self.0[FIXED..FIXED + EXPIRY].copy_from_slice(&at.to_le_bytes()),
            (None, None) => {}
            _ => {
                let flags = self.header() & AGGREGATE;
                *self = Entry::with_flags(self.key(), self.value(), at, flags, self.clock())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back_with_and_without_expiry() {
        let plain = Entry::new(b"key", b"value", None, 7);
        assert_eq!(
            (plain.key(), plain.value(), plain.expiry()),
            (&b"key"[..], &b"value"[..], None)
        );
        assert_eq!(plain.0.len(), 4 + 3 + 3 + 5, "no TTL, no expiry bytes");
        assert_eq!(plain.clock(), 7);
        let mut timed = Entry::new(b"", b"v", Some(u64::MAX), CLOCK_MAX);
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
        assert_eq!(timed.clock(), CLOCK_MAX, "kept through the copies");
        timed.set_clock(5);
        assert_eq!((timed.clock(), timed.value()), (5, &b"v"[..]));
        let mut plain = plain;
        plain.set_expiry(Some(1));
        assert_eq!(
            (plain.key(), plain.value(), plain.expiry()),
            (&b"key"[..], &b"value"[..], Some(1))
        );
    }

    #[test]
    fn a_value_is_overwritten_in_place_only_when_the_layout_stays() {
        let mut plain = Entry::new(b"key", b"abc", None, 0);
        assert!(plain.overwrite_value(b"xyz"));
        assert_eq!((plain.key(), plain.value()), (&b"key"[..], &b"xyz"[..]));
        assert!(!plain.overwrite_value(b"long"), "another length");
        assert!(!plain.overwrite_value(b""), "another length");
        assert_eq!(plain.value(), b"xyz");
        let mut timed = Entry::new(b"key", b"abc", Some(9), 0);
        assert!(!timed.overwrite_value(b"xyz"), "a TTL to clear");
        assert_eq!((timed.value(), timed.expiry()), (&b"abc"[..], Some(9)));
        let mut aggregate = Entry::aggregate(b"key", 7, None, 0);
        assert!(!aggregate.overwrite_value(b"abcd"), "a hash, set or list");
        assert_eq!(aggregate.slot(), Some(7));
    }
}
