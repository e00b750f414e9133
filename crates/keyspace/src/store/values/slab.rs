//! Where a shard's aggregates live: numbered slots, reused once freed, so a
//! key's entry holds a 4-byte slot number instead of the value.

use super::Aggregate;

#[derive(Debug, Default)]
pub struct Slab {
    slots: Vec<Option<Aggregate>>,
    free: Vec<u32>,
}

impl Slab {
    /// Stores `agg` and returns its slot.
    pub fn insert(&mut self, agg: Aggregate) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                if let Some(place) = self.slots.get_mut(slot as usize) {
                    *place = Some(agg);
                }
                slot
            }
            None => {
                self.slots.push(Some(agg));
                (self.slots.len() - 1) as u32
            }
        }
    }

    pub fn get(&self, slot: u32) -> Option<&Aggregate> {
        self.slots.get(slot as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, slot: u32) -> Option<&mut Aggregate> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// Takes the aggregate out and frees its slot.
    pub fn remove(&mut self, slot: u32) -> Option<Aggregate> {
        let agg = self.slots.get_mut(slot as usize)?.take();
        if agg.is_some() {
            self.free.push(slot);
        }
        agg
    }

    /// Replaces the aggregate in `slot`, returning the old one.
    pub fn replace(&mut self, slot: u32, agg: Aggregate) -> Option<Aggregate> {
        self.slots.get_mut(slot as usize)?.replace(agg)
    }

    /// Whether no aggregate is stored: every slot is free.
    pub fn is_empty(&self) -> bool {
        self.slots.len() == self.free.len()
    }

    pub fn clear(&mut self) {
        self.slots = Vec::new();
        self.free = Vec::new();
    }
}
