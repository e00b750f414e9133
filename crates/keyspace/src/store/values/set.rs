//! A set: members in an `IndexSet`, so that SSCAN has dense positions to
//! walk and SPOP/SRANDMEMBER an O(1) pick.

use indexmap::IndexSet;

use super::super::KeyHasher;

/// What a member costs besides its bytes: the set's entry (hash, boxed
/// slice), its index slot and the allocation's header (estimated, README
/// "Aggregate memory").
pub const SET_ELEMENT: u64 = 48;

#[derive(Clone, Debug, Default)]
pub struct Set {
    members: IndexSet<Box<[u8]>, KeyHasher>,
    bytes: u64,
}

impl Set {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.members.contains(member)
    }

    /// Adds `member`; whether it is new.
    pub fn add(&mut self, member: &[u8]) -> bool {
        if self.members.contains(member) {
            return false;
        }
        self.bytes += member.len() as u64 + SET_ELEMENT;
        self.members.insert(member.into())
    }

    /// Removes `member`; whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        let removed = self.members.swap_remove(member);
        if removed {
            self.bytes -= member.len() as u64 + SET_ELEMENT;
        }
        removed
    }

    pub fn at(&self, position: usize) -> Option<&[u8]> {
        self.members.get_index(position).map(|m| &**m)
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.members.iter().map(|m| &**m)
    }
}
