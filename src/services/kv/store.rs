//! One shard's part of the key space. Each entry is a single allocation
//! holding the key's length, the key and the value, found by its key through
//! `Borrow`: no per-entry String pair, no second allocation, no hashing of
//! the value. Measured on 1,000,000 16-byte keys with 32-byte values: see
//! README ("kv memory").

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// Keys and values of one shard. The hasher is std's randomly keyed
/// SipHash: keys come from the network, and a fixed hash would let a client
/// aim every key at one bucket.
#[derive(Debug, Default)]
pub struct Store {
    entries: HashSet<Entry>,
    /// Accounted memory: every entry's [`Store::cost`].
    bytes: u64,
    /// Past this, writes that add data are refused (`--max-memory`, this
    /// shard's share); `None`: no cap.
    cap: Option<u64>,
}

/// A write refused for `--max-memory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory;

/// What one key costs besides its key and value bytes: its allocation's
/// length prefix and header, and its slot in the table (measured: README
/// "kv memory").
pub const ENTRY_OVERHEAD: u64 = 48;

impl Store {
    /// A store that refuses writes adding data past `cap` accounted bytes.
    pub fn with_cap(cap: Option<u64>) -> Store {
        Store {
            cap,
            ..Store::default()
        }
    }

    /// What a key with this value costs, as accounted.
    pub fn cost(key: &[u8], val: &[u8]) -> u64 {
        (key.len() + val.len()) as u64 + ENTRY_OVERHEAD
    }

    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.entries.get(key).map(Entry::value)
    }

    /// Whether setting `key` to `val` is refused by the memory cap: only a
    /// write that adds data past it is.
    pub fn refuses(&self, key: &[u8], val: &[u8]) -> bool {
        let Some(cap) = self.cap else {
            return false;
        };
        let old = self.get(key).map_or(0, |old| Store::cost(key, old));
        let new = Store::cost(key, val);
        new > old && self.bytes - old + new > cap
    }

    /// Sets `key`, unless the memory cap refuses it.
    pub fn put(&mut self, key: &[u8], val: &[u8]) -> Result<(), OutOfMemory> {
        if self.refuses(key, val) {
            return Err(OutOfMemory);
        }
        self.load(key, val);
        Ok(())
    }

    /// Sets `key` whatever the cap (loading what was already acknowledged).
    pub fn load(&mut self, key: &[u8], val: &[u8]) {
        if let Some(old) = self.entries.replace(Entry::new(key, val)) {
            self.bytes -= Store::cost(key, old.value());
        }
        self.bytes += Store::cost(key, val);
    }

    pub fn del(&mut self, key: &[u8]) {
        if let Some(old) = self.entries.take(key) {
            self.bytes -= Store::cost(key, old.value());
        }
    }

    /// Accounted memory of every key and value.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Every key and value, in no order.
    pub fn for_each(&self, mut visit: impl FnMut(&[u8], &[u8])) {
        for entry in &self.entries {
            visit(entry.key(), entry.value());
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every key, sorted by bytes.
    pub fn sorted_keys(&self) -> Vec<&[u8]> {
        let mut keys: Vec<&[u8]> = self.entries.iter().map(Entry::key).collect();
        keys.sort_unstable();
        keys
    }
}

/// `[key length: u32 LE][key][value]` in one boxed slice.
#[derive(Debug)]
struct Entry(Box<[u8]>);

const LEN: usize = size_of::<u32>();

impl Entry {
    fn new(key: &[u8], val: &[u8]) -> Entry {
        let mut bytes = Vec::with_capacity(LEN + key.len() + val.len());
        bytes.extend_from_slice(&(key.len() as u32).to_le_bytes());
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(val);
        Entry(bytes.into_boxed_slice())
    }

    fn key_len(&self) -> usize {
        let mut len = [0; LEN];
        len.copy_from_slice(&self.0[..LEN]);
        u32::from_le_bytes(len) as usize
    }

    fn key(&self) -> &[u8] {
        &self.0[LEN..LEN + self.key_len()]
    }

    fn value(&self) -> &[u8] {
        &self.0[LEN + self.key_len()..]
    }
}

// An entry is its key as far as the set is concerned, so that lookups take
// a plain `&[u8]`.
impl Borrow<[u8]> for Entry {
    fn borrow(&self) -> &[u8] {
        self.key()
    }
}

impl Hash for Entry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Entry {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_replace_delete() {
        let mut store = Store::default();
        assert_eq!(store.get(b"foo"), None);
        store.load(b"foo", b"bar");
        store.load(b"fizz", b"buzz");
        store.load(b"foo", b"baz");
        assert_eq!(store.get(b"foo"), Some(&b"baz"[..]));
        assert_eq!(store.len(), 2);
        assert_eq!(store.sorted_keys(), vec![&b"fizz"[..], b"foo"]);
        store.del(b"fizz");
        store.del(b"absent");
        assert_eq!(store.sorted_keys(), vec![&b"foo"[..]]);
        store.load(b"", b"");
        assert_eq!(store.get(b""), Some(&b""[..]));
        assert_eq!(
            store.bytes(),
            Store::cost(b"foo", b"baz") + Store::cost(b"", b"")
        );
    }

    #[test]
    fn the_cap_refuses_only_writes_that_add_data() {
        let cap = Store::cost(b"k1", b"0123456789") + Store::cost(b"k2", b"ab");
        let mut store = Store::with_cap(Some(cap));
        assert_eq!(store.put(b"k1", b"0123456789"), Ok(()));
        assert_eq!(store.put(b"k2", b"ab"), Ok(()));
        assert_eq!(store.put(b"k3", b"x"), Err(OutOfMemory));
        assert_eq!(
            store.put(b"k1", b"0123"),
            Ok(()),
            "a smaller overwrite goes on"
        );
        assert_eq!(
            store.put(b"k3", b"x"),
            Err(OutOfMemory),
            "6 bytes freed is not enough"
        );
        store.del(b"k2");
        assert_eq!(store.put(b"k3", b"x"), Ok(()), "a delete made room");
        assert_eq!(
            store.bytes(),
            Store::cost(b"k1", b"0123") + Store::cost(b"k3", b"x")
        );
    }
}
