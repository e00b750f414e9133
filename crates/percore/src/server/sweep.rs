//! The shard's input buffer sweep (Redis 7.0's `clientsCronResizeQueryBuffer`,
//! docs/ARCHITECTURE.md "The connection loop"): ten times a second the
//! shard's control task looks at a tenth of its connections' [`Watch`]es (at
//! least 5: each connection at least once a second, as redis's `clientsCron`)
//! and asks the few whose buffer should shrink or be released to do so;
//! the connection applies it (it owns the buffer: connection.rs), woken
//! through the watch's waker.
//!
//! What the connection pays per batch: a few `Cell` writes (the gauge, the
//! peak, the time of its input); per wait, one `Cell` read and, when the read
//! is pending, a check that the stored waker is still its own. No timer,
//! allocation or system call per message: the sweep rides on the control
//! task's existing tick (lifecycle.rs).

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use super::buffer::{decide, InputBuffer, Resize};
use crate::service::InputGauge;

/// How often the sweep looks at some connections (redis's `hz`, 10).
const SWEEP_PERIOD: Duration = Duration::from_millis(100);
/// Sweeps per second: each connection is looked at once a second or more.
const PER_SECOND: usize = 10;
/// Connections looked at per sweep at least (redis's
/// `CLIENTS_CRON_MIN_ITERATIONS`): a few connections are looked at on every
/// sweep, so a buffer that grew shrinks within a fraction of a second.
const AT_LEAST: usize = 5;

/// One connection's input buffer as the sweep sees it.
pub(crate) struct Watch {
    gauge: Rc<InputGauge>,
    /// The most bytes held at once since the last sweep.
    peak: Cell<usize>,
    last_input: Cell<Instant>,
    asked: Cell<Resize>,
    waker: Cell<Option<Waker>>,
}

impl Watch {
    pub fn new(gauge: Rc<InputGauge>, now: Instant) -> Self {
        Watch {
            gauge,
            peak: Cell::new(0),
            last_input: Cell::new(now),
            asked: Cell::new(Resize::Keep),
            waker: Cell::new(None),
        }
    }

    /// Input arrived at `at`: the whole batch is held while it is served.
    pub fn received(&self, at: Instant, input: &InputBuffer) {
        self.last_input.set(at);
        let held = input.data().len();
        if held > self.peak.get() {
            self.peak.set(held);
        }
        self.gauge.set(held, input.capacity());
    }

    /// The buffer after a batch, a resize or a release.
    pub fn settled(&self, input: &InputBuffer) {
        self.gauge.set(input.data().len(), input.capacity());
    }

    /// What the sweep asked, once: the connection applies it.
    pub fn take_asked(&self) -> Resize {
        self.asked.replace(Resize::Keep)
    }

    /// Whether the sweep asked for something (one `Cell` read).
    pub fn is_asked(&self) -> bool {
        self.asked.get() != Resize::Keep
    }

    /// Resolves when the sweep asks for something; raced with the read.
    pub async fn asked(&self) {
        poll_fn(|cx| {
            if self.is_asked() {
                return Poll::Ready(());
            }
            // A connection is one task: its waker is stored once and then
            // only compared.
            match self.waker.take() {
                Some(waker) if waker.will_wake(cx.waker()) => self.waker.set(Some(waker)),
                _ => self.waker.set(Some(cx.waker().clone())),
            }
            Poll::Pending
        })
        .await
    }

    fn look(&self, now: Instant) {
        let held = self.gauge.queued();
        let capacity = held + self.gauge.free();
        let idle = now.saturating_duration_since(self.last_input.get());
        let resize = decide(capacity, held, self.peak.get(), idle);
        // The next sweep compares against the peak from now on.
        self.peak.set(held);
        if resize != Resize::Keep {
            self.asked.set(resize);
            if let Some(waker) = self.waker.take() {
                waker.wake();
            }
        }
    }
}

