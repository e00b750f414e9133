//! A list: a `VecDeque` of items, O(1) at both ends, O(1) by index.

use std::collections::VecDeque;

/// What an item costs besides its bytes: its boxed slice in the deque and
/// the allocation's header (estimated, README "Aggregate memory").
pub const LIST_ELEMENT: u64 = 32;

#[derive(Clone, Debug, Default)]
pub struct List {
    items: VecDeque<Box<[u8]>>,
    bytes: u64,
}

fn cost(item: &[u8]) -> u64 {
    item.len() as u64 + LIST_ELEMENT
}

impl List {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn push_front(&mut self, item: &[u8]) {
        self.bytes += cost(item);
        self.items.push_front(item.into());
    }

    pub fn push_back(&mut self, item: &[u8]) {
        self.bytes += cost(item);
        self.items.push_back(item.into());
    }

    pub fn pop_front(&mut self) -> Option<Box<[u8]>> {
        let item = self.items.pop_front()?;
        self.bytes -= cost(&item);
        Some(item)
    }

    pub fn pop_back(&mut self) -> Option<Box<[u8]>> {
        let item = self.items.pop_back()?;
        self.bytes -= cost(&item);
        Some(item)
    }

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.items.get(index).map(|i| &**i)
    }

    /// Replaces the item at `index`; false if there is none.
    pub fn set(&mut self, index: usize, item: &[u8]) -> bool {
        match self.items.get_mut(index) {
            Some(old) => {
                self.bytes = self.bytes - cost(old) + cost(item);
                *old = item.into();
                true
            }
            None => false,
        }
    }

    /// Inserts `item` at `index` (0..=len).
    pub fn insert(&mut self, index: usize, item: &[u8]) {
        self.bytes += cost(item);
        self.items.insert(index, item.into());
    }

    /// Keeps the items in `start..end` only.
    pub fn keep(&mut self, start: usize, end: usize) {
        let end = end.min(self.items.len());
        let start = start.min(end);
        for item in self.items.drain(end..) {
            self.bytes -= cost(&item);
        }
        for item in self.items.drain(..start) {
            self.bytes -= cost(&item);
        }
    }

    /// Removes the item at `index`.
    pub fn remove(&mut self, index: usize) -> Option<Box<[u8]>> {
        let item = self.items.remove(index)?;
        self.bytes -= cost(&item);
        Some(item)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter().map(|i| &**i)
    }

    /// Removes up to `count` items equal to `item`, from the head when
    /// `from_head`, else from the tail (`count` 0: all); how many. O(len).
    pub fn remove_equal(&mut self, item: &[u8], count: usize, from_head: bool) -> usize {
        let matches = self.items.iter().filter(|i| ***i == *item).count();
        let limit = if count == 0 {
            matches
        } else {
            count.min(matches)
        };
        // From the tail: the first `matches - limit` matches stay.
        let skip = if from_head { 0 } else { matches - limit };
        let (mut seen, mut removed, mut freed) = (0, 0, 0u64);
        self.items.retain(|i| {
            if **i != *item {
                return true;
            }
            seen += 1;
            if seen > skip && removed < limit {
                removed += 1;
                freed += cost(i);
                false
            } else {
                true
            }
        });
        self.bytes -= freed;
        removed
    }
}
