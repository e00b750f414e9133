//! A hash: fields to values in an `IndexMap`, so that HSCAN has dense
//! positions to walk (as the key table's SCAN) and HRANDFIELD an O(1) pick.

use indexmap::IndexMap;

use super::super::KeyHasher;

/// What a field costs besides its field and value bytes: the map's entry
/// (hash, two boxed slices), its index slot and the two allocations'
/// headers (estimated, README "Aggregate memory").
pub const HASH_ELEMENT: u64 = 64;

#[derive(Clone, Debug, Default)]
pub struct Hash {
    map: IndexMap<Box<[u8]>, Box<[u8]>, KeyHasher>,
    bytes: u64,
}

fn cost(field: &[u8], val: &[u8]) -> u64 {
    (field.len() + val.len()) as u64 + HASH_ELEMENT
}

impl Hash {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.map.get(field).map(|v| &**v)
    }

    /// Sets `field`; whether it is new.
    pub fn set(&mut self, field: &[u8], val: &[u8]) -> bool {
        self.bytes += cost(field, val);
        match self.map.get_mut(field) {
            Some(old) => {
                self.bytes -= cost(field, old);
                *old = val.into();
                false
            }
            None => {
                self.map.insert(field.into(), val.into());
                true
            }
        }
    }

    /// Removes `field`; whether it was there. The last field moves into its
    /// position (HSCAN's cursor stays valid as SCAN's does).
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.map.swap_remove(field) {
            Some(old) => {
                self.bytes -= cost(field, &old);
                true
            }
            None => false,
        }
    }

    /// The field and value at `position`.
    pub fn at(&self, position: usize) -> Option<(&[u8], &[u8])> {
        self.map.get_index(position).map(|(f, v)| (&**f, &**v))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.map.iter().map(|(f, v)| (&**f, &**v))
    }
}