/// The watches of one shard's open connections, in slots a cursor walks.
#[derive(Default)]
pub(crate) struct Sweep {
    slots: RefCell<Slots>,
    last: Cell<Option<Instant>>,
}

#[derive(Default)]
struct Slots {
    watches: Vec<Option<Rc<Watch>>>,
    free: Vec<usize>,
    live: usize,
    cursor: usize,
}

impl Sweep {
    /// Watches a connection until the returned guard is dropped.
    pub fn watch(self: &Rc<Self>, watch: Rc<Watch>) -> Watched {
        let mut slots = self.slots.borrow_mut();
        slots.live += 1;
        let slot = match slots.free.pop() {
            Some(slot) => {
                slots.watches[slot] = Some(watch);
                slot
            }
            None => {
                slots.watches.push(Some(watch));
                slots.watches.len() - 1
            }
        };
        Watched {
            sweep: Rc::clone(self),
            slot,
        }
    }

    /// Called on every control tick; looks at the next connections every
    /// [`SWEEP_PERIOD`], as many as visit each at least once a second
    /// (redis's `clientsCron`: `numclients / hz`, at least 5 per call).
    pub fn tick(&self, now: Instant) {
        if let Some(last) = self.last.get() {
            if now.saturating_duration_since(last) < SWEEP_PERIOD {
                return;
            }
        }
        self.last.set(Some(now));
        let mut slots = self.slots.borrow_mut();
        let Slots {
            watches,
            live,
            cursor,
            ..
        } = &mut *slots;
        let quota = live.div_ceil(PER_SECOND).max(AT_LEAST).min(*live);
        let mut visited = 0;
        for _ in 0..watches.len() {
            if visited == quota {
                break;
            }
            *cursor = (*cursor + 1) % watches.len();
            if let Some(watch) = &watches[*cursor] {
                watch.look(now);
                visited += 1;
            }
        }
    }
}

/// Keeps a connection watched while alive.
pub(crate) struct Watched {
    sweep: Rc<Sweep>,
    slot: usize,
}

impl Drop for Watched {
    fn drop(&mut self) {
        let mut slots = self.sweep.slots.borrow_mut();
        slots.watches[self.slot] = None;
        slots.free.push(self.slot);
        slots.live -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` watched connections, each with an empty 16 KiB buffer that
    /// received nothing for 3 s before `now`.
    fn idle_connections(sweep: &Rc<Sweep>, n: usize, now: Instant) -> Vec<(Rc<Watch>, Watched)> {
        (0..n)
            .map(|_| {
                let gauge = Rc::new(InputGauge::default());
                gauge.set(0, 16 * 1024);
                let watch = Rc::new(Watch::new(gauge, now - Duration::from_secs(3)));
                let watched = sweep.watch(watch.clone());
                (watch, watched)
            })
            .collect()
    }

    #[test]
    fn every_connection_is_looked_at_within_a_second_a_slice_per_sweep() {
        let sweep = Rc::new(Sweep::default());
        let now = Instant::now();
        let mut open = idle_connections(&sweep, 23, now);
        // One gone before the first sweep: its slot is skipped, then reused.
        open.swap_remove(7);
        let asked =
            |open: &[(Rc<Watch>, Watched)]| open.iter().filter(|(w, _)| w.is_asked()).count();
        sweep.tick(now);
        assert_eq!(asked(&open), 5, "at least 5 per sweep");
        sweep.tick(now + Duration::from_millis(50));
        assert_eq!(asked(&open), 5, "not twice within a sweep period");
        for tick in 1..=4 {
            sweep.tick(now + SWEEP_PERIOD * tick);
        }
        assert_eq!(asked(&open), 22);
        assert!(open.iter().all(|(w, _)| w.take_asked() == Resize::Release));
        open.extend(idle_connections(&sweep, 1, now));
        assert_eq!(sweep.slots.borrow().watches.len(), 23);
        drop(open);
        assert_eq!(sweep.slots.borrow().live, 0);
    }
}
