//! Replies awaited on a mesh, by ticket number: a waiter that is gone (its
//! connection ended mid-batch) leaves no slot behind, and a reply that comes
//! for it is dropped.

use std::task::{Poll, Waker};

/// A request sent and not yet answered.
#[must_use = "a sent request's reply must be awaited"]
pub struct Ticket {
    pub(super) id: u32,
}

/// Requests awaiting replies, by ticket number; numbers are reused.
#[derive(Default)]
pub(super) struct Tickets {
    slots: Vec<TicketState>,
    free: Vec<u32>,
}

/// Where one ticket stands.
enum TicketState {
    Free,
    Waiting(Option<Waker>),
    Ready(Vec<u8>),
    /// Its waiter is gone: the reply is dropped when it comes.
    Abandoned,
}

impl Tickets {
    pub(super) fn open(&mut self) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = TicketState::Waiting(None);
                id
            }
            None => {
                self.slots.push(TicketState::Waiting(None));
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, id: u32) {
        self.slots[id as usize] = TicketState::Free;
        self.free.push(id);
    }

    pub(super) fn complete(&mut self, id: u32, body: Vec<u8>) {
        let Some(slot) = self.slots.get_mut(id as usize) else {
            return;
        };
        match std::mem::replace(slot, TicketState::Ready(body)) {
            TicketState::Waiting(waker) => {
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            TicketState::Abandoned => self.release(id),
            // A reply for a ticket not waiting: keep the slot as it was.
            other => *slot = other,
        }
    }

    pub(super) fn abandon(&mut self, id: u32) {
        match self.slots.get(id as usize) {
            Some(TicketState::Waiting(_)) => self.slots[id as usize] = TicketState::Abandoned,
            Some(TicketState::Ready(_)) => self.release(id),
            _ => {}
        }
    }

    pub(super) fn poll(&mut self, id: u32, waker: &Waker) -> Poll<Vec<u8>> {
        match self.slots.get_mut(id as usize) {
            Some(slot @ TicketState::Ready(_)) => {
                match std::mem::replace(slot, TicketState::Free) {
                    TicketState::Ready(body) => {
                        self.free.push(id);
                        Poll::Ready(body)
                    }
                    _ => Poll::Pending,
                }
            }
            Some(TicketState::Waiting(stored)) => {
                if !stored.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    *stored = Some(waker.clone());
                }
                Poll::Pending
            }
            _ => Poll::Pending,
        }
    }
}
